"""The compact objective: within a band on every measure, the shortest boundary.

In: an ``Instance``, the tolerance (every locality's weighted deviation ``<= t`` on
every measure, "±t of the average") and a balanced plan within it. Out: labels, the
boundary cut, a proven lower bound on the cut (0 when none could be proven) and
whether the cut is proven minimal.

Method: the balanced plan is annealed for compactness (a fixed number of moves),
keeping every deviation within the band; then every connected set within the band is
enumerated (within the budget) and the set-partitioning MIP maximises the boundary
kept inside localities, started from the annealed plan. HiGHS's dual bound on it is a
proven lower bound on the cut. When the sets do not fit the budget, the annealed plan
is returned with no bound beyond 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nwm_geo.localities._enumerate import enumerate_connected_sets
from nwm_geo.localities._heuristic import anneal, compact_moves
from nwm_geo.localities._instance import (
    Instance,
    SearchLimits,
    cut_length,
    labels_from_masks,
    zvalue,
)
from nwm_geo.localities._setpart import SetModel, masks_of

#: Above this many sets within the band, the cut MIP is not tried.
COMPACT_MIP_MAX_COLUMNS: int = 60_000


@dataclass(frozen=True)
class _CompactResult:
    labels: np.ndarray
    cut: float
    cut_bound: float
    proven: bool
    note: str


def minimise_cut(
    inst: Instance,
    labels: np.ndarray,
    lim: SearchLimits,
    *,
    tolerance: float,
    max_sets: int,
    max_nodes: int,
) -> _CompactResult:
    """Minimise the boundary cut with every deviation ``<= tolerance`` (see module doc)."""
    cap = tolerance + 1e-12
    deadline, clock = lim.deadline, lim.clock
    labels = anneal(
        inst,
        labels,
        iters=compact_moves(inst.n),
        seed=lim.seed,
        compact_cap=cap,
        deadline=deadline,
        clock=clock,
        stops=lim.stops,
    )
    cut = cut_length(inst, labels)
    found = enumerate_connected_sets(
        inst, cap, max_sets=max_sets, max_nodes=max_nodes, deadline=deadline, clock=clock
    )
    if not found.complete:
        note = f"cut from annealing; enumeration within the band stopped ({found.stopped})"
        return _CompactResult(labels, cut, 0.0, False, note)
    if len(found.sets) > COMPACT_MIP_MAX_COLUMNS:
        note = f"cut from annealing; {len(found.sets):,} sets in the band, too many for the MIP"
        return _CompactResult(labels, cut, 0.0, False, note)
    model = SetModel(inst, found.sets, memory_limit_mb=lim.memory_limit_mb)
    res, chosen = model.solve(
        stage=2,
        zcap=cap,
        solver=None,
        time_left=deadline - clock(),
        verbose=False,
        start=masks_of(labels, inst.k),
    )
    bound = 0.0
    if math.isfinite(res.bound):  # the bound is on minus the boundary kept inside
        bound = max(inst.total_shared + res.bound, 0.0)
    if res.state in ("optimal", "feasible") and len(chosen) == inst.k:
        mip = labels_from_masks(inst.n, chosen)
        if cut_length(inst, mip) <= cut + 1e-9 and zvalue(inst, mip) <= cap:
            labels, cut = mip, cut_length(inst, mip)
    proven = res.state == "optimal"
    if proven:
        bound = cut
    note = f"cut MIP over {len(found.sets):,} connected sets within the band: {res.status.label}"
    return _CompactResult(labels, cut, min(bound, cut), proven, note)
