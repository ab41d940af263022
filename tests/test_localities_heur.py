"""The incumbent's improvement moves, through ``partition``.

Every fourth step of an improvement chain merges three adjacent localities, draws a
random spanning tree of their units and cuts two of its edges; after each chain a
set-partitioning MIP (HiGHS) recombines the localities the chains drew. The maps are
synthetic (a seeded Voronoi map with random populations and asset counts).
"""

from __future__ import annotations

import pytest

from _plans import JumpClock, assert_valid_plan
from _synthetic import synthetic_voronoi
from nwm_geo import localities as loc


@pytest.mark.integration  # slow: two solves of a 50-unit map with improvement chains
def test_chains_three_way_steps_and_pool_mip_give_one_plan_on_any_machine() -> None:
    """With the band too large to list (a node budget of 2,000), the improvement chains
    run, three-way steps among them, each followed by the MIP over the pool of
    localities they drew; their work is counted (and the MIP solved to optimality in
    one thread), so a clock that stands still and one that advances on every reading
    (short of the limit) give the same plan, whose localities are connected and
    correctly scored.
    """
    units = synthetic_voronoi(50, 5)
    k = 5

    def solve(clock: JumpClock) -> loc.LocalityPlan:
        budget = loc.SolveBudget(time_limit_s=4, max_nodes=2_000, clock=clock)
        return loc.partition(units, k=k, method="sets", budget=budget)

    fast = solve(JumpClock(0.0))
    slow_clock = JumpClock(1e-5)
    slow = solve(slow_clock)
    assert slow_clock.now < 4  # the slow machine did not reach the limit
    assert "recombination chains" in fast.method
    assert not fast.time_limit_reached and not slow.time_limit_reached
    assert fast.assignment.equals(slow.assignment)
    assert_valid_plan(fast, units, k)
