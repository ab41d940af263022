"""Every connected set of units that could be a locality in a plan at least as good as U.

In: an ``_Instance`` and an upper bound ``U`` on the worst deviation. Out: each
connected unit set (as a bitmask) whose deviation is ``<= U`` and that meets the pins
and bounds, with its deviation. Because the measures are non-negative, a set stops
growing as soon as a measure exceeds ``mean * (1 + U / w)`` or a bound's total exceeds
its upper limit.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from tqdm.auto import tqdm

from nwm_geo.localities._instance import _Instance


def _enumerate_sets(  # noqa: C901
    inst: _Instance, upper: float, *, max_sets: int, verbose: bool
) -> list[tuple[int, float]] | None:
    """All connected unit sets with deviation <= upper that pass the pins and bounds.

    Returns ``(bitmask, deviation)`` pairs, or None if more than ``max_sets`` were found.
    Uses the ESU rule: each connected set is generated once, from its lowest unit.
    """
    n, k = inst.n, inst.k
    m = len(inst.measures)
    norm = [tuple(float(x) for x in row) for row in inst.norm]
    # caps on each normalised measure: w * (1 + upper / w) = w + upper
    caps = [float(inst.weights[i]) + upper + 1e-12 for i in range(m)]
    # bounds (population band, category floors): totals grow with the set, so a set
    # over a high limit is pruned, and a set under a low limit is only not accepted
    bvals = [b.values.tolist() for b in inst.bounds]
    highs = [b.high + 1e-9 if math.isfinite(b.high) else math.inf for b in inst.bounds]
    lows = [b.low - 1e-9 for b in inst.bounds]
    nb = len(bvals)
    max_size = n - k + 1
    labels = inst.pin_label
    group_mask = [
        sum(1 << i for i in range(n) if labels[i] == g) for g in range(len(inst.pin_groups))
    ]
    w = inst.weights.tolist()
    out: list[tuple[int, float]] = []
    adj_mask = inst.adj_mask

    def accept(mask: int, sums: list[float], totals: list[float], label: int) -> None:
        dev = max(abs(sums[i] - w[i]) for i in range(m))
        if dev > upper + 1e-12:
            return
        if label >= 0 and (mask & group_mask[label]) != group_mask[label]:
            return
        if any(totals[e] < lows[e] for e in range(nb)):
            return
        out.append((mask, dev))

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
        accept(mask, sums, totals, label)
        if len(out) > max_sets or size >= max_size:
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

    starts: Iterator[int] | tqdm[int] = iter(range(n))
    if verbose:
        starts = tqdm(range(n), desc=f"enumerating connected sets (dev <= {upper:.3%})")
    for v in starts:
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
            labels[v],
            higher,
        )
        if len(out) > max_sets:
            return None
    return out
