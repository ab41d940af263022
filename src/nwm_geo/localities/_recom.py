"""Recombination (ReCom) moves on the partitioner's own objective.

In: an ``Instance``, a plan (integer labels), a number of steps and a seed. Out: a plan
that is never worse by the heuristic's key (rule violation, worst deviation, sum of
squared deviations).

One step (DeFord, Duchin and Solomon 2021, "Recombination"): merge two adjacent
localities, draw a random spanning tree of the merged units (Kruskal on random edge
weights), and cut the tree edge whose two sides give the smallest worst deviation (then
the smallest sum of squares). The new pair replaces the old one when the whole plan's
key does not get worse. Unlike single-unit moves, a step re-draws a whole boundary, so
it leaves the local minima where annealing stalls on coarse units. The work is a count
of steps, so a seed gives the same plan on every machine; the deadline is only a safety
stop (noted in ``stops``).
"""

from __future__ import annotations

import math
import random

import numpy as np

from nwm_geo.localities._bisect import bisect_band
from nwm_geo.localities._instance import Clock, Instance, plan_key, rule_violation, zvalue

#: Recombination steps per second of the time limit, at :data:`RECOM_REF_UNITS` merged
#: units (a step costs about in proportion to the units of the two localities).
RECOM_STEPS_PER_LIMIT_SECOND: int = 400
RECOM_REF_UNITS: int = 40
#: At most this many steps per unit (small maps are proven by the exact methods).
RECOM_STEPS_PER_UNIT: int = 60
#: Metropolis temperature on the worst deviation, falling geometrically over the steps
#: (a worse plan by ``d`` is accepted with probability ``exp(-d / T)``; the best is kept).
_TEMP0 = 1e-2
_TEMP1 = 1e-4


def recom_steps(limit_s: float, n: int, k: int, share: float) -> int:
    """Return the steps for ``share`` of a ``limit_s`` limit, ``n`` units, ``k`` localities."""
    merged = max(2 * n / max(k, 1), 1.0)
    scale = min(1.0, RECOM_REF_UNITS / merged)
    return min(
        int(share * limit_s * RECOM_STEPS_PER_LIMIT_SECOND * scale), RECOM_STEPS_PER_UNIT * n
    )


def _find(parent: dict[int, int], a: int) -> int:
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a


def _random_tree(
    inst: Instance, nodes: list[int], member: set[int], rng: random.Random
) -> dict[int, list[int]]:
    """Return a random spanning tree of ``nodes`` (Kruskal, random weights) as lists."""
    edges = [(rng.random(), u, v) for u in nodes for v in inst.adj[u] if v > u and v in member]
    edges.sort()
    parent = {u: u for u in nodes}
    tree: dict[int, list[int]] = {u: [] for u in nodes}
    joined = 0
    for _, u, v in edges:
        ru, rv = _find(parent, u), _find(parent, v)
        if ru != rv:
            parent[ru] = rv
            tree[u].append(v)
            tree[v].append(u)
            joined += 1
            if joined == len(nodes) - 1:
                break
    return tree


def _best_cut(
    inst: Instance,
    tree: dict[int, list[int]],
    root: int,
    extra: list[np.ndarray],
) -> tuple[tuple[float, ...], set[int]] | None:
    """Return the key and one side of the tree edge whose two sides balance best."""
    order = [root]
    parent = {root: -1}
    for u in order:
        for v in tree[u]:
            if v not in parent:
                parent[v] = u
                order.append(v)
    m = inst.norm.shape[1]
    sub = {u: inst.norm[u].copy() for u in order}
    esub = {u: np.array([arr[u] for arr in extra], dtype=float) for u in order}
    for u in reversed(order[1:]):
        sub[parent[u]] += sub[u]
        esub[parent[u]] += esub[u]
    total, etotal = sub[root], esub[root]
    best: tuple[tuple[float, ...], int] | None = None
    for u in order[1:]:
        sums = np.vstack([sub[u], total - sub[u]]).reshape(2, m)
        counts = [np.array([esub[u][e], etotal[e] - esub[u][e]]) for e in range(len(extra))]
        key = plan_key(inst, sums, counts)
        if best is None or key < best[0]:
            best = (key, u)
    if best is None:
        return None
    cut_at = best[1]
    side = {cut_at}
    stack = [cut_at]
    while stack:
        u = stack.pop()
        for v in tree[u]:
            if v != parent[u] and v not in side:
                side.add(v)
                stack.append(v)
    return best[0], side


