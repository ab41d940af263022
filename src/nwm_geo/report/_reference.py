"""The briefing's reference sheets: "Business cases", "Method and proof", the data sheets.

Each is a :class:`._sheet.SheetBuilder` that :func:`write_requirements_xlsx` streams
into the workbook after the reading sheets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from nwm_geo.report._context import (
    CASE_COLUMNS,
    DATA_SHEETS,
    WorkbookContext,
    bundles_of,
    owner_of,
)
from nwm_geo.report._method import RunInfo, method_rows
from nwm_geo.report._sheet import SheetBuilder, public_columns
from nwm_geo.requirements import RequirementsOutline

__all__: list[str] = []


def business_sheet(outline: RequirementsOutline) -> SheetBuilder:
    sb = SheetBuilder("Business cases")
    sb.line("Business cases: every case, one row each. Sort and filter with the heading arrows.")
    sb.print_rows = "1:1"
    # every column of the list (a council's own included), never a personal-data one
    cases = outline.business_case
    sb.table(
        cases, public_columns(cases.reset_index(), list(CASE_COLUMNS)), filtered=True, frozen=True
    )
    sb.print_rows = f"1:{int(sb.freeze[1:]) - 1}" if sb.freeze else "1:2"
    return sb


def method_sheet(
    outline: RequirementsOutline, info: RunInfo, extra: Mapping[str, Any] | None
) -> SheetBuilder:
    sb = SheetBuilder("Method and proof")
    sb.title_rows("Method and proof", "The settings of this run and what the solver proved.")
    sb.section("Method")
    rows = method_rows(outline, run_info=info) if not extra else method_rows(outline, **dict(extra))
    sb.pairs(rows)
    sb.section(
        "Optimisations and their proof",
        "Read from HiGHS's own model status and bound, never from PuLP's word 'Optimal'.",
    )
    sb.table(
        outline.solver_status,
        [
            "problem",
            "measure",
            "scope",
            "label",
            "proven_optimal",
            "model_status",
            "mip_gap",
            "objective",
            "bound",
            "solver",
        ],
        filtered=True,
    )
    return sb


def data_sheets(outline: RequirementsOutline, ctx: WorkbookContext) -> list[SheetBuilder]:
    ward_name = (
        ctx.wards["ward_name"] if ctx.wards is not None and "ward_name" in ctx.wards else None
    )
    bundles = [b for b in bundles_of(outline, ctx) if b in outline.gap_points.columns]
    gp = outline.gap_points
    gaps = pd.DataFrame(index=gp.index)
    if len(gp) and bundles:
        beyond = gp[bundles].astype(bool)
        gp = gp[beyond.any(axis=1)]
        gaps = pd.DataFrame(
            {
                "postcode": gp.index.astype(str),
                "locality": gp["locality"],
                "ward_name": gp["ward_code"].map(ward_name) if ward_name is not None else "",
                "ward_code": gp["ward_code"],
                "population": gp["population"],
                **{f"beyond: {b}": gp[b].astype(bool) for b in bundles},
            }
        ).reset_index(drop=True)
    overlap = outline.redundant.copy()
    if len(overlap) and "owner_type" not in overlap.columns:
        overlap["owner_type"] = [owner_of(ctx, c) for c in overlap["category"]]
    if len(overlap):
        overlap = overlap.sort_values(["owner_type", "locality", "category"], kind="stable")
    tables: dict[str, tuple[pd.DataFrame, list[str]]] = {
        "coverage": (
            outline.summary,
            [
                "locality",
                "measure",
                "population",
                "covered_population",
                "covered_share",
                "gap_population",
                "gap_share",
                "n_assets",
                "n_required",
                "n_redundant",
                "n_in_minimal_cover",
            ],
        ),
        "required": (
            outline.required,
            [
                "locality",
                "name",
                "category",
                "owner_type",
                "sole_population",
                "covered_population",
                "rank",
                "address",
                "ward_name",
                "asset_id",
            ],
        ),
        "overlap": (
            overlap,
            [
                "owner_type",
                "locality",
                "name",
                "category",
                "covered_population",
                "n_overlapping",
                "redundancy",
                "address",
                "ward_name",
                "asset_id",
            ],
        ),
        "needed": (
            outline.needed,
            [
                "measure",
                "locality",
                "name",
                "category",
                "required",
                "in_minimal_cover",
                "reason",
                "asset_id",
            ],
        ),
        "sites": (
            outline.new_sites,
            [
                "locality",
                "measure",
                "name",
                "address",
                "site_type",
                "category",
                "owner_type",
                "marginal_population",
                "gap_population_within",
                "lon",
                "lat",
                "site_id",
            ],
        ),
        "gaps": (gaps, []),
    }
    out = []
    for key, (frame, cols) in tables.items():
        name, what = DATA_SHEETS[key]
        sb = SheetBuilder(name)
        sb.line(f"Data sheet: {what}.")
        sb.table(frame, cols or None, filtered=True, frozen=True)
        sb.print_rows = "1:2"
        out.append(sb)
    return out
