"""Tests for nwm_geo.equity and the demand-point groups.

The unit tests use a SYNTHETIC case computed by hand: two LSOAs with known IMD deciles
and known age bands on a 5 x 5 grid network with 100 m edges. The integration tests
run on the real Luton and Rutland bundles.
"""

from __future__ import annotations

import json

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from nwm_geo import NwmGeoError, data, equity, settings
from nwm_geo.coverage import nearest_minutes, prepare

BANDS = list(data.AGE_BANDS)


def grid(n: int = 5, step: float = 100.0) -> nx.MultiDiGraph:
    """A SYNTHETIC n x n grid, node i*n+j at (j*step, i*step), edges both ways."""
    G = nx.MultiDiGraph(crs=settings.crs, nwm_source="synthetic grid", approximate=True)
    for i in range(n):
        for j in range(n):
            G.add_node(i * n + j, x=j * step, y=i * step)
    for i in range(n):
        for j in range(n):
            for di, dj in ((0, 1), (1, 0)):
                if i + di < n and j + dj < n:
                    a, b = i * n + j, (i + di) * n + j + dj
                    line = LineString([(j * step, i * step), ((j + dj) * step, (i + di) * step)])
                    G.add_edge(a, b, length=step, geometry=line)
                    G.add_edge(b, a, length=step, geometry=LineString(line.coords[::-1]))
    return G


#: SYNTHETIC points: LSOA A (IMD decile 2, quintile 1) holds P1 and P2; LSOA B (decile
#: 9, quintile 5) holds P3 and P4. Network distances to the one library at (0, 0):
#: P1 100 m, P2 300 m, P3 800 m, P4 300 m.
POINTS = {
    "P1": ((100.0, 0.0), "A", "West", {"age_0_15": 4, "age_65_plus": 6}),
    "P2": ((300.0, 0.0), "A", "East", {"age_35_49": 15, "age_65_plus": 5}),
    "P3": ((400.0, 400.0), "B", "West", {"age_16_24": 30}),
    "P4": ((0.0, 300.0), "B", "East", {"age_25_34": 30, "age_65_plus": 10}),
}
IMD = {"A": (3000, 2), "B": (27000, 9)}


def hand_case() -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    rows = []
    for _xy, lsoa, loc, bands in POINTS.values():
        rank, decile = IMD[lsoa]
        row = {b: bands.get(b, 0) for b in BANDS}
        row.update(
            population=sum(bands.values()),
            lsoa11_code=lsoa,
            imd_rank=rank,
            imd_decile=decile,
            imd_quintile=(decile + 1) // 2,
            locality=loc,
        )
        rows.append(row)
    demand = gpd.GeoDataFrame(
        rows,
        geometry=[Point(v[0]) for v in POINTS.values()],
        index=pd.Index(list(POINTS), name="point_id"),
        crs=settings.crs,
    )
    library = gpd.GeoDataFrame(
        {"category": ["Library"], "name": ["synthetic library"]},
        geometry=[Point(0, 0)],
        index=pd.Index(["L1"], name="asset_id"),
        crs=settings.crs,
    )
    model = prepare(grid(), demand=demand, assets=library)
    minutes = nearest_minutes(
        model, speed_m_per_min=80.0, categories=["Library"], bundles={"go": ("Library",)}
    )
    return minutes, demand


#: 5 minutes at the default 80 m/min is 400 m; at the 65+ speed given here, 200 m.
KW = {"area_name": "Synthetica", "minutes": 5.0, "speeds": {"age_65_plus": 40.0}}


