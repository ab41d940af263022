"""Benchmark ``nwm-geo batch`` on 1 and 2 Dask workers (not a test).

On the real Luton bundle (approximate network, the open register, the locality plan
solved once and kept fixed, as ``nwm-geo scenario`` keeps it), run every single closure
of a site inside Luton (``--quick``: only the council-owned sites inside Luton) as one
``nwm_geo.batch`` task each, on a ``LocalCluster`` of 1 and then 2 single-threaded
worker processes, and record:

* the wall time of the task phase (baseline built on a worker, then every task), the
  speed-up of 2 workers over 1, and the summary tables being identical;
* the seconds each task spent on its worker, the baseline's build time;
* the scheduler overhead: worker-seconds in the phase not spent in a task or the
  baseline build (submission, transfer of the baseline to the second worker, results
  back to the client, the client writing each task's rows), per task and as a share of
  the mean task time;
* memory per worker (peak resident set size sampled every 0.5 s);
* estimates for 8 and 32 workers from the measured task times and overhead:
  ``baseline + (sum of task times + tasks x overhead per task) / workers`` (Amdahl: the
  baseline is built once, on one worker).

The machine is shared with other work (2 cores); the load average before and after is
recorded and the figures are under that load. Writes ``benchmarks/results/batch.json``
atomically and prints a table.

Run: ``python benchmarks/bench_batch.py [--quick]`` from the project folder (after
``nwm-geo import-data``).
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import os
import platform
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import psutil
from distributed import Client, LocalCluster

from nwm_geo import batch, settings
from nwm_geo._io import atomic_path
from nwm_geo.pipeline import Study

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "batch.json"


def _rss() -> int:
    return int(psutil.Process().memory_info().rss)


class _Memory:
    """Peak resident memory of each worker, sampled every 0.5 s while a batch runs."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.peak: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                for worker, rss in self.client.run(_rss).items():
                    self.peak[worker] = max(self.peak.get(worker, 0), rss)
            except Exception:  # a sample missed while a worker is busy
                pass
            self._stop.wait(0.5)

    def __enter__(self) -> _Memory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _spec(root: Path, quick: bool, categories: tuple[str, ...]) -> Path:
    spec = root / "bench.toml"
    owner = 'owner_type = "council"\n' if quick else ""
    spec.write_text(
        'name = "bench"\nareas = ["luton"]\n[[sweep]]\n'
        f"close_each = {json.dumps(list(categories))}\ninside_only = true\n{owner}",
        encoding="utf-8",
    )
    return spec


