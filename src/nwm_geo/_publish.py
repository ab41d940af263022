"""The one publishing path: every file the project writes goes through here.

Each writer masks personal data (phone numbers and e-mail addresses,
:func:`nwm_geo._safe.mask_personal_text`) in every text it writes, and the table
writers also neutralise spreadsheet formulas and drop git commit hashes
(:func:`nwm_geo._safe.neutralise_formula`, :func:`~nwm_geo._safe.strip_commit_hashes`).
Files are written atomically (:func:`nwm_geo._io.atomic_path`).

- Tables: :func:`publish_frame` (a masked copy), :func:`write_csv`, :func:`write_geo`
  (GeoJSON, GeoPackage).
- Documents: :func:`write_text` (HTML, TOML, SOURCES), :func:`write_json`,
  :func:`publish_object` (a masked copy of JSON-like data).
- Workbooks: :func:`save_workbook` masks every cell (:func:`publish_cell`), comment,
  hyperlink, sheet title and document property of an openpyxl workbook, then saves it.
- Figures: :func:`publish_figure` masks every text drawn on a matplotlib figure (PDF
  pages, PNG); :func:`save_figure` saves one, metadata masked too.
- PDF documents: :func:`publish_pdf` makes every text later drawn on an fpdf2 document
  masked; :func:`save_pdf` saves one, its metadata masked and matplotlib figures (maps,
  through :func:`publish_figure`) laid over its pages.
- Ids: :func:`check_ids` refuses ids that look like personal data (masked, they would
  no longer join).
- Named outputs: :func:`check_output_path` refuses to replace an existing file without
  consent (``--force``) and refuses, always, a path that is also an input.

Heavy libraries are imported only inside the functions that need them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nwm_geo._errors import NwmGeoError
from nwm_geo._io import atomic_path
from nwm_geo._safe import MASK, mask_personal_text, neutralise_formula, strip_commit_hashes

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
    from fpdf import FPDF
    from matplotlib.figure import Figure

__all__ = [
    "check_ids",
    "check_output_path",
    "publish_cell",
    "publish_figure",
    "publish_frame",
    "publish_object",
    "publish_pdf",
    "publish_sheet_title",
    "publish_text",
    "save_figure",
    "save_pdf",
    "save_workbook",
    "write_csv",
    "write_geo",
    "write_json",
    "write_text",
]


def publish_text(text: str) -> str:
    """Return ``text`` with every phone number and e-mail address masked.

    Parameters
    ----------
    text
        Any text: a cell, a label, a whole HTML page or TOML file.

    Returns
    -------
    str
        The text, each phone number and e-mail address replaced by
        :data:`nwm_geo._safe.MASK`.
    """
    if text in _CLEAN:
        return text
    out = mask_personal_text(text)[0]
    if out == text and len(text) <= _CLEAN_MAX_CHARS and len(_CLEAN) < _CLEAN_MAX_TEXTS:
        _CLEAN.add(text)
    return out


#: Short texts found to hold nothing to mask (a report publishes the same names and
#: labels many times, and a workbook's cells once when written and again when saved):
#: masking is a function of the text alone. A text that was masked is not kept, so no
#: phone number or e-mail address stays in memory. At most this many texts of at most
#: this many characters.
_CLEAN: set[str] = set()
_CLEAN_MAX_TEXTS = 1 << 16
_CLEAN_MAX_CHARS = 200


def _cell(value: Any, formulas: bool = True) -> Any:
    """One table cell fit to publish: masked, no commit hash, never a formula."""
    if isinstance(value, str):
        safe = strip_commit_hashes(publish_text(value))
        return neutralise_formula(safe) if formulas else safe
    return value


def _column(values: pd.Series | pd.Index, formulas: bool) -> Any:
    """Map :func:`_cell` over a column's distinct text values (each masked once)."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(values.dtype):
        return values
    uniques = pd.unique(values.astype(object))
    cache = {v: _cell(v, formulas) for v in uniques if isinstance(v, str)}
    if all(cache[k] == k for k in cache):
        return values
    return values.map(lambda v: cache.get(v, v) if isinstance(v, str) else v)


