"""The interactive maps: localities, assets, gaps, walksheds, requirements (folium, offline).

In: wards (GeoDataFrame indexed by ``ward_code`` with ``ward_name``), the ward ->
locality ``assignment``, the asset register, gap points and the outline from
:mod:`nwm_geo.requirements`, walksheds from :mod:`nwm_geo.coverage`, and the network
label. Out: ``folium.Map`` objects drawn with :mod:`._leaflet` layers only.

Every map names the wards (labels at a point inside each ward, class
``nwm-ward-label``) and is framed to the wards when they are given: assets outside the
borough are drawn but do not widen the view. Measures that are alternatives (the
bundles of the gaps map, the categories of the walkshed map) are radio-button base
layers, so exactly one is visible.

Popups show a fixed list of public fields only (:data:`POPUP_FIELDS`; no phone numbers
or contact names; sources without commit hashes) and, given the outline, the asset's
role (:func:`~nwm_geo.maps.asset_roles`); every text goes through
:func:`._leaflet.esc`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from nwm_geo import settings
from nwm_geo._checks import checks_crs
from nwm_geo._errors import NwmGeoError
from nwm_geo._units import resolve_minutes
from nwm_geo.maps._geo import bounds_of, geojson_feature, lonlat, point_feature, simplified
from nwm_geo.maps._leaflet import GeoJsonLayer, RawHtml, base_map, esc
from nwm_geo.maps._page import MapPage
from nwm_geo.maps._roles import asset_roles, public_source
from nwm_geo.maps._style import (
    GAP_COLOUR,
    LOCALITY_FILL_OPACITY,
    SHARE_BANDS,
    category_colour,
    locality_colours,
    share_colour,
)
from nwm_geo.requirements import RequirementsOutline

if TYPE_CHECKING:
    import folium

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
    fill: bool | float,
    tolerance_m: float,
) -> list[dict[str, Any]]:
    geoms = simplified(wards, tolerance_m)
    names = (
        wards["ward_name"] if "ward_name" in wards.columns else pd.Series(wards.index, wards.index)
    )
    colours = locality_colours(assignment.to_numpy()) if assignment is not None else {}
    feats = []
    for code, geom in geoms.items():
        loc = None
        if assignment is not None:
            v = assignment.get(code)
            loc = None if v is None or pd.isna(v) else str(v)
        colour = colours[loc] if loc is not None else "#cccccc"
        opacity = LOCALITY_FILL_OPACITY if fill is True else (fill or 0.08)
        style = {
            "color": "#555555",
            "weight": 1,
            "fillColor": colour,
            "fillOpacity": opacity if loc is not None else 0.08,
            "className": "nwm-ward",
        }
        tip = f"{esc(names.get(code))} ({esc(code)})"
        if loc is not None:
            tip += f" &ndash; {esc(loc)}"
        feats.append(geojson_feature(geom, {"_style": style, "_tooltip": tip}))
    return feats


def _ward_names(wards: gpd.GeoDataFrame) -> pd.Series:
    if "ward_name" in wards.columns:
        names: pd.Series = wards["ward_name"].astype(str)
        return names
    return pd.Series(wards.index.astype(str), index=wards.index)


def _label_points(frame: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Return a point inside each polygon (found in British National Grid), in WGS84."""
    return frame.geometry.to_crs(settings.crs).representative_point().to_crs(settings.wgs84)


def add_ward_labels(m: folium.Map, wards: gpd.GeoDataFrame) -> None:
    """Name every ward at a point inside it (class ``nwm-ward-label``)."""
    import folium

    names = _ward_names(wards)
    feats = [
        point_feature(
            pt.x,
            pt.y,
            {"_label": f"<span>{esc(names[code])}</span>", "_label_class": "nwm-ward-label"},
        )
        for code, pt in _label_points(wards).items()
    ]
    fg = folium.FeatureGroup(name="Ward names")
    GeoJsonLayer(feats).add_to(fg)
    fg.add_to(m)


def add_wards(
    m: folium.Map,
    wards: gpd.GeoDataFrame | None,
    *,
    assignment: pd.Series | None = None,
    fill: bool | float = False,
    tolerance_m: float = 10.0,
    name: str = "Ward boundaries",
) -> None:
    import folium

    if wards is None or len(wards) == 0:
        return
    fg = folium.FeatureGroup(name=esc(name), control=True)
    GeoJsonLayer(
        _ward_features(wards, assignment=assignment, fill=fill, tolerance_m=tolerance_m)
    ).add_to(fg)
    fg.add_to(m)


