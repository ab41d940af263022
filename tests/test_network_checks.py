"""A network that cannot be right is refused: bad GraphML, the wrong area, too small.

Graphs here are SYNTHETIC (built from made-up points), apart from the tiny OSM fixture.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import pandas as pd
import pytest
from shapely.geometry import Point, box

from nwm_geo import NetworkError, network, pipeline

TINY_OSM = Path(__file__).parent / "data" / "network" / "tiny_walk.osm"


def _small_graph() -> nx.MultiDiGraph:
    pts = gpd.GeoSeries(
        [Point(600300 + 400 * i, 300300 + 400 * j) for i in range(3) for j in range(3)],
        crs="EPSG:27700",
    )
    return network.approximate_graph(pts)


def test_a_saved_graph_reloads(tmp_path: Path) -> None:
    path = network.save_graph(_small_graph(), tmp_path / "g.graphml")
    assert len(network.load_graph(path)) == 9


def test_a_corrupt_graphml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.graphml"
    path.write_text("<graphml><graph><node id=", encoding="utf-8")
    with pytest.raises(NetworkError, match=r"bad\.graphml: not a walk network osmnx can read"):
        network.load_graph(path)


def test_a_plain_networkx_graphml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.graphml"
    G = nx.MultiDiGraph()
    G.add_edge("a", "b", weight=3)
    nx.write_graphml(G, path)
    with pytest.raises(NetworkError, match=r"plain\.graphml"):
        network.load_graph(path)


def test_a_graph_in_lon_lat_is_refused(tmp_path: Path) -> None:
    G = _small_graph()
    G.graph["crs"] = "EPSG:4326"
    path = network.save_graph(G, tmp_path / "wgs.graphml")
    with pytest.raises(NetworkError, match="not a projected CRS in metres"):
        network.load_graph(path)


@pytest.mark.parametrize("length", [-5.0, float("nan")])
def test_negative_or_nan_edge_lengths_are_refused(tmp_path: Path, length: float) -> None:
    G = _small_graph()
    u, v, key = next(iter(G.edges(keys=True)))
    G.edges[u, v, key]["length"] = length
    path = network.save_graph(G, tmp_path / "bad_lengths.graphml")
    with pytest.raises(NetworkError, match=r"1 edge.* negative, NaN or infinite length"):
        network.load_graph(path)


def test_an_osm_file_of_another_area_is_refused() -> None:
    far_away = gpd.GeoSeries([box(600000, 300000, 604000, 304000)], crs="EPSG:27700")
    with pytest.raises(NetworkError, match="no walkable streets inside the study area"):
        network.graph_from_osm_file(TINY_OSM, polygon=far_away)


def test_check_covers_refuses_a_network_far_from_most_residents() -> None:
    G = _small_graph()
    pop = pd.Series([100, 100, 100, 100], index=list("abcd"))
    network.check_covers(G, pd.Series([0.0, 10.0, 20.0, 30.0], index=list("abcd")), pop)
    with pytest.raises(NetworkError, match="50% of residents are more than 500 m"):
        network.check_covers(G, pd.Series([0.0, 10.0, 900.0, 2000.0], index=list("abcd")), pop)


def test_a_tiny_network_in_the_area_is_refused_by_the_study(
    synthetic_area: tuple[Path, Path], tmp_path: Path
) -> None:
    profile, data_dir = synthetic_area
    corner = gpd.GeoSeries(
        [Point(600100, 300100), Point(600300, 300100), Point(600200, 300300)], crs="EPSG:27700"
    )
    path = network.save_graph(network.approximate_graph(corner), tmp_path / "tiny.gpkg")
    study = pipeline.Study(area=profile, data_dir=data_dir, graph_path=path)
    with pytest.raises(NetworkError, match="does not cover the study area"):
        _ = study.model


@pytest.mark.integration  # slow: solves the synthetic council's plan (fast tier < 60 s)
def test_one_asset_register_balances_population_only(synthetic_area: tuple[Path, Path]) -> None:
    profile, data_dir = synthetic_area
    sites = data_dir / "assets" / "sites.csv"
    pd.read_csv(sites).head(1).to_csv(sites, index=False)
    study = pipeline.Study(area=profile, data_dir=data_dir)
    assert study.balanced == ("population",)
    assert study.plan.status == "proven optimal"
    assert "population only is balanced" in study.localities_note
