"""One row of the requirements' solver table: which optimisation, and what HiGHS proved.

In: a :class:`pulp.LpProblem` to solve (or one already solved). Out:
:class:`SolveStatus`, the shared proof status of :mod:`nwm_geo._solver` (read from
HiGHS's own model status and bound, never from PuLP's "Optimal", which PuLP also says
at a time-limit stop) with the problem, measure and scope it belongs to.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import pulp

from nwm_geo import _solver
from nwm_geo._errors import SolverError

__all__ = ["SolveStatus", "solve_status"]


@dataclass(frozen=True)
class SolveStatus:
    """What the solver proved for one optimisation of the requirements stage.

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
        ``"trivial (nothing to solve)"`` or ``"reported optimal by <solver>; proof not
        checked"`` (:func:`nwm_geo._solver.read_status`).
    proven_optimal
        True only when HiGHS reported an optimal model status with a zero gap (or a gap
        smaller than one unit of an integer objective).
    model_status
        HiGHS's model status text, or PuLP's status for other solvers.
    mip_gap
        Relative MIP gap (fraction), NaN when unknown.
    objective
        Objective value of the returned solution, in the problem's own sense (the
        MCLP's covered residents are positive).
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

    @classmethod
    def of(
        cls, status: _solver.SolveStatus, *, problem: str, measure: str, scope: str = "borough"
    ) -> SolveStatus:
        """Label a shared proof status with its problem, measure and scope.

        Raises
        ------
        SolverError
            If the solver returned no feasible solution (infeasible, an error, or a
            limit reached before any solution).
        """
        if not status.has_solution:
            raise SolverError(
                f"{problem} for {measure!r} ({scope}): {status.solver or 'the solver'} "
                f"returned '{status.model_status}' without a usable solution ({status.label})"
            )
        return cls(
            problem,
            measure,
            scope,
            status.label,
            status.proven_optimal,
            status.model_status,
            status.gap,
            status.objective,
            status.bound,
            status.solver,
        )

    def as_row(self) -> dict[str, Any]:
        """Return the fields as one row of the solver-status table."""
        return dataclasses.asdict(self)


def solve_status(
    prob: pulp.LpProblem,
    *,
    problem: str,
    measure: str,
    scope: str = "borough",
    integral_objective: bool = False,
) -> SolveStatus:
    """Read the real proof status of a solved PuLP problem (:func:`nwm_geo._solver.read_status`).

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
        If no feasible solution was returned.
    """
    status = _solver.read_status(prob, integral_objective=integral_objective)
    return SolveStatus.of(status, problem=problem, measure=measure, scope=scope)


def solve_checked(
    prob: pulp.LpProblem,
    *,
    solver: Any,
    time_limit: float | None,
    problem: str,
    measure: str,
    scope: str = "borough",
    integral_objective: bool = False,
) -> SolveStatus:
    """Solve with :func:`nwm_geo._solver.solve` (HiGHS by default) and label the status.

    A caller's ``solver`` keeps its own settings; the default solver gets
    ``time_limit`` seconds and HiGHS's own absolute gap and thread count.
    """
    status = _solver.solve(
        prob,
        solver=solver,
        time_limit_s=None if solver is not None else time_limit,
        integral_objective=integral_objective,
        options=_solver.HighsOptions(gap_abs=None, threads=None),
    )
    return SolveStatus.of(status, problem=problem, measure=measure, scope=scope)
