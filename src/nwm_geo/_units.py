"""Walk settings and the one "within the threshold" rule.

Every stage that resolves a walking speed or threshold, or tests whether a walk is
within the threshold, calls these functions, so the rule lives in one place:

- :func:`resolve_minutes` / :func:`resolve_speed`: ``None`` means the default in
  :mod:`nwm_geo.settings` (0 stays 0 and is rejected, never silently the default);
  values are range-checked with messages that name the units.
- :func:`threshold_m`: the threshold as a walking distance in metres.
- :func:`within_minutes` / :func:`within_metres`: the comparison, with one tolerance
  (:data:`TOLERANCE_M` metres, converted at the given speed for minutes).
- :func:`published_minutes`: minutes rounded for a published file so that anyone who
  recomputes ``minutes <= threshold`` from the file gets exactly the verdicts (and so
  the shares) the run published.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from nwm_geo import settings
from nwm_geo._errors import NwmGeoError

__all__ = [
    "MAX_MINUTES",
    "MAX_SPEED_M_PER_MIN",
    "MIN_SPEED_M_PER_MIN",
    "TOLERANCE_M",
    "published_minutes",
    "resolve_minutes",
    "resolve_speed",
    "threshold_m",
    "within_metres",
    "within_minutes",
]

#: Slack, in metres, on every "within the threshold" test (floating-point rounding only).
TOLERANCE_M: float = 1e-6

#: Walking speeds outside this range (metres per minute) are rejected. 20 m/min
#: (1.2 km/h) is slower than any assisted walking speed in the literature; 150 m/min
#: (9 km/h) is a run. A value such as 4.8 is almost certainly km/h typed by mistake.
MIN_SPEED_M_PER_MIN: float = 20.0
MAX_SPEED_M_PER_MIN: float = 150.0

#: Walk thresholds above this many minutes are rejected (a walk is not a day's hike).
MAX_MINUTES: float = 120.0

T = TypeVar("T", pd.DataFrame, pd.Series, np.ndarray)


def _number(value: Any, what: str, unit: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise NwmGeoError(f"{what} must be a number of {unit}, got {value!r}") from None
    if not math.isfinite(out):
        raise NwmGeoError(f"{what} must be a finite number of {unit}, got {value!r}")
    return out


def resolve_minutes(minutes: float | None, *, what: str = "minutes") -> float:
    """Return the walk threshold in minutes: ``minutes``, or the setting when ``None``.

    Parameters
    ----------
    minutes
        Minutes, or ``None`` for :data:`nwm_geo.settings.walk_minutes`.
    what
        How the value is named in an error message (a CLI flag, a file key).

    Returns
    -------
    float
        A threshold greater than 0 and at most :data:`MAX_MINUTES`.

    Raises
    ------
    NwmGeoError
        If the value is not a finite number in that range.
    """
    value = _number(settings.walk_minutes if minutes is None else minutes, what, "minutes")
    if not 0 < value <= MAX_MINUTES:
        raise NwmGeoError(
            f"{what} must be more than 0 and at most {MAX_MINUTES:g} minutes, got {value:g}"
        )
    return value


def resolve_speed(speed_m_per_min: float | None, *, what: str = "speed_m_per_min") -> float:
    """Return the walking speed in metres per minute: the value, or the setting when ``None``.

    Parameters
    ----------
    speed_m_per_min
        Metres per minute, or ``None`` for :data:`nwm_geo.settings.walk_speed_m_per_min`.
    what
        How the value is named in an error message (a CLI flag, a file key).

    Returns
    -------
    float
        A speed between :data:`MIN_SPEED_M_PER_MIN` and :data:`MAX_SPEED_M_PER_MIN`.

    Raises
    ------
    NwmGeoError
        If the value is not a finite number in that range; a value under 10 gets a
        hint that it looks like km/h.
    """
    default = settings.walk_speed_m_per_min
    value = _number(default if speed_m_per_min is None else speed_m_per_min, what, "m/min")
    if not MIN_SPEED_M_PER_MIN <= value <= MAX_SPEED_M_PER_MIN:
        hint = ""
        if 0 < value < 10:
            hint = f" ({value:g} looks like km/h: {value:g} km/h is {value * 1000 / 60:.0f} m/min)"
        raise NwmGeoError(
            f"{what} must be a walking speed from {MIN_SPEED_M_PER_MIN:g} to "
            f"{MAX_SPEED_M_PER_MIN:g} metres per minute, got {value:g}{hint}"
        )
    return value


def threshold_m(minutes: float | None = None, speed_m_per_min: float | None = None) -> float:
    """Return the walk threshold as a distance in metres (minutes × speed).

    Parameters
    ----------
    minutes, speed_m_per_min
        As for :func:`resolve_minutes` and :func:`resolve_speed`.

    Returns
    -------
    float
        Metres.
    """
    return resolve_minutes(minutes) * resolve_speed(speed_m_per_min)


def within_metres(distance_m: T, limit_m: float) -> T:
    """Return whether each distance is within ``limit_m`` (NaN and inf are not).

    Parameters
    ----------
    distance_m
        Distances in metres (array, Series or DataFrame).
    limit_m
        The threshold in metres.

    Returns
    -------
    Same type as ``distance_m``, boolean.
    """
    return distance_m <= limit_m + TOLERANCE_M


def within_minutes(
    minutes_values: T, minutes: float | None = None, *, speed_m_per_min: float | None = None
) -> T:
    """Return whether each walk time is within the threshold (NaN is not).

    The tolerance is :data:`TOLERANCE_M` metres at the given speed, so this agrees
    with :func:`within_metres` on the same walks.

    Parameters
    ----------
    minutes_values
        Walk times in minutes (array, Series or DataFrame; non-numeric cells are not
        within).
    minutes
        The threshold; ``None`` for the setting.
    speed_m_per_min
        The speed the times were computed at; ``None`` for the setting.

    Returns
    -------
    Same type as ``minutes_values``, boolean.
    """
    limit = resolve_minutes(minutes) + TOLERANCE_M / resolve_speed(speed_m_per_min)
    if isinstance(minutes_values, pd.DataFrame):
        numeric = all(pd.api.types.is_numeric_dtype(t) for t in minutes_values.dtypes)
        values = minutes_values if numeric else minutes_values.apply(pd.to_numeric, errors="coerce")
        flags: pd.DataFrame = values.le(limit)
        return flags
    if isinstance(minutes_values, pd.Series):
        return pd.to_numeric(minutes_values, errors="coerce").le(limit)
    return np.asarray(minutes_values, dtype=float) <= limit


def published_minutes(
    minutes_df: pd.DataFrame,
    minutes: float | None = None,
    *,
    speed_m_per_min: float | None = None,
    decimals: int = 2,
) -> pd.DataFrame:
    """Round walk times for publication so that ``<= threshold`` gives the same verdicts.

    A time within the threshold (:func:`within_minutes`) is rounded down, a time beyond
    it is rounded up, each to ``decimals`` places; a within time is never written above
    the threshold. So a reader who recomputes "within" as ``value <= minutes`` from the
    file gets exactly the verdicts, and so the shares, of the run (plain rounding would
    write 15.004 as 15.00, counted within by the reader and beyond by the run). Each
    written value is less than ``10 ** -decimals`` minutes from the exact time.

    Parameters
    ----------
    minutes_df
        Walk times in minutes (NaN where nothing is reachable; it stays NaN).
    minutes
        The threshold; ``None`` for the setting.
    speed_m_per_min
        The speed the times were computed at; ``None`` for the setting.
    decimals
        Decimal places written.

    Returns
    -------
    pandas.DataFrame
        Same index and columns, rounded toward the verdict.
    """
    thr = resolve_minutes(minutes)
    values = minutes_df.apply(pd.to_numeric, errors="coerce").astype(float)
    within = within_minutes(values, thr, speed_m_per_min=speed_m_per_min).to_numpy(bool)
    scale = 10.0**decimals
    arr = values.to_numpy(dtype=float)
    down = np.minimum(np.floor(arr * scale) / scale, thr)
    up = np.ceil(arr * scale) / scale
    up = np.where(up <= thr, np.nextafter(thr, np.inf), up)  # beyond stays beyond
    out = np.where(within, down, up)
    return pd.DataFrame(out, index=minutes_df.index, columns=minutes_df.columns)
