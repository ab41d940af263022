"""Tests for nwm_geo._solver: the proof status comes from HiGHS, not from PuLP's word.

The problems are tiny knapsacks and covers whose answers are known by hand.
"""

from __future__ import annotations

import math
from typing import Any

import pulp
import pytest

from nwm_geo import SolverError
from nwm_geo._solver import SolveStatus, default_solver, solve


def knapsack() -> tuple[pulp.LpProblem, dict[str, pulp.LpVariable]]:
    """Maximise 5a + 4b + 3c with 2a + 3b + c <= 4: the optimum is a + c = 8."""
    prob = pulp.LpProblem("knapsack", pulp.LpMaximize)
    x = {n: pulp.LpVariable(n, cat=pulp.LpBinary) for n in "abc"}
    prob += 5 * x["a"] + 4 * x["b"] + 3 * x["c"]
    prob += 2 * x["a"] + 3 * x["b"] + x["c"] <= 4
    return prob, x


def test_default_solver_proves_the_optimum() -> None:
    prob, x = knapsack()
    status = solve(prob)
    assert isinstance(status, SolveStatus)
    assert status.state == "optimal" and status.proven_optimal and status.has_solution
    assert status.label == "proven optimal" and status.solver == "HiGHS"
    assert status.objective == pytest.approx(8.0) and status.bound == pytest.approx(8.0)
    assert (x["a"].varValue, x["b"].varValue, x["c"].varValue) == (1.0, 0.0, 1.0)


def test_default_solver_settings() -> None:
    solver = default_solver(0.0, verbose=False)
    assert solver.timeLimit == 0.01 and solver.gapRel == 0.0 and solver.threads == 1
    assert default_solver().timeLimit is None


class _TimeLimitModel:
    """A solved highspy model that reports a time-limit stop with a weak bound."""

    def __init__(self, model: Any) -> None:
        self._m = model

    def getModelStatus(self) -> Any:
        import highspy

        return highspy.HighsModelStatus.kTimeLimit

    def getInfo(self) -> Any:
        info = self._m.getInfo()

        class _Info:
            primal_solution_status = info.primal_solution_status
            objective_function_value = info.objective_function_value
            mip_dual_bound = -10.0  # HiGHS minimises -(5a + 4b + 3c): bound 10
            mip_gap = 0.2

        return _Info()


class _TimeLimitHiGHS(pulp.HiGHS):
    def actualSolve(self, lp: pulp.LpProblem, **kw: Any) -> int:
        status = int(super().actualSolve(lp, **kw))
        lp.solverModel = _TimeLimitModel(lp.solverModel)
        return status


def test_time_limit_stop_is_not_optimal_though_pulp_says_so() -> None:
    prob, _ = knapsack()
    status = solve(prob, solver=_TimeLimitHiGHS(msg=False))
    assert pulp.LpStatus[prob.status] == "Optimal"  # PuLP's word
    assert status.state == "feasible" and not status.proven_optimal
    assert status.label == "time limit (gap 20.00 %)"
    assert status.bound == 10.0 and status.objective == pytest.approx(8.0)


def test_integral_objective_closes_a_gap_below_one() -> None:
    class _Near(_TimeLimitModel):
        def getModelStatus(self) -> Any:
            import highspy

            return highspy.HighsModelStatus.kOptimal

        def getInfo(self) -> Any:
            info = super().getInfo()
            info.mip_dual_bound = -8.5  # HiGHS's sense: a bound of 8.5, 0.5 above 8
            return info

    class _NearHiGHS(pulp.HiGHS):
        def actualSolve(self, lp: pulp.LpProblem, **kw: Any) -> int:
            status = int(super().actualSolve(lp, **kw))
            lp.solverModel = _Near(lp.solverModel)
            return status

    prob, _ = knapsack()
    loose = solve(prob, solver=_NearHiGHS(msg=False))
    assert loose.state == "feasible" and loose.label.startswith("optimal within gap")
    prob, _ = knapsack()
    exact = solve(prob, solver=_NearHiGHS(msg=False), integral_objective=True)
    assert exact.state == "optimal" and exact.proven_optimal