def recombine(
    inst: Instance,
    labels: np.ndarray,
    *,
    steps: int,
    seed: int,
    deadline: float,
    clock: Clock,
    stops: list[str] | None = None,
) -> np.ndarray:
    """Run ``steps`` recombination steps from ``labels``; return the best plan found.

    A step that makes the plan worse is accepted with the Metropolis rule (never one
    that breaks a hard rule more), so the chain can leave a local minimum.
    """
    if inst.pinned or inst.k < 2 or steps <= 0:
        return labels
    rng = random.Random(seed)
    k = inst.k
    lab = np.asarray(labels).copy()
    extra = [b.values for b in inst.bounds]
    sums = np.array([inst.norm[lab == j].sum(axis=0) for j in range(k)])
    counts = [np.array([arr[lab == j].sum() for j in range(k)]) for arr in extra]
    key = plan_key(inst, sums, counts)
    best_key, best = key, lab.copy()
    for step in range(steps):
        if step % 16 == 0 and clock() >= deadline:
            if stops is not None:
                stops.append("recombination")
            break
        # the pair: the worst locality half the time (it is what holds the objective up)
        dev = np.abs(sums - inst.weights).max(axis=1)
        a = int(np.argmax(dev)) if rng.random() < 0.5 else rng.randrange(k)
        nbr_locs = sorted(
            {int(lab[v]) for u in np.flatnonzero(lab == a) for v in inst.adj[u]} - {a}
        )
        if not nbr_locs:
            continue
        b = nbr_locs[rng.randrange(len(nbr_locs))]
        nodes = np.flatnonzero((lab == a) | (lab == b)).tolist()
        member = set(nodes)
        tree = _random_tree(inst, nodes, member, rng)
        got = _best_cut(inst, tree, nodes[0], extra)
        if got is None:
            continue
        _, side = got
        new_sums = sums.copy()
        side_list = sorted(side)
        rest = sorted(member - side)
        new_sums[a] = inst.norm[side_list].sum(axis=0)
        new_sums[b] = inst.norm[rest].sum(axis=0)
        new_counts = []
        for e, arr in enumerate(extra):
            c = counts[e].copy()
            c[a] = arr[side_list].sum()
            c[b] = arr[rest].sum()
            new_counts.append(c)
        new_key = plan_key(inst, new_sums, new_counts)
        temp = _TEMP0 * (_TEMP1 / _TEMP0) ** (step / steps)
        worse = new_key[1] - key[1]
        if new_key <= key or (
            new_key[0] <= key[0] and rng.random() < math.exp(-max(worse, 0.0) / temp)
        ):
            lab[side_list] = a
            lab[rest] = b
            sums, counts, key = new_sums, new_counts, new_key
            if key < best_key:
                best_key, best = key, lab.copy()
                if key[0] == 0 and key[1] <= inst.lower_bound + 1e-12:
                    break
    return best


# --------------------------------------------------------------------------- chains

#: Steps of the improvement chains (:func:`improve`) per second of the time limit, at
#: :data:`RECOM_REF_UNITS` merged units or fewer (fewer steps above, in proportion). A
#: step cost 0.4-0.8 ms on the benchmark machine under load at 20-40 merged units, so
#: a share ``s`` of the limit takes about ``s / 2`` of it in real time.
IMPROVE_STEPS_PER_LIMIT_SECOND: int = 1_000
#: Steps of one chain; each chain restarts from the best plan so far, re-heated.
CHAIN_STEPS: int = 4_000
#: Search nodes per threshold of the exact cover over the pool of localities seen, at
#: :data:`POOL_REF_UNITS` units or fewer (a node costs about in proportion to the units,
#: so fewer above): 5,000 nodes a threshold took 1-2 s at 125 units.
POOL_COVER_NODES: int = 3_000
POOL_REF_UNITS: int = 60
#: Localities the pool keeps at most (bitmask and deviation, a few hundred bytes each).
POOL_MAX_SETS: int = 200_000


#: A chain's starting temperature: :data:`_TEMP0` (1 %), or its start plan's worst
#: deviation when that is smaller; it cools :data:`CHAIN_COOLING`-fold over the chain (a
#: worse plan by ``d`` is accepted with probability ``exp(-d / T)``; the best is kept).
#: At 1 % a chain from a 0.3 % plan (k = 3) wandered off and never came back.
CHAIN_COOLING: float = 1e-2


