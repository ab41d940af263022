"""The equity map: postcodes beyond the walk, coloured by the IMD 2019 decile of their area.

In: gap points (:func:`nwm_geo.requirements.gap_points`) joined with the demand
points' ``imd_decile`` and, optionally, a boolean column per measure for residents aged
65+ beyond the walk at their own speed. Out: a ``folium.Map`` drawn with
:mod:`._leaflet` layers only (offline), one layer per measure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from nwm_geo._checks import checks_crs
from nwm_geo._errors import NwmGeoError
from nwm_geo._units import resolve_minutes
from nwm_geo.maps._folium import add_ward_labels, add_wards, dot_style, marker_radius, view_bounds
from nwm_geo.maps._geo import lonlat, point_feature
from nwm_geo.maps._leaflet import GeoJsonLayer, base_map, esc
from nwm_geo.maps._page import MapPage

if TYPE_CHECKING:
    import folium

__all__ = ["IMD_DECILE_COLOURS", "deprivation_gaps_map"]

#: One colour per IMD decile, 1 (most deprived, dark red) to 10 (least, dark blue): the
#: diverging ColorBrewer RdYlBu scheme (Brewer, colorbrewer2.org), 10 classes.
IMD_DECILE_COLOURS: dict[int, str] = dict(
    zip(
        range(1, 11),
        (
            "#a50026",
            "#d73027",
            "#f46d43",
            "#fdae61",
            "#fee090",
            "#e0f3f8",
            "#abd9e9",
            "#74add1",
            "#4575b4",
            "#313695",
        ),
        strict=True,
    )
)


def _layer(
    pts: pd.DataFrame,
    *,
    flag: str,
    people: str,
    name: str,
    show: bool,
    max_radius: float,
    what: str,
) -> folium.FeatureGroup:
    import folium

    sub = pts[pts[flag].astype(bool)]
    count = pd.to_numeric(sub[people], errors="coerce").fillna(0.0).clip(lower=0.0)
    top = float(count.max()) if len(count) and count.max() > 0 else 1.0
    feats = []
    rows = zip(sub.index, sub["imd_decile"], sub["_lon"], sub["_lat"], count, strict=True)
    for pid, imd_decile, lon, lat, n in rows:
        decile = int(imd_decile)
        colour = IMD_DECILE_COLOURS.get(decile, "#999999")
        style = dot_style(
            marker_radius(n, top, largest=max_radius),
            colour,
            weight=0.5,
            opacity=0.85,
            class_name="nwm-equity-gap",
            edge="#333333",
        )
        tip = f"{esc(pid)}: {n:,.0f} {esc(what)}; IMD decile {decile}"
        feats.append(point_feature(float(lon), float(lat), {"_style": style, "_tooltip": tip}))
    fg = folium.FeatureGroup(name=esc(f"{name}: {float(count.sum()):,.0f} {what}"), show=show)
    GeoJsonLayer(feats).add_to(fg)
    return fg


@checks_crs
def deprivation_gaps_map(
    points: pd.DataFrame,
    *,
    measures: Sequence[str],
    older: Mapping[str, str] | None = None,
    wards: gpd.GeoDataFrame | None = None,
    minutes: float | None = None,
    speeds_note: str = "",
    page: MapPage | None = None,
    max_radius: float = 9.0,
) -> folium.Map:
    """Postcodes beyond the walk, coloured by IMD decile, one layer per measure.

    Parameters
    ----------
    points
        Gap points with ``lon``, ``lat``, ``population``, ``imd_decile`` and a boolean
        column per measure (True = beyond the walk at the default speed); for
        ``older``, also ``age_65_plus``.
    measures
        The measures to draw (the first is shown, the others can be switched on).
    older
        Measure → a boolean column of ``points`` marking the postcodes whose residents
        aged 65+ are beyond the walk at their own speed: adds one layer per measure,
        sized by those residents.
    wards
        Ward boundaries to draw and name; the map is framed to them (postcodes
        outside are drawn, not framed).
    minutes
        The threshold, for the title (default ``settings.walk_minutes``).
    speeds_note
        The walking speeds used (:meth:`nwm_geo.equity.EquityTables.speeds_note`),
        shown under the title.
    page
        Title, subtitle, network label, sources and tiles
        (:class:`~nwm_geo.maps.MapPage`).
    max_radius
        Radius (pixels) of the largest postcode.

    Returns
    -------
    folium.Map
        Markers have class ``nwm-equity-gap``.

    Raises
    ------
    NwmGeoError
        If a needed column is missing.
    """
    import folium

    mins = resolve_minutes(minutes)
    needed = ["imd_decile", "population", *measures, *(older or {}).values()]
    if older:
        needed.append("age_65_plus")
    missing = [c for c in needed if c not in points.columns]
    if missing:
        raise NwmGeoError(f"points have no column(s) {missing}")
    legend = [
        (
            f"IMD decile {d}" + {1: " (most deprived)", 10: " (least deprived)"}.get(d, ""),
            c,
            "point",
        )
        for d, c in IMD_DECILE_COLOURS.items()
    ]
    page = (page or MapPage()).filled(
        title=f"Residents beyond a {mins:g}-minute walk, by deprivation",
        subtitle=(
            "Postcodes coloured by the IMD 2019 decile of their LSOA 2011 (size = residents). "
            + speeds_note
        ),
    )
    m = base_map(
        page, legend=legend, legend_title="IMD 2019 decile", bounds=view_bounds(wards, points)
    )
    add_wards(m, wards)
    pts = points.copy()
    lon, lat = lonlat(pts) if len(pts) else (np.array([]), np.array([]))
    pts["_lon"], pts["_lat"] = lon, lat
    for i, measure in enumerate(measures):
        _layer(
            pts,
            flag=measure,
            people="population",
            name=measure,
            show=i == 0,
            max_radius=max_radius,
            what="residents beyond",
        ).add_to(m)
        if older and measure in older:
            _layer(
                pts,
                flag=older[measure],
                people="age_65_plus",
                name=f"{measure}, aged 65+ at their speed",
                show=False,
                max_radius=max_radius,
                what="residents aged 65+ beyond",
            ).add_to(m)
    if wards is not None and len(wards):
        add_ward_labels(m, wards)
    folium.LayerControl(collapsed=False).add_to(m)
    return m
