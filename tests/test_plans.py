"""Locality plans as files and decisions, on the SYNTHETIC council (no real data).

A plan written by the localities stage is read back unchanged and never re-solved; a
bad plan file gets one error naming the file, the rows and the reasons; two plans can
be compared; and every output folder records the settings it was written with.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from conftest import SyntheticRun
from nwm_geo import DataValidationError, NwmGeoError, localities, pipeline


def _study(synthetic_area: tuple[Path, Path], **kw: object) -> pipeline.Study:
    profile, data_dir = synthetic_area
    return pipeline.Study(area=profile, data_dir=data_dir, **kw)  # type: ignore[arg-type]


def _never(*args: object, **kwargs: object) -> None:
    raise AssertionError("the plan was re-solved")


@pytest.mark.integration  # slow: an end-to-end run (fast tier < 60 s)
def test_the_written_plan_is_read_back_and_never_re_solved(
    synthetic_area: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = _study(synthetic_area)
    pipeline.run(study, stages=["register", "localities"], project_dir=tmp_path, progress=False)
    saved = tmp_path / "data" / "processed" / "synthetic" / "localities.csv"
    monkeypatch.setattr(localities, "partition", _never)
    monkeypatch.setattr(localities, "alternatives", _never)
    again = _study(synthetic_area, plan=saved)
    pd.testing.assert_series_equal(
        again.plan.assignment.sort_index(), study.plan.assignment.sort_index(), check_names=False
    )
    assert again.plan_given and "given in localities.csv" in again.plan.status
    # renamed in the file: the file's names are kept as they are
    table = pd.read_csv(saved)
    table["locality"] = table["locality"].map(
        dict(zip(sorted(table["locality"].unique()), ["Riverside", "Hilltop"], strict=True))
    )
    table.to_csv(tmp_path / "renamed.csv", index=False)
    renamed = _study(synthetic_area, plan=tmp_path / "renamed.csv")
    assert set(renamed.plan.assignment) == {"Riverside", "Hilltop"}
    assert set(renamed.localities.index) == {"Riverside", "Hilltop"}
    # writing the localities stage with a given plan writes no alternatives (none solved)
    written = pipeline.run(
        renamed, stages=["localities"], project_dir=tmp_path / "p2", progress=False
    )
    alts = next(p for p in written if p.name == "locality_alternatives.csv")
    assert pd.read_csv(alts).empty


def test_a_geojson_plan_works_like_a_csv_one(
    synthetic_area: tuple[Path, Path], tmp_path: Path
) -> None:
    study = _study(synthetic_area)
    wards = study.wards[["ward_name", "geometry"]].copy()
    wards["locality"] = ["West", "East", "West", "East"]
    path = tmp_path / "plan.geojson"
    gpd.GeoDataFrame(wards.reset_index(), crs=study.wards.crs).to_crs("EPSG:4326").to_file(
        path, driver="GeoJSON"
    )
    plan = _study(synthetic_area, plan=path).plan
    assert plan.assignment.to_dict() == dict(zip(wards.index, wards["locality"], strict=True))
    assert (plan.summary["parts"] == 1).all()


def test_a_bad_plan_gets_one_error_naming_file_rows_and_reasons(
    synthetic_area: tuple[Path, Path], tmp_path: Path
) -> None:
    study = _study(synthetic_area)
    path = tmp_path / "plan.csv"
    path.write_text(
        "ward_code,locality\n"
        "X05000001,North\n"
        "X05000001,South\n"  # row 3: a ward given twice
        "E05999999,North\n"  # row 4: not a ward of the area
        "X05000002,\n",  # row 5: no locality; X05000003 and X05000004 missing
        encoding="utf-8",
    )
    with pytest.raises(DataValidationError) as err:
        localities.read_plan(path, study.wards)
    text = str(err.value)
    assert "4 problems" in text
    assert f"{path}, row 3, column 'ward_code': ward given twice (first in row 2)" in text
    assert "row 4" in text and "not a ward of the study's area" in text
    assert "row 5, column 'locality': empty locality name" in text
    assert "2 ward(s) of the area are in no locality: X05000003, X05000004" in text
    (tmp_path / "nocol.csv").write_text("code,name\nX05000001,A\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="no 'ward_code' column"):
        localities.read_plan(tmp_path / "nocol.csv", study.wards)


def test_a_plan_that_is_not_contiguous_is_reported_not_refused(
    synthetic_area: tuple[Path, Path],
) -> None:
    study = _study(synthetic_area)
    # the 2 x 2 grid: wards 1 and 4 touch at a corner only
    diagonal = pd.Series(["A", "B", "B", "A"], index=study.wards.index)
    plan = localities.plan_from_assignment(study.wards, diagonal, source="given")
    assert plan.summary.loc["A", "parts"] == 2 and plan.summary.loc["B", "parts"] == 2
    assert "not contiguous: A (2 parts), B (2 parts)" in plan.status


def test_compare_plans_matches_renamed_localities_and_finds_moved_wards(
    synthetic_area: tuple[Path, Path],
) -> None:
    study = _study(synthetic_area)
    a = pd.Series(["W", "E", "W", "E"], index=study.wards.index)
    renamed = a.map({"W": "Left", "E": "Right"})
    same = localities.compare_plans(study.wards, a, renamed)
    assert same.moved.empty and same.moved_population == 0
    assert same.matching.to_dict() == {"Left": "W", "Right": "E"}
    moved = a.copy()
    moved.iloc[3] = "W"  # ward 4 (600 residents) joins the west
    cmp = localities.compare_plans(study.wards, a, moved)
    assert list(cmp.moved.index) == ["X05000004"]
    assert cmp.moved_population == 600
    assert set(cmp.metrics["plan"]) == {"a", "b"}
    with pytest.raises(NwmGeoError, match="same ward codes"):
        localities.compare_plans(study.wards, a, a.iloc[:3])


@pytest.mark.integration  # slow: an end-to-end run (fast tier < 60 s)
def test_locality_names_are_identical_between_runs(synthetic_area: tuple[Path, Path]) -> None:
    one, two = _study(synthetic_area), _study(synthetic_area)
    assert one.plan.assignment.to_dict() == two.plan.assignment.to_dict()
    ward_names = set(one.wards["ward_name"])
    assert set(one.plan.assignment) <= ward_names  # named after their own wards


@pytest.mark.integration  # slow: an end-to-end run (fast tier < 60 s)
def test_every_output_folder_records_its_settings(synthetic_run: SyntheticRun) -> None:
    study = _study(synthetic_run.area)  # the run's: the default settings
    project = synthetic_run.project
    for folder in ("data/processed/synthetic", "reports/synthetic"):
        record = json.loads((project / folder / "provenance.json").read_text("utf-8"))
        s = record["settings"]
        assert s["minutes"] == 15 and s["speed_m_per_min"] == 80
        assert s["plan_sha256"] == localities.plan_sha256(study.plan.assignment)
        assert s["network"].startswith("network: approximate") and s["network_source"]
        assert len(s["register_fingerprint"]) == 64 and s["register_assets"] == 10
        assert record["solver_statuses"]["localities"] == "proven optimal"
        assert "data/raw/postcodes/codepoint.csv" in record["inputs"]
        assert record["packages"]["pandas"] == pd.__version__
    assert (
        "requirements"
        in json.loads((project / "reports/synthetic/provenance.json").read_text("utf-8"))[
            "solver_statuses"
        ]
    )
    sources = (project / "reports/synthetic/SOURCES.txt").read_text("utf-8")
    assert "Walk: 15-minute walk at 80 m/min" in sources


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): pipeline.file_sha256(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".nwm-geo" not in p.name
    }


@pytest.mark.integration  # slow: an end-to-end run (fast tier < 60 s)
def test_a_partial_run_with_other_settings_is_refused(synthetic_run: SyntheticRun) -> None:
    synthetic_area, tmp_path = synthetic_run.area, synthetic_run.project  # a whole run's
    before = _hashes(tmp_path)
    saved = tmp_path / "data" / "processed" / "synthetic" / "localities.csv"
    ten = _study(synthetic_area, minutes=10, plan=saved)
    with pytest.raises(NwmGeoError, match=r"report files were written with minutes = 15.0"):
        pipeline.run(ten, stages=["coverage"], project_dir=tmp_path, progress=False)
    assert _hashes(tmp_path) == before  # nothing written
    # the same settings: fine; every stage that depends on the minutes together: fine
    pipeline.run(_study(synthetic_area, plan=saved), stages=["coverage"], project_dir=tmp_path,
                 progress=False)  # fmt: skip
    with pytest.raises(NwmGeoError, match=r"hubs files were written with minutes = 15.0"):
        pipeline.run(ten, stages=["coverage", "report"], project_dir=tmp_path, progress=False)
    pipeline.run(ten, stages=["coverage", "hubs", "report"], project_dir=tmp_path,
                 progress=False)  # fmt: skip
    record = json.loads((tmp_path / "reports/synthetic/provenance.json").read_text("utf-8"))
    assert record["stages"]["report"]["minutes"] == 10


@pytest.mark.integration  # slow: an end-to-end run (fast tier < 60 s)
def test_the_cli_uses_the_saved_plan_for_later_stages(
    synthetic_area: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from nwm_geo.cli import main

    profile, data_dir = synthetic_area
    monkeypatch.setenv("NWM_GEO_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(data_dir))
    assert main(["localities", "--quiet", "--area", str(profile)]) == 0
    saved = tmp_path / "data" / "processed" / "synthetic" / "localities.csv"
    council = tmp_path / "council_plan.csv"
    table = pd.read_csv(saved)
    table["locality"] = table["locality"] + " (council)"
    table.to_csv(council, index=False)
    # the council's own plan becomes the project's plan; later stages keep it
    assert main(["localities", "--quiet", "--area", str(profile), "--plan", str(council)]) == 0
    capsys.readouterr()
    assert main(["coverage", "--quiet", "--area", str(profile)]) == 0
    out = capsys.readouterr().out
    assert "localities.csv, used as given (not re-solved)" in out
    cov = pd.read_csv(tmp_path / "data" / "processed" / "synthetic" / "coverage_localities.csv")
    assert set(cov["locality"]) == set(table["locality"])
    # re-solving the plan while the coverage files keep the council's is refused
    assert main(["localities", "--quiet", "--area", str(profile)]) == 2
    assert "the coverage files were written with plan_sha256" in capsys.readouterr().err


def test_compare_plans_command_and_a_plan_for_other_wards(
    synthetic_area: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from nwm_geo.cli import main

    profile, data_dir = synthetic_area
    monkeypatch.setenv("NWM_GEO_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(data_dir))
    codes = ["X05000001", "X05000002", "X05000003", "X05000004"]
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    pd.DataFrame({"ward_code": codes, "locality": ["W", "E", "W", "E"]}).to_csv(a, index=False)
    pd.DataFrame({"ward_code": codes, "locality": ["L", "R", "L", "L"]}).to_csv(b, index=False)
    assert main(["compare-plans", "--quiet", "--area", str(profile), str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "1 ward(s) moved (600 residents)" in out and "X05000004" in out
    study = _study(synthetic_area)
    other = localities.plan_from_assignment(study.wards.iloc[:3], pd.Series(["A", "A", "B"],
                                            index=study.wards.index[:3]))  # fmt: skip
    with pytest.raises(NwmGeoError, match="does not assign exactly the study's wards"):
        _ = _study(synthetic_area, plan=other).plan


@pytest.mark.integration  # slow: an end-to-end run (fast tier < 60 s)
def test_a_new_register_alone_would_leave_stale_coverage_and_is_refused(
    synthetic_run: SyntheticRun,
) -> None:
    synthetic_area, project = synthetic_run.area, synthetic_run.project  # a whole run's
    data_dir = synthetic_run.data_dir
    before = _hashes(project)
    sites = data_dir / "assets" / "sites.csv"
    table = pd.read_csv(sites)
    table.loc[len(table)] = [*table.iloc[0].tolist()]
    table.loc[len(table) - 1, "name"] = "Synthetic Site 11"
    table.loc[len(table) - 1, "easting"] += 300
    table.to_csv(sites, index=False)
    with pytest.raises(NwmGeoError, match="files were written with register_fingerprint"):
        pipeline.run(_study(synthetic_area), stages=["register"], project_dir=project,
                     progress=False)  # fmt: skip
    assert _hashes(project) == before
    pipeline.run(_study(synthetic_area), project_dir=project, progress=False)  # all: fine


def test_compare_plans_reports_a_locality_in_pieces(
    synthetic_area: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 20: compare-plans said nothing about a non-contiguous locality."""
    from nwm_geo.cli import main

    study = _study(synthetic_area)
    a = pd.Series(["W", "E", "W", "E"], index=study.wards.index)
    diagonal = pd.Series(["A", "B", "B", "A"], index=study.wards.index)  # corner-touching
    cmp = localities.compare_plans(study.wards, a, diagonal)
    assert cmp.not_contiguous == ["plan b: A (2 parts)", "plan b: B (2 parts)"]
    assert (cmp.metrics.loc[cmp.metrics["plan"] == "a", "parts"] == 1).all()
    profile, data_dir = synthetic_area
    monkeypatch.setenv("NWM_GEO_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(data_dir))
    fa, fb = tmp_path / "a.csv", tmp_path / "b.csv"
    a.rename_axis("ward_code").rename("locality").reset_index().to_csv(fa, index=False)
    diagonal.rename_axis("ward_code").rename("locality").reset_index().to_csv(fb, index=False)
    assert main(["compare-plans", "--quiet", "--area", str(profile), str(fa), str(fb)]) == 0
    assert "Not contiguous" in capsys.readouterr().out
