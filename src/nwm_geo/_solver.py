"""One MIP solver set-up and one honest proof status for every optimisation stage.

In: a built ``pulp.LpProblem``, optionally a caller's PuLP solver, a time limit and a
warm start. Out: a :class:`SolveStatus` read from HiGHS's own model status and dual
bound, never from PuLP's word "Optimal" (PuLP also says "Optimal" when HiGHS stops at
its time limit). Variable values stay on the problem's variables, as PuLP leaves them.

Both optimisation stages use it: localities (``localities._mip``) and requirements
(``requirements._status.solve_checked``, which labels the status with its problem,
measure and scope). ``objective`` and ``bound`` are in the problem's own sense (PuLP
hands HiGHS a maximisation's negated objective), and ``status.proven_optimal`` is True
only for a proof read from HiGHS.
"""

from __future__ import annotations

import copy
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import highspy
import numpy as np
import pulp

from nwm_geo._errors import SolverError

__all__ = [
    "ArrayModel",
    "Deadline",
    "HighsOptions",
    "SolveState",
    "SolveStatus",
    "WarmStartHiGHS",
    "default_solver",
    "read_status",
    "solve",
    "solve_arrays",
]

#: ``"optimal"``: proven by HiGHS (or, for another solver, reported optimal by its
#: solution status); ``"feasible"``: a solution without a proof; ``"infeasible"``;
#: ``"none"``: no solution (error, limit reached first, or no time left).
SolveState = Literal["optimal", "feasible", "infeasible", "none"]

#: Relative tolerance on ``objective - bound`` for a zero-gap proof.
PROOF_TOL: float = 1e-6

#: With ``HighsOptions(isolate=True)``, HiGHS gets this share of the seconds left as its
#: own time limit; the child process that runs it is killed when all of them have
#: passed. HiGHS checks its limit only between presolve passes, so on large models it
#: overshoots.
ISOLATED_HIGHS_SHARE: float = 0.85


def _seconds_since_process_start() -> float:
    """Seconds since this process started (Linux ``/proc``); 0.0 where unknown."""
    try:
        with open("/proc/self/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime") as fh:
            uptime = float(fh.read().split()[0])
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime
    except (OSError, ValueError, IndexError):
        return 0.0
    return max(uptime - started, 0.0)


