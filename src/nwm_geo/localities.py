"""Balanced, contiguous localities made of whole units, with a proof of optimality.

In: a units GeoDataFrame (wards by default, or any finer units such as LSOAs) in a
metric CRS, indexed by unit code, with ``population`` (int), ``assets`` (int), optional
one int column per asset category (named as in :data:`nwm_geo.settings.CATEGORIES`),
an optional ``ward_name`` column and polygon geometry.

Out: a :class:`LocalityPlan` (ward -> locality name, a per-locality summary, the
objective, the boundary cut and an honest proof status), ranked
:class:`Alternatives`, and dissolved locality polygons.

The problem
-----------
Split the units into ``k`` localities, each a connected set of units (two units are
neighbours when they share a boundary of positive length), so that the worst relative
deviation from the mean,

    z = max over localities j and measures m of  w_m * |x_jm - mean_m| / mean_m,

is as small as possible (``mean_m`` is the borough total divided by ``k``). Among the
plans with the smallest ``z``, the one with the shortest total boundary between
localities (the "cut", in metres) is returned: compactness is the tie-break.

Two exact methods
-----------------
``"sets"`` (default up to 40 units): a local-search heuristic gives a plan of value
``U``. Any plan at least as good uses only connected unit sets whose deviation is
``<= U``, and since the measures are non-negative, a set stops growing as soon as a
measure exceeds ``mean * (1 + U / w)``. All such connected sets are enumerated (each
exactly once, with the ESU extension rule) and a set-partitioning MIP picks exactly
``k`` of them covering every unit once, minimising ``z``. Because every plan with value
``<= U`` is in the model, the MIP optimum is the global optimum. The tie-break is a
second, lexicographic solve over the sets with deviation ``<= z* + 1e-9``, maximising the
boundary length kept inside localities (equivalently minimising the cut). A weighted
sum was rejected: ``z`` takes arbitrary real values, so no epsilon is provably safe.

``"flow"`` (larger instances, e.g. 125 LSOAs): an assignment MIP with single-commodity
flow contiguity constraints (Shirabe 2009), warm-started with the heuristic, plus the
integrality lower bound (integer measures whose total is not divisible by ``k`` cannot
all sit on the mean). It reports a certified gap, never a claim it cannot back.

Proof status
------------
PuLP labels a HiGHS time-limit stop "Optimal". This module never trusts that word: it
reads HiGHS's own model status and dual bound (``Highs.getModelStatus`` and
``getInfo().mip_dual_bound``). ``status`` is ``"proven optimal"`` only when HiGHS reports
``kOptimal`` with a zero gap (the default solver runs with ``mip_rel_gap = 0``);
otherwise it is ``"best found within time limit (gap X %)"``.

Locality names
--------------
Stable and unique, from geography only: the bearing of each locality's centroid from the
borough centroid. When ``k >= 5`` the locality whose centroid is nearest the borough
centroid is "Central". The others get the eight compass names (North, North East, East,
...), matched one-to-one by minimising the summed squared angle between each locality's
bearing and its name's bearing (Hungarian algorithm). A pin given as a string names the
locality that contains it. Past eight non-central localities, names are "Locality n".
"""

from __future__ import annotations

import copy
import math
import random
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pulp
from scipy.optimize import linear_sum_assignment
from shapely.geometry.base import BaseGeometry
from tqdm.auto import tqdm

from nwm_geo._errors import InfeasiblePartitionError, SolverError

__all__ = [
    "Alternatives",
    "LocalityPlan",
    "alternatives",
    "dissolve",
    "partition",
    "plan_summary",
    "polsby_popper",
    "ward_adjacency",
]

#: Allowed number of localities unless ``k_range`` says otherwise.
DEFAULT_K_RANGE: tuple[int, int] = (2, 8)

#: Up to this many units, ``method="auto"`` uses connected-set enumeration.
SETS_MAX_UNITS: int = 40

_COMPASS: tuple[tuple[str, float], ...] = (
    ("North", 0.0),
    ("North East", 45.0),
    ("East", 90.0),
    ("South East", 135.0),
    ("South", 180.0),
    ("South West", 225.0),
    ("West", 270.0),
    ("North West", 315.0),
)
_COMPASS_ORDER = {name: i for i, name in enumerate(["Central", *(n for n, _ in _COMPASS)])}
_EPS = 1e-9
# Annealing work per unit (moves tried). Fixed counts, not wall-clock time, so that a
# seed gives the same plan on any machine; the time limit only acts as a safety stop.
_BALANCE_MOVES_PER_UNIT = 10_000
_COMPACT_MOVES_PER_UNIT = 40_000
_SETS_MOVES_PER_UNIT = 1_000


# --------------------------------------------------------------------------- results


@dataclass
class LocalityPlan:
    """A partition of the units into localities, with its proof status.

    Attributes
    ----------
    assignment
        Index: unit code (``ward_code``); values: locality name.
    summary
        One row per locality (index ``locality``): ``population``, ``assets``, one
        column per category present in the input, ``population_dev_pct``,
        ``assets_dev_pct`` (signed, % from the mean), ``area_km2``, ``polsby_popper``,
        ``n_wards``, ``wards`` (comma-separated unit names).
    objective
        The worst weighted relative deviation ``z`` (a fraction: 0.031 = 3.1 %).
    boundary_cut_m
        Total length of boundary shared by units in different localities, metres.
    status
        ``"proven optimal"`` or ``"best found within time limit (gap X %)"``.
    proven_optimal
        True only if the solver proved the worst deviation optimal.
    gap
        Relative gap ``(objective - bound) / objective`` (0 when proven).
    runtime_s
        Wall-clock seconds for the whole call.
    method
        How the plan was found and proven, in words.
    bound
        Proven lower bound on the objective.
    tiebreak_proven
        True if the compactness tie-break was also solved to optimality.
    """

    assignment: pd.Series
    summary: pd.DataFrame
    objective: float
    boundary_cut_m: float
    status: str
    proven_optimal: bool
    gap: float
    runtime_s: float
    method: str
    bound: float = 0.0
    tiebreak_proven: bool = False


@dataclass
class Alternatives:
    """The best distinct plans and how often each ward changes locality among them.

    Attributes
    ----------
    plans
        Long format, one row per (rank, ward): ``rank`` (1 = optimum), ``objective``,
        ``pct_worse_than_optimum``, ``boundary_cut_m``, ``status``, ``ward_code``,
        ``ward_name``, ``locality``.
    swing
        Index ``ward_code``: ``ward_name``, ``optimal_locality``, ``n_plans`` (plans
        ranked 2 or lower within ``within_pct`` % of the optimum), ``n_plans_different``
        (how many of them put the ward in a different locality than the optimum, after
        matching localities between plans by maximum ward overlap), ``swing_share``
        (``n_plans_different / n_plans``, NaN when ``n_plans`` is 0).
    """

    plans: pd.DataFrame
    swing: pd.DataFrame
    best: LocalityPlan | None = None
    runtime_s: float = 0.0
    method: str = ""
    ranked: list[LocalityPlan] = field(default_factory=list)


