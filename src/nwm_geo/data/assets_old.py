"""The community-asset register: read, validate, build from open data, summarise, write.

In: a council register in any common shape (CSV in any usual encoding, XLSX, GeoJSON,
GeoPackage), or the open-data files under ``assets/`` of the bundle. Out: one
GeoDataFrame indexed by ``asset_id`` with the columns of :data:`REGISTER_COLUMNS`
(plus ``geocode``, ``notes`` and point ``geometry`` in EPSG:27700), the council
reconciliation table and the ward table.

Every problem in an input file is collected and raised at once as a
:class:`~nwm_geo._errors.DataValidationError`; nothing is dropped silently. Columns
holding personal data (phone numbers, e-mail addresses, contact names) are never read
into the register.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer
from tqdm.auto import tqdm

from nwm_geo import settings
from nwm_geo._errors import DataValidationError, NwmGeoError, Problem
from nwm_geo._io import atomic_path
from nwm_geo._safe import is_personal_column
from nwm_geo.data._tables import cell_text, read_table
from nwm_geo.data.boundaries import load_wards
from nwm_geo.data.bundle import require_raw
from nwm_geo.data.postcodes import load_postcodes, normalise_postcode

__all__ = [
    "CATEGORY_SYNONYMS",
    "GB_BOUNDS",
    "LIBRARY_RULES",
    "MERGE_LOG_COLUMNS",
    "ODS_RECORD_RULES",
    "ODS_SETTING_RULES",
    "OPEN_SOURCES",
    "REGISTER_COLUMNS",
    "build_open_register",
    "is_personal_column",
    "name_similarity",
    "normalise_category",
    "open_register_exclusions",
    "read_register",
    "reconciliation",
    "ward_table",
    "write_register",
]

#: Register columns, in order. ``asset_id`` is the index of the GeoDataFrame and the
#: first column of the CSV.
REGISTER_COLUMNS: tuple[str, ...] = (
    "asset_id",
    "name",
    "category",
    "subtype",
    "address",
    "postcode",
    "lon",
    "lat",
    "easting",
    "northing",
    "ward_code",
    "ward_name",
    "in_borough",
    "source",
    "source_record_id",
    "source_date",
    "licence",
)

#: Extra columns kept after :data:`REGISTER_COLUMNS` in the GeoDataFrame and GeoPackage.
_EXTRA_COLUMNS: tuple[str, ...] = ("geocode", "notes")

#: Lower-cased synonyms -> the council's category (:data:`nwm_geo.settings.CATEGORIES`).
CATEGORY_SYNONYMS: dict[str, str] = {
    # GP / Medical Centre
    "gp": "GP / Medical Centre",
    "gp surgery": "GP / Medical Centre",
    "gp practice": "GP / Medical Centre",
    "general practice": "GP / Medical Centre",
    "surgery": "GP / Medical Centre",
    "doctors": "GP / Medical Centre",
    "doctor's surgery": "GP / Medical Centre",
    "doctors surgery": "GP / Medical Centre",
    "medical centre": "GP / Medical Centre",
    "medical center": "GP / Medical Centre",
    "health centre": "GP / Medical Centre",
    "gp / medical center": "GP / Medical Centre",
    # Religious Institution
    "mosque": "Religious Institution",
    "masjid": "Religious Institution",
    "prayer hall": "Religious Institution",
    "church": "Religious Institution",
    "chapel": "Religious Institution",
    "gurdwara": "Religious Institution",
    "temple": "Religious Institution",
    "mandir": "Religious Institution",
    "synagogue": "Religious Institution",
    "place of worship": "Religious Institution",
    "places of worship": "Religious Institution",
    "faith": "Religious Institution",
    "faith group": "Religious Institution",
    "religious": "Religious Institution",
    "religious institutions": "Religious Institution",
    # Education
    "school": "Education",
    "schools": "Education",
    "primary school": "Education",
    "secondary school": "Education",
    "infant school": "Education",
    "junior school": "Education",
    "special school": "Education",
    "academy": "Education",
    "nursery": "Education",
    "nursery school": "Education",
    "college": "Education",
    "sixth form college": "Education",
    "university": "Education",
    "education centre": "Education",
    # Community Centre
    "community centre": "Community Centre",
    "community center": "Community Centre",
    "community hall": "Community Centre",
    "village hall": "Community Centre",
    "community building": "Community Centre",
    # LBC Community Centre
    "lbc community centre": "LBC Community Centre",
    "council community centre": "LBC Community Centre",
    "council-run community centre": "LBC Community Centre",
    # Sports and Leisure
    "leisure centre": "Sports and Leisure",
    "sports centre": "Sports and Leisure",
    "sports": "Sports and Leisure",
    "leisure": "Sports and Leisure",
    "sport and leisure": "Sports and Leisure",
    "sports & leisure": "Sports and Leisure",
    "swimming pool": "Sports and Leisure",
    "gym": "Sports and Leisure",
    "sports club": "Sports and Leisure",
    # Library
    "library": "Library",
    "libraries": "Library",
    "library access point": "Library",
    # Council
    "council office": "Council",
    "council offices": "Council",
    "town hall": "Council",
    "civic centre": "Council",
    "council building": "Council",
    # Crime and Justice
    "police": "Crime and Justice",
    "police station": "Crime and Justice",
    "court": "Crime and Justice",
    "crown court": "Crime and Justice",
    "magistrates court": "Crime and Justice",
    "magistrates' court": "Crime and Justice",
    "probation office": "Crime and Justice",
    "crime & justice": "Crime and Justice",
    # Health
    "hospital": "Health",
    "clinic": "Health",
    "health": "Health",
    "health service": "Health",
    "urgent treatment centre": "Health",
    "walk-in centre": "Health",
    "walk in centre": "Health",
    "mental health": "Health",
    # Advice Services
    "advice": "Advice Services",
    "advice service": "Advice Services",
    "advice centre": "Advice Services",
    "citizens advice": "Advice Services",
    "citizens advice bureau": "Advice Services",
    # Fire and rescue
    "fire station": "Fire and rescue",
    "fire": "Fire and rescue",
    "fire & rescue": "Fire and rescue",
    "fire and rescue service": "Fire and rescue",
    # Cultural Centre
    "cultural centre": "Cultural Centre",
    "cultural center": "Cultural Centre",
    "arts centre": "Cultural Centre",
    "museum": "Cultural Centre",
    "theatre": "Cultural Centre",
    "gallery": "Cultural Centre",
    # Charity
    "charity": "Charity",
    "charities": "Charity",
    "voluntary organisation": "Charity",
    "voluntary sector": "Charity",
}

#: Rough bounds of Great Britain in lon/lat (min lon, min lat, max lon, max lat),
#: Scilly to Shetland. Points outside are reported; Ireland is not caught by a box.
GB_BOUNDS: tuple[float, float, float, float] = (-8.75, 49.8, 1.85, 60.95)

#: British National Grid extent in metres (min E, min N, max E, max N).
_BNG_BOUNDS: tuple[float, float, float, float] = (0.0, 0.0, 700000.0, 1300000.0)

_ALIASES: dict[str, tuple[str, ...]] = {
    "asset_id": ("asset_id", "asset id", "assetid", "id", "asset_ref", "asset ref", "ref"),
    "name": ("name", "asset name", "asset_name", "site name", "site_name", "site", "title"),
    "category": (
        "category",
        "asset category",
        "asset_category",
        "asset type",
        "asset_type",
        "type",
    ),
    "subtype": ("subtype", "sub type", "sub_type", "sub category", "sub_category", "subcategory"),
    "address": ("address", "full address", "address 1", "address1", "address_1", "street"),
    "postcode": ("postcode", "post code", "post_code", "postal code", "postal_code"),
    "lon": ("lon", "long", "longitude", "lng", "x_lon"),
    "lat": ("lat", "latitude", "y_lat"),
    "easting": ("easting", "eastings", "bng_e", "os_easting", "x_bng"),
    "northing": ("northing", "northings", "bng_n", "os_northing", "y_bng"),
    "source": ("source", "data source", "data_source"),
    "source_record_id": ("source_record_id", "source record id", "source_id", "record_id"),
    "source_date": ("source_date", "source date", "date", "as_at", "as at"),
    "licence": ("licence", "license"),
    "geocode": ("geocode", "geocoding", "location_source"),
    "notes": ("notes", "note", "comments", "comment"),
}
_SCHEMA = set(REGISTER_COLUMNS) | set(_EXTRA_COLUMNS)
_DERIVED = {"ward_code", "ward_name", "in_borough"}

_TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
_TO_WGS84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def normalise_category(value: object) -> str | None:
    """Return the council's spelling of a category, or ``None`` if it is not one.

    Parameters
    ----------
    value
        A category as written in a file: a council category in any case
        ("religious institution") or a synonym from :data:`CATEGORY_SYNONYMS`
        ("Mosque", "GP surgery").

    Returns
    -------
    str or None
        One of :data:`nwm_geo.settings.CATEGORIES`, or ``None``.
    """
    if not isinstance(value, str):
        return None
    key = " ".join(value.strip().lower().split())
    if not key:
        return None
    for cat in settings.CATEGORIES:
        if cat.lower() == key:
            return cat
    key_and = key.replace("&", "and")
    for cat in settings.CATEGORIES:
        if cat.lower() == key_and:
            return cat
    return CATEGORY_SYNONYMS.get(key) or CATEGORY_SYNONYMS.get(key_and)


def _slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s or "asset"


def _to_float(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _in_gb(lon: float, lat: float) -> bool:
    x0, y0, x1, y1 = GB_BOUNDS
    return x0 <= lon <= x1 and y0 <= lat <= y1


def _in_bng(e: float, n: float) -> bool:
    x0, y0, x1, y1 = _BNG_BOUNDS
    return x0 <= e <= x1 and y0 <= n <= y1


@dataclass
class _Located:
    easting: float | None = None
    northing: float | None = None
    method: str = ""


def _number_pair(
    a_t: str, b_t: str, label: str, row: int, cols: tuple[str, str], problems: list[Problem]
) -> tuple[float, float] | None:
    """Both coordinates as numbers, or None with a problem for each that is not one."""
    a, b = _to_float(a_t), _to_float(b_t)
    for num, text, col in ((a, a_t, cols[0]), (b, b_t, cols[1])):
        if num is None:
            problems.append(Problem(label, row, col, text, "coordinate is not a number"))
    if a is None or b is None:
        return None
    return a, b


def _locate_lonlat(
    lon_t: str, lat_t: str, label: str, row: int, cols: tuple[str, str], problems: list[Problem]
) -> _Located | None:
    pair = _number_pair(lon_t, lat_t, label, row, cols, problems)
    if pair is None:
        return None
    lon, lat = pair
    value = f"{lon_t}, {lat_t}"
    both = f"{cols[0]}/{cols[1]}"
    if _in_gb(lon, lat):
        e, n = _TO_BNG.transform(lon, lat)
        return _Located(float(e), float(n), "lon/lat")
    if _in_gb(lat, lon):
        problems.append(
            Problem(
                label,
                row,
                both,
                value,
                "longitude and latitude are swapped (Luton is about lon -0.4, lat 51.9); "
                "fix: swap the two values, or swap the column mapping (columns={...})",
            )
        )
        return None
    if (abs(lon) > 180 or abs(lat) > 90) and _in_bng(lon, lat):
        problems.append(
            Problem(
                label,
                row,
                both,
                value,
                "these look like British National Grid easting/northing (metres), not "
                "longitude/latitude; fix: put them in easting/northing columns or map them "
                "with columns={'<x column>': 'easting', '<y column>': 'northing'}",
            )
        )
        return None
    if abs(lon) > 180 or abs(lat) > 90:
        problems.append(Problem(label, row, both, value, "not a valid longitude/latitude"))
        return None
    problems.append(
        Problem(
            label,
            row,
            both,
            value,
            "the point is outside Great Britain (in another country, or wrong coordinates); "
            "fix the coordinates or remove the row",
        )
    )
    return None


def _locate_bng(
    e_t: str, n_t: str, label: str, row: int, cols: tuple[str, str], problems: list[Problem]
) -> _Located | None:
    pair = _number_pair(e_t, n_t, label, row, cols, problems)
    if pair is None:
        return None
    e, n = pair
    value = f"{e_t}, {n_t}"
    both = f"{cols[0]}/{cols[1]}"
    if abs(e) <= 180 and abs(n) <= 90:
        problems.append(
            Problem(
                label,
                row,
                both,
                value,
                "these look like longitude/latitude, not British National Grid metres; "
                "fix: put them in lon/lat columns or map them with "
                "columns={...: 'lon', ...: 'lat'}",
            )
        )
        return None
    if not _in_bng(e, n):
        problems.append(
            Problem(
                label,
                row,
                both,
                value,
                "easting/northing outside the British National Grid (Great Britain)",
            )
        )
        return None
    lon, lat = _TO_WGS84.transform(e, n)
    if not _in_gb(float(lon), float(lat)):
        problems.append(
            Problem(
                label, row, both, value, "the point is outside Great Britain; fix the coordinates"
            )
        )
        return None
    return _Located(e, n, "easting/northing")


def _resolve_columns(
    frame: pd.DataFrame, columns: Mapping[str, str] | None, label: str, problems: list[Problem]
) -> dict[str, str]:
    """Return schema name -> file column."""
    found: dict[str, str] = {}
    used: set[str] = set()
    for file_col, schema in (columns or {}).items():
        if schema not in _SCHEMA:
            problems.append(
                Problem(
                    label,
                    None,
                    file_col,
                    schema,
                    "columns= maps to unknown register column; use one of: "
                    + ", ".join(sorted(_SCHEMA)),
                )
            )
            continue
        if is_personal_column(str(file_col)):
            problems.append(
                Problem(
                    label,
                    None,
                    file_col,
                    schema,
                    "columns= maps a column that looks like personal data (phone, e-mail, "
                    "a person's name or birth date); personal data are never read into the "
                    "register: remove this mapping",
                )
            )
            continue
        if file_col not in frame.columns:
            problems.append(
                Problem(
                    label,
                    None,
                    file_col,
                    "",
                    "columns= names a column that is not in the file (columns found: "
                    + ", ".join(map(str, frame.columns))
                    + ")",
                )
            )
            continue
        found[schema] = file_col
        used.add(file_col)
    by_key = {
        " ".join(str(c).strip().lower().replace("_", " ").split()): str(c) for c in frame.columns
    }
    for schema, aliases in _ALIASES.items():
        if schema in found:
            continue
        for alias in aliases:
            col = by_key.get(" ".join(alias.replace("_", " ").split()))
            if col is not None and col not in used and not is_personal_column(col):
                found[schema] = col
                used.add(col)
                break
    return found


def _register_from_frame(
    frame: pd.DataFrame,
    label: str,
    *,
    columns: Mapping[str, str] | None,
    postcodes: gpd.GeoDataFrame | None,
    wards: gpd.GeoDataFrame | None,
    data_dir: Path | None,
    problems: list[Problem] | None = None,
    verbose: bool = False,
) -> gpd.GeoDataFrame:
    problems = list(problems or [])
    # A blank row keeps its place (so row numbers match the file) but is no record.
    blank = [all(cell_text(v) == "" for v in r) for r in frame.itertuples(index=False)]
    if frame.shape[1] == 0 or all(blank):
        if not problems:
            problems.append(Problem(label, None, None, "", "the file has no data rows"))
        raise DataValidationError(problems)
    frame = frame[[c for c in frame.columns if not is_personal_column(str(c))]]
    cols = _resolve_columns(frame, columns, label, problems)
    for req in ("name", "category"):
        if req not in cols:
            problems.append(
                Problem(
                    label,
                    None,
                    req,
                    "",
                    f"missing required column '{req}' (columns found: "
                    f"{', '.join(map(str, frame.columns))}); "
                    "add it or map a column to it with columns={...}",
                )
            )
    has_ll = "lon" in cols and "lat" in cols
    has_en = "easting" in cols and "northing" in cols
    if not (has_ll or has_en or "postcode" in cols):
        problems.append(
            Problem(
                label,
                None,
                "lon/lat",
                "",
                "missing location columns: give lon+lat, easting+northing, or postcode",
            )
        )
    for a, b in (("lon", "lat"), ("easting", "northing")):
        if (a in cols) != (b in cols):
            have, miss = (a, b) if a in cols else (b, a)
            problems.append(
                Problem(label, None, miss, "", f"column '{have}' is given but '{miss}' is missing")
            )
    if any(p.row is None for p in problems):
        raise DataValidationError(problems)

    def text(col: str) -> list[str]:
        if col not in cols:
            return [""] * len(frame)
        return [cell_text(v) for v in frame[cols[col]].tolist()]

    values = {c: text(c) for c in _SCHEMA - _DERIVED}
    n = len(frame)
    records: list[dict[str, object]] = []
    seen_ids: dict[str, int] = {}
    code_point = postcodes
    iterator = tqdm(range(n), desc=label, disable=not verbose)
    for i in iterator:
        if blank[i]:
            continue
        row = i + 1
        rec: dict[str, object] = {}
        # asset id
        if "asset_id" in cols:
            aid = values["asset_id"][i]
            if not aid:
                problems.append(Problem(label, row, cols["asset_id"], "", "missing asset id"))
        else:
            aid = f"{_slug(Path(label).stem)}-{row:04d}"
        if aid:
            if aid in seen_ids:
                problems.append(
                    Problem(
                        label,
                        row,
                        cols.get("asset_id", "asset_id"),
                        aid,
                        f"duplicate asset id (first on row {seen_ids[aid]})",
                    )
                )
            else:
                seen_ids[aid] = row
        rec["asset_id"] = aid
        # name and category
        name = values["name"][i]
        if not name:
            problems.append(Problem(label, row, cols["name"], "", "missing name"))
        rec["name"] = name
        raw_cat = values["category"][i]
        cat = normalise_category(raw_cat)
        if cat is None:
            reason = (
                "missing category"
                if not raw_cat
                else (
                    "unknown category; use one of the council's 14 categories "
                    f"({', '.join(settings.CATEGORIES)}) or a synonym in CATEGORY_SYNONYMS"
                )
            )
            problems.append(Problem(label, row, cols["category"], raw_cat, reason))
        rec["category"] = cat or raw_cat
        for c in ("subtype", "address", "source_date", "licence", "geocode", "notes"):
            rec[c] = values[c][i]
        rec["source"] = values["source"][i] or label
        rec["source_record_id"] = values["source_record_id"][i] or f"row {row}"
        # postcode
        tried = False
        pc_raw = values["postcode"][i]
        pc = normalise_postcode(pc_raw) if pc_raw else None
        if pc_raw and pc is None:
            problems.append(
                Problem(label, row, cols["postcode"], pc_raw, "not a valid UK postcode")
            )
            tried = True  # the location problem is the postcode itself
        rec["postcode"] = pc or ""
        # location: lon/lat, then easting/northing, then postcode
        loc: _Located | None = None
        if has_ll and (values["lon"][i] or values["lat"][i]):
            tried = True
            loc = _locate_lonlat(
                values["lon"][i], values["lat"][i], label, row, (cols["lon"], cols["lat"]), problems
            )
        elif has_en and (values["easting"][i] or values["northing"][i]):
            tried = True
            loc = _locate_bng(
                values["easting"][i],
                values["northing"][i],
                label,
                row,
                (cols["easting"], cols["northing"]),
                problems,
            )
        elif pc:
            tried = True
            if code_point is None:
                code_point = load_postcodes(data_dir=data_dir)
            if pc in code_point.index:
                hit = code_point.loc[pc]
                loc = _Located(
                    float(hit["easting"]),
                    float(hit["northing"]),
                    "postcode centroid (Code-Point Open)",
                )
            else:
                problems.append(
                    Problem(
                        label,
                        row,
                        cols["postcode"],
                        pc_raw,
                        "unknown postcode: not in Code-Point Open (the bundle holds the LU "
                        "area), so the row cannot be located; give lon/lat or "
                        "easting/northing, or correct the postcode",
                    )
                )
        if not tried:
            problems.append(
                Problem(
                    label,
                    row,
                    cols.get("lon", cols.get("easting", cols.get("postcode", "lon/lat"))),
                    "",
                    "no location: lon/lat, easting/northing and postcode are all empty",
                )
            )
        if loc is not None:
            rec["easting"], rec["northing"] = loc.easting, loc.northing
            rec["geocode"] = rec["geocode"] or loc.method
        else:
            rec["easting"] = rec["northing"] = np.nan
        records.append(rec)
    if problems:
        raise DataValidationError(problems)
    out = pd.DataFrame.from_records(records)
    ok = out["easting"].notna()
    out = out[ok].copy()
    lon, lat = _TO_WGS84.transform(out["easting"].to_numpy(float), out["northing"].to_numpy(float))
    out["lon"] = np.round(np.asarray(lon, dtype=float), 6)
    out["lat"] = np.round(np.asarray(lat, dtype=float), 6)
    out["easting"] = out["easting"].astype(float).round(1)
    out["northing"] = out["northing"].astype(float).round(1)
    gdf = gpd.GeoDataFrame(
        out, geometry=gpd.points_from_xy(out["easting"], out["northing"]), crs="EPSG:27700"
    ).to_crs(settings.crs)
    gdf = _assign_wards(
        gdf, wards if wards is not None else load_wards(year=2023, data_dir=data_dir)
    )
    return _finish(gdf.set_index("asset_id"))


def _assign_wards(gdf: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    wards = wards.to_crs(gdf.crs)
    right = gpd.GeoDataFrame(
        {"_ward_code": wards.index.astype(str), "_ward_name": wards["ward_name"].astype(str)},
        geometry=wards.geometry.values,
        crs=wards.crs,
    )
    joined = gdf[[gdf.geometry.name]].sjoin(right, how="left", predicate="intersects")
    joined = joined[~joined.index.duplicated(keep="first")]
    gdf = gdf.copy()
    gdf["ward_code"] = joined["_ward_code"].fillna("").astype(str).to_numpy()
    gdf["ward_name"] = joined["_ward_name"].fillna("").astype(str).to_numpy()
    gdf["in_borough"] = gdf["ward_code"] != ""
    return gdf


def _finish(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    gdf.index = gdf.index.astype(str)
    gdf.index.name = "asset_id"
    for c in (*REGISTER_COLUMNS[1:], *_EXTRA_COLUMNS):
        if c not in gdf.columns:
            gdf[c] = ""
    text_cols = [
        c
        for c in (*REGISTER_COLUMNS[1:], *_EXTRA_COLUMNS)
        if c not in {"lon", "lat", "easting", "northing", "in_borough"}
    ]
    for c in text_cols:
        gdf[c] = gdf[c].fillna("").astype(str)
    gdf["in_borough"] = gdf["in_borough"].astype(bool)
    cols = [*REGISTER_COLUMNS[1:], *_EXTRA_COLUMNS, gdf.geometry.name]
    return gdf[cols]


def read_register(
    path: str | Path,
    *,
    columns: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
    layer: str | None = None,
    postcodes: gpd.GeoDataFrame | None = None,
    wards: gpd.GeoDataFrame | None = None,
    data_dir: Path | None = None,
) -> gpd.GeoDataFrame:
    """Read and validate a council asset register in any common shape.

    Formats: CSV (UTF-8, UTF-8 with BOM, or Windows-1252 as saved by Excel, detected),
    XLSX, GeoJSON and GeoPackage. Column names are matched to the register schema
    case-insensitively, with common aliases ("Asset Name", "Latitude", "Post Code");
    ``columns`` maps anything else.

    Location, in order of preference: ``lon``/``lat``; ``easting``/``northing`` (BNG);
    the postcode, geocoded to its Code-Point Open centroid. Coordinates are checked:
    swapped lon/lat, BNG metres in lon/lat columns (and the reverse), non-numeric
    values and points outside Great Britain are reported with the fix.

    Columns that look like personal data (phone, e-mail, contact names; see
    :func:`is_personal_column`) are dropped on reading; mapping one with ``columns``
    is reported as a problem.

    Parameters
    ----------
    path
        The register file.
    columns
        Maps the file's column names to register names, e.g.
        ``{"Asset Type": "category", "X": "easting", "Y": "northing"}``.
    sheet
        Worksheet (name or 0-based position) for XLSX files.
    layer
        Layer for multi-layer GeoPackages.
    postcodes
        Postcode points indexed by normalised postcode with ``easting`` and
        ``northing`` (as from :func:`~nwm_geo.data.postcodes.load_postcodes`); loaded
        from the bundle when needed and not given.
    wards
        Ward polygons indexed by ``ward_code`` with ``ward_name``; defaults to
        :func:`~nwm_geo.data.boundaries.load_wards` (2023 pattern).
    data_dir
        The imported bundle folder; defaults to :func:`nwm_geo.settings.raw_dir`.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``asset_id`` (from the file, or ``<file-stem-slug>-<row:04d>``),
        columns :data:`REGISTER_COLUMNS` (without ``asset_id``), ``geocode``,
        ``notes`` and point ``geometry`` in :data:`nwm_geo.settings.crs`.
        ``ward_code``/``ward_name`` come from point in polygon against ``wards``;
        assets outside every ward are kept with ``in_borough = False`` and empty ward.

    Raises
    ------
    DataValidationError
        Listing every problem found (file, row, column, value, reason): empty file,
        missing columns, a personal-data column mapped with ``columns``, undecodable
        text, non-numeric or misplaced coordinates, points outside Great Britain,
        invalid or unknown postcodes, unknown categories, missing or duplicate
        asset ids.
    """
    path = Path(path)
    frame, problems = read_table(path, sheet=sheet, layer=layer)
    return _register_from_frame(
        frame,
        path.name,
        columns=columns,
        postcodes=postcodes,
        wards=wards,
        data_dir=data_dir,
        problems=problems,
    )


# ---------------------------------------------------------------------------
# The open-data register
# ---------------------------------------------------------------------------

#: Where each open file comes from (for files without their own source columns) and
#: its rank when duplicates are merged (lower wins). Harmonised files carry
#: ``source``, ``source_date`` and ``licence`` per row; their entry here gives the rank
#: only. Dedicated registers outrank the FSA food-hygiene extracts, whose coordinates
#: are also mostly postcode-based and whose names are sometimes taken from addresses.
OPEN_SOURCES: dict[str, dict[str, str]] = {
    "hmcts_fact_courts_luton.csv": {"prefix": "court", "rank": "1"},
    "nhs_choices_hospitals_2018_luton.csv": {"prefix": "nhschoices", "rank": "2"},
    "nhs_ods_epraccur_active_luton_2025-09.csv": {
        "prefix": "ods",
        "rank": "3",
        "source": "NHS ODS epraccur (GP practices and prescribing cost centres), via "
        "Priyanshpaila/Uk_frontend @ 4337145a2b44e6ff780f2d766b55e117366e23e6 : data/epraccur.csv",
        "source_date": "2025-09-01 (latest open date in the extract)",
        "licence": "OGL v3 (NHS ODS)",
    },
    "gias_schools_open_luton_2025-05.csv": {
        "prefix": "gias",
        "rank": "4",
        "source": "DfE Get Information About Schools (edubasealldata20250524, open "
        "establishments), via "
        "cwthom/hack25usefuldata @ ac00fc579549da8d5c48a4736b5b4162fcaebb32 : data/gias.rda",
        "source_date": "2025-05-24",
        "licence": "OGL v3 (DfE)",
    },
    "libraries_luton_librarieshacked.csv": {
        "prefix": "library",
        "rank": "5",
        "source": "Libraries Hacked public libraries dataset, "
        "LibrariesHacked/librarydata-db @ a6c04ea341a814274f44c17bd8f306132213ec09 : "
        "data/libraries/luton.csv",
        "source_date": "not stated (repository snapshot a6c04ea)",
        "licence": "OGL (DCMS / Libraries Hacked public libraries dataset)",
    },
    "fire_stations_homeoffice_luton_area.csv": {
        "prefix": "fire",
        "rank": "6",
        "source": "Home Office fire stations dataset, openregister/fire-data @ "
        "50294da7e29160a9927b2ce88ff515606d028315 : lists/home-office/fire-stations-dataset.ods",
        "source_date": "2018-02",
        "licence": "OGL v3 (Home Office)",
    },
    "police_stations_datapoliceuk_2018_luton.csv": {"prefix": "police", "rank": "7"},
    "council_offices_localdirectgov_luton.csv": {"prefix": "council", "rank": "8"},
    "arts_council_npo_2014-15_luton.csv": {"prefix": "npo", "rank": "9"},
    "mosques_muslimsinbritain_2016_luton.csv": {
        "prefix": "mosque",
        "rank": "10",
        "source": "MuslimsInBritain.org mosque directory snapshot, via "
        "ummahtographers/muslim_lads @ "
        "260ede7d951dcdc4363c935bc0e5eb1b1f8e713e : data/mosques.csv",
        "source_date": "2016-08",
        "licence": "Data © MuslimsInBritain.org (M. Naqshbandi); reuse terms unclear "
        "(repo GPL-3); reference data",
    },
    "places_of_worship_osm_islammap_2026-08_luton.csv": {"prefix": "osm-pow", "rank": "11"},
    "fhrs_2020-11_luton.csv": {"prefix": "fhrs2020", "rank": "12"},
    "fhrs_2015_robinl_luton.csv": {"prefix": "fhrs2015", "rank": "13"},
}

#: NHS ODS epraccur ``prescribing_setting`` -> (register category or None to drop, reason).
ODS_SETTING_RULES: dict[int, tuple[str | None, str]] = {
    4: ("GP / Medical Centre", "GP practice: a surgery the public visits"),
    12: ("Health", "urgent and emergency care site (the Luton urgent treatment centre)"),
    3: ("Health", "walk-in centre / out-of-hours site"),
    8: (
        "Health",
        "public health service with its own premises (drug service, sexual health clinic)",
    ),
    9: ("Health", "community health service with its own premises"),
    26: (None, "Primary Care Network: an organisation of GP practices, not a site"),
    10: (
        None,
        "hospital prescribing cost centre, not a site (the hospital itself comes from NHS Choices)",
    ),
    0: (None, "'Other' prescribing code (a team or programme), not a site the public visits"),
    27: (
        None,
        "pharmacy: not one of the council's 14 categories, and epraccur lists only one of "
        "Luton's many pharmacies, so counting it would be arbitrary",
    ),
}

#: Per-record ODS overrides, org_code -> (category or None to drop, reason). Checked
#: before :data:`ODS_SETTING_RULES`.
ODS_RECORD_RULES: dict[str, tuple[str | None, str]] = {
    "Y08635": (
        None,
        "CCS Rapid Response and Virtual Ward: a home-visiting team based in offices at The Poynt, "
        "not a site the public visits",
    ),
}

#: ODS records at this postcode (Luton and Dunstable Hospital, LU4 0DZ) are services
#: inside the hospital, not sites of their own; the hospital is one asset (NHS Choices).
ODS_HOSPITAL_POSTCODE: str = "LU4 0DZ"

#: Library rules: (rule, reason).
LIBRARY_RULES: dict[str, str] = {
    "closed": "a value in 'Year closed' means the library has closed (Sundon Park, 2014); dropped",
    "co-located": "a library co-located with a community centre is kept as a Library; "
    "the centre is "
    "its own asset when another source lists it",
}

_MERGE_MAX_M = 30.0
_NAME_SIM_MIN = 0.5
_SAME_NAME_MAX_M = 250.0

#: Columns of the merge log returned by :func:`build_open_register`.
MERGE_LOG_COLUMNS: tuple[str, ...] = (
    "kept_asset_id",
    "dropped_asset_id",
    "kept_name",
    "dropped_name",
    "category",
    "rule",
    "name_similarity",
    "distance_m",
    "kept_source",
    "dropped_source",
)

_STOP = {
    "the",
    "of",
    "and",
    "for",
    "at",
    "in",
    "on",
    "luton",
    "ltd",
    "limited",
    "uk",
    "cic",
    "centre",
    "center",
    "church",
    "community",
    "hall",
    "house",
    "road",
    "street",
    "lane",
    "avenue",
    "st",
    "saint",
    "practice",
    "surgery",
    "medical",
    "school",
    "nhs",
    "trust",
}


def _tokens(name: str) -> set[str]:
    s = re.sub(r"[^a-z0-9 ]+", " ", name.lower().replace("&", " and ").replace("'", ""))
    return {t for t in s.split() if t not in _STOP}


def name_similarity(a: str, b: str) -> float:
    """Similarity of two asset names, 0 to 1.

    The larger of: the share of the shorter name's distinctive words found in the
    other, and the :class:`difflib.SequenceMatcher` ratio of the sorted distinctive
    words. Generic words ("church", "centre", "Luton", "the"...) are ignored; names
    made only of generic words are compared whole.

    Parameters
    ----------
    a, b
        Names.

    Returns
    -------
    float
        1 for the same name; 0.5 or more is treated as "similar" when de-duplicating.
    """
    ta, tb = _tokens(a), _tokens(b)
    if ta and tb:
        overlap = len(ta & tb) / min(len(ta), len(tb))
        ratio = difflib.SequenceMatcher(None, " ".join(sorted(ta)), " ".join(sorted(tb))).ratio()
    else:
        overlap = 0.0
        norm_a = " ".join(re.sub(r"[^a-z0-9 ]+", " ", a.lower()).split())
        norm_b = " ".join(re.sub(r"[^a-z0-9 ]+", " ", b.lower()).split())
        ratio = difflib.SequenceMatcher(None, norm_a, norm_b).ratio()
    return float(max(ratio, overlap))


def _frame_gias(
    df: pd.DataFrame,
) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    out = pd.DataFrame(
        {
            "asset_id": "gias-" + df["urn"],
            "name": df["establishment_name"],
            "category": "Education",
            "subtype": df["establishment_type"] + " (" + df["education_phase"] + ")",
            "address": "",
            "postcode": "",
            "easting": df["easting"],
            "northing": df["northing"],
            "source_record_id": "URN " + df["urn"],
            "geocode": "source (GIAS easting/northing)",
            "notes": "",
        }
    )
    return out, []


def _frame_ods(
    df: pd.DataFrame,
) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    keep: list[dict[str, str]] = []
    dropped: list[dict[str, str]] = []
    for r in df.to_dict("records"):
        code = r["org_code"]
        setting = int(r["prescribing_setting"]) if r["prescribing_setting"].isdigit() else -1
        if code in ODS_RECORD_RULES:
            cat, reason = ODS_RECORD_RULES[code]
            rule = f"ODS record {code}"
        elif (
            normalise_postcode(r["postcode"]) == ODS_HOSPITAL_POSTCODE
            and ODS_SETTING_RULES.get(setting, (None, ""))[0] is not None
        ):
            cat, reason = (
                None,
                (
                    "service inside Luton and Dunstable Hospital (LU4 0DZ), not a site of its own; "
                    "the hospital is one asset"
                ),
            )
            rule = "ODS at hospital postcode"
        elif setting in ODS_SETTING_RULES:
            cat, reason = ODS_SETTING_RULES[setting]
            rule = f"ODS setting {setting}"
        else:
            cat, reason = None, f"prescribing setting {setting} has no rule"
            rule = "ODS unknown setting"
        if cat is None:
            dropped.append(
                {"source_file": "", "record": f"{code} {r['name']}", "rule": rule, "reason": reason}
            )
            continue
        address = ", ".join(x for x in (r["addr1"], r["addr2"], r["addr3"], r["addr4"]) if x)
        keep.append(
            {
                "asset_id": f"ods-{code}",
                "name": r["name"].title().replace("'S ", "'s "),
                "category": cat,
                "subtype": f"{r['setting_label']} (ODS setting {setting})",
                "address": address,
                "postcode": r["postcode"],
                "easting": r["easting"],
                "northing": r["northing"],
                "source_record_id": f"ODS org code {code}; opened {r['open_date']}",
                "geocode": "postcode centroid (Code-Point Open 2025-10)",
                "notes": reason,
            }
        )
    return pd.DataFrame(keep), dropped


def _frame_libraries(
    df: pd.DataFrame,
) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    keep: list[dict[str, str]] = []
    dropped: list[dict[str, str]] = []
    for i, r in enumerate(df.to_dict("records"), start=1):
        if r["Year closed"]:
            dropped.append(
                {
                    "source_file": "",
                    "record": r["Library name"],
                    "rule": "library closed",
                    "reason": LIBRARY_RULES["closed"].replace(
                        "Sundon Park, 2014", f"closed {r['Year closed']}"
                    ),
                }
            )
            continue
        kind = {"CL": "council-run library", "LAL": "library (LAL)"}.get(
            r["Library type"], r["Library type"]
        )
        subtype = kind + (
            f"; co-located with {r['Co-located with']}" if r["Co-located with"] else ""
        )
        uprn = r["Unique property reference number"]
        keep.append(
            {
                "asset_id": f"library-{i:04d}",
                "name": r["Library name"],
                "category": "Library",
                "subtype": subtype,
                "address": r["Address 1"],
                "postcode": r["Postcode"],
                "easting": r["easting"],
                "northing": r["northing"],
                "source_record_id": f"UPRN {uprn}" if uprn else f"row {i}",
                "geocode": r["geocode"],
                "notes": "",
            }
        )
    return pd.DataFrame(keep), dropped


def _frame_fire(
    df: pd.DataFrame,
) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    out = pd.DataFrame(
        {
            "asset_id": [f"fire-{i:04d}" for i in range(1, len(df) + 1)],
            "name": df["station_name"].where(
                df["station_name"].str.contains("fire station", case=False),
                df["station_name"] + " Fire Station",
            ),
            "category": "Fire and rescue",
            "subtype": "fire station (" + df["fire_service"] + " Fire and Rescue Service)",
            "address": df["address"],
            "postcode": df["postcode"],
            "easting": df["easting"],
            "northing": df["northing"],
            "source_record_id": [f"row {i}" for i in range(1, len(df) + 1)],
            "geocode": "source (Home Office easting/northing)",
            "notes": "",
        }
    )
    return out, []


def _frame_mosques(
    df: pd.DataFrame,
) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    n = len(df)
    notes = [
        (f"capacity {c}; " if c else "") + "directory dated 2016-08"
        for c in df["capacity"].tolist()
    ]
    subtype = [
        "mosque / prayer hall" + (f" (MuslimsInBritain tags: {t})" if t else "")
        for t in df["tags"].tolist()
    ]
    out = pd.DataFrame(
        {
            "asset_id": [f"mosque-{i:04d}" for i in range(1, n + 1)],
            "name": df["name"],
            "category": "Religious Institution",
            "subtype": subtype,
            "address": df["address"] + ", Luton",
            "postcode": "",
            "lon": df["lon"],
            "lat": df["lat"],
            "source_record_id": [f"row {i}" for i in range(1, n + 1)],
            "geocode": "source (MuslimsInBritain lon/lat)",
            "notes": notes,
        }
    )
    return out, []


_ADAPTERS: dict[str, Callable[[pd.DataFrame], tuple[pd.DataFrame, list[dict[str, str]]]]] = {
    "gias_schools_open_luton_2025-05.csv": _frame_gias,
    "nhs_ods_epraccur_active_luton_2025-09.csv": _frame_ods,
    "libraries_luton_librarieshacked.csv": _frame_libraries,
    "fire_stations_homeoffice_luton_area.csv": _frame_fire,
    "mosques_muslimsinbritain_2016_luton.csv": _frame_mosques,
}


def _load_open_sources(
    data_dir: Path | None, verbose: bool
) -> tuple[list[gpd.GeoDataFrame], pd.DataFrame]:
    postcodes = load_postcodes(data_dir=data_dir)
    wards = load_wards(year=2023, data_dir=data_dir)
    parts: list[gpd.GeoDataFrame] = []
    excluded: list[dict[str, str]] = []
    folder = require_raw("assets", data_dir=data_dir)
    files = sorted(p.name for p in folder.glob("*.csv"))
    unknown = [f for f in files if f not in OPEN_SOURCES]
    if unknown:
        raise NwmGeoError(
            f"asset file(s) with no entry in OPEN_SOURCES: {', '.join(unknown)}; "
            "add a rule for each"
        )
    for name in tqdm(files, desc="asset files", disable=not verbose):
        meta = OPEN_SOURCES[name]
        frame, problems = read_table(folder / name)
        if problems:
            raise DataValidationError(problems)
        if name in _ADAPTERS:
            frame, dropped = _ADAPTERS[name](frame)
            for d in dropped:
                d["source_file"] = name
            excluded.extend(dropped)
            frame = frame.assign(
                source=meta["source"], source_date=meta["source_date"], licence=meta["licence"]
            )
        else:
            frame = frame.assign(
                asset_id=[f"{meta['prefix']}-{i:04d}" for i in range(1, len(frame) + 1)]
            )
        part = _register_from_frame(
            frame,
            name,
            columns=None,
            postcodes=postcodes,
            wards=wards,
            data_dir=data_dir,
        )
        part["_rank"] = int(meta["rank"])
        part["_file"] = name
        parts.append(part)
    return parts, pd.DataFrame(excluded, columns=["source_file", "record", "rule", "reason"])


def open_register_exclusions(*, data_dir: Path | None = None) -> pd.DataFrame:
    """List the open-data records left out of :func:`build_open_register`, with why.

    Parameters
    ----------
    data_dir
        The imported bundle folder; defaults to :func:`nwm_geo.settings.raw_dir`.

    Returns
    -------
    pandas.DataFrame
        Columns ``source_file``, ``record``, ``rule`` and ``reason``, one row per
        source record that is not an asset site (PCNs, services inside the hospital,
        the closed library...). Merged duplicates are in the merge log instead.
    """
    return _load_open_sources(data_dir, False)[1]


def _dedupe(reg: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    ids = reg.index.to_numpy()
    xy = np.column_stack([reg["easting"].to_numpy(float), reg["northing"].to_numpy(float)])
    parent = list(range(len(reg)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    pair_info: dict[tuple[int, int], tuple[str, float, float]] = {}
    names = reg["name"].tolist()
    cats = reg["category"].tolist()
    pcs = reg["postcode"].tolist()
    files = reg["_file"].tolist()
    for i in range(len(reg)):
        d = np.hypot(xy[:, 0] - xy[i, 0], xy[:, 1] - xy[i, 1])
        for j in (int(x) for x in np.nonzero(d <= _SAME_NAME_MAX_M)[0]):
            if j <= i or files[i] == files[j] or cats[i] != cats[j]:
                continue
            sim = name_similarity(names[i], names[j])
            rule = ""
            if pcs[i] and pcs[i] == pcs[j] and sim >= _NAME_SIM_MIN:
                rule = "same postcode and similar name"
            elif d[j] <= _MERGE_MAX_M and sim >= _NAME_SIM_MIN:
                rule = f"within {_MERGE_MAX_M:g} m and similar name"
            elif sim >= 0.9:
                rule = f"very similar name (>= 0.9) within {_SAME_NAME_MAX_M:g} m"
            if rule:
                pair_info[(i, j)] = (rule, float(d[j]), sim)
                parent[find(j)] = find(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(reg)):
        groups.setdefault(find(i), []).append(i)
    rank = reg["_rank"].to_numpy(int)
    quality = np.where(reg["geocode"].str.startswith("source").to_numpy(bool), 0, 1)
    drop: list[int] = []
    log: list[dict[str, object]] = []
    linked: dict[int, set[int]] = {}
    for i, j in pair_info:
        linked.setdefault(i, set()).add(j)
        linked.setdefault(j, set()).add(i)
    for members in groups.values():
        if len(members) == 1:
            continue
        # Split the group into sites, best record first: a record joins the first site
        # holding a record it is linked to and none from its own file; otherwise it is
        # a site of its own. So two records of one file are never merged, even through
        # a chain of links via another file.
        sites: list[list[int]] = []
        for k in sorted(members, key=lambda k: (rank[k], quality[k], ids[k])):
            home = next(
                (
                    site
                    for site in sites
                    if all(files[m] != files[k] for m in site)
                    and any(m in linked.get(k, ()) for m in site)
                ),
                None,
            )
            if home is None:
                sites.append([k])
            else:
                home.append(k)
        for site in sites:
            kept = site[0]
            for k in sorted(site[1:]):
                a, b = min(k, kept), max(k, kept)
                rule, dist, sim = pair_info.get(
                    (a, b),
                    (
                        "same group (transitive)",
                        float(np.hypot(*(xy[k] - xy[kept]))),
                        name_similarity(names[k], names[kept]),
                    ),
                )
                drop.append(k)
                log.append(
                    {
                        "kept_asset_id": ids[kept],
                        "dropped_asset_id": ids[k],
                        "kept_name": names[kept],
                        "dropped_name": names[k],
                        "category": cats[kept],
                        "rule": rule,
                        "name_similarity": round(sim, 3),
                        "distance_m": round(dist, 1),
                        "kept_source": files[kept],
                        "dropped_source": files[k],
                    }
                )
    out = reg.drop(index=ids[drop])
    merge_log = pd.DataFrame(log, columns=list(MERGE_LOG_COLUMNS))
    return out, merge_log


def build_open_register(
    *, data_dir: Path | None = None, verbose: bool = False
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Assemble the closest honest register from every open asset file in the bundle.

    Rules (each kept in a module constant with its reason):

    - GIAS schools: every open establishment -> Education.
    - NHS ODS epraccur: by prescribing setting (:data:`ODS_SETTING_RULES`, with
      :data:`ODS_RECORD_RULES` first): GP practices -> GP / Medical Centre; the urgent
      treatment centre and community/public health services with their own premises
      -> Health; PCNs, hospital prescribing codes, teams without a site and the one
      pharmacy are dropped; services at the hospital's postcode (LU4 0DZ) are part of
      the hospital and dropped.
    - Libraries: the library with a closure year (Sundon Park, 2014) is dropped.
    - Fire stations: all six kept; the four outside Luton have ``in_borough = False``.
    - Mosques (MuslimsInBritain 2016) -> Religious Institution; phone dropped.
    - The harmonised files (FHRS, courts, police, NHS Choices, Arts Council, council
      offices) are read as registers with their own categories and provenance.
    - Phone numbers and named contacts are never read (:func:`is_personal_column`).
    - Duplicates across files (never within one file) of the same category are
      merged when they share a postcode and have similar names
      (:func:`name_similarity` >= 0.5), or lie within 30 m with similar names, or have
      a very similar name (>= 0.9) within 250 m. The record from the better source is kept
      (:data:`OPEN_SOURCES` rank; then source coordinates over postcode centroids).

    Parameters
    ----------
    data_dir
        The imported bundle folder; defaults to :func:`nwm_geo.settings.raw_dir`.
    verbose
        Show progress over the files.

    Returns
    -------
    tuple of (geopandas.GeoDataFrame, pandas.DataFrame)
        The register (as :func:`read_register`, sorted by ``asset_id``), and the merge
        log with one row per dropped duplicate (:data:`MERGE_LOG_COLUMNS`).
        Records dropped by rule are listed by :func:`open_register_exclusions`.
    """
    parts, _ = _load_open_sources(data_dir, verbose)
    reg = pd.concat(parts)
    if reg.index.duplicated().any():  # pragma: no cover - prefixes are distinct
        raise NwmGeoError("duplicate asset ids across open files")
    reg = gpd.GeoDataFrame(reg, geometry="geometry", crs=parts[0].crs)
    reg, merge_log = _dedupe(reg)
    reg = reg.drop(columns=["_rank", "_file"]).sort_index()
    return _finish(reg), merge_log


