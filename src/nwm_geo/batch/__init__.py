"""Many areas and many scenarios at once: ``nwm-geo batch SPEC.toml`` on Dask.

In: a batch spec (``name``, ``areas``, scenario files, ``[[sweep]]`` tables that
generate scenarios: every single closure of a category, every pair from a list, a grid
of minutes and speeds; ``keep = ["folders"]``; see ``docs/batch.md``) and a Dask client
(a ``LocalCluster`` sized to the machine by default, an existing cluster through
``DASK_SCHEDULER_ADDRESS``) or ``serial=True``. Out: ``batch/<name>/summary.csv`` (one
row per area × scenario × locality × measure), ``failures.csv``, ``provenance.json``
and, when kept, each task's scenario folder, byte-identical to what
``nwm-geo scenario`` writes. Each area's baseline study starts from what the project
saved (the plan, the baseline of ``nwm-geo run`` while valid, the network cache), is
completed once, on a worker, and shared by its scenarios; each scenario is one task;
one failure never stops the rest; a re-run skips the tasks whose inputs and settings
are unchanged.
"""

from __future__ import annotations

from nwm_geo.batch._run import FAILURE_COLUMNS, BatchResult, batch_folder, run
from nwm_geo.batch._spec import (
    KEEP,
    SPEC_KEYS,
    SWEEP_KEYS,
    BatchSpec,
    BatchSpecError,
    BatchTask,
    ScenarioRef,
    Sweep,
    expand_tasks,
    read_spec,
)
from nwm_geo.batch._tasks import SUMMARY_COLUMNS, TaskOutcome

__all__ = [
    "FAILURE_COLUMNS",
    "KEEP",
    "SPEC_KEYS",
    "SUMMARY_COLUMNS",
    "SWEEP_KEYS",
    "BatchResult",
    "BatchSpec",
    "BatchSpecError",
    "BatchTask",
    "ScenarioRef",
    "Sweep",
    "TaskOutcome",
    "batch_folder",
    "expand_tasks",
    "read_spec",
    "run",
]