# --------------------------------------------------------------------------- geometry


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
    """
    if wards.crs is not None and wards.crs.is_geographic:
        raise InfeasiblePartitionError(
            "ward_adjacency needs a metric CRS (e.g. EPSG:27700), got a geographic one"
        )
    threshold = 10.0 * snap_m if min_shared_m is None else float(min_shared_m)
    geoms = list(wards.geometry.values)
    codes = list(wards.index)
    bounds = [g.boundary for g in geoms]
    buffers = [g.buffer(snap_m) for g in geoms]
    left, right = wards.sindex.query(wards.geometry.buffer(snap_m), predicate="intersects")
    rows: list[tuple[Any, Any, float]] = []
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        shared = 0.5 * (
            bounds[i].intersection(buffers[j]).length + bounds[j].intersection(buffers[i]).length
        )
        if shared > threshold:
            rows.append((codes[i], codes[j], float(shared)))
    return pd.DataFrame(rows, columns=["ward_a", "ward_b", "shared_m"])


# --------------------------------------------------------------------------- instance


@dataclass
class _Instance:
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
    pop: np.ndarray | None
    pop_mean: float
    band: float | None
    floors: dict[str, tuple[np.ndarray, int]]
    pin_label: list[int]  # -1 = not pinned; else group id
    pin_groups: list[str | int]
    lower_bound: float

    def set_dev(self, sums: np.ndarray) -> float:
        if not len(self.weights):
            return 0.0
        return float(np.max(np.abs(sums - self.weights)))


def _prepare(
    wards: gpd.GeoDataFrame,
    *,
    k: int,
    measures: Sequence[str],
    weights: Mapping[str, float] | None,
    population_band: float | None,
    category_floors: Mapping[str, int] | None,
    pins: Mapping[str, str | int] | None,
    k_range: tuple[int, int],
    adjacency: pd.DataFrame | None,
) -> _Instance:
    """Validate the request and build the solver-independent instance."""
    if not isinstance(wards, gpd.GeoDataFrame):
        raise InfeasiblePartitionError("wards must be a GeoDataFrame")
    if not wards.index.is_unique:
        raise InfeasiblePartitionError("ward codes (the index) must be unique")
    n = len(wards)
    lo, hi = k_range
    if not lo <= k <= hi:
        raise InfeasiblePartitionError(
            f"k={k} is outside the allowed range {lo}..{hi} (pass k_range= to widen it)"
        )
    if k > n:
        raise InfeasiblePartitionError(f"k={k} localities is more than the {n} wards available")
    measures = list(measures)
    if not measures:
        raise InfeasiblePartitionError("at least one measure is needed")
    missing = [m for m in measures if m not in wards.columns]
    if missing:
        raise InfeasiblePartitionError(f"measure column(s) missing from wards: {missing}")
    w_map = dict(weights or {})
    unknown = [m for m in w_map if m not in measures]
    if unknown:
        raise InfeasiblePartitionError(f"weights given for measures not in measures: {unknown}")
    w = np.array([float(w_map.get(m, 1.0)) for m in measures])
    if (w < 0).any() or not (w > 0).any():
        raise InfeasiblePartitionError("weights must be >= 0 with at least one positive")
    values = wards[measures].to_numpy(dtype=float)
    if (values < 0).any() or not np.isfinite(values).all():
        raise InfeasiblePartitionError("measure values must be finite and non-negative")
    means = values.sum(axis=0) / k
    zero = [m for m, mu in zip(measures, means, strict=True) if mu <= 0]
    if zero:
        raise InfeasiblePartitionError(f"measure(s) {zero} total 0: nothing to balance")
    # drop zero-weight measures from the objective but keep them in the summary
    keep = w > 0
    measures_obj = [m for m, kp in zip(measures, keep, strict=True) if kp]
    w, values, means = w[keep], values[:, keep], means[keep]
    norm = values * (w / means)

    # adjacency
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

    # population band
    pop: np.ndarray | None = None
    pop_mean = 0.0
    if population_band is not None:
        if "population" not in wards.columns:
            raise InfeasiblePartitionError("population_band needs a 'population' column")
        if not 0 <= population_band < 1:
            raise InfeasiblePartitionError(
                f"population_band must be in [0, 1), got {population_band}"
            )
        pop = wards["population"].to_numpy(dtype=float)
        pop_mean = float(pop.sum() / k)
        too_big = [str(codes[i]) for i in range(n) if pop[i] > pop_mean * (1 + population_band)]
        if too_big:
            raise InfeasiblePartitionError(
                f"impossible population band ±{population_band:.1%}: ward(s) {too_big} alone "
                f"exceed the band's upper limit of {pop_mean * (1 + population_band):,.0f}"
            )

    # floors
    floors: dict[str, tuple[np.ndarray, int]] = {}
    for cat, floor in (category_floors or {}).items():
        if cat not in wards.columns:
            raise InfeasiblePartitionError(f"category floor given for missing column '{cat}'")
        counts = wards[cat].to_numpy(dtype=float)
        if counts.sum() < k * floor:
            raise InfeasiblePartitionError(
                f"floors can't be met: {counts.sum():.0f} '{cat}' in total but k={k} "
                f"localities each need at least {floor}"
            )
        if floor > 0:
            floors[cat] = (counts, int(floor))

    # pins
    pin_label = [-1] * n
    groups: list[str | int] = []
    for code, lab in (pins or {}).items():
        if code not in pos:
            raise InfeasiblePartitionError(f"pinned ward '{code}' is not in wards")
        if isinstance(lab, bool) or not isinstance(lab, str | int | np.integer):
            raise InfeasiblePartitionError(f"pin for '{code}' must be a locality index or name")
        if not isinstance(lab, str) and not 0 <= int(lab) < k:
            raise InfeasiblePartitionError(
                f"conflicting pins: ward '{code}' pinned to locality {lab}, outside 0..{k - 1}"
            )
        key: str | int = lab if isinstance(lab, str) else int(lab)
        if key not in groups:
            groups.append(key)
        pin_label[pos[code]] = groups.index(key)
    if len(groups) > k:
        raise InfeasiblePartitionError(
            f"conflicting pins: {len(groups)} distinct pinned localities but k={k}"
        )

    # integrality lower bound on z: integer measures whose total is not divisible by k
    lb = 0.0
    for m_idx in range(len(measures_obj)):
        col = values[:, m_idx]
        if np.allclose(col, np.round(col)):
            total = round(col.sum())
            if total % k:
                mu = total / k
                lb = max(lb, w[m_idx] * max(mu - math.floor(mu), math.ceil(mu) - mu) / mu)
    return _Instance(
        codes=codes,
        n=n,
        k=k,
        measures=measures_obj,
        weights=w,
        values=values,
        means=means,
        norm=norm,
        adj=[sorted(s) for s in adj],
        adj_mask=[sum(1 << j for j in s) for s in adj],
        edges=edges,
        total_shared=float(sum(s for _, _, s in edges)),
        pop=pop,
        pop_mean=pop_mean,
        band=population_band,
        floors=floors,
        pin_label=pin_label,
        pin_groups=groups,
        lower_bound=lb,
    )


# --------------------------------------------------------------------------- heuristic


def _connected_without(inst: _Instance, members: set[int], drop: int) -> bool:
    rest = members - {drop}
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


def _plan_key(
    inst: _Instance, sums: np.ndarray, counts: dict[str, np.ndarray]
) -> tuple[float, ...]:
    """Lexicographic heuristic score: (constraint violation, worst dev, sum of squares)."""
    dev = np.abs(sums - inst.weights)
    viol = 0.0
    if inst.band is not None and inst.pop is not None:
        viol += float(
            np.maximum(np.abs(counts["__pop__"] / inst.pop_mean - 1) - inst.band, 0).sum()
        )
    for cat, (_, floor) in inst.floors.items():
        viol += float(np.maximum(floor - counts[cat], 0).sum())
    return (round(viol, 12), round(float(dev.max()), 12), float((dev**2).sum()))


def _heuristic(
    inst: _Instance,
    *,
    seed: int,
    restarts: int,
    deadline: float,
    stops: list[str] | None = None,
) -> tuple[np.ndarray, float] | None:
    """Region growing plus best-improvement boundary moves; returns labels and z.

    Pins are not handled (returns None); the exact methods handle them. ``deadline``
    is a safety stop between restarts (noted in ``stops``).
    """
    if any(lab >= 0 for lab in inst.pin_label):
        return None
    rng = random.Random(seed)
    k, n = inst.k, inst.n
    extra: dict[str, np.ndarray] = {}
    if inst.band is not None and inst.pop is not None:
        extra["__pop__"] = inst.pop
    for cat, (arr, _) in inst.floors.items():
        extra[cat] = arr
    best: tuple[tuple[float, ...], np.ndarray] | None = None
    for _restart in range(restarts):
        if time.perf_counter() > deadline and best is not None:
            if stops is not None:
                stops.append("heuristic restarts")
            break
        labels = np.full(n, -1)
        seeds = rng.sample(range(n), k)
        for j, s in enumerate(seeds):
            labels[s] = j
        sums = np.array([inst.norm[s] for s in seeds], dtype=float)
        while (labels < 0).any():
            order = sorted(range(k), key=lambda j: (float(sums[j].sum()), rng.random()))
            for j in order:
                frontier = [
                    v for u in np.flatnonzero(labels == j) for v in inst.adj[u] if labels[v] < 0
                ]
                if frontier:
                    v = rng.choice(frontier)
                    labels[v] = j
                    sums[j] += inst.norm[v]
                    break
        members = [set(np.flatnonzero(labels == j).tolist()) for j in range(k)]
        counts = {
            key: np.array([arr[list(members[j])].sum() for j in range(k)])
            for key, arr in extra.items()
        }
        key = _plan_key(inst, sums, counts)
        improved = True
        while improved:
            improved = False
            moves: list[tuple[tuple[float, ...], int, int, int]] = []
            for u in range(n):
                a = int(labels[u])
                if len(members[a]) == 1:
                    continue
                for b in {int(labels[v]) for v in inst.adj[u]} - {a}:
                    new_sums = sums.copy()
                    new_sums[a] -= inst.norm[u]
                    new_sums[b] += inst.norm[u]
                    new_counts = {}
                    for name, arr in extra.items():
                        c = counts[name].copy()
                        c[a] -= arr[u]
                        c[b] += arr[u]
                        new_counts[name] = c
                    new_key = _plan_key(inst, new_sums, new_counts)
                    if new_key < key:
                        moves.append((new_key, u, a, b))
            for new_key, u, a, b in sorted(moves):
                if _connected_without(inst, members[a], u):
                    labels[u] = b
                    members[a].discard(u)
                    members[b].add(u)
                    sums[a] -= inst.norm[u]
                    sums[b] += inst.norm[u]
                    for name, arr in extra.items():
                        counts[name][a] -= arr[u]
                        counts[name][b] += arr[u]
                    key = new_key
                    improved = True
                    break
        if best is None or key < best[0]:
            best = (key, labels.copy())
    if best is None:
        return None
    return best[1], _zvalue(inst, best[1])


def _zvalue(inst: _Instance, labels: np.ndarray) -> float:
    sums = np.array([inst.norm[labels == j].sum(axis=0) for j in range(inst.k)])
    return float(np.abs(sums - inst.weights).max())


def _violation(inst: _Instance, labels: np.ndarray) -> float:
    counts: dict[str, np.ndarray] = {}
    if inst.band is not None and inst.pop is not None:
        counts["__pop__"] = np.array([inst.pop[labels == j].sum() for j in range(inst.k)])
    for cat, (arr, _) in inst.floors.items():
        counts[cat] = np.array([arr[labels == j].sum() for j in range(inst.k)])
    sums = np.array([inst.norm[labels == j].sum(axis=0) for j in range(inst.k)])
    return _plan_key(inst, sums, counts)[0]


def _incumbent(
    inst: _Instance,
    *,
    seed: int,
    restarts: int,
    iters: int,
    deadline: float,
    stops: list[str] | None = None,
) -> tuple[np.ndarray, float] | None:
    """A feasible plan from region growing + descent + annealing, or None.

    The work is fixed by ``restarts`` and ``iters`` (annealing moves), so the plan
    depends only on the seed unless the safety ``deadline`` stops it (noted in
    ``stops``).
    """
    first = _heuristic(inst, seed=seed, restarts=restarts, deadline=deadline, stops=stops)
    if first is None:
        return None
    labels = _anneal(inst, first[0], iters=iters, deadline=deadline, seed=seed, stops=stops)
    if _violation(inst, labels) > 0:
        return None
    return labels, _zvalue(inst, labels)


def _anneal(
    inst: _Instance,
    labels: np.ndarray,
    *,
    iters: int,
    deadline: float,
    seed: int,
    compact_cap: float | None = None,
    stops: list[str] | None = None,
) -> np.ndarray:
    """Simulated annealing over single-unit boundary moves that keep localities connected.

    Balance mode (``compact_cap`` None): minimise the squared excess of every deviation
    over the proven lower bound (plus hard-constraint violations), keeping the best plan
    by worst deviation; stops early when the lower bound is reached. Compact mode:
    minimise the boundary cut among plans whose worst deviation stays ``<= compact_cap``.

    The temperature falls with the iteration count over ``iters`` moves, so the result
    depends only on the seed. ``deadline`` is a safety stop; when it fires, the result
    depends on the machine's speed and a note is appended to ``stops``.
    """
    rng = random.Random(seed)
    n, k, m = inst.n, inst.k, len(inst.measures)
    lab = [int(v) for v in labels]
    if any(v >= 0 for v in inst.pin_label):
        pinned = [v >= 0 for v in inst.pin_label]
    else:
        pinned = [False] * n
    norm = inst.norm.tolist()
    w = inst.weights.tolist()
    extra: list[tuple[list[float], float, float]] = []  # values, low, high
    if inst.band is not None and inst.pop is not None:
        extra.append(
            (inst.pop.tolist(), inst.pop_mean * (1 - inst.band), inst.pop_mean * (1 + inst.band))
        )
    for arr, floor in inst.floors.values():
        extra.append((arr.tolist(), float(floor), math.inf))
    sums = [[0.0] * m for _ in range(k)]
    esum = [[0.0] * len(extra) for _ in range(k)]
    members: list[set[int]] = [set() for _ in range(k)]
    for i, j in enumerate(lab):
        members[j].add(i)
        for t in range(m):
            sums[j][t] += norm[i][t]
        for e, (vals, _, _) in enumerate(extra):
            esum[j][e] += vals[i]
    target = inst.lower_bound + 1e-12 if compact_cap is None else compact_cap
    # compact mode: cut (as a share of all shared boundary) plus a steep penalty on
    # deviations above the cap, so that two-step exchanges can pass through
    penalty = 1.0 if compact_cap is None else 3.0
    cut_w = 0.0 if compact_cap is None else 1.0 / max(inst.total_shared, 1e-9)
    shared = [dict[int, float]() for _ in range(n)]
    for a, b, s in inst.edges:
        shared[a][b] = s
        shared[b][a] = s

    def row_cost(row: list[float], erow: list[float]) -> float:
        c = 0.0
        for t in range(m):
            d = abs(row[t] - w[t]) - target
            if d > 0:
                c += penalty * d * d
        for e, (_, lo, hi) in enumerate(extra):
            scale = hi if math.isfinite(hi) else max(lo, 1.0)
            if erow[e] < lo:
                c += 1e3 * ((lo - erow[e]) / scale) ** 2
            elif erow[e] > hi:
                c += 1e3 * ((erow[e] - hi) / scale) ** 2
        return c

    def row_dev(row: list[float]) -> float:
        return max(abs(row[t] - w[t]) for t in range(m))

    def feasible_row(erow: list[float]) -> bool:
        return all(lo - 1e-9 <= erow[e] <= hi + 1e-9 for e, (_, lo, hi) in enumerate(extra))

    costs = [row_cost(sums[j], esum[j]) for j in range(k)]
    cut = _cut(inst, np.asarray(lab))

    def score() -> tuple[float, float, float]:
        feas = all(feasible_row(esum[j]) for j in range(k))
        if compact_cap is not None:
            ok = feas and all(row_dev(sums[j]) <= compact_cap for j in range(k))
            return (0.0 if ok else 1.0, 0.0, cut)
        return (0.0 if feas else 1.0, max(row_dev(sums[j]) for j in range(k)), cut)

    best = score()
    best_lab = list(lab)
    if compact_cap is None and best[0] == 0 and best[1] <= target:
        return np.asarray(best_lab)
    temp0, temp1 = (1e-3, 1e-8) if compact_cap is None else (1e-2, 1e-5)
    it = 0
    temp = temp0
    while it < iters:
        it += 1
        if it % 256 == 0:
            if time.perf_counter() >= deadline:
                if stops is not None:
                    stops.append("annealing" if compact_cap is None else "compact annealing")
                break
            temp = temp0 * (temp1 / temp0) ** (it / iters)
        u = rng.randrange(n)
        if pinned[u]:
            continue
        a = lab[u]
        nbrs = inst.adj[u]
        b = lab[nbrs[rng.randrange(len(nbrs))]]
        if a == b or len(members[a]) == 1:
            continue
        row_a = [sums[a][t] - norm[u][t] for t in range(m)]
        row_b = [sums[b][t] + norm[u][t] for t in range(m)]
        e_a = [esum[a][e] - extra[e][0][u] for e in range(len(extra))]
        e_b = [esum[b][e] + extra[e][0][u] for e in range(len(extra))]
        d_cut = sum(s for v, s in shared[u].items() if lab[v] == a) - sum(
            s for v, s in shared[u].items() if lab[v] == b
        )
        new_ca, new_cb = row_cost(row_a, e_a), row_cost(row_b, e_b)
        delta = new_ca + new_cb - costs[a] - costs[b] + cut_w * d_cut
        if delta > 0 and rng.random() >= math.exp(-delta / temp):
            continue
        if not _connected_without(inst, members[a], u):
            continue
        lab[u] = b
        members[a].discard(u)
        members[b].add(u)
        sums[a], sums[b] = row_a, row_b
        esum[a], esum[b] = e_a, e_b
        costs[a], costs[b] = new_ca, new_cb
        cut += d_cut
        sc = score()
        if sc < best:
            best = sc
            best_lab = list(lab)
            if compact_cap is None and sc[0] == 0 and sc[1] <= target:
                break
    return np.asarray(best_lab)


# --------------------------------------------------------------------------- enumeration


def _enumerate_sets(
    inst: _Instance, upper: float, *, max_sets: int, verbose: bool
) -> list[tuple[int, float]] | None:
    """All connected unit sets with deviation <= upper that pass pins, band and floors.

    Returns ``(bitmask, deviation)`` pairs, or None if more than ``max_sets`` were found.
    Uses the ESU rule: each connected set is generated once, from its lowest unit.
    """
    n, k = inst.n, inst.k
    m = len(inst.measures)
    norm = [tuple(float(x) for x in row) for row in inst.norm]
    # caps on each normalised measure: w * (1 + upper / w) = w + upper
    caps = [float(inst.weights[i]) + upper + 1e-12 for i in range(m)]
    pop = inst.pop.tolist() if inst.pop is not None else None
    pop_cap = inst.pop_mean * (1 + inst.band) + 1e-9 if inst.band is not None else math.inf
    pop_low = inst.pop_mean * (1 - inst.band) - 1e-9 if inst.band is not None else -math.inf
    max_size = n - k + 1
    labels = inst.pin_label
    group_mask = [
        sum(1 << i for i in range(n) if labels[i] == g) for g in range(len(inst.pin_groups))
    ]
    floor_items = [(arr.tolist(), f) for arr, f in inst.floors.values()]
    w = inst.weights.tolist()
    out: list[tuple[int, float]] = []
    adj_mask = inst.adj_mask

    def accept(mask: int, sums: list[float], label: int) -> None:
        dev = max(abs(sums[i] - w[i]) for i in range(m))
        if dev > upper + 1e-12:
            return
        if label >= 0 and (mask & group_mask[label]) != group_mask[label]:
            return
        if pop is not None or floor_items:
            idx = [i for i in range(n) if mask >> i & 1]
            if pop is not None and sum(pop[i] for i in idx) < pop_low:
                return
            for arr, f in floor_items:
                if sum(arr[i] for i in idx) < f:
                    return
        out.append((mask, dev))

    def extend(
        mask: int,
        ext: int,
        nbhd: int,
        sums: list[float],
        psum: float,
        size: int,
        label: int,
        higher: int,
    ) -> None:
        accept(mask, sums, label)
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
            new_p = psum + (pop[u] if pop is not None else 0.0)
            if new_p > pop_cap:
                continue
            extend(
                mask | bit,
                ext | (adj_mask[u] & higher & ~nbhd),
                nbhd | adj_mask[u],
                new,
                new_p,
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
        pv = pop[v] if pop is not None else 0.0
        if pv > pop_cap:
            continue
        extend(
            1 << v,
            adj_mask[v] & higher,
            adj_mask[v] | (1 << v),
            list(row),
            pv,
            1,
            labels[v],
            higher,
        )
        if len(out) > max_sets:
            return None
    return out


# --------------------------------------------------------------------------- solving


@dataclass
class _Solve:
    state: str  # "optimal" | "feasible" | "infeasible" | "none"
    objective: float
    bound: float
    values: dict[str, float]


def _default_solver(time_limit: float, verbose: bool) -> pulp.LpSolver:
    return pulp.HiGHS(
        msg=verbose, timeLimit=max(time_limit, 0.01), gapRel=0.0, gapAbs=1e-10, threads=1
    )


class _HiGHSWithStart(pulp.HiGHS):
    """pulp.HiGHS that passes a start solution (by variable name) to HiGHS."""

    def __init__(self, start: Mapping[str, float], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._start = dict(start)

    def callSolver(self, lp: pulp.LpProblem) -> None:
        if self._start:
            idx, val = [], []
            for var in lp.variables():
                if var.name in self._start:
                    idx.append(var.index)
                    val.append(self._start[var.name])
            lp.solverModel.setSolution(
                len(idx), np.asarray(idx, dtype=np.int32), np.asarray(val, dtype=np.float64)
            )
        lp.solverModel.run()


def _run(
    prob: pulp.LpProblem,
    solver: pulp.LpSolver | None,
    time_left: float,
    verbose: bool,
    start: Mapping[str, float] | None = None,
) -> _Solve:
    """Solve and read the proof status from the solver itself, not from PuLP's word."""
    if time_left <= 0:
        return _Solve("none", math.nan, -math.inf, {})
    if solver is None:
        if start:
            slv: pulp.LpSolver = _HiGHSWithStart(
                start,
                msg=verbose,
                timeLimit=max(time_left, 0.01),
                gapRel=0.0,
                gapAbs=1e-10,
                threads=1,
            )
        else:
            slv = _default_solver(time_left, verbose)
    else:
        slv = copy.copy(solver)
        if getattr(slv, "timeLimit", None) is None or slv.timeLimit > time_left:
            slv.timeLimit = max(time_left, 0.01)
    try:
        prob.solve(slv)
    except pulp.PulpSolverError as exc:
        raise SolverError(f"the MIP solver failed: {exc}") from exc
    values = {v.name: (v.varValue if v.varValue is not None else 0.0) for v in prob.variables()}
    model = getattr(prob, "solverModel", None)
    obj = pulp.value(prob.objective)
    sense = prob.sense
    if model is not None and hasattr(model, "getModelStatus"):
        import highspy

        ms = model.getModelStatus()
        info = model.getInfo()
        if ms in (highspy.HighsModelStatus.kInfeasible,):
            return _Solve("infeasible", math.nan, math.nan, {})
        has_sol = info.primal_solution_status == 2  # kSolutionStatusFeasible
        if not has_sol:
            return _Solve("none", math.nan, math.nan, {})
        obj = float(info.objective_function_value)
        dual = float(info.mip_dual_bound)
        if not math.isfinite(dual):
            dual = -math.inf if sense == pulp.LpMinimize else math.inf
        gap_abs = (obj - dual) if sense == pulp.LpMinimize else (dual - obj)
        tol = 1e-6 * max(1.0, abs(obj))
        state = (
            "optimal" if ms == highspy.HighsModelStatus.kOptimal and gap_abs <= tol else "feasible"
        )
        return _Solve(state, obj, dual if state == "feasible" else obj, values)
    # other PuLP solvers: trust only the solution status, which distinguishes
    # "optimal" from "integer feasible" (e.g. CBC stopped on time)
    if prob.status == pulp.LpStatusInfeasible:
        return _Solve("infeasible", math.nan, math.nan, {})
    if prob.sol_status == pulp.LpSolutionOptimal and obj is not None:
        return _Solve("optimal", float(obj), float(obj), values)
    if prob.sol_status == pulp.LpSolutionIntegerFeasible and obj is not None:
        return _Solve("feasible", float(obj), -math.inf, values)
    return _Solve("none", math.nan, math.nan, {})