def _at_opacity(colour: str, opacity: float = LOCALITY_FILL_OPACITY) -> str:
    """Return the colour a fill of ``colour`` shows over white, for legend swatches."""
    from matplotlib.colors import to_hex, to_rgb

    r, g, b = (opacity * c + 1.0 - opacity for c in to_rgb(colour))
    return str(to_hex((r, g, b)))


def view_bounds(
    wards: gpd.GeoDataFrame | None, *others: pd.DataFrame | None
) -> tuple[float, float, float, float] | None:
    """Return the view: the wards when given (outside assets are drawn, not framed)."""
    if wards is not None and len(wards):
        return bounds_of(wards)
    return bounds_of(*others)


def _inside_area(assets: pd.DataFrame) -> pd.Series:
    if "inside_area" in assets.columns:
        return assets["inside_area"].fillna(True).astype(bool)
    return pd.Series(True, index=assets.index)


def count_text(assets: pd.DataFrame) -> str:
    """Return the one way an asset count is written: "274 in the borough, plus 73 outside".

    Parameters
    ----------
    assets
        Register rows (``inside_area`` marks those inside; all are inside without it).

    Returns
    -------
    str
        The count, with the assets outside the borough (drawn, not counted) after it.
    """
    inside = _inside_area(assets)
    n_in, n_out = int(inside.sum()), int((~inside).sum())
    text = f"{n_in:,} in the borough"
    return text + (f", plus {n_out:,} outside" if n_out else "")


def marker_radius(
    people: float, top: float, *, smallest: float = 2.0, largest: float = 9.0
) -> float:
    """Return a marker's radius (pixels): its area grows with its residents."""
    return round(float(smallest + (largest - smallest) * np.sqrt(people / top)), 1)


def dot_style(
    radius: float,
    colour: str,
    *,
    weight: float,
    opacity: float,
    class_name: str,
    edge: str | None = None,
) -> dict[str, Any]:
    """Return the Leaflet style of a circle marker (edge in the fill colour by default)."""
    return {
        "radius": radius,
        "color": edge or colour,
        "weight": weight,
        "fillColor": colour,
        "fillOpacity": opacity,
        "className": class_name,
    }


def radio_layer(name: str, index: int, *layers: Any) -> folium.FeatureGroup:
    """Return one measure's base layer: a radio button, so one measure shows at a time.

    The first measure (``index`` 0) is shown until the reader picks another.
    """
    import folium

    fg = folium.FeatureGroup(name=esc(name), overlay=False, show=index == 0)
    for layer in layers:
        layer.add_to(fg)
    return fg


# ---------------------------------------------------------------------------
# the folium maps


