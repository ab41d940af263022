"""The incumbent's improvement moves, through ``partition``.

Every fourth step of an improvement chain merges three adjacent localities, draws a
random spanning tree of their units and cuts two of its edges; after each chain a
set-partitioning MIP (HiGHS) recombines the localities the chains drew. The maps are
synthetic (a seeded Voronoi map with random populations and asset counts).
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import pytest

from _synthetic import synthetic_voronoi
from nwm_geo import localities as loc


class _Counter:
    """A fake clock: ``step`` seconds per reading (0: time stands still)."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def _connected_and_scored(plan: loc.LocalityPlan, units: gpd.GeoDataFrame, k: int) -> None:
    """Every locality is connected, there are ``k``, and the objective is the summary's."""
    assert plan.assignment.index.equals(units.index)
    assert plan.assignment.nunique() == k
    adj = loc.ward_adjacency(units)
    graph = nx.Graph(list(adj[["ward_a", "ward_b"]].itertuples(index=False)))
    for name in plan.assignment.unique():
        assert nx.is_connected(graph.subgraph(plan.assignment.index[plan.assignment == name]))
    worst = plan.summary[["population_dev_pct", "assets_dev_pct"]].abs().to_numpy().max()
    assert plan.objective == pytest.approx(worst / 100)


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

    def solve(clock: _Counter) -> loc.LocalityPlan:
        budget = loc.SolveBudget(time_limit_s=4, max_nodes=2_000, clock=clock)
        return loc.partition(units, k=k, method="sets", budget=budget)

    fast = solve(_Counter(0.0))
    slow_clock = _Counter(1e-5)
    slow = solve(slow_clock)
    assert slow_clock.now < 4  # the slow machine did not reach the limit
    assert "recombination chains" in fast.method
    assert not fast.time_limit_reached and not slow.time_limit_reached
    assert fast.assignment.equals(slow.assignment)
    _connected_and_scored(fast, units, k)
