"""Tests for demand points (unit: the integerisation; integration: the real bundle)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nwm_geo._errors import NwmGeoError
from nwm_geo.data.boundaries import load_lsoas
from nwm_geo.data.population import (
    DEMAND_COLUMNS,
    demand_points,
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
    pts = demand_points()
    lsoas = load_lsoas()
    assert list(pts.columns) == list(DEMAND_COLUMNS)
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
