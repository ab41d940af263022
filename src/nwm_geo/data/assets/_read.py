"""Read and validate a register file into the schema; locate every row."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry
from tqdm.auto import tqdm

from nwm_geo import settings
from nwm_geo._checks import checks_crs
from nwm_geo._errors import DataValidationError, Problem
from nwm_geo._safe import is_personal_column, mask_personal_text, strip_commit_hashes
from nwm_geo.areas import Area, load_area
from nwm_geo.data._files import AreaFiles
from nwm_geo.data._tables import cell_text, read_table
from nwm_geo.data.assets._schema import (
    ALIASES,
    BNG_BOUNDS,
    DERIVED,
    EXAMPLE_ID,
    EXTRA_COLUMNS,
    GB_BOUNDS,
    REGISTER_COLUMNS,
    SCHEMA,
    normalise_owner,
    resolve_category,
)
from nwm_geo.data.boundaries import load_wards
from nwm_geo.data.postcodes import load_postcodes, normalise_postcode


@functools.cache
def _transformer(source: str, target: str) -> Transformer:
    """Return a lon/lat-ordered pyproj transformer, built on first use (not at import)."""
    return Transformer.from_crs(source, target, always_xy=True)


#: A register point farther than this from the study area (metres) is a problem: it
#: catches points in another country and swapped coordinates. Assets just outside the
#: area (fire stations within 10 km) are kept with ``inside_area = False``.
MAX_DISTANCE_M: float = 25_000.0

#: A point farther than this (metres) from the centroid of its own postcode is a problem.
MAX_POSTCODE_GAP_M: float = 2_000.0

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # line breaks allowed
_CONTROL_IN_NAME = re.compile(r"[\x00-\x1f\x7f]")


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
    x0, y0, x1, y1 = BNG_BOUNDS
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
            reason = "coordinate is not a number"
            if re.fullmatch(r"\s*-?\d+,\d+\s*", text):
                reason += (
                    " (it has a decimal comma: write it with a decimal point, e.g. "
                    f"{text.strip().replace(',', '.')}, or export the file with '.' as the "
                    "decimal separator)"
                )
            problems.append(Problem(label, row, col, text, reason))
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
        e, n = _transformer("EPSG:4326", "EPSG:27700").transform(lon, lat)
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
    lon, lat = _transformer("EPSG:27700", "EPSG:4326").transform(e, n)
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
        if schema not in SCHEMA:
            problems.append(
                Problem(
                    label,
                    None,
                    file_col,
                    schema,
                    "columns= maps to unknown register column; use one of: "
                    + ", ".join(sorted(SCHEMA)),
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
    for schema, aliases in ALIASES.items():
        if schema in found:
            continue
        for alias in aliases:
            col = by_key.get(" ".join(alias.replace("_", " ").split()))
            if col is not None and col not in used and not is_personal_column(col):
                found[schema] = col
                used.add(col)
                break
    return found


@dataclass
class _Rows:
    """A register table being read: its cells as text, column by column.

    Each check walks one column (or a few that belong together) over every non-blank
    row and records its problems with the row; :meth:`problems` lists them row by row,
    each row's in the order of the checks, as a reader fixing the file goes.
    """

    label: str
    cols: dict[str, str]
    values: dict[str, list[str]]
    blank: list[bool]
    found: list[Problem] = field(default_factory=list)

    def rows(self) -> list[tuple[int, int]]:
        """``(position, row as the spreadsheet shows it)`` of every non-blank row."""
        return [(i, i + 1) for i, b in enumerate(self.blank) if not b]

    def add(self, row: int, col: str, value: str, reason: str) -> None:
        self.found.append(Problem(self.label, row, col, value, reason))

    def problems(self) -> list[Problem]:
        return sorted(self.found, key=lambda p: p.row or 0)  # stable: checks keep order


def _check_columns(
    frame: pd.DataFrame, label: str, columns: Mapping[str, str] | None, problems: list[Problem]
) -> tuple[pd.DataFrame, dict[str, str], list[bool]]:
    """Check the file as a whole: rows, personal-data and duplicate columns, required ones.

    Returns the frame without personal-data columns, the resolved columns and the blank
    rows; raises listing every problem when the file cannot be read row by row.
    """
    # A blank row keeps its place (so row numbers match the file) but is no record.
    blank = [all(cell_text(v) == "" for v in r) for r in frame.itertuples(index=False)]
    if frame.shape[1] == 0 or all(blank):
        if not problems:
            problems.append(Problem(label, None, None, "", "the file has no data rows"))
        raise DataValidationError(problems)
    frame = frame[[c for c in frame.columns if not is_personal_column(str(c))]]
    seen_keys: dict[str, str] = {}
    for c in map(str, frame.columns):
        key = " ".join(c.strip().lower().replace("_", " ").split())
        if key in seen_keys:
            problems.append(
                Problem(
                    label,
                    None,
                    c,
                    "",
                    f"two columns, '{seen_keys[key]}' and '{c}', differ only in case or "
                    "spacing; rename or delete one so it is clear which to read",
                )
            )
        seen_keys.setdefault(key, c)
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
    return frame, cols, blank


def _asset_ids(t: _Rows) -> dict[int, str]:
    """Each row's asset id (the file's, or ``<file-stem-slug>-<row:04d>``), checked."""
    ids: dict[int, str] = {}
    seen: dict[str, int] = {}
    col = t.cols.get("asset_id", "asset_id")
    for i, row in t.rows():
        if "asset_id" in t.cols:
            aid = t.values["asset_id"][i]
            if not aid:
                t.add(row, col, "", "missing asset id")
        else:
            aid = f"{_slug(Path(t.label).stem)}-{row:04d}"
        if aid:
            if aid in seen:
                t.add(row, col, aid, f"duplicate asset id (first on row {seen[aid] + 1})")
            else:
                seen[aid] = row
        if aid == EXAMPLE_ID:
            t.add(row, col, aid, "the register template's example row: delete it before loading")
        if aid and mask_personal_text(aid)[1]:
            t.add(
                row,
                col,
                "",
                "the asset id looks like an e-mail address or a phone number, which is never "
                "published; use the council's own site reference",
            )
        ids[i] = aid
    return ids


def _check_text(t: _Rows) -> None:
    """Names present; no control characters in the name, address, subtype or notes."""
    for i, row in t.rows():
        if not t.values["name"][i]:
            t.add(row, t.cols["name"], "", "missing name")
        for field_ in ("name", "address", "subtype", "notes"):
            pattern = _CONTROL_IN_NAME if field_ == "name" else _CONTROL
            if field_ in t.cols and pattern.search(t.values[field_][i]):
                t.add(
                    row,
                    t.cols[field_],
                    pattern.sub("?", t.values[field_][i]),
                    "contains control characters (a pasted line break, tab or other "
                    "invisible character); remove them",
                )


def _categories(t: _Rows, allowed: tuple[str, ...]) -> dict[int, str | None]:
    """Each row's category in the area's vocabulary (None with a problem when it is not)."""
    cats: dict[int, str | None] = {}
    for i, row in t.rows():
        raw = t.values["category"][i]
        cat, reason = resolve_category(raw, allowed)  # synonyms, "did you mean"
        if cat is None:
            t.add(row, t.cols["category"], raw, reason)
        cats[i] = cat
    return cats


def _owner_types(t: _Rows, cats: dict[int, str | None], area: Area) -> dict[int, str | None]:
    """Each row's owner type (:func:`_owner_type`), a problem when it is unknown."""
    owners: dict[int, str | None] = {}
    for i, row in t.rows():
        owners[i] = _owner_type(t.values["owner_type"][i], cats[i], area)
        if owners[i] is None:
            t.add(
                row,
                t.cols["owner_type"],
                t.values["owner_type"][i],
                "unknown owner type; use one of "
                + ", ".join(f"'{o}'" for o in settings.OWNER_TYPES)
                + " (or leave it empty for the area profile's owner of the category)",
            )
    return owners


