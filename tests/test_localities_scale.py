"""Localities at any size: never a crash, always a plan with a bound; the compact
objective; the generic ``nwm-geo partition`` command.

All maps here are synthetic (square grids and a seeded Voronoi map with random
populations and asset counts).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Polygon, box

from _plans import JumpClock, assert_valid_plan
from _synthetic import synthetic_grid, synthetic_voronoi
from nwm_geo import DataValidationError
from nwm_geo import localities as loc
from nwm_geo.cli import main

SIDE = 1000.0


def grid(rows: int, cols: int, population: list[int], assets: list[int]) -> gpd.GeoDataFrame:
    """A synthetic rows x cols grid of 1 km squares, codes W<r><c>, row-major."""
    codes = [f"W{r}{c}" for r in range(rows) for c in range(cols)]
    geoms = [
        box(c * SIDE, -(r + 1) * SIDE, (c + 1) * SIDE, -r * SIDE)
        for r in range(rows)
        for c in range(cols)
    ]
    gdf = gpd.GeoDataFrame(
        {"population": population, "assets": assets},
        geometry=geoms,
        index=pd.Index(codes, name="ward_code"),
    )
    return gdf.set_crs("EPSG:27700")


# --------------------------------------------------------------------------- never fail


def test_the_40_unit_map_that_blew_up_returns_a_plan_when_time_runs_out() -> None:
    """Regression: this 40-unit map with k=5 lists about 157,000 connected sets; the
    set-partitioning MIP then ran for minutes past its limit and returned no plan. A
    clock that runs out while the sets are being listed must still give a valid plan,
    labelled unproven, within the limit (counted on the injected clock).
    """
    units = synthetic_voronoi(40, 40)
    # the heuristic makes about 20 calls, the enumeration one per 4096 nodes: the jump
    # lands inside the enumeration
    clock = JumpClock(1e-4, at=150, jump=1_000.0)
    plan = loc.partition(units, k=5, budget=loc.SolveBudget(time_limit_s=60, clock=clock))
    assert_valid_plan(plan, units, 5)
    assert not plan.proven_optimal
    assert plan.status.startswith("best found within time limit")
    assert "time limit" in plan.method
    assert plan.runtime_s <= 60 + 1_000 + 1  # the jump itself, nothing more


@pytest.mark.integration  # slow: a 40-unit solve (fast tier < 60 s)
def test_the_40_unit_map_is_proven_with_time_to_spare() -> None:
    """The work the 60 s limit buys (moves, steps, search nodes: counts) proves it; a
    clock that stands still keeps the verdict off the machine's load.
    """
    units = synthetic_voronoi(40, 40)
    plan = loc.partition(units, k=5, budget=loc.SolveBudget(time_limit_s=60, clock=JumpClock(0.0)))
    assert_valid_plan(plan, units, 5)
    assert plan.proven_optimal and plan.gap_points == 0
    assert "band bisection" in plan.method


@pytest.mark.integration  # slow: a 40-unit solve (fast tier < 60 s)
def test_alternatives_on_a_map_too_large_to_enumerate_still_rank_plans() -> None:
    """Regression: alternatives() always enumerated and raised "no plan" at 40 units."""
    units = synthetic_voronoi(40, 40)
    alts = loc.alternatives(units, k=3, n=3, budget=loc.SolveBudget(time_limit_s=8, max_sets=2_000))
    assert alts.best is not None
    assert_valid_plan(alts.best, units, 3)
    assert "did not fit its budget" in alts.method
    objectives = alts.plans.drop_duplicates("rank")["objective"].tolist()
    assert objectives == sorted(objectives)


@pytest.mark.integration  # slow: a 40-unit solve (fast tier < 60 s)
def test_alternatives_with_more_sets_than_the_mip_takes_rank_the_proven_plan_first() -> None:
    """Regression: with about 157,000 sets every ranked MIP was killed at the deadline."""
    units = synthetic_voronoi(40, 40)
    alts = loc.alternatives(
        units, k=5, n=3, budget=loc.SolveBudget(time_limit_s=60, clock=JumpClock(1e-4))
    )
    assert alts.best is not None
    assert_valid_plan(alts.best, units, 5)
    assert alts.best.proven_optimal
    assert len(alts.ranked) == 3
    assert all(p.objective >= alts.best.objective - 1e-12 for p in alts.ranked)


@pytest.mark.integration  # slow: a 60-unit solve with chains and pair re-splits
def test_a_band_too_large_to_list_gets_recombination_chains_and_exact_pairs() -> None:
    """Regression (issue 26): on this 60-unit map with k = 5 every plan of single-unit
    annealing and tree recombination stopped at 2.38 % or 1.10 % (one asset off, then
    a population the random trees could not split finer), above the 1.63 % a
    same-objective ReCom chain found in the same time. With the band too large to list,
    the chains, the covers over the localities they drew and the exact pair re-splits
    run (counted work; a clock that stands still keeps the machine's load out), and the
    plan is within 1 point of the bound. The band's search is estimated (Knuth's random
    walks, a count) far over the node budget, so it is not started, and four improvement
    rounds take its work.
    """
    units = synthetic_voronoi(60, 60)
    budget = loc.SolveBudget(time_limit_s=12, max_nodes=2_000, clock=JumpClock(0.0))
    plan = loc.partition(units, k=5, method="sets", budget=budget)
    assert_valid_plan(plan, units, 5)
    assert "recombination chains" in plan.method
    assert "after 4 rounds of recombination chains" in plan.method
    assert "enumeration stopped (not started: about" in plan.method
    assert plan.objective < 0.01
    assert plan.gap_points <= 1.0


@pytest.mark.integration  # slow: a 40-unit solve (fast tier < 60 s)
def test_an_enumeration_budget_falls_back_to_the_flow_model() -> None:
    units = synthetic_voronoi(40, 40)
    plan = loc.partition(units, k=5, budget=loc.SolveBudget(time_limit_s=5, max_sets=500))
    assert_valid_plan(plan, units, 5)
    assert plan.method.startswith("flow:") and "enumeration stopped (set limit" in plan.method


def test_truly_infeasible_says_why() -> None:
    units = grid(2, 2, [100, 100, 100, 5000], [1, 1, 1, 1])
    with pytest.raises(loc_error(), match="alone exceed the band"):
        loc.partition(units, k=2, rules=loc.PartitionRules(population_band=0.05))


def loc_error() -> type[Exception]:
    from nwm_geo import InfeasiblePartitionError

    return InfeasiblePartitionError


# --------------------------------------------------------------------------- compact


def _brute_compact(
    rows: int, cols: int, k: int, pop: list[int], assets: list[int], tol: float
) -> float:
    """Smallest cut (m) over contiguous plans with every deviation within ``tol``."""
    n = rows * cols
    edges = [(r * cols + c, r * cols + c + 1) for r in range(rows) for c in range(cols - 1)]
    edges += [(r * cols + c, (r + 1) * cols + c) for r in range(rows - 1) for c in range(cols)]
    graph = nx.Graph(edges)
    best = np.inf
    for labels in itertools.product(range(k), repeat=n):
        if labels[0] != 0 or len(set(labels)) != k:
            continue
        groups = [[i for i in range(n) if labels[i] == j] for j in range(k)]
        if not all(nx.is_connected(graph.subgraph(g)) for g in groups):
            continue
        ok = all(
            abs(sum(v[i] for i in g) - sum(v) / k) <= tol * sum(v) / k + 1e-9
            for v in (pop, assets)
            for g in groups
        )
        if ok:
            best = min(best, SIDE * sum(1 for a, b in edges if labels[a] != labels[b]))
    return float(best)


def test_compact_objective_finds_the_shortest_boundary_within_the_band() -> None:
    pop = [120, 80, 95, 60, 150, 70, 110, 90, 100]
    assets = [3, 1, 2, 0, 4, 1, 2, 2, 3]
    units = grid(3, 3, pop, assets)
    plan = loc.partition(
        units,
        k=3,
        rules=loc.PartitionRules(objective="compact", tolerance=0.35),
        budget=loc.SolveBudget(time_limit_s=30),
    )
    assert plan.objective_kind == "compact"
    assert plan.objective <= 0.35 + 1e-9
    # shared lengths are measured with a 1 m tolerance, so each cut edge is about 1 km
    best = _brute_compact(3, 3, 3, pop, assets, 0.35)
    assert plan.boundary_cut_m == pytest.approx(best, rel=0.01)
    assert plan.cut_proven and plan.cut_bound_m == pytest.approx(plan.boundary_cut_m)
    assert "proven minimal" in plan.status and "% of the average" in plan.status


def test_compact_objective_with_an_impossible_tolerance_says_so() -> None:
    pop = [120, 80, 95, 60, 150, 70, 110, 90, 100]
    units = grid(3, 3, pop, [3, 1, 2, 0, 4, 1, 2, 2, 3])
    with pytest.raises(loc_error(), match="the best possible worst deviation"):
        loc.partition(
            units,
            k=3,
            rules=loc.PartitionRules(objective="compact", tolerance=0.001),
            budget=loc.SolveBudget(time_limit_s=30),
        )


# --------------------------------------------------------------------------- the command


def _write_units(tmp_path: Path, units: gpd.GeoDataFrame, name: str = "units.geojson") -> Path:
    path = tmp_path / name
    out = units.reset_index().rename(columns={"ward_code": "code", "population": "people"})
    out.to_file(path, driver="GeoJSON")
    return path


def test_partition_command_writes_the_plan_and_its_summary(tmp_path: Path) -> None:
    units = synthetic_voronoi(30, 7)
    src = _write_units(tmp_path, units)
    out = tmp_path / "plan.csv"
    code = main(
        [
            "partition",
            str(src),
            "--id-column",
            "code",
            "--population-column",
            "people",
            "--balance-column",
            "assets",
            "--k",
            "4",
            "--time-limit",
            "30",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    plan = pd.read_csv(out, index_col="code")
    assert set(plan.index) == set(units.index) and plan["locality"].nunique() == 4
    summary = json.loads(out.with_suffix(".json").read_text())
    for key in ("status", "worst_deviation_pct", "lower_bound_pct", "gap_points", "wording"):
        assert key in summary
    assert summary["lower_bound_pct"] <= summary["worst_deviation_pct"] + 1e-9
    assert summary["input"]["units_file"] == str(src)
    assert summary["wording"][0].startswith("every locality within ±")
    totals = plan.groupby("locality")["population"].sum()
    mean = units["population"].sum() / 4
    worst = float(((totals - mean).abs() / mean).max())
    assert summary["wording"][0] == (
        f"every locality within ±{100 * worst:.1f} % of the average population"
    )


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ("missing column", "column 'assets': column not found"),
        ("non-numeric", "feature 3, column 'people': not a number (value: 'many')"),
        ("island", "an island: no neighbour"),
        ("k too large", "k=50 localities but only 30 units"),
    ],
)
def test_partition_command_rejects_bad_input_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: str, needle: str
) -> None:
    units = synthetic_voronoi(30, 7).reset_index()
    units["population"] = units["population"].astype(object)
    k = "4"
    if change == "missing column":
        units = units.drop(columns="assets")
    elif change == "non-numeric":
        units.loc[2, "population"] = "many"
    elif change == "island":
        far = box(100_000, 100_000, 101_000, 101_000)
        extra = {"ward_code": "FAR", "population": 500, "assets": 1, "geometry": far}
        units = pd.concat([units, pd.DataFrame([extra])], ignore_index=True)
    else:
        k = "50"
    frame = gpd.GeoDataFrame(units, geometry="geometry", crs="EPSG:27700")
    src = _write_units(tmp_path, frame.set_index("ward_code"))
    out = tmp_path / "plan.csv"
    code = main(
        [
            "partition",
            str(src),
            "--id-column",
            "code",
            "--population-column",
            "people",
            "--balance-column",
            "assets",
            "--k",
            k,
            "--out",
            str(out),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert str(src) in err and needle in err
    assert not out.exists() and not out.with_suffix(".json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["units.geojson"]


def test_a_bowtie_polygon_is_repaired_and_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 20: a self-intersecting polygon ended in a GEOSException traceback."""
    units = grid(3, 3, [100] * 9, [1] * 9).reset_index()
    x0, y0, x1, y1 = units.geometry.iloc[4].bounds
    units.loc[4, "geometry"] = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])  # a bowtie
    frame = gpd.GeoDataFrame(units, geometry="geometry", crs="EPSG:27700")
    src = _write_units(tmp_path, frame.set_index("ward_code"))
    read = loc.read_units(src, id_column="code", population_column="people")
    assert read.geometry.is_valid.all()
    assert len(read.attrs["repaired"]) == 1 and "feature 5" in read.attrs["repaired"][0]
    out = tmp_path / "plan.csv"
    args = ["partition", str(src), "--id-column", "code", "--population-column", "people"]
    assert main([*args, "--k", "3", "--time-limit", "20", "--out", str(out), "--quiet"]) == 0
    assert "repaired an invalid polygon" in capsys.readouterr().out
    assert out.exists()


