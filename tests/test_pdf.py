"""Printable pages drawn with fpdf2 and maps laid over them (report.PdfDocument).

Everything here is SYNTHETIC: Ofcom's drama numbers (01632 960xxx, reserved for
fiction) and example.org addresses planted in texts, table cells, the metadata and a
map's label. The PDFs are read back with poppler's ``pdftotext`` and ``pdfinfo``
(Debian's ``poppler-utils``; ``scripts/test.sh`` installs it when missing).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from nwm_geo import report
from nwm_geo._publish import publish_pdf, save_pdf


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} not found; install Debian's poppler-utils")
    return found


def _pages(pdf: Path) -> list[str]:
    out = subprocess.run(
        [_tool("pdftotext"), "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return out.split("\f")[:-1]  # pdftotext ends every page with a form feed


def _info(pdf: Path) -> str:
    return subprocess.run(
        [_tool("pdfinfo"), str(pdf)], check=True, capture_output=True, text=True
    ).stdout


def _core(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def test_pages_mask_every_text_the_metadata_and_the_map(tmp_path: Path) -> None:
    doc = report.PdfDocument(
        report.PACK_PAGE_SIZE, metadata={"Title": "Pack for leak1@example.org", "Creator": "t"}
    )
    page = doc.new_page()
    page.text(0.05, 0.95, "Synthetic Centre, ring 01632 960001", size=12, weight="bold")
    page.text(0.05, 0.05, "Sources: OS, ONS\nnetwork: approximate", size=6, va="bottom")
    y, drawn = report.draw_table(
        page,
        0.85,
        x=0.05,
        widths=[0.2, 0.3],
        header=["Site", "Note"],
        rows=[["Hall", "bookings leak2@example.org"], ["Library", "open daily"]],
    )
    assert drawn == 2 and y < 0.85
    ax = page.figure().add_axes((0.55, 0.3, 0.4, 0.5))
    ax.plot([0, 1], [0, 1], label="Key: hub on 01632 960003")
    ax.legend()
    second = doc.new_page()
    second.text(0.05, 0.95, "Continued", size=12, style="italic")
    pdf = doc.save(tmp_path / "pages.pdf")

    texts = _pages(pdf)
    assert len(texts) == 2
    first = " ".join(texts[0].split())
    assert "Synthetic Centre, ring [removed]" in first
    assert "bookings [removed]" in first and "open daily" in first
    assert "Key: hub on [removed]" in first  # the map's text is text, and masked
    assert "network: approximate" in first and "Continued" in texts[1]
    info = _info(pdf)
    assert "Pack for [removed]" in info
    everything = _core(pdf.read_bytes().decode("latin-1") + "".join(texts) + info)
    assert "1632960" not in everything and "exampleorg" not in everything


def test_save_pdf_refuses_a_document_that_does_not_mask(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    with pytest.raises(ValueError, match="publish_pdf"):
        save_pdf(pdf, tmp_path / "raw.pdf")
    assert not (tmp_path / "raw.pdf").exists()
    masked = publish_pdf(FPDF())
    masked.add_page()
    masked.set_font("helvetica", size=10)
    masked.text(20, 20, "call 01632 960004")
    text = " ".join(_pages(save_pdf(masked, tmp_path / "masked.pdf"))[0].split())
    assert text == "call [removed]"


def _profile(n_cases: int) -> report.WardProfile:
    """A SYNTHETIC ward with ``n_cases`` business cases (more than a page holds)."""
    cov = pd.DataFrame(
        {"measure": ["Library", "Health"], "within %": [80.0, 40.0], "<= 5 min": [10, 20]}
    )
    beyond = pd.DataFrame({"group": ["1 (most deprived)"], "residents": [50.0], "Library": [5.0]})
    sites = pd.DataFrame({"name": ["Synthetic Hall"], "category": ["Community Centre"]})
    cases = pd.DataFrame(
        {
            "case": [str(i) for i in range(n_cases)],
            "rule": "R3",
            "action": [f"provide {i:02d}" for i in range(n_cases)],
            "name": "Synthetic Hall",
            "measure": "something to do",
            "population": 100.0,
        }
    )
    return report.WardProfile(
        code="W1", name="Synthetic", locality="North", residents=1234.0,
        coverage=cov, beyond=beyond, sites=sites, cases=cases, hub="Hub of North: Hall.",
    )  # fmt: skip


def test_ward_profile_cases_continue_on_the_next_page(tmp_path: Path) -> None:
    pdf = report.write_ward_profiles(
        tmp_path / "wards.pdf", [_profile(60)], area_name="Synthetic", footer=["network: test"]
    )
    texts = [" ".join(t.split()) for t in _pages(pdf)]
    assert len(texts) >= 2
    assert texts[0].startswith("Synthetic: Synthetic ward (W1)")
    assert all(t.startswith("Synthetic: Synthetic ward (continued)") for t in texts[1:])
    flat = " ".join(texts)
    for i in range(60):  # every case, once, none cut off at the foot of a page
        assert flat.count(f"provide {i:02d}") == 1, i
    for t in texts:
        assert "OGL v3" in t and "ODbL" in t and "network: test" in t  # on every page
    assert "Synthetic: ward profiles" in _info(pdf)
