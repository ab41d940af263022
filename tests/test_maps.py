"""Tests for nwm_geo.maps on SYNTHETIC fixtures (tests/data/maps/)."""

from __future__ import annotations

import re
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from folium.plugins import MiniMap
from matplotlib.colors import to_hex

from nwm_geo import maps, settings
from nwm_geo import requirements as rq
from nwm_geo._errors import NwmGeoError

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


@pytest.fixture()
def wards() -> gpd.GeoDataFrame:
    return gpd.read_file(DATA / "synthetic_wards.geojson").set_index("ward_code")


@pytest.fixture()
def assets() -> pd.DataFrame:
    return pd.read_csv(DATA / "synthetic_assets.csv", index_col="asset_id")


@pytest.fixture()
def points() -> pd.DataFrame:
    return pd.read_csv(DATA / "synthetic_points.csv", index_col="point_id")


@pytest.fixture()
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
    page = _html(maps.assets_map(assets, wards=wards, assignment=ASSIGNMENT, network_label=LABEL))
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


def test_escape_helper() -> None:
    assert maps._esc(HOSTILE) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert maps._esc("a`b${c}\\") == "a&#96;b&#36;{c}&#92;"
    assert maps._esc(None) == "" and maps._esc(float("nan")) == ""


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


def test_title_legend_attribution_network_note(
    assets: pd.DataFrame, wards: gpd.GeoDataFrame, points: pd.DataFrame, nearest: pd.DataFrame
) -> None:
    gp = rq.gap_points(nearest, points, assignment=ASSIGNMENT)
    ws = gpd.GeoDataFrame(
        {"category": assets["category"], "name": assets["name"]},
        geometry=gpd.points_from_xy(assets["lon"], assets["lat"]),
        crs=settings.wgs84,
    ).to_crs(settings.crs)
    ws["geometry"] = ws.buffer(500)
    built = [
        maps.localities_map(wards, ASSIGNMENT, network_label=LABEL),
        maps.assets_map(assets, wards=wards, network_label=LABEL),
        maps.gaps_map(gp, measures=["somewhere to go"], wards=wards, network_label=LABEL),
        maps.walksheds_map(ws, assets=assets, wards=wards, network_label=LABEL),
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
    for loc in ["North", "Central", "South"]:
        assert f'"_label":"{loc}"' in page
        assert maps.locality_colour(loc) in page


def test_gaps_map_layers_and_areas(
    points: pd.DataFrame, nearest: pd.DataFrame, wards: gpd.GeoDataFrame
) -> None:
    gp = rq.gap_points(nearest, points, assignment=ASSIGNMENT)
    ag = rq.gap_population(nearest, points, assignment=ASSIGNMENT, by="ward")
    m = maps.gaps_map(
        gp, measures=["somewhere to go", "someone to see"], wards=wards, areas=wards, area_gaps=ag
    )
    page = _html(m)
    n_gap = int(gp["somewhere to go"].sum() + gp["someone to see"].sum())
    assert page.count('"className":"nwm-gap"') == n_gap
    assert page.count('"className":"nwm-area"') == 2 * len(wards)
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
    assert maps.locality_colour("North") == maps.LOCALITY_COLOURS["North"]
    # other names: a fixed colour from the extra palette, by CRC32 (same in every session)
    assert maps.locality_colour("Made-up locality") == "#d37295"
    assert maps.locality_colour("Another place") in maps._EXTRA_COLOURS
    # matplotlib uses exactly the folium colours
    fig = maps.plot_assets(assets, wards=wards, network_label=LABEL)
    leg = fig.axes[0].get_legend()
    for handle, text in zip(leg.legend_handles, leg.get_texts(), strict=True):
        cat = text.get_text().rsplit(" (", 1)[0]
        assert to_hex(handle.get_color()) == maps.CATEGORY_COLOURS[cat]
    page = _html(maps.assets_map(assets))
    for colour in maps.CATEGORY_COLOURS.values():
        assert colour in page
    fig2 = maps.plot_localities(wards, ASSIGNMENT)
    leg2 = fig2.axes[0].get_legend()
    for patch, text in zip(leg2.get_patches(), leg2.get_texts(), strict=True):
        assert to_hex(patch.get_facecolor()) == maps.locality_colour(text.get_text())


def test_static_maps_have_title_legend_attribution(
    assets: pd.DataFrame,
    wards: gpd.GeoDataFrame,
    points: pd.DataFrame,
    nearest: pd.DataFrame,
    tmp_path: Path,
) -> None:
    figs = {
        "loc": maps.plot_localities(wards, ASSIGNMENT, network_label=LABEL),
        "assets": maps.plot_assets(assets, wards=wards, network_label=LABEL),
        "cov": maps.plot_coverage(
            points,
            nearest,
            measures=["somewhere to go", "someone to see"],
            wards=wards,
            network_label=LABEL,
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


def test_every_compass_locality_name_has_its_own_colour() -> None:
    names = [
        "Central",
        "North",
        "North East",
        "East",
        "South East",
        "South",
        "South West",
        "West",
        "North West",
    ]
    colours = [maps.locality_colour(n) for n in names]
    assert len(set(colours)) == len(names)
