"""Run a batch: each area's baseline once, each scenario a task, on Dask or serially.

In: a :class:`~nwm_geo.batch.BatchSpec` (or its file) and a Dask client (a
``LocalCluster`` sized to the machine by default, ``DASK_SCHEDULER_ADDRESS`` for an
existing cluster) or ``serial=True``. Out: ``batch/<name>/`` under the project:
``summary.csv`` (:data:`SUMMARY_COLUMNS`), ``failures.csv`` (task, one-line error),
``provenance.json``, ``tasks/<area>/<scenario>.csv`` and ``.json`` (each task's rows and
its content hash) and, with ``keep = ["folders"]``, ``scenarios/<area>/<scenario>/``
written by the writer of ``nwm-geo scenario``. Each baseline starts, as ``nwm-geo
scenario``'s does, from what the project saved: the plan in ``data/processed``, the
baseline ``nwm-geo run`` saved in ``data/cache`` while it is valid
(:func:`nwm_geo.pipeline.load_baseline`; ``provenance.json`` says whether it was read) and
the parsed-OSM network cache in ``data/cache/network``. A task whose content hash (spec entry,
scenario text, area profile, data manifest, plan file, package version) is unchanged
since it last succeeded is skipped. Every file is written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from nwm_geo import __version__, settings
from nwm_geo._errors import NwmGeoError
from nwm_geo._io import atomic_path, project_lock
from nwm_geo.areas import load_area
from nwm_geo.batch._spec import BatchSpec, BatchTask, expand_tasks, read_spec
from nwm_geo.batch._tasks import (
    SUMMARY_COLUMNS,
    TaskOutcome,
    baseline_record,
    one_line,
    run_task,
    warm_baseline,
)
from nwm_geo.data import AreaFiles, read_manifest
from nwm_geo.pipeline import Study, file_sha256, load_baseline, write_csv
from nwm_geo.pipeline._provenance import package_versions

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["FAILURE_COLUMNS", "BatchResult", "batch_folder", "run"]

#: The columns of ``failures.csv``.
FAILURE_COLUMNS: tuple[str, ...] = ("area", "scenario", "task", "error")


@dataclass
class BatchResult:
    """What a batch run did.

    Attributes
    ----------
    folder
        ``batch/<name>``.
    summary
        ``summary.csv`` as a table.
    failures
        ``failures.csv`` as a table.
    ran, skipped
        Task ids run now, and skipped because unchanged.
    seconds
        Wall time of the run.
    task_seconds
        Per task run now: wall seconds spent on its worker.
    task_cpu_seconds
        Per task run now: CPU seconds of its worker process.
    baseline_seconds
        Wall time until every baseline was warm (Dask) or the sum of their build times
        (serial).
    prepare_seconds
        Wall time spent before the first task was submitted: reading the spec, the
        registers and plans, checking and hashing the tasks.
    phase_seconds
        Wall time from then to the last task's result (the baselines, and the start of
        a LocalCluster that ``run`` starts itself, included).
    dashboard
        The Dask dashboard's address, when one ran.
    baselines
        Per baseline (``<area>`` or ``<area> (plan <file>)``): whether the baseline
        ``nwm-geo run`` saved in the project was read, in words
        (:func:`nwm_geo.pipeline.load_baseline`), or why it was computed.
    """

    folder: Path
    summary: pd.DataFrame
    failures: pd.DataFrame
    ran: list[str]
    skipped: list[str]
    seconds: float
    task_seconds: dict[str, float]
    task_cpu_seconds: dict[str, float]
    baseline_seconds: float
    prepare_seconds: float = 0.0
    phase_seconds: float = 0.0
    dashboard: str | None = None
    baselines: dict[str, str] = field(default_factory=dict)


def batch_folder(spec: BatchSpec, *, project_dir: Path | None = None) -> Path:
    """Return a batch's folder: ``<project>/batch/<name>``."""
    root = Path(project_dir) if project_dir is not None else settings.project_dir()
    return root / "batch" / spec.name


def _sha(text: str | bytes) -> str:
    return hashlib.sha256(text.encode("utf-8") if isinstance(text, str) else text).hexdigest()


