"""Integration tests of the open-data register on the real Luton bundle."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from nwm_geo.data import AreaData, open_area
from nwm_geo.data.assets import (
    REGISTER_COLUMNS,
    read_register,
    reconciliation,
    ward_table,
    write_register,
)
from nwm_geo.settings import CATEGORIES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def luton() -> AreaData:
    return open_area("luton")


@pytest.fixture(scope="module")
def open_register(luton: AreaData) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    return luton.assets, luton.merges


def test_register_shape_and_provenance(open_register) -> None:
    reg, _ = open_register
    assert reg.index.name == "asset_id" and reg.index.is_unique
    assert list(reg.columns[: len(REGISTER_COLUMNS) - 1]) == list(REGISTER_COLUMNS[1:])
    for col in ("source", "source_record_id", "source_date", "licence"):
        assert (reg[col].str.strip() != "").all(), col
    assert set(reg["category"]) <= set(CATEGORIES)
    # no phone number or e-mail address in any output cell (the mosques file has phones)
    text = pd.DataFrame(reg.drop(columns="geometry")).astype(str)
    leaks = [
        (i, c, v)
        for c in text.columns
        for i, v in text[c].items()
        if re.search(r"(?<![\w.\-])0\d{4} ?\d{6}(?![\d.])|[\w.+\-]+@[\w\-]+\.\w", v)
    ]
    assert leaks == []


def test_register_counts(open_register) -> None:
    reg, _ = open_register
    inside = reg[reg["inside_area"]]
    # Register v2: the OSM places of worship (2026) join the earlier files. 274 sites in
    # Luton after the documented exclusions and 46 logged merges; the council has 287.
    assert len(inside) >= 250
    assert len(inside) == 274
    outside = reg[~reg["inside_area"]]
    fringe = outside.index.str.startswith("fringe-")
    # the four fire stations outside Luton, and the fringe files' 71 rows less the
    # Keech Hospice ODS record (a hospice prescribing code, excluded by the ODS rules)
    # and the Priory Church hall (merged into the OSM Priory Church of Saint Peter)
    assert (~fringe).sum() == 4
    assert set(outside.loc[~fringe, "category"]) == {"Fire and rescue"}
    assert fringe.sum() == 69
    assert (outside["ward_code"] == "").all()
    assert (inside["ward_code"].str.len() == 9).all()
    counts = inside["category"].value_counts()
    assert 95 <= counts["Religious Institution"] <= 130
    assert counts["Education"] == 79
    assert counts["GP / Medical Centre"] == 24
    assert counts["Library"] == 9
    assert counts["Fire and rescue"] == 2
    for col in ("source", "source_record_id", "source_date", "licence"):
        assert (inside[col].str.strip() != "").all(), col


def test_no_two_sites_of_one_category_share_a_name_within_100_m(open_register) -> None:
    reg, _ = open_register
    inside = reg[reg["inside_area"]]
    for _, group in inside.groupby("category"):
        key = group["name"].str.lower().str.replace(r"[^a-z0-9]+", " ", regex=True).str.strip()
        for name in key[key.duplicated(keep=False)].unique():
            same = group[key == name]
            xy = same[["easting", "northing"]].to_numpy(float)
            d = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2) ** 0.5
            assert (d[~np.eye(len(same), dtype=bool)] > 100).all(), same["name"].tolist()


def test_hockwell_community_centre_from_the_library_co_location(open_register) -> None:
    reg, _ = open_register
    lbc = reg[reg["category"] == "LBC Community Centre"]
    hockwell = lbc[lbc["name"].str.contains("Hockwell")]
    assert len(hockwell) == 1
    row = hockwell.iloc[0]
    assert row["source"].startswith("Libraries Hacked")
    assert "Co-located with" in row["source_record_id"]
    assert row["postcode"] == "LU4 9LB"  # the library's own sourced location
    # Bury Park, Chaul End and Farley are both in FHRS and the libraries file: one each
    for centre in ("Bury Park", "Chaul End", "Farley"):
        assert lbc["name"].str.contains(centre, case=False).sum() == 1, centre


def test_duplicates_merged_once(open_register) -> None:
    reg, log = open_register
    names = reg["name"].str.lower()
    assert (names == "luton and dunstable hospital").sum() == 1
    assert (names == "luton crown court").sum() == 1
    assert (names == "uk centre for carnival arts").sum() == 1
    assert names.str.contains("police").sum() == 1
    assert set(log["dropped_asset_id"]).isdisjoint(reg.index)
    assert set(log["kept_asset_id"]) <= set(reg.index)
    assert (log["distance_m"] < 250).all()
    assert "Sundon Park" not in set(reg["name"])
    osm = "places_of_worship_osm_islammap_2026-08_luton.csv"
    osm_merges = log[(log["kept_source"] == osm) | (log["dropped_source"] == osm)]
    assert len(osm_merges) >= 30  # FHRS churches and 2016 mosques found again in OSM
    # a mosque and a church are never one site, however close and alike their names
    assert not (
        osm_merges["kept_name"].str.contains("Masjid|Mosque", case=False)
        & osm_merges["dropped_name"].str.contains("Church", case=False)
    ).any()
    assert "Bury Park United Reformed Church" in set(reg["name"])
    assert "Bury Park Jamia Masjid" in set(reg["name"])


def test_exclusions_have_reasons(luton: AreaData) -> None:
    ex = luton.exclusions
    assert (ex["reason"].str.len() > 10).all()
    assert ex["record"].str.contains("PCN").sum() == 6
    assert ex["record"].str.contains("Sundon Park").sum() == 1


def test_reconciliation_and_ward_table(open_register, luton: AreaData) -> None:
    reg, _ = open_register
    table = reconciliation(reg)
    assert table.loc["TOTAL", "council_count"] == 287
    assert table.loc["TOTAL", "register_count"] == int(reg["inside_area"].sum())
    assert (table["gap"] == table["council_count"] - table["register_count"]).all()
    wt = ward_table(luton.wards, reg, luton.population)
    assert len(wt) == 20
    assert int(wt["population"].sum()) == 225239
    assert int(wt["assets"].sum()) == int(reg["inside_area"].sum())
    assert (wt[list(CATEGORIES)].sum(axis=1) == wt["assets"]).all()


def test_written_register_reads_back(open_register, tmp_path: Path) -> None:
    reg, _ = open_register
    write_register(reg, tmp_path / "register.csv", tmp_path / "register.gpkg")
    back = read_register(tmp_path / "register.csv")
    assert back.index.tolist() == reg.index.tolist()
    assert (back["inside_area"] == reg["inside_area"]).all()
    assert (back["category"] == reg["category"]).all()
    assert (back["source"] == reg["source"]).all()
    g = read_register(tmp_path / "register.gpkg")
    assert len(g) == len(reg)
