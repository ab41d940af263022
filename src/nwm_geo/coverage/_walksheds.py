"""Walksheds: the street network reached within the walk threshold, buffered.

In: a :class:`~nwm_geo.coverage.WalkModel` and a walk threshold.
Out: a GeoDataFrame of polygons per asset (index ``asset_id``) or per category.
"""

from __future__ import annotations

from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra
from tqdm.auto import tqdm

from nwm_geo._errors import NwmGeoError
from nwm_geo._units import TOLERANCE_M, threshold_m
from nwm_geo.coverage._metrics import _categories
from nwm_geo.coverage._model import WalkModel

__all__ = ["walksheds"]


def _piece_lines(model: WalkModel, idx: np.ndarray, t0: np.ndarray, t1: np.ndarray) -> list[Any]:
    """Geometry of pieces ``idx`` between distances t0..t1 (metres from the piece's a)."""
    from shapely.ops import substring

    p = model.pieces
    out: list[Any] = []
    for i, a, b in zip(idx, t0, t1, strict=True):
        if b <= a:
            continue
        src = p.src[i]
        if src < 0:
            line = shapely.LineString([p.leaf_from[i], p.leaf_to[i]])
            L = p.length[i]
            out.append(substring(line, a / L, b / L, normalized=True) if L > 0 else line)
            continue
        L = model.network.length[src]
        if L <= 0:
            continue
        f0 = (p.off0[i] + a) / L
        f1 = (p.off0[i] + b) / L
        geom = model.network.geom[src]
        if f0 <= 0 and f1 >= 1:
            out.append(geom)
        else:
            out.append(substring(geom, max(f0, 0.0), min(f1, 1.0), normalized=True))
    return out


def _reached_lines(model: WalkModel, dist: np.ndarray, limit: float) -> list[Any]:
    p = model.pieces
    da, db = dist[p.a], dist[p.b]
    ra = np.clip(limit - da, 0, None)  # metres reachable along the piece from a
    rb = np.clip(limit - db, 0, None)
    ra = np.where(np.isfinite(da), ra, 0.0)
    rb = np.where(np.isfinite(db), rb, 0.0)
    touched = (ra > 0) | (rb > 0)
    full = touched & (ra + rb >= p.length)
    part = touched & ~full
    i_full = np.flatnonzero(full)
    lines = _piece_lines(model, i_full, np.zeros(len(i_full)), p.length[i_full])
    i_part = np.flatnonzero(part)
    lines += _piece_lines(model, i_part, np.zeros(len(i_part)), ra[i_part])
    lines += _piece_lines(model, i_part, p.length[i_part] - rb[i_part], p.length[i_part])
    return lines


def _buffer_union(lines: list[Any], buffer_m: float) -> Any:
    """Union of the lines buffered by ``buffer_m``, or None when there are none.

    Buffering each line (4 segments per circle) and then taking one cascaded union is
    ~25x faster than buffering the whole collection at once, for the same area within
    0.1 %.
    """
    if not lines:
        return None
    return shapely.union_all(shapely.buffer(np.asarray(lines, dtype=object), buffer_m, quad_segs=2))


def walksheds(
    model: WalkModel,
    *,
    minutes: float | None = None,
    speed_m_per_min: float | None = None,
    by: Literal["asset", "category"] = "asset",
    buffer_m: float = 40.0,
    verbose: bool = False,
) -> gpd.GeoDataFrame:
    """Walk-time service areas: the reached street network, buffered.

    Edges reached in full are kept whole; partly reached edges are cut at the remaining
    distance. The union is buffered by ``buffer_m``.

    Parameters
    ----------
    model
        From :func:`prepare`.
    minutes, speed_m_per_min
        Threshold and speed (defaults from settings).
    by
        ``"asset"`` (one polygon per asset) or ``"category"`` (dissolved per category).
    buffer_m
        Buffer around the reached streets (metres).
    verbose
        Show progress.

    Returns
    -------
    geopandas.GeoDataFrame
        Index ``asset_id`` (with ``category``, ``name``) or ``category``; EPSG:27700.
    """
    limit = threshold_m(minutes, speed_m_per_min)
    if by == "asset":
        items = list(zip(model.asset_ids, model.asset_nodes, strict=True))
        geoms: list[Any] = []
        for _aid, node in tqdm(items, disable=not verbose, desc="walksheds"):
            if node < 0:
                geoms.append(None)
                continue
            d = dijkstra(model.graph, directed=True, indices=int(node), limit=limit + TOLERANCE_M)
            lines = _reached_lines(model, d, limit)
            geoms.append(_buffer_union(lines, buffer_m))
        return gpd.GeoDataFrame(
            {"category": model.category.to_numpy(), "name": model.name.to_numpy()},
            geometry=geoms,
            index=model.asset_ids,
            crs=model.crs,
        )
    if by == "category":
        cats = [c for c in _categories(model, None) if (model.category == c).any()]
        geoms_c: list[Any] = []
        for cat in tqdm(cats, disable=not verbose, desc="walksheds"):
            src = np.unique(model.asset_nodes[(model.category == cat).to_numpy()])
            src = src[src >= 0]
            if len(src) == 0:
                geoms_c.append(None)
                continue
            d = dijkstra(
                model.graph, directed=True, indices=src, min_only=True, limit=limit + TOLERANCE_M
            )
            lines = _reached_lines(model, d, limit)
            geoms_c.append(_buffer_union(lines, buffer_m))
        return gpd.GeoDataFrame(
            geometry=gpd.GeoSeries(geoms_c, index=pd.Index(cats, name="category"), crs=model.crs),
            crs=model.crs,
        )
    raise NwmGeoError(f"by must be 'asset' or 'category', not {by!r}")
