"""Ranked alternatives: the ``n`` best distinct plans and how often each ward swings.

In: the units, ``k``, the rules and ``n``. Out: :class:`Alternatives`, each rank a
proven optimum of the set-partitioning model with no-good cuts excluding every earlier
plan, and per ward the share of near-optimal plans that move it to another locality.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pulp
from scipy.optimize import linear_sum_assignment
from tqdm.auto import tqdm

from nwm_geo._errors import SolverError
from nwm_geo.localities._enumerate import _enumerate_sets
from nwm_geo.localities._instance import Clock, _cut, _labels_from_masks, _zvalue
from nwm_geo.localities._partition import _instance_for
from nwm_geo.localities._plan import Alternatives, LocalityPlan, _make_plan
from nwm_geo.localities._rules import PartitionRules
from nwm_geo.localities._setpart import _set_search, _SetModel

__all__ = ["alternatives"]


def _match_labels(ref: np.ndarray, other: np.ndarray, k: int) -> np.ndarray:
    """Relabel ``other`` to ``ref``'s labels by maximum ward overlap (Hungarian)."""
    overlap = np.zeros((k, k))
    for a, b in zip(ref, other, strict=True):
        overlap[a, b] += 1
    rows, cols = linear_sum_assignment(-overlap)
    mapping = {int(c): int(r) for r, c in zip(rows, cols, strict=True)}
    return np.array([mapping[int(b)] for b in other])


def alternatives(  # noqa: C901, PLR0913
    wards: gpd.GeoDataFrame,
    *,
    k: int = 5,
    n: int = 10,
    within_pct: float = 10.0,
    rules: PartitionRules | None = None,
    measures: Sequence[str] | None = None,
    weights: Mapping[str, float] | None = None,
    population_band: float | None = None,
    category_floors: Mapping[str, int] | None = None,
    pins: Mapping[str, str | int] | None = None,
    k_range: tuple[int, int] | None = None,
    time_limit_s: float = 60,
    solver: pulp.LpSolver | None = None,
    verbose: bool = False,
    adjacency: pd.DataFrame | None = None,
    seed: int = 0,
    max_sets: int = 5_000_000,
    start: pd.Series | None = None,
    clock: Clock = time.perf_counter,
) -> Alternatives:
    """Return the ``n`` best distinct plans, ranked, and each ward's swing.

    Plans are ranked lexicographically by (worst deviation, boundary cut). Each rank is
    a proven optimum of the set-partitioning model with no-good cuts excluding every
    earlier plan (distinct partitions, never relabelings). The enumeration band is
    widened whenever the plans inside it run out, so each rank stays proven.

    Parameters
    ----------
    wards, k, rules, measures, weights, population_band, category_floors, pins, k_range,
    time_limit_s, solver, verbose, adjacency, seed, start, clock
        As for :func:`partition`.
    n
        How many plans to return (fewer if fewer exist).
    within_pct
        The swing counts plans whose objective is at most ``within_pct`` % worse than
        the optimum.
    max_sets
        Give up (``SolverError``) if the enumeration exceeds this many sets.

    Returns
    -------
    Alternatives
    """
    t0 = clock()
    deadline = t0 + time_limit_s
    inst, start_labels = _instance_for(
        wards,
        k=k,
        rules=rules,
        measures=measures,
        weights=weights,
        population_band=population_band,
        category_floors=category_floors,
        pins=pins,
        k_range=k_range,
        adjacency=adjacency,
        start=start,
    )
    found = _set_search(
        inst,
        seed=seed,
        deadline=deadline,
        clock=clock,
        max_sets=max_sets,
        verbose=verbose,
        start=start_labels,
    )
    if found is None:
        raise SolverError(
            f"alternatives needs connected-set enumeration; more than {max_sets:,} sets "
            f"for {inst.n} units"
        )
    model, upper, _ = found
    u_max = float(inst.weights.max()) * max(inst.k - 1, 1) + 1e-9
    # labels, z, cut, z proven, lower bound on z, tie-break proven
    results: list[tuple[np.ndarray, float, float, bool, float, bool]] = []
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
            if r2.state in ("optimal", "feasible"):
                # same z as the previous rank, so z is proven if it was proven there
                got = (chosen, results[-1][3], results[-1][4], r2.state == "optimal")
        if got is None:
            r1, chosen1 = model.solve(
                stage=1, zcap=None, solver=solver, time_left=left, verbose=verbose
            )
            if r1.state == "infeasible":
                if upper >= u_max:
                    break  # every partition has been listed
                upper = min(upper * 2, u_max)
                sets = _enumerate_sets(inst, upper, max_sets=max_sets, verbose=verbose)
                if sets is None:
                    break
                nogoods = model.nogoods
                model = _SetModel(inst, sets)
                model.nogoods = nogoods
                continue
            if r1.state == "none":
                break
            level = r1.objective
            r2, chosen = model.solve(
                stage=2,
                zcap=level,
                solver=solver,
                time_left=deadline - clock(),
                verbose=verbose,
            )
            if r2.state not in ("optimal", "feasible"):
                chosen = chosen1  # no tie-break in time: the stage-1 plan, cut not minimised
            got = (chosen, r1.state == "optimal", r1.bound, r2.state == "optimal")
        chosen, proven, bound, tiebreak = got
        model.nogoods.append(frozenset(chosen))
        labels = _labels_from_masks(inst.n, chosen)
        zval = _zvalue(inst, labels)
        results.append((labels, zval, _cut(inst, labels), proven, bound, tiebreak))
        bar.update(1)
    bar.close()
    if not results:
        raise SolverError("no plan found within the time limit")
    names = (
        wards["ward_name"]
        if "ward_name" in wards.columns
        else pd.Series(wards.index.astype(str), index=wards.index)
    )
    z_opt = results[0][1]
    rows = []
    ranked: list[LocalityPlan] = []
    ref = results[0][0]
    n_plans = np.zeros(inst.n, dtype=int)
    n_diff = np.zeros(inst.n, dtype=int)
    for rank, (labels, zval, _cut_m, proven, bound, tiebreak) in enumerate(results, start=1):
        plan = _make_plan(
            wards,
            inst,
            labels,
            proven=proven,
            objective=zval,
            bound=bound,
            t0=t0,
            clock=clock,
            method=f"alternatives rank {rank}",
            tiebreak=tiebreak,
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
        runtime_s=clock() - t0,
        method=(
            f"set partitioning over connected sets with deviation <= {upper:.4%}; "
            "no-good cuts; ranks by (worst deviation, boundary cut)"
        ),
        ranked=ranked,
    )
