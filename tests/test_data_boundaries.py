"""Tests for the boundary loaders (unit: synthetic; integration: the real Luton bundle)."""

from __future__ import annotations

import geopandas as gpd
import pytest

from nwm_geo import NwmGeoError
from nwm_geo.data import open_area
from nwm_geo.data.boundaries import borough_boundary, load_lsoas, load_wards


def test_borough_boundary_is_union(synthetic_wards: gpd.GeoDataFrame) -> None:
    outline = borough_boundary(synthetic_wards)
    assert outline.area == pytest.approx(50e6)
    assert outline.bounds == (505000.0, 219000.0, 515000.0, 224000.0)


def test_unknown_years_raise() -> None:
    with pytest.raises(NwmGeoError, match="available: 2023, 2013"):
        load_wards(open_area(), year=2019)
    with pytest.raises(NwmGeoError, match="2011, 2021"):
        load_lsoas(open_area(), year=2001)


def test_missing_bundle_names_the_fix(tmp_path) -> None:
    with pytest.raises(NwmGeoError, match="import-data"):
        open_area(data_dir=tmp_path).wards  # noqa: B018


@pytest.mark.integration
def test_real_wards() -> None:
    luton = open_area()
    wards = luton.wards
    assert len(wards) == 20
    assert wards.index.name == "ward_code"
    assert list(wards.columns) == ["ward_name", "area_km2", "geometry"]
    assert wards.index[0] == "E05014735" and wards.index[-1] == "E05014754"
    assert wards.crs == "EPSG:27700"
    assert "Beech Hill" in set(wards["ward_name"])
    assert 40 < wards["area_km2"].sum() < 50  # Luton is about 43 km²
    old = luton.wards_in(2013)
    assert len(old) == 19
    assert borough_boundary(old).area == pytest.approx(borough_boundary(wards).area, rel=0.02)


@pytest.mark.integration
def test_real_lsoas_and_oas() -> None:
    luton = open_area()
    lsoas = luton.lsoas
    assert len(lsoas) == 125
    assert int(lsoas["population"].sum()) == 225239
    assert (
        lsoas[["age_0_15", "age_16_24", "age_25_34", "age_35_49", "age_50_64", "age_65_plus"]].sum(
            axis=1
        )
        == lsoas["population"]
    ).all()
    old = luton.lsoas_in(2011)
    assert len(old) == 121
    assert int(old["population"].sum()) == 203201
    oas = luton.oas
    assert len(oas) == 589 and oas.index.name == "oa_code"
    assert int(oas["population_2011"].sum()) == 203201


@pytest.mark.integration
def test_real_postcodes() -> None:
    pcs = open_area().postcodes
    assert len(pcs) == 6434
    assert int(pcs["in_borough"].sum()) == 3233
    assert pcs.index.name == "postcode"
    assert pcs.loc["LU1 1AA", "ward_name"] == "Farley"
    assert not pcs["ward_name"].str.endswith(" Ward").any()
    assert pcs.crs == "EPSG:27700"
