"""Tests for nwm_geo.maps on SYNTHETIC fixtures (tests/data/maps/)."""

from __future__ import annotations

import dataclasses
import json
import pickle
import re
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from folium.plugins import MiniMap
from matplotlib.colors import to_hex
from shapely.geometry import box

from nwm_geo import NwmGeoError, maps, settings
from nwm_geo import requirements as rq

DATA = Path(__file__).parent / "data" / "maps"
LABEL = "network: approximate (postcode proximity), not OSM"
ASSIGNMENT = pd.Series(
    {
        "E05999901": "North",
        "E05999902": "North",
        "E05999903": "Central",
        "E05999904": "Central",
        "E05999905": "South",
        "E05999906": "South",
    }
)
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def wards() -> gpd.GeoDataFrame:
    return gpd.read_file(DATA / "synthetic_wards.geojson").set_index("ward_code")


@pytest.fixture
def assets() -> pd.DataFrame:
    return pd.read_csv(DATA / "synthetic_assets.csv", index_col="asset_id")


@pytest.fixture
def points() -> pd.DataFrame:
    return pd.read_csv(DATA / "synthetic_points.csv", index_col="point_id")


@pytest.fixture
def nearest(points: pd.DataFrame) -> pd.DataFrame:
    pop = points["population"]
    return pd.DataFrame(
        {
            "somewhere to go": np.where(pop > 60, 20.0, 5.0),
            "someone to see": np.where(pop > 30, 5.0, np.nan),
        },
        index=points.index,
    )


def _html(m: folium.Map) -> str:
    return maps.map_html(m)


def test_popups_escape_hostile_names(assets: pd.DataFrame, wards: gpd.GeoDataFrame) -> None:
    page = _html(
        maps.assets_map(
            assets, wards=wards, assignment=ASSIGNMENT, page=maps.MapPage(network_label=LABEL)
        )
    )
    assert HOSTILE not in page
    assert "<img src=x" not in page
    # names travel as JSON strings with <, > and & as \u escapes; decoded, they are
    # HTML-escaped text for Leaflet's innerHTML, never markup
    decoded = page.replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&")
    assert HOSTILE not in decoded
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in decoded
    assert "<img src=x" not in decoded
    # template-literal and backslash payloads are neutralised too
    assert "${document.title" not in decoded
    assert "&#36;{document.title=" in decoded
    assert "\\x3cimg" not in decoded and "&#92;x3cimg" in decoded
    # no personal data in popups
    assert "01582 123456" not in page and "Jane Example" not in page


def _popups(page: str) -> list[str]:
    """The popup texts of a saved map, as Leaflet receives them (JSON-decoded)."""
    found = re.findall(r'"_popup":"((?:[^"\\]|\\.)*)"', page)
    return [json.loads(f'"{raw}"') for raw in found]


def _one_asset(**fields: object) -> pd.DataFrame:
    row = {"name": "Hall", "category": "Library", "lon": -0.42, "lat": 51.88, **fields}
    return pd.DataFrame([row], index=pd.Index(["X1"], name="asset_id"))


def test_map_text_is_escaped_for_html_and_javascript() -> None:
    page = _html(maps.assets_map(_one_asset(name="a`b${c}\\<i>", address=float("nan"))))
    (popup,) = _popups(page)
    assert popup.startswith("<b>a&#96;b&#36;{c}&#92;&lt;i&gt;</b><br>Category: Library")
    # a missing address is left out of the popup, not shown as "nan"
    assert "Address" not in popup and "nan" not in popup


def test_phone_numbers_and_emails_in_popups_are_masked() -> None:
    assets = _one_asset(
        name="Hall (bookings jo.bloggs@example.org)",
        address="1 High St, call 01582 546000 or (01582) 546-001",
        subtype="+44 7700 900123 after 6pm",
    )
    page = _html(maps.assets_map(assets))
    for secret in ["jo.bloggs@example.org", "546000", "546-001", "7700 900123"]:
        assert secret not in page, secret
    (popup,) = _popups(page)
    assert "Address: 1 High St, call [removed] or [removed]" in popup
    assert "Type: [removed] after 6pm" in popup
    assert popup.startswith("<b>Hall (bookings [removed])</b>")


