"""The spreadsheet: ``asset_requirements.xlsx``, a Summary sheet and one per locality.

Every text cell is masked (:func:`._method._public_text`) and guarded by
:func:`nwm_geo._safe.neutralise_formula`, the rule every CSV follows; columns that
:func:`nwm_geo._safe.is_personal_column` flags are dropped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from nwm_geo import settings
from nwm_geo._errors import NwmGeoError
from nwm_geo._io import atomic_path
from nwm_geo._safe import is_personal_column, neutralise_formula
from nwm_geo.report._method import RunInfo, _public_text, method_rows
from nwm_geo.requirements import RequirementsOutline

_BOLD = Font(bold=True)
_HEAD = Font(bold=True, color="FFFFFF")
_HEAD_FILL = PatternFill("solid", fgColor="305496")
_SECTION = Font(bold=True, size=13)


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


def _public(df: pd.DataFrame) -> pd.DataFrame:
    """Return the table without personal-data columns (index levels included)."""
    flat = df.reset_index()
    return flat[[c for c in flat.columns if not is_personal_column(str(c))]]


def _cell_value(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float | np.floating):
        return None if np.isnan(v) else float(v)
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return str(v)


def _put(ws: Any, row: int, col: int, value: Any, *, font: Font | None = None) -> None:
    """Write one cell; text is masked and guarded like every CSV (never a formula)."""
    cell = ws.cell(row=row, column=col)
    v = _cell_value(value)
    if isinstance(v, str):
        v = neutralise_formula(_public_text(v))
    cell.value = v
    if font is not None:
        cell.font = font


def _write_table(ws: Any, row: int, title: str, df: pd.DataFrame, *, note: str = "") -> int:
    """Write a titled table at ``row``; return the next free row."""
    _put(ws, row, 1, title, font=_SECTION)
    row += 1
    if note:
        _put(ws, row, 1, note)
        row += 1
    flat = _public(df)
    if len(flat) == 0:
        _put(ws, row, 1, "(none)")
        return row + 2
    for j, col in enumerate(flat.columns, start=1):
        _put(ws, row, j, str(col).replace("_", " "), font=_HEAD)
        ws.cell(row=row, column=j).fill = _HEAD_FILL
    for values in flat.itertuples(index=False):
        row += 1
        for j, v in enumerate(values, start=1):
            _put(ws, row, j, v)
            if isinstance(v, float | np.floating) and "share" in str(flat.columns[j - 1]):
                ws.cell(row=row, column=j).number_format = "0.0%"
            elif isinstance(v, float | np.floating):
                ws.cell(row=row, column=j).number_format = "#,##0"
    return row + 2


def _widths(ws: Any, *, max_width: int = 60) -> None:
    widths: dict[int, int] = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is not None:
                widths[c.column] = max(widths.get(c.column, 0), min(len(str(c.value)), max_width))
    for col, w in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = max(10, w + 2)


def _coverage_table(outline: RequirementsOutline) -> pd.DataFrame:
    s = outline.summary.reset_index()
    cols = [
        "locality",
        "measure",
        "population",
        "covered_population",
        "gap_population",
        "covered_share",
        "n_assets",
        "n_required",
        "n_redundant",
        "n_in_minimal_cover",
    ]
    return s[[c for c in cols if c in s.columns]].set_index(["locality", "measure"])


def write_requirements_xlsx(
    outline: RequirementsOutline,
    path: str | os.PathLike[str] | None = None,
    *,
    run_info: RunInfo | None = None,
    method_extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write the outline of asset requirements as a spreadsheet, atomically.

    Parameters
    ----------
    outline
        From :func:`nwm_geo.requirements.outline`.
    path
        Destination; ``settings.reports_dir() / "asset_requirements.xlsx"`` by default.
    run_info
        The method and provenance text for the Summary sheet; by default read from
        ``outline.method`` (with ``method_extra``).
    method_extra
        More method entries when ``run_info`` is not given (e.g. data dates).

    Returns
    -------
    Path
        The written file. Sheets: "Summary" (method note, business-case rules,
        coverage per locality and measure, solver status, the whole business-case
        list) and one per locality (coverage, required, redundant and needed assets,
        postcodes beyond the walk, suggested new sites, business case).

    Raises
    ------
    NwmGeoError
        If both ``run_info`` and ``method_extra`` are given.
    """
    path = Path(settings.reports_dir() / "asset_requirements.xlsx" if path is None else path)
    wb = Workbook()
    ws = wb.active
    taken: set[str] = set()
    ws.title = sheet_name("Summary", taken)
    _put(
        ws,
        1,
        1,
        "Outline of asset requirements: Neighbourhood Working Model",
        font=Font(bold=True, size=15),
    )
    row = 3
    _put(ws, row, 1, "Method", font=_SECTION)
    row += 1
    if run_info is not None and method_extra:
        raise NwmGeoError("give run_info or method_extra, not both")
    rows = method_rows(outline, run_info=run_info, **dict(method_extra or {}))
    for label, text in rows:
        _put(ws, row, 1, label, font=_BOLD)
        _put(ws, row, 2, text)
        ws.cell(row=row, column=2).alignment = Alignment(wrap_text=True, vertical="top")
        row += 1
    row += 1
    row = _write_table(
        ws,
        row,
        "Coverage per locality and measure",
        _coverage_table(outline),
        note="Locality 'Luton' is the whole borough. Share = residents within the walk.",
    )
    status = outline.solver_status
    if len(status):
        status = status.set_index(["problem", "measure", "scope"])
    row = _write_table(ws, row, "Optimisation status (checked from HiGHS)", status)
    _write_table(ws, row, "Business case (all localities)", outline.business_case)
    _widths(ws)
    ws.column_dimensions["B"].width = 90
    for loc in outline.localities:
        t = outline.for_locality(loc)
        ls = wb.create_sheet(sheet_name(loc, taken))
        _put(ls, 1, 1, f"Locality: {loc}", font=Font(bold=True, size=15))
        r = 3
        r = _write_table(ls, r, "Coverage", t["summary"])
        r = _write_table(
            ls,
            r,
            "Required assets",
            t["required"],
            note="Closing one of these leaves residents with no walk to its category "
            "(sole population); ranked by residents affected.",
        )
        r = _write_table(
            ls,
            r,
            "Redundant assets",
            t["redundant"],
            note="Each is covered by other assets of its category on its own; closing "
            "several together may leave a gap (see the minimal cover).",
        )
        r = _write_table(
            ls,
            r,
            "Assets the model needs (required + minimal cover)",
            t["needed"],
        )
        r = _write_table(ls, r, "Postcodes beyond the walk", t["gaps"])
        r = _write_table(ls, r, "Suggested new sites", t["new_sites"])
        _write_table(ls, r, "Business case", t["business_case"])
        _widths(ls)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path