def improve_steps(limit_s: float, n: int, k: int, share: float) -> int:
    """Return the chain steps for ``share`` of a ``limit_s`` limit (a count, not seconds)."""
    if not math.isfinite(limit_s):
        return 0
    merged = max(2 * n / max(k, 1), 1.0)
    scale = min(1.0, RECOM_REF_UNITS / merged)
    return int(share * limit_s * IMPROVE_STEPS_PER_LIMIT_SECOND * scale)


class _Chain:
    """A recombination chain's plan, its per-locality totals and the pool of localities.

    Every tree cut drawn gives two connected unit sets; those that meet the bounds and
    are no worse than the best plan so far go into ``pool`` (bitmask -> deviation), so
    that an exact cover over the pool can combine localities seen in different plans.
    """

    def __init__(self, inst: Instance, labels: np.ndarray, pool: dict[int, float]) -> None:
        self.inst = inst
        self.lab = np.asarray(labels).copy()
        self.extra = [b.values for b in inst.bounds]
        k = inst.k
        self.sums = np.array([inst.norm[self.lab == j].sum(axis=0) for j in range(k)])
        self.counts = np.array(
            [[arr[self.lab == j].sum() for arr in self.extra] for j in range(k)], dtype=float
        ).reshape(k, len(self.extra))
        self.pool = pool

    def viol(self, counts: np.ndarray) -> np.ndarray:
        """Return the bound violation of each row of ``counts`` (localities x bounds)."""
        out = np.zeros(counts.shape[0])
        for e, bound in enumerate(self.inst.bounds):
            out += bound.violation(counts[:, e])
        return out

    def key(self) -> tuple[float, float]:
        """Return the plan's (rule violation, worst deviation)."""
        dev = float(np.abs(self.sums - self.inst.weights).max())
        return (round(float(self.viol(self.counts).sum()), 12), round(dev, 12))

    def cuts(
        self, a: int, b: int, rng: random.Random, cap: float
    ) -> tuple[list[int], np.ndarray, np.ndarray, np.ndarray, list[int]]:
        """Draw a tree of the pair ``a, b``; return its units and every cut's numbers.

        Returns the units (tree order, root first), per cut (one per non-root unit, the
        side below it): the side's measure sums and bound totals (rows), the two sides'
        (violation, deviation) pairs as an array ``(cuts, 4)``, and the side masks.
        Sides within the bounds and with deviation ``<= cap`` go into the pool.
        """
        inst = self.inst
        nodes = np.flatnonzero((self.lab == a) | (self.lab == b)).tolist()
        tree = _random_tree(inst, nodes, set(nodes), rng)
        order, parent = [nodes[0]], {nodes[0]: -1}
        for u in order:
            for v in tree[u]:
                if v not in parent:
                    parent[v] = u
                    order.append(v)
        pos = {u: i for i, u in enumerate(order)}
        sub = inst.norm[order].copy()
        esub = np.array([[arr[u] for arr in self.extra] for u in order], dtype=float).reshape(
            len(order), len(self.extra)
        )
        masks = [1 << u for u in order]
        for i in range(len(order) - 1, 0, -1):
            p = pos[parent[order[i]]]
            sub[p] += sub[i]
            esub[p] += esub[i]
            masks[p] |= masks[i]
        w = inst.weights
        side, rest = sub[1:], sub[0] - sub[1:]
        eside, erest = esub[1:], esub[0] - esub[1:]
        stats = np.column_stack(
            [
                self.viol(eside),
                np.abs(side - w).max(axis=1),
                self.viol(erest),
                np.abs(rest - w).max(axis=1),
            ]
        )
        self._add_to_pool(stats, masks, cap)
        return order, side, eside, stats, masks

    def _add_to_pool(self, stats: np.ndarray, masks: list[int], cap: float) -> None:
        if len(self.pool) >= POOL_MAX_SETS:
            return
        full = masks[0]
        for i in np.flatnonzero((stats[:, 0] == 0) & (stats[:, 1] <= cap)).tolist():
            self.pool[masks[i + 1]] = float(stats[i, 1])
        for i in np.flatnonzero((stats[:, 2] == 0) & (stats[:, 3] <= cap)).tolist():
            self.pool[full ^ masks[i + 1]] = float(stats[i, 3])

    def apply(
        self, a: int, b: int, order: list[int], mask: int, sums: np.ndarray, counts: np.ndarray
    ) -> None:
        """Give locality ``a`` the units of ``mask`` (with these totals), ``b`` the rest."""
        for u in order:
            self.lab[u] = a if mask >> u & 1 else b
        self.sums[b] = self.sums[a] + self.sums[b] - sums
        self.counts[b] = self.counts[a] + self.counts[b] - counts
        self.sums[a] = sums
        self.counts[a] = counts


