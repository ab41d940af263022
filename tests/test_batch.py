"""``nwm-geo batch`` on the SYNTHETIC council, on a LocalCluster of one worker process.

Issue 25: a batch gives the same summary on Dask as serially, and each task's folder is
byte-identical to what ``nwm-geo scenario`` writes for the same scenario; one failing
task never stops the rest; a re-run skips unchanged tasks; a spec error names the file
and the key; ``--scheduler`` connects to a separately started ``dask scheduler`` and
``dask worker``. One LocalCluster is shared by the module (a start costs seconds); one
worker process is enough to show that the tasks leave this process and share one
baseline (``tests/test_batch_areas.py`` runs the command on 2 workers).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from distributed import Client, LocalCluster, get_task_stream

from nwm_geo import batch, pipeline, scenarios

CLOSE_LIBRARIES = """name = "no-libraries"
description = "Every library closes (synthetic test)"
[[close]]
asset_id = "site-0002"
[[close]]
name = "Synthetic Site 10"
"""


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """One single-threaded worker process (each costs seconds of imports to start)."""
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


def _spec(root: Path, profile: Path, body: str = "", *, name: str = "review") -> Path:
    spec = root / f"{name}.toml"
    spec.write_text(f'name = "{name}"\nareas = ["{profile}"]\n{body}', encoding="utf-8")
    return spec


SWEEPS = """scenarios = ["no-libraries.toml"]
[[sweep]]
close_each = "Library"
[[sweep]]
close_pairs = ["site-0001", "site-0006", "site-0003"]
[[sweep]]
minutes = [10, 20]
speed_m_per_min = 65
"""


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): pipeline.file_sha256(p)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.integration  # starts a Dask cluster: the slow tier
def test_dask_equals_serial_and_separate_scenario_runs(
    synthetic_area: tuple[Path, Path],
    tmp_path: Path,
    client: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from nwm_geo.cli import main

    profile, data_dir = synthetic_area
    (tmp_path / "no-libraries.toml").write_text(CLOSE_LIBRARIES, encoding="utf-8")
    spec = _spec(tmp_path, profile, SWEEPS)
    on_dask = batch.run(spec, client=client, project_dir=tmp_path / "a", data_dir=data_dir)
    serial = batch.run(spec, serial=True, project_dir=tmp_path / "b", data_dir=data_dir)
    # 1 file + 2 libraries + 3 pairs + a 2 x 1 grid
    assert len(on_dask.ran) == 8 and on_dask.failures.empty and serial.failures.empty
    assert set(on_dask.summary["scenario"]) == {
        "no-libraries",
        "close-site-0002",
        "close-site-0010",
        "pair-site-0001_site-0006",
        "pair-site-0001_site-0003",
        "pair-site-0006_site-0003",
        "walk-10min-65mpm",
        "walk-20min-65mpm",
    }
    assert list(on_dask.summary.columns) == list(batch.SUMMARY_COLUMNS)
    a = (tmp_path / "a/batch/review/summary.csv").read_bytes()
    assert a == (tmp_path / "b/batch/review/summary.csv").read_bytes()
    # the tasks really ran on the worker processes, not in this one
    workers = {
        json.loads(p.read_text())["worker"]
        for p in (tmp_path / "a/batch/review/tasks").rglob("*.json")
    }
    assert workers and all(not w.endswith(f":{os.getpid()}") for w in workers)
    # every row equals a separate compare() of a fresh baseline
    base = pipeline.Study(area=profile, data_dir=data_dir)
    lib = scenarios.compare(base, base.with_changes(close=["site-0002", "site-0010"]))
    rows = on_dask.summary[on_dask.summary["scenario"] == "no-libraries"].reset_index(drop=True)
    expected = lib.localities.rename(columns={"change_pct_points": "change"})
    for col in ("locality", "measure", "baseline_pct", "scenario_pct", "change"):
        assert rows[col].tolist() == expected[col].tolist()
    assert rows["residents_losing"].tolist() == expected["residents_losing"].astype(float).tolist()
    slow = scenarios.compare(base, base.with_changes(minutes=20, speed_m_per_min=65))
    rows = on_dask.summary[on_dask.summary["scenario"] == "walk-20min-65mpm"]
    assert rows["scenario_pct"].tolist() == slow.localities["scenario_pct"].tolist()
    assert rows["residents_gaining"].sum() == slow.localities["residents_gaining"].sum() > 0

    # with keep = ["folders"], a task's folder is byte-identical to nwm-geo scenario's
    kept = _spec(
        tmp_path,
        profile,
        'scenarios = ["no-libraries.toml"]\nkeep = ["folders"]\n'
        '[[sweep]]\nclose_each = "Library"\n',
        name="kept",
    )
    project = tmp_path / "cli"
    monkeypatch.setenv("NWM_GEO_PROJECT_DIR", str(project))
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(data_dir))
    generated = tmp_path / "close-site-0010.toml"
    generated.write_text(
        'name = "close-site-0010"\n'
        'description = "Generated by batch kept (kept.toml sweep[1])"\n'
        '[[close]]\nasset_id = "site-0010"\n',
        encoding="utf-8",
    )
    toml = [str(tmp_path / "no-libraries.toml"), str(generated)]
    assert main(["scenario", "--quiet", "--area", str(profile), *toml]) == 0
    result = batch.run(kept, client=client, project_dir=project, data_dir=project / "data/raw")
    assert result.failures.empty
    folders = project / "batch/kept/scenarios/synthetic"
    # the generated scenario's file is the one written above, and kept in its folder
    assert (folders / "close-site-0010/scenario.toml").read_bytes() == generated.read_bytes()
    for name in ("no-libraries", "close-site-0010"):
        alone = _hashes(project / "scenarios/synthetic" / name)
        assert len(alone) >= 9 and "map_difference.html" in alone
        assert _hashes(folders / name) == alone
    table = pd.read_csv(project / "scenarios/synthetic/no-libraries/comparison_localities.csv")
    rows = result.summary[result.summary["scenario"] == "no-libraries"]
    assert rows["scenario_pct"].tolist() == table["scenario_pct"].tolist()


@pytest.mark.integration  # starts a Dask cluster: the slow tier
def test_a_failing_task_does_not_stop_the_others(
    synthetic_area: tuple[Path, Path], tmp_path: Path, client: Client
) -> None:
    profile, data_dir = synthetic_area
    # a second council whose OSM file is damaged: its register and postcodes read, its
    # walk network cannot be built, so its baseline and every task on it fail
    (data_dir / "osm").mkdir()
    (data_dir / "osm/damaged.osm.pbf").write_bytes(b"not an OSM file")
    broken = tmp_path / "broken.toml"
    text = profile.read_text(encoding="utf-8").replace('key = "synthetic"', 'key = "broken"')
    text = text.replace(
        'network = "approximate"', 'network = "osm"\nosm_file = "osm/damaged.osm.pbf"'
    )
    broken.write_text(text, encoding="utf-8")
    spec = tmp_path / "mixed.toml"
    spec.write_text(
        f'name = "mixed"\nareas = ["{profile}", "{broken}"]\n'
        '[[sweep]]\nclose_each = "Library"\n'
        f'[[sweep]]\narea = "{broken}"\nclose_each = "Council"\n',
        encoding="utf-8",
    )
    result = batch.run(spec, client=client, project_dir=tmp_path, data_dir=data_dir)
    assert sorted(result.summary["scenario"].unique()) == ["close-site-0002", "close-site-0010"]
    failures = pd.read_csv(tmp_path / "batch/mixed/failures.csv")
    assert failures["task"].tolist() == ["broken/close-site-0007"]
    assert failures.loc[0, "error"].startswith("baseline of broken failed: ")
    assert "\n" not in failures.loc[0, "error"]
    # a failed task is tried again on the next run; the good ones are skipped
    again = batch.run(spec, client=client, project_dir=tmp_path, data_dir=data_dir)
    assert again.ran == ["broken/close-site-0007"] and len(again.skipped) == 2


@pytest.mark.integration  # starts a Dask cluster: the slow tier
def test_a_rerun_skips_unchanged_tasks(
    synthetic_area: tuple[Path, Path], tmp_path: Path, client: Client
) -> None:
    profile, data_dir = synthetic_area
    (tmp_path / "no-libraries.toml").write_text(CLOSE_LIBRARIES, encoding="utf-8")
    spec = _spec(tmp_path, profile, SWEEPS)
    with get_task_stream(client) as stream:
        first = batch.run(spec, client=client, project_dir=tmp_path, data_dir=data_dir)
    # the baseline is built once, on one worker, and shared by the 8 scenario tasks
    names = [str(t["key"]).split("-")[0] for t in stream.data]
    assert names.count("warm_baseline") == 1 and names.count("run_task") == 8
    summary = (tmp_path / "batch/review/summary.csv").read_bytes()
    again = batch.run(spec, client=client, project_dir=tmp_path, data_dir=data_dir)
    assert again.ran == [] and sorted(again.skipped) == sorted(first.ran)
    assert (tmp_path / "batch/review/summary.csv").read_bytes() == summary
    # an edited scenario file re-runs that task only, and its rows change
    (tmp_path / "no-libraries.toml").write_text(
        CLOSE_LIBRARIES.replace('name = "Synthetic Site 10"', 'asset_id = "site-0001"'),
        encoding="utf-8",
    )
    edited = batch.run(spec, client=client, project_dir=tmp_path, data_dir=data_dir)
    assert edited.ran == ["synthetic/no-libraries"] and len(edited.skipped) == 7
    assert (tmp_path / "batch/review/summary.csv").read_bytes() != summary
    # so does another area profile (its content hash)
    profile.write_text(profile.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert len(batch.run(spec, client=client, project_dir=tmp_path, data_dir=data_dir).ran) == 8
    record = json.loads((tmp_path / "batch/review/provenance.json").read_text())
    assert len(record["tasks"]) == 8 and "OpenStreetMap" in record["sources_and_licences"]
    assert record["baselines"]["synthetic"]["settings"]["network_approximate"] is True


def test_a_batch_starts_from_the_baseline_the_project_saved(
    synthetic_area: tuple[Path, Path], tmp_path: Path
) -> None:
    profile, data_dir = synthetic_area
    project = tmp_path / "project"  # given as project_dir only: no environment variable
    study = pipeline.Study(area=profile, data_dir=data_dir, project_dir=project)
    # what `nwm-geo run` leaves for what-ifs, by its own writers: the plan, the baseline
    for result in ("demand_with_locality", "minutes_to_nearest", "asset_cover"):
        getattr(study, result)
    folder = project / "data" / "processed" / study.profile.output_subdir
    folder.mkdir(parents=True)
    pipeline.write_localities(study, folder)
    saved = pipeline.save_baseline(study)
    assert saved is not None and saved == pipeline.baseline_path(study)
    spec = _spec(tmp_path, profile, '[[sweep]]\nclose_each = "Library"\n')
    first = batch.run(spec, serial=True, project_dir=project, data_dir=data_dir)
    assert first.failures.empty and len(first.ran) == 2
    read = f"baseline read from {saved} (saved by nwm-geo run; inputs and settings unchanged)"
    assert first.baselines == {"synthetic": read}
    record = json.loads((first.folder / "provenance.json").read_text())
    assert record["baselines"]["synthetic"]["saved_baseline"] == read
    # another profile (a comment added): the saved baseline is stale, nothing of it is
    # read, every task runs again and the figures computed afresh are the same
    profile.write_text(profile.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    again = batch.run(spec, serial=True, project_dir=project, data_dir=data_dir)
    assert len(again.ran) == 2 and again.failures.empty
    assert again.baselines["synthetic"].startswith(f"the saved baseline {saved} is stale")
    assert "area profile" in again.baselines["synthetic"]
    pd.testing.assert_frame_equal(again.summary, first.summary)
    record = json.loads((first.folder / "provenance.json").read_text())
    assert record["baselines"]["synthetic"]["saved_baseline"] == again.baselines["synthetic"]


def test_spec_errors_name_the_file_and_the_key(
    synthetic_area: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from nwm_geo.cli import main

    profile, data_dir = synthetic_area
    (tmp_path / "bad-scenario.toml").write_text('name = "x"\nclsoe = 1\n', encoding="utf-8")
    spec = _spec(
        tmp_path,
        profile,
        'scenarios = ["bad-scenario.toml", "missing.toml"]\nkeep = ["everything"]\n'
        '[[sweep]]\nclose_each = "Librry"\n'
        "[[sweep]]\nminutes = [10, -5]\n"
        '[[sweep]]\nclose_pairs = ["site-0001", "site-0404"]\n'
        '[[sweep]]\narea = "rutlnd"\nclose_each = "Library"\n'
        '[[sweeps]]\nclose_each = "Library"\n',
    )
    with pytest.raises(batch.BatchSpecError) as err:
        batch.read_spec(spec)
    text = str(err.value)
    assert text.startswith("4 problems found in the batch spec; nothing was run")
    assert f"{spec}, key 'sweeps': unknown key; did you mean 'sweep'?" in text
    assert f"{spec}, key 'scenarios[2]': scenario file not found (value: 'missing.toml')" in text
    assert f"{spec}, key 'keep': a list of: folders" in text
    assert f"{spec}, key 'sweep[4].area': not one of areas" in text
    # fixed in shape, the rest is checked against the data, all at once
    text = spec.read_text()
    for old, new in [
        ('[[sweeps]]\nclose_each = "Library"\n', ""),
        ('"everything"', '"folders"'),
        ('"missing.toml"', '"bad-scenario.toml"'),
        ('area = "rutlnd"\n', ""),
    ]:
        text = text.replace(old, new)
    spec.write_text(text, encoding="utf-8")
    with pytest.raises(batch.BatchSpecError) as err:
        batch.run(spec, serial=True, project_dir=tmp_path, data_dir=data_dir)
    text = str(err.value)
    bad = tmp_path / "bad-scenario.toml"
    assert f"{bad}, key 'clsoe': unknown key; did you mean 'close'?" in text
    assert f"{spec}, key 'sweep[1].close_each': not a category of Synthetica" in text
    assert "did you mean 'Library'?" in text
    assert f"{spec}, key 'sweep[2].minutes'" in text and "(value: '-5.0')" in text
    assert f"{spec}, key 'sweep[3].close_pairs'" in text and "'site-0404'" in text
    assert not (tmp_path / "batch").exists()
    # the command line says the same, exits 2 and writes nothing
    monkeypatch.setenv("NWM_GEO_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(data_dir))
    assert main(["batch", "--serial", str(spec)]) == 2
    err_text = capsys.readouterr().err
    assert f"{spec}, key 'sweep[1].close_each': not a category of Synthetica" in err_text
    assert not (tmp_path / "batch").exists()


def _start(cmd: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as fh:
        return subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT)


@pytest.mark.integration  # starts a Dask cluster: the slow tier
def test_scheduler_option_uses_a_separately_started_cluster(
    synthetic_area: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from nwm_geo.cli import main

    profile, data_dir = synthetic_area
    dask = str(Path(sys.executable).with_name("dask"))
    info = tmp_path / "scheduler.json"
    procs = [
        _start(
            [dask, "scheduler", "--scheduler-file", str(info), "--port", "0",
             "--dashboard-address", ":0", "--no-show"],
            tmp_path / "scheduler.log",
        )
    ]  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not info.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        procs.append(
            _start(
                [dask, "worker", address, "--nworkers", "1", "--nthreads", "1",
                 "--no-nanny", "--no-dashboard", "--name", "separate-worker"],
                tmp_path / "worker.log",
            )
        )  # fmt: skip
        with Client(address) as probe:
            probe.wait_for_workers(1, timeout=120)
        monkeypatch.setenv("NWM_GEO_PROJECT_DIR", str(tmp_path))
        monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(data_dir))
        spec = _spec(tmp_path, profile, '[[sweep]]\nclose_each = "Library"\n')
        assert main(["batch", "--quiet", "--scheduler", address, str(spec)]) == 0
        out = capsys.readouterr().out
        assert f"Dask scheduler {address}, 1 workers" in out
        assert re.search(r"ran 2 task\(s\), skipped 0 unchanged, 0 failed", out)
        workers = {
            json.loads(p.read_text())["worker"]
            for p in (tmp_path / "batch/review/tasks").rglob("*.json")
        }
        pids = {int(w.rsplit(":", 1)[1]) for w in workers}
        assert len(pids) == 1 and os.getpid() not in pids
        serial = batch.run(spec, serial=True, project_dir=tmp_path / "s", data_dir=data_dir)
        on_cluster = pd.read_csv(tmp_path / "batch/review/summary.csv")
        pd.testing.assert_frame_equal(on_cluster, serial.summary, check_dtype=False)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
