"""Benchmark the CPU of ``nwm-geo run``, ``nwm-geo scenario`` and a what-if (not a test).

On the real bundle (``data/raw``), each timing is the CPU time (user + system) of a
fresh process and the processes it starts, taken from ``getrusage(RUSAGE_CHILDREN)``
around it, so it counts the CLI process with its children and not the load of the
machine (the load average is recorded beside). Side by side, in one run of this
script:

* **old**: the code of a git revision (default ``30b209e``, before issue 26's caches),
  extracted with ``git archive`` and put first on ``PYTHONPATH``;
* **new**: this checkout.

Measured, each in its own project folder (``data/raw`` linked to this checkout's):

* ``nwm-geo run`` on Luton and on Rutland: old; new on a first run (no
  ``data/cache``: the OSM file is parsed, everything computed) and new on a second run
  (the parsed network read from ``data/cache/network``, and the results of the baseline
  the first run saved, still valid for the same code, inputs and settings, read from
  ``data/cache``);
* ``nwm-geo scenario`` closing the central library on Luton, after a run (new: the
  baseline saved by the run is read; old: rebuilt);
* one what-if in Python, warm (the baseline computed or read, then
  ``study.with_changes(close=[...])`` and its ``coverage()`` and ``equity``), in
  process CPU time.

Both trees are byte-compiled first (``compileall``), as ``pip install`` does: with
``PYTHONDONTWRITEBYTECODE`` set (as on the shared machine) every process would otherwise
compile nwm_geo's sources again (about 0.17 CPU-s of a scenario); ``--no-compile`` times
that case. The JSON records which.

Each figure is the median of ``--repeat`` runs (spread: min and max); ``--quick``
repeats the runs once and the rest three times. Writes ``benchmarks/results/run.json``
atomically (the ratios old / new) and prints a table. ``--keep DIR`` keeps the project
folders (to compare the old and new outputs file by file).

Run: ``python benchmarks/bench_run.py [--repeat 5 | --quick] [--old 30b209e] [--out FILE]``
(``--out``: another JSON file, e.g. to keep a comparison with another old revision).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from nwm_geo._io import atomic_path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "results" / "run.json"

SCENARIO = 'name = "close-central-library"\n[[close]]\nasset_id = "library-0007"\n'

WHAT_IF = """
import statistics, sys, time
from nwm_geo.pipeline import Study
study = Study.from_outputs()
try:
    from nwm_geo.pipeline import load_baseline
    print(load_baseline(study), file=sys.stderr)
except ImportError:  # the old code has no saved baseline
    pass
def one():
    scen = study.with_changes(close=["library-0007"])
    scen.coverage()
    scen.equity
one()  # warm: the baseline's results computed (or read) once
times = []
for _ in range(int(sys.argv[1])):
    t0 = time.process_time()
    one()
    times.append(time.process_time() - t0)
