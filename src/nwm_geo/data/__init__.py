"""Data loading and validation: asset register, boundaries, population, postcodes.

An area's bundle is read through :func:`open_area`, which returns an :class:`AreaData`:
its profile, its data folder and each table read once (``wards``, ``postcodes``,
``lsoas``, ``oas``, ``deprivation``, ``population``, ``assets``...). The loaders
(``load_wards``, ``load_postcodes``...) take that object and read afresh.
"""

from __future__ import annotations

from nwm_geo.data._area import AreaData, open_area
from nwm_geo.data._example import SyntheticExample, synthetic_example
from nwm_geo.data._files import AreaFiles
from nwm_geo.data._tables import cell_text, read_table
from nwm_geo.data.assets import (
    CATEGORY_SYNONYMS,
    EXAMPLE_ID,
    MERGE_LOG_COLUMNS,
    REGISTER_COLUMNS,
    TEMPLATE_COLUMNS,
    TEMPLATE_NOTES,
    build_open_register,
    is_personal_column,
    normalise_category,
    normalise_owner,
    open_register_exclusions,
    publishable,
    read_register,
    reconciliation,
    resolve_category,
    ward_table,
    write_register,
    write_register_template,
)
from nwm_geo.data.boundaries import (
    AGE_BANDS,
    borough_boundary,
    load_lsoas,
    load_oas,
    load_wards,
)
from nwm_geo.data.bundle import (
    BundleChangedWarning,
    bundle_changes,
    bundle_manifest,
    ensure_bundle,
    import_bundle,
    read_manifest,
    require_raw,
)
from nwm_geo.data.deprivation import DOMAIN_DECILES, IMD_COLUMNS, load_imd
from nwm_geo.data.population import (
    GROUP_COLUMNS,
    build_demand_points,
    split_by_bands,
    ward_population,
)
from nwm_geo.data.postcodes import load_postcodes, normalise_postcode

__all__ = [
    "AGE_BANDS",
    "CATEGORY_SYNONYMS",
    "DOMAIN_DECILES",
    "EXAMPLE_ID",
    "GROUP_COLUMNS",
    "IMD_COLUMNS",
    "MERGE_LOG_COLUMNS",
    "REGISTER_COLUMNS",
    "TEMPLATE_COLUMNS",
    "TEMPLATE_NOTES",
    "AreaData",
    "AreaFiles",
    "BundleChangedWarning",
    "SyntheticExample",
    "borough_boundary",
    "build_demand_points",
    "build_open_register",
    "bundle_changes",
    "bundle_manifest",
    "cell_text",
    "ensure_bundle",
    "import_bundle",
    "is_personal_column",
    "load_imd",
    "load_lsoas",
    "load_oas",
    "load_postcodes",
    "load_wards",
    "normalise_category",
    "normalise_owner",
    "normalise_postcode",
    "open_area",
    "open_register_exclusions",
    "publishable",
    "read_manifest",
    "read_register",
    "read_table",
    "reconciliation",
    "require_raw",
    "resolve_category",
    "split_by_bands",
    "synthetic_example",
    "ward_population",
    "ward_table",
    "write_register",
    "write_register_template",
]