@dataclass
class Deadline:
    """One time budget for a whole command: every phase draws on it.

    Made once, when the command starts (before reading its input), and passed down to
    every phase (reading, adjacency, enumeration, heuristic, MIP, summary, writing), so
    the phases share one limit instead of each getting its own. Search effort inside
    the phases is counted in work units (moves, search nodes), sized from ``limit_s``
    and not from the clock, so a seed gives the same result on every machine; the
    clock is only read to stop a phase that would overrun, and each such stop is noted
    in :attr:`stops` (the output then says that the wall clock cut the search short).

    Parameters
    ----------
    limit_s
        Seconds for the whole command.
    clock
        Seconds; default ``time.perf_counter``. Tests inject a fake clock.

    Attributes
    ----------
    start
        ``clock()`` when the budget was made.
    at
        ``start + limit_s``: the deadline, in ``clock`` seconds.
    stops
        The phases the wall clock cut short, in words, in order.
    phases
        Seconds spent per named phase (see :meth:`phase`).
    """

    limit_s: float
    clock: Callable[[], float] = time.perf_counter
    start: float = field(init=False)
    at: float = field(init=False)
    stops: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.start = self.clock()
        self.at = self.start + float(self.limit_s)

    def left(self) -> float:
        """Seconds left (negative once the deadline has passed)."""
        return self.at - self.clock()

    def elapsed(self) -> float:
        """Seconds since the budget was made."""
        return self.clock() - self.start

    def expired(self) -> bool:
        """Return True once the deadline has passed."""
        return self.clock() >= self.at

    def stop(self, what: str) -> None:
        """Note that the wall clock cut ``what`` short (each phase noted once)."""
        if what not in self.stops:
            self.stops.append(what)

    @property
    def cut_short(self) -> bool:
        """True if the wall clock cut any phase short."""
        return bool(self.stops)

    @classmethod
    def from_process_start(cls, limit_s: float) -> Deadline:
        """Return a budget that began when this process started, so start-up counts too.

        A command's wall time includes Python's start and its imports, before any
        code of the command runs; on Linux they are read from ``/proc`` and taken off
        the budget (elsewhere the budget starts now).
        """
        dl = cls(limit_s)
        ago = _seconds_since_process_start()
        dl.start -= ago
        dl.at -= ago
        dl.phases["start-up and imports"] = ago
        return dl

    def share(self, fraction: float) -> Deadline:
        """Return a budget of ``fraction`` of the limit from now, ending no later.

        Its work counts are sized from ``fraction * limit_s`` (not from the seconds
        left, which depend on the machine); its notes and phases are this budget's.
        """
        sub = Deadline(fraction * self.limit_s, self.clock)
        sub.at = min(sub.at, self.at)
        sub.stops = self.stops
        sub.phases = self.phases
        return sub

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the ``with`` block as phase ``name`` (added to :attr:`phases`)."""
        t0 = self.clock()
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + self.clock() - t0


@dataclass(frozen=True)
class HighsOptions:
    """Options of the project's HiGHS solver, for :func:`solve` (not a caller's solver).

    Attributes
    ----------
    gap_abs
        Absolute MIP gap (None: HiGHS's default, 1e-6).
    threads
        HiGHS threads (1 gives the same answer on every run; None: HiGHS's default).
    isolate
        Run HiGHS in a child process (``fork``, where the platform has it) that is
        killed when the time limit's real seconds have passed, so the deadline also
        covers HiGHS's presolve (which checks its own limit only between passes). A
        killed solve returns state ``"none"`` labelled "no solution (killed at the
        deadline)".
    memory_limit_mb
        With ``isolate``, cap the child's address space growth at this many MiB
        (``RLIMIT_AS``); a solve that runs out returns state ``"none"``.
    """

    gap_abs: float | None = 1e-10
    threads: int | None = 1
    isolate: bool = False
    memory_limit_mb: int | None = None


@dataclass(frozen=True)
class SolveStatus:
    """What the solver proved about one solve.

    Attributes
    ----------
    state
        See :data:`SolveState`.
    label
        Plain words: ``"proven optimal"``, ``"optimal within gap x %"``, ``"time limit
        (gap x %)"`` (or another HiGHS limit's name), ``"infeasible"``, ``"no solution
        (...)"``, ``"reported optimal by <solver>; proof not checked"``.
    proven_optimal
        True only when HiGHS reported an optimal model status with a zero gap (within
        :data:`PROOF_TOL`, or below one unit of an integer objective).
    objective
        Objective of the returned solution in the problem's own sense (PuLP gives
        HiGHS the negation of a maximisation; it is turned back), NaN when none.
    bound
        HiGHS's dual bound in the problem's own sense, NaN when unknown.
    gap
        HiGHS's relative MIP gap (fraction), NaN when unknown.
    model_status
        HiGHS's model status text, or PuLP's status text for another solver.
    solver
        The solver's name.
    """

    state: SolveState
    label: str
    proven_optimal: bool
    objective: float
    bound: float
    gap: float
    model_status: str
    solver: str

    @property
    def has_solution(self) -> bool:
        """True when a solution (proven or not) is on the problem's variables."""
        return self.state in ("optimal", "feasible")


_BANNER_SILENCED = False


def _silence_banner() -> None:
    """Create the process's first ``Highs`` with stdout closed, so no banner is printed.

    HiGHS prints "Running HiGHS ..." from C++ when the first ``Highs`` object of a
    process is made, before any option can turn output off.
    """
    global _BANNER_SILENCED
    if _BANNER_SILENCED:
        return
    _BANNER_SILENCED = True
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # no real stdout (some notebook kernels): nothing to do
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            highspy.Highs()  # type: ignore[no-untyped-call]  # highspy ships no stubs
    finally:
        os.dup2(saved, 1)
        os.close(saved)


