"""Per-ward and per-locality quantities of a study: travel-time bands, hubs, options.

In: a :class:`~nwm_geo.pipeline.Study` (typed loosely: :class:`WardResults`, a base of
the study, caches these functions as its properties ``ward_bands``, ``ward_summary``,
``locality_bands``, ``hub_option_table`` and ``locality_coverage``, so this module sits
below ``_study`` and does not import it). Out: tables; the writers (``_paper``,
``_processed``, ``_published``) print them from the study and compute nothing.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from nwm_geo import coverage, hubs
from nwm_geo._units import within_minutes

__all__ = [
    "WardResults",
    "coverage_by_locality",
    "coverage_within",
    "hub_option_table",
    "locality_bands",
    "ward_bands",
    "ward_summary",
]


def _measures(study: Any) -> list[str]:
    near = study.minutes_to_nearest
    order = [*study.bundles, *study.categories]
    return [m for m in dict.fromkeys(order) if m in near.columns]


def ward_bands(study: Any) -> pd.DataFrame:
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


def locality_bands(study: Any) -> pd.DataFrame:
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


def _hub_walk(study: Any) -> pd.DataFrame:
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


def coverage_within(minutes: pd.Series, study: Any) -> pd.Series:
    """Return whether each time is within the walk (:func:`nwm_geo._units.within_minutes`)."""
    flags = within_minutes(minutes, study.minutes, speed_m_per_min=study.speed_m_per_min)
    return pd.Series(flags, index=minutes.index).astype(float)


def ward_summary(study: Any, bands: pd.DataFrame | None = None) -> pd.DataFrame:
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
    b = study.ward_bands if bands is None else bands
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


def hub_option_table(study: Any) -> pd.DataFrame:
    """Return the hub options appraisal (:func:`nwm_geo.hubs.hub_options`)."""
    return hubs.hub_options(
        study.hub_analysis,
        study.plan.assignment,
        study.demand,
        town_centre_wards=study.profile.town_centre_wards,
    )


def coverage_by_locality(study: Any) -> pd.DataFrame:
    """Share of residents within the walk threshold: categories × localities, plus the area.

    Parameters
    ----------
    study
        The study.

    Returns
    -------
    pandas.DataFrame
        Indexed by category or bundle; one column per locality and one named after the
        area (``Luton``); values are percentages.
    """
    table: pd.DataFrame = study.coverage(by="locality")
    wide = table.pivot(index="category", columns="locality", values="share") * 100
    total = coverage.coverage_summary(
        study.minutes_to_nearest, study.demand, minutes=study.minutes
    )["share_pct"]
    wide[study.profile.name] = total
    order = [c for c in total.index if c in wide.index]
    wide = wide.loc[order].round(1)
    present = set(study.register.loc[study.register["inside_area"].astype(bool), "category"])
    wide.index = [
        f"{c} (no site in register)" if c in study.categories and c not in present else c
        for c in wide.index
    ]
    wide.index.name = "category"
    return wide


class WardResults:
    """The study's per-ward and per-locality results, each computed once (a base of Study).

    Cached like every other result of the study, so a what-if study recomputes them
    (:func:`nwm_geo.pipeline._changes.cached_results` walks the bases).
    """

    #: The hub options appraisal: every candidate scored in its locality.
    hub_option_table = cached_property(hub_option_table)
    #: Per ward and measure: residents, share within the walk, travel-time bands.
    ward_bands = cached_property(ward_bands)
    #: Per ward: locality, residents, sites, each bundle's share, the walk to its hub.
    ward_summary = cached_property(ward_summary)
    #: Residents per travel-time band, per locality and measure, and the whole area.
    locality_bands = cached_property(locality_bands)
    #: Share within the walk (percent): categories and bundles x localities and the area.
    locality_coverage = cached_property(coverage_by_locality)
