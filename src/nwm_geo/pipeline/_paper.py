"""Outputs for people who read on paper: ward profiles, ward tables, hub options.

In: a :class:`~nwm_geo.pipeline.Study`. Out (under ``reports/``): the ward profiles
(``ward_profiles.pdf``), the per-ward table with travel-time bands
(``tables/coverage_wards.csv``), travel-time bands per locality
(``tables/travel_time_bands_localities.csv``), the hub options appraisal
(``tables/hub_options.csv``), and the "Wards" and "Hub options" sheets of the
workbook. Every figure is the study's own (coverage, nearest minutes, the equity
groups, the hubs' scores); nothing is recomputed another way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nwm_geo import coverage, hubs, network, report
from nwm_geo.pipeline._study import Study
from nwm_geo.pipeline._write import write_csv

__all__ = [
    "hub_headlines",
    "lead_with_hubs",
    "paper_sheets",
    "ward_profiles",
    "write_paper_outputs",
]


def _case_wards(study: Study) -> pd.Series:
    """Return the ward of each business case's site (register asset or postcode)."""
    cases = study.outline.business_case
    reg_ward = study.register["ward_code"]
    pc_ward = study.demand["ward_code"]

    def ward(case_id: object) -> object:
        text = str(case_id)
        for prefix in ("asset:", "postcode:"):
            text = text.removeprefix(prefix)
        if text in reg_ward.index:
            return reg_ward[text]
        return pc_ward.get(text)

    return cases["id"].map(ward)


_NONE = np.array([], dtype=np.intp)


def _rows_by(codes: pd.Series) -> dict[Any, Any]:
    """Each code's row positions, in order: ``frame.iloc[pos]`` is ``frame[codes == code]``."""
    return dict(codes.groupby(codes.to_numpy(), sort=False).indices)


def ward_profiles(study: Study) -> list[report.WardProfile]:
    """Return one :class:`~nwm_geo.report.WardProfile` per ward, by locality then name."""
    bands, summary = study.ward_bands, study.ward_summary
    labels = coverage.band_labels()
    demand = study.demand
    # the columns group_split reads, taken once (not every demand column per ward)
    wanted = ["population", "imd_quintile", *coverage.AGE_BANDS]
    groups_of = demand[[c for c in wanted if c in demand.columns]]
    bundles = list(study.bundles)
    beyond = study.outline.gap_points  # one boolean column per bundle (and category)
    reg = study.register
    inside = reg["inside_area"].astype(bool) if "inside_area" in reg.columns else True
    named, reg_wards = reg[["name", "category"]], reg["ward_code"]  # a frame, not geo
    cases = study.outline.business_case.assign(ward_code=_case_wards(study))
    # each ward's rows of the bands and the postcodes, found in one pass (not per ward)
    band_rows = _rows_by(bands["ward_code"])
    point_rows = _rows_by(demand["ward_code"])
    # the sums of coverage.group_split, of each ward's points by position: the group
    # columns converted once for all points (not once per ward and bundle); its labels
    # are the same for every ward
    cols = coverage.GroupColumns.of(groups_of)
    population = groups_of["population"].to_numpy(dtype=float)
    group_labels = coverage.group_split(
        groups_of.iloc[:0].assign(_all=1.0), weight="_all", partial=True
    )["label"]
    ones = np.ones(len(demand))
    flags = {
        b: beyond[b].reindex(demand.index, fill_value=False).astype(float).to_numpy()
        for b in bundles
    }

    def residents(at: np.ndarray, weight: np.ndarray) -> np.ndarray:
        split = coverage.split_residents(cols, population[at], weight[at], at)
        return pd.Series([r for _, _, r in split], dtype=float).round().to_numpy()

    out = []
    for code, s in summary.iterrows():
        t = bands.iloc[band_rows.get(code, _NONE)]
        cov = pd.DataFrame(
            {
                "measure": t["measure"],
                "within %": 100 * t["covered_share"],
                **{c: t[c].round() for c in labels},
            }
        )
        at = np.asarray(point_rows.get(code, _NONE), dtype=np.intp)
        table = pd.DataFrame({"group": group_labels, "residents": residents(at, ones)})
        for bundle in bundles:
            table[str(bundle)] = residents(at, flags[bundle])
        sites = named[inside & (reg_wards == code)]
        here = cases[cases["ward_code"] == code].reset_index()
        hub = (
            f"Hub of {s['locality']}: {s['hub_name']}; "
            f"{s['hub_residents_within_walk']:,.0f} of the ward's residents within the walk "
            f"of it; mean walk {s['hub_mean_minutes']:.0f} minutes."
            if s["hub_name"]
            else f"{s['locality']} has no hub candidate."
        )
        out.append(
            report.WardProfile(
                code=str(code),
                name=str(s["ward_name"]),
                locality=str(s["locality"]),
                residents=float(s["population"]),
                coverage=cov.reset_index(drop=True),
                beyond=table,
                sites=sites.sort_values(["category", "name"]),
                cases=here,
                hub=hub,
            )
        )
    return out


def _balance_sentence(study: Study) -> str:
    """Return the plan's balance in words: the worst deviation, where and of what."""
    plan = study.plan
    summ = plan.summary
    devs = [c for c in summ.columns if str(c).endswith("_dev_pct")]
    status = "proven optimal" if plan.proven_optimal else plan.status
    if not devs or len(summ) == 0:
        return (
            f"Balance: the worst deviation from an equal share is {plan.objective:.1%} ({status})."
        )
    table = summ[devs].astype(float)
    col = table.abs().max().idxmax()
    series = table[col].to_numpy(dtype=float)
    worst = int(abs(series).argmax())
    loc, dev = str(table.index[worst]), float(series[worst])
    what = "residents" if col == "population_dev_pct" else str(col).removesuffix("_dev_pct")
    return (
        f"Balance: the localities are within {abs(dev):.1f}% of an equal share of "
        f"{what}, the worst deviation: {loc} has {abs(dev):.1f}% "
        f"{'more' if dev > 0 else 'fewer'} {what} than an equal share ({status}; the "
        f"solver's weighted worst deviation is {plan.objective:.1%})."
    )


