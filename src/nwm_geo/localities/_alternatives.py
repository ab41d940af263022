"""Ranked alternatives: the ``n`` best distinct plans and how often each ward swings.

In: the units, ``k``, the rules and ``n``. Out: :class:`Alternatives`, each rank a
proven optimum of the set-partitioning model with no-good cuts excluding every earlier
plan, and per ward the share of near-optimal plans that move it to another locality.
"""

from __future__ import annotations

import math
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pulp
from tqdm.auto import tqdm

from nwm_geo._checks import checks_crs
from nwm_geo._errors import NwmGeoError, SolverError
from nwm_geo.localities._budget import SolveBudget
from nwm_geo.localities._enumerate import NODES_PER_SECOND, enumerate_connected_sets
from nwm_geo.localities._heuristic import SETS_MOVES_PER_UNIT, find_incumbent
from nwm_geo.localities._instance import (
    Clock,
    Instance,
    cut_length,
    labels_from_masks,
    labels_from_plan,
    zvalue,
)
from nwm_geo.localities._partition import (
    ENUMERATION_SHARE,
    SETS_MIP_MAX_COLUMNS,
    SolveRequest,
    SolveRun,
    prepare_run,
    solve_partition,
)
from nwm_geo.localities._plan import Alternatives, LocalityPlan, Proof, make_plan
from nwm_geo.localities._rules import PartitionRules
from nwm_geo.localities._setpart import BandSearch, SetModel, masks_of

# labels, z, cut, z proven, lower bound on z, tie-break proven
_Ranked = tuple[np.ndarray, float, float, bool, float, bool]

__all__ = ["ALTERNATIVES_MAX_SETS", "alternatives"]


def _match_labels(ref: np.ndarray, other: np.ndarray, k: int) -> np.ndarray:
    """Relabel ``other`` to ``ref``'s labels by maximum ward overlap (Hungarian)."""
    overlap = np.zeros((k, k))
    for a, b in zip(ref, other, strict=True):
        overlap[a, b] += 1
    from scipy.optimize import linear_sum_assignment  # lazy: 0.3 CPU-s to import

    rows, cols = linear_sum_assignment(-overlap)
    mapping = {int(c): int(r) for r, c in zip(rows, cols, strict=True)}
    return np.array([mapping[int(b)] for b in other])


#: Connected sets :func:`alternatives` keeps at most (``SolveBudget.max_sets`` default).
ALTERNATIVES_MAX_SETS: int = 5_000_000