@checks_crs
def localities_map(
    wards: gpd.GeoDataFrame,
    assignment: pd.Series,
    *,
    page: MapPage | None = None,
    tolerance_m: float = 10.0,
) -> folium.Map:
    """Wards coloured by locality, with a label per locality.

    Parameters
    ----------
    wards
        Indexed by ``ward_code``, with ``ward_name`` and geometry (any CRS).
    assignment
        ``ward_code -> locality``.
    page
        Title, subtitle, network label, sources and tiles (:class:`MapPage`); by
        default titled "Neighbourhood Working Model: localities", no network label.
    tolerance_m
        Boundary simplification, metres.

    Returns
    -------
    folium.Map
    """
    import folium

    colours = locality_colours(assignment.to_numpy())
    legend = [(loc, _at_opacity(colour), "area") for loc, colour in colours.items()]
    page = (page or MapPage()).filled(
        title="Neighbourhood Working Model: localities", subtitle="wards grouped into localities"
    )
    m = base_map(page, legend=legend, legend_title="Locality", bounds=view_bounds(wards))
    add_wards(m, wards, assignment=assignment, fill=True, tolerance_m=tolerance_m, name="Wards")
    add_ward_labels(m, wards)
    # one label per locality, at a point inside its dissolved wards
    w = wards.to_crs(settings.crs).copy()
    w["locality"] = w.index.map(lambda c: assignment.get(c))
    w = w[w["locality"].notna()]
    labels = []
    if len(w):
        dissolved = w.dissolve(by="locality")
        # keep the locality name clear of the ward names: a point inside the locality
        # at least 350 m from every ward label, where there is room for one
        ward_pts = shapely.union_all(w.geometry.representative_point().buffer(350).to_numpy())
        pts = []
        for geom in dissolved.geometry:
            room = geom.difference(ward_pts)
            pts.append((room if not room.is_empty else geom).representative_point())
        spots = gpd.GeoSeries(pts, index=dissolved.index, crs=settings.crs).to_crs(settings.wgs84)
        for loc, pt in spots.items():
            labels.append(point_feature(pt.x, pt.y, {"_label": esc(loc)}))
    fg = folium.FeatureGroup(name="Locality names")
    GeoJsonLayer(labels).add_to(fg)
    fg.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def _asset_popup(
    row: Mapping[str, Any], asset_id: object, role: Mapping[str, Any] | None = None
) -> str:
    parts = [f"<b>{esc(row.get('name'))}</b>"]
    fields = list(POPUP_FIELDS)
    if role is not None:
        owner = role.get("owner_type")
        extra = [f"Category: {esc(row.get('category'))}"] if row.get("category") else []
        if owner is not None and not pd.isna(owner) and str(owner):
            extra.append(f"Owner type: {esc(owner)}")
        extra.append(f"Role: {esc(role.get('role'))}")
        covered, sole = role.get("covered_population"), role.get("sole_population")
        if covered is not None and pd.notna(covered):
            extra.append(f"Residents within the walk: {float(covered):,.0f}")
        if sole is not None and pd.notna(sole):
            extra.append(
                f"Residents who depend on it (no other {esc(row.get('category'))} within "
                f"the walk): {float(sole):,.0f}"
            )
        parts += extra
        fields = [f for f in fields if f[0] != "category"]
    for col, label in fields:
        val = row.get(col)
        if val is None or (not isinstance(val, str) and pd.isna(val)) or str(val) == "":
            continue
        if col in ("source", "source_date"):
            val = public_source(val)
        parts.append(f"{esc(label)}: {esc(val)}")
    parts.append(f"Asset id: {esc(asset_id)}")
    return "<br>".join(parts)


def _asset_features(
    table: pd.DataFrame,
    roles: pd.DataFrame | None,
    *,
    radius: float,
    fill: str | None = None,
    class_name: str = "nwm-asset",
) -> list[dict[str, Any]]:
    """Circle-marker features for the rows of ``table`` (with ``_lon``/``_lat``)."""
    flags = _inside_area(table).to_numpy()
    # each row as a mapping of the values ``iterrows`` gives (``table.values``), and the
    # role of each asset of the table looked up once, not a Series built per row
    columns = list(table.columns)
    role_of: dict[Any, dict[str, Any]] = {}
    if roles is not None:
        known = roles.loc[table.index[table.index.isin(roles.index)]]
        role_of = {
            a: dict(zip(known.columns, v, strict=True))
            for a, v in zip(known.index, known.values, strict=True)
        }
    feats = []
    for aid, values, inside in zip(table.index, table.values, flags, strict=True):
        r = dict(zip(columns, values, strict=True))
        style = {
            "radius": radius,
            "color": "#222222",
            "weight": 1 if inside else 2,
            "dashArray": None if inside else "2,2",
            "fillColor": fill or category_colour(str(r.get("category"))),
            "fillOpacity": 0.9 if inside else 0.5,
            "className": class_name,
        }
        style = {k: v for k, v in style.items() if v is not None}
        role = role_of.get(aid)
        tip = esc(r.get("name")) + ("" if inside else " (outside the borough)")
        feats.append(
            point_feature(
                float(r["_lon"]),
                float(r["_lat"]),
                {"_style": style, "_popup": _asset_popup(r, aid, role), "_tooltip": tip},
            )
        )
    return feats


