"""Maps: interactive folium maps that render offline, and static matplotlib maps.

In: wards (GeoDataFrame indexed by ``ward_code`` with ``ward_name``), the ward ->
locality ``assignment``, the asset register, demand points / gap points from
:mod:`nwm_geo.requirements`, walksheds from :mod:`nwm_geo.coverage`, and the
network label string.

Out: ``folium.Map`` objects (:func:`localities_map`, :func:`assets_map`,
:func:`gaps_map`, :func:`walksheds_map`), saved with :func:`save_map`, and
matplotlib figures (:func:`plot_localities`, :func:`plot_coverage`,
:func:`plot_assets`), saved with :func:`save_figure`.

Every map has a title, a legend, the data sources and licences, and the network
label (e.g. "network: approximate (postcode proximity), not OSM"). Colours are fixed:
:data:`CATEGORY_COLOURS` (the council's 14 categories, in order) and
:func:`locality_colour`, the same in folium and matplotlib.

Offline: folium loads Leaflet, jQuery and Bootstrap from CDNs. These maps use none of
the CDN files: Leaflet 1.9.3 (BSD-2, vendored in ``nwm_geo/_static/leaflet``) is
inlined into each HTML file, and all layers, popups, legends and labels are drawn
with plain Leaflet calls, so a saved map opens from a USB stick with no internet.
Tiles are off by default (``tiles=None``); ward boundaries are drawn instead.

Safety: every text from an input file (asset names, addresses, sources) is
HTML-escaped, and the characters that matter inside JavaScript strings are escaped
too. Popups show a fixed list of public fields only (no phone numbers or contact
names).
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import zlib
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from nwm_geo import settings
from nwm_geo._errors import NwmGeoError
from nwm_geo._io import atomic_path

__all__ = [
    "CATEGORY_COLOURS",
    "COVERED_COLOUR",
    "GAP_COLOUR",
    "LOCALITY_COLOURS",
    "MAX_MAP_BYTES",
    "POPUP_FIELDS",
    "assets_map",
    "category_colour",
    "gaps_map",
    "localities_map",
    "locality_colour",
    "map_html",
    "plot_assets",
    "plot_coverage",
    "plot_localities",
    "save_figure",
    "save_map",
    "walksheds_map",
]

#: One colour per council category, in the council's order (settings.CATEGORIES).
CATEGORY_COLOURS: dict[str, str] = dict(
    zip(
        settings.CATEGORIES,
        (
            "#1f77b4",  # Religious Institution
            "#ff7f0e",  # Education
            "#2ca02c",  # GP / Medical Centre
            "#d62728",  # Community Centre
            "#9467bd",  # Sports and Leisure
            "#8c564b",  # Library
            "#e377c2",  # LBC Community Centre
            "#17becf",  # Council
            "#7f7f7f",  # Crime and Justice
            "#bcbd22",  # Health
            "#393b79",  # Advice Services
            "#ad494a",  # Fire and rescue
            "#637939",  # Cultural Centre
            "#e7969c",  # Charity
        ),
        strict=True,
    )
)

#: Fixed, distinct locality colours for the nine compass names that
#: :func:`nwm_geo.localities.partition` gives (Tableau 10); other names get a stable colour from
#: :data:`_EXTRA_COLOURS` by a CRC32 of the name (the same in every session).
LOCALITY_COLOURS: dict[str, str] = {
    "Central": "#e15759",
    "North": "#4e79a7",
    "North East": "#76b7b2",
    "East": "#59a14f",
    "South East": "#edc948",
    "South": "#f28e2b",
    "South West": "#9c755f",
    "West": "#b07aa1",
    "North West": "#ff9da7",
    "outside the borough": "#bab0ac",
}
_EXTRA_COLOURS = ("#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#86bcb6", "#d37295", "#a0cbe8")

#: Colour of residents beyond the walk, and within it.
GAP_COLOUR: str = "#d7191c"
COVERED_COLOUR: str = "#1a9641"

#: Largest saved map, in bytes.
MAX_MAP_BYTES: int = 5 * 1024 * 1024

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

_LUTON_CENTRE = (51.8787, -0.4200)


def locality_colour(name: str) -> str:
    """Return the fixed colour of a locality (stable across sessions and map types)."""
    if name in LOCALITY_COLOURS:
        return LOCALITY_COLOURS[name]
    return _EXTRA_COLOURS[zlib.crc32(str(name).encode("utf-8")) % len(_EXTRA_COLOURS)]


def category_colour(category: str) -> str:
    """Return the fixed colour of a council category (grey for unknown ones)."""
    return CATEGORY_COLOURS.get(category, "#444444")


# ---------------------------------------------------------------------------
# escaping and GeoJSON


def _esc(value: object) -> str:
    """HTML-escape text for innerHTML, also neutralising JS template/escape characters."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    text = html.escape(str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def _js_json(obj: object) -> str:
    """JSON for a <script> block: cannot close the tag or start a comment."""
    text = json.dumps(obj, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise NwmGeoError("geometries need a CRS (EPSG:27700 or EPSG:4326)")
    return gdf.to_crs(settings.wgs84)


def _simplified(gdf: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoSeries:
    """Simplify in metres, return WGS84 geometries rounded to 1e-5 degrees (about 1 m)."""
    geo = gdf.geometry
    if tolerance_m > 0:
        geo = geo.to_crs(settings.crs).simplify(tolerance_m, preserve_topology=True)
    geo = geo.to_crs(settings.wgs84)
    return gpd.GeoSeries(shapely.set_precision(geo.values, 1e-5), index=gdf.index, crs=geo.crs)


def _round(obj: Any) -> Any:
    if isinstance(obj, float):
        return round(obj, 5)
    if isinstance(obj, list | tuple):
        return [_round(v) for v in obj]
    return obj


def _feature(geom: Any, props: dict[str, Any]) -> dict[str, Any]:
    gj = json.loads(shapely.to_geojson(geom))
    gj["coordinates"] = _round(gj.get("coordinates", []))
    return {"type": "Feature", "geometry": gj, "properties": props}


def _point_feature(lon: float, lat: float, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]},
        "properties": props,
    }


