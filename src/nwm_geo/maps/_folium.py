"""The four interactive maps: localities, assets, gaps and walksheds (folium, offline).

In: wards (GeoDataFrame indexed by ``ward_code`` with ``ward_name``), the ward ->
locality ``assignment``, the asset register, gap points from
:mod:`nwm_geo.requirements`, walksheds from :mod:`nwm_geo.coverage`, and the network
label. Out: ``folium.Map`` objects drawn with :mod:`._leaflet` layers only.

Popups show a fixed list of public fields only (:data:`POPUP_FIELDS`; no phone numbers
or contact names), and every text goes through :func:`._leaflet._esc`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from nwm_geo import settings
from nwm_geo._errors import NwmGeoError
from nwm_geo._units import resolve_minutes
from nwm_geo.maps._geo import _bounds, _feature, _lonlat, _point_feature, _simplified
from nwm_geo.maps._leaflet import _base_map, _esc, _GeoJsonLayer
from nwm_geo.maps._style import (
    _SHARE_BANDS,
    GAP_COLOUR,
    _share_colour,
    category_colour,
    locality_colour,
    locality_colours,
)

#: The only register fields shown in popups (public facts; no phone or contact names).
POPUP_FIELDS: tuple[tuple[str, str], ...] = (
    ("category", "Category"),
    ("subtype", "Type"),
    ("address", "Address"),
    ("postcode", "Postcode"),
    ("ward_name", "Ward"),
    ("locality", "Locality"),
    ("source", "Source"),
    ("source_date", "Source date"),
    ("licence", "Licence"),
)


def _ward_features(
    wards: gpd.GeoDataFrame,
    *,
    assignment: pd.Series | None,
    fill: bool,
    tolerance_m: float,
) -> list[dict[str, Any]]:
    geoms = _simplified(wards, tolerance_m)
    names = (
        wards["ward_name"] if "ward_name" in wards.columns else pd.Series(wards.index, wards.index)
    )
    feats = []
    palette = locality_colours(assignment.dropna()) if assignment is not None else {}
    for code, geom in geoms.items():
        loc = None
        if assignment is not None:
            v = assignment.get(code)
            loc = None if v is None or pd.isna(v) else str(v)
        colour = palette.get(loc, locality_colour(loc)) if loc is not None else "#cccccc"
        style = {
            "color": "#555555",
            "weight": 1,
            "fillColor": colour,
            "fillOpacity": 0.45 if fill and loc is not None else 0.08,
            "className": "nwm-ward",
        }
        tip = f"{_esc(names.get(code))} ({_esc(code)})"
        if loc is not None:
            tip += f" &ndash; {_esc(loc)}"
        feats.append(_feature(geom, {"_style": style, "_tooltip": tip}))
    return feats


def _add_wards(
    m: folium.Map,
    wards: gpd.GeoDataFrame | None,
    *,
    assignment: pd.Series | None = None,
    fill: bool = False,
    tolerance_m: float = 10.0,
    name: str = "Ward boundaries",
) -> None:
    if wards is None or len(wards) == 0:
        return
    fg = folium.FeatureGroup(name=_esc(name), control=True)
    _GeoJsonLayer(
        _ward_features(wards, assignment=assignment, fill=fill, tolerance_m=tolerance_m)
    ).add_to(fg)
    fg.add_to(m)


# ---------------------------------------------------------------------------
# the four folium maps


def localities_map(
    wards: gpd.GeoDataFrame,
    assignment: pd.Series,
    *,
    title: str = "Neighbourhood Working Model: localities",
    subtitle: str | None = "Luton's wards grouped into localities",
    network_label: str | None = None,
    attribution: str | None = None,
    tiles: str | None = None,
    tolerance_m: float = 10.0,
) -> folium.Map:
    """Wards coloured by locality, with a label per locality.

    Parameters
    ----------
    wards
        Indexed by ``ward_code``, with ``ward_name`` and geometry (any CRS).
    assignment
        ``ward_code -> locality``.
    title, subtitle
        Shown at the top of the map.
    network_label
        ``network_label(G)``; shown with the sources.
    attribution
        Sources and licences; ``settings.attribution`` by default.
    tiles
        A folium tile name (needs the internet); ``None`` draws no tiles.
    tolerance_m
        Boundary simplification, metres.

    Returns
    -------
    folium.Map
    """
    locs = sorted({str(v) for v in assignment.dropna()})
    palette = locality_colours(locs)
    legend = [(loc, palette[loc], "area") for loc in locs]
    m = _base_map(
        title=title,
        subtitle=subtitle,
        legend=legend,
        legend_title="Locality",
        network_label=network_label,
        attribution=attribution,
        tiles=tiles,
        bounds=_bounds(wards),
    )
    _add_wards(m, wards, assignment=assignment, fill=True, tolerance_m=tolerance_m, name="Wards")
    # one label per locality, at a point inside its dissolved wards
    w = wards.to_crs(settings.crs).copy()
    w["locality"] = w.index.map(lambda c: assignment.get(c))
    w = w[w["locality"].notna()]
    labels = []
    if len(w):
        dissolved = w.dissolve(by="locality")
        pts = dissolved.geometry.representative_point().to_crs(settings.wgs84)
        for loc, pt in pts.items():
            labels.append(_point_feature(pt.x, pt.y, {"_label": _esc(loc)}))
    fg = folium.FeatureGroup(name="Locality names")
    _GeoJsonLayer(labels).add_to(fg)
    fg.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def _asset_popup(row: pd.Series, asset_id: object) -> str:
    parts = [f"<b>{_esc(row.get('name'))}</b>"]
    for col, label in POPUP_FIELDS:
        val = row.get(col)
        if val is None or (not isinstance(val, str) and pd.isna(val)) or str(val) == "":
            continue
        parts.append(f"{_esc(label)}: {_esc(val)}")
    parts.append(f"Asset id: {_esc(asset_id)}")
    return "<br>".join(parts)


def assets_map(  # noqa: PLR0913
    assets: pd.DataFrame,
    *,
    wards: gpd.GeoDataFrame | None = None,
    assignment: pd.Series | None = None,
    categories: Sequence[str] | None = None,
    title: str = "Community assets by category",
    subtitle: str | None = None,
    network_label: str | None = None,
    attribution: str | None = None,
    tiles: str | None = None,
    radius: float = 6.0,
) -> folium.Map:
    """Assets as circle markers, one toggleable layer per category.

    Parameters
    ----------
    assets
        The register (indexed by ``asset_id``) with ``name``, ``category``, and
        ``lon``/``lat`` or point geometry.
    wards
        Ward boundaries to draw (recommended without tiles).
    assignment
        ``ward_code -> locality``; adds the locality to popups.
    categories
        Categories to draw, in legend order; the council's 14 by default (only those
        present get a layer).
    title, subtitle, network_label, attribution, tiles
        As for :func:`localities_map`.
    radius
        Marker radius in pixels.

    Returns
    -------
    folium.Map
        One ``FeatureGroup`` per category (named "<category> (n)"), a layer control,
        and markers with class ``nwm-asset``.
    """
    categories = list(settings.CATEGORIES) if categories is None else list(categories)
    extra = sorted(set(assets["category"].dropna().astype(str)) - set(categories))
    present = [c for c in [*categories, *extra] if (assets["category"] == c).any()]
    legend = [(c, category_colour(c), "point") for c in present]
    m = _base_map(
        title=title,
        subtitle=subtitle or f"{len(assets)} assets; click a marker for details",
        legend=legend,
        legend_title="Category",
        network_label=network_label,
        attribution=attribution,
        tiles=tiles,
        bounds=_bounds(wards, assets),
    )
    _add_wards(m, wards, assignment=assignment)
    table = assets.copy()
    if assignment is not None and "ward_code" in table.columns:
        table["locality"] = table["ward_code"].map(assignment)
    lon, lat = _lonlat(table)
    table["_lon"], table["_lat"] = lon, lat
    for cat in present:
        sub = table[table["category"] == cat]
        colour = category_colour(cat)
        style = {
            "radius": radius,
            "color": "#222222",
            "weight": 1,
            "fillColor": colour,
            "fillOpacity": 0.9,
            "className": "nwm-asset",
        }
        feats = [
            _point_feature(
                float(r["_lon"]),
                float(r["_lat"]),
                {"_style": style, "_popup": _asset_popup(r, aid), "_tooltip": _esc(r.get("name"))},
            )
            for aid, r in sub.iterrows()
        ]
        fg = folium.FeatureGroup(name=_esc(f"{cat} ({len(sub)})"))
        _GeoJsonLayer(feats).add_to(fg)
        fg.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def gaps_map(  # noqa: PLR0913
    gap_points: pd.DataFrame,
    *,
    measures: Sequence[str],
    wards: gpd.GeoDataFrame | None = None,
    areas: gpd.GeoDataFrame | None = None,
    area_gaps: pd.DataFrame | None = None,
    minutes: float | None = None,
    title: str | None = None,
    subtitle: str | None = None,
    network_label: str | None = None,
    attribution: str | None = None,
    tiles: str | None = None,
    max_radius: float = 9.0,
) -> folium.Map:
    """Residents beyond the walk, one toggleable layer per measure (bundle or category).

    Parameters
    ----------
    gap_points
        :func:`nwm_geo.requirements.gap_points`: ``population``, ``lon``, ``lat``,
        ``locality``, ``ward_code``, ``lsoa_code`` and a boolean column per measure.
    measures
        The measures to draw (columns of ``gap_points``); the first one is shown, the
        others can be switched on.
    wards
        Ward boundaries to draw.
    areas, area_gaps
        Optional areas (e.g. LSOAs, indexed by code) and
        :func:`nwm_geo.requirements.gap_population` for them (``by="lsoa"``): adds a
        layer per measure shading each area by its share of residents beyond the walk.
    minutes
        For the subtitle; ``settings.walk_minutes`` by default (``None``).
    title, subtitle, network_label, attribution, tiles
        As for :func:`localities_map`.
    max_radius
        Radius (pixels) of the largest postcode by population.

    Returns
    -------
    folium.Map
        Markers have class ``nwm-gap``; areas ``nwm-area``.
    """
    minutes = resolve_minutes(minutes)
    missing = [c for c in measures if c not in gap_points.columns]
    if missing:
        raise NwmGeoError(f"gap_points has no column(s) {missing}")
    title = title or f"Residents beyond a {minutes:g}-minute walk"
    legend = [
        (f"postcode beyond {minutes:g} min (size = residents)", GAP_COLOUR, "point"),
    ]
    if areas is not None and area_gaps is not None:
        legend += [(f"area: {label}", colour, "area") for colour, label in _SHARE_BANDS]
    m = _base_map(
        title=title,
        subtitle=subtitle or "Layers: " + "; ".join(measures),
        legend=legend,
        legend_title="Gap",
        network_label=network_label,
        attribution=attribution,
        tiles=tiles,
        bounds=_bounds(wards, gap_points),
    )
    _add_wards(m, wards)
    pts = gap_points.copy()
    lon, lat = _lonlat(pts) if len(pts) else (np.array([]), np.array([]))
    pts["_lon"], pts["_lat"] = lon, lat
    pop = pd.to_numeric(pts.get("population", pd.Series(0.0, index=pts.index)), errors="coerce")
    pts["_pop"] = pop.fillna(0.0).clip(lower=0.0)
    top = float(pts["_pop"].max()) if len(pts) and pts["_pop"].max() > 0 else 1.0
    for i, measure in enumerate(measures):
        if areas is not None and area_gaps is not None:
            _add_area_layer(m, areas, area_gaps, measure=measure, show=i == 0)
        sub = pts[pts[measure].astype(bool)]
        feats = []
        for pid, r in sub.iterrows():
            people = float(r["_pop"])
            rad = 2.0 + (max_radius - 2.0) * np.sqrt(people / top)
            style = {
                "radius": round(float(rad), 1),
                "color": GAP_COLOUR,
                "weight": 1,
                "fillColor": GAP_COLOUR,
                "fillOpacity": 0.6,
                "className": "nwm-gap",
            }
            tip = f"{_esc(pid)}: {people:,.0f} residents beyond {minutes:g} min ({_esc(measure)})"
            if "locality" in r.index:
                tip += f"<br>Locality: {_esc(r['locality'])}"
            feats.append(
                _point_feature(
                    float(r["_lon"]), float(r["_lat"]), {"_style": style, "_tooltip": tip}
                )
            )
        total = float(sub["_pop"].sum())
        fg = folium.FeatureGroup(
            name=_esc(f"{measure}: {total:,.0f} residents beyond"), show=i == 0
        )
        _GeoJsonLayer(feats).add_to(fg)
        fg.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def _add_area_layer(
    m: folium.Map,
    areas: gpd.GeoDataFrame,
    area_gaps: pd.DataFrame,
    *,
    measure: str,
    show: bool,
) -> None:
    tab = (
        area_gaps.xs(measure, level="measure") if "measure" in area_gaps.index.names else area_gaps
    )
    geoms = _simplified(areas, 10.0)
    feats = []
    for code, geom in geoms.items():
        share = float(tab["gap_share"].get(code, np.nan)) if "gap_share" in tab else np.nan
        gap = float(tab["gap_population"].get(code, 0.0)) if "gap_population" in tab else 0.0
        style = {
            "color": "#777777",
            "weight": 0.5,
            "fillColor": _share_colour(share),
            "fillOpacity": 0.55,
            "className": "nwm-area",
        }
        pct = f"{100 * share:.0f} %" if np.isfinite(share) else "n/a"
        tip = f"{_esc(code)}: {gap:,.0f} residents beyond ({pct}) &ndash; {_esc(measure)}"
        feats.append(_feature(geom, {"_style": style, "_tooltip": tip}))
    fg = folium.FeatureGroup(name=_esc(f"{measure}: share beyond, by area"), show=show)
    _GeoJsonLayer(feats).add_to(fg)
    fg.add_to(m)


def walksheds_map(  # noqa: PLR0913
    walksheds: gpd.GeoDataFrame,
    *,
    assets: pd.DataFrame | None = None,
    wards: gpd.GeoDataFrame | None = None,
    minutes: float | None = None,
    title: str | None = None,
    subtitle: str | None = None,
    network_label: str | None = None,
    attribution: str | None = None,
    tiles: str | None = None,
    tolerance_m: float = 15.0,
) -> folium.Map:
    """Walksheds (areas within the walk), one layer per category.

    Parameters
    ----------
    walksheds
        ``nwm_geo.coverage.walksheds(...)``: indexed by ``asset_id`` with ``category``
        (and ``name``), or indexed by ``category``.
    assets
        Optional register to draw the assets on top (class ``nwm-asset``).
    wards
        Ward boundaries to draw.
    minutes
        For the title; ``settings.walk_minutes`` by default (``None``).
    title, subtitle, network_label, attribution, tiles
        As for :func:`localities_map`.
    tolerance_m
        Polygon simplification, metres.

    Returns
    -------
    folium.Map
        Walkshed polygons have class ``nwm-walkshed``.
    """
    minutes = resolve_minutes(minutes)
    ws = walksheds[walksheds.geometry.notna() & ~walksheds.geometry.is_empty]
    cats = ws["category"].astype(str) if "category" in ws.columns else ws.index.astype(str)
    cats = pd.Series(np.asarray(cats), index=ws.index)
    order = [c for c in settings.CATEGORIES if (cats == c).any()]
    order += sorted(set(cats) - set(order))
    m = _base_map(
        title=title or f"{minutes:g}-minute walksheds",
        subtitle=subtitle or "Areas within the walk of an asset, by category",
        legend=[(c, category_colour(c), "area") for c in order],
        legend_title="Category",
        network_label=network_label,
        attribution=attribution,
        tiles=tiles,
        bounds=_bounds(wards, ws),
    )
    _add_wards(m, wards)
    geoms = _simplified(ws, tolerance_m)
    for i, cat in enumerate(order):
        colour = category_colour(cat)
        style = {
            "color": colour,
            "weight": 1,
            "fillColor": colour,
            "fillOpacity": 0.25,
            "className": "nwm-walkshed",
        }
        feats = []
        for idx in cats.index[cats == cat]:
            label = ws.at[idx, "name"] if "name" in ws.columns else idx
            feats.append(_feature(geoms[idx], {"_style": style, "_tooltip": _esc(label)}))
        fg = folium.FeatureGroup(name=_esc(f"{cat} ({len(feats)})"), show=i == 0)
        _GeoJsonLayer(feats).add_to(fg)
        fg.add_to(m)
    if assets is not None and len(assets):
        lon, lat = _lonlat(assets)
        feats = []
        for (aid, r), x, y in zip(assets.iterrows(), lon, lat, strict=True):
            style = {
                "radius": 4,
                "color": "#222222",
                "weight": 1,
                "fillColor": category_colour(str(r.get("category"))),
                "fillOpacity": 0.9,
                "className": "nwm-asset",
            }
            feats.append(
                _point_feature(
                    float(x),
                    float(y),
                    {
                        "_style": style,
                        "_popup": _asset_popup(r, aid),
                        "_tooltip": _esc(r.get("name")),
                    },
                )
            )
        fg = folium.FeatureGroup(name="Assets")
        _GeoJsonLayer(feats).add_to(fg)
        fg.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m
