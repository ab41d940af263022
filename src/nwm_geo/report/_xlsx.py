"""The spreadsheet ``asset_requirements.xlsx``, written as a briefing for a property lead.

Sheets, in order: "Read me" (purpose, how to read it, glossary, the three bundles,
owner types, data caveats), "Summary" (headline findings in sentences and the
locality x bundle grid), one profile sheet per locality (its wards, figures, coverage by
bundle and category, hub and equity hooks, business cases, required assets, the
council's overlapping assets, gaps with suggested sites), "Business cases" (all, one
row each), "Method and proof" (settings, rules, every solver status), then the data
sheets ("Data - ...") for the long tables.

Every sheet has frozen headings, an autofilter on its main table, fitted widths,
landscape pages with the headings repeated; with sheet producers (``sheets``), every
sheet is then laid out for A4 at 8 pt or more (:func:`._edit.finish_sheets`,
:mod:`._print`); every reading sheet stays under 300 rows. Cells are built by
:class:`._sheet.SheetBuilder`, streamed in openpyxl's write-only mode when there are no
producers, else in one workbook in memory; either way the file is saved once. Every
text cell is published safely (personal data, commit hashes and formulas; see
:mod:`._sheet`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook

from nwm_geo import settings
from nwm_geo._errors import NwmGeoError
from nwm_geo._publish import save_workbook
from nwm_geo.report._context import (
    BUNDLE_MEANING,
    DATA_SHEETS,
    LOCALITY_CASE_COLUMNS,
    MAX_TABLE_ROWS,
    READING_ROW_LIMIT,
    WorkbookContext,
    as_number,
    bundles_of,
    caveat_rows,
    owner_of,
    percent_text,
    proof_text,
    rule_counts,
    short_note,
    whole_area,
)
from nwm_geo.report._edit import finish_sheets, finish_workbook, sheet_name
from nwm_geo.report._index import IndexFindings
from nwm_geo.report._method import RunInfo, resolve_run_info
from nwm_geo.report._reference import business_sheet, data_sheets, method_sheet
from nwm_geo.report._sheet import SheetBuilder
from nwm_geo.requirements import RequirementsOutline
from nwm_geo.uncertainty import range_text

__all__ = [
    "BUNDLE_MEANING",
    "DATA_SHEETS",
    "READING_ROW_LIMIT",
    "WorkbookContext",
    "finish_workbook",
    "index_findings",
    "sheet_name",
    "write_requirements_xlsx",
]


def index_findings(
    outline: RequirementsOutline,
    *,
    run_info: RunInfo | None = None,
    context: WorkbookContext | None = None,
) -> IndexFindings:
    """Return what ``index.html`` leads with: the workbook's findings, grid, proof, caveats.

    Parameters
    ----------
    outline
        The requirements outline.
    run_info
        The run's method text (default: read from ``outline.method``).
    context
        The area and its plan (:class:`WorkbookContext`).

    Returns
    -------
    IndexFindings
    """
    info = run_info if run_info is not None else RunInfo.from_method(outline.method)
    ctx = context or WorkbookContext()
    return IndexFindings(
        headlines=tuple(_headlines(outline, ctx, info)),
        grid=_grid(outline, ctx),
        proof=proof_text(outline, info),
        caveats=tuple(
            f"{k}: {v}" for k, v in caveat_rows(ctx, info) if k != "Sources and licences"
        ),
    )


# -- Read me -------------------------------------------------------------------------
def _readme(
    outline: RequirementsOutline, ctx: WorkbookContext, info: RunInfo, names: Mapping[str, str]
) -> SheetBuilder:
    minutes, speed = info.walk()
    sb = SheetBuilder("Read me")
    sb.title_rows(
        f"Outline of asset requirements: {ctx.area} Neighbourhood Working Model",
        "Read me first: what this workbook is for, how to read it, and what the data can "
        "and cannot say.",
    )
    rows: list[tuple[str, str]] = [
        (
            "Purpose",
            f"Every resident of {ctx.area} should have somewhere to go, something to do and "
            f"someone to see within a {minutes:g}-minute walk. This workbook lists the "
            "community assets that require a business case for their future use as part of "
            "Neighbourhood Working: the council's own assets to retain and invest in, "
            "partner and community assets to secure access to, and new provision where "
            "there is a gap.",
        ),
        (
            "How to read it",
            "Start with 'Summary': the headline findings and the locality by bundle grid. "
            "Each locality then has a profile sheet ("
            + ", ".join(names.values())
            + "): its wards, population and assets, coverage by bundle and category, its "
            "business cases, its required assets, the council's own assets with "
            "overlapping coverage, and its gaps with suggested sites. 'Business cases' "
            "lists every case, one row each, to sort and filter. 'Method and proof' gives "
            "the settings and what the solver proved. Sheets named 'Data - ...' hold the "
            "long tables.",
        ),
        (
            "Filters and printing",
            "Headings stay in view while scrolling; the filter arrows sit on each sheet's "
            "main table (on a locality sheet: its business cases). Every sheet prints on "
            "A4 landscape with text at 8 pt or more: long text wraps in its column, and a "
            "long table continues on the next page with its headings repeated.",
        ),
    ]
    parts: list[tuple[str, str, str]] = [("About", k, v) for k, v in rows]
    bundles = bundles_of(outline, ctx)
    parts += [
        ("The three bundles", k, v)
        for k, v in [
            (
                b.capitalize(),
                (
                    BUNDLE_MEANING[b][0].upper() + BUNDLE_MEANING[b][1:] + ". "
                    if b in BUNDLE_MEANING
                    else ""
                )
                + ("Met by the nearest of: " + ", ".join(cats) + "." if cats else ""),
            )
            for b, cats in bundles.items()
        ]
    ]
    owners = ctx.owners if ctx.owners is not None else settings.CATEGORY_OWNERS
    by_owner: dict[str, list[str]] = {o: [] for o in settings.OWNER_TYPES}
    for cat, own in owners.items():
        by_owner.setdefault(own, []).append(cat)
    owner_text = {
        "council": "the council's own assets: it can retain and invest in them (rule R1), "
        "or review them (rule R4).",
        "partner public sector": "schools, the NHS, police, courts and fire: the council "
        "can secure access or a partnership (rule R2), never dispose of them.",
        "community and faith": "places of worship, community-run centres, clubs and "
        "charities: the council can secure access or a partnership (rule R2).",
    }
    parts += [
        (
            "Owner types",
            own.capitalize(),
            owner_text.get(own, "") + " Categories: " + ", ".join(cats) + ".",
        )
        for own, cats in by_owner.items()
        if cats
    ]
    parts += [
        ("Glossary", k, v)
        for k, v in [
            (
                "Within the walk",
                f"A resident's postcode is within {minutes:g} minutes' walk ({speed:g} m a "
                f"minute, {speed * minutes:,.0f} m) of an asset along the walk network.",
            ),
            (
                "Required asset",
                "The only asset of its category within the walk for some residents (a sole "
                "provider): closing it leaves them with none.",
            ),
            (
                "Overlapping coverage (capacity not considered)",
                "Every resident within the asset's walk also has another asset of its "
                "category within the walk. It says nothing about capacity, opening hours or "
                "quality, so it is not a case for disposal; only the council's own assets "
                "are reviewed (rule R4).",
            ),
            (
                "Minimal cover",
                "The smallest set of today's assets that keeps today's coverage of a bundle "
                "or category (solved exactly). There may be several equally small sets.",
            ),
            (
                "Suggested site",
                "A place that would newly bring the most residents within the walk of a "
                "bundle: an existing building from the register first (council buildings, "
                "community centres, libraries, schools for community use, places of "
                "worship); a bare postcode only as a labelled fallback.",
            ),
            (
                "One site for all bundles",
                "Per locality, the single site that would newly serve the most residents "
                "over the three bundles together (a resident counts once per bundle).",
            ),
            (
                "Register caveat",
                "The register holds fewer sites of that category than the "
                "council's own count, so a finding resting on it may not hold.",
            ),
            (
                "Proven optimal",
                "The solver proved that no better answer exists for the "
                "model as stated (read from HiGHS itself, not assumed).",
            ),
            *[(f"Rule {rid}", text) for rid, text in outline.rules.items()],
        ]
    ]
    caveats = caveat_rows(ctx, info)
    parts += [("Data caveats", k, v) for k, v in caveats]
    sb.table(
        pd.DataFrame(parts, columns=["part", "topic", "text"]),
        filtered=True,
        frozen=True,
        wrap=("text",),
    )
    return sb


# -- Summary -------------------------------------------------------------------------
def _headlines(outline: RequirementsOutline, ctx: WorkbookContext, info: RunInfo) -> list[str]:
    minutes, _ = info.walk()
    whole = whole_area(outline)
    bundles = [b for b in bundles_of(outline, ctx) if b in whole.index]
    bc = outline.business_case
    out = []
    if bundles:
        pop = int(as_number(whole.loc[bundles[0], "population"]))
        out.append(
            f"{ctx.area} has {pop:,} residents in {len(outline.localities)} localities"
            + (f"; the plan: {info.localities}" if info.localities else "")
            + "."
        )
    for b in bundles:
        r = whole.loc[b]
        within, beyond = (
            int(as_number(r["covered_population"])),
            int(as_number(r["gap_population"])),
        )
        out.append(
            f"{percent_text(r['covered_share'])}{_range(ctx, ctx.area, b)} of residents "
            f"({within:,}) are "
            f"within a {minutes:g}-minute walk of '{b}'; {beyond:,} are "
            "beyond it."
        )
    for b in bundles:
        worst = outline.summary.xs(b, level="measure")
        worst = worst[worst.index.isin(outline.localities)]
        if len(worst):
            loc = str(worst["gap_share"].idxmax())
            out.append(
                f"For '{b}' the largest gap is in {loc}: "
                f"{percent_text(worst.loc[loc, 'gap_share'])} of its residents are beyond the walk."
            )
    if len(bc):
        counts = rule_counts(bc)
        parts = []
        for rid, words in [
            ("R1", "council asset{s} to retain and invest in"),
            ("R2", "partner or community asset{s} to secure access to"),
            ("R3", "suggested site{s} for new provision"),
            ("R4", "council asset{s} to review"),
        ]:
            n = int(counts.get(rid, 0))
            parts.append(f"{n} {words.format(s='' if n == 1 else 's')} ({rid})")
        out.append(f"{len(bc)} business cases: " + "; ".join(parts) + ".")
        if int(counts.get("R4", 0)) == 0:
            n_overlap = len(outline.council_overlap)
            out.append(
                "No council asset is listed for review (R4): "
                + (
                    "none of the council's own assets has overlapping coverage; each is the "
                    "only one of its category within the walk for some residents."
                    if n_overlap == 0
                    else f"each of the council's {n_overlap} assets with overlapping coverage "
                    "is in a minimal cover, so it is needed to keep today's coverage."
                )
            )
        noted = int((bc["register_note"].fillna("") != "").sum()) if "register_note" in bc else 0
        if noted:
            out.append(
                f"{noted} of the {len(bc)} business cases rest on a category where the register "
                "is short of the council's count; each says so in its row."
            )
    sites = outline.new_sites
    if len(sites):
        n_post = int((sites["site_type"] != "existing building").sum())
        out.append(
            f"{len(sites)} suggested sites would newly bring "
            f"{sites['marginal_population'].sum():,.0f} residents within the walk of a bundle "
            f"({len(sites) - n_post} existing buildings, {n_post} postcode fallbacks)."
        )
    return out


def _range(ctx: WorkbookContext, locality: str, measure: str) -> str:
    """`` (66–75 %)``: the range of a share from ``ctx.ranges``, or "" without one."""
    if ctx.ranges is None:
        return ""
    hit = ctx.range_index.get((locality, measure))
    if hit is None:
        return ""
    text = range_text(*hit)
    return " " + text.split(" ", 2)[2]


def _grid(outline: RequirementsOutline, ctx: WorkbookContext) -> pd.DataFrame:
    bundles = list(bundles_of(outline, ctx))
    s = outline.summary
    rows = []
    for loc in [*outline.localities, None]:
        part = whole_area(outline) if loc is None else s.xs(loc, level="locality")
        row: dict[str, Any] = {"locality": ctx.area + " (all)" if loc is None else loc}
        first = next((b for b in bundles if b in part.index), None)
        row["population"] = int(as_number(part.loc[first, "population"])) if first else None
        for b in bundles:
            row[f"share: {b}"] = (
                as_number(part.loc[b, "covered_share"]) if b in part.index else None
            )
            if ctx.ranges is not None:
                row[f"range: {b}"] = _range(ctx, ctx.area if loc is None else loc, b).strip(" ()")
        if ctx.coverage is not None and "all three bundles" in ctx.coverage.index:
            col = ctx.area if loc is None else loc
            if col in ctx.coverage.columns:
                row["share: all three bundles"] = (
                    as_number(ctx.coverage.loc["all three bundles", col]) / 100
                )
                if ctx.ranges is not None:
                    row["range: all three bundles"] = _range(ctx, col, "all three bundles").strip(
                        " ()"
                    )
        bc = outline.business_case
        here = bc if loc is None else bc[bc["locality"] == loc]
        row["business cases"] = len(here)
        sites = outline.new_sites
        row["suggested sites"] = len(sites if loc is None else sites[sites["locality"] == loc])
        rows.append(row)
    return pd.DataFrame(rows)


def _summary(outline: RequirementsOutline, ctx: WorkbookContext, info: RunInfo) -> SheetBuilder:
    minutes, _ = info.walk()
    sb = SheetBuilder("Summary")
    sb.title_rows(f"{ctx.area}: summary of the outline of asset requirements", info.network)
    sb.section("Headline findings")
    for i, text in enumerate([*_headlines(outline, ctx, info), proof_text(outline, info)], start=1):
        sb.line(f"{i}. {text}", wrap=True)
    for text in ctx.notes:
        sb.line(text, wrap=True)
    sb.section(
        f"Share of residents within a {minutes:g}-minute walk, by locality and bundle",
        "Filter or sort the grid with the arrows in its heading row.",
    )
    sb.table(_grid(outline, ctx), filtered=True)
    bc = outline.business_case
    if len(bc):
        sb.section("Business cases by rule and owner type")
        keys = [c for c in ("rule", "action", "owner_type") if c in bc.columns]
        counts = bc.groupby(keys, dropna=False).size() if keys else pd.Series(dtype=int)
        sb.table(counts.rename("cases").reset_index())
    return sb


# -- locality profile ----------------------------------------------------------------
def _hub_section(sb: SheetBuilder, ctx: WorkbookContext, loc: str) -> None:
    """Add the locality's hub when ``ctx.hubs`` is given (the hook for issue 12)."""
    if ctx.hubs is None or loc not in ctx.hubs.index:
        return
    sb.section("Hub", "The one site that best serves the locality as its hub.")
    hub = ctx.hubs.loc[[loc]].reset_index(drop=True)
    for col in [c for c in hub.columns if str(c).endswith("_pct")]:
        hub[col] = pd.to_numeric(hub[col], errors="coerce") / 100  # one format: a share
    sb.table(
        hub,
        ["hub_name", "residents", "residents_within", "share_pct", "mean_minutes", "status"],
    )


