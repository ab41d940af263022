"""The printable locality pack: ``reports/locality_pack.pdf``.

In: a :class:`PackInputs` (wards, plan, register, outline, gap areas, optional hubs,
the run's notes). Out: an A4 landscape PDF, written atomically: a summary page (the
localities map and one row per locality), then one page per locality with its map
(wards named, assets, required assets and suggested sites marked, the hub when the
study has one, areas beyond the walk shaded), its key figures and its business cases.
Every page carries the sources and licences, the network label and, on the
approximate network, the approximation note. Text and tables are drawn with fpdf2 and
the maps with matplotlib, laid over their pages as vector graphics
(:class:`~nwm_geo.report.PdfDocument`).
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from nwm_geo import maps, settings
from nwm_geo._safe import mask_personal_text
from nwm_geo._units import resolve_minutes
from nwm_geo.report._pdf import PdfDocument
from nwm_geo.report._wards import draw_table
from nwm_geo.requirements import RequirementsOutline
from nwm_geo.uncertainty import range_text

if TYPE_CHECKING:
    from nwm_geo.report._pdf import PdfPage

__all__ = ["PACK_PAGE_SIZE", "PackInputs", "write_locality_pack"]

#: Page size of the pack, inches (A4 landscape).
PACK_PAGE_SIZE: tuple[float, float] = (11.69, 8.27)


@dataclass
class PackInputs:
    """Everything the locality pack shows.

    Attributes
    ----------
    area_name
        The area's display name (e.g. "Luton").
    wards
        Ward polygons indexed by ``ward_code`` with ``ward_name``.
    assignment
        ``ward_code -> locality``.
    register
        The asset register (indexed by ``asset_id``, with ``inside_area``).
    outline
        The outline of requirements.
    bundles
        The bundle names, in order.
    gaps
        Areas beyond the walk, one polygon per bundle (EPSG:27700), e.g.
        ``coverage.catchment_cells(..., beyond=True)``; ``None`` draws none.
    hubs
        One row per locality with ``locality`` and ``hub_asset_id`` (the hubs table)
        when the study has chosen hubs; each page then marks its hub.
    network_label
        The network line.
    notes
        Sentences printed on every page under the sources (e.g. the approximation
        note and the register's gap to the council's count).
    minutes
        Walk threshold, for the wording.
    ranges
        :func:`nwm_geo.uncertainty.headline_ranges`: each share is printed with its range.
    findings
        Sentences for the summary page (the hubs finding and the balance in words).
    """

    area_name: str
    wards: gpd.GeoDataFrame
    assignment: pd.Series
    register: pd.DataFrame
    outline: RequirementsOutline
    bundles: Sequence[str]
    gaps: gpd.GeoDataFrame | None = None
    hubs: pd.DataFrame | None = None
    network_label: str = ""
    notes: Sequence[str] = field(default_factory=tuple)
    minutes: float | None = None
    findings: Sequence[str] = field(default_factory=tuple)
    ranges: pd.DataFrame | None = None


#: (locality, measure) -> (low %, high %): the first row of ``PackInputs.ranges`` for each.
_Ranges = dict[tuple[str, str], tuple[float, float]]


def _range_lookup(inputs: PackInputs) -> _Ranges:
    """Index ``inputs.ranges`` once by locality and measure (the first row of each)."""
    r = inputs.ranges
    if r is None or len(r) == 0:
        return {}
    out: _Ranges = {}
    for key in zip(r["locality"], r["measure"], r["low_pct"], r["high_pct"], strict=True):
        out.setdefault((key[0], key[1]), (key[2], key[3]))
    return out


def _share_text(ranges: _Ranges, locality: str, measure: str, share: float) -> str:
    """``"73.9 % (66–75 %)"`` with a range from ``PackInputs.ranges``, else ``"73.9 %"``."""
    hit = ranges.get((locality, measure))
    if hit is not None:
        return range_text(100 * share, hit[0], hit[1])
    return f"{100 * share:.1f} %"


def _clean(text: Any) -> str:
    """Text for the PDF: personal data masked, missing values blank."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    return mask_personal_text(str(text))[0]


def _num(value: Any) -> float:
    return float(value)


#: Page margins as figure fractions (10.2 mm on every side).
_X0 = 0.4 / PACK_PAGE_SIZE[0]
_X1 = 1 - _X0
_Y0 = 0.4 / PACK_PAGE_SIZE[1]


