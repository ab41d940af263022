"""Exact splits by branch and bound: the best plan below a worst deviation, or proof of none.

In: an ``Instance`` (the whole map, or a :func:`~nwm_geo.localities._pairs.sub_instance`
of a few localities' units), an upper bound ``U`` on the worst deviation and a node
budget. Out: a :class:`SplitResult`: the best plan found whose worst deviation is below
``U`` (or None), and whether the search was complete. A complete search proves that no
plan is better than the one returned (or, with none returned, that no plan is below
``U``), so the incumbent at ``U`` is optimal.

Unlike the band listing (:mod:`~nwm_geo.localities._enumerate`), which lists every
connected set in the band from every start unit and then asks which of them cover the
map, this search is anchored: the locality holding the lowest unit not yet assigned is
grown from that unit as a connected set (the ESU rule, so each set once), pruned by the
caps ``w + z`` of every measure and the bounds' high limits. When the set is in the band
(every measure within ``z`` of its target, the bounds met), the units left must split into
connected pieces that each hold a whole number ``j`` of localities by every measure
(``j (w - z) <= total <= j (w + z)``), ``k - 1`` in all; only then is the next locality
grown, from the lowest unit left. ``z`` is the best worst deviation found so far less a
hair (branch and bound), so the caps tighten as better plans are found.

Integer measures with small counts make the check sharp: once ``z`` is below one asset
over the mean assets, every locality must hold the mean's floor or ceiling in assets,
and a piece of the rest holds a whole number of localities only if its assets do too.

The work is a count of search nodes, so the outcome is the same on every machine; the
deadline is only a safety stop. Pins are not supported (the search says so and is
incomplete).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nwm_geo.localities._instance import Clock, Instance, labels_from_masks, mask_totals

__all__ = ["SplitResult", "split_search"]

#: Clock reads: once every this many search nodes (a safety stop only).
_CLOCK_EVERY = 4096
#: Strictly below: a plan must beat the bound by more than this.
_HAIR = 1e-12


@dataclass(frozen=True)
class SplitResult:
    """What :func:`split_search` found.

    Attributes
    ----------
    labels
        The best plan found below the upper bound (locality per unit), or None.
    objective
        Its worst deviation; the upper bound when no plan was found.
    complete
        True when the whole search tree was visited: no plan is better than
        ``objective`` (the plan is optimal; with ``labels`` None, no plan is below the
        upper bound).
    nodes
        Search nodes visited.
    stopped
        Why the search stopped early (``"search limit"``, ``"time limit"``, ``"pins"``,
        ``"good enough"``); empty when complete.
    """

    labels: np.ndarray | None
    objective: float
    complete: bool
    nodes: int
    stopped: str = ""


class _Stop(Exception):
    """Raised inside the search when its budget runs out."""


class _Search:
    """The search's state: the instance as plain lists, the best plan and the count."""

    def __init__(
        self,
        inst: Instance,
        upper: float,
        limits: tuple[int, float, Clock | None],
        enough: float = -math.inf,
    ):
        self.n, self.m = inst.n, len(inst.measures)
        self.norm = [tuple(float(x) for x in row) for row in inst.norm]
        self.w = [float(x) for x in inst.weights]
        self.bvals = [b.values.tolist() for b in inst.bounds]
        self.highs = [b.high + 1e-9 if math.isfinite(b.high) else math.inf for b in inst.bounds]
        self.lows = [b.low - 1e-9 for b in inst.bounds]
        self.adj_mask = list(inst.adj_mask)
        # a measure of whole counts (assets): one count's share of the target, else 0
        self.step = [
            float(inst.weights[i] / inst.means[i])
            if np.allclose(inst.values[:, i], np.round(inst.values[:, i]))
            else 0.0
            for i in range(self.m)
        ]
        self._counts_at: tuple[float, list[tuple[int, int] | None]] | None = None
        self.best = upper
        self.best_masks: list[int] | None = None
        self.count = 0
        self.max_nodes, self.deadline, self.clock = limits
        self.enough = enough
        self.reach = False  # prune growths that cannot reach the band (see _short)

    def z(self) -> float:
        """Return the band a plan must be within to beat the best so far."""
        return self.best - _HAIR

    def tick(self) -> None:
        """Count a node; stop at the budget or (safety) the deadline."""
        self.count += 1
        if self.count > self.max_nodes:
            raise _Stop("search limit")
        if (
            self.count % _CLOCK_EVERY == 0
            and self.clock is not None
            and self.clock() >= self.deadline
        ):
            raise _Stop("time limit")

    def totals(self, mask: int) -> tuple[list[float], list[float]]:
        """Return the measures' and the bounds' totals over the units of ``mask``."""
        return mask_totals(self.norm, self.bvals, mask)

    def pieces(self, mask: int) -> list[int]:
        """Return the connected pieces of ``mask``."""
        out = []
        adj = self.adj_mask
        while mask:
            comp = front = mask & -mask
            while front:
                bit = front & -front
                front ^= bit
                new = adj[bit.bit_length() - 1] & mask & ~comp
                comp |= new
                front |= new
            out.append(comp)
            mask &= ~comp
        return out

    def counts(self, z: float) -> list[tuple[int, int] | None]:
        """Return each integer measure's counts a locality within ``z`` may hold.

        ``(low, high)`` in the measure's own units (assets), None for a measure that is
        not integer. Below one count over the mean, ``low == high`` (or no count fits).
        """
        if self._counts_at is None or self._counts_at[0] != z:
            out: list[tuple[int, int] | None] = []
            for wi, st in zip(self.w, self.step, strict=True):
                if st <= 0:
                    out.append(None)
                    continue
                low = math.ceil((wi - z) / st - 1e-9)
                low += abs(low * st - wi) > z  # the same test as in_band's
                high = math.floor((wi + z) / st + 1e-9)
                high -= abs(high * st - wi) > z
                out.append((max(low, 0), high))
            self._counts_at = (z, out)
        return self._counts_at[1]

    def _whole(self, sums: list[float], k: int, z: float) -> tuple[int, int]:
        """Return the range of localities a piece with these totals can hold, at most k."""
        lo, hi = 1, k
        for i, (s, count) in enumerate(zip(sums, self.counts(z), strict=True)):
            wi = self.w[i]
            if count is None:
                lo = max(lo, math.ceil(s / (wi + z) - 1e-9))
                if wi > z:
                    hi = min(hi, math.floor(s / (wi - z) + 1e-9))
                continue
            # an integer measure: j localities hold between j * low and j * high counts
            total = round(s / self.step[i])
            low, high = count
            if high < low:
                return 1, 0
            lo = max(lo, -(-total // high) if high > 0 else k + 1)
            if low > 0:
                hi = min(hi, total // low)
        return lo, hi

    def rest_ok(self, rest: int, k: int, z: float) -> bool:
        """Return whether the pieces of ``rest`` can hold ``k`` localities, whole ones each."""
        pieces = self.pieces(rest)
        if len(pieces) > k:
            return False
        low = high = 0
        for piece in pieces:
            lo, hi = self._whole(self.totals(piece)[0], k, z)
            if lo > hi:
                return False
            low, high = low + lo, high + hi
        return low <= k <= high

    def in_band(self, sums: list[float], tots: list[float], z: float) -> bool:
        """Return whether a set with these totals is within ``z`` and meets the bounds."""
        w = self.w
        if any(abs(sums[i] - w[i]) > z for i in range(self.m)):
            return False
        return all(self.lows[e] <= t <= self.highs[e] for e, t in enumerate(tots))

    def _short(self, sums: list[float], ext: int, unseen: int, z: float) -> bool:
        """Return whether no growth of the set can bring every measure up to ``w - z``.

        The growths below this node add units of ``ext`` and units not yet seen
        (``unseen``) reached through them, never a unit seen and passed over: so they
        hold at most the set's totals plus everything reachable from ``ext`` within
        ``ext | unseen``. Measures are non-negative, so when that falls short of
        ``w - z`` on a measure, no set below is in the band.
        """
        adj = self.adj_mask
        allowed = ext | unseen
        comp = front = ext
        while front:
            grow = 0
            while front:
                bit = front & -front
                front ^= bit
                grow |= adj[bit.bit_length() - 1]
            front = grow & allowed & ~comp
            comp |= front
        need = [self.w[i] - z - sums[i] for i in range(self.m)]
        if all(x <= 0 for x in need):
            return False
        got = mask_totals(self.norm, [], comp)[0]
        return any(got[i] < need[i] - 1e-12 for i in range(self.m))

    def solve(self, rest: int, k: int, chosen: list[int], worst: float) -> None:
        """Split ``rest`` into ``k`` localities below the best so far (depth first).

        ``chosen``: the localities grown so far; ``worst``: their worst deviation.
        """
        if worst > self.z():
            return  # a better plan was found since these localities were grown
        if k == 1:
            self.tick()
            sums, tots = self.totals(rest)
            if self.in_band(sums, tots, self.z()) and len(self.pieces(rest)) == 1:
                dev = max(abs(sums[i] - self.w[i]) for i in range(self.m))
                self.best = max(worst, dev)
                self.best_masks = [*chosen, rest]
                if self.best <= self.enough:
                    raise _Stop("good enough")
            return
        root = rest & -rest
        u = root.bit_length() - 1
        tots = [vals[u] for vals in self.bvals]
        if any(t > h for t, h in zip(tots, self.highs, strict=True)):
            return
        nbhd = self.adj_mask[u] | root
        self._grow(
            (rest, k, chosen, worst), root, self.adj_mask[u] & rest, nbhd, list(self.norm[u]), tots
        )

    def _grow(
        self,
        ctx: tuple[int, int, list[int], float],
        mask: int,
        ext: int,
        nbhd: int,
        sums: list[float],
        tots: list[float],
    ) -> None:
        """Test the locality being grown, then extend it (the ESU step)."""
        rest, k, chosen, worst = ctx
        self.tick()
        z = self.z()
        if worst > z:
            return
        if self.in_band(sums, tots, z) and self.rest_ok(rest & ~mask, k - 1, z):
            dev = max(abs(sums[i] - self.w[i]) for i in range(self.m))
            self.solve(rest & ~mask, k - 1, [*chosen, mask], max(worst, dev))
        norm, w, m, adj = self.norm, self.w, self.m, self.adj_mask
        bvals, highs = self.bvals, self.highs
        if self.reach and ext and self._short(sums, ext, rest & ~nbhd, z):
            return
        while ext:
            bit = ext & -ext
            ext ^= bit
            u = bit.bit_length() - 1
            z = self.z()
            row = norm[u]
            new = [sums[i] + row[i] for i in range(m)]
            if any(new[i] > w[i] + z for i in range(m)):
                continue
            new_t = [tots[e] + bvals[e][u] for e in range(len(bvals))]
            if any(new_t[e] > highs[e] for e in range(len(bvals))):
                continue
            self._grow(ctx, mask | bit, ext | (adj[u] & rest & ~nbhd), nbhd | adj[u], new, new_t)


def split_search(
    inst: Instance,
    upper: float,
    *,
    max_nodes: int,
    deadline: float = math.inf,
    clock: Clock | None = None,
    enough: float = -math.inf,
    reach: bool = False,
) -> SplitResult:
    """Find the best plan of ``inst`` with worst deviation below ``upper``, or prove none.

    Branch and bound over anchored connected sets (see the module's docstring). A
    complete search is a proof: the plan returned is optimal, or, when none is
    returned, no plan has a worst deviation below ``upper`` (a plan at ``upper`` is
    optimal). Deterministic: ``max_nodes`` search nodes at most; ``deadline`` (in
    ``clock`` seconds) is a safety stop.

    Parameters
    ----------
    inst
        The instance (``inst.k`` localities over ``inst.n`` units).
    upper
        Only plans with a worst deviation below this are looked for (an incumbent's).
    max_nodes
        Search nodes at most (a count).
    deadline, clock
        Safety stop: give up when ``clock() >= deadline`` (checked every 4,096 nodes).
    enough
        Stop at the first plan whose worst deviation is at most this (incomplete,
        ``stopped="good enough"``): a caller that only needs a plan below a target
        (the pair re-splits) does not pay for the proof. Default: never.
    reach
        Also prune a growing locality when even every unit it can still reach would
        not bring each measure up to the band (fewer nodes, each dearer; the whole-map
        search uses it). Default: off, so the pair re-splits' counts are unchanged.

    Returns
    -------
    SplitResult
    """
    if inst.pinned:
        return SplitResult(None, upper, False, 0, "pins")
    search = _Search(inst, upper, (max_nodes, deadline, clock), enough)
    search.reach = reach
    stopped = ""
    everything = (1 << inst.n) - 1
    try:
        if search.rest_ok(everything, inst.k, search.z()):
            search.solve(everything, inst.k, [], 0.0)
    except _Stop as stop:
        stopped = str(stop)
    masks = search.best_masks
    labels = None if masks is None else labels_from_masks(inst.n, masks)
    return SplitResult(labels, search.best, not stopped, search.count, stopped)