class WarmStartHiGHS(pulp.HiGHS):  # type: ignore[misc]  # pulp is untyped
    """``pulp.HiGHS`` (highspy) that can pass the variables' current values as a start.

    With ``warm_start=True`` every variable whose ``varValue`` is set (by
    :func:`solve`'s ``start``) is handed to ``Highs.setSolution`` before the run.
    """

    def __init__(self, *, warm_start: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.warm_start = warm_start

    def createAndConfigureSolver(self, lp: pulp.LpProblem) -> None:
        _silence_banner()
        super().createAndConfigureSolver(lp)

    def callSolver(self, lp: pulp.LpProblem) -> None:
        # HiGHS keeps one thread scheduler per process, created by its first run; a later
        # run with another thread count fails without a solution unless it is reset
        # (seen after a time-limited solve with HiGHS's default threads).
        highspy.Highs.resetGlobalScheduler(True)
        if self.warm_start:
            idx, val = [], []
            for var in lp.variables():
                if var.varValue is not None:
                    idx.append(var.index)
                    val.append(var.varValue)
            if idx:
                lp.solverModel.setSolution(
                    len(idx), np.asarray(idx, dtype=np.int32), np.asarray(val, dtype=np.float64)
                )
        lp.solverModel.run()


def default_solver(
    time_limit_s: float | None = None,
    *,
    verbose: bool = False,
    gap_abs: float | None = 1e-10,
    threads: int | None = 1,
    warm_start: bool = False,
) -> WarmStartHiGHS:
    """Return the project's HiGHS solver: zero relative gap, so an optimum is a proof.

    Parameters
    ----------
    time_limit_s
        Seconds for HiGHS (at least 0.01); None for no limit.
    verbose
        Show HiGHS's log.
    gap_abs
        Absolute MIP gap (None: HiGHS's default, 1e-6).
    threads
        HiGHS threads (1 gives the same answer on every run; None: HiGHS's default).
    warm_start
        Pass the variables' current values to HiGHS as a start.

    Returns
    -------
    WarmStartHiGHS

    Raises
    ------
    SolverError
        If highspy is not installed.
    """
    solver = WarmStartHiGHS(
        warm_start=warm_start,
        msg=verbose,
        timeLimit=None if time_limit_s is None else max(float(time_limit_s), 0.01),
        gapRel=0.0,
        gapAbs=gap_abs,
        threads=threads,
    )
    if not solver.available():  # pragma: no cover - highspy is a dependency
        raise SolverError("HiGHS (highspy) is not available; install highspy")
    return solver


def _no_solution(state: SolveState, label: str, model_status: str, solver: str) -> SolveStatus:
    nan = math.nan
    return SolveStatus(state, label, False, nan, nan, nan, model_status, solver)


def solve(
    prob: pulp.LpProblem,
    *,
    solver: pulp.LpSolver | None = None,
    time_limit_s: float | None = None,
    verbose: bool = False,
    start: Mapping[str, float] | None = None,
    integral_objective: bool = False,
    options: HighsOptions = HighsOptions(),
) -> SolveStatus:
    """Solve ``prob`` and read the proof status from the solver itself.

    Parameters
    ----------
    prob
        The problem; its variables carry the solution afterwards.
    solver
        A PuLP solver; None builds :func:`default_solver`. A caller's solver is copied,
        and its time limit is lowered to ``time_limit_s`` when that is shorter.
    time_limit_s
        Seconds left; ``<= 0`` returns state ``"none"`` without solving; None: no limit
        (a caller's solver keeps its own).
    verbose
        Show the solver's log (default solver only).
    start
        ``{variable name: value}`` set as the variables' initial values: the default
        solver passes them to HiGHS; a caller's solver uses them if it warm-starts.
    integral_objective
        The objective only takes integer values, so any gap below 1 is a proof.
    options
        Options of the default solver (:class:`HighsOptions`: gaps, threads, a child
        process killed at ``time_limit_s`` and its memory cap). A caller's solver
        keeps its own settings and always runs in this process.

    Returns
    -------
    SolveStatus

    Raises
    ------
    SolverError
        If the solver itself fails (an exception inside PuLP or the solver).
    """
    if time_limit_s is not None and time_limit_s <= 0:
        return _no_solution("none", "no solution (no time left)", "not run", "")
    if start:
        for var in prob.variables():
            if var.name in start:
                var.varValue = float(start[var.name])
    if solver is None:
        fork = "fork" in multiprocessing.get_all_start_methods()
        if options.isolate and fork and time_limit_s is not None:
            slv: pulp.LpSolver = default_solver(
                ISOLATED_HIGHS_SHARE * time_limit_s,
                verbose=verbose,
                gap_abs=options.gap_abs,
                threads=options.threads,
                warm_start=bool(start),
            )
            return _solve_isolated(
                prob,
                slv,
                seconds=time_limit_s,
                memory_limit_mb=options.memory_limit_mb,
                integral_objective=integral_objective,
            )
        slv = default_solver(
            time_limit_s,
            verbose=verbose,
            gap_abs=options.gap_abs,
            threads=options.threads,
            warm_start=bool(start),
        )
    else:
        slv = copy.copy(solver)
        if time_limit_s is not None and (
            getattr(slv, "timeLimit", None) is None or slv.timeLimit > time_limit_s
        ):
            slv.timeLimit = max(time_limit_s, 0.01)
    # the default solver resets HiGHS's thread scheduler right before it runs
    # (WarmStartHiGHS.callSolver): an earlier solve may have started it with another count
    try:
        prob.solve(slv)
    except Exception as exc:  # PuLP raises plain exceptions (and KeyError on new statuses)
        raise SolverError(f"the MIP solver failed on {prob.name}: {exc}") from exc
    return read_status(prob, integral_objective=integral_objective, solver_name=type(slv).__name__)


def _child_solve(
    prob: pulp.LpProblem,
    slv: pulp.LpSolver,
    conn: Any,
    memory_limit_mb: int | None,
    integral_objective: bool,
) -> None:
    """Body of the child process: solve, send (status, values) or an error, exit."""
    try:
        _limit_memory(memory_limit_mb)
        prob.solve(slv)
        status = read_status(prob, integral_objective=integral_objective)
        values: dict[str, float] = {}
        if status.has_solution:
            values = {v.name: float(v.varValue) for v in prob.variables() if v.varValue is not None}
        conn.send(("ok", status, values))
    except MemoryError:
        conn.send(("memory", None, None))
    except BaseException as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}", None))
    finally:
        conn.close()
        os._exit(0)


