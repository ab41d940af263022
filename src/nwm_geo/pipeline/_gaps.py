"""Where residents are beyond the walk, at the default speed and at the 65+ speed."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd

from nwm_geo import coverage, equity, requirements

__all__ = ["OLDER_SUFFIX", "gap_cells", "gap_points_by_speed"]

#: The suffix of a bundle's column for its 65+ residents at their speed (equity map).
OLDER_SUFFIX = " (65+ at their speed)"


def gap_points_by_speed(
    nearest: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    assignment: pd.Series,
    bundles: list[str],
    minutes: float,
    older_speed_m_per_min: float,
) -> pd.DataFrame:
    """Postcodes with residents beyond the walk, per bundle: all, and 65+ at their speed.

    Columns ``lon``, ``lat``, ``population``, ``imd_decile``, ``age_65_plus``, one
    boolean per bundle (beyond the walk at the default speed) and one per bundle named
    ``"<bundle>" + OLDER_SUFFIX`` (has 65+ residents, beyond the walk at their speed);
    only points beyond in at least one of them.
    """
    slow = equity.minutes_at_speed(nearest, speed_m_per_min=older_speed_m_per_min)
    beyond = {
        key: requirements.gap_points(
            table, demand, assignment=assignment, measures=bundles, minutes=minutes
        )
        for key, table in (("all", nearest), ("65+", slow))
    }
    pts = pd.DataFrame(demand[["lon", "lat", "population", "imd_decile", "age_65_plus"]])
    older = {b: b + OLDER_SUFFIX for b in bundles}
    for b in bundles:
        pts[b] = beyond["all"][b].reindex(pts.index, fill_value=False).astype(bool)
        old = beyond["65+"][b].reindex(pts.index, fill_value=False).astype(bool)
        pts[older[b]] = old & (pts["age_65_plus"] > 0)
    return pts[pts[[*bundles, *older.values()]].any(axis=1)]


def gap_cells(
    demand: gpd.GeoDataFrame,
    nearest: pd.DataFrame,
    *,
    boundary: Any,
    bundles: list[str],
    minutes: float | None,
    speed_m_per_min: float | None,
) -> gpd.GeoDataFrame:
    """Where residents are beyond the walk of each bundle: catchment cells in the area.

    See :func:`nwm_geo.coverage.catchment_cells` (``beyond``).
    """
    return coverage.catchment_cells(
        demand,
        nearest,
        boundary=boundary,
        columns=bundles,
        minutes=minutes,
        speed_m_per_min=speed_m_per_min,
        beyond=True,
    )
