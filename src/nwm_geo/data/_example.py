"""A SYNTHETIC example area for the docstring examples: four wards, points and sites.

In: nothing. Out: :func:`synthetic_example`, a tiny made-up area in British National
Grid metres that the examples (run as doctests) use instead of the real bundle. Every
name, code, count and position in it is invented.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point, box

from nwm_geo import settings

__all__ = ["SyntheticExample", "synthetic_example"]


@dataclass(frozen=True)
class SyntheticExample:
    """A made-up area: wards, demand points and sites (all SYNTHETIC).

    Attributes
    ----------
    wards
        Four 1 km squares in a 2 x 2 grid, indexed by ``ward_code`` (``W1``..``W4``):
        ``ward_name``, ``population``, ``assets``.
    points
        Four demand points indexed by ``point_id`` (``P1``..``P4``): ``population``,
        ``ward_code``.
    sites
        Two sites indexed by ``asset_id`` (``A1``, ``A2``): ``category``, ``name``.
    """

    wards: gpd.GeoDataFrame
    points: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame


def synthetic_example() -> SyntheticExample:
    """Return a tiny SYNTHETIC area for examples and doctests (no bundle needed).

    Returns
    -------
    SyntheticExample
        Wards, demand points and sites, in EPSG:27700.

    Examples
    --------
    >>> from nwm_geo import data
    >>> ex = data.synthetic_example()
    >>> ex.wards[["ward_name", "population"]]
                ward_name  population
    ward_code
    W1         North West        1000
    W2         North East        1200
    W3         South West         900
    W4         South East        1100
    """
    codes = pd.Index(["W1", "W2", "W3", "W4"], name="ward_code")
    wards = gpd.GeoDataFrame(
        {
            "ward_name": ["North West", "North East", "South West", "South East"],
            "population": [1000, 1200, 900, 1100],
            "assets": [2, 3, 2, 3],
        },
        geometry=[
            box(0, 1000, 1000, 2000),
            box(1000, 1000, 2000, 2000),
            box(0, 0, 1000, 1000),
            box(1000, 0, 2000, 1000),
        ],
        index=codes,
        crs=settings.crs,
    )
    points = gpd.GeoDataFrame(
        {"population": [100, 200, 300, 400], "ward_code": ["W3", "W3", "W3", "W2"]},
        geometry=[Point(0, 0), Point(400, 0), Point(0, 400), Point(1500, 1500)],
        index=pd.Index(["P1", "P2", "P3", "P4"], name="point_id"),
        crs=settings.crs,
    )
    sites = gpd.GeoDataFrame(
        {"category": ["Library", "Education"], "name": ["Central Library", "Park School"]},
        geometry=[Point(0, 0), Point(1500, 1500)],
        index=pd.Index(["A1", "A2"], name="asset_id"),
        crs=settings.crs,
    )
    return SyntheticExample(wards=wards, points=points, sites=sites)