def _solve_isolated(
    prob: pulp.LpProblem,
    slv: pulp.LpSolver,
    *,
    seconds: float,
    memory_limit_mb: int | None,
    integral_objective: bool,
) -> SolveStatus:
    """Solve in a forked child killed after ``seconds``; copy the values back."""
    child = (_child_solve, (prob, slv), (memory_limit_mb, integral_objective))
    kind, status, values = _in_child(*child, seconds=seconds)
    if kind == "killed":
        return _no_solution("none", "no solution (killed at the deadline)", "killed", "HiGHS")
    if kind == "memory":
        return _no_solution("none", "no solution (out of memory)", "memory limit", "HiGHS")
    if kind == "error":
        raise SolverError(f"the MIP solver failed on {prob.name}: {status}")
    for var in prob.variables():
        var.varValue = values.get(var.name)
    assert isinstance(status, SolveStatus)
    return status


def _in_child(
    target: Callable[..., None], head: tuple[Any, ...], tail: tuple[Any, ...], *, seconds: float
) -> tuple[str, Any, Any]:
    """Run ``target(*head, conn, *tail)`` in a forked child killed after ``seconds``.

    Returns the child's message (``("ok", status, values)``, ``("memory", ...)`` or
    ``("error", text, None)``), or ``("killed", None, None)`` when it sent none in time.
    """
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    sys.stdout.flush()
    sys.stderr.flush()
    child = ctx.Process(target=target, args=(*head, send, *tail), daemon=True)
    end = time.monotonic() + seconds
    child.start()
    send.close()
    msg: tuple[str, Any, Any] = ("killed", None, None)
    try:
        if recv.poll(max(end - time.monotonic(), 0.0)):
            msg = recv.recv()
    except EOFError:  # the child died (e.g. killed by the kernel) without a word
        msg = ("memory", None, None)
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        recv.close()
    return msg


