"""What-if studies: a study with sites closed or added, or other walk settings.

In: a baseline :class:`~nwm_geo.pipeline.Study` and the changes (assets to close, new
sites, minutes, speed). Out: a new study (:func:`apply_changes`, behind
``Study.with_changes``) that shares the baseline's inputs (:data:`SHARED`: network,
postcodes, wards, demand points) and locality plan (kept fixed, never re-solved). The
incremental computations are seeded: the walk model and within-threshold cover (a
closure drops columns, a new site adds one bounded Dijkstra run) and the nearest-site
minutes of the categories that changed. Every other result is recomputed.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd

from nwm_geo import coverage, data, localities, settings
from nwm_geo._errors import NwmGeoError
from nwm_geo._units import resolve_minutes, resolve_speed
from nwm_geo.areas import Area

__all__ = ["Changes", "apply_changes", "change_problems", "new_sites"]

#: The keys of one new site (``add``): a name, a category and one way to locate it.
SITE_KEYS: tuple[str, ...] = ("name", "category", "postcode", "lon", "lat", "easting", "northing")

#: How far outside the area a new site may be (metres from the area's boundary).
MAX_OUTSIDE_M: float = 1000.0


class Baseline(Protocol):
    """What a what-if reads of its baseline study (:class:`~nwm_geo.pipeline.Study`).

    A protocol, so this module never imports the study: ``_study`` imports
    ``_changes``, never the other way.
    """

    minutes: float | None
    speed_m_per_min: float | None

    @property
    def register(self) -> gpd.GeoDataFrame: ...
    @property
    def postcodes(self) -> gpd.GeoDataFrame: ...
    @property
    def _ward_shapes(self) -> gpd.GeoDataFrame: ...
    @property
    def profile(self) -> Area: ...
    @property
    def categories(self) -> tuple[str, ...]: ...
    @property
    def bundles(self) -> dict[str, tuple[str, ...]]: ...
    @property
    def plan(self) -> localities.LocalityPlan: ...
    @property
    def model(self) -> coverage.WalkModel: ...
    @property
    def minutes_to_nearest(self) -> pd.DataFrame: ...
    @property
    def asset_cover(self) -> coverage.Cover: ...


#: The study type a what-if returns: the baseline's own.
S = TypeVar("S", bound=Baseline)


#: What a what-if study shares with its baseline: the inputs no change can touch. Every
#: other result the baseline has cached is dropped and recomputed on first use in the
#: what-if study; the list of results is found by introspection (:func:`cached_results`),
#: so a result added to ``Study`` later cannot be forgotten.
SHARED: tuple[str, ...] = (
    "_register_and_merges",
    "postcodes",
    "_current_wards",
    "_ward_shapes",
    "demand",
    "graph",
)


def cached_results(cls: type) -> frozenset[str]:
    """Every ``functools.cached_property`` of a class (and its bases)."""
    return frozenset(
        name
        for klass in cls.__mro__
        for name, value in vars(klass).items()
        if isinstance(value, cached_property)
    )


#: Settings a study can be given again without changing its inputs (SHARED) or plan.
KEEP_INPUTS_AND_PLAN: frozenset[str] = frozenset({"minutes", "speed_m_per_min", "hub_options"})
#: Settings that change no result.
CHANGES_NO_RESULT: frozenset[str] = frozenset({"verbose"})


def forget_results(study: Any, name: str) -> None:
    """Drop what ``study`` derived, now that its setting ``name`` was given again.

    Setting ``study.plan`` or ``study.minutes`` after reading results must not leave the
    old results behind (issue 19): the plan, minutes, speed and hub options keep the
    shared inputs (:data:`SHARED`); any other setting (area, data folder, register,
    ward year, network, k...) drops every result, the area's tables and a solved plan.
    """
    if name in CHANGES_NO_RESULT:
        return
    state = study.__dict__
    keep = set(SHARED) if name in KEEP_INPUTS_AND_PLAN | {"plan", "k"} else set()
    if state.get("changes") is not None:
        raise NwmGeoError(
            f"a what-if study's settings are fixed: give {name} to the baseline's "
            "with_changes (or make a new Study) instead of setting it"
        )
    for key in cached_results(type(study)) - keep:
        state.pop(key, None)
    if name not in KEEP_INPUTS_AND_PLAN:
        state.pop("_plan_resolved", None)  # a given plan is read again; none: solved again
    if not keep:
        state.pop("_area_data", None)


@dataclass(frozen=True)
class Changes:
    """The changes a what-if study was made with.

    Attributes
    ----------
    close
        The asset ids closed.
    add
        The new sites (index ``asset_id`` ``new-1`` …; ``name``, ``category``,
        ``postcode``, ``ward_code``, ``ward_name``, ``inside_area``, geometry).
    minutes, speed_m_per_min
        The walk threshold and speed of the what-if study.
    baseline_minutes, baseline_speed_m_per_min
        Those of the baseline.
    """

    close: tuple[str, ...]
    add: gpd.GeoDataFrame
    minutes: float
    speed_m_per_min: float
    baseline_minutes: float
    baseline_speed_m_per_min: float

    def describe(self, register: pd.DataFrame) -> list[str]:
        """One line per change, for the outputs' summaries."""
        lines = [
            f"close {aid}: {register.at[aid, 'name']!s} ({register.at[aid, 'category']!s})"
            for aid in self.close
            if aid in register.index
        ]
        lines += [
            f"add {aid}: {r['name']} ({r['category']}), at {r['located_by']}"
            for aid, r in self.add.iterrows()
        ]
        if self.minutes != self.baseline_minutes:
            lines.append(f"minutes {self.baseline_minutes:g} -> {self.minutes:g}")
        if self.speed_m_per_min != self.baseline_speed_m_per_min:
            lines.append(
                f"speed {self.baseline_speed_m_per_min:g} -> {self.speed_m_per_min:g} m/min"
            )
        return lines or ["no change"]