def publish_frame(frame: pd.DataFrame, *, formulas: bool = True) -> pd.DataFrame:
    """Return a copy of a table fit to publish.

    Every text cell, index label and column name is masked
    (:func:`publish_text`), loses git commit hashes, and gets a leading apostrophe if a
    spreadsheet would run it as a formula. Numbers, dates and geometries are unchanged.

    Parameters
    ----------
    frame
        Any table (a GeoDataFrame keeps its geometry).
    formulas
        Neutralise formula-like text (CSV); False for files no spreadsheet opens
        (GeoPackage, GeoJSON), where the text stays as it is apart from the masking.

    Returns
    -------
    pandas.DataFrame
        The safe copy, same shape, index and column order.
    """
    import pandas as pd

    out = frame.copy()
    geometry = getattr(frame, "_geometry_column_name", None)
    for pos, col in enumerate(out.columns):
        if col == geometry:
            continue
        out.isetitem(pos, _column(out.iloc[:, pos], formulas))
    if isinstance(out.index, pd.MultiIndex):
        levels = [
            _column(out.index.get_level_values(i), formulas) for i in range(out.index.nlevels)
        ]
        out.index = pd.MultiIndex.from_arrays(levels, names=out.index.names)
    else:
        out.index = _column(out.index, formulas)
    renamed = {c: _cell(c, formulas) for c in out.columns if isinstance(c, str)}
    renamed = {k: v for k, v in renamed.items() if k != v}
    if renamed:
        out = out.rename(columns=renamed)
    return out


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str], *, index: bool = True) -> Path:
    """Write a table as UTF-8 CSV through :func:`publish_frame`, atomically.

    Parameters
    ----------
    frame
        The table.
    path
        Destination ``.csv`` (its folder is created).
    index
        Write the index as the first column(s).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        publish_frame(frame).to_csv(tmp, index=index, encoding="utf-8")
    return path


def write_geo(
    frame: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    driver: str,
    layer: str | None = None,
) -> Path:
    """Write a GeoDataFrame (GeoJSON, GeoPackage) through :func:`publish_frame`, atomically.

    Parameters
    ----------
    frame
        The features; text attributes are masked, geometry unchanged.
    path
        Destination file.
    driver
        The OGR driver: ``"GeoJSON"`` or ``"GPKG"``.
    layer
        The layer name (default: the file name without its suffix).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    safe: Any = publish_frame(frame, formulas=False)  # still a GeoDataFrame
    # the layer is named after the file, never after the temporary name written first
    kwargs: dict[str, Any] = {"driver": driver, "layer": path.stem if layer is None else layer}
    with atomic_path(path) as tmp:
        safe.to_file(tmp, **kwargs)
    return path


