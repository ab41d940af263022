"""Residents beyond the walk: gap points and gap population per area.

In: ``nwm_geo.coverage.nearest_minutes`` (minutes per point and measure), the demand
points and the ward -> locality assignment. Out: the gap points (on the ``point_id``
index) and gap population per area and measure. "Within the walk" is
:func:`nwm_geo._units.within_minutes`, the rule the coverage tables use.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from nwm_geo import settings
from nwm_geo._errors import NwmGeoError
from nwm_geo._units import within_minutes
from nwm_geo.requirements._common import locality_of

__all__ = ["gap_points", "gap_population"]


def _speed(nearest: pd.DataFrame, speed_m_per_min: float | None) -> float | None:
    """Return the speed the times were computed at: given, else the table's, else None (setting)."""
    if speed_m_per_min is not None:
        return speed_m_per_min
    speed = nearest.attrs.get("speed_m_per_min")
    return None if speed is None else float(speed)


def _measure_columns(nearest: pd.DataFrame, measures: Sequence[str] | None) -> list[str]:
    if measures is None:
        known = set(settings.CATEGORIES) | set(settings.BUNDLES)
        return [c for c in nearest.columns if c in known]
    missing = [m for m in measures if m not in nearest.columns]
    if missing:
        raise NwmGeoError(f"nearest_minutes has no column(s) {missing}")
    return list(measures)


def gap_points(
    nearest: pd.DataFrame,
    points: pd.DataFrame,
    *,
    assignment: pd.Series,
    measures: Sequence[str] | None = None,
    minutes: float | None = None,
    speed_m_per_min: float | None = None,
) -> pd.DataFrame:
    """Return the demand points beyond the walk for at least one measure.

    Parameters
    ----------
    nearest
        ``nearest_minutes(...)``: indexed by ``point_id``, one column per category and
        bundle (minutes; NaN = unreachable).
    points
        Demand points: ``population``, ``ward_code``, ``lsoa_code``, ``lon``, ``lat``.
    assignment
        ``ward_code -> locality``.
    measures
        Columns of ``nearest`` to use; every category and bundle column by default.
    minutes
        The threshold; ``settings.walk_minutes`` by default. A point is in the gap when
        its nearest time is not within it (:func:`nwm_geo._units.within_minutes`) or
        unknown.
    speed_m_per_min
        The speed the times were computed at (for the tolerance of the within test);
        ``nearest.attrs["speed_m_per_min"]``, else the setting, by default.

    Returns
    -------
    pd.DataFrame
        Indexed by ``point_id`` (points with at least one gap): ``locality``,
        ``ward_code``, ``lsoa_code``, ``population``, ``lon``, ``lat``, then one boolean
        column per measure (True = beyond the walk).
    """
    cols = _measure_columns(nearest, measures)
    near = nearest[cols].reindex(points.index)
    beyond = ~within_minutes(near, minutes, speed_m_per_min=_speed(nearest, speed_m_per_min))
    keep = beyond.any(axis=1)
    base = pd.DataFrame(index=points.index)
    base["locality"] = locality_of(points["ward_code"], assignment)
    for c in ("ward_code", "lsoa_code", "population", "lon", "lat"):
        if c in points.columns:
            base[c] = points[c]
    out = pd.concat([base, beyond.astype(bool)], axis=1)[keep.to_numpy()]
    out.index.name = points.index.name or "point_id"
    return out


def gap_population(
    nearest: pd.DataFrame,
    points: pd.DataFrame,
    *,
    assignment: pd.Series,
    by: str = "locality",
    measures: Sequence[str] | None = None,
    minutes: float | None = None,
    speed_m_per_min: float | None = None,
    area_name: str = "Luton",
) -> pd.DataFrame:
    """Residents beyond the walk, per area and measure.

    Parameters
    ----------
    nearest, points, assignment, measures, minutes, speed_m_per_min
        As for :func:`gap_points`.
    by
        ``"locality"``, ``"ward"``, ``"lsoa"`` or ``"borough"``.
    area_name
        The label of the single ``"borough"`` row (the area profile's name).

    Returns
    -------
    pd.DataFrame
        Indexed by (area, ``measure``): ``population``, ``covered_population``,
        ``gap_population``, ``covered_share``, ``gap_share``, ``gap_points``.
    """
    keys = {"locality": "locality", "ward": "ward_code", "lsoa": "lsoa_code", "borough": "borough"}
    if by not in keys:
        raise NwmGeoError(f"by must be one of {list(keys)}, not {by!r}")
    cols = _measure_columns(nearest, measures)
    near = nearest[cols].reindex(points.index)
    beyond = ~within_minutes(near, minutes, speed_m_per_min=_speed(nearest, speed_m_per_min))
    pop = pd.to_numeric(points["population"], errors="coerce").fillna(0.0)
    if by == "locality":
        area = locality_of(points["ward_code"], assignment)
    elif by == "borough":
        area = pd.Series(area_name, index=points.index)
    else:
        area = points[keys[by]].astype(str)
    area.name = keys[by]
    rows = []
    for measure in cols:
        g = (
            pd.DataFrame(
                {
                    "area": area.to_numpy(),
                    "population": pop.to_numpy(),
                    "gap_population": (pop * beyond[measure]).to_numpy(),
                    "gap_points": (beyond[measure] & (pop > 0)).to_numpy().astype(int),
                }
            )
            .groupby("area", sort=True)[["population", "gap_population", "gap_points"]]
            .sum()
        )
        g["measure"] = measure
        rows.append(g)
    out = pd.concat(rows).reset_index().rename(columns={"area": keys[by]})
    out = out.set_index([keys[by], "measure"])
    out["covered_population"] = out["population"] - out["gap_population"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["gap_share"] = np.where(
            out["population"] > 0, out["gap_population"] / out["population"], np.nan
        )
    out["covered_share"] = 1.0 - out["gap_share"]
    return out[
        [
            "population",
            "covered_population",
            "gap_population",
            "covered_share",
            "gap_share",
            "gap_points",
        ]
    ]