def _equity_section(sb: SheetBuilder, ctx: WorkbookContext, loc: str) -> None:
    """Add the locality's deprivation and age lines when given (issue 11)."""
    if ctx.equity is None or loc not in ctx.equity:
        return
    sb.section("Deprivation and age", ctx.equity_note)
    sb.table(ctx.equity[loc], max_rows=MAX_TABLE_ROWS)


def _locality(
    outline: RequirementsOutline, ctx: WorkbookContext, info: RunInfo, loc: str, title: str
) -> SheetBuilder:
    minutes, _ = info.walk()
    t = outline.for_locality(loc)
    bundles = bundles_of(outline, ctx)
    summ = t["summary"]
    sb = SheetBuilder(title)
    wards = None
    if ctx.wards is not None and "locality" in ctx.wards.columns:
        wards = ctx.wards[ctx.wards["locality"] == loc]
    first = next((b for b in bundles if b in summ.index), None)
    pop = int(as_number(summ.loc[first, "population"])) if first else None
    ward_names = ", ".join(sorted(wards["ward_name"].astype(str))) if wards is not None else ""
    sb.title_rows(
        f"Locality: {loc}",
        (f"Wards: {ward_names}. " if ward_names else "")
        + (f"{pop:,} residents." if pop is not None else ""),
    )
    if wards is not None:
        sb.section("Wards")
        sb.table(
            wards.reset_index().sort_values("ward_name"),
            ["ward_name", "ward_code", "population", "assets"],
        )
    figures: list[tuple[str, Any]] = []
    fmt: dict[str, str] = {}
    if ctx.locality_figures is not None and loc in ctx.locality_figures.index:
        f = ctx.locality_figures.loc[loc]
        figures += [
            ("Residents", int(as_number(f["population"]))),
            ("Assets in the register", int(as_number(f["assets"]))),
        ]
        for key, words in [("population_dev_pct", "Residents"), ("assets_dev_pct", "Assets")]:
            if key in f:
                figures.append((f"{words} against the average locality", as_number(f[key]) / 100))
                fmt[f"{words} against the average locality"] = "+0.0%;-0.0%;0.0%"
    bc = t["business_case"]
    counts = rule_counts(bc)
    figures.append(
        (
            "Business cases",
            f"{len(bc)}: " + ", ".join(f"{int(n)} {r}" for r, n in counts.items())
            if len(bc)
            else "0",
        )
    )
    figures.append(("Suggested sites", len(t["new_sites"])))
    for k, _ in figures:
        fmt.setdefault(k, "#,##0")
    sb.section("Key figures")
    sb.pairs(figures, fmt_of=fmt)
    cols = ["population", "covered_population", "covered_share", "gap_population", "n_assets",
            "n_required", "n_in_minimal_cover"]  # fmt: skip
    sb.section(f"Coverage by bundle (a {minutes:g}-minute walk)")
    by_bundle = summ[summ.index.isin(list(bundles))].rename_axis("measure").reset_index()
    by_bundle["measure"] = by_bundle["measure"].astype(str)
    sb.table(by_bundle.rename(columns={"measure": "bundle"}), ["bundle", *cols])
    sb.section("Coverage by category")
    by_cat = summ[~summ.index.isin(list(bundles))].rename_axis("category").reset_index()
    by_cat["owner_type"] = [owner_of(ctx, c) for c in by_cat["category"]]
    by_cat["register_note"] = [short_note(ctx, c) for c in by_cat["category"]]
    sb.table(by_cat, ["category", "owner_type", *cols, "register_note"])
    _hub_section(sb, ctx, loc)
    _equity_section(sb, ctx, loc)
    sb.section(
        "Business cases",
        "The filter arrows are on this table. Rules in 'Read me' and 'Method and proof'.",
    )
    sb.table(
        bc,
        list(LOCALITY_CASE_COLUMNS),
        filtered=True,
        max_rows=MAX_TABLE_ROWS,
        more="More cases in the 'Business cases' sheet.",
    )
    sb.section(
        "Required assets",
        "Closing one of these leaves residents with no other asset of its category within "
        "the walk; ranked by those residents.",
    )
    req = t["required"].copy()
    req["register_note"] = [short_note(ctx, c) for c in req["category"]]
    sb.table(
        req,
        [
            "name",
            "category",
            "owner_type",
            "sole_population",
            "covered_population",
            "rank",
            "address",
            "register_note",
        ],
        max_rows=MAX_TABLE_ROWS,
        more=f"More in '{DATA_SHEETS['required'][0]}'.",
    )
    sb.section(
        "The council's own assets with overlapping coverage (capacity not considered)",
        "Other owners' assets with overlapping coverage are listed, by owner type, in "
        f"'{DATA_SHEETS['overlap'][0]}'; overlap is never a case for disposing of a school, "
        "a GP practice or a place of worship.",
    )
    sb.table(
        t["council_overlap"],
        ["name", "category", "covered_population", "in_minimal_cover_of", "r4", "why"],
        empty="None: each of the council's assets here is the only one of its category "
        "within the walk for some residents (rule R4 cannot apply).",
    )
    _gaps_section(sb, outline, t, bundles)
    return sb


