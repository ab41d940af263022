"""Tests for nwm_geo.maps on SYNTHETIC fixtures (tests/data/maps/)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from folium.plugins import MiniMap
from matplotlib.colors import to_hex

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
    assert maps.locality_colours(["b", "a", float("nan"), "outside the borough"]) == {
        "a": maps.LOCALITY_PALETTE[0],
        "b": maps.LOCALITY_PALETTE[1],
        "outside the borough": maps.OUTSIDE_COLOUR,
    }
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
