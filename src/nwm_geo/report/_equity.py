"""The equity sheet: deprivation and age, a sheet of the requirements workbook.

In: an open workbook (:func:`equity_sheet`, a producer for
:func:`nwm_geo.report.write_requirements_xlsx`) or a saved one
(:func:`add_equity_sheet`), and the equity tables (:mod:`nwm_geo.equity`). Out: an
"Equity" sheet (each locality sheet's "Deprivation and age" lines are written with the
workbook itself, from ``WorkbookContext.equity``).

Its tables go through the workbook's one table writer (:func:`._edit.write_table`):
every text cell is masked and never a formula, every number in its one format.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import load_workbook

from nwm_geo._publish import save_workbook
from nwm_geo.report._edit import fit_widths, put_cell, sheet_name, write_table
from nwm_geo.report._sheet import SECTION_FONT

__all__ = ["add_equity_sheet", "equity_sheet"]


#: Readable headers of the equity gap table, in order.
_GAP_HEADERS: dict[str, str] = {
    "measure": "measure",
    "population": "residents",
    "covered_pct": "within the walk %",
    "most_deprived_quintile": "most deprived IMD quintile",
    "most_deprived_population": "most deprived residents",
    "most_deprived_covered_pct": "most deprived within %",
    "least_deprived_quintile": "least deprived IMD quintile",
    "least_deprived_population": "least deprived residents",
    "least_deprived_covered_pct": "least deprived within %",
    "quintile_gap_pp": "deprivation gap (pp)",
    "age_65_plus_population": "65+ residents",
    "age_65_plus_speed_m_per_min": "65+ speed (m/min)",
    "age_65_plus_covered_pct": "65+ within at their speed %",
    "age_gap_pp": "age gap: 65+ minus all (pp)",
    "age_gap_default_speed_pp": "age gap at the default speed (pp)",
    "concentration_index": "concentration index",
    "small_groups": "small groups (under 5 % of residents) and the register's shortfall",
}


def _equity_table(ws: Any, row: int, title: str, df: pd.DataFrame) -> int:
    """Write a titled table whose columns are its headings (:func:`._edit.write_table`)."""
    return write_table(ws, row, title, df, labelled=False)


def _gap_rows(gaps: pd.DataFrame, locality: str, measures: list[str] | None) -> pd.DataFrame:
    rows = gaps[gaps["locality"] == locality]
    if measures is not None:
        rows = rows[rows["measure"].isin(measures)]
    return rows[list(_GAP_HEADERS)].rename(columns=_GAP_HEADERS)


def equity_sheet(
    wb: Any,
    *,
    gaps: pd.DataFrame,
    quintiles: pd.DataFrame,
    age: pd.DataFrame,
    area_name: str,
    speeds_note: str,
    measures: list[str] | None = None,
) -> None:
    """Add an "Equity" sheet (the area's deprivation and age tables) to an open workbook.

    Parameters
    ----------
    wb
        An :class:`openpyxl.Workbook` (e.g. one of :func:`write_requirements_xlsx`'s
        ``sheets``); edited in place, not saved.
    gaps, quintiles, age
        :func:`nwm_geo.equity.equity_gaps`, ``coverage_by_deprivation(group="imd_quintile")``
        and :func:`nwm_geo.equity.coverage_by_age`.
    area_name
        The whole-area rows' locality name (``Luton``).
    speeds_note
        The walking speeds and their sources
        (:meth:`nwm_geo.equity.EquityTables.speeds_note`).
    measures
        The measures of the "Gaps per locality" table (default all; e.g. the bundles).

    Notes
    -----
    The "Equity" sheet holds the speeds and the method, the gaps per
        measure for the area, coverage per IMD quintile and per age band for the area,
        and the gaps per locality. The locality sheets' own deprivation and age lines
        come from the briefing workbook (``WorkbookContext.equity``), not from here.
    """
    ws = wb.create_sheet(sheet_name("Equity", set(wb.sheetnames)), 1)
    put_cell(
        ws, 1, 1, "Equity: who is within the walk, by deprivation and by age", font=SECTION_FONT
    )
    notes = [
        speeds_note,
        "Deprivation: the English Indices of Deprivation 2019 (MHCLG, OGL v3) of the LSOA "
        "2011 each postcode lies in; quintile 1 = the 20 % most deprived areas of England.",
        "Deprivation gap = residents within the walk in the most deprived quintile present "
        "minus the least deprived one, in percentage points (pp): negative when the most "
        "deprived are less often within the walk.",
        "Age gap = residents aged 65+ within the walk at their speed minus all residents at "
        "the default speed (pp); at the default speed it shows where older residents live.",
        "Concentration index of coverage over residents ranked by IMD rank (Kakwani, "
        "Wagstaff & van Doorslaer 1997): 0 = equal; below 0 = coverage concentrated among "
        "the more deprived; above 0 = among the less deprived.",
        "Every share is printed with its group's residents. A group with under 5 % of its "
        "locality's residents is flagged small: one more site, or one missing from the "
        "register, moves its share a lot; the flag names the register's shortfalls against "
        "the council's count in the measure's categories.",
    ]
    for i, text in enumerate(notes, start=2):
        put_cell(ws, i, 1, text)
    row = len(notes) + 3
    row = _equity_table(ws, row, f"Gaps per measure: {area_name}", _gap_rows(gaps, area_name, None))
    q = quintiles[quintiles["locality"] == area_name]
    wide = q.pivot(index="measure", columns="imd_quintile", values="covered_pct")
    wide = wide.reindex(list(dict.fromkeys(q["measure"])))
    wide.columns = [f"IMD quintile {c} %" for c in wide.columns]
    row = _equity_table(
        ws, row, f"Residents within the walk by IMD quintile: {area_name}", wide.reset_index()
    )
    a = age[age["locality"] == area_name]
    wide = a.pivot(index="measure", columns="age_band", values="covered_pct")
    order = list(dict.fromkeys(a["age_band"]))
    wide = wide.reindex(index=list(dict.fromkeys(a["measure"])), columns=order)
    wide.columns = [f"{c} %" for c in order]
    row = _equity_table(
        ws,
        row,
        f"Residents within the walk by age band, each at its speed: {area_name}",
        wide.reset_index(),
    )
    per_loc = gaps[gaps["locality"] != area_name]
    if measures is not None:
        per_loc = per_loc[per_loc["measure"].isin(measures)]
    table = per_loc[["locality", *_GAP_HEADERS]].rename(columns=_GAP_HEADERS)
    _equity_table(ws, row, "Gaps per locality", table)
    fit_widths(ws, max_width=40)


def add_equity_sheet(
    path: str | os.PathLike[str],
    *,
    gaps: pd.DataFrame,
    quintiles: pd.DataFrame,
    age: pd.DataFrame,
    area_name: str,
    speeds_note: str,
    measures: list[str] | None = None,
) -> Path:
    """Add an "Equity" sheet to a saved workbook (:func:`equity_sheet`), atomically.

    Returns
    -------
    Path
        The workbook.
    """
    path = Path(path)
    wb = load_workbook(path)
    equity_sheet(
        wb,
        gaps=gaps,
        quintiles=quintiles,
        age=age,
        area_name=area_name,
        speeds_note=speeds_note,
        measures=measures,
    )
    save_workbook(wb, path)
    return path
