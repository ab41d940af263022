"""Editing an open workbook: cells published safely, the one table writer, the set-up.

Sheet producers (the equity, closure-impact, hubs, wards and hub-options sheets) write
their cells with :func:`put_cell` and their tables with :func:`write_table` (one number
format per quantity, :func:`._sheet.number_format`), so every cell is published by the
same rules as the streamed sheets; :func:`finish_sheets` gives the added sheets the
briefing's set-up before the workbook's one save. :func:`finish_workbook` and
:func:`add_table_sheet` do the same to a saved file (load, edit, save atomically).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from nwm_geo._publish import save_workbook
from nwm_geo._safe import neutralise_formula
from nwm_geo.report._method import public_text
from nwm_geo.report._print import print_layout
from nwm_geo.report._sheet import (
    HEAD_FILL,
    HEAD_FONT,
    SECTION_FONT,
    label,
    number_format,
    public_columns,
)

__all__ = ["add_table_sheet", "finish_sheets", "finish_workbook", "sheet_name", "table_sheet"]


def sheet_name(name: str, taken: set[str] | None = None) -> str:
    r"""Return an Excel-safe, unique sheet name (31 characters, no ``[]:*?/\\``)."""
    clean = re.sub(r"[\[\]:*?/\\]", "-", str(name)).strip("'") or "Sheet"
    clean = clean[:31]
    taken = set() if taken is None else taken
    base, n = clean, 2
    while clean.lower() in {t.lower() for t in taken}:
        suffix = f" ({n})"
        clean = base[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(clean)
    return clean


# -- editing an open workbook -----------------------------------------------------------


def put_cell(ws: Any, row: int, col: int, value: Any, *, font: Font | None = None) -> None:
    """Write one cell of a loaded workbook; text is published safely, never a formula.

    Numbers stay numbers (NaN and missing values are empty cells), booleans stay
    booleans, anything else is written as masked text.
    """
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA or value is pd.NaT:
        value = None
    if value is not None and not isinstance(value, str | int | float | bool):
        value = str(value)
    if isinstance(value, float) and np.isnan(value):
        value = None
    if isinstance(value, str):
        value = neutralise_formula(public_text(value))
    cell = ws.cell(row=row, column=col, value=value)
    if font is not None:
        cell.font = font


def public_table(df: pd.DataFrame) -> pd.DataFrame:
    """Return the table without personal-data columns; named index levels become columns."""
    flat = df.reset_index() if any(n is not None for n in df.index.names) else df
    return flat[public_columns(flat)]


def write_table(
    ws: Any,
    row: int,
    title: str,
    df: pd.DataFrame,
    *,
    note: str = "",
    labelled: bool = True,
) -> int:
    """Write a titled table into a loaded worksheet at ``row``; return the next free row.

    The one table writer of an edited sheet (the hubs, equity, closure-impact, wards and
    hub-options sheets and the short workbooks): one number format per quantity
    (:func:`._sheet.number_format`), personal-data columns dropped, a named index
    written as the first columns.

    Parameters
    ----------
    labelled
        Headings from :func:`._sheet.label` (``covered_share`` reads "Share within the
        walk"); else the column names as given, underscores as spaces (for tables whose
        columns are already headings).
    """
    put_cell(ws, row, 1, title, font=SECTION_FONT)
    row += 1
    if note:
        put_cell(ws, row, 1, note)
        row += 1
    flat = public_table(df)
    if len(flat) == 0:
        put_cell(ws, row, 1, "(none)")
        return row + 2
    for j, col in enumerate(flat.columns, start=1):
        heading = label(col) if labelled else str(col).replace("_", " ")
        put_cell(ws, row, j, heading, font=HEAD_FONT)
        ws.cell(row=row, column=j).fill = HEAD_FILL
    formats = [number_format(c) for c in flat.columns]
    for values in flat.itertuples(index=False):
        row += 1
        for j, v in enumerate(values, start=1):
            put_cell(ws, row, j, v)
            if isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool):
                ws.cell(row=row, column=j).number_format = formats[j - 1]
    return row + 2


def table_sheet(
    wb: Any,
    name: str,
    *,
    title: str,
    table: pd.DataFrame,
    notes: Sequence[str] = (),
    position: int | None = None,
) -> None:
    """Add a sheet with a title, notes and one table to an open workbook (edited, not saved).

    A producer for :func:`nwm_geo.report.write_requirements_xlsx` (``sheets``), e.g.
    the "Wards" and "Hub options" sheets.

    Parameters
    ----------
    wb
        An :class:`openpyxl.Workbook`.
    name
        The sheet name (made Excel-safe and unique).
    title, notes
        The heading and the lines under it.
    table
        The table (its index is written when named).
    position
        Where the sheet goes among the sheets so far (default: last); the workbook then
        puts "Read me" and "Summary" first (:func:`finish_sheets`).
    """
    ws = wb.create_sheet(sheet_name(name, set(wb.sheetnames)), position)
    put_cell(ws, 1, 1, title, font=SECTION_FONT)
    row = 2
    for line in notes:
        put_cell(ws, row, 1, line)
        row += 1
    head = row + 1
    write_table(ws, row, "", table)
    ws.freeze_panes = f"A{head + 1}"
    ws.print_title_rows = f"{head}:{head}"
    ws.auto_filter.ref = (
        f"A{head}:{ws.cell(row=head, column=ws.max_column).column_letter}{ws.max_row}"
    )


def add_table_sheet(
    path: str | os.PathLike[str],
    name: str,
    *,
    title: str,
    table: pd.DataFrame,
    notes: Sequence[str] = (),
    position: int | None = None,
) -> Path:
    """Add a :func:`table_sheet` to a saved workbook, atomically.

    Returns
    -------
    Path
        The workbook. Call :func:`finish_workbook` afterwards for the print set-up.
    """
    from openpyxl import load_workbook

    out = Path(path)
    wb = load_workbook(out)
    table_sheet(wb, name, title=title, table=table, notes=notes, position=position)
    save_workbook(wb, out)
    return out


def fit_widths(ws: Any, *, max_width: int = 60) -> None:
    """Fit the column widths of a loaded worksheet to its values."""
    widths: dict[int, int] = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is not None:
                widths[c.column] = max(widths.get(c.column, 0), min(len(str(c.value)), max_width))
    for col, w in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = max(10, w + 2)


def _header_row(ws: Any) -> int:
    """Return the first row that looks like a table heading (filled), else 1."""
    for row in ws.iter_rows(min_row=1, max_row=min(ws.max_row, 30), max_col=1):
        cell = row[0]
        if cell.value is not None and cell.fill is not None and cell.fill.fill_type == "solid":
            return int(cell.row)
    return 1


def finish_sheets(wb: Any) -> None:
    """Give every sheet of an open workbook the briefing's set-up, where it lacks it.

    For a stage that adds sheets after :func:`write_requirements_xlsx` (load, add, save):
    a sheet without frozen headings gets the rows down to its first table heading (a
    filled cell in column A; row 1 when there is none) frozen, one without a filter gets
    one from that heading over the used range, and those rows repeat on every printed
    page (unless it has its own print titles). Every sheet then gets the print layout of
    :func:`._print.print_layout`: A4 landscape, text printed at 8 pt or more (columns
    narrowed and wrapped, long tables continued on the next page), row heights that fit
    the wrapped lines.

    Parameters
    ----------
    wb
        An :class:`openpyxl.Workbook` (edited in place, not saved).
    """
    names = list(wb.sheetnames)
    first = [n for n in ("Read me", "Summary") if n in names]
    data = [n for n in names if n.startswith("Data - ")]
    order = first + [n for n in names if n not in first and n not in data] + data
    for i, name in enumerate(order):  # reading sheets first, data sheets last
        wb.move_sheet(name, offset=i - wb.sheetnames.index(name))
    for ws in wb.worksheets:
        head = _header_row(ws)
        if ws.freeze_panes in (None, "A1"):
            ws.freeze_panes = f"A{head + 1}"
        if not ws.auto_filter.ref and ws.max_row > head:
            ws.auto_filter.ref = f"A{head}:{get_column_letter(ws.max_column)}{ws.max_row}"
        if not ws.print_title_rows:
            ws.print_title_rows = f"1:{head}"
        if not any(d.width for d in ws.column_dimensions.values()):
            fit_widths(ws)
        print_layout(ws)  # A4 landscape, 8 pt or more, rows tall enough


def finish_workbook(path: str | os.PathLike[str]) -> Path:
    """Give every sheet of a saved workbook the briefing's set-up (:func:`finish_sheets`).

    Parameters
    ----------
    path
        The workbook (rewritten atomically).

    Returns
    -------
    Path
    """
    from openpyxl import load_workbook

    out = Path(path)
    wb = load_workbook(out)
    finish_sheets(wb)
    save_workbook(wb, out)
    return out
