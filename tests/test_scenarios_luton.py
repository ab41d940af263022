"""Scenarios on the real Luton bundle (slow tier): the issue's done-when on real data."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from conftest import RunOutputs
from nwm_geo import coverage, pipeline, scenarios

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("areas")]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def luton(luton_study: pipeline.Study) -> pipeline.Study:
    """The session's one Luton study (tests/conftest.py): read, never changed."""
    return luton_study


def test_closing_every_library_leaves_no_one_within_a_walk_of_one(
    luton: pipeline.Study,
) -> None:
    libraries = list(luton.register.index[luton.register["category"] == "Library"])
    # nine in Luton and two across the boundary (Dunstable, Houghton Regis)
    assert len(libraries) == 11
    assert int(luton.register.loc[libraries, "inside_area"].sum()) == 9
    scen = luton.with_changes(close=libraries)
    cmp = scenarios.compare(luton, scen)
    lib = cmp.localities[cmp.localities["measure"] == "Library"].set_index("locality")
    assert len(lib) == 6  # five localities and Luton
    assert (lib["scenario_pct"] == 0).all()
    assert (lib["residents_losing"] == lib["baseline_covered"]).all()
    # the same numbers as the baseline's own coverage table
    base = luton.coverage(by="locality").query("category == 'Library'").set_index("locality")
    for loc, row in base.iterrows():
        assert lib.loc[loc, "residents_losing"] == row["covered_population"]
    assert scen.plan.assignment.equals(luton.plan.assignment)


def test_closure_impact_of_the_central_library(luton: pipeline.Study) -> None:
    impact = luton.closure_impact
    central = impact.assets.loc["library-0007"]
    assert central["name"] == "Luton Central Library"
    assert central["residents_losing"] == luton.criticality.loc["library-0007", "sole_population"]
    # the same residents as a scenario that closes it
    cmp = scenarios.compare(luton, luton.with_changes(close=["Luton Central Library"]))
    whole = cmp.localities.set_index(["locality", "measure"])
    assert whole.loc[("Luton", "Library"), "residents_losing"] == central["residents_losing"]
    per_loc = impact.areas[impact.areas["asset_id"] == "library-0007"]
    by_loc = per_loc.groupby("locality")["residents_losing"].sum()
    lost = cmp.localities[(cmp.localities["measure"] == "Library")].set_index("locality")
    for loc, n in by_loc.items():
        assert lost.loc[loc, "residents_losing"] == n
    assert central["extra_minutes_max"] >= central["extra_minutes_median"] > 0
    assert central["next_best_asset_id"] in set(luton.register.index)


def test_a_new_hub_is_exact_on_luton(luton: pipeline.Study) -> None:
    site = {"name": "Hub at Hockwell Ring", "category": "Community Centre", "postcode": "LU4 9LB"}
    scen = luton.with_changes(add=[site], close=["library-0007"])
    full = coverage.prepare(luton.graph, demand=luton.demand, assets=scen.register)
    minutes = coverage.nearest_minutes(full, categories=luton.categories, bundles=luton.bundles)
    pd.testing.assert_frame_equal(
        scen.minutes_to_nearest[minutes.columns], minutes, check_exact=False, atol=1e-9
    )
    cover = coverage.coverage_matrix(full)
    assert (cover.matrix != scen.asset_cover.matrix).nnz == 0


def test_scenario_command_on_luton_keeps_the_baseline(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    luton_run: RunOutputs,
) -> None:
    from nwm_geo.cli import main

    # a copy of the session's `nwm-geo run --quiet` project (tests/conftest.py): the
    # outputs copied, the imported bundle linked (nothing writes into data/raw)
    def copy(src: str, dst: str) -> object:
        raw = luton_run.project / "data" / "raw"
        return os.link(src, dst) if Path(src).is_relative_to(raw) else shutil.copy2(src, dst)

    tmp_path.rmdir()
    shutil.copytree(luton_run.project, tmp_path, copy_function=copy)
    monkeypatch.setenv("NWM_GEO_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(ROOT / "data" / "raw"))
    before = {
        p: pipeline.file_sha256(p)
        for f in ("data/processed", "reports")
        for p in sorted((tmp_path / f).rglob("*"))
        if p.is_file()
    }
    spec = tmp_path / "close.toml"
    spec.write_text(
        'name = "close-central-library"\n[[close]]\nasset_id = "library-0007"\n', "utf-8"
    )
    assert main(["scenario", "--quiet", str(spec)]) == 0
    out = capsys.readouterr().out
    assert "localities.csv, used as given (not re-solved)" in out
    after = {p: pipeline.file_sha256(p) for p in before}
    assert after == before
    table = pd.read_csv(tmp_path / "scenarios/close-central-library/comparison_localities.csv")
    luton_row = table[(table["locality"] == "Luton") & (table["measure"] == "Library")]
    assert luton_row["residents_losing"].item() > 0


def test_a_luton_what_if_after_reading_every_result_equals_a_fresh_one(
    luton: pipeline.Study,
) -> None:
    """Issue 19 on Luton: read every public result, then close every library."""
    from _same import differences, public_results

    names = [n for n in public_results(pipeline.Study) if n != "changes"]
    libraries = list(luton.register.index[luton.register["category"] == "Library"])
    plan = luton.plan  # both what-ifs keep this plan, as a scenario does
    for name in names:
        getattr(luton, name)
    after_reading = luton.with_changes(close=libraries)
    fresh = pipeline.Study(plan=plan).with_changes(close=libraries)
    for name in names:
        found = differences(getattr(after_reading, name), getattr(fresh, name), name)
        assert found == [], found
    assert set(libraries).isdisjoint(after_reading.hub_candidates.index)
