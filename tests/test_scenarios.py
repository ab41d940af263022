"""Scenarios and what-if studies on the SYNTHETIC council (no real data).

The done-when of issue 10: closing every asset of a category gives 0 % and
``residents_losing`` equal to the baseline's covered population in every locality; the
baseline folders are untouched; the same scenario twice gives identical files; the
plan is the same before and after; a malformed scenario file gets one error naming the
file, the key and the reason, and nothing is written.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from conftest import SyntheticRun
from nwm_geo import NwmGeoError, coverage, pipeline, scenarios


def _study(synthetic_area: tuple[Path, Path], **kw: object) -> pipeline.Study:
    profile, data_dir = synthetic_area
    return pipeline.Study(area=profile, data_dir=data_dir, **kw)  # type: ignore[arg-type]


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): pipeline.file_sha256(p)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


CLOSE_LIBRARIES = """name = "no-libraries"
description = "Every library closes (synthetic test)"
[[close]]
asset_id = "site-0002"
[[close]]
name = "Synthetic Site 10"
"""

ADD_HUB = """name = "new-hub"
[[add]]
name = "Synthetic Hub"
category = "Library"
easting = 601300
northing = 301300
[settings]
minutes = 12
"""


def test_closing_every_site_of_a_category_loses_everyone_it_covered(
    synthetic_area: tuple[Path, Path],
) -> None:
    base = _study(synthetic_area)
    libraries = list(base.register.index[base.register["category"] == "Library"])
    scen = base.with_changes(close=libraries)
    cmp = scenarios.compare(base, scen)
    lib = cmp.localities[cmp.localities["measure"] == "Library"].set_index("locality")
    assert set(lib.index) == {*base.plan.assignment, "Synthetica"}
    assert (lib["scenario_pct"] == 0).all()
    assert (lib["residents_losing"] == lib["baseline_covered"]).all()
    assert lib.loc["Synthetica", "residents_losing"] > 0
    # the books balance in every row: covered before - losing + gaining = covered after
    t = cmp.wards
    assert np.allclose(
        t["baseline_covered"] - t["residents_losing"] + t["residents_gaining"],
        t["scenario_covered"],
    )
    # the plan is kept, never re-solved; the network and demand are shared
    assert scen.plan is base.plan and scen.graph is base.graph and scen.demand is base.demand
    assert scen.changes is not None and scen.changes.close == tuple(libraries)
    lost = cmp.postcodes[cmp.postcodes["measure"] == "Library"]
    assert (lost["change"] == "loses").all()
    assert lost["population"].sum() == lib.loc["Synthetica", "residents_losing"]


def test_a_what_if_equals_the_full_recomputation(synthetic_area: tuple[Path, Path]) -> None:
    base = _study(synthetic_area)
    site = {"name": "Hub", "category": "Library", "easting": 601300.0, "northing": 301300.0}
    scen = base.with_changes(close=["site-0005"], add=[site])
    assert "new-1" in scen.register.index and "site-0005" not in scen.register.index
    assert scen.register.loc["new-1", "ward_code"] == "X05000001"
    full = coverage.prepare(base.graph, demand=base.demand, assets=scen.register)
    minutes = coverage.nearest_minutes(full, categories=base.categories, bundles=base.bundles)
    pd.testing.assert_frame_equal(
        scen.minutes_to_nearest[minutes.columns], minutes, check_exact=False, atol=1e-9
    )
    cover = coverage.coverage_matrix(full)
    assert list(cover.source_index) == list(scen.asset_cover.source_index)
    assert (cover.matrix != scen.asset_cover.matrix).nnz == 0
    # slower walking: every time scales by the speeds' ratio
    slow = base.with_changes(speed_m_per_min=40)
    ratio = slow.minutes_to_nearest / base.minutes_to_nearest
    assert np.allclose(ratio.stack().dropna(), 2.0)


def test_bad_changes_are_listed_together(synthetic_area: tuple[Path, Path]) -> None:
    base = _study(synthetic_area)
    with pytest.raises(NwmGeoError) as err:
        base.with_changes(
            close=["site-9999"],
            add=[{"name": "X", "category": "Librry", "postcode": "ZZ9 9ZZ"}],
            minutes=0,
        )
    text = str(err.value)
    assert "4 problem(s)" in text
    for part in ("close[1]", "add[1].category", "add[1].postcode", "settings.minutes"):
        assert part in text


@pytest.mark.integration  # slow: an end-to-end run (fast tier < 60 s)
def test_scenario_folders_leave_the_baseline_untouched_and_repeat_exactly(
    synthetic_run: SyntheticRun,
) -> None:
    synthetic_area, tmp_path = synthetic_run.area, synthetic_run.project  # a whole run's
    baseline = {f: _hashes(tmp_path / f) for f in ("data/processed/synthetic", "reports/synthetic")}
    plan_before = (tmp_path / "data/processed/synthetic/localities.csv").read_bytes()
    (tmp_path / "a.toml").write_text(CLOSE_LIBRARIES, encoding="utf-8")
    (tmp_path / "b.toml").write_text(ADD_HUB, encoding="utf-8")
    files = [tmp_path / "a.toml", tmp_path / "b.toml"]
    saved = tmp_path / "data/processed/synthetic/localities.csv"

    def study_for(plan: Path | None) -> pipeline.Study:
        return _study(synthetic_area, plan=plan or saved)

    out = scenarios.run_scenarios(files, study_for=study_for, project_dir=tmp_path)
    folder = tmp_path / "scenarios" / "synthetic" / "no-libraries"
    names = {p.name for p in out["no-libraries"]}
    for expected in (
        "comparison_localities.csv",
        "comparison_wards.csv",
        "postcodes_changed.csv",
        "changes.csv",
        "map_difference.html",
        "summary.xlsx",
        "provenance.json",
        "SOURCES.txt",
        "scenario.toml",
    ):
        assert expected in names and (folder / expected).is_file()
    table = pd.read_csv(folder / "comparison_localities.csv")
    for col in scenarios.COMPARISON_COLUMNS:
        assert col in table.columns
    lib = table[table["measure"] == "Library"]
    assert (lib["scenario_pct"] == 0).all()
    assert (lib["residents_losing"] == lib["baseline_covered"]).all()
    book = openpyxl.load_workbook(folder / "summary.xlsx")
    assert "Wards" in book.sheetnames  # a councillor finds their ward
    ward_names = {str(c.value) for row in book["Wards"].iter_rows() for c in row if c.value}
    assert set(pd.read_csv(folder / "comparison_wards.csv")["ward_name"]) <= ward_names
    assert all(int(ws.page_setup.paperSize) == 9 for ws in book.worksheets)
    html = (folder / "map_difference.html").read_text("utf-8")
    assert "residents loses" not in html and "nwm-loses" in html and "OpenStreetMap" in html
    assert "network: approximate" in html
    hub = pd.read_csv(tmp_path / "scenarios/synthetic/new-hub/comparison_localities.csv")
    assert hub["residents_gaining"].sum() > 0  # a new library, but a shorter walk too
    # the baseline folders and the plan are exactly as they were
    for f, hashes in baseline.items():
        assert _hashes(tmp_path / f) == hashes
    assert saved.read_bytes() == plan_before
    # the same scenarios again give byte-identical files
    first = _hashes(tmp_path / "scenarios")
    scenarios.run_scenarios(files, study_for=study_for, project_dir=tmp_path)
    assert _hashes(tmp_path / "scenarios") == first


def test_a_malformed_scenario_file_gets_one_error_and_nothing_is_written(
    synthetic_area: tuple[Path, Path], tmp_path: Path
) -> None:
    good = tmp_path / "good.toml"
    good.write_text(CLOSE_LIBRARIES, encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        """name = "bad"
