"""The one split of residents by IMD quintile and Census 2021 age band.

In: demand points with ``population`` and the group columns of the equity contract
(``imd_quintile``, 1 = most deprived, and the residents per age band of
:data:`nwm_geo.data.AGE_BANDS`), and a weight column (a flag, or a number multiplying
each point's residents).
Out: one long table, a row per quintile then per age band, with the weighted residents
and their share. :func:`nwm_geo.coverage.closure_impact` (who loses access when a site
closes) and :func:`nwm_geo.equity.group_split` (the same function, re-exported) both
use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from nwm_geo._errors import NwmGeoError
from nwm_geo.data import AGE_BANDS

__all__ = [
    "AGE_LABELS",
    "GROUP_SPLIT_COLUMNS",
    "GroupColumns",
    "group_split",
    "group_splits",
    "split_residents",
]

#: Readable names of the Census 2021 broad age bands.
AGE_LABELS: dict[str, str] = {
    "age_0_15": "0-15",
    "age_16_24": "16-24",
    "age_25_34": "25-34",
    "age_35_49": "35-49",
    "age_50_64": "50-64",
    "age_65_plus": "65+",
}

#: The columns of :func:`group_split`'s table.
GROUP_SPLIT_COLUMNS: tuple[str, ...] = ("group", "value", "label", "residents", "share_pct")

_QUINTILE_LABELS = {1: "1 (most deprived)", 5: "5 (least deprived)"}


def group_split(points: pd.DataFrame, *, weight: str, partial: bool = False) -> pd.DataFrame:
    """Split the residents of flagged (or weighted) points by IMD quintile and age band.

    For the closure-impact and gap tables: e.g. ``weight="loses_access"`` (a boolean
    column) gives who loses access by deprivation and age.

    Parameters
    ----------
    points
        Demand points with ``population``, ``imd_quintile``, the age bands and the
        ``weight`` column (boolean, or a non-negative number multiplying each point's
        residents).
    weight
        The column to weight by.
    partial
        Leave out a group whose columns are missing (``imd_quintile``, or any of the
        six age bands) instead of raising: demand built without the equity columns
        then gives an empty table.

    Returns
    -------
    pandas.DataFrame
        Rows for IMD quintiles 1–5 then the six age bands: ``group``
        (``"imd_quintile"`` or ``"age_band"``), ``value`` (the quintile number, or the
        band column name), ``label``, ``residents`` (weighted residents) and
        ``share_pct`` (of all weighted residents; NaN when there are none). Points with
        no quintile count in the total but in no quintile row.

    Raises
    ------
    NwmGeoError
        If a column is missing (unless ``partial``) or a weight is negative or not a
        number.
    """
    _check_columns(points, [weight], partial=partial)
    return group_splits(points, {weight: points[weight]}, partial=partial)[weight]


def group_splits(
    points: pd.DataFrame, weights: Mapping[str, Any], *, partial: bool = False
) -> dict[str, pd.DataFrame]:
    """Return :func:`group_split`'s table for each of several weights of the same points.

    The group columns are converted once for all of them (a scenario splits the
    residents losing and gaining access to every measure: dozens of weights).

    Parameters
    ----------
    points
        As for :func:`group_split` (the weights need not be columns).
    weights
        Name -> the weight of each point: a Series on ``points``' index, or an array in
        its row order.
    partial
        As for :func:`group_split`.

    Returns
    -------
    dict
        Name -> :func:`group_split`'s table for that weight.

    Raises
    ------
    NwmGeoError
        As :func:`group_split`, naming the weight.
    """
    _check_columns(points, [], partial=partial)
    cols = GroupColumns.of(points)
    population = points["population"].to_numpy(dtype=float)
    labels: dict[object, str] = {q: _QUINTILE_LABELS.get(q, str(q)) for q in range(1, 6)}
    labels.update(AGE_LABELS)
    out: dict[str, pd.DataFrame] = {}
    for name, given in weights.items():
        raw = (  # a Series by its index (a missing point is then an error), else by row
            given.reindex(points.index)
            if isinstance(given, pd.Series)
            else pd.Series(given, index=points.index)
        )
        w = pd.to_numeric(raw, errors="coerce").astype(float)
        if w.isna().any() or (w < 0).any():
            raise NwmGeoError(f"column {name!r} must be True/False or a number >= 0 at every point")
        pop = points["population"].astype(float) * w
        total = float(pop.sum())
        rows = [
            {"group": g, "value": v, "label": labels[v], "residents": r}
            for g, v, r in split_residents(cols, population, w.to_numpy())
        ]
        table = pd.DataFrame(rows, columns=list(GROUP_SPLIT_COLUMNS[:-1]))
        table["residents"] = table["residents"].astype(float)
        table["share_pct"] = 100 * table["residents"] / total if total > 0 else np.nan
        out[name] = table
    return out


def _check_columns(points: pd.DataFrame, weights: list[str], *, partial: bool) -> None:
    wanted = ["imd_quintile", *AGE_BANDS]
    missing = [c for c in [*weights, "population", *([] if partial else wanted)] if c not in points]
    if missing:
        raise NwmGeoError(
            f"demand points have no column(s) {missing}; build them with "
            "nwm_geo.data.open_area(...).population (or Study.demand), with the IMD and age groups"
        )


@dataclass(frozen=True)
class GroupColumns:
    """The group columns of demand points as arrays, converted once and read by position.

    ``quintile``: the IMD quintile (NaN: none; None: no such column); ``bands``: each age
    band's residents (0 where missing; empty unless all six bands are there).
    """

    quintile: np.ndarray | None
    bands: dict[str, np.ndarray]

    @classmethod
    def of(cls, points: pd.DataFrame) -> GroupColumns:
        """Return the group columns of ``points`` (those it has)."""
        quintile = (
            pd.to_numeric(points["imd_quintile"], errors="coerce").astype(float).to_numpy()
            if "imd_quintile" in points.columns
            else None
        )
        bands = (
            {
                band: pd.to_numeric(points[band], errors="coerce").to_numpy(float, na_value=0.0)
                for band in AGE_BANDS
            }
            if all(band in points.columns for band in AGE_BANDS)
            else {}
        )
        return cls(quintile=quintile, bands=bands)


def split_residents(
    cols: GroupColumns,
    population: np.ndarray,
    weight: np.ndarray,
    at: np.ndarray | None = None,
) -> list[tuple[str, object, float]]:
    """Return ``(group, value, residents)``: the sums of :func:`group_split`'s rows.

    The points at positions ``at`` (None: all), with their ``population`` and ``weight``
    (both for those points only): the weighted residents of IMD quintiles 1-5 (if
    ``cols`` has them), then of each age band (each band's residents times the weight).
    For many subsets of the same points (:func:`~nwm_geo.coverage.closure_impact`'s
    losing points of each site), ``cols`` is converted once.
    """
    rows: list[tuple[str, object, float]] = []
    if cols.quintile is not None:
        quintile = cols.quintile if at is None else cols.quintile[at]
        by_q = pd.Series(population * weight).groupby(quintile).sum()
        rows += [("imd_quintile", q, float(by_q.get(q, 0.0))) for q in range(1, 6)]
    for band, residents in cols.bands.items():  # arrays: numpy's pairwise sums
        here = residents if at is None else residents[at]
        rows.append(("age_band", band, float((here * weight).sum())))
    return rows