def _files(area: Area | None, data_dir: Path | None) -> AreaFiles:
    """Return the area's files: the profile (default Luton) in ``data_dir`` (or ``data/raw``)."""
    folder = Path(data_dir) if data_dir is not None else settings.raw_dir()
    return AreaFiles(load_area(area), folder)


@dataclass
class Where:
    """What reading a register needs of its area: the profile, its wards and postcodes.

    Wards and postcodes not given are loaded from ``data_dir`` on first use; one
    ``Where`` serves every file of the open-data register (the wards are unioned once).
    """

    area: Area
    data_dir: Path | None
    wards: gpd.GeoDataFrame | None = None
    postcodes: gpd.GeoDataFrame | None = None
    _study_area: BaseGeometry | None = field(default=None, init=False, repr=False)
    _ward_join: gpd.GeoDataFrame | None = field(default=None, init=False, repr=False)

    def ward_shapes(self) -> gpd.GeoDataFrame:
        if self.wards is None:
            self.wards = load_wards(_files(self.area, self.data_dir))
        return self.wards

    def study_area(self) -> BaseGeometry:
        """Return the area's wards as one shape (British National Grid)."""
        if self._study_area is None:
            self._study_area = self.ward_shapes().to_crs("EPSG:27700").geometry.union_all()
        return self._study_area

    def ward_join(self, crs: Any) -> gpd.GeoDataFrame:
        """Return the wards as a join's right side in ``crs``, projected and indexed once."""
        if self._ward_join is None or self._ward_join.crs != crs:
            w = self.ward_shapes().to_crs(crs)
            cols = {"_ward_code": w.index.astype(str), "_ward_name": w["ward_name"].astype(str)}
            self._ward_join = gpd.GeoDataFrame(cols, geometry=w.geometry.values, crs=w.crs)
        return self._ward_join

    def code_point(self) -> gpd.GeoDataFrame:
        if self.postcodes is None:
            self.postcodes = load_postcodes(_files(self.area, self.data_dir))
        return self.postcodes