def _bits(mask: int) -> list[int]:
    out = []
    while mask:
        bit = mask & -mask
        out.append(bit.bit_length() - 1)
        mask ^= bit
    return out


def _internal(mask: int, edge_list: list[tuple[int, int, float]]) -> float:
    return sum(s for i, j, s in edge_list if mask >> i & 1 and mask >> j & 1)


class _SetModel:
    """Set-partitioning MIP over enumerated connected sets, with no-good cuts."""

    def __init__(self, inst: _Instance, sets: list[tuple[int, float]]) -> None:
        self.inst = inst
        self.sets = sets
        self.internal = [_internal(mask, inst.edges) for mask, _ in sets]
        self.nogoods: list[frozenset[int]] = []

    def solve(
        self,
        *,
        stage: int,
        zcap: float | None,
        solver: pulp.LpSolver | None,
        time_left: float,
        verbose: bool,
    ) -> tuple[_Solve, list[int]]:
        inst = self.inst
        idx = [s for s, (_, dev) in enumerate(self.sets) if zcap is None or dev <= zcap + _EPS]
        # Canonical order (by ward bitmask) and names, so that the same admissible sets give
        # the same model, and HiGHS the same plan among ties, however the band was found.
        idx.sort(key=lambda s: self.sets[s][0])
        name = {s: f"x_{j}" for j, s in enumerate(idx)}
        prob = pulp.LpProblem("localities_sets", pulp.LpMinimize)
        x = {s: pulp.LpVariable(name[s], cat=pulp.LpBinary) for s in idx}
        if stage == 1:
            z = pulp.LpVariable("z", lowBound=inst.lower_bound)
            prob += z
            for s in idx:
                prob += z - self.sets[s][1] * x[s] >= 0
        else:
            prob += pulp.lpSum(-self.internal[s] * x[s] for s in idx)
        cover: list[list[int]] = [[] for _ in range(inst.n)]
        for s in idx:
            for i in _bits(self.sets[s][0]):
                cover[i].append(s)
        for i in range(inst.n):
            if not cover[i]:
                return _Solve("infeasible", math.nan, math.nan, {}), []
            prob += pulp.lpSum(x[s] for s in cover[i]) == 1
        prob += pulp.lpSum(x.values()) == inst.k
        by_mask = {self.sets[s][0]: s for s in idx}
        for good in self.nogoods:
            if all(mk in by_mask for mk in good):
                prob += pulp.lpSum(x[by_mask[mk]] for mk in good) <= inst.k - 1
        res = _run(prob, solver, time_left, verbose)
        chosen = [self.sets[s][0] for s in idx if res.values.get(name[s], 0.0) > 0.5]
        return res, chosen


