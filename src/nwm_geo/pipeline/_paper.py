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

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from nwm_geo import coverage, hubs, network, report, requirements
from nwm_geo._units import within_minutes
from nwm_geo.pipeline._study import Study
from nwm_geo.pipeline._write import write_csv

__all__ = [
    "coverage_within",
    "hub_headlines",
    "hub_option_table",
    "lead_with_hubs",
    "locality_bands",
    "ward_bands",
    "ward_profiles",
    "ward_summary",
    "write_paper_outputs",
]


def _measures(study: Study) -> list[str]:
    near = study.minutes_to_nearest
    order = [*study.bundles, *study.categories]
    return [m for m in dict.fromkeys(order) if m in near.columns]


def ward_bands(study: Study) -> pd.DataFrame:
    """Return per ward and measure: residents, share within the walk, travel-time bands.

    Returns
    -------
    pandas.DataFrame
        One row per ward and bundle or category: ``ward_code``, ``ward_name``,
        ``locality``, ``measure``, ``population``, ``covered_population``,
        ``covered_share`` (:meth:`Study.coverage`), then residents per band
        (:func:`nwm_geo.coverage.time_bands`).
    """
    measures = _measures(study)
    cov = study.coverage(by="ward_code")
    cov = cov.rename(columns={"category": "measure"}) if "category" in cov.columns else cov
    cov = cov.reset_index() if "ward_code" not in cov.columns else cov
    bands = coverage.time_bands(
        study.minutes_to_nearest,
        study.demand,
        measures=measures,
        speed_m_per_min=study.speed_m_per_min,
    )
    out = bands.reset_index().merge(
        cov[["ward_code", "measure", "covered_population", "share"]],
        on=["ward_code", "measure"],
        how="left",
    )
    out = out.rename(columns={"share": "covered_share"})
    out.insert(1, "ward_name", out["ward_code"].map(study.wards["ward_name"]))
    out.insert(2, "locality", out["ward_code"].map(study.plan.assignment))
    labels = coverage.band_labels()
    cols = ["ward_code", "ward_name", "locality", "measure", "population", "covered_population"]
    return out[[*cols, "covered_share", *labels]]


def locality_bands(study: Study) -> pd.DataFrame:
    """Return residents per travel-time band, per locality and measure, and the whole area."""
    points = study.demand_with_locality
    bands = coverage.time_bands(
        study.minutes_to_nearest,
        points,
        by="locality",
        measures=_measures(study),
        total_label=study.profile.name,
        speed_m_per_min=study.speed_m_per_min,
    )
    return bands.reset_index()


