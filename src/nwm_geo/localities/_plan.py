"""Plans as results: :class:`LocalityPlan`, :class:`Alternatives`, names and summaries.

In: the units and integer labels from a method. Out: a :class:`LocalityPlan` with
names from each locality's own wards, the per-locality summary and an honest status; dissolved
locality polygons (:func:`dissolve`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd

from nwm_geo._checks import checks_crs
from nwm_geo._display import Display
from nwm_geo._errors import SolverError
from nwm_geo._solver import Deadline
from nwm_geo.localities._instance import Instance, cut_length, polsby_popper

__all__ = ["Alternatives", "LocalityPlan", "dissolve", "plan_summary"]


@dataclass(repr=False)
class LocalityPlan(Display):
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
    objective_kind
        ``"balance"`` (minimise the worst deviation, the default) or ``"compact"``
        (minimise the boundary cut with every deviation within a tolerance).
    cut_bound_m
        With the compact objective: a proven lower bound on the boundary cut, metres
        (NaN for the balance objective).
    cut_proven
        With the compact objective: True if the cut is proven minimal.
    time_limit_stops
        The search phases the wall clock cut short (empty when the plan came from the
        full, deterministic amount of work: then a seed gives this plan on every
        machine).
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
    objective_kind: str = "balance"
    cut_bound_m: float = math.nan
    cut_proven: bool = False
    time_limit_stops: list[str] = field(default_factory=list)

    @property
    def time_limit_reached(self) -> bool:
        """True if the wall clock cut the search short (see ``time_limit_stops``)."""
        return bool(self.time_limit_stops)

    def _summary(self) -> tuple[str, list[str]]:
        sizes = self.assignment.value_counts()
        lines = [
            f"{len(sizes)} localities of {len(self.assignment)} units; {self.status}",
            f"worst deviation {self.objective:.2%} (bound {self.bound:.2%}); "
            f"boundary between localities {self.boundary_cut_m / 1000:,.1f} km",
            "units per locality: " + ", ".join(f"{k} {v}" for k, v in sizes.sort_index().items()),
        ]
        return "LocalityPlan", lines

    @property
    def gap_points(self) -> float:
        """The gap in percentage points of worst deviation (``100 * (objective - bound)``)."""
        return 100.0 * max(self.objective - self.bound, 0.0)

    def locality_of(self, ward_codes: pd.Series, *, unknown: str | None = None) -> pd.Series:
        """Return the locality of each row from its ward code.

        Parameters
        ----------
        ward_codes
            Ward (unit) codes on any index.
        unknown
            Name for codes not in the plan (e.g. outside the borough); None leaves them
            NaN.

        Returns
        -------
        pandas.Series
            Locality names (object dtype) on the index of ``ward_codes``, named
            ``locality``; NaN (or ``unknown``) for codes the plan does not contain.
        """
        return locality_of_wards(ward_codes, self.assignment, unknown=unknown)


def locality_of_wards(
    ward_codes: pd.Series, assignment: pd.Series, *, unknown: str | None = None
) -> pd.Series:
    """Return the locality of each row from its ward code, given a ``ward -> locality`` map.

    The one implementation behind :meth:`LocalityPlan.locality_of` and
    ``nwm_geo.requirements.locality_of``.

    Parameters
    ----------
    ward_codes
        Ward (unit) codes on any index.
    assignment
        ``ward_code -> locality`` (a plan's ``assignment``).
    unknown
        Name for codes not in ``assignment``; None leaves them NaN.

    Returns
    -------
    pandas.Series
        Locality names (object dtype) on the index of ``ward_codes``, named ``locality``.
    """
    out = ward_codes.map(assignment).astype(object)
    if unknown is not None:
        out = out.where(out.notna(), unknown)
    out.name = "locality"
    return out


@dataclass(repr=False)
class Alternatives(Display):
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


def _names(
    wards: gpd.GeoDataFrame, labels: np.ndarray, k: int, pin_names: Mapping[int, str]
) -> dict[int, str]:
    """Names from each locality's own wards (the rule is in ``docs/localities.md``).

    A locality is named after its most populous ward (ties: the lowest ward code); a
    pin given as a string keeps its name. A name already taken gets " (2)", " (3)" ...
    in the order of the localities' largest wards, so the same plan always gets the
    same names, whatever its labels or position.
    """
    codes = np.asarray(wards.index.astype(str))
    pop = (
        pd.to_numeric(wards["population"], errors="coerce").fillna(0).to_numpy(float)
        if "population" in wards.columns
        else np.zeros(len(wards))
    )
    ward_names = (
        wards["ward_name"].astype(str).to_numpy() if "ward_name" in wards.columns else codes
    )
    top: dict[int, tuple[float, str, str]] = {}
    for j in range(k):
        sel = np.flatnonzero(labels == j)
        best = min(sel, key=lambda i: (-pop[i], codes[i]))
        top[j] = (-pop[best], codes[best], str(ward_names[best]))
    names: dict[int, str] = dict(pin_names)
    taken = set(names.values())
    for j in sorted((j for j in range(k) if j not in names), key=lambda j: top[j][:2]):
        base = top[j][2]
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base} ({n})"
        names[j] = name
        taken.add(name)
    return names


@checks_crs
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
    ordered: pd.DataFrame = out.loc[sorted(out.index, key=str)]
    return ordered


class Proof(NamedTuple):
    """What a method proved about a plan, for :func:`make_plan`.

    ``proven``: the objective is optimal; ``objective``: the plan's worst deviation;
    ``bound``: a proven lower bound on it (NaN: none); ``tiebreak``: the boundary cut
    is proven minimal among the optimal plans.
    """

    proven: bool
    objective: float
    bound: float
    tiebreak: bool


def make_plan(
    wards: gpd.GeoDataFrame,
    inst: Instance,
    labels: np.ndarray,
    *,
    proof: Proof,
    method: str,
    timer: Deadline,
    compact: tuple[float, float, bool] | None = None,
) -> LocalityPlan:
    """Build the plan; ``compact`` is (tolerance, cut bound, cut proven) for that objective.

    ``timer`` gives the run time (from its start, on its clock) and the stops by the clock.
    """
    proven, objective, bound, tiebreak = proof
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
    # a bound the solver could not give (NaN) is the integrality lower bound
    bound = max(bound, inst.lower_bound) if not math.isnan(bound) else inst.lower_bound
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
    cut = cut_length(inst, labels)
    kind, cut_bound, cut_proven = "balance", math.nan, False
    if compact is not None:
        tolerance, cut_bound, cut_proven = compact
        kind = "compact"
        within = (
            f"every locality within ±{100 * objective:.1f} % of the average "
            + " and ".join(inst.measures)
            + f" (tolerance ±{100 * tolerance:.1f} %)"
        )
        if cut_proven:
            status = f"boundary cut {cut / 1000:.1f} km proven minimal; {within}"
        else:
            cut_gap = (cut - cut_bound) / cut if cut > 0 else 0.0
            status = (
                f"boundary cut {cut / 1000:.1f} km, proven lower bound {cut_bound / 1000:.1f} km "
                f"(gap {cut_gap:.1%} relative); {within}"
            )
    return LocalityPlan(
        assignment=assignment,
        summary=summary,
        objective=float(objective),
        boundary_cut_m=cut,
        status=status,
        proven_optimal=proven,
        gap=float(gap),
        runtime_s=timer.clock() - timer.start,
        method=method,
        bound=float(objective if proven else bound),
        tiebreak_proven=tiebreak,
        objective_kind=kind,
        cut_bound_m=float(cut_bound),
        cut_proven=cut_proven,
        time_limit_stops=list(dict.fromkeys(timer.stops)),
    )


@checks_crs
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

    Examples
    --------
    >>> import pandas as pd
    >>> from nwm_geo import data, localities
    >>> wards = data.synthetic_example().wards
    >>> west_east = pd.Series(["West", "East", "West", "East"], index=wards.index)
    >>> localities.dissolve(wards, west_east)["population"].to_dict()
    {'East': 2300, 'West': 1900}
    """
    summary = plan_summary(wards, assignment)
    assignment = assignment.reindex(wards.index)
    geoms = wards.geometry.groupby(assignment.rename("locality")).apply(lambda s: s.union_all())
    return gpd.GeoDataFrame(summary, geometry=[geoms[loc] for loc in summary.index], crs=wards.crs)