def _labels_from_masks(n: int, masks: Sequence[int]) -> np.ndarray:
    labels = np.full(n, -1)
    for j, mk in enumerate(sorted(masks)):
        for i in _bits(mk):
            labels[i] = j
    return labels


def _solve_flow(
    inst: _Instance,
    *,
    start_labels: np.ndarray | None,
    solver: pulp.LpSolver | None,
    deadline: float,
    verbose: bool,
    stops: list[str] | None = None,
) -> tuple[np.ndarray, _Solve, bool, str]:
    """Assignment MIP with single-commodity flow contiguity; lexicographic tie-break."""
    n, k = inst.n, inst.k
    big_m = n - k + 1
    prob = pulp.LpProblem("localities_flow", pulp.LpMinimize)
    x = {
        (i, j): pulp.LpVariable(f"x_{i}_{j}", cat=pulp.LpBinary) for i in range(n) for j in range(k)
    }
    r = {
        (i, j): pulp.LpVariable(f"r_{i}_{j}", cat=pulp.LpBinary) for i in range(n) for j in range(k)
    }
    arcs = [(i, j2) for i, j2, _ in inst.edges] + [(j2, i) for i, j2, _ in inst.edges]
    f = {
        (a, b, j): pulp.LpVariable(f"f_{a}_{b}_{j}", lowBound=0) for a, b in arcs for j in range(k)
    }
    z = pulp.LpVariable("z", lowBound=inst.lower_bound)
    prob += z
    pinned = any(lab >= 0 for lab in inst.pin_label)
    for i in range(n):
        prob += pulp.lpSum(x[i, j] for j in range(k)) == 1
        lab = inst.pin_label[i]
        if lab >= 0:
            prob += x[i, lab] == 1
        elif not pinned:
            for j in range(i + 1, k):  # symmetry: unit i can only open localities <= i
                prob += x[i, j] == 0
    inflow: dict[tuple[int, int], list[Any]] = {}
    outflow: dict[tuple[int, int], list[Any]] = {}
    for a, b in arcs:
        for j in range(k):
            var = f[a, b, j]
            outflow.setdefault((a, j), []).append(var)
            inflow.setdefault((b, j), []).append(var)
            prob += var <= big_m * x[a, j]
            prob += var <= big_m * x[b, j]
    for j in range(k):
        prob += pulp.lpSum(r[i, j] for i in range(n)) == 1
        for i in range(n):
            prob += r[i, j] <= x[i, j]
            prob += (
                pulp.lpSum(inflow.get((i, j), [])) - pulp.lpSum(outflow.get((i, j), []))
                >= x[i, j] - big_m * r[i, j]
            )
        for mi in range(len(inst.measures)):
            expr = pulp.lpSum(float(inst.norm[i, mi]) * x[i, j] for i in range(n))
            w = float(inst.weights[mi])
            prob += z >= expr - w
            prob += z >= w - expr
        if inst.band is not None and inst.pop is not None:
            pexpr = pulp.lpSum(float(inst.pop[i]) * x[i, j] for i in range(n))
            prob += pexpr <= inst.pop_mean * (1 + inst.band)
            prob += pexpr >= inst.pop_mean * (1 - inst.band)
        for arr, floor in inst.floors.values():
            prob += pulp.lpSum(float(arr[i]) * x[i, j] for i in range(n)) >= floor

    start: dict[str, float] = {}
    if start_labels is not None:
        start = _flow_start(inst, _symmetric(inst, start_labels))
    t_total = deadline - time.perf_counter()
    if start_labels is not None and _zvalue(inst, start_labels) <= inst.lower_bound + 1e-12:
        # the heuristic reached the integrality lower bound: optimal without a MIP
        zval = _zvalue(inst, start_labels)
        res1 = _Solve("optimal", zval, zval, {})
        labels = start_labels
    else:
        res1 = _run(prob, solver, 0.6 * t_total, verbose, start=start if solver is None else None)
        labels = None  # read below
    if res1.state in ("infeasible",):
        raise InfeasiblePartitionError(_infeasible_reason(inst))
    if res1.state == "none":
        if start_labels is None:
            raise SolverError("no feasible plan found within the time limit")
        labels = start_labels
        sums = np.array([inst.norm[labels == j].sum(axis=0) for j in range(k)])
        zval = float(np.abs(sums - inst.weights).max())
        res1 = _Solve("feasible", zval, inst.lower_bound, {})
        return labels, res1, False, "flow MIP found nothing better than the heuristic"
    if labels is None:
        labels = np.array(_argmax_labels(res1.values, n, k))
    # heuristic compactness first (keeps every deviation <= z), then the exact stage 2
    zcap = _zvalue(inst, labels) + 1e-12
    labels = _anneal(
        inst,
        labels,
        iters=_COMPACT_MOVES_PER_UNIT * n,
        seed=0,
        compact_cap=zcap,
        deadline=time.perf_counter() + min(0.5 * (deadline - time.perf_counter()), 0.4 * n),
        stops=stops,
    )
    # stage 2: keep z <= found value, minimise the cut
    y = {e: pulp.LpVariable(f"y_{e}", lowBound=0, upBound=1) for e in range(len(inst.edges))}
    for e, (a, b, _) in enumerate(inst.edges):
        for j in range(k):
            prob += y[e] >= x[a, j] - x[b, j]
            prob += y[e] >= x[b, j] - x[a, j]
    prob += z <= res1.objective + _EPS
    prob.setObjective(pulp.lpSum(s * y[e] for e, (_, _, s) in enumerate(inst.edges)))
    start2 = _flow_start(inst, _symmetric(inst, labels)) if solver is None else None
    # leave time to build the plan's summary, so the call keeps within time_limit_s
    margin = min(1.5, 0.05 * t_total)
    res2 = _run(prob, solver, deadline - time.perf_counter() - margin, verbose, start=start2)
    tiebreak = res2.state == "optimal"
    if res2.state in ("optimal", "feasible"):
        labels = np.array(_argmax_labels(res2.values, n, k))
    note = "compactness tie-break " + ("proven" if tiebreak else "not proven (time)")
    return labels, res1, tiebreak, note


