"""The set-partitioning MIP over enumerated connected sets, and the band search.

In: an ``Instance`` and an incumbent (the heuristic's, or a start plan). Out: a
``SetModel`` over every connected set that could be part of a plan at least as good
as the incumbent, which solves stage 1 (minimise the worst deviation) and stage 2
(keep it, minimise the boundary cut), or any per-set cost, with no-good cuts excluding
earlier plans and the incumbent as a MIP start.

Stage 1 writes the worst deviation per unit, ``z >= sum over sets s holding unit i of
dev_s x_s`` (one row per unit: exactly one set holds it), not per set (``z >= dev_s
x_s``): the models have the same integer solutions, but the per-unit rows are far fewer
and their LP relaxation is a real lower bound (a weighted mean of the deviations of the
sets covering each unit), where the per-set rows give almost 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pulp
from scipy import sparse

from nwm_geo._errors import InfeasiblePartitionError
from nwm_geo._solver import ArrayModel, solve_arrays
from nwm_geo.localities._enumerate import (
    SetEnumeration,
    enumerate_connected_sets,
    enumerate_if_it_may_fit,
)
from nwm_geo.localities._heuristic import SETS_MOVES_PER_UNIT, find_incumbent
from nwm_geo.localities._instance import (
    EPS,
    Instance,
    SearchLimits,
    band_above,
    bits_of,
    mask_incidence,
    zvalue,
)
from nwm_geo.localities._mip import DEFAULT_MEMORY_LIMIT_MB, MipResult, known_result, run_mip

__all__ = [
    "SetPartitionProblem",
    "SetPartitionSpec",
    "set_partition_arrays",
    "set_partition_problem",
]


def _internal(mask: int, edge_list: list[tuple[int, int, float]]) -> float:
    return sum(s for i, j, s in edge_list if mask >> i & 1 and mask >> j & 1)


@dataclass
class SetPartitionProblem:
    """A PuLP set-partitioning model: pick exactly ``k`` sets covering each unit once.

    Attributes
    ----------
    prob
        The PuLP problem (minimisation).
    columns
        The position (in the caller's set list) of each column, in column order.
    names
        Variable name of each column, by position in the caller's set list.
    uncovered
        Units no set covers (the model is then infeasible); empty otherwise.
    """

    prob: pulp.LpProblem
    columns: list[int]
    names: dict[int, str] = field(default_factory=dict)
    uncovered: list[int] = field(default_factory=list)

    def start(
        self, chosen: Sequence[int], extra: dict[str, float] | None = None
    ) -> dict[str, float]:
        """Return a MIP start choosing the sets at positions ``chosen`` (others 0)."""
        pick = set(chosen)
        out = {self.names[s]: 1.0 if s in pick else 0.0 for s in self.columns}
        out.update(extra or {})
        return out


@dataclass(frozen=True)
class SetPartitionSpec:
    """A set-partitioning model over connected sets (bitmasks over ``n`` units).

    Give a per-set ``cost`` (minimise the sum over chosen sets) or a per-set
    ``minmax`` value (minimise the largest value among chosen sets, a variable ``z``
    bounded below by ``minmax_low``, written per unit, see the module docstring), not
    both.

    Attributes
    ----------
    n, k
        Units and number of sets to pick.
    masks
        Each set as a bitmask over the units.
    columns
        Positions of ``masks`` to use (default all), e.g. those within a band.
    cost, minmax
        Per-set objective values, by position in ``masks``.
    minmax_low
        A known lower bound on the min-max objective.
    nogoods
        Plans (sets of bitmasks) to exclude; a plan with a set outside ``columns`` is
        already excluded.
    """

    n: int
    k: int
    masks: Sequence[int]
    columns: Sequence[int] | None = None
    cost: Sequence[float] | None = None
    minmax: Sequence[float] | None = None
    minmax_low: float = 0.0
    nogoods: Sequence[frozenset[int]] = ()

    def order(self) -> list[int]:
        """Return the positions of the model's columns, in bitmask order."""
        masks = self.masks
        return sorted(
            range(len(masks)) if self.columns is None else self.columns, key=lambda s: masks[s]
        )


def set_partition_problem(
    spec: SetPartitionSpec, *, name: str = "set_partitioning"
) -> SetPartitionProblem:
    """Build the set-partitioning model of ``spec`` as a PuLP problem named ``name``.

    Reusable by any model over connected sets (see :class:`SetPartitionSpec`).

    Returns
    -------
    SetPartitionProblem
    """
    n, k, masks, minmax, cost = spec.n, spec.k, spec.masks, spec.minmax, spec.cost
    minmax_low, nogoods = spec.minmax_low, spec.nogoods
    idx = spec.order()
    names = {s: f"x_{j}" for j, s in enumerate(idx)}
    prob = pulp.LpProblem(name, pulp.LpMinimize)
    x = {s: pulp.LpVariable(names[s], cat=pulp.LpBinary) for s in idx}
    cover: list[list[int]] = [[] for _ in range(n)]
    for s in idx:
        for i in bits_of(masks[s]):
            cover[i].append(s)
    uncovered = [i for i in range(n) if not cover[i]]
    if minmax is not None:
        z = pulp.LpVariable("z", lowBound=minmax_low)
        prob += z
        for i in range(n):
            if cover[i]:
                expr = pulp.LpAffineExpression([(x[s], -float(minmax[s])) for s in cover[i]])
                expr.addterm(z, 1.0)
                prob += pulp.LpConstraint(expr, pulp.LpConstraintGE, f"zrow_{i}", 0.0)
    elif cost is not None:
        prob += pulp.LpAffineExpression([(x[s], float(cost[s])) for s in idx])
    for i in range(n):
        if cover[i]:
            expr = pulp.LpAffineExpression([(x[s], 1.0) for s in cover[i]])
            prob += pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"cover_{i}", 1.0)
    prob += pulp.LpConstraint(
        pulp.LpAffineExpression([(v, 1.0) for v in x.values()]), pulp.LpConstraintEQ, "k", k
    )
    by_mask = {masks[s]: s for s in idx}
    for g, good in enumerate(nogoods):
        if all(mk in by_mask for mk in good):
            expr = pulp.LpAffineExpression([(x[by_mask[mk]], 1.0) for mk in good])
            prob += pulp.LpConstraint(expr, pulp.LpConstraintLE, f"nogood_{g}", k - 1)
    return SetPartitionProblem(prob, idx, names, uncovered)


