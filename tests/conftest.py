"""Shared pytest fixtures.

Data-layer fixtures are **synthetic**: two square wards and three postcodes near Luton,
with made-up names and positions, so the register tests need neither the real bundle
nor the network.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

REGISTER_FIXTURES = Path(__file__).parent / "data" / "register"


@pytest.fixture
def register_dir() -> Path:
    """Folder of the synthetic register fixtures (``tests/data/register``)."""
    return REGISTER_FIXTURES


@pytest.fixture
def synthetic_wards() -> gpd.GeoDataFrame:
    """Two synthetic 5 km square wards side by side, EPSG:27700, indexed by ward_code."""
    gdf = gpd.GeoDataFrame(
        {
            "ward_code": ["W00000001", "W00000002"],
            "ward_name": ["Synthetic West", "Synthetic East"],
        },
        geometry=[box(505000, 219000, 510000, 224000), box(510000, 219000, 515000, 224000)],
        crs="EPSG:27700",
    ).set_index("ward_code")
    gdf["area_km2"] = gdf.geometry.area / 1e6
    return gdf


@pytest.fixture
def synthetic_postcodes() -> gpd.GeoDataFrame:
    """Three synthetic postcode points (two inside the synthetic wards, one outside)."""
    rows = {
        "LU1 1AA": (508000.0, 221000.0),
        "LU2 2BB": (511000.0, 223000.0),
        "LU3 3DD": (520000.0, 230000.0),
    }
    return gpd.GeoDataFrame(
        {
            "postcode": list(rows),
            "easting": [xy[0] for xy in rows.values()],
            "northing": [xy[1] for xy in rows.values()],
        },
        geometry=[Point(xy) for xy in rows.values()],
        crs="EPSG:27700",
    ).set_index("postcode")
