"""The routing engine's network: a walk graph as flat arrays (one row per undirected edge).

In: an osmnx-layout graph (nodes with ``x``/``y``, edges with ``length``).
Out: :class:`NetworkArrays` and its symmetric CSR adjacency matrix, which every
shortest-path run in :mod:`nwm_geo.coverage` uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
import shapely

from nwm_geo import settings
from nwm_geo._errors import NetworkError

if TYPE_CHECKING:  # networkx loads where a graph is built or read
    import networkx as nx

__all__ = ["NetworkArrays"]


@dataclass(frozen=True)
class _WkbGeometries:
    """Geometries held as WKB while :class:`NetworkArrays` is pickled."""

    wkb: np.ndarray


@dataclass
class NetworkArrays:
    """A walk network as flat arrays: one row per undirected edge.

    Build it with :meth:`from_graph`. Twin edges (u→v and v→u of the same length, as in
    osmnx's bidirectional walk networks) are stored once.

    Attributes
    ----------
    node_ids
        Graph node ids; position ``i`` is model node ``i``.
    xy
        Node coordinates, shape (n, 2).
    eu, ev
        Edge end positions (into ``node_ids``).
    ekey
        The edge's osmnx key.
    length
        Edge length in metres (the graph's ``length``).
    geom
        Edge geometry oriented u→v (straight if the graph has none).
    crs
        The graph's CRS.
    label
        :func:`nwm_geo.network.network_label` of the graph.
    """

    node_ids: np.ndarray
    xy: np.ndarray
    eu: np.ndarray
    ev: np.ndarray
    ekey: np.ndarray
    length: np.ndarray
    geom: np.ndarray
    crs: Any = settings.crs
    label: str = "network: unknown"
    _node_pos: dict[Any, int] | None = field(default=None, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        # the edge geometries as WKB in one vectorised pass (a saved baseline pickles the
        # network): the very bytes each geometry's own pickle holds, without a Python
        # call per edge
        state = dict(self.__dict__)
        state["geom"] = _WkbGeometries(shapely.to_wkb(self.geom, include_srid=True))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        geom = state.get("geom")
        if isinstance(geom, _WkbGeometries):
            state = {**state, "geom": shapely.from_wkb(geom.wkb)}
        self.__dict__.update(state)

    @property
    def node_pos(self) -> dict[Any, int]:
        """Map graph node id → position."""
        if self._node_pos is None:
            self._node_pos = {n: i for i, n in enumerate(self.node_ids.tolist())}
        return self._node_pos

    @classmethod
    def from_graph(cls, G: nx.MultiDiGraph) -> NetworkArrays:
        """Convert an osmnx-layout graph (nodes with x, y; edges with length)."""
        from nwm_geo.network import network_label

        if G.number_of_nodes() == 0:
            raise NetworkError("The walk network has no nodes.")
        node_ids = np.array(list(G.nodes), dtype=object)
        pos = {n: i for i, n in enumerate(node_ids.tolist())}
        try:
            xy = np.array([(d["x"], d["y"]) for _, d in G.nodes(data=True)], dtype=float)
        except KeyError as exc:
            raise NetworkError("Every network node needs 'x' and 'y' coordinates.") from exc
        us, vs, keys, lens, geoms = [], [], [], [], []
        seen: set[tuple[int, int, float]] = set()
        for u, v, k, d in G.edges(keys=True, data=True):
            if "length" not in d:
                raise NetworkError(f"Edge ({u}, {v}, {k}) has no 'length'.")
            a, b = pos[u], pos[v]
            length = float(d["length"])
            twin = (min(a, b), max(a, b), round(length, 3))
            if twin in seen:
                continue
            seen.add(twin)
            us.append(a)
            vs.append(b)
            keys.append(k)
            lens.append(length)
            geoms.append(d.get("geometry"))
        eu = np.array(us, dtype=np.int64)
        ev = np.array(vs, dtype=np.int64)
        geom = np.array(geoms, dtype=object)
        missing = np.array([g is None for g in geoms], dtype=bool)
        if missing.any():
            geom[missing] = shapely.linestrings(
                np.stack([xy[eu[missing]], xy[ev[missing]]], axis=1)
            )
        return cls(
            node_ids=node_ids,
            xy=xy,
            eu=eu,
            ev=ev,
            ekey=np.array(keys, dtype=object),
            length=np.array(lens, dtype=float),
            geom=geom,
            crs=G.graph.get("crs", settings.crs),
            label=network_label(G),
            _node_pos=pos,
        )

    def csr(self) -> sp.csr_matrix:
        """Return the symmetric CSR adjacency matrix (shortest parallel edge kept)."""
        return symmetric_csr(self.eu, self.ev, self.length, len(self.node_ids))


def graph_arrays(G: nx.MultiDiGraph | NetworkArrays) -> NetworkArrays:
    """Return ``G`` as :class:`NetworkArrays` (converted once if it is a graph)."""
    return G if isinstance(G, NetworkArrays) else NetworkArrays.from_graph(G)


def symmetric_csr(a: np.ndarray, b: np.ndarray, w: np.ndarray, n: int) -> sp.csr_matrix:
    """Return the symmetric CSR matrix of edges ``a``–``b`` (shortest parallel edge kept).

    Built directly in CSR form (rows sorted, columns sorted within a row, no duplicate
    entries) with int32 indices when they fit, so that :func:`scipy.sparse.csgraph.dijkstra`
    uses it as is, without a conversion or a copy per run.
    """
    keep = a != b
    a, b, w = a[keep], b[keep], np.asarray(w[keep], dtype=float)
    rows = np.concatenate([a, b])
    cols = np.concatenate([b, a])
    ws = np.concatenate([w, w])
    del a, b, w, keep
    # sort by (row, col, length): the first entry of each (row, col) is the shortest edge
    order = np.lexsort((ws, cols, rows))
    rows, cols, ws = rows[order], cols[order], ws[order]
    del order
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    rows, cols, ws = rows[first], cols[first], ws[first]
    itype = np.int32 if max(n, len(cols)) < np.iinfo(np.int32).max else np.int64
    indptr = np.zeros(n + 1, dtype=itype)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    m = sp.csr_matrix((ws, cols.astype(itype), indptr), shape=(n, n))
    m.has_sorted_indices = True
    return m
