"""Outputs that read on paper and speak for their own area (issue 23).

Fast tests use SYNTHETIC tables; the ``integration`` tests run Rutland end to end
once (real bundle) and read every output it writes.
"""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from _printed import smallest_printed_pt
from conftest import RunOutputs
from nwm_geo import report
from nwm_geo import requirements as rq
from nwm_geo.areas import ProfileError, load_area

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"
RUTLAND_TOML = (ROOT / "src" / "nwm_geo" / "areas" / "rutland.toml").read_text(encoding="utf-8")


# -- the area profile: protected sites and per-site owners ----------------------------
def test_rutland_profile_protects_its_headquarters_and_names_town_halls_owners() -> None:
    area = load_area("rutland")
    assert area.is_protected("council-0001", "Catmose (Rutland County Council)")
    assert area.is_protected("x", "  catmose (rutland county council) ")
    assert not area.is_protected("x", "Catmose College")
    assert area.site_owner("osm-0030", "Victoria Hall") == "partner public sector"
    assert area.site_owner("osm-0029", "Uppingham Town Hall") == "partner public sector"
    assert area.site_owner("x", "Oakham Library") is None


def test_a_bad_protected_list_or_site_owner_is_reported(tmp_path: Path) -> None:
    text = RUTLAND_TOML.replace(
        'protected = ["Catmose (Rutland County Council)"]', "protected = [3]"
    ).replace('"Victoria Hall" = "partner public sector"', '"Victoria Hall" = "the town"')
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError) as err:
        load_area(path)
    msg = str(err.value)
    assert "key 'protected': must be a list of site names or asset ids" in msg
    assert "key 'site_owners.Victoria Hall': 'the town' is not an owner type" in msg


def test_rule_r4_never_lists_a_protected_site() -> None:
    # SYNTHETIC: two council sites with overlapping coverage, in no minimal cover
    redundant = pd.DataFrame(
        {
            "name": ["County Hall HQ", "Spare Office"],
            "category": ["Council", "Council"],
            "locality": ["North", "North"],
            "covered_population": [500.0, 300.0],
            "redundancy": ["overlapping", "overlapping"],
            "owner_type": ["council", "council"],
        },
        index=pd.Index(["c1", "c2"], name="asset_id"),
    )
    open_policy = rq.RequirementsPolicy()
    assert rq.council_overlap(redundant, {}, policy=open_policy)["r4"].tolist() == [True, True]
    policy = rq.RequirementsPolicy(protected=("county hall hq",))
    out = rq.council_overlap(redundant, {}, policy=policy)
    assert out["r4"].tolist() == [False, True]
    assert "protected" in out.loc["c1", "why"]


def test_the_whole_area_row_is_labelled_with_the_area_name() -> None:
    # SYNTHETIC: two postcodes, one beyond the walk
    points = pd.DataFrame(
        {"population": [10.0, 30.0], "ward_code": ["W1", "W2"]},
        index=pd.Index(["P1", "P2"], name="point_id"),
    )
    nearest = pd.DataFrame({"Library": [5.0, 40.0]}, index=points.index)
    out = rq.gap_population(
        nearest, points, assignment=pd.Series({"W1": "A", "W2": "B"}), by="borough",
        minutes=15, speed_m_per_min=80, area_name="Shire",
    )  # fmt: skip
    assert out.index.get_level_values(0).unique().tolist() == ["Shire"]
    assert out.loc[("Shire", "Library"), "gap_population"] == 30.0