[[close]]
asset_id = "site-0404"
[[add]]
name = "Hub"
category = "Community Centr"
postcode = "ZZ9 9ZZ"
[setings]
minutes = 10
""",
        encoding="utf-8",
    )
    base = _study(synthetic_area)
    with pytest.raises(scenarios.ScenarioError) as err:
        scenarios.run_scenarios([good, bad], study_for=lambda plan: base, project_dir=tmp_path)
    text = str(err.value)
    assert text.startswith("4 problems found in the scenario file(s); nothing was written")
    assert f"{bad}, key 'setings': unknown key; did you mean 'settings'?" in text
    assert f"{bad}, key 'close[1].asset_id': no asset with this asset_id" in text
    assert (
        f"{bad}, key 'add[1].category': unknown category 'Community Centr'; did you mean "
        "'Community Centre'?"
    ) in text and "in Synthetica" in text
    assert f"{bad}, key 'add[1].postcode': postcode not in the area's Code-Point data" in text
    assert str(good) not in text
    assert not (tmp_path / "scenarios").exists()
    # the CLI says the same and exits 2
    (tmp_path / "broken.toml").write_text("name = [", encoding="utf-8")
    with pytest.raises(scenarios.ScenarioError, match="not valid TOML"):
        scenarios.run_scenarios(
            [tmp_path / "broken.toml"], study_for=lambda plan: base, project_dir=tmp_path
        )


@pytest.mark.integration  # slow: an end-to-end run (fast tier < 60 s)
def test_the_scenario_command(
    synthetic_area: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from nwm_geo.cli import main

    profile, data_dir = synthetic_area
    monkeypatch.setenv("NWM_GEO_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(data_dir))
    (tmp_path / "a.toml").write_text(CLOSE_LIBRARIES, encoding="utf-8")
    (tmp_path / "bad.toml").write_text('name = "x"\nclsoe = 1\n', encoding="utf-8")
    assert main(["scenario", "--quiet", "--area", str(profile), str(tmp_path / "bad.toml")]) == 2
    assert "key 'clsoe': unknown key; did you mean 'close'?" in capsys.readouterr().err
    assert main(["scenario", "--quiet", "--area", str(profile), str(tmp_path / "a.toml")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"scenario no-libraries: wrote (9|10) files", out) and "Library" in out


def test_closure_impact_matches_criticality_and_splits_by_equity(
    synthetic_area: tuple[Path, Path],
) -> None:
    study = _study(synthetic_area)
    impact = study.closure_impact
    pd.testing.assert_series_equal(
        impact.assets["residents_losing"],
        study.criticality["sole_population"],
        check_names=False,
    )
    lib = impact.assets.loc["site-0002"]
    assert lib["next_best_asset_id"] == "site-0010" and lib["next_best_share_pct"] == 100
    assert (
        lib["extra_minutes_median"] > 0 and lib["extra_minutes_max"] >= lib["extra_minutes_median"]
    )
    by_area = impact.areas.groupby("asset_id")["residents_losing"].sum()
    assert np.allclose(by_area, impact.assets.loc[by_area.index, "residents_losing"])
    # the demand points carry the equity groups (issue 11): the split is there, adds up,
    # and is coverage.group_split (the one implementation, which equity re-exports) of
    # the postcodes that lose the library
    from nwm_geo import equity

    assert equity.group_split is coverage.group_split
    cover = study.asset_cover.reindex_points(study.demand.index)
    libs = [a for a in cover.source_index if study.register.loc[a, "category"] == "Library"]
    m = cover.csc[:, [cover.source_index.get_loc(a) for a in libs]].toarray()
    alone = m[:, libs.index("site-0002")] & (m.sum(axis=1) == 1)
    split = coverage.group_split(study.demand.assign(loses=alone), weight="loses")
    split = split.set_index(["group", "value"])["residents"]
    for n in range(1, 6):
        assert lib[f"losing_imd_q{n}"] == pytest.approx(split[("imd_quintile", n)])
    for band in coverage.AGE_BANDS:
        assert lib[f"losing_{band}"] == pytest.approx(split[("age_band", band)])
    # without the group columns there is no split
    bare = study.demand_with_locality.drop(columns=["imd_quintile", *coverage.AGE_BANDS])
    plain = coverage.closure_impact(study.model, cover=study.asset_cover, demand=bare)
    assert not any(c.startswith("losing_") for c in plain.assets.columns)
    # with the equity contract's columns (SYNTHETIC values): the split adds up
    demand = study.demand_with_locality.copy()
    rng = np.random.default_rng(0)
    demand["imd_quintile"] = rng.integers(1, 6, size=len(demand))
    pop = demand["population"].to_numpy()
    share = rng.dirichlet(np.ones(len(coverage.AGE_BANDS)), size=len(demand))
    bands = np.floor(share * pop[:, None]).astype(int)
    bands[:, -1] += pop - bands.sum(axis=1)
    for j, band in enumerate(coverage.AGE_BANDS):
        demand[band] = bands[:, j]
    split = coverage.closure_impact(study.model, cover=study.asset_cover, demand=demand)
    a = split.assets
    imd = a[[f"losing_imd_q{n}" for n in range(1, 6)]].sum(axis=1)
    ages = a[[f"losing_{b}" for b in coverage.AGE_BANDS]].sum(axis=1)
    assert np.allclose(imd, a["residents_losing"]) and np.allclose(ages, a["residents_losing"])


def test_a_scenario_with_a_bad_plan_file_writes_nothing(
    synthetic_area: tuple[Path, Path], tmp_path: Path
) -> None:
    (tmp_path / "plan.csv").write_text("ward_code,locality\nX05000001,A\n", encoding="utf-8")
    spec = tmp_path / "s.toml"
    spec.write_text('plan = "plan.csv"\n' + CLOSE_LIBRARIES, encoding="utf-8")
    missing = tmp_path / "m.toml"
    text = 'plan = "nope.csv"\n' + CLOSE_LIBRARIES.replace("no-libraries", "m")
    missing.write_text(text, encoding="utf-8")

    def study_for(plan: Path | None) -> pipeline.Study:
        return _study(synthetic_area, plan=plan)

    with pytest.raises(scenarios.ScenarioError) as err:
        scenarios.run_scenarios([spec, missing], study_for=study_for, project_dir=tmp_path)
    text = str(err.value)
    assert f"{spec}, key 'plan': " in text and "3 ward(s) of the area are in no locality" in text
    assert f"{missing}, key 'plan': plan file not found (value: 'nope.csv')" in text
    assert not (tmp_path / "scenarios").exists()


def test_sites_are_closed_by_id_or_unique_name_and_only_once(
    synthetic_area: tuple[Path, Path],
) -> None:
    base = _study(synthetic_area)
    reg = base.register
    counts = reg["name"].astype(str).value_counts()
    unique = str(counts.index[counts == 1][0])
    aid = str(reg.index[reg["name"].astype(str) == unique][0])
    scen = base.with_changes(close=[unique])  # by its name
    assert scen.changes is not None and scen.changes.close == (aid,)
    with pytest.raises(NwmGeoError, match="closed twice"):  # an id, then its name
        base.with_changes(close=[aid, unique])
    with pytest.raises(NwmGeoError, match="closed twice"):
        base.with_changes(close=[aid, aid])


@pytest.mark.integration  # slow (fast tier < 60 s)
def test_the_comparison_splits_by_deprivation_and_age_when_the_demand_has_them(
    synthetic_area: tuple[Path, Path],
) -> None:
    base = _study(synthetic_area)
    base.demand.drop(columns=["imd_quintile", *coverage.AGE_BANDS], errors="ignore", inplace=True)
    plain = scenarios.compare(base, base.with_changes(close=["site-0002"]))
    assert plain.equity.empty
    base = _study(synthetic_area)
    demand = base.demand  # SYNTHETIC equity columns, as the equity branch will provide
    demand["imd_quintile"] = (np.arange(len(demand)) % 5) + 1
    pop = demand["population"].to_numpy()
    for j, band in enumerate(coverage.AGE_BANDS):
        demand[band] = pop // 6 + (pop % 6 if j == 5 else 0)
    cmp = scenarios.compare(base, base.with_changes(close=["site-0002"]))
    lib = cmp.equity[cmp.equity["measure"] == "Library"].set_index("group")
    total = cmp.localities.set_index(["locality", "measure"]).loc[
        ("Synthetica", "Library"), "residents_losing"
    ]
    imd = lib.loc[[g for g in lib.index if g.startswith("IMD")], "residents_losing"]
    ages = lib.loc[[g for g in lib.index if g.startswith("age")], "residents_losing"]
    assert len(imd) == 5 and len(ages) == 6
    assert imd.sum() == total and ages.sum() == total > 0


@pytest.mark.integration  # slow (fast tier < 60 s)
def test_a_what_if_after_reading_every_result_equals_one_from_a_fresh_study(
    synthetic_area: tuple[Path, Path],
) -> None:
    """Issue 19: reading the baseline's results first never leaks them into a what-if."""
    from _same import differences, public_results

    names = [n for n in public_results(pipeline.Study) if n != "changes"]
    assert {"equity", "hub_candidates", "outline", "closure_impact"} <= set(names)
    changes = {"close": ["site-0002", "site-0005"], "minutes": 12.0}
    read = _study(synthetic_area)
    for name in names:  # read every public result of the baseline first
        getattr(read, name)
    after_reading = read.with_changes(**changes)
    fresh = _study(synthetic_area).with_changes(**changes)
    for name in names:
        found = differences(getattr(after_reading, name), getattr(fresh, name), name)
        assert found == [], found
    # and the what-if is not the baseline: the closed sites are gone everywhere
    assert "site-0002" not in after_reading.register.index
    assert "site-0002" not in set(after_reading.hub_candidates.index)
    assert differences(read.equity, after_reading.equity) != []