def _lonlat(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
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


def _xy_bng(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """British National Grid x/y of a table, for matplotlib."""
    if isinstance(df, gpd.GeoDataFrame) and df.crs is not None:
        g = df.geometry.to_crs(settings.crs)
        return g.x.to_numpy(dtype=float), g.y.to_numpy(dtype=float)
    lon, lat = _lonlat(df)
    g = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=settings.wgs84).to_crs(settings.crs)
    return g.x.to_numpy(dtype=float), g.y.to_numpy(dtype=float)


class _GeoJsonLayer(MacroElement):
    """A GeoJSON layer drawn with plain Leaflet: per-feature style, popups, labels.

    Features carry ``_style`` (Leaflet path options), and optionally ``_popup`` and
    ``_tooltip`` (already escaped HTML) and ``_label`` (escaped HTML drawn as text).
    Points are circle markers.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var data = {{ this.data_json }};
            L.geoJSON(data, {
                style: function(f) { return f.properties._style || {}; },
                pointToLayer: function(f, ll) {
                    if (f.properties._label !== undefined) {
                        return L.marker(ll, {interactive: false, keyboard: false,
                            icon: L.divIcon({className: "nwm-label", html: f.properties._label,
                                             iconSize: null})});
                    }
                    return L.circleMarker(ll, f.properties._style || {});
                },
                onEachFeature: function(f, layer) {
                    if (f.properties._popup) { layer.bindPopup(f.properties._popup,
                                                               {maxWidth: 320}); }
                    if (f.properties._tooltip) { layer.bindTooltip(f.properties._tooltip); }
                }
            }).addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, features: list[dict[str, Any]]) -> None:
        super().__init__()
        self._name = "NwmGeoJsonLayer"
        self.data_json = _js_json({"type": "FeatureCollection", "features": features})


# ---------------------------------------------------------------------------
# offline assets


@cache
def _leaflet_assets() -> tuple[str, str]:
    """Return (css, js) of the vendored Leaflet, with the layer icons as data URIs."""
    base = resources.files("nwm_geo") / "_static" / "leaflet"
    css = (base / "leaflet.css").read_text(encoding="utf-8")
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    for name in ("layers.png", "layers-2x.png"):
        data = base64.b64encode((base / "images" / name).read_bytes()).decode("ascii")
        css = css.replace(f"url(images/{name})", f"url(data:image/png;base64,{data})")
    js = js.replace("</script", "<\\/script")
    return css, js


_PAGE_CSS = """
.nwm-box { position: absolute; z-index: 1000; background: rgba(255,255,255,0.92);
  padding: 6px 10px; border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,0.35);
  font: 13px/1.35 Arial, Helvetica, sans-serif; color: #222; }
.nwm-title { top: 10px; left: 50%; transform: translateX(-50%); text-align: center;
  max-width: 60%; }
.nwm-title h1 { font-size: 17px; margin: 0; }
.nwm-title p { margin: 2px 0 0 0; font-size: 12px; }
.nwm-legend { bottom: 28px; right: 10px; max-height: 45%; overflow-y: auto; }
.nwm-legend .sw { display: inline-block; width: 12px; height: 12px; margin-right: 6px;
  vertical-align: middle; border: 1px solid #555; }
.nwm-legend .sw.pt { border-radius: 50%; }
.nwm-attrib { bottom: 48px; left: 10px; max-width: 45%; font-size: 10.5px; }
.nwm-network { font-weight: bold; color: #a50f15; font-size: 12px; }
.nwm-label { font: bold 13px Arial, sans-serif; color: #111; white-space: nowrap;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff; background: none; border: none; }
"""


def _offline(m: folium.Map) -> None:
    """Drop folium's CDN links and inline the vendored Leaflet instead."""
    m.default_js = []
    m.default_css = []
    css, js = _leaflet_assets()
    root: Any = m.get_root()
    root.header.add_child(Element(f"<style>{css}</style>"), name="nwm_leaflet_css")
    root.header.add_child(Element(f"<script>{js}</script>"), name="nwm_leaflet_js")
    root.header.add_child(Element(f"<style>{_PAGE_CSS}</style>"), name="nwm_page_css")


def _base_map(
    *,
    title: str,
    subtitle: str | None,
    legend: Sequence[tuple[str, str, str]],
    legend_title: str,
    network_label: str | None,
    attribution: str | None,
    tiles: str | None,
    bounds: tuple[float, float, float, float] | None,
) -> folium.Map:
    m = folium.Map(location=list(_LUTON_CENTRE), zoom_start=12, tiles=None, control_scale=True)
    _offline(m)
    if tiles is not None:
        folium.TileLayer(tiles, name="Background tiles").add_to(m)
    root: Any = m.get_root()
    root.title = _esc(title)  # branca inserts the page <title> unescaped
    sub = f"<p>{_esc(subtitle)}</p>" if subtitle else ""
    root.html.add_child(
        Element(f'<div class="nwm-box nwm-title" id="nwm-title"><h1>{_esc(title)}</h1>{sub}</div>')
    )
    items = "".join(
        f'<div><span class="sw{" pt" if kind == "point" else ""}" '
        f'style="background:{_esc(colour)}"></span>{_esc(label)}</div>'
        for label, colour, kind in legend
    )
    root.html.add_child(
        Element(
            f'<div class="nwm-box nwm-legend" id="nwm-legend"><b>{_esc(legend_title)}</b>'
            f"{items}</div>"
        )
    )
    attribution = settings.attribution if attribution is None else attribution
    net = (
        f'<div class="nwm-network" id="nwm-network">{_esc(network_label)}</div>'
        if network_label
        else ""
    )
    root.html.add_child(
        Element(
            f'<div class="nwm-box nwm-attrib" id="nwm-attrib">{net}'
            f"<div>Sources: {_esc(attribution)}</div></div>"
        )
    )
    if bounds is not None and all(np.isfinite(bounds)):
        minx, miny, maxx, maxy = bounds
        m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m


def _bounds(*frames: pd.DataFrame | None) -> tuple[float, float, float, float] | None:
    boxes = []
    for f in frames:
        if f is None or len(f) == 0:
            continue
        if isinstance(f, gpd.GeoDataFrame):
            boxes.append(_to_wgs84(f).total_bounds)
        else:
            lon, lat = _lonlat(f)
            boxes.append(np.array([lon.min(), lat.min(), lon.max(), lat.max()]))
    if not boxes:
        return None
    b = np.vstack(boxes)
    return (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max()))


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
    for code, geom in geoms.items():
        loc = None
        if assignment is not None:
            v = assignment.get(code)
            loc = None if v is None or pd.isna(v) else str(v)
        colour = locality_colour(loc) if loc is not None else "#cccccc"
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
    legend = [(loc, locality_colour(loc), "area") for loc in locs]
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


def assets_map(
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


def gaps_map(
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
        For the subtitle; ``settings.walk_minutes`` by default.
    title, subtitle, network_label, attribution, tiles
        As for :func:`localities_map`.
    max_radius
        Radius (pixels) of the largest postcode by population.

    Returns
    -------
    folium.Map
        Markers have class ``nwm-gap``; areas ``nwm-area``.
    """
    minutes = settings.walk_minutes if minutes is None else minutes
    missing = [c for c in measures if c not in gap_points.columns]
    if missing:
        raise NwmGeoError(f"gap_points has no column(s) {missing}")
    title = title or f"Residents beyond a {minutes:g}-minute walk"
    legend = [
        (f"postcode beyond {minutes:g} min (size = residents)", GAP_COLOUR, "point"),
    ]
    if areas is not None and area_gaps is not None:
        legend += [
            ("area: under 10 % beyond", "#fee5d9", "area"),
            ("area: 10-50 % beyond", "#fb6a4a", "area"),
            ("area: over 50 % beyond", "#a50f15", "area"),
        ]
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


def _share_colour(share: float) -> str:
    if not np.isfinite(share):
        return "#ffffff"
    if share < 0.1:
        return "#fee5d9"
    if share <= 0.5:
        return "#fb6a4a"
    return "#a50f15"


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


def walksheds_map(
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
        For the title; ``settings.walk_minutes`` by default.
    title, subtitle, network_label, attribution, tiles
        As for :func:`localities_map`.
    tolerance_m
        Polygon simplification, metres.

    Returns
    -------
    folium.Map
        Walkshed polygons have class ``nwm-walkshed``.
    """
    minutes = settings.walk_minutes if minutes is None else minutes
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


# ---------------------------------------------------------------------------
# saving


_REMOTE = re.compile(r"""<(?:script|link)\b[^>]*(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)


#: Calls into libraries that folium loads from CDNs and these maps do not inline
#: (awesome-markers icons; jQuery, used by ``folium.Popup``).
_NEEDS_CDN = ("L.AwesomeMarkers", "$(`", "$(document)", "jQuery(")


def map_html(m: folium.Map) -> str:
    """Render a map to one self-contained HTML string.

    Raises
    ------
    NwmGeoError
        If the page would load a script or stylesheet from the internet, or call a
        library that folium loads from a CDN (e.g. a ``folium.Marker`` icon or a
        ``folium.Popup`` added from outside this module).
    """
    page = m.get_root().render()
    if _REMOTE.search(page) or any(marker in page for marker in _NEEDS_CDN):
        raise NwmGeoError(
            "map HTML references a remote script or stylesheet, so it would not render "
            "offline; use the nwm_geo.maps layers only"
        )
    return page


def save_map(m: folium.Map, path: str | os.PathLike[str], *, max_bytes: int = MAX_MAP_BYTES) -> int:
    """Write a map as one self-contained HTML file, atomically.

    Parameters
    ----------
    m
        A map from this module.
    path
        Destination ``.html``.
    max_bytes
        Fail (and leave ``path`` unchanged) if the file would be larger.

    Returns
    -------
    int
        The file size in bytes.

    Raises
    ------
    NwmGeoError
        If the HTML is too large or refers to remote scripts.
    """
    data = map_html(m).encode("utf-8")
    if len(data) >= max_bytes:
        raise NwmGeoError(
            f"map is {len(data) / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit; "
            "simplify geometries (tolerance_m) or draw fewer layers"
        )
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return len(data)


# ---------------------------------------------------------------------------
# static matplotlib maps (Agg canvas, no pyplot state)


def _figure(figsize: tuple[float, float]) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _footer(fig: Figure, network_label: str | None, attribution: str | None) -> None:
    attribution = settings.attribution if attribution is None else attribution
    text = attribution if not network_label else f"{network_label}.  Sources: {attribution}"
    import textwrap

    fig.text(
        0.01,
        0.005,
        "\n".join(textwrap.wrap(text, 180)),
        fontsize=5.5,
        va="bottom",
        ha="left",
        color="#333333",
        gid="nwm-attribution",
    )


def _plain_axes(ax: Any) -> None:
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(False)


def plot_localities(
    wards: gpd.GeoDataFrame,
    assignment: pd.Series,
    *,
    title: str = "Neighbourhood Working Model: localities",
    network_label: str | None = None,
    attribution: str | None = None,
    figsize: tuple[float, float] = (7.0, 7.5),
) -> Figure:
    """Static map of wards coloured by locality, with locality names.

    Parameters
    ----------
    wards, assignment
        As for :func:`localities_map`.
    title, network_label, attribution
        Title, network label and sources shown on the figure.
    figsize
        Inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = _figure(figsize)
    ax = fig.add_subplot()
    w = wards.to_crs(settings.crs).copy()
    w["locality"] = [assignment.get(c) for c in w.index]
    colours = [
        locality_colour(str(v)) if v is not None and not pd.isna(v) else "#eeeeee"
        for v in w["locality"]
    ]
    w.plot(ax=ax, color=colours, edgecolor="#555555", linewidth=0.5)
    have = w[w["locality"].notna()]
    if len(have):
        for loc, pt in have.dissolve(by="locality").geometry.representative_point().items():
            ax.annotate(str(loc), (pt.x, pt.y), ha="center", fontsize=10, weight="bold")
    locs = sorted({str(v) for v in assignment.dropna()})
    handles = [Patch(facecolor=locality_colour(v), edgecolor="#555555", label=v) for v in locs]
    ax.legend(handles=handles, title="Locality", loc="lower right", fontsize=8)
    ax.set_title(title)
    _plain_axes(ax)
    _footer(fig, network_label, attribution)
    return fig


def plot_assets(
    assets: pd.DataFrame,
    *,
    wards: gpd.GeoDataFrame | None = None,
    categories: Sequence[str] | None = None,
    title: str = "Community assets by category",
    network_label: str | None = None,
    attribution: str | None = None,
    figsize: tuple[float, float] = (8.0, 7.5),
) -> Figure:
    """Static map of assets coloured by category (same colours as :func:`assets_map`).

    Parameters
    ----------
    assets
        The register with ``category`` and ``lon``/``lat`` or point geometry.
    wards
        Ward boundaries to draw.
    categories
        Categories in legend order; the council's 14 by default.
    title, network_label, attribution, figsize
        As for :func:`plot_localities`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = _figure(figsize)
    ax = fig.add_subplot()
    if wards is not None:
        wards.to_crs(settings.crs).plot(
            ax=ax, facecolor="#f7f7f7", edgecolor="#999999", linewidth=0.5
        )
    categories = list(settings.CATEGORIES) if categories is None else list(categories)
    x, y = _xy_bng(assets)
    cat = assets["category"].astype(str).to_numpy()
    handles = []
    for c in categories:
        sel = cat == c
        if not sel.any():
            continue
        ax.scatter(
            x[sel],
            y[sel],
            s=16,
            color=category_colour(c),
            edgecolor="#222222",
            linewidth=0.3,
            label=c,
            zorder=3,
        )
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                color=category_colour(c),
                markeredgecolor="#222222",
                label=f"{c} ({int(sel.sum())})",
            )
        )
    ax.legend(
        handles=handles, title="Category", loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7
    )
    ax.set_title(title)
    _plain_axes(ax)
    _footer(fig, network_label, attribution)
    return fig


def plot_coverage(
    points: pd.DataFrame,
    nearest: pd.DataFrame,
    *,
    measures: Sequence[str] | None = None,
    wards: gpd.GeoDataFrame | None = None,
    minutes: float | None = None,
    title: str | None = None,
    network_label: str | None = None,
    attribution: str | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Static small multiples: postcodes within / beyond the walk, one panel per measure.

    Parameters
    ----------
    points
        Demand points with ``population`` and ``lon``/``lat`` or point geometry.
    nearest
        ``nearest_minutes(...)`` on the same index.
    measures
        Columns of ``nearest``; the bundles by default.
    wards
        Ward boundaries to draw.
    minutes
        Threshold; ``settings.walk_minutes`` by default.
    title, network_label, attribution, figsize
        As for :func:`plot_localities`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    minutes = settings.walk_minutes if minutes is None else minutes
    measures = list(settings.BUNDLES) if measures is None else list(measures)
    missing = [c for c in measures if c not in nearest.columns]
    if missing:
        raise NwmGeoError(f"nearest_minutes has no column(s) {missing}")
    n = len(measures)
    fig = _figure(figsize or (4.2 * n, 5.0))
    x, y = _xy_bng(points)
    pop = pd.to_numeric(points["population"], errors="coerce").fillna(0.0).to_numpy()
    size = 1.0 + 14.0 * np.sqrt(pop / pop.max()) if pop.max() > 0 else np.full(len(pop), 2.0)
    w = wards.to_crs(settings.crs) if wards is not None else None
    for i, measure in enumerate(measures):
        ax = fig.add_subplot(1, n, i + 1)
        if w is not None:
            w.plot(ax=ax, facecolor="#f7f7f7", edgecolor="#999999", linewidth=0.4)
        t = pd.to_numeric(nearest[measure].reindex(points.index), errors="coerce").to_numpy()
        within = t <= minutes
        ax.scatter(
            x[within], y[within], s=size[within], color=COVERED_COLOUR, linewidth=0, alpha=0.6
        )
        ax.scatter(
            x[~within], y[~within], s=size[~within], color=GAP_COLOUR, linewidth=0, alpha=0.8
        )
        total = pop.sum()
        share = 100.0 * pop[within].sum() / total if total > 0 else float("nan")
        ax.set_title(f"{measure}\n{share:.1f} % of residents within {minutes:g} min", fontsize=9)
        _plain_axes(ax)
    handles = [
        Line2D(
            [], [], marker="o", linestyle="", color=COVERED_COLOUR, label=f"within {minutes:g} min"
        ),
        Line2D([], [], marker="o", linestyle="", color=GAP_COLOUR, label=f"beyond {minutes:g} min"),
    ]
    fig.legend(handles=handles, loc="upper right", fontsize=8, title="Postcodes (size = residents)")
    fig.suptitle(title or f"Residents within a {minutes:g}-minute walk, by bundle")
    _footer(fig, network_label, attribution)
    return fig


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 150) -> None:
    """Save a figure (PNG by the file suffix) atomically."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=os.path.splitext(str(path))[1].lstrip(".") or "png")
