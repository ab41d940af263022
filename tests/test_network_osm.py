"""graph_from_osm_file builds exactly the graph osmnx makes of the file's walkable ways.

``graph_from_osm_file`` hands the ways to osmnx without an OSM XML file, keeps the largest
component in place and projects with :func:`osmnx.project_graph`. The reference
here is the way it was built before, through osmnx's public functions only: the walkable
ways written to an OSM XML file that :func:`osmnx.graph_from_xml` reads, then
``truncate_graph_polygon``, ``largest_component`` and :func:`osmnx.project_graph`. The
two graphs must be the same to the last bit: nodes and their order, edges with keys and
their order, every attribute's value, type and order, geometry coordinates, each node's
successors and predecessors in order, and the graph attributes (but osmnx's creation
time).

Fixtures: the tiny SYNTHETIC fixture (tests/data/network), a SYNTHETIC file written here
(two components, a ring, a one-way street, a roundabout, merged ways with differing tags,
a way with a node missing from the file, names with XML's special characters), and the
real Rutland extract of the data bundle (integration).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import networkx as nx
import numpy as np
import pytest
import shapely
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from nwm_geo import settings
from nwm_geo.network import graph_from_osm_file, walk_way_filter

TINY_OSM = Path(__file__).parent / "data" / "network" / "tiny_walk.osm"
RUTLAND_PBF = "rutland-2022-07-20.osm.pbf"


def _walk_ways(path: Path) -> tuple[dict[int, tuple[float, float]], list[Any]]:
    """The walkable ways of an OSM file and their nodes' lon/lat, in file order."""
    import osmium

    nodes: dict[int, tuple[float, float]] = {}
    ways: list[tuple[int, list[int], dict[str, str]]] = []

    class _Handler(osmium.SimpleHandler):
        def way(self, w: Any) -> None:
            tags = {t.k: t.v for t in w.tags}
            if not walk_way_filter(tags):
                return
            refs = []
            for n in w.nodes:
                if n.location.valid():
                    nodes[n.ref] = (n.location.lon, n.location.lat)
                    refs.append(n.ref)
            if len(refs) >= 2:
                ways.append((w.id, refs, tags))

    _Handler().apply_file(str(path), locations=True)
    return nodes, ways


def _osmnx_graph(path: Path, tmp: Path, polygon: BaseGeometry | None) -> nx.MultiDiGraph:
    """The reference: the walkable ways as OSM XML, read by osmnx.graph_from_xml."""
    import osmnx as ox

    nodes, ways = _walk_ways(path)
    xml = _write_osm(tmp / "walk.osm", nodes, ways)
    G = ox.graph_from_xml(xml, bidirectional=True, simplify=True, retain_all=False)
    if polygon is not None:
        G = ox.truncate.truncate_graph_polygon(G, polygon, truncate_by_edge=True)
        G = ox.truncate.largest_component(G)
    return ox.project_graph(G, to_crs=settings.crs)


def _same_value(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, BaseGeometry):
        return (
            a.geom_type == b.geom_type
            and a.has_z == b.has_z
            and np.array_equal(
                shapely.get_coordinates(a, include_z=a.has_z),
                shapely.get_coordinates(b, include_z=b.has_z),
            )
        )
    if isinstance(a, list):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return np.float64(a).tobytes() == np.float64(b).tobytes()
    return bool(a == b)