def read_status(
    prob: pulp.LpProblem, *, integral_objective: bool = False, solver_name: str | None = None
) -> SolveStatus:
    """Read the proof status of a problem that has been solved.

    For HiGHS (highspy) the model status, primal solution status and dual bound are
    read from ``prob.solverModel``; for any other solver PuLP's solution status is used
    and never counted as a proof.

    Parameters
    ----------
    prob
        A problem after ``prob.solve(...)``.
    integral_objective
        The objective only takes integer values, so any gap below 1 is a proof.
    solver_name
        The solver's name for other solvers (default: ``prob.solver``'s class).

    Returns
    -------
    SolveStatus
    """
    model = getattr(prob, "solverModel", None)
    if model is not None and hasattr(model, "getModelStatus") and hasattr(model, "getInfo"):
        return _highs_status(prob, model, integral_objective=integral_objective)
    name = solver_name or type(getattr(prob, "solver", None)).__name__
    return _pulp_status(prob, name)


def _highs_status(prob: pulp.LpProblem, model: Any, *, integral_objective: bool) -> SolveStatus:
    """Return the status from HiGHS's model status, primal solution status and dual bound."""
    sense = getattr(prob, "sense", pulp.LpMinimize)
    return _highs_model_status(
        model, maximise=sense == pulp.LpMaximize, integral_objective=integral_objective
    )


def _highs_model_status(model: Any, *, maximise: bool, integral_objective: bool) -> SolveStatus:
    """Return the status of a solved ``highspy.Highs`` (negated when ``maximise``)."""
    ms = highspy.HighsModelStatus
    status = model.getModelStatus()
    to_text = getattr(model, "modelStatusToString", None)
    text = str(to_text(status)) if to_text is not None else str(getattr(status, "name", status))
    if status == ms.kInfeasible:
        return _no_solution("infeasible", "infeasible", text, "HiGHS")
    info = model.getInfo()
    if int(getattr(info, "primal_solution_status", 0)) != 2:  # kSolutionStatusFeasible
        return _no_solution("none", f"no solution ({text})", text, "HiGHS")
    # PuLP hands HiGHS the negated objective of a maximisation: turn both back
    sign = -1.0 if maximise else 1.0
    obj = sign * float(info.objective_function_value)
    bound = sign * float(getattr(info, "mip_dual_bound", math.nan))
    gap = float(getattr(info, "mip_gap", math.nan))
    if not math.isfinite(gap):
        gap = math.nan
    if math.isfinite(bound):
        gap_abs = (bound - obj) if maximise else (obj - bound)
    else:
        bound, gap_abs = math.nan, math.inf
    exact = gap_abs <= PROOF_TOL * max(1.0, abs(obj)) or (
        integral_objective and gap_abs < 1.0 - 1e-9
    )
    if status == ms.kOptimal and exact:
        return SolveStatus("optimal", "proven optimal", True, obj, bound, gap, text, "HiGHS")
    if status == ms.kOptimal:
        label = f"optimal within gap {100 * gap:.2f} %"
    else:
        kind = "time limit" if status == ms.kTimeLimit else text.lower()
        label = f"{kind} (gap {100 * gap:.2f} %)"
    return SolveStatus("feasible", label, False, obj, bound, gap, text, "HiGHS")


