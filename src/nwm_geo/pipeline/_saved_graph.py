"""The walk network as the saved baseline keeps it: decoded only when its edges are used.

Decoding the pickled network (about 0.15 CPU-s on Luton: every edge's geometry) is the
largest part of reading the baseline, and a scenario needs only the network's source line
(``graph.graph``), which :attr:`SavedGraph.attributes` holds on its own.
"""

from __future__ import annotations

import pickle
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # networkx loads where a graph is built or read
    import networkx as nx


__all__ = ["SavedGraph"]


class SavedGraph:
    """A walk network pickled apart, decoded once on first :meth:`graph` call.

    Parameters
    ----------
    graph
        The network to keep.

    Attributes
    ----------
    attributes
        The network's graph attributes (source, timestamp, ``approximate``): what
        :func:`nwm_geo.network.network_label` and :func:`nwm_geo.network.is_approximate`
        read.
    """

    def __init__(self, graph: nx.MultiDiGraph) -> None:
        self.attributes: dict[str, Any] = dict(graph.graph)
        self._blob = pickle.dumps(graph, protocol=pickle.HIGHEST_PROTOCOL)
        self._graph: nx.MultiDiGraph | None = graph

    def graph(self) -> nx.MultiDiGraph:
        """Return the network (decoded on the first call, then the same object)."""
        if self._graph is None:
            self._graph = pickle.loads(self._blob)
        return self._graph

    def __getstate__(self) -> dict[str, Any]:
        return {"attributes": self.attributes, "_blob": self._blob, "_graph": None}
