"""The HTML index: ``index.html`` linking every map and table, with the method note."""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from nwm_geo import settings
from nwm_geo._errors import NwmGeoError
from nwm_geo._publish import write_text
from nwm_geo.report._method import RunInfo, public_text, register_gap_note


@dataclass(frozen=True)
class IndexFindings:
    """What ``index.html`` says before its links: findings, the grid, the proof, caveats.

    Build it with :func:`nwm_geo.report.index_findings` (the workbook's own sentences).

    Attributes
    ----------
    headlines
        The headline findings, one sentence each.
    grid
        Locality x bundle: ``locality``, ``population``, one ``share: <bundle>`` column
        per bundle (fractions), ``business cases``, ``suggested sites``.
    proof
        One sentence on what the solver proved.
    caveats
        The data caveats, one sentence each.
    reconciliation
        The register against the council's published counts
        (:func:`nwm_geo.data.reconciliation`), for the council-vs-register note (None,
        or no ``council_count``: the council publishes no count, and none is shown).
    """

    headlines: tuple[str, ...] = ()
    grid: pd.DataFrame = field(default_factory=pd.DataFrame)
    proof: str = ""
    caveats: tuple[str, ...] = ()
    reconciliation: pd.DataFrame | None = None


def _grid_html(grid: pd.DataFrame) -> str:
    if grid.empty:
        return ""
    e = html.escape
    head = "".join(f"<th>{e(str(c).replace('share: ', ''))}</th>" for c in grid.columns)
    body = []
    for rec in grid.itertuples(index=False, name=None):
        cells = []
        for c, v in zip(grid.columns, rec, strict=True):
            if v is None or (isinstance(v, float) and pd.isna(v)):
                text = ""
            elif str(c).startswith("share"):
                text = f"{100 * float(v):.1f} %"
            elif isinstance(v, int | float):
                text = f"{v:,.0f}"
            else:
                text = str(v)
            cells.append(f"<td>{e(public_text(text))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        '<table class="grid"><caption>Share of residents within the walk, by locality and '
        f"bundle</caption><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _findings_html(findings: IndexFindings | None) -> str:
    if findings is None:
        return ""
    e = html.escape
    out = ['<section id="findings"><h2>Findings</h2>']
    if findings.headlines:
        lis = "".join(f"<li>{e(public_text(t))}</li>" for t in findings.headlines)
        out.append(f"<ol>{lis}</ol>")
    out.append(_grid_html(findings.grid))
    if findings.proof:
        out.append(f'<h2 id="proof">Proof</h2><p>{e(public_text(findings.proof))}</p>')
    if findings.caveats:
        lis = "".join(f"<li>{e(public_text(t))}</li>" for t in findings.caveats)
        out.append(f'<h2 id="caveats">Caveats</h2><ul>{lis}</ul>')
    out.append("</section>")
    return "\n".join(out)


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
    run_info: RunInfo | Mapping[str, Any] | None = None,
    title: str = "Neighbourhood Working Model: maps and tables",
    notes: Sequence[str] = (),
    check_exists: bool = True,
    findings: IndexFindings | None = None,
) -> Path:
    """Write ``index.html``: the findings, proof and caveats first, then every map and table.

    Parameters
    ----------
    path
        Destination; ``settings.reports_dir() / "index.html"`` by default. Links are
        written relative to its folder.
    maps, tables
        Files to link: ``(label, path)`` pairs or paths (labelled by file name).
    run_info
        The method and provenance text: a :class:`RunInfo`, or method entries read by
        :meth:`RunInfo.from_method` (``walk_speed_m_per_min``, ``walk_minutes``,
        ``network`` (the network label), ``data_dates``, ``licences``, and any others;
        all are shown).
    title
        Page title.
    notes
        Extra paragraphs.
    check_exists
        Raise if a linked file does not exist (relative paths are resolved against the
        index folder).
    findings
        The headline findings, the locality x bundle grid, the proof and the caveats,
        shown first, and the open register's count for the register note
        (:class:`IndexFindings`).

    Returns
    -------
    Path

    Raises
    ------
    NwmGeoError
        If a linked file is missing.
    """
    info = run_info if isinstance(run_info, RunInfo) else RunInfo.from_method(run_info or {})
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
        ("Council register", register_gap_note(findings.reconciliation if findings else None)),
    ]
    rows = "".join(f"<dt>{e(k)}</dt><dd>{e(public_text(v))}</dd>" for k, v in dl)
    approx = ""
    if info.is_approximate:
        approx = (
            '<p class="warn" id="approximation-note"><strong>'
            f"{e(network)}</strong>: walk times come from an approximate network built "
            "from postcode proximity, not the OpenStreetMap street network. Treat them "
            "as indicative until the OSM network is loaded.</p>"
        )
    extra = "".join(f"<p>{e(public_text(n))}</p>" for n in notes)
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
table.grid {{ border-collapse: collapse; margin: 1em 0; }}
table.grid th, table.grid td {{ border: 1px solid #ccc; padding: .25em .6em; text-align: right; }}
table.grid th:first-child, table.grid td:first-child {{ text-align: left; }}
caption {{ text-align: left; font-weight: bold; padding-bottom: .3em; }}
</style></head>
<body>
<h1>{e(title)}</h1>
{approx}
{_findings_html(findings)}
<h2>Maps</h2>
{ul(map_items)}
<h2>Tables</h2>
{ul(table_items)}
<h2>Method</h2>
<dl>{rows}</dl>
{extra}
</body></html>
"""
    write_text(path, page)
    return path