def set_partition_arrays(spec: SetPartitionSpec) -> tuple[ArrayModel, list[int], list[int]]:
    """:func:`set_partition_problem` as an :class:`~nwm_geo._solver.ArrayModel`.

    Built with numpy in a fraction of PuLP's time (150,000 sets: about 1 s against
    15 s), for :func:`nwm_geo._solver.solve_arrays`. Columns are named ``x_j`` (in
    bitmask order) and ``z``, as in the PuLP model.

    Returns
    -------
    tuple
        The model, the position in ``masks`` of each ``x`` column, and the units no
        set covers (the model is infeasible when there are any).
    """
    n, k, masks, minmax, cost = spec.n, spec.k, spec.masks, spec.minmax, spec.cost
    minmax_low, nogoods = spec.minmax_low, spec.nogoods
    idx = spec.order()
    n_x = len(idx)
    r_arr, c_arr = mask_incidence([masks[s] for s in idx])
    covered = np.bincount(r_arr, minlength=n) if n_x else np.zeros(n, dtype=int)
    uncovered = [int(i) for i in np.flatnonzero(covered == 0)]
    use_z = minmax is not None
    n_col = n_x + (1 if use_z else 0)
    # rows: cover (n), k (1), [z rows (n)], nogoods
    parts_r = [r_arr, np.full(n_x, n)]
    parts_c = [c_arr, np.arange(n_x)]
    parts_v = [np.ones(len(r_arr)), np.ones(n_x)]
    lower = [np.ones(n), [float(k)]]
    upper = [np.ones(n), [float(k)]]
    nxt = n + 1
    cost_arr = np.zeros(n_col)
    if use_z:
        assert minmax is not None
        dev = np.asarray([float(minmax[s]) for s in idx])
        parts_r += [r_arr + nxt, np.arange(n) + nxt]
        parts_c += [c_arr, np.full(n, n_x)]
        parts_v += [-dev[c_arr], np.ones(n)]
        lower.append(np.zeros(n))
        upper.append(np.full(n, np.inf))
        nxt += n
        cost_arr[n_x] = 1.0
    elif cost is not None:
        cost_arr[:n_x] = [float(cost[s]) for s in idx]
    by_mask = {masks[s]: j for j, s in enumerate(idx)}
    for good in nogoods:
        if all(mk in by_mask for mk in good):
            js = [by_mask[mk] for mk in good]
            parts_r.append(np.full(len(js), nxt))
            parts_c.append(np.asarray(js))
            parts_v.append(np.ones(len(js)))
            lower.append([-np.inf])
            upper.append([float(k - 1)])
            nxt += 1
    mat = sparse.csr_matrix(
        (np.concatenate(parts_v), (np.concatenate(parts_r), np.concatenate(parts_c))),
        shape=(nxt, n_col),
    )
    col_lower = np.zeros(n_col)
    col_upper = np.ones(n_col)
    integer = np.ones(n_col, dtype=bool)
    if use_z:
        col_lower[n_x], col_upper[n_x], integer[n_x] = minmax_low, np.inf, False
    model = ArrayModel(
        names=[f"x_{j}" for j in range(n_x)] + (["z"] if use_z else []),
        col_cost=cost_arr,
        col_lower=col_lower,
        col_upper=col_upper,
        integer=integer,
        row_lower=np.concatenate([np.asarray(v, dtype=float) for v in lower]),
        row_upper=np.concatenate([np.asarray(v, dtype=float) for v in upper]),
        a_start=mat.indptr,
        a_index=mat.indices,
        a_value=mat.data,
    )
    return model, idx, uncovered


