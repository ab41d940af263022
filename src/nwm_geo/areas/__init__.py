"""Area profiles: everything council-specific, one small TOML file per council.

In: ``<key>.toml`` beside this module (``luton``, the default, and ``rutland``) or any
profile file. Out: a frozen :class:`Area` that the data loaders, the pipeline and the
CLI take instead of hard-coded Luton names. A new council is a profile plus its data
folder, not a code change; the format is documented in the README ("Area profiles").

Validation reports every problem in the profile at once, each naming the profile, the
key and the reason (:class:`ProfileError`); :meth:`Area.check_files` adds the files that
are missing from the bundle.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from nwm_geo import settings
from nwm_geo._errors import NwmGeoError

__all__ = ["AREAS", "Area", "AssetSource", "ProfileError", "WardPattern", "load_area"]

#: The profiles shipped with nwm_geo.
AREAS: tuple[str, ...] = ("luton", "rutland")

Adapter = Literal["harmonised", "gias", "ods", "libraries", "fire", "mosques"]
_ADAPTERS: tuple[str, ...] = ("harmonised", "gias", "ods", "libraries", "fire", "mosques")
_FILE_KEYS: tuple[str, ...] = (
    "lsoa_2021",
    "lsoa_2011",
    "oa_2011",
    "census_2021_lsoa",
    "census_2011_oa",
    "imd_2019",
    "postcodes",
)
_NOT_COUNCIL = "community and faith"
_DISTRICT = re.compile(r"^[EWSN]0[6-9]\d{6}$")


class ProfileError(NwmGeoError):
    """An area profile is missing, malformed, or names files or categories that do not exist."""


@dataclass(frozen=True)
class WardPattern:
    """One ward pattern of an area: its boundary file and code/name columns."""

    year: int
    file: str
    code: str
    name: str
    label: str = ""


@dataclass(frozen=True)
class AssetSource:
    """One open asset file of an area and how it is read.

    ``rank`` orders sources when duplicates are merged (lower wins): the order of
    ``[[sources]]`` in the profile, then ``[[fringe]]``. ``inside`` is False for a
    fringe file: sites outside the area that residents walk to across the boundary.
    """

    file: str
    adapter: Adapter
    prefix: str
    rank: int
    source: str = ""
    source_date: str = ""
    licence: str = ""
    co_located_category: str = ""
    inside: bool = True

    @property
    def name(self) -> str:
        """The file name without its folder (as used in merge logs and asset ids)."""
        return Path(self.file).name


@dataclass(frozen=True)
class Area:
    """A council's profile: names, district code, bundle files, counts and source rules.

    Build one with :func:`load_area`; every field is documented in the README.
    """

    key: str
    name: str
    council: str
    district_code: str
    profile: str
    files: dict[str, str]
    wards: tuple[WardPattern, ...]
    categories: tuple[str, ...]
    council_counts: dict[str, int] | None
    localities: int
    network: Literal["approximate", "osm"]
    osm_file: str | None
    data_dates: str
    postcode_note: str
    communal_note: str
    sources: tuple[AssetSource, ...]
    ods_hospital_postcode: str | None = None
    ods_hospital_name: str = ""
    ods_settings: dict[int, tuple[str | None, str]] = field(default_factory=dict)
    ods_records: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=lambda: dict(settings.CATEGORY_OWNERS))
    hub_categories: tuple[str, ...] = ()
    hub_named: tuple[tuple[str, str], ...] = ()
    town_centre_wards: tuple[str, ...] = ()
    fringe_m: float = 0.0
    protected: tuple[str, ...] = ()
    site_owners: dict[str, str] = field(default_factory=dict)

    def is_protected(self, asset_id: object, name: object) -> bool:
        """Whether a site is in the profile's ``protected`` list (by asset id or name).

        Protected sites (a council's headquarters, say) are never proposed for review.
        Names compare without case or surrounding spaces.
        """
        keys = {_norm(p) for p in self.protected}
        return _norm(asset_id) in keys or _norm(name) in keys

    def site_owner(self, asset_id: object, name: object) -> str | None:
        """Return the profile's owner override of one site (``[site_owners]``), or None."""
        table = {_norm(k): v for k, v in self.site_owners.items()}
        return table.get(_norm(asset_id)) or table.get(_norm(name))

    @property
    def has_fringe(self) -> bool:
        """Whether the profile lists destinations outside the area (``[[fringe]]`` files)."""
        return any(not s.inside for s in self.sources)

    @property
    def boundary_note(self) -> str:
        """One sentence on destinations across the area's boundary, for every output."""
        if self.has_fringe:
            return (
                f"Destinations up to {self.fringe_m:,.0f} m outside {self.name} (the "
                "profile's fringe files) count for coverage and as the next-best site "
                "when a site closes; they are flagged inside_area = False and never become "
                "business cases, hubs, requirements or part of the council's counts."
            )
        return (
            f"The data holds no destinations outside {self.name}: walks across the "
            "boundary are cut, so residents near the edge may read as unserved where they "
            "walk to sites in the neighbouring council."
        )

    @property
    def network_buffer_m(self) -> float:
        """How far beyond the boundary the walk network reaches (metres)."""
        return max(1000.0, self.fringe_m + 500.0)

    def owner_of(self, category: str) -> str:
        """Return the owner type of a category (:data:`nwm_geo.settings.OWNER_TYPES`).

        The profile's ``[owners]`` entry, else :data:`nwm_geo.settings.CATEGORY_OWNERS`;
        an unknown category is "community and faith" (never assumed to be the council's).
        """
        return self.owners.get(category, settings.CATEGORY_OWNERS.get(category, _NOT_COUNCIL))

    @property
    def current_ward_year(self) -> int:
        """The ward pattern in force (the first in the profile; Code-Point uses it)."""
        return self.wards[0].year

    def ward_pattern(self, year: int | None = None) -> WardPattern:
        """Return the ward pattern of ``year`` (default: the current one).

        Raises
        ------
        ProfileError
            If the area has no such pattern.
        """
        want = self.current_ward_year if year is None else int(year)
        for pattern in self.wards:
            if pattern.year == want:
                return pattern
        years = ", ".join(str(p.year) for p in self.wards)
        raise ProfileError(
            f"{self.name} has no ward boundaries for year {want}; available: {years}"
        )

    @property
    def has_council_counts(self) -> bool:
        """Whether the council published category counts to reconcile against."""
        return self.council_counts is not None

    @property
    def is_default(self) -> bool:
        """Whether this is the default area (its outputs go to the top-level folders)."""
        return self.key == settings.default_area

    @property
    def output_subdir(self) -> str:
        """Sub-folder of ``data/processed`` and ``reports`` for this area ("" for the default)."""
        return "" if self.is_default else self.key

    def check_files(self, data_dir: Path) -> None:
        """Check that every file the profile names exists under ``data_dir``.

        Raises
        ------
        ProfileError
            Naming the profile, each key whose file is missing, and the path.
        """
        named: list[tuple[str, str]] = [(f"files.{k}", v) for k, v in self.files.items()]
        named += [(f"wards.{p.year}.file", p.file) for p in self.wards]
        inner = [s for s in self.sources if s.inside]
        outer = [s for s in self.sources if not s.inside]
        named += [(f"sources[{i}].file", s.file) for i, s in enumerate(inner)]
        named += [(f"fringe[{i}].file", s.file) for i, s in enumerate(outer)]
        if self.osm_file:
            named.append(("osm_file", self.osm_file))
        problems = [
            f"key '{key}': file not found in the data bundle: {Path(data_dir) / rel}"
            for key, rel in named
            if not (Path(data_dir) / rel).exists()
        ]
        if problems:
            raise ProfileError(_message(self.profile, problems))


def _norm(value: object) -> str:
    return str(value).strip().casefold() if isinstance(value, str) else ""


def _message(profile: str, problems: list[str]) -> str:
    head = f"area profile {profile}: {len(problems)} problem{'s' if len(problems) != 1 else ''}"
    return "\n".join([head, *("  - " + p for p in problems)])


def _category_problem(key: str, value: object) -> str | None:
    if value in settings.CATEGORIES:
        return None
    close = difflib.get_close_matches(str(value), settings.CATEGORIES, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return (
        f"key '{key}': unknown category {value!r} (the register's categories are: "
        f"{', '.join(settings.CATEGORIES)}){hint}"
    )


def _rule_table(
    raw: Any, key: str, problems: list[str], *, int_keys: bool
) -> dict[Any, tuple[str | None, str]]:
    out: dict[Any, tuple[str | None, str]] = {}
    if raw is None:
        return out
    if not isinstance(raw, dict):
        problems.append(f"key '{key}': must be a table")
        return out
    for k, v in raw.items():
        if not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, str) for x in v)):
            problems.append(f"key '{key}.{k}': must be [category or \"\", reason]")
            continue
        if int_keys and not str(k).isdigit():
            problems.append(f"key '{key}.{k}': an ODS prescribing setting must be a number")
            continue
        cat = v[0] or None
        if cat is not None and (p := _category_problem(f"{key}.{k}", cat)):
            problems.append(p)
            continue
        out[int(k) if int_keys else str(k)] = (cat, v[1])
    return out


