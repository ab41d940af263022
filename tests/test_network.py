"""Tests for nwm_geo.network: OSM loading, the offline approximation, saving and loading."""

from __future__ import annotations

import ast
import re
import socket
import threading
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from shapely.geometry import Point, box

from nwm_geo import NetworkError, network, settings
from nwm_geo.network import (
    APPROXIMATE_SOURCE,
    OverpassDownload,
    approximate_graph,
    graph_from_osm_file,
    graph_from_polygon,
    load_graph,
    network_label,
    save_graph,
    walk_network,
    walk_way_filter,
)

DATA = Path(__file__).parent / "data" / "network"
TINY_OSM = DATA / "tiny_walk.osm"


def synthetic_points(n: int = 60, seed: int = 3) -> gpd.GeoDataFrame:
    """Synthetic points on a jittered 100 m lattice (not real postcodes)."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    ij = np.array([(i, j) for i in range(side) for j in range(side)])[:n]
    xy = 500000 + ij * 100.0 + rng.uniform(-20, 20, size=(n, 2))
    return gpd.GeoDataFrame(
        index=[f"SYN {i}" for i in range(n)],
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=settings.crs,
    )


# ----------------------------------------------------------------------------------------
# walk filter and OSM files


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"highway": "footway"}, True),
        ({"highway": "residential", "oneway": "yes"}, True),
        ({"highway": "motorway"}, False),
        ({"highway": "motorway_link"}, False),
        ({"highway": "cycleway"}, False),
        ({"highway": "service", "service": "private"}, False),
        ({"highway": "track", "access": "private"}, False),
        ({"highway": "primary", "foot": "no"}, False),
        ({"highway": "primary", "sidewalk": "separate"}, False),
        ({"highway": "pedestrian", "area": "yes"}, False),
        ({"building": "yes"}, False),
    ],
)
def test_walk_way_filter_matches_osmnx_rules(tags: dict[str, str], expected: bool) -> None:
    assert walk_way_filter(tags) is expected


def _parse_overpass_filter(text: str) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Split an Overpass way filter into required keys and (key, operator, value) rules."""
    clauses = re.findall(r"\[([^\]]*)\]", text)
    assert "".join(f"[{c}]" for c in clauses) == text.strip(), "unparsed text in the filter"
    required: list[str] = []
    rules: list[tuple[str, str, str]] = []
    for clause in clauses:
        m = re.fullmatch(r'"([^"]+)"(?:(!~|~|!=|=)"([^"]*)")?', clause)
        assert m is not None, f"unexpected Overpass clause [{clause}]"
        key, op, value = m.groups()
        if op is None:
            required.append(key)
        else:
            rules.append((key, op, value))
    return required, rules


def test_walk_way_filter_has_not_drifted_from_osmnx() -> None:
    # osmnx has no public accessor for its Overpass filter: ``ox._overpass
    # ._get_network_filter`` is the function graph_from_polygon itself uses (osmnx 2.x),
    # with ``ox.settings.default_access`` spliced in. If osmnx changes an excluded
    # highway value, a tag rule or the kind of rule, this test fails and
    # network.WALK_EXCLUDE (and docs/network.md) must be updated to match.
    import osmnx as ox
    from osmnx import _overpass

    from nwm_geo.network import WALK_EXCLUDE

    text = _overpass._get_network_filter("walk")
    assert ox.settings.default_access in text
    required, rules = _parse_overpass_filter(text)
    assert required == ["highway"]
    assert all(op == "!~" for _, op, _ in rules)  # only "exclude if matching" rules
    theirs = {key: set(value.split("|")) for key, _, value in rules}
    ours = {key: set(value.split("|")) for key, value in WALK_EXCLUDE}
    assert len(rules) == len(theirs)  # one rule per key
    assert theirs == ours
    # and the Python filter applies each rule: every excluded value is dropped
    for key, values in theirs.items():
        for value in values:
            tags = {"highway": value} if key == "highway" else {"highway": "footway", key: value}
            assert walk_way_filter(tags) is False, (key, value)


def test_tiny_osm_fixture_keeps_only_walkable_ways() -> None:
    G = graph_from_osm_file(TINY_OSM)
    # ways 101 (residential, oneway) and 102 (footway) only; 103-106 are excluded
    assert set(G.nodes) == {1, 2, 3, 4, 5}
    assert G.number_of_edges() == 8  # 4 street segments, both directions
    assert G.has_edge(3, 2) and G.has_edge(2, 3)  # oneway ignored for walking
    assert G.graph["crs"] == settings.crs
    assert G.graph["approximate"] is False
    assert G.graph["osm_timestamp"] == "2024-01-02T03:04:05Z"
    assert "tiny_walk.osm" in G.graph["nwm_source"]
    # 0.0015 degrees of longitude at 51.88 N is about 103 m
    lengths = [d["length"] for *_, d in G.edges(data=True)]
    assert all(95 < length < 110 for length in lengths)
    xs = [d["x"] for _, d in G.nodes(data=True)]
    assert all(400000 < x < 600000 for x in xs)  # British National Grid eastings
    label = network_label(G)
    assert label.startswith("network: OpenStreetMap file tiny_walk.osm")
    assert "© OpenStreetMap contributors, ODbL" in label