def _pulp_status(prob: pulp.LpProblem, name: str) -> SolveStatus:
    """Read another solver's status from PuLP's solution status; never a proof.

    PuLP's solution status tells "optimal" from "integer feasible" (e.g. CBC stopped
    on time).
    """
    text = str(pulp.LpStatus.get(prob.status, prob.status))
    if prob.status == pulp.LpStatusInfeasible:
        return _no_solution("infeasible", "infeasible", text, name)
    obj = pulp.value(prob.objective)
    nan = math.nan
    if obj is not None and prob.sol_status == pulp.LpSolutionOptimal:
        label = f"reported optimal by {name}; proof not checked"
        return SolveStatus("optimal", label, False, float(obj), nan, nan, text, name)
    if obj is not None and prob.sol_status == pulp.LpSolutionIntegerFeasible:
        label = f"feasible by {name}; proof not checked"
        return SolveStatus("feasible", label, False, float(obj), nan, nan, text, name)
    return _no_solution("none", f"no solution ({text})", text, name)


@dataclass(frozen=True)
class ArrayModel:
    """A minimisation MIP held in arrays, for models too large to build through PuLP.

    Rows are in compressed sparse row form: row ``r``'s entries are
    ``a_index[a_start[r]:a_start[r + 1]]`` with values ``a_value[...]``. Column ``j`` is
    named ``names[j]`` (:func:`solve_arrays` returns values by name, like PuLP).
    """

    names: list[str]
    col_cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray  # bool per column
    row_lower: np.ndarray
    row_upper: np.ndarray
    a_start: np.ndarray
    a_index: np.ndarray
    a_value: np.ndarray

    def highs(self, *, time_limit_s: float, verbose: bool, threads: int | None) -> Any:
        """Return a ``highspy.Highs`` holding the model, with the project's options."""
        _silence_banner()
        lp = highspy.HighsLp()
        lp.num_col_ = len(self.names)
        lp.num_row_ = len(self.row_lower)
        lp.col_cost_ = self.col_cost.astype(np.float64)
        lp.col_lower_ = self.col_lower.astype(np.float64)
        lp.col_upper_ = self.col_upper.astype(np.float64)
        lp.row_lower_ = self.row_lower.astype(np.float64)
        lp.row_upper_ = self.row_upper.astype(np.float64)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.num_col_ = lp.num_col_
        lp.a_matrix_.num_row_ = lp.num_row_
        lp.a_matrix_.start_ = self.a_start.astype(np.int32)
        lp.a_matrix_.index_ = self.a_index.astype(np.int32)
        lp.a_matrix_.value_ = self.a_value.astype(np.float64)
        kinds = highspy.HighsVarType
        lp.integrality_ = [kinds.kInteger if b else kinds.kContinuous for b in self.integer]
        h = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy ships no stubs
        h.setOptionValue("output_flag", bool(verbose))
        h.setOptionValue("time_limit", max(float(time_limit_s), 0.01))
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", 1e-10)
        h.setOptionValue("presolve", os.environ.get("NWM_PRESOLVE", "choose"))
        if threads is not None:
            h.setOptionValue("threads", int(threads))
        h.passModel(lp)
        return h


def _run_highs(
    model: ArrayModel, start: np.ndarray | None, limit: float, verbose: bool, threads: int | None
) -> Any:
    """Load ``model`` (and its start values) into a new ``highspy.Highs``, run it, return it."""
    # HiGHS refuses to run (model status "Not Set") when an earlier solve in this process
    # started its global thread scheduler with another thread count
    highspy.Highs.resetGlobalScheduler(True)
    h = model.highs(time_limit_s=limit, verbose=verbose, threads=threads)
    if start is not None:
        idx = np.flatnonzero(~np.isnan(start)).astype(np.int32)
        h.setSolution(len(idx), idx, start[idx].astype(np.float64))
    h.run()
    return h


