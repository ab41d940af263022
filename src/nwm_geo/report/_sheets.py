"""Self-contained sheets: the closure-impact sheet, and short summary workbooks.

In: tables (DataFrames) and lines of text. Out: a "Closure impact" sheet added to an
existing workbook (:func:`add_closure_impact_sheet`), or a short workbook of a Summary
sheet and a few tables (:func:`write_tables_xlsx`, used for scenarios). Cells are masked
and guarded like the rest of the spreadsheet (never a formula, no personal data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook, load_workbook

from nwm_geo._publish import save_workbook
from nwm_geo.report._edit import fit_widths, public_table, put_cell, sheet_name
from nwm_geo.report._print import print_layout
from nwm_geo.report._sheet import BOLD_FONT, HEAD_FILL, HEAD_FONT, SECTION_FONT, number_format

__all__ = ["add_closure_impact_sheet", "closure_impact_sheet", "write_tables_xlsx"]

#: Closure-impact columns shown in the sheet, with their headers.
_IMPACT_HEADERS: dict[str, str] = {
    "asset_id": "Asset id",
    "category": "Category",
    "name": "Name",
    "residents_losing": "Residents losing access",
    "postcodes_losing": "Postcodes",
    "localities": "Where they live (localities)",
    "wards": "Where they live (wards)",
    "next_best_name": "Next-best site for most of them",
    "next_best_share_pct": "Share going there (%)",
    "extra_minutes_median": "Extra minutes (median)",
    "extra_minutes_max": "Extra minutes (max)",
    "residents_without_alternative": "Residents with no other site",
}


def _table(ws: Any, row: int, title: str, frame: pd.DataFrame, *, note: str = "") -> int:
    """Write a titled table, each number in its one format (:func:`._sheet.number_format`)."""
    put_cell(ws, row, 1, title, font=SECTION_FONT)
    row += 1
    if note:
        put_cell(ws, row, 1, note)
        row += 1
    flat = public_table(frame) if frame.index.name is not None else frame.reset_index(drop=True)
    if len(flat) == 0:
        put_cell(ws, row, 1, "(none)")
        return row + 2
    for j, col in enumerate(flat.columns, start=1):
        put_cell(ws, row, j, str(col).replace("_", " "), font=HEAD_FONT)
        ws.cell(row=row, column=j).fill = HEAD_FILL
    formats = [number_format(c) for c in flat.columns]  # the workbook's one rule
    for values in flat.itertuples(index=False):
        row += 1
        for j, v in enumerate(values, start=1):
            put_cell(ws, row, j, v)
            if isinstance(v, float | np.floating | int | np.integer) and not isinstance(v, bool):
                ws.cell(row=row, column=j).number_format = formats[j - 1]
    return row + 2


def closure_impact_sheet(
    wb: Any, impact: pd.DataFrame, *, note: str = "", title: str = "Closure impact"
) -> None:
    """Add (or replace) a "Closure impact" sheet in an open workbook (edited, not saved).

    Parameters
    ----------
    wb
        An :class:`openpyxl.Workbook`.
    impact
        :attr:`nwm_geo.coverage.ClosureImpact.assets` (index ``asset_id``); the equity
        columns (``losing_imd_q1`` …, ``losing_age_…``) are written when present.
    note
        A line under the title (the threshold, the network).
    title
        The sheet name.

    """
    if title in wb.sheetnames:
        del wb[title]
    ws = wb.create_sheet(sheet_name(title))
    frame = impact.reset_index()
    frame = frame[frame["residents_losing"] > 0].sort_values(
        ["residents_losing", "asset_id"], ascending=[False, True]
    )
    cols = [c for c in _IMPACT_HEADERS if c in frame.columns]
    equity = [c for c in frame.columns if str(c).startswith("losing_")]
    shown = frame[cols + equity].round(1).rename(columns=_IMPACT_HEADERS)
    shown.columns = [
        c.replace("losing_imd_q", "IMD quintile ").replace("losing_age_", "age ")
        for c in map(str, shown.columns)
    ]
    lines = [
        "For each site: the residents who would lose access to its category within the walk "
        "if it closed (no other site of the category within the threshold), where they live, "
        "the next-best site of the same category for most of them and how much farther they "
        "would walk. Sites that are nobody's only site are left out.",
    ]
    if equity:
        lines.append(
            "IMD quintile 1 = the most deprived fifth (IMD 2019); ages: Census 2021 bands."
        )
    row = 1
    for text in [*lines, note]:
        if text:
            put_cell(ws, row, 1, text)
            row += 1
    _table(ws, row + 1, "Sites whose closure leaves residents without access", shown)
    fit_widths(ws)


def add_closure_impact_sheet(
    path: str | Path, impact: pd.DataFrame, *, note: str = "", title: str = "Closure impact"
) -> Path:
    """Add (or replace) a "Closure impact" sheet in a saved workbook, atomically.

    See :func:`closure_impact_sheet`.

    Returns
    -------
    Path
        The workbook.
    """
    path = Path(path)
    wb = load_workbook(path)
    closure_impact_sheet(wb, impact, note=note, title=title)
    save_workbook(wb, path)
    return path


def write_tables_xlsx(
    path: str | Path,
    *,
    title: str,
    lines: Sequence[str],
    tables: Mapping[str, tuple[str, pd.DataFrame]],
) -> Path:
    """Write a short workbook: a Summary sheet of text lines, then one sheet per table.

    Parameters
    ----------
    path
        The ``.xlsx`` file.
    title
        The Summary sheet's heading.
    lines
        Text lines under it (settings, changes, sources).
    tables
        Sheet name -> (table title, table).

    Returns
    -------
    Path
        The workbook, written atomically.
    """
    wb = Workbook()
    ws = wb.active
    taken: set[str] = set()
    ws.title = sheet_name("Summary", taken)
    put_cell(ws, 1, 1, title, font=SECTION_FONT)
    for i, text in enumerate(lines, start=2):
        put_cell(ws, i, 1, text, font=BOLD_FONT if text.endswith(":") else None)
    for name, (heading, frame) in tables.items():
        sheet = wb.create_sheet(sheet_name(name, taken))
        _table(sheet, 1, heading, frame)
        sheet.print_title_rows = "1:2"
        sheet.freeze_panes = "A3"
    for sheet in wb.worksheets:  # A4 landscape, text at 8 pt or more, rows that fit
        print_layout(sheet)
    path = Path(path)
    save_workbook(wb, path)
    return path