def test_group_shares_match_the_hand_result() -> None:
    minutes, demand = hand_case()
    dep = equity.coverage_by_deprivation(minutes, demand, **KW)  # type: ignore[arg-type]
    row = dep[(dep["locality"] == "Synthetica") & (dep["measure"] == "Library")].set_index(
        "imd_decile"
    )
    # A: P1 (10) and P2 (20) within 400 m; B: P4 (40) within, P3 (30) at 800 m beyond
    assert row["population"].to_dict() == {2: 30, 9: 70}
    assert row.loc[2, "covered_pct"] == pytest.approx(100.0)
    assert row.loc[9, "covered_pct"] == pytest.approx(400 / 7)
    # at the age speeds P2's five and P4's ten residents aged 65+ (300 m > 200 m) drop out
    assert row.loc[2, "covered_pct_age_speeds"] == pytest.approx(2500 / 30)
    assert row.loc[9, "covered_pct_age_speeds"] == pytest.approx(3000 / 70)
    west = dep[(dep["locality"] == "West") & (dep["measure"] == "Library")]
    assert west.set_index("imd_decile")["population"].to_dict() == {2: 10, 9: 30}
    barriers = demand.assign(barriers_to_housing_and_services_decile=[3, 1, 3, 1])
    dom = equity.coverage_by_deprivation(
        minutes, barriers, group="barriers_to_housing_and_services_decile", **KW
    )  # type: ignore[arg-type]
    dom = dom[(dom["locality"] == "Synthetica") & (dom["measure"] == "Library")]
    # decile 1: P2 (20) and P4 (40), both within 400 m; decile 3: P1 (10) in, P3 (30) out
    assert dom.set_index("barriers_to_housing_and_services_decile")["covered_pct"].to_dict() == {
        1: pytest.approx(100.0),
        3: pytest.approx(25.0),
    }

    age = equity.coverage_by_age(minutes, demand, **KW)  # type: ignore[arg-type]
    a = age[(age["locality"] == "Synthetica") & (age["measure"] == "Library")]
    a = a.set_index("age_band")
    assert a.loc["age_65_plus", "population"] == 21
    assert a.loc["age_65_plus", "speed_m_per_min"] == 40.0
    assert a.loc["age_65_plus", "covered_pct"] == pytest.approx(600 / 21)  # only P1's six
    assert a.loc["age_65_plus", "covered_pct_default_speed"] == pytest.approx(100.0)
    assert a.loc["age_16_24", "covered_pct"] == pytest.approx(0.0)  # P3 only
    assert a.loc[equity.ALL_RESIDENTS, "population"] == 100
    assert a.loc[equity.ALL_RESIDENTS, "covered_pct"] == pytest.approx(55.0)  # 70 - 15
    assert a.loc[equity.ALL_RESIDENTS, "covered_pct_default_speed"] == pytest.approx(70.0)
    assert int(a.loc[BANDS, "population"].sum()) == 100


def test_gaps_and_concentration_index_match_the_hand_result() -> None:
    minutes, demand = hand_case()
    gaps = equity.equity_gaps(minutes, demand, **KW)  # type: ignore[arg-type]
    g = gaps.set_index(["locality", "measure"]).loc[("Synthetica", "Library")]
    assert (g["most_deprived_quintile"], g["least_deprived_quintile"]) == (1, 5)
    assert g["quintile_gap_pp"] == pytest.approx(100 - 400 / 7)
    assert g["age_gap_pp"] == pytest.approx(600 / 21 - 70)
    assert g["age_gap_default_speed_pp"] == pytest.approx(30.0)
    # f = (0.3, 0.7), mu_t = (1, 4/7), mu = 0.7, R = (0.15, 0.65):
    # C = 2 / 0.7 * (0.3 * 1 * 0.15 + 0.7 * 4/7 * 0.65) - 1 = -9/70
    assert g["concentration_index"] == pytest.approx(-9 / 70)
    assert equity.concentration_index([30, 40], [30, 70], [3000, 27000]) == pytest.approx(-9 / 70)


def test_gaps_carry_each_groups_residents() -> None:
    minutes, demand = hand_case()
    gaps = equity.equity_gaps(minutes, demand, **KW)  # type: ignore[arg-type]
    g = gaps.set_index(["locality", "measure"]).loc[("Synthetica", "Library")]
    # quintile 1 = LSOA A (P1 10 + P2 20), quintile 5 = LSOA B (70); 65+: 6 + 5 + 10
    assert (g["most_deprived_population"], g["least_deprived_population"]) == (30, 70)
    assert g["age_65_plus_population"] == 21
    west = gaps.set_index(["locality", "measure"]).loc[("West", "Library")]
    assert (west["most_deprived_population"], west["least_deprived_population"]) == (10, 30)


