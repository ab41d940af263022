"""One MIP solve for the localities models: :func:`nwm_geo._solver.solve` plus the values.

In: a PuLP problem, the caller's solver (or None), the seconds left and an optional
start. Out: a ``MipResult`` holding the shared :class:`~nwm_geo._solver.SolveStatus` and
the variable values by name (empty when there is no solution).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulp

from nwm_geo._solver import HighsOptions, SolveState, SolveStatus, solve


@dataclass(frozen=True)
class MipResult:
    status: SolveStatus
    values: Mapping[str, float] = field(default_factory=dict)

    @property
    def state(self) -> SolveState:
        return self.status.state

    @property
    def objective(self) -> float:
        return self.status.objective

    @property
    def bound(self) -> float:
        """The solver's dual bound on the objective, NaN when unknown."""
        return self.status.bound


def known_result(state: SolveState, objective: float, bound: float, label: str) -> MipResult:
    """Return a result known without a MIP (e.g. the heuristic reached the lower bound)."""
    status = SolveStatus(
        state, label, state == "optimal", objective, bound, math.nan, "not run", "none"
    )
    return MipResult(status)


#: Memory budget of one MIP solve (MiB of address space the solver's child process
#: may add), unless the caller gives ``memory_limit_mb``.
DEFAULT_MEMORY_LIMIT_MB: int = 3072


def run_mip(
    prob: pulp.LpProblem,
    solver: pulp.LpSolver | None,
    time_left: float,
    verbose: bool,
    start: Mapping[str, float] | None = None,
    memory_limit_mb: int | None = DEFAULT_MEMORY_LIMIT_MB,
) -> MipResult:
    """Solve ``prob`` and read the proof status from the solver itself.

    The default solver runs in a child process killed at the deadline (the deadline
    then covers HiGHS's presolve too) with ``memory_limit_mb``; see
    :func:`nwm_geo._solver.solve`.
    """
    status = solve(
        prob,
        solver=solver,
        time_limit_s=time_left,
        verbose=verbose,
        start=start,
        options=HighsOptions(isolate=True, memory_limit_mb=memory_limit_mb),
    )
    if not status.has_solution:
        return MipResult(status)
    values = {v.name: (v.varValue if v.varValue is not None else 0.0) for v in prob.variables()}
    return MipResult(status, values)
