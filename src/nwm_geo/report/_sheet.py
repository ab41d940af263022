"""One worksheet built in memory, then written to a workbook (write-only or not).

A :class:`SheetBuilder` collects rows (titles, notes, tables) and remembers the header
row to freeze, the table to filter and the rows to repeat when printed; :meth:`write`
writes it into a workbook with fitted column widths, landscape pages one
page wide, and one number format per quantity (:func:`number_format`).

Every text cell is published through :func:`._method.public_text` (phone numbers,
e-mail addresses and commit hashes removed) and :func:`nwm_geo._safe.neutralise_formula`
(never a formula); columns that :func:`nwm_geo._safe.is_personal_column` flags are
never written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter

from nwm_geo._publish import publish_cell, publish_sheet_title
from nwm_geo._safe import is_personal_column, neutralise_formula
from nwm_geo.report._method import public_text

#: The one font set of the workbook: every sheet, streamed or edited, uses these.
TITLE_FONT = Font(bold=True, size=15)
SECTION_FONT = Font(bold=True, size=13)
BOLD_FONT = Font(bold=True)
HEAD_FONT = Font(bold=True, color="FFFFFF")
HEAD_FILL = PatternFill("solid", fgColor="305496")
NOTE_FONT = Font(italic=True, color="555555")
_WRAP = Alignment(wrap_text=True, vertical="top")
#: The fonts of a title, section or note line: such a line spans the columns (no width).
_LINE_FONTS = (TITLE_FONT, SECTION_FONT, NOTE_FONT)

#: Readable column headings; any other column reads as its name with spaces.
LABELS: dict[str, str] = {
    "name": "Name",
    "address": "Address",
    "category": "Category",
    "owner_type": "Owner type",
    "rule": "Rule",
    "action": "Action",
    "locality": "Locality",
    "measure": "Bundle or category",
    "population": "Residents",
    "evidence": "Evidence",
    "register_note": "Register caveat",
    "id": "Id",
    "case": "Case",
    "covered_population": "Residents within the walk",
    "gap_population": "Residents beyond the walk",
    "covered_share": "Share within the walk",
    "gap_share": "Share beyond the walk",
    "gap_points": "Postcodes beyond the walk",
    "sole_population": "Residents with no other option",
    "sole_points": "Postcodes with no other option",
    "marginal_population": "Residents newly within the walk",
    "gap_population_within": "Gap residents within its walk",
    "residents_newly_within": "Residents newly within the walk (all bundles)",
    "bundles_served": "Bundles it serves",
    "site_type": "Site type",
    "ward_code": "Ward code",
    "ward_name": "Ward",
    "n_assets": "Assets",
    "n_required": "Required (sole providers)",
    "n_redundant": "Overlapping coverage",
    "n_in_minimal_cover": "In the minimal cover",
    "in_minimal_cover_of": "In the minimal cover of",
    "r4": "Rule R4 lists it",
    "why": "Why",
    "rank": "Rank in locality",
    "reason": "Why it is needed",
    "required": "Required (sole provider)",
    "in_minimal_cover": "In the minimal cover",
    "redundancy": "Overlap",
    "n_overlapping": "Assets overlapping",
    "covered_points": "Postcodes within the walk",
    "source_id": "Id",
    "lon": "Longitude",
    "lat": "Latitude",
    "problem": "Problem",
    "scope": "Scope",
    "label": "Proof",
    "proven_optimal": "Proven optimal",
    "model_status": "Solver status",
    "mip_gap": "Gap",
    "objective": "Objective",
    "bound": "Bound",
    "solver": "Solver",
}


def label(column: object) -> str:
    """Return the heading of a column (:data:`LABELS`, else its name with spaces)."""
    text = str(column)
    return LABELS.get(text, text.replace("_", " ").capitalize() if text.islower() else text)


def number_format(column: object) -> str:
    """Return the one number format of a quantity, from its column name or heading.

    The workbook's one rule, for every sheet (streamed, added or short): an index is
    signed to three decimals; a value in percent units (a heading with ``%`` or
    ``(pp)``, a name ending ``_pct`` or ``_pp``) one decimal; a share (a fraction)
    a percentage (``0.0%``); minutes and speeds one decimal; coordinates five
    decimals; areas in km² two; residents and counts whole numbers with a thousands
    separator.
    """
    c = str(column).lower()
    if c.endswith(("_index", " index")):
        return "+0.000;-0.000;0.000"
    if "%" in c or "(pp)" in c:
        return "0.0"
    if "share" in c or c.endswith("deviation") or c == "mip_gap":
        return "0.0%"
    if c.endswith(("_pct", "_pp")) or "minute" in c or "speed" in c:
        return "0.0"
    if c in {"lon", "lat", "longitude", "latitude"}:
        return "0.00000"
    if c.endswith("km2"):
        return "0.00"
    return "#,##0"


def _value(v: Any) -> Any:
    if isinstance(v, str):  # most cells: a text, masked once per distinct text
        return _public_str(v)
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float | np.floating):
        return None if np.isnan(v) else float(v)
    if isinstance(v, bool | np.bool_):
        return "yes" if bool(v) else "no"
    if isinstance(v, int | np.integer):
        return int(v)
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return _public_str(str(v))


@lru_cache(maxsize=16384)
def _public_str(text: str) -> str:
    """Return a text cell as published: no personal data or commit hash, never a formula."""
    return neutralise_formula(public_text(text))  # type: ignore[no-any-return]


_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _number(value: Any) -> Any:
    """Return a text that is a plain number ("3", "100.0") as a number, else as is."""
    if isinstance(value, str) and _NUMBER.match(value):
        return float(value) if "." in value else int(value)
    return value


@dataclass
class _Cell:
    value: Any
    font: Font | None = None
    fill: PatternFill | None = None
    fmt: str | None = None
    wrap: bool = False


def public_columns(df: pd.DataFrame, preferred: Sequence[str] = ()) -> list[str]:
    """Return the preferred columns present, then the others; never a personal-data one."""
    cols = [c for c in preferred if c in df.columns]
    cols += [c for c in df.columns if c not in cols]
    return [c for c in cols if not is_personal_column(str(c))]


@dataclass
class SheetBuilder:
    """A worksheet built row by row in memory, then written (write-only mode or not).

    Parameters
    ----------
    title
        The sheet name (already Excel-safe).
    """

    title: str
    rows: list[list[_Cell]] = field(default_factory=list)
    freeze: str | None = None
    print_rows: str | None = None
    filter_ref: str | None = None
    wrap_cols: dict[int, int] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        """Rows written so far."""
        return len(self.rows)

    def line(self, *values: Any, font: Font | None = None, wrap: bool = False) -> None:
        """Add one row of plain cells (text is published safely)."""
        self.rows.append([_Cell(_value(v), font=font, wrap=wrap) for v in values])

    def title_rows(self, title: str, subtitle: str = "") -> None:
        """Add the title (and a subtitle) at the top; they repeat on every printed page."""
        self.line(title, font=TITLE_FONT)
        if subtitle:
            self.line(subtitle, font=NOTE_FONT)
        self.freeze = f"A{self.n_rows + 1}"
        self.print_rows = f"1:{self.n_rows}"

    def section(self, title: str, note: str = "") -> None:
        """Add a blank row, a section heading and an optional note."""
        if self.rows:
            self.rows.append([])
        self.line(title, font=SECTION_FONT)
        if note:
            self.line(note, font=NOTE_FONT)

    def pairs(
        self, rows: Sequence[tuple[str, Any]], *, fmt_of: dict[str, str] | None = None
    ) -> None:
        """Add label/value rows (bold label; long text wraps in column B)."""
        for key, v in rows:
            fmt = (fmt_of or {}).get(key)
            value = _number(_value(v))
            self.rows.append(
                [
                    _Cell(_value(key), font=BOLD_FONT),
                    _Cell(value, fmt=fmt if not isinstance(value, str) else None, wrap=True),
                ]
            )
        self.wrap_cols[2] = 100

    def table(
        self,
        df: pd.DataFrame,
        columns: Sequence[str] | None = None,
        *,
        filtered: bool = False,
        frozen: bool = False,
        max_rows: int | None = None,
        more: str = "",
        empty: str = "(none)",
        wrap: Sequence[str] = (),
    ) -> None:
        """Add a table: a styled header, then one row per record.

        Parameters
        ----------
        df
            The table; its index is written only if named (as the first columns).
        columns
            Columns to write, in order (default: all public columns).
        filtered
            Put the sheet's autofilter on this table (one per sheet).
        frozen
            Freeze the rows above the table's first record (headers stay in view).
        max_rows
            Write at most this many records, then ``more`` as a note.
        more, empty
            The note after a cut table; the line written for an empty one.
        wrap
            Columns whose long text wraps (a fixed width of 100).
        """
        flat = df.reset_index() if any(n is not None for n in df.index.names) else df
        cols = public_columns(flat, columns or [])
        if columns is not None:
            cols = [c for c in cols if c in columns]
        first = self.n_rows + 1
        if len(flat) == 0 and not (filtered and cols):
            self.line(empty, font=NOTE_FONT)
            return
        self.rows.append([_Cell(label(c), font=HEAD_FONT, fill=HEAD_FILL) for c in cols])
        fmts = {c: number_format(c) for c in cols}
        shown = flat if max_rows is None else flat.iloc[:max_rows]
        for rec in shown[cols].itertuples(index=False, name=None):
            row = []
            for c, v in zip(cols, rec, strict=True):
                value = _value(v)
                fmt = fmts[c] if isinstance(value, int | float) else None
                row.append(_Cell(value, fmt=fmt, wrap=c in wrap))
            self.rows.append(row)
        for j, c in enumerate(cols, start=1):
            if c in wrap:
                self.wrap_cols[j] = 100
        if filtered:
            self.filter_ref = f"A{first}:{get_column_letter(len(cols))}{self.n_rows}"
        if len(flat) == 0:
            self.line(empty, font=NOTE_FONT)
        if frozen:
            self.freeze = f"A{first + 1}"
            self.print_rows = f"{first}:{first}" if self.print_rows is None else self.print_rows
        if max_rows is not None and len(flat) > max_rows:
            self.line(more or f"... and {len(flat) - max_rows} more rows", font=NOTE_FONT)

    def _widths(self, max_width: int) -> dict[int, float]:
        widths: dict[int, int] = {}
        for row in self.rows:
            for j, cell in enumerate(row, start=1):
                if cell.value is None or (
                    # None first: comparing a Font costs (openpyxl compares every field)
                    j == 1 and cell.font is not None and cell.font in _LINE_FONTS
                ):
                    continue
                n = (
                    len(f"{cell.value:,.0f}")
                    if isinstance(cell.value, float)
                    else len(str(cell.value))
                )
                widths[j] = max(widths.get(j, 0), min(n, max_width))
        out = {j: max(10.0, w + 2.0) for j, w in widths.items()}
        for j, w in self.wrap_cols.items():
            out[j] = float(w)
        return out

    def write(self, wb: Any, *, max_width: int = 60) -> None:
        """Write the sheet into workbook ``wb`` (write-only or not), with its print set-up."""
        ws = wb.create_sheet(publish_sheet_title(self.title))
        for j, w in self._widths(max_width).items():
            ws.column_dimensions[get_column_letter(j)].width = w
        ws.freeze_panes = self.freeze or "A2"
        if self.filter_ref:
            ws.auto_filter.ref = self.filter_ref
        ws.print_title_rows = self.print_rows or "1:1"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = "9"  # A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        # each combination of font, fill, format and wrap is looked up in the workbook's
        # style tables once (openpyxl hashes every field of a style per assignment); its
        # cells get a copy of the style indices (a later layout edits a cell's in place).
        # The key leaves out the value: openpyxl styles a date or time value itself, but
        # no cell here holds one (``_value`` makes every value a number, text or None)
        styles: dict[tuple[int, int, str | None, bool], StyleArray] = {}
        for row in self.rows:
            out: list[Any] = []
            for cell in row:
                if cell.font is None and cell.fmt is None and not cell.wrap and cell.fill is None:
                    out.append(publish_cell(cell.value))  # the one publishing path
                    continue
                c = WriteOnlyCell(ws, value=publish_cell(cell.value))
                key = (id(cell.font), id(cell.fill), cell.fmt, cell.wrap)
                known = styles.get(key)
                if known is not None:
                    c._style = StyleArray(known)
                    out.append(c)
                    continue
                if cell.font is not None:
                    c.font = cell.font
                if cell.fill is not None:
                    c.fill = cell.fill
                if cell.fmt is not None:
                    c.number_format = cell.fmt
                if cell.wrap:
                    c.alignment = _WRAP
                styles[key] = StyleArray(c._style)
                out.append(c)
            ws.append(out)
