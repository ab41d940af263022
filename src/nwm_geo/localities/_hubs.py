"""Localities and hubs chosen together: one hub per locality, with a proof.

In: the units (as for :func:`~nwm_geo.localities.partition`), ``k``, the rules, a
balance cap and :class:`HubRules`: plain data saying, for each hub candidate, the unit
it lies in and how many residents of each unit are within the walk threshold of it.
Out: a :class:`HubPlan` (the plan, one hub per locality, the residents within the
threshold of their own locality's hub, and an honest proof status), and the frontier
of what balance costs in hub coverage (:func:`hub_frontier`).

The value of a connected unit set ``S`` is the best hub inside it:
``max over candidates c in S of sum over units u in S of covered[u, c]``. Every
connected set whose worst deviation is within the cap (and that meets the bounds and
pins) is enumerated, exactly as for the balance-only plan, and a set-partitioning
MIP picks ``k`` of them covering every unit once, maximising the summed values. A set
with no candidate inside cannot be a locality here, so every locality gets a hub.
Among the plans with the most residents within reach, a second solve keeps the one
with the best balance. The method is described in ``docs/localities.md``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pulp

from nwm_geo._checks import checks_crs
from nwm_geo._errors import InfeasiblePartitionError, NwmGeoError, SolverError
from nwm_geo._solver import SolveStatus, solve
from nwm_geo.localities._budget import SolveBudget
from nwm_geo.localities._enumerate import all_sets_in_band
from nwm_geo.localities._instance import Instance, bits_of, labels_from_masks, prepare_instance
from nwm_geo.localities._partition import partition
from nwm_geo.localities._plan import LocalityPlan, Proof, make_plan
from nwm_geo.localities._rules import PartitionRules

__all__ = ["HubFrontier", "HubPlan", "HubRules", "hub_frontier", "partition_with_hubs"]


@dataclass(frozen=True)
class HubRules:
    """Hub candidates as plain data: where each lies and whom it reaches.

    Attributes
    ----------
    covered
        Index: unit code; one column per candidate id; values: the residents of the unit
        within the walk threshold of the candidate (whole numbers >= 0).
    unit_of
        Index: candidate id (the columns of ``covered``); values: the unit it lies in.
    population
        Index: unit code (as ``covered``); values: the unit's residents.
    minutes
        The walk threshold the table was computed at (for the text of outputs).

    Raises
    ------
    NwmGeoError
        Listing every problem: ids that do not match, a candidate in an unknown unit,
        negative or non-integer counts, more residents covered than live in a unit.
    """

    covered: pd.DataFrame
    unit_of: pd.Series
    population: pd.Series
    minutes: float = 15.0

    def __post_init__(self) -> None:
        problems: list[str] = []
        cov, units = self.covered, self.covered.index
        if not units.is_unique or not cov.columns.is_unique:
            problems.append(
                "covered: unit codes (index) and candidate ids (columns) must be unique"
            )
        if not self.unit_of.index.is_unique or set(self.unit_of.index) != set(cov.columns):
            problems.append("unit_of: its index must be exactly the candidate ids of covered")
        outside = sorted(str(c) for c, u in self.unit_of.items() if u not in set(units))
        if outside:
            problems.append(f"unit_of: candidate(s) in a unit not in covered: {outside[:10]}")
        if set(self.population.index) != set(units):
            problems.append("population: its index must be exactly the unit codes of covered")
        values = cov.to_numpy(dtype=float, na_value=np.nan)
        if (~np.isfinite(values) | (values < 0) | (values != np.round(values))).any():
            problems.append("covered: every value must be a whole number >= 0")
        elif not problems:
            pop = self.population.reindex(units).to_numpy(dtype=float)
            over = units[np.flatnonzero((values > pop[:, None] + 1e-9).any(axis=1))]
            if len(over):
                problems.append(
                    f"covered: more residents within reach than live in unit(s) {list(over[:10])}"
                )
        if problems:
            raise NwmGeoError("Invalid HubRules: " + "; ".join(problems))
        object.__setattr__(self, "unit_of", self.unit_of.reindex(cov.columns))

    @property
    def candidates(self) -> pd.Index:
        """The candidate ids, in the order ties are broken (first wins)."""
        return pd.Index(self.covered.columns)

    def coverage(self, assignment: pd.Series) -> pd.DataFrame:
        """Residents of each locality within the threshold of each candidate inside it.

        Parameters
        ----------
        assignment
            Index: unit code; values: locality name (a plan's ``assignment``).

        Returns
        -------
        pandas.DataFrame
            Index ``locality``; one column per candidate; NaN for a candidate outside
            the locality. The joint model values a set of units with the same sums.

        Raises
        ------
        NwmGeoError
            If the assignment misses a unit of the table.
        """
        assignment = assignment.reindex(self.covered.index)
        if assignment.isna().any():
            missing = list(assignment.index[assignment.isna()][:10])
            raise NwmGeoError(f"the assignment has no locality for unit(s) {missing}")
        names = sorted(pd.unique(assignment.astype(str)))
        inc = np.array([(assignment.astype(str) == name).to_numpy() for name in names])
        values, _ = _set_values(self, inc)
        out = pd.DataFrame(values, index=pd.Index(names, name="locality"), columns=self.candidates)
        return out.where(out >= 0)


def _set_values(hubs: HubRules, incidence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per set (rows of ``incidence``, sets × units) and candidate: residents within reach.

    Returns the (sets × candidates) table, -1 where the candidate is outside the set,
    and each set's best candidate position (-1 when no candidate lies inside; the first
    candidate wins a tie).
    """
    cov = hubs.covered.to_numpy(dtype=float)
    unit_pos = hubs.covered.index.get_indexer(pd.Index(hubs.unit_of.to_numpy()))
    inc = incidence.astype(float)
    within = inc @ cov
    inside = incidence[:, unit_pos].astype(bool)
    within[~inside] = -1.0
    if within.size == 0:
        return within, np.full(len(incidence), -1)
    best = np.where(inside.any(axis=1), within.argmax(axis=1), -1)
    return within, best


def _incidence(n: int, masks: Sequence[int]) -> np.ndarray:
    """Boolean (sets × units) matrix of unit bitmasks."""
    out = np.zeros((len(masks), n), dtype=bool)
    for r, mask in enumerate(masks):
        out[r, bits_of(mask)] = True
    return out


@dataclass
class HubPlan:
    """Localities with one hub each, chosen together, with a proof status.

    Attributes
    ----------
    plan
        The localities. ``plan.objective`` is their worst deviation (balance), and
        ``plan.status``, ``proven_optimal``, ``gap`` and ``bound`` are about the hub
        objective below (the same as this object's).
    hubs
        One row per locality (index ``locality``): ``hub`` (candidate id),
        ``hub_unit`` (the unit it lies in), ``residents``, ``residents_within``.
    residents_within
        Total residents within the threshold of their own locality's hub (the objective).
    bound
        HiGHS's proven upper bound on ``residents_within``.
    status
        ``"proven optimal"`` or ``"best found within time limit (gap X % ...)"``.
    proven_optimal
        True only when HiGHS proved the objective optimal (zero gap).
    gap
        ``(bound - residents_within) / bound`` (0 when proven).
    max_deviation
        The balance cap: every locality within this worst weighted deviation.
    n_sets
        How many connected unit sets the model chose from.
    runtime_s
        Seconds for the call.
    method
        How the plan was found, in words.
    tiebreak_proven
        Whether the best balance among the plans with the most residents within reach
        was also proven.
    """

    plan: LocalityPlan
    hubs: pd.DataFrame
    residents_within: int
    bound: float
    status: str
    proven_optimal: bool
    gap: float
    max_deviation: float
    n_sets: int
    runtime_s: float
    method: str
    tiebreak_proven: bool = False


def _model(
    inst: Instance, sets: list[tuple[int, float]], values: np.ndarray, *, stage: int, floor: float
) -> tuple[pulp.LpProblem, dict[int, pulp.LpVariable]]:
    """Stage 1: maximise residents within reach; stage 2: keep them, minimise deviation."""
    order = sorted(range(len(sets)), key=lambda s: sets[s][0])
    x = {s: pulp.LpVariable(f"x_{j}", cat=pulp.LpBinary) for j, s in enumerate(order)}
    # expressions built at once with the terms lpSum would add (a zero weight adds none)
    reach = pulp.LpAffineExpression([(x[s], c) for s in order if (c := float(values[s])) != 0])
    if stage == 1:
        prob = pulp.LpProblem("hubs_sets", pulp.LpMaximize)
        prob += reach
    else:
        prob = pulp.LpProblem("hubs_balance", pulp.LpMinimize)
        z = pulp.LpVariable("z", lowBound=inst.lower_bound)
        prob += z
        for s in order:
            prob += z - sets[s][1] * x[s] >= 0
        prob += reach >= floor
    cover: list[list[int]] = [[] for _ in range(inst.n)]
    for s in order:
        for i in bits_of(sets[s][0]):
            cover[i].append(s)
    for i in range(inst.n):
        if not cover[i]:
            raise InfeasiblePartitionError(
                f"no connected set within the balance cap holds unit {inst.codes[i]!r} and a "
                "hub candidate; widen max_deviation or add candidates"
            )
        prob += pulp.LpAffineExpression([(x[s], 1) for s in cover[i]]) == 1
    prob += pulp.lpSum(x.values()) == inst.k
    return prob, x


def _status_text(res: SolveStatus, found: float) -> tuple[str, float, float]:
    """Return the hub objective's status words, bound and gap (maximisation)."""
    if res.proven_optimal:
        return "proven optimal", found, 0.0
    bound = res.bound if math.isfinite(res.bound) else math.inf
    gap = (bound - found) / bound if math.isfinite(bound) and bound > 0 else math.inf
    gap = max(gap, 0.0)
    text = (
        f"best found within time limit (gap {gap:.1%} relative; {found:,.0f} residents within "
        f"reach of their hub vs proven upper bound {bound:,.0f})"
    )
    return text, bound, gap


#: Connected sets :func:`partition_with_hubs` accepts at most (``SolveBudget.max_sets``
#: default); past it, an error.
HUBS_MAX_SETS: int = 2_000_000


@checks_crs
def partition_with_hubs(
    wards: gpd.GeoDataFrame,
    *,
    k: int = 5,
    hubs: HubRules,
    max_deviation: float,
    rules: PartitionRules | None = None,
    budget: SolveBudget | None = None,
    solver: pulp.LpSolver | None = None,
    verbose: bool = False,
) -> HubPlan:
    """Choose ``k`` localities and one hub in each, maximising residents within reach.

    The objective is the number of residents within the walk threshold of their own
    locality's hub; every locality stays within ``max_deviation`` (the worst weighted
    relative deviation of :func:`partition`, e.g. 0.15 for ±15 % on population and
    assets), is contiguous and meets the rules' band, floors and pins. Among the plans
    with the most residents within reach, the best balanced one is returned.

    Parameters
    ----------
    wards
        Units as for :func:`partition`.
    k
        Number of localities.
    hubs
        The candidates and the residents they reach (:class:`HubRules`), on the units.
    max_deviation
        The balance cap (a fraction); at least the balance-only optimum, or there is no
        plan.
    rules
        The measures and hard rules (default :class:`PartitionRules`; the balance
        objective only).
    budget
        The time limit for the whole call and its clock
        (:class:`~nwm_geo.localities.SolveBudget`); ``max_sets`` (default
        :data:`HUBS_MAX_SETS`): refuse (an error, not a weaker answer) when more
        connected sets than this fit the cap.
    solver
        A PuLP solver; default HiGHS with a zero gap (:func:`nwm_geo._solver.solve`).
    verbose
        Show solver logs and progress bars.

    Returns
    -------
    HubPlan

    Raises
    ------
    InfeasiblePartitionError
        When no plan within the cap gives every locality a candidate.
    SolverError
        When the solver finds no plan within the time limit.
    NwmGeoError
        When the units and the hub table disagree, too many sets fit the cap, or the
        rules ask for the compact objective.
    """
    budget = budget or SolveBudget()
    rules = rules or PartitionRules()
    timer = budget.deadline()
    clock, deadline = timer.clock, timer.at
    max_sets = budget.sets(HUBS_MAX_SETS)
    if rules.objective != "balance":
        raise NwmGeoError("hub plans balance the localities: give objective='balance'")
    if not (math.isfinite(max_deviation) and max_deviation >= 0):
        raise NwmGeoError(f"max_deviation must be a fraction >= 0, got {max_deviation!r}")
    inst = prepare_instance(wards, k=k, rules=rules, adjacency=None)
    if set(inst.codes) != set(hubs.covered.index):
        raise NwmGeoError("the hub table's units (HubRules.covered index) are not the wards'")
    hub_rows = hubs.covered.reindex(inst.codes)
    hubs = replace(hubs, covered=hub_rows, population=hubs.population.reindex(inst.codes))
    sets = all_sets_in_band(inst, max_deviation, max_sets=max_sets, verbose=verbose)
    if sets is None:
        raise NwmGeoError(
            f"more than {max_sets:,} connected sets fit a {max_deviation:.1%} cap; "
            "narrow the cap or raise max_sets"
        )
    masks = [mask for mask, _ in sets]
    table, best = _set_values(hubs, _incidence(inst.n, masks))
    keep = np.flatnonzero(best >= 0)
    sets = [sets[s] for s in keep]
    values = table[keep, best[keep]] if len(keep) else np.zeros(0)
    best = best[keep]
    prob, x = _model(inst, sets, values, stage=1, floor=0.0)
    res1 = solve(
        prob,
        solver=solver,
        time_limit_s=deadline - clock(),
        verbose=verbose,
        integral_objective=True,
    )
    if res1.state == "infeasible":
        raise InfeasiblePartitionError(
            f"no {k} connected localities within a {max_deviation:.1%} cap each hold a hub "
            "candidate and meet the rules; widen max_deviation or add candidates"
        )
    if not res1.has_solution:
        raise SolverError(f"no plan found with hubs ({res1.label})")
    chosen = [s for s, var in x.items() if (var.varValue or 0.0) > 0.5]
    found = float(sum(values[s] for s in chosen))
    tiebreak = False
    if res1.proven_optimal:
        prob2, x2 = _model(inst, sets, values, stage=2, floor=found - 0.5)
        res2 = solve(prob2, solver=solver, time_limit_s=deadline - clock(), verbose=verbose)
        if res2.has_solution:
            chosen = [s for s, var in x2.items() if (var.varValue or 0.0) > 0.5]
            tiebreak = res2.proven_optimal
    labels = labels_from_masks(inst.n, [sets[s][0] for s in chosen])
    status, bound, gap = _status_text(res1, found)
    dev = max(sets[s][1] for s in chosen)
    base = make_plan(
        wards, inst, labels, proof=Proof(True, dev, dev, tiebreak), method="", timer=timer
    )
    method = (
        f"hubs: {len(sets):,} connected sets with worst deviation <= {max_deviation:.2%} "
        f"and a hub candidate inside, each valued by its best hub; set-partitioning MIP "
        "(HiGHS) maximising residents within reach of their hub, then the best balance "
        "among those plans"
    )
    plan = replace(
        base, status=status, proven_optimal=res1.proven_optimal, gap=gap, bound=bound, method=method
    )
    rows = []
    for s in chosen:
        first = bits_of(sets[s][0])[0]
        cand = hubs.candidates[int(best[s])]
        rows.append(
            {
                "locality": plan.assignment.iloc[first],
                "hub": cand,
                "hub_unit": hubs.unit_of[cand],
                "residents": float(hubs.population.iloc[bits_of(sets[s][0])].sum()),
                "residents_within": float(values[s]),
            }
        )
    table_out = pd.DataFrame(rows).set_index("locality").loc[list(plan.summary.index)]
    return HubPlan(
        plan=plan,
        hubs=table_out,
        residents_within=round(found),
        bound=bound,
        status=status,
        proven_optimal=res1.proven_optimal,
        gap=gap,
        max_deviation=float(max_deviation),
        n_sets=len(sets),
        runtime_s=clock() - timer.start,
        method=method,
        tiebreak_proven=tiebreak,
    )


@dataclass
class HubFrontier:
    """What balance costs in hub coverage: the table and the joint plan of each cap.

    Attributes
    ----------
    table
        One row per plan (see :func:`hub_frontier`).
    plans
        The joint plan of each cap given (``widths`` value -> plan); a cap with no
        plan is missing.
    """

    table: pd.DataFrame
    plans: dict[float, HubPlan]


@checks_crs
def hub_frontier(
    wards: gpd.GeoDataFrame,
    *,
    k: int = 5,
    hubs: HubRules,
    widths: Sequence[float],
    rules: PartitionRules | None = None,
    balance: LocalityPlan | None = None,
    budget: SolveBudget | None = None,
) -> HubFrontier:
    """Tabulate what balance costs in hub coverage, and coverage in balance, over a few caps.

    The first row is the balance-only plan (:func:`partition`, or ``balance``) with its
    own best hubs; then one joint optimum (:func:`partition_with_hubs`) per cap in
    ``widths`` (a cap below the balance optimum is raised to it: that cap is the
    lexicographic plan, the best balance first, then the most residents within reach).

    Parameters
    ----------
    wards, k, hubs, rules
        As for :func:`partition_with_hubs`.
    widths
        Balance caps (fractions), e.g. ``(0.15, 0.20, 0.25)``.
    balance
        The balance-only plan, if already computed (with the same rules).
    budget
        The budget of each solve (:class:`~nwm_geo.localities.SolveBudget`).

    Returns
    -------
    HubFrontier
        ``table`` has one row per plan: ``plan``, ``max_deviation`` (the cap, NaN for the
        balance-only plan), ``worst_deviation_pct`` (the plan's own),
        ``residents_within``, ``share_pct``, ``gain_vs_balance`` (residents),
        ``balance_cost_pp`` (worst deviation minus the balance optimum, percentage
        points), ``status``, ``runtime_s``.
    """
    if balance is None:
        balance = partition(wards, k=k, rules=rules, budget=budget)
    total = float(hubs.population.sum())
    own = hubs.coverage(balance.assignment).max(axis=1).fillna(0.0)
    base = float(own.sum())
    rows = [
        {
            "plan": "balance only, its best hubs",
            "max_deviation": math.nan,
            "worst_deviation_pct": 100 * balance.objective,
            "residents_within": base,
            "status": f"balance {balance.status}; hubs: best in each locality (exhaustive)",
            "runtime_s": balance.runtime_s,
        }
    ]
    z0 = balance.objective
    plans: dict[float, HubPlan] = {}
    for width in sorted(set(widths)):
        cap = max(float(width), z0)
        label = f"joint, cap {cap:.1%}" + (" (best balance, then hubs)" if cap == z0 else "")
        try:
            hp = partition_with_hubs(
                wards,
                k=k,
                hubs=hubs,
                max_deviation=cap,
                rules=rules,
                budget=budget,
            )
        except InfeasiblePartitionError as exc:
            rows.append(
                {
                    "plan": label,
                    "max_deviation": cap,
                    "worst_deviation_pct": math.nan,
                    "residents_within": math.nan,
                    "status": f"no plan: {exc}",
                    "runtime_s": math.nan,
                }
            )
            continue
        plans[width] = hp
        rows.append(
            {
                "plan": label,
                "max_deviation": cap,
                "worst_deviation_pct": 100 * hp.plan.objective,
                "residents_within": float(hp.residents_within),
                "status": hp.status,
                "runtime_s": hp.runtime_s,
            }
        )
    out = pd.DataFrame(rows)
    out["share_pct"] = 100 * out["residents_within"] / total
    out["gain_vs_balance"] = out["residents_within"] - base
    out["balance_cost_pp"] = out["worst_deviation_pct"] - 100 * z0
    cols = [
        "plan",
        "max_deviation",
        "worst_deviation_pct",
        "residents_within",
        "share_pct",
        "gain_vs_balance",
        "balance_cost_pp",
        "status",
        "runtime_s",
    ]
    return HubFrontier(table=out[cols], plans=plans)