def test_infeasible_and_no_time_left() -> None:
    prob = pulp.LpProblem("impossible", pulp.LpMinimize)
    y = pulp.LpVariable("y", cat=pulp.LpBinary)
    prob += y
    prob += y >= 2
    status = solve(prob)
    assert status.state == "infeasible" and not status.has_solution
    assert math.isnan(status.objective)
    prob, _ = knapsack()
    skipped = solve(prob, time_limit_s=0)
    assert skipped.state == "none" and prob.status == pulp.LpStatusNotSolved


def test_start_values_reach_the_solver_and_user_time_limit_is_capped() -> None:
    seen: list[tuple[dict[str, float | None], float | None]] = []

    class _Spy(pulp.HiGHS):
        def actualSolve(self, lp: pulp.LpProblem, **kw: Any) -> int:
            seen.append(({v.name: v.varValue for v in lp.variables()}, self.timeLimit))
            return int(super().actualSolve(lp, **kw))

    prob, _ = knapsack()
    user = _Spy(msg=False, timeLimit=100)
    status = solve(prob, solver=user, time_limit_s=5, start={"a": 1, "b": 0, "c": 1})
    assert seen == [({"a": 1.0, "b": 0.0, "c": 1.0}, 5)]
    assert user.timeLimit == 100  # the caller's solver is not changed
    assert status.proven_optimal
    prob, _ = knapsack()  # the default solver accepts the same start
    assert solve(prob, start={"a": 1, "b": 0, "c": 1}).objective == pytest.approx(8.0)


def test_a_failing_solver_raises_solver_error() -> None:
    class _Broken(pulp.HiGHS):
        def actualSolve(self, lp: pulp.LpProblem, **kw: Any) -> int:
            raise pulp.PulpSolverError("boom")

    prob, _ = knapsack()
    with pytest.raises(SolverError, match="boom"):
        solve(prob, solver=_Broken(msg=False))


def test_another_solver_is_never_a_proof() -> None:
    class _Claims(pulp.LpSolver):
        name = "Claims"

        def available(self) -> bool:
            return True

        def actualSolve(self, lp: pulp.LpProblem, **kw: Any) -> int:
            status = int(pulp.HiGHS(msg=False).actualSolve(lp))
            lp.solverModel = None
            return status

    prob, _ = knapsack()
    status = solve(prob, solver=_Claims())
    assert status.state == "optimal" and not status.proven_optimal
    assert status.label == "reported optimal by _Claims; proof not checked"
    assert math.isnan(status.bound)


_THREADS_SCRIPT = """
import numpy as np, pulp
from nwm_geo._solver import solve
rng = np.random.default_rng(0)
a = rng.random((400, 120)) < 0.06
a[np.arange(400), rng.integers(0, 120, 400)] = True
first = pulp.LpProblem("first", pulp.LpMinimize)
y = [pulp.LpVariable(f"y{j}", cat="Binary") for j in range(120)]
first += pulp.lpSum(y)
for i in range(400):
    first += pulp.lpSum(y[j] for j in np.flatnonzero(a[i])) >= 1
first.solve(pulp.HiGHS(msg=False, timeLimit=0.05, gapRel=0.0))  # HiGHS's default threads
prob = pulp.LpProblem("after", pulp.LpMinimize)
x = [pulp.LpVariable(f"x{j}", cat="Binary") for j in range(10)]
prob += pulp.lpSum(x)
for j in range(9):
    prob += x[j] + x[j + 1] >= 1
status = solve(prob, time_limit_s=10)
print(status.proven_optimal, status.objective)
"""


def test_a_run_with_other_threads_earlier_in_the_process_does_not_break_a_solve() -> None:
    """HiGHS keeps one thread scheduler per process: a first run with its default thread
    count, stopped by its time limit, used to make every later threads=1 run fail with no
    solution. Run in a fresh process, since the state is process-wide (synthetic data).
    """
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", _THREADS_SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1].split() == ["True", "5.0"], out.stdout + out.stderr