def _symmetric(inst: _Instance, labels: np.ndarray) -> np.ndarray:
    """Relabel in first-appearance order, the flow model's symmetry rule (no pins).

    A start that breaks the rule (unit i in a locality numbered above i) is infeasible
    for the model, and HiGHS drops it without a word.
    """
    if any(lab >= 0 for lab in inst.pin_label):
        return labels  # pinned models fix the labels of the pin groups instead
    order: dict[int, int] = {}
    for v in labels:
        order.setdefault(int(v), len(order))
    return np.array([order[int(v)] for v in labels])


def _argmax_labels(values: Mapping[str, float], n: int, k: int) -> list[int]:
    out = []
    for i in range(n):
        row = [values.get(f"x_{i}_{j}", 0.0) for j in range(k)]
        out.append(int(np.argmax(row)))
    return out


def _flow_start(inst: _Instance, labels: np.ndarray) -> dict[str, float]:
    """A complete feasible start for the flow model from a labelling."""
    n, k = inst.n, inst.k
    start: dict[str, float] = {}
    for i in range(n):
        for j in range(k):
            start[f"x_{i}_{j}"] = 1.0 if labels[i] == j else 0.0
            start[f"r_{i}_{j}"] = 0.0
    flows: dict[tuple[int, int, int], float] = {}
    for j in range(k):
        members = set(np.flatnonzero(labels == j).tolist())
        root = min(members)
        start[f"r_{root}_{j}"] = 1.0
        # BFS tree; flow on tree arc = size of subtree below it
        parent = {root: -1}
        order = [root]
        for u in order:
            for v in inst.adj[u]:
                if v in members and v not in parent:
                    parent[v] = u
                    order.append(v)
        sub = dict.fromkeys(order, 1)
        for u in reversed(order[1:]):
            sub[parent[u]] += sub[u]
            flows[(parent[u], u, j)] = float(sub[u])
    for a, b, _ in inst.edges:
        for u, v in ((a, b), (b, a)):
            for j in range(k):
                start[f"f_{u}_{v}_{j}"] = flows.get((u, v, j), 0.0)
    sums = np.array([inst.norm[labels == j].sum(axis=0) for j in range(k)])
    start["z"] = max(float(np.abs(sums - inst.weights).max()), inst.lower_bound)
    return start


