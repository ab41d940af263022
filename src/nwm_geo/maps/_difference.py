"""The difference map of a scenario: residents who lose access in one colour, gain in another.

In: the postcodes whose access changes (``nwm_geo.scenarios.Comparison.postcodes``:
``lon``, ``lat``, ``population``, ``measure``, ``change`` "loses"/"gains"), the wards
and plan, and the closed and added sites. Out: a ``folium.Map`` with one toggleable
layer per measure and change, drawn with the offline Leaflet layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from nwm_geo._checks import checks_crs
from nwm_geo.maps._folium import add_ward_labels, add_wards, dot_style, marker_radius, view_bounds
from nwm_geo.maps._geo import lonlat, point_feature
from nwm_geo.maps._leaflet import GeoJsonLayer, base_map, esc
from nwm_geo.maps._page import MapPage
from nwm_geo.maps._style import COVERED_COLOUR, GAP_COLOUR

if TYPE_CHECKING:
    import folium

__all__ = ["CLOSED_COLOUR", "OPENED_COLOUR", "difference_map"]

#: Marker colours of the closed and the added sites.
CLOSED_COLOUR: str = "#000000"
OPENED_COLOUR: str = "#1f78b4"


def _site_layer(m: folium.Map, sites: pd.DataFrame | None, *, what: str, colour: str) -> None:
    import folium

    if sites is None or len(sites) == 0:
        return
    lon, lat = lonlat(sites)
    feats = []
    for (aid, r), x, y in zip(sites.iterrows(), lon, lat, strict=True):
        style = {
            "radius": 8,
            "color": colour,
            "weight": 3,
            "fillColor": "#ffffff",
            "fillOpacity": 0.9,
            "className": f"nwm-{what}",
        }
        tip = f"{esc(what)}: {esc(r.get('name', ''))} ({esc(aid)}, {esc(r.get('category', ''))})"
        feats.append(point_feature(float(x), float(y), {"_style": style, "_tooltip": tip}))
    fg = folium.FeatureGroup(name=esc(f"Sites {what} ({len(sites)})"))
    GeoJsonLayer(feats).add_to(fg)
    fg.add_to(m)


@checks_crs
def difference_map(
    changes: pd.DataFrame,
    *,
    measures: Sequence[str],
    wards: gpd.GeoDataFrame | None = None,
    assignment: pd.Series | None = None,
    closed: pd.DataFrame | None = None,
    added: pd.DataFrame | None = None,
    page: MapPage | None = None,
    max_radius: float = 9.0,
) -> folium.Map:
    """Residents who lose access (red) and who gain it (green), one layer per measure.

    Parameters
    ----------
    changes
        One row per postcode and measure whose access changes: ``lon``, ``lat``,
        ``population``, ``measure``, ``change`` (``"loses"`` or ``"gains"``), and
        optionally ``locality`` and ``ward_name`` for the tooltips.
    measures
        The measures to draw, in layer order; the first one is shown.
    wards, assignment
        Ward boundaries, coloured by locality when the plan is given.
    closed, added
        The closed and the added sites (``name``, ``category``, ``lon``/``lat`` or
        point geometry), drawn as ringed markers.
    page
        Title, subtitle, network label, sources and tiles
        (:class:`~nwm_geo.maps.MapPage`); by default titled "What the scenario changes".
    max_radius
        Radius (pixels) of the largest postcode by population.

    Returns
    -------
    folium.Map
        Markers have class ``nwm-loses`` or ``nwm-gains``.
    """
    import folium

    legend = [
        ("postcode losing access (size = residents)", GAP_COLOUR, "point"),
        ("postcode gaining access", COVERED_COLOUR, "point"),
        ("site closed", CLOSED_COLOUR, "point"),
        ("site added", OPENED_COLOUR, "point"),
    ]
    page = (page or MapPage()).filled(title="What the scenario changes")
    m = base_map(page, legend=legend, legend_title="Change", bounds=view_bounds(wards, changes))
    add_wards(m, wards, assignment=assignment, fill=assignment is not None)
    pts = changes.copy()
    lon, lat = lonlat(pts) if len(pts) else (np.array([]), np.array([]))
    pts["_lon"], pts["_lat"] = lon, lat
    pts["_pop"] = pd.to_numeric(pts["population"], errors="coerce").fillna(0.0)
    top = float(pts["_pop"].max()) if len(pts) and pts["_pop"].max() > 0 else 1.0
    first = True
    for measure in measures:
        for change, colour in (("loses", GAP_COLOUR), ("gains", COVERED_COLOUR)):
            sel = pts[(pts["measure"] == measure) & (pts["change"] == change)] if len(pts) else pts
            if len(sel) == 0:
                continue
            feats = []
            for pid, r in sel.iterrows():
                people = float(r["_pop"])
                style = dot_style(
                    marker_radius(max(people, 0.0), top, largest=max_radius),
                    colour,
                    weight=1,
                    opacity=0.7,
                    class_name=f"nwm-{change}",
                )
                where = ", ".join(
                    esc(r[c]) for c in ("ward_name", "locality") if c in r.index and pd.notna(r[c])
                )
                verb = "lose" if change == "loses" else "gain"
                tip = (
                    f"{esc(r.get('postcode', pid))}: {people:,.0f} residents {verb} access to "
                    f"{esc(measure)}" + (f"<br>{where}" if where else "")
                )
                feats.append(
                    point_feature(
                        float(r["_lon"]), float(r["_lat"]), {"_style": style, "_tooltip": tip}
                    )
                )
            total = float(sel["_pop"].sum())
            verb = "lose" if change == "loses" else "gain"
            fg = folium.FeatureGroup(
                name=esc(f"{measure}: {total:,.0f} residents {verb} access"), show=first
            )
            GeoJsonLayer(feats).add_to(fg)
            fg.add_to(m)
        first = False
    _site_layer(m, closed, what="closed", colour=CLOSED_COLOUR)
    _site_layer(m, added, what="added", colour=OPENED_COLOUR)
    if wards is not None and len(wards):
        add_ward_labels(m, wards)
    # a long list of layers would cover the title: fold it behind the layers button
    folium.LayerControl(collapsed=2 * len(measures) > 8).add_to(m)
    return m