def small_gaps() -> pd.DataFrame:
    """SYNTHETIC gap rows: Luton-like sizes, one small least deprived group."""
    return pd.DataFrame(
        {
            "locality": ["Synthetica", "Synthetica", "Synthetica", "North"],
            "measure": ["someone to see", "somewhere to go", "all three bundles", "Library"],
            "population": [100_000, 100_000, 100_000, 20_000],
            "most_deprived_quintile": [1, 1, 1, 2],
            "most_deprived_population": [40_000, 40_000, 40_000, 9_000],
            "least_deprived_quintile": [5, 5, 5, 4],
            "least_deprived_population": [3_000, 3_000, 3_000, 6_000],
            "age_65_plus_population": [12_000, 12_000, 12_000, 900],
        }
    )


def test_small_groups_are_flagged_with_the_register_shortfall() -> None:
    short = {"GP / Medical Centre": (24, 35), "Library": (5, 6), "Education": (79, 85)}
    out = equity.flag_small_groups(small_gaps(), shortfall=short)
    notes = out["small_groups"].tolist()
    # someone to see: the 3 % least deprived group is small; GP is in the bundle, Library not
    assert notes[0].startswith(
        "small group: least deprived (IMD quintile 5) 3,000 residents, 3.0 % of Synthetica"
    )
    assert "GP / Medical Centre 24 of 35" in notes[0] and "Library" not in notes[0]
    # somewhere to go holds Library, not GP
    assert "Library 5 of 6" in notes[1] and "GP" not in notes[1]
    # all three bundles: every bundle's categories; Education is in none of them
    assert "GP / Medical Centre 24 of 35" in notes[2] and "Library 5 of 6" in notes[2]
    assert "Education" not in notes[2]
    # a category row: 65+ is 4.5 % of North (small), quintile 4 at 30 % is not
    assert notes[3].startswith("small group: aged 65+ 900 residents, 4.5 % of North")
    assert "least deprived" not in notes[3] and "Library 5 of 6" in notes[3]
    # nothing small at a 2 % threshold, and no register note without a shortfall
    assert (equity.flag_small_groups(small_gaps(), threshold=0.02)["small_groups"] == "").all()
    assert "not short" in equity.flag_small_groups(small_gaps())["small_groups"].iloc[0]


def test_concentration_index_properties() -> None:
    assert equity.concentration_index([5, 10], [10, 20], [1, 2]) == pytest.approx(0.0)
    # only the least deprived covered: the upper bound 1 - mu for a yes/no outcome
    assert equity.concentration_index([0, 50], [50, 50], [1, 2]) == pytest.approx(0.5)
    assert equity.concentration_index([50, 0], [50, 50], [1, 2]) == pytest.approx(-0.5)
    assert np.isnan(equity.concentration_index([0, 0], [5, 5], [1, 2]))
    # groups with one rank are one group, whatever their order
    a = equity.concentration_index([1, 2, 3], [4, 4, 4], [2, 1, 2])
    b = equity.concentration_index([4, 2], [8, 4], [2, 1])
    assert a == pytest.approx(b)


def test_slower_speed_never_covers_more() -> None:
    minutes, demand = hand_case()
    for speed in (20.0, 40.0, 55.5, 80.0):
        age = equity.coverage_by_age(
            minutes, demand, area_name="S", minutes=5.0, speeds={"age_65_plus": speed}
        )
        old = age[age["age_band"] == "age_65_plus"]
        assert (old["covered_pct"] <= old["covered_pct_default_speed"] + 1e-12).all()


def test_minutes_at_speed_reuses_the_distance() -> None:
    minutes, _ = hand_case()
    slow = equity.minutes_at_speed(minutes, speed_m_per_min=40.0)
    assert slow.attrs["speed_m_per_min"] == 40.0
    assert slow.loc["P2", "Library"] == pytest.approx(300 / 40)
    assert minutes.loc["P2", "Library"] == pytest.approx(300 / 80)  # input unchanged


