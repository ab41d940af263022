"""Tests for nwm_geo.coverage on tiny synthetic networks with known edge lengths."""

from __future__ import annotations

import itertools

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, MultiLineString, Point

from nwm_geo import NwmGeoError, settings
from nwm_geo.coverage import (
    Cover,
    NetworkArrays,
    all_bundles_label,
    asset_criticality,
    catchment_cells,
    cover_criticality,
    coverage_matrix,
    coverage_summary,
    coverage_table,
    insert_points,
    nearest_minutes,
    prepare,
    reuse_snap_index,
    snap,
    snap_xy,
    walksheds,
)
from nwm_geo.network import approximate_graph

SPEED = 80.0  # settings.walk_speed_m_per_min; the tests pass it explicitly


def grid(n: int = 5, step: float = 100.0, *, geometry: bool = False) -> nx.MultiDiGraph:
    """A synthetic n×n grid, node i*n+j at (j*step, i*step), edges both ways of length step."""
    G = nx.MultiDiGraph(crs=settings.crs, nwm_source="synthetic grid", approximate=True)
    for i in range(n):
        for j in range(n):
            G.add_node(i * n + j, x=j * step, y=i * step)
    for i in range(n):
        for j in range(n):
            for di, dj in ((0, 1), (1, 0)):
                if i + di < n and j + dj < n:
                    a, b = i * n + j, (i + di) * n + j + dj
                    pa = (G.nodes[a]["x"], G.nodes[a]["y"])
                    pb = (G.nodes[b]["x"], G.nodes[b]["y"])
                    extra = {"geometry": LineString([pa, pb])} if geometry else {}
                    G.add_edge(a, b, length=step, **extra)
                    extra = {"geometry": LineString([pb, pa])} if geometry else {}
                    G.add_edge(b, a, length=step, **extra)
    return G