def _pick_pair(chain: _Chain, rng: random.Random) -> tuple[int, int] | None:
    """Return the worst locality half the time (else a random one) and a random neighbour."""
    inst, lab = chain.inst, chain.lab
    dev = np.abs(chain.sums - inst.weights).max(axis=1)
    a = int(np.argmax(dev)) if rng.random() < 0.5 else rng.randrange(inst.k)
    nbrs = sorted({int(lab[v]) for u in np.flatnonzero(lab == a) for v in inst.adj[u]} - {a})
    if not nbrs:
        return None
    return a, nbrs[rng.randrange(len(nbrs))]


def _chain_step(
    chain: _Chain, rng: random.Random, *, greedy: bool, temp: float, cap: float
) -> None:
    """One step: draw a tree of a pair, choose a cut, accept it by the Metropolis rule.

    ``greedy``: the cut that balances the pair best; else a random cut among those that
    leave the plan no worse (the best one when there is none), which keeps the chain
    moving across plans of equal value.
    """
    pair = _pick_pair(chain, rng)
    if pair is None:
        return
    a, b = pair
    order, side, eside, stats, masks = chain.cuts(a, b, rng, cap)
    if len(order) < 2:
        return
    o_viol, o_dev = _others(chain, [a, b])
    new_viol = np.round(o_viol + stats[:, 0] + stats[:, 2], 12)
    pair_dev = np.maximum(stats[:, 1], stats[:, 3])
    new_dev = np.round(np.maximum(pair_dev, o_dev), 12)
    cur = chain.key()
    i = _pick_cut(new_viol, pair_dev, new_dev, cur, rng, greedy=greedy)
    if _accepts(cur, new_viol[i], new_dev[i], rng, temp):
        chain.apply(a, b, order, masks[i + 1], side[i], eside[i])


def _others(chain: _Chain, group: list[int]) -> tuple[float, float]:
    """Return the rule violation and worst deviation of the localities outside ``group``."""
    inst = chain.inst
    keep = np.ones(inst.k, dtype=bool)
    keep[group] = False
    o_viol = float(chain.viol(chain.counts)[keep].sum())
    dev_rows = np.abs(chain.sums - inst.weights).max(axis=1)
    return o_viol, float(dev_rows[keep].max()) if keep.any() else 0.0


def _pick_cut(
    new_viol: np.ndarray,
    part_dev: np.ndarray,
    new_dev: np.ndarray,
    cur: tuple[float, ...],
    rng: random.Random,
    *,
    greedy: bool,
) -> int:
    """Return the cut a step takes, by the plan's violation and worst deviation after it.

    ``greedy``: the cut that balances the merged localities best (the first of equals);
    else a random cut among those that leave the plan no worse than ``cur`` (the best
    one when there is none), which keeps the chain moving across plans of equal value.
    """
    if greedy:
        return int(np.lexsort((new_dev, part_dev, new_viol))[0])
    ok = np.flatnonzero((new_viol < cur[0]) | ((new_viol == cur[0]) & (new_dev <= cur[1])))
    return int(ok[rng.randrange(len(ok))]) if len(ok) else int(np.lexsort((new_dev, new_viol))[0])


def _accepts(
    cur: tuple[float, ...], viol: float, dev: float, rng: random.Random, temp: float
) -> bool:
    """Return whether the chain moves to a plan of this violation and worst deviation.

    Never to a plan breaking the rules more; to a worse deviation by the Metropolis rule
    at ``temp``.
    """
    if viol > cur[0]:
        return False
    worse = float(dev) - cur[1] if viol == cur[0] else 0.0
    return not (worse > 0 and rng.random() >= math.exp(-worse / temp))