def _postcodes(t: _Rows) -> dict[int, str | None]:
    """Each row's normalised postcode (None when empty or not a valid UK postcode)."""
    out: dict[int, str | None] = {}
    for i, row in t.rows():
        raw = t.values["postcode"][i]
        out[i] = normalise_postcode(raw) if raw else None
        if raw and out[i] is None:
            t.add(row, t.cols["postcode"], raw, "not a valid UK postcode")
    return out


def _from_postcode(t: _Rows, i: int, row: int, pc: str, where: Where) -> _Located | None:
    code_point = where.code_point()
    if pc in code_point.index:
        hit = code_point.loc[pc]
        return _Located(
            float(hit["easting"]), float(hit["northing"]), "postcode centroid (Code-Point Open)"
        )
    t.add(
        row,
        t.cols["postcode"],
        t.values["postcode"][i],
        "unknown postcode: not in Code-Point Open ("
        + (where.area.postcode_note or "the bundle's postcodes")
        + "), so the row cannot be located; give lon/lat or "
        "easting/northing, or correct the postcode",
    )
    return None


def _locate(t: _Rows, i: int, row: int, pc: str | None, where: Where) -> _Located | None:
    """Locate one row: lon/lat, then easting/northing, then its postcode's centroid."""
    v, cols = t.values, t.cols
    has_ll = "lon" in cols and "lat" in cols
    has_en = "easting" in cols and "northing" in cols
    if has_ll and (v["lon"][i] or v["lat"][i]):
        return _locate_lonlat(
            v["lon"][i], v["lat"][i], t.label, row, (cols["lon"], cols["lat"]), t.found
        )
    if has_en and (v["easting"][i] or v["northing"][i]):
        pair = (cols["easting"], cols["northing"])
        return _locate_bng(v["easting"][i], v["northing"][i], t.label, row, pair, t.found)
    if pc:
        return _from_postcode(t, i, row, pc, where)
    if not v["postcode"][i]:  # an invalid postcode is the location problem itself
        t.add(
            row,
            cols.get("lon", cols.get("easting", cols.get("postcode", "lon/lat"))),
            "",
            "no location: lon/lat, easting/northing and postcode are all empty",
        )
    return None


def _check_place(
    t: _Rows, row: int, loc: _Located, pc: str | None, where: Where
) -> _Located | None:
    """Keep a located point only when it is near the area and near its own postcode."""
    if loc.easting is None or loc.northing is None:
        return loc
    col = t.cols.get("lon", t.cols.get("easting", t.cols.get("postcode", "lon/lat")))
    at = f"{loc.easting:.0f}, {loc.northing:.0f}"
    away_m = float(where.study_area().distance(shapely.Point(loc.easting, loc.northing)))
    if away_m > MAX_DISTANCE_M:
        t.add(
            row,
            col,
            at,
            f"the point is {away_m / 1000:.0f} km from {where.area.name}; check the "
            "coordinates (swapped easting/northing or lon/lat, another country, "
            "or a typing error)",
        )
        return None
    if not pc or loc.method == "postcode centroid (Code-Point Open)":
        return loc
    code_point = where.code_point()
    if pc not in code_point.index:
        return loc
    hit = code_point.loc[pc]
    gap = float(np.hypot(loc.easting - hit["easting"], loc.northing - hit["northing"]))
    if gap > MAX_POSTCODE_GAP_M:
        t.add(
            row,
            col,
            at,
            f"the point is {gap / 1000:.1f} km from the centroid of its "
            f"own postcode {pc}; correct the coordinates or the postcode",
        )
        return None
    return loc


