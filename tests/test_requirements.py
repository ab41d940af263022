"""Tests for nwm_geo.requirements on tiny SYNTHETIC coverage matrices with known answers."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import highspy
import numpy as np
import pandas as pd
import pulp
import pytest
from scipy import sparse

from nwm_geo import NwmGeoError, SolverError
from nwm_geo import requirements as rq
from nwm_geo.coverage import Cover

# ---------------------------------------------------------------------------
# the synthetic fixture
#
# points P1..P6 (pop 100, 200, 300, 400, 0, 50); wards W1 (North): P1-P3, W2 (South): P4-P6
# Library:  A covers P1,P2   B covers P2,P3   C covers P3   D covers nothing
# GP:       G1 covers P1..P4, G2 covers P4
# => Library: A is the sole provider for P1 (100); B, C overlapping coverage;
#    D "covers no one". Minimal cover: {A, B} or {A, C} (size 2).
# => GP: G1 sole for P1..P3 (600); G2 redundant; minimal cover {G1}.
# Library gap: P4 (400), P6 (50); P5 has no residents.

POINTS = ["P1", "P2", "P3", "P4", "P5", "P6"]
ASSETS = ["A", "B", "C", "D", "G1", "G2"]
COVER = {
    "A": ["P1", "P2"],
    "B": ["P2", "P3"],
    "C": ["P3"],
    "D": [],
    "G1": ["P1", "P2", "P3", "P4"],
    "G2": ["P4"],
}


def _cover(matrix: Any, points: list[str], sources: list[str], minutes: float = 15.0) -> Cover:
    """A hand-built cover (rows points, columns sources) at a 15-minute, 80 m/min walk."""
    return Cover(
        matrix=sparse.csr_matrix(matrix),
        point_index=pd.Index(points),
        source_index=pd.Index(sources),
        minutes=minutes,
        speed_m_per_min=80.0,
    )


def _matrix(cols: dict[str, list[str]], rows: list[str]) -> sparse.csr_matrix:
    m = np.zeros((len(rows), len(cols)), dtype=bool)
    for j, ids in enumerate(cols.values()):
        for pid in ids:
            m[rows.index(pid), j] = True
    return sparse.csr_matrix(m)


@pytest.fixture
def fx() -> SimpleNamespace:
    points = pd.DataFrame(
        {
            "population": [100.0, 200.0, 300.0, 400.0, 0.0, 50.0],
            "ward_code": ["W1", "W1", "W1", "W2", "W2", "W2"],
            "lsoa_code": ["L1", "L1", "L2", "L3", "L3", "L3"],
            "lon": [-0.40, -0.41, -0.42, -0.43, -0.44, -0.45],
            "lat": [51.88, 51.89, 51.90, 51.87, 51.86, 51.85],
        },
        index=pd.Index(POINTS, name="point_id"),
    )
    assets = pd.DataFrame(
        {
            "name": ["Lib A", "Lib B", "Lib C", "Lib D", "GP One", "GP Two"],
            "category": ["Library"] * 4 + ["GP / Medical Centre"] * 2,
            "ward_code": ["W1", "W1", "W2", "W2", "W1", "W2"],
            "ward_name": ["Ward 1", "Ward 1", "Ward 2", "Ward 2", "Ward 1", "Ward 2"],
            "lon": [-0.40] * 6,
            "lat": [51.88] * 6,
        },
        index=pd.Index(ASSETS, name="asset_id"),
    )
    cover = _cover(_matrix(COVER, POINTS), POINTS, ASSETS)
    assignment = pd.Series({"W1": "North", "W2": "South"}, name="locality")
    nearest = pd.DataFrame(
        {
            "Library": [5.0, 6.0, 7.0, 20.0, math.nan, 16.0],
            "GP / Medical Centre": [5.0, 5.0, 5.0, 10.0, 30.0, 40.0],
        },
        index=pd.Index(POINTS, name="point_id"),
    )
    # postcode candidate sites: each point reaches itself; P5 also reaches P4 and P6
    site_cols = {p: [p] for p in POINTS}
    site_cols["P5"] = ["P4", "P5", "P6"]
    site_cover = _cover(_matrix(site_cols, POINTS), POINTS, POINTS)
    return SimpleNamespace(
        points=points,
        assets=assets,
        cover=cover,
        assignment=assignment,
        nearest=nearest,
        site_cover=site_cover,
    )


# ---------------------------------------------------------------------------
# catchments, required, redundant


def test_catchments_known_values(fx: SimpleNamespace) -> None:
    c = rq.asset_catchments(fx.cover, fx.assets, fx.points)
    assert list(c.index) == ASSETS
    assert c.loc["A", "sole_population"] == 100
    assert c.loc["A", "covered_population"] == 300
    assert c.loc["B", "sole_points"] == 0
    assert c.loc["G1", "sole_population"] == 600
    assert c.loc["G2", "sole_population"] == 0
    assert c.loc["D", "covered_points"] == 0
    assert c.loc["B", "n_overlapping"] == 2  # A and C


def test_required_ranked_by_population(fx: SimpleNamespace) -> None:
    c = rq.asset_catchments(fx.cover, fx.assets, fx.points)
    req = rq.required_assets(fx.assets, c, assignment=fx.assignment)
    assert set(req.index) == {"A", "G1"}
    assert req.loc["A", "locality"] == "North"
    assert (req["rank"] == 1).all()
    req2 = rq.required_assets(fx.assets, c, assignment=fx.assignment, min_sole_population=150)
    assert list(req2.index) == ["G1"]


def test_redundant_says_which_kind(fx: SimpleNamespace) -> None:
    c = rq.asset_catchments(fx.cover, fx.assets, fx.points)
    red = rq.redundant_assets(fx.assets, c, assignment=fx.assignment)
    assert set(red.index) == {"B", "C", "D", "G2"}
    assert red.loc["D", "redundancy"] == "covers no one"
    assert red.loc["B", "redundancy"] == "overlapping coverage (capacity not considered)"
    assert red.loc["C", "locality"] == "South"


def test_bad_cover_shape_raises(fx: SimpleNamespace) -> None:
    c = fx.cover
    with pytest.raises(NwmGeoError, match="shape"):
        _cover(c.matrix, list(c.point_index[:3]), list(c.source_index))
    # a legacy (matrix, points, sources) tuple is still checked the same way
    with pytest.raises(NwmGeoError, match="shape"):
        rq.asset_catchments((c.matrix, c.point_index[:3], c.source_index), fx.assets, fx.points)


def test_legacy_tuple_cover_gives_the_same_catchments(fx: SimpleNamespace) -> None:
    c = fx.cover
    legacy = (c.matrix, c.point_index, c.source_index)
    pd.testing.assert_frame_equal(
        rq.asset_catchments(legacy, fx.assets, fx.points),
        rq.asset_catchments(c, fx.assets, fx.points),
    )


# ---------------------------------------------------------------------------
# gaps


def test_gap_population_by_locality(fx: SimpleNamespace) -> None:
    g = rq.gap_population(fx.nearest, fx.points, assignment=fx.assignment)
    assert g.loc[("South", "Library"), "gap_population"] == 450  # P4 400 + P6 50; P5 empty
    assert g.loc[("South", "Library"), "gap_points"] == 2
    assert g.loc[("North", "Library"), "gap_population"] == 0
    assert g.loc[("South", "GP / Medical Centre"), "gap_population"] == 50
    assert g.loc[("South", "Library"), "covered_share"] == pytest.approx(0.0)
    b = rq.gap_population(fx.nearest, fx.points, assignment=fx.assignment, by="borough")
    assert b.loc[("Luton", "Library"), "gap_share"] == pytest.approx(450 / 1050)
    w = rq.gap_population(fx.nearest, fx.points, assignment=fx.assignment, by="lsoa")
    assert w.loc[("L3", "Library"), "gap_population"] == 450


def test_gap_points_lists_where(fx: SimpleNamespace) -> None:
    gp = rq.gap_points(fx.nearest, fx.points, assignment=fx.assignment)
    assert list(gp.index) == ["P4", "P5", "P6"]
    assert bool(gp.loc["P4", "Library"]) and not bool(gp.loc["P4", "GP / Medical Centre"])
    assert bool(gp.loc["P5", "Library"])  # NaN = unreachable = in the gap
    assert gp.loc["P6", "locality"] == "South"


# ---------------------------------------------------------------------------
# minimal cover (LSCP)


def test_minimal_cover_known(fx: SimpleNamespace) -> None:
    sol = rq.minimal_cover(fx.cover, fx.assets, fx.points, measure="Library")
    assert sol.status.proven_optimal
    assert sol.status.label == "proven optimal"
    assert len(sol.selected) == 2
    assert "A" in sol.selected
    assert sol.population_kept == 600
    gp = rq.minimal_cover(fx.cover, fx.assets, fx.points, measure="GP / Medical Centre")
    assert list(gp.selected) == ["G1"]


def _brute_force_lscp(m: np.ndarray, pop: np.ndarray) -> int:
    rows = (m.any(axis=1)) & (pop > 0)
    for size in range(m.shape[1] + 1):
        for combo in itertools.combinations(range(m.shape[1]), size):
            if m[rows][:, list(combo)].any(axis=1).all():
                return size
    raise AssertionError("unreachable")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_minimal_cover_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_pts, n_assets = 30, 10
    m = rng.random((n_pts, n_assets)) < 0.2
    pop = rng.integers(0, 50, n_pts).astype(float)
    pids = [f"p{i}" for i in range(n_pts)]
    aids = [f"a{j}" for j in range(n_assets)]
    assets = pd.DataFrame(
        {"name": aids, "category": "Library", "ward_code": "W1"}, index=pd.Index(aids)
    )
    points = pd.DataFrame({"population": pop, "ward_code": "W1"}, index=pd.Index(pids))
    cover = _cover(m, pids, aids)
    sol = rq.minimal_cover(cover, assets, points, measure="Library")
    assert sol.status.proven_optimal
    assert len(sol.selected) == _brute_force_lscp(m, pop)
    chosen = [aids.index(a) for a in sol.selected]
    rows = m.any(axis=1) & (pop > 0)
    assert m[rows][:, chosen].any(axis=1).all()


def test_minimal_cover_for_bundle(fx: SimpleNamespace) -> None:
    bundles = {"both": ("Library", "GP / Medical Centre")}
    sol = rq.minimal_cover(fx.cover, fx.assets, fx.points, measure="both", bundles=bundles)
    assert list(sol.selected) == ["G1"]  # G1 alone covers P1..P4


# ---------------------------------------------------------------------------
# best new sites (MCLP)


def test_best_new_sites_known(fx: SimpleNamespace) -> None:
    sol = rq.best_new_sites(
        fx.cover,
        fx.assets,
        fx.points,
        measure="Library",
        site_cover=fx.site_cover,
        where=rq.SiteScope(assignment=fx.assignment),
        policy=rq.RequirementsPolicy(k=1),
    )
    # no building reaches the gap (the libraries are the measure itself): the postcode
    # fallback is solved, and says it is one
    assert sol.status.label == "trivial (nothing to solve)"
    assert sol.fallback_status is not None and sol.fallback_status.proven_optimal
    assert sol.gap_population == 450
    assert sol.newly_covered == 450
    # a maximisation reports its objective and bound in its own sense (PuLP hands HiGHS
    # the negated objective; the shared _solver turns it back)
    assert sol.fallback_status.objective == pytest.approx(450)
    assert sol.fallback_status.bound == pytest.approx(450)
    assert list(sol.table.index) == ["postcode:P5"]
    assert sol.table.loc["postcode:P5", "site_type"] == rq.POSTCODE
    assert "fallback" in sol.table.loc["postcode:P5", "address"]
    assert sol.table.loc["postcode:P5", "locality"] == "South"
    north = rq.best_new_sites(
        fx.cover,
        fx.assets,
        fx.points,
        measure="Library",
        k=1,
        site_cover=fx.site_cover,
        where=rq.SiteScope(assignment=fx.assignment, locality="North"),
    )
    assert north.gap_population == 0 and len(north.table) == 0


def _brute_force_mclp(a: np.ndarray, w: np.ndarray, k: int) -> float:
    best = 0.0
    for combo in itertools.combinations(range(a.shape[1]), k):
        best = max(best, float(w[a[:, list(combo)].any(axis=1)].sum()))
    return best


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_best_new_sites_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_pts, n_sites, k = 40, 12, 3
    pop = rng.integers(1, 100, n_pts).astype(float)
    pids = [f"p{i}" for i in range(n_pts)]
    # one existing library covering the first 10 points; the other 30 are the gap
    lib = np.zeros((n_pts, 1), dtype=bool)
    lib[:10, 0] = True
    assets = pd.DataFrame(
        {"name": ["lib"], "category": ["Library"], "ward_code": ["W1"], "lon": [0], "lat": [0]},
        index=pd.Index(["lib"]),
    )
    points = pd.DataFrame(
        {"population": pop, "ward_code": "W1", "lon": 0.0, "lat": 0.0}, index=pd.Index(pids)
    )
    sites = rng.random((n_pts, n_sites)) < 0.15
    site_ids = pids[:n_sites]
    cover = _cover(lib, pids, ["lib"])
    site_cover = _cover(sites, pids, list(site_ids))
    sol = rq.best_new_sites(
        cover,
        assets,
        points,
        measure="Library",
        site_cover=site_cover,
        policy=rq.RequirementsPolicy(k=k, min_site_population=0, site_spacing_m=0),
    )
    gap = ~lib[:, 0]
    expected = _brute_force_mclp(sites[gap], pop[gap], k)
    assert all(st.proven_optimal for st in sol.statuses)
    assert sol.newly_covered == pytest.approx(expected)
    assert sol.table["marginal_population"].sum() == pytest.approx(expected)
    assert len(sol.table) <= k


# ---------------------------------------------------------------------------
# the proof status is checked, not taken from PuLP


def _hard_set_cover() -> pulp.LpProblem:
    rng = np.random.default_rng(0)
    n_rows, n_cols = 400, 120
    a = rng.random((n_rows, n_cols)) < 0.06
    a[np.arange(n_rows), rng.integers(0, n_cols, n_rows)] = True
    prob = pulp.LpProblem("hard", pulp.LpMinimize)
    x = [pulp.LpVariable(f"x{j}", cat="Binary") for j in range(n_cols)]
    prob += pulp.lpSum(x)
    for i in range(n_rows):
        prob += pulp.lpSum(x[j] for j in np.flatnonzero(a[i])) >= 1
    return prob


def test_forced_time_limit_is_not_called_optimal() -> None:
    prob = _hard_set_cover()
    prob.solve(pulp.HiGHS(msg=False, timeLimit=0.05, gapRel=0.0))
    assert prob.solverModel.getModelStatus() == highspy.HighsModelStatus.kTimeLimit
    try:
        st = rq.solve_status(prob, problem="LSCP", measure="x", integral_objective=True)
    except SolverError:
        return  # stopped before any solution: also not called optimal
    assert not st.proven_optimal
    assert st.label.startswith("time limit (gap ")
    assert st.mip_gap > 0


class _FakeInfo:
    def __init__(self, obj: float, bound: float, gap: float, sol: int = 2) -> None:
        self.objective_function_value = obj
        self.mip_dual_bound = bound
        self.mip_gap = gap
        self.primal_solution_status = sol


class _FakeHighs:
    def __init__(self, status: object, info: _FakeInfo) -> None:
        self._status = status
        self._info = info

    def getModelStatus(self) -> object:
        return self._status

    def getInfo(self) -> _FakeInfo:
        return self._info

    def modelStatusToString(self, status: object) -> str:
        return str(status)


def _fake_prob(status: object, info: _FakeInfo) -> SimpleNamespace:
    return SimpleNamespace(solverModel=_FakeHighs(status, info))


def test_status_labels_from_highs() -> None:
    ms = highspy.HighsModelStatus
    tl = rq.solve_status(
        _fake_prob(ms.kTimeLimit, _FakeInfo(10, 8, 0.2)),  # type: ignore[arg-type]
        problem="p",
        measure="m",
    )
    assert tl.label == "time limit (gap 20.00 %)" and not tl.proven_optimal
    loose = rq.solve_status(
        _fake_prob(ms.kOptimal, _FakeInfo(1000.0, 999.0, 0.001)),  # type: ignore[arg-type]
        problem="p",
        measure="m",
    )
    assert not loose.proven_optimal and loose.label.startswith("optimal within gap")
    # an integer objective with a gap below one unit is proven
    integ = rq.solve_status(
        _fake_prob(ms.kOptimal, _FakeInfo(1000.0, 999.5, 0.0005)),  # type: ignore[arg-type]
        problem="p",
        measure="m",
        integral_objective=True,
    )
    assert integ.proven_optimal
    with pytest.raises(SolverError):
        rq.solve_status(
            _fake_prob(ms.kInfeasible, _FakeInfo(math.inf, math.inf, math.inf, 0)),  # type: ignore[arg-type]
            problem="p",
            measure="m",
        )
    with pytest.raises(SolverError):
        rq.solve_status(
            _fake_prob(ms.kTimeLimit, _FakeInfo(math.inf, 0, math.inf, 0)),  # type: ignore[arg-type]
            problem="p",
            measure="m",
        )


def test_caller_solver_is_used(fx: SimpleNamespace) -> None:
    solver = pulp.HiGHS(msg=False, timeLimit=30)
    sol = rq.minimal_cover(fx.cover, fx.assets, fx.points, measure="Library", solver=solver)
    assert sol.status.solver == "HiGHS" and len(sol.selected) == 2


# ---------------------------------------------------------------------------
# business case and outline


def test_outline_and_business_case(fx: SimpleNamespace) -> None:
    bundles = {"go": ("Library",), "see": ("GP / Medical Centre",)}
    out = rq.outline(
        fx.assets,
        fx.points,
        assignment=fx.assignment,
        inputs=rq.OutlineInputs(
            cover=fx.cover,
            nearest=fx.nearest,
            site_cover=fx.site_cover,
            network_label="network: approximate (postcode proximity), not OSM",
        ),
        policy=rq.RequirementsPolicy(
            measures=("Library", "GP / Medical Centre"),
            new_site_measures=("Library",),
            k=1,
            bundles=bundles,
            sole_threshold=500,
        ),
    )
    assert out.localities == ["North", "South"]
    assert out.summary.loc[("South", "Library"), "gap_population"] == 450
    assert out.summary.loc[("Luton", "Library"), "n_assets"] == 4
    assert out.summary.loc[("North", "Library"), "n_required"] == 1
    bc = out.business_case
    by_rule = {r: set(bc.loc[bc["rule"] == r, "id"]) for r in ["R1", "R2", "R3", "R4"]}
    assert by_rule["R1"] == {"A"}  # council-run Library, sole provider
    assert by_rule["R2"] == {"G1"}  # not council-run, sole for 600 >= 500
    assert by_rule["R3"] == {"postcode:P5"}
    # D covers no one; one of B/C is in the minimal cover, the other is not
    chosen = set(out.minimal_covers["Library"].selected)
    assert by_rule["R4"] == {"B", "C", "D"} - chosen
    assert "D" in by_rule["R4"]
    assert set(bc["action"]) >= {
        "retain and invest",
        "secure access or partnership",
        "new provision: find a site near this postcode",
    }
    assert list(bc.columns) == list(rq.BUSINESS_CASE_COLUMNS)
    # R4 is explained for every council asset with overlapping coverage
    overlap = out.council_overlap
    assert set(overlap.index) == {"B", "C", "D"}
    assert set(overlap.index[overlap["r4"]]) == by_rule["R4"]
    kept = overlap[~overlap["r4"]]
    assert all("in the minimal cover of" in w for w in kept["why"])
    assert out.solver_status["label"].isin(["proven optimal", "trivial (nothing to solve)"]).all()
    loc = out.for_locality("South")
    assert set(loc["new_sites"].index) == {"postcode:P5"}
    needed = out.needed.loc["Library"]
    assert needed.loc["A", "reason"] == "required and in minimal cover"
    assert out.method["network"].startswith("network: approximate")
    assert "R1" in out.rules and "500" in out.rules["R2"]
    with pytest.raises(NwmGeoError):
        out.for_locality("Nowhere")


def test_rules_are_stated() -> None:
    rules = rq.business_case_rules(sole_threshold=250, minutes=15)
    assert list(rules) == ["R1", "R2", "R3", "R4"]
    assert "250" in rules["R2"] and "15-minute" in rules["R1"]


def test_unknown_measure() -> None:
    with pytest.raises(NwmGeoError, match="unknown measure"):
        rq.measure_categories("Pubs")


def test_sole_providers_for_bundles(fx: SimpleNamespace) -> None:
    bundles = {"both": ("Library", "GP / Medical Centre"), "go": ("Library",)}
    assert list(
        rq.sole_providers(fx.cover, fx.assets, fx.points, measure="go", bundles=bundles)
    ) == ["A"]
    # with GP One as an alternative everywhere, no library is a sole provider for the bundle
    both = rq.sole_providers(fx.cover, fx.assets, fx.points, measure="both", bundles=bundles)
    assert list(both) == []
    # every sole provider is in the minimal cover
    for measure in ["go", "both", "GP / Medical Centre"]:
        sol = rq.minimal_cover(fx.cover, fx.assets, fx.points, measure=measure, bundles=bundles)
        sole = rq.sole_providers(fx.cover, fx.assets, fx.points, measure=measure, bundles=bundles)
        assert set(sole) <= set(sol.selected)


def test_cover_converts_to_csc_once(fx: SimpleNamespace) -> None:
    """Regression: every best_new_sites job re-converted the (large) postcode x postcode
    site matrix to CSC; the Cover caches its CSC form and the outline reuses the cover.
    """
    c = fx.site_cover
    assert c.csc is c.csc
    assert c.reindex_points(c.point_index) is c
    flipped = c.reindex_points(pd.Index(POINTS[::-1]))
    assert (flipped.matrix.toarray() == c.matrix.toarray()[::-1]).all()


def test_outline_checks_the_cover_threshold(fx: SimpleNamespace) -> None:
    base = rq.OutlineInputs(
        cover=fx.cover,
        nearest=fx.nearest,
        network_label="network: approximate (postcode proximity), not OSM",
    )
    common = {
        "assignment": fx.assignment,
        "policy": rq.RequirementsPolicy(new_site_measures=("Library",), k=1),
    }
    with pytest.raises(NwmGeoError, match="15 minutes, not 10"):
        rq.outline(fx.assets, fx.points, inputs=replace(base, minutes=10), **common)
    c = fx.site_cover
    other = _cover(c.matrix, list(c.point_index), list(c.source_index), minutes=10)
    with pytest.raises(NwmGeoError, match="site_cover was computed at 10 minutes"):
        rq.outline(fx.assets, fx.points, inputs=replace(base, site_cover=other), **common)
    out = rq.outline(fx.assets, fx.points, inputs=replace(base, site_cover=c), **common)
    assert out.method["walk_minutes"] == 15 and out.method["walk_speed_m_per_min"] == 80


def test_policy_keywords_and_validation(fx: SimpleNamespace) -> None:
    # old keyword calls still work and mean the same as the policy
    old = rq.best_new_sites(
        fx.cover, fx.assets, fx.points, measure="Library", site_cover=fx.site_cover, k=1
    )
    new = rq.best_new_sites(
        fx.cover,
        fx.assets,
        fx.points,
        measure="Library",
        site_cover=fx.site_cover,
        policy=rq.RequirementsPolicy(k=1),
    )
    pd.testing.assert_frame_equal(old.table, new.table)
    with pytest.raises(NwmGeoError, match="'kk'"):
        rq.best_new_sites(fx.cover, fx.assets, fx.points, measure="Library", kk=1)
    with pytest.raises(NwmGeoError, match="k must be") as info:
        rq.RequirementsPolicy(k=-1, sole_threshold=-5)
    assert "sole_threshold" in str(info.value)  # every problem at once
    assert rq.RequirementsPolicy(measures=["Library"]).measures == ("Library",)  # type: ignore[arg-type]


def test_gap_within_rule_is_the_shared_one(fx: SimpleNamespace) -> None:
    """A time a rounding error above the threshold is within (as in the cover), a real
    excess is not: the rule is nwm_geo._units.within_minutes.
    """
    nearest = pd.DataFrame(
        {"Library": [15.0, 15.0 + 1e-9, 15.0 + 1e-4, 5.0, 5.0, 5.0]},
        index=pd.Index(POINTS, name="point_id"),
    )
    gp = rq.gap_points(nearest, fx.points, assignment=fx.assignment, minutes=15)
    assert list(gp.index) == ["P3"]
    with pytest.raises(NwmGeoError, match="more than 0"):
        rq.gap_points(nearest, fx.points, assignment=fx.assignment, minutes=0)


def test_sites_outside_the_area_count_but_are_never_the_councils(fx: SimpleNamespace) -> None:
    """A library just outside the area (inside_area False) covering P1 and P2."""
    assets = pd.concat(
        [
            fx.assets.assign(inside_area=True),
            pd.DataFrame(
                {
                    "name": ["Lib Over The Border"],
                    "category": ["Library"],
                    "ward_code": [""],
                    "ward_name": [""],
                    "lon": [-0.50],
                    "lat": [51.88],
                    "inside_area": [False],
                },
                index=pd.Index(["X"], name="asset_id"),
            ),
        ]
    )
    cols = {**COVER, "X": ["P1", "P2"]}
    cover = _cover(_matrix(cols, POINTS), POINTS, [*ASSETS, "X"])
    crit = rq.asset_catchments(cover, assets, fx.points)
    # A is no longer anyone's only library: X covers P1 too
    assert crit.loc["A", "sole_population"] == 0
    assert "X" not in rq.required_assets(assets, crit, assignment=fx.assignment).index
    assert "X" not in rq.redundant_assets(assets, crit, assignment=fx.assignment).index
    sol = rq.minimal_cover(cover, assets, fx.points, measure="Library")
    # P1 and P2 are X's; only P3 needs a council library (B or C), never X
    assert "X" not in sol.table.index and len(sol.selected) == 1
    assert set(sol.selected) <= {"B", "C"}
    assert sol.population_kept == 600  # P1-P3 stay covered
    assert "X" not in set(
        rq.sole_providers(cover, assets, fx.points, measure="Library").astype(str)
    )
    out = rq.outline(
        assets,
        fx.points,
        assignment=fx.assignment,
        inputs=rq.OutlineInputs(
            cover=cover,
            nearest=fx.nearest,
            site_cover=fx.site_cover,
            network_label="network: approximate (postcode proximity), not OSM",
        ),
        policy=rq.RequirementsPolicy(
            measures=("Library",), new_site_measures=("Library",), k=1, sole_threshold=500
        ),
    )
    assert "X" not in set(out.business_case["id"])
    assert "asset:X" not in set(out.new_sites.index) | set(out.combined_sites.get("site_id", []))
    assert out.summary.loc[("Luton", "Library"), "n_assets"] == 4  # the council's own
