"""The whole pipeline on a SYNTHETIC council: a profile plus its data folder, no real data.

This is the unit-tier end-to-end test of :class:`nwm_geo.pipeline.Study` and
:func:`nwm_geo.pipeline.run`: every stage runs on 4 made-up wards and 36 made-up postcodes.
"""

from __future__ import annotations

import gc
from pathlib import Path

import pandas as pd
import pytest

from nwm_geo import NwmGeoError, pipeline
from nwm_geo.areas import load_area
from nwm_geo.pipeline import Study


def test_a_new_council_is_a_profile_plus_its_data(synthetic_area: tuple[Path, Path]) -> None:
    profile, data_dir = synthetic_area
    area = load_area(profile)
    area.check_files(data_dir)
    study = pipeline.Study(area=profile, data_dir=data_dir)
    assert study.n_localities == 2 and study.ward_year == 2024
    assert int(study.demand["population"].sum()) == 1200 + 900 + 1500 + 600
    assert len(study.register) == 10 and study.register["inside_area"].all()
    rec = study.reconciliation
    assert rec["council_count"].isna().all()  # no published counts: no target
    assert int(rec.loc["TOTAL", "register_count"]) == 10
    assert "LBC Community Centre" not in study.bundles["somewhere to go"]
    plan = study.plan
    assert set(plan.assignment.index) == set(study.wards.index)
    assert plan.assignment.nunique() == 2
    assert plan.status == "proven optimal"
    # the one locality rule: the plan's own mapping, outside wards labelled
    loc = study.locality_of(study.register)
    assert (loc == study.register["ward_code"].map(plan.assignment)).all()


@pytest.mark.integration  # slow: an end-to-end run (fast tier < 60 s)
def test_run_writes_every_stage_for_the_synthetic_council(
    synthetic_area: tuple[Path, Path], tmp_path: Path
) -> None:
    profile, data_dir = synthetic_area
    study = pipeline.Study(area=profile, data_dir=data_dir)
    project = tmp_path / "project"
    written = pipeline.run(study, project_dir=project, progress=False)
    processed = project / "data" / "processed" / "synthetic"
    reports = project / "reports" / "synthetic"
    names = {p.name for p in written}
    for expected in (
        "assets_register.csv",
        "localities.csv",
        "coverage_localities.csv",
        "asset_criticality.csv",
        "asset_requirements.xlsx",
        "index.html",
        "map_localities.html",
    ):
        assert expected in names, expected
    assert all(p.is_relative_to(processed) or p.is_relative_to(reports) for p in written)
    cov = pd.read_csv(processed / "coverage_localities.csv")
    assert set(cov["locality"]) == set(study.plan.assignment)
    assert (cov["share"].dropna().between(0, 1)).all()
    sources = (processed / "SOURCES.txt").read_text(encoding="utf-8")
    assert "Synthetica" in sources and "network: approximate" in sources
    # the same study with another threshold gives a different coverage table
    slow = pipeline.Study(area=profile, data_dir=data_dir, minutes=5)
    assert not slow.coverage(by="locality")["share"].equals(study.coverage(by="locality")["share"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"minutes": 0}, "minutes must be more than 0"),
        ({"minutes": float("nan")}, "finite number of minutes"),
        ({"speed_m_per_min": 4.8}, "looks like km/h"),
        ({"speed_m_per_min": 1e9}, "metres per minute"),
    ],
)
def test_bad_settings_are_refused_before_any_work(
    synthetic_area: tuple[Path, Path], options: dict[str, float], message: str
) -> None:
    profile, data_dir = synthetic_area
    with pytest.raises(NwmGeoError, match=message):
        pipeline.Study(area=profile, data_dir=data_dir, **options)  # type: ignore[arg-type]


def test_the_cli_names_the_flag_and_its_units(
    synthetic_area: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from nwm_geo.cli import main

    profile, data_dir = synthetic_area
    monkeypatch.setenv("NWM_GEO_PROJECT_DIR", str(tmp_path / "project"))
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(data_dir))
    code = main(["coverage", "--quiet", "--area", str(profile), "--speed", "4.8"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--speed must be a walking speed" in err and "4.8 km/h is 80 m/min" in err
    assert "Traceback" not in err
    assert not (tmp_path / "project" / "reports").exists()


def test_sources_say_how_much_personal_data_was_masked(
    synthetic_area: tuple[Path, Path], tmp_path: Path
) -> None:
    profile, data_dir = synthetic_area
    sites = data_dir / "assets" / "sites.csv"
    table = pd.read_csv(sites)
    table.loc[0, "name"] = "Synthetic Hall (call 01632 960123)"  # an Ofcom drama number
    table.to_csv(sites, index=False)
    study = pipeline.Study(area=profile, data_dir=data_dir)
    pipeline.run(study, stages=["register"], project_dir=tmp_path, progress=False)
    out = tmp_path / "data" / "processed" / "synthetic"
    assert "Personal data: 1 phone number(s)" in (out / "SOURCES.txt").read_text("utf-8")
    assert "01632 960123" not in (out / "assets_register.csv").read_text("utf-8")


def test_run_freezes_the_collector_only_while_it_runs(
    synthetic_area: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile, data_dir = synthetic_area
    study = pipeline.Study(area=profile, data_dir=data_dir)
    seen: list[int] = []

    def probe(study: Study, out: Path) -> list[Path]:
        seen.append(gc.get_freeze_count())
        if len(seen) == 2:
            raise NwmGeoError("probe failed")
        return []

    monkeypatch.setitem(pipeline.STAGES, "probe", (probe, "processed"))
    assert gc.get_freeze_count() == 0
    pipeline.run(study, stages=["register", "probe"], project_dir=tmp_path, progress=False)
    # the register's tables were frozen before the next stage; a Python caller gets
    # its collector back as it was
    assert seen[0] > 0 and gc.get_freeze_count() == 0
    with pytest.raises(NwmGeoError, match="probe failed"):
        pipeline.run(study, stages=["probe"], project_dir=tmp_path / "b", progress=False)
    assert gc.get_freeze_count() == 0  # a failed run unfreezes too
    gc.freeze()  # a caller's own freeze is its own: left in place
    try:
        seen.clear()
        pipeline.run(study, stages=["probe"], project_dir=tmp_path / "c", progress=False)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