def _locations(
    t: _Rows, pcs: dict[int, str | None], where: Where, *, verbose: bool
) -> dict[int, _Located | None]:
    """Each row's location, checked against the area and its own postcode."""
    out: dict[int, _Located | None] = {}
    for i, row in tqdm(t.rows(), desc=t.label, disable=not verbose):
        loc = _locate(t, i, row, pcs[i], where)
        if loc is not None and loc.easting is not None and loc.northing is not None:
            loc = _check_place(t, row, loc, pcs[i], where)
        out[i] = loc
    return out


#: Register fields copied from the file as they are.
_TEXT_FIELDS = ("subtype", "address", "source_date", "licence", "geocode", "notes")


def register_from_frame(
    frame: pd.DataFrame,
    label: str,
    where: Where,
    *,
    columns: Mapping[str, str] | None = None,
    problems: list[Problem] | None = None,
    verbose: bool = False,
) -> gpd.GeoDataFrame:
    """Validate one register table column by column, then build its rows.

    Each check walks one column (or the few that locate a row) over every row; the
    problems of all of them are raised together, listed row by row.
    """
    problems = list(problems or [])
    frame, cols, blank = _check_columns(frame, label, columns, problems)

    def text(col: str) -> list[str]:
        if col not in cols:
            return [""] * len(frame)
        return [cell_text(v) for v in frame[cols[col]].tolist()]

    t = _Rows(label, cols, {c: text(c) for c in SCHEMA - DERIVED}, blank)
    where.study_area()  # the wards are needed (and read) before any row is checked
    # column by column; the problems are then listed row by row
    ids = _asset_ids(t)
    _check_text(t)
    cats = _categories(t, where.area.categories)
    owners = _owner_types(t, cats, where.area)
    pcs = _postcodes(t)
    places = _locations(t, pcs, where, verbose=verbose)
    problems += t.problems()
    if problems:
        raise DataValidationError(problems)
    out = _records(t, ids, cats, owners, pcs, places)
    return finish_register(_assign_wards(_points(out), where).set_index("asset_id"))


def _records(
    t: _Rows,
    ids: dict[int, str],
    cats: dict[int, str | None],
    owners: dict[int, str | None],
    pcs: dict[int, str | None],
    places: dict[int, _Located | None],
) -> pd.DataFrame:
    """Return one record per non-blank row, from its checked columns."""
    v = t.values
    records: list[dict[str, object]] = []
    for i, row in t.rows():
        rec: dict[str, object] = {
            "asset_id": ids[i],
            "name": v["name"][i],
            "category": cats[i] or v["category"][i],
            "owner_type": owners[i],
            **{c: v[c][i] for c in _TEXT_FIELDS},
            "source": v["source"][i] or t.label,
            "source_record_id": v["source_record_id"][i] or f"row {row}",
            "postcode": pcs[i] or "",
        }
        loc = places[i]
        if loc is not None:
            rec["easting"], rec["northing"] = loc.easting, loc.northing
            rec["geocode"] = rec["geocode"] or loc.method
        else:
            rec["easting"] = rec["northing"] = np.nan
        records.append(rec)
    return pd.DataFrame.from_records(records)


def _points(out: pd.DataFrame) -> gpd.GeoDataFrame:
    """Keep the located records; add lon/lat (6 decimals) and points in ``settings.crs``."""
    out = out[out["easting"].notna()].copy()
    lon, lat = _transformer("EPSG:27700", "EPSG:4326").transform(
        out["easting"].to_numpy(float), out["northing"].to_numpy(float)
    )
    out["lon"] = np.round(np.asarray(lon, dtype=float), 6)
    out["lat"] = np.round(np.asarray(lat, dtype=float), 6)
    out["easting"] = out["easting"].astype(float).round(1)
    out["northing"] = out["northing"].astype(float).round(1)
    return gpd.GeoDataFrame(
        out, geometry=gpd.points_from_xy(out["easting"], out["northing"]), crs="EPSG:27700"
    ).to_crs(settings.crs)