class SetModel:
    """Set-partitioning MIP over enumerated connected sets, with no-good cuts."""

    def __init__(
        self,
        inst: Instance,
        sets: list[tuple[int, float]],
        *,
        memory_limit_mb: int | None = DEFAULT_MEMORY_LIMIT_MB,
    ) -> None:
        self.inst = inst
        self.sets = sets
        self.nogoods: list[frozenset[int]] = []
        self.memory_limit_mb = memory_limit_mb

    def _stage2_cost(self, cols: Sequence[int]) -> list[float]:
        """Minus the boundary kept inside each set of ``cols`` (0 for the others).

        Computed only for the columns of the model, when the tie-break runs: on 150,000
        sets the whole list took seconds, and most sets are outside the optimum's band.
        """
        cost = [0.0] * len(self.sets)
        for s in cols:
            cost[s] = -_internal(self.sets[s][0], self.inst.edges)
        return cost

    def _spec(self, stage: int, cols: list[int]) -> SetPartitionSpec:
        """Return the model of ``stage`` over the sets at ``cols``, with the no-goods so far."""
        return SetPartitionSpec(
            self.inst.n,
            self.inst.k,
            [mk for mk, _ in self.sets],
            columns=cols,
            minmax=[dev for _, dev in self.sets] if stage == 1 else None,
            minmax_low=self.inst.lower_bound,
            cost=None if stage == 1 else self._stage2_cost(cols),
            nogoods=self.nogoods,
        )

    def solve(
        self,
        *,
        stage: int,
        zcap: float | None,
        solver: pulp.LpSolver | None,
        time_left: float,
        verbose: bool,
        start: Sequence[int] | None = None,
    ) -> tuple[MipResult, list[int]]:
        """Solve stage 1 (worst deviation) or 2 (cut within ``zcap``) from ``start``.

        ``start`` is a plan as bitmasks; it is passed as a MIP start when all its sets
        are columns of this stage's model.
        """
        inst = self.inst
        masks = [mk for mk, _ in self.sets]
        devs = [dev for _, dev in self.sets]
        cols = [s for s, dev in enumerate(devs) if zcap is None or dev <= zcap + EPS]
        if solver is None:
            return self._solve_arrays(stage, cols, time_left, verbose, start)
        built = set_partition_problem(self._spec(stage, cols), name="localities_sets")
        if built.uncovered:
            return known_result("infeasible", math.nan, math.nan, "no set covers a unit"), []
        warm: dict[str, float] | None = None
        if start is not None:
            pos = {masks[s]: s for s in built.columns}
            if all(mk in pos for mk in start) and frozenset(start) not in self.nogoods:
                zval = max(devs[pos[mk]] for mk in start)
                extra = {"z": max(zval, inst.lower_bound)} if stage == 1 else {}
                warm = built.start([pos[mk] for mk in start], extra)
        res = run_mip(
            built.prob,
            solver,
            time_left,
            verbose,
            start=warm,
            memory_limit_mb=self.memory_limit_mb,
        )
        chosen = [masks[s] for s in built.columns if res.values.get(built.names[s], 0.0) > 0.5]
        return res, chosen

    def _solve_arrays(
        self,
        stage: int,
        cols: list[int],
        time_left: float,
        verbose: bool,
        start: Sequence[int] | None,
    ) -> tuple[MipResult, list[int]]:
        """Solve with the default solver: the model built as arrays, HiGHS in a child."""
        inst = self.inst
        masks = [mk for mk, _ in self.sets]
        devs = [dev for _, dev in self.sets]
        model, idx, uncovered = set_partition_arrays(self._spec(stage, cols))
        if uncovered:
            return known_result("infeasible", math.nan, math.nan, "no set covers a unit"), []
        warm = None
        if start is not None and frozenset(start) not in self.nogoods:
            pos = {masks[s]: j for j, s in enumerate(idx)}
            if all(mk in pos for mk in start):
                warm = np.zeros(len(model.names))
                for mk in start:
                    warm[pos[mk]] = 1.0
                if stage == 1:
                    zval = max(devs[idx[pos[mk]]] for mk in start)
                    warm[-1] = max(zval, inst.lower_bound)
        status, values = solve_arrays(
            model,
            time_limit_s=time_left,
            verbose=verbose,
            start=warm,
            memory_limit_mb=self.memory_limit_mb,
        )
        res = MipResult(status, values)
        chosen = [masks[s] for j, s in enumerate(idx) if values.get(f"x_{j}", 0.0) > 0.5]
        return res, chosen


