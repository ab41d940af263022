"""The best plan: :func:`partition` chooses the exact method and builds the plan.

In: the units, ``k`` and the rules (as :class:`PartitionRules` or as keywords). Out:
a :class:`LocalityPlan` whose status says what was proven.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pulp

from nwm_geo._checks import checks_crs
from nwm_geo._errors import InfeasiblePartitionError, NwmGeoError
from nwm_geo._solver import Deadline
from nwm_geo.localities._bisect import bisect_band
from nwm_geo.localities._compact import _compact
from nwm_geo.localities._enumerate import (
    enumerate_connected_sets,
    max_sets_for_memory,
    node_budget,
)
from nwm_geo.localities._flow import _solve_flow
from nwm_geo.localities._heuristic import _balance_moves, _incumbent, _polish
from nwm_geo.localities._instance import (
    _EPS,
    Clock,
    _Instance,
    _labels_from_masks,
    _labels_from_plan,
    _prepare,
    _zvalue,
    ward_adjacency,
)
from nwm_geo.localities._mip import DEFAULT_MEMORY_LIMIT_MB
from nwm_geo.localities._plan import LocalityPlan, _make_plan
from nwm_geo.localities._rules import PartitionRules, _rules_from
from nwm_geo.localities._setpart import _masks_of, _Search, _set_search, _SetModel

__all__ = ["SETS_MAX_UNITS", "Method", "partition"]

#: Kept for compatibility: ``method="auto"`` now tries the connected-set enumeration
#: at every size, within its budget (sets, search nodes, memory, time), and falls back
#: to the flow MIP when the budget runs out. Up to this many units the enumeration fitted
#: on every benchmark map but one (a 40-unit synthetic map with k = 3).
SETS_MAX_UNITS: int = 40

#: Share of ``time_limit_s`` the enumeration's node budget is sized for (at
#: :data:`~nwm_geo.localities._enumerate.NODES_PER_SECOND`); a count, not a clock.
ENUMERATION_SHARE: float = 0.2

#: Seconds kept back from every solver call to build the plan and its summary (and,
#: for a command, to write it): this much, plus :data:`_MARGIN_PER_UNIT_S` per unit.
_MARGIN_S = 0.5
_MARGIN_PER_UNIT_S = 0.0005


def _margin(n: int) -> float:
    """Seconds kept back at the end for ``n`` units (0.5 s, 1.5 s at 2,000 units)."""
    return _MARGIN_S + _MARGIN_PER_UNIT_S * n


#: Search nodes per step of the band bisection (a count, not seconds).
BISECT_NODES_PER_STEP: int = 200_000

#: Above this many sets, the worst-deviation MIP is not tried (HiGHS stalls in presolve
#: and root processing; the band bisection decides instead).
SETS_MIP_MAX_COLUMNS: int = 20_000

#: Above this many sets within the optimum's band, the compactness tie-break MIP is
#: skipped (the plan keeps the bisection's cut).
TIEBREAK_MAX_COLUMNS: int = 20_000

#: ``"balance"``: minimise the worst deviation (then the cut); ``"compact"``: minimise
#: the boundary cut with every locality's deviation within ``tolerance``.
Objective = Literal["balance", "compact"]

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


@checks_crs
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
    time_limit_s: float | Deadline = 60,
    solver: pulp.LpSolver | None = None,
    verbose: bool = False,
    method: Method = "auto",
    adjacency: pd.DataFrame | None = None,
    seed: int = 0,
    max_sets: int = 1_000_000,
    start: pd.Series | None = None,
    clock: Clock = time.perf_counter,
    memory_limit_mb: int = DEFAULT_MEMORY_LIMIT_MB,
    max_nodes: int | None = None,
    objective: Objective = "balance",
    tolerance: float | None = None,
) -> LocalityPlan:
    """Split the units into ``k`` contiguous localities balancing the measures.

    The method, in plain words, is in ``docs/localities.md``. Whatever the size, a
    feasible plan comes back within ``time_limit_s`` (plus the documented margin), with
    a proven lower bound on its worst deviation (``bound``) and the gap.

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
        Budget for the whole call, in seconds of ``clock``; or a
        :class:`~nwm_geo._solver.Deadline` made earlier (e.g. by a command before it
        read its input), whose remaining time, clock and notes this call shares, so
        one limit covers reading, adjacency, search, MIP and summary. Search effort is
        sized from the limit in work units (moves, search nodes, model size), not read
        from the clock. Solver calls run in a child process killed at the deadline
        (real seconds), so HiGHS's presolve cannot overrun it.
    solver
        A PuLP solver; default HiGHS (highspy) with a zero relative gap, see
        :func:`nwm_geo._solver.default_solver`. With a non-HiGHS solver the proof
        status comes from PuLP's solution status. Starts are set as the variables'
        initial values, for solvers that warm-start. A caller's solver runs in this
        process (its time limit is set, but presolve may overrun it).
    verbose
        Show solver logs and progress bars.
    method
        ``"sets"``, ``"flow"`` or ``"auto"`` (see :data:`Method`).
    adjacency
        A precomputed :func:`ward_adjacency` table.
    seed
        Seed of the warm-start heuristic. The heuristic does a fixed amount of work
        (restarts, unit scans, annealing moves and recombination steps, counted and
        sized from the time limit, not timed), so a seed and a limit give the same plan
        on every machine as long as no stage is stopped by the clock. When one is (a
        MIP stage: ``proven_optimal`` or ``tiebreak_proven`` is False; a safety stop:
        the plan's ``time_limit_stops`` names it and ``method`` says "time limit cut
        short"), the plan depends on how far the run got and may differ between runs.
    max_sets
        The enumeration keeps at most this many sets (and at most what fits in
        ``memory_limit_mb``); past it, the flow MIP is used.
    start
        A known valid plan (unit code -> locality name, e.g. last year's) used as the
        incumbent instead of the heuristic. The answer is still proven, so it does not
        depend on the start unless the time limit stops a stage.
    clock
        Seconds, for the time limit and ``runtime_s``; default ``time.perf_counter``.
        Tests inject a fake clock to force a time-limit stop without waiting. Ignored
        when ``time_limit_s`` is a ``Deadline`` (its own clock counts).
    memory_limit_mb
        Memory budget: it caps the enumeration (about 4 KiB per set in the model) and
        the address space each solver child process may add.
    max_nodes
        Search nodes the enumeration may visit; default ``ENUMERATION_SHARE *
        time_limit_s * NODES_PER_SECOND`` (a count, so the outcome does not depend on
        the machine's load).
    objective
        ``"balance"`` (default): minimise the worst deviation, then the boundary cut.
        ``"compact"``: minimise the boundary cut among plans with every locality's
        weighted deviation within ``tolerance`` on every measure ("±5 % of the
        average"); the plan's ``cut_bound_m`` and ``cut_proven`` give the proof. 40 %
        of the time goes to the balanced plan that starts it.
    tolerance
        With ``objective="compact"``: the band as a fraction (0.05 for ±5 %).

    Returns
    -------
    LocalityPlan

    Raises
    ------
    InfeasiblePartitionError
        When no plan satisfies the request (or ``start`` breaks the rules); the
        message names the reason.
    SolverError
        Only when pins or hard rules leave the heuristic without a plan and the MIPs
        find none within the time limit.
    NwmGeoError
        For an unknown ``method`` or both ``rules=`` and rule keywords.

    Examples
    --------
    >>> from nwm_geo import data, localities
    >>> wards = data.synthetic_example().wards
    >>> plan = localities.partition(wards, k=2)
    >>> plan.status, round(plan.objective, 4)
    ('proven optimal', 0.0476)
    >>> plan.assignment.value_counts().tolist()
    [2, 2]
    """
    budget = (
        time_limit_s if isinstance(time_limit_s, Deadline) else Deadline(float(time_limit_s), clock)
    )
    t0, deadline, clock = budget.start, budget.at, budget.clock
    limit = float(budget.limit_s)
    if method not in ("auto", "sets", "flow"):
        raise NwmGeoError(f"method must be 'auto', 'sets' or 'flow', got {method!r}")
    if objective not in ("balance", "compact"):
        raise NwmGeoError(f"objective must be 'balance' or 'compact', got {objective!r}")
    if objective == "compact":
        if tolerance is None or not 0 < tolerance < 1:
            raise NwmGeoError(
                f"objective='compact' needs a tolerance in (0, 1), e.g. 0.05; got {tolerance!r}"
            )
        if adjacency is None:  # once, for both stages
            with budget.phase("adjacency and rules"):
                adjacency = ward_adjacency(wards)
        balanced = partition(
            wards,
            k=k,
            rules=rules,
            measures=measures,
            weights=weights,
            population_band=population_band,
            category_floors=category_floors,
            pins=pins,
            k_range=k_range,
            time_limit_s=budget.share(0.4),
            solver=solver,
            verbose=verbose,
            method=method,
            adjacency=adjacency,
            seed=seed,
            max_sets=max_sets,
            start=start,
            clock=clock,
            memory_limit_mb=memory_limit_mb,
            max_nodes=max_nodes,
        )
        return _partition_compact(
            wards,
            balanced,
            _Compact(
                k=k,
                rules=_rules_from(
                    rules,
                    measures=measures,
                    weights=weights,
                    population_band=population_band,
                    category_floors=category_floors,
                    pins=pins,
                    k_range=k_range,
                ),
                adjacency=adjacency,
                tolerance=tolerance,
                seed=seed,
                max_sets=min(max_sets, max_sets_for_memory(memory_limit_mb)),
                max_nodes=max_nodes or node_budget(limit, len(wards), ENUMERATION_SHARE),
                t0=t0,
                deadline=deadline,
                clock=clock,
                memory_limit_mb=memory_limit_mb,
                stops=budget.stops,
            ),
        )
    with budget.phase("adjacency and rules"):
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
    run = _Run(
        wards=wards,
        inst=inst,
        solver=solver,
        verbose=verbose,
        seed=seed,
        t0=t0,
        deadline=deadline,
        clock=clock,
        memory_limit_mb=memory_limit_mb,
        from_start=start_labels is not None,
        stops=budget.stops,
        limit_s=limit,
    )
    if method == "flow":
        return _partition_flow(run, incumbent=_flow_incumbent(run, start_labels), source=None)
    nodes = max_nodes
    if nodes is None:
        nodes = node_budget(limit, inst.n, ENUMERATION_SHARE)
        nodes = nodes if method == "auto" else 50 * nodes
    search = _set_search(
        inst,
        seed=seed,
        deadline=run.deadline - run.margin,
        clock=clock,
        max_sets=min(max_sets, max_sets_for_memory(memory_limit_mb)),
        max_nodes=nodes,
        verbose=verbose,
        start=start_labels,
        memory_limit_mb=memory_limit_mb,
        stops=run.stops,
        limit_s=limit,
    )
    if search.model is None and search.incumbent is not None and start_labels is None:
        if run.left() > 0:
            search = _retry_smaller_band(run, search, max_sets=max_sets, max_nodes=nodes)
        else:
            run.stops.append("second enumeration")
    if search.model is not None:
        return _partition_sets(run, search)
    found = search.found
    why = f"{found.stopped}, {len(found.sets):,} sets" if found is not None else "not run"
    source = f"{search.how}; enumeration stopped ({why})"
    return _partition_flow(run, incumbent=search.incumbent, source=source)


@dataclass
class _Run:
    """One call's fixed inputs: the units, instance, solver, deadline and clock."""

    wards: gpd.GeoDataFrame
    inst: _Instance
    solver: pulp.LpSolver | None
    verbose: bool
    seed: int
    t0: float
    deadline: float
    clock: Clock
    memory_limit_mb: int
    from_start: bool = False
    stops: list[str] = field(default_factory=list)
    limit_s: float = math.inf

    @property
    def margin(self) -> float:
        """Seconds kept back for building the plan and its summary (and writing it)."""
        return _margin(self.inst.n)

    def left(self) -> float:
        """Seconds left for a solver call, after the margin for building the plan."""
        return self.deadline - self.clock() - self.margin


def _retry_smaller_band(run: _Run, search: _Search, *, max_sets: int, max_nodes: int) -> _Search:
    """Anneal the incumbent further (re-heated rounds of fixed moves), enumerate again."""
    inst = run.inst
    assert search.incumbent is not None
    labels = _polish(
        inst,
        search.incumbent[0],
        seed=run.seed,
        deadline=run.deadline - run.margin,
        clock=run.clock,
        stops=run.stops,
        limit_s=run.limit_s,
    )
    zval = _zvalue(inst, labels)
    if zval >= search.incumbent[1] - 1e-12:
        return search
    upper = zval * (1 + 1e-9) + 1e-12
    found = enumerate_connected_sets(
        inst,
        upper,
        max_sets=min(max_sets, max_sets_for_memory(run.memory_limit_mb)),
        max_nodes=max_nodes,
        deadline=run.deadline - run.margin,
        clock=run.clock,
        verbose=run.verbose,
    )
    model = (
        _SetModel(inst, found.sets, memory_limit_mb=run.memory_limit_mb) if found.complete else None
    )
    how = f"heuristic incumbent {zval:.4%} (after more annealing)"
    return _Search((labels, zval), how, model, found)


def _partition_sets(run: _Run, search: _Search) -> LocalityPlan:
    """Bisect on the band, then (if unproven and small enough) the set-partitioning MIP.

    Never worse than the incumbent; the bound is the best of the bisection's, the
    MIP's and the integrality bound.
    """
    inst, clock = run.inst, run.clock
    model = search.model
    assert model is not None and search.found is not None
    inc = search.incumbent
    labels = inc[0] if inc is not None else None
    proven, bound, steps = False, inst.lower_bound, ""
    if inc is not None and inc[1] <= inst.lower_bound + 1e-12:
        proven = True  # the incumbent reaches the integrality lower bound
    elif inc is not None:
        bis = bisect_band(
            inst,
            model.sets,
            incumbent=inc,
            lower=inst.lower_bound,
            max_nodes=BISECT_NODES_PER_STEP,
            deadline=run.deadline - run.margin,
            clock=clock,
        )
        labels, proven, bound = bis.labels, bis.proven, bis.bound
        steps = f"; band bisection: {len(bis.steps)} steps, " + (
            "proven" if bis.proven else f"lower bound {bis.bound:.4%}"
        )
    small = len(model.sets) <= SETS_MIP_MAX_COLUMNS
    if not proven and (small or inc is None):
        start = _masks_of(labels, inst.k) if labels is not None else None
        res1, chosen1 = model.solve(
            stage=1,
            zcap=None,
            solver=run.solver,
            time_left=0.7 * run.left(),
            verbose=run.verbose,
            start=start,
        )
        if res1.state == "infeasible" and labels is None:
            raise InfeasiblePartitionError(inst.infeasible_reason())
        if res1.state in ("optimal", "feasible") and len(chosen1) == inst.k:
            mip_labels = _labels_from_masks(inst.n, chosen1)
            if labels is None or _zvalue(inst, mip_labels) <= _zvalue(inst, labels) + 1e-12:
                labels = mip_labels
            proven = res1.state == "optimal"
            if math.isfinite(res1.bound):
                bound = max(bound, res1.bound)
        else:
            run.stops.append(f"set-partitioning MIP: {res1.status.label}")
        if labels is None:
            return _partition_flow(run, incumbent=None, source=search.how)
    assert labels is not None
    zval = _zvalue(inst, labels)
    if zval <= inst.lower_bound + 1e-12 or bound >= zval - 1e-12:
        proven = True
    # the tie-break: no start, so its answer among equal cuts does not depend on the
    # incumbent (it is the same model whatever band was enumerated)
    res2, skipped = None, ""
    if sum(1 for _, d in model.sets if d <= zval + _EPS) <= TIEBREAK_MAX_COLUMNS:
        res2, chosen2 = model.solve(
            stage=2,
            zcap=zval,
            solver=run.solver,
            time_left=run.left(),
            verbose=run.verbose,
        )
        if res2.state in ("optimal", "feasible") and len(chosen2) == inst.k:
            labels = _labels_from_masks(inst.n, chosen2)
    else:
        skipped = "; tie-break skipped (too many sets)"
    note = "; time limit cut short: " + ", ".join(dict.fromkeys(run.stops)) if run.stops else ""
    desc = (
        f"sets: {len(model.sets):,} connected sets with deviation <= {search.found.upper:.4%} "
        f"({search.how}){steps}; set-partitioning MIP (HiGHS, started from the best plan) "
        f"if unproven, then lexicographic cut minimisation{skipped}{note}"
    )
    return _make_plan(
        run.wards,
        inst,
        labels,
        proven=proven,
        objective=_zvalue(inst, labels),
        bound=bound,
        t0=run.t0,
        clock=clock,
        method=desc,
        tiebreak=res2 is not None and res2.state == "optimal",
        stops=run.stops,
    )


def _flow_incumbent(run: _Run, start: np.ndarray | None) -> tuple[np.ndarray, float] | None:
    """Return the start plan, or the heuristic's (a fixed number of moves)."""
    if start is not None:
        return start, _zvalue(run.inst, start)
    return _incumbent(
        run.inst,
        seed=run.seed,
        restarts=10,
        iters=_balance_moves(run.inst.n),
        deadline=run.deadline - run.margin,
        clock=run.clock,
        stops=run.stops,
        limit_s=run.limit_s,
    )


def _partition_flow(
    run: _Run, *, incumbent: tuple[np.ndarray, float] | None, source: str | None
) -> LocalityPlan:
    """Run the flow method, warm-started from the incumbent (never worse than it)."""
    inst = run.inst
    if source is None:
        source = "a region-growing/local-search plan" if incumbent is not None else "no start"
        if run.from_start:
            source = "the start plan"
    labels, res, tiebreak, note = _solve_flow(
        inst,
        start_labels=incumbent[0] if incumbent is not None else None,
        solver=run.solver,
        deadline=run.deadline - run.margin,
        clock=run.clock,
        verbose=run.verbose,
        stops=run.stops,
        limit_s=run.limit_s,
    )
    if run.stops:
        cut = ", ".join(dict.fromkeys(run.stops))
        note += f"; time limit cut short: {cut} (plan may vary between runs)"
    found = f"{100 * incumbent[1]:.4f}%" if incumbent else "none"
    desc = (
        "flow: assignment MIP with single-commodity flow contiguity (HiGHS), warm-started "
        f"from {source} ({found}); integrality lower bound "
        f"{inst.lower_bound:.4%}; {note}"
    )
    return _make_plan(
        run.wards,
        inst,
        labels,
        proven=res.state == "optimal",
        objective=_zvalue(inst, labels),
        bound=res.bound,
        t0=run.t0,
        clock=run.clock,
        method=desc,
        tiebreak=tiebreak,
        stops=run.stops,
    )


@dataclass(frozen=True)
class _Compact:
    """The settings of a compact-objective run."""

    k: int
    rules: PartitionRules
    adjacency: pd.DataFrame | None
    tolerance: float
    seed: int
    max_sets: int
    max_nodes: int
    t0: float
    deadline: float
    clock: Clock
    memory_limit_mb: int
    stops: list[str]


def _partition_compact(
    wards: gpd.GeoDataFrame, balanced: LocalityPlan, opts: _Compact
) -> LocalityPlan:
    """From a balanced plan, minimise the cut within the tolerance (``_compact``)."""
    inst = _prepare(wards, k=opts.k, rules=opts.rules, adjacency=opts.adjacency)
    labels = _labels_from_plan(inst, balanced.assignment)
    if balanced.objective > opts.tolerance + 1e-12:
        if balanced.proven_optimal:
            raise InfeasiblePartitionError(
                f"no plan has every locality within ±{opts.tolerance:.1%} of the average: "
                f"the best possible worst deviation is ±{balanced.objective:.2%}"
            )
        balanced.status += (
            f"; the tolerance ±{opts.tolerance:.1%} was not reached in time (compact "
            "objective not applied)"
        )
        return balanced
    stops = opts.stops
    found = _compact(
        inst,
        labels,
        tolerance=opts.tolerance,
        seed=opts.seed,
        max_sets=opts.max_sets,
        max_nodes=opts.max_nodes,
        deadline=opts.deadline - _margin(inst.n),
        clock=opts.clock,
        memory_limit_mb=opts.memory_limit_mb,
        stops=stops,
    )
    note = "; time limit cut short: " + ", ".join(dict.fromkeys(stops)) if stops else ""
    return _make_plan(
        wards,
        inst,
        found.labels,
        proven=False,
        objective=_zvalue(inst, found.labels),
        bound=balanced.bound,
        t0=opts.t0,
        clock=opts.clock,
        method=(
            f"compact: balanced start ({balanced.method}); annealed for a shorter boundary "
            f"within ±{opts.tolerance:.1%}; {found.note}{note}"
        ),
        tiebreak=False,
        compact=(opts.tolerance, found.cut_bound, found.proven),
        stops=stops,
    )
