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

import pandas as pd
from openpyxl import Workbook, load_workbook

from nwm_geo._publish import save_workbook
from nwm_geo.report._edit import fit_widths, put_cell, sheet_name, write_table
from nwm_geo.report._print import print_layout
from nwm_geo.report._sheet import BOLD_FONT, SECTION_FONT

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
    write_table(
        ws, row + 1, "Sites whose closure leaves residents without access", shown, labelled=False
    )
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
        write_table(sheet, 1, heading, frame, labelled=False)
        sheet.print_title_rows = "1:2"
        sheet.freeze_panes = "A3"
    for sheet in wb.worksheets:  # A4 landscape, text at 8 pt or more, rows that fit
        print_layout(sheet)
    path = Path(path)
    save_workbook(wb, path)
    return path
