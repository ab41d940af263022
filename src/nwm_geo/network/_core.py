"""Walk networks: read OSM files, download, approximate, save and load (internals)."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import hashlib
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from nwm_geo import settings
from nwm_geo._checks import checks_crs
from nwm_geo._errors import NetworkError
from nwm_geo._io import atomic_path
from nwm_geo.network._checks import check_graph
from nwm_geo.network._gpkg import write_graph_layers
from nwm_geo.network._label import as_bool, is_approximate, network_label
from nwm_geo.network._osm_file import WALK_EXCLUDE, graph_from_osm_file, walk_way_filter

if TYPE_CHECKING:  # networkx loads where a graph is built or read
    import networkx as nx

__all__ = [
    "APPROXIMATE_SOURCE",
    "APPROXIMATION_ERROR_NOTE",
    "CALIBRATION",
    "DEFAULT_DETOUR_FACTOR",
    "DEFAULT_EDGE_OFFSET_M",
    "DEFAULT_LONG_DETOUR_FACTOR",
    "DEFAULT_LONG_EDGE_MAX_M",
    "DEFAULT_MAX_EDGE_M",
    "WALK_EXCLUDE",
    "approximate_graph",
    "graph_from_osm_file",
    "graph_from_polygon",
    "is_approximate",
    "load_graph",
    "network_label",
    "save_graph",
    "walk_network",
    "walk_way_filter",
]

#: ``G.graph["nwm_source"]`` of the offline approximation.
APPROXIMATE_SOURCE = "approximate (postcode proximity), not OSM"

#: The approximation's calibration on Rutland (``benchmarks/calibrate_network.py``,
#: ``benchmarks/results/network_calibration.json``, docs/network.md): the fitted
#: parameters, and the remaining error of walking distances up to 20 minutes
#: (approximate ÷ OSM: median, 10th and 90th percentile, on the held-out half of the
#: postcodes) that :mod:`nwm_geo.uncertainty` uses as the network's error band.
CALIBRATION: dict[str, float] = {
    "detour_factor": 1.3,
    "max_edge_m": 400.0,
    "long_detour_factor": 1.2,
    "long_edge_max_m": 3000.0,
    "edge_offset_m": 5.0,
    "median_ratio": 0.992,
    "p10_ratio": 0.708,
    "p90_ratio": 1.165,
}

#: Walked / straight-line multiplier of the approximation's short links (up to
#: :data:`DEFAULT_MAX_EDGE_M`), fitted on Rutland (:data:`CALIBRATION`).
DEFAULT_DETOUR_FACTOR: float = CALIBRATION["detour_factor"]

#: Longest short link of the approximation (metres).
DEFAULT_MAX_EDGE_M: float = CALIBRATION["max_edge_m"]

#: Walked / straight-line multiplier of the long links (longer triangle edges up to
#: :data:`DEFAULT_LONG_EDGE_MAX_M`, and the spanning-tree edges).
DEFAULT_LONG_DETOUR_FACTOR: float = CALIBRATION["long_detour_factor"]

#: Longest triangle edge kept as a long link (metres), besides the spanning tree.
DEFAULT_LONG_EDGE_MAX_M: float = CALIBRATION["long_edge_max_m"]

#: Metres added to every edge of the approximation (the turns and crossings a straight
#: link between postcode centroids leaves out).
DEFAULT_EDGE_OFFSET_M: float = CALIBRATION["edge_offset_m"]

#: One sentence on the approximation's measured error, for outputs to print next to
#: :func:`network_label` when the network is approximate. The figures come from
#: ``benchmarks/results/network_calibration.json`` (``benchmarks/calibrate_network.py``).
APPROXIMATION_ERROR_NOTE: str = (
    "Calibrated on Rutland (1,279 real Code-Point postcodes against the OpenStreetMap walk "
    "network of 2022-07-20; fitted on half of the postcodes, checked on the other half; "
    "links up to 400 m x 1.30, longer links x 1.20, plus 5 m per link): for walks up to 20 "
    "minutes the approximation's distances are a median 0.99 times the OSM distance "
    "(10th-90th percentile 0.71-1.16); the median stays within 0.9-1.1 for walks of 5 "
    "minutes and longer (up to 1.10 beyond an hour) but is 0.89 under 5 minutes; 3.8 % of "
    "residents get a "
    "different 15-minute verdict for all three bundles together (4.9 %, 6.4 % and 2.6 % for "
    "somewhere to go, something to do and someone to see), more than the 3 % aimed for: "
    "9.4 % of the residents of the two towns, whose walks are near the threshold, and "
    "0.2 % of the villagers."
)


# ---------------------------------------------------------------------------------------
# Overpass download


def _check_reachable(url: str, timeout_s: float) -> None:
    """Raise NetworkError unless ``url``'s host resolves and accepts a TCP connection in time."""
    parsed = urlparse(url)
    host = parsed.hostname or url
    port = parsed.port or (443 if parsed.scheme == "https" else 80)

    def _probe() -> None:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    future = pool.submit(_probe)
    try:
        future.result(timeout=timeout_s)
    except concurrent.futures.TimeoutError:
        raise NetworkError(
            f"Cannot reach the Overpass API at {host}:{port} (no answer within {timeout_s:g} s). "
            "You seem to be offline: pass osm_path= (nwm-geo --osm, an OSM file) or "
            "graph_path= (--graph, a saved graph), or leave download=False (no --download) "
            "to use the postcode-proximity approximation."
        ) from None
    except OSError as exc:
        raise NetworkError(
            f"Cannot reach the Overpass API at {host}:{port} ({exc}). You seem to be offline: "
            "pass osm_path= (nwm-geo --osm, an OSM file) or graph_path= (--graph, a saved "
            "graph), or leave download=False (no --download) to use the postcode-proximity "
            "approximation."
        ) from exc
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def graph_from_polygon(
    polygon_wgs84: BaseGeometry,
    *,
    cache_dir: Path | None = None,
    timeout_s: float = 20,
    refresh: bool = False,
    verbose: bool = False,
) -> nx.MultiDiGraph:
    """Download the OSM walk network inside a polygon from the Overpass API (osmnx).

    The result is cached as GraphML in ``cache_dir`` (default ``data/raw/osm``) under a
    name derived from the polygon, and re-used on later calls. Before any request the
    Overpass host is probed with a ``timeout_s`` socket connection, so offline use fails
    within ``timeout_s`` seconds with a :class:`NetworkError` instead of hanging.

    Parameters
    ----------
    polygon_wgs84
        The area, in lon/lat.
    cache_dir
        Where the GraphML cache lives.
    timeout_s
        Seconds allowed for the reachability probe only. The download itself uses
        osmnx's own ``ox.settings.requests_timeout`` (180 s by default), which is also
        the Overpass server timeout.
    refresh
        Download again even if a cached graph exists.
    verbose
        Print what is being done.

    Returns
    -------
    networkx.MultiDiGraph
        Projected to EPSG:27700, with ``graph["downloaded_at"]`` (UTC, ISO 8601).

    Raises
    ------
    NetworkError
        If the Overpass API cannot be reached or the download fails.
    """
    import osmnx as ox

    cache_dir = Path(cache_dir) if cache_dir is not None else settings.raw_dir() / "osm"
    digest = hashlib.sha256(polygon_wgs84.wkb).hexdigest()[:12]
    cached = cache_dir / f"overpass_walk_{digest}.graphml"
    if cached.is_file() and not refresh:
        if verbose:
            print(f"Using cached download {cached}")
        return load_graph(cached)
    _check_reachable(ox.settings.overpass_url, timeout_s)
    try:
        if verbose:
            print("Downloading the walk network from the Overpass API ...")
        G = ox.graph_from_polygon(polygon_wgs84, network_type="walk", retain_all=False)
    except Exception as exc:  # osmnx/requests raise many types; report them as one
        raise NetworkError(f"Overpass download failed: {exc}") from exc
    stamp = dt.datetime.now(tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    G = ox.project_graph(G, to_crs=settings.crs)
    G.graph["crs"] = settings.crs
    G.graph["nwm_source"] = f"OpenStreetMap via Overpass API, downloaded {stamp}"
    G.graph["downloaded_at"] = stamp
    G.graph["osm_timestamp"] = stamp
    G.graph["approximate"] = False
    save_graph(G, cached)
    return G


# ---------------------------------------------------------------------------------------
# Offline approximation


def _points_xy(points: gpd.GeoSeries | gpd.GeoDataFrame) -> tuple[np.ndarray, pd.Index]:
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    if geoms.crs is not None and not geoms.crs.equals(settings.crs):
        geoms = geoms.to_crs(settings.crs)
    geoms = geoms[~(geoms.is_empty | geoms.isna())]
    return np.column_stack([geoms.x.to_numpy(), geoms.y.to_numpy()]), geoms.index


@checks_crs
def approximate_graph(
    points: gpd.GeoSeries | gpd.GeoDataFrame,
    *,
    detour_factor: float | None = None,
    max_edge_m: float | None = None,
    long_detour_factor: float | None = None,
    long_edge_max_m: float | None = None,
    edge_offset_m: float | None = None,
) -> nx.MultiDiGraph:
    """Build an offline stand-in for the walk network from point locations.

    Method: the points (normally Code-Point postcode centroids) are de-duplicated and
    Delaunay-triangulated (:class:`scipy.spatial.Delaunay`). Two classes of edge are kept:

    * **short links**: triangle edges up to ``max_edge_m``, the streets between
      neighbouring postcodes; ``length = straight × detour_factor + edge_offset_m``;
    * **long links**: triangle edges longer than ``max_edge_m`` up to
      ``long_edge_max_m``, and every edge of the Euclidean minimum spanning tree
      whatever its length (so the graph stays in one piece), the roads between
      villages and the paths across parks and estates without postcodes;
      ``length = straight × long_detour_factor + edge_offset_m``.

    The defaults were fitted on Rutland, where both the real OSM walk network and real
    postcodes exist (``benchmarks/calibrate_network.py``, :data:`CALIBRATION`,
    :data:`APPROXIMATION_ERROR_NOTE`, docs/network.md). With ``long_edge_max_m <=
    max_edge_m``, ``long_detour_factor == detour_factor`` and ``edge_offset_m = 0`` this
    is the single-factor model of earlier versions. Edges run both ways, as in an osmnx
    walk network, and carry a straight ``geometry``.

    Parameters
    ----------
    points
        Point locations, in EPSG:27700 (other CRSs are converted).
    detour_factor
        Walked / straight-line multiplier of short links (default
        :data:`DEFAULT_DETOUR_FACTOR`).
    max_edge_m
        Longest short link (default :data:`DEFAULT_MAX_EDGE_M`).
    long_detour_factor
        Multiplier of long links (default :data:`DEFAULT_LONG_DETOUR_FACTOR`).
    long_edge_max_m
        Longest triangle edge kept as a long link, besides the spanning-tree edges
        (default :data:`DEFAULT_LONG_EDGE_MAX_M`).
    edge_offset_m
        Metres added to every edge (default :data:`DEFAULT_EDGE_OFFSET_M`).

    Returns
    -------
    networkx.MultiDiGraph
        Nodes ``0..n-1`` with ``x``, ``y`` and ``point_id`` (the first point at that
        location); edges with ``length``, ``geometry`` and ``link`` (``"short"`` or
        ``"long"``); ``graph["approximate"] is True`` and the parameters in ``G.graph``.

    Raises
    ------
    NetworkError
        With fewer than three distinct points, points that are all (nearly) collinear,
        a factor below 1 or a negative offset.

    Examples
    --------
    >>> from nwm_geo import data, network
    >>> G = network.approximate_graph(data.synthetic_example().points)
    >>> G.number_of_nodes(), G.number_of_edges()
    (4, 10)
    """
    import networkx as nx  # loaded here, not on import
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import minimum_spanning_tree
    from scipy.spatial import Delaunay, QhullError

    detour = DEFAULT_DETOUR_FACTOR if detour_factor is None else float(detour_factor)
    max_edge = DEFAULT_MAX_EDGE_M if max_edge_m is None else float(max_edge_m)
    long_detour = (
        DEFAULT_LONG_DETOUR_FACTOR if long_detour_factor is None else float(long_detour_factor)
    )
    long_max = DEFAULT_LONG_EDGE_MAX_M if long_edge_max_m is None else float(long_edge_max_m)
    offset = DEFAULT_EDGE_OFFSET_M if edge_offset_m is None else float(edge_offset_m)
    for name, value in (("detour_factor", detour), ("long_detour_factor", long_detour)):
        if not value >= 1:
            raise NetworkError(f"{name} must be at least 1, not {value}")
    if not offset >= 0:
        raise NetworkError(f"edge_offset_m must be at least 0, not {offset}")
    xy_all, index = _points_xy(points)
    xy, first = np.unique(xy_all, axis=0, return_index=True)
    if len(xy) < 3:
        raise NetworkError(
            f"approximate_graph needs at least three distinct points, not {len(xy)}."
        )
    try:
        tri = Delaunay(xy)
    except QhullError as exc:
        raise NetworkError(
            f"approximate_graph cannot triangulate the {len(xy)} distinct points: they are "
            "(nearly) collinear. Give points that span an area."
        ) from exc
    s = tri.simplices
    pairs = np.vstack([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]])
    pairs.sort(axis=1)
    pairs = np.unique(pairs, axis=0)
    straight = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
    n = len(xy)
    mst = minimum_spanning_tree(
        coo_matrix((straight + 1e-9, (pairs[:, 0], pairs[:, 1])), shape=(n, n)).tocsr()
    ).tocoo()
    mst_pairs = {(min(a, b), max(a, b)) for a, b in zip(mst.row, mst.col, strict=True)}
    in_mst = np.fromiter(((a, b) in mst_pairs for a, b in pairs), dtype=bool, count=len(pairs))
    short = straight <= max_edge
    keep = short | in_mst | (straight <= long_max)
    pairs, straight, short = pairs[keep], straight[keep], short[keep]
    lengths = np.where(short, detour, long_detour) * straight + offset

    G = nx.MultiDiGraph(
        crs=settings.crs,
        nwm_source=APPROXIMATE_SOURCE,
        approximate=True,
        detour_factor=detour,
        max_edge_m=max_edge,
        long_detour_factor=long_detour,
        long_edge_max_m=long_max,
        edge_offset_m=offset,
        created_with="nwm_geo.network.approximate_graph",
    )
    ids = index.to_numpy()[first]
    G.add_nodes_from(
        (i, {"x": float(x), "y": float(y), "point_id": str(pid)})
        for i, ((x, y), pid) in enumerate(zip(xy, ids, strict=True))
    )
    lines = shapely.linestrings(np.stack([xy[pairs[:, 0]], xy[pairs[:, 1]]], axis=1))
    rev = shapely.reverse(lines)
    for (a, b), length, is_short, g, r in zip(pairs, lengths, short, lines, rev, strict=True):
        link = "short" if is_short else "long"
        G.add_edge(int(a), int(b), key=0, length=float(length), geometry=g, link=link)
        G.add_edge(int(b), int(a), key=0, length=float(length), geometry=r, link=link)
    return G