def _page(doc: PdfDocument, inputs: PackInputs, heading: str) -> PdfPage:
    fig = doc.new_page()
    fig.text(_X0, 1 - _Y0, heading, size=16, weight="bold", va="top")
    width = int((PACK_PAGE_SIZE[0] - 0.8) * 72 / (6.0 * 0.6))
    lines = [f"{inputs.network_label}." if inputs.network_label else ""]
    lines += [_clean(n) for n in inputs.notes]
    lines.append(f"Sources and licences: {settings.attribution}")
    wrapped = "\n".join(textwrap.fill(t, width) for t in lines if t)
    fig.text(_X0, _Y0, wrapped, size=6.0, va="bottom", color="#333333")
    return fig


def _hub_id(inputs: PackInputs, locality: str) -> object | None:
    """Return the locality's hub asset when the study has hubs (the hubs-table hook)."""
    hubs = inputs.hubs
    if hubs is None or len(hubs) == 0 or "hub_asset_id" not in hubs.columns:
        return None
    rows = hubs[hubs["locality"].astype(str) == str(locality)]
    if len(rows) == 0:
        return None
    hub: object = rows["hub_asset_id"].iloc[0]
    return None if _clean(hub) == "" else hub


def _bundle_shares(inputs: PackInputs, locality: str) -> list[tuple[str, float, float]]:
    summ = inputs.outline.summary
    out = []
    for b in inputs.bundles:
        if (locality, b) in summ.index:
            share = _num(summ.at[(locality, b), "covered_share"])
            out.append((b, share, _num(summ.at[(locality, b), "gap_population"])))
    return out


def _summary_pages(doc: PdfDocument, inputs: PackInputs, m: float, ranges: _Ranges) -> None:
    fig = _page(doc, inputs, f"{inputs.area_name}: locality pack")
    outline = inputs.outline
    intro = (
        f"{len(outline.localities)} localities of whole wards. Share of residents within a "
        f"{m:g}-minute walk of each bundle, and the business cases, per locality. One page "
        "per locality follows; a ward profile per ward is in ward_profiles.pdf."
    )
    chars = int((_X1 - _X0) * PACK_PAGE_SIZE[0] * 72 / (9 * 0.6))
    fig.text(_X0, 0.9, "\n".join(textwrap.wrap(intro, chars)), size=9, va="top")
    ax = fig.figure().add_axes((_X0, 0.2, 0.42, 0.66))
    maps.plot_localities(inputs.wards, inputs.assignment, page=maps.MapPage(title=""), ax=ax)
    header = [
        "Locality",
        "Residents",
        "Wards",
        "Assets",
        *[f"{b}: % within" for b in inputs.bundles],
        "Business cases",
    ]
    rows = []
    cases = outline.business_case
    reg = inputs.register
    in_b = reg["inside_area"].astype(bool) if "inside_area" in reg.columns else True
    loc_of = reg["ward_code"].map(inputs.assignment) if "ward_code" in reg.columns else None
    for loc in outline.localities:
        shares = _bundle_shares(inputs, loc)
        pop = outline.summary.loc[(loc, shares[0][0]), "population"] if shares else float("nan")
        n_assets = int(((loc_of == loc) & in_b).sum()) if loc_of is not None else 0
        rows.append(
            [
                loc,
                f"{_num(pop):,.0f}",
                str(int((inputs.assignment == loc).sum())),
                str(n_assets),
                *[_share_text(ranges, loc, b, s).replace(" (", "\n(") for b, s, _ in shares],
                str(int((cases["locality"] == loc).sum())),
            ]
        )
    n_b = len(inputs.bundles)
    x = 0.48
    width = _X1 - x
    widths = [0.12, 0.07, 0.045, 0.05, *([0.22 / max(n_b, 1)] * n_b), 0.06]
    widths = [w * width / sum(widths) for w in widths]
    y, _ = draw_table(fig, 0.86, x=x, widths=widths, header=header, rows=rows, size=7.5)
    text = [
        f"Assets: {maps.count_text(reg)} (assets outside are counted apart; residents walk "
        "to them). Business cases follow the written rules of the outline; every case is "
        "listed in full on its locality's page.",
        *inputs.findings,
    ]
    y -= 0.02
    for t in text:  # every finding in full: a new page when the first is full
        lines = textwrap.wrap(_clean(t), int(width * PACK_PAGE_SIZE[0] * 72 / (7.5 * 0.6)))
        if y - len(lines) * 0.019 < 0.18:
            fig = _page(doc, inputs, f"{inputs.area_name}: locality pack (continued)")
            x, width, y = _X0, _X1 - _X0, 0.9
        fig.text(x, y, "\n".join(lines), size=7.5, va="top")
        y -= len(lines) * 0.019 + 0.012


