"""The flow MIP for larger instances: assignment with flow contiguity (Shirabe 2009).

In: an ``Instance``, a warm start (the heuristic's labels, or a start plan), the
caller's solver and a deadline. Out: labels, the stage-1 result (worst deviation, with
its bound), whether the compactness tie-break was proven, and a note in words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pulp

from nwm_geo._errors import InfeasiblePartitionError, SolverError
from nwm_geo._solver import SolveState
from nwm_geo.localities._heuristic import anneal, capped_moves, compact_moves
from nwm_geo.localities._instance import EPS, Clock, Instance, zvalue
from nwm_geo.localities._mip import MipResult, known_result, run_mip

#: The flow MIP is built only when it has at most this many variables per second of
#: the whole command's time limit (a count, so the choice does not depend on the
#: machine): PuLP builds about 20,000 variables a second, and HiGHS makes no progress on
#: a larger model within the same time. 2,000 units with k = 5 (about 59,000
#: variables) need a limit of 30 s or more.
FLOW_VARS_PER_LIMIT_SECOND: int = 2_000


def flow_model_size(inst: Instance) -> int:
    """Variables of the flow MIP: ``x``, ``r`` per unit and locality, a flow per arc."""
    return 2 * inst.n * inst.k + 2 * len(inst.edges) * inst.k + 1


@dataclass
class _FlowModel:
    prob: pulp.LpProblem
    x: dict[tuple[int, int], pulp.LpVariable]
    z: pulp.LpVariable


def _build_flow(inst: Instance, *, deadline: float, clock: Clock) -> _FlowModel | None:
    """Build the flow MIP; None if ``deadline`` passes while building (checked per unit)."""
    n, k = inst.n, inst.k
    big_m = n - k + 1
    prob = pulp.LpProblem("localities_flow", pulp.LpMinimize)
    x = {
        (i, j): pulp.LpVariable(f"x_{i}_{j}", cat=pulp.LpBinary) for i in range(n) for j in range(k)
    }
    r = {
        (i, j): pulp.LpVariable(f"r_{i}_{j}", cat=pulp.LpBinary) for i in range(n) for j in range(k)
    }
    arcs = [(i, j2) for i, j2, _ in inst.edges] + [(j2, i) for i, j2, _ in inst.edges]
    f = {
        (a, b, j): pulp.LpVariable(f"f_{a}_{b}_{j}", lowBound=0) for a, b in arcs for j in range(k)
    }
    z = pulp.LpVariable("z", lowBound=inst.lower_bound)
    prob += z
    pinned = inst.pinned
    for i in range(n):
        prob += pulp.lpSum(x[i, j] for j in range(k)) == 1
        lab = inst.pin_label[i]
        if lab >= 0:
            prob += x[i, lab] == 1
        elif not pinned:
            for j in range(i + 1, k):  # symmetry: unit i can only open localities <= i
                prob += x[i, j] == 0
    inflow: dict[tuple[int, int], list[Any]] = {}
    outflow: dict[tuple[int, int], list[Any]] = {}
    for t, (a, b) in enumerate(arcs):
        if t % 256 == 0 and clock() >= deadline:
            return None
        for j in range(k):
            var = f[a, b, j]
            outflow.setdefault((a, j), []).append(var)
            inflow.setdefault((b, j), []).append(var)
            prob += var <= big_m * x[a, j]
            prob += var <= big_m * x[b, j]
    for j in range(k):
        if clock() >= deadline:
            return None
        prob += pulp.lpSum(r[i, j] for i in range(n)) == 1
        for i in range(n):
            prob += r[i, j] <= x[i, j]
            prob += (
                pulp.lpSum(inflow.get((i, j), [])) - pulp.lpSum(outflow.get((i, j), []))
                >= x[i, j] - big_m * r[i, j]
            )
        for mi in range(len(inst.measures)):
            expr = pulp.lpSum(float(inst.norm[i, mi]) * x[i, j] for i in range(n))
            w = float(inst.weights[mi])
            prob += z >= expr - w
            prob += z >= w - expr
        for bound in inst.bounds:  # population band, category floors
            bexpr = pulp.lpSum(float(bound.values[i]) * x[i, j] for i in range(n))
            if math.isfinite(bound.high):
                prob += bexpr <= bound.high
            if math.isfinite(bound.low):
                prob += bexpr >= bound.low
    return _FlowModel(prob, x, z)


def solve_flow(
    inst: Instance,
    *,
    start_labels: np.ndarray | None,
    solver: pulp.LpSolver | None,
    deadline: float,
    clock: Clock,
    verbose: bool,
    stops: list[str] | None = None,
    limit_s: float = math.inf,
) -> tuple[np.ndarray, MipResult, bool, str]:
    """Solve the assignment MIP with single-commodity flow contiguity and a tie-break.

    The model is not built when it is larger than :data:`FLOW_VARS_PER_LIMIT_SECOND`
    per second of ``limit_s`` allows (the start plan is then kept, with the integrality
    bound), nor when the start already reaches the integrality bound (only the
    compactness stages run then).
    """
    n, k = inst.n, inst.k
    t_total = deadline - clock()
    reached = start_labels is not None and zvalue(inst, start_labels) <= inst.lower_bound + 1e-12
    too_large = flow_model_size(inst) > FLOW_VARS_PER_LIMIT_SECOND * limit_s
    if too_large and start_labels is not None:
        kept = _compact_anneal(inst, start_labels, deadline, clock, stops, limit_s)
        zval = zvalue(inst, kept)
        state: SolveState = "optimal" if reached else "feasible"
        res1 = known_result(state, zval, inst.lower_bound, "flow MIP too large for the time limit")
        return (
            kept,
            res1,
            False,
            (
                f"flow MIP not built ({flow_model_size(inst):,} variables, more than "
                f"{FLOW_VARS_PER_LIMIT_SECOND:,} per second of the time limit); compactness by "
                "annealing only"
            ),
        )
    model = _build_flow(inst, deadline=clock() + 0.5 * t_total, clock=clock)
    if model is None:
        if stops is not None:
            stops.append("flow MIP building")
        if start_labels is None:
            raise SolverError("no feasible plan found within the time limit")
        zval = zvalue(inst, start_labels)
        built_state: SolveState = "optimal" if reached else "feasible"
        res1 = known_result(built_state, zval, inst.lower_bound, "flow MIP not built in time")
        return start_labels, res1, False, "flow MIP not built in time"
    prob, x, z = model.prob, model.x, model.z
    labels: np.ndarray | None
    start: dict[str, float] = {}
    if start_labels is not None:
        start = _flow_start(inst, _symmetric(inst, start_labels))
    t_total = deadline - clock()
    if reached:
        # the heuristic reached the integrality lower bound: optimal without a MIP
        assert start_labels is not None
        zval = zvalue(inst, start_labels)
        res1 = known_result("optimal", zval, zval, "heuristic reached the integrality lower bound")
        labels = start_labels
    else:
        res1 = run_mip(prob, solver, 0.6 * t_total, verbose, start=start)
        labels = None  # read below
    if res1.state in ("infeasible",):
        raise InfeasiblePartitionError(inst.infeasible_reason())
    if res1.state == "none":
        if start_labels is None:
            raise SolverError("no feasible plan found within the time limit")
        labels = start_labels
        sums = np.array([inst.norm[labels == j].sum(axis=0) for j in range(k)])
        zval = float(np.abs(sums - inst.weights).max())
        res1 = known_result("feasible", zval, inst.lower_bound, "flow MIP found no plan in time")
        return labels, res1, False, "flow MIP found nothing better than the heuristic"
    if labels is None:
        labels = np.array(_argmax_labels(res1.values, n, k))
        if start_labels is not None and zvalue(inst, start_labels) < zvalue(inst, labels):
            labels = start_labels  # the MIP's plan is worse than its start: keep the start
    # heuristic compactness first (keeps every deviation <= z), then the exact stage 2
    labels = _compact_anneal(inst, labels, deadline, clock, stops, limit_s)
    # stage 2: keep z <= found value, minimise the cut
    y = {e: pulp.LpVariable(f"y_{e}", lowBound=0, upBound=1) for e in range(len(inst.edges))}
    for e, (a, b, _) in enumerate(inst.edges):
        for j in range(k):
            prob += y[e] >= x[a, j] - x[b, j]
            prob += y[e] >= x[b, j] - x[a, j]
    prob += z <= res1.objective + EPS
    prob.setObjective(pulp.lpSum(s * y[e] for e, (_, _, s) in enumerate(inst.edges)))
    start2 = _flow_start(inst, _symmetric(inst, labels))
    # leave time to build the plan's summary, so the call keeps within time_limit_s
    margin = min(1.5, 0.05 * t_total)
    res2 = run_mip(prob, solver, deadline - clock() - margin, verbose, start=start2)
    tiebreak = res2.state == "optimal"
    if res2.state in ("optimal", "feasible"):
        labels = np.array(_argmax_labels(res2.values, n, k))
    note = "compactness tie-break " + ("proven" if tiebreak else "not proven (time)")
    return labels, res1, tiebreak, note


def _compact_anneal(
    inst: Instance,
    labels: np.ndarray,
    deadline: float,
    clock: Clock,
    stops: list[str] | None,
    limit_s: float,
) -> np.ndarray:
    """Shorten the boundary by annealing, every deviation kept <= the plan's worst.

    A fixed number of moves (capped from ``limit_s``); half the time left is a safety
    stop.
    """
    zcap = zvalue(inst, labels) + 1e-12
    return anneal(
        inst,
        labels,
        iters=capped_moves(compact_moves(inst.n), limit_s),
        seed=0,
        compact_cap=zcap,
        deadline=clock() + 0.5 * (deadline - clock()),
        clock=clock,
        stops=stops,
    )


def _symmetric(inst: Instance, labels: np.ndarray) -> np.ndarray:
    """Relabel in first-appearance order, the flow model's symmetry rule (no pins).

    A start that breaks the rule (unit i in a locality numbered above i) is infeasible
    for the model, and HiGHS drops it without a word.
    """
    if inst.pinned:
        return labels  # pinned models fix the labels of the pin groups instead
    order: dict[int, int] = {}
    for v in labels:
        order.setdefault(int(v), len(order))
    return np.array([order[int(v)] for v in labels])


def _argmax_labels(values: Mapping[str, float], n: int, k: int) -> list[int]:
    out = []
    for i in range(n):
        row = [values.get(f"x_{i}_{j}", 0.0) for j in range(k)]
        out.append(int(np.argmax(row)))
    return out


def _flow_start(inst: Instance, labels: np.ndarray) -> dict[str, float]:
    """Return a complete feasible start for the flow model from a labelling."""
    n, k = inst.n, inst.k
    start: dict[str, float] = {}
    for i in range(n):
        for j in range(k):
            start[f"x_{i}_{j}"] = 1.0 if labels[i] == j else 0.0
            start[f"r_{i}_{j}"] = 0.0
    flows: dict[tuple[int, int, int], float] = {}
    for j in range(k):
        members = set(np.flatnonzero(labels == j).tolist())
        root = min(members)
        start[f"r_{root}_{j}"] = 1.0
        # BFS tree; flow on tree arc = size of subtree below it
        parent = {root: -1}
        order = [root]
        for u in order:
            for v in inst.adj[u]:
                if v in members and v not in parent:
                    parent[v] = u
                    order.append(v)
        sub = dict.fromkeys(order, 1)
        for u in reversed(order[1:]):
            sub[parent[u]] += sub[u]
            flows[(parent[u], u, j)] = float(sub[u])
    for a, b, _ in inst.edges:
        for u, v in ((a, b), (b, a)):
            for j in range(k):
                start[f"f_{u}_{v}_{j}"] = flows.get((u, v, j), 0.0)
    sums = np.array([inst.norm[labels == j].sum(axis=0) for j in range(k)])
    start["z"] = max(float(np.abs(sums - inst.weights).max()), inst.lower_bound)
    return start
