"""The locality rules: what to balance, hard bands and floors, pins and the range of k.

This is the one place that knows the rules. :class:`PartitionRules` is what callers
pass; :func:`compile_rules` checks it against the units and turns it into solver-neutral
pieces: the balanced measures (normalised so each locality's target is its weight), a
list of :class:`RuleBound` (an additive quantity per locality that must stay within
``[low, high]``: the population band and the category floors are both bounds), and the
pin groups. The heuristic, the enumeration and both MIPs only see those pieces, so a
new additive rule is added here and nowhere else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import geopandas as gpd
import numpy as np

from nwm_geo._errors import InfeasiblePartitionError, NwmGeoError

__all__ = ["DEFAULT_K_RANGE", "Objective", "PartitionRules"]

#: ``"balance"``: minimise the worst deviation (then the cut); ``"compact"``: minimise
#: the boundary cut with every locality's deviation within ``tolerance``.
Objective = Literal["balance", "compact"]

#: Allowed number of localities unless ``k_range`` says otherwise.
DEFAULT_K_RANGE: tuple[int, int] = (2, 8)


def _frozen(mapping: Mapping[Any, Any] | None) -> Mapping[Any, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class PartitionRules:
    """What a good set of localities is: the measures to balance and the hard rules.

    Attributes
    ----------
    measures
        Columns to balance; the objective is the worst ``w_m |x - mean| / mean`` over
        localities and measures.
    weights
        Weight per measure (default 1; 0 keeps a measure in the summary only).
    population_band
        Hard band on population, e.g. 0.05 for ±5 % of the mean; None for none.
    category_floors
        Minimum count per locality per category column, e.g. ``{"Library": 1}``.
    pins
        ``{ward_code: locality}``. Wards with the same value share a locality, wards
        with different values are in different localities. An int is a group index in
        ``0..k-1``; a string is also used as the locality's name.
    k_range
        Allowed ``(min, max)`` number of localities.
    objective
        ``"balance"`` (default): minimise the worst deviation, then the boundary cut.
        ``"compact"``: minimise the boundary cut among plans with every locality's
        weighted deviation within ``tolerance`` on every measure ("±5 % of the
        average"); only :func:`~nwm_geo.localities.partition` takes it.
    tolerance
        With ``objective="compact"``: the band as a fraction (0.05 for ±5 %).

    Raises
    ------
    NwmGeoError
        For an unknown ``objective``, or ``"compact"`` without a tolerance in (0, 1).
    """

    measures: Sequence[str] = ("population", "assets")
    weights: Mapping[str, float] = field(default_factory=dict)
    population_band: float | None = None
    category_floors: Mapping[str, int] = field(default_factory=dict)
    pins: Mapping[str, str | int] = field(default_factory=dict)
    k_range: tuple[int, int] = DEFAULT_K_RANGE
    objective: Objective = "balance"
    tolerance: float | None = None

    def __post_init__(self) -> None:
        if self.objective not in ("balance", "compact"):
            raise NwmGeoError(f"objective must be 'balance' or 'compact', got {self.objective!r}")
        if self.objective == "compact" and (self.tolerance is None or not 0 < self.tolerance < 1):
            raise NwmGeoError(
                "objective='compact' needs a tolerance in (0, 1), e.g. 0.05; "
                f"got {self.tolerance!r}"
            )
        # read-only copies, so a frozen rules object cannot change under a caller
        object.__setattr__(self, "measures", tuple(self.measures))
        object.__setattr__(self, "weights", _frozen(self.weights))
        object.__setattr__(self, "category_floors", _frozen(self.category_floors))
        object.__setattr__(self, "pins", _frozen(self.pins))
        object.__setattr__(self, "k_range", tuple(self.k_range))


@dataclass(frozen=True)
class RuleBound:
    """An additive quantity whose total per locality must stay within [low, high]."""

    values: np.ndarray  # (n,) non-negative
    low: float
    high: float
    scale: float  # violations are measured in units of scale (heuristic only)
    rule: str  # "band" or "floor"
    text: str

    def violation(self, totals: np.ndarray) -> np.ndarray:
        """How far each total is outside the bound, in units of ``scale``."""
        return np.maximum(np.maximum(self.low - totals, totals - self.high), 0.0) / self.scale


@dataclass(frozen=True)
class _Compiled:
    measures: list[str]  # measures in the objective (weight > 0)
    weights: np.ndarray  # (m,)
    values: np.ndarray  # (n, m) raw measure values
    means: np.ndarray  # (m,)
    norm: np.ndarray  # (n, m) values * w / mean ; target per locality is w
    bounds: list[RuleBound]
    pin_label: list[int]  # -1 = not pinned; else group id
    pin_groups: list[str | int]
    lower_bound: float  # integrality lower bound on the objective


def compile_rules(rules: PartitionRules, wards: gpd.GeoDataFrame, k: int) -> _Compiled:
    """Check the rules against the units and build the solver-neutral pieces."""
    n = len(wards)
    lo, hi = rules.k_range
    if not lo <= k <= hi:
        raise InfeasiblePartitionError(
            f"k={k} is outside the allowed range {lo}..{hi} (in Python, pass k_range= to widen it)"
        )
    if k > n:
        raise InfeasiblePartitionError(f"k={k} localities is more than the {n} wards available")
    measures = list(rules.measures)
    if not measures:
        raise InfeasiblePartitionError("at least one measure is needed")
    missing = [m for m in measures if m not in wards.columns]
    if missing:
        raise InfeasiblePartitionError(f"measure column(s) missing from wards: {missing}")
    w_map = dict(rules.weights)
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
    codes = list(wards.index)
    return _Compiled(
        measures=measures_obj,
        weights=w,
        values=values,
        means=means,
        norm=values * (w / means),
        bounds=[*_band(rules, wards, k, codes), *_floors(rules, wards, k)],
        pin_label=(pins := _pins(rules, codes, k))[0],
        pin_groups=pins[1],
        lower_bound=_integrality_bound(values, w, k),
    )


def _band(
    rules: PartitionRules, wards: gpd.GeoDataFrame, k: int, codes: list[Any]
) -> list[RuleBound]:
    band = rules.population_band
    if band is None:
        return []
    if "population" not in wards.columns:
        raise InfeasiblePartitionError("population_band needs a 'population' column")
    if not 0 <= band < 1:
        raise InfeasiblePartitionError(f"population_band must be in [0, 1), got {band}")
    pop = wards["population"].to_numpy(dtype=float)
    if (pop < 0).any() or not np.isfinite(pop).all():
        raise InfeasiblePartitionError("population must be finite and non-negative")
    mean = float(pop.sum() / k)
    too_big = [str(codes[i]) for i in range(len(codes)) if pop[i] > mean * (1 + band)]
    if too_big:
        raise InfeasiblePartitionError(
            f"impossible population band ±{band:.1%}: ward(s) {too_big} alone "
            f"exceed the band's upper limit of {mean * (1 + band):,.0f}"
        )
    text = f"the population band ±{band:.1%}"
    return [RuleBound(pop, mean * (1 - band), mean * (1 + band), mean, "band", text)]


def _floors(rules: PartitionRules, wards: gpd.GeoDataFrame, k: int) -> list[RuleBound]:
    out = []
    for cat, floor in rules.category_floors.items():
        if cat not in wards.columns:
            raise InfeasiblePartitionError(f"category floor given for missing column '{cat}'")
        counts = wards[cat].to_numpy(dtype=float)
        if (counts < 0).any() or not np.isfinite(counts).all():
            raise InfeasiblePartitionError(f"'{cat}' counts must be finite and non-negative")
        if counts.sum() < k * floor:
            raise InfeasiblePartitionError(
                f"floors can't be met: {counts.sum():.0f} '{cat}' in total but k={k} "
                f"localities each need at least {floor}"
            )
        if floor > 0:
            text = f"{cat} >= {int(floor)}"
            out.append(RuleBound(counts, float(int(floor)), math.inf, 1.0, "floor", text))
    return out


def _pins(rules: PartitionRules, codes: list[Any], k: int) -> tuple[list[int], list[str | int]]:
    pos = {c: i for i, c in enumerate(codes)}
    pin_label = [-1] * len(codes)
    groups: list[str | int] = []
    for code, lab in rules.pins.items():
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
    return pin_label, groups


def _integrality_bound(values: np.ndarray, w: np.ndarray, k: int) -> float:
    """Integer measures whose total is not divisible by k cannot all sit on the mean."""
    lb = 0.0
    for m_idx in range(values.shape[1]):
        col = values[:, m_idx]
        if np.allclose(col, np.round(col)):
            total = round(col.sum())
            if total % k:
                mu = total / k
                lb = max(lb, w[m_idx] * max(mu - math.floor(mu), math.ceil(mu) - mu) / mu)
    return lb


def describe_infeasible(bounds: list[RuleBound], pinned: bool, k: int) -> str:
    """Which rules together leave no contiguous partition, in words."""
    parts = [b.text for b in bounds if b.rule == "band"]
    floors = [b.text for b in bounds if b.rule == "floor"]
    if floors:
        parts.append("category floors " + ", ".join(floors))
    if pinned:
        parts.append(
            "the pins (pinned wards that must share a locality can't be joined "
            "by a connected set, or pins can't coexist)"
        )
    if not parts:
        return f"no partition into k={k} contiguous localities exists"
    return "no contiguous partition satisfies " + " together with ".join(parts)
