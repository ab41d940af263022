"""What the workbook says beyond the outline, its constants and shared helpers.

:class:`WorkbookContext` (wards, plan, register, owners, hub and equity hooks), the
bundles' meanings, the data sheets, the helpers the briefing sheets share, and
:func:`index_findings` (the headline findings the HTML index shows, from the same
sentences as the workbook's Summary).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pandas as pd

from nwm_geo import settings
from nwm_geo.report._method import RunInfo
from nwm_geo.requirements import (
    BUSINESS_CASE_COLUMNS,
    RequirementsOutline,
    register_shortfall,
)

__all__ = [
    "BUNDLE_MEANING",
    "CASE_COLUMNS",
    "DATA_SHEETS",
    "LOCALITY_CASE_COLUMNS",
    "READING_ROW_LIMIT",
    "WorkbookContext",
]

#: Every sheet meant for reading stays under this many rows; longer tables go to data sheets.
READING_ROW_LIMIT: int = 300

#: What each bundle of the Neighbourhood Working Model means, in plain words.
BUNDLE_MEANING: dict[str, str] = {
    "somewhere to go": (
        "a place residents can simply go to and be among others: a community centre, a "
        "library, a place of worship, a cultural centre"
    ),
    "something to do": (
        "an activity to take part in: sport and leisure, a library's or a community "
        "centre's programme, a cultural venue"
    ),
    "someone to see": (
        "a person who can help: a GP or health service, advice, the council's own "
        "services, a charity"
    ),
}

#: Rows of one table on a reading sheet before the rest is left to a data sheet.
MAX_TABLE_ROWS = 60

#: The business-case columns in the order every sheet shows them: the case number and
#: its locality first, then :data:`nwm_geo.requirements.BUSINESS_CASE_COLUMNS` (the one
#: definition of the columns and their order); a locality's sheet leaves out ``case``,
#: ``locality`` and ``id`` (:data:`LOCALITY_CASE_COLUMNS`).
CASE_COLUMNS: tuple[str, ...] = (
    "case",
    "locality",
    *(c for c in BUSINESS_CASE_COLUMNS if c != "locality"),
)
LOCALITY_CASE_COLUMNS: tuple[str, ...] = tuple(
    c for c in CASE_COLUMNS if c not in {"case", "locality", "id"}
)

#: The data sheets, by key: (sheet name, what it holds).
DATA_SHEETS: dict[str, tuple[str, str]] = {
    "coverage": ("Data - coverage", "coverage per locality and measure (bundle or category)"),
    "required": ("Data - required assets", "every required asset (sole provider)"),
    "overlap": (
        "Data - overlapping coverage",
        "every asset with overlapping coverage, by owner type (capacity not considered; "
        "not a disposals list)",
    ),
    "needed": ("Data - assets needed", "required assets and the minimal covers, per measure"),
    "sites": ("Data - suggested sites", "every suggested site, per bundle and locality"),
    "gaps": ("Data - postcodes beyond", "every residential postcode beyond the walk of a bundle"),
}


@dataclass(frozen=True)
class WorkbookContext:
    """What the workbook says beyond the requirements outline: the area and its plan.

    Every field is optional; a section whose data is not given is left out.

    Parameters
    ----------
    area
        The area's name ("Luton").
    wards
        Indexed by ``ward_code``: ``ward_name``, ``population``, ``assets``, ``locality``.
    locality_figures
        The plan's metrics indexed by locality (``LocalityPlan.summary``):
        ``population``, ``assets``, ``population_dev_pct``, ``assets_dev_pct``.
    reconciliation
        :func:`nwm_geo.data.reconciliation` (council count, register count, gap).
    bundles
        Bundle name -> categories.
    owners
        Category -> owner type (the area profile's ``[owners]``).
    coverage
        Shares within the walk (percent), measures x localities plus the whole area
        (``pipeline.coverage_by_locality``); gives the "all three bundles" column.
    hubs
        Hook for the hubs (issue 12): indexed by ``locality`` with the columns of
        ``hubs.csv`` (``hub_name``, ``residents_within``, ``share_pct``,
        ``mean_minutes``, ``runner_up_asset_id``, ``status``). Adds a "Hub" section.
    equity
        Deprivation and age (issue 11): locality -> its lines per measure
        (``pipeline.equity_sections``). Adds a "Deprivation and age" section to each
        locality sheet: the one place the workbook shows them per locality.
    equity_note
        The note under that section (the walking speeds per age band and their
        sources, ``EquityTables.speeds_note``).
    ranges
        :func:`nwm_geo.uncertainty.headline_ranges`: each share's low–high range is
        printed beside it (headlines and grid).
    notes
        Sentences printed under the summary's headline findings (the rural note of
        :func:`nwm_geo.rural.rural_notes`, where walking is not the main mode).
    """

    area: str = "the area"
    wards: pd.DataFrame | None = None
    locality_figures: pd.DataFrame | None = None
    reconciliation: pd.DataFrame | None = None
    bundles: Mapping[str, Sequence[str]] | None = None
    owners: Mapping[str, str] | None = None
    coverage: pd.DataFrame | None = None
    hubs: pd.DataFrame | None = None
    equity: Mapping[str, pd.DataFrame] | None = None
    equity_note: str = ""
    ranges: pd.DataFrame | None = None
    notes: Sequence[str] = ()

    @cached_property
    def range_index(self) -> dict[tuple[Any, Any], tuple[Any, Any, Any]]:
        """``ranges`` by (locality, measure): (published, low, high) %, the first row of each.

        Indexed once per context, not filtered again for each of the workbook's shares.
        """
        out: dict[tuple[Any, Any], tuple[Any, Any, Any]] = {}
        r = self.ranges
        if r is None:
            return out
        cols = ["locality", "measure", "published_pct", "low_pct", "high_pct"]
        for loc, measure, published, low, high in zip(*(r[c] for c in cols), strict=True):
            out.setdefault((loc, measure), (published, low, high))
        return out


# -- helpers -------------------------------------------------------------------------
def bundles_of(outline: RequirementsOutline, ctx: WorkbookContext) -> dict[str, tuple[str, ...]]:
    if ctx.bundles is not None:
        return {b: tuple(c) for b, c in ctx.bundles.items()}
    measures = outline.summary.index.get_level_values("measure").unique()
    return {m: () for m in measures if m not in settings.CATEGORIES}


def whole_area(outline: RequirementsOutline) -> pd.DataFrame:
    """Return the summary rows of the whole area (the locality that is not a locality)."""
    at = ~outline.summary.index.get_level_values("locality").isin(outline.localities)
    return outline.summary[at].droplevel("locality")


def owner_of(ctx: WorkbookContext, category: str) -> str:
    owners = ctx.owners if ctx.owners is not None else settings.CATEGORY_OWNERS
    return owners.get(category, "")


def short_note(ctx: WorkbookContext, category: str) -> str:
    short = register_shortfall(ctx.reconciliation)
    if category not in short:
        return ""
    known, council = short[category]
    return f"register short: {known} of the council's {council} known"


def rule_counts(bc: pd.DataFrame) -> pd.Series:
    """Count business cases per rule (empty when there are none or no rule column)."""
    if len(bc) == 0 or "rule" not in bc.columns:
        return pd.Series(dtype=int)
    return bc.groupby("rule").size()


def percent_text(x: Any) -> str:
    return f"{100 * float(x):.1f} %"


def as_number(x: Any) -> float:
    """One cell of a table as a number (pandas' scalar types are too wide for mypy)."""
    return float(x)


def caveat_rows(ctx: WorkbookContext, info: RunInfo) -> list[tuple[str, str]]:
    """Return the data caveats as (topic, text): network, register, capacity, dates."""
    caveats: list[tuple[str, str]] = []
    if info.is_approximate:
        caveats.append(
            (
                "Walk network",
                f"Walk times come from an approximate network built from postcode "
                f"proximity ({info.network}), not the OpenStreetMap streets; treat them as "
                "indicative.",
            )
        )
    if info.register:
        caveats.append(("Register", info.register))
    short = register_shortfall(ctx.reconciliation)
    if short:
        caveats.append(
            (
                "Categories short of the council's count",
                "; ".join(f"{c}: {k} of {n}" for c, (k, n) in short.items())
                + ". A business case in these categories says so in its row.",
            )
        )
    caveats += [
        (
            "Capacity",
            "Capacity, opening hours and condition are not in the data: coverage "
            "means a walk, not a place at the table.",
        ),
        (
            "Places of worship and schools",
            "A suggested place of worship or school is a "
            "building that could host a service: whether it has a hall and would agree to "
            "community use needs a visit and a conversation.",
        ),
    ]
    if info.data_dates:
        caveats.append(("Data dates", info.data_dates))
    caveats.append(("Sources and licences", info.sources_text()))
    return caveats


def proof_text(outline: RequirementsOutline, info: RunInfo) -> str:
    """Return one sentence on what the solver proved."""
    st = outline.solver_status
    proven = st["proven_optimal"].astype(bool)
    text = (
        f"{int(proven.sum())} of {len(st)} optimisations of the requirements are proven "
        "optimal (read from HiGHS's own status and bound, or by exhaustive enumeration)"
    )
    if not proven.all():
        text += "; the others: " + ", ".join(sorted(set(st.loc[~proven, "label"].astype(str))))
    if info.localities:
        text += f". Localities: {info.localities}"
    return text + ". Details in the workbook's 'Method and proof' sheet."
