"""Walk networks from OpenStreetMap files (internals).

In: an OSM file (``.osm``, ``.osm.bz2``, ``.osm.pbf``) and an optional area. Out: the
walk network osmnx builds from the file's walkable ways (:func:`graph_from_osm_file`),
projected to EPSG:27700.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import inspect
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from nwm_geo import settings
from nwm_geo._checks import checks_crs
from nwm_geo._errors import NetworkError

if TYPE_CHECKING:  # networkx loads where a graph is built
    import networkx as nx

__all__ = ["WALK_EXCLUDE", "graph_from_osm_file", "walk_way_filter"]

# osmnx 2.1.1 _overpass._get_network_filter("walk"), one rule per Overpass clause:
# ["highway"]["area"!~"yes"]["access"!~"private"]
# ["highway"!~"abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|
#             proposed|raceway|razed|rest_area|services"]
# ["foot"!~"no"]["service"!~"private"]["sidewalk"!~"separate"]["sidewalk:both"!~"separate"]
# ["sidewalk:left"!~"separate"]["sidewalk:right"!~"separate"]
# Overpass `!~` keeps a way whose tag is absent or whose value does not match the regex
# (an unanchored, case-sensitive search), exactly as re.search below.
WALK_EXCLUDE: tuple[tuple[str, str], ...] = (
    ("area", "yes"),
    ("access", "private"),
    (
        "highway",
        "abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|"
        "raceway|razed|rest_area|services",
    ),
    ("foot", "no"),
    ("service", "private"),
    ("sidewalk", "separate"),
    ("sidewalk:both", "separate"),
    ("sidewalk:left", "separate"),
    ("sidewalk:right", "separate"),
)
_WALK_RULES = tuple((key, re.compile(pattern)) for key, pattern in WALK_EXCLUDE)


def walk_way_filter(tags: dict[str, str]) -> bool:
    """Return True if a way with these OSM tags belongs to the osmnx "walk" network.

    The rules are those of osmnx 2.1.1's Overpass filter for ``network_type="walk"``
    (with its default ``["access"!~"private"]``), applied in Python.

    Parameters
    ----------
    tags
        The way's tags.

    Returns
    -------
    bool
        Whether osmnx would download this way for a walk network.
    """
    if "highway" not in tags:
        return False
    return not any(key in tags and rule.search(tags[key]) for key, rule in _WALK_RULES)


# ---------------------------------------------------------------------------------------
# OSM files


def _read_osm_ways(path: Path) -> tuple[dict[int, tuple[float, float]], list[Any], str | None]:
    """Read walkable ways and their node locations from any osmium-readable OSM file."""
    import osmium

    nodes: dict[int, tuple[float, float]] = {}
    ways: list[tuple[int, list[int], dict[str, str]]] = []
    latest = [0.0]

    class _Handler(osmium.SimpleHandler):
        def way(self, w: Any) -> None:
            tags = {t.k: t.v for t in w.tags}
            if not walk_way_filter(tags):
                return
            refs: list[int] = []
            for n in w.nodes:
                if not n.location.valid():
                    continue
                nodes[n.ref] = (n.location.lon, n.location.lat)
                refs.append(n.ref)
            if len(refs) >= 2:
                ways.append((w.id, refs, tags))
            with contextlib.suppress(AttributeError, OverflowError, OSError, ValueError):
                latest[0] = max(latest[0], w.timestamp.timestamp())

    # pyosmium 4 passes only ways with a highway tag to Python (filters run after the
    # location handler, so every node's location is still read); older ones pass them all
    key_filter = getattr(getattr(osmium, "filter", None), "KeyFilter", None)
    try:
        if key_filter is not None:
            _Handler().apply_file(str(path), locations=True, filters=[key_filter("highway")])
        else:
            _Handler().apply_file(str(path), locations=True)
    except RuntimeError as exc:  # osmium raises RuntimeError on unreadable input
        raise NetworkError(f"Could not read OSM file {path}: {exc}") from exc

    stamp: str | None = None
    try:
        header = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING).header()
        stamp = header.get("osmosis_replication_timestamp") or header.get("timestamp") or None
    except (RuntimeError, AttributeError):
        stamp = None
    if not stamp and latest[0] > 0:
        stamp = dt.datetime.fromtimestamp(latest[0], tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return nodes, ways, stamp


def _walk_graph(nodes: dict[int, tuple[float, float]], ways: list[Any]) -> nx.MultiDiGraph:
    """Return ``osmnx.graph_from_xml(bidirectional=True, simplify=True, retain_all=False)``.

    The same graph osmnx builds from an OSM XML file of these nodes and ways, without
    writing and parsing the file: the nodes and ways go to osmnx as the Overpass-like
    JSON its XML reader makes of them (``osmnx._osm_xml._OSMContentHandler``: an
    element per node with float ``lat``/``lon`` and no tags, an element per way with
    its node ids and tags), and through the steps of ``graph_from_xml``. Two of them
    are osmnx internals (leading underscore) or done here in place of osmnx's copy,
    which is why ``tests/test_network_osm.py`` compares this graph with
    :func:`osmnx.graph_from_xml`'s on the test fixture and on Rutland, edge by edge:

    * ``osmnx.graph._create_graph`` builds the unsimplified graph (osmnx 2.1.1; an
      osmnx without it, or with another signature, takes the XML file route);
    * the largest weakly connected component is kept by removing the other nodes in
      place, where ``osmnx.truncate.largest_component`` copies the graph into a new one.
      The kept nodes, their order, every node's successors (in order), keys and
      attributes are the same; only the order of each node's predecessors can differ,
      and :func:`osmnx.simplify_graph` starts by copying the graph, which rebuilds the
      predecessors from the successors, so the simplified graph is the same.
    """
    import networkx as nx  # loaded here, not on import
    import osmnx as ox
    from osmnx import graph as ox_graph

    create = getattr(ox_graph, "_create_graph", None)
    if create is None or list(inspect.signature(create).parameters) != [
        "response_jsons",
        "bidirectional",
    ]:  # another osmnx: its public route, through an OSM XML file
        return _graph_from_xml(nodes, ways)
    elements: list[dict[str, Any]] = [
        {"type": "node", "tags": {}, "id": nid, "lat": lat, "lon": lon}
        for nid, (lon, lat) in nodes.items()
    ]
    elements.extend(
        {"type": "way", "tags": tags, "id": wid, "nodes": refs} for wid, refs, tags in ways
    )
    G = create([{"elements": elements}], bidirectional=True)
    if not nx.is_weakly_connected(G):  # as osmnx.truncate.largest_component, in place
        largest = max(nx.weakly_connected_components(G), key=len)
        G.remove_nodes_from([n for n in G if n not in largest])
    return ox.simplify_graph(G)


def _graph_from_xml(nodes: dict[int, tuple[float, float]], ways: list[Any]) -> nx.MultiDiGraph:
    """Return :func:`osmnx.graph_from_xml` of the nodes and ways, written as OSM XML."""
    import osmnx as ox

    with tempfile.TemporaryDirectory(prefix="nwm_osm_") as tmp:
        xml = Path(tmp) / "walk.osm"
        with xml.open("w", encoding="utf-8") as fh:
            fh.write('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n')
            for nid, (lon, lat) in nodes.items():
                fh.write(f'<node id="{nid}" lat="{lat:.7f}" lon="{lon:.7f}"/>\n')
            for wid, refs, tags in ways:
                fh.write(f'<way id="{wid}">')
                fh.writelines(f'<nd ref="{r}"/>' for r in refs)
                fh.writelines(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
                fh.write("</way>\n")
            fh.write("</osm>\n")
        return ox.graph_from_xml(xml, bidirectional=True, simplify=True, retain_all=False)


def _polygon_wgs84(polygon: Any) -> BaseGeometry:
    """Return a polygon in lon/lat: bare shapely geometries are taken to be lon/lat already."""
    if isinstance(polygon, gpd.GeoDataFrame | gpd.GeoSeries):
        if polygon.crs is None:
            raise NetworkError("The polygon has no CRS; give it one (EPSG:27700 or EPSG:4326).")
        return shapely.union_all(polygon.to_crs(settings.wgs84).geometry.to_numpy())
    if isinstance(polygon, BaseGeometry):
        return polygon
    raise NetworkError(f"polygon must be a shapely geometry or GeoSeries, not {type(polygon)}")


@checks_crs
def graph_from_osm_file(
    path: str | os.PathLike[str],
    *,
    polygon: BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame | None = None,
    network_type: str = "walk",
    verbose: bool = False,
) -> nx.MultiDiGraph:
    """Build a walk network from an OpenStreetMap file.

    The file (``.osm``, ``.osm.bz2`` or ``.osm.pbf``) is read with pyosmium; the ways that
    pass osmnx's ``"walk"`` filter (:func:`walk_way_filter`) become, with their nodes, the
    simplified, bidirectional graph (largest weakly connected component) that
    :func:`osmnx.graph_from_xml` makes of an OSM XML file of them, built without the file.
    The graph is truncated to ``polygon`` if given and projected to EPSG:27700.

    Parameters
    ----------
    path
        The OSM file.
    polygon
        Optional area to keep. A GeoSeries/GeoDataFrame in any CRS, or a bare shapely
        geometry in lon/lat (EPSG:4326).
    network_type
        Only ``"walk"`` is supported.
    verbose
        Print what is being done.

    Returns
    -------
    networkx.MultiDiGraph
        Edges with ``length`` in metres; ``graph["crs"] == "EPSG:27700"``,
        ``graph["nwm_source"]``, ``graph["osm_timestamp"]`` and ``graph["approximate"]``.

    Raises
    ------
    NetworkError
        If the file is missing, unreadable or holds no walkable ways.
    """
    import osmnx as ox

    if network_type != "walk":
        raise NetworkError(f"Only network_type='walk' is supported, not {network_type!r}.")
    path = Path(path)
    if not path.is_file():
        raise NetworkError(f"OSM file not found: {path}")
    if verbose:
        print(f"Reading walkable ways from {path} ...")
    nodes, ways, stamp = _read_osm_ways(path)
    if not ways:
        raise NetworkError(f"{path} holds no ways that pass the osmnx walk filter.")
    G = _walk_graph(nodes, ways)
    if polygon is not None:
        try:
            G = ox.truncate.truncate_graph_polygon(
                G, _polygon_wgs84(polygon), truncate_by_edge=True
            )
        except ValueError as exc:  # osmnx: "Found no graph nodes within the requested polygon"
            raise NetworkError(
                f"{path} has no walkable streets inside the study area: is it an extract of "
                f"another area? ({exc})"
            ) from None
        G = ox.truncate.largest_component(G)
    G = ox.project_graph(G, to_crs=settings.crs)
    G.graph["crs"] = settings.crs
    G.graph["nwm_source"] = f"OpenStreetMap file {path.name}"
    if stamp:
        G.graph["osm_timestamp"] = str(stamp)
    G.graph["approximate"] = False
    if verbose:
        print(f"Walk network: {len(G):,} nodes, {len(G.edges):,} directed edges")
    return G