@checks_crs
def alternatives(
    wards: gpd.GeoDataFrame,
    *,
    k: int = 5,
    n: int = 10,
    within_pct: float = 10.0,
    rules: PartitionRules | None = None,
    budget: SolveBudget | None = None,
    solver: pulp.LpSolver | None = None,
    verbose: bool = False,
) -> Alternatives:
    """Return the ``n`` best distinct plans, ranked, and each ward's swing.

    Plans are ranked lexicographically by (worst deviation, boundary cut). Each rank is
    a proven optimum of the set-partitioning model with no-good cuts excluding every
    earlier plan (distinct partitions, never relabelings). The enumeration band is
    widened whenever the plans inside it run out, so each rank stays proven. On maps
    too large to enumerate, see ``budget``: a plan always comes back.

    Parameters
    ----------
    wards, k, rules, solver, verbose
        As for :func:`partition` (the balance objective only).
    n
        How many plans to return (fewer if fewer exist).
    within_pct
        The swing counts plans whose objective is at most ``within_pct`` % worse than
        the optimum.
    budget
        As for :func:`partition`; ``max_sets`` defaults to
        :data:`ALTERNATIVES_MAX_SETS`. When the enumeration does not fit (large maps),
        rank 1 is :func:`partition`'s plan (60 % of the time left) and the other ranks
        are distinct plans from heuristic restarts, not proven; ``method`` says so.

    Returns
    -------
    Alternatives

    Raises
    ------
    NwmGeoError
        For the compact objective (ranked alternatives balance).
    """
    rules = rules or PartitionRules()
    if rules.objective != "balance":
        raise NwmGeoError("alternatives() ranks balanced plans: give objective='balance'")
    req = SolveRequest(
        k=k, rules=rules, budget=budget or SolveBudget(), solver=solver, verbose=verbose
    )
    timer = req.budget.deadline()
    run, start_labels = prepare_run(wards, req, timer, max_sets=ALTERNATIVES_MAX_SETS, whole=False)
    nodes = req.budget.max_nodes
    if nodes is None:
        nodes = int(ENUMERATION_SHARE * float(timer.limit_s) * NODES_PER_SECOND)
    search = run.search(start_labels, max_nodes=nodes)
    results, how = _ranked(run, search, n=n)
    if not results:
        raise SolverError("no plan found within the time limit")  # only with pins/hard rules
    names = (
        wards["ward_name"]
        if "ward_name" in wards.columns
        else pd.Series(wards.index.astype(str), index=wards.index)
    )
    inst = run.inst
    z_opt = results[0][1]
    rows = []
    ranked: list[LocalityPlan] = []
    ref = results[0][0]
    n_plans = np.zeros(inst.n, dtype=int)
    n_diff = np.zeros(inst.n, dtype=int)
    for rank, (labels, zval, _cut_m, proven, bound, tiebreak) in enumerate(results, start=1):
        plan = make_plan(
            wards,
            inst,
            labels,
            proof=Proof(proven, zval, bound, tiebreak),
            method=f"alternatives rank {rank}",
            timer=timer,
        )
        ranked.append(plan)
        worse = (zval - z_opt) / z_opt * 100 if z_opt > 0 else (0.0 if zval == 0 else math.inf)
        for code in wards.index:
            rows.append(
                {
                    "rank": rank,
                    "objective": zval,
                    "pct_worse_than_optimum": worse,
                    "boundary_cut_m": plan.boundary_cut_m,
                    "status": plan.status,
                    "ward_code": code,
                    "ward_name": names[code],
                    "locality": plan.assignment[code],
                }
            )
        if rank > 1 and worse <= within_pct + 1e-9:
            matched = _match_labels(ref, labels, inst.k)
            n_plans += 1
            n_diff += (matched != ref).astype(int)
    plans = pd.DataFrame(rows)
    best = ranked[0]
    swing = pd.DataFrame(
        {
            "ward_name": names.to_numpy(),
            "optimal_locality": best.assignment.to_numpy(),
            "n_plans": n_plans,
            "n_plans_different": n_diff,
        },
        index=pd.Index(wards.index, name="ward_code"),
    )
    swing["swing_share"] = np.where(n_plans > 0, n_diff / np.maximum(n_plans, 1), np.nan)
    return Alternatives(
        plans=plans,
        swing=swing,
        best=best,
        runtime_s=timer.clock() - timer.start,
        method=how,
        ranked=ranked,
    )


def _ranked(run: SolveRun, search: BandSearch, *, n: int) -> tuple[list[_Ranked], str]:
    """Return the ranks: exact when the enumeration fits the MIP, else from heuristic restarts."""
    inst, timer, req = run.inst, run.timer, run.req
    deadline, clock = timer.at, timer.clock
    too_many = search.model is not None and len(search.model.sets) > SETS_MIP_MAX_COLUMNS
    if search.model is None or too_many:
        found = search.found
        why = f"{found.stopped} after {len(found.sets):,} sets" if found else "no incumbent"
        if too_many and found is not None:
            why = f"{len(found.sets):,} sets, more than the MIP takes"
        first = solve_partition(
            run.wards,
            replace(
                req,
                budget=replace(
                    req.budget,
                    time_limit_s=max(0.6 * (deadline - clock()), 0.0),
                    max_sets=None,
                    max_nodes=None,
                ),
            ),
        )
        results = _heuristic_alternatives(
            inst, n=n, plan=first, seed=req.budget.seed, deadline=deadline, clock=clock
        )
        how = (
            f"the enumeration did not fit its budget ({why}): partition()'s plan and "
            "distinct plans from heuristic restarts (not proven); ranks by "
            "(worst deviation, boundary cut)"
        )
        return results, how
    results, upper = _exact_alternatives(
        inst,
        search,
        n=n,
        solver=req.solver,
        verbose=req.verbose,
        deadline=deadline,
        clock=clock,
        max_sets=run.max_sets,
    )
    how = (
        f"set partitioning over connected sets with deviation <= {upper:.4%}; "
        "no-good cuts; ranks by (worst deviation, boundary cut)"
    )
    return results, how