def _one(n: int, spec: Path, root: Path, data_dir: Path) -> dict[str, Any]:
    shutil.rmtree(root / f"w{n}" / "batch", ignore_errors=True)  # no task skipped
    t0 = time.perf_counter()
    with (
        LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(n)
        start_s = time.perf_counter() - t0
        idle = client.run(_rss)
        with _Memory(client) as mem:
            result = batch.run(spec, client=client, project_dir=root / f"w{n}", data_dir=data_dir)
    assert not result.skipped and len(result.ran) == len(result.task_seconds)
    tasks = list(result.task_seconds.values())
    cpu = list(result.task_cpu_seconds.values())
    phase = result.phase_seconds
    busy = sum(tasks) + result.baseline_seconds
    overhead = max(n * phase - busy, 0.0)
    return {
        "workers": n,
        "cluster_start_s": round(start_s, 2),
        "prepare_s": round(result.prepare_seconds, 2),
        "phase_s": round(phase, 2),
        "baseline_s": round(result.baseline_seconds, 2),
        "tasks": len(tasks),
        "failed": len(result.failures),
        "task_s_sum": round(sum(tasks), 2),
        "task_s_median": round(statistics.median(tasks), 4),
        "task_s_mean": round(statistics.fmean(tasks), 4),
        "task_s_max": round(max(tasks), 4),
        "task_cpu_s_sum": round(sum(cpu), 2),
        "task_cpu_s_mean": round(statistics.fmean(cpu), 4),
        "task_wall_over_cpu": round(sum(tasks) / sum(cpu), 2),
        "cores_used_in_tasks": round(sum(cpu) / phase, 2),
        "overhead_worker_s": round(overhead, 2),
        "overhead_per_task_s": round(overhead / len(tasks), 4),
        "overhead_share_of_task_time": round(overhead / sum(tasks), 4),
        "memory_idle_mb_per_worker": [round(v / 2**20) for v in idle.values()],
        "memory_peak_mb_per_worker": [round(v / 2**20) for v in mem.peak.values()],
        "_summary": result.summary,
    }


def _estimate(one: dict[str, Any], two: dict[str, Any], n: int) -> dict[str, Any]:
    """Wall time on ``n`` workers from the measured times (see the module docstring).

    A task's time on a core of its own is its CPU time (the wall time under load is
    longer by ``task_wall_over_cpu``); the overhead per task is the 2-worker run's.
    """
    tasks = one["tasks"]
    per_task = min(one["task_cpu_s_mean"], two["task_cpu_s_mean"])
    overhead = two["overhead_per_task_s"]
    base = min(one["baseline_s"], two["baseline_s"])
    one_alone = base + tasks * per_task
    wall = base + tasks * (per_task + overhead) / n
    return {
        "workers": n,
        "phase_s": round(wall, 1),
        "speedup_over_1_worker_alone": round(one_alone / wall, 2),
        "overhead_share_of_task_time": round(overhead / per_task, 3),
        "note": "baseline + tasks x (task CPU time + overhead per task) / workers, against "
        "1 worker with no overhead (baseline + tasks x task CPU time); one core per worker, "
        "the 2-worker run's overhead per task (it grows with more workers: more results to "
        "the one client, the baseline sent to every worker)",
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="council-owned sites only")
    p.add_argument(
        "--repeat", type=int, default=1, help="alternate 1 and 2 workers this many times"
    )
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    data_dir = settings.raw_dir()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        root = Path(tmp)
        study = Study(area="luton", data_dir=data_dir)
        t0 = time.perf_counter()
        plan = study.plan
        plan_s = time.perf_counter() - t0
        for n in (1, 2):  # the plan, saved as `nwm-geo localities` saves it, read by both
            folder = root / f"w{n}" / "data" / "processed"
            folder.mkdir(parents=True)
            frame = pd.DataFrame({"ward_code": plan.assignment.index, "locality": plan.assignment})
            frame.to_csv(folder / "localities.csv", index=False)
        spec = _spec(root, args.quick, study.categories)
        runs = []
        for _ in range(args.repeat):  # alternated, so both see the machine's load in turn
            runs += [_one(1, spec, root, data_dir), _one(2, spec, root, data_dir)]
    summaries = [r.pop("_summary") for r in runs]
    same = all(s.equals(summaries[0]) for s in summaries)
    one = min((r for r in runs if r["workers"] == 1), key=lambda r: r["phase_s"])
    two = min((r for r in runs if r["workers"] == 2), key=lambda r: r["phase_s"])
    load_after = os.getloadavg()
    speedup = one["phase_s"] / two["phase_s"]
    record = {
        "what": (
            "nwm-geo batch on Dask: every single closure of "
            + ("a council-owned site inside Luton" if args.quick else "a site inside Luton")
            + " (one task each, the baseline built once on a worker and shared), on a "
            "LocalCluster of 1 and of 2 single-threaded worker processes"
        ),
        "quick": args.quick,
        "plan_solve_s": round(plan_s, 2),
        "runs": runs,
        "headline": "the fastest run of each (runs alternate 1 and 2 workers)",
        "speedup_2_over_1": round(speedup, 2),
        "target_speedup": 1.7,
        "overhead_share_target": 0.05,
        "same_summary": same,
        "estimates": [_estimate(one, two, n) for n in (8, 32)],
        "under_load": True,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "cpu_note": (
            "cores_used_in_tasks = task CPU seconds / phase wall seconds: the cores the run "
            "actually got. A speed-up needs the second worker to get a core of its own; "
            "task_wall_over_cpu says how long a task waited for one"
        ),
        "load_note": (
            "measured on a shared 2-core machine while other jobs ran (load averages above): "
            "the 2-worker run competes with them for the same 2 cores, so the speed-up and "
            "the overhead are under load, not the machine's best"
        ),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        },
        "packages": {k: md.version(k) for k in ("nwm_geo", "dask", "distributed", "pandas")},
        "network": "approximate (postcode proximity), not OSM: Luton's default",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.out) as tmp_out:
        tmp_out.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(
        f"{'workers':>8} {'phase s':>8} {'tasks':>6} {'task s':>7} {'ovh/task':>9} {'peak MB':>10}"
    )
    for r in (one, two):
        print(
            f"{r['workers']:>8} {r['phase_s']:>8} {r['tasks']:>6} {r['task_s_mean']:>7} "
            f"{r['overhead_per_task_s']:>9} {max(r['memory_peak_mb_per_worker']):>10}"
        )
    print(f"speed-up 2/1: {speedup:.2f} (target 1.7); same summary: {same}")
    for e in record["estimates"]:
        print(
            f"estimate {e['workers']} workers: {e['phase_s']} s "
            f"({e['speedup_over_1_worker_alone']}x)"
        )
    print(f"load average before {load_before}, after {load_after}; wrote {args.out}")


if __name__ == "__main__":
    main()
