"""The spreadsheet and the HTML index a property lead reads without Python.

In: a :class:`nwm_geo.requirements.RequirementsOutline`, the saved maps and tables,
and the run's method and provenance text: a :class:`RunInfo` (walking speed, minutes,
network label, data dates, register and localities notes, extra lines), or a method
dict (the outline's own ``method`` by default).

Out: ``reports/asset_requirements.xlsx`` (:func:`write_requirements_xlsx`), a briefing
workbook: "Read me", "Summary", one profile sheet per locality, "Business cases",
"Method and proof" and data sheets; ``reports/index.html`` (:func:`write_index_html`):
the headline findings, the proof and the caveats first, then links to every map and
table; ``reports/locality_pack.pdf`` (:func:`write_locality_pack`), the printable pack:
a summary page and one page per locality (map, key figures, business cases).
The sheets beyond the briefing are producers the workbook takes as inputs
(``write_requirements_xlsx(sheets=[...])``, saved once): :func:`equity_sheet` the
"Equity" sheet (the area's deprivation and age), :func:`hub_sheet` the "Hubs" sheet,
:func:`closure_impact_sheet` the "Closure impact" sheet, :func:`table_sheet` a titled
table (the "Wards" and "Hub options" sheets); :func:`finish_sheets` gives them the
briefing's set-up. :func:`add_equity_sheet`, :func:`add_hub_sheet`,
:func:`add_closure_impact_sheet`, :func:`add_table_sheet` and :func:`finish_workbook` do
the same to a saved file (load, edit, save).

Both files are written atomically. Every text has phone numbers and e-mail addresses
masked (:func:`nwm_geo._safe.mask_personal_text`) and is escaped (HTML) or guarded
like every CSV the project writes (Excel: :func:`nwm_geo._safe.neutralise_formula`, so
a name starting with ``=`` is stored as text with a leading apostrophe, never a
formula). No personal data: only the outline's own columns are written, and any
column that :func:`nwm_geo._safe.is_personal_column` flags is dropped.

Where things live: ``_method`` the run's method text (:class:`RunInfo`), ``_context``
what the workbook says beyond the outline (:class:`WorkbookContext`) and its constants,
``_xlsx`` the reading sheets and the one save, ``_reference`` the business-case,
method and data sheets, ``_edit`` editing an open workbook (cells, tables,
:func:`finish_sheets`), ``_sheet`` one sheet streamed in
openpyxl's write-only mode, ``_equity`` the equity sheet, ``_hubs`` the hubs sheet,
``_sheets`` the closure-impact sheet and short workbooks, ``_index`` the HTML index,
``_pack`` the printable PDF, ``_wards`` the ward profiles, ``_pdf`` their pages
(:class:`PdfDocument`: text and tables with fpdf2, maps from matplotlib laid over).
"""

from __future__ import annotations

from nwm_geo.report._edit import add_table_sheet, finish_sheets, table_sheet
from nwm_geo.report._equity import add_equity_sheet, equity_sheet
from nwm_geo.report._hubs import HUB_SHEET, add_hub_sheet, hub_sheet
from nwm_geo.report._index import IndexFindings, write_index_html
from nwm_geo.report._method import RunInfo, method_rows, register_gap_note
from nwm_geo.report._pack import PACK_PAGE_SIZE, PackInputs, write_locality_pack
from nwm_geo.report._pdf import PdfDocument, PdfPage
from nwm_geo.report._sheets import (
    add_closure_impact_sheet,
    closure_impact_sheet,
    write_tables_xlsx,
)
from nwm_geo.report._wards import WardProfile, draw_table, write_ward_profiles
from nwm_geo.report._xlsx import (
    BUNDLE_MEANING,
    DATA_SHEETS,
    READING_ROW_LIMIT,
    WorkbookContext,
    finish_workbook,
    index_findings,
    sheet_name,
    write_requirements_xlsx,
)

__all__ = [
    "BUNDLE_MEANING",
    "DATA_SHEETS",
    "HUB_SHEET",
    "PACK_PAGE_SIZE",
    "READING_ROW_LIMIT",
    "IndexFindings",
    "PackInputs",
    "PdfDocument",
    "PdfPage",
    "RunInfo",
    "WardProfile",
    "WorkbookContext",
    "add_closure_impact_sheet",
    "add_equity_sheet",
    "add_hub_sheet",
    "add_table_sheet",
    "closure_impact_sheet",
    "draw_table",
    "equity_sheet",
    "finish_sheets",
    "finish_workbook",
    "hub_sheet",
    "index_findings",
    "method_rows",
    "register_gap_note",
    "sheet_name",
    "table_sheet",
    "write_index_html",
    "write_locality_pack",
    "write_requirements_xlsx",
    "write_tables_xlsx",
    "write_ward_profiles",
]
