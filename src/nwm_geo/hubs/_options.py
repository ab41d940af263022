"""The hub options appraisal: every candidate scored in its locality, and the town centre.

In: a :class:`~nwm_geo.hubs.HubAnalysis` (its candidates, minutes and the joint
model's table) and the plan's assignment. Out: one row per candidate, scored by the
same sums :func:`~nwm_geo.hubs.best_hubs` uses (:meth:`HubRules.coverage` and the same
population-weighted mean minutes), so the rank-1 candidate of each locality is the
hub of ``hubs.csv``; and a sentence answering the town-centre question.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from nwm_geo.hubs._analysis import HubAnalysis
from nwm_geo.hubs._score import weighted_mean_minutes

__all__ = ["HUB_OPTION_COLUMNS", "hub_options", "town_centre_answer"]

#: The columns of :func:`hub_options`.
HUB_OPTION_COLUMNS: tuple[str, ...] = (
    "locality",
    "rank",
    "hub_id",
    "name",
    "category",
    "ward_name",
    "postcode",
    "source",
    "council_named",
    "residents",
    "residents_within",
    "share_pct",
    "mean_minutes",
    "is_hub",
    "in_town_centre",
)


def hub_options(
    analysis: HubAnalysis,
    assignment: pd.Series,
    demand: pd.DataFrame,
    *,
    town_centre_wards: Sequence[str] = (),
) -> pd.DataFrame:
    """Return every hub candidate with its score and rank in its locality.

    Parameters
    ----------
    analysis
        :func:`~nwm_geo.hubs.analyse_hubs` for the plan.
    assignment
        ``ward_code -> locality`` (the plan the hubs were chosen for).
    demand
        Demand points with ``population`` and ``ward_code`` (the analysis's).
    town_centre_wards
        Ward names (or codes) that make up the town centre (the area profile's
        ``[hubs] town_centre_wards``); candidates there are flagged ``in_town_centre``.

    Returns
    -------
    pandas.DataFrame
        :data:`HUB_OPTION_COLUMNS`, sorted by locality and rank: ``source`` is where the
        candidate came from (the register's category, a ``--site`` or an added id);
        ``council_named`` whether it is one of the council's named hubs;
        ``residents_within`` the locality's residents within the walk of it,
        ``share_pct`` of the locality, ``mean_minutes`` the locality's mean walk to
        it; ``rank`` 1 is the best (ties share the order of ``best_hubs``).
        Candidates outside every locality (no ward) are left out.
    """
    rules = analysis.rules
    table = rules.coverage(assignment)
    cands = analysis.candidates
    pop = demand["population"].astype(float)
    loc_of = demand["ward_code"].map(assignment.astype(str))
    named_ids = set()
    if "asset_id" in analysis.named.columns:
        named_ids = {str(a) for a in analysis.named["asset_id"].dropna() if str(a)}
    hubs_of = dict(
        zip(analysis.balance["locality"], analysis.balance["hub_asset_id"], strict=False)
    )
    centre = {str(w).casefold() for w in town_centre_wards}
    rows = []
    for loc in table.index:
        vals = table.loc[loc].dropna()
        residents = float(rules.population[assignment.reindex(rules.population.index) == loc].sum())
        order = sorted(vals.index, key=lambda h: (-vals[h], rules.candidates.get_loc(h)))
        in_loc = loc_of == loc
        for rank, hub in enumerate(order, start=1):
            c = cands.loc[hub]
            rows.append(
                {
                    "locality": loc,
                    "rank": rank,
                    "hub_id": hub,
                    "name": str(c.get("name", "")),
                    "category": str(c.get("category", "")),
                    "ward_name": str(c.get("ward_name", "")),
                    "postcode": str(c.get("postcode", "") or ""),
                    "source": str(c.get("source", "")),
                    "council_named": hub in named_ids,
                    "residents": residents,
                    "residents_within": float(vals[hub]),
                    "share_pct": 100 * float(vals[hub]) / residents if residents else np.nan,
                    "mean_minutes": weighted_mean_minutes(
                        analysis.minutes.loc[in_loc, hub], pop[in_loc]
                    ),
                    "is_hub": hubs_of.get(loc) == hub,
                    "in_town_centre": bool(centre)
                    and (
                        str(c.get("ward_name", "")).casefold() in centre
                        or str(c.get("ward_code", "")).casefold() in centre
                    ),
                }
            )
    return pd.DataFrame(rows, columns=list(HUB_OPTION_COLUMNS))


def town_centre_answer(options: pd.DataFrame, *, town_centre_wards: Sequence[str] = ()) -> str:
    """Return the town-centre question answered in one or two sentences.

    Parameters
    ----------
    options
        :func:`hub_options`.
    town_centre_wards
        The wards of the town centre (for the wording).

    Returns
    -------
    str
        Which candidates lie in the town centre, ranked, and what the best would reach;
        or why there is no answer (no town centre named, or no candidate there).
    """
    if not town_centre_wards:
        return (
            "The area profile names no town-centre wards ([hubs] town_centre_wards), so "
            "there is no town-centre question to answer."
        )
    where = ", ".join(town_centre_wards)
    here = options[options["in_town_centre"]].sort_values(["residents_within"], ascending=False)
    if len(here) == 0:
        return (
            f"No hub candidate lies in the town centre ({where}); a site there can be "
            "scored by adding it: nwm-geo hubs --site NAME=POSTCODE."
        )
    best = here.iloc[0]
    ranked = "; ".join(
        f"{r['name']} ({r['residents_within']:,.0f} residents, rank {r['rank']} in {r['locality']})"
        for _, r in here.iterrows()
    )
    verdict = (
        "it is its locality's best hub"
        if bool(best["is_hub"])
        else f"it ranks {int(best['rank'])} in {best['locality']}, below the locality's hub"
    )
    return (
        f"Town centre ({where}): {len(here)} candidate(s), best first: {ranked}. The best, "
        f"{best['name']}, would bring {best['residents_within']:,.0f} of {best['locality']}'s "
        f"{best['residents']:,.0f} residents ({best['share_pct']:.0f}%) within the walk, "
        f"a mean walk of {best['mean_minutes']:.0f} minutes; {verdict}."
    )
