"""Shared vocabulary of the requirements stage: policy, constants, covers, localities.

In: nothing but settings. Out: :class:`RequirementsPolicy` (the policy knobs),
the constants and the small helpers every other requirements module uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from nwm_geo import settings
from nwm_geo._errors import NwmGeoError
from nwm_geo._units import resolve_minutes, resolve_speed
from nwm_geo.coverage import Cover
from nwm_geo.localities import locality_of_wards

__all__ = [
    "BUSINESS_CASE_RULES",
    "CANDIDATE_CATEGORIES",
    "COUNCIL_RUN_CATEGORIES",
    "DEFAULT_SOLE_THRESHOLD",
    "OUTSIDE_BOROUGH",
    "PROTECTED_CATEGORIES",
    "CoverMatrix",
    "RequirementsPolicy",
    "business_case_rules",
    "inside_area",
    "locality_of",
    "measure_categories",
]

#: Council-run categories: rules R1 and R4 apply to them when the register has no
#: ``owner_type`` column (with one, its owner type "council" decides).
COUNCIL_RUN_CATEGORIES: tuple[str, ...] = ("LBC Community Centre", "Council", "Library")

#: Categories never listed for review or disposal (rule R4), whoever owns the site: a
#: council-maintained school is still a school.
PROTECTED_CATEGORIES: tuple[str, ...] = (
    "Education",
    "GP / Medical Centre",
    "Religious Institution",
)

#: Buildings that could host a service at a gap (new-site candidates, rule R3): council
#: buildings, community centres, libraries, schools (for community use, e.g. a hall
#: out of hours) and places of worship (many have halls; the open register does not
#: say which, so each suggestion needs a visit).
CANDIDATE_CATEGORIES: tuple[str, ...] = (
    "LBC Community Centre",
    "Council",
    "Library",
    "Community Centre",
    "Education",
    "Religious Institution",
)

#: Default for rule R2: the fewest residents for whom a non-council asset must be the
#: only option before a business case to secure access is listed. A policy choice, not data.
DEFAULT_SOLE_THRESHOLD: float = 100.0

#: Locality label for wards that are not in the assignment (assets outside Luton).
OUTSIDE_BOROUGH: str = "outside the borough"

#: The business-case rules, in order. ``{sole_threshold}``, ``{minutes}``,
#: ``{min_site}`` and ``{spacing}`` are filled in by :func:`business_case_rules`; the
#: report prints the filled-in text. The purpose, from the council's brief: assets that
#: require a business case for their future use as part of Neighbourhood Working.
#: No rule ever suggests disposing of a school, a GP practice or a place of worship:
#: only the council's own assets can be reviewed (R4).
BUSINESS_CASE_RULES: dict[str, str] = {
    "R1": (
        "Retain and invest: a council-owned asset (owner type 'council': its community "
        "centres, libraries and buildings) that is required, i.e. closing it would leave "
        "residents with no {minutes:g}-minute walk to an asset of its category."
    ),
    "R2": (
        "Secure access or a partnership (a community-use agreement): an asset the council "
        "does not own (partner public sector, or community and faith), in one of the "
        "bundles' categories, that is the only {minutes:g}-minute option of its category "
        "for at least {sole_threshold:g} residents."
    ),
    "R3": (
        "New provision where there is a gap: a suggested site for a bundle in a locality "
        "(exact maximal covering, real buildings first: council buildings, community "
        "centres, libraries, schools for community use, places of worship; a postcode only "
        "as a labelled fallback). Each adds at least {min_site:g} residents, and no two "
        "for one bundle lie within {spacing:g} m. A council building: invest to host the "
        "service; anyone else's building: agree community use; a postcode: find a site."
    ),
    "R4": (
        "Review a council-owned asset (rationalise or alternative use): every resident "
        "within its walk also has another asset of its category within the walk "
        "(overlapping coverage; capacity not considered), and it is in no minimal cover "
        "(the smallest set of today's assets keeping today's coverage) of its category or "
        "of any bundle containing its category. A school, a GP practice or a place of "
        "worship is never reviewed, whoever owns it. R4 may not fire at all: the council owns "
        "few assets, and an overlapping one is usually in the minimal cover of a bundle, "
        "where it is needed to keep today's coverage. A minimal cover is one of possibly "
        "several equally small sets, so an asset outside it is a candidate for review, "
        "not a decision."
    ),
}

#: What the requirements functions accept as a cover: a :class:`nwm_geo.coverage.Cover`
#: (preferred), or the legacy ``(matrix, point index, source index)`` tuple, which is
#: taken to be at the threshold the caller states (``minutes``, default the setting).
CoverMatrix = Cover | tuple[Any, pd.Index, pd.Index]


@dataclass(frozen=True, kw_only=True)
class RequirementsPolicy:
    """The policy knobs of the requirements outline: choices, not data.

    Attributes
    ----------
    k
        New sites per measure and locality (best-k, :func:`best_new_sites`).
    sole_threshold
        Rule R2's threshold: the fewest residents for whom a non-council asset must be
        the only option before a business case to secure access is listed.
    measures
        Categories and bundles to report; ``None``: the categories present in the
        register plus every bundle.
    new_site_measures
        Measures for the best-k analysis; ``None``: the bundles.
    bundles
        Bundle name -> categories; ``None``: ``settings.BUNDLES``.
    candidate_categories
        Register categories whose buildings could host a new service (R3 candidates,
        :data:`CANDIDATE_CATEGORIES`).
    council_categories
        Council-run categories (rules R1 and R4) for a register without an
        ``owner_type`` column.
    time_limit
        Seconds per optimisation for the default HiGHS solver.
    min_site_population
        A new site that newly covers fewer residents is not suggested; ``None``:
        ``settings.new_site_min_residents``.
    site_spacing_m
        No two suggested sites of one measure lie closer (metres); ``None``:
        ``settings.new_site_spacing_m``.
    area_name
        The label of the whole-area rows (the area profile's ``name``).
    protected
        Sites never proposed for review by rule R4 (the profile's ``protected``: a
        council's headquarters, say), by asset id or name (case ignored).

    Raises
    ------
    NwmGeoError
        If ``k`` is negative or not whole, or ``sole_threshold`` is negative or not finite.
    """

    k: int = 2
    sole_threshold: float = DEFAULT_SOLE_THRESHOLD
    measures: tuple[str, ...] | None = None
    new_site_measures: tuple[str, ...] | None = None
    bundles: Mapping[str, Sequence[str]] | None = None
    candidate_categories: tuple[str, ...] = CANDIDATE_CATEGORIES
    council_categories: tuple[str, ...] = COUNCIL_RUN_CATEGORIES
    time_limit: float | None = 300.0
    min_site_population: float | None = None
    site_spacing_m: float | None = None
    area_name: str = "Luton"
    protected: tuple[str, ...] = ()

    def is_protected(self, asset_id: object, name: object) -> bool:
        """Whether a site is in :attr:`protected` (by asset id or name, case ignored)."""
        keys = {str(p).strip().casefold() for p in self.protected}
        return any(isinstance(v, str) and v.strip().casefold() in keys for v in (asset_id, name))

    def __post_init__(self) -> None:
        problems = []
        if isinstance(self.k, bool) or int(self.k) != self.k or self.k < 0:
            problems.append(f"k must be a whole number >= 0, not {self.k!r}")
        if not (np.isfinite(self.sole_threshold) and self.sole_threshold >= 0):
            problems.append(f"sole_threshold must be >= 0, not {self.sole_threshold!r}")
        for name in ("min_site_population", "site_spacing_m"):
            value = getattr(self, name)
            if value is not None and not (np.isfinite(value) and value >= 0):
                problems.append(f"{name} must be >= 0, not {value!r}")
        if problems:
            raise NwmGeoError("; ".join(problems))
        for name in ("measures", "new_site_measures"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(value))
        for name in ("candidate_categories", "council_categories"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    @property
    def min_population(self) -> float:
        """:attr:`min_site_population`, or ``settings.new_site_min_residents``."""
        v = self.min_site_population
        return float(settings.new_site_min_residents if v is None else v)

    @property
    def spacing_m(self) -> float:
        """:attr:`site_spacing_m`, or ``settings.new_site_spacing_m``."""
        v = self.site_spacing_m
        return float(settings.new_site_spacing_m if v is None else v)

    @property
    def bundle_map(self) -> Mapping[str, Sequence[str]]:
        """:attr:`bundles`, or ``settings.BUNDLES`` when it is ``None``."""
        return settings.BUNDLES if self.bundles is None else self.bundles

    def with_keywords(self, **changes: Any) -> RequirementsPolicy:
        """Return a copy with some fields changed (unknown names are an error).

        Raises
        ------
        NwmGeoError
            Naming every keyword that is not a policy field.
        """
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise NwmGeoError(
                f"unknown requirements option(s) {unknown}; RequirementsPolicy has {sorted(known)}"
            )
        if not changes:
            return self
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return RequirementsPolicy(**values)


def resolve_policy(
    policy: RequirementsPolicy | None, legacy: Mapping[str, Any]
) -> RequirementsPolicy:
    """``policy`` (default policy when None) with any legacy keyword options applied."""
    base = RequirementsPolicy() if policy is None else policy
    return base.with_keywords(**legacy)


def as_cover(
    cover: CoverMatrix,
    *,
    minutes: float | None = None,
    speed_m_per_min: float | None = None,
    what: str = "cover",
) -> Cover:
    """Return ``cover`` as a :class:`~nwm_geo.coverage.Cover`, checking its threshold.

    A legacy tuple is taken to be at ``minutes`` / ``speed_m_per_min`` (the settings by
    default). A :class:`Cover` must agree with ``minutes`` / ``speed_m_per_min`` when
    they are given.
    """
    if isinstance(cover, Cover):
        problems = []
        if minutes is not None and resolve_minutes(minutes) != cover.minutes:
            problems.append(f"{cover.minutes:g} minutes, not {minutes:g}")
        if speed_m_per_min is not None and resolve_speed(speed_m_per_min) != cover.speed_m_per_min:
            problems.append(f"{cover.speed_m_per_min:g} m/min, not {speed_m_per_min:g}")
        if problems:
            raise NwmGeoError(f"{what} was computed at " + " and ".join(problems))
        return cover
    try:
        matrix, point_index, source_index = cover
    except (TypeError, ValueError) as exc:
        raise NwmGeoError(
            f"{what} must be a nwm_geo.coverage.Cover (from coverage_matrix) or a "
            "(matrix, point index, source index) tuple"
        ) from exc
    return Cover(
        matrix=sparse.csr_matrix(matrix, dtype=bool),
        point_index=pd.Index(point_index),
        source_index=pd.Index(source_index),
        minutes=resolve_minutes(minutes),
        speed_m_per_min=resolve_speed(speed_m_per_min),
    )


def checked_site_cover(site_cover: CoverMatrix, cover: Cover) -> Cover:
    """Return the postcode-site cover, rows in ``cover.point_index`` order, at its threshold."""
    sc = as_cover(
        site_cover, minutes=cover.minutes, speed_m_per_min=cover.speed_m_per_min, what="site_cover"
    )
    if not set(cover.point_index) <= set(sc.point_index):
        raise NwmGeoError("site_cover must cover the same points as cover")
    return sc.reindex_points(cover.point_index)


def business_case_rules(
    *,
    sole_threshold: float = DEFAULT_SOLE_THRESHOLD,
    minutes: float | None = None,
    policy: RequirementsPolicy | None = None,
) -> dict[str, str]:
    """Return :data:`BUSINESS_CASE_RULES` with the thresholds filled in.

    Parameters
    ----------
    sole_threshold
        Rule R2's threshold (residents), when no ``policy`` is given.
    minutes
        The walk threshold; ``settings.walk_minutes`` by default.
    policy
        The policy whose thresholds (R2's, the new sites' minimum and spacing) are
        stated; its ``sole_threshold`` wins over ``sole_threshold``.
    """
    minutes = resolve_minutes(minutes)
    pol = RequirementsPolicy(sole_threshold=sole_threshold) if policy is None else policy
    return {
        k: v.format(
            sole_threshold=pol.sole_threshold,
            minutes=minutes,
            min_site=pol.min_population,
            spacing=pol.spacing_m,
        )
        for k, v in BUSINESS_CASE_RULES.items()
    }


def measure_categories(
    measure: str, *, bundles: Mapping[str, Sequence[str]] | None = None
) -> tuple[str, ...]:
    """Return the categories that meet a measure (a category or a bundle name).

    Parameters
    ----------
    measure
        One of ``settings.CATEGORIES`` or a key of ``bundles``.
    bundles
        ``settings.BUNDLES`` by default.

    Raises
    ------
    NwmGeoError
        If ``measure`` is neither a category nor a bundle.
    """
    bundles = settings.BUNDLES if bundles is None else bundles
    if measure in bundles:
        return tuple(bundles[measure])
    if measure in settings.CATEGORIES:
        return (measure,)
    raise NwmGeoError(
        f"unknown measure {measure!r}: expected one of the categories "
        f"{list(settings.CATEGORIES)} or bundles {list(bundles)}"
    )


def locality_of(ward_codes: pd.Series, assignment: pd.Series) -> pd.Series:
    """Map ward codes to locality names; wards not in ``assignment`` get :data:`OUTSIDE_BOROUGH`.

    Parameters
    ----------
    ward_codes
        Ward codes on any index.
    assignment
        ``ward_code -> locality`` (from :mod:`nwm_geo.localities`).

    Returns
    -------
    pd.Series
        Locality names on the index of ``ward_codes``, named ``locality``.
    """
    return locality_of_wards(ward_codes, assignment, unknown=OUTSIDE_BOROUGH).astype(str)


def population_of(points: pd.DataFrame, point_index: pd.Index) -> np.ndarray:
    if "population" not in points.columns:
        raise NwmGeoError("demand points need a 'population' column")
    missing = point_index.difference(points.index)
    if len(missing):
        raise NwmGeoError(
            f"{len(missing)} coverage-matrix points are not in the demand points, "
            f"e.g. {list(missing[:5])}"
        )
    pop = pd.to_numeric(points["population"].reindex(point_index), errors="coerce")
    return np.asarray(pop.fillna(0.0), dtype=float)


def inside_area(assets: pd.DataFrame) -> pd.Series:
    """Whether each asset is inside the area: the council decides only about those.

    Sites outside (``inside_area`` False: fringe files, stations beyond the boundary)
    count as destinations but never become requirements, business cases or candidates.
    A register without the column is all inside.
    """
    if "inside_area" not in assets.columns:
        return pd.Series(True, index=assets.index)
    return assets["inside_area"].fillna(True).astype(bool)


def asset_columns(
    assets: pd.DataFrame, source_index: pd.Index, categories: Iterable[str]
) -> tuple[np.ndarray, pd.Index]:
    cats = set(categories)
    in_matrix = assets.index.intersection(source_index)
    category = assets["category"].loc[in_matrix]  # the one column: no copy of the register
    ids = pd.Index(category.index[category.isin(cats).to_numpy()])
    return source_index.get_indexer(ids), ids


def require_columns(df: pd.DataFrame, cols: Sequence[str]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise NwmGeoError(f"table is missing column(s) {missing}")


def safe_name(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text)[:40]
