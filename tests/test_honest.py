"""Honest headline numbers (issue 21) on the real Luton and Rutland bundles.

Each area is run once per session, end to end, into a temporary project (``nwm-geo
run``, the ``luton_run`` and ``rutland_run`` fixtures); the tests then read only the
published files: every share recomputed from the published
minutes with ``<= threshold`` must be exactly the published one, every headline has a
range in ``uncertainty.csv`` and beside it in the index, workbook and pack, every
equity figure has its group's residents, and Rutland's outputs say walking is not the
main mode there.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from conftest import RunOutputs
from nwm_geo import pipeline, settings, uncertainty

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("areas")]

MEASURES_SKIP = {"population", "lon", "lat", "snap_m", "snap_flagged", "network"}


@pytest.fixture
def luton(luton_study: pipeline.Study, luton_run: RunOutputs) -> tuple[pipeline.Study, Path, Path]:
    """The session's Luton study and its run's folders (tests/conftest.py)."""
    return luton_study, luton_run.processed, luton_run.reports


@pytest.fixture
def rutland(
    rutland_study: pipeline.Study, rutland_run: RunOutputs
) -> tuple[pipeline.Study, Path, Path]:
    """The session's Rutland study and its run's folders (tests/conftest.py)."""
    return rutland_study, rutland_run.processed, rutland_run.reports


def _within(processed: Path, study: pipeline.Study) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Published minutes -> within flags with a plain `<= minutes`, and the points."""
    pts = pd.read_csv(processed / "coverage_points.csv", index_col=0)
    minutes = study.minutes or settings.walk_minutes
    cols = [c for c in pts.columns if c not in MEASURES_SKIP and c not in (
        "ward_code", "lsoa_code", "locality", "postcode")]  # fmt: skip
    within = pts[cols].apply(pd.to_numeric) <= minutes  # NaN compares False: not within
    bundles = list(study.bundles)
    within["all three bundles"] = within[bundles].all(axis=1)
    return within, pts


def _recompute(within: pd.DataFrame, pts: pd.DataFrame, by: pd.Series) -> pd.DataFrame:
    pop = pts["population"].to_numpy(float)
    covered = within.mul(pop, axis=0).groupby(by.to_numpy()).sum()
    total = pts["population"].groupby(by.to_numpy()).sum()
    long = covered.stack().rename("covered_population").reset_index()
    long.columns = ["group", "measure", "covered_population"]
    long["population"] = long["group"].map(total)
    return long.set_index(["group", "measure"])


def test_every_published_share_recomputes_from_the_published_csvs(
    luton: tuple[pipeline.Study, Path, Path],
) -> None:
    study, processed, reports = luton
    within, pts = _within(processed, study)
    area = study.profile.name
    checked = 0
    # coverage per ward, LSOA and locality
    for by, name in [("ward_code", "wards"), ("lsoa_code", "lsoas"), ("locality", "localities")]:
        pub = pd.read_csv(processed / f"coverage_{name}.csv").set_index([by, "category"])
        mine = _recompute(within, pts, pts[by])
        for (g, m), r in pub.iterrows():
            got = mine.loc[(g, m)]
            assert got["covered_population"] == r["covered_population"], (name, g, m)
            assert got["covered_population"] / got["population"] == pytest.approx(
                r["share"], rel=1e-12, abs=1e-15
            )
            checked += 1
    # the ranges' published shares, per locality and for the area
    unc = pd.read_csv(processed / "uncertainty.csv")
    by_loc = _recompute(within, pts, pts["locality"])
    everyone = _recompute(within, pts, pd.Series(area, index=pts.index))
    for r in unc.itertuples():
        got = (everyone if r.locality == area else by_loc).loc[(r.locality, r.measure)]
        assert 100 * got["covered_population"] / got["population"] == pytest.approx(
            r.published_pct, rel=1e-12
        )
        checked += 1
    # the percent table of the shared reports (1 decimal)
    table = pd.read_csv(reports / "tables" / "coverage_by_locality.csv", index_col=0)
    for m in table.index:
        if m.endswith("(no site in register)"):
            continue
        for loc in table.columns:
            got = (everyone if loc == area else by_loc).loc[(loc, m)]
            assert round(100 * got["covered_population"] / got["population"], 1) == table.at[m, loc]
            checked += 1
    # equity: per IMD decile and quintile (demand_points.csv carries each point's group)
    demand = pd.read_csv(processed / "demand_points.csv", index_col=0).reindex(pts.index)
    tables = [
        ("imd_decile", "coverage_deprivation"),
        ("imd_quintile", "coverage_deprivation_quintiles"),
    ]
    for group, name in tables:
        pub = pd.read_csv(processed / f"{name}.csv")
        for (loc, grp), part in pub.groupby(["locality", group]):
            sel = (pts["locality"] == loc) if loc != area else np.ones(len(pts), bool)
            sel = np.asarray(sel) & (demand[group] == grp).to_numpy()
            for r in part.itertuples():
                cov = float((within.loc[sel, r.measure] * pts.loc[sel, "population"]).sum())
                assert cov == r.covered_population, (name, loc, grp, r.measure)
                if r.population:
                    assert round(100 * cov / r.population, 2) == r.covered_pct
                checked += 1
    gaps = pd.read_csv(processed / "coverage_equity_gaps.csv")
    for r in gaps.itertuples():
        got = (everyone if r.locality == area else by_loc).loc[(r.locality, r.measure)]
        assert round(100 * got["covered_population"] / got["population"], 2) == r.covered_pct
        checked += 1
    assert checked > 2000