def _same_dict(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return list(a) == list(b) and all(_same_value(a[k], b[k]) for k in a)


def assert_same_graph(got: nx.MultiDiGraph, want: nx.MultiDiGraph) -> None:
    """Fail unless the two graphs are the same to the last bit (see the module docstring)."""
    assert type(got) is type(want)
    assert list(got.graph)[: len(want.graph)] == list(want.graph)
    for key in want.graph:
        if key == "crs":
            assert got.graph["crs"] == settings.crs and want.graph["crs"] == settings.crs
        elif key != "created_date":  # the time osmnx built it
            assert _same_value(got.graph[key], want.graph[key]), key
    assert [(n, type(n)) for n in got] == [(n, type(n)) for n in want]
    for n, data in want.nodes(data=True):
        assert _same_dict(got.nodes[n], data), (n, got.nodes[n], data)
    edges = list(want.edges(keys=True))
    assert list(got.edges(keys=True)) == edges
    assert [tuple(map(type, e)) for e in got.edges(keys=True)] == [
        tuple(map(type, e)) for e in edges
    ]
    for u, v, k, data in want.edges(keys=True, data=True):
        assert _same_dict(got.edges[u, v, k], data), ((u, v, k), got.edges[u, v, k], data)
    for n in want:
        assert list(got.succ[n]) == list(want.succ[n]), n
        assert list(got.pred[n]) == list(want.pred[n]), n


def _synthetic_osm(path: Path) -> Path:
    """Write a SYNTHETIC OSM XML file (made-up ids, coordinates and names)."""
    base_lon, base_lat, step = -0.7, 52.65, 0.001
    grid = {i: (base_lon + (i % 5) * step, base_lat + (i // 5) * step) for i in range(20)}
    grid.update({90 + i: (base_lon + 0.01 + i * step, base_lat + 0.01) for i in range(3)})
    grid.update({95: (base_lon + 0.02, base_lat), 96: (base_lon + 0.021, base_lat)})
    ways: list[tuple[int, list[int], dict[str, str]]] = [
        (201, [0, 1, 2], {"highway": "residential", "name": 'Main & <"High"> Street'}),
        (202, [2, 3, 4], {"highway": "footway", "name": "O'Brien\tWalk\nEnd"}),
        (203, [4, 9, 14], {"highway": "service", "oneway": "yes", "maxspeed": "20 mph"}),
        (204, [14, 13, 8, 14], {"highway": "tertiary", "junction": "roundabout"}),
        (205, [13, 12, 11, 10], {"highway": "path", "foot": "designated", "lanes": "1"}),
        (206, [10, 5, 0], {"highway": "residential", "name": "Ring Road"}),
        (207, [5, 6, 7, 8], {"highway": "pedestrian", "name": "Ménage Row"}),
        (208, [7, 999, 2], {"highway": "steps"}),  # node 999 is not in the file
        (209, [90, 91, 92, 90], {"highway": "footway", "name": "Island Loop"}),
        (210, [95, 96], {"highway": "living_street"}),
        (211, [3, 8], {"highway": "motorway"}),  # not walkable
        (212, [15, 16, 17], {"highway": "cycleway"}),  # not walkable
    ]
    big = 3_000_000_000  # node ids past 2**31
    return _write_osm(
        path,
        {big + nid: at for nid, at in grid.items()},
        [(wid, [big + r for r in refs], tags) for wid, refs, tags in ways],
        stamp='version="1" timestamp="2024-01-02T03:04:05Z"',
    )


def _write_osm(
    path: Path,
    nodes: dict[int, tuple[float, float]],
    ways: list[tuple[int, list[int], dict[str, str]]],
    stamp: str = "",
) -> Path:
    """Write nodes (id -> lon, lat) and ways (id, node ids, tags) as an OSM XML file."""
    attrs = f" {stamp}" if stamp else ""
    with path.open("w", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n')
        for nid, (lon, lat) in nodes.items():
            fh.write(f'<node id="{nid}" lat="{lat:.7f}" lon="{lon:.7f}"{attrs}/>\n')
        for wid, refs, tags in ways:
            fh.write(f'<way id="{wid}"{attrs}>')
            fh.writelines(f'<nd ref="{r}"/>' for r in refs)
            fh.writelines(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
            fh.write("</way>\n")
        fh.write("</osm>\n")
    return path


def test_tiny_fixture_graph_is_osmnx_graph_from_xml(tmp_path: Path) -> None:
    assert_same_graph(graph_from_osm_file(TINY_OSM), _osmnx_graph(TINY_OSM, tmp_path, None))


def test_synthetic_graph_is_osmnx_graph_from_xml(tmp_path: Path) -> None:
    osm = _synthetic_osm(tmp_path / "synthetic.osm")
    got = graph_from_osm_file(osm)
    want = _osmnx_graph(osm, tmp_path, None)
    assert_same_graph(got, want)
    # what the fixture is for: components dropped, ways merged, text kept as written
    assert 3_000_000_090 not in got and 3_000_000_095 not in got
    assert any(isinstance(d["osmid"], list) for *_, d in got.edges(data=True))
    assert any(d.get("geometry") is None for *_, d in got.edges(data=True))
    names = {n for *_, d in got.edges(data=True) for n in np.atleast_1d(d.get("name", []))}
    assert {'Main & <"High"> Street', "O'Brien\tWalk\nEnd", "Ménage Row"} <= names


def test_synthetic_graph_truncated_to_a_polygon_is_osmnx_s(tmp_path: Path) -> None:
    osm = _synthetic_osm(tmp_path / "synthetic.osm")
    area = box(-0.6985, 52.6495, -0.6975, 52.6515)  # lon/lat: part of the synthetic grid
    got = graph_from_osm_file(osm, polygon=area)
    want = _osmnx_graph(osm, tmp_path, area)
    assert_same_graph(got, want)
    assert len(got) < len(graph_from_osm_file(osm))


def test_without_pyosmium_key_filter_the_graph_is_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without KeyFilter (pyosmium 3) every way reaches Python, with the same result."""
    import osmium

    osm = _synthetic_osm(tmp_path / "synthetic.osm")
    want = graph_from_osm_file(osm)
    monkeypatch.delattr(osmium.filter, "KeyFilter", raising=False)
    assert_same_graph(graph_from_osm_file(osm), want)


def test_another_osmnx_builder_takes_the_xml_file_route_to_the_same_graph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If osmnx changes its internal graph builder, the public XML route is taken."""
    import osmnx as ox
    from osmnx import graph as ox_graph

    osm = _synthetic_osm(tmp_path / "synthetic.osm")
    want = graph_from_osm_file(osm)
    original, public = ox_graph._create_graph, ox.graph_from_xml
    files: list[Path] = []

    def changed(response_jsons: Any, bidirectional: bool, extra: Any = None) -> Any:
        return original(response_jsons, bidirectional)  # a new signature, same graph

    def from_xml(filepath: Path, **kwargs: Any) -> nx.MultiDiGraph:
        files.append(Path(filepath))
        return public(filepath, **kwargs)

    monkeypatch.setattr(ox_graph, "_create_graph", changed)
    monkeypatch.setattr(ox, "graph_from_xml", from_xml)
    assert_same_graph(graph_from_osm_file(osm), want)
    assert len(files) == 1  # the public route was taken, once


def test_a_divergence_is_caught(tmp_path: Path) -> None:
    """The comparison itself fails on a one-bit change, a reordering or another type."""
    osm = _synthetic_osm(tmp_path / "synthetic.osm")
    G = graph_from_osm_file(osm)
    assert_same_graph(graph_from_osm_file(osm), G)
    for change in ("bit", "order", "type", "geometry"):
        H = graph_from_osm_file(osm)
        data = next(d for *_, d in H.edges(data=True) if "geometry" in d)
        if change == "bit":
            data["length"] = float(np.nextafter(data["length"], np.inf))
        elif change == "order":
            data["osmid"] = data.pop("osmid")
        elif change == "type":
            data["length"] = np.float64(data["length"])
        else:
            xy = shapely.get_coordinates(data["geometry"])
            xy[-1, 0] = np.nextafter(xy[-1, 0], np.inf)
            data["geometry"] = shapely.linestrings(xy)
        with pytest.raises(AssertionError):
            assert_same_graph(H, G)


@pytest.mark.integration
def test_rutland_graph_is_osmnx_graph_from_xml(tmp_path: Path) -> None:
    """The real Rutland extract, truncated to the middle of its ways' extent."""
    path = settings.raw_dir() / "osm" / RUTLAND_PBF
    lon, lat = np.array(list(_walk_ways(path)[0].values())).T
    x0, x1 = np.quantile(lon, [0.2, 0.8])
    y0, y1 = np.quantile(lat, [0.2, 0.8])
    area = box(x0, y0, x1, y1)
    got = graph_from_osm_file(path, polygon=area)
    assert_same_graph(got, _osmnx_graph(path, tmp_path, area))
    assert len(got) > 1000
