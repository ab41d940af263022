"""The walk model: a network with every demand point and asset inserted exactly.

In: a walk network, demand points (with ``population``) and assets (with
``category``), all in EPSG:27700.
Out: :class:`WalkModel` (:func:`prepare`): the CSR graph with the points' edges split
at their projection points and leaf edges to the points, and each point's node.
:func:`insert_points` does the same for bare coordinates (for calibrations).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from nwm_geo._checks import checks_crs
from nwm_geo._display import Display
from nwm_geo._errors import NwmGeoError
from nwm_geo.coverage._network import NetworkArrays, graph_arrays, symmetric_csr
from nwm_geo.coverage._snap import Snaps, points_xy, snap_xy, snaps_frame

if TYPE_CHECKING:  # networkx loads where a graph is built or read
    import networkx as nx

__all__ = ["InsertedPoints", "WalkModel", "insert_points", "prepare"]


@dataclass
class _Pieces:
    """Every edge of the model graph, with where its geometry comes from."""

    a: np.ndarray
    b: np.ndarray
    length: np.ndarray
    src: np.ndarray  # network edge row, or -1 for a leaf
    off0: np.ndarray  # offsets along the source edge (length units) of a and b
    off1: np.ndarray
    leaf_from: np.ndarray  # leaf geometry: start and end coordinates (NaN for non-leaves)
    leaf_to: np.ndarray


def _insert_points(arr: NetworkArrays, s: Snaps) -> tuple[_Pieces, np.ndarray, int]:
    """Split edges at the snapped points and add leaf legs; return pieces, point nodes, n."""
    n0 = len(arr.node_ids)
    k = len(s.edge)
    point_node = np.full(k, -1, dtype=np.int64)
    ok = np.flatnonzero(s.edge >= 0)
    e = s.edge[ok]
    L = arr.length[e]
    off = np.clip(s.offset[ok], 0.0, L)
    at_u = off <= 0.0
    at_v = (off >= L) & ~at_u
    interior = ~(at_u | at_v)
    attach = np.empty(len(ok), dtype=np.int64)
    attach[at_u] = arr.eu[e[at_u]]
    attach[at_v] = arr.ev[e[at_v]]

    # unique interior (edge, offset) -> new node ids, in edge/offset order
    ie, io = e[interior], off[interior]
    order = np.lexsort((io, ie))
    se, so = ie[order], io[order]
    start = np.ones(len(se), dtype=bool)
    start[1:] = (se[1:] != se[:-1]) | (so[1:] != so[:-1])
    group = np.cumsum(start) - 1
    inv = np.empty(len(se), dtype=np.int64)
    inv[order] = group
    ue, uo = se[start].astype(np.int64), so[start].astype(float)
    m = len(ue)
    new_ids = n0 + np.arange(m)
    attach[interior] = new_ids[inv]

    first = np.ones(m, dtype=bool)
    first[1:] = ue[1:] != ue[:-1]
    last = np.ones(m, dtype=bool)
    last[:-1] = ue[1:] != ue[:-1]
    prev_node = np.where(first, arr.eu[ue], np.r_[-1, new_ids[:-1]])
    prev_off = np.where(first, 0.0, np.r_[0.0, uo[:-1]])
    split = np.zeros(len(arr.length), dtype=bool)
    split[ue] = True

    # leaves
    sm = s.snap_m[ok]
    has_leaf = sm > 0
    n_leaf = int(has_leaf.sum())
    leaf_ids = n0 + m + np.arange(n_leaf)
    point_node[ok] = attach
    point_node[ok[has_leaf]] = leaf_ids

    keep = np.flatnonzero(~split)
    nan2 = np.full((1, 2), np.nan)
    pieces = _Pieces(
        a=np.concatenate([arr.eu[keep], prev_node, new_ids[last], attach[has_leaf]]),
        b=np.concatenate([arr.ev[keep], new_ids, arr.ev[ue[last]], leaf_ids]),
        length=np.concatenate(
            [arr.length[keep], uo - prev_off, arr.length[ue[last]] - uo[last], sm[has_leaf]]
        ),
        src=np.concatenate([keep, ue, ue[last], np.full(n_leaf, -1, dtype=np.int64)]),
        off0=np.concatenate([np.zeros(len(keep)), prev_off, uo[last], np.zeros(n_leaf)]),
        off1=np.concatenate([arr.length[keep], uo, arr.length[ue[last]], np.zeros(n_leaf)]),
        leaf_from=np.concatenate(
            [np.repeat(nan2, len(keep) + m + int(last.sum()), axis=0), s.proj_xy[ok[has_leaf]]]
        ),
        leaf_to=np.concatenate(
            [np.repeat(nan2, len(keep) + m + int(last.sum()), axis=0), s.xy[ok[has_leaf]]]
        ),
    )
    return pieces, point_node, n0 + m + n_leaf


@dataclass(frozen=True)
class InsertedPoints:
    """A walk network's CSR graph with points inserted, and each point's node.

    Attributes
    ----------
    graph
        Symmetric CSR matrix of edge lengths (metres): network nodes first (in
        :class:`~nwm_geo.coverage.NetworkArrays` order), then split nodes, then leaves.
    point_nodes
        The graph node of each point (-1 if it was not snapped).
    """

    graph: sp.csr_matrix
    point_nodes: np.ndarray


def insert_points(G: nx.MultiDiGraph | NetworkArrays, snaps: Snaps) -> InsertedPoints:
    """Insert snapped points into the network exactly, for shortest-path runs.

    Each snapped point's edge is split at its projection point and a leaf edge of
    length ``snap_m`` leads to the point (no leaf when the point is on the edge), so
    distances between points are exact network distances. This is what
    :func:`prepare` does for demand points and assets; a calibration can call it on
    bare coordinates::

        arr = NetworkArrays.from_graph(G)
        ins = insert_points(arr, snap_xy(arr, xy))
        dijkstra(ins.graph, indices=ins.point_nodes[origins])

    Parameters
    ----------
    G
        The walk network, or its :class:`~nwm_geo.coverage.NetworkArrays` (pass the
        arrays the snaps were computed on).
    snaps
        :func:`~nwm_geo.coverage.snap_xy` of the points on the same network.

    Returns
    -------
    InsertedPoints
    """
    arr = graph_arrays(G)
    pieces, point_node, n = _insert_points(arr, snaps)
    return InsertedPoints(symmetric_csr(pieces.a, pieces.b, pieces.length, n), point_node)


@dataclass(repr=False)
class WalkModel(Display):
    """A walk network with every demand point and asset inserted exactly.

    Attributes
    ----------
    graph
        Symmetric CSR matrix of edge lengths (metres) over network, split and leaf nodes.
    network
        The network as arrays (node coordinates, edges, geometries).
    point_ids, point_nodes, population
        Demand points (index of ``demand``), their model node (-1 if not snapped) and
        population.
    asset_ids, asset_nodes, category, name
        Assets (index of ``assets``), their model node, category and name.
    point_snaps, asset_snaps
        :func:`snap` results for the points and assets.
    label
        The network label every output prints.
    """

    graph: sp.csr_matrix
    network: NetworkArrays
    pieces: _Pieces
    node_xy: np.ndarray
    point_ids: pd.Index
    point_nodes: np.ndarray
    population: np.ndarray
    asset_ids: pd.Index
    asset_nodes: np.ndarray
    category: pd.Series
    name: pd.Series
    point_snaps: pd.DataFrame
    asset_snaps: pd.DataFrame
    label: str

    @property
    def crs(self) -> Any:
        """The model's CRS."""
        return self.network.crs