def points(xy: list[tuple[float, float]], ids: list[str], **cols: list[object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        cols,
        geometry=[Point(p) for p in xy],
        index=pd.Index(ids, name="point_id"),
        crs=settings.crs,
    )


def assets(xy: list[tuple[float, float]], cats: list[str]) -> gpd.GeoDataFrame:
    ids = [f"A{i}" for i in range(len(xy))]
    return gpd.GeoDataFrame(
        {"category": cats, "name": [f"asset {i}" for i in range(len(xy))]},
        geometry=[Point(p) for p in xy],
        index=pd.Index(ids, name="asset_id"),
        crs=settings.crs,
    )


# ----------------------------------------------------------------------------------------
# snapping


@pytest.mark.parametrize("geometry", [False, True])
def test_snap_to_middle_of_edge_is_exact(geometry: bool) -> None:
    G = grid(geometry=geometry)
    s = snap(G, points([(230, 20), (400, 130), (5000, 0)], ["p", "q", "far"]))
    p = s.loc["p"]
    assert {p["u"], p["v"]} == {2, 3}
    assert p["offset_m"] == pytest.approx(30.0 if p["u"] == 2 else 70.0)
    assert p["snap_m"] == pytest.approx(20.0)
    assert not p["flagged"]
    q = s.loc["q"]
    assert {q["u"], q["v"]} == {9, 14}  # the vertical edge x=400, y 100..200
    assert q["offset_m"] == pytest.approx(30.0 if q["u"] == 9 else 70.0)
    assert q["snap_m"] == pytest.approx(0.0)
    assert s.loc["far", "snap_m"] == pytest.approx(4600.0)
    assert s.loc["far", "flagged"]  # farther than settings.snap_flag_m
    assert list(s.columns) == ["u", "v", "key", "offset_m", "snap_m", "flagged"]


def test_snap_max_distance_leaves_point_unsnapped() -> None:
    s = snap(grid(), points([(230, 20), (5000, 0)], ["p", "far"]), max_snap_m=100)
    assert s.loc["p", "snap_m"] == pytest.approx(20.0)
    assert pd.isna(s.loc["far", "u"]) and pd.isna(s.loc["far", "snap_m"])
    assert s.loc["far", "flagged"]


def curvy_network(seed: int) -> NetworkArrays:
    """A SYNTHETIC network of random polylines (2-6 vertices), one 8 km straight edge and
    one two-part MultiLineString edge, with network lengths 1.0-1.3x the geometric ones.
    """
    rng = np.random.default_rng(seed)
    n_nodes = 60
    xy = rng.uniform(0, 2000, size=(n_nodes, 2))
    geoms: list[object] = []
    eu: list[int] = []
    ev: list[int] = []
    for _ in range(120):
        a, b = (int(i) for i in rng.choice(n_nodes, size=2, replace=False))
        inner = xy[a] + np.linspace(0, 1, int(rng.integers(2, 7)))[1:-1, None] * (xy[b] - xy[a])
        inner = inner + rng.normal(0, 40, size=inner.shape)
        geoms.append(LineString([xy[a], *inner, xy[b]]))
        eu.append(a)
        ev.append(b)
    xy = np.vstack([xy, [[-3000.0, 1000.0], [5000.0, 1000.0]]])  # the long straight edge
    geoms.append(LineString([xy[-2], xy[-1]]))
    eu.append(n_nodes)
    ev.append(n_nodes + 1)
    geoms.append(
        MultiLineString([[tuple(xy[0]), (700.0, 2500.0)], [(800.0, 2500.0), tuple(xy[1])]])
    )
    eu.append(0)
    ev.append(1)
    geom = np.array(geoms, dtype=object)
    return NetworkArrays(
        node_ids=np.arange(len(xy)).astype(object),
        xy=xy,
        eu=np.array(eu, dtype=np.int64),
        ev=np.array(ev, dtype=np.int64),
        ekey=np.zeros(len(geoms), dtype=object),
        length=shapely.length(geom) * rng.uniform(1.0, 1.3, size=len(geoms)),
        geom=geom,
        label="network: SYNTHETIC curvy",
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("max_snap_m", [None, 60.0])
def test_snap_matches_brute_force_shapely(seed: int, max_snap_m: float | None) -> None:
    arr = curvy_network(seed)
    rng = np.random.default_rng(50 + seed)
    xy = np.vstack(
        [
            rng.uniform(-4000, 6000, size=(1500, 2)),  # many far from every edge
            rng.uniform(0, 2000, size=(1500, 2)),
            arr.xy,  # on nodes: exact ties between the edges that meet there
            [[1000.0, 1000.0], [750.0, 2500.0]],  # on the long edge; in the multi-part gap
        ]
    )
    s = snap_xy(arr, xy, max_snap_m=max_snap_m)
    # brute force: shapely distance from every point to every edge
    pts = shapely.points(xy)
    dist = shapely.distance(pts[:, None], arr.geom[None, :])
    dmin = dist.min(axis=1)
    snapped = s.edge >= 0
    expect_snapped = np.ones(len(xy), dtype=bool) if max_snap_m is None else dmin <= max_snap_m
    assert np.array_equal(snapped, expect_snapped)
    assert 0 < snapped.sum() < len(xy) or max_snap_m is None
    i = np.flatnonzero(snapped)
    e = s.edge[i]
    np.testing.assert_allclose(s.snap_m[i], dmin[i], rtol=0, atol=1e-6)
    np.testing.assert_allclose(dist[i, e], dmin[i], rtol=0, atol=1e-6)
    # exact ties go to the lowest edge row
    first_nearest = np.argmax(dist <= dmin[:, None] + 1e-9, axis=1)
    assert np.array_equal(e, first_nearest[i])
    on_node = i[i >= 3000]
    assert (np.bincount((dist[on_node] <= 1e-9).sum(axis=1))[2:].sum()) > 0  # ties occur
    # offsets: shapely's line_locate_point, scaled to the network length
    along = shapely.line_locate_point(arr.geom[e], pts[i])
    expect = along / shapely.length(arr.geom[e]) * arr.length[e]
    np.testing.assert_allclose(s.offset[i], expect, rtol=0, atol=1e-6)
    # the projection point lies on the edge, snap_m away from the point
    proj = s.proj_xy[i]
    on_edge = shapely.distance(shapely.points(proj), arr.geom[e])
    np.testing.assert_allclose(on_edge, 0.0, rtol=0, atol=1e-6)
    gap = np.hypot(*(proj - xy[i]).T)
    np.testing.assert_allclose(gap, s.snap_m[i], rtol=0, atol=1e-6)


def test_snap_picks_first_edge_on_ties() -> None:
    arr = NetworkArrays.from_graph(grid(3))
    centre = np.array([[100.0, 100.0]])  # node 4, where four edges meet
    s = snap_xy(arr, centre)
    touching = np.flatnonzero((arr.eu == 4) | (arr.ev == 4))
    assert len(touching) == 4
    assert s.edge[0] == touching.min()
    assert s.snap_m[0] == 0.0


def test_reuse_snap_index_builds_each_index_once_and_snaps_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Point by point on two SYNTHETIC networks: the same snaps, one k-d tree per network."""
    import scipy.spatial

    nets = [curvy_network(0), curvy_network(1)]
    xy = np.random.default_rng(7).uniform(-100, 2100, size=(10, 2))
    alone = [snap_xy(net, xy[i : i + 1], max_snap_m=80.0) for net in nets for i in range(10)]
    built: list[int] = []
    real = scipy.spatial.cKDTree

    def counted(*args: object, **kwargs: object) -> object:
        built.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(scipy.spatial, "cKDTree", counted)
    with reuse_snap_index():
        inside = [snap_xy(net, xy[i : i + 1], max_snap_m=80.0) for net in nets for i in range(10)]
    assert len(built) == 2  # the first network's, then the second's
    snap_xy(nets[1], xy[:1])
    assert len(built) == 3  # after the block, each call builds its own again
    for a, b in zip(alone, inside, strict=True):
        for field in ("edge", "offset", "snap_m", "proj_xy"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


# ----------------------------------------------------------------------------------------
# nearest minutes


def test_nearest_minutes_exact_on_grid() -> None:
    demand = points(
        [(400, 400), (250, 40), (180, 10), (0, 0)],
        ["corner", "leg", "same-edge", "at-asset"],
        population=[1, 1, 1, 1],
    )
    A = assets([(0, 0), (120, 10)], ["Library", "GP / Medical Centre"])
    model = prepare(grid(), demand=demand, assets=A)
    m = nearest_minutes(model, speed_m_per_min=SPEED)
    assert list(m.columns[: len(settings.CATEGORIES)]) == list(settings.CATEGORIES)
    assert list(m.columns[len(settings.CATEGORIES) :]) == list(settings.BUNDLES)
    lib = m["Library"]
    assert lib["corner"] == pytest.approx(800 / SPEED)
    assert lib["leg"] == pytest.approx((250 + 40) / SPEED)
    assert lib["same-edge"] == pytest.approx((180 + 10) / SPEED)
    assert lib["at-asset"] == pytest.approx(0.0)
    gp = m["GP / Medical Centre"]
    # (120, 10) and (180, 10) both snap to the edge (100, 0)-(200, 0)
    assert gp["same-edge"] == pytest.approx((60 + 10 + 10) / SPEED)
    assert gp["at-asset"] == pytest.approx((120 + 10) / SPEED)
    # categories with no asset are NaN, never a sentinel
    assert m["Charity"].isna().all()
    # bundles: nearest of any of their categories
    assert m["somewhere to go"].equals(m["Library"])
    assert m["someone to see"].equals(m["GP / Medical Centre"])
    assert m.attrs["network"] == "network: synthetic grid"


def test_nearest_minutes_max_minutes_stops_at_the_limit() -> None:
    demand = points(
        [(400, 400), (250, 40), (180, 10), (0, 0)],
        ["corner", "leg", "same-edge", "at-asset"],
        population=[1, 1, 1, 1],
    )
    A = assets([(0, 0), (120, 10)], ["Library", "GP / Medical Centre"])
    model = prepare(grid(), demand=demand, assets=A)
    full = nearest_minutes(model, speed_m_per_min=SPEED)
    # 300 m: "leg" is 290 m from the library, "corner" 800 m
    cut = nearest_minutes(model, speed_m_per_min=SPEED, max_minutes=300 / SPEED)
    assert cut.columns.equals(full.columns)
    near = full <= 300 / SPEED
    assert near.to_numpy().sum() > 0 and (~near & full.notna()).to_numpy().sum() > 0
    pd.testing.assert_frame_equal(cut, full.where(near))
    assert np.isnan(cut.loc["corner", "Library"])
    assert cut.loc["leg", "Library"] == full.loc["leg", "Library"]
    # the threshold itself is within (exactly 290 m away)
    at = nearest_minutes(model, speed_m_per_min=SPEED, max_minutes=290 / SPEED)
    assert at.loc["leg", "Library"] == full.loc["leg", "Library"]
    with pytest.raises(NwmGeoError, match="max_minutes"):
        nearest_minutes(model, max_minutes=-1)


def test_unreachable_component_gives_nan() -> None:
    G = grid(3)
    G.add_node("x1", x=10000.0, y=0.0)
    G.add_node("x2", x=10100.0, y=0.0)
    G.add_edge("x1", "x2", length=100.0)
    G.add_edge("x2", "x1", length=100.0)
    demand = points([(10050, 5), (50, 0)], ["island", "home"], population=[5, 5])
    model = prepare(G, demand=demand, assets=assets([(0, 0)], ["Library"]))
    m = nearest_minutes(model, speed_m_per_min=SPEED, categories=["Library"], bundles={})
    assert np.isnan(m.loc["island", "Library"])
    assert m.loc["home", "Library"] == pytest.approx(50 / SPEED)


def random_network(seed: int) -> nx.MultiDiGraph:
    """A synthetic random geometric network with curved-free straight edges."""
    rng = np.random.default_rng(seed)
    G = nx.MultiDiGraph(crs=settings.crs)
    xy = rng.uniform(0, 1000, size=(40, 2))
    for i, (x, y) in enumerate(xy):
        G.add_node(i, x=float(x), y=float(y))
    for i, j in itertools.combinations(range(40), 2):
        d = float(np.hypot(*(xy[i] - xy[j])))
        if d < 260:
            length = d * rng.uniform(1.0, 1.5)  # lengths longer than straight, like real streets
            G.add_edge(i, j, length=length)
            G.add_edge(j, i, length=length)
    return G


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_networkx_shortest_paths(seed: int) -> None:
    G = random_network(seed)
    rng = np.random.default_rng(100 + seed)
    dem_xy = [tuple(p) for p in rng.uniform(0, 1000, size=(30, 2))]
    ast_xy = [tuple(p) for p in rng.uniform(0, 1000, size=(6, 2))]
    demand = points(dem_xy, [f"d{i}" for i in range(30)], population=[1] * 30)
    A = assets(ast_xy, ["Library"] * 3 + ["Council"] * 3)
    model = prepare(G, demand=demand, assets=A)
    cats = ["Library", "Council"]
    got = nearest_minutes(model, speed_m_per_min=SPEED, categories=cats, bundles={}) * SPEED

    # reference: networkx distances between edge ends plus the along-edge and snap legs
    U = nx.Graph()
    for u, v, d in G.edges(data=True):
        if not U.has_edge(u, v) or U[u][v]["length"] > d["length"]:
            U.add_edge(u, v, length=d["length"])
    dist = dict(nx.all_pairs_dijkstra_path_length(U, weight="length"))
    sd, sa = snap(G, demand), snap(G, A)

    def legs(r: pd.Series) -> list[tuple[object, float]]:
        length = G.edges[r["u"], r["v"], r["key"]]["length"]
        return [(r["u"], r["offset_m"]), (r["v"], length - r["offset_m"])]

    for cat in ["Library", "Council"]:
        for pid, pr in sd.iterrows():
            best = np.inf
            for _aid, ar in sa[A["category"] == cat].iterrows():
                for (pn, pl), (an, al) in itertools.product(legs(pr), legs(ar)):
                    best = min(
                        best, pl + dist[pn].get(an, np.inf) + al + pr["snap_m"] + ar["snap_m"]
                    )
                if {pr["u"], pr["v"]} == {ar["u"], ar["v"]} and pr["key"] == ar["key"]:
                    a_off = (
                        ar["offset_m"]
                        if ar["u"] == pr["u"]
                        else (G.edges[ar["u"], ar["v"], ar["key"]]["length"] - ar["offset_m"])
                    )
                    best = min(best, abs(pr["offset_m"] - a_off) + pr["snap_m"] + ar["snap_m"])
            assert got.loc[pid, cat] == pytest.approx(best, abs=1e-6), (pid, cat)


# ----------------------------------------------------------------------------------------
# coverage tables


def test_coverage_table_hand_computed() -> None:
    m = pd.DataFrame(
        {
            "Library": [5.0, 20.0, np.nan, 15.0],
            "Council": [1.0, 1.0, 1.0, 16.0],
            "go": [5.0, 20.0, 3.0, 15.0],
            "see": [1.0, 14.0, np.nan, 15.0],
        },
        index=pd.Index(["a", "b", "c", "d"], name="point_id"),
    )
    demand = pd.DataFrame(
        {"population": [10, 20, 30, 40], "ward_code": ["W1", "W1", "W2", "W2"]},
        index=m.index,
    )
    bundles = {"go": ("Library",), "see": ("Council",)}
    t = coverage_table(m, demand, by="ward_code", minutes=15, bundles=bundles)
    assert list(t.columns) == ["ward_code", "category", "population", "covered_population", "share"]
    row = t.set_index(["ward_code", "category"])
    assert row.loc[("W1", "Library"), "covered_population"] == 10
    assert row.loc[("W1", "Library"), "population"] == 30
    assert row.loc[("W1", "Library"), "share"] == pytest.approx(1 / 3)
    assert row.loc[("W2", "Library"), "covered_population"] == 40  # 15.0 counts as within
    assert row.loc[("W2", "Council"), "covered_population"] == 30
    # every bundle: a (10) in W1; d (40) in W2
    label = all_bundles_label(bundles)
    assert label == "both bundles"
    assert row.loc[("W1", label), "covered_population"] == 10
    assert row.loc[("W2", label), "covered_population"] == 40
    assert all_bundles_label() == "all three bundles"
    assert all_bundles_label({"go": ("Library",)}) == "the one bundle"
    assert all_bundles_label({str(i): ("Library",) for i in range(4)}) == "all four bundles"
    total = coverage_summary(m, demand, minutes=15, bundles=bundles)
    assert total.loc["Library", "covered_population"] == 50
    assert total.loc["Library", "share_pct"] == pytest.approx(50.0)  # percent, as published


def test_coverage_table_unknown_column() -> None:
    m = pd.DataFrame({"Library": [1.0]}, index=["a"])
    with pytest.raises(NwmGeoError, match="locality"):
        coverage_table(m, pd.DataFrame({"population": [1]}, index=["a"]), by="locality")


# ----------------------------------------------------------------------------------------
# criticality and coverage matrix


@pytest.fixture
def two_libraries() -> tuple[object, float]:
    # bottom row x = 0..400, populations 1, 2, 4, 8, 16; one far point (0, 400): 64
    xy = [(x, 0.0) for x in range(0, 500, 100)] + [(0.0, 400.0)]
    demand = points(xy, [f"x{x}" for x, _ in xy[:-1]] + ["top"], population=[1, 2, 4, 8, 16, 64])
    A = assets([(0, 0), (400, 0), (200, 200)], ["Library", "Library", "Council"])
    return prepare(grid(), demand=demand, assets=A), 300 / SPEED


def test_asset_criticality_hand_case(two_libraries: tuple[object, float]) -> None:
    model, minutes = two_libraries
    c = asset_criticality(model, minutes=minutes, speed_m_per_min=SPEED)  # type: ignore[arg-type]
    assert list(c.index) == ["A0", "A1", "A2"]
    assert c.loc["A0", "covered_population"] == 1 + 2 + 4 + 8
    assert c.loc["A1", "covered_population"] == 2 + 4 + 8 + 16
    assert c.loc["A0", "sole_population"] == 1
    assert c.loc["A1", "sole_population"] == 16
    assert c.loc["A0", "sole_points"] == 1 and c.loc["A1", "sole_points"] == 1
    # Council at (200, 200): x200 is 200 m away, x100/x300 300 m, top 400 m
    assert c.loc["A2", "covered_population"] == 2 + 4 + 8
    assert c.loc["A2", "sole_population"] == 2 + 4 + 8
    assert c.loc["A2", "category"] == "Council"


def test_asset_criticality_uses_the_cover_given(two_libraries: tuple[object, float]) -> None:
    model, minutes = two_libraries
    want = asset_criticality(model, minutes=minutes, speed_m_per_min=SPEED)  # type: ignore[arg-type]
    cover = coverage_matrix(model, minutes=minutes, speed_m_per_min=SPEED)  # type: ignore[arg-type]
    got = asset_criticality(model, cover=cover)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(got, want)
    # the cover is used, not recomputed: a cover where A1 reaches nobody changes the answer
    dense = cover.matrix.toarray()
    dense[:, 1] = False
    edited = Cover(
        matrix=dense,
        point_index=cover.point_index,
        source_index=cover.source_index,
        minutes=cover.minutes,
        speed_m_per_min=cover.speed_m_per_min,
    )
    c = asset_criticality(model, cover=edited)  # type: ignore[arg-type]
    assert c.loc["A1", "covered_population"] == 0
    assert c.loc["A0", "sole_population"] == 1 + 2 + 4 + 8  # now alone on x0..x300
    with pytest.raises(NwmGeoError, match="not both"):
        asset_criticality(model, cover=cover, minutes=minutes)  # type: ignore[arg-type]
    part = Cover(
        matrix=cover.matrix[:, :2],
        point_index=cover.point_index,
        source_index=cover.source_index[:2],
        minutes=cover.minutes,
        speed_m_per_min=cover.speed_m_per_min,
    )
    with pytest.raises(NwmGeoError, match="all its demand points and assets"):
        asset_criticality(model, cover=part)  # type: ignore[arg-type]


def test_one_criticality_for_coverage_and_requirements(
    two_libraries: tuple[object, float],
) -> None:
    """requirements.asset_catchments delegates to coverage.cover_criticality."""
    from nwm_geo import requirements

    model, minutes = two_libraries
    cover = coverage_matrix(model, minutes=minutes, speed_m_per_min=SPEED)  # type: ignore[arg-type]
    crit = asset_criticality(model, cover=cover)  # type: ignore[arg-type]
    assert crit.loc["A0", "n_overlapping"] == 1 and crit.loc["A2", "n_overlapping"] == 0
    demand = pd.DataFrame({"population": model.population}, index=model.point_ids)  # type: ignore[attr-defined]
    register = pd.DataFrame(
        {"category": model.category, "name": model.name}  # type: ignore[attr-defined]
    )
    catch = requirements.asset_catchments(cover, register, demand)
    pd.testing.assert_frame_equal(
        catch, crit[list(requirements.CATCHMENT_COLUMNS)], check_names=False
    )
    direct = cover_criticality(
        cover, population=demand["population"], category=register["category"]
    )
    assert (direct["sole_population"] == crit["sole_population"]).all()


def test_coverage_matrix_assets_and_points(two_libraries: tuple[object, float]) -> None:
    model, minutes = two_libraries
    cover = coverage_matrix(model, minutes=minutes, speed_m_per_min=SPEED)  # type: ignore[arg-type]
    M, pts, src = cover.matrix, cover.point_index, cover.source_index
    assert cover.minutes == minutes and cover.speed_m_per_min == SPEED
    assert cover.threshold_m == pytest.approx(300.0)
    assert M.shape == (6, 3)
    assert list(src) == ["A0", "A1", "A2"]
    assert list(pts) == ["x0", "x100", "x200", "x300", "x400", "top"]
    dense = M.toarray()
    assert dense[:, 0].tolist() == [True, True, True, True, False, False]
    assert dense[:, 1].tolist() == [False, True, True, True, True, False]
    pc = coverage_matrix(
        model,  # type: ignore[arg-type]
        sources="points",
        source_ids=["x0", "top"],
        minutes=minutes,
        speed_m_per_min=SPEED,
    )
    P, pts2, src2 = pc.matrix, pc.point_index, pc.source_index
    assert P.shape == (6, 2) and list(src2) == ["x0", "top"]
    assert pts2.equals(pts)
    assert P.toarray()[:, 1].tolist() == [False, False, False, False, False, True]
    with pytest.raises(NwmGeoError, match="Unknown source"):
        coverage_matrix(model, sources="points", source_ids=["nope"])  # type: ignore[arg-type]
    with pytest.raises(NwmGeoError, match="more than 0"):
        coverage_matrix(model, minutes=0)  # type: ignore[arg-type]
    with pytest.raises(NwmGeoError, match="km/h"):
        coverage_matrix(model, speed_m_per_min=4.8)  # type: ignore[arg-type]


def test_insert_points_gives_exact_network_distances() -> None:
    """The public engine a calibration uses: snap_xy + insert_points + dijkstra."""
    from scipy.sparse.csgraph import dijkstra

    arr = NetworkArrays.from_graph(grid(3))
    xy = np.array([[50.0, 10.0], [200.0, 130.0], [0.0, 0.0]])
    ins = insert_points(arr, snap_xy(arr, xy))
    d = dijkstra(ins.graph, directed=False, indices=ins.point_nodes)[:, ins.point_nodes]
    # (50, 10): 10 m leaf to (50, 0); (200, 130): on the x = 200 edge; (0, 0): a node
    assert d[0, 2] == pytest.approx(10 + 50)
    assert d[0, 1] == pytest.approx(10 + 150 + 130)
    assert d[1, 2] == pytest.approx(200 + 130)
    assert ins.point_nodes[2] == arr.node_pos[0]


# ----------------------------------------------------------------------------------------
# walksheds


def test_walkshed_cuts_partly_reached_edges() -> None:
    demand = points([(400, 400)], ["p"], population=[1])
    model = prepare(grid(geometry=True), demand=demand, assets=assets([(0, 0)], ["Library"]))
    ws = walksheds(model, minutes=150 / SPEED, speed_m_per_min=SPEED, buffer_m=1)
    assert ws.crs == settings.crs
    poly = ws.loc["A0", "geometry"]
    assert poly.contains(Point(145, 0)) and poly.contains(Point(0, 145))
    assert not poly.contains(Point(155, 0))
    assert poly.contains(Point(100, 45)) and not poly.contains(Point(100, 55))
    by_cat = walksheds(model, minutes=150 / SPEED, speed_m_per_min=SPEED, by="category", buffer_m=1)
    assert list(by_cat.index) == ["Library"]
    assert by_cat.geometry.iloc[0].equals(poly)


def test_catchment_cells_shade_exactly_the_cells_of_postcodes_within() -> None:
    # SYNTHETIC: a 3 x 3 grid of postcodes 100 m apart in a 300 m square borough; the
    # middle column is within the walk, the rest beyond (NaN counts as beyond), and two
    # postcodes share the top-left location (one cell for both).
    xy = [(50 + 100 * i, 50 + 100 * j) for j in range(3) for i in range(3)] + [(50, 250)]
    ids = [f"P{k}" for k in range(len(xy))]
    pts = gpd.GeoDataFrame(
        {"population": [10] * len(xy)},
        geometry=[Point(x, y) for x, y in xy],
        index=pd.Index(ids, name="point_id"),
        crs=settings.crs,
    )
    mins = [5.0 if x == 150 else (30.0 if k % 2 else np.nan) for k, (x, _) in enumerate(xy)]
    nearest = pd.DataFrame({"Library": mins, "Health": [30.0] * len(xy)}, index=pts.index)
    borough = shapely.box(0, 0, 300, 300)
    cells = catchment_cells(pts, nearest, boundary=borough)
    assert list(cells.index) == ["Library", "Health"] and cells.crs == settings.crs
    lib = cells.loc["Library", "geometry"]
    assert lib.equals_exact(shapely.box(100, 0, 200, 300).normalize(), 1e-6) or (
        lib.symmetric_difference(shapely.box(100, 0, 200, 300)).area < 1e-6
    )
    assert cells.loc["Library", "population"] == 30 and cells.loc["Library", "points"] == 3
    assert cells.loc["Health", "geometry"] is None and cells.loc["Health", "population"] == 0
    assert "catchment cells" in cells.attrs["method"]
    gaps = catchment_cells(pts, nearest, boundary=borough, columns=["Library"], beyond=True)
    # within and beyond tile the borough without holes or overlaps
    assert gaps.loc["Library", "geometry"].union(lib).area == pytest.approx(borough.area)
    assert gaps.loc["Library", "geometry"].intersection(lib).area == pytest.approx(0, abs=1e-6)
    assert gaps.loc["Library", "population"] == 70
    with pytest.raises(NwmGeoError, match="no column"):
        catchment_cells(pts, nearest, boundary=borough, columns=["Library", "Nope"])


def test_prepare_reports_missing_columns() -> None:
    demand = points([(0, 0)], ["p"])
    with pytest.raises(NwmGeoError, match="population"):
        prepare(grid(), demand=demand, assets=assets([(0, 0)], ["Library"]))


def test_approximate_graph_works_downstream() -> None:
    rng = np.random.default_rng(7)
    xy = [tuple(p) for p in rng.uniform(0, 1500, size=(80, 2))]  # synthetic postcodes
    pts = points(xy, [f"S{i}" for i in range(80)], population=[10] * 80)
    G = approximate_graph(pts)
    model = prepare(G, demand=pts, assets=assets([xy[0]], ["Library"]))
    m = nearest_minutes(model, categories=["Library"], bundles={})
    assert m.loc["S0", "Library"] == pytest.approx(0.0)
    assert m["Library"].notna().all()  # the approximation is connected
    assert model.label == "network: approximate (postcode proximity), not OSM"


# ----------------------------------------------------------------------------------------
# bad population values are errors, not zeros


@pytest.mark.parametrize(
    ("bad", "why"),
    [(None, "missing"), ("lots", "not numeric"), (np.inf, "not finite"), (-3, "negative")],
)
def test_bad_population_raises_naming_the_points(bad: object, why: str) -> None:
    demand = points([(0, 0), (100, 0), (200, 0)], ["ok1", "BAD", "ok2"], population=[1, bad, 2])
    A = assets([(0, 0)], ["Library"])
    with pytest.raises(NwmGeoError, match="BAD") as info:
        prepare(grid(), demand=demand, assets=A)
    assert "ok1" not in str(info.value) and "ok2" not in str(info.value)
    m = pd.DataFrame({"Library": [1.0, 1.0, 1.0]}, index=demand.index)
    with pytest.raises(NwmGeoError, match="BAD"):
        coverage_table(m, demand.assign(ward_code="W1"), by="ward_code", bundles={}, minutes=15)


def test_bad_population_lists_at_most_ten_ids() -> None:
    ids = [f"P{i}" for i in range(15)]
    demand = points([(float(i), 0.0) for i in range(15)], ids, population=[-1] * 15)
    m = pd.DataFrame({"Library": [1.0] * 15}, index=demand.index)
    with pytest.raises(NwmGeoError, match="15 point") as info:
        coverage_table(m, demand.assign(ward_code="W1"), by="ward_code", bundles={})
    assert "P9" in str(info.value) and "P10" not in str(info.value)


# ----------------------------------------------------------------------------------------
# misspelled categories and bundles are errors, not 0 % coverage


def test_unknown_bundle_category_raises(two_libraries: tuple[object, float]) -> None:
    model, _ = two_libraries
    with pytest.raises(NwmGeoError, match="Libary") as info:
        nearest_minutes(model, bundles={"go": ("Libary", "Council")})  # type: ignore[arg-type]
    assert "'Council'" not in str(info.value).split(":")[0]
    with pytest.raises(NwmGeoError, match="Libary"):
        nearest_minutes(model, categories=["Libary"], bundles={})  # type: ignore[arg-type]
    # a category of settings.CATEGORIES with no asset is valid (its time is NaN)
    absent = next(c for c in settings.CATEGORIES if c not in {"Library", "Council"})
    m = nearest_minutes(model, bundles={"go": (absent,)})  # type: ignore[arg-type]
    assert m["go"].isna().all()


def test_coverage_table_unknown_bundle_name_raises() -> None:
    m = pd.DataFrame({"Library": [5.0], "go": [5.0]}, index=pd.Index(["a"], name="point_id"))
    demand = pd.DataFrame({"population": [1], "ward_code": ["W1"]}, index=m.index)
    with pytest.raises(NwmGeoError, match="'og'"):
        coverage_table(m, demand, bundles={"go": ("Library",), "og": ("Library",)})
    with pytest.raises(NwmGeoError, match="'og'"):
        coverage_summary(m, demand, bundles={"og": ("Library",)})


def test_coverage_table_uses_the_shared_within_rule() -> None:
    """A rounding error above the threshold is covered, a real excess is not; 0 minutes is
    an error, not the default (nwm_geo._units).
    """
    idx = pd.Index(["a", "b", "c"], name="point_id")
    m = pd.DataFrame({"Library": [15.0, 15.0 + 1e-9, 15.0 + 1e-4]}, index=idx)
    m.attrs["speed_m_per_min"] = SPEED
    demand = pd.DataFrame({"population": [1, 2, 4], "ward_code": "W1"}, index=idx)
    t = coverage_summary(m, demand, minutes=15, bundles={})
    assert t.loc["Library", "covered_population"] == 3
    with pytest.raises(NwmGeoError, match="more than 0"):
        coverage_summary(m, demand, minutes=0, bundles={})


def test_network_arrays_pickle_their_geometries_as_wkb_and_read_them_back() -> None:
    import pickle

    arr = NetworkArrays.from_graph(grid(3))
    state = arr.__getstate__()
    assert not any(isinstance(g, shapely.Geometry) for g in np.ravel(state["geom"].wkb))
    back = pickle.loads(pickle.dumps(arr))
    assert len(back.geom) == len(arr.geom) > 0
    assert all(a.wkb == b.wkb for a, b in zip(arr.geom, back.geom, strict=True))
    for name in ("node_ids", "xy", "eu", "ev", "ekey", "length"):
        np.testing.assert_array_equal(getattr(back, name), getattr(arr, name))
    assert (back.crs, back.label) == (arr.crs, arr.label)
