"""Printed text size of workbook sheets, computed from openpyxl's saved settings.

Independent of :mod:`nwm_geo.report._print`: Excel's arithmetic (a column ``w``
characters wide is ``7 w + 5`` pixels of 0.75 pt) and the page set-up as saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

A4_LANDSCAPE_WIDTH_IN = 297 / 25.4


def _width(ws: Any, j: int) -> float:
    dim = ws.column_dimensions.get(get_column_letter(j))
    return float(dim.width) if dim is not None and dim.width else 8.43


def printed_scale(ws: Any) -> float:
    """The scale a sheet prints at, from its columns, margins and fit settings."""
    used = [c.column for row in ws.iter_rows() for c in row if c.value is not None]
    n_cols = max(used, default=1)
    total_pt = sum((7 * _width(ws, j) + 5) * 0.75 for j in range(1, n_cols + 1))
    margins = ws.page_margins
    printable = (A4_LANDSCAPE_WIDTH_IN - margins.left - margins.right) * 72
    setup = ws.page_setup
    if ws.sheet_properties.pageSetUpPr is not None and ws.sheet_properties.pageSetUpPr.fitToPage:
        scale = 1.0
        if setup.fitToWidth not in (None, 0):
            scale = min(scale, printable * int(setup.fitToWidth) / total_pt)
        assert setup.fitToHeight in (None, 0), f"{ws.title}: fit to a page tall squeezes rows"
        return scale
    return (setup.scale or 100) / 100


def smallest_printed_pt(path: Path) -> dict[str, float]:
    """Sheet title -> the smallest font size of any value as printed (points)."""
    wb = load_workbook(path)
    out: dict[str, float] = {}
    for ws in wb.worksheets:
        scale = printed_scale(ws)
        sizes = [
            float(c.font.sz or 11) for row in ws.iter_rows() for c in row if c.value is not None
        ]
        out[ws.title] = round(min(sizes, default=11.0) * scale, 2)
    return out
