"""Tests for nwm_geo.network: OSM loading, the offline approximation, saving and loading."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from nwm_geo import settings
from nwm_geo._errors import NetworkError
from nwm_geo.network import (
    APPROXIMATE_SOURCE,
    approximate_graph,
    approximation_error,
    graph_from_osm_file,
    graph_from_polygon,
    load_graph,
    network_label,
    pseudo_postcodes,
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
    assert 470000 < xs.min() and xs.max() < 510000  # Rutland eastings


# ----------------------------------------------------------------------------------------
# approximation


def test_approximate_graph_flags_label_and_lengths() -> None:
    pts = synthetic_points()
    G = approximate_graph(pts, detour_factor=1.3, max_edge_m=150)
    assert G.graph["approximate"] is True
    assert G.graph["nwm_source"] == APPROXIMATE_SOURCE
    assert network_label(G) == "network: approximate (postcode proximity), not OSM"
    assert G.number_of_nodes() == len(pts)
    assert nx.is_weakly_connected(G)
    for u, v, d in G.edges(data=True):
        straight = np.hypot(G.nodes[u]["x"] - G.nodes[v]["x"], G.nodes[u]["y"] - G.nodes[v]["y"])
        assert d["length"] == pytest.approx(1.3 * straight)
        assert G.has_edge(v, u)


def test_approximate_graph_keeps_spanning_tree_across_gaps() -> None:
    # two synthetic clusters 1 km apart: the long bridging edge is kept so it is connected
    a = synthetic_points(16, seed=1)
    b = a.copy()
    b.geometry = a.geometry.translate(xoff=1000)
    b.index = [f"B{i}" for i in range(len(b))]
    G = approximate_graph(gpd.GeoDataFrame(geometry=[*a.geometry, *b.geometry], crs=a.crs))
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


def test_approximation_error_columns_on_synthetic_osm_like_grid() -> None:
    # a synthetic 12 x 12 grid at 100 m standing in for an OSM network
    G = nx.MultiDiGraph(crs=settings.crs)
    for i in range(12):
        for j in range(12):
            G.add_node(i * 12 + j, x=500000 + j * 100.0, y=200000 + i * 100.0)
    for i in range(12):
        for j in range(12):
            for di, dj in ((0, 1), (1, 0)):
                if i + di < 12 and j + dj < 12:
                    a, b = i * 12 + j, (i + di) * 12 + j + dj
                    G.add_edge(a, b, length=100.0)
                    G.add_edge(b, a, length=100.0)
    err = approximation_error(G, n_pairs=200, seed=1, detour_factor=1.0, max_edge_m=400)
    assert {"osm_m", "approx_m", "ratio", "abs_error_m", "straight_m"} <= set(err.columns)
    assert 0 < len(err) <= 200
    assert (err["osm_m"] <= 2000 + 1e-6).all()
    assert err.attrs["detour_factor"] == 1.0
    # approx_m is the shortest path over the approximate graph built from the same
    # pseudo-postcodes, recomputed here independently with networkx
    pts = pseudo_postcodes(G, seed=1)
    G_apx = approximate_graph(pts, detour_factor=1.0, max_edge_m=400)
    node = {d["point_id"]: n for n, d in G_apx.nodes(data=True)}
    for o, dst, got in err[["origin", "destination", "approx_m"]].itertuples(index=False):
        want = nx.shortest_path_length(G_apx, node[o], node[dst], weight="length")
        assert got == pytest.approx(want)
    # the same pairs with a 1.3 detour factor: every approximate distance is 1.3 times longer
    err13 = approximation_error(G, n_pairs=200, seed=1, detour_factor=1.3, max_edge_m=400)
    assert err13["origin"].tolist() == err["origin"].tolist()
    assert err13["destination"].tolist() == err["destination"].tolist()
    np.testing.assert_allclose(err13["approx_m"], 1.3 * err["approx_m"])
    assert (err13["approx_m"] >= 1.3 * err13["straight_m"] - 1e-6).all()


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

    monkeypatch.setattr("nwm_geo.network._check_reachable", lambda url, timeout_s: None)
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
            boundary=box(500000, 200000, 501000, 201000), download=True, cache_dir=tmp_path
        )


# ----------------------------------------------------------------------------------------
# source order


def test_walk_network_defaults_come_from_the_data_loaders(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import nwm_geo.data

    calls: list[tuple[str, object]] = []
    pts = synthetic_points(49)  # synthetic, stands in for Code-Point
    wards = gpd.GeoDataFrame(
        {"ward_name": ["W1", "W2"]},
        geometry=[
            shapely.box(500000, 500000, 500150, 500300),
            shapely.box(500150, 500000, 500300, 500300),
        ],
        index=pd.Index(["E1", "E2"], name="ward_code"),
        crs=settings.crs,
    )

    def fake_wards(*, year: int = 2023, data_dir: Path | None = None) -> gpd.GeoDataFrame:
        calls.append(("wards", data_dir))
        return wards

    def fake_postcodes(*, data_dir: Path | None = None) -> gpd.GeoDataFrame:
        calls.append(("postcodes", data_dir))
        return pts

    monkeypatch.setattr(nwm_geo.data, "load_wards", fake_wards)
    monkeypatch.setattr(nwm_geo.data, "load_postcodes", fake_postcodes)
    G = walk_network(data_dir=tmp_path, buffer_m=100)
    assert calls == [("wards", tmp_path), ("postcodes", tmp_path)]
    inside = pts[pts.within(shapely.box(500000, 500000, 500300, 500300).buffer(100))]
    assert G.number_of_nodes() == len(inside) < len(pts)


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
