"""The community-asset register: read, validate, build from open data, summarise, write.

In: a council register in any common shape (CSV in any usual encoding, XLSX, GeoJSON,
GeoPackage), or the open-data asset files of an area's bundle (named by its profile,
:mod:`nwm_geo.areas`). Out: one GeoDataFrame indexed by ``asset_id`` with the columns of
:data:`REGISTER_COLUMNS` (plus ``geocode``, ``notes`` and point ``geometry`` in
EPSG:27700), the reconciliation against the council's counts and the ward table.

Every problem in an input file is collected and raised at once as a
:class:`~nwm_geo._errors.DataValidationError`; nothing is dropped silently. Columns
holding personal data (phone numbers, e-mail addresses, contact names) are never read
into the register, and phone numbers or e-mail addresses inside text are masked when
the register is written.

Modules: ``_schema`` (columns, categories, synonyms), ``_read`` (one file into the
schema), ``_open`` (the open-data sources of an area), ``_dedupe`` (one site listed in
several files), ``_summary`` (reconciliation, ward table, writing), ``_template`` (a
blank register to fill in).
"""

from __future__ import annotations

from nwm_geo._safe import is_personal_column
from nwm_geo.data.assets._dedupe import dedupe_sites, faith_of, name_similarity
from nwm_geo.data.assets._open import build_open_register, open_register_exclusions
from nwm_geo.data.assets._read import read_register
from nwm_geo.data.assets._schema import (
    CATEGORY_SYNONYMS,
    EXAMPLE_ID,
    GB_BOUNDS,
    MERGE_LOG_COLUMNS,
    REGISTER_COLUMNS,
    normalise_category,
    normalise_owner,
    resolve_category,
)
from nwm_geo.data.assets._summary import publishable, reconciliation, ward_table, write_register
from nwm_geo.data.assets._template import TEMPLATE_COLUMNS, TEMPLATE_NOTES, write_register_template

__all__ = [
    "CATEGORY_SYNONYMS",
    "EXAMPLE_ID",
    "GB_BOUNDS",
    "MERGE_LOG_COLUMNS",
    "REGISTER_COLUMNS",
    "TEMPLATE_COLUMNS",
    "TEMPLATE_NOTES",
    "build_open_register",
    "dedupe_sites",
    "faith_of",
    "is_personal_column",
    "name_similarity",
    "normalise_category",
    "normalise_owner",
    "open_register_exclusions",
    "publishable",
    "read_register",
    "reconciliation",
    "resolve_category",
    "ward_table",
    "write_register",
    "write_register_template",
]
