"""Benchmark re-scoring one scenario on a fixed plan against a naive re-run (not a test).

On the real Luton bundle (approximate network, the open register, the solved plan kept
fixed), time side by side, for each scenario (close the central library; add a hub at
Hockwell Ring; close the central library and add the hub; walk at 65 m/min):

* ours: ``study.with_changes(...)`` then the comparison tables (``scenarios.compare``)
  and the criticality of every asset (``scen.criticality``), re-using the baseline's
  walk model and cover matrix;
* naive (like for like): the same answers recomputed from the street graph with the
  changed register: ``coverage.prepare`` (snapping every point again),
  ``nearest_minutes``, ``coverage_matrix`` and ``asset_criticality``, then the same
  ``compare``; the network itself and the plan are shared (so the naive side is not
  charged for them);
* naive end to end: a fresh ``Study`` with the changed register file (network built
  again and the plan solved again), as a user re-running everything would.

Each timing is the median of ``--repeat`` runs. Writes
``benchmarks/results/scenarios.json`` atomically and prints a table. The target in issue
10 is under 2 s for ours on Luton.

Run: ``python benchmarks/bench_scenarios.py [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from nwm_geo import coverage, data, scenarios
from nwm_geo._io import atomic_path
from nwm_geo.pipeline import Study

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "scenarios.json"

HUB = {"name": "Hub at Hockwell Ring", "category": "Community Centre", "postcode": "LU4 9LB"}
SCENARIOS: dict[str, dict[str, Any]] = {
    "close the central library": {"close": ["library-0007"]},
    "add a hub at Hockwell Ring": {"add": [HUB]},
    "close the central library and add the hub": {"close": ["library-0007"], "add": [HUB]},
    "walk at 65 m/min": {"speed_m_per_min": 65.0},
}


def _median(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def ours(base: Study, changes: dict[str, Any]) -> scenarios.Comparison:
    scen = base.with_changes(**changes)
    _ = scen.criticality
    return scenarios.compare(base, scen)


def naive(base: Study, changes: dict[str, Any]) -> scenarios.Comparison:
    scen = base.with_changes(**changes)  # only for its register and settings
    model = coverage.prepare(base.graph, demand=base.demand, assets=scen.register)
    speed = scen.speed_m_per_min
    nearest = coverage.nearest_minutes(
        model, speed_m_per_min=speed, categories=base.categories, bundles=base.bundles
    )
    cover = coverage.coverage_matrix(model, minutes=scen.minutes, speed_m_per_min=speed)
    coverage.asset_criticality(model, cover=cover)
    # hand the recomputed answers to the same comparison
    state = scen.__dict__
    state["model"], state["minutes_to_nearest"], state["asset_cover"] = model, nearest, cover
    return scenarios.compare(base, scen)


def end_to_end(base: Study, changes: dict[str, Any], folder: Path) -> None:
    scen = base.with_changes(**changes)
    path = folder / "register.csv"
    reg = pd.DataFrame(scen.register.drop(columns="geometry")).reset_index()
    reg.to_csv(path, index=False)
    fresh = Study(register_path=path, speed_m_per_min=scen.speed_m_per_min)
    _ = fresh.plan, fresh.minutes_to_nearest, fresh.criticality


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    data.import_bundle()
    t0 = time.perf_counter()
    base = Study()
    _ = base.plan, base.minutes_to_nearest, base.asset_cover, base.criticality
    baseline_s = time.perf_counter() - t0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, changes in SCENARIOS.items():
            t_ours, cmp_ours = _median(lambda c=changes: ours(base, c), args.repeat)
            t_naive, cmp_naive = _median(lambda c=changes: naive(base, c), args.repeat)
            pd.testing.assert_frame_equal(cmp_ours.localities, cmp_naive.localities)
            t_e2e, _ = _median(lambda c=changes: end_to_end(base, c, Path(tmp)), 1)
            whole = cmp_ours.localities[cmp_ours.localities["locality"] == cmp_ours.area]
            rows.append(
                {
                    "scenario": name,
                    "ours_s": round(t_ours, 4),
                    "naive_same_graph_s": round(t_naive, 4),
                    "naive_end_to_end_s": round(t_e2e, 3),
                    "ratio_naive_same_graph_over_ours": round(t_naive / t_ours, 2),
                    "ratio_naive_end_to_end_over_ours": round(t_e2e / t_ours, 1),
                    "same_tables": True,
                    "residents_losing_any_measure": float(whole["residents_losing"].max()),
                    "residents_gaining_any_measure": float(whole["residents_gaining"].max()),
                    "under_2_s": t_ours < 2.0,
                }
            )
    result = {
        "what": "re-scoring one scenario on a fixed plan (Luton, approximate network, open "
        "register), ours (re-using the baseline's model and cover) against a naive re-run",
        "baseline_study_s": round(baseline_s, 2),
        "repeat": args.repeat,
        "points": len(base.demand),
        "assets": len(base.register),
        "graph_nodes": int(base.model.graph.shape[0]),
        "network": base.network_label,
        "rows": rows,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "nwm_geo": md.version("nwm_geo"),
            "scipy": md.version("scipy"),
        },
    }
    print(pd.DataFrame(rows).set_index("scenario").to_string())
    with atomic_path(args.out) as tmp_path:
        tmp_path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
