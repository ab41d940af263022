"""Tests for the register reader, its validation, the summaries and the writer (synthetic)."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import Point

from nwm_geo import DataValidationError
from nwm_geo.data.assets import (
    REGISTER_COLUMNS,
    dedupe_sites,
    is_personal_column,
    name_similarity,
    read_register,
    reconciliation,
    ward_table,
    write_register,
)
from nwm_geo.settings import CATEGORIES


def _read(
    path: Path, wards: gpd.GeoDataFrame, postcodes: gpd.GeoDataFrame, **kw: object
) -> gpd.GeoDataFrame:
    return read_register(path, wards=wards, postcodes=postcodes, **kw)  # type: ignore[arg-type]


#: A UK phone number (0 + 4-digit code + 6 digits) or an e-mail address.
PHONE_OR_EMAIL = r"(?<![\w.\-])0\d{4} ?\d{6}(?![\d.])|[\w.+\-]+@[\w\-]+\.\w"


def _cells_matching(frame: pd.DataFrame, pattern: str) -> list[tuple[object, str, str]]:
    """(row, column, text) of every cell of ``frame`` (geometry aside) matching ``pattern``."""
    text = pd.DataFrame(frame.drop(columns="geometry", errors="ignore")).astype(str)
    return [
        (i, str(c), v) for c in text.columns for i, v in text[c].items() if re.search(pattern, v)
    ]


def _problems(
    exc: pytest.ExceptionInfo[DataValidationError],
) -> list[tuple[str, int | None, str | None]]:
    return [(p.file, p.row, p.column) for p in exc.value.problems]


def test_good_register(register_dir: Path, synthetic_wards, synthetic_postcodes) -> None:
    reg = _read(register_dir / "good_register.csv", synthetic_wards, synthetic_postcodes)
    assert list(reg.index) == ["S1", "S2", "S3"]
    assert reg.index.name == "asset_id"
    assert list(reg.columns[: len(REGISTER_COLUMNS) - 1]) == list(REGISTER_COLUMNS[1:])
    assert reg.crs == "EPSG:27700"
    assert list(reg["category"]) == ["Community Centre", "Education", "GP / Medical Centre"]
    assert list(reg["postcode"]) == ["LU1 1AA", "", "LU2 2BB"]
    # S1 from lon/lat, S2 from easting/northing, S3 geocoded from its postcode
    assert reg.loc["S2", ["easting", "northing"]].tolist() == [510500.0, 222500.0]
    assert reg.loc["S3", ["easting", "northing"]].tolist() == [511000.0, 223000.0]
    assert reg.loc["S3", "geocode"].startswith("postcode centroid")
    assert reg.loc["S1", "lon"] == pytest.approx(-0.43)
    assert list(reg["ward_code"]) == ["W00000001", "W00000002", "W00000002"]
    assert list(reg["ward_name"]) == ["Synthetic West", "Synthetic East", "Synthetic East"]
    assert reg["inside_area"].all()
    assert list(reg["source"]) == ["good_register.csv"] * 3
    assert list(reg["source_record_id"]) == ["row 1", "row 2", "row 3"]
    # personal data never enters the register: the file's Phone, Email and Contact Name
    # columns are dropped, so no output cell holds a phone number, an e-mail or a contact
    assert _cells_matching(reg, PHONE_OR_EMAIL) == []
    assert _cells_matching(reg.assign(notes="tel 01582 000001"), PHONE_OR_EMAIL)  # the scan bites
    assert _cells_matching(reg, r"example\.invalid|01582|\. Person") == []


def test_outside_borough_kept(tmp_path: Path, synthetic_wards, synthetic_postcodes) -> None:
    path = tmp_path / "out.csv"
    path.write_text("name,category,postcode\nFar Synthetic Hall,Community Centre,LU3 3DD\n")
    reg = _read(path, synthetic_wards, synthetic_postcodes)
    assert len(reg) == 1
    assert not reg["inside_area"].iloc[0]
    assert reg["ward_code"].iloc[0] == ""
    assert reg.index[0] == "out-0001"  # generated: slug of the file + row


def test_column_mapping(tmp_path: Path, synthetic_wards, synthetic_postcodes) -> None:
    path = tmp_path / "council.csv"
    path.write_text("Ref,Site,Kind,X,Y\nC-9,Synthetic Centre,Leisure Centre,508000,221000\n")
    mapping = {
        "Ref": "asset_id",
        "Site": "name",
        "Kind": "category",
        "X": "easting",
        "Y": "northing",
    }
    reg = _read(path, synthetic_wards, synthetic_postcodes, columns=mapping)
    assert reg.index.tolist() == ["C-9"]
    assert reg.loc["C-9", "category"] == "Sports and Leisure"
    assert reg.loc["C-9", "ward_code"] == "W00000001"


def test_column_mapping_errors(tmp_path: Path, synthetic_wards, synthetic_postcodes) -> None:
    path = tmp_path / "council.csv"
    path.write_text("Label,Kind,X,Y\nA,Library,508000,221000\n")
    with pytest.raises(DataValidationError) as exc:
        _read(
            path, synthetic_wards, synthetic_postcodes, columns={"Nope": "name", "Kind": "colour"}
        )
    text = str(exc.value)
    assert "council.csv, column 'Nope'" in text and "not in the file" in text
    assert "unknown register column" in text
    assert "missing required column 'name'" in text
    assert "missing location columns" in text


@pytest.mark.parametrize("fmt", ["xlsx", "geojson", "gpkg"])
def test_other_formats(tmp_path: Path, fmt: str, synthetic_wards, synthetic_postcodes) -> None:
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.append(["Asset Name", "Category", "Latitude", "Longitude", "Telephone"])
        ws.append(["Synthetic Church", "Church", 51.88, -0.43, "01582 000000"])
        path = tmp_path / "reg.xlsx"
        wb.save(path)
    else:
        crs = "EPSG:4326" if fmt == "geojson" else "EPSG:27700"
        e, n = Transformer.from_crs(4326, 27700, always_xy=True).transform(-0.43, 51.88)
        pt = Point(-0.43, 51.88) if fmt == "geojson" else Point(e, n)
        gdf = gpd.GeoDataFrame(
            {"name": ["Synthetic Church"], "category": ["Church"], "email": ["x@example.invalid"]},
            geometry=[pt],
            crs=crs,
        )
        path = tmp_path / f"reg.{fmt}"
        gdf.to_file(path, driver="GeoJSON" if fmt == "geojson" else "GPKG")
    reg = _read(path, synthetic_wards, synthetic_postcodes)
    assert len(reg) == 1
    assert reg["category"].iloc[0] == "Religious Institution"
    assert reg["ward_code"].iloc[0] == "W00000001"
    assert reg["lon"].iloc[0] == pytest.approx(-0.43, abs=1e-4)
    assert reg["lat"].iloc[0] == pytest.approx(51.88, abs=1e-4)
    assert "email" not in reg.columns and "Telephone" not in reg.columns


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_csv_encodings(tmp_path: Path, encoding: str, synthetic_wards, synthetic_postcodes) -> None:
    path = tmp_path / "reg.csv"
    path.write_bytes(
        "name,category,postcode\nCafé Synthétique,Community Centre,LU1 1AA\n".encode(encoding)
    )
    reg = _read(path, synthetic_wards, synthetic_postcodes)
    assert reg["name"].iloc[0] == "Café Synthétique"


def test_five_row_register_reports_every_mistake(
    register_dir: Path, synthetic_wards, synthetic_postcodes
) -> None:
    with pytest.raises(DataValidationError) as exc:
        _read(register_dir / "five_row_register.csv", synthetic_wards, synthetic_postcodes)
    f = "five_row_register.csv"
    by_row = {p.row: p for p in exc.value.problems if p.row is not None and p.row != 5}
    assert len(exc.value.problems) == 6
    assert "swapped" in by_row[1].reason and by_row[1].column == "lon/lat"
    assert "British National Grid" in by_row[2].reason and "easting/northing" in by_row[2].reason
    assert "unknown category" in by_row[3].reason and by_row[3].value == "Bowling alley"
    assert (
        "not a number" in by_row[4].reason
        and by_row[4].column == "lon"
        and by_row[4].value == "abc"
    )
    row5 = sorted((p.column or "", p.reason) for p in exc.value.problems if p.row == 5)
    assert row5[0][0] == "asset_id" and "duplicate asset id (first on row 2)" in row5[0][1]
    assert row5[1][0] == "postcode" and "unknown postcode" in row5[1][1]
    text = str(exc.value)
    assert text.startswith("6 problems found")
    # messages number rows as Excel shows the file: the header is row 1
    assert f"{f}, row 2, column 'lon/lat': longitude and latitude are swapped" in text
    assert f"{f}, row 5, column 'lon': coordinate is not a number (value: 'abc')" in text
    assert f"{f}, row 6, column 'postcode': unknown postcode" in text
    assert "fix:" in text


def test_blank_row_keeps_row_numbers_and_ids(
    tmp_path: Path, synthetic_wards, synthetic_postcodes
) -> None:
    """After a blank line, problems, generated ids and source_record_id name the file row."""
    path = tmp_path / "gap.csv"
    path.write_text("name,category,postcode\nA,Library,LU1 1AA\n\nB,Disco,LU1 1AA\n")
    with pytest.raises(DataValidationError) as exc:
        _read(path, synthetic_wards, synthetic_postcodes)
    assert _problems(exc) == [("gap.csv", 3, "category")]
    path.write_text("name,category,postcode\nA,Library,LU1 1AA\n\nB,Library,LU1 1AA\n")
    reg = _read(path, synthetic_wards, synthetic_postcodes)
    assert reg.index.tolist() == ["gap-0001", "gap-0003"]
    assert reg["source_record_id"].tolist() == ["row 1", "row 3"]


def test_point_in_another_country(tmp_path: Path, synthetic_wards, synthetic_postcodes) -> None:
    path = tmp_path / "paris.csv"
    path.write_text("name,category,lon,lat\nSynthetic Paris Hall,Community Centre,2.3522,48.8566\n")
    with pytest.raises(DataValidationError) as exc:
        _read(path, synthetic_wards, synthetic_postcodes)
    assert _problems(exc) == [("paris.csv", 1, "lon/lat")]
    assert "outside Great Britain" in exc.value.problems[0].reason


def test_lonlat_in_easting_columns(tmp_path: Path, synthetic_wards, synthetic_postcodes) -> None:
    path = tmp_path / "en.csv"
    path.write_text("name,category,easting,northing\nX,Library,-0.43,51.88\nY,Library,x1,221000\n")
    with pytest.raises(DataValidationError) as exc:
        _read(path, synthetic_wards, synthetic_postcodes)
    assert _problems(exc) == [("en.csv", 1, "easting/northing"), ("en.csv", 2, "easting")]
    assert "look like longitude/latitude" in exc.value.problems[0].reason


def test_empty_file(tmp_path: Path, synthetic_wards, synthetic_postcodes) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataValidationError, match=r"empty\.csv: the file is empty"):
        _read(path, synthetic_wards, synthetic_postcodes)


def test_missing_columns(tmp_path: Path, synthetic_wards, synthetic_postcodes) -> None:
    path = tmp_path / "cols.csv"
    path.write_text("title_of_thing,lon\nX,-0.43\n")
    with pytest.raises(DataValidationError) as exc:
        _read(path, synthetic_wards, synthetic_postcodes)
    cols = {p.column for p in exc.value.problems}
    assert {"name", "category", "lat"} <= cols
    assert all(p.file == "cols.csv" and p.row is None for p in exc.value.problems)


def test_undecodable_text_and_other_problems_together(
    tmp_path: Path, synthetic_wards, synthetic_postcodes
) -> None:
    path = tmp_path / "bytes.csv"
    path.write_bytes(
        b"name,category,postcode\n"
        b"Bad\x81Name,Library,LU1 1AA\n"
        b"Good Name,Disco,LU1 1AA\n"
        b"Third,Library,LU1 9ZZ\n"
    )
    with pytest.raises(DataValidationError) as exc:
        _read(path, synthetic_wards, synthetic_postcodes)
    assert _problems(exc) == [
        ("bytes.csv", 1, "name"),
        ("bytes.csv", 2, "category"),
        ("bytes.csv", 3, "postcode"),
    ]
    assert "cannot be decoded" in exc.value.problems[0].reason


def test_invalid_postcode_and_missing_values(
    tmp_path: Path, synthetic_wards, synthetic_postcodes
) -> None:
    path = tmp_path / "pc.csv"
    path.write_text("asset_id,name,category,postcode\n,X,Library,NOT A PC\nB,,,\n")
    with pytest.raises(DataValidationError) as exc:
        _read(path, synthetic_wards, synthetic_postcodes)
    reasons = {(p.row, p.column): p.reason for p in exc.value.problems}
    assert reasons[(1, "asset_id")] == "missing asset id"
    assert reasons[(1, "postcode")] == "not a valid UK postcode"
    assert reasons[(2, "name")] == "missing name"
    assert reasons[(2, "category")] == "missing category"
    assert "no location" in reasons[(2, "postcode")]


def test_name_similarity() -> None:
    assert name_similarity("Luton Crown Court", "Luton Crown Court") == 1.0
    assert name_similarity("Luton Police Station", "Luton Police Headquarters, Buxton Road") >= 0.5
    assert name_similarity("Luton Islamic Centre", "Islamic Centre, 116 Bury Park Road") >= 0.5
    assert name_similarity("St Paul's Church", "Methodist Church") < 0.5
    assert name_similarity("Synthetic Library", "Unrelated Hall") < 0.5


@pytest.mark.parametrize("fhrs_rank", [11, 1])
def test_dedupe_never_merges_two_records_of_one_file(fhrs_rank: int) -> None:
    """Two mosques of one file, both linked to one FHRS record (synthetic): a chain of
    links through the other file must not merge the two mosques, whichever file wins.
    """
    reg = gpd.GeoDataFrame(
        {
            "name": ["Synthetic Masjid Ghausia", "Synthetic Masjid Noor", "Synthetic Masjid"],
            "category": ["Religious Institution"] * 3,
            "postcode": ["LU1 1AA"] * 3,
            "easting": [0.0, 60.0, 30.0],
            "northing": [0.0, 0.0, 0.0],
            "_file": ["mosques.csv", "mosques.csv", "fhrs.csv"],
            "_rank": [10, 10, fhrs_rank],
            "geocode": ["source", "source", "postcode centroid"],
            "subtype": ["mosque"] * 3,
        },
        geometry=[Point(0, 0), Point(60, 0), Point(30, 0)],
        index=pd.Index(["mosque-0001", "mosque-0002", "fhrs-0001"], name="asset_id"),
        crs="EPSG:27700",
    )
    out, log = dedupe_sites(reg)
    assert len(log) == 1
    assert (log["kept_source"] != log["dropped_source"]).all()
    assert set(out.index) & {"mosque-0001", "mosque-0002"}  # at least one mosque kept
    assert len(out) == 2 and set(log["dropped_asset_id"]).isdisjoint(out.index)
    if fhrs_rank == 1:  # the FHRS record is the better source: it absorbs one mosque
        assert out.index.tolist() == ["mosque-0002", "fhrs-0001"]
    else:
        assert out.index.tolist() == ["mosque-0001", "mosque-0002"]


def test_personal_columns() -> None:
    for col in (
        "phone",
        "Telephone",
        "Tel",
        "tel_no",
        "email",
        "E-mail",
        "Contact Name",
        "contact",
        "First Name",
        "Last_Name",
        "Person Name",
        "Named Person",
        "Owner-Name",
        "Date of Birth",
        "DOB",
        "Main_Tel",
        "TelNo",
        "Mob",
        "Landline",
        "Contact Phone",
        "Key holder",
    ):
        assert is_personal_column(col), col
    for col in (
        *REGISTER_COLUMNS,
        "geocode",
        "notes",
        "Library name",
        "station_name",
        "Asset Name",
        "Site Name",
        "hotel",
        "Telford Hall",
        "Mobility",
    ):
        assert not is_personal_column(col), col


def test_mapping_a_personal_column_is_a_problem(
    tmp_path: Path, synthetic_wards, synthetic_postcodes
) -> None:
    path = tmp_path / "pers.csv"
    path.write_text(
        "name,category,postcode,Contact Phone\nA,Library,LU1 1AA,00000 000000 (synthetic)\n"
    )
    with pytest.raises(DataValidationError) as exc:
        _read(path, synthetic_wards, synthetic_postcodes, columns={"Contact Phone": "notes"})
    assert _problems(exc) == [("pers.csv", None, "Contact Phone")]
    assert "personal data" in exc.value.problems[0].reason


def _synthetic_register() -> gpd.GeoDataFrame:
    data = {
        "asset_id": ["a", "b", "c", "d"],
        "category": ["Library", "Library", "Education", "Fire and rescue"],
        "ward_code": ["W00000001", "W00000002", "W00000002", ""],
        "inside_area": [True, True, True, False],
    }
    return gpd.GeoDataFrame(data, geometry=[Point(0, 0)] * 4, crs="EPSG:27700").set_index(
        "asset_id"
    )


def test_reconciliation() -> None:
    table = reconciliation(_synthetic_register())
    assert list(table.index) == [*CATEGORIES, "TOTAL"]
    assert list(table.columns) == ["council_count", "register_count", "gap"]
    assert table.loc["Library", "register_count"] == 2
    assert table.loc["Fire and rescue", "register_count"] == 0  # outside the borough
    assert table.loc["Library", "gap"] == 6 - 2  # luton.toml: the council's 6 libraries
    assert table.loc["TOTAL", "council_count"] == 287
    assert table.loc["TOTAL", "register_count"] == 3


def test_ward_table(synthetic_wards) -> None:
    points = pd.DataFrame(
        {"ward_code": ["W00000001", "W00000001", "W00000002"], "population": [5, 7, 11]}
    )
    table = ward_table(synthetic_wards, _synthetic_register(), points)
    assert list(table.columns[:4]) == ["ward_name", "population", "assets", "area_km2"]
    assert list(table.columns[4:]) == list(CATEGORIES)
    assert table["population"].tolist() == [12, 11]
    assert table["assets"].tolist() == [1, 2]
    assert table.loc["W00000002", "Education"] == 1
    assert table["area_km2"].tolist() == [25.0, 25.0]
    assert table[list(CATEGORIES)].to_numpy().sum() == 3


def test_write_register_roundtrip(
    tmp_path: Path, register_dir: Path, synthetic_wards, synthetic_postcodes
) -> None:
    reg = _read(register_dir / "good_register.csv", synthetic_wards, synthetic_postcodes)
    csv_path, gpkg_path = tmp_path / "out" / "register.csv", tmp_path / "out" / "register.gpkg"
    write_register(reg, csv_path, gpkg_path)
    back = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    assert list(back.columns) == list(REGISTER_COLUMNS)
    assert back["asset_id"].tolist() == ["S1", "S2", "S3"]
    g = gpd.read_file(gpkg_path, layer="register")
    assert len(g) == 3 and g.crs == "EPSG:27700"
    assert sorted(p.name for p in csv_path.parent.iterdir()) == ["register.csv", "register.gpkg"]
    # the CSV is itself a valid register
    again = _read(csv_path, synthetic_wards, synthetic_postcodes)
    assert again.index.tolist() == ["S1", "S2", "S3"]


def test_misplaced_points_and_hostile_text_are_reported(
    tmp_path: Path, synthetic_wards, synthetic_postcodes
) -> None:
    """Synthetic rows: a point in France, one in Dublin, swapped easting/northing, a point
    far from its own postcode, and a control character in a name: one problem each.
    """
    path = tmp_path / "misplaced.csv"
    path.write_text(
        "name,category,lon,lat,easting,northing,postcode\n"
        "Paris Hall,Community Centre,2.35,48.85,,,\n"
        "Dublin Hall,Community Centre,-6.26,53.35,,,\n"
        "Swapped Hall,Community Centre,,,222500,510500,\n"
        "Wrong Postcode Hall,Community Centre,,,520500,232500,LU1 1AA\n"
        "Bell\x07 Hall,Community Centre,,,510500,222500,\n"
        "Fine Hall,Community Centre,,,510500,222500,\n",
        encoding="utf-8",
    )
    with pytest.raises(DataValidationError) as exc:
        _read(path, synthetic_wards, synthetic_postcodes)
    rows = {p.row: str(p) for p in exc.value.problems}
    assert set(rows) == {1, 2, 3, 4, 5}, rows
    assert "outside Great Britain" in rows[1] or "km from" in rows[1]
    assert "km from" in rows[2]  # Dublin is inside the GB box: the distance catches it
    assert "km from" in rows[3]
    assert "from the centroid of its own postcode LU1 1AA" in rows[4]
    assert "control characters" in rows[5]


def test_columns_differing_only_in_case_and_comments_are_not_read(
    tmp_path: Path, synthetic_wards, synthetic_postcodes
) -> None:
    twice = tmp_path / "twice.csv"
    twice.write_text("name,Name,category,postcode\nA,B,Library,LU1 1AA\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="'name' and 'Name', differ only in case"):
        _read(twice, synthetic_wards, synthetic_postcodes)
    comments = tmp_path / "comments.csv"
    comments.write_text(
        "name,category,postcode,Comments\nA Hall,Library,LU1 1AA,ask Jo on 07700 900123\n",
        encoding="utf-8",
    )
    reg = _read(comments, synthetic_wards, synthetic_postcodes)
    assert (reg["notes"] == "").all()
    assert _cells_matching(reg, PHONE_OR_EMAIL) == []


def test_written_register_masks_phones_and_neutralises_formulas(
    tmp_path: Path, synthetic_wards, synthetic_postcodes
) -> None:
    path = tmp_path / "hostile.csv"
    path.write_text(
        "name,category,postcode,address,notes\n"
        '=HYPERLINK("http://x"),Library,LU1 1AA,"1 High St, call 01582 546000",'
        "mail jo@example.org\n",
        encoding="utf-8",
    )
    reg = _read(path, synthetic_wards, synthetic_postcodes)
    removed = write_register(reg, tmp_path / "out.csv", tmp_path / "out.gpkg")
    assert removed == 2
    text = (tmp_path / "out.csv").read_text(encoding="utf-8")
    assert "01582 546000" not in text and "jo@example.org" not in text
    assert "'=HYPERLINK" in text
    back = gpd.read_file(tmp_path / "out.gpkg")
    assert _cells_matching(back, PHONE_OR_EMAIL) == []


def test_commit_hashes_never_reach_the_register(
    tmp_path: Path, synthetic_wards, synthetic_postcodes
) -> None:
    commit = "6a5140364301e15e553389b3a1d42276bc6e7038"
    path = tmp_path / "sourced.csv"
    path.write_text(
        "name,category,postcode,source\n"
        f"Hall,Community Centre,LU1 1AA,someone/repo @ {commit} (gh-pages) : data/x.csv\n",
        encoding="utf-8",
    )
    reg = _read(path, synthetic_wards, synthetic_postcodes)
    assert reg["source"].tolist() == ["someone/repo : data/x.csv"]
    write_register(reg, tmp_path / "out.csv", tmp_path / "out.gpkg")
    assert commit[:7] not in (tmp_path / "out.csv").read_text(encoding="utf-8")


def test_owner_type_comes_from_the_file_or_the_area_profile(
    tmp_path: Path, synthetic_wards, synthetic_postcodes
) -> None:
    path = tmp_path / "owners.csv"
    path.write_text(
        "name,category,Ownership,easting,northing\n"
        "Hall,Community Centre,,510200,222200\n"
        "School,Education,Council,510500,222500\n"
        "Library,Library,Partner public-sector,510600,222600\n"
        "Chapel,Religious Institution,the vicar,510700,222700\n",
        encoding="utf-8",
    )
    with pytest.raises(DataValidationError) as err:
        _read(path, synthetic_wards, synthetic_postcodes)
    assert _problems(err) == [("owners.csv", 4, "Ownership")]
    assert "unknown owner type" in str(err.value)
    path.write_text(path.read_text().replace("the vicar", ""), encoding="utf-8")
    reg = _read(path, synthetic_wards, synthetic_postcodes)
    assert list(reg["owner_type"]) == [
        "community and faith",  # the profile's owner of Community Centre
        "council",  # the file's, in any case
        "partner public sector",
        "community and faith",
    ]


def test_register_template_has_columns_dropdowns_notes_and_an_example(
    tmp_path: Path, synthetic_wards, synthetic_postcodes
) -> None:
    from openpyxl import load_workbook

    from nwm_geo import settings
    from nwm_geo.cli import main
    from nwm_geo.data import EXAMPLE_ID, TEMPLATE_COLUMNS, write_register_template

    path = tmp_path / "register.xlsx"
    assert main(["template", str(path)]) == 0
    wb = load_workbook(path)
    ws = wb["Register"]
    head = [c.value for c in ws[1]]
    assert head == list(TEMPLATE_COLUMNS)
    assert {"ward_code", "ward_name", "inside_area"}.isdisjoint(head)
    assert all(c.comment is not None and c.comment.text for c in ws[1])
    example = dict(zip(head, [c.value for c in ws[2]], strict=True))
    assert example["asset_id"] == EXAMPLE_ID and "EXAMPLE" in example["name"]
    lists = {
        str(dv.sqref).split(":")[0].rstrip("0123456789"): dv.formula1.strip('"').split(",")
        for dv in ws.data_validations.dataValidation
    }
    letter = {c: ws.cell(row=1, column=j + 1).column_letter for j, c in enumerate(head)}
    assert lists[letter["category"]] == list(settings.CATEGORIES)
    assert lists[letter["owner_type"]] == list(settings.OWNER_TYPES)
    columns = {r[0].value: r[1].value for r in wb["Columns"].iter_rows(min_row=2) if r[0].value}
    assert set(TEMPLATE_COLUMNS) <= set(columns)
    # read as it is, the example row is refused; replaced by a real row, it loads
    with pytest.raises(DataValidationError, match="example row"):
        _read(path, synthetic_wards, synthetic_postcodes)
    ws.delete_rows(2)
    values = {"asset_id": "S1", "name": "Hall", "category": "Community Centre",
              "easting": 510200, "northing": 222200}  # fmt: skip
    ws.append([values.get(c) for c in head])
    wb.save(path)
    reg = _read(path, synthetic_wards, synthetic_postcodes)
    assert list(reg.index) == ["S1"] and reg.loc["S1", "owner_type"] == "community and faith"
    assert write_register_template(tmp_path / "r2.xlsx", area="rutland").is_file()


def test_an_asset_id_that_looks_like_personal_data_is_refused(
    tmp_path: Path, synthetic_wards, synthetic_postcodes
) -> None:
    """Issue 20: such ids were masked into 40 duplicate '[removed]' ids, breaking joins."""
    path = tmp_path / "ids.csv"
    path.write_text(
        "asset_id,name,category,postcode\n"
        "HALL-1,Hall,Community Centre,LU1 1AA\n"
        "jo@example.org,Library,Library,LU1 1AA\n"
        "01632 960001,Centre,Community Centre,LU1 1AA\n",
        encoding="utf-8",
    )
    with pytest.raises(DataValidationError) as err:
        _read(path, synthetic_wards, synthetic_postcodes)
    text = str(err.value)
    assert "ids.csv, row 3, column 'asset_id'" in text
    assert "ids.csv, row 4, column 'asset_id'" in text
    assert "looks like an e-mail address or a phone number" in text
    assert "jo@example.org" not in text and "960001" not in text
