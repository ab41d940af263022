"""Generic table reader for council files: CSV, XLSX, GeoJSON and GeoPackage.

In: a path (and a sheet or layer). Out: a :class:`pandas.DataFrame` of text cells and
a list of :class:`~nwm_geo._errors.Problem`. Problems are returned rather than raised, so
that the caller can add its own and raise them all at once.

CSV text encoding is detected: UTF-16 (by its byte-order mark), UTF-8 with or without a
BOM, or else cell by cell UTF-8 or Windows-1252 (cp1252, what Excel writes when it saves
"CSV" on a UK PC). A cell that is neither is reported with its row and column. The
delimiter is sniffed among ``, ; tab | ¬``.

Spatial files (GeoJSON, GeoPackage, Shapefile) get coordinate columns from their
geometry (a polygon or line gives its representative point): ``lon``/``lat`` when
the layer is geographic, otherwise ``easting``/``northing`` in EPSG:27700. Columns of
the same name already in the file are kept as they are. A layer with no CRS is lon/lat
if it is GeoJSON (RFC 7946); otherwise it is EPSG:27700 if its coordinates are metres
within the British National Grid, and is reported as a problem if not.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nwm_geo._errors import Problem
from nwm_geo._safe import MAX_CELL_CHARS

__all__ = ["cell_text", "read_table"]

_CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
_SPATIAL_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".fgb"}
_UNDECODABLE = (
    "text cannot be decoded as UTF-8 or Windows-1252 (cp1252); re-save the file as "
    "'CSV UTF-8' and check this cell"
)


def cell_text(value: Any) -> str:
    """Return a cell as stripped text; missing values become ``""``.

    Whole floats from spreadsheets (``1234.0``) are written without the ``.0``.

    Parameters
    ----------
    value
        Any cell value.

    Returns
    -------
    str
        The text.
    """
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return " ".join(str(value).split())


def _sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|¬").delimiter
    except csv.Error:
        return ","


def _parse_csv(text: str, label: str) -> tuple[pd.DataFrame, list[Problem]]:
    sep = _sniff_delimiter(text[:20000])
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,  # a blank line stays a row, so row numbers hold
        )
    except pd.errors.EmptyDataError:
        return pd.DataFrame(), [Problem(label, None, None, "", "the file is empty (no header row)")]
    except pd.errors.ParserError as exc:
        return pd.DataFrame(), [
            Problem(label, None, None, "", f"the file cannot be parsed as CSV: {exc}")
        ]
    return frame, []


def _read_csv(path: Path, label: str) -> tuple[pd.DataFrame, list[Problem]]:
    data = path.read_bytes()
    if not data.strip():
        return pd.DataFrame(), [Problem(label, None, None, "", "the file is empty")]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _parse_csv(data.decode("utf-16"), label)
        except UnicodeDecodeError:
            return pd.DataFrame(), [Problem(label, None, None, "", _UNDECODABLE)]
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return _parse_csv(data.decode("utf-8"), label)
    except UnicodeDecodeError:
        pass
    # Not UTF-8 throughout: parse byte-for-byte (latin-1 maps every byte to one
    # character), then decode each cell on its own: UTF-8 first, then cp1252. This reads
    # cp1252 files and files that mix the two, and names each cell that is neither.
    frame, problems = _parse_csv(data.decode("latin-1"), label)
    if problems:
        return frame, problems
    return _decode_cells(frame, label, problems), problems


def _decode_cell(raw: str) -> str | None:
    """Decode a latin-1 read cell as UTF-8, else cp1252; None when it is neither."""
    blob = raw.encode("latin-1")
    for encoding in ("utf-8", "cp1252"):
        try:
            return blob.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _cp1252(raw: str) -> str:
    return raw.encode("latin-1").decode("cp1252", errors="replace")


def _decode_cells(frame: pd.DataFrame, label: str, problems: list[Problem]) -> pd.DataFrame:
    """Decode every heading and cell of a latin-1 read table; a problem for each that fails."""
    columns: list[str] = []
    for col in frame.columns:
        name = _decode_cell(str(col))
        if name is None:
            problems.append(Problem(label, 0, _cp1252(str(col)), str(col), _UNDECODABLE))
            name = _cp1252(str(col))
        columns.append(name)
    out = pd.DataFrame(index=frame.index, columns=columns, dtype=object)
    for j, col in enumerate(frame.columns):
        values: list[str] = []
        for i, raw in enumerate(frame[col].tolist()):
            cell = _decode_cell(str(raw))
            if cell is None:
                problems.append(Problem(label, i + 1, columns[j], _cp1252(str(raw)), _UNDECODABLE))
                cell = _cp1252(str(raw))
            values.append(cell)
        out[columns[j]] = values
    return out


def _read_excel(
    path: Path, label: str, sheet: str | int | None
) -> tuple[pd.DataFrame, list[Problem]]:
    try:
        frame = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=object)
    except ValueError as exc:  # e.g. "Worksheet named 'x' not found"
        return pd.DataFrame(), [
            Problem(label, None, None, str(sheet), f"cannot read the sheet: {exc}")
        ]
    except Exception as exc:  # openpyxl raises several types for a broken workbook
        return pd.DataFrame(), [Problem(label, None, None, "", f"cannot read the workbook: {exc}")]
    frame = frame.reset_index(drop=True)  # blank rows kept: row numbers hold
    return frame, _uncalculated_formulas(path, label, sheet, frame)


def _uncalculated_formulas(
    path: Path, label: str, sheet: str | int | None, frame: pd.DataFrame
) -> list[Problem]:
    """One problem per formula cell saved without its value (read as empty otherwise).

    A workbook written by a program that does not calculate (a script, some exports)
    holds ``=A2&" Hall"`` but no result; the cell would read as missing.
    """
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=False)
    try:
        ws = wb.worksheets[sheet or 0] if not isinstance(sheet, str) else wb[sheet]
        problems = []
        rows = ws.iter_rows(min_row=2, max_row=len(frame) + 1, values_only=True)
        for i, row in enumerate(rows):
            for j, value in enumerate(row[: frame.shape[1]]):
                formula = isinstance(value, str) and value.startswith("=")
                read: Any = frame.iat[i, j]
                if formula and pd.isna(read):
                    problems.append(
                        Problem(
                            label,
                            i + 1,
                            str(frame.columns[j]),
                            str(value),
                            "a formula saved without its value; open the file in "
                            "Excel or LibreOffice and save it, or paste the values",
                        )
                    )
        return problems
    finally:
        wb.close()


def _read_spatial(path: Path, label: str, layer: str | None) -> tuple[pd.DataFrame, list[Problem]]:
    import geopandas as gpd
    import pyogrio

    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:
        return pd.DataFrame(), [Problem(label, None, None, "", f"cannot open the file: {exc}")]
    names = [str(row[0]) for row in layers]
    if layer is None and len(names) > 1:
        return pd.DataFrame(), [
            Problem(
                label,
                None,
                None,
                "",
                f"the file has {len(names)} layers ({', '.join(names)}); "
                "pass layer= (nwm-geo: --layer)",
            )
        ]
    if layer is not None and layer not in names:
        return pd.DataFrame(), [
            Problem(label, None, None, layer, f"no such layer; the file has: {', '.join(names)}")
        ]
    try:
        gdf = gpd.read_file(path, layer=layer)
    except Exception as exc:
        return pd.DataFrame(), [Problem(label, None, None, "", f"cannot read the layer: {exc}")]
    problems: list[Problem] = []
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    geom = gdf.geometry
    if len(gdf) and geom.notna().any() and gdf.crs is None:
        x0, y0, x1, y1 = geom.total_bounds
        if path.suffix.lower() in {".geojson", ".json"}:
            gdf = gdf.set_crs("EPSG:4326")  # GeoJSON is lon/lat by definition (RFC 7946)
        elif x0 >= 0 and x1 <= 700000 and y0 >= 0 and y1 <= 1300000 and max(x1, y1) > 180:
            gdf = gdf.set_crs("EPSG:27700")  # metres within the British National Grid
        else:
            problems.append(
                Problem(
                    label,
                    None,
                    None,
                    "",
                    "the file has no coordinate reference system (CRS) and its coordinates "
                    "are not British National Grid metres; set its CRS (e.g. EPSG:4326 for "
                    "longitude/latitude) and save it again",
                )
            )
            return frame.reset_index(drop=True), problems
    if len(gdf) and geom.notna().any():
        geographic = bool(gdf.crs.is_geographic)
        geom = gdf.geometry.to_crs("EPSG:4326" if geographic else "EPSG:27700")
        xcol, ycol = ("lon", "lat") if geographic else ("easting", "northing")
        xs: list[str] = []
        ys: list[str] = []
        for g in geom:
            if g is None or g.is_empty:
                xs.append("")
                ys.append("")
                continue
            if g.geom_type != "Point":  # a site drawn as a polygon or line
                g = g.representative_point()
            xs.append(repr(float(g.x)))
            ys.append(repr(float(g.y)))
        if xcol not in frame.columns and ycol not in frame.columns:
            frame[xcol] = xs
            frame[ycol] = ys
    return frame.reset_index(drop=True), problems


def read_table(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    layer: str | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Read a CSV, XLSX, GeoJSON or GeoPackage file into a frame of text cells.

    Parameters
    ----------
    path
        The file. The format comes from its suffix.
    sheet
        Worksheet name or 0-based position for spreadsheets (default: the first).
    layer
        Layer name for multi-layer spatial files (required when there is more than one).

    Returns
    -------
    tuple of (pandas.DataFrame, list of Problem)
        Every cell as stripped text (``""`` when missing); row ``i`` of the frame is data
        row ``i + 1`` of the file (the ``i + 1``-th record after the header). Blank rows
        are kept as rows of ``""`` so that the numbering holds after them. Problems
        found while reading (empty file, undecodable cells, unreadable sheet...) are
        returned, not raised.
    """
    path = Path(path)
    label = path.name
    if not path.exists():
        return pd.DataFrame(), [Problem(label, None, None, str(path), "file not found")]
    if path.is_dir() and path.suffix.lower() != ".gdb":
        return pd.DataFrame(), [
            Problem(label, None, None, str(path), "is a folder, not a register file")
        ]
    if not os.access(path, os.R_OK):
        return pd.DataFrame(), [
            Problem(label, None, None, str(path), "cannot be read (no read permission)")
        ]
    suffix = path.suffix.lower()
    if suffix in _CSV_SUFFIXES:
        frame, problems = _read_csv(path, label)
    elif suffix in _EXCEL_SUFFIXES:
        frame, problems = _read_excel(path, label, sheet)
    elif suffix in _SPATIAL_SUFFIXES:
        frame, problems = _read_spatial(path, label, layer)
    else:
        return pd.DataFrame(), [
            Problem(
                label,
                None,
                None,
                suffix,
                "unsupported file type; use CSV, XLSX, GeoJSON or GeoPackage",
            )
        ]
    if len(frame.columns):  # every reader's cells become text here, once
        frame.columns = [cell_text(c) for c in frame.columns]
        frame = frame.astype(object).map(cell_text)
        problems += _long_cells(frame, label)
    if not problems and frame.shape[1] and not (frame != "").any(axis=None):
        problems.append(Problem(label, None, None, "", "the file has a header but no data rows"))
    return frame, problems


def _long_cells(frame: pd.DataFrame, label: str) -> list[Problem]:
    """One problem per cell longer than :data:`nwm_geo._safe.MAX_CELL_CHARS`."""
    lengths = frame.map(len).to_numpy(dtype=np.int64)
    rows, cols = np.nonzero(lengths > MAX_CELL_CHARS)
    return [
        Problem(
            label,
            int(r) + 1,
            str(frame.columns[int(c)]),
            "",
            f"the cell holds {int(lengths[r, c]):,} characters; the limit is "
            f"{MAX_CELL_CHARS:,} (shorten it: a register cell is a name, an address or "
            "a short note)",
        )
        for r, c in zip(rows, cols, strict=True)
    ]