def _infeasible_reason(inst: _Instance) -> str:
    parts = []
    if inst.band is not None:
        parts.append(f"the population band ±{inst.band:.1%}")
    if inst.floors:
        parts.append(
            "category floors " + ", ".join(f"{c} >= {f}" for c, (_, f) in inst.floors.items())
        )
    if any(lab >= 0 for lab in inst.pin_label):
        parts.append(
            "the pins (pinned wards that must share a locality can't be joined "
            "by a connected set, or pins can't coexist)"
        )
    if not parts:
        return f"no partition into k={inst.k} contiguous localities exists"
    return "no contiguous partition satisfies " + " together with ".join(parts)


# --------------------------------------------------------------------------- naming


def _names(
    wards: gpd.GeoDataFrame, labels: np.ndarray, k: int, pin_names: Mapping[int, str]
) -> dict[int, str]:
    """Compass names for each label (see the module docstring for the rule)."""
    geoms = wards.geometry.values
    areas = np.array([g.area for g in geoms])
    cx = np.array([g.centroid.x for g in geoms])
    cy = np.array([g.centroid.y for g in geoms])
    tot = areas.sum()
    bx, by = float((areas * cx).sum() / tot), float((areas * cy).sum() / tot)
    cent = {}
    for j in range(k):
        sel = labels == j
        a = areas[sel].sum()
        cent[j] = (
            float((areas[sel] * cx[sel]).sum() / a) - bx,
            float((areas[sel] * cy[sel]).sum() / a) - by,
        )
    names: dict[int, str] = dict(pin_names)
    free = [j for j in range(k) if j not in names]
    if k >= 5 and "Central" not in names.values() and free:
        central = min(free, key=lambda j: (math.hypot(*cent[j]), j))
        names[central] = "Central"
        free.remove(central)
    compass = [(nm, ang) for nm, ang in _COMPASS if nm not in names.values()]
    if free and len(free) <= len(compass):
        cost = np.zeros((len(free), len(compass)))
        for r, j in enumerate(free):
            bearing = math.degrees(math.atan2(cent[j][0], cent[j][1])) % 360
            for c, (_, ang) in enumerate(compass):
                d = abs(bearing - ang) % 360
                cost[r, c] = min(d, 360 - d) ** 2
        rows, cols = linear_sum_assignment(cost)
        for r, c in zip(rows, cols, strict=True):
            names[free[r]] = compass[c][0]
    else:
        for n_, j in enumerate(sorted(free, key=lambda j: (-cent[j][1], cent[j][0])), start=1):
            names[j] = f"Locality {n_}"
    return names


# --------------------------------------------------------------------------- summary


def plan_summary(
    wards: gpd.GeoDataFrame, assignment: pd.Series, *, k: int | None = None
) -> pd.DataFrame:
    """Per-locality totals, deviations and shape metrics for an assignment.

    Parameters
    ----------
    wards
        The units (see :func:`partition`).
    assignment
        Index: unit code; values: locality name.
    k
        Number of localities used for the mean; default the number of distinct names.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``locality``; see :attr:`LocalityPlan.summary` for the columns.
    """
    from nwm_geo import settings

    assignment = assignment.reindex(wards.index)
    k = int(assignment.nunique()) if k is None else k
    num_cols = [c for c in ["population", "assets", *settings.CATEGORIES] if c in wards.columns]
    grouped = wards[num_cols].groupby(assignment.rename("locality"))
    out = grouped.sum()
    for col in ("population", "assets"):
        if col in out.columns:
            mean = wards[col].sum() / k
            out[f"{col}_dev_pct"] = (out[col] - mean) / mean * 100.0
    geoms = wards.geometry.groupby(assignment.rename("locality")).apply(lambda s: s.union_all())
    out["area_km2"] = [geoms[loc].area / 1e6 for loc in out.index]
    out["polsby_popper"] = [polsby_popper(geoms[loc]) for loc in out.index]
    out["n_wards"] = assignment.value_counts().reindex(out.index).astype(int)
    names = (
        wards["ward_name"]
        if "ward_name" in wards.columns
        else pd.Series(wards.index.astype(str), index=wards.index)
    )
    out["wards"] = [
        ", ".join(sorted(str(v) for v in names[assignment == loc])) for loc in out.index
    ]
    order = sorted(out.index, key=lambda s: (_COMPASS_ORDER.get(str(s), 99), str(s)))
    return out.loc[order]


def _cut(inst: _Instance, labels: np.ndarray) -> float:
    return float(sum(s for a, b, s in inst.edges if labels[a] != labels[b]))


def _make_plan(
    wards: gpd.GeoDataFrame,
    inst: _Instance,
    labels: np.ndarray,
    *,
    proven: bool,
    objective: float,
    bound: float,
    t0: float,
    method: str,
    tiebreak: bool,
) -> LocalityPlan:
    sizes = np.bincount(labels, minlength=inst.k)
    if len(sizes) != inst.k or (sizes == 0).any():
        raise SolverError(
            f"the solver returned a plan with {int((sizes > 0).sum())} non-empty localities "
            f"instead of {inst.k}; no plan is reported (try a longer time_limit_s)"
        )
    pin_names: dict[int, str] = {}
    for i, lab in enumerate(inst.pin_label):
        if lab >= 0 and isinstance(inst.pin_groups[lab], str):
            pin_names[int(labels[i])] = str(inst.pin_groups[lab])
    names = _names(wards, labels, inst.k, pin_names)
    assignment = pd.Series(
        [names[int(v)] for v in labels], index=wards.index, name="locality", dtype=object
    )
    summary = plan_summary(wards, assignment, k=inst.k)
    bound = max(bound, inst.lower_bound)
    if proven:
        gap = 0.0
        status = "proven optimal"
    else:
        gap = (objective - bound) / objective if objective > 0 else 0.0
        gap = max(gap, 0.0)
        status = (
            f"best found within time limit (gap {gap:.1%} relative; worst deviation "
            f"{objective:.2%} vs proven lower bound {bound:.2%})"
        )
    return LocalityPlan(
        assignment=assignment,
        summary=summary,
        objective=float(objective),
        boundary_cut_m=_cut(inst, labels),
        status=status,
        proven_optimal=proven,
        gap=float(gap),
        runtime_s=time.perf_counter() - t0,
        method=method,
        bound=float(objective if proven else bound),
        tiebreak_proven=tiebreak,
    )