def _exact_alternatives(
    inst: Instance,
    search: BandSearch,
    *,
    n: int,
    solver: pulp.LpSolver | None,
    verbose: bool,
    deadline: float,
    clock: Clock,
    max_sets: int,
) -> tuple[list[_Ranked], float]:
    """Ranks from the set-partitioning model with no-good cuts, each proven if in time."""
    model = search.model
    assert model is not None and search.found is not None
    upper = search.found.upper
    first_start = masks_of(search.incumbent[0], inst.k) if search.incumbent else None
    u_max = float(inst.weights.max()) * max(inst.k - 1, 1) + 1e-9
    results: list[_Ranked] = []
    level: float | None = None
    bar = tqdm(total=n, desc="alternatives", disable=not verbose)
    while len(results) < n:
        left = deadline - clock()
        if left <= 0:
            break
        got = None
        if level is not None:
            r2, chosen = model.solve(
                stage=2, zcap=level, solver=solver, time_left=left, verbose=verbose
            )
            if r2.state in ("optimal", "feasible") and len(chosen) == inst.k:
                # same z as the previous rank, so z is proven if it was proven there
                got = (chosen, results[-1][3], results[-1][4], r2.state == "optimal")
        if got is None:
            r1, chosen1 = model.solve(
                stage=1,
                zcap=None,
                solver=solver,
                time_left=0.7 * left,
                verbose=verbose,
                start=first_start if not results else None,
            )
            if r1.state == "infeasible":
                if upper >= u_max:
                    break  # every partition has been listed
                upper = min(upper * 2, u_max)
                found = enumerate_connected_sets(
                    inst,
                    upper,
                    max_sets=max_sets,
                    deadline=deadline,
                    clock=clock,
                    verbose=verbose,
                )
                if not found.complete:
                    break
                nogoods = model.nogoods
                model = SetModel(inst, found.sets, memory_limit_mb=model.memory_limit_mb)
                model.nogoods = nogoods
                continue
            if r1.state == "none" or len(chosen1) != inst.k:
                break
            level = r1.objective
            r2, chosen = model.solve(
                stage=2,
                zcap=level,
                solver=solver,
                time_left=deadline - clock(),
                verbose=verbose,
            )
            if r2.state not in ("optimal", "feasible") or len(chosen) != inst.k:
                chosen = chosen1  # no tie-break in time: the stage-1 plan, cut not minimised
            got = (chosen, r1.state == "optimal", r1.bound, r2.state == "optimal")
        chosen, proven, bound, tiebreak = got
        model.nogoods.append(frozenset(chosen))
        labels = labels_from_masks(inst.n, chosen)
        zval = zvalue(inst, labels)
        results.append((labels, zval, cut_length(inst, labels), proven, bound, tiebreak))
        bar.update(1)
    bar.close()
    if not results and search.incumbent is not None:
        labels = search.incumbent[0]
        zval = zvalue(inst, labels)
        results.append((labels, zval, cut_length(inst, labels), False, inst.lower_bound, False))
    return results, upper


def _heuristic_alternatives(
    inst: Instance,
    *,
    n: int,
    plan: LocalityPlan,
    seed: int,
    deadline: float,
    clock: Clock,
) -> list[_Ranked]:
    """``plan`` and distinct plans from heuristic restarts (fixed moves each), ranked."""
    best = labels_from_plan(inst, plan.assignment)
    results: list[_Ranked] = [
        (
            best,
            plan.objective,
            plan.boundary_cut_m,
            plan.proven_optimal,
            plan.bound,
            plan.tiebreak_proven,
        )
    ]
    seen = {frozenset(masks_of(best, inst.k))}
    tries = 0
    while len(results) < n and tries < 3 * n and clock() < deadline - 1.0:
        tries += 1
        found = find_incumbent(
            inst,
            seed=seed + tries,
            restarts=2,
            iters=SETS_MOVES_PER_UNIT * inst.n,
            deadline=deadline - 1.0,
            clock=clock,
        )
        if found is None:
            continue
        key = frozenset(masks_of(found[0], inst.k))
        if key in seen:
            continue
        seen.add(key)
        labels = found[0]
        results.append((labels, found[1], cut_length(inst, labels), False, plan.bound, False))
    return sorted(results, key=lambda r: (round(r[1], 12), r[2]))
