"""The ``nwm-geo`` command: bad input, no partial outputs, and the whole run on Luton."""

from __future__ import annotations

import os
import re
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest

from _printed import smallest_printed_pt
from conftest import RunOutputs
from nwm_geo import NwmGeoError, pipeline, settings
from nwm_geo.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder whose data/raw is the real bundle (imported by the CLI)."""
    monkeypatch.setenv("NWM_GEO_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(ROOT / "data" / "raw"))
    return tmp_path


def _outputs(root: Path) -> list[Path]:
    return [
        p
        for folder in (root / "data" / "processed", root / "reports")
        if folder.exists()
        for p in folder.rglob("*")
        if p.is_file()
    ]


@pytest.mark.integration
def test_malformed_register_exits_2_naming_file_row_column_reason(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = project / "council_register.csv"
    bad.write_text(
        "asset_id,name,category,lon,lat\n"
        "A1,Good Hall,Community Centre,-0.42,51.88\n"
        "A2,Bad Coordinates,Library,west,51.88\n"
        "A3,Unknown Kind,Bowling Alley,-0.41,51.89\n",
        encoding="utf-8",
    )
    code = main(["run", "--quiet", "--register", str(bad)])
    err = capsys.readouterr().err
    assert code == 2
    assert "council_register.csv" in err
    # rows as Excel shows the file (header = row 1)
    assert re.search(r"row 3, column 'lon'", err), err
    assert re.search(r"row 4, column 'category'", err), err
    assert "Nothing was written to data/processed or reports." in err
    assert _outputs(project) == []


@pytest.mark.integration
def test_a_failing_stage_leaves_no_partial_outputs(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(study: pipeline.Study, out: Path) -> list[Path]:
        raise NwmGeoError("the localities stage failed on purpose")

    monkeypatch.setitem(pipeline.STAGES, "localities", (boom, "processed"))
    code = main(["run", "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "failed on purpose" in err
    assert "(stage: localities)" in err
    # the register stage ran before the failure, but nothing of it was moved into place
    assert _outputs(project) == []
    assert not list(project.glob(".staging-*"))


@pytest.mark.integration
@pytest.mark.xdist_group("areas")
def test_run_writes_every_output_on_luton(luton_run: RunOutputs) -> None:
    # the session's one `nwm-geo run --quiet` of Luton into an empty project, whose
    # data/raw the CLI imported from the bundle (tests/conftest.py); it exited 0
    project, printed = luton_run.project, luton_run.printed
    assert "network: approximate (postcode proximity), not OSM" in printed
    assert "somewhere to go" in printed and "all three bundles" in printed
    assert "deprivation gap pp" in printed and "age gap pp" in printed
    assert "65+: 50.8 m/min (Asher et al." in printed

    processed, reports = project / "data" / "processed", project / "reports"
    for name in pipeline.PROCESSED_TABLES.values():
        assert (processed / name).is_file(), name
    for name in [
        "asset_requirements.xlsx",
        "index.html",
        "map_localities.html",
        "map_assets.html",
        "map_gaps.html",
        "map_equity.html",
        "map_walksheds.html",
        "map_requirements.html",
        "locality_pack.pdf",
        "localities.png",
    ]:
        assert (reports / name).is_file(), name

    points = pd.read_csv(processed / "coverage_points.csv")
    assert points["population"].sum() == 225_239
    assert set(points["network"]) == {"network: approximate (postcode proximity), not OSM"}
    assert points["locality"].notna().all()
    minute_cols = [c for c in settings.CATEGORIES if c in points.columns]
    assert len(minute_cols) == 14
    values = points[minute_cols]
    assert not ((values < 0) | (values > 10_000)).any().any()  # NaN, never a sentinel
    assert values["Advice Services"].isna().all()  # no site in the open register

    for name in ["coverage_wards", "coverage_lsoas", "coverage_localities", "asset_criticality"]:
        table = pd.read_csv(processed / f"{name}.csv")
        assert set(table["network"]) == {"network: approximate (postcode proximity), not OSM"}
    wards = pd.read_csv(processed / "coverage_wards.csv")
    assert {"ward_code", "category", "population", "covered_population", "share"} <= set(
        wards.columns
    )
    assert wards["share"].between(0, 1).all()

    summary = pd.read_csv(processed / "locality_summary.csv")
    assert len(summary) == 5
    assert set(summary["status"]) == {"proven optimal"}

    _check_workbook(reports / "asset_requirements.xlsx", processed)
    _check_business_cases_and_sites(reports / "tables")

    hubs = pd.read_csv(processed / "hubs.csv", keep_default_na=False)
    assert list(hubs.columns[:9]) == [
        "locality", "hub_asset_id", "hub_name", "residents", "residents_within",
        "share_pct", "mean_minutes", "runner_up_asset_id", "status",
    ]  # fmt: skip
    assert sorted(hubs["locality"]) == sorted(summary["locality"])
    assert hubs["residents"].sum() == 225_239
    comparison = pd.read_csv(processed / "hubs_comparison.csv")
    totals = comparison[comparison["locality"] == "TOTAL"].set_index("scenario")
    assert len(totals) == 3
    joint = totals.loc["joint optimum: localities and hubs together"]
    assert joint["status"] == "proven optimal"
    assert joint["residents_within"] >= hubs["residents_within"].sum()
    named = pd.read_csv(processed / "hub_named_sites.csv")
    assert "Lewsey Community Centre" in set(named.loc[~named["in_register"], "named_hub"])
    for name in ("map_localities.html", "map_hubs_joint.html"):
        html = (reports / name).read_text(encoding="utf-8")
        assert "nwm-hub" in html and "nwm-catchment" in html, name

    index = (reports / "index.html").read_text(encoding="utf-8")
    # findings, proof and caveats come before the links
    assert index.index('id="findings"') < index.index('id="proof"') < index.index("<h2>Maps</h2>")
    links = re.findall(r'href="([^"#]+)"', index)
    assert len(links) >= 15
    for link in links:
        if "://" not in link:
            # every link works when only reports/ is shared
            target = (reports / link).resolve()
            assert target.is_file() and target.is_relative_to(reports.resolve()), link
    _check_no_personal_data_or_hashes(project)
    for path in _outputs(project):
        if path.suffix == ".html":
            assert path.stat().st_size < 5 * 1024 * 1024
    for folder in (processed, reports):
        note = (folder / "SOURCES.txt").read_text(encoding="utf-8")
        assert "OGL v3" in note and "ODbL" in note and "approximate" in note
    for name in [
        "map_localities.html",
        "map_assets.html",
        "map_gaps.html",
        "map_walksheds.html",
        "map_requirements.html",
    ]:
        assert "approximate (postcode proximity)" in (reports / name).read_text(encoding="utf-8")


def _check_workbook(path: Path, processed: Path) -> None:
    """Every reading sheet: frozen, filtered, A4 at 8 pt or more, < 300 rows; wards listed."""
    book = openpyxl.load_workbook(path)
    localities = pd.read_csv(processed / "localities.csv")
    names = sorted(set(localities["locality"]))
    sheets = book.sheetnames
    assert sheets[:2] == ["Read me", "Summary"]
    reading = [s for s in sheets if not s.startswith("Data - ")]
    # the data sheets come last; the equity, closure-impact and hubs stages add theirs
    assert sheets[len(reading) :] == [s for s in sheets if s.startswith("Data - ")]
    assert set(reading) == {
        "Read me", "Summary", "Equity", *names, "Business cases", "Method and proof",
        "Closure impact", "Hubs", "Wards", "Hub options",
    }  # fmt: skip
    assert [s for s in reading if s in names] == names
    printed = smallest_printed_pt(path)  # A4 landscape, text at 8 pt or more
    assert min(printed.values()) >= 8, printed
    for ws in book.worksheets:
        assert ws.freeze_panes and ws.auto_filter.ref, ws.title
        assert int(ws.page_setup.paperSize) == 9 and ws.page_setup.orientation == "landscape"
        assert ws.print_title_rows, ws.title
        if not ws.title.startswith("Data - "):
            assert ws.max_row < 300, (ws.title, ws.max_row)
    for loc in names:
        cells = [str(v) for row in book[loc].iter_rows(values_only=True) for v in row if v]
        text = "\n".join(cells)
        for ward in localities.loc[localities["locality"] == loc, "ward_name"]:
            assert ward in text, (loc, ward)


def _check_business_cases_and_sites(tables: Path) -> None:
    """No disposal of a school, GP or place of worship; every site a real suggestion."""
    cases = pd.read_csv(tables / "business_case.csv")
    protected = cases["category"].isin(
        ["Education", "GP / Medical Centre", "Religious Institution"]
    )
    assert len(cases[protected]) > 0
    assert not cases.loc[protected, "rule"].eq("R4").any()
    assert not cases["action"][protected].str.contains("rationalis|dispos|alternative use").any()
    assert set(cases.loc[cases["rule"] == "R4", "owner_type"]) <= {"council"}
    sites = pd.read_csv(tables / "new_sites.csv")
    assert len(sites) > 0
    assert (sites["marginal_population"] >= settings.new_site_min_residents).all()
    assert sites["name"].notna().all() and sites["address"].notna().all()
    fallback = sites["site_type"] != "existing building"
    assert sites.loc[fallback, "address"].str.contains("postcode fallback").all()
    combined = pd.read_csv(tables / "combined_sites.csv")
    assert combined["name"].notna().all() and len(combined) <= 5


def _provenance_hashes() -> set[str]:
    """The commit hashes the bundle's provenance and the area profiles name (short form)."""
    texts = [(ROOT / "data" / "raw" / "SOURCES.md").read_text(encoding="utf-8")]
    texts += [p.read_text(encoding="utf-8") for p in (ROOT / "src/nwm_geo/areas").glob("*.toml")]
    return {h[:7] for t in texts for h in re.findall(r"\b[0-9a-f]{40}\b", t)}


