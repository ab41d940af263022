"""Checks and clocks for the locality tests (one implementation of each).

- :class:`JumpClock`: a fake clock for ``SolveBudget(clock=...)``.
- :func:`assert_valid_plan`: a plan covers every unit with ``k`` connected localities,
  and its objective, bound and gap agree with its summary.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import pytest

from nwm_geo import localities as loc


class JumpClock:
    """A clock that advances ``step`` per call, and jumps by ``jump`` at call ``at``.

    ``step=0`` is a clock that stands still.
    """

    def __init__(self, step: float, *, at: int = 10**12, jump: float = 0.0) -> None:
        self.now, self.step, self.calls, self.at, self.jump = 0.0, step, 0, at, jump

    def __call__(self) -> float:
        self.calls += 1
        self.now += self.step + (self.jump if self.calls == self.at else 0.0)
        return self.now


def assert_valid_plan(plan: loc.LocalityPlan, units: gpd.GeoDataFrame, k: int) -> None:
    """The plan covers every unit with k connected localities; its numbers agree."""
    assert plan.assignment.index.equals(units.index)
    assert plan.assignment.nunique() == k
    adj = loc.ward_adjacency(units)
    graph = nx.Graph(list(adj[["ward_a", "ward_b"]].itertuples(index=False)))
    for name in plan.assignment.unique():
        members = plan.assignment.index[plan.assignment == name]
        assert nx.is_connected(graph.subgraph(members))
    worst = plan.summary[["population_dev_pct", "assets_dev_pct"]].abs().to_numpy().max()
    assert plan.objective == pytest.approx(worst / 100)
    assert plan.bound <= plan.objective + 1e-12
    assert plan.gap_points == pytest.approx(100 * (plan.objective - plan.bound))
