"""Travel-time bands: residents by minutes to the nearest site, per area and measure.

In: minutes to the nearest site of each measure per demand point
(:func:`~nwm_geo.coverage.nearest_minutes`) and the points' ``population`` and area
columns. Out: residents in each band of :data:`TIME_BANDS` (<= 5, <= 10, <= 15, <= 20,
<= 30 and > 30 minutes), the way an accessibility study reports travel time instead of
one yes/no at the threshold. A point with no reachable site counts as > 30 minutes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from nwm_geo._errors import NwmGeoError
from nwm_geo._units import within_minutes

__all__ = ["TIME_BANDS", "band_labels", "band_of", "time_bands"]

#: Upper edges of the travel-time bands, minutes; the last band is "> 30 min".
TIME_BANDS: tuple[int, ...] = (5, 10, 15, 20, 30)


def band_labels(edges: Sequence[int] = TIME_BANDS) -> list[str]:
    """Return the band column names: ``"<= 5 min"`` ... ``"> 30 min"``."""
    return [f"<= {e:g} min" for e in edges] + [f"> {edges[-1]:g} min"]


def band_of(
    minutes: pd.Series | np.ndarray,
    edges: Sequence[int] = TIME_BANDS,
    *,
    speed_m_per_min: float | None = None,
) -> np.ndarray:
    """Return each time's band index (0 = within the first edge; unreachable = the last).

    "Within" an edge is the one rule of :func:`nwm_geo._units.within_minutes` (with its
    tolerance), so the residents up to the walk threshold's band are exactly the
    residents the coverage tables count as within the walk.
    """
    m = pd.Series(np.asarray(minutes, dtype=float))
    idx = np.full(len(m), len(edges), dtype=int)
    for i in range(len(edges) - 1, -1, -1):
        inside = within_minutes(m, float(edges[i]), speed_m_per_min=speed_m_per_min).to_numpy()
        idx[inside] = i
    return idx


def time_bands(
    nearest: pd.DataFrame,
    points: pd.DataFrame,
    *,
    by: str = "ward_code",
    measures: Sequence[str] | None = None,
    total_label: str | None = None,
    speed_m_per_min: float | None = None,
) -> pd.DataFrame:
    """Return residents per travel-time band, per area and measure.

    Parameters
    ----------
    nearest
        Minutes to the nearest site, one column per measure, on the points' index.
    points
        Demand points with ``population`` and the ``by`` column.
    by
        The area column of ``points`` (``ward_code``, ``locality``, ``lsoa_code``).
    measures
        Columns of ``nearest`` to band (default: all).
    total_label
        When given, a row per measure for the whole area under this name is added.
    speed_m_per_min
        The speed the minutes were computed at (for the tolerance of "within").

    Returns
    -------
    pandas.DataFrame
        Indexed by (``by``, ``measure``): ``population``, then the residents in each
        band (:func:`band_labels`), whole numbers of residents as the data give them.

    Raises
    ------
    NwmGeoError
        If ``by`` or a measure is missing.
    """
    cols = list(nearest.columns if measures is None else measures)
    missing = [c for c in cols if c not in nearest.columns]
    if by not in points.columns or missing:
        raise NwmGeoError(
            f"time_bands: unknown area column {by!r} or measures {missing}"
            if missing
            else f"time_bands: points have no {by!r} column"
        )
    labels = band_labels()
    pop = pd.to_numeric(points["population"], errors="coerce").fillna(0.0).to_numpy()
    area = points[by].astype(str).to_numpy()
    frames = []
    for measure in cols:
        idx = band_of(nearest[measure].reindex(points.index), speed_m_per_min=speed_m_per_min)
        onehot = np.zeros((len(idx), len(labels)))
        onehot[np.arange(len(idx)), idx] = pop
        t = pd.DataFrame(onehot, columns=labels)
        t.insert(0, "population", pop)
        t[by] = area
        g = t.groupby(by, sort=True).sum()
        if total_label is not None:
            g.loc[total_label] = g.sum()
        g["measure"] = measure
        frames.append(g.reset_index())
    out = pd.concat(frames, ignore_index=True).set_index([by, "measure"])
    return out[["population", *labels]]