def test_headline_ranges_in_csv_index_workbook_and_pack(
    luton: tuple[pipeline.Study, Path, Path],
) -> None:
    study, processed, reports = luton
    unc = pd.read_csv(processed / "uncertainty.csv")
    localities = sorted(set(study.plan.assignment))
    assert len(unc) == (len(localities) + 1) * (len(study.bundles) + 1)
    assert (unc["low_pct"] <= unc["published_pct"]).all()
    assert (unc["published_pct"] <= unc["high_pct"]).all()
    assert (unc["low_pct"] < unc["high_pct"]).any()
    assert unc["network"].str.startswith("network: approximate").all()
    area = unc[(unc["locality"] == "Luton") & (unc["measure"] == "all three bundles")].iloc[0]
    text = uncertainty.range_text(area["published_pct"], area["low_pct"], area["high_pct"])
    rng = text.split(" ", 2)[2]  # "(xx–yy %)"
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert f"<td>{rng.strip('()')}</td>" in index  # the grid's range column
    head = unc[(unc["locality"] == "Luton") & (unc["measure"] == "somewhere to go")].iloc[0]
    head_text = uncertainty.range_text(head["published_pct"], head["low_pct"], head["high_pct"])
    assert f"{head_text} of residents" in index  # the headline sentence
    wb = load_workbook(reports / "asset_requirements.xlsx", read_only=True)
    cells = [str(c) for row in wb["Summary"].iter_rows(values_only=True) for c in row if c]
    assert "range: all three bundles" in [c.lower() for c in cells]
    assert rng.strip("()") in cells
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.fail("pdftotext not found; install Debian's poppler-utils")
    pack = subprocess.run(
        [pdftotext, "-layout", str(reports / "locality_pack.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    somewhere = unc[(unc["locality"] == localities[0]) & (unc["measure"] == "somewhere to go")]
    r = somewhere.iloc[0]
    want = uncertainty.range_text(r["published_pct"], r["low_pct"], r["high_pct"])
    assert " ".join(want.split()) in " ".join(pack.split())


def test_equity_figures_carry_group_sizes_and_small_groups(
    luton: tuple[pipeline.Study, Path, Path],
) -> None:
    _, processed, _ = luton
    gaps = pd.read_csv(processed / "coverage_equity_gaps.csv")
    for col in ("most_deprived_population", "least_deprived_population", "age_65_plus_population"):
        assert gaps[col].notna().all()
    q = pd.read_csv(processed / "coverage_deprivation_quintiles.csv")
    area = gaps[(gaps["locality"] == "Luton") & (gaps["measure"] == "someone to see")].iloc[0]
    q5 = q[
        (q["locality"] == "Luton") & (q["measure"] == "someone to see") & (q["imd_quintile"] == 5)
    ]
    assert area["least_deprived_population"] == q5["population"].iloc[0]
    share = area["least_deprived_population"] / area["population"]
    assert share < 0.05  # Luton's least deprived quintile is small ...
    note = area["small_groups"]
    assert (
        f"least deprived (IMD quintile 5) {area['least_deprived_population']:,} residents" in note
    )
    assert "GP / Medical Centre 24 of 35" in note  # ... and the register is short of GPs
    big = gaps["small_groups"].isna()
    assert big.any()  # groups of 5 % or more carry no note


def test_rutland_says_walking_is_not_the_main_mode(
    rutland: tuple[pipeline.Study, Path, Path], luton: tuple[pipeline.Study, Path, Path]
) -> None:
    _, processed, reports = rutland
    bands = pd.read_csv(processed / "hub_distance_bands.csv", index_col=0)
    assert bool(bands.loc["Rutland", "rural"])
    assert bands.loc["Rutland", "median_service_minutes"] > 20
    band_cols = [c for c in bands.columns if c.endswith(" km") or c == "not reached"]
    assert (bands[band_cols].sum(axis=1) == bands["residents"]).all()
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert "Walking is not the main way to reach services" in index
    assert "not mean that the villages are a 15-minute walk from anything" in index
    # ... and the workbook's summary and hubs sheets and SOURCES.txt say it too
    wb = load_workbook(reports / "asset_requirements.xlsx", read_only=True)
    for sheet in ("Summary", "Hubs"):
        text = " ".join(
            str(v) for row in wb[sheet].iter_rows(values_only=True) for v in row if v is not None
        )
        assert "Walking is not the main way to reach services" in text, sheet
        assert "Read them with the distances" in text, sheet
    wb.close()
    sources = (reports / "SOURCES.txt").read_text(encoding="utf-8")
    assert "Walking: Walking is not the main way to reach services" in sources
    # Luton: every bundle is a median 10-18 minutes away; nothing says it is rural
    _, l_processed, l_reports = luton
    assert not pd.read_csv(l_processed / "hub_distance_bands.csv")["rural"].any()
    assert "Walking is not the main way" not in (l_reports / "index.html").read_text("utf-8")
    assert "Walking is not the main way" not in (l_reports / "SOURCES.txt").read_text("utf-8")
