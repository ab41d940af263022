"""Print layout of a workbook sheet: A4 landscape, text at 8 pt or more, no overlaps.

:func:`print_layout` lays out one loaded worksheet for paper: column widths narrow
enough that the page is printed at a readable scale (long text wraps inside its column
instead of widening it), long notes merged across the table's width and wrapped, row
heights set from the wrapped lines so that no line prints over the next, an A4
landscape page with 10 mm margins, and the table headings repeated on every page
(long tables continue on the next page rather than shrinking).

The arithmetic is Excel's: a column of width ``w`` (in characters of the default 11 pt
font) is ``7 w + 5`` pixels, 0.75 pt each. When the columns fit the page at
:data:`TARGET_SCALE` or more, the sheet is fit to one page wide; otherwise it prints at
:data:`FALLBACK_SCALE` and the columns continue on the next page across, with the first
column repeated.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from openpyxl.styles import Alignment
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins

__all__ = [
    "FALLBACK_SCALE",
    "MARGIN_IN",
    "PRINTABLE_WIDTH_PT",
    "TARGET_SCALE",
    "column_points",
    "print_layout",
]

#: Left and right (and top and bottom) page margins, inches (10.2 mm).
MARGIN_IN = 0.4
#: The printable width of an A4 landscape page inside the margins, points.
PRINTABLE_WIDTH_PT = (297 / 25.4 - 2 * MARGIN_IN) * 72
#: The smallest fit-to-width scale the layout aims for (11 pt text prints at 8.8 pt).
TARGET_SCALE = 0.8
#: The fixed scale of a sheet whose columns cannot fit one page wide at TARGET_SCALE.
FALLBACK_SCALE = 80
_DEFAULT_PT = 11.0
_MIN_WIDTH = 8.0
_MAX_WIDTH = 60.0


def column_points(width: float) -> float:
    """Return the printed width (points, at 100 %) of a column of ``width`` characters."""
    return (7.0 * float(width) + 5.0) * 0.75


def _size(cell: Any) -> float:
    """Return the cell's font size, points.

    Read from the workbook's font table by the cell's font index: ``cell.font`` would
    build a style proxy per cell (a third of the layout's time on a 30,000-cell book).
    """
    style = getattr(cell, "_style", None)
    fonts = getattr(getattr(getattr(cell, "parent", None), "parent", None), "_fonts", None)
    try:
        sz = fonts[style.fontId if style else 0].sz  # type: ignore[index]
    except (AttributeError, IndexError, TypeError):  # not stored as this openpyxl stores it
        sz = getattr(getattr(cell, "font", None), "sz", None)
    return float(sz) if sz else _DEFAULT_PT


def _sizer(ws: Any) -> Callable[[Any], float]:
    """Return :func:`_size` for the cells of ``ws``, read once per font of its workbook."""
    if getattr(getattr(ws, "parent", None), "_fonts", None) is None:
        return _size
    by_font: dict[int, float] = {}

    def size(cell: Any) -> float:
        style = getattr(cell, "_style", None)
        try:
            font = style.fontId if style else 0
        except AttributeError:
            return _size(cell)
        hit = by_font.get(font)
        if hit is None:
            hit = by_font[font] = _size(cell)
        return hit

    return size


def _text(cell: Any) -> str:
    v = cell.value
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _lines(text: str, width: float, size: float) -> int:
    """Return how many lines ``text`` wraps to in a column ``width`` characters wide."""
    per_line = max(1, int((width - 1.5) * _DEFAULT_PT / size))
    n = 0
    for para in text.split("\n"):
        n_para, used = 1, 0
        for word in para.split(" "):
            w = len(word)
            if used and used + 1 + w > per_line:
                n_para += 1
                used = 0
            if w > per_line:  # a long word breaks across lines
                n_para += (w - 1) // per_line
                w = w % per_line or per_line
            used = w if not used else used + 1 + w
        n += n_para
    return n


def _spanning(row: tuple[Any, ...]) -> bool:
    """Say whether the row's only value is a text in column A (a title or note)."""
    vals = [c for c in row if c.value is not None]
    return len(vals) == 1 and vals[0].column == 1 and isinstance(vals[0].value, str)


def _cells(ws: Any, rows: list[tuple[Any, ...]]) -> list[list[tuple[Any, Any, str, float]]]:
    """Return each row's cells as ``(cell, value, text, font size)``, read once.

    ``text`` is :func:`_text` of the value ("" for an empty cell, whose font size still
    counts towards its row's height).
    """
    size_of = _sizer(ws)
    return [
        [(c, v, "" if v is None else _text(c), size_of(c)) for c in row for v in (c.value,)]
        for row in rows
    ]


def _natural_widths(
    rows: list[tuple[Any, ...]], cells: list[list[tuple[Any, Any, str, float]]], spans: set[int]
) -> tuple[dict[int, float], dict[int, float]]:
    """Return each column's natural width (its longest text) and the narrowest it may get."""
    natural: dict[int, float] = {}
    least: dict[int, float] = {}
    for row, row_cells in zip(rows, cells, strict=True):
        if row[0].row in spans:
            continue
        for c, value, text, size in row_cells:
            if value is None:
                continue
            scale = size / _DEFAULT_PT
            j = c.column
            natural[j] = max(natural.get(j, 0.0), min(len(text) * scale + 2, _MAX_WIDTH))
            if isinstance(value, int | float):  # a number never wraps
                floor = len(text) * scale + 2
            else:
                longest = max((len(w) for w in text.split()), default=0)
                floor = min(longest * scale + 2, 14.0)
            least[j] = max(least.get(j, _MIN_WIDTH), floor)
    for j in natural:
        natural[j] = max(natural[j], least.get(j, _MIN_WIDTH), _MIN_WIDTH)
    return natural, least


def _fit(natural: dict[int, float], least: dict[int, float], budget: float) -> dict[int, float]:
    """Cap the widest columns (water-filling) so that the columns fit ``budget`` points."""

    def widths(cap: float) -> dict[int, float]:
        return {j: max(least.get(j, _MIN_WIDTH), min(w, cap)) for j, w in natural.items()}

    def total(ws_: dict[int, float]) -> float:
        return sum(column_points(w) for w in ws_.values())

    if total(widths(_MAX_WIDTH)) <= budget:
        return widths(_MAX_WIDTH)
    lo, hi = _MIN_WIDTH, _MAX_WIDTH
    for _ in range(30):
        mid = (lo + hi) / 2
        if total(widths(mid)) <= budget:
            lo = mid
        else:
            hi = mid
    return widths(lo)


def print_layout(ws: Any) -> float:
    """Lay out one loaded worksheet for A4 landscape paper; return its printed scale.

    Parameters
    ----------
    ws
        An openpyxl worksheet (not write-only). Its print titles, frozen panes and
        filters are kept; its column widths, wrapping, row heights, page set-up and
        margins are set.

    Returns
    -------
    float
        The scale the sheet prints at (1.0 = 100 %): the fit-to-width scale when the
        columns fit one page wide at :data:`TARGET_SCALE` or more, else
        :data:`FALLBACK_SCALE` / 100.
    """
    rows = [row for row in ws.iter_rows() if row]  # the sheet's cells, read once
    spans = {row[0].row for row in rows if _spanning(row)}
    cells = _cells(ws, rows)  # each cell's value, text and font size, read once
    natural, least = _natural_widths(rows, cells, spans)
    if not natural:
        natural = {1: 60.0}
    widths = _fit(natural, least, PRINTABLE_WIDTH_PT / TARGET_SCALE)
    total_pt = sum(column_points(w) for w in widths.values())
    fits = total_pt * TARGET_SCALE <= PRINTABLE_WIDTH_PT
    for j, w in widths.items():
        ws.column_dimensions[get_column_letter(j)].width = round(w, 1)
    page_pt = PRINTABLE_WIDTH_PT / (TARGET_SCALE if fits else FALLBACK_SCALE / 100)
    on_page: list[int] = []
    used = 0.0
    for j in sorted(widths):
        used += column_points(widths[j])
        if used > page_pt and on_page:
            break
        on_page.append(j)
    _wrap_and_heights(ws, cells, widths, spans, on_page)
    setup = ws.page_setup
    setup.orientation = "landscape"
    setup.paperSize = ws.PAPERSIZE_A4
    ws.page_margins = PageMargins(
        left=MARGIN_IN, right=MARGIN_IN, top=MARGIN_IN + 0.1, bottom=MARGIN_IN + 0.1
    )
    ws.print_options.gridLines = False
    if fits:
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        setup.fitToWidth = 1
        setup.fitToHeight = 0
        setup.scale = None
        return min(1.0, PRINTABLE_WIDTH_PT / total_pt)
    ws.sheet_properties.pageSetUpPr.fitToPage = False
    setup.fitToWidth = None
    setup.fitToHeight = None
    setup.scale = FALLBACK_SCALE
    ws.print_title_cols = "A:A"
    return FALLBACK_SCALE / 100


@cache
def _wrapping(horizontal: str | None) -> Alignment:
    """One shared wrap-text alignment per horizontal setting (not one object per cell)."""
    return Alignment(wrap_text=True, vertical="top", horizontal=horizontal)


def _wrapper(ws: Any) -> Callable[[Any, bool], None]:
    """Return ``wrap(cell, keep)``: give a cell the shared wrap-text alignment.

    ``keep`` keeps the cell's horizontal alignment. The alignment's index in the
    workbook's style table is looked up once per setting, not once per cell as
    ``cell.alignment = ...`` does (it hashes every field of the alignment each time).
    """
    wb = ws.parent
    table = getattr(wb, "_alignments", None)
    ids: dict[str | None, int] = {}

    def wrap(cell: Any, keep: bool) -> None:
        if table is None or not hasattr(cell, "_style"):  # not stored as openpyxl 3.1 does
            horizontal = cell.alignment.horizontal if keep and cell.alignment else None
            cell.alignment = _wrapping(horizontal)
            return
        style = cell._style
        if not style:  # an unstyled cell: its style array made as openpyxl makes it
            style = cell._style = StyleArray()
        horizontal = table[style.alignmentId].horizontal if keep else None
        idx = ids.get(horizontal)
        if idx is None:
            idx = ids[horizontal] = table.add(_wrapping(horizontal))
        style.alignmentId = idx

    return wrap


def _wrap_and_heights(
    ws: Any,
    cells: list[list[tuple[Any, Any, str, float]]],
    widths: dict[int, float],
    spans: set[int],
    on_page: list[int],
) -> None:
    """Wrap text wider than its column, merge long notes across the page, set row heights."""
    merged_top = {rng.min_row for rng in ws.merged_cells.ranges}
    page_width = sum(widths.get(j, _MIN_WIDTH) for j in on_page)
    end = max(on_page)
    wrap = _wrapper(ws)
    for row in cells:  # a merge below replaces only cells right of row[0], never read
        cell, _, text, size = row[0]
        r = cell.row
        lines_pt = 0.0
        if r in spans:
            width = widths.get(1, _MIN_WIDTH)
            if len(text) * size / _DEFAULT_PT + 2 > width:
                if end > 1 and r not in merged_top:
                    ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=end)
                    width = page_width
                wrap(cell, False)
                lines_pt = _lines(text, width, size) * size * 1.32
            else:
                lines_pt = size * 1.32
        else:
            for c, value, text, size in row:
                if value is None or isinstance(value, int | float):
                    lines_pt = max(lines_pt, size * 1.32)
                    continue
                n = _lines(text, widths.get(c.column, _MIN_WIDTH), size)
                if n > 1:
                    wrap(c, True)
                lines_pt = max(lines_pt, n * size * 1.32)
        ws.row_dimensions[r].height = round(max(lines_pt, 15.0) + 1.0, 1)
