"""Bisection on the balance band, each step an exact-cover feasibility search.

In: an ``Instance``, the complete list of connected sets with deviation ``<= U`` (an
incumbent's value), a proven lower bound and a budget. Out: the best plan found, a
proven lower bound on the optimum, and whether they meet (a proof).

For a threshold ``t``, "is there a plan whose localities all have deviation ``<= t``?"
is an exact cover by ``k`` of the listed sets with deviation ``<= t``. It is answered by
a depth-first search that always covers the lowest uncovered unit (so only the sets
whose lowest unit it is are tried) and prunes a branch when some connected piece of the
uncovered units cannot be split into whole localities within ``t``: a piece with
normalised measure total ``P_m`` needs ``c`` localities with ``c (w_m - t) <= P_m <= c
(w_m + t)`` for every measure, and the pieces' ``c`` must add up to the localities
left. A complete search without a cover proves that the optimum exceeds ``t``; a cover
is a plan with value ``<= t``. The optimum is one of the listed sets' deviations, so a
bisection over those values closes the gap exactly when every step finishes within the
node budget. This is used when there are too many sets for the set-partitioning MIP
(HiGHS stalls in presolve and root processing above some tens of thousands of columns).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

from nwm_geo.localities._instance import (
    Clock,
    Instance,
    labels_from_masks,
    mask_totals,
    zvalue,
)


class _Budget(Exception):
    """The node budget or the deadline ran out."""


@dataclass
class BisectResult:
    """What the bisection proved.

    Attributes
    ----------
    labels, objective
        The best plan and its worst deviation.
    bound
        A proven lower bound on the optimum.
    proven
        True when ``bound`` meets ``objective`` (the plan is optimal).
    steps
        ``(threshold, outcome)`` per step: ``"feasible"``, ``"infeasible"`` or
        ``"unknown"`` (budget ran out).
    """

    labels: np.ndarray
    objective: float
    bound: float
    proven: bool
    steps: list[tuple[float, str]]


class _Cover:
    """Exact cover by ``k`` connected sets within a deviation threshold."""

    def __init__(self, inst: Instance, sets: list[tuple[int, float]]) -> None:
        self.inst = inst
        self.n, self.k = inst.n, inst.k
        self.full = (1 << inst.n) - 1
        self.norm = [tuple(float(x) for x in row) for row in inst.norm]
        self.w = [float(v) for v in inst.weights]
        self.m = len(self.w)
        self.bounds = [(b.values.tolist(), b.low, b.high) for b in inst.bounds]
        self.bvals = [vals for vals, _, _ in self.bounds]
        # sets by lowest unit, each list sorted by deviation
        by_low: list[list[tuple[float, int]]] = [[] for _ in range(inst.n)]
        for mask, dev in sets:
            low = (mask & -mask).bit_length() - 1
            by_low[low].append((dev, mask))
        for lst in by_low:
            lst.sort()
        self.by_low = by_low
        self.devs = [[d for d, _ in lst] for lst in by_low]

    def _pieces_ok(self, covered: int, rem: int, t: float) -> bool:
        """Return whether the uncovered units may split into ``rem`` localities within ``t``."""
        left = self.full & ~covered
        if not left:
            return rem == 0
        if rem <= 0:
            return False
        cmin_sum = cmax_sum = 0
        while left:
            comp = self._component(left)
            left &= ~comp
            lo, hi = self._pieces_range(comp, rem, t)
            if lo > hi:
                return False
            cmin_sum += lo
            cmax_sum += hi
            if cmin_sum > rem:
                return False
        return cmin_sum <= rem <= cmax_sum

    def _component(self, left: int) -> int:
        """Return the connected component of ``left`` that holds its lowest unit (a mask)."""
        adj = self.inst.adj_mask
        comp = left & -left
        frontier = comp
        while frontier:
            grow = 0
            f = frontier
            while f:
                b = f & -f
                f ^= b
                grow |= adj[b.bit_length() - 1]
            grow &= left & ~comp
            comp |= grow
            frontier = grow
        return comp

    def _pieces_range(self, comp: int, rem: int, t: float) -> tuple[int, int]:
        """Return the least and most localities (of ``rem``) the component ``comp`` can make."""
        sums, tots = mask_totals(self.norm, self.bvals, comp)
        lo, hi = 1, rem
        for i in range(self.m):
            wi = self.w[i]
            lo = max(lo, math.ceil(sums[i] / (wi + t) - 1e-9))
            if wi - t > 1e-12:
                hi = min(hi, math.floor(sums[i] / (wi - t) + 1e-9))
        for e, (_, blo, bhi) in enumerate(self.bounds):
            if math.isfinite(bhi) and bhi > 0:
                lo = max(lo, math.ceil(tots[e] / bhi - 1e-9))
            if blo > 0:
                hi = min(hi, math.floor(tots[e] / blo + 1e-9))
        return lo, hi

    def find(self, t: float, *, max_nodes: int, deadline: float, clock: Clock) -> list[int] | None:
        """Return a cover within ``t`` (its masks), or None if none exists; or raise _Budget."""
        cuts = [bisect.bisect_right(d, t + 1e-12) for d in self.devs]
        failed: set[tuple[int, int]] = set()
        nodes = [0]
        chosen: list[int] = []

        def dfs(covered: int, depth: int) -> bool:
            if covered == self.full:
                return depth == self.k
            if depth >= self.k or (covered, depth) in failed:
                return False
            nodes[0] += 1
            if nodes[0] > max_nodes or (not nodes[0] & 1023 and clock() >= deadline):
                raise _Budget
            free = self.full & ~covered
            i = (free & -free).bit_length() - 1
            lst = self.by_low[i]
            for j in range(cuts[i]):
                mask = lst[j][1]
                if mask & covered:
                    continue
                new = covered | mask
                if not self._pieces_ok(new, self.k - depth - 1, t):
                    continue
                chosen.append(mask)
                if dfs(new, depth + 1):
                    return True
                chosen.pop()
            if len(failed) < 2_000_000:
                failed.add((covered, depth))
            return False

        return list(chosen) if dfs(0, 0) else None


def bisect_band(
    inst: Instance,
    sets: list[tuple[int, float]],
    *,
    incumbent: tuple[np.ndarray, float],
    lower: float,
    max_nodes: int,
    deadline: float,
    clock: Clock,
) -> BisectResult:
    """Bisect on the band between ``lower`` and the incumbent's value (see module doc).

    ``sets`` must be every connected set with deviation ``<= incumbent[1]`` (complete),
    else the infeasibility steps prove nothing. ``max_nodes`` is per step.
    """
    cover = _Cover(inst, sets)
    labels, best = incumbent
    values = sorted({dev for _, dev in sets if lower - 1e-12 <= dev < best - 1e-12})
    lo_i, hi_i = 0, len(values)  # the optimum is values[j] for j in [lo_i, hi_i), or best
    bound = lower
    steps: list[tuple[float, str]] = []
    while lo_i < hi_i and clock() < deadline:
        mid = (lo_i + hi_i) // 2
        t = values[mid]
        try:
            found = cover.find(t, max_nodes=max_nodes, deadline=deadline, clock=clock)
        except _Budget:
            steps.append((t, "unknown"))
            # no answer at t: try the lower half once more with the same budget, else stop
            if hi_i - lo_i <= 1:
                break
            hi_i = mid
            continue
        if found is None:
            steps.append((t, "infeasible"))
            bound = max(bound, values[mid + 1] if mid + 1 < len(values) else best)
            lo_i = mid + 1
        else:
            steps.append((t, "feasible"))
            labels = labels_from_masks(inst.n, found)
            best = zvalue(inst, labels)
            hi_i = bisect.bisect_left(values, best - 1e-12)
    proven = all(o != "unknown" for _, o in steps) and lo_i >= hi_i
    if proven:
        bound = best
    return BisectResult(labels, best, min(bound, best), proven, steps)