def _gaps_section(
    sb: SheetBuilder,
    outline: RequirementsOutline,
    t: Mapping[str, pd.DataFrame],
    bundles: Mapping[str, Sequence[str]],
) -> None:
    summ, sites = t["summary"], t["new_sites"]
    sb.section(
        "Gaps and suggested sites",
        f"Each postcode beyond the walk is listed in '{DATA_SHEETS['gaps'][0]}'.",
    )
    rows = []
    for b in bundles:
        if b not in summ.index:
            continue
        here = sites[sites["measure"] == b] if len(sites) else sites
        rows.append(
            {
                "bundle": b,
                "gap_population": summ.loc[b, "gap_population"],
                "gap_share": summ.loc[b, "gap_share"],
                "suggested sites": len(here),
                "residents they add": float(here["marginal_population"].sum())
                if len(here)
                else 0.0,
            }
        )
    sb.table(pd.DataFrame(rows))
    sb.section("Suggested sites, per bundle")
    sb.table(
        sites.rename(columns={"measure": "bundle"}),
        [
            "bundle",
            "name",
            "address",
            "site_type",
            "category",
            "owner_type",
            "marginal_population",
        ],
        empty="None: no building or postcode would newly bring enough residents within the walk.",
    )
    sb.section(
        "One site for all three bundles",
        "The single site that would newly serve the most residents over the bundles together.",
    )
    combined = t["combined_site"]
    extra = [c for c in combined.columns if str(c).startswith("residents: ")]
    sb.table(
        combined.reset_index(drop=True),
        [
            "name",
            "address",
            "site_type",
            "category",
            "owner_type",
            "residents_newly_within",
            *extra,
        ],
        empty="None: no single site would newly bring enough residents within the walk.",
    )