def test_age_speeds_checks_its_input() -> None:
    speeds = equity.age_speeds()
    assert list(speeds) == BANDS
    assert speeds["age_65_plus"] == settings.walk_speed_by_age_m_per_min["age_65_plus"]
    assert speeds["age_0_15"] == settings.walk_speed_m_per_min
    assert equity.age_speeds(default=45.0)["age_65_plus"] == 45.0  # never above the default
    with pytest.raises(NwmGeoError, match="above the default"):
        equity.age_speeds({"age_65_plus": 90.0})
    with pytest.raises(NwmGeoError, match="unknown age band"):
        equity.age_speeds({"age_70_plus": 40.0})
    with pytest.raises(NwmGeoError, match="km/h"):
        equity.age_speeds({"age_65_plus": 3.0})


def test_bands_must_add_up_and_groups_must_exist() -> None:
    minutes, demand = hand_case()
    bad = demand.copy()
    bad.loc["P1", "age_0_15"] = 5
    with pytest.raises(NwmGeoError, match="do not add up"):
        equity.coverage_by_age(minutes, bad, area_name="S")
    with pytest.raises(NwmGeoError, match="imd_quintile"):
        equity.coverage_by_deprivation(
            minutes, demand.drop(columns="imd_quintile"), group="imd_quintile"
        )
    with pytest.raises(NwmGeoError, match="group must be one of"):
        equity.coverage_by_deprivation(minutes, demand, group="lsoa11_code")


def test_group_split_of_flagged_points() -> None:
    minutes, demand = hand_case()
    flagged = demand.assign(beyond=minutes["Library"] > 5.0)  # P3 only
    split = equity.group_split(flagged, weight="beyond").set_index(["group", "value"])
    assert split.loc[("imd_quintile", 5), "residents"] == 30
    assert split.loc[("imd_quintile", 5), "share_pct"] == pytest.approx(100.0)
    assert split.loc[("imd_quintile", 1), "residents"] == 0
    assert split.loc[("age_band", "age_16_24"), "residents"] == 30
    half = equity.group_split(demand.assign(w=0.5), weight="w").set_index(["group", "value"])
    assert half.loc[("age_band", "age_65_plus"), "residents"] == pytest.approx(10.5)
    with pytest.raises(NwmGeoError, match="number >= 0"):
        equity.group_split(demand.assign(w=-1.0), weight="w")
    # without the age bands: an error, or (partial) the quintile rows only
    no_age = flagged.drop(columns=["age_65_plus"])
    with pytest.raises(NwmGeoError, match="age_65_plus"):
        equity.group_split(no_age, weight="beyond")
    part = equity.group_split(no_age, weight="beyond", partial=True)
    assert set(part["group"]) == {"imd_quintile"} and part["residents"].sum() == 30


# ----------------------------------------------------------------------------------------
# demand-point groups


def test_split_by_bands_is_exact_on_both_margins() -> None:
    rng = np.random.default_rng(7)
    for _ in range(200):
        rows = rng.integers(0, 60, size=int(rng.integers(1, 25)))
        shares = rng.random(6)
        cols = data.split_by_bands(
            np.array([int(rows.sum())]),
            np.bincount(rng.choice(6, size=int(rows.sum()), p=shares / shares.sum()), minlength=6),
        )[0]
        table = data.split_by_bands(rows, cols)
        assert (table >= 0).all()
        assert (table.sum(axis=1) == rows).all() and (table.sum(axis=0) == cols).all()
        if rows.sum():  # the first band is the proportional split itself
            assert np.all(np.abs(table[:, 0] - rows * cols[0] / rows.sum()) < 1)
    with pytest.raises(NwmGeoError, match="must be non-negative and equal"):
        data.split_by_bands(np.array([3, 4]), np.array([5, 1]))


