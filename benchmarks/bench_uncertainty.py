"""Benchmark: the range analysis behind ``uncertainty.csv`` on the real Luton data (issue 21).

Not a test. ``Study()`` (Luton, 15 minutes at 80 m/min, the approximate network) is
built up to its walk model, nearest-asset minutes and asset cover, which every run
computes anyway; then the whole range analysis (:func:`nwm_geo.uncertainty.study_ranges`:
the postcode-site cover, the register's missing sites placed with
``requirements.best_new_sites``, and the shares at the network band and at ±10 %
speed) is timed ``--repeats`` times on fresh studies. Target: under 60 s. The ratio
reported is the analysis's time over the time of the run's own coverage work
(walk model, minutes and asset cover) on the same machine, so a slower machine moves
both.

Writes ``benchmarks/results/uncertainty.json`` atomically. Run from the project root::

    python benchmarks/bench_uncertainty.py [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nwm_geo import __version__, coverage, network, uncertainty
from nwm_geo._io import atomic_path
from nwm_geo.pipeline import Study

__all__ = ["main"]

RESULTS = Path(__file__).parent / "results" / "uncertainty.json"
TARGET_S = 60.0


def _plain(value: Any) -> Any:
    """Return ``value`` with numpy scalars as Python numbers and NaN as None (JSON)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if not np.isfinite(value) else round(float(value), 4)
    return value


def one_run() -> tuple[float, float, dict[str, float], pd.DataFrame]:
    """Time the coverage work and the range analysis on a fresh Luton study."""
    study = Study()
    _ = study.demand_with_locality, study.register, study.reconciliation, study.graph
    t0 = time.perf_counter()
    _ = study.model, study.minutes_to_nearest, study.asset_cover
    base = time.perf_counter() - t0
    parts: dict[str, float] = {}
    t1 = time.perf_counter()
    site_cover = coverage.coverage_matrix(
        study.model, sources="points", minutes=study.minutes, speed_m_per_min=study.speed_m_per_min
    )
    parts["postcode_site_cover_s"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    uncertainty.missing_sites(
        study.asset_cover,
        site_cover,
        study.register,
        study.demand_with_locality,
        reconciliation=study.reconciliation,
        bundles=study.bundles,
    )
    parts["missing_sites_s"] = time.perf_counter() - t1
    study2 = Study()  # the whole analysis as the run calls it, on a second fresh study
    _ = study2.model, study2.minutes_to_nearest, study2.asset_cover, study2.demand_with_locality
    t2 = time.perf_counter()
    table = study2.ranges
    whole = time.perf_counter() - t2
    return whole, base, parts, table


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    runs = [one_run() for _ in range(args.repeats)]
    wholes = [r[0] for r in runs]
    bases = [r[1] for r in runs]
    table = runs[-1][3]
    statuses = table.attrs["register_statuses"]
    borough = table[table["locality"] == table["locality"].iloc[-1]]
    result = {
        "what": "nwm_geo.uncertainty.study_ranges on Luton (Study() defaults)",
        "nwm_geo": __version__,
        "machine": {"python": platform.python_version(), "processor": platform.processor()},
        "network": network.network_label(Study().graph),
        "target_s": TARGET_S,
        "range_analysis_s": {"median": statistics.median(wholes), "all": wholes},
        "coverage_work_s": {"median": statistics.median(bases), "all": bases},
        "ratio_range_analysis_over_coverage_work": statistics.median(wholes)
        / statistics.median(bases),
        "parts_last_run_s": runs[-1][2],
        "under_target": statistics.median(wholes) < TARGET_S,
        "shortfall": table.attrs["shortfall"],
        "missing_sites_placed": len(table.attrs["missing_sites"]),
        "register_solves": {
            "n": len(statuses),
            "proven_optimal": int(statuses["proven_optimal"].sum()) if len(statuses) else 0,
            "labels": sorted(set(statuses["label"])) if "label" in statuses else [],
            "time_limit_s": uncertainty.REGISTER_TIME_LIMIT_S,
        },
        "borough": borough.drop(columns=["locality"]).to_dict(orient="records"),
    }
    result = _plain(result)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(RESULTS) as tmp:
        tmp.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