print(statistics.median(times), min(times), max(times))
"""


def _cpu(cmd: list[str], *, env: dict[str, str], cwd: Path) -> float:
    """Run a command; return the CPU seconds of it and its children (it must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{done.stderr[-3000:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _summary(values: list[float]) -> dict[str, Any]:
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
        "n": len(values),
    }


def _project(base: Path, name: str) -> Path:
    folder = base / name
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "raw").symlink_to(ROOT / "data" / "raw", target_is_directory=True)
    (folder / "close.toml").write_text(SCENARIO, encoding="utf-8")
    return folder


def _env(src: Path | None, project: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NWM_GEO_")}
    env["NWM_GEO_PROJECT_DIR"] = str(project)
    env["PYTHONPATH"] = str(src) if src is not None else str(ROOT / "src")
    return env


def _runs(
    code: dict[str, Path], work: Path, *, area: str, repeat: int
) -> dict[str, dict[str, Any]]:
    """``nwm-geo run`` CPU: old; new first (no cache) and new cached."""
    cli = [sys.executable, "-m", "nwm_geo.cli", "run", "--area", area, "--quiet"]
    out: dict[str, list[float]] = {"old": [], "new_first": [], "new_cached": []}
    for i in range(repeat):
        for side, src in code.items():
            project = work / f"{side}-{area}"
            if not project.exists():
                project = _project(work, f"{side}-{area}")
            env = _env(src, project)
            if side == "old":
                out["old"].append(_cpu(cli, env=env, cwd=project))
                continue
            shutil.rmtree(project / "data" / "cache", ignore_errors=True)
            out["new_first"].append(_cpu(cli, env=env, cwd=project))
            out["new_cached"].append(_cpu(cli, env=env, cwd=project))
        last = ", ".join(f"{k} {v[-1]:.1f}" for k, v in out.items())
        print(f"  {area} run {i + 1}/{repeat}: {last}", flush=True)
    return {k: _summary(v) for k, v in out.items()}


def _scenarios(code: dict[str, Path], work: Path, *, repeat: int) -> dict[str, dict[str, Any]]:
    """``nwm-geo scenario`` CPU on Luton, in the projects the Luton runs left."""
    out: dict[str, list[float]] = {side: [] for side in code}
    for _ in range(repeat):
        for side, src in code.items():
            project = work / f"{side}-luton"
            cli = [sys.executable, "-m", "nwm_geo.cli", "scenario", "--quiet", "close.toml"]
            out[side].append(_cpu(cli, env=_env(src, project), cwd=project))
    return {k: _summary(v) for k, v in out.items()}


def _what_ifs(code: dict[str, Path], work: Path, *, repeat: int) -> dict[str, dict[str, Any]]:
    """One warm what-if in Python: process CPU of with_changes + coverage + equity."""
    out = {}
    for side, src in code.items():
        project = work / f"{side}-luton"
        done = subprocess.run(
            [sys.executable, "-c", WHAT_IF, str(repeat)],
            env=_env(src, project),
            cwd=project,
            capture_output=True,
            text=True,
            check=True,
        )
        med, low, high = map(float, done.stdout.split())
        out[side] = {
            "median": round(med, 3),
            "min": round(low, 3),
            "max": round(high, 3),
            "n": repeat,
        }
    return out


def _ratio(old: dict[str, Any], new: dict[str, Any]) -> float:
    return round(old["median"] / new["median"], 2) if new["median"] > 0 else float("nan")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; write ``benchmarks/results/run.json``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (median)")
    parser.add_argument("--quick", action="store_true", help="runs once, the rest 3 times")
    parser.add_argument("--old", default="30b209e", help="the git revision of the old code")
    parser.add_argument("--keep", type=Path, default=None, help="keep the project folders here")
    parser.add_argument("--areas", default="luton,rutland", help="areas to run")
    parser.add_argument("--out", type=Path, default=OUT, help="the JSON file to write")
    parser.add_argument(
        "--no-compile", action="store_true", help="do not byte-compile the two trees first"
    )
    args = parser.parse_args(argv)
    runs = 1 if args.quick else args.repeat
    small = 3 if args.quick else args.repeat
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="nwm_bench_run_") as tmp:
        work = args.keep if args.keep is not None else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        old_tree = Path(tmp) / "old-code"
        old_tree.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.old], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(old_tree)], input=archive, check=True)
        code: dict[str, Path] = {"old": old_tree / "src", "new": ROOT / "src"}
        if not args.no_compile:
            for tree in code.values():
                subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree)], check=True)
        areas = [a for a in args.areas.split(",") if a]
        results: dict[str, Any] = {}
        for area in areas:
            results[f"run_{area}"] = _runs(code, work, area=area, repeat=runs)
        if "luton" in areas:
            results["scenario_luton"] = _scenarios(code, work, repeat=small)
            results["what_if_luton"] = _what_ifs(code, work, repeat=max(small, 5))
    ratios = {}
    for name, figs in results.items():
        if name.startswith("run_"):
            ratios[f"{name} first"] = _ratio(figs["old"], figs["new_first"])
            ratios[f"{name} cached"] = _ratio(figs["old"], figs["new_cached"])
        else:
            ratios[name] = _ratio(figs["old"], figs["new"])
    record = {
        "what": "CPU seconds (user + system, with children) of nwm-geo run and scenario, "
        "and process CPU of one warm what-if; median of n; old = git " + args.old,
        "quick": bool(args.quick),
        "new_code": subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip(),
        "cached": "second run: the parsed OSM network and the saved baseline read from "
        "data/cache (same code, inputs and settings)",
        "bytecode": "none: sources compiled in every process"
        if args.no_compile
        else "both trees byte-compiled before timing (as pip install does)",
        "results": results,
        "ratio_old_over_new": ratios,
        "targets_cpu_s": {
            "run_luton": 12,
            "run_rutland": 15,
            "scenario_luton": 2,
            "what_if_luton": 0.5,
        },
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "wall_s": round(time.perf_counter() - t0, 1),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
    }
    with atomic_path(args.out) as tmp_out:
        tmp_out.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"{'figure':<28}{'old':>9}{'new':>9}  ratio")
    for name, figs in results.items():
        news = [k for k in figs if k != "old"]
        for k in news:
            label = f"{name} {k.removeprefix('new').strip('_')}".strip()
            print(
                f"{label:<28}{figs['old']['median']:>9.2f}{figs[k]['median']:>9.2f}  "
                f"{_ratio(figs['old'], figs[k]):.2f}x"
            )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