def test_demand_points_carry_imd_and_bands(synthetic_area) -> None:
    profile, raw = synthetic_area
    area = data.open_area(profile, data_dir=raw)
    pts = area.population
    assert list(pts.columns) == [*data.population.DEMAND_COLUMNS, *data.GROUP_COLUMNS]
    assert (pts[BANDS].sum(axis=1) == pts["population"]).all()
    lsoas = area.lsoas
    per = pts.groupby("lsoa_code")[BANDS].sum()
    pd.testing.assert_frame_equal(per.reindex(lsoas.index), lsoas[BANDS], check_names=False)
    # the synthetic IMD file gives LSOAs 1..4 deciles 1, 4, 7, 10
    assert pts.groupby("lsoa_code")["imd_decile"].first().tolist() == [1, 4, 7, 10]
    assert pts.groupby("lsoa_code")["imd_quintile"].first().tolist() == [1, 2, 4, 5]
    assert (pts["lsoa11_code"] == pts["lsoa_code"]).all()  # same squares in 2011 and 2021


def test_point_outside_every_lsoa11_takes_the_nearest() -> None:
    crs = settings.crs
    lsoas = gpd.GeoDataFrame(
        {"lsoa_code": ["L1"], "population": [9], **{b: [0] for b in BANDS}},
        geometry=[box(0, 0, 200, 100)],
        crs=crs,
    ).set_index("lsoa_code")
    lsoas["age_65_plus"] = 9
    oas = gpd.GeoDataFrame(
        {"oa_code": ["O1"], "population_2011": [9]}, geometry=[box(0, 0, 200, 100)], crs=crs
    ).set_index("oa_code")
    wards = gpd.GeoDataFrame(
        {"ward_code": ["W1"], "ward_name": ["Synthetic"]}, geometry=[box(0, 0, 200, 100)], crs=crs
    ).set_index("ward_code")
    postcodes = gpd.GeoDataFrame(
        {"in_borough": [True, True], "ward_code": ["W1"] * 2, "ward_name": ["Synthetic"] * 2},
        geometry=[Point(50, 50), Point(190, 50)],
        index=pd.Index(["P1", "P2"], name="postcode"),
        crs=crs,
    )
    # the 2011 polygons leave a sliver at x > 180 (as generalised boundaries do)
    imd = gpd.GeoDataFrame(
        {
            "imd_rank": [100, 20000],
            "imd_decile": [1, 7],
            "imd_quintile": [1, 4],
            **{d: [1, 7] for d in data.DOMAIN_DECILES},
        },
        geometry=[box(0, 0, 100, 100), box(100, 0, 180, 100)],
        index=pd.Index(["S1", "S2"], name="lsoa11_code"),
        crs=crs,
    )
    pts = data.build_demand_points(postcodes, lsoas, oas, wards, imd=imd)
    assert pts["lsoa11_code"].to_dict() == {"P1": "S1", "P2": "S2"}
    assert pts["imd_decile"].to_dict() == {"P1": 1, "P2": 7}
    assert int(pts["age_65_plus"].sum()) == 9


def test_age_bands_that_do_not_add_up_name_the_lsoa(synthetic_area) -> None:
    profile, raw = synthetic_area
    path = raw / "population" / "census2021.csv"
    table = pd.read_csv(path)
    table.loc[2, "age_0_15"] += 7
    table.to_csv(path, index=False)
    with pytest.raises(NwmGeoError, match=r"X01000003 \(1507 in bands, total 1500\)"):
        data.open_area(profile, data_dir=raw).population  # noqa: B018


def test_load_imd_reports_every_bad_cell(synthetic_area) -> None:
    from nwm_geo import DataValidationError

    profile, raw = synthetic_area
    path = raw / "population" / "imd2019.csv"
    table = pd.read_csv(path)
    table.loc[1, "index_of_multiple_deprivation_imd_decile"] = 11
    table.loc[3, "crime_decile"] = None
    table.to_csv(path, index=False)
    with pytest.raises(DataValidationError) as err:
        data.load_imd(data.open_area(profile, data_dir=raw))
    text = str(err.value)
    assert "imd2019.csv, row 3, column 'index_of_multiple_deprivation_imd_decile'" in text
    assert "row 5, column 'crime_decile'" in text


