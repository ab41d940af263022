"""Benchmark the walkshed rendering and the whole ``nwm-geo run`` (not a test).

Side by side in one run, CPU seconds (``time.process_time``, best of ``--repeat``):

* walksheds per category on Luton's approximate network: the buffered reached network
  (``coverage.walksheds(by="category")``, what the maps drew before) against the
  postcode catchment cells (``coverage.catchment_cells``, what they draw now), with the
  number of interior rings (holes) each draws;
* the same two on Rutland's real OpenStreetMap network (where the maps keep the
  buffered network);
* with ``--baseline-src DIR`` (a ``src`` folder of an older commit, e.g. from
  ``git archive <commit> src | tar -x -C DIR/..``), the whole ``nwm-geo run --quiet`` on
  Luton, old code against this checkout, as child-process CPU seconds (user + system),
  each in a fresh temporary project.

Writes ``benchmarks/results/walksheds.json`` atomically and prints a table.

Run: ``python benchmarks/bench_walksheds.py [--repeat 3] [--baseline-src DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import shapely

from nwm_geo import coverage, data
from nwm_geo._io import atomic_path
from nwm_geo.pipeline import Study

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "results" / "walksheds.json"


def _best(fn: Any, repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.process_time()
        result = fn()
        best = min(best, time.process_time() - t0)
    return best, result


def _holes(frame: Any) -> int:
    parts = shapely.get_parts(frame.geometry.dropna().to_numpy())
    return int(shapely.get_num_interior_rings(parts).sum())


def walkshed_section(area: str | None, repeat: int) -> dict[str, Any]:
    study = Study(area=area)
    cats = [c for c in study.categories if c in study.minutes_to_nearest.columns]
    boundary = data.borough_boundary(study.wards)
    t_net, net = _best(lambda: coverage.walksheds(study.model, by="category"), repeat)
    t_cells, cells = _best(
        lambda: coverage.catchment_cells(
            study.demand, study.minutes_to_nearest, boundary=boundary, columns=cats
        ),
        repeat,
    )
    return {
        "area": study.profile.name,
        "network": study.network_label,
        "categories": len(cats),
        "postcodes": len(study.demand),
        "buffered_network_cpu_s": round(t_net, 3),
        "catchment_cells_cpu_s": round(t_cells, 3),
        "ratio_network_over_cells": round(t_net / t_cells, 1),
        "holes_buffered_network": _holes(net),
        "holes_catchment_cells": _holes(cells),
        "maps_use": "catchment cells" if "approximate" in study.network_label else "network",
    }


def _run_cpu(src: Path | None) -> float:
    """CPU seconds of one ``nwm-geo run --quiet`` on Luton in a fresh project."""
    env = dict(os.environ)
    env["NWM_GEO_SHARED_DATA"] = str(ROOT / "data" / "raw")
    if src is not None:
        env["PYTHONPATH"] = str(src)
    with tempfile.TemporaryDirectory() as tmp:
        env["NWM_GEO_PROJECT_DIR"] = tmp
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(
            [sys.executable, "-m", "nwm_geo.cli", "run", "--quiet"],
            env=env,
            check=True,
            capture_output=True,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run_section(baseline: Path, repeat: int) -> dict[str, Any]:
    old = min(_run_cpu(baseline) for _ in range(repeat))
    new = min(_run_cpu(ROOT / "src") for _ in range(repeat))
    return {
        "baseline_src": str(baseline),
        "old_run_cpu_s": round(old, 2),
        "new_run_cpu_s": round(new, 2),
        "ratio_old_over_new": round(old / new, 2),
        "note": "the new run also writes the requirements map and locality_pack.pdf",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-src", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    result: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpu_count": os.cpu_count()},
        "repeat": args.repeat,
        "walksheds": [walkshed_section(a, args.repeat) for a in (None, "rutland")],
    }
    if args.baseline_src is not None:
        result["nwm_geo_run_luton"] = run_section(args.baseline_src, args.repeat)
    for row in result["walksheds"]:
        print(
            f"{row['area']:8s} network {row['buffered_network_cpu_s']:6.2f} CPU-s "
            f"({row['holes_buffered_network']} holes)  cells {row['catchment_cells_cpu_s']:5.2f}"
            f" CPU-s ({row['holes_catchment_cells']} holes)  x{row['ratio_network_over_cells']}"
        )
    if "nwm_geo_run_luton" in result:
        r = result["nwm_geo_run_luton"]
        print(f"nwm-geo run: old {r['old_run_cpu_s']} CPU-s, new {r['new_run_cpu_s']} CPU-s")
    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