def masks_of(labels: np.ndarray, k: int) -> list[int]:
    """Return the plan ``labels`` as one bitmask per locality."""
    out = [0] * k
    for i, v in enumerate(labels):
        out[int(v)] |= 1 << i
    return out


@dataclass
class BandSearch:
    """What the band search found: the incumbent and, when it fits, the set model."""

    incumbent: tuple[np.ndarray, float] | None
    how: str
    model: SetModel | None
    found: SetEnumeration | None


def set_search(
    inst: Instance,
    lim: SearchLimits,
    *,
    max_sets: int,
    max_nodes: int | None = None,
    start: np.ndarray | None = None,
    skip_hopeless: bool = False,
) -> BandSearch:
    """Find an incumbent, then enumerate the band that provably contains the optimum.

    The band is the incumbent's worst deviation: ``start``'s (a valid plan) when given,
    else the heuristic's (a fixed number of moves; the deadline is only a safety stop).
    ``model`` is None when the enumeration did not finish within its budget.
    ``skip_hopeless``: with a node budget, do not start a listing estimated far over
    it (see :func:`~nwm_geo.localities._enumerate.enumerate_if_it_may_fit`).
    """
    if start is not None:
        heur: tuple[np.ndarray, float] | None = (start, zvalue(inst, start))
        how = "start plan"
    else:
        heur = find_incumbent(
            inst,
            seed=lim.seed,
            restarts=20,
            iters=SETS_MOVES_PER_UNIT * inst.n,
            deadline=lim.deadline,
            clock=lim.clock,
            stops=lim.stops,
            limit_s=lim.limit_s,
        )
        how = "heuristic incumbent"
    if heur is not None:
        upper = band_above(heur[1])
        lister = enumerate_if_it_may_fit if skip_hopeless else enumerate_connected_sets
        found = lister(
            inst,
            upper,
            max_sets=max_sets,
            max_nodes=max_nodes,
            deadline=lim.deadline,
            clock=lim.clock,
            verbose=lim.verbose,
        )
        model = (
            SetModel(inst, found.sets, memory_limit_mb=lim.memory_limit_mb)
            if found.complete
            else None
        )
        return BandSearch(heur, f"{how} {heur[1]:.4%}", model, found)
    return _widen(inst, lim, max_sets=max_sets, max_nodes=max_nodes)


def _widen(
    inst: Instance, lim: SearchLimits, *, max_sets: int, max_nodes: int | None
) -> BandSearch:
    """No incumbent (pins or hard rules): widen the band until the MIP is feasible."""
    upper = max(inst.lower_bound * 1.5, 0.02)
    u_max = float(inst.weights.max()) * max(inst.k - 1, 1) + 1e-9
    while True:
        found = enumerate_connected_sets(
            inst,
            min(upper, u_max),
            max_sets=max_sets,
            max_nodes=max_nodes,
            deadline=lim.deadline,
            clock=lim.clock,
            verbose=lim.verbose,
        )
        if not found.complete:
            return BandSearch(None, "band widened", None, found)
        model = SetModel(inst, found.sets, memory_limit_mb=lim.memory_limit_mb)
        res, chosen = model.solve(
            stage=1,
            zcap=None,
            solver=None,
            time_left=lim.deadline - lim.clock(),
            verbose=lim.verbose,
        )
        if res.state in ("optimal", "feasible"):
            labels = np.full(inst.n, -1)
            for j, mk in enumerate(sorted(chosen)):
                labels[bits_of(mk)] = j
            inc = (labels, zvalue(inst, labels))
            return BandSearch(inc, "band widened until feasible", model, found)
        if res.state == "none":
            return BandSearch(None, "band widened; no plan in time", None, found)
        if upper >= u_max:
            raise InfeasiblePartitionError(inst.infeasible_reason())
        upper *= 2