def test_missing_osm_file_raises() -> None:
    with pytest.raises(NetworkError, match="not found"):
        graph_from_osm_file(DATA / "nope.osm.pbf")


@pytest.mark.integration
def test_rutland_pbf_gives_connected_projected_walk_graph() -> None:
    path = settings.raw_dir() / "osm" / "rutland-2022-07-20.osm.pbf"
    G = graph_from_osm_file(path)
    assert G.number_of_nodes() > 5000
    assert nx.is_weakly_connected(G)
    assert G.graph["crs"] == "EPSG:27700"
    assert G.graph["osm_timestamp"].startswith("2022-07-20")
    lengths = np.array([d["length"] for *_, d in G.edges(data=True)])
    assert (lengths > 0).all()
    # bidirectional: every edge has its reverse
    assert all(G.has_edge(v, u) for u, v in G.edges())
    xs = np.array([d["x"] for _, d in G.nodes(data=True)])
    assert xs.min() > 470000 and xs.max() < 510000  # Rutland eastings


# ----------------------------------------------------------------------------------------
# approximation


def test_approximate_graph_flags_label_and_lengths() -> None:
    pts = synthetic_points()
    G = approximate_graph(
        pts, detour_factor=1.3, max_edge_m=150, long_detour_factor=1.1, edge_offset_m=7
    )
    assert G.graph["approximate"] is True
    assert G.graph["nwm_source"] == APPROXIMATE_SOURCE
    assert network_label(G) == "network: approximate (postcode proximity), not OSM"
    assert G.number_of_nodes() == len(pts)
    assert nx.is_weakly_connected(G)
    links = set()
    for u, v, d in G.edges(data=True):
        straight = np.hypot(G.nodes[u]["x"] - G.nodes[v]["x"], G.nodes[u]["y"] - G.nodes[v]["y"])
        short = straight <= 150
        assert d["link"] == ("short" if short else "long")
        assert d["length"] == pytest.approx((1.3 if short else 1.1) * straight + 7)
        assert G.has_edge(v, u)
        links.add(d["link"])
    assert links == {"short", "long"}  # both classes occur on the synthetic points


def test_approximate_graph_defaults_are_the_calibration() -> None:
    G = approximate_graph(synthetic_points())
    for key in ("detour_factor", "max_edge_m", "long_detour_factor", "long_edge_max_m"):
        assert G.graph[key] == network.CALIBRATION[key]
    assert G.graph["edge_offset_m"] == network.CALIBRATION["edge_offset_m"]


def test_approximate_graph_long_links_shorten_walks_between_clusters() -> None:
    # SYNTHETIC: three clusters on a line 1 km apart, the middle one offset 600 m to the
    # side. The spanning tree alone routes A-C through B; a kept long link joins A and C.
    a = synthetic_points(16, seed=1)
    parts = [a.geometry, a.geometry.translate(xoff=1000, yoff=600), a.geometry.translate(xoff=2000)]
    pts = gpd.GeoDataFrame(geometry=[g for p in parts for g in p], crs=a.crs)
    tree = approximate_graph(pts, long_edge_max_m=0)
    full = approximate_graph(pts, long_edge_max_m=3000)
    src, dst = 0, len(pts) - 1
    d_tree = nx.shortest_path_length(tree, src, dst, weight="length")
    d_full = nx.shortest_path_length(full, src, dst, weight="length")
    assert d_full < d_tree
    assert full.number_of_edges() > tree.number_of_edges()


def test_approximate_graph_refuses_bad_parameters() -> None:
    with pytest.raises(NetworkError, match="long_detour_factor"):
        approximate_graph(synthetic_points(), long_detour_factor=0.9)
    with pytest.raises(NetworkError, match="edge_offset_m"):
        approximate_graph(synthetic_points(), edge_offset_m=-1)


def test_approximate_graph_keeps_spanning_tree_across_gaps() -> None:
    # two synthetic clusters 1 km apart: the long bridging edge is kept so it is connected
    a = synthetic_points(16, seed=1)
    b = a.copy()
    b.geometry = a.geometry.translate(xoff=1000)
    b.index = [f"B{i}" for i in range(len(b))]
    G = approximate_graph(
        gpd.GeoDataFrame(geometry=[*a.geometry, *b.geometry], crs=a.crs), long_edge_max_m=0
    )
    assert nx.is_weakly_connected(G)
    long_edges = [d["length"] for *_, d in G.edges(data=True) if d["length"] > 600]
    assert len(long_edges) == 2  # exactly one bridge, both directions


