"""The warm-start heuristic: region growing, best-improvement descent and annealing.

In: an ``Instance``, a seed and a fixed amount of work. Out: integer labels (one
locality per unit) and their worst deviation, or None. The work is counted in moves,
not seconds, so a seed gives the same plan on any machine; the deadline (read from
the injected clock) is only a safety stop, and every stop it makes is noted.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from nwm_geo.localities._instance import (
    Clock,
    Instance,
    connected_without,
    cut_length,
    plan_key,
    rule_violation,
    zvalue,
)
from nwm_geo.localities._recom import recom_steps, recombine

# Annealing work per unit (moves tried). Fixed counts, not wall-clock time, so that a
# seed gives the same plan on any machine; the time limit only acts as a safety stop.
_BALANCE_MOVES_PER_UNIT = 10_000
_COMPACT_MOVES_PER_UNIT = 40_000
SETS_MOVES_PER_UNIT = 1_000
# The balance annealing starts at this share of a median unit's squared share of the
# target (or 1e-3, whichever is larger).
_TEMP_SCALE = 2.0
# Rounds of re-heated annealing when the band does not fit the enumeration budget.
_POLISH_ROUNDS = 3
# Caps on the total moves, so the heuristic's work stays a few seconds at 150 units.
_MAX_BALANCE_MOVES = 600_000
_MAX_COMPACT_MOVES = 400_000


def balance_moves(n: int) -> int:
    """Annealing moves for a balance run on ``n`` units (a count, not seconds)."""
    return min(_BALANCE_MOVES_PER_UNIT * n, _MAX_BALANCE_MOVES)


def compact_moves(n: int) -> int:
    """Annealing moves for a compactness run on ``n`` units (a count, not seconds)."""
    return min(_COMPACT_MOVES_PER_UNIT * n, _MAX_COMPACT_MOVES)


#: Work of the region-growing/descent restarts, in unit scans (a unit looked at once,
#: growing or in a descent pass): at most this many per second of the time limit, at
#: least one restart. A count, so a seed gives the same plan on every machine.
SCANS_PER_LIMIT_SECOND = 5_000
#: Annealing moves per second of the time limit that one annealing run may use (about
#: a quarter of what the benchmark machine does per second at 2,000 units).
MOVES_PER_LIMIT_SECOND = 10_000
#: Share of the time limit the recombination steps after the annealing are sized for
#: (a count of steps, see :func:`~nwm_geo.localities._recom.recom_steps`).
RECOM_SHARE = 0.15


def _scan_budget(limit_s: float) -> float:
    """Return the unit scans the restarts may use for a time limit of ``limit_s`` seconds."""
    return SCANS_PER_LIMIT_SECOND * limit_s


def _grow(inst: Instance, rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    """Grow ``k`` regions from random seeds, the lightest region first; labels and sums.

    The region takes a random unassigned neighbour, each weighted by how many of its
    units it touches.
    """
    k, n = inst.k, inst.n
    labels = np.full(n, -1)
    seeds = rng.sample(range(n), k)
    frontier: list[dict[int, int]] = [{} for _ in range(k)]
    for j, s in enumerate(seeds):
        labels[s] = j
    for j, s in enumerate(seeds):
        for v in inst.adj[s]:
            if labels[v] < 0:
                frontier[j][v] = frontier[j].get(v, 0) + 1
    sums = np.array([inst.norm[s] for s in seeds], dtype=float)
    totals = [float(row.sum()) for row in sums]
    left = n - k
    while left > 0:
        order = sorted(range(k), key=lambda j: (totals[j], rng.random()))
        for j in order:
            if frontier[j]:
                cands = sorted(frontier[j].items())
                v = rng.choices([c for c, _ in cands], weights=[w for _, w in cands])[0]
                labels[v] = j
                left -= 1
                sums[j] += inst.norm[v]
                totals[j] = float(sums[j].sum())
                for fr in frontier:
                    fr.pop(v, None)
                for t in inst.adj[v]:
                    if labels[t] < 0:
                        frontier[j][t] = frontier[j].get(t, 0) + 1
                break
    return labels, sums


def _heuristic(
    inst: Instance,
    *,
    seed: int,
    restarts: int,
    deadline: float,
    clock: Clock,
    stops: list[str] | None = None,
    limit_s: float = math.inf,
) -> tuple[np.ndarray, float] | None:
    """Region growing plus best-improvement boundary moves; returns labels and z.

    Pins are not handled (returns None); the exact methods handle them. The work is
    ``restarts`` restarts within :func:`_scan_budget` of ``limit_s`` (at least one);
    ``deadline`` is a safety stop between restarts and descent passes (noted in
    ``stops``).
    """
    if inst.pinned:
        return None
    rng = random.Random(seed)
    best: tuple[tuple[float, ...], np.ndarray] | None = None
    budget, used = _scan_budget(limit_s), 0.0
    for _restart in range(restarts):
        if best is not None and (clock() > deadline or used >= budget):
            if stops is not None and clock() > deadline:
                stops.append("heuristic restarts")
            break
        labels, sums = _grow(inst, rng)
        used += inst.n
        scans = (used, budget if best is not None else math.inf)
        key, used = _descend(inst, labels, sums, scans, (deadline, clock, stops))
        if best is None or key < best[0]:
            best = (key, labels.copy())
    if best is None:
        return None
    return best[1], zvalue(inst, best[1])


def _descend(
    inst: Instance,
    labels: np.ndarray,
    sums: np.ndarray,
    scans: tuple[float, float],
    safety: tuple[float, Clock, list[str] | None],
) -> tuple[tuple[float, ...], float]:
    """Make the best improving boundary move until none is left; ``labels`` changes.

    ``scans`` is (unit scans used so far, the budget); ``safety`` is (deadline, clock,
    stops). Returns the plan's key and the scans used.
    """
    used, budget = scans
    deadline, clock, stops = safety
    k, n = inst.k, inst.n
    extra = [bound.values for bound in inst.bounds]
    members = [set(np.flatnonzero(labels == j).tolist()) for j in range(k)]
    counts = [np.array([arr[list(members[j])].sum() for j in range(k)]) for arr in extra]
    key = plan_key(inst, sums, counts)
    improved = True
    while improved and used < budget:
        if clock() > deadline:
            if stops is not None:
                stops.append("heuristic descent")
            break
        improved = False
        used += n
        moves = _improving_moves(inst, labels, members, (sums, counts), key)
        for new_key, u, a, b in sorted(moves):
            if connected_without(inst, members[a], u):
                labels[u] = b
                members[a].discard(u)
                members[b].add(u)
                sums[a] -= inst.norm[u]
                sums[b] += inst.norm[u]
                for e, arr in enumerate(extra):
                    counts[e][a] -= arr[u]
                    counts[e][b] += arr[u]
                key = new_key
                improved = True
                break
    return key, used


def _improving_moves(
    inst: Instance,
    labels: np.ndarray,
    members: list[set[int]],
    totals: tuple[np.ndarray, list[np.ndarray]],
    key: tuple[float, ...],
) -> list[tuple[tuple[float, ...], int, int, int]]:
    """Return every single-unit boundary move whose plan key is below ``key``."""
    sums, counts = totals
    extra = [bound.values for bound in inst.bounds]
    moves: list[tuple[tuple[float, ...], int, int, int]] = []
    for u in range(inst.n):
        a = int(labels[u])
        if len(members[a]) == 1:
            continue
        for b in {int(labels[v]) for v in inst.adj[u]} - {a}:
            new_sums = sums.copy()
            new_sums[a] -= inst.norm[u]
            new_sums[b] += inst.norm[u]
            new_counts = []
            for e, arr in enumerate(extra):
                c = counts[e].copy()
                c[a] -= arr[u]
                c[b] += arr[u]
                new_counts.append(c)
            new_key = plan_key(inst, new_sums, new_counts)
            if new_key < key:
                moves.append((new_key, u, a, b))
    return moves


def _plan_key_of(inst: Instance, labels: np.ndarray) -> tuple[float, ...]:
    """Return the heuristic's key (violation, worst deviation, sum of squares) of a plan."""
    sums = np.array([inst.norm[labels == j].sum(axis=0) for j in range(inst.k)])
    totals = [np.array([b.values[labels == j].sum() for j in range(inst.k)]) for b in inst.bounds]
    return plan_key(inst, sums, totals)