# ---------------------------------------------------------------------------
# Summaries and output
# ---------------------------------------------------------------------------


def reconciliation(register: gpd.GeoDataFrame | pd.DataFrame) -> pd.DataFrame:
    """Compare the register with the council's mapped counts, category by category.

    Parameters
    ----------
    register
        A register (``category`` and ``in_borough`` columns).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``category`` in the council's order plus a ``TOTAL`` row, with
        ``council_count`` (:data:`nwm_geo.settings.COUNCIL_REGISTER_COUNTS`),
        ``register_count`` (in-borough rows only) and ``gap`` (council − register).
    """
    council = pd.Series(settings.COUNCIL_REGISTER_COUNTS, dtype=int)
    inside = register[register["in_borough"].astype(bool)]
    counts = inside["category"].value_counts().reindex(council.index).fillna(0).astype(int)
    table = pd.DataFrame({"council_count": council, "register_count": counts})
    table["gap"] = table["council_count"] - table["register_count"]
    table.loc["TOTAL"] = table.sum()
    table.index.name = "category"
    return table.astype(int)


def ward_table(
    wards: gpd.GeoDataFrame, register: gpd.GeoDataFrame | pd.DataFrame, points: pd.DataFrame
) -> pd.DataFrame:
    """Population, area and assets of each ward, with one count column per category.

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
    inside = register[register["in_borough"].astype(bool)]
    pop = points.groupby("ward_code")["population"].sum()
    out = pd.DataFrame(index=wards.index.copy())
    out.index.name = "ward_code"
    out["ward_name"] = wards["ward_name"]
    out["population"] = pop.reindex(out.index).fillna(0).astype(int)
    out["assets"] = inside["ward_code"].value_counts().reindex(out.index).fillna(0).astype(int)
    area = wards["area_km2"] if "area_km2" in wards.columns else wards.geometry.area / 1e6
    out["area_km2"] = area.astype(float).round(3)
    by_cat = pd.crosstab(inside["ward_code"], inside["category"])
    for cat in settings.CATEGORIES:
        col = by_cat[cat] if cat in by_cat.columns else pd.Series(dtype=int)
        out[cat] = col.reindex(out.index).fillna(0).astype(int)
    return out


def write_register(register: gpd.GeoDataFrame, path_csv: str | Path, path_gpkg: str | Path) -> None:
    """Write the register as CSV (columns :data:`REGISTER_COLUMNS`) and GeoPackage.

    Both files are written to temporary names and moved into place only when both
    were written (:func:`nwm_geo._io.atomic_path`).

    Parameters
    ----------
    register
        The register, indexed by ``asset_id``.
    path_csv
        Destination CSV (UTF-8, ``asset_id`` first).
    path_gpkg
        Destination GeoPackage (layer ``register``, EPSG:27700), with ``geocode`` and
        ``notes`` as well.
    """
    frame = register.reset_index()
    missing = [c for c in REGISTER_COLUMNS if c not in frame.columns]
    if missing:
        raise NwmGeoError(f"register lacks column(s): {', '.join(missing)}")
    extra = [c for c in _EXTRA_COLUMNS if c in frame.columns]
    gdf = gpd.GeoDataFrame(
        frame[[*REGISTER_COLUMNS, *extra]], geometry=frame.geometry.values, crs=register.crs
    ).to_crs("EPSG:27700")
    with atomic_path(path_csv) as tmp_csv, atomic_path(path_gpkg) as tmp_gpkg:
        pd.DataFrame(frame[list(REGISTER_COLUMNS)]).to_csv(tmp_csv, index=False, encoding="utf-8")
        gdf.to_file(tmp_gpkg, driver="GPKG", layer="register")