@checks_crs
def assets_map(
    assets: pd.DataFrame,
    *,
    wards: gpd.GeoDataFrame | None = None,
    assignment: pd.Series | None = None,
    categories: Sequence[str] | None = None,
    outline: RequirementsOutline | None = None,
    page: MapPage | None = None,
    radius: float = 6.0,
) -> folium.Map:
    """Assets as circle markers, one toggleable layer per category.

    Parameters
    ----------
    assets
        The register (indexed by ``asset_id``) with ``name``, ``category``, and
        ``lon``/``lat`` or point geometry; ``inside_area`` (assets outside are drawn
        dashed and counted apart) and ``owner_type`` are used when present.
    wards
        Ward boundaries to draw and name; the map is framed to them.
    assignment
        ``ward_code -> locality``; adds the locality to popups.
    categories
        Categories to draw, in legend order; the council's 14 by default (only those
        present get a layer).
    outline
        The outline of requirements: popups then give each asset's owner type, role
        and the residents who depend on it (:func:`~nwm_geo.maps.asset_roles`).
    page
        Title, subtitle, network label, sources and tiles (:class:`MapPage`).
    radius
        Marker radius in pixels.

    Returns
    -------
    folium.Map
        One ``FeatureGroup`` per category (named "<category> (n)", or "<category> (n,
        plus m outside)"), a layer control, and markers with class ``nwm-asset``; the
        subtitle gives the count as :func:`count_text` writes it.
    """
    import folium

    categories = list(settings.CATEGORIES) if categories is None else list(categories)
    extra = sorted(set(assets["category"].dropna().astype(str)) - set(categories))
    present = [c for c in [*categories, *extra] if (assets["category"] == c).any()]
    legend = [(c, category_colour(c), "point") for c in present]
    page = (page or MapPage()).filled(
        title="Community assets by category",
        subtitle=f"{count_text(assets)}; click a marker for details",
    )
    m = base_map(page, legend=legend, legend_title="Category", bounds=view_bounds(wards, assets))
    add_wards(m, wards, assignment=assignment)
    table = assets.copy()
    if assignment is not None and "ward_code" in table.columns:
        table["locality"] = table["ward_code"].map(assignment)
    lon, lat = lonlat(table)
    table["_lon"], table["_lat"] = lon, lat
    roles = asset_roles(assets, outline) if outline is not None or "owner_type" in assets else None
    inside = _inside_area(table)
    for cat in present:
        sel = table["category"] == cat
        sub = table[sel]
        n_in, n_out = int((sel & inside).sum()), int((sel & ~inside).sum())
        label = f"{cat} ({n_in}" + (f", plus {n_out} outside)" if n_out else ")")
        fg = folium.FeatureGroup(name=esc(label))
        GeoJsonLayer(_asset_features(sub, roles, radius=radius)).add_to(fg)
        fg.add_to(m)
    if wards is not None and len(wards):
        add_ward_labels(m, wards)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


