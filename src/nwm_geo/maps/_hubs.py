"""Hub markers and their walk catchments, added to a locality map.

In: a folium map (e.g. :func:`~nwm_geo.maps.localities_map`), one row per hub with a
point geometry, and the hubs' walk catchments (:func:`nwm_geo.hubs.hub_catchments`).
Out: the same map with a "Hubs" layer (class ``nwm-hub``) and a "Hub walk catchments"
layer (class ``nwm-catchment``); every text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from nwm_geo._checks import checks_crs
from nwm_geo.maps._geo import geojson_feature, lonlat, point_feature, simplified
from nwm_geo.maps._leaflet import GeoJsonLayer, esc
from nwm_geo.maps._style import locality_colours

if TYPE_CHECKING:
    import folium

__all__ = ["add_hubs", "hub_points"]


def _num(value: object, fmt: str) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "n/a"
    return format(number, fmt) if math.isfinite(number) else "n/a"


@checks_crs
def add_hubs(
    m: folium.Map,
    hubs: gpd.GeoDataFrame,
    catchments: gpd.GeoDataFrame | None = None,
    *,
    minutes: float = 15.0,
    name: str = "Hubs",
    localities: Iterable[object] | None = None,
) -> folium.Map:
    """Add hub markers (and their walk catchments) to a map.

    Parameters
    ----------
    m
        The map (drawn in place and returned).
    hubs
        One row per locality with a hub: ``locality``, ``hub_asset_id``, ``hub_name``,
        ``residents_within``, ``share_pct``, ``mean_minutes`` and a point geometry.
    catchments
        Indexed by hub id (``hub_asset_id``), polygon geometry; None draws none.
    minutes
        The walk threshold, for the labels.
    name
        The markers' layer name.
    localities
        All the plan's localities (e.g. its assignment's values): markers and
        catchments take the colours of :func:`~nwm_geo.maps.locality_colours`, the
        ones the plan's wards have on every map. Default: the hubs' own localities.

    Returns
    -------
    folium.Map
    """
    import folium

    # the layer control lists the layers present when it is drawn: take it out, put it back
    controls = {k: v for k, v in m._children.items() if isinstance(v, folium.LayerControl)}
    for key in controls:
        del m._children[key]
    colours = locality_colours(hubs["locality"] if localities is None else localities)
    if catchments is not None and len(catchments):
        ok = catchments[catchments.geometry.notna() & ~catchments.geometry.is_empty]
        geoms = simplified(ok, 15.0)
        loc_of = dict(zip(hubs["hub_asset_id"], hubs["locality"], strict=False))
        feats = []
        for hid, geom in geoms.items():
            colour = colours.get(str(loc_of.get(hid, "")), "#999999")
            style = {
                "color": colour,
                "weight": 1.5,
                "dashArray": "4 3",
                "fillColor": colour,
                "fillOpacity": 0.12,
                "className": "nwm-catchment",
            }
            label = ok.at[hid, "name"] if "name" in ok.columns else hid
            tip = esc(f"{label}: {minutes:g}-minute walk")
            feats.append(geojson_feature(geom, {"_style": style, "_tooltip": tip}))
        fg = folium.FeatureGroup(name=esc(f"Hub {minutes:g}-minute walk catchments"))
        GeoJsonLayer(feats).add_to(fg)
        fg.add_to(m)
    shown = hubs[hubs["hub_asset_id"].astype(str) != ""]
    if len(shown):
        lon, lat = lonlat(shown)
        feats = []
        for (_, r), x, y in zip(shown.iterrows(), lon, lat, strict=True):
            style = {
                "radius": 9,
                "color": "#000000",
                "weight": 2,
                "fillColor": colours.get(str(r["locality"]), "#999999"),
                "fillOpacity": 1.0,
                "className": "nwm-hub",
            }
            popup = (
                f"<b>{esc(r['hub_name'])}</b><br>hub of {esc(r['locality'])}<br>"
                f"{_num(r['residents_within'], ',.0f')} residents within {minutes:g} minutes "
                f"({_num(r['share_pct'], '.1f')} %)<br>"
                f"mean walk {_num(r['mean_minutes'], '.1f')} min"
            )
            feats.append(
                point_feature(
                    x, y, {"_style": style, "_popup": popup, "_tooltip": esc(r["hub_name"])}
                )
            )
        fg = folium.FeatureGroup(name=esc(name))
        GeoJsonLayer(feats).add_to(fg)
        fg.add_to(m)
    for key, control in controls.items():
        m.add_child(control, name=key)
    return m


@checks_crs
def hub_points(hubs: pd.DataFrame, candidates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the hubs table with each hub's point geometry (from the candidates)."""
    ids = hubs["hub_asset_id"].astype(str)
    shown = hubs[ids.isin(candidates.index)]
    geoms = candidates.geometry.reindex(shown["hub_asset_id"]).to_numpy()
    return gpd.GeoDataFrame(shown, geometry=list(geoms), crs=candidates.crs)
