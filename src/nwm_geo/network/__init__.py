"""Walk networks: build, load and save them.

In: an OpenStreetMap file (``.osm``, ``.osm.bz2``, ``.osm.pbf``), an Overpass download,
a saved graph, or (offline fallback) Code-Point postcode centroids. A parsed OSM file
is cached on disk, keyed by the file's sha256 (:func:`osm_walk_network`).
Out: an osmnx-layout :class:`networkx.MultiDiGraph` in EPSG:27700 whose edges carry
``length`` in metres, with ``G.graph["nwm_source"]`` and ``G.graph["approximate"]`` saying
where it came from. :func:`network_label` gives the line every output prints.

Sources are tried by :func:`walk_network` in this order: a saved graph, an OSM file, an
Overpass download (only when asked), and the postcode-proximity approximation.
"""

from __future__ import annotations

from nwm_geo.network._checks import check_covers, check_graph
from nwm_geo.network._core import (
    APPROXIMATE_SOURCE,
    APPROXIMATION_ERROR_NOTE,
    CALIBRATION,
    DEFAULT_DETOUR_FACTOR,
    DEFAULT_EDGE_OFFSET_M,
    DEFAULT_LONG_DETOUR_FACTOR,
    DEFAULT_LONG_EDGE_MAX_M,
    DEFAULT_MAX_EDGE_M,
    WALK_EXCLUDE,
    OverpassDownload,
    approximate_graph,
    graph_from_osm_file,
    graph_from_polygon,
    is_approximate,
    load_graph,
    network_label,
    save_graph,
    walk_network,
    walk_way_filter,
)
from nwm_geo.network._osm_cache import (
    OSM_CACHE_FORMAT,
    cached_graph_from_osm_file,
    cached_walk_network,
    osm_cache_path,
    osm_walk_network,
)

__all__ = [
    "APPROXIMATE_SOURCE",
    "APPROXIMATION_ERROR_NOTE",
    "CALIBRATION",
    "DEFAULT_DETOUR_FACTOR",
    "DEFAULT_EDGE_OFFSET_M",
    "DEFAULT_LONG_DETOUR_FACTOR",
    "DEFAULT_LONG_EDGE_MAX_M",
    "DEFAULT_MAX_EDGE_M",
    "OSM_CACHE_FORMAT",
    "WALK_EXCLUDE",
    "OverpassDownload",
    "approximate_graph",
    "cached_graph_from_osm_file",
    "cached_walk_network",
    "check_covers",
    "check_graph",
    "graph_from_osm_file",
    "graph_from_polygon",
    "is_approximate",
    "load_graph",
    "network_label",
    "osm_cache_path",
    "osm_walk_network",
    "save_graph",
    "walk_network",
    "walk_way_filter",
]
