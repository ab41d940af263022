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

from nwm_geo.localities._instance import Clock, Instance, plan_key

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
