"""A blank council register to fill in: the schema's columns, dropdowns and notes.

In: an area profile (its categories and owner types). Out: an ``.xlsx`` that
:func:`read_register` reads as it is: the register's columns in order (without those
nwm_geo derives), a dropdown of the categories and of the owner types, a note on every
column heading, a "Columns" sheet explaining each one, and one example row, marked as
an example, that :func:`read_register` refuses until it is deleted.
"""

from __future__ import annotations

import os
from pathlib import Path

from nwm_geo import settings
from nwm_geo._publish import save_workbook
from nwm_geo.areas import Area, load_area
from nwm_geo.data.assets._schema import DERIVED, EXAMPLE_ID, REGISTER_COLUMNS

__all__ = ["EXAMPLE_ID", "TEMPLATE_COLUMNS", "TEMPLATE_NOTES", "write_register_template"]

#: The columns a council fills in: the register's, without those nwm_geo derives
#: (``ward_code``, ``ward_name``, ``inside_area``), plus ``notes``.
TEMPLATE_COLUMNS: tuple[str, ...] = (
    *(c for c in REGISTER_COLUMNS if c not in DERIVED),
    "notes",
)

#: What each column holds (the heading's note and the "Columns" sheet).
TEMPLATE_NOTES: dict[str, str] = {
    "asset_id": "Required, unique: your own reference for the site (kept as it is).",
    "name": "Required: the site's name as residents know it.",
    "category": "Required: one of the categories in the dropdown (synonyms such as "
    "'Mosque' or 'GP surgery' are also read).",
    "owner_type": "Who owns or runs the site: council, partner public sector, or community "
    "and faith. Leave empty for the area profile's owner of the category. It decides the "
    "business case: retain and invest (council) or secure access (the others).",
    "subtype": "Optional detail, e.g. 'primary school', 'mosque', 'leisure centre'.",
    "address": "Street address (no phone numbers or e-mail addresses: they are removed).",
    "postcode": "The site's postcode; locates the site when there are no coordinates.",
    "lon": "Longitude in degrees (WGS84), e.g. -0.4170; with lat.",
    "lat": "Latitude in degrees (WGS84), e.g. 51.8790; with lon.",
    "easting": "British National Grid easting in metres; with northing (instead of lon/lat).",
    "northing": "British National Grid northing in metres; with easting.",
    "source": "Where the row comes from, e.g. 'Council asset register'.",
    "source_record_id": "The row's id in that source, if different from asset_id.",
    "source_date": "When the source was last updated, e.g. 2025-10.",
    "licence": "The licence the row is published under, if any.",
    "notes": "Anything else worth publishing (never contact details).",
}

#: The example row: a real Luton site (its address and postcode), located by postcode.
_EXAMPLE_ROW: dict[str, str] = {
    "asset_id": EXAMPLE_ID,
    "name": "Luton Central Library (EXAMPLE ROW: delete before use)",
    "category": "Library",
    "owner_type": "council",
    "subtype": "public library",
    "address": "St. George's Square, Luton",
    "postcode": "LU1 2NG",
    "source": "Council asset register",
    "notes": "EXAMPLE ROW: shows how a row is filled in; delete it before use.",
}


def write_register_template(
    path: str | os.PathLike[str], *, area: str | Area | None = None, rows: int = 500
) -> Path:
    """Write a blank council register to fill in, atomically.

    Parameters
    ----------
    path
        Destination ``.xlsx``.
    area
        The area profile (default Luton): its categories fill the dropdown.
    rows
        How many rows the dropdowns cover.

    Returns
    -------
    Path
        The file: sheet "Register" (headings with notes, one example row, dropdowns for
        ``category`` and ``owner_type``) and sheet "Columns" (each column explained).
    """
    # openpyxl loads here, not on import: reading a register or a scenario never needs it
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    head, head_fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="305496")
    prof = load_area(area)
    wb = Workbook()
    ws = wb.active
    ws.title = "Register"
    for j, col in enumerate(TEMPLATE_COLUMNS, start=1):
        cell = ws.cell(row=1, column=j, value=col)
        cell.font, cell.fill = head, head_fill
        cell.comment = Comment(TEMPLATE_NOTES[col], "nwm_geo")
        example = ws.cell(row=2, column=j, value=_EXAMPLE_ROW.get(col) or None)
        example.fill = PatternFill("solid", fgColor="FFF2CC")
        width = max(len(col), len(_EXAMPLE_ROW.get(col, ""))) + 2
        ws.column_dimensions[get_column_letter(j)].width = min(max(12, width), 50)
    ws.freeze_panes = "A2"
    letter = {c: get_column_letter(j) for j, c in enumerate(TEMPLATE_COLUMNS, start=1)}
    lists = {
        "category": prof.categories,
        "owner_type": settings.OWNER_TYPES,
    }
    for col, values in lists.items():
        dv = DataValidation(
            type="list",
            formula1='"' + ",".join(values) + '"',
            allow_blank=col != "category",
            showErrorMessage=True,
            errorTitle=f"Not a {col.replace('_', ' ')}",
            error=f"Choose one of the {len(values)} values in the list.",
        )
        dv.add(f"{letter[col]}2:{letter[col]}{rows + 1}")
        ws.add_data_validation(dv)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(TEMPLATE_COLUMNS))}1"
    notes = wb.create_sheet("Columns")
    notes.append(["column", "what it holds"])
    for c in notes[1]:
        c.font, c.fill = head, head_fill
    for col in TEMPLATE_COLUMNS:
        notes.append([col, TEMPLATE_NOTES[col]])
    notes.append([])
    notes.append(
        [
            "categories",
            f"{prof.name} uses {len(prof.categories)}: " + "; ".join(prof.categories) + ".",
        ]
    )
    notes.append(
        [
            "location",
            "Give lon and lat, or easting and northing, or only the postcode (the site is "
            "then placed at the postcode's centre).",
        ]
    )
    notes.append(
        [
            "derived",
            "ward_code, ward_name and inside_area are filled in by nwm_geo from the location.",
        ]
    )
    notes.append(["example", f"Row 2 ({EXAMPLE_ID}) is an example: delete it before use."])
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 110
    for row in notes.iter_rows(min_row=2):
        row[-1].alignment = Alignment(wrap_text=True, vertical="top")
    out = Path(path)
    save_workbook(wb, out)
    return out