def test_approximate_graph_needs_three_points() -> None:
    pts = gpd.GeoSeries([Point(0, 0), Point(1, 1)], crs=settings.crs)
    with pytest.raises(NetworkError, match="three"):
        approximate_graph(pts)


def test_approximate_graph_collinear_points_raise_network_error() -> None:
    pts = gpd.GeoSeries(
        [Point(500000 + 50 * i, 200000 + 20 * i) for i in range(5)], crs=settings.crs
    )
    with pytest.raises(NetworkError, match="collinear"):
        approximate_graph(pts)


# ----------------------------------------------------------------------------------------
# saving and loading


@pytest.mark.parametrize("suffix", [".gpkg", ".graphml"])
def test_save_load_round_trip(tmp_path: Path, suffix: str) -> None:
    G = approximate_graph(synthetic_points(30), detour_factor=1.2, max_edge_m=200)
    path = save_graph(G, tmp_path / f"walk{suffix}")
    H = load_graph(path)
    assert H.graph["approximate"] is True
    # the same types whichever format the graph went through
    assert type(H.graph["detour_factor"]) is float and H.graph["detour_factor"] == 1.2
    assert type(H.graph["max_edge_m"]) is float and H.graph["max_edge_m"] == 200.0
    assert network_label(H) == network_label(G)
    assert set(H.nodes) == set(G.nodes)
    want = {(u, v, k): d["length"] for u, v, k, d in G.edges(keys=True, data=True)}
    got = {(u, v, k): d["length"] for u, v, k, d in H.edges(keys=True, data=True)}
    assert set(got) == set(want)
    for key, length in want.items():
        assert got[key] == pytest.approx(length)
    if suffix == ".gpkg":
        edges = gpd.read_file(path, layer="edges")
        assert {"u", "v", "key", "length"} <= set(edges.columns)
        assert gpd.read_file(path, layer="nodes").crs == settings.crs
    assert not list(tmp_path.glob(".*tmp*"))  # no staging leftovers


def test_osm_graph_gpkg_round_trip(tmp_path: Path) -> None:
    G = graph_from_osm_file(TINY_OSM)
    H = load_graph(save_graph(G, tmp_path / "tiny.gpkg"))
    assert H.graph["approximate"] is False
    assert H.graph["osm_timestamp"] == G.graph["osm_timestamp"]
    assert sorted(H.edges(keys=True)) == sorted(G.edges(keys=True))


@pytest.mark.parametrize("graph", ["osm", "approximate"])
def test_gpkg_layers_are_those_osmnx_writes(tmp_path: Path, graph: str) -> None:
    """The nodes and edges layers equal osmnx.save_graph_geopackage(directed=True)'s.

    On the tiny OSM fixture (lists, booleans, attributes some edges lack, edges without a
    geometry) and a SYNTHETIC approximate graph (every edge with its geometry).
    """
    import osmnx as ox
    from geopandas.testing import assert_geodataframe_equal

    if graph == "osm":
        G = graph_from_osm_file(TINY_OSM)
        first = next(iter(G.edges(keys=True, data=True)))[3]
        first["osmid"] = [101, 102]  # a merged edge's list, as osmnx's simplification makes
        first.pop("geometry", None)
    else:
        G = approximate_graph(synthetic_points(30), detour_factor=1.2, max_edge_m=200)
    ours = save_graph(G, tmp_path / "ours.gpkg")
    ox.save_graph_geopackage(G, tmp_path / "osmnx.gpkg", directed=True)
    for layer in ("nodes", "edges"):
        want = gpd.read_file(tmp_path / "osmnx.gpkg", layer=layer)
        got = gpd.read_file(ours, layer=layer)
        assert_geodataframe_equal(got, want, check_dtype=True, check_index_type=True)
    assert any(d.get("geometry") is None for *_, d in G.edges(data=True)) == (graph == "osm")


def test_load_graph_errors(tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match="not found"):
        load_graph(tmp_path / "missing.gpkg")
    bad = tmp_path / "g.txt"
    bad.write_text("x")
    with pytest.raises(NetworkError, match=r"\.gpkg or \.graphml"):
        load_graph(bad)


# ----------------------------------------------------------------------------------------
# download: offline failure is fast and clear (no real network is touched)