def population_weights(demand: pd.DataFrame) -> np.ndarray:
    """Return ``demand["population"]`` as floats, refusing values that are not counts.

    Raises
    ------
    NwmGeoError
        Naming (up to ten of) the points whose population is missing, not numeric, not
        finite or negative.
    """
    raw = demand["population"]
    num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(num) | (num < 0)
    if bad.any():
        shown = ", ".join(
            f"{pid!r} ({val!r})"
            for pid, val in zip(demand.index[bad][:10], raw.to_numpy()[bad][:10], strict=True)
        )
        more = " ..." if bad.sum() > 10 else ""
        raise NwmGeoError(
            f"population must be a finite number >= 0; {int(bad.sum())} point(s) have a "
            f"missing, non-numeric, infinite or negative value: {shown}{more}"
        )
    return num


@checks_crs
def prepare(
    G: nx.MultiDiGraph | NetworkArrays,
    *,
    demand: gpd.GeoDataFrame,
    assets: gpd.GeoDataFrame,
    max_snap_m: float | None = None,
    verbose: bool = False,
) -> WalkModel:
    """Insert demand points and assets into the walk network.

    Each point is snapped to its nearest edge (:func:`snap`); the edge is split at the
    projection point and a leaf edge of length ``snap_m`` leads to the point, so every
    later distance is an exact network distance (points on the same edge included).

    Parameters
    ----------
    G
        The walk network (EPSG:27700, edges with ``length``).
    demand
        Demand points, indexed by ``point_id``, with ``population``.
    assets
        Assets, indexed by ``asset_id``, with ``category`` (and ``name`` if available).
    max_snap_m
        Leave points farther than this from the network unsnapped (their times are NaN).
    verbose
        Print progress.

    Returns
    -------
    WalkModel
        The prepared model.

    Raises
    ------
    NwmGeoError
        If ``population`` or ``category`` is missing, a population is missing, not
        numeric, not finite or negative, or an index has duplicates.

    Examples
    --------
    >>> from nwm_geo import coverage, data, network
    >>> ex = data.synthetic_example()
    >>> G = network.approximate_graph(ex.points)
    >>> model = coverage.prepare(G, demand=ex.points, assets=ex.sites)
    >>> list(model.asset_ids)
    ['A1', 'A2']
    """
    problems = []
    if "population" not in demand.columns:
        problems.append("demand has no 'population' column")
    if "category" not in assets.columns:
        problems.append("assets have no 'category' column")
    if not demand.index.is_unique:
        problems.append("demand index (point_id) has duplicates")
    if not assets.index.is_unique:
        problems.append("assets index (asset_id) has duplicates")
    if problems:
        raise NwmGeoError("Cannot prepare the walk model: " + "; ".join(problems))
    pop = population_weights(demand)
    arr = graph_arrays(G)
    if verbose:
        print(f"Snapping {len(demand):,} demand points and {len(assets):,} assets ...")
    xy = np.vstack([points_xy(demand, arr.crs), points_xy(assets, arr.crs)])
    s = snap_xy(arr, xy, max_snap_m=max_snap_m)
    pieces, nodes, n = _insert_points(arr, s)
    graph = symmetric_csr(pieces.a, pieces.b, pieces.length, n)
    # coordinates of model nodes: network nodes, split nodes, leaves
    node_xy = np.full((n, 2), np.nan)
    node_xy[: len(arr.xy)] = arr.xy
    ok = s.edge >= 0
    snapped_nodes = nodes[ok]
    node_xy[snapped_nodes] = xy[ok]
    inner = pieces.src >= 0
    # split nodes sit at the projection point: a leaf's 'a' is its attachment node
    leaf = ~inner
    node_xy[pieces.a[leaf]] = pieces.leaf_from[leaf]
    nd = len(demand)
    names = assets["name"] if "name" in assets.columns else pd.Series("", index=assets.index)
    return WalkModel(
        graph=graph,
        network=arr,
        pieces=pieces,
        node_xy=node_xy,
        point_ids=demand.index,
        point_nodes=nodes[:nd],
        population=pop,
        asset_ids=assets.index,
        asset_nodes=nodes[nd:],
        category=assets["category"].astype(str),
        name=names.astype(str),
        point_snaps=snaps_frame(arr, s.subset(slice(0, nd)), demand.index),
        asset_snaps=snaps_frame(arr, s.subset(slice(nd, None)), assets.index),
        label=arr.label,
    )