# -- the workbook on paper -------------------------------------------------------------
def _synthetic_workbook(path: Path) -> Path:
    """SYNTHETIC: a long note, a table with long text, and a table of 30 columns."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Cases"
    ws.append(["A title"])
    ws.append(["A note that runs on and on " * 12])
    ws.append(["Case", "Action", "Evidence", "Residents"])
    for i in range(60):
        ws.append([i, "agree community use of this building " * 2, "word " * 80, 1234.5 * i])
    wide = wb.create_sheet("Wide")
    wide.append([f"Column heading number {j}" for j in range(30)])
    for i in range(10):
        wide.append([f"value {i}-{j} with some text" for j in range(30)])
    wb.save(path)
    return path


def test_every_sheet_prints_at_8_pt_or_more_with_rows_tall_enough(tmp_path: Path) -> None:
    path = _synthetic_workbook(tmp_path / "w.xlsx")
    before = smallest_printed_pt(path)
    assert min(before.values()) >= 8  # openpyxl's default: 100 %, no fit
    wb = load_workbook(path)
    for ws in wb.worksheets:  # the old set-up: one page wide
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    wb.save(path)
    assert smallest_printed_pt(path)["Wide"] < 8  # squeezed below 8 pt
    report.finish_workbook(path)
    after = smallest_printed_pt(path)
    assert min(after.values()) >= 8, after
    wb = load_workbook(path)
    for ws in wb.worksheets:
        assert int(ws.page_setup.paperSize) == 9 and ws.page_setup.orientation == "landscape"
        assert ws.page_margins.left * 25.4 >= 10 and ws.page_margins.right * 25.4 >= 10
        assert ws.print_title_rows
    cases = wb["Cases"]
    # the evidence (400 characters) wraps in a narrow column on a row tall enough
    width = cases.column_dimensions["C"].width
    assert width <= 60 and cases["C4"].alignment.wrap_text
    lines = len("word " * 80) / width
    assert cases.row_dimensions[4].height >= lines * 11 * 1.2
    # the long note spans the table and wraps
    assert any(str(r).startswith("A2:") for r in cases.merged_cells.ranges)
    # 30 columns cannot fit one page wide at 8 pt: they continue on the next page
    assert wb["Wide"].sheet_properties.pageSetUpPr.fitToPage is False


# -- Rutland end to end ----------------------------------------------------------------
@pytest.fixture
def rutland(rutland_run: RunOutputs) -> Path:
    """The project of the session's one ``nwm-geo run --area rutland`` (tests/conftest.py)."""
    return rutland_run.project