def _owners(raw: Any, problems: list[str]) -> dict[str, str]:
    """Return the ``[owners]`` table over :data:`settings.CATEGORY_OWNERS` (its defaults)."""
    out = dict(settings.CATEGORY_OWNERS)
    if raw is None:
        return out
    if not isinstance(raw, dict):
        problems.append("key 'owners': must be a table of category = owner type")
        return out
    for cat, owner in raw.items():
        if p := _category_problem(f"owners.{cat}", cat):
            problems.append(p)
        elif owner not in settings.OWNER_TYPES:
            problems.append(
                f"key 'owners.{cat}': {owner!r} is not an owner type; use one of "
                + ", ".join(f'"{o}"' for o in settings.OWNER_TYPES)
            )
        else:
            out[cat] = owner
    return out


_KNOWN_KEYS = {
    "key", "name", "council", "district_code", "localities", "network", "osm_file",
    "data_dates", "postcode_note", "communal_note", "files", "wards", "council_counts",
    "categories", "ods", "sources", "owners", "hubs", "fringe", "fringe_m",
    "protected", "site_owners",
}  # fmt: skip


def _unknown_keys(raw: dict[str, Any], problems: list[str]) -> None:
    for extra in sorted(set(raw) - _KNOWN_KEYS):
        close = difflib.get_close_matches(extra, sorted(_KNOWN_KEYS), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        problems.append(f"key '{extra}': not a profile key{hint}")


def _identity(raw: dict[str, Any], problems: list[str]) -> tuple[str, str, str, str]:
    """Return the profile's key, name, council and ONS district code."""

    def text(key: str) -> str:
        value = raw.get(key, "")
        if not isinstance(value, str) or not value.strip():
            problems.append(f"key '{key}': required text is missing or not text")
            return ""
        return value

    key, name, council = text("key"), text("name"), text("council")
    district = text("district_code")
    if district and not _DISTRICT.match(district):
        problems.append(
            f"key 'district_code': {district!r} is not an ONS local authority code "
            "(E06/E07/E08/E09 or W06 followed by 6 digits, e.g. E06000032)"
        )
    return key, name, council, district


def _files(raw: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    files = raw.get("files", {})
    if not isinstance(files, dict):
        problems.append("key 'files': must be a table of file paths")
        files = {}
    for k in _FILE_KEYS:
        if not isinstance(files.get(k), str) or not files.get(k):
            problems.append(f"key 'files.{k}': missing (a path inside the data bundle)")
    return files


def _ward_patterns(raw: dict[str, Any], problems: list[str]) -> list[WardPattern]:
    wards: list[WardPattern] = []
    raw_wards = raw.get("wards", {})
    if not isinstance(raw_wards, dict) or not raw_wards:
        problems.append("key 'wards': at least one ward pattern ([wards.YEAR]) is required")
        raw_wards = {}
    for year, spec in raw_wards.items():
        if not str(year).isdigit() or not isinstance(spec, dict):
            problems.append(f"key 'wards.{year}': must be [wards.YEAR] with file, code, name")
            continue
        missing = [f for f in ("file", "code", "name") if not isinstance(spec.get(f), str)]
        if missing:
            problems.append(f"key 'wards.{year}': missing {', '.join(missing)}")
            continue
        wards.append(
            WardPattern(int(year), spec["file"], spec["code"], spec["name"], spec.get("label", ""))
        )
    return wards


def _counts_and_categories(
    raw: dict[str, Any], problems: list[str]
) -> tuple[dict[str, int] | None, tuple[str, ...]]:
    counts_raw = raw.get("council_counts")
    counts: dict[str, int] | None = None
    if counts_raw is not None:
        counts = {}
        for cat, n in dict(counts_raw).items():
            if p := _category_problem(f"council_counts.{cat}", cat):
                problems.append(p)
            elif not isinstance(n, int) or isinstance(n, bool) or n < 0:
                problems.append(f"key 'council_counts.{cat}': must be a whole number >= 0")
            else:
                counts[cat] = n
    cats_raw = raw.get("categories")
    if cats_raw is None:
        return counts, tuple(counts) if counts else tuple(settings.CATEGORIES)
    categories = tuple(str(c) for c in cats_raw)
    problems += [
        p for i, c in enumerate(categories) if (p := _category_problem(f"categories[{i}]", c))
    ]
    return counts, categories


def _network_keys(
    raw: dict[str, Any], problems: list[str]
) -> tuple[int, Literal["approximate", "osm"], str | None]:
    """Return the number of localities, the network kind and the OSM file."""
    localities = raw.get("localities", 5)
    if not isinstance(localities, int) or isinstance(localities, bool) or localities < 2:
        problems.append(f"key 'localities': must be a whole number >= 2, got {localities!r}")
        localities = 5
    network = raw.get("network", "approximate")
    osm_file = raw.get("osm_file") or None
    if network not in ("approximate", "osm"):
        problems.append(f'key \'network\': must be "approximate" or "osm", got {network!r}')
        network = "approximate"
    if network == "osm" and not osm_file:
        problems.append("key 'osm_file': required when network = \"osm\"")
    return int(localities), "osm" if network == "osm" else "approximate", osm_file


def _parse(raw: dict[str, Any], profile: str) -> Area:
    problems: list[str] = []
    _unknown_keys(raw, problems)
    key, name, council, district = _identity(raw, problems)
    files = _files(raw, problems)
    wards = _ward_patterns(raw, problems)
    counts, categories = _counts_and_categories(raw, problems)
    localities, network, osm_file = _network_keys(raw, problems)
    ods = raw.get("ods", {}) or {}
    ods_settings = _rule_table(ods.get("settings"), "ods.settings", problems, int_keys=True)
    ods_records = _rule_table(ods.get("records"), "ods.records", problems, int_keys=False)
    sources = _source_list(raw.get("sources"), "sources", problems, inside=True)
    fringe = _source_list(raw.get("fringe"), "fringe", problems, inside=False, first=len(sources))
    fringe_m = raw.get("fringe_m", 2000.0 if fringe else 0.0)
    if not isinstance(fringe_m, int | float) or isinstance(fringe_m, bool) or fringe_m < 0:
        problems.append(f"key 'fringe_m': must be metres >= 0, got {fringe_m!r}")
        fringe_m = 0.0
    sources += fringe
    owners = _owners(raw.get("owners"), problems)
    protected, site_owners = _site_rules(raw, problems)
    if not sources:
        problems.append("key 'sources': at least one asset file ([[sources]]) is required")
    prefixes = [s.prefix for s in sources]
    for dup in sorted({p for p in prefixes if prefixes.count(p) > 1}):
        problems.append(f"key 'sources': prefix {dup!r} is used twice; asset ids would clash")
    hub_categories, hub_named = _hubs_table(raw.get("hubs"), problems)
    centre = (
        (raw.get("hubs") or {}).get("town_centre_wards", [])
        if isinstance(raw.get("hubs"), dict)
        else []
    )
    if not isinstance(centre, list) or not all(isinstance(w, str) for w in centre):
        problems.append("key 'hubs.town_centre_wards': must be a list of ward names")
        centre = []
    if problems:
        raise ProfileError(_message(profile, problems))
    return Area(
        key=key,
        name=name,
        council=council,
        district_code=district,
        profile=profile,
        files=dict(files),
        wards=tuple(wards),
        categories=categories,
        council_counts=counts,
        localities=localities,
        network=network,
        osm_file=osm_file,
        data_dates=str(raw.get("data_dates", "")),
        postcode_note=str(raw.get("postcode_note", "")),
        communal_note=str(raw.get("communal_note", "")),
        sources=tuple(sources),
        ods_hospital_postcode=ods.get("hospital_postcode") or None,
        ods_hospital_name=str(ods.get("hospital_name", "")),
        ods_settings=ods_settings,
        ods_records=ods_records,
        owners=owners,
        hub_categories=hub_categories,
        hub_named=hub_named,
        town_centre_wards=tuple(centre),
        fringe_m=float(fringe_m),
        protected=protected,
        site_owners=site_owners,
    )


def _site_rules(raw: dict[str, Any], problems: list[str]) -> tuple[tuple[str, ...], dict[str, str]]:
    """Read ``protected`` (site names or ids) and ``[site_owners]`` (site -> owner type)."""
    prot = raw.get("protected", []) or []
    if not isinstance(prot, list) or not all(isinstance(p, str) and p.strip() for p in prot):
        problems.append("key 'protected': must be a list of site names or asset ids")
        prot = []
    owners_raw = raw.get("site_owners", {}) or {}
    site_owners: dict[str, str] = {}
    if not isinstance(owners_raw, dict):
        problems.append("key 'site_owners': must be a table of site name = owner type")
        owners_raw = {}
    for site, owner in owners_raw.items():
        if owner not in settings.OWNER_TYPES:
            problems.append(
                f"key 'site_owners.{site}': {owner!r} is not an owner type; use one of "
                + ", ".join(f'"{o}"' for o in settings.OWNER_TYPES)
            )
        else:
            site_owners[str(site)] = str(owner)
    return tuple(prot), site_owners


def _source_list(
    raw: Any, key: str, problems: list[str], *, inside: bool, first: int = 0
) -> list[AssetSource]:
    """Parse ``[[sources]]`` or ``[[fringe]]``: asset files in merge-rank order."""
    out: list[AssetSource] = []
    for i, s in enumerate(raw or []):
        if not isinstance(s, dict) or not isinstance(s.get("file"), str):
            problems.append(f"key '{key}[{i}]': needs a file")
            continue
        adapter = s.get("adapter", "harmonised")
        if adapter not in _ADAPTERS:
            problems.append(
                f"key '{key}[{i}].adapter': {adapter!r} is not one of {', '.join(_ADAPTERS)}"
            )
            continue
        if adapter != "harmonised" and not all(s.get(k) for k in ("source", "licence")):
            problems.append(
                f"key '{key}[{i}]': a {adapter} file has no provenance columns; give "
                "source, source_date and licence"
            )
        co = s.get("co_located_category", "")
        if co and (p := _category_problem(f"{key}[{i}].co_located_category", co)):
            problems.append(p)
        out.append(
            AssetSource(
                file=s["file"],
                adapter=adapter,
                prefix=str(s.get("prefix") or Path(s["file"]).stem),
                rank=first + i + 1,
                source=str(s.get("source", "")),
                source_date=str(s.get("source_date", "")),
                licence=str(s.get("licence", "")),
                co_located_category=str(co),
                inside=inside,
            )
        )
    return out


def _hubs_table(
    raw: object, problems: list[str]
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Read the ``[hubs]`` table: candidate categories and the council's named hubs."""
    if raw is None:
        return (), ()
    if not isinstance(raw, dict):
        problems.append("key 'hubs': must be a table with categories and [[hubs.named]]")
        return (), ()
    for extra in sorted(set(raw) - {"categories", "named", "town_centre_wards"}):
        problems.append(
            f"key 'hubs.{extra}': not a hubs key (categories, named, town_centre_wards)"
        )
    cats = tuple(str(c) for c in raw.get("categories", []) or [])
    problems += [
        p for i, c in enumerate(cats) if (p := _category_problem(f"hubs.categories[{i}]", c))
    ]
    named: list[tuple[str, str]] = []
    for i, entry in enumerate(raw.get("named", []) or []):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            problems.append(f"key 'hubs.named[{i}]': needs a name (and register_name)")
            continue
        named.append((entry["name"], str(entry.get("register_name", ""))))
    return cats, tuple(named)


_CACHE: dict[str, Area] = {}


def load_area(area: str | Path | Area | None = None) -> Area:
    """Return an area profile: a shipped name (``"luton"``, ``"rutland"``) or a TOML path.

    Parameters
    ----------
    area
        A name from :data:`AREAS`, the path of a profile file, an :class:`Area` (returned
        as is), or ``None`` for :data:`nwm_geo.settings.default_area`.

    Returns
    -------
    Area
        The validated profile.

    Raises
    ------
    ProfileError
        If the profile does not exist or has problems (every problem listed, each with
        the key and the reason).

    Examples
    --------
    >>> from nwm_geo import areas
    >>> luton = areas.load_area("luton")
    >>> luton.name, luton.localities, luton.district_code
    ('Luton', 5, 'E06000032')
    """
    if isinstance(area, Area):
        return area
    spec = settings.default_area if area is None else str(area)
    if spec in _CACHE:
        return _CACHE[spec]
    if spec in AREAS:
        ref = resources.files("nwm_geo.areas") / f"{spec}.toml"
        label, text = f"{spec} ({spec}.toml)", ref.read_text(encoding="utf-8")
    else:
        path = Path(spec)
        if not path.is_file():
            raise ProfileError(
                f"area profile {spec}: not a shipped area ({', '.join(AREAS)}) and no such "
                "file; give an area name or the path of a profile .toml"
            )
        label, text = str(path), path.read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"area profile {label}: not valid TOML: {exc}") from None
    out = _parse(raw, label)
    _CACHE[spec] = out
    return out
