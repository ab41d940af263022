"""Open the saved maps in headless Chromium (offline) and check what really renders.

SYNTHETIC fixtures (tests/data/maps/), including assets named
``<script>alert(1)</script>`` and other payloads that would set ``document.title`` to
"pwned..." if they ever ran. Needs Debian's ``/usr/bin/chromium``, driven by Playwright:
one browser and tab per module, each page a fresh document (no network: every request the
page makes must be the file itself).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, sync_playwright

from _explorer import chromium_path
from nwm_geo import maps, settings
from nwm_geo import requirements as rq

pytestmark = pytest.mark.browser

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
BUNDLES = ("somewhere to go", "someone to see")

# Run after the map script: open every tooltip and the popup of the first asset, so
# the hostile names are put into the DOM by Leaflet exactly as a user would see them.
OPEN_ALL = """
<script>
window.addEventListener("load", function () {
  Object.keys(window).filter(function (k) { return k.indexOf("map_") === 0; })
    .forEach(function (k) {
      var m = window[k];
      if (!m || typeof m.eachLayer !== "function") { return; }
      var popupDone = false;
      m.eachLayer(function (l) {
        if (l.getTooltip && l.getTooltip() && l.getLatLng) { l.openTooltip(); }
        if (!popupDone && l.getPopup && l.getPopup() &&
            String(l.getPopup().getContent()).indexOf("&lt;script&gt;") >= 0) {
          l.openPopup(); popupDone = true;
        }
      });
    });
  document.body.setAttribute("data-nwm-ready", "yes");
});
</script>
"""


# The flags the old one-process-per-page launches used: no network of Chromium's own.
OFFLINE = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SIZE: ViewportSize = {"width": 1000, "height": 800}

# Leaflet may start a pan or zoom animation on the frame after `fitBounds`; the page is
# drawn when every map has loaded and none is animating (checked on each frame).
FRAMES = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"
SETTLED = """() => Object.keys(window)
  .filter((k) => k.indexOf("map_") === 0).map((k) => window[k])
  .filter((m) => m && typeof m.eachLayer === "function")
  .every((m) => m._loaded && !m._animatingZoom && !(m._panAnim && m._panAnim._inProgress))"""


class Chromium:
    """One headless Chromium for the module and one tab in it, reused page after page.

    A new tab costs Chromium about 0.3 CPU-s, so each page is loaded into the same tab,
    after ``about:blank``: a new document every time (no state left from the last page,
    even when only the URL's fragment differs). A tab that failed is replaced.
    """

    def __init__(self, playwright: Playwright) -> None:
        self.playwright = playwright
        self.browser: Browser | None = None
        self.page: Page | None = None
        self.requests: list[str] = []

    def render(self, url: str, *, ready: str = "", shot: Path | None = None) -> str:
        """The page's DOM once its scripts ran and Leaflet drew (a screenshot to ``shot``).

        ``ready``: a body attribute the page's load handler sets, waited for. The page
        is 1000x800 and must request nothing but its own file.
        """
        if self.browser is None:  # launched in the test: a missing Chromium fails it
            path = chromium_path()
            self.browser = self.playwright.chromium.launch(executable_path=path, args=OFFLINE)
        if self.page is None:
            self.page = self.browser.new_page(viewport=SIZE)
            self.page.on("request", lambda r: self.requests.append(r.url))
        page = self.page
        try:
            page.goto("about:blank")
            self.requests.clear()
            page.goto(url, wait_until="load")
            if ready:
                page.wait_for_function("(a) => document.body.hasAttribute(a)", arg=ready)
            page.evaluate(FRAMES)
            page.wait_for_function(SETTLED, polling="raf")
            page.evaluate(FRAMES)
            if shot is not None:
                page.screenshot(path=shot)
            dom = page.content()
        except BaseException:
            page.close()
            self.page = None
            raise
        file = url.split("#")[0]
        others = [u for u in self.requests if u.split("#")[0] != file]
        others = [u for u in others if not u.startswith(("data:", "blob:"))]
        assert not others, f"the page made network requests: {others[:5]}"
        return dom


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    """The module's one Chromium, launched by the first test that opens a page.

    That test fails, never skips, when Chromium is missing.
    """
    with sync_playwright() as p:
        chromium = Chromium(p)
        yield chromium
        if chromium.browser is not None:
            chromium.browser.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("maps")
    wards = gpd.read_file(DATA / "synthetic_wards.geojson").set_index("ward_code")
    assets = pd.read_csv(DATA / "synthetic_assets.csv", index_col="asset_id")
    points = pd.read_csv(DATA / "synthetic_points.csv", index_col="point_id")
    pop = points["population"]
    nearest = pd.DataFrame(
        {
            "somewhere to go": np.where(pop > 60, 20.0, 5.0),
            "someone to see": np.where(pop > 30, 5.0, 40.0),
        },
        index=points.index,
    )
    gp = rq.gap_points(nearest, points, assignment=ASSIGNMENT)
    ws = gpd.GeoDataFrame(
        geometry=[wards.to_crs(settings.crs).union_all().buffer(-300)] * 2,
        index=pd.Index(["Library", "Education"], name="category"),
        crs=settings.crs,
    )
    files = {
        "assets": maps.assets_map(
            assets, wards=wards, assignment=ASSIGNMENT, page=maps.MapPage(network_label=LABEL)
        ),
        "localities": maps.localities_map(
            wards, ASSIGNMENT, page=maps.MapPage(network_label=LABEL)
        ),
        "gaps": maps.gaps_map(
            gp, measures=list(BUNDLES), wards=wards, page=maps.MapPage(network_label=LABEL)
        ),
        "walksheds": maps.walksheds_map(
            ws, assets=assets, wards=wards, page=maps.MapPage(network_label=LABEL)
        ),
    }
    paths = {}
    for name, m in files.items():
        p = out / f"{name}.html"
        maps.save_map(m, p)
        # the test page adds only the helper that opens tooltips/popups
        p_open = out / f"{name}_open.html"
        p_open.write_text(
            p.read_text(encoding="utf-8").replace("</html>", OPEN_ALL + "</html>"),
            encoding="utf-8",
        )
        paths[name] = p
        paths[f"{name}_open"] = p_open
    return {
        "dir": out,
        "paths": paths,
        "n_assets": len(assets),
        "n_gap": {b: int(gp[b].sum()) for b in BUNDLES},
        "n_wards": len(wards),
        "ward_names": list(wards["ward_name"]),
    }


@pytest.mark.parametrize("name", ["assets", "localities", "gaps", "walksheds"])
def test_screenshot_is_not_blank(
    chromium: Chromium, built: dict, name: str, tmp_path: Path
) -> None:
    shot = tmp_path / f"{name}.png"
    chromium.render(built["paths"][name].as_uri(), shot=shot)
    assert shot.exists()
    img = Image.open(shot).convert("RGB")
    arr = np.asarray(img).reshape(-1, 3)
    colours = len(np.unique(arr, axis=0))
    non_white = float((arr.min(axis=1) < 240).mean())
    assert colours > 50, f"only {colours} distinct colours: map looks blank"
    assert non_white > 0.2, f"only {non_white:.0%} non-white pixels"


def test_markers_render(chromium: Chromium, built: dict) -> None:
    dom = chromium.render(built["paths"]["assets"].as_uri())
    # Leaflet turns each circle marker into an SVG path with our class
    assert len(re.findall(r'<path class="nwm-asset leaflet-interactive"', dom)) == built["n_assets"]
    assert len(re.findall(r'<path class="nwm-ward leaflet-interactive"', dom)) == built["n_wards"]
    assert "leaflet-control-layers" in dom and 'id="nwm-legend"' in dom
    dom_g = chromium.render(built["paths"]["gaps"].as_uri())
    # one bundle is shown on opening: the first
    n_first = built["n_gap"][BUNDLES[0]]
    assert (
        len(re.findall(r'<path class="nwm-gap nwm-measure-0 leaflet-interactive"', dom_g))
        == n_first
    )
    assert '<path class="nwm-gap nwm-measure-1' not in dom_g
    dom_l = chromium.render(built["paths"]["localities"].as_uri())
    for loc in ["North", "Central", "South"]:
        assert re.search(rf'class="[^"]*nwm-label[^"]*"[^>]*>{loc}<', dom_l)


def test_hostile_names_are_text_and_never_run(chromium: Chromium, built: dict) -> None:
    dom = chromium.render(built["paths"]["assets_open"].as_uri(), ready="data-nwm-ready")
    assert 'data-nwm-ready="yes"' in dom
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    assert title is not None and title.group(1) == "Community assets by category"
    assert "pwned" not in (title.group(1) if title else "")
    # tooltips and the opened popup hold the names as escaped text
    tooltips = re.findall(r'<div class="leaflet-tooltip[^"]*"[^>]*>(.*?)</div>', dom, re.S)
    assert len(tooltips) == built["n_assets"]  # the helper opens marker tooltips only
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in " ".join(tooltips)
    assert "&lt;img src=x onerror=" in " ".join(tooltips)
    # a template-literal payload is shown as literal text (the page's DOM holds "$",
    # the entity &#36; in the HTML source decodes to it) and never evaluated: the
    # title check above would catch document.title='pwned2'
    assert "${document.title='pwned2'}" in " ".join(tooltips)
    popup = re.search(r'<div class="leaflet-popup-content"[^>]*>(.*?)</div>', dom, re.S)
    assert popup is not None
    assert popup.group(1).startswith("<b>&lt;script&gt;alert(1)&lt;/script&gt;</b>")
    # no element was created from a payload
    # (the map draws no <img> at all; a payload turned into markup would add one)
    assert "<img" not in dom.lower()
    assert not re.search(r"<script>\s*alert", dom)
    assert "01582 123456" not in dom and "Jane Example" not in dom
    assert settings.attribution.split(";")[0] in dom.replace("&amp;", "&")


# Run after the map script: click the base-layer radio button given in the page's hash,
# as a reader would, and record which radios are checked.
CLICK_RADIO = """
<script>
window.addEventListener("load", function () {
  var want = parseInt(window.location.hash.slice(1) || "0", 10);
  var radios = document.querySelectorAll(".leaflet-control-layers-base input[type=radio]");
  if (radios.length > want) { radios[want].click(); }
  var checked = [];
  radios.forEach(function (r, i) { if (r.checked) { checked.push(i); } });
  document.body.setAttribute("data-nwm-radios", String(radios.length));
  document.body.setAttribute("data-nwm-checked", checked.join(","));
});
</script>
"""


@pytest.mark.parametrize("name", ["assets", "localities", "gaps", "walksheds"])
def test_every_map_shows_the_ward_names(chromium: Chromium, built: dict, name: str) -> None:
    dom = chromium.render(built["paths"][name].as_uri())
    labels = re.findall(
        r'<div class="[^"]*nwm-ward-label[^"]*"[^>]*><span>([^<]*)</span></div>', dom
    )
    assert sorted(labels) == sorted(built["ward_names"]), name


@pytest.mark.parametrize("pick", [0, 1])
def test_switching_a_bundle_leaves_exactly_one_bundle_visible(
    chromium: Chromium, built: dict, pick: int, tmp_path: Path
) -> None:
    page = tmp_path / "gaps_click.html"
    page.write_text(
        built["paths"]["gaps"]
        .read_text(encoding="utf-8")
        .replace("</html>", CLICK_RADIO + "</html>"),
        encoding="utf-8",
    )
    dom = chromium.render(page.as_uri() + f"#{pick}", ready="data-nwm-checked")
    assert 'data-nwm-radios="2"' in dom
    assert f'data-nwm-checked="{pick}"' in dom  # one radio checked: the one clicked
    shown = {int(i) for i in re.findall(r'<path class="nwm-(?:gap|area) nwm-measure-(\d+)', dom)}
    assert shown == {pick}
    n = len(re.findall(rf'<path class="nwm-gap nwm-measure-{pick} leaflet-interactive"', dom))
    assert n == built["n_gap"][BUNDLES[pick]] > 0


@pytest.mark.integration
@pytest.mark.xdist_group("areas")
def test_every_luton_map_shows_every_ward_name(
    chromium: Chromium, luton_run: Any, luton_study: Any
) -> None:
    # the maps the session's one `nwm-geo run` of Luton wrote (tests/conftest.py)
    reports = luton_run.reports
    # every map written, not a fixed list: a map added later must name the wards too
    pages = sorted(reports.glob("map_*.html"))
    written = {p.name for p in pages}
    assert {
        "map_assets.html",
        "map_equity.html",
        "map_gaps.html",
        "map_hubs_joint.html",
        "map_localities.html",
        "map_requirements.html",
        "map_walksheds.html",
    } <= written
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{name}"' in index for name in written)  # each listed on the index
    names = sorted(luton_study.wards["ward_name"])
    doms = {page.name: chromium.render(page.as_uri()) for page in pages}
    for page in pages:
        dom = doms[page.name]
        labels = re.findall(
            r'<div class="[^"]*nwm-ward-label[^"]*"[^>]*><span>([^<]*)</span></div>', dom
        )
        assert sorted(labels) == names, page.name
    assets = doms["map_assets.html"]  # the DOM read above, not opened again
    assert "274 in the borough, plus 73 outside" in assets
    # no commit hash (the register's sources name repository snapshots) on any map
    commit = re.compile(r"(?<![\w])(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}(?![\w])")
    for page in pages:
        found = commit.findall(page.read_text(encoding="utf-8"))
        assert not found, f"{page.name}: {found[:3]}"
