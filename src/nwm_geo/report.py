"""The spreadsheet and the HTML index a property lead reads without Python.

In: a :class:`nwm_geo.requirements.RequirementsOutline`, the saved maps and tables,
and the run's method and provenance text: a :class:`RunInfo` (walking speed, minutes,
network label, data dates, register and localities notes, extra lines), or a method
dict (the outline's own ``method`` by default).

Out: ``reports/asset_requirements.xlsx`` (:func:`write_requirements_xlsx`): a
"Summary" sheet and one sheet per locality; ``reports/index.html``
(:func:`write_index_html`) linking every map and table with a short method note.

Both files are written atomically. Every text has phone numbers and e-mail addresses
masked (:func:`nwm_geo._safe.mask_personal_text`) and is escaped (HTML) or guarded
like every CSV the project writes (Excel: :func:`nwm_geo._safe.neutralise_formula`, so
a name starting with ``=`` is stored as text with a leading apostrophe, never a
formula). No personal data: only the outline's own columns are written, and any
column that :func:`nwm_geo._safe.is_personal_column` flags is dropped.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from nwm_geo import settings
from nwm_geo._errors import NwmGeoError
from nwm_geo._io import atomic_path
from nwm_geo._safe import is_personal_column, mask_personal_text, neutralise_formula
from nwm_geo._units import resolve_minutes, resolve_speed
from nwm_geo.requirements import RequirementsOutline

__all__ = [
    "RunInfo",
    "method_rows",
    "register_gap_note",
    "sheet_name",
    "write_index_html",
    "write_requirements_xlsx",
]

_BOLD = Font(bold=True)
_HEAD = Font(bold=True, color="FFFFFF")
_HEAD_FILL = PatternFill("solid", fgColor="305496")
_SECTION = Font(bold=True, size=13)


def register_gap_note(open_register_assets: int | None = None) -> str:
    """Explain the gap between the council's 287 mapped assets and the open register.

    Parameters
    ----------
    open_register_assets
        Assets in the register built from open data, if known.
    """
    council = sum(settings.COUNCIL_REGISTER_COUNTS.values())
    text = (
        f"The council's register maps {council} assets in 14 categories. The open-data "
        "register used here is built from public sources (FSA FHRS, GIAS, NHS ODS, HMCTS, "
        "Libraries Hacked and others), which under-count places of worship and community "
        "centres; results for those categories are a lower bound until the council's own "
        "register is loaded."
    )
    if open_register_assets is not None:
        text += (
            f" Open register: {open_register_assets} assets "
            f"({council - open_register_assets:+d} short of {council})."
            if open_register_assets <= council
            else f" Open register: {open_register_assets} assets."
        )
    return text


#: The method keys that :meth:`RunInfo.from_method` reads into fields; any other key
#: becomes an extra line.
_RUN_KEYS = frozenset(
    {"walk_speed_m_per_min", "walk_minutes", "network", "data_dates", "register", "localities"}
)


@dataclass(frozen=True)
class RunInfo:
    """The method and provenance text of a run, shown by the spreadsheet and the index.

    Parameters
    ----------
    network
        The network label (``nwm_geo.network.network_label(G)``).
    minutes
        Walk threshold; ``None`` for ``settings.walk_minutes`` (resolved by
        :func:`nwm_geo._units.resolve_minutes`).
    speed_m_per_min
        Walking speed; ``None`` for ``settings.walk_speed_m_per_min``.
    data_dates
        Dates of the data behind the outputs.
    register
        A note on the asset register (e.g. against the council's 287).
    localities
        A note on the localities (e.g. how many, and the proof status).
    sources
        Sources and licences; ``None`` for ``settings.attribution``.
    extra
        More ``(label, text)`` lines, shown after the network and before the data
        dates (e.g. the requirements parameters).
    """

    network: str = "not stated"
    minutes: float | None = None
    speed_m_per_min: float | None = None
    data_dates: str | None = None
    register: str | None = None
    localities: str | None = None
    sources: str | None = None
    extra: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_method(cls, method: Mapping[str, Any]) -> RunInfo:
        """Read a method dict (e.g. :attr:`RequirementsOutline.method`).

        Parameters
        ----------
        method
            ``walk_speed_m_per_min``, ``walk_minutes``, ``network``, ``data_dates``,
            ``register``, ``localities`` and ``licences`` fill the fields; every other
            key becomes an extra line labelled by its name ("k_new_sites" -> "K new
            sites"), in the dict's order.

        Returns
        -------
        RunInfo
        """
        m = dict(method)

        def opt(key: str) -> str | None:
            v = m.get(key)
            return None if v is None else _text(v)

        network = m.get("network")
        return cls(
            network="not stated" if network is None else str(network),
            minutes=m.get("walk_minutes"),
            speed_m_per_min=m.get("walk_speed_m_per_min"),
            data_dates=opt("data_dates"),
            register=opt("register"),
            localities=opt("localities"),
            sources=opt("licences"),
            extra=tuple(
                (_label(k), _text(v))
                for k, v in m.items()
                if k not in _RUN_KEYS and k != "licences"
            ),
        )

    def walk(self) -> tuple[float, float]:
        """Return ``(minutes, speed_m_per_min)`` with the defaults resolved."""
        return resolve_minutes(self.minutes), resolve_speed(self.speed_m_per_min)

    @property
    def is_approximate(self) -> bool:
        """Whether the walk times come from the approximate (postcode proximity) network."""
        return "approximate" in self.network.lower()

    def notes(self) -> list[tuple[str, str]]:
        """The ``(label, text)`` lines after the network: extra lines, then the notes."""
        rows = list(self.extra)
        for label, text in [
            ("Data dates", self.data_dates),
            ("Register", self.register),
            ("Localities", self.localities),
        ]:
            if text is not None:
                rows.append((label, text))
        return rows

    def sources_text(self) -> str:
        """Sources and licences (``settings.attribution`` by default)."""
        return settings.attribution if self.sources is None else self.sources


def _run_info(run_info: RunInfo | None, method: Mapping[str, Any] | None, *, what: str) -> RunInfo:
    """The run info given, or read from a method dict; never both."""
    if run_info is not None and method is not None:
        raise NwmGeoError(f"give run_info or {what}, not both")
    return run_info if run_info is not None else RunInfo.from_method(method or {})


def method_rows(
    outline: RequirementsOutline, *, run_info: RunInfo | None = None, **extra: Any
) -> list[tuple[str, str]]:
    """The method note of the spreadsheet as (label, text) rows.

    Parameters
    ----------
    outline
        The requirements outline (its business-case rules; its ``method`` dict when
        ``run_info`` is not given).
    run_info
        The run's method and provenance text; by default read from
        ``outline.method`` updated with ``extra``.
    **extra
        More method entries (e.g. ``data_dates="..."``); only without ``run_info``.

    Returns
    -------
    list of (str, str)
    """
    info = _run_info(
        run_info,
        {**outline.method, **extra} if run_info is None else (extra or None),
        what="method entries",
    )
    minutes, speed = info.walk()
    rows = [
        ("Walking speed", f"{speed:g} m/min"),
        ("Walk threshold", f"{minutes:g} minutes"),
        ("Network", info.network),
    ]
    if info.is_approximate:
        rows.append(
            (
                "Approximation",
                "Walk times use an approximate network (postcode proximity), not the "
                "OpenStreetMap street network; treat times as indicative.",
            )
        )
    rows += info.notes()
    rows.append(("Sources and licences", info.sources_text()))
    for rid, rule in outline.rules.items():
        rows.append((f"Business case rule {rid}", rule))
    return rows


def sheet_name(name: str, taken: set[str] | None = None) -> str:
    """An Excel-safe, unique sheet name (31 characters, no ``[]:*?/\\``)."""
    clean = re.sub(r"[\[\]:*?/\\]", "-", str(name)).strip("'") or "Sheet"
    clean = clean[:31]
    taken = set() if taken is None else taken
    base, n = clean, 2
    while clean.lower() in {t.lower() for t in taken}:
        suffix = f" ({n})"
        clean = base[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(clean)
    return clean


def _label(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _text(v: Any) -> str:
    if isinstance(v, Mapping):
        return "; ".join(f"{k}: {x}" for k, x in v.items())
    if isinstance(v, list | tuple):
        return "; ".join(str(x) for x in v)
    return str(v)


def _public(df: pd.DataFrame) -> pd.DataFrame:
    """The table without personal-data columns (index levels included)."""
    flat = df.reset_index()
    return flat[[c for c in flat.columns if not is_personal_column(str(c))]]


def _public_text(text: str) -> str:
    """Free text as published: phone numbers and e-mail addresses masked."""
    return mask_personal_text(text)[0]


def _cell_value(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float | np.floating):
        return None if np.isnan(v) else float(v)
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return str(v)


def _put(ws: Any, row: int, col: int, value: Any, *, font: Font | None = None) -> None:
    """Write one cell; text is masked and guarded like every CSV (never a formula)."""
    cell = ws.cell(row=row, column=col)
    v = _cell_value(value)
    if isinstance(v, str):
        v = neutralise_formula(_public_text(v))
    cell.value = v
    if font is not None:
        cell.font = font


def _write_table(ws: Any, row: int, title: str, df: pd.DataFrame, *, note: str = "") -> int:
    """Write a titled table at ``row``; return the next free row."""
    _put(ws, row, 1, title, font=_SECTION)
    row += 1
    if note:
        _put(ws, row, 1, note)
        row += 1
    flat = _public(df)
    if len(flat) == 0:
        _put(ws, row, 1, "(none)")
        return row + 2
    for j, col in enumerate(flat.columns, start=1):
        _put(ws, row, j, str(col).replace("_", " "), font=_HEAD)
        ws.cell(row=row, column=j).fill = _HEAD_FILL
    for values in flat.itertuples(index=False):
        row += 1
        for j, v in enumerate(values, start=1):
            _put(ws, row, j, v)
            if isinstance(v, float | np.floating) and "share" in str(flat.columns[j - 1]):
                ws.cell(row=row, column=j).number_format = "0.0%"
            elif isinstance(v, float | np.floating):
                ws.cell(row=row, column=j).number_format = "#,##0"
    return row + 2


def _widths(ws: Any, *, max_width: int = 60) -> None:
    widths: dict[int, int] = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is not None:
                widths[c.column] = max(widths.get(c.column, 0), min(len(str(c.value)), max_width))
    for col, w in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = max(10, w + 2)


def _coverage_table(outline: RequirementsOutline) -> pd.DataFrame:
    s = outline.summary.reset_index()
    cols = [
        "locality",
        "measure",
        "population",
        "covered_population",
        "gap_population",
        "covered_share",
        "n_assets",
        "n_required",
        "n_redundant",
        "n_in_minimal_cover",
    ]
    return s[[c for c in cols if c in s.columns]].set_index(["locality", "measure"])


def write_requirements_xlsx(
    outline: RequirementsOutline,
    path: str | os.PathLike[str] | None = None,
    *,
    run_info: RunInfo | None = None,
    method_extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write the outline of asset requirements as a spreadsheet, atomically.

    Parameters
    ----------
    outline
        From :func:`nwm_geo.requirements.outline`.
    path
        Destination; ``settings.reports_dir() / "asset_requirements.xlsx"`` by default.
    run_info
        The method and provenance text for the Summary sheet; by default read from
        ``outline.method`` (with ``method_extra``).
    method_extra
        More method entries when ``run_info`` is not given (e.g. data dates).

    Returns
    -------
    Path
        The written file. Sheets: "Summary" (method note, business-case rules,
        coverage per locality and measure, solver status, the whole business-case
        list) and one per locality (coverage, required, redundant and needed assets,
        postcodes beyond the walk, suggested new sites, business case).

    Raises
    ------
    NwmGeoError
        If both ``run_info`` and ``method_extra`` are given.
    """
    path = Path(settings.reports_dir() / "asset_requirements.xlsx" if path is None else path)
    wb = Workbook()
    ws = wb.active
    taken: set[str] = set()
    ws.title = sheet_name("Summary", taken)
    _put(
        ws,
        1,
        1,
        "Outline of asset requirements: Neighbourhood Working Model",
        font=Font(bold=True, size=15),
    )
    row = 3
    _put(ws, row, 1, "Method", font=_SECTION)
    row += 1
    if run_info is not None and method_extra:
        raise NwmGeoError("give run_info or method_extra, not both")
    rows = method_rows(outline, run_info=run_info, **dict(method_extra or {}))
    for label, text in rows:
        _put(ws, row, 1, label, font=_BOLD)
        _put(ws, row, 2, text)
        ws.cell(row=row, column=2).alignment = Alignment(wrap_text=True, vertical="top")
        row += 1
    row += 1
    row = _write_table(
        ws,
        row,
        "Coverage per locality and measure",
        _coverage_table(outline),
        note="Locality 'Luton' is the whole borough. Share = residents within the walk.",
    )
    status = outline.solver_status
    if len(status):
        status = status.set_index(["problem", "measure", "scope"])
    row = _write_table(ws, row, "Optimisation status (checked from HiGHS)", status)
    _write_table(ws, row, "Business case (all localities)", outline.business_case)
    _widths(ws)
    ws.column_dimensions["B"].width = 90
    for loc in outline.localities:
        t = outline.for_locality(loc)
        ls = wb.create_sheet(sheet_name(loc, taken))
        _put(ls, 1, 1, f"Locality: {loc}", font=Font(bold=True, size=15))
        r = 3
        r = _write_table(ls, r, "Coverage", t["summary"])
        r = _write_table(
            ls,
            r,
            "Required assets",
            t["required"],
            note="Closing one of these leaves residents with no walk to its category "
            "(sole population); ranked by residents affected.",
        )
        r = _write_table(
            ls,
            r,
            "Redundant assets",
            t["redundant"],
            note="Each is covered by other assets of its category on its own; closing "
            "several together may leave a gap (see the minimal cover).",
        )
        r = _write_table(
            ls,
            r,
            "Assets the model needs (required + minimal cover)",
            t["needed"],
        )
        r = _write_table(ls, r, "Postcodes beyond the walk", t["gaps"])
        r = _write_table(ls, r, "Suggested new sites", t["new_sites"])
        _write_table(ls, r, "Business case", t["business_case"])
        _widths(ls)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path


# ---------------------------------------------------------------------------
# index.html


def _link(target: str | os.PathLike[str], base: Path) -> str:
    p = Path(target)
    if p.is_absolute():
        try:
            p = p.relative_to(base)
        except ValueError:
            p = Path(os.path.relpath(p, base))
    return quote(p.as_posix(), safe="/._-~")


def _items(
    entries: Sequence[tuple[str, str | os.PathLike[str]] | str | os.PathLike[str]],
) -> list[tuple[str, str | os.PathLike[str]]]:
    out: list[tuple[str, str | os.PathLike[str]]] = []
    for e in entries:
        if isinstance(e, tuple):
            out.append((str(e[0]), e[1]))
        else:
            out.append((Path(e).name, e))
    return out


def write_index_html(
    path: str | os.PathLike[str] | None = None,
    *,
    maps: Sequence[tuple[str, str | os.PathLike[str]] | str | os.PathLike[str]],
    tables: Sequence[tuple[str, str | os.PathLike[str]] | str | os.PathLike[str]],
    method: Mapping[str, Any] | None = None,
    run_info: RunInfo | None = None,
    title: str = "Neighbourhood Working Model: maps and tables",
    notes: Sequence[str] = (),
    open_register_assets: int | None = None,
    check_exists: bool = True,
) -> Path:
    """Write ``index.html`` linking every map and table, with a short method note.

    Parameters
    ----------
    path
        Destination; ``settings.reports_dir() / "index.html"`` by default. Links are
        written relative to its folder.
    maps, tables
        Files to link: ``(label, path)`` pairs or paths (labelled by file name).
    method
        Method entries, read by :meth:`RunInfo.from_method`: ``walk_speed_m_per_min``,
        ``walk_minutes``, ``network`` (the network label), ``data_dates``,
        ``licences``, and any others; all are shown.
    run_info
        The method and provenance text, instead of ``method``.
    title
        Page title.
    notes
        Extra paragraphs.
    open_register_assets
        Assets in the open register, for the 287-vs-register note.
    check_exists
        Raise if a linked file does not exist (relative paths are resolved against the
        index folder).

    Returns
    -------
    Path

    Raises
    ------
    NwmGeoError
        If a linked file is missing, or both ``method`` and ``run_info`` are given.
    """
    info = _run_info(run_info, method, what="method")
    minutes, speed = info.walk()
    path = Path(settings.reports_dir() / "index.html" if path is None else path)
    base = path.parent.resolve()
    map_items, table_items = _items(maps), _items(tables)
    if check_exists:
        missing = [
            str(p)
            for _, p in [*map_items, *table_items]
            if not (Path(p) if Path(p).is_absolute() else base / p).exists()
        ]
        if missing:
            raise NwmGeoError(f"index.html would link missing file(s): {missing}")
    e = html.escape

    def ul(items: list[tuple[str, str | os.PathLike[str]]]) -> str:
        if not items:
            return "<p>(none)</p>"
        lis = "".join(
            f'<li><a href="{e(_link(p, base))}">{e(label)}</a> '
            f"<small>({e(Path(p).name)})</small></li>"
            for label, p in items
        )
        return f"<ul>{lis}</ul>"

    network = info.network
    dl = [
        ("Walking speed", f"{speed:g} m/min ({speed * 60 / 1000:.1f} km/h)"),
        ("Walk threshold", f"{minutes:g} minutes ({speed * minutes:,.0f} m)"),
        ("Network", network),
        *info.notes(),
        ("Sources and licences", info.sources_text()),
        ("Council register", register_gap_note(open_register_assets)),
    ]
    rows = "".join(f"<dt>{e(k)}</dt><dd>{e(_public_text(v))}</dd>" for k, v in dl)
    approx = ""
    if info.is_approximate:
        approx = (
            '<p class="warn" id="approximation-note"><strong>'
            f"{e(network)}</strong>: walk times come from an approximate network built "
            "from postcode proximity, not the OpenStreetMap street network. Treat them "
            "as indicative until the OSM network is loaded.</p>"
        )
    extra = "".join(f"<p>{e(_public_text(n))}</p>" for n in notes)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<style>
body {{ font: 15px/1.5 Arial, Helvetica, sans-serif; max-width: 60em; margin: 2em auto;
  padding: 0 1em; color: #222; }}
h1 {{ font-size: 1.5em; }} h2 {{ font-size: 1.2em; margin-top: 1.5em; }}
dt {{ font-weight: bold; margin-top: .5em; }} dd {{ margin-left: 1.5em; }}
.warn {{ background: #fff3cd; border: 1px solid #e0c36a; padding: .6em .8em; }}
small {{ color: #666; }}
</style></head>
<body>
<h1>{e(title)}</h1>
{approx}
<h2>Maps</h2>
{ul(map_items)}
<h2>Tables</h2>
{ul(table_items)}
<h2>Method</h2>
<dl>{rows}</dl>
{extra}
</body></html>
"""
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path