@checks_crs
def gaps_map(
    gap_points: pd.DataFrame,
    *,
    measures: Sequence[str],
    wards: gpd.GeoDataFrame | None = None,
    areas: gpd.GeoDataFrame | None = None,
    area_gaps: pd.DataFrame | None = None,
    minutes: float | None = None,
    page: MapPage | None = None,
    max_radius: float = 9.0,
) -> folium.Map:
    """Residents beyond the walk, one radio-button layer per measure (bundle or category).

    Parameters
    ----------
    gap_points
        :func:`nwm_geo.requirements.gap_points`: ``population``, ``lon``, ``lat``,
        ``locality``, ``ward_code``, ``lsoa_code`` and a boolean column per measure.
    measures
        The measures to draw (columns of ``gap_points``); each is one base layer (a
        radio button in the layer control), so exactly one is shown: the first, until
        the reader picks another.
    wards
        Ward boundaries to draw and name; the map is framed to them.
    areas, area_gaps
        Optional areas (e.g. LSOAs, indexed by code) and
        :func:`nwm_geo.requirements.gap_population` for them (``by="lsoa"``): each
        measure's layer then also shades each area by its share of residents beyond
        the walk.
    minutes
        For the subtitle; ``settings.walk_minutes`` by default (``None``).
    page
        Title, subtitle, network label, sources and tiles (:class:`MapPage`).
    max_radius
        Radius (pixels) of the largest postcode by population.

    Returns
    -------
    folium.Map
        Markers have classes ``nwm-gap`` and ``nwm-measure-<i>`` (``i`` the measure's
        position); areas ``nwm-area`` and ``nwm-measure-<i>``.
    """
    import folium

    minutes = resolve_minutes(minutes)
    missing = [c for c in measures if c not in gap_points.columns]
    if missing:
        raise NwmGeoError(f"gap_points has no column(s) {missing}")
    legend = [
        (f"postcode beyond {minutes:g} min (size = residents)", GAP_COLOUR, "point"),
    ]
    if areas is not None and area_gaps is not None:
        legend += [(f"area: {label}", colour, "area") for colour, label in SHARE_BANDS]
    page = (page or MapPage()).filled(
        title=f"Residents beyond a {minutes:g}-minute walk",
        subtitle="Pick one layer at a time: " + "; ".join(measures),
    )
    m = base_map(page, legend=legend, legend_title="Gap", bounds=view_bounds(wards, gap_points))
    add_wards(m, wards)
    pts = gap_points.copy()
    lon, lat = lonlat(pts) if len(pts) else (np.array([]), np.array([]))
    pts["_lon"], pts["_lat"] = lon, lat
    pop = pd.to_numeric(pts.get("population", pd.Series(0.0, index=pts.index)), errors="coerce")
    pts["_pop"] = pop.fillna(0.0).clip(lower=0.0)
    top = float(pts["_pop"].max()) if len(pts) and pts["_pop"].max() > 0 else 1.0
    geoms = simplified(areas, 10.0) if areas is not None and area_gaps is not None else None
    has_locality = "locality" in pts.columns
    for i, measure in enumerate(measures):
        sub = pts[pts[measure].astype(bool)]
        total = float(sub["_pop"].sum())
        shaded = (
            [_area_layer(geoms, area_gaps, measure=measure, index=i)]
            if geoms is not None and area_gaps is not None
            else []
        )
        feats = []
        localities = sub["locality"] if has_locality else pd.Series(None, index=sub.index)
        rows = zip(sub.index, sub["_pop"], sub["_lon"], sub["_lat"], localities, strict=True)
        for pid, pop_here, lon_here, lat_here, locality in rows:
            people = float(pop_here)
            style = dot_style(
                marker_radius(people, top, largest=max_radius),
                GAP_COLOUR,
                weight=1,
                opacity=0.6,
                class_name=f"nwm-gap nwm-measure-{i}",
            )
            tip = f"{esc(pid)}: {people:,.0f} residents beyond {minutes:g} min ({esc(measure)})"
            if has_locality:
                tip += f"<br>Locality: {esc(locality)}"
            feats.append(
                point_feature(float(lon_here), float(lat_here), {"_style": style, "_tooltip": tip})
            )
        name = f"{measure}: {total:,.0f} residents beyond"
        radio_layer(name, i, *shaded, GeoJsonLayer(feats)).add_to(m)
    if wards is not None and len(wards):
        add_ward_labels(m, wards)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def _area_layer(
    geoms: gpd.GeoSeries,
    area_gaps: pd.DataFrame,
    *,
    measure: str,
    index: int,
) -> GeoJsonLayer:
    """One measure's areas shaded by their gap share (``geoms``: the simplified areas)."""
    tab = (
        area_gaps.xs(measure, level="measure") if "measure" in area_gaps.index.names else area_gaps
    )
    feats = []
    for code, geom in geoms.items():
        share = float(tab["gap_share"].get(code, np.nan)) if "gap_share" in tab else np.nan
        gap = float(tab["gap_population"].get(code, 0.0)) if "gap_population" in tab else 0.0
        style = {
            "color": "#777777",
            "weight": 0.5,
            "fillColor": share_colour(share),
            "fillOpacity": 0.55,
            "className": f"nwm-area nwm-measure-{index}",
        }
        pct = f"{100 * share:.0f} %" if np.isfinite(share) else "n/a"
        tip = f"{esc(code)}: {gap:,.0f} residents beyond ({pct}) &ndash; {esc(measure)}"
        feats.append(geojson_feature(geom, {"_style": style, "_tooltip": tip}))
    return GeoJsonLayer(feats)


