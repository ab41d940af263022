"""The solver-independent instance: units, adjacency, compiled rules, and plan values.

In: the units GeoDataFrame, ``k`` and :class:`PartitionRules`. Out: an ``Instance``
(integer unit positions, neighbour lists and bitmasks, shared boundary lengths, the
normalised measures and the compiled bounds and pins) and the small functions every
method shares: a plan's worst deviation, its boundary cut and its rule violation.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from nwm_geo._checks import checks_crs
from nwm_geo._errors import InfeasiblePartitionError
from nwm_geo.localities._mip import DEFAULT_MEMORY_LIMIT_MB
from nwm_geo.localities._rules import PartitionRules, RuleBound, compile_rules, describe_infeasible

__all__ = ["polsby_popper", "ward_adjacency"]

#: A clock in seconds (``time.perf_counter`` unless a caller injects another).
Clock = Callable[[], float]

EPS = 1e-9


@dataclass(frozen=True)
class SearchLimits:
    """What the search steps of one call share: seed, safety deadline and effort.

    Attributes
    ----------
    seed
        Seed of the heuristic.
    deadline
        The safety stop, in ``clock`` seconds.
    clock
        The clock.
    verbose
        Show progress bars and solver logs.
    stops
        Where the steps note a stop by the clock; None: not noted.
    limit_s
        The time limit the work counts are sized from (``inf``: the fixed counts).
    memory_limit_mb
        MiB each solver child process may add.
    """

    seed: int
    deadline: float
    clock: Clock
    verbose: bool = False
    stops: list[str] | None = None
    limit_s: float = math.inf
    memory_limit_mb: int | None = DEFAULT_MEMORY_LIMIT_MB


def polsby_popper(geom: BaseGeometry) -> float:
    """Return the Polsby-Popper compactness ``4 pi A / P^2`` (1 for a circle).

    Parameters
    ----------
    geom
        A polygon or multipolygon in a metric CRS.

    Returns
    -------
    float
        Compactness in ``[0, 1]``; 0 for an empty or zero-perimeter geometry.
    """
    if geom is None or geom.is_empty or geom.length == 0:
        return 0.0
    return float(4.0 * math.pi * geom.area / geom.length**2)


@checks_crs
def ward_adjacency(
    wards: gpd.GeoDataFrame,
    *,
    snap_m: float = 1.0,
    min_shared_m: float | None = None,
) -> pd.DataFrame:
    """Return the pairs of units that share a boundary of positive length.

    Generalised boundaries have slivers and gaps, so boundaries are compared with a
    tolerance: the shared length of ``a`` and ``b`` is the mean of the length of
    ``boundary(a) ∩ buffer(b, snap_m)`` and ``boundary(b) ∩ buffer(a, snap_m)``. Units
    touching at a single point get a shared length of only a few ``snap_m`` (the bits
    of boundary inside the buffer around the corner), so a pair counts only if the
    shared length exceeds ``min_shared_m`` (default ``10 * snap_m``).

    Parameters
    ----------
    wards
        Units in a metric CRS, indexed by unit code.
    snap_m
        Buffer tolerance in metres.
    min_shared_m
        Minimum shared length in metres; default ``10 * snap_m``.

    Returns
    -------
    pandas.DataFrame
        Columns ``ward_a``, ``ward_b`` (``ward_a < ward_b`` in index order) and
        ``shared_m``, one row per adjacent pair.

    Examples
    --------
    >>> from nwm_geo import data, localities
    >>> pairs = localities.ward_adjacency(data.synthetic_example().wards)
    >>> sorted(zip(pairs["ward_a"], pairs["ward_b"]))
    [('W1', 'W2'), ('W1', 'W3'), ('W2', 'W4'), ('W3', 'W4')]
    """
    if wards.crs is not None and wards.crs.is_geographic:
        raise InfeasiblePartitionError(
            "ward_adjacency needs a metric CRS (e.g. EPSG:27700), got a geographic one"
        )
    threshold = 10.0 * snap_m if min_shared_m is None else float(min_shared_m)
    geoms = np.asarray(wards.geometry.values, dtype=object)
    codes = list(wards.index)
    bounds = shapely.boundary(geoms)
    buffers = shapely.buffer(geoms, snap_m)
    left, right = wards.sindex.query(buffers, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    # vectorised over all candidate pairs (shapely 2): the same lengths as a loop
    shared = 0.5 * (
        shapely.length(shapely.intersection(bounds[left], buffers[right]))
        + shapely.length(shapely.intersection(bounds[right], buffers[left]))
    )
    rows: list[tuple[Any, Any, float]] = [
        (codes[i], codes[j], float(sh))
        for i, j, sh in zip(left.tolist(), right.tolist(), shared.tolist(), strict=True)
        if sh > threshold
    ]
    return pd.DataFrame(rows, columns=["ward_a", "ward_b", "shared_m"])


@dataclass
class Instance:
    codes: list[Any]
    n: int
    k: int
    measures: list[str]
    weights: np.ndarray  # (m,)
    values: np.ndarray  # (n, m) raw measure values
    means: np.ndarray  # (m,)
    norm: np.ndarray  # (n, m) values * w / mean ; target per locality is w
    adj: list[list[int]]
    adj_mask: list[int]
    edges: list[tuple[int, int, float]]
    total_shared: float
    bounds: list[RuleBound]
    pin_label: list[int]  # -1 = not pinned; else group id
    pin_groups: list[str | int]
    lower_bound: float

    @property
    def pinned(self) -> bool:
        """True if any unit is pinned."""
        return any(lab >= 0 for lab in self.pin_label)

    def infeasible_reason(self) -> str:
        """Which rules leave no contiguous partition, in words."""
        return describe_infeasible(self.bounds, self.pinned, self.k)


def prepare_instance(
    wards: gpd.GeoDataFrame,
    *,
    k: int,
    rules: PartitionRules,
    adjacency: pd.DataFrame | None,
) -> Instance:
    """Validate the request and build the solver-independent instance."""
    import networkx as nx  # loaded here, not on import

    if not isinstance(wards, gpd.GeoDataFrame):
        raise InfeasiblePartitionError("wards must be a GeoDataFrame")
    if not wards.index.is_unique:
        raise InfeasiblePartitionError("ward codes (the index) must be unique")
    compiled = compile_rules(rules, wards, k)
    n = len(wards)
    codes = list(wards.index)
    pos = {c: i for i, c in enumerate(codes)}
    adj_df = ward_adjacency(wards) if adjacency is None else adjacency
    adj: list[set[int]] = [set() for _ in range(n)]
    edges: list[tuple[int, int, float]] = []
    for a, b, s in adj_df[["ward_a", "ward_b", "shared_m"]].itertuples(index=False):
        if a not in pos or b not in pos or a == b:
            continue
        i, j = pos[a], pos[b]
        if j in adj[i]:
            continue
        adj[i].add(j)
        adj[j].add(i)
        edges.append((min(i, j), max(i, j), float(s)))
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from((i, j) for i, j, _ in edges)
    if n > 1 and not nx.is_connected(graph):
        comps = sorted(nx.connected_components(graph), key=len)
        parts = "; ".join(
            ", ".join(str(codes[i]) for i in sorted(c)) for c in comps[: max(1, len(comps) - 1)]
        )
        raise InfeasiblePartitionError(
            f"the ward adjacency is disconnected ({len(comps)} pieces); isolated group(s): {parts}"
        )
    return Instance(
        codes=codes,
        n=n,
        k=k,
        measures=compiled.measures,
        weights=compiled.weights,
        values=compiled.values,
        means=compiled.means,
        norm=compiled.norm,
        adj=[sorted(s) for s in adj],
        adj_mask=[sum(1 << j for j in s) for s in adj],
        edges=edges,
        total_shared=float(sum(s for _, _, s in edges)),
        bounds=compiled.bounds,
        pin_label=compiled.pin_label,
        pin_groups=compiled.pin_groups,
        lower_bound=compiled.lower_bound,
    )


def zvalue(inst: Instance, labels: np.ndarray) -> float:
    """Return the worst weighted relative deviation of a labelling (the objective)."""
    sums = np.array([inst.norm[labels == j].sum(axis=0) for j in range(inst.k)])
    return float(np.abs(sums - inst.weights).max())


def mask_totals(
    norm: Sequence[Sequence[float]], values: Sequence[Sequence[float]], mask: int
) -> tuple[list[float], list[float]]:
    """Return the measures' and the bounds' totals over the units of bitmask ``mask``.

    ``norm`` holds each unit's normalised measures, ``values`` each bound's value per unit
    (plain lists: the exact searches call this in their inner loops).
    """
    m = len(norm[0]) if norm else 0
    sums, tots = [0.0] * m, [0.0] * len(values)
    while mask:
        bit = mask & -mask
        mask ^= bit
        u = bit.bit_length() - 1
        row = norm[u]
        for i in range(m):
            sums[i] += row[i]
        for e, vals in enumerate(values):
            tots[e] += vals[u]
    return sums, tots


def band_above(z: float) -> float:
    """Return the band limit just above worst deviation ``z``: its own plan is inside."""
    return z * (1 + 1e-9) + 1e-12


def cut_length(inst: Instance, labels: np.ndarray) -> float:
    """Total boundary length between units in different localities, metres."""
    return float(sum(s for a, b, s in inst.edges if labels[a] != labels[b]))


def _bound_totals(inst: Instance, labels: np.ndarray) -> list[np.ndarray]:
    return [np.array([b.values[labels == j].sum() for j in range(inst.k)]) for b in inst.bounds]


def plan_key(inst: Instance, sums: np.ndarray, totals: Sequence[np.ndarray]) -> tuple[float, ...]:
    """Lexicographic heuristic score: (rule violation, worst dev, sum of squares)."""
    dev = np.abs(sums - inst.weights)
    viol = 0.0
    for bound, tot in zip(inst.bounds, totals, strict=True):
        viol += float(bound.violation(tot).sum())
    return (round(viol, 12), round(float(dev.max()), 12), float((dev**2).sum()))


def rule_violation(inst: Instance, labels: np.ndarray) -> float:
    """How far a labelling is from meeting every bound (0: it meets them all)."""
    sums = np.array([inst.norm[labels == j].sum(axis=0) for j in range(inst.k)])
    return plan_key(inst, sums, _bound_totals(inst, labels))[0]


def connected_without(inst: Instance, members: set[int], drop: int) -> bool:
    """Return whether ``members`` (connected) without ``drop`` is non-empty and connected.

    ``members`` must be connected: then the rest is connected exactly when the
    neighbours of ``drop`` inside it reach one another without ``drop``, so the search
    stops as soon as it has met them all (usually after a few units, not the whole
    locality).
    """
    if len(members) <= 1:
        return False
    targets = {v for v in inst.adj[drop] if v in members}
    if len(targets) <= 1:
        return bool(targets)
    start = targets.pop()
    seen = {start, drop}
    queue = deque([start])
    while queue:  # breadth first: the other neighbours are usually a step or two away
        u = queue.popleft()
        for v in inst.adj[u]:
            if v in members and v not in seen:
                seen.add(v)
                targets.discard(v)
                if not targets:
                    return True
                queue.append(v)
    return False


def _connected(inst: Instance, rest: set[int]) -> bool:
    """Return whether the units ``rest`` are non-empty and connected."""
    if not rest:
        return False
    start = next(iter(rest))
    seen = {start}
    stack = [start]
    while stack:
        u = stack.pop()
        for v in inst.adj[u]:
            if v in rest and v not in seen:
                seen.add(v)
                stack.append(v)
    return len(seen) == len(rest)


def bits_of(mask: int) -> list[int]:
    out = []
    while mask:
        bit = mask & -mask
        out.append(bit.bit_length() - 1)
        mask ^= bit
    return out


def mask_incidence(masks: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Return the (unit, position) pairs of the bitmasks: unit ``rows[t]`` is in ``masks[cols[t]]``.

    The entries of a set-partitioning model's cover rows, by column.
    """
    rows: list[int] = []
    cols: list[int] = []
    for j, mk in enumerate(masks):
        while mk:
            bit = mk & -mk
            rows.append(bit.bit_length() - 1)
            cols.append(j)
            mk ^= bit
    return np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)