def test_download_offline_fails_fast_on_dns_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def no_dns(*args: object, **kwargs: object) -> socket.socket:
        raise socket.gaierror(-3, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "create_connection", no_dns)
    with pytest.raises(NetworkError, match="offline") as info:
        graph_from_polygon(box(-0.5, 51.85, -0.4, 51.9), cache_dir=tmp_path, timeout_s=1)
    assert "osm_path" in str(info.value)
    assert not list(tmp_path.iterdir())


def test_download_offline_does_not_hang(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    connecting, released, returned = threading.Event(), threading.Event(), threading.Event()

    def hang(*args: object, **kwargs: object) -> socket.socket:
        connecting.set()
        released.wait(30)
        returned.set()
        raise OSError("released")

    monkeypatch.setattr(socket, "create_connection", hang)
    try:
        with pytest.raises(NetworkError, match=r"no answer within 0\.2 s"):
            graph_from_polygon(box(-0.5, 51.85, -0.4, 51.9), cache_dir=tmp_path, timeout_s=0.2)
        # it gave up while the connection attempt was still blocked: no clock needed
        assert connecting.is_set()
        assert not returned.is_set()
    finally:
        released.set()


def test_download_keeps_osmnx_request_timeout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # the short probe timeout must not become osmnx's Overpass/HTTP timeout
    import osmnx as ox

    seen: list[float] = []

    def fake_download(*args: object, **kwargs: object) -> nx.MultiDiGraph:
        seen.append(ox.settings.requests_timeout)
        raise RuntimeError("no download in tests")

    class _Reachable:  # the probe's TCP connection succeeds (no network is used)
        def __enter__(self) -> _Reachable:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: _Reachable())
    monkeypatch.setattr(ox, "graph_from_polygon", fake_download)
    before = ox.settings.requests_timeout
    with pytest.raises(NetworkError, match="no download in tests"):
        graph_from_polygon(box(-0.5, 51.85, -0.4, 51.9), cache_dir=tmp_path, timeout_s=1)
    assert seen == [before]
    assert ox.settings.requests_timeout == before


def test_walk_network_download_offline_explains_fallback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def no_dns(*args: object, **kwargs: object) -> socket.socket:
        raise socket.gaierror(-3, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "create_connection", no_dns)
    with pytest.raises(NetworkError, match="download=False"):
        walk_network(
            boundary=box(500000, 200000, 501000, 201000),
            download=OverpassDownload(cache_dir=tmp_path),
        )


# ----------------------------------------------------------------------------------------
# source order


def test_walk_network_reads_nothing_by_itself(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import nwm_geo.data

    def no_loading(*args: object, **kwargs: object) -> None:
        raise AssertionError("walk_network must not load the data bundle")

    monkeypatch.setattr(nwm_geo.data, "load_wards", no_loading)
    monkeypatch.setattr(nwm_geo.data, "load_postcodes", no_loading)
    # no source at all: a clear error naming the options
    with pytest.raises(NetworkError, match="no source") as info:
        walk_network()
    for option in ("graph_path=", "osm_path=", "download=True", "postcodes="):
        assert option in str(info.value)
    # a boundary alone is not a source either
    with pytest.raises(NetworkError, match="no source"):
        walk_network(boundary=shapely.box(500000, 500000, 500300, 500300))
    # a download needs the area
    with pytest.raises(NetworkError, match="needs boundary="):
        walk_network(download=True, postcodes=synthetic_points(9))
    # postcodes without a boundary: all of them make the approximation
    pts = synthetic_points(49)  # synthetic, stands in for Code-Point
    G = walk_network(postcodes=pts)
    assert G.graph["approximate"] is True
    assert G.number_of_nodes() == len(pts)


def test_walk_network_source_order(tmp_path: Path) -> None:
    pts = synthetic_points(49)
    boundary = gpd.GeoSeries([shapely.box(500000, 500000, 500300, 500300)], crs=settings.crs)
    # approximate fallback: only postcodes within the buffered boundary are used
    G = walk_network(boundary=boundary, postcodes=pts, buffer_m=100)
    assert G.graph["approximate"] is True
    inside = pts[pts.within(boundary.iloc[0].buffer(100))]
    assert G.number_of_nodes() == len(inside) < len(pts)
    # a saved graph wins over an OSM file
    saved = save_graph(G, tmp_path / "g.graphml")
    H = walk_network(graph_path=saved, osm_path=TINY_OSM, postcodes=pts)
    assert H.graph["approximate"] is True
    # an OSM file wins over the approximation
    K = walk_network(osm_path=TINY_OSM, postcodes=pts)
    assert K.graph["approximate"] is False


def test_network_module_does_not_import_coverage() -> None:
    # the calibration sits above both; network must stay below coverage (no cycle)
    import nwm_geo.network

    tree = ast.parse(Path(nwm_geo.network.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
            imported.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
    assert not {m for m in imported if "coverage" in m or "calibration" in m}
