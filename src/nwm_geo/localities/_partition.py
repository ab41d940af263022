"""The best plan: :func:`partition` chooses the exact method and builds the plan.

In: the units, ``k`` and the rules (as :class:`PartitionRules` or as keywords). Out:
a :class:`LocalityPlan` whose status says what was proven.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pulp

from nwm_geo._errors import InfeasiblePartitionError, NwmGeoError, SolverError
from nwm_geo.localities._flow import _solve_flow
from nwm_geo.localities._heuristic import _BALANCE_MOVES_PER_UNIT, _incumbent
from nwm_geo.localities._instance import (
    Clock,
    _Instance,
    _labels_from_masks,
    _labels_from_plan,
    _prepare,
    _zvalue,
)
from nwm_geo.localities._plan import LocalityPlan, _make_plan
from nwm_geo.localities._rules import PartitionRules, _rules_from
from nwm_geo.localities._setpart import _set_search

__all__ = ["SETS_MAX_UNITS", "Method", "partition"]

#: Up to this many units, ``method="auto"`` uses connected-set enumeration.
SETS_MAX_UNITS: int = 40

#: ``"sets"`` (connected-set enumeration), ``"flow"`` (flow-contiguity MIP) or
#: ``"auto"`` (sets up to :data:`SETS_MAX_UNITS` units, else flow).
Method = Literal["auto", "sets", "flow"]


def _instance_for(  # noqa: PLR0913
    wards: gpd.GeoDataFrame,
    *,
    k: int,
    rules: PartitionRules | None,
    measures: Sequence[str] | None,
    weights: Mapping[str, float] | None,
    population_band: float | None,
    category_floors: Mapping[str, int] | None,
    pins: Mapping[str, str | int] | None,
    k_range: tuple[int, int] | None,
    adjacency: pd.DataFrame | None,
    start: pd.Series | None,
) -> tuple[_Instance, np.ndarray | None]:
    """Return the instance for ``rules`` (or the keywords), and the start plan's labels."""
    chosen = _rules_from(
        rules,
        measures=measures,
        weights=weights,
        population_band=population_band,
        category_floors=category_floors,
        pins=pins,
        k_range=k_range,
    )
    inst = _prepare(wards, k=k, rules=chosen, adjacency=adjacency)
    return inst, None if start is None else _labels_from_plan(inst, start)


def partition(  # noqa: PLR0913
    wards: gpd.GeoDataFrame,
    *,
    k: int = 5,
    rules: PartitionRules | None = None,
    measures: Sequence[str] | None = None,
    weights: Mapping[str, float] | None = None,
    population_band: float | None = None,
    category_floors: Mapping[str, int] | None = None,
    pins: Mapping[str, str | int] | None = None,
    k_range: tuple[int, int] | None = None,
    time_limit_s: float = 60,
    solver: pulp.LpSolver | None = None,
    verbose: bool = False,
    method: Method = "auto",
    adjacency: pd.DataFrame | None = None,
    seed: int = 0,
    max_sets: int = 1_000_000,
    start: pd.Series | None = None,
    clock: Clock = time.perf_counter,
) -> LocalityPlan:
    """Split the units into ``k`` contiguous localities balancing the measures.

    The method, in plain words, is in ``docs/localities.md``.

    Parameters
    ----------
    wards
        Units indexed by code, metric CRS, with the measure columns and geometry.
    k
        Number of localities (within the rules' ``k_range``).
    rules
        The measures and hard rules; default ``PartitionRules()`` (balance population
        and assets, no band, floors or pins, ``k`` in 2..8).
    measures, weights, population_band, category_floors, pins, k_range
        Convenience: the fields of :class:`PartitionRules`, for a call without
        ``rules=`` (e.g. ``category_floors={"Library": 1}``). Not together with
        ``rules=``.
    time_limit_s
        Budget for the whole call, in seconds of ``clock``.
    solver
        A PuLP solver; default HiGHS (highspy) with a zero relative gap, see
        :func:`nwm_geo._solver.default_solver`. With a non-HiGHS solver the proof
        status comes from PuLP's solution status. Starts are set as the variables'
        initial values, for solvers that warm-start.
    verbose
        Show solver logs and progress bars.
    method
        ``"sets"``, ``"flow"`` or ``"auto"`` (see :data:`Method`).
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
    start
        A known valid plan (unit code -> locality name, e.g. last year's) used as the
        incumbent instead of the heuristic. The answer is still proven, so it does not
        depend on the start unless the time limit stops a stage.
    clock
        Seconds, for the time limit and ``runtime_s``; default ``time.perf_counter``.
        Tests inject a fake clock to force a time-limit stop without waiting.

    Returns
    -------
    LocalityPlan

    Raises
    ------
    InfeasiblePartitionError
        When no plan satisfies the request (or ``start`` breaks the rules); the
        message names the reason.
    SolverError
        When the solver fails or finds no plan within the time limit.
    NwmGeoError
        For an unknown ``method`` or both ``rules=`` and rule keywords.
    """
    t0 = clock()
    deadline = t0 + time_limit_s
    if method not in ("auto", "sets", "flow"):
        raise NwmGeoError(f"method must be 'auto', 'sets' or 'flow', got {method!r}")
    inst, start_labels = _instance_for(
        wards,
        k=k,
        rules=rules,
        measures=measures,
        weights=weights,
        population_band=population_band,
        category_floors=category_floors,
        pins=pins,
        k_range=k_range,
        adjacency=adjacency,
        start=start,
    )
    use_sets = method == "sets" or (method == "auto" and inst.n <= SETS_MAX_UNITS)
    if use_sets:
        plan = _partition_sets(
            wards,
            inst,
            solver=solver,
            verbose=verbose,
            seed=seed,
            max_sets=max_sets if method == "auto" else 50 * max_sets,
            start=start_labels,
            t0=t0,
            deadline=deadline,
            clock=clock,
        )
        if plan is not None:
            return plan
    return _partition_flow(
        wards,
        inst,
        solver=solver,
        verbose=verbose,
        seed=seed,
        start=start_labels,
        t0=t0,
        deadline=deadline,
        clock=clock,
    )


