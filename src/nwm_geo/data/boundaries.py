"""Boundaries: an area's wards, LSOAs and Output Areas, in EPSG:27700.

In: the boundary and Census files named by the area profile (:mod:`nwm_geo.areas`;
Luton by default).
Out: GeoDataFrames indexed by ``ward_code``, ``lsoa_code`` or ``oa_code``.

The boundaries are ONS generalised, coastline-clipped (BGC-style) shapes, which is fine
for ward-level work but not for exact property-level tests near a boundary.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from nwm_geo import settings
from nwm_geo._checks import checks_crs
from nwm_geo._errors import DataValidationError, NwmGeoError, Problem
from nwm_geo.data._files import AreaFiles
from nwm_geo.data._tables import cell_text

__all__ = [
    "AGE_BANDS",
    "borough_boundary",
    "load_lsoas",
    "load_oas",
    "load_wards",
]

#: Census 2021 broad age bands carried on :func:`load_lsoas` (year 2021).
AGE_BANDS: tuple[str, ...] = (
    "age_0_15",
    "age_16_24",
    "age_25_34",
    "age_35_49",
    "age_50_64",
    "age_65_plus",
)


def _read(path: Path) -> gpd.GeoDataFrame:
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises its own errors for corrupt files
        raise NwmGeoError(f"{path}: cannot be read as a boundary file ({exc})") from None
    if len(gdf) == 0:
        raise NwmGeoError(f"{path}: the boundary file has no features")
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
    invalid = ~gdf.geometry.is_valid
    if invalid.any():  # e.g. ring self-intersections in Rutland's 2011 files; area unchanged
        gdf.loc[invalid, "geometry"] = shapely.make_valid(gdf.geometry[invalid].to_numpy())
    return gdf.to_crs(settings.crs)


def load_wards(area: AreaFiles, *, year: int | None = None) -> gpd.GeoDataFrame:
    """Load an area's electoral wards (cached by :meth:`nwm_geo.data.AreaData.wards_in`).

    Parameters
    ----------
    area
        The area and its bundle folder (:func:`nwm_geo.data.open_area`).
    year
        The ward pattern, as named in the area profile; default the current one. Luton:
        ``2023`` (20 wards, in force since May 2023; the bundle file is the ONS 2025
        release) or ``2013`` (19 wards). Rutland: ``2019`` (15 wards) or ``2013`` (16).

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``ward_code``, columns ``ward_name``, ``area_km2`` and ``geometry``,
        sorted by code.

    Raises
    ------
    NwmGeoError
        For a year the area has no pattern for, or an unreadable or empty file.
    """
    pattern = area.profile.ward_pattern(year)
    relative, code, name = pattern.file, pattern.code, pattern.name
    gdf = _read(area.path(relative))
    out = gpd.GeoDataFrame(
        {"ward_code": gdf[code].astype(str), "ward_name": gdf[name].astype(str)},
        geometry=gdf.geometry.values,
        crs=gdf.crs,
    )
    out["area_km2"] = out.geometry.area / 1e6
    out = out.set_index("ward_code").sort_index()
    return out[["ward_name", "area_km2", "geometry"]]


def load_lsoas(area: AreaFiles, *, year: int = 2021) -> gpd.GeoDataFrame:
    """Load an area's Lower-layer Super Output Areas with their population.

    Cached: :attr:`~nwm_geo.data.AreaData.lsoas` (2021).

    Parameters
    ----------
    area
        The area and its bundle folder (:func:`nwm_geo.data.open_area`).
    year
        ``2021`` (Luton: 125 LSOA21) or ``2011`` (Luton: 121 LSOA11).

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``lsoa_code``, with ``lsoa_name``, ``population``, ``area_km2`` and
        ``geometry``. For 2021, ``population`` is the Census 2021 usual-resident total
        and the six broad age bands of :data:`AGE_BANDS` follow it (total 225,239).
        For 2011, ``population`` is the Census 2011 usual-resident total from table
        KS209EW (religion, whose ``total`` column counts all usual residents; total
        203,201, the same as the OA-level KS101EW figures).

    Raises
    ------
    NwmGeoError
        For any other year, or if a boundary has no population row.
    DataValidationError
        If a population cell is blank, not a number or not a whole non-negative number
        (file, row, column and value of each).
    """
    prof = area.profile
    if year == 2021:
        gdf = _read(area.path(prof.files["lsoa_2021"]))
        table = prof.files["census_2021_lsoa"]
        pop = pd.read_csv(area.path(table), dtype={"lsoa21_code": str}).set_index("lsoa21_code")
        code, name = "LSOA21CD", "LSOA21NM"
        pop = pop.rename(columns={"total": "population"})[["population", *AGE_BANDS]]
    elif year == 2011:
        gdf = _read(area.path(prof.files["lsoa_2011"]))
        table = prof.files.get("religion_2011_lsoa", "")
        pop = pd.read_csv(area.path(table), dtype={"LSOA11CD": str}).set_index("LSOA11CD")
        code, name = "LSOA11CD", "LSOA11NM"
        pop = pop.rename(columns={"total": "population"})[["population"]]
    else:
        raise NwmGeoError(f"no {prof.name} LSOA boundaries for year {year}; available: 2011, 2021")
    out = gpd.GeoDataFrame(
        {"lsoa_code": gdf[code].astype(str), "lsoa_name": gdf[name].astype(str)},
        geometry=gdf.geometry.values,
        crs=gdf.crs,
    ).set_index("lsoa_code")
    missing = out.index.difference(pop.index)
    if len(missing):
        raise NwmGeoError(
            f"{len(missing)} LSOA(s) have no population row: {', '.join(missing[:10])}"
        )
    counts = pop.apply(pd.to_numeric, errors="coerce")
    bad = [
        Problem(
            Path(table).name,
            i + 1,
            "total" if col == "population" else str(col),  # the file's own column name
            cell_text(pop[col].iloc[i]),
            reason,
        )
        for col in pop.columns
        for i in range(len(pop))
        if (reason := _count_problem(counts[col].iloc[i]))
    ]
    if bad:
        raise DataValidationError(bad)
    out = out.join(counts.astype(int))
    out["area_km2"] = out.geometry.area / 1e6
    cols = ["lsoa_name", *pop.columns, "area_km2", "geometry"]
    return out[cols].sort_index()


def _count_problem(value: float) -> str:
    """Why a Census count cell is not a whole number of people ("" if it is one)."""
    if pd.isna(value) or not math.isfinite(value):
        return "population count is blank or not a number"
    if value < 0 or value != int(value):
        return "population count is not a whole non-negative number"
    return ""


def load_oas(area: AreaFiles) -> gpd.GeoDataFrame:
    """Load an area's 2011 Output Areas with their Census 2011 population.

    Cached: :attr:`~nwm_geo.data.AreaData.oas`.

    Parameters
    ----------
    area
        The area and its bundle folder (:func:`nwm_geo.data.open_area`).

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``oa_code`` (589 OA11), with ``population_2011`` (KS101EW usual
        residents; total 203,201) and ``geometry``.
    """
    prof = area.profile
    gdf = _read(area.path(prof.files["oa_2011"]))
    pop = pd.read_csv(
        area.path(prof.files["census_2011_oa"]),
        dtype={"oa11_code": str},
    ).set_index("oa11_code")["usual_residents_2011"]
    out = gpd.GeoDataFrame(
        {"oa_code": gdf["OA11CD"].astype(str)}, geometry=gdf.geometry.values, crs=gdf.crs
    ).set_index("oa_code")
    out["population_2011"] = pop.reindex(out.index).fillna(0).astype(int)
    return out[["population_2011", "geometry"]].sort_index()


@checks_crs
def borough_boundary(wards: gpd.GeoDataFrame) -> BaseGeometry:
    """Return the borough outline: the union of the ward polygons.

    Parameters
    ----------
    wards
        Ward polygons, such as from :func:`load_wards`.

    Returns
    -------
    shapely.Polygon or shapely.MultiPolygon
        The union, in the wards' CRS.

    Examples
    --------
    >>> from nwm_geo import data
    >>> data.borough_boundary(data.synthetic_example().wards).area  # square metres
    4000000.0
    """
    return wards.geometry.union_all()
