"""The best plan: :func:`partition` chooses the exact method and builds the plan.

In: the units, ``k``, the rules (:class:`PartitionRules`) and the budget
(:class:`~nwm_geo.localities.SolveBudget`). Out: a :class:`LocalityPlan` whose status
says what was proven.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pulp

from nwm_geo._checks import checks_crs
from nwm_geo._errors import InfeasiblePartitionError, NwmGeoError
from nwm_geo._solver import Deadline
from nwm_geo.localities._bisect import bisect_band
from nwm_geo.localities._budget import SolveBudget
from nwm_geo.localities._compact import minimise_cut
from nwm_geo.localities._enumerate import (
    ESTIMATE_WALKS,
    HOPELESS_FACTOR,
    enumerate_if_it_may_fit,
    estimate_nodes,
    max_sets_for_memory,
    node_budget,
)
from nwm_geo.localities._flow import solve_flow
from nwm_geo.localities._heuristic import balance_moves, find_incumbent, polish
from nwm_geo.localities._improve import improve
from nwm_geo.localities._instance import (
    EPS,
    Clock,
    Instance,
    SearchLimits,
    band_above,
    labels_from_masks,
    labels_from_plan,
    prepare_instance,
    ward_adjacency,
    zvalue,
)
from nwm_geo.localities._lpbound import lp_band_bound
from nwm_geo.localities._pairs import pair_descent, pair_nodes
from nwm_geo.localities._plan import LocalityPlan, Proof, make_plan
from nwm_geo.localities._recom import improve_steps
from nwm_geo.localities._rules import PartitionRules
from nwm_geo.localities._setpart import BandSearch, SetModel, masks_of, set_search
from nwm_geo.localities._split import split_search

__all__ = ["SETS_MAX_UNITS", "Method", "partition"]

#: Kept for compatibility: ``method="auto"`` now tries the connected-set enumeration
#: at every size, within its budget (sets, search nodes, memory, time), and falls back
#: to the flow MIP when the budget runs out. Up to this many units the enumeration fitted
#: on every benchmark map but one (a 40-unit synthetic map with k = 3).
SETS_MAX_UNITS: int = 40

#: Share of ``time_limit_s`` the enumeration's node budget is sized for (at
#: :data:`~nwm_geo.localities._enumerate.NODES_PER_SECOND`); a count, not a clock.
ENUMERATION_SHARE: float = 0.2

#: Connected sets :func:`partition` keeps at most (``SolveBudget.max_sets`` default).
PARTITION_MAX_SETS: int = 1_000_000

#: Seconds kept back from every solver call to build the plan and its summary (and,
#: for a command, to write it): this much, plus :data:`_MARGIN_PER_UNIT_S` per unit.
_MARGIN_S = 0.5
_MARGIN_PER_UNIT_S = 0.0005


def _margin(n: int) -> float:
    """Seconds kept back at the end for ``n`` units (0.5 s, 1.5 s at 2,000 units)."""
    return _MARGIN_S + _MARGIN_PER_UNIT_S * n


#: Share of ``time_limit_s`` the recombination chains are sized for when the band does
#: not fit the enumeration budget (a count of steps, see
#: :func:`~nwm_geo.localities._recom.improve_steps`; about half of it in real time).
IMPROVE_SHARE: float = 0.3
#: Share of ``time_limit_s`` the exact pair re-splits after the chains are sized for
#: (search nodes at :data:`~nwm_geo.localities._enumerate.NODES_PER_SECOND`; a count).
PAIR_SHARE: float = 0.15

#: Improvement rounds at most when the band does not fit the enumeration budget (each
#: about a fifth of the time limit at 125 units); after each, the smaller band is listed
#: if it may fit. On the benchmark maps above 60 units no band ever fitted, and the
#: listing's work went to more rounds (Luton's 125 LSOAs, k = 8, 30 s: 3.65 % -> 3.06 %).
IMPROVE_ROUNDS: int = 4
#: Seed offset between improvement rounds.
ROUND_SEED_STEP: int = 1_000

#: The exact split search over the whole map (:func:`_split_whole`) runs, when the band
#: does not fit the listing's budget, for ``k`` up to this many localities and maps up to
#: :data:`SPLIT_MAX_UNITS` units, with :data:`SPLIT_SHARE` of the time limit in search
#: nodes (a count). Beyond, its tree is far over any budget and its work is better spent
#: on the improvement rounds (60 units, k = 5: 2 million nodes found no plan below
#: 0.77 %; Luton's 125 LSOAs, k = 10: none below 5.11 %); at k = 3 it found the best
#: plans (40 units: 0.12 % -> 0.08 %; 60 units: 0.09 % -> 0.03 %, at 30 s).
SPLIT_MAX_K: int = 3
SPLIT_MAX_UNITS: int = 60
SPLIT_SHARE: float = 0.3

#: Search nodes per step of the band bisection (a count, not seconds).
BISECT_NODES_PER_STEP: int = 200_000

#: Above this many sets, the worst-deviation MIP is not tried (HiGHS stalls in presolve
#: and root processing; the band bisection decides instead).
SETS_MIP_MAX_COLUMNS: int = 20_000

#: Above this many sets within the optimum's band, the compactness tie-break MIP is
#: skipped (the plan keeps the bisection's cut).
TIEBREAK_MAX_COLUMNS: int = 20_000

#: ``"sets"`` (connected-set enumeration), ``"flow"`` (flow-contiguity MIP) or
#: ``"auto"`` (sets up to :data:`SETS_MAX_UNITS` units, else flow).
Method = Literal["auto", "sets", "flow"]


@dataclass(frozen=True)
class SolveRequest:
    """One call's settings, as :func:`partition` and :func:`alternatives` take them.

    ``adjacency`` is a precomputed :func:`ward_adjacency` table (the compact objective
    computes it once for both of its stages).
    """

    k: int
    rules: PartitionRules
    budget: SolveBudget
    solver: pulp.LpSolver | None = None
    verbose: bool = False
    method: Method = "auto"
    start: pd.Series | None = None
    adjacency: pd.DataFrame | None = None


@dataclass
class SolveRun:
    """One call's fixed inputs: the units, the instance, the request and its deadline.

    ``whole``: a :func:`partition` run, which keeps :func:`_margin` seconds back for
    the plan, notes every stop by the clock and sizes its work from the time limit
    (``limit_s``); :func:`alternatives` does none of these.
    """

    wards: gpd.GeoDataFrame
    inst: Instance
    req: SolveRequest
    timer: Deadline
    max_sets: int
    from_start: bool = False
    limit_s: float = math.inf
    whole: bool = True

    @property
    def solver(self) -> pulp.LpSolver | None:
        """The caller's PuLP solver (None: HiGHS)."""
        return self.req.solver

    @property
    def verbose(self) -> bool:
        """Show solver logs and progress bars."""
        return self.req.verbose

    @property
    def seed(self) -> int:
        """The heuristic's seed."""
        return self.req.budget.seed

    @property
    def memory_limit_mb(self) -> int:
        """The memory budget (MiB)."""
        return self.req.budget.memory_limit_mb

    @property
    def clock(self) -> Clock:
        """The clock of the deadline."""
        return self.timer.clock

    @property
    def deadline(self) -> float:
        """The deadline, in clock seconds."""
        return self.timer.at

    @property
    def stops(self) -> list[str]:
        """The stops by the clock noted so far."""
        return self.timer.stops

    @property
    def capped_sets(self) -> int:
        """``max_sets``, and no more than fit in the memory budget."""
        return min(self.max_sets, max_sets_for_memory(self.memory_limit_mb))

    @property
    def margin(self) -> float:
        """Seconds kept back for building the plan and its summary (and writing it)."""
        return _margin(self.inst.n) if self.whole else 0.0

    def left(self) -> float:
        """Seconds left for a solver call, after the margin for building the plan."""
        return self.deadline - self.clock() - self.margin

    def limits(self) -> SearchLimits:
        """Return the search limits: seed, the deadline less the margin, clock and notes."""
        return SearchLimits(
            seed=self.seed,
            deadline=self.deadline - self.margin,
            clock=self.clock,
            verbose=self.verbose,
            stops=self.stops if self.whole else None,
            limit_s=self.limit_s,
            memory_limit_mb=self.memory_limit_mb,
        )

    def search(self, start: np.ndarray | None, *, max_nodes: int) -> BandSearch:
        """Find an incumbent and enumerate its band (see :func:`set_search`)."""
        return set_search(
            self.inst,
            self.limits(),
            max_sets=self.capped_sets,
            max_nodes=max_nodes,
            start=start,
            skip_hopeless=self.whole,
        )


