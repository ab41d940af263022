"""The hub analysis of a study: council-named hubs, balance-only and joint plans side by side.

In: the wards, the demand points, the candidates and their minutes table, the
balance-only plan and the council's named hubs. Out: a :class:`HubAnalysis`: the best
hubs of the balance-only plan, the joint optimum (localities and hubs chosen
together), the council-named hubs scored on the balance-only plan, the frontier of
balance caps, and one comparison table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from nwm_geo._checks import checks_crs
from nwm_geo._display import Display
from nwm_geo._units import within_minutes
from nwm_geo.hubs._candidates import NewSite
from nwm_geo.hubs._score import best_hubs, hub_rules, restrict
from nwm_geo.localities import (
    HubPlan,
    HubRules,
    LocalityPlan,
    PartitionRules,
    SolveBudget,
    hub_frontier,
)

__all__ = ["COMPARISON_COLUMNS", "HubAnalysis", "HubOptions", "analyse_hubs"]

#: Columns of :attr:`HubAnalysis.comparison`.
COMPARISON_COLUMNS: tuple[str, ...] = (
    "scenario",
    "locality",
    "hub_asset_id",
    "hub_name",
    "residents",
    "residents_within",
    "share_pct",
    "mean_minutes",
    "status",
)

#: Scenario names in :attr:`HubAnalysis.comparison`.
COUNCIL = "council-named hubs, balance-only localities"
BALANCE = "balance-only localities, their best hubs"
JOINT = "joint optimum: localities and hubs together"


@dataclass(frozen=True)
class HubOptions:
    """How the joint plan and the frontier are set.

    Attributes
    ----------
    tolerance
        The joint plan's balance cap is the balance-only optimum plus this (a fraction:
        0.10 = 10 percentage points of worst deviation), unless ``max_deviation`` is set.
    max_deviation
        A fixed balance cap for the joint plan instead.
    steps
        The frontier's caps, as increments over the balance-only optimum (0 is the
        lexicographic plan: best balance first, then the most residents within reach).
    minutes, speed_m_per_min
        Walk threshold and speed (defaults from settings).
    time_limit_s
        Budget for each joint solve.
    add_ids, add_names, new_sites
        More candidates: register sites by asset id or name, and new sites at postcodes
        (see :func:`hub_candidates`).
    """

    tolerance: float = 0.10
    max_deviation: float | None = None
    steps: tuple[float, ...] = (0.0, 0.05, 0.10, 0.20, 0.30)
    minutes: float | None = None
    speed_m_per_min: float | None = None
    time_limit_s: float = 60.0
    add_ids: tuple[str, ...] = ()
    add_names: tuple[str, ...] = ()
    new_sites: tuple[NewSite, ...] = ()


@dataclass(repr=False)
class HubAnalysis(Display):
    """Hubs for one study: candidates, the three plans' hubs, the frontier.

    Attributes
    ----------
    candidates
        :func:`hub_candidates`.
    named
        :func:`named_sites`: which of the council's named hubs the register holds, plus
        ``residents_within`` (residents of the whole area within the threshold of each
        site found).
    minutes
        Walking minutes, demand points × candidates.
    rules
        The joint model's table (:class:`~nwm_geo.localities.HubRules`).
    balance
        Best hub per locality of the balance-only plan (``hubs.csv``).
    joint
        The joint optimum (:class:`~nwm_geo.localities.HubPlan`); None when no plan
        within the cap gives every locality a hub candidate (``notes`` says why).
    joint_hubs
        Its hubs in the same columns as ``balance``.
    council
        The council-named hubs in the register, the best one in each locality of the
        balance-only plan.
    frontier
        What balance costs in coverage (:func:`~nwm_geo.localities.hub_frontier`).
    comparison
        The three scenarios side by side, per locality, with a total row each.
    notes
        Plain-text notes (missing named sites, the threshold, the cap).
    """

    candidates: gpd.GeoDataFrame
    named: pd.DataFrame
    minutes: pd.DataFrame
    rules: HubRules
    balance: pd.DataFrame
    joint: HubPlan | None
    joint_hubs: pd.DataFrame
    council: pd.DataFrame
    frontier: pd.DataFrame
    comparison: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _total(frame: pd.DataFrame, scenario: str, status: str) -> dict[str, object]:
    res, within = frame["residents"].sum(), frame["residents_within"].sum()
    ok = frame["mean_minutes"].notna()
    mean = (
        float((frame.loc[ok, "mean_minutes"] * frame.loc[ok, "residents"]).sum())
        / float(frame.loc[ok, "residents"].sum())
        if ok.any()
        else np.nan
    )
    return {
        "scenario": scenario,
        "locality": "TOTAL",
        "hub_asset_id": "",
        "hub_name": "",
        "residents": res,
        "residents_within": within,
        "share_pct": 100 * within / res if res else np.nan,
        "mean_minutes": mean,
        "status": status,
    }


def _with_reach(
    named: pd.DataFrame, minutes_table: pd.DataFrame, demand: pd.DataFrame, opt: HubOptions
) -> pd.DataFrame:
    """Add each named site's residents within the threshold (anywhere in the area)."""
    pop = demand["population"].reindex(minutes_table.index).astype(float)
    reach = []
    for aid in named["asset_id"]:
        if aid and aid in minutes_table.columns:
            ok = within_minutes(
                minutes_table[aid], opt.minutes, speed_m_per_min=opt.speed_m_per_min
            )
            reach.append(float(pop[ok].sum()))
        else:
            reach.append(np.nan)
    return named.assign(residents_within=reach)


