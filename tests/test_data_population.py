"""Tests for demand points (unit: the integerisation; integration: the real bundle)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from nwm_geo import NwmGeoError
from nwm_geo.data import open_area
from nwm_geo.data.boundaries import AGE_BANDS, load_lsoas
from nwm_geo.data.population import (
    DEMAND_COLUMNS,
    GROUP_COLUMNS,
    build_demand_points,
    largest_remainder,
    ward_population,
)


def test_largest_remainder_exact_and_proportional() -> None:
    out = largest_remainder(10, np.array([1.0, 1.0, 1.0]))
    assert out.tolist() == [4, 3, 3]  # tie goes to the earlier point
    out = largest_remainder(100, np.array([0.5, 0.25, 0.25]))
    assert out.tolist() == [50, 25, 25]
    out = largest_remainder(7, np.array([0.0, 0.0]))  # no information: equal weights
    assert out.sum() == 7
    rng = np.random.default_rng(0)
    for _ in range(50):
        w = rng.random(rng.integers(1, 30))
        total = int(rng.integers(0, 5000))
        res = largest_remainder(total, w)
        assert res.sum() == total
        assert np.all(np.abs(res - total * w / w.sum()) < 1)


def test_largest_remainder_rejects_bad_input() -> None:
    with pytest.raises(NwmGeoError):
        largest_remainder(5, np.array([]))
    with pytest.raises(NwmGeoError):
        largest_remainder(5, np.array([1.0, -1.0]))


def test_ward_population_sums_points() -> None:
    pts = pd.DataFrame({"ward_code": ["b", "a", "b"], "population": [1, 2, 3]})
    assert ward_population(pts).to_dict() == {"a": 2, "b": 4}


@pytest.mark.integration
def test_real_demand_points() -> None:
    luton = open_area()
    pts = luton.population
    lsoas = luton.lsoas
    assert list(pts.columns) == [*DEMAND_COLUMNS, *GROUP_COLUMNS]
    assert pts.index.name == "point_id"
    assert pts.index.is_unique
    assert pts["population"].dtype.kind == "i"
    assert int(pts["population"].sum()) == 225239
    per_lsoa = pts.groupby("lsoa_code")["population"].sum()
    pd.testing.assert_series_equal(
        per_lsoa.reindex(lsoas.index).astype(int),
        lsoas["population"].astype(int),
        check_names=False,
    )
    assert len(pts) == 3233  # every Luton postcode lies in a Luton LSOA
    assert (pts["weight_source"] == "oa2011").all()
    assert pts["ward_code"].notna().all() and pts["ward_code"].str.startswith("E050147").all()
    assert pts.crs == "EPSG:27700"
    wp = ward_population(pts)
    assert len(wp) == 20 and int(wp.sum()) == 225239


def _synthetic_inputs() -> dict[str, gpd.GeoDataFrame]:
    """SYNTHETIC postcodes, LSOAs, OAs and a ward on a 300 m x 100 m strip (EPSG:27700).

    L1 (10 people): P1 in OA O1 (30 people in 2011) and P2 in OA O2 (nobody in 2011).
    L2 (7 people): P3 and P4 in no OA. L3 (5 people): no postcode at all.
    """
    crs = "EPSG:27700"
    lsoas = gpd.GeoDataFrame(
        {"lsoa_code": ["L1", "L2", "L3"], "population": [10, 7, 5]},
        geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100), box(200, 0, 300, 100)],
        crs=crs,
    ).set_index("lsoa_code")
    oas = gpd.GeoDataFrame(
        {"oa_code": ["O1", "O2"], "population_2011": [30, 0]},
        geometry=[box(0, 0, 50, 100), box(50, 0, 100, 100)],
        crs=crs,
    ).set_index("oa_code")
    wards = gpd.GeoDataFrame(
        {"ward_code": ["W1"], "ward_name": ["Synthetic Ward"]},
        geometry=[box(0, 0, 300, 100)],
        crs=crs,
    ).set_index("ward_code")
    xy = {"P1": (25, 50), "P2": (75, 50), "P3": (125, 50), "P4": (175, 50), "P9": (900, 900)}
    postcodes = gpd.GeoDataFrame(
        {
            "postcode": list(xy),
            "in_borough": [True, True, True, True, False],
            "ward_code": ["W1"] * 4 + [""],
            "ward_name": ["Synthetic Ward"] * 4 + [""],
        },
        geometry=[Point(p) for p in xy.values()],
        crs=crs,
    ).set_index("postcode")
    return {"lsoas": lsoas, "oas": oas, "wards": wards, "postcodes": postcodes}


def test_demand_points_fallback_weights_drop_nobody() -> None:
    data = _synthetic_inputs()
    pts = build_demand_points(data["postcodes"], data["lsoas"], data["oas"], data["wards"])
    assert list(pts.columns) == list(DEMAND_COLUMNS)
    assert pts["weight_source"].to_dict() == {
        "P1": "oa2011",
        "P2": "lsoa mean",  # its OA had nobody in 2011: the mean of L1's known weights
        "P3": "equal",  # L2 has no OA information at all
        "P4": "equal",
        "L3:centre": "lsoa point",  # L3 has no postcode
    }
    assert pts["population"].to_dict() == {"P1": 5, "P2": 5, "P3": 4, "P4": 3, "L3:centre": 5}
    assert int(pts["population"].sum()) == 22  # nobody dropped
    assert pts.loc["P2", "weight"] == pts.loc["P1", "weight"] == 30.0
    assert pts.loc["L3:centre", "ward_code"] == "W1" and pts.loc["L3:centre", "postcode"] == ""
    # a point with no output area: missing, in a text column like the other codes
    assert pd.isna(pts.loc["L3:centre", "oa11_code"])
    assert pts["oa11_code"].dtype == pts["lsoa_code"].dtype
    assert data["lsoas"].geometry.loc["L3"].contains(pts.geometry.loc["L3:centre"])


def test_load_lsoas_blank_population_cell_names_file_row_column(tmp_path) -> None:
    """A blank Census count is a clear DataValidationError, not pandas' cast error."""
    from nwm_geo import DataValidationError

    (tmp_path / "boundaries").mkdir()
    (tmp_path / "population").mkdir()
    gpd.GeoDataFrame(
        {"LSOA21CD": ["L1", "L2"], "LSOA21NM": ["Synthetic 1", "Synthetic 2"]},
        geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)],
        crs="EPSG:27700",
    ).to_file(tmp_path / "boundaries" / "luton_lsoa_2021.geojson", driver="GeoJSON")
    bands = ",".join(AGE_BANDS)
    table = "census2021_lsoa21_usual_residents_by_age_luton.csv"
    (tmp_path / "population" / table).write_text(
        f"lsoa21_code,lsoa21_name,total,{bands}\n"
        "L1,Synthetic 1,6,1,1,1,1,1,1\n"
        "L2,Synthetic 2,,1,1,1,1,1,x\n",
        encoding="utf-8",
    )
    with pytest.raises(DataValidationError) as exc:
        load_lsoas(open_area(data_dir=tmp_path))
    assert [(p.file, p.row, p.column, p.value) for p in exc.value.problems] == [
        (table, 2, "total", ""),
        (table, 2, "age_65_plus", "x"),
    ]
    (tmp_path / "population" / table).write_text(
        f"lsoa21_code,lsoa21_name,total,{bands}\n"
        "L1,Synthetic 1,6,1,1,1,1,1,1\n"
        "L2,Synthetic 2,12,2,2,2,2,2,2\n",
        encoding="utf-8",
    )
    assert load_lsoas(open_area(data_dir=tmp_path))["population"].tolist() == [6, 12]
