"""The report stage and the whole run on Luton: this version against a baseline, side by side.

Both versions run in fresh subprocesses on the same machine and the same imported data
(``data/raw``), one after the other; the baseline's ``src/`` is extracted from git
(``--baseline``, default ``main``'s merge base with this branch) into a temporary
folder and put first on ``PYTHONPATH``. CPU seconds are ``time.process_time`` inside
each subprocess (all threads of the process, so HiGHS's are counted).

* report stage: ``pipeline.write_report(study, out)`` (maps, PNGs, workbook, CSVs and
  index.html) after every stage it reads was computed (the outline, the walksheds and
  the coverage), so it is the writing alone;
* workbook: ``report.write_requirements_xlsx`` alone, and the cells it holds;
* run: ``pipeline.run(Study())``, every stage from the bundle, in an empty project.

Writes ``benchmarks/results/report.json`` (the minimum over ``--repeat`` runs of each
timing, the machine and the ratios new / baseline).

    .venv-test/bin/python benchmarks/bench_report.py [--baseline REF] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "report.json"

#: Run inside each subprocess; prints one JSON line.
_PROBE = r"""
import json, sys, tempfile, time
from pathlib import Path
import openpyxl
import nwm_geo
from nwm_geo import pipeline, report
from nwm_geo.pipeline import Study

what = sys.argv[1]
out = {"module": str(Path(nwm_geo.__file__).parent)}
with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    if what == "run":
        t = time.process_time()
        pipeline.run(Study(), project_dir=tmp, progress=False)
        out["run_cpu_s"] = time.process_time() - t
    else:
        study = Study()
        study.outline, study.walksheds, study.run_info, study.localities
        study.coverage(by="locality")
        t = time.process_time()
        pipeline.write_report(study, tmp)
        out["report_stage_cpu_s"] = time.process_time() - t
        kw = {"run_info": study.run_info}
        if hasattr(pipeline, "workbook_context"):
            kw["context"] = pipeline.workbook_context(study)
        t = time.process_time()
        path = report.write_requirements_xlsx(study.outline, tmp / "wb.xlsx", **kw)
        out["xlsx_cpu_s"] = time.process_time() - t
        book = openpyxl.load_workbook(path, read_only=True)
        out["xlsx_cells"] = sum(
            1 for ws in book.worksheets for row in ws.iter_rows(values_only=True)
            for v in row if v is not None
        )
        out["xlsx_sheets"] = len(book.sheetnames)
        out["xlsx_max_rows_reading_sheet"] = max(
            sum(1 for _ in ws.iter_rows(values_only=True))
            for ws in book.worksheets if not ws.title.startswith("Data - ")
        )
print(json.dumps(out))
"""


def _extract(ref: str, into: Path) -> Path:
    """Extract ``src/`` of git ``ref`` into ``into``; return the folder to put on the path."""
    blob = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", ref, "src"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def _probe(src: Path, what: str) -> dict[str, float]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(src) + os.pathsep + env.get("PYTHONPATH", "")
    env["NWM_GEO_PROJECT_DIR"] = str(ROOT)  # data/raw of this checkout, for both
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, what],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(f"the {what} probe failed for {src}:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    if Path(str(result.pop("module"))).resolve() != (src / "nwm_geo").resolve():
        raise SystemExit(f"the probe imported nwm_geo from the wrong place for {src}")
    return result


def _best(src: Path, what: str, repeat: int) -> dict[str, float]:
    runs = [_probe(src, what) for _ in range(repeat)]
    return {k: min(r[k] for r in runs) for k in runs[0]}


def main() -> None:
    """Time the baseline and this version side by side and write the JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default=None, help="git ref (default: merge base with main)")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    ref = (
        args.baseline
        or subprocess.run(
            ["git", "-C", str(ROOT), "merge-base", "HEAD", "main"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    with tempfile.TemporaryDirectory() as tmp:
        old_src = _extract(ref, Path(tmp))
        new_src = ROOT / "src"
        results: dict[str, dict[str, float]] = {"baseline": {}, "this version": {}}
        for what in ("report", "run"):  # peers side by side, one after the other
            results["baseline"].update(_best(old_src, what, args.repeat))
            results["this version"].update(_best(new_src, what, args.repeat))
    old, new = results["baseline"], results["this version"]
    ratios = {k: round(new[k] / old[k], 3) for k in new if old.get(k)}
    payload = {
        "what": "Luton, approximate network: report stage (writing only), workbook, whole run",
        "units": "CPU seconds (time.process_time, minimum over repeats); cells: non-empty",
        "baseline_ref": ref,
        "repeat": args.repeat,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "results": {k: {m: round(v, 3) for m, v in r.items()} for k, r in results.items()},
        "ratio_this_over_baseline": ratios,
        "targets": {"report_stage_cpu_s": 5.0, "run_cpu_s": 12.0},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = RESULTS.with_suffix(".json.tmp")
    tmp_out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    tmp_out.replace(RESULTS)
    print(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