# --------------------------------------------------------------------------- public API


def _set_search(
    inst: _Instance,
    *,
    seed: int,
    deadline: float,
    max_sets: int,
    verbose: bool,
) -> tuple[_SetModel, float, str] | None:
    """Enumerate a band that provably contains the optimum; None if too many sets."""
    heur = _incumbent(
        inst,
        seed=seed,
        restarts=20,
        iters=_SETS_MOVES_PER_UNIT * inst.n,
        deadline=min(deadline, time.perf_counter() + 0.25),
    )
    if heur is not None:
        upper = heur[1] * (1 + 1e-9) + 1e-12
        sets = _enumerate_sets(inst, upper, max_sets=max_sets, verbose=verbose)
        if sets is None:
            return None
        return _SetModel(inst, sets), upper, f"heuristic incumbent {heur[1]:.4%}"
    # no incumbent (pins or hard constraints): widen the band until the MIP is feasible
    upper = max(inst.lower_bound * 1.5, 0.02)
    u_max = float(inst.weights.max()) * max(inst.k - 1, 1) + 1e-9
    while True:
        sets = _enumerate_sets(inst, min(upper, u_max), max_sets=max_sets, verbose=verbose)
        if sets is None:
            return None
        model = _SetModel(inst, sets)
        res, _ = model.solve(
            stage=1,
            zcap=None,
            solver=None,
            time_left=deadline - time.perf_counter(),
            verbose=verbose,
        )
        if res.state in ("optimal", "feasible"):
            return model, min(upper, u_max), "band widened until feasible"
        if res.state == "none":
            raise SolverError("time limit reached before any feasible plan was found")
        if upper >= u_max:
            raise InfeasiblePartitionError(_infeasible_reason(inst))
        upper *= 2


def partition(
    wards: gpd.GeoDataFrame,
    *,
    k: int = 5,
    measures: Sequence[str] = ("population", "assets"),
    weights: Mapping[str, float] | None = None,
    population_band: float | None = None,
    category_floors: Mapping[str, int] | None = None,
    pins: Mapping[str, str | int] | None = None,
    time_limit_s: float = 60,
    solver: pulp.LpSolver | None = None,
    verbose: bool = False,
    method: str = "auto",
    k_range: tuple[int, int] = DEFAULT_K_RANGE,
    adjacency: pd.DataFrame | None = None,
    seed: int = 0,
    max_sets: int = 1_000_000,
) -> LocalityPlan:
    """Split the units into ``k`` contiguous localities balancing the measures.

    Parameters
    ----------
    wards
        Units indexed by code, metric CRS, with the measure columns and geometry.
    k
        Number of localities (within ``k_range``).
    measures
        Columns to balance; the objective is the worst ``w_m |x - mean| / mean``.
    weights
        Weight per measure (default 1; 0 drops it from the objective).
    population_band
        Hard band on population, e.g. 0.05 for ±5 % of the mean.
    category_floors
        Minimum count per locality per category column, e.g. ``{"Library": 1}``.
    pins
        ``{ward_code: locality}``. Wards with the same value share a locality, wards with
        different values are in different localities. An int is a group index in
        ``0..k-1``; a string is also used as the locality's name.
    time_limit_s
        Wall-clock budget for the whole call.
    solver
        A PuLP solver; default HiGHS (highspy) with a zero relative gap. With a
        non-HiGHS solver the proof status comes from PuLP's solution status.
    verbose
        Show solver logs and progress bars.
    method
        ``"sets"`` (connected-set enumeration), ``"flow"`` (flow-contiguity MIP) or
        ``"auto"`` (sets up to :data:`SETS_MAX_UNITS` units, else flow).
    k_range
        Allowed ``(min, max)`` for ``k``.
    adjacency
        A precomputed :func:`ward_adjacency` table.
    seed
        Seed of the warm-start heuristic. The heuristic does a fixed amount of work
        (restarts and annealing moves, not seconds), so a seed gives the same plan on
        every run as long as no stage is stopped by ``time_limit_s``. When one is (a MIP
        stage: ``proven_optimal`` or ``tiebreak_proven`` is False; the heuristic's
        safety stop: ``method`` says "time limit cut short"), the plan depends on how
        far the run got and may differ between runs.
    max_sets
        With ``method="auto"``, switch to the flow MIP if enumeration exceeds this.

    Returns
    -------
    LocalityPlan

    Raises
    ------
    InfeasiblePartitionError
        When no plan satisfies the request; the message names the reason.
    SolverError
        When the solver fails or finds no plan within the time limit.
    """
    t0 = time.perf_counter()
    deadline = t0 + time_limit_s
    inst = _prepare(
        wards,
        k=k,
        measures=measures,
        weights=weights,
        population_band=population_band,
        category_floors=category_floors,
        pins=pins,
        k_range=k_range,
        adjacency=adjacency,
    )
    if method not in ("auto", "sets", "flow"):
        raise ValueError(f"method must be 'auto', 'sets' or 'flow', got {method!r}")
    use_sets = method == "sets" or (method == "auto" and inst.n <= SETS_MAX_UNITS)
    if use_sets:
        found = _set_search(
            inst,
            seed=seed,
            deadline=deadline,
            max_sets=max_sets if method == "auto" else 50 * max_sets,
            verbose=verbose,
        )
        if found is not None:
            model, upper, how = found
            res1, chosen1 = model.solve(
                stage=1,
                zcap=None,
                solver=solver,
                time_left=deadline - time.perf_counter(),
                verbose=verbose,
            )
            if res1.state == "infeasible":
                raise InfeasiblePartitionError(_infeasible_reason(inst))
            if res1.state == "none":
                raise SolverError("time limit reached before any feasible plan was found")
            res2, chosen = model.solve(
                stage=2,
                zcap=res1.objective,
                solver=solver,
                time_left=deadline - time.perf_counter(),
                verbose=verbose,
            )
            if res2.state not in ("optimal", "feasible"):
                chosen = chosen1  # the tie-break found nothing in time: keep stage 1's plan
            labels = _labels_from_masks(inst.n, chosen)
            proven = res1.state == "optimal"
            desc = (
                f"sets: {len(model.sets):,} connected sets with deviation <= {upper:.4%} "
                f"({how}); set-partitioning MIP (HiGHS) then lexicographic cut minimisation"
            )
            return _make_plan(
                wards,
                inst,
                labels,
                proven=proven,
                objective=_zvalue(inst, labels),
                bound=res1.bound,
                t0=t0,
                method=desc,
                tiebreak=res2.state == "optimal",
            )
    heur_deadline = time.perf_counter() + min(
        0.35 * (deadline - time.perf_counter()), 0.5 + 0.2 * inst.n
    )
    stops: list[str] = []
    heur = _incumbent(
        inst,
        seed=seed,
        restarts=10,
        iters=_BALANCE_MOVES_PER_UNIT * inst.n,
        deadline=heur_deadline,
        stops=stops,
    )
    start = heur[0] if heur is not None else None
    labels, res, tiebreak, note = _solve_flow(
        inst, start_labels=start, solver=solver, deadline=deadline, verbose=verbose, stops=stops
    )
    if stops:
        note += "; time limit cut short: " + ", ".join(stops) + " (plan may vary between runs)"
    sums = np.array([inst.norm[labels == j].sum(axis=0) for j in range(k)])
    zval = float(np.abs(sums - inst.weights).max())
    proven = res.state == "optimal"
    desc = (
        "flow: assignment MIP with single-commodity flow contiguity (HiGHS), warm-started "
        f"from a region-growing/local-search plan "
        f"({'%.4f%%' % (100 * heur[1]) if heur else 'none'}); integrality lower bound "
        f"{inst.lower_bound:.4%}; {note}"
    )
    return _make_plan(
        wards,
        inst,
        labels,
        proven=proven,
        objective=zval,
        bound=res.bound,
        t0=t0,
        method=desc,
        tiebreak=tiebreak,
    )


