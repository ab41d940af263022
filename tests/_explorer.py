"""Helpers for the explorer tests: random scenarios, the page's and Python's comparisons.

The tests open the page with a ``#scenario=`` fragment in one Playwright-driven headless
Chromium per module (:func:`chromium_path`) and read its ``nwm-comparison`` element back;
Python's comparison is ``scenarios.compare(base, base.with_changes(...))`` on the same
(moved) plan.
"""

from __future__ import annotations

import base64
import json
import os
import random
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nwm_geo import pipeline, scenarios

CHROMIUM = os.environ.get("NWM_GEO_CHROMIUM", "/usr/bin/chromium")
COLUMNS = [
    "locality",
    "measure",
    "population",
    "baseline_covered",
    "scenario_covered",
    "baseline_pct",
    "scenario_pct",
    "change_pct_points",
    "residents_losing",
    "residents_gaining",
]


def chromium_path() -> str:
    """Debian's Chromium (fails the test, never skips, when it is missing)."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    found = shutil.which("chromium")
    if found is None:
        raise AssertionError(f"Chromium not found at {CHROMIUM}; install the 'chromium' package")
    return found


def fragment(scenario: dict[str, Any]) -> str:
    """``#scenario=<base64url of JSON>``."""
    raw = json.dumps(scenario).encode("utf-8")
    return "#scenario=" + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def python_comparison(
    study: pipeline.Study, scenario: dict[str, Any], folder: Path
) -> pd.DataFrame:
    """``scenarios.compare(...).localities`` for the same scenario (see :func:`python_compare`)."""
    return python_compare(study, scenario, folder).localities[COLUMNS]


def python_compare(
    study: pipeline.Study, scenario: dict[str, Any], folder: Path
) -> scenarios.Comparison:
    """``scenarios.compare`` for the same scenario (a moved plan is written to a file)."""
    base = study
    moves = scenario.get("moves") or {}
    if moves:
        plan = study.plan.assignment.astype(str).copy()
        for code, loc in moves.items():
            plan[code] = loc
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "moved_plan.csv"
        frame = pd.DataFrame({"ward_code": plan.index, "locality": plan.to_numpy()})
        frame.to_csv(path, index=False)
        base = pipeline.Study(
            area=study.profile,
            data_dir=study.data_dir,
            minutes=study.minutes,
            speed_m_per_min=study.speed_m_per_min,
            plan=path,
        )
    scen = base.with_changes(
        close=scenario.get("close", ()),
        add=scenario.get("add", ()),
        minutes=scenario.get("minutes"),
        speed_m_per_min=scenario.get("speed_m_per_min"),
    )
    return scenarios.compare(base, scen)


def assert_same(page: pd.DataFrame, python: pd.DataFrame, *, keys: int = 2) -> None:
    """Row for row: names equal, counts equal to the resident, percentages to 0.01.

    The first ``keys`` columns are names; the others numbers compared exactly.
    """
    assert list(page.columns) == list(python.columns)
    for col in page.columns[:keys]:
        assert list(page[col].astype(str)) == list(python[col].astype(str)), col
    for col in page.columns[keys:]:
        a = pd.to_numeric(page[col], errors="coerce").to_numpy(float)
        b = pd.to_numeric(python[col], errors="coerce").to_numpy(float)
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        bad = np.flatnonzero(~same)
        assert not len(bad), (
            f"{col} differs in {len(bad)} row(s), e.g. {page.iloc[bad[0]].to_dict()} "
            f"vs {python.iloc[bad[0]].to_dict()}"
        )


def random_scenario(data: dict[str, Any], seed: int) -> dict[str, Any]:
    """A random scenario over the page's data: closures across categories, additions,
    ward moves, other minutes and speeds (each part present or not, at random).
    """
    rng = random.Random(seed)
    sites = data["sites"]
    cats = sorted({s["category"] for s in sites})
    out: dict[str, Any] = {}
    close: list[str] = []
    for cat in rng.sample(cats, k=min(len(cats), rng.randint(1, 4))):
        ids = [s["id"] for s in sites if s["category"] == cat]
        close += rng.sample(ids, k=rng.randint(1, min(len(ids), 3)))
    out["close"] = close
    if data["candidates"] and rng.random() < 0.7:
        picks = rng.sample(data["candidates"], k=min(2, len(data["candidates"])))
        out["add"] = [
            {"name": f"Test site {i + 1}", "category": rng.choice(data["categories"]), **c["key"]}
            for i, c in enumerate(picks[: rng.randint(1, len(picks))])
        ]
    if rng.random() < 0.5:
        out["minutes"] = rng.choice(data["settings"]["minute_choices"])
    if rng.random() < 0.4:
        out["speed_m_per_min"] = data["settings"]["speeds"]["65+"]
    return out


def random_moves(data: dict[str, Any], seed: int, n: int = 2) -> dict[str, str]:
    """Move ``n`` random wards to another locality."""
    rng = random.Random(seed)
    wards = rng.sample(data["wards"], k=n)
    locs = data["localities"]
    return {w["code"]: rng.choice([x for x in locs if x != w["locality"]]) for w in wards}


def page_data(page: Path) -> dict[str, Any]:
    """The JSON data block of a written explorer page."""
    text = page.read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="nwm-data">(.*?)</script>', text, re.S)
    assert m is not None
    return dict(json.loads(m.group(1)))
