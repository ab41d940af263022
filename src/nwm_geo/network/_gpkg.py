"""A walk network as a GeoPackage in osmnx's layout, built from arrays (internals).

In: a networkx ``MultiDiGraph`` with node ``x``/``y`` (and edge ``geometry`` where the
edge is not straight). Out: the ``nodes`` and ``edges`` layers that
``osmnx.save_graph_geopackage(G, directed=True)`` writes, the same columns, types and
geometries, without osmnx's per-edge conversion: the edges are read from the graph's
adjacency in one pass and the straight edges' lines are made in one vectorised call.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["graph_frames", "write_graph_layers"]


def graph_frames(G: nx.MultiDiGraph) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return the nodes and edges of ``G`` as ``osmnx.convert.graph_to_gdfs(G)`` does.

    Nodes are indexed by ``osmid``, edges by ``(u, v, key)``; the attribute columns are
    in the order they first appear, as pandas builds a table from a list of dicts. An
    edge without a ``geometry`` is the straight line between its nodes.
    """
    crs = G.graph["crs"]
    node_ids = list(G.nodes)
    node_data = [d for _, d in G.nodes(data=True)]
    x = np.fromiter((d["x"] for d in node_data), float, len(node_data))
    y = np.fromiter((d["y"] for d in node_data), float, len(node_data))
    nodes = gpd.GeoDataFrame(node_data, index=node_ids, crs=crs, geometry=shapely.points(x, y))
    nodes.index = nodes.index.rename("osmid")
    u: list[Any] = []
    v: list[Any] = []
    k: list[Any] = []
    edge_data: list[dict[str, Any]] = []
    for a, b, key, d in G.edges(keys=True, data=True):
        u.append(a)
        v.append(b)
        k.append(key)
        edge_data.append(d)
    geoms = np.empty(len(edge_data), dtype=object)
    geoms[:] = [d.get("geometry") for d in edge_data]
    missing = np.flatnonzero(pd.isna(geoms))
    if len(missing):
        pos = {n: i for i, n in enumerate(node_ids)}
        iu = np.fromiter((pos[u[i]] for i in missing), np.intp, len(missing))
        iv = np.fromiter((pos[v[i]] for i in missing), np.intp, len(missing))
        ends = np.stack([np.column_stack([x[iu], y[iu]]), np.column_stack([x[iv], y[iv]])], 1)
        geoms[missing] = shapely.linestrings(ends)
    edges = gpd.GeoDataFrame(edge_data, crs=crs, geometry=geoms)
    edges.index = pd.MultiIndex.from_arrays([u, v, k], names=["u", "v", "key"])
    return nodes, edges


def _stringify(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Every non-numeric column but the geometry as text ("" for missing), as osmnx does."""
    for col in [c for c in frame.columns if c != "geometry"]:
        if not pd.api.types.is_numeric_dtype(frame[col]):
            frame[col] = frame[col].fillna("").astype(str)
    return frame


def write_graph_layers(G: nx.MultiDiGraph, path: Path) -> None:
    """Write the ``nodes`` and ``edges`` layers of ``G`` into the GeoPackage ``path``."""
    nodes, edges = graph_frames(G)
    for layer, frame in (("nodes", nodes), ("edges", edges)):
        _stringify(frame).to_file(path, layer=layer, driver="GPKG", index=True, encoding="utf-8")