def write_requirements_xlsx(
    outline: RequirementsOutline,
    path: str | os.PathLike[str] | None = None,
    *,
    run_info: RunInfo | None = None,
    method_extra: Mapping[str, Any] | None = None,
    context: WorkbookContext | None = None,
    sheets: Sequence[Callable[[Any], object]] = (),
) -> Path:
    """Write the outline of asset requirements as a briefing workbook, atomically, once.

    Parameters
    ----------
    outline
        From :func:`nwm_geo.requirements.outline`.
    path
        Destination; ``settings.reports_dir() / "asset_requirements.xlsx"`` by default.
    run_info
        The method and provenance text; by default read from ``outline.method`` (with
        ``method_extra``).
    method_extra
        More method entries when ``run_info`` is not given (e.g. data dates).
    context
        The area, its wards and plan, the reconciliation, bundles and owners
        (:class:`WorkbookContext`); sections without data are left out.
    sheets
        Producers of more sheets, each called with the open workbook, in order (e.g.
        :func:`equity_sheet`, :func:`closure_impact_sheet`, :func:`hub_sheet`); the
        sheets they add get the briefing's set-up (:func:`finish_sheets`) and the file is
        saved once.

    Returns
    -------
    Path
        The written file. Sheets: "Read me", "Summary", one per locality, "Business
        cases", "Method and proof", then the data sheets (:data:`DATA_SHEETS`).

    Raises
    ------
    NwmGeoError
        If both ``run_info`` and ``method_extra`` are given.
    """
    path = Path(settings.reports_dir() / "asset_requirements.xlsx" if path is None else path)
    if run_info is not None and method_extra:
        raise NwmGeoError("give run_info or method_extra, not both")
    info = resolve_run_info(
        run_info,
        None if run_info is not None else {**outline.method, **dict(method_extra or {})},
        what="method",
    )
    ctx = context or WorkbookContext()
    taken = {"read me", "summary", "business cases", "method and proof"}
    taken |= {name.lower() for name, _ in DATA_SHEETS.values()}
    names = {loc: sheet_name(loc, taken) for loc in outline.localities}
    builders = [_readme(outline, ctx, info, names), _summary(outline, ctx, info)]
    builders += [_locality(outline, ctx, info, loc, names[loc]) for loc in outline.localities]
    builders += [business_sheet(outline), method_sheet(outline, info, method_extra)]
    builders += data_sheets(outline, ctx)
    # streamed (write-only) when the briefing is all; else built in memory for the producers
    wb = Workbook(write_only=not sheets)
    if sheets:
        wb.remove(wb.active)
    for sb in builders:
        sb.write(wb)
    for produce in sheets:
        produce(wb)
    if sheets:
        finish_sheets(wb)
    save_workbook(wb, path)  # the one save
    return path
