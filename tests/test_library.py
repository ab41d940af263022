"""The analyst's library (issue 24): one import from any folder, reads that never block,
a conventional command line. Every project here is SYNTHETIC (tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

import nwm_geo
from conftest import RunOutputs, build_synthetic_area
from nwm_geo.cli import main

ROOT = Path(__file__).resolve().parent.parent
STAGE_MODULES = ("geopandas", "folium", "matplotlib", "osmnx", "nwm_geo.pipeline")


# -- 1. `import nwm_geo` is the entry point ------------------------------------------
def test_the_top_level_names_the_api_and_leaks_nothing() -> None:
    names = dir(nwm_geo)
    for public in ("Study", "StudySettings", "scenarios", "localities", "coverage", "run"):
        assert public in names
    for leaked in ("annotations", "PackageNotFoundError", "TYPE_CHECKING", "Any"):
        assert leaked not in names
    from nwm_geo import pipeline, scenarios

    assert nwm_geo.Study is pipeline.Study
    assert nwm_geo.scenarios is scenarios
    assert nwm_geo.Comparison is scenarios.Comparison
    with pytest.raises(AttributeError, match="no attribute 'Sutdy'"):
        _ = nwm_geo.Sutdy  # type: ignore[attr-defined]


def test_importing_nwm_geo_loads_no_stage_until_one_is_named() -> None:
    code = (
        "import sys, nwm_geo; "
        f"print(','.join(m for m in {STAGE_MODULES!r} if m in sys.modules) or 'none'); "
        "nwm_geo.Study; "
        f"print(','.join(m for m in {STAGE_MODULES!r} if m in sys.modules) or 'none')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    before, after = out.stdout.split()
    assert before == "none", f"import nwm_geo loaded {before}"
    assert "nwm_geo.pipeline" in after and "geopandas" in after


def _cli_project(
    synthetic_area: tuple[Path, Path], project: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Run `localities` and `coverage` with the CLI in ``project``; return the profile."""
    profile, data_dir = synthetic_area
    monkeypatch.setenv("NWM_GEO_PROJECT_DIR", str(project))
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(data_dir))
    assert main(["localities", "--quiet", "--area", str(profile)]) == 0
    assert main(["coverage", "--quiet", "--area", str(profile)]) == 0
    return profile


@pytest.fixture(scope="module")
def shared_cli_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """One SYNTHETIC project where `localities` and `coverage` ran (:func:`_cli_project`),
    for the tests below that only read it: (profile, data folder, project).
    """
    root = tmp_path_factory.mktemp("synthetic-cli")
    area = build_synthetic_area(root)
    with pytest.MonkeyPatch.context() as env:
        profile = _cli_project(area, root / "project", env)
    return profile, area[1], root / "project"


def _read_cli_project(
    shared: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path]:
    """The shared project's variables set as :func:`_cli_project` leaves them."""
    profile, data_dir, project = shared
    monkeypatch.setenv("NWM_GEO_PROJECT_DIR", str(project))
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(data_dir))
    return profile, project


@pytest.mark.xdist_group("synthetic-cli")
def test_a_study_from_another_folder_gives_the_cli_plan_and_coverage(
    shared_cli_project: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile, project = _read_cli_project(shared_cli_project, monkeypatch)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("NWM_GEO_PROJECT_DIR")
    monkeypatch.delenv("NWM_GEO_SHARED_DATA")
    study = nwm_geo.Study(area=profile, project_dir=project)
    assert study.settings.project_dir == project.resolve()
    processed = project / "data" / "processed" / "synthetic"
    cli_plan = pd.read_csv(processed / "localities.csv", index_col="ward_code")["locality"]
    assert study.plan.assignment.sort_index().to_dict() == cli_plan.sort_index().to_dict()
    keys = ["locality", "category"]
    cli_cov = pd.read_csv(processed / "coverage_localities.csv").set_index(keys).sort_index()
    mine = study.coverage(by="locality").reset_index().set_index(keys).sort_index()
    assert len(cli_cov) >= 8 and mine.index.equals(cli_cov.index)
    for column in ("population", "covered_population", "share"):
        assert mine[column].astype(float).round(6).tolist() == (
            cli_cov[column].astype(float).round(6).tolist()
        ), column
    assert not (elsewhere / "data").exists()  # nothing was read or written in the cwd
    points = pd.read_csv(processed / "coverage_points.csv")  # issue 24: it names the postcode
    assert points["postcode"].tolist() == points["point_id"].tolist()
    assert points["postcode"].str.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}").all()