def capped_moves(iters: int, limit_s: float) -> int:
    """Return ``iters`` annealing moves, capped at :data:`MOVES_PER_LIMIT_SECOND` x ``limit_s``."""
    if not math.isfinite(limit_s):
        return iters
    return max(min(iters, int(MOVES_PER_LIMIT_SECOND * limit_s)), 1_000)


def find_incumbent(
    inst: Instance,
    *,
    seed: int,
    restarts: int,
    iters: int,
    deadline: float,
    clock: Clock,
    stops: list[str] | None = None,
    limit_s: float = math.inf,
) -> tuple[np.ndarray, float] | None:
    """Return a feasible plan from region growing + descent + annealing, or None.

    The work is fixed by ``restarts`` and ``iters`` (annealing moves), both capped by
    counts sized from ``limit_s`` (the whole command's time limit), so the plan depends
    only on the seed and the limit unless the safety ``deadline`` stops it (noted in
    ``stops``).
    """
    first = _heuristic(
        inst,
        seed=seed,
        restarts=restarts,
        deadline=deadline,
        clock=clock,
        stops=stops,
        limit_s=limit_s,
    )
    if first is None:
        return None
    labels = anneal(
        inst,
        first[0],
        iters=capped_moves(iters, limit_s),
        deadline=deadline,
        clock=clock,
        seed=seed,
        stops=stops,
    )
    if math.isfinite(limit_s):
        steps = recom_steps(limit_s, inst.n, inst.k, RECOM_SHARE)
        labels = recombine(
            inst, labels, steps=steps, seed=seed, deadline=deadline, clock=clock, stops=stops
        )
        # single-unit moves again from the recombined plan (half the moves, kept only
        # if better): the two kinds of move reach different plans
        again = anneal(
            inst,
            labels,
            iters=capped_moves(iters, limit_s) // 2,
            deadline=deadline,
            clock=clock,
            seed=seed + 1,
            stops=stops,
        )
        if _plan_key_of(inst, again) < _plan_key_of(inst, labels):
            labels = again
        # and recombination straight from the grown plan, then annealing: it reaches
        # other plans (100-unit map, k = 8: 2.4 % against 3.3 % the other way)
        other = recombine(
            inst, first[0], steps=steps, seed=seed + 2, deadline=deadline, clock=clock, stops=stops
        )
        other_annealed = anneal(
            inst,
            other,
            iters=capped_moves(iters, limit_s) // 2,
            deadline=deadline,
            clock=clock,
            seed=seed + 3,
            stops=stops,
        )
        for cand in (other, other_annealed):
            if _plan_key_of(inst, cand) < _plan_key_of(inst, labels):
                labels = cand
    if rule_violation(inst, labels) > 0:
        return None
    return labels, zvalue(inst, labels)


