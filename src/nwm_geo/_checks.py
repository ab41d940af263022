"""Checks every public function makes on its inputs, in one place.

:func:`checks_crs`: a public function that takes a GeoDataFrame refuses one without a
coordinate reference system, instead of guessing degrees or metres (a site in degrees
read as metres snaps hundreds of kilometres away).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from nwm_geo._errors import NwmGeoError

__all__ = ["checks_crs", "crs_checked_parameters"]

P = ParamSpec("P")
R = TypeVar("R")


def _without_crs(value: object) -> bool:
    """Return True for a non-empty GeoDataFrame (or GeoSeries) whose CRS is not set."""
    if not hasattr(value, "geometry") and type(value).__name__ != "GeoSeries":
        return False
    try:
        crs = value.crs  # type: ignore[attr-defined]
        n = len(value)  # type: ignore[arg-type]
    except (AttributeError, TypeError, ValueError):
        return False
    return crs is None and n > 0


def checks_crs(func: Callable[P, R]) -> Callable[P, R]:
    """Refuse a GeoDataFrame without a CRS in any parameter annotated as one.

    Parameters
    ----------
    func
        A public function; its parameters annotated ``GeoDataFrame`` are checked.

    Returns
    -------
    callable
        The same function, checking first.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> @checks_crs
    ... def first(points: gpd.GeoDataFrame) -> float:
    ...     return float(points.geometry.x.iloc[0])
    >>> first(gpd.GeoDataFrame(geometry=[Point(-0.42, 51.88)], crs="EPSG:4326"))
    -0.42
    >>> first(gpd.GeoDataFrame(geometry=[Point(-0.42, 51.88)]))
    Traceback (most recent call last):
    ...
    nwm_geo._errors.NwmGeoError: ...first: points has no CRS ...
    """
    sig = inspect.signature(func)
    names = tuple(p.name for p in sig.parameters.values() if "GeoDataFrame" in str(p.annotation))
    parts = func.__module__.split(".")  # nwm_geo.<stage>...: named as the public stage
    where = f"{parts[1]}.{func.__name__}" if parts[0] == "nwm_geo" else func.__name__

    @functools.wraps(func)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        bound = sig.bind_partial(*args, **kwargs).arguments
        for name in names:
            if _without_crs(bound.get(name)):
                raise NwmGeoError(
                    f"{where}: {name} has no CRS (coordinate reference system), so its "
                    "coordinates could be degrees or metres; nothing is assumed. Set it: "
                    "frame.set_crs('EPSG:4326') for longitude/latitude, "
                    "frame.set_crs('EPSG:27700') for British National Grid metres."
                )
        return func(*args, **kwargs)

    checked.__crs_checked__ = names  # type: ignore[attr-defined]
    return checked


def crs_checked_parameters(func: Any) -> tuple[str, ...] | None:
    """Return the parameters :func:`checks_crs` checks on ``func``, or None if unchecked.

    Parameters
    ----------
    func
        A function.

    Returns
    -------
    tuple of str or None
        The checked parameter names.
    """
    found: tuple[str, ...] | None = getattr(func, "__crs_checked__", None)
    return found