def run_chain(
    inst: Instance,
    labels: np.ndarray,
    pool: dict[int, float],
    *,
    steps: int,
    seed: int,
    greedy: bool,
    safety: tuple[float, Clock, list[str] | None],
) -> np.ndarray:
    """Run one chain of ``steps`` steps from ``labels``; return the best plan it saw."""
    deadline, clock, stops = safety
    rng = random.Random(seed)
    chain = _Chain(inst, labels, pool)
    best_key, best = chain.key(), chain.lab.copy()
    temp0 = min(_TEMP0, max(best_key[1], 1e-4))
    for step in range(steps):
        if step % 16 == 0 and clock() >= deadline:
            if stops is not None:
                stops.append("recombination chains")
            break
        temp = temp0 * CHAIN_COOLING ** (step / steps)
        every = TRIPLE_EVERY
        three = every and greedy and step % every == every - 1
        step_fn = triple_step if three else _chain_step
        step_fn(chain, rng, greedy=greedy, temp=temp, cap=best_key[1])
        key = chain.key()
        if key < best_key:
            best_key, best = key, chain.lab.copy()
            if key[0] == 0 and key[1] <= inst.lower_bound + 1e-12:
                break
    return best


def pool_cover(
    inst: Instance,
    labels: np.ndarray,
    pool: dict[int, float],
    safety: tuple[float, Clock, list[str] | None],
) -> np.ndarray:
    """Return the best exact cover by ``k`` pooled localities, if better than ``labels``.

    A bisection over the pooled deviations below the plan's, each threshold an exact
    cover search with :data:`POOL_COVER_NODES` nodes (see :func:`bisect_band`). The
    pool is not every connected set, so nothing is proven here.
    """
    deadline, clock, _ = safety
    zval = zvalue(inst, labels)
    if rule_violation(inst, labels) > 0:
        return labels
    sets = [(mk, d) for mk, d in pool.items() if d < zval - 1e-12]
    if len(sets) < inst.k:
        return labels
    own = [0] * inst.k
    for i, v in enumerate(labels):
        own[int(v)] |= 1 << i
    w = inst.weights
    sets += [(mk, float(np.abs(inst.norm[bits(mk)].sum(axis=0) - w).max())) for mk in own]
    got = bisect_band(
        inst,
        sets,
        incumbent=(labels, zval),
        lower=inst.lower_bound,
        max_nodes=max(int(POOL_COVER_NODES * min(1.0, POOL_REF_UNITS / inst.n)), 100),
        deadline=deadline,
        clock=clock,
    )
    return got.labels if got.objective < zval - 1e-12 else labels


def bits(mask: int) -> list[int]:
    """Return the units of a bitmask."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def plan_value(inst: Instance, labels: np.ndarray) -> tuple[float, float]:
    """Return a plan's (rule violation, worst deviation): lower is better."""
    return (rule_violation(inst, labels), zvalue(inst, labels))


# ---------------------------------------------------------------------------------------
# Three-way steps
#
# Three-way recombination: merge three adjacent localities, cut a random tree twice.
#
# In: a recombination chain (:class:`_Chain`: the plan, its
# per-locality totals and the pool of localities seen) and its random generator. Out:
# the chain moved (or not) by one step.
#
# A pair step (:func:`~nwm_geo.localities._recom._chain_step`) moves measure across one
# boundary; when the worst locality's neighbours are each as good as they can be with
# it, no pair step helps, but three localities together may (an asset count one over
# in one locality can move through a balanced neighbour to a third). A step draws
# a random spanning tree of the three localities' units (as for a pair) and tries every
# two of its edges: removing them leaves three connected parts, whose totals follow from
# the subtree sums, so all ``(m - 1)(m - 2) / 2`` cuts of an ``m``-unit tree are scored at
# once with numpy. The cut is chosen and accepted as a pair step's is. A count of steps,
# never timed, so a seed gives the same chain on every machine.

#: Every this many steps of a greedy chain (one from a freshly grown plan), the step is
#: a three-way one (0: never). In the chains from the best plan they led Luton's 125
#: LSOAs, k = 10, into a 5.84 % local minimum (2.97 % without), so those take none.
TRIPLE_EVERY: int = 4


def _pick_triple(chain: _Chain, rng: random.Random) -> tuple[int, int, int] | None:
    """Return the worst locality half the time (else a random one) and two neighbours.

    ``b`` is a random neighbour of ``a``; ``c`` a random neighbour of ``a`` or ``b``.
    """
    inst, lab = chain.inst, chain.lab
    dev = np.abs(chain.sums - inst.weights).max(axis=1)
    a = int(np.argmax(dev)) if rng.random() < 0.5 else rng.randrange(inst.k)

    def nbrs(group: tuple[int, ...]) -> list[int]:
        inside = np.flatnonzero(np.isin(lab, group))
        return sorted({int(lab[v]) for u in inside for v in inst.adj[u]} - set(group))

    first = nbrs((a,))
    if not first:
        return None
    b = first[rng.randrange(len(first))]
    second = nbrs((a, b))
    if not second:
        return None
    return a, b, second[rng.randrange(len(second))]