def test_layers_per_category(assets: pd.DataFrame, wards: gpd.GeoDataFrame) -> None:
    m = maps.assets_map(assets, wards=wards)
    groups = [c for c in m._children.values() if isinstance(c, folium.FeatureGroup)]
    names = [g.layer_name for g in groups]
    counts = assets["category"].value_counts()
    for cat in settings.CATEGORIES:
        assert f"{cat} ({counts[cat]})" in [n.replace("&amp;", "&") for n in names]
    assert any(isinstance(c, folium.LayerControl) for c in m._children.values())
    page = _html(m)
    assert page.count('"className":"nwm-asset"') == len(assets)


def _walksheds(assets: pd.DataFrame) -> gpd.GeoDataFrame:
    """Synthetic walksheds: a 500 m circle round each asset."""
    ws = gpd.GeoDataFrame(
        {"category": assets["category"], "name": assets["name"]},
        geometry=gpd.points_from_xy(assets["lon"], assets["lat"]),
        crs=settings.wgs84,
    ).to_crs(settings.crs)
    ws["geometry"] = ws.buffer(500)
    return ws


def test_title_legend_attribution_network_note(
    assets: pd.DataFrame, wards: gpd.GeoDataFrame, points: pd.DataFrame, nearest: pd.DataFrame
) -> None:
    gp = rq.gap_points(nearest, points, assignment=ASSIGNMENT)
    ws = _walksheds(assets)
    built = [
        maps.localities_map(wards, ASSIGNMENT, page=maps.MapPage(network_label=LABEL)),
        maps.assets_map(assets, wards=wards, page=maps.MapPage(network_label=LABEL)),
        maps.gaps_map(
            gp, measures=["somewhere to go"], wards=wards, page=maps.MapPage(network_label=LABEL)
        ),
        maps.walksheds_map(ws, assets=assets, wards=wards, page=maps.MapPage(network_label=LABEL)),
    ]
    for m in built:
        page = _html(m)
        assert 'id="nwm-title"' in page and "<title>" in page
        assert 'id="nwm-legend"' in page
        assert "OGL v3" in page and "ODbL" in page and "OS data" in page
        assert LABEL in page
        # offline: Leaflet inlined, nothing fetched from a CDN
        assert "Leaflet 1.9.3" in page
        assert not re.search(r"<script[^>]+src=", page)
        assert not re.search(r"<link[^>]+href=[\"']?https?:", page)
        assert "cdn.jsdelivr" not in page and "code.jquery" not in page


def test_localities_have_labels_and_colours(wards: gpd.GeoDataFrame) -> None:
    page = _html(maps.localities_map(wards, ASSIGNMENT))
    colours = maps.locality_colours(ASSIGNMENT)
    for loc in ["North", "Central", "South"]:
        assert f'"_label":"{loc}"' in page
        assert colours[loc] in page


def test_gaps_map_layers_and_areas(
    points: pd.DataFrame, nearest: pd.DataFrame, wards: gpd.GeoDataFrame
) -> None:
    gp = rq.gap_points(nearest, points, assignment=ASSIGNMENT)
    ag = rq.gap_population(nearest, points, assignment=ASSIGNMENT, by="ward")
    m = maps.gaps_map(
        gp, measures=["somewhere to go", "someone to see"], wards=wards, areas=wards, area_gaps=ag
    )
    page = _html(m)
    for i, measure in enumerate(["somewhere to go", "someone to see"]):
        assert page.count(f'"className":"nwm-gap nwm-measure-{i}"') == int(gp[measure].sum())
        assert page.count(f'"className":"nwm-area nwm-measure-{i}"') == len(wards)
    # the measures are alternatives: radio-button base layers, the first one shown
    groups = [c for c in m._children.values() if isinstance(c, folium.FeatureGroup)]
    bundles = [g for g in groups if not g.overlay]
    assert [g.layer_name.split(":")[0] for g in bundles] == ["somewhere to go", "someone to see"]
    assert [g.show for g in bundles] == [True, False]
    with pytest.raises(NwmGeoError):
        maps.gaps_map(gp, measures=["no such bundle"])


