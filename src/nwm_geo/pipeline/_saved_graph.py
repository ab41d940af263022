"""The walk network as the saved baseline keeps it: decoded only when its edges are used.

Decoding the pickled network is the largest part of reading the baseline, and a
scenario needs only the network's source line (``graph.graph``), which
:attr:`SavedGraph.attributes` holds on its own. The edges' geometries are kept apart, as
one array of WKB decoded in one vectorised call (pickled one by one, each geometry is a
call of its own: about 0.2 of the 0.3 CPU-s it took to decode Luton's network).
"""

from __future__ import annotations

import pickle
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # networkx loads where a graph is built or read
    import networkx as nx


__all__ = ["SavedGraph"]


class SavedGraph:
    """A walk network pickled apart, decoded once on first :meth:`graph` call.

    Parameters
    ----------
    graph
        The network to keep (left as it was).

    Attributes
    ----------
    attributes
        The network's graph attributes (source, timestamp, ``approximate``): what
        :func:`nwm_geo.network.network_label` and :func:`nwm_geo.network.is_approximate`
        read.
    """

    def __init__(self, graph: nx.MultiDiGraph) -> None:
        import shapely
        from shapely.geometry.base import BaseGeometry

        self.attributes: dict[str, Any] = dict(graph.graph)
        edges = [data for _u, _v, data in graph.edges(data=True)]
        has = np.array([isinstance(d.get("geometry"), BaseGeometry) for d in edges], dtype=bool)
        with_geometry = [d for d, h in zip(edges, has, strict=True) if h]
        geoms = [d["geometry"] for d in with_geometry]
        try:  # pickled without them (each key keeps its place), then put back
            for d in with_geometry:
                d["geometry"] = None
            self._blob = pickle.dumps(graph, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            for d, geom in zip(with_geometry, geoms, strict=True):
                d["geometry"] = geom
        self._has_geometry = has
        self._wkb = shapely.to_wkb(np.asarray(geoms, dtype=object), include_srid=True)
        self._graph: nx.MultiDiGraph | None = graph

    def graph(self) -> nx.MultiDiGraph:
        """Return the network (decoded on the first call, then the same object)."""
        if self._graph is None:
            import shapely

            G = pickle.loads(self._blob)
            geoms = iter(shapely.from_wkb(self._wkb))
            for (_u, _v, data), has in zip(G.edges(data=True), self._has_geometry, strict=True):
                if has:
                    data["geometry"] = next(geoms)
            self._graph = G
        return self._graph

    def __getstate__(self) -> dict[str, Any]:
        return {
            "attributes": self.attributes,
            "_blob": self._blob,
            "_has_geometry": self._has_geometry,
            "_wkb": self._wkb,
            "_graph": None,
        }
