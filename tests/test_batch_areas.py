"""``nwm-geo batch`` on the real Luton and Rutland bundle (slow tier): issue 25's done-when.

A spec with both councils and more than 50 scenarios runs through the command line on
the LocalCluster that ``nwm-geo batch`` starts itself (2 workers), and every figure of
its ``summary.csv`` equals a separate run of the same scenario (the session's study of
each area, ``with_changes`` and :func:`nwm_geo.scenarios.compare`). The project holds
what ``nwm-geo run`` leaves for later what-ifs, written from those session studies by
the pipeline's own writers (their plans in ``data/processed``, their baselines in
``data/cache``): the batch starts from them, as ``nwm-geo scenario`` does, and neither
re-parses Rutland's OSM file nor re-solves a plan.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest

from nwm_geo import pipeline, scenarios, settings

pytestmark = pytest.mark.integration

SPEC = """name = "two-councils"
description = "Luton and Rutland: closures of community sites and other walk settings"
areas = ["luton", "rutland"]
scenarios = ["close-central.toml"]

[[sweep]]
area = "luton"
close_each = ["Library", "Community Centre", "LBC Community Centre", "Sports and Leisure"]
inside_only = true

[[sweep]]
area = "luton"
minutes = [10, 20]
speed_m_per_min = [65, 80]

[[sweep]]
area = "rutland"
close_each = ["Library", "GP / Medical Centre", "Health", "Council"]

[[sweep]]
area = "rutland"
close_pairs = ["library-0001", "library-0002", "library-0003"]

[[sweep]]
area = "rutland"
speed_m_per_min = [65]
"""


def test_luton_and_rutland_batch_equals_separate_runs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    luton_study: pipeline.Study,
    rutland_study: pipeline.Study,
) -> None:
    from nwm_geo.cli import main

    # the project as `nwm-geo run` leaves it for what-ifs, from the session's studies
    # (read, never changed): each plan (localities.csv) and saved baseline
    for base in (luton_study, rutland_study):
        for result in ("demand_with_locality", "minutes_to_nearest", "asset_cover"):
            getattr(base, result)  # what a run computes (the comparisons below need them)
        folder = tmp_path / "data" / "processed" / base.profile.output_subdir
        folder.mkdir(parents=True, exist_ok=True)
        pipeline.write_localities(base, folder)
        assert pipeline.save_baseline(base, project_dir=tmp_path) is not None
    shared = settings.shared_data_dir()
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(shared))
    monkeypatch.setenv("NWM_GEO_PROJECT_DIR", str(tmp_path))
    (tmp_path / "close-central.toml").write_text(
        'name = "close-central"\n[[close]]\nasset_id = "library-0007"\n', encoding="utf-8"
    )
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC, encoding="utf-8")
    start = time.perf_counter()
    assert main(["batch", "--workers", "2", "--quiet", str(spec)]) == 0
    seconds = time.perf_counter() - start
    out = capsys.readouterr().out
    assert ", 2 workers" in out and "0 failed" in out
    summary = pd.read_csv(tmp_path / "batch/two-councils/summary.csv")
    failures = pd.read_csv(tmp_path / "batch/two-councils/failures.csv")
    assert failures.empty
    tasks = summary[["area", "scenario"]].drop_duplicates()
    counts = tasks.groupby("area").size().to_dict()
    assert len(tasks) >= 50 and counts["luton"] >= 30 and counts["rutland"] >= 15
    # every figure equals a separate run of the same scenario
    record = json.loads((tmp_path / "batch/two-councils/provenance.json").read_text())
    got = summary.set_index(["area", "scenario"])
    # the session's own studies of the same bundle (tests/conftest.py): built once
    for area, base in (("luton", luton_study), ("rutland", rutland_study)):
        # each council's baseline is the one saved in the project, read back, not rebuilt
        assert record["baselines"][area]["saved_baseline"].startswith("baseline read from ")
        assert (
            record["baselines"][area]["settings"]["plan_sha256"]
            == (pipeline.provenance(base, stages=["localities"])["settings"]["plan_sha256"])
        )
        folder = tmp_path / "batch/two-councils/tasks" / area
        for name in tasks.loc[tasks["area"] == area, "scenario"]:
            # the generated scenario's own file, read as `nwm-geo scenario` reads one
            toml = tmp_path / "close-central.toml" if name == "close-central" else None
            if toml is None:
                toml = tmp_path / f"{name}.toml"
                text = _scenario_text(name, folder)
                toml.write_text(text, encoding="utf-8")
            scenario, problems = scenarios.read_scenario(toml)
            assert scenario is not None and not problems
            alone = scenarios.compare(
                base,
                base.with_changes(
                    close=scenario.close,
                    minutes=scenario.minutes,
                    speed_m_per_min=scenario.speed_m_per_min,
                ),
            ).localities
            rows = got.loc[(area, name)].reset_index(drop=True)
            assert rows["locality"].tolist() == alone["locality"].tolist()
            for col, theirs in (
                ("baseline_pct", "baseline_pct"),
                ("scenario_pct", "scenario_pct"),
                ("change", "change_pct_points"),
                ("residents_losing", "residents_losing"),
                ("residents_gaining", "residents_gaining"),
            ):
                assert rows[col].astype(float).tolist() == alone[theirs].astype(float).tolist()
    lost = got.loc[("luton", "close-central")].set_index(["locality", "measure"])
    print(
        f"\nbatch of {len(tasks)} scenarios ({counts}), {len(summary)} rows, in {seconds:.1f} s; "
        f"Luton losing a library within 15 minutes when the central library closes: "
        f"{lost.loc[('Luton', 'Library'), 'residents_losing']:.0f}"
    )
    assert lost.loc[("Luton", "Library"), "residents_losing"] > 0


def _scenario_text(name: str, folder: Path) -> str:
    """Rebuild a generated scenario's TOML from its name (close-<id>, pair-<a>_<b>, walk-...)."""
    assert (folder / f"{name}.json").is_file()
    lines = [f'name = "{name}"']
    if name.startswith("close-"):
        lines += ["[[close]]", f'asset_id = "{name.removeprefix("close-")}"']
    elif name.startswith("pair-"):
        for asset in name.removeprefix("pair-").split("_"):
            lines += ["[[close]]", f'asset_id = "{asset}"']
    else:
        lines.append("[settings]")
        for part in name.removeprefix("walk-").split("-"):
            if part.endswith("min"):
                lines.append(f"minutes = {part.removesuffix('min')}")
            else:
                lines.append(f"speed_m_per_min = {part.removesuffix('mpm')}")
    return "\n".join(lines) + "\n"