@pytest.mark.integration  # slow (fast tier < 60 s)
@pytest.mark.parametrize("setting", ["plan", "k", "minutes"])  # the three paths
def test_a_setting_given_after_reading_every_result_equals_a_fresh_study(
    synthetic_area: tuple[Path, Path], setting: str
) -> None:
    """Issue 19: ``study.plan = ...`` (or minutes, k, speed) never leaves old results."""
    from _same import differences, public_results

    names = [n for n in public_results(pipeline.Study) if n != "changes"]
    value: object = {"k": 3, "minutes": 12.0, "speed_m_per_min": 60.0}.get(setting)
    if setting == "plan":
        value = _study(synthetic_area, k=3).plan
    read = _study(synthetic_area)
    for name in names:  # read every public result first
        getattr(read, name)
    before = read.equity
    setattr(read, setting, value)
    fresh = _study(synthetic_area, **{setting: value})
    for name in names:
        found = differences(getattr(read, name), getattr(fresh, name), name)
        assert found == [], found
    assert differences(before, read.equity) != []  # the setting did change a result


def test_a_what_if_study_s_settings_are_fixed(synthetic_area: tuple[Path, Path]) -> None:
    what_if = _study(synthetic_area).with_changes(close=["site-0002"])
    with pytest.raises(NwmGeoError, match="with_changes"):
        what_if.minutes = 10
    what_if.verbose = True  # changes no result: allowed
    assert what_if.changes is not None and "site-0002" not in what_if.register.index