def _owner_type(raw: str, category: str | None, area: Area) -> str | None:
    """Return the row's owner type (empty: the area's owner of its category; None: invalid)."""
    if raw:
        return normalise_owner(raw)
    return area.owner_of(category) if category else ""


def _assign_wards(gdf: gpd.GeoDataFrame, where: Where) -> gpd.GeoDataFrame:
    right = where.ward_join(gdf.crs)
    joined = gdf[[gdf.geometry.name]].sjoin(right, how="left", predicate="intersects")
    joined = joined[~joined.index.duplicated(keep="first")]
    gdf = gdf.copy()
    gdf["ward_code"] = joined["_ward_code"].fillna("").astype(str).to_numpy()
    gdf["ward_name"] = joined["_ward_name"].fillna("").astype(str).to_numpy()
    gdf["inside_area"] = gdf["ward_code"] != ""
    return gdf


def finish_register(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    gdf.index = gdf.index.astype(str)
    gdf.index.name = "asset_id"
    for c in (*REGISTER_COLUMNS[1:], *EXTRA_COLUMNS):
        if c not in gdf.columns:
            gdf[c] = ""
    text_cols = [
        c
        for c in (*REGISTER_COLUMNS[1:], *EXTRA_COLUMNS)
        if c not in {"lon", "lat", "easting", "northing", "inside_area"}
    ]
    for c in text_cols:
        gdf[c] = gdf[c].fillna("").astype(str)
    for c in ("source", "source_date", "licence"):
        # git commit hashes are provenance for the bundle (data/raw/SOURCES.md), not
        # text to publish
        gdf[c] = gdf[c].map(strip_commit_hashes)
    gdf["inside_area"] = gdf["inside_area"].astype(bool)
    cols = [*REGISTER_COLUMNS[1:], *EXTRA_COLUMNS, gdf.geometry.name]
    return gdf[cols]


@checks_crs
def read_register(
    path: str | Path,
    *,
    columns: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
    layer: str | None = None,
    postcodes: gpd.GeoDataFrame | None = None,
    wards: gpd.GeoDataFrame | None = None,
    area: AreaFiles | None = None,
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
        ``northing`` (as :attr:`~nwm_geo.data.AreaData.postcodes`);
        read from the area's bundle when needed and not given.
    wards
        Ward polygons indexed by ``ward_code`` with ``ward_name``; default the area's
        current pattern (:attr:`~nwm_geo.data.AreaData.wards`).
    area
        The area and its bundle folder (:func:`nwm_geo.data.open_area`): its wards,
        postcodes and categories; default Luton in ``data/raw``.
        :meth:`~nwm_geo.data.AreaData.read_register` passes
        the area's cached postcodes and wards.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``asset_id`` (from the file, or ``<file-stem-slug>-<row:04d>``),
        columns :data:`REGISTER_COLUMNS` (without ``asset_id``), ``geocode``,
        ``notes`` and point ``geometry`` in :data:`nwm_geo.settings.crs`.
        ``owner_type`` is the file's (one of :data:`nwm_geo.settings.OWNER_TYPES`) or,
        when empty or absent, the area profile's owner of the row's category.
        ``ward_code``/``ward_name`` come from point in polygon against ``wards``;
        assets outside every ward are kept with ``inside_area = False`` and empty ward.

    Raises
    ------
    DataValidationError
        Listing every problem found (file, row, column, value, reason): empty file,
        missing columns, a personal-data column mapped with ``columns``, undecodable
        text, non-numeric or misplaced coordinates, points outside Great Britain,
        invalid or unknown postcodes, unknown categories or owner types, missing or
        duplicate asset ids.
    """
    path = Path(path)
    files = area if area is not None else AreaFiles.default()
    prof = files.profile
    frame, problems = read_table(path, sheet=sheet, layer=layer)
    where = Where(prof, files.data_dir, wards=wards, postcodes=postcodes)
    return register_from_frame(frame, path.name, where, columns=columns, problems=problems)
