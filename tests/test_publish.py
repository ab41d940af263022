"""One publishing path (issue 20 items 1 and 5): no personal data in any file written.

Everything here is SYNTHETIC: the council of ``tests/conftest.py``, a register with
Ofcom's drama numbers (01632 960xxx, reserved for fiction) and example.org addresses
planted in every free-text field, a scenario and hub options that name sites with them.
The planted-data test runs every command into a temporary project and scans every file
written: text, xlsx cells and parts, PDF text (poppler's ``pdftotext``), GeoPackage
attributes, PNG metadata, JSON.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import zipfile
from contextlib import closing
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from PIL import Image
from shapely.geometry import box

from nwm_geo import NwmGeoError
from nwm_geo._publish import (
    check_output_path,
    publish_frame,
    publish_text,
    write_csv,
    write_json,
    write_text,
)
from nwm_geo.cli import main

#: Every planted phone number and e-mail address, one per free-text field.
PHONES = [
    "01632 960001",
    "+44 1632 960002",
    "0044 1632 960003",
    "(01632) 960-004",
    "01632960005",
    "+44 (0)1632 960006",
    "01632 960 007",
    "01632-960008",
    "+44 1632 960009",
    "01632 960010",
    "01632 960011",
    "01632 960012",
]
EMAILS = [f"leak{n}@example.org" for n in range(1, 13)]

#: What must never appear in a published file, after dropping every character that is
#: not a letter or digit (so "01632 960-004" and "0163296 0004" are both caught).
_CORES = ("1632960", "exampleorg")


def _core(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _register(path: Path) -> Path:
    """A SYNTHETIC council register of 10 sites with personal data in every text field."""
    x0, y0 = 600000.0, 300000.0
    cats = ["Community Centre", "Library", "GP / Medical Centre", "Religious Institution",
            "Education", "Community Centre", "Council", "Health", "Sports and Leisure",
            "Library"]  # fmt: skip
    rows = []
    for n in range(10):
        p, e = PHONES[n], EMAILS[n]
        rows.append(
            {
                "asset_id": f"S{n + 1}",
                "name": f"Site {n + 1} ring {p}" if n % 2 else f"Site {n + 1} ({e})",
                "category": cats[n],
                "owner_type": "Council",
                "subtype": f"hall, bookings {e}",
                "address": f"{n + 1} Synthetic Road, call {p}",
                "easting": x0 + 400 + (n % 4) * 900,
                "northing": y0 + 500 + (n // 4) * 1300,
                "source": f"council register; queries to {PHONES[(n + 1) % 12]}",
                "source_record_id": f"REF {n + 1} / {EMAILS[(n + 1) % 12]}",
                "source_date": f"2025-01-01, checked by {PHONES[(n + 2) % 12]}",
                "licence": f"OGL v3, permissions {EMAILS[(n + 2) % 12]}",
                "notes": f"Keyholder on {PHONES[(n + 3) % 12]} or {EMAILS[(n + 3) % 12]}",
                "geocode": f"surveyed, {EMAILS[(n + 4) % 12]}",
            }
        )
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


_SCENARIO = f"""name = "planted"
description = "Synthetic: ask {EMAILS[10]} or ring {PHONES[10]}"
[[close]]
asset_id = "S2"
[[add]]
name = "New hall {PHONES[11]}"
category = "Library"
easting = 601300
northing = 301300
"""


def _units(path: Path) -> Path:
    """SYNTHETIC units: a 3 x 2 grid of squares, a phone and an e-mail in a text column."""
    cells = [(i, j) for j in range(2) for i in range(3)]
    gdf = gpd.GeoDataFrame(
        {
            "unit": [f"U{n}" for n in range(6)],
            "pop": [100, 120, 90, 110, 95, 105],
            "contact_note": [f"{PHONES[n]} {EMAILS[n]}" for n in range(6)],
        },
        geometry=[
            box(600000 + i * 1000, 300000 + j * 1000, 601000 + i * 1000, 301000 + j * 1000)
            for i, j in cells
        ],
        crs="EPSG:27700",
    )
    gdf.to_file(path, driver="GeoJSON")
    return path


def _texts(path: Path) -> list[str]:
    """Every text a reader could see in a file (more than one view for binary formats)."""
    raw = path.read_bytes()
    texts = [raw.decode("utf-8", errors="ignore")]
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        with zipfile.ZipFile(path) as zf:
            texts += [zf.read(n).decode("utf-8", errors="ignore") for n in zf.namelist()]
        wb = load_workbook(path)
        for ws in wb.worksheets:
            texts.append(ws.title)
            for row in ws.iter_rows():
                for c in row:
                    texts.append(str(c.value))
                    if c.comment is not None:
                        texts.append(c.comment.text)
    elif suffix == ".pdf":
        tool = shutil.which("pdftotext")
        if tool is None:
            pytest.fail("pdftotext not found; install Debian's poppler-utils")
        out = subprocess.run([tool, str(path), "-"], check=True, capture_output=True, text=True)
        texts.append(out.stdout)
    elif suffix == ".gpkg":
        with closing(sqlite3.connect(path)) as con:
            tables = [r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")]
        for table in tables:
            frame = gpd.read_file(path, layer=table)
            texts.append(frame.drop(columns="geometry", errors="ignore").to_csv())
    elif suffix == ".png":
        with Image.open(path) as image:
            texts += [f"{k} {v}" for k, v in image.info.items()]
    elif suffix in {".json", ".geojson"}:
        texts.append(json.dumps(json.loads(raw), ensure_ascii=False))
    return texts


def _leaks(root: Path, *, skip: tuple[Path, ...]) -> dict[str, list[str]]:
    """Files under ``root`` (not under ``skip``) that show a planted string, and which."""
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if any(path.is_relative_to(s) for s in skip):
            continue
        seen = {c for t in _texts(path) for c in _CORES if c in _core(t)}
        if seen:
            found[str(path.relative_to(root))] = sorted(seen)
    return found


@pytest.mark.integration  # every command end to end: about 15 CPU-s, too slow for the fast tier
def test_no_planted_phone_or_email_reaches_any_file_written(
    synthetic_area: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    profile, data_dir = synthetic_area
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    register = _register(inputs / "council register.csv")
    (inputs / "planted.toml").write_text(_SCENARIO, encoding="utf-8")
    units = _units(inputs / "units.geojson")
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.setenv("NWM_GEO_PROJECT_DIR", str(project))
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(data_dir))
    study = ["--quiet", "--area", str(profile), "--register", str(register)]
    assert main(["run", *study]) == 0, capsys.readouterr().err
    hub_site = f"Pop-up {PHONES[9]}=ZZ1 1AB"
    assert main(["hubs", *study, "--hub-site", hub_site]) == 0, capsys.readouterr().err
    assert main(["report", *study]) == 0, capsys.readouterr().err
    assert main(["scenario", *study, str(inputs / "planted.toml")]) == 0, capsys.readouterr().err
    out = project / "partition" / "plan.csv"
    part = ["partition", str(units), "--id-column", "unit", "--population-column", "pop"]
    assert main([*part, "--k", "2", "--time-limit", "20", "--quiet", "--out", str(out)]) == 0
    assert main(["template", str(project / "template.xlsx")]) == 0
    capsys.readouterr()
    written = [p for p in project.rglob("*") if p.is_file()]
    kinds = {p.suffix for p in written}
    assert {".csv", ".xlsx", ".pdf", ".html", ".json", ".gpkg", ".txt", ".toml"} <= kinds
    folder = project / "scenarios" / "synthetic" / "planted"
    assert (folder / "changes.csv").is_file() and (folder / "scenario.toml").is_file()
    # the planted text did reach the study: the checks below could fail
    assert "1632960" in _core(register.read_text(encoding="utf-8"))
    # data/raw is the imported bundle (the inputs as given), not a published output
    leaks = _leaks(project, skip=(project / "data" / "raw",))
    assert leaks == {}, f"{len(leaks)} file(s) publish planted personal data: {leaks}"
    # the masked text is still there, marked
    changes = pd.read_csv(folder / "changes.csv")
    assert changes.astype(str).apply(lambda c: c.str.contains(r"\[removed\]")).any().any()
    toml = (folder / "scenario.toml").read_text(encoding="utf-8")
    assert 'name = "New hall [removed]"' in toml


# ----------------------------------------------------------------------------------------
# the module's API, one guard per writer


def test_publish_frame_masks_text_cells_index_and_headers_and_neutralises_formulas() -> None:
    frame = pd.DataFrame(
        {"name": [f"Hall {PHONES[0]}", "=HYPERLINK(1)"], "n": [1, 2]},
        index=pd.Index([EMAILS[0], "b"], name="id"),
    )
    frame[f"note {EMAILS[1]}"] = ["-x", None]
    out = publish_frame(frame)
    assert list(out["name"]) == ["Hall [removed]", "'=HYPERLINK(1)"]
    assert list(out.index) == ["[removed]", "b"] and list(out["n"]) == [1, 2]
    assert "note [removed]" in out.columns and out["note [removed]"].iloc[0] == "'-x"
    assert frame.at[EMAILS[0], "name"].endswith(PHONES[0])  # the input is not changed


def test_every_writer_masks_what_it_writes(tmp_path: Path) -> None:
    text = f"ring {PHONES[0]} or mail {EMAILS[0]}"
    assert publish_text(text) == "ring [removed] or mail [removed]"
    write_text(tmp_path / "a.txt", text)
    write_json(tmp_path / "a.json", {"k": [text, {EMAILS[1]: 1.5}]})
    write_csv(pd.DataFrame({"t": [text]}), tmp_path / "a.csv")
    assert _leaks(tmp_path, skip=()) == {}
    assert json.loads((tmp_path / "a.json").read_text())["k"][1] == {"[removed]": 1.5}


def test_save_workbook_masks_cells_comments_titles_and_properties(tmp_path: Path) -> None:
    from openpyxl import Workbook, load_workbook
    from openpyxl.comments import Comment

    from nwm_geo._publish import save_workbook

    wb = Workbook()
    ws = wb.active
    ws.title = f"Hall {PHONES[0]}"
    ws["A1"] = f"ring {PHONES[1]}"
    ws["A2"] = "=HYPERLINK(A1)"  # openpyxl would store this as a formula
    ws["A3"] = 42
    ws["A1"].comment = Comment(f"ask {EMAILS[0]}", "synthetic")
    ws.oddFooter.center.text = EMAILS[1]
    wb.properties.title = f"pack for {EMAILS[2]}"
    save_workbook(wb, tmp_path / "book.xlsx")
    assert _leaks(tmp_path, skip=()) == {}
    back = load_workbook(tmp_path / "book.xlsx")
    ws = back.worksheets[0]
    assert ws.title == "Hall (removed)"  # Excel allows no brackets in a title
    assert [ws["A1"].value, ws["A2"].value, ws["A3"].value] == [
        "ring [removed]",
        "'=HYPERLINK(A1)",
        42,
    ]


def test_save_figure_masks_every_drawn_text_and_the_metadata(tmp_path: Path) -> None:
    from matplotlib.figure import Figure

    from nwm_geo._publish import save_figure

    fig = Figure()
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], label=f"hub {PHONES[0]}")
    ax.set_title(f"ring {PHONES[1]}")
    ax.set_xticks([0, 1], [EMAILS[0], "b"])
    ax.legend()
    fig.text(0.1, 0.02, f"Hub: ring {PHONES[2]} now Synthetic Centre")
    save_figure(fig, tmp_path / "page.pdf")
    save_figure(fig, tmp_path / "page.png", metadata={"Description": EMAILS[1]})
    assert _leaks(tmp_path, skip=()) == {}
    text = " ".join(_texts(tmp_path / "page.pdf")[-1].split())
    assert "Hub: ring [removed] now Synthetic Centre" in text


def test_a_decimal_number_is_not_a_phone_number() -> None:
    """Coordinates in map pages and JSON (-0.4123456789) are left as they are."""
    for kept in ("[-0.4123456789,51.88]", "0.1234567890", "(-0.412345678 51.8)"):
        assert publish_text(kept) == kept


# ----------------------------------------------------------------------------------------
# nothing overwritten without consent (item 5)


def test_check_output_path_refuses_an_existing_file_and_an_input(tmp_path: Path) -> None:
    given = tmp_path / "units.geojson"
    given.write_text("{}", encoding="utf-8")
    link = tmp_path / "link.geojson"
    link.symlink_to(given)
    new = tmp_path / "plan.csv"
    assert check_output_path(new, inputs=[given]) == new
    with pytest.raises(NwmGeoError, match=r"already exists.*--force"):
        check_output_path(given)
    assert check_output_path(given, force=True) == given
    for same in (given, link, tmp_path / "sub" / ".." / "units.geojson"):
        with pytest.raises(NwmGeoError, match="is also an input"):
            check_output_path(same, inputs=[given], force=True)


def test_template_refuses_to_replace_a_filled_in_register(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "register.xlsx"
    assert main(["template", str(path)]) == 0
    filled = path.read_bytes()
    capsys.readouterr()
    assert main(["template", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "already exists" in err and "--force" in err
    assert path.read_bytes() == filled
    assert main(["template", str(path), "--force"]) == 0


def test_partition_refuses_to_replace_its_input_or_an_existing_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    units = _units(tmp_path / "units.geojson")
    before = units.read_bytes()
    part = ["partition", str(units), "--id-column", "unit", "--population-column", "pop"]
    opts = ["--k", "2", "--time-limit", "10", "--quiet"]
    for out in (units, tmp_path / "." / "units.geojson"):
        assert main([*part, *opts, "--out", str(out), "--force"]) == 2
        assert "is also an input" in capsys.readouterr().err
    assert main([*part, *opts, "--out", str(tmp_path / "p.csv"), "--summary", str(units)]) == 2
    assert "is also an input" in capsys.readouterr().err
    assert units.read_bytes() == before
    plan = tmp_path / "plan.csv"
    assert main([*part, *opts, "--out", str(plan)]) == 0
    assert main([*part, *opts, "--out", str(plan)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main([*part, *opts, "--out", str(plan), "--force"]) == 0


# ----------------------------------------------------------------------------------------
# a formula saved without its value (item 11)


def test_an_xlsx_formula_without_a_saved_value_is_named_not_read_as_missing(
    tmp_path: Path,
) -> None:
    from openpyxl import Workbook

    from nwm_geo import data

    path = tmp_path / "register.xlsx"
    wb = Workbook()  # openpyxl writes formulas without their values, as scripts do
    ws = wb.active
    ws.append(["asset_id", "name", "category"])
    ws.append(["A1", "Synthetic Hall", "Library"])
    ws.append(["A2", '=B2&" Annex"', "Library"])
    wb.save(path)
    frame, problems = data.read_table(path)
    assert len(frame) == 2
    assert [str(p) for p in problems] == [
        "register.xlsx, row 3, column 'name': a formula saved without its value; open the "
        "file in Excel or LibreOffice and save it, or paste the values (value: "
        "'=B2&\" Annex\"')"
    ]


def test_write_geo_names_the_layer_after_the_file(tmp_path: Path) -> None:
    from nwm_geo._publish import write_geo

    gdf = gpd.GeoDataFrame({"note": [EMAILS[0]]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:27700")
    path = write_geo(gdf, tmp_path / "localities.geojson", driver="GeoJSON")
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["name"] == "localities"
    assert record["features"][0]["properties"]["note"] == "[removed]"


def test_partition_refuses_unit_ids_that_look_like_personal_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    units = gpd.read_file(_units(tmp_path / "units.geojson"))
    units["unit"] = [PHONES[0], "U1", "U2", EMAILS[0], "U4", "U5"]
    units.to_file(tmp_path / "ids.geojson", driver="GeoJSON")
    part = ["partition", str(tmp_path / "ids.geojson"), "--id-column", "unit"]
    opts = ["--population-column", "pop", "--k", "2", "--quiet", "--out", str(tmp_path / "p.csv")]
    assert main([*part, *opts]) == 2
    err = capsys.readouterr().err
    assert "column 'unit': 2 id(s) look like a phone number or e-mail address" in err
    assert not (tmp_path / "p.csv").exists()


def test_a_text_is_masked_every_time_it_is_published() -> None:
    # short texts are remembered once masked: the second time must be masked too
    for text in ["Call 01582 546000 today", "Mail jo@example.org", "Plain text"]:
        first, second = publish_text(text), publish_text(text)
        assert first == second
        assert ("01582" in first or "@" in first) is False
        assert publish_text(first) == first
    long = "x" * 300 + " 01582 546000"  # longer than the texts remembered
    assert "01582" not in publish_text(long) and publish_text(long) == publish_text(long)