@pytest.mark.integration
@pytest.mark.xdist_group("areas")
def test_luton_from_another_folder_gives_the_cli_plan_and_coverage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, luton_run: RunOutputs
) -> None:
    # the project of the session's one `nwm-geo run --quiet` of Luton (tests/conftest.py):
    # its localities and coverage stages wrote the plan and coverage tables read here
    project = luton_run.project
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(ROOT / "data" / "raw"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("NWM_GEO_PROJECT_DIR", raising=False)
    study = nwm_geo.Study(project_dir=project)  # solves the plan again, as the CLI did
    processed = project / "data" / "processed"
    cli_plan = pd.read_csv(processed / "localities.csv", index_col="ward_code")["locality"]
    assert study.plan.assignment.sort_index().to_dict() == cli_plan.sort_index().to_dict()
    keys = ["locality", "category"]
    cli_cov = pd.read_csv(processed / "coverage_localities.csv").set_index(keys).sort_index()
    mine = study.coverage(by="locality").reset_index().set_index(keys).sort_index()
    assert mine.index.equals(cli_cov.index) and len(mine) >= 5 * 14
    for column in ("population", "covered_population", "share"):
        assert mine[column].astype(float).round(6).tolist() == (
            cli_cov[column].astype(float).round(6).tolist()
        ), column


@pytest.mark.xdist_group("synthetic-cli")
def test_a_study_over_outputs_reads_the_saved_plan(
    shared_cli_project: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile, project = _read_cli_project(shared_cli_project, monkeypatch)
    study = nwm_geo.Study.from_outputs(area=profile, project_dir=project)
    assert study.settings.plan == "data/processed/synthetic/localities.csv"
    assert study.plan_given and len(study.plan.assignment) == 4
    assert "alternatives" not in study.__dict__  # read, not solved
    fresh = nwm_geo.Study.from_outputs(area=profile, project_dir=tmp_path / "new")
    assert fresh.settings.plan == "solved"


def test_a_study_without_data_says_where_it_looked_and_how_to_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NWM_GEO_PROJECT_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    study = nwm_geo.Study(project_dir=tmp_path / "otherproj")  # settings only: fine
    with pytest.raises(nwm_geo.NwmGeoError) as err:
        _ = study.wards
    text = str(err.value)
    assert str(tmp_path / "otherproj" / "data" / "raw") in text
    assert "Study(project_dir=...)" in text and "NWM_GEO_PROJECT_DIR" in text
    assert "--project-dir" in text


def test_settings_are_one_frozen_record_and_the_display_is_short() -> None:
    study = nwm_geo.Study(minutes=10, speed_m_per_min=70)
    s = study.settings
    assert (s.minutes, s.speed_m_per_min, s.k, s.plan) == (10.0, 70.0, 5, "solved")
    with pytest.raises(AttributeError):
        s.minutes = 15  # type: ignore[misc]
    text = repr(study)
    assert text.startswith("<Study of Luton") and "10 min at 70 m/min" in text
    assert len(text.splitlines()) <= 6 and len(text) < 600
    assert "computed: nothing yet" in text  # a display computes nothing
    page = study._repr_html_()
    assert page.startswith("<div") and "10 min at 70 m/min" in page and len(page) < 1000


# -- 2. reads never block --------------------------------------------------------------
@contextmanager
def _lock_held_by_another_process(project: Path) -> Iterator[None]:
    code = textwrap.dedent(f"""
        import sys, time
        from nwm_geo._io import project_lock
        with project_lock({str(project)!r}):
            print("locked", flush=True)
            time.sleep(120)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        yield
    finally:
        proc.kill()
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


@pytest.mark.xdist_group("synthetic-cli")
def test_a_notebook_reads_while_a_run_holds_the_lock(
    shared_cli_project: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile, project = _read_cli_project(shared_cli_project, monkeypatch)
    a = tmp_path / "a.csv"  # the two plans beside the project: it is only read
    b = tmp_path / "b.csv"
    codes = ["X05000001", "X05000002", "X05000003", "X05000004"]
    pd.DataFrame({"ward_code": codes, "locality": ["W", "E", "W", "E"]}).to_csv(a, index=False)
    pd.DataFrame({"ward_code": codes, "locality": ["L", "R", "L", "L"]}).to_csv(b, index=False)
    with _lock_held_by_another_process(project):
        # the run's lock really is held: a writer refuses (exit status 1, not 2)
        assert main(["register", "--quiet", "--area", str(profile)]) == 1
        assert nwm_geo.notebook_setup(project_dir=project) == project.resolve()
        study = nwm_geo.Study(area=profile, project_dir=project)
        assert len(study.wards) == 4
        assert main(["compare-plans", "--area", str(profile), str(a), str(b)]) == 0


def test_a_reader_waits_out_a_live_run_s_switch_without_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import warnings

    project = tmp_path / "project"
    (project / "data" / "raw").mkdir(parents=True)
    (project / "data" / "raw" / "x.csv").write_text("a\n1\n")
    journal = project / ".nwm-geo-switch.json"
    journal.write_text(json.dumps({"stage": ".staging-live", "folders": []}))
    code = textwrap.dedent(f"""
        import os, time
        from nwm_geo._io import project_lock
        with project_lock({str(project)!r}):
            print("locked", flush=True)
            time.sleep(0.5)
            os.remove({str(journal)!r})  # the live run finishes its switch
            time.sleep(120)
    """)
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(tmp_path / "no-bundle"))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no "a run is switching" warning
            nwm_geo.notebook_setup(project_dir=project)
        # waited for the renames, not the run: the run still holds its lock (it sleeps
        # 120 s), counted by the process's state, not by a wall clock
        assert proc.poll() is None
        assert not journal.exists()
    finally:
        proc.kill()
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


def test_a_run_killed_in_its_switch_is_rolled_forward_by_the_next_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "data" / "raw").mkdir(parents=True)
    (project / "data" / "raw" / "x.csv").write_text("a\n1\n")
    stage = project / ".staging-killed"
    for folder, text in (("data/processed", "new"), ("reports", "new")):
        (stage / folder).mkdir(parents=True)
        (stage / folder / "f.txt").write_text(text)
    # killed after switching data/processed, before reports: new processed, old reports
    (project / "reports").mkdir()
    (project / "reports" / "f.txt").write_text("old")
    (stage / ".old" / "data" / "processed").mkdir(parents=True)
    (stage / ".old" / "data" / "processed" / "f.txt").write_text("old")
    os.rename(stage / "data" / "processed", project / "data" / "processed")
    journal = {
        "stage": ".staging-killed",
        "folders": [
            {"target": f, "new": f".staging-killed/{f}", "old": f".staging-killed/.old/{f}",
             "had_old": True}
            for f in ("data/processed", "reports")
        ],
    }  # fmt: skip
    (project / ".nwm-geo-switch.json").write_text(json.dumps(journal))
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(tmp_path / "no-bundle"))
    nwm_geo.notebook_setup(project_dir=project)
    assert (project / "reports" / "f.txt").read_text() == "new"
    assert (project / "data" / "processed" / "f.txt").read_text() == "new"
    assert not (project / ".nwm-geo-switch.json").exists()
    assert not stage.exists()


def test_a_changed_bundle_warns_readers_and_stops_only_an_import(
    synthetic_area: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nwm_geo.data import BundleChangedWarning, import_bundle

    _, data_dir = synthetic_area
    project = tmp_path / "project"
    raw = project / "data" / "raw"
    import_bundle(data_dir, dest=raw, accept_new=True)  # writes the manifest
    (data_dir / "extra.csv").write_text("new,file\n1,2\n")
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(data_dir))
    monkeypatch.setenv("NWM_GEO_PROJECT_DIR", str(project))
    with pytest.warns(BundleChangedWarning, match=r"extra.csv: not in manifest.*--accept-new"):
        nwm_geo.notebook_setup(project_dir=project)
    assert not (raw / "extra.csv").exists()
    assert main(["import-data"]) == 2  # an import stops on it


def test_localities_with_a_plan_in_a_project_with_outputs_reruns_what_depends_on_it(
    synthetic_area: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = tmp_path / "project"
    profile = _cli_project(synthetic_area, project, monkeypatch)
    processed = project / "data" / "processed" / "synthetic"
    council = tmp_path / "council.csv"
    table = pd.read_csv(processed / "localities.csv")
    table["locality"] = table["locality"] + " (council)"
    table.to_csv(council, index=False)
    capsys.readouterr()
    assert main(["localities", "--area", str(profile), "--plan", str(council)]) == 0
    assert "re-running those stages with it" in capsys.readouterr().out
    cov = pd.read_csv(processed / "coverage_localities.csv")
    assert set(cov["locality"]) == set(table["locality"])


# -- 3. a conventional command line ----------------------------------------------------
def test_version_and_unknown_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"nwm-geo {nwm_geo.__version__}"
    with pytest.raises(SystemExit) as refused:
        main(["register", "--hub-cap", "10"])
    assert refused.value.code == 2
    assert "unrecognized arguments: --hub-cap 10" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "has", "has_not"),
    [
        ("register", ["--area", "--register"], ["--hub-cap", "--minutes", "--plan", "-k K"]),
        ("localities", ["-k K, --localities K", "--plan"], ["--minutes", "--hub-cap"]),
        ("coverage", ["--minutes", "--speed", "--plan"], ["--hub-cap"]),
        ("run", ["--hub-cap", "--minutes", "-k K, --localities K"], ["--strict"]),
        ("compare-plans", ["plan_a", "-k K, --localities K"], ["--minutes", "--hub-cap"]),
        ("partition", ["-k K, --localities K", "--time-limit"], ["--k ", "--area"]),
        ("import-data", ["--accept-new-bundle"], ["--area", "--minutes"]),
    ],
)
def test_each_command_lists_only_its_own_options(
    command: str, has: list[str], has_not: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = capsys.readouterr().out
    description = text.split("\n\n")[1]
    assert description.strip().endswith(".") and len(description.splitlines()) == 1
    for option in has:
        assert option in text, f"{command} --help lacks {option}"
    for option in has_not:
        assert option not in text, f"{command} --help lists {option}"


def test_partition_keeps_the_old_k_spelling(tmp_path: Path) -> None:
    from nwm_geo.cli import _parser

    base = ["partition", "u.gpkg", "--id-column", "c", "--population-column", "p"]
    for flag in ("-k", "--localities", "--k"):
        args = _parser().parse_args([*base, flag, "3", "--out", str(tmp_path / "o.csv")])
        assert args.k == 3


def test_exit_status_and_verbose(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NWM_GEO_PROJECT_DIR", str(tmp_path / "p"))
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(tmp_path / "no-bundle"))
    assert main(["run", "--minutes", "0"]) == 2  # bad input
    assert "Traceback" not in capsys.readouterr().err
    assert main(["run", "--verbose", "--minutes", "0"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_no_progress_bars_off_a_terminal(
    synthetic_area: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    profile, data_dir = synthetic_area
    monkeypatch.setenv("NWM_GEO_PROJECT_DIR", str(tmp_path / "p"))
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(data_dir))
    assert main(["register", "--area", str(profile)]) == 0  # no --quiet; not a terminal
    out, err = capfd.readouterr()
    assert "it/s" not in err and "|" not in err and "\r" not in err
    # a council with no published counts: no "Register against" table of <NA> targets
    assert "publishes no counts" in out and "Register against" not in out
    assert "<NA>" not in out


# -- 6. consistent inputs --------------------------------------------------------------
STAGES = ("data", "network", "coverage", "localities", "hubs", "equity", "requirements",
          "maps", "report", "calibration", "scenarios", "pipeline", "areas")  # fmt: skip


def _geo_functions() -> list[tuple[str, object, list[str]]]:
    import importlib
    import inspect

    found = []
    for stage in STAGES:
        module = importlib.import_module(f"nwm_geo.{stage}")
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                params = inspect.signature(obj).parameters.values()
                geo = [p.name for p in params if "GeoDataFrame" in str(p.annotation)]
                if geo:
                    found.append((f"{stage}.{name}", obj, geo))
    return found


def test_every_public_function_taking_a_geodataframe_checks_its_crs() -> None:
    functions = _geo_functions()
    assert len(functions) >= 40  # the census reads the real API
    unchecked = [
        name
        for name, func, geo in functions
        if tuple(getattr(func, "__crs_checked__", ())) != tuple(geo)
    ]
    assert unchecked == []


def test_a_geodataframe_without_crs_is_refused_by_name(
    synthetic_wards: object, synthetic_postcodes: object
) -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    from nwm_geo import coverage, data, localities

    wards = synthetic_wards.copy()  # type: ignore[attr-defined]
    bare = gpd.GeoDataFrame(wards.drop(columns="geometry"), geometry=list(wards.geometry))
    assert bare.crs is None
    with pytest.raises(nwm_geo.NwmGeoError, match=r"localities.partition: wards has no CRS"):
        localities.partition(bare, k=2)
    with pytest.raises(nwm_geo.NwmGeoError, match=r"data.borough_boundary: wards has no CRS"):
        data.borough_boundary(bare)
    # issue 24: degrees without a CRS were snapped 549 km away; now refused first
    site = gpd.GeoDataFrame({"category": ["Library"]}, geometry=[Point(-0.42, 51.88)],
                            index=["new-1"])  # fmt: skip
    with pytest.raises(nwm_geo.NwmGeoError, match=r"coverage.with_sites: add has no CRS"):
        coverage.with_sites(None, add=site)  # type: ignore[arg-type]


def test_a_what_if_takes_category_synonyms_and_suggests_near_misses() -> None:
    from nwm_geo.data import resolve_category

    cats = ("Library", "Education", "Religious Institution")
    assert resolve_category("library", cats) == ("Library", "")
    assert resolve_category("Mosque", cats) == ("Religious Institution", "")
    found, reason = resolve_category("Libary", cats)
    assert found is None and "did you mean 'Library'?" in reason
    found, reason = resolve_category("Bowling alley", cats)
    assert found is None and "did you mean" not in reason and "one of: Library" in reason


def test_a_what_if_site_takes_a_synonym_and_the_comparison_prints_short(
    synthetic_area: tuple[Path, Path], tmp_path: Path
) -> None:
    profile, data_dir = synthetic_area
    base = nwm_geo.Study(area=profile, data_dir=data_dir, plan=None, project_dir=tmp_path)
    site = {"name": "Synthetic Hub", "category": "library", "easting": 601300,
            "northing": 301300}  # fmt: skip
    scen = base.with_changes(add=[site])  # issue 24: "library" was refused
    assert scen.changes is not None and scen.changes.add["category"].tolist() == ["Library"]
    with pytest.raises(nwm_geo.NwmGeoError, match=r"did you mean 'Library'\?"):
        base.with_changes(add=[{**site, "category": "Libary"}])
    cmp = nwm_geo.scenarios.compare(base, scen)
    text = repr(cmp)
    assert text.startswith("<Comparison: scenario against baseline in Synthetica>")
    assert len(text.splitlines()) <= 6 and "Library:" in text and "gaining" in text
    assert "<li>" in cmp._repr_html_()
    assert "what-if: 0 site(s) closed, 1 added" in repr(scen)
    assert repr(base.plan).startswith("<LocalityPlan>") and len(repr(base.plan)) < 400
    # results named for what they are: the areas, not the module's name
    areas = base.locality_areas
    assert set(areas.index) == set(base.plan.assignment) and areas.crs is not None
    with pytest.warns(DeprecationWarning, match="use Study.locality_areas"):
        assert base.localities is areas


def test_every_result_object_prints_in_a_few_lines(
    synthetic_area: tuple[Path, Path], tmp_path: Path
) -> None:
    profile, data_dir = synthetic_area
    study = nwm_geo.Study(area=profile, data_dir=data_dir, project_dir=tmp_path)
    names = ["model", "asset_cover", "alternatives", "equity", "closure_impact", "outline",
             "hub_analysis", "plan"]  # fmt: skip
    for name in names:
        result = getattr(study, name)
        text = repr(result)
        assert text.startswith("<") and len(text.splitlines()) <= 7, (name, text)
        assert len(text) < 800, (name, len(text))
        assert result._repr_html_().startswith("<div class='nwm-geo'>"), name
