"""Solver proof status, read from HiGHS itself (not from PuLP's label).

In: a solved :class:`pulp.LpProblem`. Out: :class:`SolveStatus`. PuLP reports a
HiGHS run that stopped at its time limit as "Optimal"; :func:`solve_status` reads
HiGHS's own model status and MIP gap and says "proven optimal" only when HiGHS proved it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pulp

from nwm_geo._errors import SolverError

__all__ = ["SolveStatus", "solve_status"]


@dataclass(frozen=True)
class SolveStatus:
    """What the solver proved, read from HiGHS itself (not from PuLP's label).

    Attributes
    ----------
    problem
        ``"minimal cover (LSCP)"`` or ``"new sites (MCLP)"``.
    measure
        The category or bundle solved for.
    scope
        ``"borough"`` or a locality name.
    label
        ``"proven optimal"``, ``"time limit (gap x %)"``, ``"optimal within gap x %"``,
        ``"trivial (nothing to solve)"`` or ``"reported optimal by <solver>; proof not checked"``.
    proven_optimal
        True only when HiGHS reported an optimal model status with a zero gap (or a gap
        smaller than one unit of an integer objective).
    model_status
        HiGHS's model status text, or PuLP's status for other solvers.
    mip_gap
        Relative MIP gap (fraction), NaN when unknown.
    objective
        Objective value of the returned solution.
    bound
        Best dual bound, NaN when unknown.
    solver
        The solver's name.
    """

    problem: str
    measure: str
    scope: str
    label: str
    proven_optimal: bool
    model_status: str
    mip_gap: float
    objective: float
    bound: float
    solver: str

    def as_dict(self) -> dict[str, Any]:
        """Return the fields as a plain dict (for tables)."""
        return {
            "problem": self.problem,
            "measure": self.measure,
            "scope": self.scope,
            "label": self.label,
            "proven_optimal": self.proven_optimal,
            "model_status": self.model_status,
            "mip_gap": self.mip_gap,
            "objective": self.objective,
            "bound": self.bound,
            "solver": self.solver,
        }


def _default_solver(time_limit: float | None) -> Any:
    solver = pulp.HiGHS(msg=False, gapRel=0.0, timeLimit=time_limit)
    if not solver.available():  # pragma: no cover - highspy is a dependency
        raise SolverError("HiGHS (highspy) is not available; install highspy")
    return solver


def solve_status(
    prob: pulp.LpProblem,
    *,
    problem: str,
    measure: str,
    scope: str = "borough",
    integral_objective: bool = False,
) -> SolveStatus:
    """Read the real proof status of a solved PuLP problem.

    For ``pulp.HiGHS`` (highspy) the HiGHS model status, MIP gap and dual bound are
    read from ``prob.solverModel``. For any other solver the PuLP status is used and
    the label says the proof was not checked.

    Parameters
    ----------
    prob
        A problem after ``prob.solve(...)``.
    problem, measure, scope
        Labels for the status.
    integral_objective
        The objective only takes integer values, so any gap below 1 proves optimality.

    Returns
    -------
    SolveStatus

    Raises
    ------
    SolverError
        If no feasible solution was returned (infeasible, error, or a limit reached
        before any solution).
    """
    model = getattr(prob, "solverModel", None)
    if model is not None and hasattr(model, "getModelStatus") and hasattr(model, "getInfo"):
        import highspy

        ms = highspy.HighsModelStatus
        status = model.getModelStatus()
        text = str(model.modelStatusToString(status))
        info = model.getInfo()
        has_solution = int(getattr(info, "primal_solution_status", 0)) == 2
        obj = float(getattr(info, "objective_function_value", math.nan))
        bound = float(getattr(info, "mip_dual_bound", math.nan))
        gap = float(getattr(info, "mip_gap", math.nan))
        if not math.isfinite(gap):
            gap = math.nan
        abs_gap = abs(obj - bound) if math.isfinite(bound) else math.inf
        if status == ms.kOptimal:
            exact = abs_gap <= 1e-6 * max(1.0, abs(obj)) or (
                integral_objective and abs_gap < 1.0 - 1e-9
            )
            if exact:
                label = "proven optimal"
            else:
                label = f"optimal within gap {100 * gap:.2f} %"
            return SolveStatus(
                problem, measure, scope, label, exact, text, gap, obj, bound, "HiGHS"
            )
        limits = {ms.kTimeLimit, ms.kIterationLimit, ms.kInterrupt}
        for name in ("kSolutionLimit", "kObjectiveBound", "kObjectiveTarget"):
            if hasattr(ms, name):
                limits.add(getattr(ms, name))
        if status in limits and has_solution:
            kind = "time limit" if status == ms.kTimeLimit else text.lower()
            label = f"{kind} (gap {100 * gap:.2f} %)"
            return SolveStatus(
                problem, measure, scope, label, False, text, gap, obj, bound, "HiGHS"
            )
        raise SolverError(
            f"{problem} for {measure!r} ({scope}): HiGHS returned '{text}' without a "
            "usable solution"
        )
    status_text = pulp.LpStatus.get(prob.status, str(prob.status))
    if prob.status != pulp.LpStatusOptimal or prob.sol_status not in (
        pulp.LpSolutionOptimal,
        pulp.LpSolutionIntegerFeasible,
    ):
        raise SolverError(f"{problem} for {measure!r} ({scope}): solver returned '{status_text}'")
    obj = float(pulp.value(prob.objective) or 0.0)
    name = type(getattr(prob, "solver", None)).__name__
    return SolveStatus(
        problem,
        measure,
        scope,
        f"reported optimal by {name}; proof not checked",
        False,
        status_text,
        math.nan,
        obj,
        math.nan,
        name,
    )


def _solve(prob: pulp.LpProblem, solver: Any, time_limit: float | None) -> None:
    solver = _default_solver(time_limit) if solver is None else solver
    try:
        prob.solve(solver)
    except Exception as exc:  # PuLP raises plain exceptions (and KeyError on new statuses)
        raise SolverError(f"solver failed on {prob.name}: {exc}") from exc
