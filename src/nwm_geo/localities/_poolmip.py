"""The set-partitioning MIP over the pool of localities the chains drew.

In: an ``Instance``, a plan (integer labels) and the pool (bitmask -> deviation) of
connected localities that the recombination chains drew. Out: a plan never worse: the
best cover of the units by ``k`` pooled localities, found by HiGHS.

The exact cover over the pool (:func:`~nwm_geo.localities._recom.pool_cover`) is a
depth-first search within a node budget, which gives up on large pools; the same
question as a set-partitioning MIP (:func:`~nwm_geo.localities._setpart.set_partition_arrays`,
minimise the worst deviation of the chosen sets, the plan as the MIP start) is solved to
optimality by HiGHS in well under a second on a few thousand sets, and recombines
localities from different plans where move-based searches stall (Luton's 125 LSOAs,
k = 10, seed 0: six chains with three-way steps from the annealed plan stopped at
5.84 %; the MIP over their pool of 5,105 localities gave 5.11 % in 0.8 s). One
thread and no time limit reached give the same answer on every machine; the time cap
is a safety stop, noted in ``stops``. The pool is not every connected set, so nothing
is proven here.
"""

from __future__ import annotations

import numpy as np

from nwm_geo._solver import solve_arrays
from nwm_geo.localities._instance import (
    Clock,
    Instance,
    bits_of,
    labels_from_masks,
    rule_violation,
    zvalue,
)
from nwm_geo.localities._setpart import SetPartitionSpec, masks_of, set_partition_arrays

#: Pooled localities the MIP takes at most (those with the smallest deviations).
POOL_MIP_MAX_COLUMNS: int = 20_000
#: Seconds one MIP may take at most (a safety cap: the MIPs measured took 0.2-0.8 s;
#: when the cap is reached the plan may vary between runs, and ``stops`` says so).
POOL_MIP_SECONDS: float = 3.0


def pool_mip(
    inst: Instance,
    labels: np.ndarray,
    pool: dict[int, float],
    safety: tuple[float, Clock, list[str] | None],
) -> np.ndarray:
    """Return the best cover by ``k`` pooled localities if it beats ``labels``.

    Only pooled localities with deviation below the plan's enter (at most
    :data:`POOL_MIP_MAX_COLUMNS`, smallest deviation first), with the plan's own
    localities as the MIP start.
    """
    deadline, clock, stops = safety
    if POOL_MIP_MAX_COLUMNS <= 0 or inst.pinned or rule_violation(inst, labels) > 0:
        return labels
    zval = zvalue(inst, labels)
    below = sorted((d, mk) for mk, d in pool.items() if d < zval - 1e-12)
    if len(below) < inst.k:
        return labels
    w = inst.weights
    own = masks_of(labels, inst.k)
    sets = {mk: d for d, mk in below[:POOL_MIP_MAX_COLUMNS]}
    for mk in own:
        sets.setdefault(mk, float(np.abs(inst.norm[bits_of(mk)].sum(axis=0) - w).max()))
    masks = sorted(sets)
    spec = SetPartitionSpec(
        inst.n,
        inst.k,
        masks,
        minmax=[sets[mk] for mk in masks],
        minmax_low=inst.lower_bound,
    )
    model, idx, uncovered = set_partition_arrays(spec)
    left = min(POOL_MIP_SECONDS, deadline - clock())
    if uncovered or left <= 0:
        return labels
    pos = {masks[s]: j for j, s in enumerate(idx)}
    start = np.zeros(len(model.names))
    for mk in own:
        start[pos[mk]] = 1.0
    start[-1] = max(zval, inst.lower_bound)
    status, values = solve_arrays(model, time_limit_s=left, start=start)
    if status.state != "optimal" and stops is not None:
        stops.append("pool MIP")
    chosen = [masks[s] for j, s in enumerate(idx) if values.get(f"x_{j}", 0.0) > 0.5]
    if len(chosen) != inst.k:
        return labels
    got = labels_from_masks(inst.n, chosen)
    if rule_violation(inst, got) > 0 or zvalue(inst, got) >= zval - 1e-12:
        return labels
    return got