def _arrays_child(
    model: ArrayModel,
    start: np.ndarray | None,
    conn: Any,
    options: tuple[float, bool, int | None, int | None, bool],
) -> None:
    """Body of the child process for :func:`solve_arrays`."""
    time_limit_s, verbose, threads, memory_limit_mb, integral = options
    try:
        _limit_memory(memory_limit_mb)
        h = _run_highs(model, start, time_limit_s, verbose, threads)
        status = _highs_model_status(h, maximise=False, integral_objective=integral)
        values = None
        if status.has_solution:
            values = np.asarray(h.getSolution().col_value, dtype=np.float64)
        conn.send(("ok", status, values))
    except MemoryError:
        conn.send(("memory", None, None))
    except BaseException as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}", None))
    finally:
        conn.close()
        os._exit(0)


def _limit_memory(memory_limit_mb: int | None) -> None:
    """Cap this process's address space at its current size plus ``memory_limit_mb``."""
    if memory_limit_mb is None:
        return
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as fh:  # pages of virtual memory in use now
        used = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    cap = used + int(memory_limit_mb) * 2**20
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


#: A model with at most this many nonzeros is solved in this process (see
#: :func:`solve_arrays`): its presolve takes milliseconds and its memory kilobytes.
IN_PROCESS_NONZEROS = 2_000


def solve_arrays(
    model: ArrayModel,
    *,
    time_limit_s: float,
    verbose: bool = False,
    start: np.ndarray | None = None,
    memory_limit_mb: int | None = None,
    threads: int | None = 1,
    integral_objective: bool = False,
) -> tuple[SolveStatus, dict[str, float]]:
    """Solve an :class:`ArrayModel` with HiGHS in a child process killed at the deadline.

    Like :func:`solve` with ``HighsOptions(isolate=True)``: HiGHS gets
    :data:`ISOLATED_HIGHS_SHARE` of ``time_limit_s``, the child is killed when all of
    it has passed (so presolve cannot overrun), its address space may grow by
    ``memory_limit_mb``. A model of at most :data:`IN_PROCESS_NONZEROS` nonzeros, and
    any model where ``fork`` is missing, is solved in this process with HiGHS's own
    time limit: starting a child costs about 30 ms, far more than such a model's
    presolve, and it cannot need a memory cap.

    Parameters
    ----------
    model
        The model.
    time_limit_s
        Seconds left; ``<= 0`` returns state ``"none"`` without solving.
    verbose
        Show HiGHS's log.
    start
        A start value per column (NaN: not given), passed to ``Highs.setSolution``.
    memory_limit_mb, threads
        As in :class:`HighsOptions`.
    integral_objective
        As for :func:`solve`.

    Returns
    -------
    tuple of SolveStatus and dict
        The status, and the column values by name (empty without a solution).

    Raises
    ------
    SolverError
        If HiGHS itself fails.
    """
    if time_limit_s <= 0:
        return _no_solution("none", "no solution (no time left)", "not run", "HiGHS"), {}
    options = (
        ISOLATED_HIGHS_SHARE * time_limit_s,
        verbose,
        threads,
        memory_limit_mb,
        integral_objective,
    )
    fork = "fork" in multiprocessing.get_all_start_methods()
    if not fork or len(model.a_index) <= IN_PROCESS_NONZEROS:
        try:
            h = _run_highs(model, start, time_limit_s, verbose, threads)
        except Exception as exc:  # highspy raises plain exceptions
            raise SolverError(f"the MIP solver failed: {type(exc).__name__}: {exc}") from exc
        status = _highs_model_status(h, maximise=False, integral_objective=integral_objective)
        vals = h.getSolution().col_value if status.has_solution else []
        return status, dict(zip(model.names, map(float, vals), strict=False))
    kind, status, values = _in_child(
        _arrays_child, (model, start), (options,), seconds=time_limit_s
    )
    if kind == "killed":
        return _no_solution("none", "no solution (killed at the deadline)", "killed", "HiGHS"), {}
    if kind == "memory":
        return _no_solution("none", "no solution (out of memory)", "memory limit", "HiGHS"), {}
    if kind == "error":
        raise SolverError(f"the MIP solver failed: {status}")
    assert isinstance(status, SolveStatus)
    named = {} if values is None else dict(zip(model.names, values.tolist(), strict=True))
    return status, named
