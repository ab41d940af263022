"""What runs on a worker: warm a baseline once, then one scenario per task.

In: a baseline :class:`~nwm_geo.pipeline.Study` (its register, postcodes and plan read
on the client) and :class:`~nwm_geo.batch.BatchTask` s. Out: :func:`warm_baseline`
computes what every scenario of the area shares (network, walk model, nearest-site
minutes, cover matrix) once; :func:`run_task` makes the what-if study
(``Study.with_changes``), compares it (:func:`nwm_geo.scenarios.compare`) and returns
the summary rows and, when asked, the bytes of the scenario folder written by
:func:`nwm_geo.scenarios.write_scenario`, the writer of ``nwm-geo scenario``. A task
never raises: its error comes back as one line.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from nwm_geo.batch._spec import BatchTask
    from nwm_geo.pipeline import Study

__all__ = [
    "SUMMARY_COLUMNS",
    "TaskOutcome",
    "baseline_record",
    "one_line",
    "run_task",
    "warm_baseline",
]

#: The columns of ``summary.csv``: one row per area × scenario × locality × measure.
SUMMARY_COLUMNS: tuple[str, ...] = (
    "area",
    "scenario",
    "locality",
    "measure",
    "baseline_pct",
    "scenario_pct",
    "change",
    "residents_losing",
    "residents_gaining",
)


@dataclass
class TaskOutcome:
    """What one task returns to the client.

    Attributes
    ----------
    task_id
        ``<area>/<scenario>``.
    rows
        Its rows of ``summary.csv`` (empty when it failed).
    error
        One line (``ExceptionType: message``) when it failed, else ``""``.
    seconds
        Wall time spent in the task on the worker.
    cpu_seconds
        CPU time of the worker process during the task (below ``seconds`` when the
        worker waited for a core).
    files
        The scenario folder's files (relative path → bytes) when folders are kept.
    worker
        The process that ran it (``host:pid``).
    """

    task_id: str
    rows: pd.DataFrame
    error: str = ""
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    files: dict[str, bytes] = field(default_factory=dict, repr=False)
    worker: str = ""


def one_line(exc: BaseException) -> str:
    """Return ``Type: first line of the message`` (at most 300 characters)."""
    text = str(exc).strip().splitlines()
    line = f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
    return line if len(line) <= 300 else line[:297] + "..."


def _where() -> str:
    return f"{os.uname().nodename}:{os.getpid()}"


def warm_baseline(study: Study) -> Study:
    """Compute what every scenario of the baseline shares, once, and return the study.

    The locality plan, the network, the walk model, the nearest-site minutes, the
    within-threshold cover and the demand points with their localities; the study then
    stays on the worker (a Dask future) and each task of the area re-uses it.
    """
    study.verbose = False
    _ = study.plan
    _ = study.demand_with_locality
    _ = study.minutes_to_nearest
    _ = study.asset_cover
    return study


def baseline_record(study: Study) -> dict[str, Any]:
    """Return the baseline's provenance record (:func:`nwm_geo.pipeline.provenance`)."""
    from nwm_geo.pipeline import provenance

    return provenance(study, stages=["scenario"])


def summary_rows(area: str, scenario: str, localities: pd.DataFrame) -> pd.DataFrame:
    """Return a comparison's per-locality table as ``summary.csv`` rows."""
    rows = localities.rename(columns={"change_pct_points": "change"})
    rows = rows.assign(area=area, scenario=scenario)
    return rows.loc[:, list(SUMMARY_COLUMNS)].reset_index(drop=True)


def run_task(base: Study, task: BatchTask, keep_folder: bool) -> TaskOutcome:
    """Run one scenario on its (warm) baseline; never raises.

    Parameters
    ----------
    base
        The baseline study (:func:`warm_baseline`).
    task
        The scenario and where it comes from.
    keep_folder
        Also write the scenario folder (:func:`nwm_geo.scenarios.write_scenario`) and
        return its files' bytes.

    Returns
    -------
    TaskOutcome
    """
    from nwm_geo.scenarios import compare, write_scenario

    start, cpu = time.perf_counter(), time.process_time()
    s = task.scenario
    try:
        scen = base.with_changes(
            close=s.close, add=s.add, minutes=s.minutes, speed_m_per_min=s.speed_m_per_min
        )
        files: dict[str, bytes] = {}
        if keep_folder:
            with tempfile.TemporaryDirectory(prefix="nwm-geo-batch-") as tmp:
                written, cmp = write_scenario(base, scen, s, Path(tmp))
                files = {p.relative_to(tmp).as_posix(): p.read_bytes() for p in written}
        else:
            cmp = compare(base, scen)
        rows = summary_rows(task.area, s.name, cmp.localities)
    except Exception as exc:  # one failure never stops the rest: it is reported
        return TaskOutcome(
            task.task_id,
            pd.DataFrame(columns=list(SUMMARY_COLUMNS)),
            error=one_line(exc),
            seconds=time.perf_counter() - start,
            cpu_seconds=time.process_time() - cpu,
            worker=_where(),
        )
    return TaskOutcome(
        task.task_id,
        rows,
        seconds=time.perf_counter() - start,
        cpu_seconds=time.process_time() - cpu,
        files=files,
        worker=_where(),
    )
