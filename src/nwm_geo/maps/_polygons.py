"""Polygons on a static map: what ``GeoDataFrame.plot`` draws, without its per-call class.

geopandas (1.2) defines a new ``PatchCollection`` subclass on every polygon plot, and
matplotlib builds each new artist class's ``set`` signature and docstring from all its
properties: about a fifth of a locality map's drawing time, for a class that changes
nothing drawn. :func:`plot_polygons` draws the same collection (the same paths, in the
same order, with the same style) as a plain ``PatchCollection``; anything it does not
handle the same way is drawn by ``plot`` itself.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["plot_polygons"]

_POLYGONAL = ("Polygon", "MultiPolygon")


def _patch(polygon: Any) -> Any:
    """Return a (multi)polygon as one patch, rings as geopandas' ``_PolygonPatch`` joins them."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path

    parts = [polygon] if polygon.geom_type == "Polygon" else polygon.geoms
    paths = []
    for part in parts:
        paths.append(Path(np.asarray(part.exterior.coords)[:, :2], closed=True))
        paths.extend(Path(np.asarray(ring.coords)[:, :2], closed=True) for ring in part.interiors)
    return PathPatch(Path.make_compound_path(*paths))


def _axis_labels(ax: Any, crs: Any) -> None:
    """Label empty axes from the CRS, as ``plot`` does (the maps then clear the labels)."""
    if crs:
        x_label = f"{crs.axis_info[0].name} [{crs.axis_info[0].unit_name}]"
        y_label = f"{crs.axis_info[1].name} [{crs.axis_info[1].unit_name}]"
        if crs.axis_info[0].direction == "north":
            x_label, y_label = y_label, x_label
    else:
        x_label, y_label = "x", "y"
    if ax.get_xlabel() == "":
        ax.set_xlabel(x_label, fontsize="small")
    if ax.get_ylabel() == "":
        ax.set_ylabel(y_label, fontsize="small")


def plot_polygons(
    ax: Any, frame: gpd.GeoDataFrame | gpd.GeoSeries, *, color: Any = None, **style: Any
) -> None:
    """Draw polygons exactly as ``frame.plot(ax=ax, color=color, **style)`` draws them.

    Parameters
    ----------
    ax
        Matplotlib axes.
    frame
        Polygons and multipolygons in a projected CRS (missing and empty ones are
        skipped); other geometries, a geographic CRS or list-like styles are drawn by
        ``frame.plot`` itself.
    color
        One colour, or one per row (as ``plot``'s ``color``: the fill).
    **style
        ``facecolor``, ``edgecolor``, ``linewidth``, ``alpha``, ``hatch``... (scalars).
    """
    from matplotlib.collections import PatchCollection

    geoms = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
    present = (geoms.notna() & ~geoms.is_empty).to_numpy()
    if (
        not geoms.geom_type[present].isin(_POLYGONAL).all()
        or (geoms.crs is not None and geoms.crs.is_geographic)
        or any(pd.api.types.is_list_like(v) for v in style.values())
    ):
        frame.plot(ax=ax, color=color, **style)
        return
    _axis_labels(ax, geoms.crs)
    if not present.any():  # nothing to draw (plot warns and draws nothing)
        return
    ax.set_aspect("equal")
    at = np.flatnonzero(present)
    parts = geoms.normalize().to_numpy()[at]  # rings in the order plot draws them
    facecolor = style.pop("facecolor", None)
    if color is not None:
        if pd.api.types.is_list_like(color) and len(color) == len(geoms):
            if isinstance(color, pd.Series):
                color = color.reindex(geoms.index)
            color = np.take(color, at, axis=0)
        facecolor = color
    collection = PatchCollection([_patch(p) for p in parts], facecolor=facecolor, **style)
    ax.add_collection(collection, autolim=True)
    ax.autoscale_view()
    ax.figure.canvas.draw_idle()
