"""Every connected set of units that could be a locality in a plan at least as good as U.

In: an ``Instance``, an upper bound ``U`` on the worst deviation and a budget (sets
kept, search nodes, a deadline). Out: a :class:`SetEnumeration`: each connected unit set
(as a bitmask) whose deviation is ``<= U`` and that meets the pins and bounds, with its
deviation, and whether the list is complete. Because the measures are non-negative, a
set stops growing as soon as a measure exceeds ``mean * (1 + U / w)`` or a bound's total
exceeds its upper limit.

The budget makes the enumeration safe at any size: it stops (``complete=False``, with
the reason) after ``max_sets`` sets, ``max_nodes`` search nodes (sets visited, kept or
not) or at the deadline, whichever comes first. Count budgets are deterministic; the
deadline is only a safety stop. The memory of a kept set is about
:data:`BYTES_PER_SET` bytes in the set-partitioning model, which
:func:`max_sets_for_memory` turns into a count budget.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tqdm.auto import tqdm

from nwm_geo.localities._instance import Clock, Instance

__all__ = [
    "BYTES_PER_SET",
    "SetEnumeration",
    "enumerate_connected_sets",
    "max_sets_for_memory",
    "node_budget",
]

#: Memory per kept set in the set-partitioning model (the Python list, the PuLP column
#: and HiGHS's copy), measured on the 40- and 70-unit benchmark maps and rounded up.
BYTES_PER_SET: int = 4096

#: Search nodes visited per second by the enumeration on the benchmark machine (about),
#: used only to size the default node budget from the time limit.
NODES_PER_SECOND: int = 150_000


#: Units of the maps :data:`NODES_PER_SECOND` was measured on; a node costs about in
#: proportion to the number of units above it (bitmasks over all units), so the node
#: budget is scaled down by ``NODES_REF_UNITS / n`` on larger maps.
NODES_REF_UNITS: int = 100


def node_budget(limit_s: float, n: int, share: float) -> int:
    """Search nodes for ``share`` of a ``limit_s`` time limit on ``n`` units (a count)."""
    return int(share * limit_s * NODES_PER_SECOND * min(1.0, NODES_REF_UNITS / max(n, 1)))


def max_sets_for_memory(memory_limit_mb: float) -> int:
    """Return how many sets fit in ``memory_limit_mb`` MiB (see :data:`BYTES_PER_SET`)."""
    return max(int(memory_limit_mb * 2**20 // BYTES_PER_SET), 1)


@dataclass(frozen=True)
class SetEnumeration:
    """Connected sets found by :func:`enumerate_connected_sets`.

    Attributes
    ----------
    sets
        ``(bitmask, deviation)`` pairs; bit ``i`` is unit ``i`` of the instance.
    upper
        The band: every set has deviation ``<= upper``.
    complete
        True when every connected set in the band is listed (a proof needs this).
    stopped
        Why the search stopped early: ``"set limit"``, ``"search limit"``,
        ``"time limit"``; empty when complete.
    nodes
        Search nodes visited.
    starts_done
        Start units whose sets were all listed (each set is listed from its lowest
        unit, in unit order): ``n`` when complete; how far an incomplete search got.
    """

    sets: list[tuple[int, float]]
    upper: float
    complete: bool
    stopped: str
    nodes: int
    starts_done: int = 0


class _Stop(Exception):
    """Raised inside the search when a budget runs out."""


@dataclass(frozen=True)
class _Band:
    """The instance as plain lists, for the search: caps, bounds, pins, neighbours."""

    n: int
    m: int
    norm: list[tuple[float, ...]]
    w: list[float]
    caps: list[float]  # caps on each normalised measure: w * (1 + upper / w) = w + upper
    bvals: list[list[float]]
    highs: list[float]
    lows: list[float]
    labels: list[int]
    group_mask: list[int]
    adj_mask: list[int]
    max_size: int
    upper: float

    @classmethod
    def of(cls, inst: Instance, upper: float) -> _Band:
        """Return the band ``upper`` of ``inst``."""
        n, m = inst.n, len(inst.measures)
        labels = inst.pin_label
        # bounds (population band, category floors): totals grow with the set, so a set
        # over a high limit is pruned, and a set under a low limit is only not accepted
        return cls(
            n=n,
            m=m,
            norm=[tuple(float(x) for x in row) for row in inst.norm],
            w=inst.weights.tolist(),
            caps=[float(inst.weights[i]) + upper + 1e-12 for i in range(m)],
            bvals=[b.values.tolist() for b in inst.bounds],
            highs=[b.high + 1e-9 if math.isfinite(b.high) else math.inf for b in inst.bounds],
            lows=[b.low - 1e-9 for b in inst.bounds],
            labels=list(labels),
            group_mask=[
                sum(1 << i for i in range(n) if labels[i] == g) for g in range(len(inst.pin_groups))
            ],
            adj_mask=list(inst.adj_mask),
            max_size=n - inst.k + 1,
            upper=upper,
        )


def _acceptor(
    band: _Band, out: list[tuple[int, float]], max_sets: int
) -> Callable[[int, list[float], list[float], int], None]:
    """Return the function that keeps a set in the band (pins whole, low bounds met)."""
    m, w, upper, group_mask, lows = band.m, band.w, band.upper, band.group_mask, band.lows
    nb = len(lows)

    def accept(mask: int, sums: list[float], totals: list[float], label: int) -> None:
        dev = max(abs(sums[i] - w[i]) for i in range(m))
        if dev > upper + 1e-12:
            return
        if label >= 0 and (mask & group_mask[label]) != group_mask[label]:
            return
        if any(totals[e] < lows[e] for e in range(nb)):
            return
        out.append((mask, dev))
        if len(out) > max_sets:
            raise _Stop("set limit")

    return accept


def _extender(
    band: _Band,
    accept: Callable[[int, list[float], list[float], int], None],
    count: list[int],
    limits: tuple[float, float, Clock | None],
) -> Callable[[int, int, int, list[float], list[float], int, int, int], None]:
    """Return the ESU step: accept the set, then extend it by each unit of ``ext``.

    ``limits`` is (node cap, deadline, clock); ``count[0]`` counts the search nodes.
    """
    m, norm, caps, bvals, highs = band.m, band.norm, band.caps, band.bvals, band.highs
    labels, adj_mask, max_size = band.labels, band.adj_mask, band.max_size
    nb = len(bvals)
    node_cap, deadline, clock = limits

    def extend(
        mask: int,
        ext: int,
        nbhd: int,
        sums: list[float],
        totals: list[float],
        size: int,
        label: int,
        higher: int,
    ) -> None:
        count[0] += 1
        if count[0] > node_cap:
            raise _Stop("search limit")
        if count[0] & 511 == 1 and clock is not None and clock() >= deadline:
            raise _Stop("time limit")
        accept(mask, sums, totals, label)
        if size >= max_size:
            return
        while ext:
            bit = ext & -ext
            ext ^= bit
            u = bit.bit_length() - 1
            lu = labels[u]
            if lu >= 0 and label >= 0 and lu != label:
                continue
            row = norm[u]
            new = [sums[i] + row[i] for i in range(m)]
            if any(new[i] > caps[i] for i in range(m)):
                continue
            new_t = [totals[e] + bvals[e][u] for e in range(nb)]
            if any(new_t[e] > highs[e] for e in range(nb)):
                continue
            extend(
                mask | bit,
                ext | (adj_mask[u] & higher & ~nbhd),
                nbhd | adj_mask[u],
                new,
                new_t,
                size + 1,
                label if label >= 0 else lu,
                higher,
            )

    return extend


def enumerate_connected_sets(
    inst: Instance,
    upper: float,
    *,
    max_sets: int,
    max_nodes: int | None = None,
    deadline: float = math.inf,
    clock: Clock | None = None,
    verbose: bool = False,
) -> SetEnumeration:
    """All connected unit sets with deviation <= ``upper`` that pass the pins and bounds.

    Uses the ESU rule: each connected set is generated once, from its lowest unit.
    Reusable by any model over connected sets (e.g. a joint localities-and-hubs model):
    pass a large ``upper`` to list sets by the bounds (population band, floors) only.

    Parameters
    ----------
    inst
        The instance.
    upper
        Largest worst deviation of a kept set.
    max_sets
        Stop (incomplete) when more sets than this are kept.
    max_nodes
        Stop (incomplete) after this many search nodes; None for no node budget.
    deadline, clock
        Stop (incomplete) when ``clock() >= deadline`` (checked every 512 nodes, from the first).
    verbose
        Show a progress bar over the start units.

    Returns
    -------
    SetEnumeration
    """
    band = _Band.of(inst, upper)
    n, m, norm, caps = band.n, band.m, band.norm, band.caps
    bvals, highs, adj_mask = band.bvals, band.highs, band.adj_mask
    nb = len(bvals)
    out: list[tuple[int, float]] = []
    count = [0]
    node_cap = math.inf if max_nodes is None else max_nodes
    extend = _extender(band, _acceptor(band, out, max_sets), count, (node_cap, deadline, clock))
    starts: Iterator[int] | tqdm[int] = iter(range(n))
    done = 0
    if verbose:
        starts = tqdm(range(n), desc=f"enumerating connected sets (dev <= {upper:.3%})")
    try:
        for v in starts:
            done = v  # every set whose lowest unit is below v is listed
            higher = ((1 << n) - 1) & ~((1 << (v + 1)) - 1)
            row = norm[v]
            if any(row[i] > caps[i] for i in range(m)):
                continue
            tv = [bvals[e][v] for e in range(nb)]
            if any(tv[e] > highs[e] for e in range(nb)):
                continue
            extend(
                1 << v,
                adj_mask[v] & higher,
                adj_mask[v] | (1 << v),
                list(row),
                tv,
                1,
                band.labels[v],
                higher,
            )
    except _Stop as stop:
        return SetEnumeration(out, upper, False, str(stop), count[0], done)
    finally:
        if isinstance(starts, tqdm):
            starts.close()
    return SetEnumeration(out, upper, True, "", count[0], n)


def all_sets_in_band(
    inst: Instance, upper: float, *, max_sets: int, verbose: bool
) -> list[tuple[int, float]] | None:
    """Return the complete list of sets in the band, or None if over ``max_sets``."""
    found = enumerate_connected_sets(inst, upper, max_sets=max_sets, verbose=verbose)
    return found.sets if found.complete else None


def estimate_nodes(inst: Instance, upper: float, *, walks: int, seed: int) -> float:
    """Estimate the search nodes of :func:`enumerate_connected_sets` at ``upper``.

    Knuth's estimator (1975): ``walks`` random root-to-leaf walks down the search tree,
    spread evenly over the start units; a walk's estimate is the sum over its depths of
    the product of the branching factors above. Unbiased, but heavy-tailed (it mostly
    underestimates), so it is only used to skip listings far beyond their budget.
    Counted work (about ``walks`` times the depth of a set). The walks follow the
    listing's own rules (caps, the bounds' high limits, pins).
    """
    band = _Band.of(inst, upper)
    n, m, norm, caps = band.n, band.m, band.norm, band.caps
    rng = random.Random(seed)
    per_start = max(walks // max(n, 1), 1)
    total = 0.0
    for v in range(n):
        if any(norm[v][i] > caps[i] for i in range(m)):
            continue
        if any(band.bvals[e][v] > band.highs[e] for e in range(len(band.bvals))):
            continue
        higher = ((1 << n) - 1) & ~((1 << (v + 1)) - 1)
        acc = 0.0
        for _ in range(per_start):
            acc += _walk(band, v, higher, rng)
        total += acc / per_start
    return total


def _walk(band: _Band, v: int, higher: int, rng: random.Random) -> float:
    """One random walk of Knuth's estimator from start unit ``v`` (see :func:`estimate_nodes`).

    A node's children are those :func:`_extender` would visit: the units of its
    extension within the caps, the bounds' high limits and the pins.
    """
    m, norm, caps, adj_mask = band.m, band.norm, band.caps, band.adj_mask
    bvals, highs, labels = band.bvals, band.highs, band.labels
    nb = len(bvals)
    sums, totals, label = list(norm[v]), [bvals[e][v] for e in range(nb)], labels[v]
    ext, nbhd, size = adj_mask[v] & higher, adj_mask[v] | (1 << v), 1
    est, weight = 1.0, 1.0
    while size < band.max_size:
        children: list[tuple[int, int]] = []  # (unit, the ext left after it)
        rest = ext
        while rest:
            bit = rest & -rest
            rest ^= bit
            u = bit.bit_length() - 1
            if labels[u] >= 0 and label >= 0 and labels[u] != label:
                continue
            if all(sums[i] + norm[u][i] <= caps[i] for i in range(m)) and all(
                totals[e] + bvals[e][u] <= highs[e] for e in range(nb)
            ):
                children.append((u, rest))
        if not children:
            break
        weight *= len(children)
        est += weight
        u, rest = children[rng.randrange(len(children))]
        sums = [sums[i] + norm[u][i] for i in range(m)]
        totals = [totals[e] + bvals[e][u] for e in range(nb)]
        label = label if label >= 0 else labels[u]
        ext = rest | (adj_mask[u] & higher & ~nbhd)
        nbhd |= adj_mask[u]
        size += 1
    return est


#: A listing is not started when Knuth's estimate of its search nodes is over this many
#: times its node budget. On the benchmark maps the estimate (three seeds) was within a
#: factor of 2 of the nodes listed (40 units, k = 5: 0.39-0.82 M against 0.46 M; 60
#: units, k = 8: 0.38-0.49 M against 0.46 M; k = 10: 60,000-64,000 against 62,000); the
#: bands that never fitted were estimated at 50-100,000 times the budget (Luton's 125
#: LSOAs, k = 8: 1-9 x 10^10 nodes against 720,000).
HOPELESS_FACTOR: float = 10.0
#: Walks of the estimate (a count; about 0.05 s at 125 units).
ESTIMATE_WALKS: int = 2_000


def enumerate_if_it_may_fit(
    inst: Instance,
    upper: float,
    *,
    max_sets: int,
    max_nodes: int | None,
    deadline: float,
    clock: Clock,
    verbose: bool,
    estimate: float | None = None,
) -> SetEnumeration:
    """:func:`enumerate_connected_sets`, unless the band is estimated far over the budget.

    Over :data:`HOPELESS_FACTOR` times ``max_nodes`` (see :func:`estimate_nodes`, seed
    0, so the choice is the same on every machine), nothing is listed and the listing is
    incomplete, its ``stopped`` saying why. Without a node budget the band is listed.
    ``estimate``: the band's estimate when the caller has made it already.
    """
    if max_nodes is not None:
        est = (
            estimate_nodes(inst, upper, walks=ESTIMATE_WALKS, seed=0)
            if estimate is None
            else estimate
        )
        if est > HOPELESS_FACTOR * max_nodes:
            why = f"not started: about {est:.2g} search nodes estimated, budget {max_nodes:,}"
            return SetEnumeration([], upper, False, why, 0, 0)
    return enumerate_connected_sets(
        inst,
        upper,
        max_sets=max_sets,
        max_nodes=max_nodes,
        deadline=deadline,
        clock=clock,
        verbose=verbose,
    )
