"""The saved baseline what-ifs start from (issue 26 item 5), on the SYNTHETIC council.

``pipeline.run`` saves the baseline's results; ``pipeline.load_baseline`` reads them
into a fresh study when the inputs and settings are unchanged (the equity and closure
tables are read, not recomputed), and a what-if from it equals one made on a study
that computed everything itself. A stale baseline (other settings) is not used, and
the message says why.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from conftest import SyntheticRun
from nwm_geo import coverage, equity, pipeline, requirements, scenarios, uncertainty


def _study(synthetic_area: tuple[Path, Path], project: Path, **kw: object) -> pipeline.Study:
    profile, data_dir = synthetic_area
    return pipeline.Study(area=profile, data_dir=data_dir, project_dir=project, **kw)  # type: ignore[arg-type]


def test_sources_note_states_the_age_speeds_without_the_equity_tables(
    synthetic_area: tuple[Path, Path], tmp_path: Path
) -> None:
    study = _study(synthetic_area, tmp_path, speed_m_per_min=70)
    note = pipeline.sources_note(study)
    assert "equity" not in study.__dict__  # the line did not compute the tables
    assert study.equity.speeds_note() in note.splitlines()


@pytest.mark.integration  # slow: an end-to-end run (fast tier < 60 s)
def test_a_what_if_from_the_saved_baseline_equals_one_recomputed(
    synthetic_run: SyntheticRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    from _same import differences, public_results

    synthetic_area, tmp_path = synthetic_run.area, synthetic_run.project  # a whole run's
    saved_plan = tmp_path / "data/processed/synthetic/localities.csv"
    assert pipeline.baseline_path(_study(synthetic_area, tmp_path)).is_file()

    loaded = _study(synthetic_area, tmp_path, plan=saved_plan)
    said = pipeline.load_baseline(loaded)
    assert said.startswith("baseline read from"), said
    # the equity and closure tables are read, not recomputed
    with monkeypatch.context() as m:
        for name in ("equity_tables", "coverage_by_deprivation", "coverage_by_age"):
            m.setattr(equity, name, _refuse)
        m.setattr(coverage, "closure_impact", _refuse)
        m.setattr(coverage, "prepare", _refuse)
        m.setattr(coverage, "nearest_minutes", _refuse)
        base_equity, base_closure = loaded.equity, loaded.closure_impact
    fresh = _study(synthetic_area, tmp_path, plan=saved_plan)
    assert differences(base_equity, fresh.equity) == []
    assert differences(base_closure, fresh.closure_impact) == []

    changes = {"close": ["site-0002", "site-0005"]}
    from_saved = loaded.with_changes(**changes)
    recomputed = _study(synthetic_area, tmp_path, plan=saved_plan).with_changes(**changes)
    # a scenario's comparison and network line need the saved network's source only: its
    # edges are not decoded (the largest part of reading the baseline)
    a = scenarios.compare(loaded, from_saved)
    assert from_saved.network_label == recomputed.network_label
    assert from_saved.network_approximate == recomputed.network_approximate
    assert "graph" not in loaded.__dict__ and "graph" not in from_saved.__dict__
    assert from_saved.graph is loaded.graph  # decoded once when used, and shared
    names = [n for n in public_results(pipeline.Study) if n != "changes"]
    for name in names:
        found = differences(getattr(from_saved, name), getattr(recomputed, name), name)
        assert found == [], found
    b = scenarios.compare(fresh, recomputed)
    assert differences(a, b) == []


def _refuse(*args: object, **kwargs: object) -> None:
    raise AssertionError("recomputed, not read from the saved baseline")


@pytest.mark.integration  # slow: a walk model and its saved baseline (fast tier < 60 s)
def test_a_stale_baseline_is_not_used_and_the_message_says_why(
    synthetic_area: tuple[Path, Path], tmp_path: Path
) -> None:
    saved = _study(synthetic_area, tmp_path)
    saved.model  # noqa: B018  (the walk model a run builds; the rest need not be saved)
    assert pipeline.save_baseline(saved) == pipeline.baseline_path(saved)
    other = _study(synthetic_area, tmp_path, minutes=12)
    said = pipeline.load_baseline(other)
    assert "stale" in said and "minutes 15.0 -> 12.0" in said, said
    said = pipeline.load_baseline(_study(synthetic_area, tmp_path, new_sites=2))
    assert "stale" in said and "new_sites 3 -> 2" in said, said  # the outline's k
    assert "model" not in other.__dict__ and "demand" not in other.__dict__
    # another pandas (or osmnx...) may compute otherwise: stale too
    real_version = metadata.version
    with pytest.MonkeyPatch.context() as m:
        m.setattr(metadata, "version", lambda n: "0.0" if n == "pandas" else real_version(n))
        upgraded = _study(synthetic_area, tmp_path)
        said = pipeline.load_baseline(upgraded)
    assert "stale" in said and "package versions changed" in said, said
    assert "model" not in upgraded.__dict__
    # a what-if study is never filled from the baseline
    base = _study(synthetic_area, tmp_path)
    scen = base.with_changes(close=["site-0002"])
    assert "what-if" in pipeline.load_baseline(scen)
    assert "site-0002" not in scen.register.index
    # no saved baseline: computed
    assert pipeline.load_baseline(_study(synthetic_area, tmp_path / "empty")).startswith(
        "no saved baseline"
    )


def test_a_register_with_personal_data_is_never_saved(
    synthetic_area: tuple[Path, Path], tmp_path: Path
) -> None:
    from test_publish import _register  # SYNTHETIC sites with phones and e-mails planted

    register = _register(tmp_path / "council register.csv")
    study = _study(synthetic_area, tmp_path, register_path=register)
    path = pipeline.baseline_path(study)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"an older saved baseline")
    study.model  # noqa: B018  (the results a run would have computed)
    assert pipeline.save_baseline(study) is None
    assert not path.exists()  # the older one is removed, not left to be read
    plain = _study(synthetic_area, tmp_path)
    plain.model  # noqa: B018
    assert pipeline.save_baseline(plain) == pipeline.baseline_path(plain)
    assert "1632960" not in pipeline.baseline_path(plain).read_bytes().decode("latin-1")


@pytest.mark.integration  # slow: two end-to-end runs (fast tier < 60 s)
def test_a_second_run_reads_the_saved_baseline_and_writes_the_same_files(
    synthetic_area: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = _study(synthetic_area, tmp_path)
    assert pipeline.baseline_note(study) is None  # before a run
    first = pipeline.run(study, project_dir=tmp_path, progress=False)
    assert str(pipeline.baseline_note(study)).startswith("no saved baseline in ")
    texts = {p: p.read_bytes() for p in first if p.suffix in {".csv", ".json", ".txt", ".md"}}
    saved = pipeline.baseline_path(_study(synthetic_area, tmp_path))
    saved_at = saved.stat().st_mtime_ns
    with monkeypatch.context() as m:  # the walk model, minutes, equity, closure, ranges: read
        m.setattr(coverage, "prepare", _refuse)
        m.setattr(coverage, "nearest_minutes", _refuse)
        m.setattr(coverage, "closure_impact", _refuse)
        m.setattr(equity, "equity_tables", _refuse)
        m.setattr(uncertainty, "missing_sites", _refuse)  # the headline ranges: read too
        m.setattr(coverage, "coverage_matrix", _refuse)  # the asset and site covers: read
        m.setattr(requirements, "outline", _refuse)  # the plan's requirements outline: read
        again = _study(synthetic_area, tmp_path)
        second = pipeline.run(again, project_dir=tmp_path, progress=False)
    assert sorted(second) == sorted(first)
    said = str(pipeline.baseline_note(again))  # what `nwm-geo run` prints after "Baseline:"
    assert said.startswith(f"baseline read from {saved}")
    assert said.endswith(
        "the plan solved is the saved one: its equity and closure tables are read too"
    )
    changed = [
        p.name
        for p, before in texts.items()
        if p.read_bytes() != before and p.name != "hubs_frontier.csv"  # its solver seconds
    ]
    assert changed == []
    assert saved.stat().st_mtime_ns == saved_at  # it held everything: not written again
    # another setting: the saved results are stale and computed again
    with monkeypatch.context() as m:
        m.setattr(coverage, "prepare", _refuse)
        with pytest.raises(AssertionError, match="recomputed"):
            pipeline.run(
                _study(synthetic_area, tmp_path, minutes=12),
                project_dir=tmp_path,
                progress=False,
            )
    twelve = _study(synthetic_area, tmp_path, minutes=12)
    pipeline.run(twelve, project_dir=tmp_path, progress=False)
    assert saved.stat().st_mtime_ns != saved_at  # saved again, for the new settings
    assert "is stale (" in str(pipeline.baseline_note(twelve))
