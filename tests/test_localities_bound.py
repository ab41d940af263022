"""Lower bounds of the locality partitioner (issue 26): the cover LP's bisection.

All maps here are SYNTHETIC (seeded random Voronoi cells, populations and asset counts).
Every bound is checked against the optimum a brute force finds over every labelling.
"""

from __future__ import annotations

import itertools
import re

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from _synthetic import synthetic_voronoi
from nwm_geo import localities as loc


def _brute(units: gpd.GeoDataFrame, k: int) -> list[tuple[float, np.ndarray]]:
    """Every plan of k connected localities (unit 0 in locality 0), with its worst deviation."""
    adj = loc.ward_adjacency(units)
    graph = nx.Graph(list(adj[["ward_a", "ward_b"]].itertuples(index=False)))
    codes = list(units.index)
    values = units[["population", "assets"]].to_numpy(dtype=float)
    means = values.sum(axis=0) / k
    out = []
    for rest in itertools.product(range(k), repeat=len(codes) - 1):
        lab = np.array((0, *rest))
        if len(set(lab.tolist())) < k:
            continue
        if all(
            nx.is_connected(graph.subgraph([codes[i] for i in np.flatnonzero(lab == j)]))
            for j in range(k)
        ):
            sums = np.array([values[lab == j].sum(axis=0) for j in range(k)])
            out.append((float(np.abs(sums / means - 1).max()), lab))
    return out


@pytest.mark.parametrize(("n", "k", "seed"), [(10, 3, 1), (8, 4, 4), (9, 3, 7), (8, 4, 8)])
def test_the_lp_bound_from_a_poor_start_never_passes_the_brute_force_optimum(
    n: int, k: int, seed: int
) -> None:
    """The band is listed at a poor start plan's value; the LP bisection bounds it.

    The bound must not exceed the optimum (a wrong proof), and a proven plan must be
    the optimum.
    """
    units = synthetic_voronoi(n, seed)
    plans = sorted(_brute(units, k), key=lambda p: p[0])
    optimum = plans[0][0]
    # a start well above the optimum (the worst plan within twice the optimum's value)
    poor_value, poor = max((p for p in plans if p[0] <= 2 * optimum + 0.05), key=lambda p: p[0])
    assert poor_value > optimum + 1e-9
    start = pd.Series([f"L{v}" for v in poor], index=units.index)
    plan = loc.partition(
        units,
        k=k,
        rules=loc.PartitionRules(k_range=(2, 8)),
        budget=loc.SolveBudget(time_limit_s=20),
        start=start,
    )
    assert "LP bisection" in plan.method
    # the LP's own bound (before the band bisection's plan clamps it) is valid too
    lp_pct = re.search(r"LP bisection: \d+ LPs \(\d+ infeasible\), lower bound ([0-9.]+)%",
                       plan.method)  # fmt: skip
    assert lp_pct is not None
    assert float(lp_pct.group(1)) / 100 <= optimum + 1e-6  # printed to 4 decimals of a %
    assert plan.bound <= optimum + 1e-12
    assert plan.objective >= optimum - 1e-12
    assert plan.proven_optimal
    assert plan.objective == pytest.approx(optimum, abs=1e-12)


@pytest.mark.parametrize(("n", "k", "seed"), [(10, 3, 2), (10, 3, 3), (8, 4, 5)])
def test_the_lp_bisection_alone_proves_the_brute_force_optimum(n: int, k: int, seed: int) -> None:
    """On these maps every LP below the incumbent is infeasible: the LP is the proof.

    The exact-cover bisection does not run; the optimum is the brute force's.
    """
    units = synthetic_voronoi(n, seed)
    optimum = min(v for v, _ in _brute(units, k))
    plan = loc.partition(
        units,
        k=k,
        rules=loc.PartitionRules(k_range=(2, 8)),
        budget=loc.SolveBudget(time_limit_s=20),
    )
    assert re.search(
        r"LP bisection: \d+ LPs \(\d+ infeasible\), lower bound [0-9.]+%, proven", plan.method
    )
    assert "band bisection" not in plan.method
    assert plan.proven_optimal and plan.bound == pytest.approx(optimum, abs=1e-12)
    assert plan.objective == pytest.approx(optimum, abs=1e-12)