def _check_no_personal_data_or_hashes(project: Path) -> None:
    """No phone number, e-mail address or commit hash in any written output."""
    # a UK phone number such as "01582 349889", not digits inside a coordinate
    phone = re.compile(r"(?<![\w.\-])0\d{4} ?\d{6}(?![\d.])")
    email = re.compile(r"[\w.+\-]+@[\w\-]+\.[a-z]{2,}")
    hashes = _provenance_hashes()
    assert hashes
    for path in _outputs(project):
        if path.suffix == ".xlsx":
            book = openpyxl.load_workbook(path, read_only=True)
            rows = (row for ws in book.worksheets for row in ws.iter_rows(values_only=True))
            text = "\n".join(str(v) for row in rows for v in row if v is not None)
        elif path.suffix in {".csv", ".html", ".txt", ".geojson", ".json"}:
            text = path.read_text(encoding="utf-8")
        else:
            continue
        assert not phone.search(text), f"phone-like number in {path.name}"
        if path.suffix != ".html":  # Leaflet's inlined code and CSS hold "@" rules
            assert not email.search(text), f"e-mail address in {path.name}"
        found = [h for h in hashes if h in text]
        assert not found, f"commit hash {found} in {path.name}"


def test_cli_options_a_spreadsheet_user_needs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    synthetic_wards: gpd.GeoDataFrame,
    synthetic_postcodes: gpd.GeoDataFrame,
) -> None:
    """--project-dir after the command, --alternatives 0, a folder as the register and a
    decimal comma each get one plain message and exit 2 (synthetic inputs, no data).
    """
    # recorded, so the value the CLI sets below is undone after the test
    monkeypatch.setenv("NWM_GEO_PROJECT_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(tmp_path / "no-bundle"))
    project = tmp_path / "p"
    code = main(["import-data", "--project-dir", str(project)])
    err = capsys.readouterr().err
    assert code == 2 and "data bundle not found" in err  # accepted after the command
    # the folder given holds for that command only: the environment is left as it was
    assert os.environ["NWM_GEO_PROJECT_DIR"] == str(tmp_path / "elsewhere")
    assert main(["run", "--quiet", "--alternatives", "0"]) == 2
    assert "--alternatives must be 1 or more" in capsys.readouterr().err
    folder = tmp_path / "register_folder"
    folder.mkdir()
    from nwm_geo.data import read_table

    _, problems = read_table(folder)
    assert "is a folder, not a register file" in str(problems[0])
    sheet = tmp_path / "decimal_comma.csv"
    sheet.write_text("name;category;lon;lat\nA Hall;Library;-0,42;51,88\n", encoding="utf-8")
    from nwm_geo.data import read_register

    with pytest.raises(NwmGeoError, match=r"row 2, column 'lon'.*decimal comma.*-0\.42"):
        read_register(sheet, wards=synthetic_wards, postcodes=synthetic_postcodes)


def test_a_write_error_is_one_line_not_a_traceback(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def disk_full(study: pipeline.Study, out: Path) -> list[Path]:
        raise OSError(28, "No space left on device", str(out / "wards.csv"))

    monkeypatch.setitem(pipeline.STAGES, "register", (disk_full, "processed"))
    code = main(["register", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1  # a failure while running, not bad input (README: exit status)
    assert "No space left on device" in err and "wards.csv" in err
    assert "Traceback" not in err
    assert _outputs(project) == []


def test_bad_hub_options_exit_2_before_any_data_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NWM_GEO_PROJECT_DIR", str(tmp_path / "p"))
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(tmp_path / "no-bundle"))
    assert main(["hubs", "--quiet", "--hub-site", "Town-centre hub LU1 2BQ"]) == 2
    assert "--hub-site expects NAME=POSTCODE" in capsys.readouterr().err
    assert main(["hubs", "--quiet", "--hub-cap", "0"]) == 2
    assert "--hub-cap must be a fraction" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()
