"""Tests for nwm_geo.report on a SYNTHETIC outline (tiny coverage matrix)."""

from __future__ import annotations

import dataclasses
import functools
import io
import math
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl import load_workbook
from scipy import sparse

from nwm_geo import NwmGeoError, report
from nwm_geo import requirements as rq

LABEL = "network: approximate (postcode proximity), not OSM"
PHONE = re.compile(r"\b0\d{3,4}[ -]?\d{3}[ -]?\d{3,4}\b|\+44")


@pytest.fixture
def outline() -> rq.RequirementsOutline:
    pids = ["LU1 1AA", "LU1 1AB", "LU2 2AA", "LU2 2AB"]
    aids = ["A", "B", "C"]
    points = pd.DataFrame(
        {
            "population": [100.0, 200.0, 300.0, 50.0],
            "ward_code": ["W1", "W1", "W2", "W2"],
            "lsoa_code": ["L1", "L1", "L2", "L2"],
            "lon": [-0.41, -0.42, -0.43, -0.44],
            "lat": [51.88, 51.89, 51.87, 51.86],
        },
        index=pd.Index(pids, name="point_id"),
    )
    assets = pd.DataFrame(
        {
            "name": ['=HYPERLINK("http://x")', "<b>Hall</b> & Co", "Surgery"],
            "category": ["Library", "Library", "GP / Medical Centre"],
            "ward_code": ["W1", "W2", "W2"],
            "ward_name": ["Ward 1", "Ward 2", "Ward 2"],
            "phone": ["01582 123456", "01582 654321", "07700 900123"],
            "lon": [-0.41, -0.43, -0.43],
            "lat": [51.88, 51.87, 51.87],
        },
        index=pd.Index(aids, name="asset_id"),
    )
    m = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 0]], dtype=bool)
    cover = (sparse.csr_matrix(m), pd.Index(pids), pd.Index(aids))
    nearest = pd.DataFrame(
        {"Library": [3.0, 4.0, 5.0, 30.0], "GP / Medical Centre": [20.0, 20.0, 5.0, math.nan]},
        index=pd.Index(pids, name="point_id"),
    )
    site_cover = (sparse.identity(4, dtype=bool, format="csr"), pd.Index(pids), pd.Index(pids))
    return rq.outline(
        assets,
        points,
        assignment=pd.Series({"W1": "North", "W2": "South"}),
        inputs=rq.OutlineInputs(
            cover=cover, nearest=nearest, site_cover=site_cover, network_label=LABEL
        ),
        measures=["Library", "GP / Medical Centre"],
        new_site_measures=["Library"],
        k=1,
        bundles={"go": ("Library",)},
        method_notes={"data_dates": "Code-Point Open 2025-10; Census 2021"},
    )


def _text(ws: openpyxl.worksheet.worksheet.Worksheet) -> str:
    return "\n".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v)


