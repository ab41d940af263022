"""The set-partitioning MIP over enumerated connected sets, and the band search.

In: an ``_Instance`` and an incumbent (the heuristic's, or a start plan). Out: a
``_SetModel`` over every connected set that could be part of a plan at least as good
as the incumbent, which solves stage 1 (minimise the worst deviation) and stage 2
(keep it, minimise the boundary cut), with no-good cuts excluding earlier plans.
"""

from __future__ import annotations

import math

import numpy as np
import pulp

from nwm_geo._errors import InfeasiblePartitionError, SolverError
from nwm_geo.localities._enumerate import _enumerate_sets
from nwm_geo.localities._heuristic import _SETS_MOVES_PER_UNIT, _incumbent
from nwm_geo.localities._instance import _EPS, Clock, _bits, _Instance, _zvalue
from nwm_geo.localities._mip import _known, _Result, _run


def _internal(mask: int, edge_list: list[tuple[int, int, float]]) -> float:
    return sum(s for i, j, s in edge_list if mask >> i & 1 and mask >> j & 1)


class _SetModel:
    """Set-partitioning MIP over enumerated connected sets, with no-good cuts."""

    def __init__(self, inst: _Instance, sets: list[tuple[int, float]]) -> None:
        self.inst = inst
        self.sets = sets
        self.internal = [_internal(mask, inst.edges) for mask, _ in sets]
        self.nogoods: list[frozenset[int]] = []

    def solve(
        self,
        *,
        stage: int,
        zcap: float | None,
        solver: pulp.LpSolver | None,
        time_left: float,
        verbose: bool,
    ) -> tuple[_Result, list[int]]:
        inst = self.inst
        idx = [s for s, (_, dev) in enumerate(self.sets) if zcap is None or dev <= zcap + _EPS]
        # Canonical order (by ward bitmask) and names, so that the same admissible sets give
        # the same model, and HiGHS the same plan among ties, however the band was found.
        idx.sort(key=lambda s: self.sets[s][0])
        name = {s: f"x_{j}" for j, s in enumerate(idx)}
        prob = pulp.LpProblem("localities_sets", pulp.LpMinimize)
        x = {s: pulp.LpVariable(name[s], cat=pulp.LpBinary) for s in idx}
        if stage == 1:
            z = pulp.LpVariable("z", lowBound=inst.lower_bound)
            prob += z
            for s in idx:
                prob += z - self.sets[s][1] * x[s] >= 0
        else:
            prob += pulp.lpSum(-self.internal[s] * x[s] for s in idx)
        cover: list[list[int]] = [[] for _ in range(inst.n)]
        for s in idx:
            for i in _bits(self.sets[s][0]):
                cover[i].append(s)
        for i in range(inst.n):
            if not cover[i]:
                return _known("infeasible", math.nan, math.nan, "no set covers a unit"), []
            prob += pulp.lpSum(x[s] for s in cover[i]) == 1
        prob += pulp.lpSum(x.values()) == inst.k
        by_mask = {self.sets[s][0]: s for s in idx}
        for good in self.nogoods:
            if all(mk in by_mask for mk in good):
                prob += pulp.lpSum(x[by_mask[mk]] for mk in good) <= inst.k - 1
        res = _run(prob, solver, time_left, verbose)
        chosen = [self.sets[s][0] for s in idx if res.values.get(name[s], 0.0) > 0.5]
        return res, chosen


def _set_search(
    inst: _Instance,
    *,
    seed: int,
    deadline: float,
    clock: Clock,
    max_sets: int,
    verbose: bool,
    start: np.ndarray | None = None,
) -> tuple[_SetModel, float, str] | None:
    """Enumerate a band that provably contains the optimum; None if too many sets.

    The band is the incumbent's worst deviation: ``start``'s (a valid plan) when given,
    else the heuristic's.
    """
    if start is not None:
        heur: tuple[np.ndarray, float] | None = (start, _zvalue(inst, start))
        how = "start plan"
    else:
        heur = _incumbent(
            inst,
            seed=seed,
            restarts=20,
            iters=_SETS_MOVES_PER_UNIT * inst.n,
            deadline=min(deadline, clock() + 0.25),
            clock=clock,
        )
        how = "heuristic incumbent"
    if heur is not None:
        upper = heur[1] * (1 + 1e-9) + 1e-12
        sets = _enumerate_sets(inst, upper, max_sets=max_sets, verbose=verbose)
        if sets is None:
            return None
        return _SetModel(inst, sets), upper, f"{how} {heur[1]:.4%}"
    # no incumbent (pins or hard constraints): widen the band until the MIP is feasible
    upper = max(inst.lower_bound * 1.5, 0.02)
    u_max = float(inst.weights.max()) * max(inst.k - 1, 1) + 1e-9
    while True:
        sets = _enumerate_sets(inst, min(upper, u_max), max_sets=max_sets, verbose=verbose)
        if sets is None:
            return None
        model = _SetModel(inst, sets)
        res, _ = model.solve(
            stage=1,
            zcap=None,
            solver=None,
            time_left=deadline - clock(),
            verbose=verbose,
        )
        if res.state in ("optimal", "feasible"):
            return model, min(upper, u_max), "band widened until feasible"
        if res.state == "none":
            raise SolverError("time limit reached before any feasible plan was found")
        if upper >= u_max:
            raise InfeasiblePartitionError(inst.infeasible_reason())
        upper *= 2