def _resolve_close(
    study: Baseline, close: Iterable[str]
) -> tuple[list[str], list[tuple[str, str, str]]]:
    reg = study.register
    ids: list[str] = []
    problems: list[tuple[str, str, str]] = []
    by_name: pd.Series | None = None  # grouped only when an item is not an asset id
    for i, item in enumerate(close):
        key = f"close[{i + 1}]"
        text = str(item)
        if text not in reg.index and by_name is None:
            by_name = reg.index.to_series().groupby(reg["name"].astype(str)).agg(list)
        if text in reg.index:
            aid = text
        elif by_name is not None and text in by_name.index and len(by_name[text]) == 1:
            aid = str(by_name[text][0])
        elif by_name is not None and text in by_name.index:
            problems.append(
                (
                    key,
                    text,
                    f"{len(by_name[text])} assets have this name; give the asset_id "
                    f"({', '.join(map(str, by_name[text][:5]))})",
                )
            )
            continue
        else:
            problems.append(
                (key, text, "no asset with this asset_id or exact name in the register")
            )
            continue
        if aid in ids:
            problems.append((key, text, "this asset is closed twice"))
        else:
            ids.append(aid)
    return ids, problems


def _locate(
    study: Baseline, key: str, site: Mapping[str, Any]
) -> tuple[Any, str, list[tuple[str, str, str]]]:
    """Return the site's point (EPSG:27700), how it was located, and the problems."""
    from shapely.geometry import Point

    problems: list[tuple[str, str, str]] = []
    ways = [
        w
        for w in (("postcode",), ("lon", "lat"), ("easting", "northing"))
        if any(k in site for k in w)
    ]
    if len(ways) != 1 or not all(k in site for k in ways[0]):
        problems.append(
            (
                key,
                "",
                "give exactly one location: postcode, or lon and lat, or easting and northing",
            )
        )
        return None, "", problems
    way: tuple[str, ...] = ways[0]
    if way == ("postcode",):
        pc = " ".join(str(site["postcode"]).upper().split())
        table = study.postcodes
        if pc not in table.index:
            problems.append(
                (
                    f"{key}.postcode",
                    str(site["postcode"]),
                    "postcode not in the area's Code-Point data",
                )
            )
            return None, "", problems
        return table.geometry.loc[pc], f"postcode {pc}", problems
    try:
        a, b = float(site[way[0]]), float(site[way[1]])
    except (TypeError, ValueError):
        problems.append((f"{key}.{way[0]}", f"{site[way[0]]}, {site[way[1]]}", "not numbers"))
        return None, "", problems
    if not (np.isfinite(a) and np.isfinite(b)):
        problems.append((f"{key}.{way[0]}", f"{a}, {b}", "not finite numbers"))
        return None, "", problems
    if way == ("lon", "lat"):
        if not (-180 <= a <= 180 and -90 <= b <= 90):
            problems.append((f"{key}.lon", f"{a}, {b}", "longitude/latitude out of range"))
            return None, "", problems
        pt = gpd.GeoSeries([Point(a, b)], crs=settings.wgs84).to_crs(settings.crs).iloc[0]
        return pt, f"lon {a:.5f}, lat {b:.5f}", problems
    return Point(a, b), f"easting {a:.0f}, northing {b:.0f}", problems


