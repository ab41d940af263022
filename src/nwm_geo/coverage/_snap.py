"""Snapping points to the nearest edge of a walk network, exactly, in numpy.

In: :class:`~nwm_geo.coverage.NetworkArrays` (or a graph) and point coordinates.
Out: :class:`Snaps` (edge row, offset along it, straight distance, projection point)
and the :func:`snap` table on the points' index.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from nwm_geo import settings
from nwm_geo._checks import checks_crs
from nwm_geo._errors import NwmGeoError
from nwm_geo.coverage._network import NetworkArrays, graph_arrays

if TYPE_CHECKING:  # networkx loads where a graph is built or read
    import networkx as nx

__all__ = ["Snaps", "reuse_snap_index", "snap", "snap_xy"]


@dataclass(frozen=True)
class Snaps:
    """Where points meet a :class:`~nwm_geo.coverage.NetworkArrays`: one row per point.

    Attributes
    ----------
    edge
        Edge row (into the arrays) each point snaps to; -1 if not snapped.
    offset
        Distance along the edge from its ``u`` end, in network length units (metres).
    snap_m
        Straight distance from the point to the edge (NaN if not snapped).
    proj_xy
        The projection point on the edge, shape (n, 2).
    xy
        The points, shape (n, 2).
    """

    edge: np.ndarray
    offset: np.ndarray
    snap_m: np.ndarray
    proj_xy: np.ndarray
    xy: np.ndarray

    def subset(self, sl: slice) -> Snaps:
        """Return the snaps of the points in ``sl``."""
        return Snaps(self.edge[sl], self.offset[sl], self.snap_m[sl], self.proj_xy[sl], self.xy[sl])


def points_xy(points: gpd.GeoDataFrame | gpd.GeoSeries, crs: Any) -> np.ndarray:
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    if geoms.crs is not None and crs is not None and not geoms.crs.equals(crs):
        geoms = geoms.to_crs(crs)
    arr = geoms.to_numpy()
    bad = shapely.is_missing(arr) | shapely.is_empty(arr)
    if bad.any():
        raise NwmGeoError(f"{int(bad.sum())} point(s) have no geometry; drop them first.")
    if (shapely.get_type_id(arr) == 0).all():  # all Points
        return np.asarray(shapely.get_coordinates(arr), dtype=float)
    return np.asarray(shapely.get_coordinates(shapely.centroid(arr)), dtype=float)


def _pack(x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> np.ndarray:
    """Return x0, y0, x1, y1, dx, dy and dx² + dy², one row per segment."""
    pack = np.empty((len(x0), 7))
    pack[:, 0], pack[:, 1], pack[:, 2], pack[:, 3] = x0, y0, x1, y1
    np.subtract(pack[:, 2], pack[:, 0], out=pack[:, 4])
    np.subtract(pack[:, 3], pack[:, 1], out=pack[:, 5])
    pack[:, 6] = pack[:, 4] * pack[:, 4] + pack[:, 5] * pack[:, 5]
    return pack


@dataclass
class _Segments:
    """Edge geometries exploded to straight segments, for exact vectorised snapping.

    ``pack`` holds, one row per segment, x0, y0, x1, y1, dx, dy and dx² + dy²: one fancy
    index of it gathers every candidate's coordinates at once (instead of one gather
    per array); ``x0`` ... ``y1`` are views of its columns.
    """

    pack: np.ndarray
    edge: np.ndarray  # edge row of each segment (segments are in edge, then vertex, order)
    along0: np.ndarray  # geometric length along the edge's geometry to the segment start
    seglen: np.ndarray  # segment length
    glen: np.ndarray  # geometric length of each edge's geometry (per edge row)

    @property
    def x0(self) -> np.ndarray:
        return self.pack[:, 0]

    @property
    def y0(self) -> np.ndarray:
        return self.pack[:, 1]

    @property
    def x1(self) -> np.ndarray:
        return self.pack[:, 2]

    @property
    def y1(self) -> np.ndarray:
        return self.pack[:, 3]


def _segments(arr: NetworkArrays) -> _Segments:
    """Explode ``arr.geom`` into straight segments, in edge order then vertex order."""
    n_edges = len(arr.geom)
    straight = False
    if (shapely.get_type_id(arr.geom) == 1).all():  # all LineStrings: no parts to split
        parts, part_edge = arr.geom, np.arange(n_edges)
        straight = bool((shapely.get_num_coordinates(parts) == 2).all())
    else:
        parts, part_edge = shapely.get_parts(arr.geom, return_index=True)
    if straight:
        # every edge a single straight segment (a grid, an approximate network)
        c = shapely.get_coordinates(parts).reshape(n_edges, 4)
        pack = _pack(c[:, 0], c[:, 1], c[:, 2], c[:, 3])
        del c
        seglen = np.sqrt(pack[:, 6])
        return _Segments(
            pack=pack, edge=np.arange(n_edges, dtype=np.int64), along0=np.zeros(n_edges),
            seglen=seglen, glen=seglen.copy(),
        )  # fmt: skip
    coords, cpart = shapely.get_coordinates(parts, return_index=True)
    same = cpart[1:] == cpart[:-1]  # consecutive vertices of one part form a segment
    i0 = np.flatnonzero(same)
    x0, y0 = coords[i0, 0], coords[i0, 1]
    x1, y1 = coords[i0 + 1, 0], coords[i0 + 1, 1]
    edge = part_edge[cpart[i0]].astype(np.int64)
    dx, dy = x1 - x0, y1 - y0
    seglen = np.sqrt(dx * dx + dy * dy)
    # length along the edge to each segment's start, summed in vertex order as GEOS does
    along0 = np.zeros(len(i0))
    if len(i0):
        first = np.ones(len(i0), dtype=bool)
        first[1:] = edge[1:] != edge[:-1]
        starts = np.flatnonzero(first)
        rank = np.arange(len(i0)) - starts[np.cumsum(first) - 1]
        order = np.argsort(rank, kind="stable")
        bounds = np.searchsorted(rank[order], np.arange(1, int(rank.max()) + 2))
        for r in range(1, int(rank.max()) + 1):
            j = order[bounds[r - 1] : bounds[r]]
            along0[j] = along0[j - 1] + seglen[j - 1]
    glen = np.zeros(n_edges)
    if len(i0):
        last = np.ones(len(i0), dtype=bool)
        last[:-1] = edge[1:] != edge[:-1]
        glen[edge[last]] = along0[last] + seglen[last]
    pack = _pack(x0, y0, x1, y1)
    return _Segments(pack=pack, edge=edge, along0=along0, seglen=seglen, glen=glen)


def _rank_d2(pack: np.ndarray, j: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Squared distance from points to the clamped projection on segments ``j``.

    For ranking candidates: cheaper than the exact distance, and equal for every segment
    ending at the same vertex (at an end vertex the vertex itself is used), so edges
    meeting there tie exactly. ``pack`` is :attr:`_Segments.pack`; works in place on
    one gathered block to keep the temporaries few.
    """
    g = pack[j]  # (..., 7): x0, y0, x1, y1, dx, dy, len2
    x0, y0, x1, y1, dx, dy, len2 = (g[..., c] for c in range(7))
    ax = px - x0
    ay = py - y0
    degenerate = len2 <= 0
    t = ax * dx
    t += ay * dy
    t /= np.where(degenerate, 1.0, len2)
    t[degenerate] = 0.0
    np.clip(t, 0.0, 1.0, out=t)
    end = t >= 1
    ex: np.ndarray = np.where(end, px - x1, ax - t * dx)
    ey: np.ndarray = np.where(end, py - y1, ay - t * dy)
    ex *= ex
    ey *= ey
    ex += ey
    return ex


