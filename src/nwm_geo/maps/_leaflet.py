"""Offline Leaflet: the vendored library, the page furniture, the GeoJSON layer, escaping.

folium loads Leaflet, jQuery and Bootstrap from CDNs. These maps use none of the CDN
files: Leaflet 1.9.3 (BSD-2, vendored in ``nwm_geo/_static/leaflet``) is inlined into
each HTML file (:func:`_offline`), and all layers, popups, legends and labels are drawn
with plain Leaflet calls (:class:`GeoJsonLayer`, :func:`base_map`). Ready HTML (the
inlined library, the page furniture, each layer's script with its GeoJSON) is added as
a :class:`RawHtml` element, inserted as it is: branca's ``Element(html)`` would compile
each such string as a jinja template (the 150 kB library and every layer's data, in
every map, lexed once per file: a tenth of ``nwm-geo run``'s report stage).

Safety: :func:`esc` is the one way text reaches a map. It masks phone numbers and
e-mail addresses (:func:`nwm_geo._safe.mask_personal_text`), HTML-escapes the rest and
neutralises the characters that matter inside JavaScript strings; :func:`_js_json`
keeps a JSON payload from closing its ``<script>`` tag.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from functools import cache, lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from branca.element import Element, MacroElement
from jinja2 import Template

from nwm_geo._safe import mask_personal_text
from nwm_geo.maps._page import MapPage

if TYPE_CHECKING:
    import folium

_LUTON_CENTRE = (51.8787, -0.4200)


# ---------------------------------------------------------------------------
# escaping and the GeoJSON layer


def esc(value: object) -> str:
    """Return text for innerHTML: personal data masked, then HTML-escaped.

    Phone numbers and e-mail addresses are masked, and the JavaScript template and
    escape characters are neutralised too.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return _esc_text(str(value))


@lru_cache(maxsize=16384)
def _esc_text(text: str) -> str:
    """:func:`esc` of a text; cached, as the maps repeat their labels (categories, roles)."""
    masked, _ = mask_personal_text(text)
    out = html.escape(masked, quote=True)
    return out.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def _js_json(obj: object) -> str:
    """JSON for a <script> block: cannot close the tag or start a comment."""
    text = json.dumps(obj, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class RawHtml(Element):
    """A piece of ready HTML or script, inserted as it is (never read as a template)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._raw = text

    def render(self, **kwargs: Any) -> str:
        """Return the text unchanged."""
        return self._raw


class GeoJsonLayer(MacroElement):
    """A GeoJSON layer drawn with plain Leaflet: per-feature style, popups, labels.

    Features carry ``_style`` (Leaflet path options), and optionally ``_popup`` and
    ``_tooltip`` (already escaped HTML) and ``_label`` (escaped HTML drawn as text, with
    the CSS class ``_label_class``, "nwm-label" by default).
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
                            icon: L.divIcon({className: f.properties._label_class || "nwm-label",
                                             html: f.properties._label, iconSize: null})});
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
        super().__init__()  # type: ignore[no-untyped-call]  # branca is untyped
        self._name = "NwmGeoJsonLayer"
        self.data_json = _js_json({"type": "FeatureCollection", "features": features})

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # as MacroElement's
        """Add the layer's script to the page (as ``MacroElement.render``, not recompiled)."""
        script = self._template.module.__dict__["script"]
        root: Any = self.get_root()
        root.script.add_child(RawHtml(script(self, kwargs)), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


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
.nwm-ward-label { font: 11px Arial, sans-serif; color: #333; white-space: nowrap;
  text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 2px #fff; background: none; border: none;
  pointer-events: none; }
.nwm-ward-label span { display: inline-block; transform: translate(-50%, -50%); }
.nwm-note { margin: 3px 0 0 0; font-size: 11px; color: #444; max-width: 520px; }
"""


def _offline(m: folium.Map) -> None:
    """Drop folium's CDN links and inline the vendored Leaflet instead."""
    m.default_js = []
    m.default_css = []
    css, js = _leaflet_assets()
    root: Any = m.get_root()
    root.header.add_child(RawHtml(f"<style>{css}</style>"), name="nwm_leaflet_css")
    root.header.add_child(RawHtml(f"<script>{js}</script>"), name="nwm_leaflet_js")
    root.header.add_child(RawHtml(f"<style>{_PAGE_CSS}</style>"), name="nwm_page_css")


def base_map(
    page: MapPage,
    *,
    legend: Sequence[tuple[str, str, str]],
    legend_title: str,
    bounds: tuple[float, float, float, float] | None,
) -> folium.Map:
    """Return an offline map with the page's title, legend, network label and sources.

    ``page`` comes filled with the map's own title and subtitle (:meth:`MapPage.filled`).
    """
    import folium

    m = folium.Map(location=list(_LUTON_CENTRE), zoom_start=12, tiles=None, control_scale=True)
    _offline(m)
    if page.tiles is not None:
        folium.TileLayer(page.tiles, name="Background tiles").add_to(m)
    title, subtitle, network_label = page.title or "", page.subtitle, page.network_label
    root: Any = m.get_root()
    root.title = esc(title)  # branca inserts the page <title> unescaped
    sub = f"<p>{esc(subtitle)}</p>" if subtitle else ""
    root.html.add_child(
        RawHtml(f'<div class="nwm-box nwm-title" id="nwm-title"><h1>{esc(title)}</h1>{sub}</div>')
    )
    items = "".join(
        f'<div><span class="sw{" pt" if kind == "point" else ""}" '
        f'style="background:{esc(colour)}"></span>{esc(label)}</div>'
        for label, colour, kind in legend
    )
    root.html.add_child(
        RawHtml(
            f'<div class="nwm-box nwm-legend" id="nwm-legend"><b>{esc(legend_title)}</b>'
            f"{items}</div>"
        )
    )
    attribution = page.sources
    net = (
        f'<div class="nwm-network" id="nwm-network">{esc(network_label)}</div>'
        if network_label
        else ""
    )
    root.html.add_child(
        RawHtml(
            f'<div class="nwm-box nwm-attrib" id="nwm-attrib">{net}'
            f"<div>Sources: {esc(attribution)}</div></div>"
        )
    )
    if bounds is not None and all(np.isfinite(bounds)):
        minx, miny, maxx, maxy = bounds
        m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m
