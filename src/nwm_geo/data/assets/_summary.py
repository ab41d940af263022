"""Summaries and output: reconciliation against the council, ward table, writing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from nwm_geo import settings
from nwm_geo._checks import checks_crs
from nwm_geo._errors import NwmGeoError
from nwm_geo._io import atomic_path
from nwm_geo._publish import publish_frame
from nwm_geo._safe import mask_personal_text, strip_commit_hashes
from nwm_geo.areas import Area, load_area
from nwm_geo.data.assets._schema import EXTRA_COLUMNS, REGISTER_COLUMNS


@checks_crs
def reconciliation(
    register: gpd.GeoDataFrame | pd.DataFrame, *, area: str | Area | None = None
) -> pd.DataFrame:
    """Compare the register with the council's mapped counts, category by category.

    Parameters
    ----------
    register
        A register (``category`` and ``inside_area`` columns).
    area
        Area profile name, path or :class:`~nwm_geo.areas.Area` (default Luton): its
        ``council_counts`` and ``categories``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``category`` in the council's order plus a ``TOTAL`` row, with
        ``council_count`` (the profile's published counts; Luton's 287),
        ``register_count`` (in-borough rows only) and ``gap`` (council − register).
        For a council with no published counts (Rutland), ``council_count`` and
        ``gap`` are missing (``<NA>``): there is no target, and none is made up.
        Columns are nullable integers (``Int64``).
    """
    prof = load_area(area)
    cats = list(prof.council_counts or prof.categories)
    inside = register[register["inside_area"].astype(bool)]
    counts = inside["category"].value_counts().reindex(cats).fillna(0).astype(int)
    if prof.council_counts is not None:
        council = pd.Series(prof.council_counts, dtype="Int64").reindex(cats)
    else:
        council = pd.Series(pd.NA, index=cats, dtype="Int64")
    table = pd.DataFrame({"council_count": council, "register_count": counts.astype("Int64")})
    table["gap"] = table["council_count"] - table["register_count"]
    table.loc["TOTAL"] = table.sum(skipna=False)  # no counts: council and gap stay <NA>
    table.index.name = "category"
    return table.astype("Int64")


@checks_crs
def ward_table(
    wards: gpd.GeoDataFrame,
    register: gpd.GeoDataFrame | pd.DataFrame,
    points: pd.DataFrame,
    *,
    categories: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Return population, area and assets of each ward, with one count column per category.

    Parameters
    ----------
    wards
        Wards indexed by ``ward_code`` with ``ward_name`` and ``area_km2``.
    register
        The register; in-borough rows are counted by their ``ward_code``.
    points
        Demand points with ``ward_code`` and ``population``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``ward_code``: ``ward_name``, ``population``, ``assets``,
        ``area_km2``, then one int column per council category (exact names, council
        order).
    """
    inside = register[register["inside_area"].astype(bool)]
    pop = points.groupby("ward_code")["population"].sum()
    out = pd.DataFrame(index=wards.index.copy())
    out.index.name = "ward_code"
    out["ward_name"] = wards["ward_name"]
    out["population"] = pop.reindex(out.index).fillna(0).astype(int)
    out["assets"] = inside["ward_code"].value_counts().reindex(out.index).fillna(0).astype(int)
    area = wards["area_km2"] if "area_km2" in wards.columns else wards.geometry.area / 1e6
    out["area_km2"] = area.astype(float).round(3)
    by_cat = pd.crosstab(inside["ward_code"], inside["category"])
    for cat in settings.CATEGORIES if categories is None else categories:
        col = by_cat[cat] if cat in by_cat.columns else pd.Series(dtype=int)
        out[cat] = col.reindex(out.index).fillna(0).astype(int)
    return out


def publishable(register: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Return a copy fit to publish: personal data masked in every free-text cell.

    Phone numbers and e-mail addresses inside any text column (an address, a note) are
    replaced by a marker (:func:`nwm_geo._safe.mask_personal_text`).

    Parameters
    ----------
    register
        The register (or any table).

    Returns
    -------
    tuple of (pandas.DataFrame, int)
        The masked copy, and how many phone numbers and e-mail addresses were removed.
    """
    out = register.copy()
    removed = 0
    for col in out.columns:
        if col == "geometry" or pd.api.types.is_numeric_dtype(out[col]):
            continue
        masked = [mask_personal_text(v) if isinstance(v, str) else (v, 0) for v in out[col]]
        out[col] = [strip_commit_hashes(m[0]) if isinstance(m[0], str) else m[0] for m in masked]
        removed += sum(m[1] for m in masked)
    return out, removed


@checks_crs
def write_register(register: gpd.GeoDataFrame, path_csv: str | Path, path_gpkg: str | Path) -> int:
    """Write the register as CSV (columns :data:`REGISTER_COLUMNS`) and GeoPackage.

    Both files are written to temporary names and moved into place only when both
    were written (:func:`nwm_geo._io.atomic_path`). Phone numbers and e-mail
    addresses in any text cell are masked (:func:`publishable`), and CSV cells that a
    spreadsheet would run as formulas are neutralised
    (:func:`nwm_geo._safe.neutralise_formula`).

    Parameters
    ----------
    register
        The register, indexed by ``asset_id``.
    path_csv
        Destination CSV (UTF-8, ``asset_id`` first).
    path_gpkg
        Destination GeoPackage (layer ``register``, EPSG:27700), with ``geocode`` and
        ``notes`` as well.

    Returns
    -------
    int
        How many phone numbers and e-mail addresses were masked.
    """
    frame, removed = publishable(register.reset_index())
    missing = [c for c in REGISTER_COLUMNS if c not in frame.columns]
    if missing:
        raise NwmGeoError(f"register lacks column(s): {', '.join(missing)}")
    extra = [c for c in EXTRA_COLUMNS if c in frame.columns]
    gdf = gpd.GeoDataFrame(
        frame[[*REGISTER_COLUMNS, *extra]], geometry=frame.geometry.values, crs=register.crs
    ).to_crs("EPSG:27700")
    with atomic_path(path_csv) as tmp_csv, atomic_path(path_gpkg) as tmp_gpkg:
        table = publish_frame(pd.DataFrame(frame[list(REGISTER_COLUMNS)]))
        table.to_csv(tmp_csv, index=False, encoding="utf-8")
        features: Any = publish_frame(gdf, formulas=False)  # still a GeoDataFrame
        features.to_file(tmp_gpkg, driver="GPKG", layer="register")
    return removed