def new_sites(
    study: Baseline, add: Sequence[Mapping[str, Any]]
) -> tuple[gpd.GeoDataFrame, list[tuple[str, str, str]]]:
    """Return the new sites as register rows, and every problem found with them.

    Parameters
    ----------
    study
        The baseline study (for its categories, postcodes and wards).
    add
        One mapping per site: ``name``, ``category`` (one of the study's categories)
        and a location: ``postcode`` (in the area's Code-Point data), ``lon`` and
        ``lat``, or ``easting`` and ``northing`` (within :data:`MAX_OUTSIDE_M` of the
        area).

    Returns
    -------
    tuple of (geopandas.GeoDataFrame, list)
        The sites (index ``new-1`` …, the register's columns, ``located_by``) and the
        problems as ``(key, value, reason)``, keys like ``add[2].postcode``.
    """
    problems: list[tuple[str, str, str]] = []
    rows: list[dict[str, Any]] = []
    wards = study._ward_shapes
    boundary = wards.geometry.union_all()
    for i, site in enumerate(add):
        key = f"add[{i + 1}]"
        for extra in sorted(set(site) - set(SITE_KEYS)):
            problems.append(
                (
                    f"{key}.{extra}",
                    str(site[extra]),
                    f"unknown key (allowed: {', '.join(SITE_KEYS)})",
                )
            )
        name = str(site.get("name", "")).strip()
        if not name:
            problems.append((f"{key}.name", "", "every new site needs a name"))
        raw_cat = site.get("category", "")
        found_cat, reason = data.resolve_category(raw_cat, study.categories)
        cat = found_cat or str(raw_cat)
        if found_cat is None:
            problems.append((f"{key}.category", str(raw_cat), f"{reason} in {study.profile.name}"))
        geom, how, found = _locate(study, key, site)
        problems += found
        if geom is None:
            continue
        if boundary.distance(geom) > MAX_OUTSIDE_M:
            problems.append(
                (key, how, f"more than {MAX_OUTSIDE_M:g} m outside {study.profile.name}")
            )
            continue
        hit = wards.index[wards.contains(geom)]
        code = str(hit[0]) if len(hit) else None
        rows.append(
            {
                "asset_id": f"new-{i + 1}",
                "name": name,
                "category": cat,
                "postcode": how.removeprefix("postcode ") if how.startswith("postcode") else "",
                "easting": float(geom.x),
                "northing": float(geom.y),
                "ward_code": code,
                "ward_name": None if code is None else wards.loc[code, "ward_name"],
                "inside_area": code is not None,
                "source": "scenario (proposed site)",
                "located_by": how,
                "geometry": geom,
            }
        )
    columns = ["asset_id", "name", "category", "postcode", "easting", "northing", "ward_code",
               "ward_name", "inside_area", "source", "located_by", "geometry"]  # fmt: skip
    frame = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=columns), geometry="geometry", crs=settings.crs
    ).set_index("asset_id")
    return frame, problems


def change_problems(
    study: Baseline,
    *,
    close: Iterable[str] = (),
    add: Sequence[Mapping[str, Any]] = (),
    minutes: float | None = None,
    speed_m_per_min: float | None = None,
) -> tuple[list[str], gpd.GeoDataFrame, list[tuple[str, str, str]]]:
    """Check the changes against a study; return closed ids, new sites and every problem.

    Returns
    -------
    tuple
        The closed asset ids, the new sites (:func:`new_sites`) and the problems as
        ``(key, value, reason)``.
    """
    ids, problems = _resolve_close(study, close)
    sites, found = new_sites(study, add)
    problems += found
    for key, value, resolve in (
        ("settings.minutes", minutes, resolve_minutes),
        ("settings.speed_m_per_min", speed_m_per_min, resolve_speed),
    ):
        if value is None:
            continue
        try:
            resolve(value, what=key)
        except NwmGeoError as exc:
            problems.append((key, str(value), str(exc)))
    return ids, sites, problems