def prepare_run(
    wards: gpd.GeoDataFrame, req: SolveRequest, timer: Deadline, *, max_sets: int, whole: bool
) -> tuple[SolveRun, np.ndarray | None]:
    """Return the run for ``req`` (instance, rules checked) and the start plan's labels."""
    inst = prepare_instance(wards, k=req.k, rules=req.rules, adjacency=req.adjacency)
    start = None if req.start is None else labels_from_plan(inst, req.start)
    run = SolveRun(
        wards=wards,
        inst=inst,
        req=req,
        timer=timer,
        max_sets=req.budget.sets(max_sets),
        from_start=start is not None,
        limit_s=float(timer.limit_s) if whole else math.inf,
        whole=whole,
    )
    return run, start


@checks_crs
def partition(
    wards: gpd.GeoDataFrame,
    *,
    k: int = 5,
    rules: PartitionRules | None = None,
    budget: SolveBudget | None = None,
    solver: pulp.LpSolver | None = None,
    verbose: bool = False,
    method: Method = "auto",
    start: pd.Series | None = None,
) -> LocalityPlan:
    """Split the units into ``k`` contiguous localities balancing the measures.

    The method, in plain words, is in ``docs/localities.md``. Whatever the size, a
    feasible plan comes back within the budget's time limit (plus the documented
    margin), with a proven lower bound on its worst deviation (``bound``) and the gap.

    Parameters
    ----------
    wards
        Units indexed by code, metric CRS, with the measure columns and geometry.
    k
        Number of localities (within the rules' ``k_range``).
    rules
        The measures, the hard rules and the objective; default ``PartitionRules()``
        (balance population and assets, no band, floors or pins, ``k`` in 2..8). With
        ``objective="compact"``: minimise the boundary cut among plans with every
        locality's weighted deviation within ``tolerance``; the plan's
        ``cut_bound_m`` and ``cut_proven`` give the proof. 40 % of the time goes to
        the balanced plan that starts it.
    budget
        The time limit, seed, clock and search budget
        (:class:`~nwm_geo.localities.SolveBudget`; default 60 s, seed 0). The time limit
        covers the whole call, in seconds of its clock; or it is a
        :class:`~nwm_geo._solver.Deadline` made earlier (e.g. by a command before it
        read its input), whose remaining time, clock and notes this call shares, so one
        limit covers reading, adjacency, search, MIP and summary. Search effort is
        sized from the limit in work units (moves, search nodes, model size), not read
        from the clock. Solver calls run in a child process killed at the deadline
        (real seconds), so HiGHS's presolve cannot overrun it. The heuristic does a
        fixed amount of work (restarts, unit scans, annealing moves and recombination
        steps, counted and sized from the time limit, not timed), so a seed and a limit
        give the same plan on every machine as long as no stage is stopped by the
        clock. When one is (a MIP stage: ``proven_optimal`` or ``tiebreak_proven`` is
        False; a safety stop: the plan's ``time_limit_stops`` names it and ``method``
        says "time limit cut short"), the plan depends on how far the run got and may
        differ between runs. The enumeration keeps at most ``max_sets`` sets (default
        :data:`PARTITION_MAX_SETS`, and at most what fits in ``memory_limit_mb``, about
        4 KiB per set) and visits at most ``max_nodes`` search nodes (default
        ``ENUMERATION_SHARE * time_limit_s * NODES_PER_SECOND``, a count, so the
        outcome does not depend on the machine's load); past either, the flow MIP is
        used. ``memory_limit_mb`` also caps the address space each solver child
        process may add.
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
    start
        A known valid plan (unit code -> locality name, e.g. last year's) used as the
        incumbent instead of the heuristic. The answer is still proven, so it does not
        depend on the start unless the time limit stops a stage.

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
        For an unknown ``method``.

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
    req = SolveRequest(
        k=k,
        rules=rules or PartitionRules(),
        budget=budget or SolveBudget(),
        solver=solver,
        verbose=verbose,
        method=method,
        start=start,
    )
    return solve_partition(wards, req)


def solve_partition(wards: gpd.GeoDataFrame, req: SolveRequest) -> LocalityPlan:
    """:func:`partition` for a request (the compact objective's first stage calls it too)."""
    timer = req.budget.deadline()
    if req.method not in ("auto", "sets", "flow"):
        raise NwmGeoError(f"method must be 'auto', 'sets' or 'flow', got {req.method!r}")
    if req.rules.objective == "compact":
        return _partition_compact(wards, req, timer)
    with timer.phase("adjacency and rules"):
        run, start_labels = prepare_run(wards, req, timer, max_sets=PARTITION_MAX_SETS, whole=True)
    if req.method == "flow":
        return _partition_flow(run, incumbent=_flow_incumbent(run, start_labels), source=None)
    nodes = req.budget.max_nodes
    if nodes is None:
        nodes = node_budget(run.limit_s, run.inst.n, ENUMERATION_SHARE)
        nodes = nodes if req.method == "auto" else 50 * nodes
    search = run.search(start_labels, max_nodes=nodes)
    if search.model is None and search.incumbent is not None and start_labels is None:
        search, proof = _split_whole(run, search)
        if proof is not None:
            return proof
        if run.left() > 0:
            search = _retry_smaller_band(run, search, max_nodes=nodes)
        else:
            run.stops.append("second enumeration")
    if search.model is not None:
        return _partition_sets(run, search)
    found = search.found
    why = f"{found.stopped}, {len(found.sets):,} sets" if found is not None else "not run"
    source = f"{search.how}; enumeration stopped ({why})"
    return _partition_flow(run, incumbent=search.incumbent, source=source)


def _split_whole(run: SolveRun, search: BandSearch) -> tuple[BandSearch, LocalityPlan | None]:
    """Search the whole map exactly below the incumbent (small ``k`` and maps only).

    :func:`~nwm_geo.localities._split.split_search` with
    :data:`SPLIT_SHARE` of the time limit in search nodes (a count). A complete search
    proves the best plan found (or the incumbent) optimal, and its plan is returned; an
    incomplete one may still have found a better incumbent.
    """
    inst = run.inst
    assert search.incumbent is not None
    if inst.k > SPLIT_MAX_K or inst.n > SPLIT_MAX_UNITS or not math.isfinite(run.limit_s):
        return search, None
    labels, zval = search.incumbent
    got = split_search(
        inst,
        zval,
        max_nodes=node_budget(run.limit_s, inst.n, SPLIT_SHARE),
        deadline=run.deadline - run.margin,
        clock=run.clock,
        reach=True,  # prune growths that cannot reach the band
    )
    if got.stopped == "time limit":
        run.stops.append("exact split search")
    if got.labels is not None:
        labels, zval = got.labels, got.objective
    how = (
        f"{search.how}; exact split search below it: {got.nodes:,} search nodes, "
        + ("complete" if got.complete else f"stopped ({got.stopped})")
        + (f", best {zval:.4%}" if got.labels is not None else ", nothing better")
    )
    search = BandSearch((labels, zval), how, search.model, search.found)
    if not got.complete:
        return search, None
    note = "; time limit cut short: " + ", ".join(dict.fromkeys(run.stops)) if run.stops else ""
    return search, make_plan(
        run.wards,
        inst,
        labels,
        proof=Proof(True, zval, zval, False),
        method=f"split: branch and bound over anchored connected sets ({how}){note}",
        timer=run.timer,
    )


def _retry_smaller_band(run: SolveRun, search: BandSearch, *, max_nodes: int) -> BandSearch:
    """Improve the incumbent, then enumerate the (smaller) band again if it may fit.

    Up to :data:`IMPROVE_ROUNDS` rounds of recombination chains, covers over the
    localities they drew and pair re-splits, then re-heated annealing (fixed work, sized
    from the time limit), each from the best plan so far with its own seed. After each
    round the new band is listed if its estimated search (a count, see
    :func:`~nwm_geo.localities._enumerate.enumerate_if_it_may_fit`) may fit the node
    budget; otherwise the next round takes the listing's work.
    """
    inst = run.inst
    assert search.incumbent is not None
    labels, best = search.incumbent
    # the exact re-splits first, from the incumbent as it is (cheap with the split
    # search; Luton's 125 LSOAs, k = 10, with the work 30 s counts: 5.11 % -> 2.19 %)
    labels = pair_descent(
        inst,
        labels,
        max_nodes=pair_nodes(run.limit_s, inst.n, PAIR_SHARE),
        deadline=run.deadline - run.margin,
        clock=run.clock,
        stops=run.stops,
    )
    for r in range(IMPROVE_ROUNDS):
        labels = _improve_round(run, labels, seed=run.seed + ROUND_SEED_STEP * r)
        zval = zvalue(inst, labels)
        if zval >= best - 1e-12 and r + 1 < IMPROVE_ROUNDS:
            continue
        upper = band_above(zval)
        est = estimate_nodes(inst, upper, walks=ESTIMATE_WALKS, seed=0)
        if est <= HOPELESS_FACTOR * max_nodes or r + 1 == IMPROVE_ROUNDS:
            break
    if zval >= best - 1e-12:
        return search
    how = (
        f"heuristic incumbent {zval:.4%} (after {r + 1} rounds of recombination chains "
        "and annealing)"
    )
    found = enumerate_if_it_may_fit(
        inst,
        upper,
        max_sets=run.capped_sets,
        max_nodes=max_nodes,
        deadline=run.deadline - run.margin,
        clock=run.clock,
        verbose=run.verbose,
        estimate=est,  # this band's, made in the last round
    )
    model = (
        SetModel(inst, found.sets, memory_limit_mb=run.memory_limit_mb) if found.complete else None
    )
    return BandSearch((labels, zval), how, model, found)


def _improve_round(run: SolveRun, labels: np.ndarray, *, seed: int) -> np.ndarray:
    """One improvement round: chains, covers and pair re-splits, then re-heated annealing."""
    inst = run.inst
    labels = improve(
        inst,
        labels,
        work=(
            improve_steps(run.limit_s, inst.n, inst.k, IMPROVE_SHARE),
            pair_nodes(run.limit_s, inst.n, PAIR_SHARE),
        ),
        seed=seed,
        deadline=run.deadline - run.margin,
        clock=run.clock,
        stops=run.stops,
    )
    return polish(
        inst,
        labels,
        seed=seed,
        deadline=run.deadline - run.margin,
        clock=run.clock,
        stops=run.stops,
        limit_s=run.limit_s,
    )


def _partition_sets(run: SolveRun, search: BandSearch) -> LocalityPlan:
    """Bisect on the band, then (if unproven and small enough) the set-partitioning MIP.

    Never worse than the incumbent; the bound is the best of the bisection's, the
    MIP's and the integrality bound.
    """
    inst = run.inst
    model = search.model
    assert model is not None and search.found is not None
    inc = search.incumbent
    labels = inc[0] if inc is not None else None
    proven, bound, steps = False, inst.lower_bound, ""
    if inc is not None and inc[1] <= inst.lower_bound + 1e-12:
        proven = True  # the incumbent reaches the integrality lower bound
    elif inc is not None:
        labels, proven, bound, steps = _bisect_with_lp(run, model.sets, inc)
    small = len(model.sets) <= SETS_MIP_MAX_COLUMNS
    if not proven and (small or inc is None):
        start = masks_of(labels, inst.k) if labels is not None else None
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
            mip_labels = labels_from_masks(inst.n, chosen1)
            if labels is None or zvalue(inst, mip_labels) <= zvalue(inst, labels) + 1e-12:
                labels = mip_labels
            proven = res1.state == "optimal"
            if math.isfinite(res1.bound):
                bound = max(bound, res1.bound)
        else:
            run.stops.append(f"set-partitioning MIP: {res1.status.label}")
        if labels is None:
            return _partition_flow(run, incumbent=None, source=search.how)
    assert labels is not None
    zval = zvalue(inst, labels)
    if zval <= inst.lower_bound + 1e-12 or bound >= zval - 1e-12:
        proven = True
    # the tie-break: no start, so its answer among equal cuts does not depend on the
    # incumbent (it is the same model whatever band was enumerated)
    res2, skipped = None, ""
    if sum(1 for _, d in model.sets if d <= zval + EPS) <= TIEBREAK_MAX_COLUMNS:
        res2, chosen2 = model.solve(
            stage=2,
            zcap=zval,
            solver=run.solver,
            time_left=run.left(),
            verbose=run.verbose,
        )
        if res2.state in ("optimal", "feasible") and len(chosen2) == inst.k:
            labels = labels_from_masks(inst.n, chosen2)
    else:
        skipped = "; tie-break skipped (too many sets)"
    note = "; time limit cut short: " + ", ".join(dict.fromkeys(run.stops)) if run.stops else ""
    desc = (
        f"sets: {len(model.sets):,} connected sets with deviation <= {search.found.upper:.4%} "
        f"({search.how}){steps}; set-partitioning MIP (HiGHS, started from the best plan) "
        f"if unproven, then lexicographic cut minimisation{skipped}{note}"
    )
    tiebreak = res2 is not None and res2.state == "optimal"
    return make_plan(
        run.wards,
        inst,
        labels,
        proof=Proof(proven, zvalue(inst, labels), bound, tiebreak),
        method=desc,
        timer=run.timer,
    )


def _bisect_with_lp(
    run: SolveRun, sets: list[tuple[int, float]], inc: tuple[np.ndarray, float]
) -> tuple[np.ndarray, bool, float, str]:
    """Run the cover LP's bisection, then the band bisection; keep the better bound.

    The LP's bound (a few LPs, counted) proves the incumbent when it reaches it. Else
    the band bisection runs as before, from the integrality bound (its steps, and so
    the plans it finds, do not depend on the LP's: started from the LP's bound, the
    70-unit synthetic map at k = 10 got 3 steps and 4.88 % where it gets 5 and 4.30 %),
    and the plan's bound is the larger of the two.
    Returns the plan's labels, whether it is proven, the bound and the method's words.
    """
    inst = run.inst
    lp = lp_band_bound(
        inst,
        sets,
        lower=inst.lower_bound,
        upper=inc[1],
        deadline=run.deadline - run.margin,
        clock=run.clock,
    )
    if lp.bound >= inc[1] - 1e-12:
        return inc[0], True, inc[1], f"; {lp.describe()}, proven"
    bis = bisect_band(
        inst,
        sets,
        incumbent=inc,
        lower=inst.lower_bound,
        max_nodes=BISECT_NODES_PER_STEP,
        deadline=run.deadline - run.margin,
        clock=run.clock,
    )
    bound = max(bis.bound, min(lp.bound, bis.objective))
    proven = bis.proven or bound >= bis.objective - 1e-12
    steps = f"; {lp.describe()}; band bisection: {len(bis.steps)} steps, " + (
        "proven" if proven else f"lower bound {bound:.4%}"
    )
    return bis.labels, proven, bound, steps


def _flow_incumbent(run: SolveRun, start: np.ndarray | None) -> tuple[np.ndarray, float] | None:
    """Return the start plan, or the heuristic's (a fixed number of moves)."""
    if start is not None:
        return start, zvalue(run.inst, start)
    return find_incumbent(
        run.inst,
        seed=run.seed,
        restarts=10,
        iters=balance_moves(run.inst.n),
        deadline=run.deadline - run.margin,
        clock=run.clock,
        stops=run.stops,
        limit_s=run.limit_s,
    )


def _partition_flow(
    run: SolveRun, *, incumbent: tuple[np.ndarray, float] | None, source: str | None
) -> LocalityPlan:
    """Run the flow method, warm-started from the incumbent (never worse than it)."""
    inst = run.inst
    if source is None:
        source = "a region-growing/local-search plan" if incumbent is not None else "no start"
        if run.from_start:
            source = "the start plan"
    labels, res, tiebreak, note = solve_flow(
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
    return make_plan(
        run.wards,
        inst,
        labels,
        proof=Proof(res.state == "optimal", zvalue(inst, labels), res.bound, tiebreak),
        method=desc,
        timer=run.timer,
    )


def _partition_compact(wards: gpd.GeoDataFrame, req: SolveRequest, timer: Deadline) -> LocalityPlan:
    """Find a balanced plan (40 % of the time), then minimise the cut within the tolerance."""
    tolerance = req.rules.tolerance
    assert tolerance is not None  # PartitionRules checks it for the compact objective
    limit = float(timer.limit_s)
    adjacency = req.adjacency
    if adjacency is None:  # once, for both stages
        with timer.phase("adjacency and rules"):
            adjacency = ward_adjacency(wards)
    balanced = solve_partition(
        wards,
        replace(
            req,
            rules=replace(req.rules, objective="balance", tolerance=None),
            budget=replace(req.budget, time_limit_s=timer.share(0.4)),
            adjacency=adjacency,
        ),
    )
    inst = prepare_instance(wards, k=req.k, rules=req.rules, adjacency=adjacency)
    labels = labels_from_plan(inst, balanced.assignment)
    if balanced.objective > tolerance + 1e-12:
        if balanced.proven_optimal:
            raise InfeasiblePartitionError(
                f"no plan has every locality within ±{tolerance:.1%} of the average: "
                f"the best possible worst deviation is ±{balanced.objective:.2%}"
            )
        balanced.status += (
            f"; the tolerance ±{tolerance:.1%} was not reached in time (compact "
            "objective not applied)"
        )
        return balanced
    stops = timer.stops
    found = minimise_cut(
        inst,
        labels,
        SearchLimits(
            seed=req.budget.seed,
            deadline=timer.at - _margin(inst.n),
            clock=timer.clock,
            stops=stops,
            memory_limit_mb=req.budget.memory_limit_mb,
        ),
        tolerance=tolerance,
        max_sets=min(
            req.budget.sets(PARTITION_MAX_SETS), max_sets_for_memory(req.budget.memory_limit_mb)
        ),
        max_nodes=req.budget.max_nodes or node_budget(limit, len(wards), ENUMERATION_SHARE),
    )
    note = "; time limit cut short: " + ", ".join(dict.fromkeys(stops)) if stops else ""
    return make_plan(
        wards,
        inst,
        found.labels,
        proof=Proof(False, zvalue(inst, found.labels), balanced.bound, False),
        method=(
            f"compact: balanced start ({balanced.method}); annealed for a shorter boundary "
            f"within ±{tolerance:.1%}; {found.note}{note}"
        ),
        timer=timer,
        compact=(tolerance, found.cut_bound, found.proven),
    )