#: A boundary move priced: the two rows after it, their bound totals, the change of
#: cut, the two rows' new costs and the change of the objective.
_Priced = tuple[list[float], list[float], list[float], list[float], float, float, float, float]


@dataclass
class _AnnealState:
    """The annealing's plan and the totals it keeps per locality (see :func:`anneal`)."""

    inst: Instance
    lab: list[int]
    pinned: list[bool]
    norm: list[list[float]]
    extra: list[tuple[list[float], float, float]]
    sums: list[list[float]]
    esum: list[list[float]]
    members: list[set[int]]
    shared: list[dict[int, float]]
    compact_cap: float | None
    target: float
    cut_w: float
    row_cost: Callable[[list[float], list[float]], float]
    score: Callable[[float], tuple[float, float, float]]
    costs: list[float] = field(default_factory=list)
    cut: float = 0.0

    @classmethod
    def start(cls, inst: Instance, labels: np.ndarray, compact_cap: float | None) -> _AnnealState:
        """Return the state of plan ``labels``."""
        n, k, m = inst.n, inst.k, len(inst.measures)
        lab = [int(v) for v in labels]
        if any(v >= 0 for v in inst.pin_label):
            pinned = [v >= 0 for v in inst.pin_label]
        else:
            pinned = [False] * n
        norm = inst.norm.tolist()
        # values, low, high of each bound (population band, category floors)
        extra = [(b.values.tolist(), b.low, b.high) for b in inst.bounds]
        sums = [[0.0] * m for _ in range(k)]
        esum = [[0.0] * len(extra) for _ in range(k)]
        members: list[set[int]] = [set() for _ in range(k)]
        for i, j in enumerate(lab):
            members[j].add(i)
            for t in range(m):
                sums[j][t] += norm[i][t]
            for e, (vals, _, _) in enumerate(extra):
                esum[j][e] += vals[i]
        target = inst.lower_bound + 1e-12 if compact_cap is None else compact_cap
        # compact mode: cut (as a share of all shared boundary) plus a steep penalty on
        # deviations above the cap, so that two-step exchanges can pass through
        penalty = 1.0 if compact_cap is None else 3.0
        cut_w = 0.0 if compact_cap is None else 1.0 / max(inst.total_shared, 1e-9)
        shared = [dict[int, float]() for _ in range(n)]
        for a, b, s in inst.edges:
            shared[a][b] = s
            shared[b][a] = s
        w = inst.weights.tolist()
        state = cls(
            inst=inst,
            lab=lab,
            pinned=pinned,
            norm=norm,
            extra=extra,
            sums=sums,
            esum=esum,
            members=members,
            shared=shared,
            compact_cap=compact_cap,
            target=target,
            cut_w=cut_w,
            row_cost=_row_cost(w, target, penalty, extra),
            score=_scorer(w, sums, esum, extra, compact_cap),
        )
        state.costs = [state.row_cost(sums[j], esum[j]) for j in range(k)]
        state.cut = cut_length(inst, np.asarray(lab))
        return state

    def price(self, u: int, a: int, b: int) -> _Priced:
        """Return the move of unit ``u`` from locality ``a`` to ``b``, priced."""
        m, norm, sums, esum, extra = len(self.sums[a]), self.norm, self.sums, self.esum, self.extra
        lab = self.lab
        row_a = [sums[a][t] - norm[u][t] for t in range(m)]
        row_b = [sums[b][t] + norm[u][t] for t in range(m)]
        e_a = [esum[a][e] - extra[e][0][u] for e in range(len(extra))]
        e_b = [esum[b][e] + extra[e][0][u] for e in range(len(extra))]
        d_cut = sum(s for v, s in self.shared[u].items() if lab[v] == a) - sum(
            s for v, s in self.shared[u].items() if lab[v] == b
        )
        new_ca, new_cb = self.row_cost(row_a, e_a), self.row_cost(row_b, e_b)
        delta = new_ca + new_cb - self.costs[a] - self.costs[b] + self.cut_w * d_cut
        return row_a, row_b, e_a, e_b, d_cut, new_ca, new_cb, delta

    def apply(self, u: int, a: int, b: int, move: _Priced) -> None:
        """Make the priced move of ``u`` from ``a`` to ``b``."""
        row_a, row_b, e_a, e_b, d_cut, new_ca, new_cb, _ = move
        self.lab[u] = b
        self.members[a].discard(u)
        self.members[b].add(u)
        self.sums[a], self.sums[b] = row_a, row_b
        self.esum[a], self.esum[b] = e_a, e_b
        self.costs[a], self.costs[b] = new_ca, new_cb
        self.cut += d_cut

    def reached(self, sc: tuple[float, float, float]) -> bool:
        """Return True when a balance run's plan is feasible and at the lower bound."""
        return self.compact_cap is None and sc[0] == 0 and sc[1] <= self.target