# ---------------------------------------------------------------------------------------
# Labels, saving and loading


_GRAPH_ATTR_LAYER = "graph_attributes"
_FLOAT_GRAPH_ATTRS = (
    "detour_factor",
    "max_edge_m",
    "long_detour_factor",
    "long_edge_max_m",
    "edge_offset_m",
)


def save_graph(G: nx.MultiDiGraph, path: str | os.PathLike[str]) -> Path:
    """Save a walk network as GeoPackage (``.gpkg``) or GraphML (``.graphml``), atomically.

    The GeoPackage has osmnx's layout (``ox.save_graph_geopackage(directed=True)``):
    layers ``nodes`` (index ``osmid``, ``x``, ``y``) and ``edges`` (``u``, ``v``, ``key``,
    ``length``, geometry), plus a table ``graph_attributes`` holding ``G.graph``.

    Parameters
    ----------
    G
        The graph.
    path
        Destination; the suffix picks the format.

    Returns
    -------
    Path
        The written path.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".gpkg", ".graphml"}:
        raise NetworkError(f"Save a graph as .gpkg or .graphml, not {path.name}")
    with atomic_path(path) as tmp:
        if suffix == ".graphml":
            import osmnx as ox

            ox.save_graphml(G, tmp)
        else:  # osmnx's layout, built from arrays (osmnx converts edge by edge)
            write_graph_layers(G, tmp)
            attrs = pd.DataFrame(
                {"key": list(G.graph), "value": [str(v) for v in G.graph.values()]}
            )
            import pyogrio

            pyogrio.write_dataframe(attrs, tmp, layer=_GRAPH_ATTR_LAYER, driver="GPKG")
    return path


def load_graph(path: str | os.PathLike[str]) -> nx.MultiDiGraph:
    """Load a walk network written by :func:`save_graph` (``.gpkg`` or ``.graphml``).

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    networkx.MultiDiGraph
        The graph, with ``graph["approximate"]`` as a bool and the approximation's
        parameters (``detour_factor``, ``max_edge_m``, ``long_detour_factor``,
        ``long_edge_max_m``, ``edge_offset_m``) as floats, whatever the format.

    Raises
    ------
    NetworkError
        If the file is missing or not a saved graph.
    """
    import osmnx as ox
    import pyogrio

    path = Path(path)
    if not path.is_file():
        raise NetworkError(f"Saved graph not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".graphml":
        try:
            G = ox.load_graphml(path, graph_dtypes={"approximate": as_bool})
        except Exception as exc:  # a corrupt file, or a GraphML osmnx cannot read
            raise NetworkError(
                f"{path}: not a walk network osmnx can read ({type(exc).__name__}: {exc}); "
                "save one with nwm_geo.network.save_graph or osmnx.save_graphml"
            ) from None
    elif suffix == ".gpkg":
        layers = {name for name, _ in pyogrio.list_layers(path)}
        if not {"nodes", "edges"} <= layers:
            raise NetworkError(f"{path} has no 'nodes' and 'edges' layers.")
        nodes = gpd.read_file(path, layer="nodes").set_index("osmid")
        edges = gpd.read_file(path, layer="edges").set_index(["u", "v", "key"])
        graph_attrs: dict[str, Any] = {"crs": nodes.crs}
        if _GRAPH_ATTR_LAYER in layers:
            table = pyogrio.read_dataframe(path, layer=_GRAPH_ATTR_LAYER)
            graph_attrs.update(dict(zip(table["key"], table["value"], strict=True)))
        G = ox.graph_from_gdfs(nodes, edges, graph_attrs=graph_attrs)
        G.graph["crs"] = nodes.crs.to_string() if nodes.crs is not None else settings.crs
    else:
        raise NetworkError(f"Load a graph from .gpkg or .graphml, not {path.name}")
    for k in _FLOAT_GRAPH_ATTRS:  # saved as text by both formats
        if k in G.graph:
            G.graph[k] = float(G.graph[k])
    G.graph["approximate"] = as_bool(G.graph.get("approximate", False))
    check_graph(G, label=str(path))
    return G


# ---------------------------------------------------------------------------------------
# Choosing a source


def as_geometry_27700(boundary: Any) -> BaseGeometry:
    if isinstance(boundary, gpd.GeoDataFrame | gpd.GeoSeries):
        geoms = boundary.geometry if isinstance(boundary, gpd.GeoDataFrame) else boundary
        if geoms.crs is not None:
            geoms = geoms.to_crs(settings.crs)
        return shapely.union_all(geoms.to_numpy())
    if isinstance(boundary, BaseGeometry):
        return boundary
    raise NetworkError(f"boundary must be a shapely geometry or GeoSeries, not {type(boundary)}")


@dataclass(frozen=True)
class OverpassDownload:
    """How :func:`walk_network` downloads the walk network (``download=``).

    Attributes
    ----------
    cache_dir
        Download cache folder (:func:`graph_from_polygon`; ``data/raw/osm`` by default).
    timeout_s
        Seconds allowed for the Overpass reachability probe (not the download itself).
    """

    cache_dir: Path | None = None
    timeout_s: float = 20.0


@checks_crs
def walk_network(
    *,
    boundary: BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame | None = None,
    postcodes: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    osm_path: str | os.PathLike[str] | None = None,
    graph_path: str | os.PathLike[str] | None = None,
    download: bool | OverpassDownload = False,
    buffer_m: float = 1000.0,
    verbose: bool = False,
) -> nx.MultiDiGraph:
    """Return the walk network from the best available source.

    Order: a saved graph (``graph_path``) → an OSM file (``osm_path``) → an Overpass
    download (only if ``download=True``) → the offline approximation
    (:func:`approximate_graph`) built from ``postcodes``: those within ``buffer_m`` of
    ``boundary`` when a boundary is given (walkers cross the borough boundary), all of
    them otherwise. Nothing is read from disk unless a path is given: the caller passes
    the boundary and postcodes (``nwm_geo.pipeline.Study.graph`` does).

    Parameters
    ----------
    boundary
        The study area, EPSG:27700 for bare geometries. Needed for a download; for an OSM
        file it truncates the graph to the buffered area.
    postcodes
        Postcode points for the approximation.
    osm_path
        An OpenStreetMap file.
    graph_path
        A graph saved by :func:`save_graph`.
    download
        Allow an Overpass download: ``True``, or an :class:`OverpassDownload` with its
        cache folder and probe timeout. Offline this raises :class:`NetworkError` within
        the probe timeout; leave it False to fall back to the approximation.
    buffer_m
        Buffer around the boundary (metres).
    verbose
        Print what is being done.

    Returns
    -------
    networkx.MultiDiGraph
        A projected walk network; see :func:`network_label`.

    Raises
    ------
    NetworkError
        If no source is given (no saved graph, OSM file, download or postcodes), if a
        download is asked for without a boundary, or if the chosen source fails.
    """
    if graph_path is not None:
        return load_graph(graph_path)
    area: BaseGeometry | None = None
    if boundary is not None:
        area = as_geometry_27700(boundary).buffer(buffer_m)
    if osm_path is not None:
        poly = gpd.GeoSeries([area], crs=settings.crs) if area is not None else None
        return graph_from_osm_file(osm_path, polygon=poly, verbose=verbose)
    if download:
        how = download if isinstance(download, OverpassDownload) else OverpassDownload()
        if area is None:
            raise NetworkError(
                "walk_network(download=True) needs boundary= (the area to download)."
            )
        poly_wgs = gpd.GeoSeries([area], crs=settings.crs).to_crs(settings.wgs84).iloc[0]
        return graph_from_polygon(
            poly_wgs, cache_dir=how.cache_dir, timeout_s=how.timeout_s, verbose=verbose
        )
    if postcodes is None:
        raise NetworkError(
            "walk_network has no source: pass graph_path= (a saved graph), osm_path= (an "
            "OSM file), download=True with boundary=, or postcodes= (with an optional "
            "boundary=) for the postcode-proximity approximation."
        )
    geoms = postcodes.geometry if isinstance(postcodes, gpd.GeoDataFrame) else postcodes
    if geoms.crs is not None:
        geoms = geoms.to_crs(settings.crs)
    inside = geoms[geoms.within(area)] if area is not None else geoms
    if verbose:
        print(f"Approximating the walk network from {len(inside):,} postcodes (not OSM)")
    return approximate_graph(inside)