def labels_from_masks(n: int, masks: Sequence[int]) -> np.ndarray:
    labels = np.full(n, -1)
    for j, mk in enumerate(sorted(masks)):
        for i in bits_of(mk):
            labels[i] = j
    return labels


def labels_from_plan(inst: Instance, plan: pd.Series) -> np.ndarray:
    """Integer labels of a given plan, checked against the rules.

    Localities are numbered by sorted name, except that the locality holding pin group
    ``g`` is numbered ``g`` (as in the flow model).

    Raises
    ------
    InfeasiblePartitionError
        If the plan misses units, has the wrong number of localities, a locality that
        is not connected, or breaks a band, floor or pin.
    """
    plan = plan.reindex(pd.Index(inst.codes))
    if plan.isna().any():
        missing = [str(c) for c in plan.index[plan.isna()]]
        raise InfeasiblePartitionError(f"start plan has no locality for unit(s) {missing}")
    codes, uniques = pd.factorize(plan.astype(str), sort=True)
    labels = np.asarray(codes, dtype=int)
    if len(uniques) != inst.k:
        raise InfeasiblePartitionError(f"start plan has {len(uniques)} localities but k={inst.k}")
    problems = []
    for j, name in enumerate(uniques):
        members = set(np.flatnonzero(labels == j).tolist())
        if not _connected(inst, members):
            problems.append(f"locality {name!r} is not connected")
    if rule_violation(inst, labels) > 0:
        problems.append("a population band or category floor is not met")
    group_labels: list[int] = []
    for g, group in enumerate(inst.pin_groups):
        got = {int(labels[i]) for i, lab in enumerate(inst.pin_label) if lab == g}
        if len(got) > 1:
            problems.append(f"the wards pinned to {group!r} are split")
        group_labels.extend(got)
    if len(set(group_labels)) < len(group_labels):
        problems.append("wards pinned to different localities share one")
    if problems:
        raise InfeasiblePartitionError("start plan breaks the rules: " + "; ".join(problems))
    # pin group g is locality g in the flow model: number the start the same way
    order = list(dict.fromkeys(group_labels))
    order += [j for j in range(inst.k) if j not in order]
    relabel = {old: new for new, old in enumerate(order)}
    return np.array([relabel[int(v)] for v in labels])