@checks_crs
def analyse_hubs(
    wards: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    *,
    candidates: gpd.GeoDataFrame,
    minutes_table: pd.DataFrame,
    balance: LocalityPlan,
    named: pd.DataFrame,
    rules: PartitionRules,
    options: HubOptions | None = None,
) -> HubAnalysis:
    """Score the council's hubs, the balance-only plan's best hubs and the joint optimum.

    Parameters
    ----------
    wards
        The units of the plans (population, asset counts, geometry).
    demand
        Demand points with ``population`` and ``ward_code``.
    candidates, minutes_table
        :func:`hub_candidates` and :func:`candidate_minutes`.
    balance
        The balance-only plan (the study's plan).
    named
        :func:`named_sites`.
    rules
        The balance rules (the measures the plan balances).
    options
        :class:`HubOptions`.

    Returns
    -------
    HubAnalysis
    """
    opt = options or HubOptions()
    k = int(balance.assignment.nunique())
    table = hub_rules(
        minutes_table,
        demand,
        candidates,
        units=wards.index,
        minutes=opt.minutes,
        speed_m_per_min=opt.speed_m_per_min,
    )
    common = {"minutes_table": minutes_table, "demand": demand, "candidates": candidates}
    balance_hubs = best_hubs(table, balance.assignment, **common)
    z0 = balance.objective
    cap = opt.max_deviation if opt.max_deviation is not None else z0 + opt.tolerance
    caps: Sequence[float] = sorted({z0 + s for s in opt.steps} | {cap})
    front = hub_frontier(
        wards,
        k=k,
        hubs=table,
        widths=caps,
        rules=rules,
        balance=balance,
        budget=SolveBudget(time_limit_s=opt.time_limit_s),
    )
    joint = front.plans.get(cap)
    if joint is not None:
        joint_hubs = best_hubs(table, joint.plan.assignment, status=joint.status, **common)
    else:  # no plan within the cap gives every locality a hub: said, not hidden
        row = front.table[front.table["max_deviation"] == max(cap, z0)]
        why = str(row["status"].iloc[0]) if len(row) else "not solved"
        joint_hubs = balance_hubs.iloc[0:0]
    in_reg = named[named["in_register"].astype(bool)]
    named_ids = [a for a in in_reg["asset_id"] if a in set(table.candidates)]
    council = best_hubs(
        restrict(table, named_ids),
        balance.assignment,
        status="the best council-named hub in the locality",
        none_note="no council-named hub in the register lies in this locality",
        **common,
    )
    scenarios = [
        (COUNCIL, council, "council-named sites in the register only"),
        (BALANCE, balance_hubs, f"localities {balance.status}; hubs exhaustive"),
    ]
    if joint is not None:
        scenarios.append((JOINT, joint_hubs, joint.status))
    if named.empty:  # the profile names no hubs: nothing to score, nothing made up
        council = council.iloc[0:0]
        scenarios = scenarios[1:]
    parts = []
    for scenario, frame, status in scenarios:
        part = frame.assign(scenario=scenario)[list(COMPARISON_COLUMNS)]
        parts.append(pd.concat([part, pd.DataFrame([_total(frame, scenario, status)])]))
    comparison = pd.concat(parts, ignore_index=True)
    named = _with_reach(named, minutes_table, demand, opt)
    missing = named.loc[~named["in_register"].astype(bool), "named_hub"].tolist()
    notes = [
        f"Residents within {table.minutes:g} minutes' walk of their own locality's hub; "
        f"joint plan capped at a worst deviation of {cap:.1%} (balance-only optimum "
        f"{z0:.1%}).",
    ]
    if joint is None:
        notes.append(f"No joint plan at a {cap:.1%} cap: {why}")
    if named.empty:
        notes.append("The area profile names no council hubs, so none are scored.")
    if missing:
        notes.append(
            "Council-named hubs not in the register (not scored; add them as candidates by "
            f"asset id, name or postcode): {', '.join(missing)}."
        )
    return HubAnalysis(
        candidates=candidates,
        named=named,
        minutes=minutes_table,
        rules=table,
        balance=balance_hubs,
        joint=joint,
        joint_hubs=joint_hubs,
        council=council,
        frontier=front.table,
        comparison=comparison,
        notes=notes,
    )