def apply_changes(
    study: S,
    *,
    close: Iterable[str] = (),
    add: Sequence[Mapping[str, Any]] = (),
    minutes: float | None = None,
    speed_m_per_min: float | None = None,
) -> S:
    """Return a what-if study: the baseline with sites closed or added, or other settings.

    See :meth:`nwm_geo.pipeline.Study.with_changes`.

    Raises
    ------
    NwmGeoError
        Listing every problem: an unknown asset id or name, a new site with an unknown
        category, a postcode not in the data, a location outside the area, minutes or
        speed out of range.
    """
    ids, sites, problems = change_problems(
        study, close=close, add=add, minutes=minutes, speed_m_per_min=speed_m_per_min
    )
    if problems:
        lines = [
            f"{key}: {reason}" + (f" (value: {value!r})" if value else "")
            for key, value, reason in problems
        ]
        raise NwmGeoError(
            f"{len(problems)} problem(s) with the changes:\n" + "\n".join("  - " + x for x in lines)
        )
    base_min, base_speed = resolve_minutes(study.minutes), resolve_speed(study.speed_m_per_min)
    new_min = resolve_minutes(study.minutes if minutes is None else minutes)
    new_speed = resolve_speed(study.speed_m_per_min if speed_m_per_min is None else speed_m_per_min)
    plan = study.plan  # fixed: solved (or read) once, for the baseline
    model = coverage.with_sites(study.model, drop=ids, add=sites)
    register = study.register.drop(index=ids)
    if len(sites):
        extra = sites.drop(columns="located_by").reindex(columns=register.columns)
        register = pd.concat([register, extra])
        register = gpd.GeoDataFrame(register, geometry="geometry", crs=study.register.crs)
        register.index.name = study.register.index.name
    changed = {str(c) for c in study.register.loc[ids, "category"]}
    changed |= {str(c) for c in sites["category"]}
    if new_speed == base_speed:
        nearest = study.minutes_to_nearest.copy()
        touched = {b: cats for b, cats in study.bundles.items() if changed & set(cats)}
        cats = list(dict.fromkeys([*changed, *(c for cs in touched.values() for c in cs)]))
        cats = [c for c in cats if c in nearest.columns]
        if cats:
            fresh = coverage.nearest_minutes(
                model, speed_m_per_min=new_speed, categories=cats, bundles=touched
            )
            for col in fresh.columns:
                nearest[col] = fresh[col]
    else:
        nearest = coverage.nearest_minutes(
            model, speed_m_per_min=new_speed, categories=study.categories, bundles=study.bundles
        )
    if (new_min, new_speed) == (base_min, base_speed):
        cover = coverage.extend_cover(study.asset_cover, model)
    else:
        cover = coverage.coverage_matrix(
            model, sources="assets", minutes=new_min, speed_m_per_min=new_speed
        )
    # computed once, on the baseline, and shared; a baseline read from a saved run has
    # what a what-if uses: its network is decoded, its current wards read, only if used
    saved = "_saved_graph" in study.__dict__
    for key in SHARED:
        if not (saved and key in ("graph", "_current_wards")):
            getattr(study, key)
    out = copy.copy(study)
    state = out.__dict__
    for key in cached_results(type(study)) - set(SHARED):
        state.pop(key, None)
    state.pop("changes", None)
    out.minutes = new_min if minutes is not None else study.minutes
    out.speed_m_per_min = new_speed if speed_m_per_min is not None else study.speed_m_per_min
    state["_plan_given"] = plan
    state["_plan_resolved"] = plan
    state["register"] = register
    state["model"] = model
    state["minutes_to_nearest"] = nearest
    state["asset_cover"] = cover
    state["changes"] = Changes(
        close=tuple(ids),
        add=sites,
        minutes=new_min,
        speed_m_per_min=new_speed,
        baseline_minutes=base_min,
        baseline_speed_m_per_min=base_speed,
    )
    return out
