"""Data loading and validation: asset register, boundaries, population, postcodes."""

from __future__ import annotations

from nwm_geo.data.bundle import bundle_manifest, import_bundle, read_manifest, require_raw

__all__ = ["bundle_manifest", "import_bundle", "read_manifest", "require_raw"]