def _point_segment(
    seg: _Segments, j: np.ndarray, px: np.ndarray, py: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distance from points to segments ``j`` and the projection fraction along them.

    The distance is the one GEOS ``Distance::pointToSegment`` computes (what shapely's
    ``distance`` and ``STRtree.query_nearest`` return), so ``snap_m`` agrees with shapely
    to rounding (bit for bit on the Rutland network).
    """
    x0, y0 = seg.x0[j], seg.y0[j]
    dx, dy = seg.x1[j] - x0, seg.y1[j] - y0
    len2 = dx * dx + dy * dy
    ax, ay = px - x0, py - y0
    degenerate = len2 <= 0
    r = (ax * dx + ay * dy) / np.where(degenerate, 1.0, len2)
    r[degenerate] = 0.0
    t = np.clip(r, 0.0, 1.0)
    bx, by = px - seg.x1[j], py - seg.y1[j]
    d_a = np.sqrt(ax * ax + ay * ay)
    d_b = np.sqrt(bx * bx + by * by)
    d_in = np.abs((-ay * dx + ax * dy) / np.where(degenerate, 1.0, len2)) * np.sqrt(len2)
    return np.where(r <= 0, d_a, np.where(r >= 1, d_b, d_in)), t


@dataclass(frozen=True)
class _Index:
    """What :func:`snap_xy` searches: the segments and a k-d tree of their pieces' midpoints.

    ``piece_seg`` is the segment of each piece, ``h`` half the longest piece (with slack).
    """

    seg: _Segments
    piece_seg: np.ndarray
    h: float
    tree: Any


def _build_index(arr: NetworkArrays) -> _Index | None:
    """Return the search index of ``arr`` (None for a network without segments)."""
    from scipy.spatial import cKDTree

    seg = _segments(arr)
    n_seg = len(seg.edge)
    if n_seg == 0:
        return None
    seglen = seg.seglen
    cap = max(float(np.quantile(seglen, 0.9)), 1e-3)
    n_pc = np.maximum(1, np.ceil(seglen / cap)).astype(np.int64)
    piece_seg = np.repeat(np.arange(n_seg), n_pc)
    first_pc = np.cumsum(n_pc) - n_pc
    pf = (np.arange(len(piece_seg)) - first_pc[piece_seg] + 0.5) / n_pc[piece_seg]
    mids = np.column_stack(
        [
            seg.x0[piece_seg] + pf * (seg.x1 - seg.x0)[piece_seg],
            seg.y0[piece_seg] + pf * (seg.y1 - seg.y0)[piece_seg],
        ]
    )
    h = float(np.max(seglen / n_pc / 2)) + 1e-6  # half the longest piece, with slack
    tree = cKDTree(mids, balanced_tree=False, compact_nodes=False)
    return _Index(seg=seg, piece_seg=piece_seg, h=h, tree=tree)


#: Inside :func:`reuse_snap_index`: ``[arrays, index]`` of the last network snapped to.
_REUSED: ContextVar[list[Any] | None] = ContextVar("nwm_geo_snap_index", default=None)


@contextmanager
def reuse_snap_index() -> Iterator[None]:
    """Within the block, :func:`snap_xy` builds a network's search index once, not per call.

    For callers that snap one point at a time to the same network, many times (a new
    site at a time, :func:`~nwm_geo.coverage.with_sites`): the index (the network's
    segments and a k-d tree) is kept until the block ends, for the last network snapped
    to. The snaps are the same as without it.
    """
    token = _REUSED.set([])
    try:
        yield
    finally:
        _REUSED.reset(token)


def _index(arr: NetworkArrays) -> _Index | None:
    """Return the search index of ``arr``: built, or kept from the last call in the block."""
    kept = _REUSED.get()
    if kept is not None and kept and kept[0] is arr:
        found: _Index | None = kept[1]
        return found
    index = _build_index(arr)
    if kept is not None:
        kept[:] = [arr, index]
    return index


def snap_xy(
    G: nx.MultiDiGraph | NetworkArrays,
    xy: np.ndarray,
    *,
    max_snap_m: float | None = None,
    k0: int = 8,
) -> Snaps:
    """Snap coordinates to their nearest edge geometry, exactly, in numpy.

    The array form of :func:`snap`, for callers (such as a network calibration) that
    need the edge rows and projection points, e.g. to pass to
    :func:`~nwm_geo.coverage.insert_points`.

    Parameters
    ----------
    G
        The walk network, or its :class:`~nwm_geo.coverage.NetworkArrays`.
    xy
        Point coordinates, shape (n, 2), in the network's CRS.
    max_snap_m
        Leave points farther than this from every edge unsnapped (``edge`` -1).
    k0
        Neighbours asked of the spatial index on the first pass (a speed knob only).

    Returns
    -------
    Snaps
        One row per point.

    Notes
    -----
    Edge geometries are exploded to straight segments. For the index only, segments
    longer than the 90th-percentile segment are cut into equal pieces no longer than it,
    and a :class:`scipy.spatial.cKDTree` holds the piece midpoints. A segment is never
    nearer to a point than its nearest piece midpoint minus half that piece (at most
    ``h``), so once the k-th nearest midpoint lies farther than ``best + h``, every
    segment that could be as near as the best one has been seen. Points where that fails
    are queried again with four times as many neighbours, until it holds.

    Distances are those of shapely/GEOS (``Distance::pointToSegment``) and offsets those
    of ``line_locate_point``. Exact ties (e.g. a point on a node shared by several edges)
    go to the lowest edge row, and within an edge to the first segment along it.
    """
    arr = graph_arrays(G)
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    n = len(xy)
    edge = np.full(n, -1, dtype=np.int64)
    snap_m = np.full(n, np.nan)
    offset = np.full(n, np.nan)
    proj_xy = np.full((n, 2), np.nan)
    index = _index(arr) if n else None
    if index is None:  # no points, or a network without segments
        return Snaps(edge=edge, offset=offset, snap_m=snap_m, proj_xy=proj_xy, xy=xy)
    seg, piece_seg, h, tree = index.seg, index.piece_seg, index.h, index.tree
    n_seg = len(seg.edge)
    n_pieces = len(piece_seg)
    pack = seg.pack
    bound = np.inf if max_snap_m is None else float(max_snap_m) + h

    best_seg = np.full(n, -1, dtype=np.int64)
    todo = np.arange(n)
    k = min(k0, n_pieces)
    while len(todo):
        step = max(1, (1 << 20) // k)  # at most ~1M candidate pairs in memory at once
        again = []
        for start in range(0, len(todo), step):
            pts = todo[start : start + step]
            kd, ki = tree.query(xy[pts], k=k, distance_upper_bound=bound, workers=-1)
            kd, ki = kd.reshape(len(pts), k), ki.reshape(len(pts), k)
            valid = ki < n_pieces
            cand = np.where(valid, piece_seg[np.where(valid, ki, 0)], n_seg)
            d2 = _rank_d2(pack, np.where(valid, cand, 0), xy[pts, 0][:, None], xy[pts, 1][:, None])
            d2[~valid] = np.inf
            dmin = d2.min(axis=1)
            # nearest segment; exact ties go to the lowest segment row
            pick = np.where(d2 == dmin[:, None], cand, n_seg).min(axis=1)
            found = pick < n_seg
            best_seg[pts[found]] = pick[found]
            # resolved: no unseen piece midpoint within best + h (or none left to see)
            kth = kd[:, -1]
            done = ~np.isfinite(kth) | (kth > np.sqrt(dmin) + h) | (k >= n_pieces)
            again.append(pts[~done])
        todo = np.concatenate(again)
        k = min(4 * k, n_pieces)
    del tree, piece_seg, index  # kept only inside reuse_snap_index()

    found = np.flatnonzero(best_seg >= 0)
    dist, frac = _point_segment(seg, best_seg[found], xy[found, 0], xy[found, 1])
    if max_snap_m is not None:
        keep = dist <= max_snap_m
        found, dist, frac = found[keep], dist[keep], frac[keep]
    j = best_seg[found]
    e = seg.edge[j]
    edge[found] = e
    snap_m[found] = dist
    along = seg.along0[j] + frac * seg.seglen[j]
    glen = seg.glen[e]
    f = np.where(glen > 0, along / np.where(glen > 0, glen, 1), 0.0)
    offset[found] = np.clip(f, 0.0, 1.0) * arr.length[e]
    proj_xy[found, 0] = seg.x0[j] + frac * (seg.x1[j] - seg.x0[j])
    proj_xy[found, 1] = seg.y0[j] + frac * (seg.y1[j] - seg.y0[j])
    return Snaps(edge=edge, offset=offset, snap_m=snap_m, proj_xy=proj_xy, xy=xy)


@checks_crs
def snap(
    G: nx.MultiDiGraph | NetworkArrays,
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    max_snap_m: float | None = None,
) -> pd.DataFrame:
    """Snap points to the nearest edge of the walk network.

    Parameters
    ----------
    G
        The walk network.
    points
        Point geometries (EPSG:27700, other CRSs are converted).
    max_snap_m
        Points farther than this from every edge are left unsnapped (NA edge).

    Returns
    -------
    pandas.DataFrame
        On ``points.index``: ``u``, ``v``, ``key`` (the edge), ``offset_m`` (metres along
        the edge from ``u``), ``snap_m`` (straight distance from the point to the edge) and
        ``flagged`` (``snap_m > settings.snap_flag_m``, or not snapped).

    Notes
    -----
    ``snap_m`` equals shapely's ``distance`` from the point to the edge geometry. When
    several edges are exactly as near (a point on a node, say) the first edge of the
    network (in :class:`NetworkArrays` row order) is chosen.
    """
    arr = graph_arrays(G)
    s = snap_xy(arr, points_xy(points, arr.crs), max_snap_m=max_snap_m)
    return snaps_frame(arr, s, points.index)


def snaps_frame(arr: NetworkArrays, s: Snaps, index: pd.Index) -> pd.DataFrame:
    ok = s.edge >= 0
    e = np.where(ok, s.edge, 0)
    u = pd.Series(arr.node_ids[arr.eu[e]], index=index, dtype=object).where(ok)
    v = pd.Series(arr.node_ids[arr.ev[e]], index=index, dtype=object).where(ok)
    key = pd.Series(arr.ekey[e], index=index, dtype=object).where(ok)
    out = pd.DataFrame(
        {"u": u, "v": v, "key": key, "offset_m": s.offset, "snap_m": s.snap_m}, index=index
    )
    out["flagged"] = ~ok | (np.nan_to_num(s.snap_m, nan=np.inf) > settings.snap_flag_m)
    return out