def _row_cost(
    w: list[float], target: float, penalty: float, extra: list[tuple[list[float], float, float]]
) -> Callable[[list[float], list[float]], float]:
    """Return the cost of one locality's row: deviations over ``target``, bound violations."""
    m = len(w)

    def row_cost(row: list[float], erow: list[float]) -> float:
        c = 0.0
        for t in range(m):
            d = abs(row[t] - w[t]) - target
            if d > 0:
                c += penalty * d * d
        for e, (_, lo, hi) in enumerate(extra):
            scale = hi if math.isfinite(hi) else max(lo, 1.0)
            if erow[e] < lo:
                c += 1e3 * ((lo - erow[e]) / scale) ** 2
            elif erow[e] > hi:
                c += 1e3 * ((erow[e] - hi) / scale) ** 2
        return c

    return row_cost


def _scorer(
    w: list[float],
    sums: list[list[float]],
    esum: list[list[float]],
    extra: list[tuple[list[float], float, float]],
    compact_cap: float | None,
) -> Callable[[float], tuple[float, float, float]]:
    """Return the plan's score for a cut: (infeasible, worst deviation or 0, cut)."""
    m, k = len(w), len(sums)

    def row_dev(row: list[float]) -> float:
        return float(max(abs(row[t] - w[t]) for t in range(m)))

    def feasible_row(erow: list[float]) -> bool:
        return all(lo - 1e-9 <= erow[e] <= hi + 1e-9 for e, (_, lo, hi) in enumerate(extra))

    def score(cut: float) -> tuple[float, float, float]:
        feas = all(feasible_row(esum[j]) for j in range(k))
        if compact_cap is not None:
            ok = feas and all(row_dev(sums[j]) <= compact_cap for j in range(k))
            return (0.0 if ok else 1.0, 0.0, cut)
        return (0.0 if feas else 1.0, max(row_dev(sums[j]) for j in range(k)), cut)

    return score