def test_degrees_labelled_as_metres_are_reported_as_a_crs_mislabel(tmp_path: Path) -> None:
    units = grid(3, 3, [100] * 9, [1] * 9)
    degrees = units.set_crs("EPSG:27700", allow_override=True).copy()
    degrees["geometry"] = units.geometry.scale(1e-5, 1e-5, origin=(0, 0)).translate(-0.4, 51.9)
    src = _write_units(tmp_path, degrees)
    with pytest.raises(DataValidationError, match="look like degrees") as err:
        loc.read_units(src, id_column="code", population_column="people")
    assert "island" not in str(err.value)


# --------------------------------------------------------------------------- time limits


def test_a_seed_gives_the_same_plan_on_a_fast_and_a_slow_machine() -> None:
    """Work is counted in moves and search nodes, not seconds: a clock that stands still
    (a very fast machine) and one that runs 2 ms per reading (a slow one), both short of
    the limit, give the same plan, and neither says the wall clock cut it short.
    400 units are past the flow MIP's size for a 5 s limit, so no solver time enters.
    """
    units = synthetic_grid(20, 20, 5)
    fast = loc.partition(units, k=5, budget=loc.SolveBudget(time_limit_s=5, clock=JumpClock(0.0)))
    slow_clock = JumpClock(0.002)
    slow = loc.partition(units, k=5, budget=loc.SolveBudget(time_limit_s=5, clock=slow_clock))
    assert slow_clock.now < 5  # the slow machine did not reach the limit
    assert not fast.time_limit_reached and not slow.time_limit_reached
    assert fast.assignment.equals(slow.assignment)
    assert fast.objective == slow.objective
    assert "flow MIP not built" in fast.method
    assert_valid_plan(fast, units, 5)