def _area_fingerprint(area: AreaFiles) -> dict[str, str]:
    """Return the area profile's sha256 and the data manifest of the files it names."""
    prof, data_dir = area.profile, area.data_dir
    manifest = read_manifest(data_dir / "README.md")
    named = [*prof.files.values(), *(p.file for p in prof.wards), *(s.file for s in prof.sources)]
    if prof.osm_file and prof.network == "osm":
        named.append(prof.osm_file)
    files = {}
    for rel in sorted(set(named)):
        path = data_dir / rel
        files[rel] = manifest.get(rel) or (file_sha256(path) if path.is_file() else "missing")
    profile = Path(prof.profile)
    return {
        "profile_sha256": file_sha256(profile) if profile.is_file() else _sha(repr(prof)),
        "data_sha256": _sha(json.dumps(files, sort_keys=True)),
    }


def _task_hash(task: BatchTask, study: Study, area: dict[str, str]) -> str:
    given = study.__dict__.get("_plan_given")
    plan = (
        file_sha256(given) if isinstance(given, str | Path) and Path(given).is_file() else "solved"
    )
    record = {
        "entry": task.entry,
        "source": task.source,
        "scenario": task.scenario.text,
        "scenario_name": task.scenario.name,
        **area,
        "plan": plan,
        "nwm_geo": __version__,
    }
    return _sha(json.dumps(record, sort_keys=True))


