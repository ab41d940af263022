"""The flow MIP for larger instances: assignment with flow contiguity (Shirabe 2009).

In: an ``_Instance``, a warm start (the heuristic's labels, or a start plan), the
caller's solver and a deadline. Out: labels, the stage-1 result (worst deviation, with
its bound), whether the compactness tie-break was proven, and a note in words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pulp

from nwm_geo._errors import InfeasiblePartitionError, SolverError
from nwm_geo.localities._heuristic import _anneal, _compact_moves
from nwm_geo.localities._instance import _EPS, Clock, _Instance, _zvalue
from nwm_geo.localities._mip import _known, _Result, _run


def _solve_flow(  # noqa: C901
    inst: _Instance,
    *,
    start_labels: np.ndarray | None,
    solver: pulp.LpSolver | None,
    deadline: float,
    clock: Clock,
    verbose: bool,
    stops: list[str] | None = None,
) -> tuple[np.ndarray, _Result, bool, str]:
    """Solve the assignment MIP with single-commodity flow contiguity and a tie-break."""
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
    for a, b in arcs:
        for j in range(k):
            var = f[a, b, j]
            outflow.setdefault((a, j), []).append(var)
            inflow.setdefault((b, j), []).append(var)
            prob += var <= big_m * x[a, j]
            prob += var <= big_m * x[b, j]
    for j in range(k):
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

    start: dict[str, float] = {}
    if start_labels is not None:
        start = _flow_start(inst, _symmetric(inst, start_labels))
    t_total = deadline - clock()
    if start_labels is not None and _zvalue(inst, start_labels) <= inst.lower_bound + 1e-12:
        # the heuristic reached the integrality lower bound: optimal without a MIP
        zval = _zvalue(inst, start_labels)
        res1 = _known("optimal", zval, zval, "heuristic reached the integrality lower bound")
        labels = start_labels
    else:
        res1 = _run(prob, solver, 0.6 * t_total, verbose, start=start)
        labels = None  # read below
    if res1.state in ("infeasible",):
        raise InfeasiblePartitionError(inst.infeasible_reason())
    if res1.state == "none":
        if start_labels is None:
            raise SolverError("no feasible plan found within the time limit")
        labels = start_labels
        sums = np.array([inst.norm[labels == j].sum(axis=0) for j in range(k)])
        zval = float(np.abs(sums - inst.weights).max())
        res1 = _known("feasible", zval, inst.lower_bound, "flow MIP found no plan in time")
        return labels, res1, False, "flow MIP found nothing better than the heuristic"
    if labels is None:
        labels = np.array(_argmax_labels(res1.values, n, k))
        if start_labels is not None and _zvalue(inst, start_labels) < _zvalue(inst, labels):
            labels = start_labels  # the MIP's plan is worse than its start: keep the start
    # heuristic compactness first (keeps every deviation <= z), then the exact stage 2
    zcap = _zvalue(inst, labels) + 1e-12
    labels = _anneal(
        inst,
        labels,
        iters=_compact_moves(n),
        seed=0,
        compact_cap=zcap,
        deadline=clock() + min(0.5 * (deadline - clock()), 0.4 * n),
        clock=clock,
        stops=stops,
    )
    # stage 2: keep z <= found value, minimise the cut
    y = {e: pulp.LpVariable(f"y_{e}", lowBound=0, upBound=1) for e in range(len(inst.edges))}
    for e, (a, b, _) in enumerate(inst.edges):
        for j in range(k):
            prob += y[e] >= x[a, j] - x[b, j]
            prob += y[e] >= x[b, j] - x[a, j]
    prob += z <= res1.objective + _EPS
    prob.setObjective(pulp.lpSum(s * y[e] for e, (_, _, s) in enumerate(inst.edges)))
    start2 = _flow_start(inst, _symmetric(inst, labels))
    # leave time to build the plan's summary, so the call keeps within time_limit_s
    margin = min(1.5, 0.05 * t_total)
    res2 = _run(prob, solver, deadline - clock() - margin, verbose, start=start2)
    tiebreak = res2.state == "optimal"
    if res2.state in ("optimal", "feasible"):
        labels = np.array(_argmax_labels(res2.values, n, k))
    note = "compactness tie-break " + ("proven" if tiebreak else "not proven (time)")
    return labels, res1, tiebreak, note


def _symmetric(inst: _Instance, labels: np.ndarray) -> np.ndarray:
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


def _flow_start(inst: _Instance, labels: np.ndarray) -> dict[str, float]:
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