def test_a_deadline_spent_on_reading_still_returns_the_best_plan_and_says_so() -> None:
    """One budget covers the whole command: when reading took 9.9 of 10 s (on the
    injected clock), the search is cut short by the wall clock, a valid plan comes back,
    and the plan says which phases were cut.
    """
    clock = JumpClock(0.001)
    budget = loc.Deadline(10.0, clock)
    clock.now += 9.9  # reading the file took 9.9 s
    units = synthetic_grid(20, 20, 5)
    plan = loc.partition(units, k=5, budget=loc.SolveBudget(time_limit_s=budget))
    assert_valid_plan(plan, units, 5)
    assert plan.time_limit_reached and plan.time_limit_stops
    assert "time limit cut short" in plan.method
    assert not plan.proven_optimal
    assert plan.runtime_s >= 9.9  # the reading counts in the call's runtime
    # the search stopped within its safety checks: a few hundred clock readings past
    # the deadline at most, not a full restart, annealing or enumeration
    assert clock.now < 10.0 + 2.0


def test_a_clock_jump_in_the_heuristic_is_reported_and_the_rest_is_skipped() -> None:
    """The wall clock passing the deadline inside the region growing/descent restarts
    is noted, and no later phase (annealing, enumeration, MIP) overruns it by more than
    its first safety check.
    """
    units = synthetic_grid(20, 20, 5)
    clock = JumpClock(1e-5, at=40, jump=100.0)
    plan = loc.partition(units, k=5, budget=loc.SolveBudget(time_limit_s=60, clock=clock))
    assert_valid_plan(plan, units, 5)
    assert plan.time_limit_reached
    assert any("heuristic" in s for s in plan.time_limit_stops)
    assert plan.runtime_s < 60 + 100 + 1