def test_xlsx_sheets_and_no_personal_data(outline: rq.RequirementsOutline, tmp_path: Path) -> None:
    path = report.write_requirements_xlsx(outline, tmp_path / "asset_requirements.xlsx")
    wb = load_workbook(path)
    data_sheets = [name for name, _ in report.DATA_SHEETS.values()]
    assert wb.sheetnames == [
        "Read me",
        "Summary",
        "North",
        "South",
        "Business cases",
        "Method and proof",
        *data_sheets,
    ]
    assert all(name.startswith("Data - ") for name in data_sheets)
    text = []
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            text.extend(str(v) for v in row if v is not None)
    joined = "\n".join(text)
    assert not PHONE.search(joined), PHONE.search(joined)
    assert "phone" not in joined.lower()
    method = _text(wb["Method and proof"])
    for needed in [
        "80 m/min",
        "15 minutes",
        LABEL,
        "OGL v3",
        "ODbL",
        "Business case rule R1",
        "Code-Point Open 2025-10",
        "proven optimal",
    ]:
        assert needed in method, needed
    readme = _text(wb["Read me"])
    for needed in ["Purpose", "How to read it", "Glossary", "Overlapping coverage", "Rule R4"]:
        assert needed in readme, needed
    assert "Headline findings" in _text(wb["Summary"])
    # stages that add lines to the saved workbook find a locality sheet by its title
    assert wb["North"]["A1"].value == "Locality: North"
    north = _text(wb["North"])
    for section in [
        "Coverage by bundle",
        "Business cases",
        "Required assets",
        "overlapping coverage (capacity not considered)",
        "Gaps and suggested sites",
        "One site for all three bundles",
    ]:
        assert section in north, section
    assert "Redundant" not in joined
    # a name that looks like a formula is stored as text, never as a formula: the
    # same rule as every CSV (a leading apostrophe), read back as a string cell
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    formula = [c for c in cells if c.data_type == "f"]
    assert formula == []
    named = [c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert named and all(c.value == '\'=HYPERLINK("http://x")' for c in named)
    assert all(c.data_type == "s" for c in named)


def test_xlsx_is_atomic(
    outline: rq.RequirementsOutline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "a.xlsx"
    dest.write_bytes(b"old")
    real_save = openpyxl.Workbook.save

    def failing_save(self: object, filename: str) -> None:
        real_save(self, filename)  # a partial file is written, then the writer fails
        raise OSError("disk full")

    monkeypatch.setattr(openpyxl.Workbook, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        report.write_requirements_xlsx(outline, dest)
    assert dest.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.xlsx"]


def test_index_links_every_file_and_escapes(tmp_path: Path) -> None:
    (tmp_path / "maps").mkdir()
    files = ["maps/localities.html", "maps/assets & <b>.html", "asset_requirements.xlsx"]
    for f in files:
        (tmp_path / f).write_text("x")
    path = report.write_index_html(
        tmp_path / "index.html",
        maps=[
            ("Localities", "maps/localities.html"),
            ("Assets <script>x</script>", tmp_path / "maps/assets & <b>.html"),
        ],
        tables=["asset_requirements.xlsx"],
        run_info={
            "walk_speed_m_per_min": 80,
            "walk_minutes": 15,
            "network": LABEL,
            "data_dates": "<i>2025</i>",
        },
        findings=report.IndexFindings(
            reconciliation=pd.DataFrame(  # SYNTHETIC register counts; the council's 287
                {"council_count": [287, 287], "register_count": [190, 190]},
                index=pd.Index(["Education", "TOTAL"], name="category"),
            )
        ),
    )
    page = path.read_text(encoding="utf-8")
    hrefs = re.findall(r'href="([^"]+)"', page)
    assert hrefs == [
        "maps/localities.html",
        "maps/assets%20%26%20%3Cb%3E.html",
        "asset_requirements.xlsx",
    ]
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert "<i>2025</i>" not in page and "&lt;i&gt;2025&lt;/i&gt;" in page
    assert 'id="approximation-note"' in page and "287" in page and "-97" not in page
    assert "190 sites in the register; the council lists 287" in page
    assert "80 m/min" in page and "1,200 m" in page and "OGL v3" in page
    with pytest.raises(NwmGeoError, match="missing"):
        report.write_index_html(tmp_path / "i2.html", maps=["nope.html"], tables=[], run_info={})
    assert not (tmp_path / "i2.html").exists()


def test_sheet_names_are_safe() -> None:
    taken: set[str] = set()
    assert report.sheet_name("North/East: [x]?", taken) == "North-East- -x--"
    long = "A" * 40
    assert report.sheet_name(long, taken) == "A" * 31
    assert report.sheet_name(long, taken) == "A" * 27 + " (2)"


def _cells(path: Path) -> dict[str, list[openpyxl.cell.Cell]]:
    wb = load_workbook(path)
    return {ws.title: [c for row in ws.iter_rows() for c in row] for ws in wb.worksheets}


def test_personal_columns_dropped_by_the_shared_rule_and_free_text_masked(
    outline: rq.RequirementsOutline, tmp_path: Path
) -> None:
    case = pd.DataFrame(
        {
            "name": ['=HYPERLINK("http://evil")', "Hall"],
            "locality": ["North", "South"],
            "Hotel": ["Park Inn", "Hilton"],
            "Telford route": ["A5", "A6"],
            "Phone": ["01582 111111", "01582 222222"],
            "Contact Name": ["Jane Example", "John Example"],
            "notes": ["ring 01582 546000 or jo@example.org", "+sum(1)"],
        },
        index=pd.Index(["A", "B"], name="asset_id"),
    )
    path = report.write_requirements_xlsx(
        dataclasses.replace(outline, business_case=case), tmp_path / "r.xlsx"
    )
    summary = _cells(path)["Business cases"]
    values = [c.value for c in summary if c.value is not None]
    # "Hotel" and "Telford" merely contain "tel": kept; Phone and Contact Name dropped
    assert "Hotel" in values and "Park Inn" in values
    assert "Telford route" in values and "A5" in values
    assert "Phone" not in values and "01582 111111" not in values
    assert "Contact Name" not in values and "Jane Example" not in values
    # phone numbers and e-mail addresses inside free text are masked
    assert "ring [removed] or [removed]" in values
    assert not any("546000" in str(v) or "@example.org" in str(v) for v in values)
    # formula-like text is text: the CSV rule, stored as a string cell
    evil = [c for c in summary if c.value == '\'=HYPERLINK("http://evil")']
    assert len(evil) == 1 and evil[0].data_type == "s"
    plus = [c for c in summary if c.value == "'+sum(1)"]
    assert len(plus) == 1 and plus[0].data_type == "s"


def test_run_info_is_the_method_text_without_the_outline(
    outline: rq.RequirementsOutline, tmp_path: Path
) -> None:
    info = report.RunInfo(
        network="network: OSM walk network (2025-10 extract)",
        minutes=10,
        speed_m_per_min=70,
        data_dates="Census 2021",
        register="274 sites against the council's 287",
        localities="4 localities of whole wards (proven optimal)",
        extra=(("Reviewer", "call 01582 546000"),),
    )
    path = report.write_requirements_xlsx(outline, tmp_path / "r.xlsx", run_info=info)
    sheet = load_workbook(path)["Method and proof"]
    values = [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
    pairs = [[v for v in row if v is not None] for row in sheet.iter_rows(values_only=True)]
    rows = {str(p[0]): str(p[1]) for p in pairs if len(p) == 2}
    assert rows["Walking speed"] == "70 m/min"
    assert rows["Walk threshold"] == "10 minutes"
    assert rows["Network"] == "network: OSM walk network (2025-10 extract)"
    assert rows["Localities"] == "4 localities of whole wards (proven optimal)"
    assert rows["Reviewer"] == "call [removed]"
    assert "Approximation" not in rows  # the outline's network label is not used
    assert LABEL not in values and "Code-Point Open 2025-10" not in values
    with pytest.raises(NwmGeoError, match="not both"):
        report.write_requirements_xlsx(
            outline, tmp_path / "x.xlsx", run_info=info, method_extra={"a": 1}
        )
    page = report.write_index_html(
        tmp_path / "index.html", maps=[], tables=[], run_info=info
    ).read_text(encoding="utf-8")
    assert "70 m/min (4.2 km/h)" in page and "10 minutes (700 m)" in page
    assert "<dt>Register</dt><dd>274 sites against the council&#x27;s 287</dd>" in page
    assert 'id="approximation-note"' not in page
    # a method dict reads into the same fields
    assert report.RunInfo.from_method(
        {"walk_minutes": 10, "network": "n", "k_new_sites": 3, "data_dates": "d"}
    ) == report.RunInfo(
        network="n",
        minutes=10,
        data_dates="d",
        extra=(("Suggested new sites per bundle and locality (at most)", "3"),),
    )
    with pytest.raises(NwmGeoError, match="more than 0"):
        report.write_index_html(
            tmp_path / "z.html", maps=[], tables=[], run_info=report.RunInfo(minutes=0)
        )


def test_every_reading_sheet_is_frozen_filtered_and_prints_one_page_wide(
    outline: rq.RequirementsOutline, tmp_path: Path
) -> None:
    path = report.write_requirements_xlsx(outline, tmp_path / "a.xlsx")
    wb = load_workbook(path)
    for ws in wb.worksheets:
        assert ws.freeze_panes not in (None, "A1"), ws.title
        assert ws.auto_filter.ref, ws.title
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0, ws.title
        assert ws.print_title_rows, ws.title
        if not ws.title.startswith("Data - "):
            assert ws.max_row < report.READING_ROW_LIMIT, ws.title
        # fitted widths: every used column has one, none is the 8.43 default
        used = {c.column_letter for row in ws.iter_rows() for c in row if c.value is not None}
        assert all(ws.column_dimensions[col].width >= 10 for col in used), ws.title
    # one number format per quantity: every share is a percentage, every resident count
    # a whole number
    cases = wb["Business cases"]
    head = [c.value for c in cases[2]]
    col = head.index("Residents") + 1
    formats = {cases.cell(row=r, column=col).number_format for r in range(3, cases.max_row + 1)}
    assert formats == {"#,##0"}
    cov = wb[report.DATA_SHEETS["coverage"][0]]
    head = [c.value for c in cov[2]]
    share_cols = [j + 1 for j, h in enumerate(head) if str(h).startswith("Share")]
    shares = {
        cov.cell(row=r, column=j).number_format
        for j in share_cols
        for r in range(3, cov.max_row + 1)
        if cov.cell(row=r, column=j).value is not None
    }
    assert share_cols and shares == {"0.0%"}


def test_index_leads_with_findings_before_links(
    outline: rq.RequirementsOutline, tmp_path: Path
) -> None:
    findings = report.index_findings(outline)
    assert findings.headlines and "proven optimal" in findings.proof
    (tmp_path / "m.html").write_text("x", encoding="utf-8")
    page = report.write_index_html(
        tmp_path / "index.html",
        maps=[("A map", "m.html")],
        tables=[],
        run_info=outline.method,
        findings=findings,
    ).read_text(encoding="utf-8")
    assert page.index('id="findings"') < page.index('id="proof"') < page.index("<h2>Maps</h2>")
    assert page.index('id="caveats"') < page.index('href="m.html"')
    assert "Share of residents within the walk, by locality and" in page


def test_locality_sheets_list_wards_figures_and_the_hooks(
    outline: rq.RequirementsOutline, tmp_path: Path
) -> None:
    wards = pd.DataFrame(
        {
            "ward_name": ["Ward 1", "Ward 2"],
            "population": [300, 350],
            "assets": [1, 2],
            "locality": ["North", "South"],
        },
        index=pd.Index(["W1", "W2"], name="ward_code"),
    )
    hubs = pd.DataFrame(
        {"hub_name": ["Synthetic Hub"], "residents_within": [250], "share_pct": [83.3]},
        index=pd.Index(["North"], name="locality"),
    )
    equity = {"South": pd.DataFrame({"imd_quintile": [1, 5], "covered_pct": [40.0, 90.0]})}
    ctx = report.WorkbookContext(area="Synthetic", wards=wards, hubs=hubs, equity=equity)
    wb = load_workbook(report.write_requirements_xlsx(outline, tmp_path / "c.xlsx", context=ctx))
    north, south = _text(wb["North"]), _text(wb["South"])
    assert "Wards: Ward 1." in north and "Ward 2" not in north
    assert "Wards: Ward 2." in south
    assert "Hub" in north and "Synthetic Hub" in north and "Synthetic Hub" not in south
    share = next(c for row in wb["North"].iter_rows() for c in row if c.value == 0.833)
    assert share.number_format == "0.0%"
    assert "Deprivation and age" in south
    assert "Deprivation and age" not in north
    assert "Synthetic" in _text(wb["Summary"])


def test_a_sheet_added_later_gets_the_briefing_set_up(
    outline: rq.RequirementsOutline, tmp_path: Path
) -> None:
    path = report.write_requirements_xlsx(outline, tmp_path / "a.xlsx")
    wb = load_workbook(path)
    extra = wb.create_sheet("Hubs", 2)
    extra.append(["locality", "hub"])
    extra.append(["North", "Synthetic Hub"])
    wb.save(path)
    report.finish_workbook(path)
    wb = load_workbook(path)
    hubs = wb["Hubs"]
    assert hubs.freeze_panes == "A2" and hubs.auto_filter.ref == "A1:B2"
    assert hubs.page_setup.fitToWidth == 1 and hubs.page_setup.orientation == "landscape"
    assert hubs.print_title_rows
    # the sheets written by the workbook keep their own set-up
    assert wb["Business cases"].freeze_panes == "A3"


def test_sheets_given_as_producers_are_saved_once_with_the_briefing_set_up(
    outline: rq.RequirementsOutline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19: the equity, closure-impact and hub sheets are inputs of the one save."""

    def hubs_sheet(wb: openpyxl.Workbook) -> None:  # a producer, as report.hub_sheet
        extra = wb.create_sheet("Hubs", 2)
        extra.append(["locality", "hub"])
        extra.append(["North", "Synthetic Hub"])

    saved: list[object] = []
    real_save = openpyxl.Workbook.save

    def counting_save(self: openpyxl.Workbook, filename: object) -> None:
        saved.append(filename)
        real_save(self, filename)

    loads: list[object] = []
    real_read = openpyxl.reader.excel.ExcelReader.read

    def counting_read(self: openpyxl.reader.excel.ExcelReader) -> None:  # every load
        loads.append(self)
        real_read(self)

    wards = pd.DataFrame(  # SYNTHETIC: the "Wards" sheet, as the pipeline gives it
        {"ward_name": ["Ward 1", "Ward 2"], "share within": [0.5, 0.25]},
        index=pd.Index(["W1", "W2"], name="ward_code"),
    )
    wards_sheet = functools.partial(
        report.table_sheet, name="Wards", title="Wards", table=wards, position=1
    )
    monkeypatch.setattr(openpyxl.Workbook, "save", counting_save)
    monkeypatch.setattr(openpyxl.reader.excel.ExcelReader, "read", counting_read)
    path = report.write_requirements_xlsx(
        outline, tmp_path / "a.xlsx", sheets=[hubs_sheet, wards_sheet]
    )
    assert len(saved) == 1 and not isinstance(saved[0], io.BytesIO)  # one write, no buffer
    assert loads == []  # never read back
    monkeypatch.undo()
    wb = load_workbook(path)
    hubs = wb["Hubs"]
    assert hubs.freeze_panes == "A2" and hubs.auto_filter.ref == "A1:B2"
    assert hubs.page_setup.fitToWidth == 1 and hubs.print_title_rows
    assert wb.sheetnames[:3] == ["Read me", "Summary", "Wards"]
    ws = wb["Wards"]
    assert ws["A1"].value == "Wards" and ws.freeze_panes == "A4" and ws.auto_filter.ref == "A3:C5"
    assert ws["C4"].value == 0.5 and ws["C4"].number_format == "0.0%"
    assert wb["Business cases"].freeze_panes == "A3"  # the briefing's own set-up kept
    # laid out once: a long title spans the page on one short row, not measured twice
    title = wb["Read me"].row_dimensions[1].height
    assert title is not None and title < 40


def _formats(ws: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, str]:
    """Each table heading (a filled cell) -> the number format of the cell below it."""
    out = {}
    for row in ws.iter_rows():
        for c in row:
            if c.fill is not None and c.fill.fill_type == "solid" and c.value:
                out[str(c.value)] = ws.cell(row=c.row + 1, column=c.column).number_format
    return out


def test_every_added_table_reads_through_the_one_number_format_rule(tmp_path: Path) -> None:
    """Issue 19: one table writer and one number-format rule for every added sheet."""
    # SYNTHETIC: one table with a share, points, an index, minutes and a count
    table = pd.DataFrame(
        {
            "covered_share": [0.5],
            "gap_pp": [1.25],
            "concentration_index": [-0.1],
            "mean_minutes": [12.3],
            "residents": [1200],
            "next best (%)": [62.5],
        }
    )
    expected = {
        "covered share": "0.0%",
        "gap pp": "0.0",
        "concentration index": "+0.000;-0.000;0.000",
        "mean minutes": "0.0",
        "residents": "#,##0",
        "next best (%)": "0.0",
    }
    short = report.write_tables_xlsx(
        tmp_path / "s.xlsx", title="t", lines=[], tables={"T": ("A table", table)}
    )
    assert _formats(load_workbook(short)["T"]) == expected
    wb = openpyxl.Workbook()
    report.table_sheet(wb, "Added", title="Added", table=table)
    labelled = _formats(wb["Added"])  # the same rule under the readable headings
    assert labelled["Share within the walk"] == "0.0%" and labelled["Residents"] == "#,##0"
    assert labelled["Concentration index"] == expected["concentration index"]
    impact = pd.DataFrame(  # SYNTHETIC closure impact of one site
        {
            "category": ["Library"],
            "name": ["Synthetic Library"],
            "residents_losing": [340],
            "next_best_share_pct": [62.5],
            "extra_minutes_median": [4.25],
            "losing_imd_q1": [120],
        },
        index=pd.Index(["A"], name="asset_id"),
    )
    report.closure_impact_sheet(wb, impact)
    closure = _formats(wb["Closure impact"])
    assert closure["Residents losing access"] == "#,##0"
    assert closure["Share going there (%)"] == "0.0"
    assert closure["Extra minutes (median)"] == "0.0"
    assert closure["IMD quintile 1"] == "#,##0"


def test_only_the_headings_too_long_for_their_column_wrap(
    outline: rq.RequirementsOutline, tmp_path: Path
) -> None:
    # the headings share one style; wrapping one (laid out after the sheet is written)
    # must leave the others as they were
    wards = pd.DataFrame({"a": [1, 2]}, index=pd.Index(["x", "y"], name="ward"))
    sheet = functools.partial(report.table_sheet, name="Wards", title="Wards", table=wards)
    path = report.write_requirements_xlsx(outline, tmp_path / "a.xlsx", sheets=[sheet])
    ws = load_workbook(path)["North"]
    heads = {
        str(c.value): bool(c.alignment.wrap_text)
        for row in ws.iter_rows()
        for c in row
        if c.value and c.fill is not None and c.fill.fill_type == "solid"
    }
    assert heads["Residents within the walk"] and not heads["Category"]