def _locality_pages(
    doc: PdfDocument, inputs: PackInputs, locality: str, m: float, ranges: _Ranges
) -> None:
    fig = _page(doc, inputs, f"{inputs.area_name}: {locality}")
    outline = inputs.outline
    reg = inputs.register
    ward_names = inputs.wards["ward_name"] if "ward_name" in inputs.wards.columns else None
    codes = [c for c in inputs.assignment.index if inputs.assignment[c] == locality]
    names = sorted(str(ward_names[c]) if ward_names is not None else str(c) for c in codes)
    in_loc = reg["ward_code"].map(inputs.assignment) == locality
    assets = reg[in_loc]
    sites = outline.new_sites[outline.new_sites["locality"] == locality]
    required = outline.required[outline.required["locality"] == locality].index
    layers = maps.LocalityLayers(
        assets=assets,
        required=list(required),
        sites=sites,
        gaps=inputs.gaps,
        hub_id=_hub_id(inputs, locality),
    )
    ax = fig.figure().add_axes((_X0, 0.36, 0.44, 0.56))
    maps.plot_locality(
        inputs.wards, inputs.assignment, locality, layers=layers, ax=ax, page=maps.MapPage(title="")
    )
    shares = _bundle_shares(inputs, locality)
    pop = outline.summary.loc[(locality, shares[0][0]), "population"] if shares else float("nan")
    facts = [
        f"Wards ({len(names)}): " + ", ".join(names),
        f"Residents: {_num(pop):,.0f}; assets in the locality: {len(assets)}; "
        f"required (sole providers): {len(required)}; suggested new sites: {len(sites)}",
    ]
    hub = layers.hub_id
    if hub is not None and hub in reg.index:
        facts.append(f"Hub: {_clean(reg.at[hub, 'name'])}")
    facts += [
        f"{b}: {_share_text(ranges, locality, b, s)} within {m:g} min; {g:,.0f} residents beyond"
        for b, s, g in shares
    ]
    x = 0.5
    width = _X1 - x
    y = 0.9
    chars = int(width * PACK_PAGE_SIZE[0] * 72 / (8.0 * 0.6))
    for line in facts:
        wrapped = textwrap.wrap(line, chars)
        fig.text(x, y, "\n".join(wrapped), size=8.0, va="top")
        y -= 0.0175 * len(wrapped) + 0.006
    cases = outline.business_case[outline.business_case["locality"] == locality]
    cases = cases.sort_values("population", ascending=False)
    fig.text(x, y - 0.01, f"Business cases ({len(cases)})", size=10, weight="bold", va="top")
    y -= 0.04
    rows = [
        [
            str(case),
            _clean(r["rule"]),
            _clean(r["action"]),
            _clean(r["name"]) + (f" ({_clean(r['address'])})" if _clean(r["address"]) else ""),
            _clean(r["measure"]),
            f"{float(r['population']):,.0f}" if pd.notna(r["population"]) else "",
            _clean(r["evidence"])
            + (f". {_clean(r['register_note'])}" if _clean(r.get("register_note")) else ""),
        ]
        for case, r in cases.iterrows()
    ]
    header = ["Case", "Rule", "Action", "Site", "For", "Residents", "Evidence"]
    widths = [0.035, 0.03, 0.1, 0.12, 0.07, 0.065, 0.14]
    if not rows:
        fig.text(x, y, "No business case in this locality.", size=7.5, style="italic", va="top")
        return
    while rows:  # every case in full, continued on the next page
        w = [v * width / sum(widths) for v in widths]
        y, n = draw_table(fig, y, x=x, widths=w, header=header, rows=rows, size=6.5, bottom=0.18)
        rows = rows[n:]
        if rows:
            fig = _page(doc, inputs, f"{inputs.area_name}: {locality} (business cases, continued)")
            x, width, y = _X0, _X1 - _X0, 0.9


def write_locality_pack(path: str | os.PathLike[str], inputs: PackInputs) -> Path:
    """Write the printable locality pack as one PDF, atomically.

    Parameters
    ----------
    path
        Destination ``.pdf``.
    inputs
        What to show (:class:`PackInputs`).

    Returns
    -------
    Path
        The file written: a summary page, then one A4 landscape page per locality,
        its business cases continued on further pages when they do not fit.
    """
    m = resolve_minutes(inputs.minutes)
    meta = {
        "Title": f"{inputs.area_name}: locality pack",
        "Creator": "nwm_geo",
        "Subject": "Neighbourhood Working Model localities",
    }
    doc = PdfDocument(PACK_PAGE_SIZE, metadata=meta)
    ranges = _range_lookup(inputs)
    _summary_pages(doc, inputs, m, ranges)
    for loc in inputs.outline.localities:
        _locality_pages(doc, inputs, loc, m, ranges)
    return doc.save(path)  # every text and map masked