def _match_labels(ref: np.ndarray, other: np.ndarray, k: int) -> np.ndarray:
    """Relabel ``other`` to ``ref``'s labels by maximum ward overlap (Hungarian)."""
    overlap = np.zeros((k, k))
    for a, b in zip(ref, other, strict=True):
        overlap[a, b] += 1
    rows, cols = linear_sum_assignment(-overlap)
    mapping = {int(c): int(r) for r, c in zip(rows, cols, strict=True)}
    return np.array([mapping[int(b)] for b in other])


def alternatives(
    wards: gpd.GeoDataFrame,
    *,
    k: int = 5,
    n: int = 10,
    within_pct: float = 10.0,
    measures: Sequence[str] = ("population", "assets"),
    weights: Mapping[str, float] | None = None,
    population_band: float | None = None,
    category_floors: Mapping[str, int] | None = None,
    pins: Mapping[str, str | int] | None = None,
    time_limit_s: float = 60,
    solver: pulp.LpSolver | None = None,
    verbose: bool = False,
    k_range: tuple[int, int] = DEFAULT_K_RANGE,
    adjacency: pd.DataFrame | None = None,
    seed: int = 0,
    max_sets: int = 5_000_000,
) -> Alternatives:
    """Return the ``n`` best distinct plans, ranked, and each ward's swing.

    Plans are ranked lexicographically by (worst deviation, boundary cut). Each rank is
    a proven optimum of the set-partitioning model with no-good cuts excluding every
    earlier plan (distinct partitions, never relabelings). The enumeration band is
    widened whenever the plans inside it run out, so each rank stays proven.

    Parameters
    ----------
    wards, k, measures, weights, population_band, category_floors, pins, time_limit_s,
    solver, verbose, k_range, adjacency, seed
        As for :func:`partition`.
    n
        How many plans to return (fewer if fewer exist).
    within_pct
        The swing counts plans whose objective is at most ``within_pct`` % worse than
        the optimum.
    max_sets
        Give up (``SolverError``) if the enumeration exceeds this many sets.

    Returns
    -------
    Alternatives
    """
    t0 = time.perf_counter()
    deadline = t0 + time_limit_s
    inst = _prepare(
        wards,
        k=k,
        measures=measures,
        weights=weights,
        population_band=population_band,
        category_floors=category_floors,
        pins=pins,
        k_range=k_range,
        adjacency=adjacency,
    )
    found = _set_search(inst, seed=seed, deadline=deadline, max_sets=max_sets, verbose=verbose)
    if found is None:
        raise SolverError(
            f"alternatives needs connected-set enumeration; more than {max_sets:,} sets "
            f"for {inst.n} units"
        )
    model, upper, _ = found
    u_max = float(inst.weights.max()) * max(inst.k - 1, 1) + 1e-9
    # labels, z, cut, z proven, lower bound on z, tie-break proven
    results: list[tuple[np.ndarray, float, float, bool, float, bool]] = []
    level: float | None = None
    bar = tqdm(total=n, desc="alternatives", disable=not verbose)
    while len(results) < n:
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        got = None
        if level is not None:
            r2, chosen = model.solve(
                stage=2, zcap=level, solver=solver, time_left=left, verbose=verbose
            )
            if r2.state in ("optimal", "feasible"):
                # same z as the previous rank, so z is proven if it was proven there
                got = (chosen, results[-1][3], results[-1][4], r2.state == "optimal")
        if got is None:
            r1, chosen1 = model.solve(
                stage=1, zcap=None, solver=solver, time_left=left, verbose=verbose
            )
            if r1.state == "infeasible":
                if upper >= u_max:
                    break  # every partition has been listed
                upper = min(upper * 2, u_max)
                sets = _enumerate_sets(inst, upper, max_sets=max_sets, verbose=verbose)
                if sets is None:
                    break
                nogoods = model.nogoods
                model = _SetModel(inst, sets)
                model.nogoods = nogoods
                continue
            if r1.state == "none":
                break
            level = r1.objective
            r2, chosen = model.solve(
                stage=2,
                zcap=level,
                solver=solver,
                time_left=deadline - time.perf_counter(),
                verbose=verbose,
            )
            if r2.state not in ("optimal", "feasible"):
                chosen = chosen1  # no tie-break in time: the stage-1 plan, cut not minimised
            got = (chosen, r1.state == "optimal", r1.bound, r2.state == "optimal")
        chosen, proven, bound, tiebreak = got
        model.nogoods.append(frozenset(chosen))
        labels = _labels_from_masks(inst.n, chosen)
        zval = _zvalue(inst, labels)
        results.append((labels, zval, _cut(inst, labels), proven, bound, tiebreak))
        bar.update(1)
    bar.close()
    if not results:
        raise SolverError("no plan found within the time limit")
    names = (
        wards["ward_name"]
        if "ward_name" in wards.columns
        else pd.Series(wards.index.astype(str), index=wards.index)
    )
    z_opt = results[0][1]
    rows = []
    ranked: list[LocalityPlan] = []
    ref = results[0][0]
    n_plans = np.zeros(inst.n, dtype=int)
    n_diff = np.zeros(inst.n, dtype=int)
    for rank, (labels, zval, _cut_m, proven, bound, tiebreak) in enumerate(results, start=1):
        plan = _make_plan(
            wards,
            inst,
            labels,
            proven=proven,
            objective=zval,
            bound=bound,
            t0=t0,
            method=f"alternatives rank {rank}",
            tiebreak=tiebreak,
        )
        ranked.append(plan)
        worse = (zval - z_opt) / z_opt * 100 if z_opt > 0 else (0.0 if zval == 0 else math.inf)
        for code in wards.index:
            rows.append(
                {
                    "rank": rank,
                    "objective": zval,
                    "pct_worse_than_optimum": worse,
                    "boundary_cut_m": plan.boundary_cut_m,
                    "status": plan.status,
                    "ward_code": code,
                    "ward_name": names[code],
                    "locality": plan.assignment[code],
                }
            )
        if rank > 1 and worse <= within_pct + 1e-9:
            matched = _match_labels(ref, labels, inst.k)
            n_plans += 1
            n_diff += (matched != ref).astype(int)
    plans = pd.DataFrame(rows)
    best = ranked[0]
    swing = pd.DataFrame(
        {
            "ward_name": names.to_numpy(),
            "optimal_locality": best.assignment.to_numpy(),
            "n_plans": n_plans,
            "n_plans_different": n_diff,
        },
        index=pd.Index(wards.index, name="ward_code"),
    )
    swing["swing_share"] = np.where(n_plans > 0, n_diff / np.maximum(n_plans, 1), np.nan)
    return Alternatives(
        plans=plans,
        swing=swing,
        best=best,
        runtime_s=time.perf_counter() - t0,
        method=(
            f"set partitioning over connected sets with deviation <= {upper:.4%}; "
            "no-good cuts; ranks by (worst deviation, boundary cut)"
        ),
        ranked=ranked,
    )


def dissolve(wards: gpd.GeoDataFrame, assignment: pd.Series) -> gpd.GeoDataFrame:
    """Merge the units into locality polygons with the summary metrics.

    Parameters
    ----------
    wards
        The units (see :func:`partition`).
    assignment
        Index: unit code; values: locality name (e.g. ``LocalityPlan.assignment``).

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``locality``: geometry plus the :func:`plan_summary` columns.
    """
    summary = plan_summary(wards, assignment)
    assignment = assignment.reindex(wards.index)
    geoms = wards.geometry.groupby(assignment.rename("locality")).apply(lambda s: s.union_all())
    return gpd.GeoDataFrame(summary, geometry=[geoms[loc] for loc in summary.index], crs=wards.crs)