def _tree_order(tree: dict[int, list[int]], root: int) -> tuple[list[int], list[int]]:
    """Return the tree's units in breadth-first order and each one's parent position."""
    order, parent = [root], [-1]
    pos = {root: 0}
    for u in order:
        for v in tree[u]:
            if v not in pos:
                pos[v] = len(order)
                order.append(v)
                parent.append(pos[u])
    return order, parent


def triple_step(
    chain: _Chain,
    rng: random.Random,
    *,
    greedy: bool,
    temp: float,
    cap: float,
) -> None:
    """One three-way step: draw a tree of three localities, cut it twice, maybe accept.

    ``greedy``: the cut that balances the three best; else a random cut among those that
    leave the plan no worse (the best one when there is none). A worse plan is accepted
    with the Metropolis rule at ``temp``; parts within the bounds and with deviation at
    most ``cap`` go into the chain's pool.
    """
    inst = chain.inst
    if inst.k < 3:
        return
    picked = _pick_triple(chain, rng)
    if picked is None:
        return
    group = list(picked)
    nodes = np.flatnonzero(np.isin(chain.lab, group)).tolist()
    if len(nodes) < 3:
        return
    tree = _random_tree(inst, nodes, set(nodes), rng)
    order, parent = _tree_order(tree, nodes[0])
    m = len(order)
    sub = inst.norm[order].copy()
    esub = np.array([[arr[u] for arr in chain.extra] for u in order], dtype=float).reshape(
        m, len(chain.extra)
    )
    anc = np.zeros((m, m), dtype=bool)  # anc[i, j]: j is in the subtree of i
    anc[0, :] = True
    for j in range(1, m):
        anc[:, j] = anc[:, parent[j]]
        anc[j, j] = True
    for j in range(m - 1, 0, -1):
        sub[parent[j]] += sub[j]
        esub[parent[j]] += esub[j]
    # every two cut edges (the edges above units i < j, breadth-first, so an ancestor
    # comes first): parts are j's subtree, i's subtree without it, and the rest
    ii, jj = np.triu_indices(m - 1, 1)
    ii, jj = ii + 1, jj + 1
    nested = anc[ii, jj][:, None]
    p1, e1 = sub[jj], esub[jj]
    p2 = np.where(nested, sub[ii] - sub[jj], sub[ii])
    e2 = np.where(nested, esub[ii] - esub[jj], esub[ii])
    p3 = sub[0] - p1 - p2
    e3 = esub[0] - e1 - e2
    w = inst.weights
    devs = np.column_stack([np.abs(p - w).max(axis=1) for p in (p1, p2, p3)])
    viols = np.column_stack([chain.viol(e) for e in (e1, e2, e3)])
    o_viol, o_dev = _others(chain, group)
    new_viol = np.round(o_viol + viols.sum(axis=1), 12)
    part_dev = devs.max(axis=1)
    new_dev = np.round(np.maximum(part_dev, o_dev), 12)
    cur = chain.key()
    c = _pick_cut(new_viol, part_dev, new_dev, cur, rng, greedy=greedy)
    masks = [1 << u for u in order]
    for j in range(m - 1, 0, -1):
        masks[parent[j]] |= masks[j]
    i_c, j_c = int(ii[c]), int(jj[c])
    parts = [masks[j_c], masks[i_c] & ~masks[j_c]]
    parts.append(masks[0] & ~parts[0] & ~parts[1])
    for p in range(3):
        if viols[c, p] == 0 and devs[c, p] <= cap:
            chain.pool[parts[p]] = float(devs[c, p])
    if not _accepts(cur, new_viol[c], new_dev[c], rng, temp):
        return
    sums, counts = (p1[c], p2[c], p3[c]), (e1[c], e2[c], e3[c])
    for p, loc in enumerate(group):
        for u in order:
            if parts[p] >> u & 1:
                chain.lab[u] = loc
        chain.sums[loc] = sums[p]
        chain.counts[loc] = counts[p]
