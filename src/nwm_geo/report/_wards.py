"""Ward profiles: ``reports/ward_profiles.pdf``, one A4 landscape page per ward.

In: one :class:`WardProfile` per ward (assembled by the pipeline from the study's
coverage, travel-time bands, equity groups, register, business cases and hubs). Out:
a PDF a ward councillor can read unaided: the ward's locality and residents, coverage
by bundle and category with travel-time bands, the residents beyond the walk by
deprivation and age (with each group's size), its sites, the business cases that
touch it, and its hub with the walk to it. Tables wrap their text (:func:`draw_table`)
instead of cutting it; a page that runs out of room continues on the next page. The
pages are text only, drawn with fpdf2 (:class:`~nwm_geo.report.PdfDocument`).

The "Wards" and "Hub options" sheets of the workbook are :func:`._edit.table_sheet`
producers, written with the workbook itself.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from nwm_geo import settings
from nwm_geo._safe import mask_personal_text
from nwm_geo.report._pdf import PdfDocument

if TYPE_CHECKING:
    from nwm_geo.report._pdf import PdfPage

__all__ = ["PAGE", "WardProfile", "draw_table", "write_ward_profiles"]

#: A4 landscape, inches.
PAGE: tuple[float, float] = (11.69, 8.27)
#: Page margin, inches (10.2 mm).
_MARGIN = 0.4
_LEFT = _MARGIN / PAGE[0]
_RIGHT = 1 - _MARGIN / PAGE[0]
_BOTTOM = 0.15


@dataclass
class WardProfile:
    """What one ward's page shows.

    Attributes
    ----------
    code, name, locality
        The ward and its locality.
    residents
        Usual residents (Census 2021, apportioned to postcodes).
    coverage
        One row per bundle and category: ``measure``, ``within %``, then residents per
        travel-time band (``<= 5 min`` ... ``> 30 min``).
    beyond
        One row per group (IMD quintile, age band): ``group``, ``residents`` (the
        group's size in the ward), then residents beyond the walk per bundle.
    sites
        The ward's sites: ``name``, ``category``, ``owner_type``.
    cases
        The business cases whose site lies in the ward: ``case``, ``rule``, ``action``,
        ``name``, ``measure``, ``population``.
    hub
        Sentences on the locality's hub and the ward's walk to it.
    """

    code: str
    name: str
    locality: str
    residents: float
    coverage: pd.DataFrame
    beyond: pd.DataFrame
    sites: pd.DataFrame
    cases: pd.DataFrame
    hub: str = ""
    notes: Sequence[str] = field(default_factory=tuple)


def _clean(text: Any) -> str:
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    return mask_personal_text(str(text))[0]


def _chars(width_frac: float, size: float) -> int:
    """Characters of ``size`` pt text that fit ``width_frac`` of the page width."""
    return max(4, int(width_frac * PAGE[0] * 72 / (size * 0.6)))


def _wrap(value: Any, width: float, size: float) -> tuple[str, ...]:
    """Return the lines of one table cell (``width`` a figure fraction)."""
    chars = _chars(width - 0.006, size)
    if isinstance(value, str):  # cells repeat (ward names, categories, "0"): once each
        return _wrap_text(value, chars)
    return tuple(textwrap.wrap(_clean(value), chars, break_on_hyphens=False)) or ("",)


@lru_cache(maxsize=8192)
def _wrap_text(text: str, chars: int) -> tuple[str, ...]:
    """:func:`_wrap` of a text, masked first; cached (a run draws thousands of cells)."""
    return tuple(textwrap.wrap(_clean(text), chars, break_on_hyphens=False)) or ("",)


def draw_table(
    fig: PdfPage,
    top: float,
    *,
    x: float,
    widths: Sequence[float],
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    size: float = 7.0,
    bottom: float = _BOTTOM,
) -> tuple[float, int]:
    """Draw a table whose cells wrap; return the y below it and the rows drawn.

    Parameters
    ----------
    fig
        The page (:meth:`nwm_geo.report.PdfDocument.new_page`).
    top
        Figure y of the table's top.
    x, widths
        Left edge and column widths (figure fractions).
    header, rows
        The heading and the cells (text).
    size
        Font size, points.
    bottom
        Rows that would cross this y are not drawn (the caller continues them on the
        next page).

    Returns
    -------
    tuple of (float, int)
        The y under the last row drawn, and how many rows were drawn.
    """
    line = size * 1.3 / 72 / PAGE[1]

    def cells(values: Sequence[str]) -> tuple[list[tuple[str, ...]], float]:
        wrapped = [_wrap(v, w, size) for v, w in zip(values, widths, strict=True)]
        return wrapped, max(len(w) for w in wrapped) * line + 0.003

    y = top
    wrapped, h = cells(header)
    cx = x
    for lines, w in zip(wrapped, widths, strict=True):
        fig.text(cx + 0.002, y - 0.003, "\n".join(lines), size=size, weight="bold", va="top")
        cx += w
    fig.line(x, x + sum(widths), y - h + 0.002, width=0.6, color="#333333")
    y -= h
    drawn = 0
    for row in rows:
        wrapped, h = cells(row)  # each cell wrapped once, for its height and its text
        if y - h < bottom:
            break
        if drawn % 2 == 0:  # behind the row's text
            fig.band(x, y - h, sum(widths), h, color="#f2f2f2")
        cx = x
        for lines, w in zip(wrapped, widths, strict=True):
            fig.text(cx + 0.002, y - 0.003, "\n".join(lines), size=size, va="top")
            cx += w
        y -= h
        drawn += 1
    return y, drawn


def _page(doc: PdfDocument, heading: str, sub: str, footer: Sequence[str]) -> PdfPage:
    fig = doc.new_page()
    fig.text(_LEFT, 0.955, heading, size=15, weight="bold", va="top")
    if sub:
        wrapped = textwrap.wrap(sub, _chars(_RIGHT - _LEFT, 9))
        fig.text(_LEFT, 0.905, "\n".join(wrapped), size=9, va="top")
    width = _chars(_RIGHT - _LEFT, 6.0)
    text = "\n".join(textwrap.fill(_clean(t), width) for t in footer if t)
    fig.text(_LEFT, 0.05, text, size=6.0, va="bottom", color="#333333")
    return fig


def _heading(fig: PdfPage, y: float, x: float, text: str) -> float:
    fig.text(x, y, text, size=9.5, weight="bold", va="top")
    return y - 0.032


def _paragraph(fig: PdfPage, y: float, x: float, width: float, text: str, size: float) -> float:
    lines = textwrap.wrap(_clean(text), _chars(width, size))
    fig.text(x, y, "\n".join(lines), size=size, va="top")
    return y - len(lines) * size * 1.3 / 72 / PAGE[1] - 0.01


def _fmt(v: Any, pct: bool = False) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    if pct:
        return f"{float(v):.0f}%"
    if isinstance(v, int | float):
        return f"{float(v):,.0f}"
    return str(v)


def _flow(
    pages: list[PdfPage],
    y: float,
    *,
    x: float,
    widths: Sequence[float],
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    again: Any,
) -> float:
    """Draw a table on the last page, continuing on new pages; return the y below it."""
    rest = list(rows)
    fig = pages[-1]
    while True:
        y, n = draw_table(fig, y, x=x, widths=widths, header=header, rows=rest, size=6.8)
        rest = rest[n:]
        if not rest:
            return y
        fig = again()
        y = 0.9


def _ward_pages(
    doc: PdfDocument, p: WardProfile, area: str, footer: Sequence[str]
) -> list[PdfPage]:
    sub = (
        f"Locality: {p.locality}. Residents: {p.residents:,.0f}. Sites in the ward: "
        f"{len(p.sites)}. Business cases touching the ward: {len(p.cases)}. " + (p.hub or "")
    )
    fig = _page(doc, f"{area}: {p.name} ward ({p.code})", sub, footer)
    pages = [fig]
    mid = 0.56
    y = _heading(fig, 0.83, _LEFT, "Walking time to the nearest site: residents in each band")
    cov = p.coverage
    bands = [c for c in cov.columns if c not in ("measure", "within %")]
    widths = [0.15, 0.06, *([(mid - _LEFT - 0.22) / max(len(bands), 1)] * len(bands))]
    rows = [
        [str(r["measure"]), _fmt(r["within %"], pct=True), *[_fmt(r[b]) for b in bands]]
        for _, r in cov.iterrows()
    ]
    left = fig

    def again() -> PdfPage:
        pages.append(_page(doc, f"{area}: {p.name} ward (continued)", "", footer))
        return pages[-1]

    def after(page: PdfPage) -> PdfPage:
        i = pages.index(page)
        return pages[i + 1] if i + 1 < len(pages) else again()

    y = _flow(
        pages, y, x=_LEFT, widths=widths,
        header=["Bundle or category", "Within walk", *(b.replace("<= ", "≤ ") for b in bands)],
        rows=rows, again=again,
    )  # fmt: skip
    y = _heading(pages[-1], y - 0.015, _LEFT, "Residents beyond the walk, by deprivation and age")
    beyond = p.beyond
    cols = [c for c in beyond.columns if c not in ("group", "residents")]
    widths = [0.13, 0.07, *([(mid - _LEFT - 0.2) / max(len(cols), 1)] * len(cols))]
    rows = [
        [str(r["group"]), _fmt(r["residents"]), *[_fmt(r[c]) for c in cols]]
        for _, r in beyond.iterrows()
    ]
    _flow(
        pages, y, x=_LEFT, widths=widths,
        header=["Group (IMD quintile 1 = most deprived)", "Group size", *cols], rows=rows,
        again=again,
    )  # fmt: skip
    fig = left
    # right column: business cases, then sites; continued on a new page when full
    x, width = mid + 0.02, _RIGHT - mid - 0.02
    y = _heading(fig, 0.83, x, f"Business cases touching the ward ({len(p.cases)})")
    case_rows = [
        [str(r["case"]), str(r["rule"]), str(r["action"]), str(r["name"]), str(r["measure"]),
         _fmt(r["population"])]
        for _, r in p.cases.iterrows()
    ]  # fmt: skip
    widths = [0.035, 0.03, 0.11, 0.1, 0.08, 0.06]
    scale = width / sum(widths)
    widths = [w * scale for w in widths]
    header = ["Case", "Rule", "Action", "Site", "For", "Residents"]
    if not case_rows:
        y = _paragraph(fig, y, x, width, "None: no business case lies in this ward.", 7.5)
    while case_rows:
        y, n = draw_table(fig, y, x=x, widths=widths, header=header, rows=case_rows, size=6.5)
        case_rows = case_rows[n:]
        if case_rows:
            fig = after(fig)
            y = 0.9
    sites = "; ".join(
        f"{_clean(r['name'])} ({_clean(r['category'])})" for _, r in p.sites.iterrows()
    )
    y = _heading(fig, y - 0.015, x, f"Sites in the ward ({len(p.sites)})")
    lines = textwrap.wrap(sites or "None in the register.", _chars(width, 6.5))
    step = 6.5 * 1.3 / 72 / PAGE[1]
    while lines:
        room = max(1, int((y - _BOTTOM) / step))
        fig.text(x, y, "\n".join(lines[:room]), size=6.5, va="top")
        lines = lines[room:]
        if lines:
            fig = after(fig)
            y = 0.9
    return pages


def write_ward_profiles(
    path: str | os.PathLike[str],
    profiles: Sequence[WardProfile],
    *,
    area_name: str,
    footer: Sequence[str] = (),
) -> Path:
    """Write the ward profiles as one PDF, atomically: one A4 landscape page per ward.

    Parameters
    ----------
    path
        Destination ``.pdf``.
    profiles
        One :class:`WardProfile` per ward, in the order to print.
    area_name
        The area's name, for the headings.
    footer
        Lines printed at the foot of every page (network, notes); the sources and
        licences are added.

    Returns
    -------
    Path
        The file written. A ward whose cases or sites do not fit its page continues on
        the next page, headed "(continued)".
    """
    lines = [*footer, f"Sources and licences: {settings.attribution}"]
    meta = {"Title": f"{area_name}: ward profiles", "Creator": "nwm_geo"}
    doc = PdfDocument(PAGE, metadata=meta)
    for p in profiles:
        _ward_pages(doc, p, area_name, lines)  # pages in order, every text masked
    return doc.save(path)