def _partition_sets(  # noqa: PLR0913
    wards: gpd.GeoDataFrame,
    inst: _Instance,
    *,
    solver: pulp.LpSolver | None,
    verbose: bool,
    seed: int,
    max_sets: int,
    start: np.ndarray | None,
    t0: float,
    deadline: float,
    clock: Clock,
) -> LocalityPlan | None:
    """Run the sets method; None when the enumeration is too large (use the flow MIP)."""
    found = _set_search(
        inst,
        seed=seed,
        deadline=deadline,
        clock=clock,
        max_sets=max_sets,
        verbose=verbose,
        start=start,
    )
    if found is None:
        return None
    model, upper, how = found
    res1, chosen1 = model.solve(
        stage=1,
        zcap=None,
        solver=solver,
        time_left=deadline - clock(),
        verbose=verbose,
    )
    if res1.state == "infeasible":
        raise InfeasiblePartitionError(inst.infeasible_reason())
    if res1.state == "none":
        raise SolverError("time limit reached before any feasible plan was found")
    res2, chosen = model.solve(
        stage=2,
        zcap=res1.objective,
        solver=solver,
        time_left=deadline - clock(),
        verbose=verbose,
    )
    if res2.state not in ("optimal", "feasible"):
        chosen = chosen1  # the tie-break found nothing in time: keep stage 1's plan
    labels = _labels_from_masks(inst.n, chosen)
    desc = (
        f"sets: {len(model.sets):,} connected sets with deviation <= {upper:.4%} "
        f"({how}); set-partitioning MIP (HiGHS) then lexicographic cut minimisation"
    )
    return _make_plan(
        wards,
        inst,
        labels,
        proven=res1.state == "optimal",
        objective=_zvalue(inst, labels),
        bound=res1.bound,
        t0=t0,
        clock=clock,
        method=desc,
        tiebreak=res2.state == "optimal",
    )


def _partition_flow(  # noqa: PLR0913
    wards: gpd.GeoDataFrame,
    inst: _Instance,
    *,
    solver: pulp.LpSolver | None,
    verbose: bool,
    seed: int,
    start: np.ndarray | None,
    t0: float,
    deadline: float,
    clock: Clock,
) -> LocalityPlan:
    """Run the flow method, warm-started from ``start`` or the heuristic."""
    stops: list[str] = []
    if start is not None:
        heur: tuple[np.ndarray, float] | None = (start, _zvalue(inst, start))
        source = "the start plan"
    else:
        heur_deadline = clock() + min(0.35 * (deadline - clock()), 0.5 + 0.2 * inst.n)
        heur = _incumbent(
            inst,
            seed=seed,
            restarts=10,
            iters=_BALANCE_MOVES_PER_UNIT * inst.n,
            deadline=heur_deadline,
            clock=clock,
            stops=stops,
        )
        source = "a region-growing/local-search plan"
    labels, res, tiebreak, note = _solve_flow(
        inst,
        start_labels=heur[0] if heur is not None else None,
        solver=solver,
        deadline=deadline,
        clock=clock,
        verbose=verbose,
        stops=stops,
    )
    if stops:
        note += "; time limit cut short: " + ", ".join(stops) + " (plan may vary between runs)"
    incumbent = f"{100 * heur[1]:.4f}%" if heur else "none"
    desc = (
        "flow: assignment MIP with single-commodity flow contiguity (HiGHS), warm-started "
        f"from {source} ({incumbent}); integrality lower bound "
        f"{inst.lower_bound:.4%}; {note}"
    )
    return _make_plan(
        wards,
        inst,
        labels,
        proven=res.state == "optimal",
        objective=_zvalue(inst, labels),
        bound=res.bound,
        t0=t0,
        clock=clock,
        method=desc,
        tiebreak=tiebreak,
    )