def _write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _write_table(frame: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        write_csv(frame, tmp, index=False)


def _write_folder(folder: Path, files: dict[str, bytes]) -> None:
    """Write a task's scenario folder: staged beside it, then switched in one rename."""
    stage = folder.with_name(f".{folder.name}.staging")
    shutil.rmtree(stage, ignore_errors=True)
    for rel, data in files.items():
        (stage / rel).parent.mkdir(parents=True, exist_ok=True)
        (stage / rel).write_bytes(data)
    old = folder.with_name(f".{folder.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    stage.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


class _Records:
    """Each task's record under ``tasks/``: its rows (CSV) and hash and status (JSON)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def paths(self, task: BatchTask) -> tuple[Path, Path]:
        base = self.folder / "tasks" / task.area / task.scenario.name
        return base.with_suffix(".csv"), base.with_suffix(".json")

    def done(self, task: BatchTask, digest: str, keep: bool) -> bool:
        rows, meta = self.paths(task)
        if not (rows.is_file() and meta.is_file()):
            return False
        try:
            record = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        folder = self.folder / "scenarios" / task.area / task.scenario.name
        return bool(
            record.get("hash") == digest
            and record.get("error") == ""
            and (not keep or folder.is_dir())
        )

    def write(self, task: BatchTask, digest: str, outcome: TaskOutcome) -> None:
        rows, meta = self.paths(task)
        folder = self.folder / "scenarios" / task.area / task.scenario.name
        if outcome.files:
            _write_folder(folder, outcome.files)
        elif folder.is_dir():  # not kept this time, or failed: no folder of older inputs
            shutil.rmtree(folder)
        _write_table(outcome.rows, rows)
        record = {
            "task": task.task_id,
            "source": task.source,
            "hash": digest,
            "error": outcome.error,
            "seconds": round(outcome.seconds, 3),
            "cpu_seconds": round(outcome.cpu_seconds, 3),
            "worker": outcome.worker,
        }
        _write_text(meta, json.dumps(record, indent=2) + "\n")

    def read(self, task: BatchTask) -> tuple[pd.DataFrame, str]:
        rows, meta = self.paths(task)
        record = json.loads(meta.read_text(encoding="utf-8")) if meta.is_file() else {}
        error = record.get("error", "not run")
        frame = pd.read_csv(rows) if rows.is_file() and not error else pd.DataFrame()
        return frame, error

    def prune(self, tasks: list[BatchTask]) -> None:
        """Remove the records and folders of tasks no longer in the spec."""
        keep = {p for t in tasks for p in self.paths(t)}
        names = {(t.area, t.scenario.name) for t in tasks}
        for path in sorted((self.folder / "tasks").glob("*/*")):
            if path.is_file() and path not in keep:
                path.unlink()
        for path in sorted((self.folder / "scenarios").glob("*/*")):
            if path.is_dir() and (path.parent.name, path.name) not in names:
                shutil.rmtree(path)


def _progress(total: int, show: bool | None) -> Any:
    from tqdm.auto import tqdm

    visible = sys.stderr.isatty() if show is None else show
    return tqdm(total=total, desc="batch tasks", unit="task", disable=not visible or total == 0)


def _serial(
    bases: dict[tuple[str, Path | None], Study],
    tasks: list[BatchTask],
    keep: bool,
    info: dict[str, Any],
) -> Iterator[TaskOutcome]:
    warm: dict[tuple[str, Path | None], Study | str] = {}
    start = time.perf_counter()
    for key in dict.fromkeys(t.base for t in tasks):
        try:
            warm[key] = warm_baseline(bases[key])
            info["baselines"][_label(key)] = _with_read(baseline_record(bases[key]), key, info)
        except Exception as exc:
            warm[key] = one_line(exc)
    info["baseline_seconds"] = time.perf_counter() - start
    for task in tasks:
        base = warm[task.base]
        if isinstance(base, str):
            yield _failed(task, f"baseline of {task.area} failed: {base}")
        else:
            yield run_task(base, task, keep)


def _with_read(
    record: dict[str, Any], key: tuple[str, Path | None], info: dict[str, Any]
) -> dict[str, Any]:
    """Add to a baseline's record whether the project's saved baseline was read."""
    return {**record, "saved_baseline": info["saved_baselines"][key]}


def _label(key: tuple[str, Path | None]) -> str:
    area, plan = key
    return f"{load_area(area).key}" + (f" (plan {plan})" if plan else "")


def _failed(task: BatchTask, error: str) -> TaskOutcome:
    return TaskOutcome(task.task_id, pd.DataFrame(columns=list(SUMMARY_COLUMNS)), error=error)


def _on_dask(
    client: Client,
    bases: dict[tuple[str, Path | None], Study],
    tasks: list[BatchTask],
    keep: bool,
    info: dict[str, Any],
) -> Iterator[TaskOutcome]:
    from distributed import as_completed, wait

    start = time.perf_counter()
    warm = {}
    records = {}
    for key in dict.fromkeys(t.base for t in tasks):
        # the baseline is built once, on one worker, and stays there as a future; a task
        # on another worker fetches it from there once and keeps it while it is needed
        warm[key] = client.submit(warm_baseline, bases[key], pure=False)
        records[key] = client.submit(baseline_record, warm[key], pure=False)
    futures = {client.submit(run_task, warm[t.base], t, keep, pure=False): t for t in tasks}
    for fut in as_completed(futures):
        task = futures[fut]
        if fut.status == "finished":
            outcome = fut.result()
        else:
            base = warm[task.base]
            if base.status == "error":
                outcome = _failed(
                    task, f"baseline of {task.area} failed: {one_line(base.exception())}"
                )
            else:
                outcome = _failed(task, one_line(fut.exception()))
        yield outcome
        if "baseline_seconds" not in info and all(f.done() for f in warm.values()):
            info["baseline_seconds"] = time.perf_counter() - start
    wait(list(records.values()))
    for key, fut in records.items():
        if fut.status == "finished":
            info["baselines"][_label(key)] = _with_read(fut.result(), key, info)
    info.setdefault("baseline_seconds", time.perf_counter() - start)


def _default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@contextmanager
def _client(client: Client | None, workers: int | None) -> Iterator[Client]:
    """Yield the given client; else one for ``DASK_SCHEDULER_ADDRESS``; else a LocalCluster."""
    if client is not None:
        yield client
        return
    from distributed import Client, LocalCluster

    address = os.environ.get("DASK_SCHEDULER_ADDRESS")
    with ExitStack() as stack:
        if address:
            yield stack.enter_context(Client(address))
            return
        cluster = stack.enter_context(
            LocalCluster(
                n_workers=workers or _default_workers(),
                threads_per_worker=1,
                processes=True,
            )
        )
        yield stack.enter_context(Client(cluster))


def _versions() -> dict[str, str]:
    return {**package_versions("dask", "distributed"), "python": platform.python_version()}


_Key = tuple[str, Path | None]


def _bases(
    data_dir: Path, root: Path
) -> tuple[dict[_Key, Study], dict[_Key, str], Callable[[str, Path | None], Study]]:
    """Return the baseline studies, what each read of the saved baseline, and their maker.

    As ``nwm-geo scenario``: the plan saved in ``data/processed`` when there is one, and
    the results ``nwm-geo run`` saved in ``data/cache`` while they are valid (read here,
    before the spec is checked against the register, so nothing is computed twice); the
    network cache of the project (``data/cache/network``) otherwise.
    """
    bases: dict[_Key, Study] = {}
    reads: dict[_Key, str] = {}

    def study_for(area: str, plan: Path | None) -> Study:
        key = (area, plan)
        if key not in bases:
            given = plan
            if given is None:  # as nwm-geo scenario: the saved plan when there is one
                sub = load_area(area).output_subdir
                saved = root / "data" / "processed" / sub / "localities.csv"
                given = saved if saved.is_file() else None
            study = Study(area=area, data_dir=data_dir, plan=given, verbose=False, project_dir=root)
            try:
                reads[key] = load_baseline(study)
            except NwmGeoError as exc:  # a bad plan file: reported by expand_tasks
                reads[key] = f"the saved baseline was not read: {exc}"
            bases[key] = study
        return bases[key]

    return bases, reads, study_for


def run(
    spec: BatchSpec | str | Path,
    *,
    client: Client | None = None,
    serial: bool = False,
    workers: int | None = None,
    project_dir: Path | None = None,
    data_dir: Path | None = None,
    progress: bool | None = None,
    on_start: Callable[[str], None] | None = None,
) -> BatchResult:
    """Run a batch of scenarios and write ``batch/<name>/``.

    Parameters
    ----------
    spec
        The spec, or its ``SPEC.toml`` file (:func:`read_spec`).
    client
        A ``distributed.Client`` to run on. Default: one connected to
        ``DASK_SCHEDULER_ADDRESS`` when it is set, else a ``LocalCluster`` of ``workers``
        single-threaded worker processes, closed at the end.
    serial
        Run in this process, without Dask (for debugging).
    workers
        The LocalCluster's workers (default: the machine's cores).
    project_dir
        The project folder (default ``settings.project_dir()``): the batch goes to
        ``batch/<name>`` there; as ``nwm-geo scenario`` does, the batch uses the plan
        saved in ``data/processed``, the baseline ``nwm-geo run`` saved in ``data/cache``
        while it is valid, and the parsed-OSM network cache in ``data/cache/network``.
    data_dir
        The imported bundle (default ``settings.raw_dir()``).
    progress
        Show a progress bar (default: when stderr is a terminal).
    on_start
        Called with a line about where the batch runs (the dashboard's address).

    Returns
    -------
    BatchResult

    Raises
    ------
    BatchSpecError
        Every problem of the spec and its scenario files, before anything runs.
    LockedError
        If the same batch is running already.
    """
    started = time.perf_counter()
    spec = spec if isinstance(spec, BatchSpec) else read_spec(spec)
    root = Path(project_dir) if project_dir is not None else settings.project_dir()
    data_dir = Path(data_dir) if data_dir is not None else settings.raw_dir()
    folder = batch_folder(spec, project_dir=root)
    bases, reads, study_for = _bases(data_dir, root)
    tasks = expand_tasks(spec, study_for, project_dir=root)  # every problem, nothing written
    areas = {key: _area_fingerprint(study.area_data) for key, study in bases.items()}
    digests = {t.task_id: _task_hash(t, bases[t.base], areas[t.base]) for t in tasks}
    folder.mkdir(parents=True, exist_ok=True)
    with project_lock(folder):
        records = _Records(folder)
        todo = [t for t in tasks if not records.done(t, digests[t.task_id], spec.keep_folders)]
        ids = {t.task_id for t in todo}
        skipped = [t.task_id for t in tasks if t.task_id not in ids]
        info: dict[str, Any] = {
            "baselines": _previous_baselines(folder, bases),
            "saved_baselines": reads,
        }
        prepared = time.perf_counter()
        task_seconds: dict[str, float] = {}
        task_cpu: dict[str, float] = {}
        dashboard = None
        with ExitStack() as stack:
            if serial:
                where = "serial (no Dask)"
                outcomes = _serial(bases, todo, spec.keep_folders, info)
            elif todo:
                dask_client = stack.enter_context(_client(client, workers))
                dashboard = dask_client.dashboard_link if _has_dashboard(dask_client) else None
                n = len(dask_client.scheduler_info().get("workers", {}))
                where = f"Dask scheduler {dask_client.scheduler_info()['address']}, {n} workers" + (
                    f"; dashboard {dashboard}" if dashboard else ""
                )
                outcomes = _on_dask(dask_client, bases, todo, spec.keep_folders, info)
            else:
                where, outcomes = "nothing to run", iter(())
            if on_start is not None:
                on_start(
                    f"batch {spec.name}: {len(todo)} task(s) to run, "
                    f"{len(skipped)} unchanged; {where}"
                    + "".join(f"\n  {_label(k)}: {reads[k]}" for k in bases)
                )
            by_id = {t.task_id: t for t in todo}
            with _progress(len(todo), progress) as bar:
                for outcome in outcomes:
                    task = by_id[outcome.task_id]
                    records.write(task, digests[task.task_id], outcome)
                    task_seconds[task.task_id] = outcome.seconds
                    task_cpu[task.task_id] = outcome.cpu_seconds
                    bar.update(1)
        phase = time.perf_counter() - prepared
        records.prune(tasks)
        summary, failures = _tables(tasks, records)
        _write_table(summary, folder / "summary.csv")
        _write_table(failures, folder / "failures.csv")
        seconds = time.perf_counter() - started
        record = _provenance(spec, tasks, digests, info, where, seconds)
        _write_text(folder / "provenance.json", json.dumps(record, indent=2, default=str) + "\n")
    return BatchResult(
        folder=folder,
        summary=summary,
        failures=failures,
        ran=[t.task_id for t in todo],
        skipped=skipped,
        seconds=seconds,
        task_seconds=task_seconds,
        task_cpu_seconds=task_cpu,
        baseline_seconds=float(info.get("baseline_seconds", 0.0)),
        prepare_seconds=prepared - started,
        phase_seconds=phase,
        dashboard=dashboard,
        baselines={_label(k): text for k, text in reads.items()},
    )


def _previous_baselines(
    folder: Path, bases: dict[tuple[str, Path | None], Study]
) -> dict[str, Any]:
    """Return the baselines' records of the last run (kept for the tasks skipped now)."""
    try:
        old = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    labels = {_label(k) for k in bases}
    return {k: v for k, v in old.get("baselines", {}).items() if k in labels}


def _has_dashboard(client: Client) -> bool:
    try:
        return "dashboard" in client.scheduler_info().get("services", {})
    except Exception:  # pragma: no cover - an old scheduler without the key
        return False


def _tables(tasks: list[BatchTask], records: _Records) -> tuple[pd.DataFrame, pd.DataFrame]:
    frames, failed = [], []
    for task in tasks:
        rows, error = records.read(task)
        if error:
            failed.append(
                {
                    "area": task.area,
                    "scenario": task.scenario.name,
                    "task": task.task_id,
                    "error": error,
                }
            )
        elif len(rows):
            frames.append(rows)
    summary = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    )
    return summary.loc[:, list(SUMMARY_COLUMNS)], pd.DataFrame(
        failed, columns=list(FAILURE_COLUMNS)
    )


def _provenance(
    spec: BatchSpec,
    tasks: list[BatchTask],
    digests: dict[str, str],
    info: dict[str, Any],
    where: str,
    seconds: float,
) -> dict[str, Any]:
    return {
        "batch": spec.name,
        "description": spec.description,
        "spec": {"file": spec.path.name, "sha256": _sha(spec.text)},
        "packages": _versions(),
        "ran_on": where,
        "seconds": round(seconds, 2),
        "tasks": [
            {"task": t.task_id, "source": t.source, "hash": digests[t.task_id]} for t in tasks
        ],
        "baselines": info["baselines"],
        "summary_columns": list(SUMMARY_COLUMNS),
        "note": (
            "summary.csv: one row per area, scenario, locality (and the whole area) and "
            "measure; percentages of residents within the walk, change in percentage "
            "points; residents losing and gaining access. Each baseline's network, "
            "settings and inputs are under 'baselines' (approximate networks say so), "
            "with 'saved_baseline': whether the baseline nwm-geo run saved in the "
            "project was read (same code, inputs and settings) or computed, and why."
        ),
        "sources_and_licences": settings.attribution,
    }
