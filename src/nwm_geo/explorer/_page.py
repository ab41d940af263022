"""The explorer page: one self-contained HTML file (Leaflet, script and data inlined).

In: :func:`~nwm_geo.explorer.explorer_data`. Out: ``explorer.html``, written atomically
through the publishing path (:func:`nwm_geo._publish.write_text`). The page makes no
network request: Leaflet 1.9.3 (vendored in ``nwm_geo/_static/leaflet``) and the page's script
(``nwm_geo/_static/explorer``) are inlined, there is no tile layer, and the data is a
JSON block that cannot close its ``<script>`` tag.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from pathlib import Path
from typing import Any

from nwm_geo._publish import write_text
from nwm_geo.explorer._data import explorer_data

__all__ = ["explorer_html", "write_explorer"]


def _static(*parts: str) -> str:
    base = resources.files("nwm_geo") / "_static"
    for p in parts:
        base = base / p
    return base.read_text(encoding="utf-8")


def _script(text: str) -> str:
    """Script text that cannot end its ``<script>`` element early."""
    return text.replace("</script", "<\\/script").replace("<!--", "<\\!--")


def _json_block(obj: Any) -> str:
    text = json.dumps(obj, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


_BODY = """
<header>
  <h1>What if? Decision explorer: {area}</h1>
  <p id="nwm-headline" aria-live="polite"></p>
</header>
<main>
<section id="nwm-controls" aria-label="Changes">
  <h2>Try a change</h2>
  <ul id="nwm-errors" class="nwm-alert" role="alert" hidden></ul>
  <label for="nwm-search">Search a site or ward by name</label>
  <input id="nwm-search" type="search" autocomplete="off" placeholder="e.g. library">
  <ul id="nwm-results" aria-live="polite"></ul>
  <p class="nwm-hint">Click a site on the map (or a search result) to close or reopen it.</p>
  <label for="nwm-minutes">Walk threshold</label> <select id="nwm-minutes"></select>
  <label for="nwm-speed">Walking speed</label> <select id="nwm-speed"></select>
  <fieldset><legend>Open a new site</legend>
    <label for="nwm-cand">Place</label> <select id="nwm-cand"></select>
    <label for="nwm-cand-cat">Category</label> <select id="nwm-cand-cat"></select>
    <button id="nwm-open" type="button">Open it</button>
  </fieldset>
  <fieldset><legend>Move a ward</legend>
    <label for="nwm-move-ward">Ward</label> <select id="nwm-move-ward"></select>
    <label for="nwm-move-to">to locality</label> <select id="nwm-move-to"></select>
    <label for="nwm-move-new">or a new locality named</label>
    <input id="nwm-move-new" type="text" autocomplete="off">
    <button id="nwm-move" type="button">Move it</button>
  </fieldset>
  <h2>Your changes</h2>
  <ul id="nwm-changes"></ul>
  <p>
    <button id="nwm-reset" type="button">Back to the baseline</button>
    <button id="nwm-print" type="button">Print (one A4 page)</button>
  </p>
  <h2>Take it further</h2>
  <p>
    <button id="nwm-export-toml" type="button">Download scenario (TOML)</button>
    <button id="nwm-export-plan" type="button">Download plan (CSV)</button>
    <button id="nwm-export-cmp" type="button">Download comparison (CSV)</button>
  </p>
  <label for="nwm-import-toml">Open a scenario file (TOML)</label>
  <input id="nwm-import-toml" type="file" accept=".toml,text/plain">
  <label for="nwm-import-plan">Open a plan (CSV: ward_code, locality)</label>
  <input id="nwm-import-plan" type="file" accept=".csv,text/csv">
  <label for="nwm-fragment">Link to this state</label>
  <input id="nwm-fragment" type="text" readonly>