def _hub_walk(study: Study) -> pd.DataFrame:
    """Per ward: its locality's hub, residents within the walk of it, mean minutes to it."""
    table = study.hubs.set_index("locality")
    mins = study.hub_minutes
    demand = study.demand
    pop = demand["population"].astype(float)
    rows = []
    for code in study.wards.index:
        loc = study.plan.assignment.get(code)
        hub = str(table.at[loc, "hub_asset_id"]) if loc in table.index else ""
        here = demand["ward_code"] == code
        if not hub or hub not in mins.columns:
            rows.append(
                {"ward_code": code, "hub_name": "", "hub_within": np.nan, "hub_minutes": np.nan}
            )
            continue
        m = mins.loc[here[here].index, hub]
        w = pop[here]
        ok = m.notna()
        within = coverage_within(m, study)
        rows.append(
            {
                "ward_code": code,
                "hub_name": str(table.at[loc, "hub_name"]),
                "hub_within": float((w * within).sum()),
                "hub_minutes": float((m[ok] * w[ok]).sum() / w[ok].sum())
                if w[ok].sum()
                else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("ward_code")


def coverage_within(minutes: pd.Series, study: Study) -> pd.Series:
    """Return whether each time is within the walk (:func:`nwm_geo._units.within_minutes`)."""
    flags = within_minutes(minutes, study.minutes, speed_m_per_min=study.speed_m_per_min)
    return pd.Series(flags, index=minutes.index).astype(float)


def ward_summary(study: Study, bands: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return one row per ward: locality, residents, sites, each bundle's share, the hub.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``ward_code``: ``ward_name``, ``locality``, ``population``,
        ``sites`` (in the area), per bundle ``<bundle> share within`` and
        ``<bundle> residents beyond``, ``hub_name``, ``hub_residents_within_walk``
        (the ward's residents within the walk of its locality's hub),
        ``hub_mean_minutes``.
    """
    b = ward_bands(study) if bands is None else bands
    reg = study.register
    inside = reg["inside_area"].astype(bool) if "inside_area" in reg.columns else True
    sites = reg[inside].groupby("ward_code").size()
    out = pd.DataFrame(
        {
            "ward_name": study.wards["ward_name"],
            "locality": study.plan.assignment.reindex(study.wards.index),
        }
    )
    first = b[b["measure"] == next(iter(study.bundles))].set_index("ward_code")
    out["population"] = first["population"].reindex(out.index).fillna(0).round().astype(int)
    out["sites"] = sites.reindex(out.index).fillna(0).astype(int)
    for bundle in study.bundles:
        t = b[b["measure"] == bundle].set_index("ward_code")
        out[f"{bundle} share within"] = t["covered_share"].reindex(out.index)
        out[f"{bundle} residents beyond"] = (t["population"] - t["covered_population"]).reindex(
            out.index
        )
    hub = _hub_walk(study)
    out["hub_name"] = hub["hub_name"]
    out["hub_residents_within_walk"] = hub["hub_within"]
    out["hub_mean_minutes"] = hub["hub_minutes"]
    out.index.name = "ward_code"
    return out.sort_values(["locality", "ward_name"])


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


def ward_profiles(study: Study) -> list[report.WardProfile]:
    """Return one :class:`~nwm_geo.report.WardProfile` per ward, by locality then name."""
    bands = ward_bands(study)
    summary = ward_summary(study, bands)
    labels = coverage.band_labels()
    demand = study.demand
    bundles = list(study.bundles)
    beyond = requirements.gap_points(
        study.minutes_to_nearest,
        demand,
        assignment=study.plan.assignment,
        measures=bundles,
        minutes=study.minutes,
    )
    reg = study.register
    inside = reg["inside_area"].astype(bool) if "inside_area" in reg.columns else True
    cases = study.outline.business_case.assign(ward_code=_case_wards(study))
    out = []
    for code, s in summary.iterrows():
        t = bands[bands["ward_code"] == code]
        cov = pd.DataFrame(
            {
                "measure": t["measure"],
                "within %": 100 * t["covered_share"],
                **{c: t[c].round() for c in labels},
            }
        )
        pts = demand[demand["ward_code"] == code]
        groups = coverage.group_split(pts.assign(_all=1.0), weight="_all", partial=True)
        table = pd.DataFrame({"group": groups["label"], "residents": groups["residents"].round()})
        for bundle in bundles:
            flag = beyond[bundle].reindex(pts.index, fill_value=False).astype(float)
            split = coverage.group_split(pts.assign(_b=flag), weight="_b", partial=True)
            table[str(bundle)] = split["residents"].round().to_numpy()
        sites = reg[inside & (reg["ward_code"] == code)][["name", "category"]]
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


def hub_option_table(study: Study) -> pd.DataFrame:
    """Return the hub options appraisal (:func:`nwm_geo.hubs.hub_options`)."""
    return hubs.hub_options(
        study.hub_analysis,
        study.plan.assignment,
        study.demand,
        town_centre_wards=study.profile.town_centre_wards,
    )


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
                hub_option_table(study), town_centre_wards=study.profile.town_centre_wards
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


def write_paper_outputs(study: Study, out: Path, xlsx: Path) -> list[tuple[str, Path]]:
    """Write the ward profiles, ward and band tables, hub options; add their sheets.

    Parameters
    ----------
    study
        The study.
    out
        The ``reports`` folder (of the area).
    xlsx
        The workbook to add the "Wards" and "Hub options" sheets to (before
        :func:`nwm_geo.report.finish_workbook`).

    Returns
    -------
    list of (title, Path)
        The files written, with their titles for ``index.html``.
    """
    minutes = study.settings.minutes
    bands = ward_bands(study)
    summary = ward_summary(study, bands)
    options = hub_option_table(study)
    footer = [study.network_label]
    if network.is_approximate(study.graph):
        footer.append(network.APPROXIMATION_ERROR_NOTE)
    footer.append(study.profile.boundary_note)
    pdf = report.write_ward_profiles(
        out / "ward_profiles.pdf",
        ward_profiles(study),
        area_name=study.profile.name,
        footer=footer,
    )
    walk = f"{minutes:g}-minute walk"
    report.add_table_sheet(
        xlsx,
        "Wards",
        title=f"Wards: find your ward ({len(summary)} wards of {study.profile.name})",
        notes=[
            f"Per ward: residents, sites, the share of residents within a {walk} of each "
            "bundle and the residents beyond it, and the walk to the locality's hub. "
            "Travel-time bands per ward are in tables/coverage_wards.csv; one page per "
            "ward in ward_profiles.pdf."
        ],
        table=summary,
        position=2,
    )
    answer = hubs.town_centre_answer(options, town_centre_wards=study.profile.town_centre_wards)
    report.add_table_sheet(
        xlsx,
        "Hub options",
        title="Hub options: every candidate, scored and ranked in its locality",
        notes=[
            "Residents of the locality within the walk of each candidate, their share and "
            "the mean walk; rank 1 is the locality's hub (hubs.csv). Candidates: the "
            "register's sites of the hub categories, the council's named sites and any "
            "added with nwm-geo hubs --site.",
            answer,
        ],
        # a share as a fraction, so the sheet's percent format reads 39.5 %, not 3,946 %
        table=options.assign(share_pct=options["share_pct"] / 100)
        .rename(columns={"share_pct": "share_within"})
        .set_index("locality"),
        position=3,
    )
    return [
        ("Ward profiles: one page per ward (PDF)", pdf),
        (
            "Coverage per ward, with travel-time bands",
            write_csv(bands, out / "tables" / "coverage_wards.csv", index=False),
        ),
        (
            "Travel-time bands per locality",
            write_csv(
                locality_bands(study),
                out / "tables" / "travel_time_bands_localities.csv",
                index=False,
            ),
        ),
        (
            "Hub options appraisal",
            write_csv(options, out / "tables" / "hub_options.csv", index=False),
        ),
    ]