def test_deadline_shares_its_notes_and_never_outlasts_its_parent() -> None:
    clock = JumpClock(0.0)
    budget = loc.Deadline(10.0, clock)
    clock.now = 8.0
    sub = budget.share(0.4)  # 4 s from t = 8 would end at 12: capped at 10
    assert sub.limit_s == pytest.approx(4.0)
    assert sub.at == pytest.approx(budget.at)
    sub.stop("annealing")
    sub.stop("annealing")
    assert budget.stops == ["annealing"] and budget.cut_short
    with budget.phase("reading"):
        clock.now += 1.5
    assert budget.phases["reading"] == pytest.approx(1.5)
    assert budget.left() == pytest.approx(0.5)
    assert not budget.expired()
    clock.now = 10.0
    assert budget.expired()


def test_partition_command_reports_its_whole_time_budget(tmp_path: Path) -> None:
    """The JSON summary records the limit, the phases it covered (reading included; on
    the real command line, start-up too) and whether the wall clock cut the search short.
    """
    units = synthetic_voronoi(30, 7)
    src = _write_units(tmp_path, units)
    out = tmp_path / "plan.csv"
    args = ["partition", str(src), "--id-column", "code", "--population-column", "people"]
    args += ["--balance-column", "assets", "--k", "3", "--time-limit", "30"]
    assert main([*args, "--out", str(out), "--quiet"]) == 0
    record = json.loads(out.with_suffix(".json").read_text())["time_limit"]
    assert record["limit_s"] == 30
    assert {"reading", "adjacency and rules"} <= set(record["seconds_by_phase_before_writing"])
    # whether the clock cut it depends on the machine's load; the record must agree
    assert record["cut_short_by_wall_clock"] is bool(record["phases_cut_short"])