def _texts(path: Path) -> list[tuple[str, str]]:
    """Every text of an output: zip members of an xlsx, pdftotext of a PDF, else the file."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return [
                (f"{path.name}:{n}", z.read(n).decode("utf-8", "replace")) for n in z.namelist()
            ]
    if path.suffix == ".pdf":
        cmd = ["pdftotext", str(path), "-"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        return [(path.name, out.stdout)]
    return [(path.name, path.read_bytes().decode("utf-8", "replace"))]


@pytest.mark.integration
@pytest.mark.xdist_group("areas")
def test_no_rutland_output_says_luton(rutland: Path) -> None:
    files = [
        p
        for folder in ("reports", "data/processed", "scenarios")
        for p in (rutland / folder).rglob("*")
        if p.is_file()
    ]
    assert len(files) > 40 and any(p.suffix == ".pdf" for p in files)
    hits = [name for p in files for name, text in _texts(p) if re.search("luton", text, re.I)]
    assert hits == []
    summary = pd.read_csv(rutland / "reports" / "rutland" / "tables" / "summary.csv")
    assert "Rutland" in set(summary["locality"])
    index = (rutland / "reports" / "rutland" / "index.html").read_text(encoding="utf-8")
    assert "287" not in index  # Luton's published count is no target for Rutland
    assert (rutland / "reports" / "rutland" / "map_travel_times.html").is_file()


@pytest.mark.integration
@pytest.mark.xdist_group("areas")
def test_rutland_r4_spares_catmose_and_town_halls_are_not_the_county_councils(
    rutland: Path,
) -> None:
    cases = pd.read_csv(rutland / "reports" / "rutland" / "tables" / "business_case.csv")
    r4 = cases[cases["rule"] == "R4"]
    assert not r4["name"].str.contains("Catmose", na=False).any()
    halls = cases[cases["name"].isin(["Victoria Hall", "Uppingham Town Hall"])]
    assert len(halls) and (halls["owner_type"] != "council").all()
    reg = pd.read_csv(rutland / "data" / "processed" / "rutland" / "assets_register.csv")
    owner = reg.set_index("name")["owner_type"]
    assert owner["Victoria Hall"] == "partner public sector"
    assert owner["Catmose (Rutland County Council)"] == "council"


@pytest.mark.integration
@pytest.mark.xdist_group("areas")
def test_every_rutland_workbook_sheet_prints_at_8_pt_or_more(rutland: Path) -> None:
    path = rutland / "reports" / "rutland" / "asset_requirements.xlsx"
    printed = smallest_printed_pt(path)
    assert len(printed) > 8 and min(printed.values()) >= 8, printed
    wb = load_workbook(path)
    for ws in wb.worksheets:
        assert int(ws.page_setup.paperSize) == 9, ws.title
    # numbers stored as numbers: no cell holds a number as text
    as_text = [
        (ws.title, c.coordinate)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and re.fullmatch(r"'?[+-]?\d+(\.\d+)?", c.value)
    ]
    assert as_text == []
    # a share under a percent format is a fraction (0.395 reads 39.5 %, never 3,950 %)
    too_big = [
        (ws.title, c.coordinate)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, float) and "%" in c.number_format and abs(c.value) > 1.5
    ]
    assert too_big == []


def test_travel_time_bands_add_up_and_agree_with_the_walk() -> None:
    from nwm_geo import coverage

    # SYNTHETIC: four postcodes, one unreachable
    points = pd.DataFrame(
        {"population": [10.0, 20.0, 30.0, 40.0], "ward_code": ["W1", "W1", "W2", "W2"]},
        index=pd.Index(["P1", "P2", "P3", "P4"], name="point_id"),
    )
    nearest = pd.DataFrame({"Library": [4.0, 15.0, 29.0, float("nan")]}, index=points.index)
    bands = coverage.time_bands(nearest, points, total_label="All", speed_m_per_min=80)
    labels = coverage.band_labels()
    assert labels == ["<= 5 min", "<= 10 min", "<= 15 min", "<= 20 min", "<= 30 min", "> 30 min"]
    w1, w2 = bands.loc[("W1", "Library")], bands.loc[("W2", "Library")]
    assert (w1["<= 5 min"], w1["<= 15 min"]) == (10.0, 20.0)  # 15.0 is within 15
    assert (w2["<= 30 min"], w2["> 30 min"]) == (30.0, 40.0)  # unreachable: > 30
    assert (bands[labels].sum(axis=1) == bands["population"]).all()
    assert bands.loc[("All", "Library"), "population"] == 100.0


@pytest.mark.integration
@pytest.mark.xdist_group("areas")
def test_rutland_ward_profiles_wards_sheet_and_hub_options(rutland: Path) -> None:
    reports = rutland / "reports" / "rutland"
    pdf = reports / "ward_profiles.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    pages = text.split("\f")
    wards = pd.read_csv(rutland / "data" / "processed" / "rutland" / "wards.csv")
    assert len(wards) == 15
    for name, code in zip(wards["ward_name"], wards["ward_code"], strict=True):
        heads = [p for p in pages if p.lstrip().startswith(f"Rutland: {name} ward ({code})")]
        assert len(heads) == 1, name  # one page per ward (continued pages say so)
        page = heads[0]
        for part in ("Locality:", "Walking time", "> 30 min", "Group size", "Hub of"):
            assert part in page, (name, part)
    cov = pd.read_csv(reports / "tables" / "coverage_wards.csv")
    assert cov["ward_code"].nunique() == 15
    bands = cov.filter(like=" min")
    assert (bands.sum(axis=1) - cov["population"]).abs().max() < 1
    within = cov["<= 5 min"] + cov["<= 10 min"] + cov["<= 15 min"]
    assert (within - cov["covered_population"]).abs().max() < 1  # one rule of "within"
    wb = load_workbook(reports / "asset_requirements.xlsx")
    assert "Wards" in wb.sheetnames and "Hub options" in wb.sheetnames
    sheet = [str(c.value) for row in wb["Wards"].iter_rows() for c in row if c.value]
    assert all(n in sheet for n in wards["ward_name"])
    options = pd.read_csv(reports / "tables" / "hub_options.csv")
    hub_table = pd.read_csv(reports / "tables" / "hubs.csv").set_index("locality")
    best = options[options["rank"] == 1].set_index("locality")
    assert (best["hub_id"] == hub_table["hub_asset_id"].reindex(best.index)).all()
    assert len(options) >= len(hub_table) * 2


def test_one_business_case_per_building() -> None:
    # SYNTHETIC: the same church suggested for two bundles, a second record 15 m away
    # at the same postcode, and a hall 400 m away
    new_sites = pd.DataFrame(
        {
            "site_type": "existing building",
            "name": ["St Chad's Church", "St Chad's Church", "Orthodox Parish", "Village Hall"],
            "address": [
                "no street address in the open data; nearest postcode LU1 1AA",
                "no street address in the open data; nearest postcode LU1 1AA",
                "1 Church Street, LU1 1AA",
                "2 Hall Lane, LU1 2BB",
            ],
            "category": "Religious Institution",
            "owner_type": "community and faith",
            "ward_code": "W1",
            "locality": "North",
            "lon": [-0.4200, -0.4200, -0.4198, -0.4150],
            "lat": [51.8800, 51.8800, 51.8800, 51.8800],
            "gap_population_within": 100.0,
            "marginal_population": [300.0, 200.0, 250.0, 120.0],
            "measure": ["something to do", "someone to see", "something to do", "someone to see"],
            "source_id": ["a1", "a1", "a2", "a3"],
        },
        index=pd.Index(["asset:a1", "asset:a1", "asset:a2", "asset:a3"], name="site_id"),
    )
    empty_req = pd.DataFrame(columns=["category", "sole_population", "locality", "name"])
    empty_red = pd.DataFrame(columns=["category", "name", "locality", "covered_population"])
    cases = rq.business_case(empty_req, empty_red, new_sites, {}, minutes=15)
    r3 = cases[cases["rule"] == "R3"]
    assert len(r3) == 2  # the church (three records) and the hall
    church = r3[r3["name"] != "Village Hall"].iloc[0]
    assert church["name"] == "Orthodox Parish"  # the record with a street address
    assert church["measure"] == "something to do, someone to see"
    assert church["population"] == 300.0
    assert "St Chad's Church" in church["evidence"]


@pytest.mark.integration
@pytest.mark.xdist_group("areas")
def test_rutland_index_leads_with_hubs_and_balance_and_one_case_per_building(
    rutland: Path,
) -> None:
    reports = rutland / "reports" / "rutland"
    page = (reports / "index.html").read_text(encoding="utf-8")
    findings = page[page.index('id="findings"') :]
    first = findings[findings.index("<li>") :]
    assert first.startswith("<li>Community hubs, one per locality")
    assert "Balance: the localities are within" in findings
    assert "worst deviation" in findings
    assert "Walking is the wrong lens for hubs in Rutland" in findings  # 59-134 min walks
    assert (rutland / "data" / "processed" / "rutland" / "hub_options.csv").is_file()
    # no two suggested sites (R3 cases) within 50 m of each other
    cases = pd.read_csv(reports / "tables" / "business_case.csv")
    sites = pd.read_csv(reports / "tables" / "new_sites.csv").drop_duplicates("site_id")
    xy = sites.set_index("site_id").reindex(cases.loc[cases["rule"] == "R3", "id"])
    assert len(xy) > 3 and xy["lon"].notna().all()
    lat0 = np.radians(xy["lat"].mean())
    x = xy["lon"].to_numpy() * 111_320 * np.cos(lat0)
    y = xy["lat"].to_numpy() * 110_540
    d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    np.fill_diagonal(d, np.inf)
    assert d.min() > 50


def _pdf_flat(pdf: Path) -> str:
    raw = subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return " ".join(raw.split())


def test_the_pack_shows_every_business_case_in_full(
    synthetic_area: tuple[Path, Path], tmp_path: Path
) -> None:
    from nwm_geo import pipeline

    profile, data_dir = synthetic_area  # SYNTHETIC council (tests/conftest.py)
    study = pipeline.Study(area=profile, data_dir=data_dir)
    pdf = pipeline.write_pack(study, tmp_path / "pack.pdf")
    flat = _pdf_flat(pdf)
    cases = study.outline.business_case
    assert len(cases) > 5
    for _, case in cases.iterrows():
        for column in ("action", "evidence"):
            text = " ".join(str(case[column]).split())
            assert text in flat, (column, text)
    assert "more in the workbook" not in flat
    assert "Balance: the localities are within" in flat  # the balance, in words
    assert "Key" in flat  # the map's key, with each category's colour


@pytest.mark.integration
@pytest.mark.xdist_group("areas")
def test_rutland_pack_shows_every_business_case_in_full(rutland: Path) -> None:
    reports = rutland / "reports" / "rutland"
    flat = _pdf_flat(reports / "locality_pack.pdf")
    cases = pd.read_csv(reports / "tables" / "business_case.csv")
    missing = [
        a for a in cases["action"].tolist() + cases["evidence"].tolist()
        if " ".join(str(a).split()) not in flat
    ]  # fmt: skip
    assert missing == []


def test_maps_have_a_scale_bar_labels_apart_and_hatched_localities() -> None:
    import geopandas as gpd
    from shapely.geometry import box

    from nwm_geo import maps

    # SYNTHETIC: a row of narrow wards whose labels would overlap where they are
    small = [box(500000 + 200 * i, 200000, 500200 + 200 * i, 200200) for i in range(7)]
    wards = gpd.GeoDataFrame(
        {"ward_name": [f"Long Ward Name {i}" for i in range(8)]},
        geometry=[*small, box(500000, 200200, 510000, 210000)],
        index=pd.Index([f"W{i}" for i in range(8)], name="ward_code"),
        crs="EPSG:27700",
    )
    assignment = pd.Series(["A"] * 4 + ["B"] * 4, index=wards.index)
    fig = maps.plot_localities(wards, assignment, page=maps.MapPage(title=""))
    ax = fig.axes[0]
    assert any(t.get_gid() == "nwm-scale-bar" for t in ax.texts)
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts if t.get_gid() == "nwm-ward-label"]
    assert len(boxes) == 8
    overlaps = [(i, j) for i in range(8) for j in range(i) if boxes[i].overlaps(boxes[j])]
    assert overlaps == []
    hatches = {h.get_hatch() for h in ax.get_legend().legend_handles}
    assert len(hatches) == 2  # distinct in greyscale, not by colour alone


def test_the_travel_time_map_colours_each_postcode_by_its_band() -> None:
    from nwm_geo import maps

    # SYNTHETIC: three postcodes at 3, 12 and 45 minutes from the nearest library
    points = pd.DataFrame(
        {"population": [10, 20, 30], "lon": [-0.41, -0.42, -0.43], "lat": [51.88, 51.89, 51.9]},
        index=pd.Index(["P1", "P2", "P3"], name="point_id"),
    )
    nearest = pd.DataFrame({"Library": [3.0, 12.0, 45.0]}, index=points.index)
    html = maps.map_html(maps.travel_time_map(points, nearest, measures=["Library"]))
    assert "nwm-band-0" in html and "nwm-band-2" in html and "nwm-band-5" in html
    assert "nwm-band-1" not in html
    assert "&lt;= 5 min walk" in html or "<= 5 min walk" in html
