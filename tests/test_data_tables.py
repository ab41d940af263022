"""Tests for the generic table reader and the postcode/category normalisers (synthetic)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point

from nwm_geo.data import cell_text, read_table
from nwm_geo.data.assets import CATEGORY_SYNONYMS, normalise_category
from nwm_geo.data.postcodes import normalise_postcode
from nwm_geo.settings import CATEGORIES

TEXT = "name,category,lon,lat\nCafé Synthétique,Community Centre,-0.43,51.88\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_read_csv_detects_encoding(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / f"reg_{encoding}.csv"
    path.write_bytes(TEXT.encode(encoding))
    frame, problems = read_table(path)
    assert problems == []
    assert list(frame.columns) == ["name", "category", "lon", "lat"]  # no BOM in the header
    assert frame.loc[0, "name"] == "Café Synthétique"
    assert frame.loc[0, "lat"] == "51.88"


def test_read_csv_mixed_utf8_and_cp1252_cells(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"name,note\n" + "Café".encode() + b"," + "Crème".encode("cp1252") + b"\n")
    frame, problems = read_table(path)
    assert problems == []
    assert frame.loc[0, "name"] == "Café"
    assert frame.loc[0, "note"] == "Crème"


def test_read_csv_undecodable_cell_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad_bytes.csv"
    # 0x81 and 0x8D are undefined in cp1252 and invalid as UTF-8.
    path.write_bytes(b"name,category\nGood,Library\nBad\x81\x8dName,Library\n")
    frame, problems = read_table(path)
    assert len(problems) == 1
    p = problems[0]
    assert (p.file, p.row, p.column) == ("bad_bytes.csv", 2, "name")
    assert "cannot be decoded" in p.reason
    assert frame.loc[0, "name"] == "Good"


def test_read_csv_semicolon_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("name;category\nX;Library\n", encoding="utf-8")
    frame, problems = read_table(path)
    assert problems == []
    assert frame.loc[0, "category"] == "Library"


def test_read_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    frame, problems = read_table(path)
    assert frame.empty
    assert [(p.file, p.row) for p in problems] == [("empty.csv", None)]
    assert "empty" in problems[0].reason


def test_read_header_only(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("name,category\n", encoding="utf-8")
    _, problems = read_table(path)
    assert len(problems) == 1
    assert "no data rows" in problems[0].reason


def test_read_xlsx(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Cover"
    ws.append(["not the register"])
    ws2 = wb.create_sheet("Assets")
    ws2.append(["Name", "Category", "Easting", "Northing"])
    ws2.append(["Synthetic Hall", "Community Centre", 508000, 221000.5])
    path = tmp_path / "reg.xlsx"
    wb.save(path)
    frame, problems = read_table(path, sheet="Assets")
    assert problems == []
    assert frame.to_dict("records") == [
        {
            "Name": "Synthetic Hall",
            "Category": "Community Centre",
            "Easting": "508000",
            "Northing": "221000.5",
        }
    ]
    _, problems = read_table(path, sheet="Nope")
    assert len(problems) == 1 and problems[0].value == "Nope"


def test_read_geojson_gives_lon_lat(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"name": ["Synthetic"], "category": ["Library"]},
        geometry=[Point(-0.43, 51.88)],
        crs="EPSG:4326",
    )
    path = tmp_path / "reg.geojson"
    gdf.to_file(path, driver="GeoJSON")
    frame, problems = read_table(path)
    assert problems == []
    assert float(frame.loc[0, "lon"]) == pytest.approx(-0.43)
    assert float(frame.loc[0, "lat"]) == pytest.approx(51.88)


def test_read_gpkg_layers(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"name": ["Synthetic"], "category": ["Library"]},
        geometry=[Point(508000, 221000)],
        crs="EPSG:27700",
    )
    path = tmp_path / "reg.gpkg"
    gdf.to_file(path, layer="assets", driver="GPKG")
    gdf.to_file(path, layer="other", driver="GPKG")
    _, problems = read_table(path)
    assert len(problems) == 1 and "2 layers" in problems[0].reason
    frame, problems = read_table(path, layer="assets")
    assert problems == []
    assert (float(frame.loc[0, "easting"]), float(frame.loc[0, "northing"])) == (508000.0, 221000.0)


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "reg.doc"
    path.write_text("x")
    _, problems = read_table(path)
    assert "unsupported file type" in problems[0].reason


def test_cell_text() -> None:
    assert cell_text(None) == ""
    assert cell_text(float("nan")) == ""
    assert cell_text(508000.0) == "508000"
    assert cell_text(51.88) == "51.88"
    assert cell_text("  a   b ") == "a b"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("lu11aa", "LU1 1AA"),
        ("LU1  1AA", "LU1 1AA"),
        (" lu4 0dz ", "LU4 0DZ"),
        ("SW1A1AA", "SW1A 1AA"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("gir0aa", "GIR 0AA"),
        ("LU1 1CA", None),  # C is never used in an inward code
        ("LU1", None),
        ("12345", None),
        ("", None),
        (None, None),
        (51.9, None),
    ],
)
def test_normalise_postcode(raw: object, expected: str | None) -> None:
    assert normalise_postcode(raw) == expected


def test_normalise_category_exact_and_synonyms() -> None:
    for cat in CATEGORIES:
        assert normalise_category(cat.upper()) == cat
    assert normalise_category("GP Surgery") == "GP / Medical Centre"
    assert normalise_category("medical centre") == "GP / Medical Centre"
    assert normalise_category("Mosque") == "Religious Institution"
    assert normalise_category("gurdwara") == "Religious Institution"
    assert normalise_category("Place of Worship") == "Religious Institution"
    assert normalise_category("Secondary school") == "Education"
    assert normalise_category("University") == "Education"
    assert normalise_category("Leisure Centre") == "Sports and Leisure"
    assert normalise_category("Sports & Leisure") == "Sports and Leisure"
    assert normalise_category("police station") == "Crime and Justice"
    assert normalise_category("Court") == "Crime and Justice"
    assert normalise_category("Fire Station") == "Fire and rescue"
    assert normalise_category("bowling alley") is None
    assert normalise_category("") is None
    assert normalise_category(None) is None
    assert set(CATEGORY_SYNONYMS.values()) <= set(CATEGORIES)


def test_blank_rows_keep_row_numbers(tmp_path: Path) -> None:
    """A blank line or sheet row stays a row of "" so later rows keep their numbers."""
    from openpyxl import Workbook

    csv_path = tmp_path / "blank.csv"
    csv_path.write_bytes(b"name,category\nA,Library\n\nB\x81,Library\n")  # cp1252-invalid
    frame, problems = read_table(csv_path)
    assert frame["name"].tolist()[:2] == ["A", ""]
    assert [(p.row, p.column) for p in problems] == [(3, "name")]  # third data row
    wb = Workbook()
    ws = wb.active
    ws.append(["name", "category"])
    ws.append(["A", "Library"])
    ws.append([None, None])
    ws.append(["B", "Library"])
    xlsx_path = tmp_path / "blank.xlsx"
    wb.save(xlsx_path)
    frame, problems = read_table(xlsx_path)
    assert problems == []
    assert frame["name"].tolist() == ["A", "", "B"]


def test_only_blank_rows_is_no_data(tmp_path: Path) -> None:
    path = tmp_path / "blanks.csv"
    path.write_text("name,category\n\n,\n", encoding="utf-8")
    _, problems = read_table(path)
    assert [p.reason for p in problems] == ["the file has a header but no data rows"]


@pytest.mark.parametrize("suffix", ["gpkg", "shp"])
def test_spatial_file_without_crs(tmp_path: Path, suffix: str) -> None:
    """No CRS: metres inside the British National Grid are read as EPSG:27700; other
    numbers are not guessed to be lon/lat but reported (synthetic points).
    """
    path = tmp_path / f"bng.{suffix}"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        gpd.GeoDataFrame(
            {"name": ["Synthetic"], "category": ["Library"]},
            geometry=[Point(508000, 221000)],
            crs=None,
        ).to_file(path)
    assert gpd.read_file(path).crs is None
    frame, problems = read_table(path)
    assert problems == []
    assert (float(frame.loc[0, "easting"]), float(frame.loc[0, "northing"])) == (508000.0, 221000.0)
    assert "lon" not in frame.columns
    path = tmp_path / f"small.{suffix}"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        gpd.GeoDataFrame(
            {"name": ["Synthetic"], "category": ["Library"]},
            geometry=[Point(-0.43, 51.88)],
            crs=None,
        ).to_file(path)
    frame, problems = read_table(path)
    assert len(problems) == 1 and "no coordinate reference system" in problems[0].reason
    assert "lon" not in frame.columns and "easting" not in frame.columns