def hub_headlines(study: Study) -> list[str]:
    """Return what the index leads with: the hubs finding, the town centre, the balance.

    Returns
    -------
    list of str
        One sentence on the hubs (each locality's hub, the residents within the walk
        and the mean walk), the town-centre answer when the profile names its wards, a
        warning where walking is the wrong lens (the localities' median mean walk to their
        hub over 30 minutes),
        and the balance in words.
    """
    table = study.hubs
    minutes = study.settings.minutes
    parts = [
        f"{r['locality']}: {r['hub_name']} ({r['residents_within']:,.0f} of "
        f"{r['residents']:,.0f} residents, {r['share_pct']:.0f}%, within the walk; mean "
        f"walk {r['mean_minutes']:.0f} min)"
        if r["hub_name"]
        else f"{r['locality']}: no hub candidate"
        for _, r in table.iterrows()
    ]
    out = [
        f"Community hubs, one per locality, each the site that brings the most of its "
        f"locality's residents within a {minutes:g}-minute walk: " + "; ".join(parts) + "."
    ]
    if study.profile.town_centre_wards:
        out.append(
            hubs.town_centre_answer(
                study.hub_option_table, town_centre_wards=study.profile.town_centre_wards
            )
        )
    mean = pd.to_numeric(table["mean_minutes"], errors="coerce").dropna()
    if len(mean) and float(mean.median()) > 30:  # most localities' walks are long
        out.append(
            f"Walking is the wrong lens for hubs in {study.profile.name}: the mean walk to "
            f"a locality's hub is {mean.min():.0f} to {mean.max():.0f} minutes. Read the "
            "travel-time bands (tables/coverage_wards.csv, ward_profiles.pdf) and plan "
            "hubs for other transport too."
        )
    out.append(_balance_sentence(study))
    return out


def lead_with_hubs(study: Study, findings: report.IndexFindings) -> report.IndexFindings:
    """Return the index's findings led by :func:`hub_headlines`."""
    return replace(findings, headlines=(*hub_headlines(study), *findings.headlines))


def paper_sheets(study: Study) -> list[Callable[[Any], object]]:
    """Return the workbook's "Wards" and "Hub options" sheets, as producers.

    For :func:`nwm_geo.report.write_requirements_xlsx` (``sheets``), after
    :func:`~nwm_geo.pipeline.workbook_sheets`: placed after "Read me" (the workbook then
    puts "Summary" first), they read third and fourth.
    """
    minutes = study.settings.minutes
    summary, options = study.ward_summary, study.hub_option_table
    walk = f"{minutes:g}-minute walk"
    answer = hubs.town_centre_answer(options, town_centre_wards=study.profile.town_centre_wards)
    return [
        partial(
            report.table_sheet,
            name="Wards",
            title=f"Wards: find your ward ({len(summary)} wards of {study.profile.name})",
            notes=[
                f"Per ward: residents, sites, the share of residents within a {walk} of "
                "each bundle and the residents beyond it, and the walk to the locality's "
                "hub. Travel-time bands per ward are in tables/coverage_wards.csv; one page "
                "per ward in ward_profiles.pdf."
            ],
            table=summary,
            position=1,
        ),
        partial(
            report.table_sheet,
            name="Hub options",
            title="Hub options: every candidate, scored and ranked in its locality",
            notes=[
                "Residents of the locality within the walk of each candidate, their share "
                "and the mean walk; rank 1 is the locality's hub (hubs.csv). Candidates: the "
                "register's sites of the hub categories, the council's named sites and any "
                "added with nwm-geo hubs --site.",
                answer,
            ],
            # a share as a fraction, so the sheet's percent format reads 39.5 %, not 3,946 %
            table=options.assign(share_pct=options["share_pct"] / 100)
            .rename(columns={"share_pct": "share_within"})
            .set_index("locality"),
            position=2,
        ),
    ]


def write_paper_outputs(study: Study, out: Path) -> list[tuple[str, Path]]:
    """Write the ward profiles, the ward and band tables and the hub options.

    Parameters
    ----------
    study
        The study.
    out
        The ``reports`` folder (of the area).

    Returns
    -------
    list of (title, Path)
        The files written, with their titles for ``index.html``. Their workbook sheets
        are :func:`paper_sheets`.
    """
    footer = [study.network_label]
    if study.network_approximate:
        footer.append(network.APPROXIMATION_ERROR_NOTE)
    footer.append(study.profile.boundary_note)
    pdf = report.write_ward_profiles(
        out / "ward_profiles.pdf",
        ward_profiles(study),
        area_name=study.profile.name,
        footer=footer,
    )
    return [
        ("Ward profiles: one page per ward (PDF)", pdf),
        (
            "Coverage per ward, with travel-time bands",
            write_csv(study.ward_bands, out / "tables" / "coverage_wards.csv", index=False),
        ),
        (
            "Travel-time bands per locality",
            write_csv(
                study.locality_bands,
                out / "tables" / "travel_time_bands_localities.csv",
                index=False,
            ),
        ),
        (
            "Hub options appraisal",
            write_csv(study.hub_option_table, out / "tables" / "hub_options.csv", index=False),
        ),
    ]