def test_save_map_size_and_atomic(
    assets: pd.DataFrame, wards: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "assets.html"
    size = maps.save_map(maps.assets_map(assets, wards=wards), out)
    assert out.stat().st_size == size < maps.MAX_MAP_BYTES
    with pytest.raises(NwmGeoError, match="limit"):
        maps.save_map(maps.assets_map(assets), tmp_path / "big.html", max_bytes=1000)
    assert not (tmp_path / "big.html").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["assets.html"]


def test_remote_scripts_are_refused(tmp_path: Path) -> None:
    m = maps.localities_map(
        gpd.read_file(DATA / "synthetic_wards.geojson").set_index("ward_code"), ASSIGNMENT
    )
    folium.Marker([51.88, -0.42], icon=folium.Icon()).add_to(m)  # needs awesome-markers CDN
    with pytest.raises(NwmGeoError, match="offline"):
        maps.save_map(m, tmp_path / "x.html")
    m2 = maps.localities_map(
        gpd.read_file(DATA / "synthetic_wards.geojson").set_index("ward_code"), ASSIGNMENT
    )
    folium.CircleMarker([51.88, -0.42], popup=folium.Popup("x")).add_to(m2)  # needs jQuery
    with pytest.raises(NwmGeoError, match="offline"):
        maps.save_map(m2, tmp_path / "y.html")
    m3 = maps.localities_map(
        gpd.read_file(DATA / "synthetic_wards.geojson").set_index("ward_code"), ASSIGNMENT
    )
    MiniMap().add_to(m3)  # loads its plugin from a CDN
    with pytest.raises(NwmGeoError, match="offline"):
        maps.save_map(m3, tmp_path / "z.html")
    assert list(tmp_path.iterdir()) == []


def test_palettes_fixed_and_consistent(assets: pd.DataFrame, wards: gpd.GeoDataFrame) -> None:
    assert list(maps.CATEGORY_COLOURS) == list(settings.CATEGORIES)
    assert len(set(maps.CATEGORY_COLOURS.values())) == 14
    # localities take the palette in name order, the same mapping on every map
    assert maps.locality_colours(ASSIGNMENT) == {
        "Central": maps.LOCALITY_PALETTE[0],
        "North": maps.LOCALITY_PALETTE[1],
        "South": maps.LOCALITY_PALETTE[2],
    }
    # one name: the plan's colour when the plan's localities are given
    assert maps.locality_colour("South", ASSIGNMENT) == maps.LOCALITY_PALETTE[2]
    assert maps.locality_colour("Made-up") in maps.LOCALITY_PALETTE  # stable, by CRC32
    assert maps.locality_colours(["b", "a", float("nan"), "outside the borough"]) == {
        "a": maps.LOCALITY_PALETTE[0],
        "b": maps.LOCALITY_PALETTE[1],
        "outside the borough": maps.OUTSIDE_COLOUR,
    }
    # matplotlib uses exactly the folium colours
    fig = maps.plot_assets(assets, wards=wards, page=maps.MapPage(network_label=LABEL))
    leg = fig.axes[0].get_legend()
    for handle, text in zip(leg.legend_handles, leg.get_texts(), strict=True):
        cat = text.get_text().rsplit(" (", 1)[0]
        assert to_hex(handle.get_color()) == maps.CATEGORY_COLOURS[cat]
    page = _html(maps.assets_map(assets))
    for colour in maps.CATEGORY_COLOURS.values():
        assert colour in page
    fig2 = maps.plot_localities(wards, ASSIGNMENT)
    leg2 = fig2.axes[0].get_legend()
    colours = maps.locality_colours(ASSIGNMENT)
    for patch, text in zip(leg2.get_patches(), leg2.get_texts(), strict=True):
        assert to_hex(patch.get_facecolor()) == colours[text.get_text()]


def test_static_maps_have_title_legend_attribution(
    assets: pd.DataFrame,
    wards: gpd.GeoDataFrame,
    points: pd.DataFrame,
    nearest: pd.DataFrame,
    tmp_path: Path,
) -> None:
    figs = {
        "loc": maps.plot_localities(wards, ASSIGNMENT, page=maps.MapPage(network_label=LABEL)),
        "assets": maps.plot_assets(assets, wards=wards, page=maps.MapPage(network_label=LABEL)),
        "cov": maps.plot_coverage(
            points,
            nearest,
            measures=["somewhere to go", "someone to see"],
            wards=wards,
            page=maps.MapPage(network_label=LABEL),
        ),
    }
    for name, fig in figs.items():
        texts = " ".join(t.get_text() for t in fig.texts)
        assert LABEL in texts and "OGL v3" in texts
        titled = bool(fig.get_suptitle()) or any(ax.get_title() for ax in fig.axes)
        assert titled
        has_legend = bool(fig.legends) or any(ax.get_legend() for ax in fig.axes)
        assert has_legend
        out = tmp_path / f"{name}.png"
        maps.save_figure(fig, out)
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    cov_titles = [ax.get_title() for ax in figs["cov"].axes]
    assert all("% of residents within 15 min" in t for t in cov_titles)


def test_locality_colours_stay_distinct_at_fill_opacity() -> None:
    names = [f"Locality {i}" for i in range(10)]
    colours = list(maps.locality_colours(names).values())
    assert len(set(colours)) == 10
    # blended over white at the maps' fill opacity, no two look alike (CIE76 Delta E)
    assert maps.colour_difference(colours) >= 18
    assert maps.colour_difference(colours[:5]) >= 25
    # the check can fail: two Tableau colours the maps used before are too close
    assert maps.colour_difference(["#e15759", "#ff9da7"]) < 18
    # and no locality fill looks like the unassigned grey or the background
    assert maps.colour_difference([*colours, "#ffffff"]) >= 18


def test_figures_display_in_a_notebook_without_pyplot(
    assets: pd.DataFrame, wards: gpd.GeoDataFrame
) -> None:
    from IPython.core.formatters import DisplayFormatter

    fig = maps.plot_localities(wards, ASSIGNMENT)
    shown, _ = DisplayFormatter().format(fig)  # what Jupyter does with a cell's value
    assert shown["image/png"][:8] == b"\x89PNG\r\n\x1a\n"
    shown2, _ = DisplayFormatter().format(maps.plot_assets(assets, wards=wards))
    assert "image/png" in shown2


def test_coverage_figure_counts_a_walk_of_exactly_the_threshold_as_within() -> None:
    points = pd.DataFrame(
        {"population": [10.0, 30.0, 60.0], "lon": [-0.42, -0.41, -0.40], "lat": [51.88] * 3},
        index=pd.Index(["P1", "P2", "P3"], name="point_id"),
    )
    # 15 minutes plus float noise is within; 15.01 and no walk are not
    nearest = pd.DataFrame({"m": [15.0 + 1e-12, 15.01, np.nan]}, index=points.index)
    fig = maps.plot_coverage(points, nearest, measures=["m"], minutes=15)
    assert fig.axes[0].get_title() == "m\n10.0 % of residents within 15 min"
    fig2 = maps.plot_coverage(points, nearest, measures=["m"], minutes=15.01)
    assert "40.0 % of residents within 15.01 min" in fig2.axes[0].get_title()
    with pytest.raises(NwmGeoError, match="more than 0"):
        maps.plot_coverage(points, nearest, measures=["m"], minutes=0)


# -- context: ward names, framing, one count, roles, requirements map ------------------


def _fit_bounds(m: folium.Map) -> list[list[float]]:
    (fit,) = [c for c in m._children.values() if isinstance(c, folium.map.FitBounds)]
    return [list(map(float, corner)) for corner in fit.bounds]


def _outline_for(assets: pd.DataFrame, points: pd.DataFrame) -> rq.RequirementsOutline:
    """A SYNTHETIC outline on the map fixtures: asset i covers the points near it."""
    from scipy import sparse

    a_xy = np.c_[assets["lon"], assets["lat"]]
    p_xy = np.c_[points["lon"], points["lat"]]
    d = np.hypot(*(p_xy[:, None, :] - a_xy[None, :, :]).transpose(2, 0, 1))
    cover = (sparse.csr_matrix(d < 0.01), points.index, assets.index)
    nearest = pd.DataFrame(
        {
            c: np.where((d < 0.01)[:, (assets["category"] == c).to_numpy()].any(axis=1), 5.0, 30.0)
            for c in assets["category"].unique()
        },
        index=points.index,
    )
    return rq.outline(
        assets,
        points,
        assignment=ASSIGNMENT,
        inputs=rq.OutlineInputs(cover=cover, nearest=nearest, network_label=LABEL),
        measures=list(assets["category"].unique()),
        new_site_measures=[],
        k=0,
        bundles={},
    )


def _hubs_frame(assets: pd.DataFrame, localities: list[str]) -> gpd.GeoDataFrame:
    """SYNTHETIC hubs: the first assets, one per locality, with point geometry."""
    first = assets.iloc[: len(localities)]
    return gpd.GeoDataFrame(
        {
            "locality": localities,
            "hub_asset_id": list(first.index),
            "hub_name": list(first["name"]),
            "residents_within": 100.0,
            "share_pct": 50.0,
            "mean_minutes": 7.5,
        },
        geometry=gpd.points_from_xy(first["lon"], first["lat"]),
        crs=settings.wgs84,
    )


def _later_maps(
    assets: pd.DataFrame, points: pd.DataFrame, wards: gpd.GeoDataFrame
) -> dict[str, folium.Map]:
    """The equity, scenario-difference and hubs maps, each with a point far outside."""
    far = pd.DataFrame(
        {"lon": [-1.5], "lat": [52.6], "population": [10]}, index=pd.Index(["FAR 1AA"])
    )
    gaps = pd.concat([points, far]).assign(imd_decile=3, go=True)
    changes = gaps.assign(measure="go", change=np.where(gaps["population"] > 60, "loses", "gains"))
    hub_map = maps.localities_map(wards, ASSIGNMENT)
    hub_sites = _hubs_frame(pd.concat([assets, far.assign(name="Far hub")]).iloc[-1:], ["South"])
    maps.add_hubs(hub_map, hub_sites, localities=ASSIGNMENT.to_numpy())
    return {
        "equity": maps.deprivation_gaps_map(gaps, measures=["go"], wards=wards),
        "difference": maps.difference_map(
            changes, measures=["go"], wards=wards, assignment=ASSIGNMENT, closed=far
        ),
        "hubs": hub_map,
    }


def test_hub_markers_take_the_plans_locality_colours(
    assets: pd.DataFrame, wards: gpd.GeoDataFrame
) -> None:
    localities = ["South", "North", "Central"]
    m = maps.localities_map(wards, ASSIGNMENT)
    page = _html(maps.add_hubs(m, _hubs_frame(assets, localities), localities=ASSIGNMENT))
    colours = maps.locality_colours(ASSIGNMENT)
    hub = r'"fillColor":"(#[0-9a-f]{6})","fillOpacity":1.0,"className":"nwm-hub"'
    fills = re.findall(hub, page)
    assert fills == [colours[loc] for loc in localities]
    assert len(set(fills)) == 3  # three localities, three colours (CRC32 picks could clash)


def test_every_map_names_the_wards_and_is_framed_to_them(
    assets: pd.DataFrame, wards: gpd.GeoDataFrame, points: pd.DataFrame, nearest: pd.DataFrame
) -> None:
    far = assets.iloc[[0]].assign(lon=-1.5, lat=52.6, name="Far away", inside_area=False)
    register = pd.concat([assets.assign(inside_area=True), far.set_axis(["OUT1"])])
    gp = rq.gap_points(nearest, points, assignment=ASSIGNMENT)
    ws = gpd.GeoDataFrame(
        {"category": ["Library"]},
        geometry=[wards.to_crs(settings.crs).union_all().buffer(-200)],
        index=pd.Index(["Library"], name="category"),
        crs=settings.crs,
    )
    built = {
        "localities": maps.localities_map(wards, ASSIGNMENT),
        "assets": maps.assets_map(register, wards=wards, assignment=ASSIGNMENT),
        "gaps": maps.gaps_map(gp, measures=["somewhere to go"], wards=wards),
        "walksheds": maps.walksheds_map(ws, assets=register, wards=wards),
        "requirements": maps.requirements_map(
            _outline_for(assets, points), register, wards=wards, assignment=ASSIGNMENT
        ),
        **_later_maps(assets, points, wards),
    }
    west, south, east, north = wards.total_bounds
    for name, m in built.items():
        page = _html(m).replace("\\u003c", "<").replace("\\u003e", ">")
        for ward in wards["ward_name"]:
            assert f'"_label":"<span>{ward}</span>","_label_class":"nwm-ward-label"' in page, name
        (lat0, lon0), (lat1, lon1) = _fit_bounds(m)
        # framed to the borough: the asset far outside is drawn, not framed
        assert (lat0, lon0, lat1, lon1) == pytest.approx((south, west, north, east)), name
    assert '"Far away (outside the borough)"' in _html(built["assets"]).replace("\\u0026", "&")


def test_one_asset_count_in_the_borough_plus_outside(
    assets: pd.DataFrame, wards: gpd.GeoDataFrame
) -> None:
    flags = [True] * (len(assets) - 2) + [False, False]
    register = assets.assign(inside_area=flags)
    n = len(assets) - 2
    assert maps.count_text(register) == f"{n} in the borough, plus 2 outside"
    assert maps.count_text(assets) == f"{len(assets)} in the borough"
    page = _html(maps.assets_map(register, wards=wards))
    assert f"{n} in the borough, plus 2 outside" in page
    cat = register["category"].iloc[-1]
    n_cat = int(((register["category"] == cat) & register["inside_area"]).sum())
    n_out = int(((register["category"] == cat) & ~register["inside_area"]).sum())
    assert f"{cat} ({n_cat}, plus {n_out} outside)".replace("&", "&amp;") in page


def test_popups_give_role_owner_and_dependants_never_a_commit_hash(
    assets: pd.DataFrame, points: pd.DataFrame, wards: gpd.GeoDataFrame
) -> None:
    outline = _outline_for(assets, points)
    register = assets.assign(
        owner_type="council",
        source="someone/repo @ 6a5140364301e15e553389b3a1d42276bc6e7038 : data.csv",
        source_date="not stated (repository snapshot a6c04ea)",
    )
    roles = maps.asset_roles(register, outline)
    assert list(roles.columns) == list(maps.ROLE_COLUMNS)
    assert roles.index.equals(register.index)
    required = outline.required.index
    assert roles.loc[required, "required"].all() and len(required) > 0
    aid = required[0]
    sole = outline.catchments.loc[aid, "sole_population"]
    assert roles.at[aid, "sole_population"] == sole
    assert roles.at[aid, "role"].startswith("required: the only ")
    page = _html(maps.assets_map(register, wards=wards, outline=outline))
    popups = _popups(page)
    assert all("Owner type: council" in p and "Role: " in p for p in popups)
    assert any("would lose" in p or "depend on it" in p for p in popups)
    assert not re.search(r"\b[0-9a-f]{7,40}\b", " ".join(popups).replace("E0599990", ""))
    assert "someone/repo : data.csv" in " ".join(popups)
    assert maps.public_source("x @ bb6c1e994679bfea2b4ae832237c5a6ec2fb1fa5 : a.csv") == (
        "x : a.csv"
    )
    assert maps.public_source("edubasealldata20250524") == "edubasealldata20250524"


def test_requirements_map_shows_required_cases_and_sites(
    assets: pd.DataFrame, points: pd.DataFrame, wards: gpd.GeoDataFrame
) -> None:
    outline = _outline_for(assets, points)
    sites = pd.DataFrame(
        {
            "name": ["Synthetic Hall"],
            "measure": ["Library"],
            "lon": [-0.41],
            "lat": [51.88],
            "locality": ["North"],
            "site_type": ["asset"],
            "marginal_population": [120.0],
        },
        index=pd.Index(["S1"], name="site_id"),
    )
    outline = dataclasses.replace(outline, new_sites=sites)
    m = maps.requirements_map(outline, assets, wards=wards, assignment=ASSIGNMENT)
    page = _html(m)
    n_req = len(outline.required)
    assert page.count('"className":"nwm-required"') == n_req
    on_assets = outline.business_case[outline.business_case["id"].isin(assets.index)]
    n_case = on_assets.groupby("action")["id"].nunique().sum()
    assert page.count('"className":"nwm-case"') == n_case
    assert page.count('"className":"nwm-site"') == 1
    assert "Residents it would bring within the walk: 120" in " ".join(_popups(page))
    names = [c.layer_name for c in m._children.values() if isinstance(c, folium.FeatureGroup)]
    assert f"Required assets ({n_req})" in names and "Suggested new sites (1)" in names


def test_walkshed_layers_are_radio_buttons_named_without_counts(
    wards: gpd.GeoDataFrame,
) -> None:
    base = wards.to_crs(settings.crs).union_all()
    ws = gpd.GeoDataFrame(
        geometry=[base.buffer(-100), base.buffer(-300)],
        index=pd.Index(["Library", "Education"], name="category"),
        crs=settings.crs,
    )
    ws.attrs["method"] = "Shaded: catchment cells (SYNTHETIC note)"
    m = maps.walksheds_map(ws, wards=wards)
    groups = [c for c in m._children.values() if isinstance(c, folium.FeatureGroup)]
    radios = [g for g in groups if not g.overlay]
    assert [g.layer_name for g in radios] == ["Education", "Library"]
    assert [g.show for g in radios] == [True, False]
    assert not any("(" in g.layer_name for g in groups)
    assert "Shaded: catchment cells (SYNTHETIC note)" in _html(m)


def test_static_maps_have_no_axis_labels_named_wards_and_an_uncut_footer(
    assets: pd.DataFrame,
    wards: gpd.GeoDataFrame,
    points: pd.DataFrame,
    nearest: pd.DataFrame,
    tmp_path: Path,
) -> None:
    from PIL import Image

    figs = {
        "loc": maps.plot_localities(wards, ASSIGNMENT, page=maps.MapPage(network_label=LABEL)),
        "assets": maps.plot_assets(assets, wards=wards, page=maps.MapPage(network_label=LABEL)),
        "cov": maps.plot_coverage(points, nearest, wards=wards, measures=["somewhere to go"]),
        "one": maps.plot_locality(
            wards, ASSIGNMENT, "North", page=maps.MapPage(network_label=LABEL)
        ),
    }
    for name, fig in figs.items():
        for ax in fig.axes:
            assert ax.get_xlabel() == "" and ax.get_ylabel() == "", name
        labels = [
            t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == "nwm-ward-label"
        ]
        assert {"Synthetic Ward 1", "Synthetic Ward 6"} <= set(labels), name
        out = tmp_path / f"{name}.png"
        maps.save_figure(fig, out, dpi=60)
        img = np.asarray(Image.open(out).convert("L"))
        # cropped to what is drawn and nothing cut: the outermost columns are background
        assert (img[:, -2:] > 250).all(), f"{name}: something touches the right edge"
        assert (img[:, :1] > 250).all(), f"{name}: something touches the left edge"
        footer = [t for t in fig.texts if t.get_gid() == "nwm-attribution"]
        assert footer and "OGL v3" in footer[0].get_text()
        # the footer overlaps no map, legend or title
        renderer = fig.canvas.get_renderer()
        box = footer[0].get_window_extent(renderer)
        others = [ax.get_window_extent(renderer) for ax in fig.axes]
        others += [lg.get_window_extent(renderer) for lg in fig.legends]
        others += [
            ax.get_legend().get_window_extent(renderer) for ax in fig.axes if ax.get_legend()
        ]
        assert not any(box.overlaps(o) for o in others), f"{name}: the footer overlaps"


def test_plot_locality_frames_the_locality_and_refuses_an_unknown_one(
    wards: gpd.GeoDataFrame,
) -> None:
    fig = maps.plot_locality(wards, ASSIGNMENT, "South")
    ax = fig.axes[0]
    south = wards[ASSIGNMENT.reindex(wards.index) == "South"].to_crs(settings.crs)
    minx, _, maxx, _ = south.total_bounds
    x0, x1 = ax.get_xlim()
    assert x0 < minx and x1 > maxx
    assert x1 - x0 < 1.3 * (maxx - minx)  # framed to the locality, not the borough
    with pytest.raises(NwmGeoError, match="no ward"):
        maps.plot_locality(wards, ASSIGNMENT, "Nowhere")


def test_a_plans_localities_never_share_a_colour() -> None:
    # names from wards: by CRC32 alone, two of these would share a colour
    names = ["Barnfield", "Beech Hill", "Challney", "Saints", "Stopsley"]
    colours = maps.locality_colours(names)
    assert len(set(colours.values())) == 5
    assert colours == maps.locality_colours(reversed(names))  # the same for the same plan
    assert maps.locality_colour("Stopsley", among=names) == colours["Stopsley"]
    wards = gpd.GeoDataFrame(
        {"ward_name": names},
        geometry=[box(i * 1000, 0, (i + 1) * 1000, 1000) for i in range(5)],
        index=pd.Index([f"W{i}" for i in range(5)], name="ward_code"),
        crs="EPSG:27700",
    )
    html = maps.map_html(maps.localities_map(wards, pd.Series(names, index=wards.index)))
    for colour in colours.values():
        assert colour in html


def test_every_map_and_figure_says_what_its_page_says(
    assets: pd.DataFrame, wards: gpd.GeoDataFrame, points: pd.DataFrame, nearest: pd.DataFrame
) -> None:
    page = maps.MapPage(
        title="My <title>", subtitle="My subtitle", network_label=LABEL, attribution="Only mine"
    )
    gp = rq.gap_points(nearest, points, assignment=ASSIGNMENT)
    go = points.assign(imd_decile=3, go=True)
    built = {
        "localities": maps.localities_map(wards, ASSIGNMENT, page=page),
        "assets": maps.assets_map(assets, wards=wards, page=page),
        "gaps": maps.gaps_map(gp, measures=["somewhere to go"], wards=wards, page=page),
        "walksheds": maps.walksheds_map(
            _walksheds(assets), wards=wards, page=page, note="what the shading is"
        ),
        "requirements": maps.requirements_map(
            _outline_for(assets, points), assets, wards=wards, page=page
        ),
        "bands": maps.travel_time_map(points, nearest, measures=["somewhere to go"], page=page),
        "equity": maps.deprivation_gaps_map(go, measures=["go"], wards=wards, page=page),
        "difference": maps.difference_map(
            go.assign(measure="go", change="loses"), measures=["go"], wards=wards, page=page
        ),
    }
    for name, m in built.items():
        html = _html(m)
        assert "<h1>My &lt;title&gt;</h1><p>My subtitle</p>" in html, name
        assert LABEL in html and "Sources: Only mine" in html, name
        assert "ODbL" not in html, name  # the page's sources replace the default ones
    # a field left None is the map's own; an empty subtitle shows none
    own = _html(maps.assets_map(assets, page=maps.MapPage(subtitle="")))
    assert "<h1>Community assets by category</h1></div>" in own
    assert "ODbL" in own and 'id="nwm-network"' not in own
    figures = {
        "localities": maps.plot_localities(wards, ASSIGNMENT, page=page),
        "assets": maps.plot_assets(assets, wards=wards, page=page),
        "coverage": maps.plot_coverage(points, nearest, measures=["somewhere to go"], page=page),
        "one": maps.plot_locality(wards, ASSIGNMENT, "North", page=page),
    }
    for name, fig in figures.items():
        titles = [ax.get_title() for ax in fig.axes] + [fig.get_suptitle()]
        assert any(t.startswith("My <title>") for t in titles), name
        footer = " ".join(t.get_text() for t in fig.texts if t.get_gid() == "nwm-attribution")
        assert LABEL in footer and "Only mine" in footer and "ODbL" not in footer, name


def test_a_figure_pickles_and_still_shows_as_png() -> None:
    fig = maps.new_figure((2.0, 2.0))
    fig.text(0.1, 0.1, "synthetic")
    again = pickle.loads(pickle.dumps(fig))
    assert type(again) is type(fig)
    assert again._repr_png_().startswith(b"\x89PNG")


def test_polygon_layers_keep_holes_colours_and_odd_geometries() -> None:
    # SYNTHETIC wards: one with a courtyard (a hole), one of two parts
    from matplotlib.collections import PatchCollection
    from matplotlib.colors import to_rgba
    from shapely.geometry import MultiPolygon, Polygon

    holed = Polygon(
        [(0, 0), (1000, 0), (1000, 1000), (0, 1000)], [[(400, 400), (600, 400), (600, 600)]]
    )
    parts = MultiPolygon([box(1000, 0, 2000, 400), box(1000, 600, 2000, 1000)])
    wards = gpd.GeoDataFrame(
        {"ward_name": ["Holed", "Parted"]},
        geometry=[holed, parts],
        index=pd.Index(["W1", "W2"], name="ward_code"),
        crs="EPSG:27700",
    )
    assignment = pd.Series({"W1": "East", "W2": "West"})
    fig = maps.plot_localities(wards, assignment)
    fills = next(c for c in fig.axes[0].collections if isinstance(c, PatchCollection))
    rings = [len(p.to_polygons()) for p in fills.get_paths()]
    assert rings == [2, 2]  # the hole, and both parts, each a ring of its ward's patch
    colours = maps.locality_colours(assignment.to_numpy())
    expected = [to_rgba(colours[n], alpha=fills.get_alpha()) for n in ("East", "West")]
    assert np.allclose(fills.get_facecolors(), expected)
    # a layer of mixed geometries (a collection) is still drawn, hatched
    gaps = gpd.GeoDataFrame(
        geometry=[shapely.GeometryCollection([box(100, 100, 300, 300), box(700, 700, 900, 900)])],
        crs="EPSG:27700",
    )
    fig = maps.plot_locality(wards, assignment, "East", layers=maps.LocalityLayers(gaps=gaps))
    assert any(c.get_hatch() == "///" for c in fig.axes[0].collections)
