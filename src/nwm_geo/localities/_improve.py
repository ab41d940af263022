"""More search when the band does not fit: recombination chains, covers and exact pairs.

In: an ``Instance``, the incumbent (integer labels), a seed and the work allowed (chain
steps, search nodes). Out: a plan never worse than the incumbent by (rule violation,
worst deviation).

Three moves, each counted, never timed: recombination chains
(:func:`~nwm_geo.localities._recom.run_chain`), every other one from a freshly grown plan
and the others from the best plan so far, so that the localities they draw differ; after each
chain, an exact cover by ``k`` of every locality the chains drew that beats the best
plan (:func:`~nwm_geo.localities._recom.pool_cover`), which combines localities from
different plans, then the same question as a set-partitioning MIP over the pool
(:func:`~nwm_geo.localities._poolmip.pool_mip`, HiGHS), which finds covers the
depth-first search gives up on; and at the end exact re-splits of adjacent pairs and triples
(:func:`~nwm_geo.localities._pairs.pair_descent`). The deadline is a safety stop, noted
in ``stops``.
"""

from __future__ import annotations

import numpy as np

from nwm_geo.localities._heuristic import grown_plan
from nwm_geo.localities._instance import Clock, Instance, zvalue
from nwm_geo.localities._pairs import pair_descent
from nwm_geo.localities._poolmip import pool_mip
from nwm_geo.localities._recom import CHAIN_STEPS, plan_value, pool_cover, run_chain

#: Every this many chains, one starts from a freshly grown plan (the others from the
#: best plan so far, alternating greedy and random cuts).
FRESH_EVERY: int = 2


def _at_bound(inst: Instance, labels: np.ndarray) -> bool:
    return plan_value(inst, labels)[0] == 0 and zvalue(inst, labels) <= inst.lower_bound + 1e-12


def improve(
    inst: Instance,
    labels: np.ndarray,
    *,
    work: tuple[int, int],
    seed: int,
    deadline: float,
    clock: Clock,
    stops: list[str] | None = None,
) -> np.ndarray:
    """Improve a plan by chains, covers over the localities drawn, and exact pairs.

    ``work`` is (chain steps, search nodes of the pair re-splits). Chains of
    :data:`~nwm_geo.localities._recom.CHAIN_STEPS` steps start, every
    :data:`FRESH_EVERY`-th one, from a freshly grown plan (greedy cuts), the others
    from the best plan so far (random cuts that leave it no worse), re-heated each
    time. Never worse than ``labels``.
    """
    steps, nodes = work
    if inst.pinned or inst.k < 2:
        return labels
    pool: dict[int, float] = {}
    best = np.asarray(labels).copy()
    safety = (deadline, clock, stops)
    done, c = 0, 0
    while done < steps and not _at_bound(inst, best):
        if clock() >= deadline:
            if stops is not None:
                stops.append("recombination chains")
            break
        n_steps = min(CHAIN_STEPS, steps - done)
        fresh = c % FRESH_EVERY == FRESH_EVERY - 1
        start = grown_plan(inst, seed + 104_729 * c) if fresh else best
        greedy = fresh
        got = run_chain(
            inst, start, pool, steps=n_steps, seed=seed + 7_919 * c, greedy=greedy, safety=safety
        )
        done += n_steps
        c += 1
        if plan_value(inst, got) < plan_value(inst, best):
            best = got
        best = pool_cover(inst, best, pool, safety)
        best = pool_mip(inst, best, pool, safety)
    if nodes > 0 and not _at_bound(inst, best):
        best = pair_descent(
            inst, best, max_nodes=nodes, deadline=deadline, clock=clock, stops=stops
        )
    return best
