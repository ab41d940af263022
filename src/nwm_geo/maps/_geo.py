"""Geometry helpers for the maps: WGS84 for Leaflet, British National Grid for matplotlib.

In: (Geo)DataFrames with ``lon``/``lat`` columns or geometry in any CRS. Out: WGS84
GeoJSON features rounded to 1e-5 degrees (about 1 m), coordinate arrays and bounds.
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from nwm_geo import settings
from nwm_geo._errors import NwmGeoError


def _to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise NwmGeoError("geometries need a CRS (EPSG:27700 or EPSG:4326)")
    return gdf.to_crs(settings.wgs84)


def simplified(gdf: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoSeries:
    """Simplify in metres, return WGS84 geometries rounded to 1e-5 degrees (about 1 m)."""
    geo = gdf.geometry
    if tolerance_m > 0:
        geo = geo.to_crs(settings.crs).simplify(tolerance_m, preserve_topology=True)
    geo = geo.to_crs(settings.wgs84)
    return gpd.GeoSeries(shapely.set_precision(geo.values, 1e-5), index=gdf.index, crs=geo.crs)


def _round5(text: str) -> float:
    """Return a coordinate of the GeoJSON rounded to 1e-5 degrees, as it is read."""
    return round(float(text), 5)


def geojson_feature(geom: Any, props: dict[str, Any]) -> dict[str, Any]:
    gj = json.loads(shapely.to_geojson(geom), parse_float=_round5)
    gj.setdefault("coordinates", [])
    return {"type": "Feature", "geometry": gj, "properties": props}


def point_feature(lon: float, lat: float, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]},
        "properties": props,
    }


def lonlat(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat of a table: ``lon``/``lat`` columns, else point geometry."""
    if {"lon", "lat"} <= set(df.columns):
        lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(dtype=float)
        lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(dtype=float)
        if np.isfinite(lon).all() and np.isfinite(lat).all():
            return lon, lat
    if isinstance(df, gpd.GeoDataFrame):
        g = _to_wgs84(df).geometry
        return g.x.to_numpy(dtype=float), g.y.to_numpy(dtype=float)
    raise NwmGeoError("table needs lon/lat columns or point geometry")


def xy_bng(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """British National Grid x/y of a table, for matplotlib."""
    if isinstance(df, gpd.GeoDataFrame) and df.crs is not None:
        g = df.geometry.to_crs(settings.crs)
        return g.x.to_numpy(dtype=float), g.y.to_numpy(dtype=float)
    lon, lat = lonlat(df)
    g = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=settings.wgs84).to_crs(settings.crs)
    return g.x.to_numpy(dtype=float), g.y.to_numpy(dtype=float)


def bounds_of(*frames: pd.DataFrame | None) -> tuple[float, float, float, float] | None:
    boxes = []
    for f in frames:
        if f is None or len(f) == 0:
            continue
        if isinstance(f, gpd.GeoDataFrame):
            boxes.append(_to_wgs84(f).total_bounds)
        else:
            lon, lat = lonlat(f)
            boxes.append(np.array([lon.min(), lat.min(), lon.max(), lat.max()]))
    if not boxes:
        return None
    b = np.vstack(boxes)
    return (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max()))
