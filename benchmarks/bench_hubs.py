"""Benchmark: localities and hubs chosen together (issue 12), on the real Luton wards.

Not a test. Luton's 20 wards, k=5, the 19 hub candidates of the open register
(LBC community centres, community centres, libraries, the town hall), 15 minutes at
80 m/min on the approximate (postcode-proximity) network. It times the joint optimum
(``localities.partition_with_hubs``: enumeration + set-partitioning MIP + the balance
tie-break) at the study's cap and over the frontier, with the proof status read from
HiGHS, and sets it beside the two-stage workflow that peer tools support (districting
first, then the best site per district: here our proven balance-only plan with its
best hub in each locality, found exhaustively). No peer tool (spopt, GerryChain,
Districtr, ArcGIS) solves the joint problem, so there is no peer timing for it.

Writes ``benchmarks/results/hubs.json`` atomically and prints a table. Run from the
project root::

    python benchmarks/bench_hubs.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pulp

from nwm_geo import __version__
from nwm_geo import localities as loc
from nwm_geo._io import atomic_path
from nwm_geo.pipeline import Study

__all__ = ["main"]

RESULTS = Path(__file__).parent / "results" / "hubs.json"
TARGET_S = 10.0


def _json_ready(value: Any) -> Any:
    """Return ``value`` with numpy scalars as Python numbers and NaN/inf as None.

    JSON has no NaN: the "balance only" frontier row has no cap (``max_deviation``),
    which must read ``null``, not the invalid ``NaN``.
    """
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    return value


def _timed(fn: Any, repeats: int) -> tuple[Any, list[float]]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, times


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    study = Study()
    t0 = time.perf_counter()
    analysis = study.hub_analysis  # builds the register, network, minutes and rules
    setup_s = time.perf_counter() - t0
    rules = loc.PartitionRules(measures=study.balanced)
    wards, table = study.wards, analysis.rules
    if analysis.joint is None:
        raise SystemExit("no joint plan within the cap on Luton; nothing to time")
    cap = analysis.joint.max_deviation
    balance, balance_times = _timed(lambda: loc.partition(wards, k=5, rules=rules), args.repeats)
    joint, joint_times = _timed(
        lambda: loc.partition_with_hubs(wards, k=5, hubs=table, max_deviation=cap, rules=rules),
        args.repeats,
    )
    two_stage = table.coverage(balance.assignment).max(axis=1).sum()
    front, front_times = _timed(
        lambda: loc.hub_frontier(
            wards,
            k=5,
            hubs=table,
            widths=[balance.objective + s for s in (0.0, 0.05, 0.10, 0.20, 0.30)],
            rules=rules,
            balance=balance,
        ),
        1,
    )
    joint_median = statistics.median(joint_times)
    result: dict[str, Any] = {
        "benchmark": "hubs",
        "inputs": (
            "Luton: 20 wards (2023), Census 2021 residents on Code-Point postcodes, open "
            f"register hub candidates ({len(table.candidates)}), minutes on the "
            f"{study.network_label}"
        ),
        "k": 5,
        "minutes": table.minutes,
        "balanced": list(study.balanced),
        "setup_s": setup_s,
        "balance_only": {
            "method": "nwm_geo.localities.partition, then the best hub per locality",
            "runtime_s_median": statistics.median(balance_times),
            "worst_deviation_pct": 100 * balance.objective,
            "status": balance.status,
            "residents_within": float(two_stage),
        },
        "joint": {
            "method": "nwm_geo.localities.partition_with_hubs",
            "max_deviation": cap,
            "runtime_s": joint_times,
            "runtime_s_median": joint_median,
            "target_s": TARGET_S,
            "meets_target": bool(joint.proven_optimal and joint_median < TARGET_S),
            "status": joint.status,
            "proven_optimal": joint.proven_optimal,
            "n_sets": joint.n_sets,
            "worst_deviation_pct": 100 * joint.plan.objective,
            "residents_within": joint.residents_within,
            "hubs": joint.hubs.reset_index().to_dict("records"),
        },
        "joint_vs_two_stage": {
            "gain_residents": joint.residents_within - float(two_stage),
            "ratio": joint.residents_within / float(two_stage) if two_stage else None,
            "time_ratio_joint_over_balance": joint_median / statistics.median(balance_times),
        },
        "frontier": front.table.to_dict("records"),
        "frontier_runtime_s": front_times[0],
        "peers": (
            "no peer tool solves localities and hubs jointly; the two-stage workflow "
            "(districting, then a location model per district) is the balance_only row"
        ),
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "processor": platform.processor(),
            "nwm_geo": __version__,
            "pulp": pulp.__version__,
            "highspy": getattr(highspy, "__version__", "unknown"),
            "threads": 1,
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(RESULTS) as tmp:
        text = json.dumps(_json_ready(result), indent=2, default=float, allow_nan=False)
        tmp.write_text(text + "\n", encoding="utf-8")
    print(f"joint optimum: {joint.status}, median {joint_median:.3f} s over {args.repeats} runs")
    print(f"  {joint.residents_within:,} residents within reach (two-stage: {two_stage:,.0f})")
    print(front.table.round(2).to_string())
    print(f"wrote {RESULTS}")
    return result


if __name__ == "__main__":
    main()
