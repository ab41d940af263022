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

import numpy as np
import pandas as pd

from nwm_geo._errors import NwmGeoError
from nwm_geo.data import AGE_BANDS

__all__ = ["AGE_LABELS", "GROUP_SPLIT_COLUMNS", "group_split"]

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
    wanted = ["imd_quintile", *AGE_BANDS]
    missing = [c for c in [weight, "population", *([] if partial else wanted)] if c not in points]
    if missing:
        raise NwmGeoError(
            f"demand points have no column(s) {missing}; build them with "
            "nwm_geo.data.open_area(...).population (or Study.demand), with the IMD and age groups"
        )
    w = pd.to_numeric(points[weight], errors="coerce").astype(float)
    if w.isna().any() or (w < 0).any():
        raise NwmGeoError(f"column {weight!r} must be True/False or a number >= 0 at every point")
    pop = points["population"].astype(float) * w
    total = float(pop.sum())
    rows: list[dict[str, object]] = []
    if "imd_quintile" in points.columns:
        quintile = pd.to_numeric(points["imd_quintile"], errors="coerce")
        by_q = pop.groupby(quintile).sum()
        for q in range(1, 6):
            rows.append(
                {
                    "group": "imd_quintile",
                    "value": q,
                    "label": _QUINTILE_LABELS.get(q, str(q)),
                    "residents": float(by_q.get(q, 0.0)),
                }
            )
    if all(band in points.columns for band in AGE_BANDS):
        weights = w.to_numpy()
        for band in AGE_BANDS:  # arrays, not Series: the same sums (numpy's pairwise)
            residents = pd.to_numeric(points[band], errors="coerce").to_numpy(float, na_value=0.0)
            rows.append(
                {
                    "group": "age_band",
                    "value": band,
                    "label": AGE_LABELS[band],
                    "residents": float((residents * weights).sum()),
                }
            )
    out = pd.DataFrame(rows, columns=list(GROUP_SPLIT_COLUMNS[:-1]))
    out["residents"] = out["residents"].astype(float)
    out["share_pct"] = 100 * out["residents"] / total if total > 0 else np.nan
    return out