def anneal(
    inst: Instance,
    labels: np.ndarray,
    *,
    iters: int,
    deadline: float,
    clock: Clock,
    seed: int,
    compact_cap: float | None = None,
    stops: list[str] | None = None,
) -> np.ndarray:
    """Anneal over single-unit boundary moves that keep localities connected.

    Balance mode (``compact_cap`` None): minimise the squared excess of every deviation
    over the proven lower bound (plus hard-constraint violations), keeping the best plan
    by worst deviation; stops early when the lower bound is reached. Compact mode:
    minimise the boundary cut among plans whose worst deviation stays ``<= compact_cap``.

    The temperature falls with the iteration count over ``iters`` moves, so the result
    depends only on the seed. ``deadline`` is a safety stop; when it fires, the result
    depends on the machine's speed and a note is appended to ``stops``.
    """
    rng = random.Random(seed)
    st = _AnnealState.start(inst, labels, compact_cap)
    best = st.score(st.cut)
    if st.reached(best):
        return np.asarray(list(st.lab))
    temp0, temp1 = (1e-3, 1e-8) if compact_cap is None else (1e-2, 1e-5)
    if compact_cap is None:
        # start hot enough to move a typical unit: its squared share of a locality's
        # target (coarse units, e.g. 12 LSOAs a locality, froze at 1e-3)
        share = np.max(inst.norm / inst.weights, axis=1)
        temp0 = max(temp0, float(_TEMP_SCALE * np.median(share) ** 2))
    what = "annealing" if compact_cap is None else "compact annealing"
    return np.asarray(
        _anneal_moves(
            st, rng, iters=iters, temps=(temp0, temp1), safety=(deadline, clock, stops, what)
        )
    )


def _anneal_moves(
    st: _AnnealState,
    rng: random.Random,
    *,
    iters: int,
    temps: tuple[float, float],
    safety: tuple[float, Clock, list[str] | None, str],
) -> list[int]:
    """Run ``iters`` annealing moves from ``st``; return the best plan's labels."""
    deadline, clock, stops, what = safety
    inst, lab, members, pinned = st.inst, st.lab, st.members, st.pinned
    n, adj = inst.n, inst.adj
    temp0, temp1 = temps
    best = st.score(st.cut)
    best_lab = list(lab)
    it = 0
    temp = temp0
    while it < iters:
        it += 1
        if it % 256 == 0:
            if clock() >= deadline:
                if stops is not None:
                    stops.append(what)
                break
            temp = temp0 * (temp1 / temp0) ** (it / iters)
        u = rng.randrange(n)
        if pinned[u]:
            continue
        a = lab[u]
        nbrs = adj[u]
        b = lab[nbrs[rng.randrange(len(nbrs))]]
        if a == b or len(members[a]) == 1:
            continue
        move = st.price(u, a, b)
        delta = move[7]
        if delta > 0 and rng.random() >= math.exp(-delta / temp):
            continue
        if not connected_without(inst, members[a], u):
            continue
        st.apply(u, a, b, move)
        sc = st.score(st.cut)
        if sc < best:
            best = sc
            best_lab = list(lab)
            if st.reached(sc):
                break
    return best_lab


def polish(
    inst: Instance,
    labels: np.ndarray,
    *,
    seed: int,
    deadline: float,
    clock: Clock,
    stops: list[str] | None = None,
    limit_s: float = math.inf,
) -> np.ndarray:
    """Re-heat and anneal the plan :data:`_POLISH_ROUNDS` times (fixed moves each)."""
    best, best_z = labels, zvalue(inst, labels)
    for r in range(_POLISH_ROUNDS):
        got = anneal(
            inst,
            best,
            iters=capped_moves(balance_moves(inst.n), limit_s),
            seed=seed + r,
            deadline=deadline,
            clock=clock,
            stops=stops,
        )
        z = zvalue(inst, got)
        if z < best_z - 1e-12 and rule_violation(inst, got) <= rule_violation(inst, best):
            best, best_z = got, z
    return best


def grown_plan(inst: Instance, seed: int) -> np.ndarray:
    """Return a plan grown from ``k`` random seed units (no descent; rules not checked)."""
    return _grow(inst, random.Random(seed))[0]
