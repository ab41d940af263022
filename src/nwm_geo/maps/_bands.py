"""The travel-time map: every postcode coloured by its walk to the nearest site.

One radio-button layer per bundle (or category): each postcode is drawn in the colour
of its travel-time band (:data:`nwm_geo.coverage.TIME_BANDS`: <= 5, <= 10, <= 15,
<= 20, <= 30, > 30 minutes), sized by its residents, so a reader sees how far beyond
the threshold people are, not only whether they are within it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from nwm_geo import coverage
from nwm_geo._checks import checks_crs
from nwm_geo._errors import NwmGeoError
from nwm_geo.maps._folium import (
    add_ward_labels,
    add_wards,
    dot_style,
    marker_radius,
    radio_layer,
    view_bounds,
)
from nwm_geo.maps._geo import lonlat, point_feature
from nwm_geo.maps._leaflet import GeoJsonLayer, base_map, esc
from nwm_geo.maps._page import MapPage

if TYPE_CHECKING:
    import folium

__all__ = ["BAND_COLOURS", "travel_time_map"]

#: One colour per band, near to far (colour-blind-safe sequential, viridis-like to red).
#: The largest marker radius (pixels): the postcode with the most residents.
_MAX_RADIUS = 7.0

BAND_COLOURS: tuple[str, ...] = ("#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#d73027")


@checks_crs
def travel_time_map(
    points: pd.DataFrame,
    nearest: pd.DataFrame,
    *,
    measures: Sequence[str],
    wards: gpd.GeoDataFrame | None = None,
    speed_m_per_min: float | None = None,
    page: MapPage | None = None,
) -> folium.Map:
    """Postcodes coloured by travel-time band, one radio-button layer per measure.

    Parameters
    ----------
    points
        Demand points with ``population`` and ``lon``/``lat`` (or a geometry).
    nearest
        Minutes to the nearest site per measure (:func:`nwm_geo.coverage.nearest_minutes`).
    measures
        The columns of ``nearest`` to draw; the first is shown.
    wards
        Ward boundaries to draw and name; the map is framed to them.
    speed_m_per_min
        The speed the minutes were computed at (the tolerance of "within").
    page
        Title, subtitle, network label, sources and tiles
        (:class:`~nwm_geo.maps.MapPage`).

    Returns
    -------
    folium.Map
        Markers have classes ``nwm-band-<b>`` (``b`` the band) and ``nwm-measure-<i>``.
    """
    import folium

    missing = [m for m in measures if m not in nearest.columns]
    if missing:
        raise NwmGeoError(f"nearest has no column(s) {missing}")
    labels = coverage.band_labels()
    legend = [(f"{lab} walk", c, "point") for lab, c in zip(labels, BAND_COLOURS, strict=True)]
    page = (page or MapPage()).filled(
        title="Walking time to the nearest site, in bands",
        subtitle="Each postcode in the colour of its walk to the nearest site (size = "
        "residents). Pick one layer at a time: " + "; ".join(measures),
    )
    m = base_map(
        page, legend=legend, legend_title="Walking time", bounds=view_bounds(wards, points)
    )
    add_wards(m, wards)
    lon, lat = lonlat(points)
    pop = pd.to_numeric(points["population"], errors="coerce").fillna(0.0).clip(lower=0.0)
    top = float(pop.max()) if len(pop) and pop.max() > 0 else 1.0
    people_at = pop.to_numpy(dtype=float)
    shown = [j for j in range(len(points)) if people_at[j] > 0]
    names = {j: esc(points.index[j]) for j in shown}  # the same in every layer
    for i, measure in enumerate(measures):
        mins = nearest[measure].reindex(points.index)
        band = coverage.band_of(mins, speed_m_per_min=speed_m_per_min)
        minutes_at = mins.to_numpy(dtype=float)
        what = esc(measure)
        feats = []
        for j in shown:
            people = float(people_at[j])
            b = int(band[j])
            style = dot_style(
                marker_radius(people, top, smallest=1.5, largest=_MAX_RADIUS),
                BAND_COLOURS[b],
                weight=0,
                opacity=0.8,
                class_name=f"nwm-band-{b} nwm-measure-{i}",
            )
            minutes = minutes_at[j]
            when = f"{float(minutes):.0f} min" if pd.notna(minutes) else "no route"
            tip = f"{names[j]}: {people:,.0f} residents, {when} to {what}"
            feats.append(
                point_feature(float(lon[j]), float(lat[j]), {"_style": style, "_tooltip": tip})
            )
        radio_layer(measure, i, GeoJsonLayer(feats)).add_to(m)
    if wards is not None and len(wards):
        add_ward_labels(m, wards)
    folium.LayerControl(collapsed=False).add_to(m)
    return m
