"""Three-way recombination: merge three adjacent localities, cut a random tree twice.

In: a recombination chain (:class:`~nwm_geo.localities._recom._Chain`: the plan, its
per-locality totals and the pool of localities seen) and its random generator. Out:
the chain moved (or not) by one step.

A pair step (:func:`~nwm_geo.localities._recom._chain_step`) moves measure across one
boundary; when the worst locality's neighbours are each as good as they can be with
it, no pair step helps, but three localities together may (an asset count one over
in one locality can move through a balanced neighbour to a third). A step draws
a random spanning tree of the three localities' units (as for a pair) and tries every
two of its edges: removing them leaves three connected parts, whose totals follow from
the subtree sums, so all ``(m - 1)(m - 2) / 2`` cuts of an ``m``-unit tree are scored at
once with numpy. The cut is chosen and accepted as a pair step's is. A count of steps,
never timed, so a seed gives the same chain on every machine.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the chain's class; imported at run time by _recom, not here
    from nwm_geo.localities._recom import _Chain

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
    from nwm_geo.localities._recom import _random_tree

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
    keep = np.ones(inst.k, dtype=bool)
    keep[group] = False
    dev_rows = np.abs(chain.sums - w).max(axis=1)
    o_viol = float(chain.viol(chain.counts)[keep].sum())
    o_dev = float(dev_rows[keep].max()) if keep.any() else 0.0
    new_viol = np.round(o_viol + viols.sum(axis=1), 12)
    part_dev = devs.max(axis=1)
    new_dev = np.round(np.maximum(part_dev, o_dev), 12)
    cur = chain.key()
    if greedy:
        c = int(np.lexsort((new_dev, part_dev, new_viol))[0])
    else:
        ok = np.flatnonzero((new_viol < cur[0]) | ((new_viol == cur[0]) & (new_dev <= cur[1])))
        c = int(ok[rng.randrange(len(ok))]) if len(ok) else int(np.lexsort((new_dev, new_viol))[0])
    masks = [1 << u for u in order]
    for j in range(m - 1, 0, -1):
        masks[parent[j]] |= masks[j]
    i_c, j_c = int(ii[c]), int(jj[c])
    parts = [masks[j_c], masks[i_c] & ~masks[j_c]]
    parts.append(masks[0] & ~parts[0] & ~parts[1])
    for p in range(3):
        if viols[c, p] == 0 and devs[c, p] <= cap:
            chain.pool[parts[p]] = float(devs[c, p])
    if new_viol[c] > cur[0]:
        return
    worse = float(new_dev[c]) - cur[1] if new_viol[c] == cur[0] else 0.0
    if worse > 0 and rng.random() >= math.exp(-worse / temp):
        return
    sums, counts = (p1[c], p2[c], p3[c]), (e1[c], e2[c], e3[c])
    for p, loc in enumerate(group):
        for u in order:
            if parts[p] >> u & 1:
                chain.lab[u] = loc
        chain.sums[loc] = sums[p]
        chain.counts[loc] = counts[p]
