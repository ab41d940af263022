"""Masking personal data: the linear-time masker against the regexes it replaced.

Both maskers run in this process, on the same SYNTHETIC texts, one after the other:

* ``new``: :func:`nwm_geo._safe.mask_personal_text` (e-mail addresses found from each
  "@" with bounded scans, a phone pattern with bounded repetitions);
* ``old``: the two regexes of the previous release (``[A-Za-z0-9._%+-]+@...`` and the
  UK phone pattern with unbounded separators), copied below verbatim; the old one is
  given a time cap (``--old-cap``, characters) because it is quadratic.

Texts (all synthetic): register-like prose with a phone number and an e-mail address
every 200 characters; the hostile inputs of issue 20 (one long run of letters, of digits,
of "a@"); a 100,000-character cell. Each timing is the median of ``--repeat`` runs
(spread reported). Writes ``benchmarks/results/mask.json``.

    .venv-test/bin/python benchmarks/bench_mask.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from nwm_geo._safe import mask_personal_text

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "mask.json"

_OLD_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_OLD_PHONE = re.compile(r"(?<![\w])(?:\+44\s?\(?0?\)?|\(?0)(?:[\s().-]*\d){9,10}(?![\w])")


def old_mask(text: str) -> tuple[str, int]:
    out, a = _OLD_EMAIL.subn("[removed]", text)
    out, b = _OLD_PHONE.subn("[removed]", out)
    return out, a + b


def _prose(n: int) -> str:
    unit = (
        "Community centre, 12 High Street, Luton LU1 2AB; bookings 01632 960001 or "
        "bookings@example.org; open Monday to Friday, 9am to 5pm, hall for 120 people. "
    )
    return (unit * (n // len(unit) + 1))[:n]


TEXTS: dict[str, Callable[[], str]] = {
    "prose_1MB": lambda: _prose(1_000_000),
    "letters_1MB": lambda: "a" * 1_000_000,
    "digits_1MB": lambda: "1" * 1_000_000,
    "at_signs_1MB": lambda: "a@" * 500_000,
    "prose_cell_100k": lambda: _prose(100_000),
    "letters_40k": lambda: "a" * 40_000,
}


def _median(fn: Callable[[str], object], text: str, repeat: int) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(text)
        times.append(time.perf_counter() - t)
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--old-cap", type=int, default=40_000, help="longest text for the old one")
    args = ap.parse_args()
    rows = {}
    for name, make in TEXTS.items():
        text = make()
        new = _median(mask_personal_text, text, args.repeat)
        row: dict[str, object] = {"chars": len(text), "new": new}
        if len(text) <= args.old_cap or name.startswith("prose"):
            old = _median(old_mask, text, max(1, args.repeat // 2))
            row["old"] = old
            row["old_over_new"] = old["median_s"] / new["median_s"]
            assert old_mask(text)[1] <= mask_personal_text(text)[1]
        else:
            row["old"] = f"not run: quadratic (over {args.old_cap:,} characters)"
        rows[name] = row
        print(name, json.dumps(row))
    out = {
        "what": "mask_personal_text (new) against the previous regexes (old), same texts",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "load_average": os.getloadavg(),
        "repeat": args.repeat,
        "results": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
