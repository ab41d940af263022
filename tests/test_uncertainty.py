"""Ranges on the headline shares (nwm_geo.uncertainty) and published minutes.

Everything here is SYNTHETIC: hand-made minutes and populations, and the synthetic
council of ``tests/conftest.py``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from nwm_geo import network, pipeline, settings, uncertainty
from nwm_geo._units import published_minutes, within_minutes

BUNDLES = {"b1": ("c1",), "b2": ("c2",)}


def minutes_frame() -> tuple[pd.DataFrame, pd.DataFrame]:
    """SYNTHETIC: four points, populations 10/20/30/40, localities A, A, B, B."""
    idx = pd.Index(["p1", "p2", "p3", "p4"], name="point_id")
    b1 = [10.0, 14.0, 16.0, 20.0]
    b2 = [5.0, 5.0, 5.0, np.nan]
    mins = pd.DataFrame({"c1": b1, "c2": b2, "b1": b1, "b2": b2}, index=idx)
    mins.attrs["speed_m_per_min"] = 80.0
    demand = pd.DataFrame(
        {"population": [10, 20, 30, 40], "locality": ["A", "A", "B", "B"]}, index=idx
    )
    return mins, demand


def row(table: pd.DataFrame, loc: str, measure: str) -> pd.Series:
    hit = table[(table["locality"] == loc) & (table["measure"] == measure)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_headline_ranges_hand_computed() -> None:
    mins, demand = minutes_frame()
    extra = pd.DataFrame({"c1": [False, False, False, True]}, index=mins.index)
    t = uncertainty.headline_ranges(
        mins,
        demand,
        bundles=BUNDLES,
        area_name="Synthetica",
        minutes=15,
        network_band=(0.7, 1.4),
        register_within=extra,
    )
    assert list(t.columns) == list(uncertainty.RANGE_COLUMNS)
    area = row(t, "Synthetica", "b1")
    assert area["population"] == 100
    assert area["published_pct"] == pytest.approx(30.0)  # 10 + 20 of 100
    # network: x 1/0.7 puts 14 min at 20 (beyond); x 1/1.4 brings 16 and 20 within
    assert area["network_low_pct"] == pytest.approx(10.0)
    assert area["network_high_pct"] == pytest.approx(100.0)
    # speed: 14 / 0.9 = 15.6 beyond; 16 / 1.1 = 14.5 within, 20 / 1.1 = 18.2 beyond
    assert area["speed_low_pct"] == pytest.approx(10.0)
    assert area["speed_high_pct"] == pytest.approx(60.0)
    # register: a missing c1 site reaches p4 (40 residents)
    assert area["register_high_pct"] == pytest.approx(70.0)
    assert (area["low_pct"], area["high_pct"]) == (pytest.approx(10.0), pytest.approx(100.0))
    assert area["main_driver"] == "network"
    # locality B: 16 and 20 minutes, nobody within; the register site reaches p4
    b = row(t, "B", "b1")
    assert b["published_pct"] == 0 and b["register_high_pct"] == pytest.approx(400 / 7)
    # both bundles: p4 has no b2 site at all, so the register's c1 site does not help
    both = row(t, "Synthetica", "both bundles")
    assert both["published_pct"] == pytest.approx(30.0)
    assert both["register_high_pct"] == pytest.approx(30.0)
    # rows: localities then the area, bundles then both
    assert list(t["locality"]) == ["A"] * 3 + ["B"] * 3 + ["Synthetica"] * 3
    assert list(t["measure"][:3]) == ["b1", "b2", "both bundles"]


def test_headline_ranges_on_a_real_network_have_no_network_source() -> None:
    mins, demand = minutes_frame()
    t = uncertainty.headline_ranges(mins, demand, bundles=BUNDLES, area_name="S", minutes=15)
    assert t["network_low_pct"].isna().all() and t["register_high_pct"].isna().all()
    area = row(t, "S", "b1")
    assert (area["low_pct"], area["high_pct"]) == (pytest.approx(10.0), pytest.approx(60.0))
    assert area["main_driver"] == "walking speed"


def test_low_published_high_always_ordered() -> None:
    # SYNTHETIC random minutes and populations
    rng = np.random.default_rng(3)
    n = 400
    idx = pd.Index([f"p{i}" for i in range(n)])
    b1 = rng.uniform(0, 30, n)
    b2 = np.where(rng.random(n) < 0.1, np.nan, rng.uniform(0, 30, n))
    mins = pd.DataFrame({"c1": b1, "c2": b2, "b1": b1, "b2": b2}, index=idx)
    demand = pd.DataFrame(
        {"population": rng.integers(0, 50, n), "locality": rng.choice(["A", "B", "C"], n)},
        index=idx,
    )
    extra = pd.DataFrame({"c2": rng.random(n) < 0.2}, index=idx)
    for band in [(0.7, 1.16), (1.05, 1.2), (0.6, 0.9), None]:
        t = uncertainty.headline_ranges(
            mins, demand, bundles=BUNDLES, area_name="S", network_band=band, register_within=extra
        )
        assert (t["low_pct"] <= t["published_pct"] + 1e-12).all()
        assert (t["published_pct"] <= t["high_pct"] + 1e-12).all()
        assert set(t["main_driver"]) <= {"network", "walking speed", "register", "none"}


def test_range_text_rounds_outward() -> None:
    assert uncertainty.range_text(73.88, 66.3, 74.6) == "73.9 % (66–75 %)"
    # the printed range always holds the printed share
    assert uncertainty.range_text(99.96, 99.9, 99.96) == "100.0 % (99–100 %)"
    assert uncertainty.range_text(0.0, 0.0, 0.0) == "0.0 % (0–0 %)"


def test_network_band_is_the_calibration_on_the_approximation_only() -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    pts = gpd.GeoSeries(
        [Point(500000 + 100 * i, 200000 + 70 * (i % 3)) for i in range(6)], crs="EPSG:27700"
    )
    G = network.approximate_graph(pts)
    cal = network.CALIBRATION
    assert uncertainty.network_band(G) == (cal["p10_ratio"], cal["p90_ratio"])
    G.graph["approximate"] = False
    assert uncertainty.network_band(G) is None


# ----------------------------------------------------------------------------------------
# published minutes recompute the verdicts exactly


def test_published_minutes_keep_every_verdict() -> None:
    values = [15.004, 14.996, 15.0 + 1e-12, 15.0, 15.00999, np.nan, 0.0, 29.99]
    mins = pd.DataFrame({"b": values})
    out = published_minutes(mins, 15, speed_m_per_min=80)
    truth = within_minutes(mins, 15, speed_m_per_min=80)["b"].to_numpy()
    assert ((out["b"] <= 15).to_numpy() == truth).all()
    # plain rounding would have put 15.004 at 15.00, within for a reader
    assert (mins.round(2)["b"] <= 15).to_numpy()[0]
    assert out["b"].iloc[0] == 15.01 and out["b"].iloc[1] == 14.99 and np.isnan(out["b"].iloc[5])
    assert (np.abs(out["b"] - mins["b"]).dropna() < 0.01 + 1e-9).all()


# ----------------------------------------------------------------------------------------
# the synthetic council end to end (coverage stage)


def with_council_counts(profile: Path) -> Path:
    """Give the SYNTHETIC profile council counts: two libraries short, one GP short."""
    text = profile.read_text(encoding="utf-8")
    counts = (
        '\n[council_counts]\n"Community Centre" = 2\n"Library" = 4\n'
        '"GP / Medical Centre" = 2\n"Religious Institution" = 1\n"Education" = 1\n'
        '"Council" = 1\n"Health" = 1\n"Sports and Leisure" = 1\n'
    )
    text = text.replace("\n[files]", counts + "\n[files]", 1)
    profile.write_text(text, encoding="utf-8")
    return profile


def test_synthetic_run_writes_uncertainty_csv(
    synthetic_area: tuple[Path, Path], tmp_path: Path
) -> None:
    profile, data_dir = synthetic_area
    study = pipeline.Study(area=with_council_counts(profile), data_dir=data_dir)
    assert study.reconciliation.loc["Library", "gap"] == 2
    pipeline.run(study, stages=["coverage"], project_dir=tmp_path, progress=False)
    out = tmp_path / "data" / "processed" / "synthetic"
    t = pd.read_csv(out / "uncertainty.csv")
    assert {"locality", "measure", "published_pct", "low_pct", "high_pct", "main_driver"} <= set(
        t.columns
    )
    assert (t["low_pct"] <= t["published_pct"]).all() and (
        t["published_pct"] <= t["high_pct"]
    ).all()
    assert set(t["locality"]) == {*study.plan.assignment, "Synthetica"}
    assert t["network"].str.startswith("network: approximate").all()
    # the shortfall categories were placed, from the requirements' candidates
    shortfall = study.ranges.attrs["shortfall"]
    assert shortfall == {"Library": 2, "GP / Medical Centre": 1}
    placed = study.ranges.attrs["missing_sites"]
    assert set(placed["measure"]) <= set(shortfall)
    # published share = the coverage table's
    cov = pd.read_csv(out / "coverage_localities.csv")
    for r in t.itertuples():
        if r.locality == "Synthetica":
            continue
        share = cov[(cov["locality"] == r.locality) & (cov["category"] == r.measure)]["share"]
        assert r.published_pct == pytest.approx(100 * float(share.iloc[0]))


# ----------------------------------------------------------------------------------------
# rural honesty (nwm_geo.rural)


def rural_case(service: list[float]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.Series]:
    """SYNTHETIC: two localities, four points each; hub minutes at 80 m/min."""
    idx = pd.Index([f"p{i}" for i in range(8)])
    hub_minutes = pd.DataFrame(
        {
            "hubT": [2, 5, 10, 14, np.nan, np.nan, np.nan, np.nan],
            "hubV": [np.nan] * 4 + [10, 40, 80, 200],
            "other": [1.0] * 8,
        },
        index=idx,
    )
    hubs = pd.DataFrame({"locality": ["Town", "Villages"], "hub_asset_id": ["hubT", "hubV"]})
    demand = pd.DataFrame(
        {"population": [10, 10, 10, 10, 5, 10, 20, 5], "locality": ["Town"] * 4 + ["Villages"] * 4},
        index=idx,
    )
    return hub_minutes, hubs, demand, pd.Series(service, index=idx)


def test_hub_walks_medians_and_bands_hand_computed() -> None:
    from nwm_geo import rural

    hm, hubs, demand, service = rural_case([5, 5, 5, 5, 30, 30, 30, np.nan])
    w = rural.hub_walks(hm, hubs, demand, service_minutes=service, area_name="Shire")
    # Villages: 10 (5), 40 (10), 80 (20), 200 (5) min: weighted median 80 min = 6.4 km
    v = w.loc["Villages"]
    assert v["median_minutes"] == 80 and v["median_km"] == pytest.approx(6.4)
    assert v["median_service_minutes"] == 30 and bool(v["rural"])
    # bands: 0.8 km, 3.2 km, 6.4 km, 16 km
    assert (v["0-1.2 km"], v["1.2-2.4 km"], v["2.4-5 km"], v["5-10 km"], v["over 10 km"]) == (
        5,
        0,
        10,
        20,
        5,
    )
    t = w.loc["Town"]
    assert t["median_minutes"] == 5 and not bool(t["rural"]) and t["0-1.2 km"] == 40
    # the area row: all 80 residents; its median over both localities
    assert w.loc["Shire", "residents"] == 80 and list(w.index) == ["Town", "Villages", "Shire"]
    notes = rural.rural_notes(w, area_name="Shire")
    assert len(notes) == 1 and "not the main way" in notes[0] and "1 of 2 localities" in notes[0]
    assert "Villages: median walk 30 minutes to every bundle and 80 minutes (6.4 km)" in notes[0]
    assert "Town:" not in notes[0]
    assert "not mean that the villages are a 15-minute walk from anything" in notes[0]


def test_a_far_hub_alone_is_not_rural() -> None:
    from nwm_geo import rural

    # every bundle is 5 minutes away everywhere: the far village hub does not make it rural
    hm, hubs, demand, service = rural_case([5.0] * 8)
    w = rural.hub_walks(hm, hubs, demand, service_minutes=service, area_name="Shire")
    assert not w["rural"].any()
    assert rural.rural_notes(w, area_name="Shire") == []


def test_synthetic_shares_recompute_from_published_minutes(
    synthetic_area: tuple[Path, Path], tmp_path: Path
) -> None:
    profile, data_dir = synthetic_area
    study = pipeline.Study(area=profile, data_dir=data_dir)
    pipeline.run(study, stages=["coverage"], project_dir=tmp_path, progress=False)
    out = tmp_path / "data" / "processed" / "synthetic"
    pts = pd.read_csv(out / "coverage_points.csv", index_col=0)
    measures = list(study.minutes_to_nearest.columns)
    within = pts[measures].apply(pd.to_numeric) <= 15  # a reader's plain test
    within["all three bundles"] = within[list(study.bundles)].all(axis=1)
    pub = pd.read_csv(out / "coverage_wards.csv").set_index(["ward_code", "category"])
    covered = within.mul(pts["population"], axis=0).groupby(pts["ward_code"]).sum()
    for (ward, measure), r in pub.iterrows():
        assert covered.at[ward, measure] == r["covered_population"]
    # the written minutes are at most 0.01 from the run's and on the run's side of 15
    exact = study.minutes_to_nearest.reindex(pts.index)
    diff = (pts[measures] - exact).abs().to_numpy()
    assert np.nanmax(diff) < 0.01 + 1e-9


def test_missing_sites_greedy_is_repeatable_spaced_and_never_beats_exact(
    synthetic_area: tuple[Path, Path],
) -> None:
    from nwm_geo import coverage

    profile, data_dir = synthetic_area
    study = pipeline.Study(area=with_council_counts(profile), data_dir=data_dir)
    site_cover = coverage.coverage_matrix(study.model, sources="points")
    args = (study.asset_cover, site_cover, study.register, study.demand_with_locality)
    kw = {"reconciliation": study.reconciliation, "bundles": study.bundles}
    a = uncertainty.missing_sites(*args, **kw)
    b = uncertainty.missing_sites(*args, **kw)
    assert a.sites.index.equals(b.sites.index) and a.within.equals(b.within)
    assert set(a.statuses["label"]) == {"greedy"}
    exact = uncertainty.missing_sites(*args, **kw, exact=True)
    for cat in a.shortfall:
        got = a.sites[a.sites["measure"] == cat]
        assert len(got) <= a.shortfall[cat]
        best = exact.sites[exact.sites["measure"] == cat]["marginal_population"].sum()
        assert got["marginal_population"].sum() <= best + 1e-9
        if len(got) > 1:  # at least the suggestions' spacing apart (to within 1 %)
            pts = gpd.GeoSeries(gpd.points_from_xy(got["lon"], got["lat"]), crs="EPSG:4326")
            xy = pts.to_crs("EPSG:27700")
            for i, j in zip(*np.triu_indices(len(got), 1), strict=True):
                assert xy.iloc[i].distance(xy.iloc[j]) >= 0.99 * settings.new_site_spacing_m