# ----------------------------------------------------------------------------------------
# the real bundles


@pytest.fixture(params=["luton", "rutland"])
def real(request: pytest.FixtureRequest) -> tuple[str, equity.EquityTables, int]:
    """The session's Luton or Rutland study (tests/conftest.py): read, never changed."""
    study = request.getfixturevalue(f"{request.param}_study")
    return study.profile.name, study.equity, int(study.demand["population"].sum())


@pytest.mark.integration
@pytest.mark.xdist_group("areas")
def test_real_group_tables_add_up_to_the_area(real: tuple[str, equity.EquityTables, int]) -> None:
    name, tables, total = real
    assert total == {"Luton": 225239, "Rutland": 41043}[name]
    for frame, group in [
        (tables.deprivation, "imd_decile"),
        (tables.quintiles, "imd_quintile"),
        (tables.age[tables.age["age_band"] != equity.ALL_RESIDENTS], "age_band"),
    ]:
        sums = frame.groupby(["locality", "measure"])["population"].sum()
        assert (sums.xs(name, level="locality") == total).all(), group
        per_loc = sums.drop(index=name, level="locality").groupby(level="measure").sum()
        assert (per_loc == total).all(), group


@pytest.mark.integration
@pytest.mark.xdist_group("areas")
def test_real_65_plus_never_above_default_speed(real: tuple[str, equity.EquityTables, int]) -> None:
    _, tables, _ = real
    old = tables.age[tables.age["age_band"] == "age_65_plus"]
    assert (old["speed_m_per_min"] < settings.walk_speed_m_per_min).all()
    assert (old["covered_pct"] <= old["covered_pct_default_speed"]).all()
    assert (old["covered_pct"] < old["covered_pct_default_speed"]).any()  # it matters


# ----------------------------------------------------------------------------------------
# everywhere users look: files, workbook, map (the SYNTHETIC council)


@pytest.mark.integration  # slow: an end-to-end run (fast tier < 60 s)
def test_run_writes_the_equity_files_sheet_and_map(synthetic_run) -> None:
    from openpyxl import load_workbook

    from nwm_geo import pipeline

    project = synthetic_run.project  # a whole run of the synthetic council
    study = pipeline.Study.from_outputs(
        area=synthetic_run.profile, data_dir=synthetic_run.data_dir, project_dir=project
    )
    processed = project / "data" / "processed" / "synthetic"
    reports = project / "reports" / "synthetic"
    total = 1200 + 900 + 1500 + 600
    dep = pd.read_csv(processed / "coverage_deprivation.csv")
    assert {"locality", "measure", "imd_decile", "population", "covered_pct"} <= set(dep.columns)
    assert (dep.groupby(["locality", "measure"])["population"].sum() <= total).all()
    area_rows = dep[dep["locality"] == "Synthetica"]
    assert (area_rows.groupby("measure")["population"].sum() == total).all()
    assert sorted(area_rows["imd_decile"].unique()) == [1, 4, 7, 10]
    age = pd.read_csv(processed / "coverage_age.csv")
    for col in ("age_band", "speed_m_per_min", "covered_pct", "covered_pct_default_speed"):
        assert col in age.columns
    bands = age[(age["locality"] == "Synthetica") & (age["age_band"] != equity.ALL_RESIDENTS)]
    assert (bands.groupby("measure")["population"].sum() == total).all()
    old = age[age["age_band"] == "age_65_plus"]
    assert (old["covered_pct"] <= old["covered_pct_default_speed"]).all()
    assert old["speed_source"].str.contains("Asher").all()
    gaps = pd.read_csv(processed / "coverage_equity_gaps.csv")
    assert {"quintile_gap_pp", "age_gap_pp", "concentration_index"} <= set(gaps.columns)
    # the decision explorer is written beside the other reports and linked (issue 22)
    assert 'href="explorer.html"' in (reports / "index.html").read_text(encoding="utf-8")
    assert '<script type="application/json" id="nwm-data">' in (
        (reports / "explorer.html").read_text(encoding="utf-8")
    )
    wb = load_workbook(reports / "asset_requirements.xlsx")
    assert "Equity" in wb.sheetnames
    sheet_text = " ".join(str(c.value) for row in wb["Equity"].iter_rows() for c in row if c.value)
    assert "50.8 m/min" in sheet_text and "Asher" in sheet_text and "Kakwani" in sheet_text
    # each locality sheet shows its deprivation and age lines once (one path: the
    # briefing workbook's equity hook), with the 65+ speed noted under them
    localities = set(study.plan.assignment.unique())
    seen = set()
    for ws in wb.worksheets:
        title = str(ws["A1"].value)
        if title.startswith("Locality: "):
            seen.add(title.removeprefix("Locality: "))
            cells = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
            assert cells.count("Deprivation and age") == 1, ws.title
            assert sum("50.8 m/min" in c for c in cells) == 1, ws.title
    assert seen == localities
    page = (reports / "map_equity.html").read_text(encoding="utf-8")
    assert "IMD decile 1 (most deprived)" in page and "50.8 m/min" in page
    sections = pipeline.equity_sections(study)
    assert set(sections) == {*study.plan.assignment.unique(), "Synthetica"}
    lines = sections["Synthetica"].set_index("measure")
    assert list(lines.index) == [*study.bundles, "all three bundles"]
    assert (lines["population"] == total).all()
    assert lines["age_65_plus_share"].between(0, 1).all()
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert "map_equity.html" in index and "65+: 50.8 m/min" in index
    assert "65+: 50.8 m/min" in (processed / "SOURCES.txt").read_text(encoding="utf-8")
    record = json.loads((processed / "provenance.json").read_text(encoding="utf-8"))
    speeds = record["stages"]["coverage"]["walk_speed_by_age_m_per_min"]
    assert speeds["age_65_plus"] == 50.8 and speeds["age_0_15"] == 80.0