def publish_object(obj: Any) -> Any:
    """Return a copy of JSON-like data with every string (keys too) masked.

    Parameters
    ----------
    obj
        Dicts, lists, tuples, strings, numbers (anything else is left as it is).

    Returns
    -------
    Any
        The masked copy (tuples become lists, as JSON writes them).
    """
    if isinstance(obj, str):
        return publish_text(obj)
    if isinstance(obj, Mapping):
        return {publish_object(k): publish_object(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [publish_object(v) for v in obj]
    return obj


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write text (HTML, TOML, a sources note) as UTF-8, masked, atomically.

    Parameters
    ----------
    path
        Destination file.
    text
        The content; every phone number and e-mail address in it is masked.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(publish_text(text), encoding="utf-8")
    return path


def write_json(path: str | os.PathLike[str], obj: Any, *, indent: int = 1, end: str = "\n") -> Path:
    """Write JSON-like data through :func:`publish_object`, atomically.

    Parameters
    ----------
    path
        Destination ``.json``.
    obj
        The data; values JSON cannot hold are written as ``str(value)``.
    indent
        Spaces per level.
    end
        Text after the document (a newline by default).

    Returns
    -------
    Path
        ``path``.
    """
    text = json.dumps(publish_object(obj), indent=indent, default=lambda v: publish_text(str(v)))
    return write_text(path, text + end)


def _mask_attr(obj: Any, name: str) -> None:
    value = getattr(obj, name, None)
    if isinstance(value, str):
        masked = publish_text(value)
        if masked != value:
            setattr(obj, name, masked)


def publish_cell(value: Any) -> Any:
    """Return a workbook cell's value fit to publish.

    Text is masked (:func:`publish_text`); text that openpyxl would store as a formula
    (starting with "=") gets a leading apostrophe. The project's workbooks hold no
    formulas of their own. Other values are unchanged.

    Parameters
    ----------
    value
        A cell value.

    Returns
    -------
    Any
        The safe value.
    """
    if isinstance(value, str):
        value = publish_text(value)
        if value.startswith("="):
            return "'" + value
    return value


def publish_sheet_title(title: str) -> str:
    """Return a worksheet title fit to publish: masked, "(removed)" (no brackets), 31 chars.

    Parameters
    ----------
    title
        A sheet title.

    Returns
    -------
    str
        The title as Excel allows it (square brackets are not allowed in a title).
    """
    return publish_text(title).replace(MASK, "(removed)")[:31]


def save_workbook(wb: Any, path: str | os.PathLike[str]) -> Path:
    """Mask every text of an openpyxl workbook, then save it atomically.

    Cell values (:func:`publish_cell`), comments, hyperlinks, sheet titles, headers,
    footers and the document properties are masked. A write-only workbook's cells are
    already on disk: its writer passes each value through :func:`publish_cell` as it
    streams it (``report._sheet.SheetBuilder.write``).

    Parameters
    ----------
    wb
        An ``openpyxl.Workbook``.
    path
        Destination ``.xlsx``.

    Returns
    -------
    Path
        ``path``.
    """
    streamed = bool(getattr(wb, "write_only", False))
    for ws in [] if streamed else wb.worksheets:
        title = publish_sheet_title(ws.title)
        if title != ws.title:
            ws.title = title
        for row in ws.iter_rows():
            for cell in row:
                safe = publish_cell(cell.value)
                if safe != cell.value:
                    cell.value = safe
                if cell.comment is not None:
                    _mask_attr(cell.comment, "text")
                if cell.hyperlink is not None:
                    _mask_attr(cell.hyperlink, "target")
                    _mask_attr(cell.hyperlink, "display")
        for part in (ws.oddHeader, ws.oddFooter, ws.evenHeader, ws.evenFooter):
            for side in (part.left, part.center, part.right):
                _mask_attr(side, "text")
    for name in ("title", "subject", "creator", "description", "keywords", "lastModifiedBy"):
        _mask_attr(wb.properties, name)
    path = Path(path)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path


def publish_figure(fig: Figure) -> Figure:
    """Mask every text drawn on a matplotlib figure (titles, labels, legends, notes).

    Parameters
    ----------
    fig
        A figure about to be saved (a PDF page, a PNG).

    Returns
    -------
    matplotlib.figure.Figure
        The same figure, changed in place.
    """
    from matplotlib.text import Text
    from matplotlib.ticker import FixedFormatter, FuncFormatter

    for text in fig.findobj(Text):
        _mask_attr_text(text)
    for ax in fig.axes:  # tick labels are made when drawn, from the axis' formatter
        for axis in (ax.xaxis, ax.yaxis):
            for formatter in (axis.get_major_formatter(), axis.get_minor_formatter()):
                if isinstance(formatter, FixedFormatter):
                    formatter.seq = [publish_text(str(v)) for v in formatter.seq]
                elif isinstance(formatter, FuncFormatter) and not hasattr(formatter, "_masked"):
                    formatter.func = _masked_labels(formatter.func)
                    formatter._masked = True  # type: ignore[attr-defined]
    return fig


def _masked_labels(func: Any) -> Any:
    """Wrap a tick-label function so that what it returns is masked."""

    def masked(x: Any, pos: Any = None) -> str:
        return publish_text(str(func(x, pos)))

    return masked


def _mask_attr_text(text: Any) -> None:
    value = text.get_text()
    if isinstance(value, str) and value:
        masked = publish_text(value)
        if masked != value:
            text.set_text(masked)


def save_figure(
    fig: Figure,
    path: str | os.PathLike[str],
    *,
    metadata: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> Path:
    """Save a figure through :func:`publish_figure`, atomically.

    Parameters
    ----------
    fig
        The figure.
    path
        Destination; the format is the file suffix's.
    metadata
        The file's metadata (PNG text chunks, PDF info), masked too.
    **kwargs
        Passed to ``Figure.savefig`` (``dpi``, ``bbox_inches``...).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    if metadata is not None:
        kwargs["metadata"] = {k: publish_text(v) for k, v in metadata.items()}
    kwargs.setdefault("format", path.suffix.lstrip(".") or "png")
    with atomic_path(path) as tmp:
        publish_figure(fig).savefig(tmp, **kwargs)
    return path


def publish_pdf(pdf: FPDF) -> FPDF:
    """Make every text drawn on an fpdf2 document from now on masked.

    fpdf2 passes each text it draws (``text``, ``cell``, ``multi_cell``, ``write``)
    through the document's ``normalize_text``; this wraps it with :func:`publish_text`.
    Call it before drawing; :func:`save_pdf` refuses a document that was not.

    Parameters
    ----------
    pdf
        An ``fpdf.FPDF`` document.

    Returns
    -------
    fpdf.FPDF
        The same document, changed in place.
    """
    if getattr(pdf, "_nwm_masked", False):
        return pdf
    normalize = pdf.normalize_text

    def masked(text: str) -> str:
        return normalize(publish_text(text))

    pdf.normalize_text = masked  # type: ignore[method-assign]
    pdf._nwm_masked = True  # type: ignore[attr-defined]
    return pdf


def save_pdf(
    pdf: FPDF,
    path: str | os.PathLike[str],
    *,
    figures: Iterable[tuple[int, Figure]] = (),
) -> Path:
    """Save an fpdf2 document atomically, its metadata masked and figures laid over pages.

    Parameters
    ----------
    pdf
        A document from :func:`publish_pdf` (every text it drew is masked).
    path
        Destination ``.pdf``.
    figures
        ``(page number from 0, figure)`` pairs: each figure, the size of the page with
        a transparent background (e.g. a map on its axes), is masked
        (:func:`publish_figure`), printed to PDF (vector, its text kept as text) and laid
        over that page, its corners on the page's corners.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        If the document did not mask its text (:func:`publish_pdf` not called first).
    """
    import io

    if not getattr(pdf, "_nwm_masked", False):
        raise ValueError("draw on a document from publish_pdf, so that its text is masked")
    for name in ("title", "subject", "author", "keywords", "creator"):
        _mask_attr(pdf, name)
    data = bytes(pdf.output())
    path = Path(path)
    figures = list(figures)
    if not figures:
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
        return path
    import pikepdf
    from matplotlib.backends.backend_pdf import PdfPages

    buf = io.BytesIO()
    with PdfPages(buf) as printed:  # one file for all figures: their fonts embedded once
        for _, fig in figures:
            printed.savefig(publish_figure(fig))
    with pikepdf.open(io.BytesIO(data)) as doc, pikepdf.open(buf) as src:
        for (page, _), drawn in zip(figures, src.pages, strict=True):
            target = doc.pages[page]
            target.add_overlay(drawn, pikepdf.Rectangle(target.mediabox))
        with atomic_path(path) as tmp:
            doc.save(tmp)
    return path


def check_ids(ids: Iterable[Any], *, where: str) -> None:
    """Refuse ids that look like personal data: masked, they would no longer join.

    Parameters
    ----------
    ids
        The ids a file will publish as they are (unit ids of a partition).
    where
        The file and column, for the message.

    Raises
    ------
    NwmGeoError
        Naming how many ids look like a phone number or e-mail address, and the first
        few (at most 20).
    """
    bad = [str(v) for v in ids if isinstance(v, str) and publish_text(v) != v]
    if bad:
        shown = ", ".join(repr(v) for v in bad[:20]) + (" ..." if len(bad) > 20 else "")
        raise NwmGeoError(
            f"{where}: {len(bad)} id(s) look like a phone number or e-mail address "
            f"({shown}); ids are published as they are, so use other ids. Nothing was "
            "written"
        )


def check_output_path(
    path: str | os.PathLike[str],
    *,
    inputs: Iterable[str | os.PathLike[str]] = (),
    force: bool = False,
) -> Path:
    """Check that a file the user named may be written.

    Parameters
    ----------
    path
        The output file the user named (``--out``, ``template FILE``).
    inputs
        The command's input files: the output may never be one of them (symlinks and
        ``..`` resolved), even with ``force``.
    force
        Replace an existing file (the ``--force`` option).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    NwmGeoError
        If ``path`` is an input, a folder, or an existing file and ``force`` is false.
        Nothing has been written.
    """
    path = Path(path)
    target = path.resolve()
    for given in inputs:
        if Path(given).resolve() == target:
            raise NwmGeoError(
                f"{path}: is also an input ({given}); nothing was written. Choose another "
                "output file (an input is never replaced, even with --force)"
            )
    if path.is_dir():
        raise NwmGeoError(f"{path}: is a folder; name a file to write")
    if path.exists() and not force:
        raise NwmGeoError(
            f"{path}: already exists; nothing was written. Pass --force to replace it, "
            "or choose another file"
        )
    return path
