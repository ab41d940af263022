"""The parsed OSM network, cached on disk and keyed by the OSM file's sha256.

In: an OSM file, the area to keep and a cache folder. Out: the same graph
:func:`~nwm_geo.network.graph_from_osm_file` builds, read back from the cache when the
file's sha256, the area and the library versions are those it was built with, so a
second run does not parse the file again. A changed file (another sha256), another
area or another osmnx/networkx/nwm_geo version writes a new entry.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shapely.geometry.base import BaseGeometry

from nwm_geo._io import atomic_path
from nwm_geo._versions import installed_versions
from nwm_geo.network._core import as_geometry_27700, graph_from_osm_file, walk_network

if TYPE_CHECKING:  # networkx loads where a graph is built or read
    import networkx as nx

__all__ = [
    "OSM_CACHE_FORMAT",
    "cached_graph_from_osm_file",
    "cached_walk_network",
    "osm_cache_path",
    "osm_walk_network",
]

#: Bumped when what is cached changes shape (old entries are then ignored).
OSM_CACHE_FORMAT = 1


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _versions() -> str:
    found = installed_versions("osmnx", "networkx", "osmium", "pyproj", "shapely")
    return "; ".join([f"format {OSM_CACHE_FORMAT}", *(f"{k} {v}" for k, v in found.items())])


def osm_cache_path(
    path: str | os.PathLike[str], *, polygon: BaseGeometry | None, cache_dir: Path
) -> Path:
    """Return the cache file of an OSM file parsed for an area (27700 geometry or None).

    The name holds the file's sha256 and a hash of the area and the library versions.
    """
    key = hashlib.sha256(
        (_versions() + "|" + (polygon.wkb_hex if polygon is not None else "whole file")).encode()
    ).hexdigest()
    return Path(cache_dir) / f"osm_walk_{_sha256(Path(path))}_{key[:16]}.pickle"


def cached_graph_from_osm_file(
    path: str | os.PathLike[str],
    *,
    polygon: BaseGeometry | None,
    cache_dir: Path,
    verbose: bool = False,
) -> nx.MultiDiGraph:
    """Return :func:`~nwm_geo.network.graph_from_osm_file`, cached in ``cache_dir``.

    Parameters
    ----------
    path
        The OSM file (``.osm``, ``.osm.bz2``, ``.osm.pbf``).
    polygon
        The area to keep, in EPSG:27700 (None: the whole file).
    cache_dir
        The cache folder; the entry is :func:`osm_cache_path`.
    verbose
        Say whether the cache was used.

    Returns
    -------
    networkx.MultiDiGraph
        The walk network, equal to a fresh parse of the same file.
    """
    import geopandas as gpd
    import networkx as nx  # loaded here, not on import

    from nwm_geo import settings

    path = Path(path)
    if not path.is_file():  # the parser's own error
        return graph_from_osm_file(path, verbose=verbose)
    entry = osm_cache_path(path, polygon=polygon, cache_dir=cache_dir)
    if entry.is_file():
        try:
            with entry.open("rb") as fh:
                found: Any = pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
            found = None  # unreadable: parse again and rewrite it
        if isinstance(found, nx.MultiDiGraph):
            if verbose:
                print(f"Walk network read from the cache {entry} (not parsing {path.name})")
            return found
    poly = gpd.GeoSeries([polygon], crs=settings.crs) if polygon is not None else None
    G = graph_from_osm_file(path, polygon=poly, verbose=verbose)
    with atomic_path(entry) as tmp, tmp.open("wb") as fh:
        pickle.dump(G, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return G


def osm_walk_network(
    path: str | os.PathLike[str],
    *,
    boundary: Any,
    buffer_m: float,
    cache_dir: Path,
    verbose: bool = False,
) -> nx.MultiDiGraph:
    """Return :func:`~nwm_geo.network.walk_network` of an OSM file, through the cache.

    The same graph as ``walk_network(osm_path=path, boundary=boundary,
    buffer_m=buffer_m)``: the area kept is the boundary buffered by ``buffer_m``.
    """
    area = as_geometry_27700(boundary).buffer(buffer_m) if boundary is not None else None
    return cached_graph_from_osm_file(path, polygon=area, cache_dir=cache_dir, verbose=verbose)


def cached_walk_network(*, osm_cache_dir: Path, **options: Any) -> nx.MultiDiGraph:
    """Return :func:`~nwm_geo.network.walk_network` (same ``options``), an OSM file cached.

    With ``osm_path`` and no ``graph_path``, the OSM file is parsed once and then read
    from ``osm_cache_dir`` (:func:`osm_walk_network`); any other source as
    :func:`~nwm_geo.network.walk_network` builds it.
    """
    if options.get("osm_path") is None or options.get("graph_path") is not None:
        return walk_network(**options)
    return osm_walk_network(
        options["osm_path"],
        boundary=options.get("boundary"),
        buffer_m=options.get("buffer_m", 1000.0),
        cache_dir=osm_cache_dir,
        verbose=options.get("verbose", False),
    )