@checks_crs
def walksheds_map(
    walksheds: gpd.GeoDataFrame,
    *,
    assets: pd.DataFrame | None = None,
    wards: gpd.GeoDataFrame | None = None,
    minutes: float | None = None,
    page: MapPage | None = None,
    tolerance_m: float = 15.0,
    note: str | None = None,
) -> folium.Map:
    """Walksheds (areas within the walk), one radio-button layer per category.

    Parameters
    ----------
    walksheds
        ``nwm_geo.coverage.walksheds(...)`` (indexed by ``asset_id`` with ``category``
        and ``name``, or indexed by ``category``) or
        ``nwm_geo.coverage.catchment_cells(...)`` (indexed by ``category``).
    assets
        Optional register to draw the assets on top (class ``nwm-asset``).
    wards
        Ward boundaries to draw and name; the map is framed to them.
    minutes
        For the title; ``settings.walk_minutes`` by default (``None``).
    page
        Title, subtitle, network label, sources and tiles (:class:`MapPage`).
    tolerance_m
        Polygon simplification, metres.
    note
        What the shading is, shown under the title; ``walksheds.attrs["method"]`` by
        default (:func:`~nwm_geo.coverage.catchment_cells` sets it).

    Returns
    -------
    folium.Map
        Walkshed polygons have class ``nwm-walkshed``; each category is one base layer
        (a radio button), named after the category alone.
    """
    import folium

    minutes = resolve_minutes(minutes)
    note = note if note is not None else walksheds.attrs.get("method")
    ws = walksheds[walksheds.geometry.notna() & ~walksheds.geometry.is_empty]
    cats = ws["category"].astype(str) if "category" in ws.columns else ws.index.astype(str)
    cats = pd.Series(np.asarray(cats), index=ws.index)
    order = [c for c in settings.CATEGORIES if (cats == c).any()]
    order += sorted(set(cats) - set(order))
    page = (page or MapPage()).filled(
        title=f"{minutes:g}-minute walksheds",
        subtitle="Areas within the walk of an asset; pick one category at a time",
    )
    m = base_map(
        page,
        legend=[(c, category_colour(c), "area") for c in order],
        legend_title="Category",
        bounds=view_bounds(wards, ws),
    )
    if note:
        root: Any = m.get_root()
        root.html.add_child(
            RawHtml(
                f'<div class="nwm-box nwm-note" id="nwm-note" style="top:70px;left:50%;'
                f'transform:translateX(-50%);">{esc(note)}</div>'
            )
        )
    add_wards(m, wards)
    geoms = simplified(ws, tolerance_m)
    for i, cat in enumerate(order):
        colour = category_colour(cat)
        style = {
            "color": colour,
            "weight": 1,
            "fillColor": colour,
            "fillOpacity": 0.35,
            "className": "nwm-walkshed",
        }
        feats = []
        for idx in cats.index[cats == cat]:
            label = ws.at[idx, "name"] if "name" in ws.columns else idx
            feats.append(geojson_feature(geoms[idx], {"_style": style, "_tooltip": esc(label)}))
        radio_layer(cat, i, GeoJsonLayer(feats)).add_to(m)
    if assets is not None and len(assets):
        table = assets.copy()
        table["_lon"], table["_lat"] = lonlat(assets)
        fg = folium.FeatureGroup(name=esc(f"Assets ({count_text(assets)})"))
        GeoJsonLayer(_asset_features(table, None, radius=4)).add_to(fg)
        fg.add_to(m)
    if wards is not None and len(wards):
        add_ward_labels(m, wards)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


#: Marker colours of the requirements map: required assets, suggested new sites, and the
#: business-case actions (in the order they first appear).
REQUIRED_COLOUR: str = "#08519c"
SITE_COLOUR: str = "#ffd92f"
_ACTION_COLOURS: tuple[str, ...] = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e")

#: Fields of a suggested site shown in its popup (when present), with their labels.
SITE_POPUP_FIELDS: tuple[tuple[str, str], ...] = (
    ("site_type", "Kind of site"),
    ("category", "Category"),
    ("owner_type", "Owner type"),
    ("address", "Address"),
    ("postcode", "Postcode"),
    ("locality", "Locality"),
)