def test_equity_map_colours_postcodes_by_decile() -> None:
    from nwm_geo import maps

    minutes, demand = hand_case()
    pts = demand.to_crs(settings.wgs84)
    pts = pd.DataFrame(pts.drop(columns="geometry")).assign(
        lon=pts.geometry.x, lat=pts.geometry.y, go=minutes["Library"] > 5.0
    )
    m = maps.deprivation_gaps_map(pts, measures=["go"], minutes=5.0, speeds_note="65+: 40 m/min")
    page = m.get_root().render()
    assert page.count('"className":"nwm-equity-gap"') == 1  # P3 only
    assert maps.IMD_DECILE_COLOURS[9] in page and "65+: 40 m/min" in page
    with pytest.raises(NwmGeoError, match="imd_decile"):
        maps.deprivation_gaps_map(pts.drop(columns="imd_decile"), measures=["go"])


def test_group_splits_equal_one_group_split_per_weight() -> None:
    from nwm_geo.coverage import group_splits

    minutes, demand = hand_case()
    beyond = (minutes["Library"] > 5.0).to_numpy()  # an array in the points' row order
    splits = group_splits(demand, {"beyond": beyond, "half": np.full(len(demand), 0.5)})
    one = equity.group_split(demand.assign(beyond=beyond), weight="beyond")
    half = equity.group_split(demand.assign(half=0.5), weight="half")
    pd.testing.assert_frame_equal(splits["beyond"], one)
    pd.testing.assert_frame_equal(splits["half"], half)
    assert splits["beyond"]["residents"].sum() > 0  # not two empty tables
    with pytest.raises(NwmGeoError, match="'bad' must be True/False or a number"):
        group_splits(demand, {"ok": beyond, "bad": np.full(len(demand), -1.0)})
    # a Series weight is read by its index, not its order
    shuffled = pd.Series(beyond, index=demand.index).iloc[::-1]
    pd.testing.assert_frame_equal(group_splits(demand, {"beyond": shuffled})["beyond"], one)
    with pytest.raises(NwmGeoError, match="'short' must be True/False or a number"):
        group_splits(demand, {"short": shuffled.iloc[1:]})
