"""The printable locality pack: a summary page plus one page per locality, each with content.

The PDF is rendered to PNG with poppler's ``pdftoppm`` and read back with ``pdftotext``
(Debian's ``poppler-utils``; ``scripts/test.sh`` installs it when missing). The unit tier
runs on the SYNTHETIC council of ``tests/conftest.py``; the integration test on Luton.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from nwm_geo import pipeline, report


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} not found; install Debian's poppler-utils")
    return found


def _pages_png(pdf: Path, out: Path) -> list[Path]:
    subprocess.run(
        [_tool("pdftoppm"), "-r", "40", "-png", str(pdf), str(out / "page")],
        check=True,
        capture_output=True,
    )
    return sorted(out.glob("page-*.png"))


def _page_text(pdf: Path, page: int) -> str:
    res = subprocess.run(
        [_tool("pdftotext"), "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    )
    return res.stdout


def _check_pages(pdf: Path, tmp: Path, localities: list[str]) -> None:
    pngs = _pages_png(pdf, tmp)
    texts = [" ".join(_page_text(pdf, i).split()) for i in range(1, len(pngs) + 1)]
    # business cases that do not fit continue on the next page, said so in its heading
    firsts = [i for i, t in enumerate(texts, start=1) if "continued)" not in t]
    assert len(firsts) == 1 + len(localities)
    for i, t in enumerate(texts, start=1):
        assert "OGL v3" in t and "ODbL" in t, f"page {i}: no sources"
    pngs = [pngs[i - 1] for i in firsts]
    for png in pngs:
        arr = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3)
        ink = float((arr.min(axis=1) < 235).mean())
        colours = len(np.unique(arr // 16, axis=0))
        assert ink > 0.05, f"{png.name}: only {ink:.1%} of the page is drawn on"
        assert colours > 20, f"{png.name}: {colours} colours, no map on it"
    for n, i in enumerate(firsts):
        text = texts[i - 1]
        assert "network:" in text, f"page {i}: no network label"
        if n > 0:
            assert localities[n - 1] in text
            assert "Business cases" in text
            assert "within 15 min" in text


@pytest.mark.integration  # slow: a whole study and its PDF (fast tier < 60 s)
def test_pack_has_a_summary_and_one_page_per_locality(
    synthetic_area: tuple[Path, Path], tmp_path: Path
) -> None:
    profile, data_dir = synthetic_area
    study = pipeline.Study(area=profile, data_dir=data_dir)
    pdf = pipeline.write_pack(study, tmp_path / "locality_pack.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    _check_pages(pdf, tmp_path, study.outline.localities)
    text = " ".join(_page_text(pdf, 2).split())
    wards = study.wards["ward_name"][study.plan.assignment == study.outline.localities[0]]
    for name in wards:
        assert name in text  # the page lists its wards
    # the study's hub for this locality (Study.hubs) is named and marked on its page
    hubs = study.hubs
    hub_id = hubs.loc[hubs["locality"] == study.outline.localities[0], "hub_asset_id"].iloc[0]
    assert f"Hub: {study.register.at[hub_id, 'name']}" in text


@pytest.mark.integration  # slow: a whole study and its PDF (fast tier < 60 s)
def test_pack_marks_the_hub_when_the_study_has_one(
    synthetic_area: tuple[Path, Path], tmp_path: Path
) -> None:
    profile, data_dir = synthetic_area
    study = pipeline.Study(area=profile, data_dir=data_dir)
    loc = study.outline.localities[0]
    here = study.register[study.register["ward_code"].map(study.plan.assignment) == loc]
    # SYNTHETIC hubs table (the shape branch `hubs` writes): one locality gets a hub
    hubs = pd.DataFrame({"locality": [loc], "hub_asset_id": [here.index[0]]})
    inputs = report.PackInputs(
        area_name="Synthetic",
        wards=study.wards,
        assignment=study.plan.assignment,
        register=study.register,
        outline=study.outline,
        bundles=list(study.bundles),
        hubs=hubs,
        network_label=study.network_label,
    )
    pdf = report.write_locality_pack(tmp_path / "pack.pdf", inputs)
    assert f"Hub: {here['name'].iloc[0]}" in " ".join(_page_text(pdf, 2).split())
    assert "Hub:" not in _page_text(pdf, 3)
    no_hub = report.write_locality_pack(
        tmp_path / "plain.pdf", dataclasses.replace(inputs, hubs=None)
    )
    assert "Hub:" not in _page_text(no_hub, 2)


@pytest.mark.integration
@pytest.mark.xdist_group("areas")
def test_luton_pack(tmp_path: Path, luton_run: Any, luton_study: pipeline.Study) -> None:
    study = luton_study  # the session's one Luton study and run (tests/conftest.py)
    pdf = luton_run.reports / "locality_pack.pdf"  # as `nwm-geo run` wrote it
    assert len(study.outline.localities) == 5
    _check_pages(pdf, tmp_path, study.outline.localities)
    first = " ".join(_page_text(pdf, 1).split())
    assert "274 in the borough, plus 73 outside" in first
    for i in range(1, 7):
        assert "approximate" in _page_text(pdf, i)