def _site_features(sites: pd.DataFrame, cases: pd.DataFrame) -> list[dict[str, Any]]:
    lon, lat = lonlat(sites)
    feats = []
    for (sid, r), x, y in zip(sites.iterrows(), lon, lat, strict=True):
        parts = [f"<b>{esc(r.get('name'))}</b>", f"Suggested for: {esc(r.get('measure'))}"]
        for col, label in SITE_POPUP_FIELDS:
            val = r.get(col)
            if val is not None and not (not isinstance(val, str) and pd.isna(val)) and str(val):
                parts.append(f"{esc(label)}: {esc(val)}")
        added = r.get("marginal_population")
        if added is not None and pd.notna(added):
            parts.append(f"Residents it would bring within the walk: {float(added):,.0f}")
        mine = cases[(cases["id"] == sid) & (cases["measure"] == r.get("measure"))]
        for line in dict.fromkeys(
            f"Business case {c['rule']}: {c['action']}" for _, c in mine.iterrows()
        ):
            parts.append(esc(line))
        style = {
            "radius": 8,
            "color": "#111111",
            "weight": 2,
            "fillColor": SITE_COLOUR,
            "fillOpacity": 0.95,
            "className": "nwm-site",
        }
        tip = f"Suggested site: {esc(r.get('name'))} ({esc(r.get('measure'))})"
        feats.append(
            point_feature(
                float(x), float(y), {"_style": style, "_popup": "<br>".join(parts), "_tooltip": tip}
            )
        )
    return feats


@checks_crs
def requirements_map(
    outline: RequirementsOutline,
    assets: pd.DataFrame,
    *,
    wards: gpd.GeoDataFrame | None = None,
    assignment: pd.Series | None = None,
    page: MapPage | None = None,
) -> folium.Map:
    """Map required assets, business cases and suggested new sites, on the localities.

    Parameters
    ----------
    outline
        :func:`nwm_geo.requirements.outline`.
    assets
        The register the outline was built from (indexed by ``asset_id``).
    wards
        Ward boundaries to draw and name; the map is framed to them.
    assignment
        ``ward_code -> locality``: the wards are shaded lightly by locality.
    page
        Title, subtitle, network label, sources and tiles (:class:`MapPage`).

    Returns
    -------
    folium.Map
        Layers (check boxes): "Required assets (n)" (class ``nwm-required``), one
        "Business case: <action> (n)" per action (class ``nwm-case``) and "Suggested
        new sites (n)" (class ``nwm-site``). Popups give the role, owner type and the
        residents who depend on each asset; a site's popup the residents it would
        bring within the walk.
    """
    import folium

    cases = outline.business_case
    on_assets = cases[cases["id"].isin(assets.index)]
    actions = list(dict.fromkeys(on_assets["action"].astype(str)))
    action_colour = {a: _ACTION_COLOURS[i % len(_ACTION_COLOURS)] for i, a in enumerate(actions)}
    sites = outline.new_sites
    legend = [("required asset", REQUIRED_COLOUR, "point")]
    legend += [(f"business case: {a}", action_colour[a], "point") for a in actions]
    legend += [("suggested new site", SITE_COLOUR, "point")]
    page = (page or MapPage()).filled(
        title="Outline of asset requirements",
        subtitle=(
            f"{outline.required.index.nunique()} required assets, {len(cases)} business "
            f"cases, {len(sites)} suggested new sites"
        ),
    )
    m = base_map(page, legend=legend, legend_title="Role", bounds=view_bounds(wards, assets))
    add_wards(m, wards, assignment=assignment, fill=True, name="Localities")
    table = assets.copy()
    if assignment is not None and "ward_code" in table.columns:
        table["locality"] = table["ward_code"].map(assignment)
    table["_lon"], table["_lat"] = lonlat(table)
    roles = asset_roles(assets, outline)
    required = table.loc[table.index.isin(outline.required.index)]
    fg = folium.FeatureGroup(name=esc(f"Required assets ({len(required)})"))
    GeoJsonLayer(
        _asset_features(required, roles, radius=7, fill=REQUIRED_COLOUR, class_name="nwm-required")
    ).add_to(fg)
    fg.add_to(m)
    for action in actions:
        ids = list(dict.fromkeys(on_assets.loc[on_assets["action"] == action, "id"]))
        sub = table.loc[ids]
        fg = folium.FeatureGroup(name=esc(f"Business case: {action} ({len(sub)})"))
        GeoJsonLayer(
            _asset_features(sub, roles, radius=5, fill=action_colour[action], class_name="nwm-case")
        ).add_to(fg)
        fg.add_to(m)
    if len(sites):
        fg = folium.FeatureGroup(name=esc(f"Suggested new sites ({len(sites)})"))
        GeoJsonLayer(_site_features(sites, cases)).add_to(fg)
        fg.add_to(m)
    if wards is not None and len(wards):
        add_ward_labels(m, wards)
    folium.LayerControl(collapsed=False).add_to(m)
    return m