</section>
<section id="nwm-view" aria-label="Map and figures">
  <div id="nwm-map" role="application"
       aria-label="Map: wards coloured by locality; register sites (click to close or reopen);
       dashed circles are new-site candidates"></div>
  <p id="nwm-legend">
    <span class="sw" style="background:{site}"></span> open site
    <span class="sw sw-closed" style="border-color:{closed}"></span> closed site
    <span class="sw" style="background:{added}"></span> opened site
    <span class="sw sw-cand" style="border-color:{candidate}"></span> candidate place
    <span class="sw" style="background:{losing}"></span> residents losing access
    <span class="sw" style="background:{gaining}"></span> residents gaining access
  </p>
  <label for="nwm-measure">Show</label> <select id="nwm-measure"></select>
  <p id="nwm-contiguity" aria-live="polite"></p>
  <h2>Localities</h2>
  <table id="nwm-loc-table"></table>
  <div class="nwm-pair">
  <section aria-label="Equity split">
  <h2>Who loses and who gains (deprivation and age)</h2>
  <table id="nwm-equity-table"></table>
  </section>
  <section id="nwm-ward-section" aria-label="Ward panel">
  <h2>Ward panel</h2>
  <label for="nwm-ward">Ward</label> <select id="nwm-ward"></select>
  <h3 id="nwm-ward-title" tabindex="-1"></h3>
  <table id="nwm-ward-panel"></table>
  </section>
  </div>
  <h2>Every ward</h2>
  <table id="nwm-ward-table"></table>
</section>
</main>
<footer>
  <p>{notes}</p>
</footer>
<pre id="nwm-comparison" hidden></pre>
<pre id="nwm-comparison-wards" hidden></pre>
<pre id="nwm-comparison-equity" hidden></pre>
"""


def explorer_html(data: dict[str, Any]) -> str:
    """Return the explorer page for :func:`~nwm_geo.explorer.explorer_data`'s dict.

    Parameters
    ----------
    data
        The page's data.

    Returns
    -------
    str
        The whole HTML document.
    """
    area = html.escape(str(data["area"]))
    pal = {k: html.escape(str(v)) for k, v in data["palette"].items() if isinstance(v, str)}
    s = data["settings"]
    notes = " ".join(
        html.escape(str(x))
        for x in [
            f"Baseline: {s['minutes']:g} minutes at {s['speed_m_per_min']:g} m/min; "
            f"{data['notes']['plan']}.",
            "Coverage is recomputed in this page with the rules of nwm-geo scenario "
            "(same numbers; see docs/explorer.md). New sites: only the candidate places "
            "this file holds. Ward moves: the comparison is on the moved plan, as "
            "nwm-geo scenario with its plan file.",
            data["notes"]["network"] + ".",
            "Sources and licences: " + data["notes"]["attribution"] + ".",
        ]
    )
    body = _BODY.format(area=area, notes=notes, **pal)
    css = _static("leaflet", "leaflet.css")
    page_css = _static("explorer", "explorer.css")
    return (
        '<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; "
        "connect-src 'none'\">\n"
        f"<title>What if? Decision explorer: {area}</title>\n"
        f"<style>{css}</style>\n<style>{page_css}</style>\n</head>\n<body>\n{body}\n"
        f'<script type="application/json" id="nwm-data">{_json_block(data)}</script>\n'
        f"<script>{_script(_static('leaflet', 'leaflet.js'))}</script>\n"
        f"<script>{_script(_static('explorer', 'explorer.js'))}</script>\n"
        "</body>\n</html>\n"
    )


def write_explorer(study: Any, path: str | Path) -> Path:
    """Write the decision explorer for a study: one self-contained, offline HTML file.

    Parameters
    ----------
    study
        A :class:`nwm_geo.pipeline.Study` (see :func:`~nwm_geo.explorer.explorer_data`).
    path
        The file to write (``reports/explorer.html`` in a run).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = explorer_html(explorer_data(study))
    return write_text(path, text)  # the publishing path: masked, atomic