@pytest.mark.parametrize("name", ["abc\n", "CON", "con.txt", "LPT1", "nul", "../up", "a/b", ""])
def test_a_scenario_name_that_is_not_a_plain_folder_name_is_refused(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / "s.toml"
    escaped = name.replace("\n", "\\n")
    path.write_text(f'name = "{escaped}"\n', encoding="utf-8")
    _scenario, problems = scenarios.read_scenario(path)
    assert [p.key for p in problems] == ["name"], problems
    assert "folder name" in problems[0].reason or "device name" in problems[0].reason


def test_a_huge_scenario_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    path.write_text('name = "huge"\ndescription = "' + "x" * 2_000_000 + '"\n', encoding="utf-8")
    scenario, problems = scenarios.read_scenario(path)
    assert scenario is None
    assert len(problems) == 1 and "at most 1,000,000" in problems[0].reason


def _modules_after(code: str, *, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run ``code`` in a fresh interpreter; return its last line (the plotting modules)."""
    probe = code + '\nprint(",".join(m for m in ("matplotlib", "folium") if m in sys.modules))'
    out = subprocess.run(
        [sys.executable, "-c", "import sys\n" + probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
        env=env,
    )
    return out.stdout.splitlines()[-1]


def test_a_what_if_loads_no_plotting_library(synthetic_area: tuple[Path, Path]) -> None:
    profile, data_dir = synthetic_area
    code = (
        "from nwm_geo import pipeline\n"
        f"base = pipeline.Study(area={str(profile)!r}, data_dir={str(data_dir)!r})\n"
        'scen = base.with_changes(close=["site-0002"])\n'
        "scen.coverage(); scen.equity"
    )
    assert _modules_after(code, cwd=profile.parent) == ""


def test_imports_leave_the_spreadsheet_writer_and_networkx_until_used(
    synthetic_area: tuple[Path, Path],
) -> None:
    """The spreadsheet writer loads when a workbook is written, networkx when a graph is used.

    (A scenario from a saved baseline writes a workbook but reads no graph.)
    """
    profile, _ = synthetic_area
    code = (
        "from nwm_geo import data\n"
        "from nwm_geo.data import assets\n"
        'print("openpyxl" in sys.modules)\n'
        "from nwm_geo import coverage, localities, network, pipeline, scenarios\n"
        'print("networkx" in sys.modules)'
    )
    out = subprocess.run(
        [sys.executable, "-c", "import sys\n" + code],
        capture_output=True,
        text=True,
        check=True,
        cwd=profile.parent,
    )
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.integration  # slow: an end-to-end scenario in a fresh interpreter
def test_the_scenario_command_does_not_load_matplotlib(
    synthetic_area: tuple[Path, Path], tmp_path: Path
) -> None:
    profile, data_dir = synthetic_area
    (tmp_path / "a.toml").write_text(CLOSE_LIBRARIES, encoding="utf-8")
    env = dict(os.environ, NWM_GEO_PROJECT_DIR=str(tmp_path), NWM_GEO_SHARED_DATA=str(data_dir))
    code = (
        "from nwm_geo.cli import main\n"
        f"assert main(['scenario', '--quiet', '--area', {str(profile)!r}, "
        f"{str(tmp_path / 'a.toml')!r}]) == 0"
    )
    # the difference map needs folium; nothing the scenario writes is drawn by matplotlib
    assert _modules_after(code, cwd=tmp_path, env=env) == "folium"
