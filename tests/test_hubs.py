"""Tests for community hubs (nwm_geo.hubs and localities.partition_with_hubs).

All data here is synthetic: a 3 x 3 grid of 600 m square wards over a 6 x 6 street grid
(300 m blocks), a demand point with a made-up population at every street corner, and
hub candidates at a few corners. The joint optimum is checked against a brute force
over every contiguous plan, computed straight from the minutes table.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pulp
import pytest
from shapely.geometry import Point, box

from nwm_geo import InfeasiblePartitionError, NwmGeoError, hubs, settings
from nwm_geo import localities as loc
from nwm_geo.coverage import prepare, source_minutes

STEP = 300.0
N = 6
SPEED = 80.0
MINUTES = 15.0  # 1,200 m at 80 m/min: four blocks


def street_grid() -> nx.MultiDiGraph:
    """A synthetic N x N street grid with STEP-metre blocks."""
    G = nx.MultiDiGraph(crs=settings.crs, nwm_source="synthetic grid", approximate=True)
    for i in range(N):
        for j in range(N):
            G.add_node(i * N + j, x=j * STEP, y=i * STEP)
    for i in range(N):
        for j in range(N):
            for di, dj in ((0, 1), (1, 0)):
                if i + di < N and j + dj < N:
                    a, b = i * N + j, (i + di) * N + j + dj
                    G.add_edge(a, b, length=STEP)
                    G.add_edge(b, a, length=STEP)
    return G


def ward_grid() -> gpd.GeoDataFrame:
    """3 x 3 wards of 600 m, each holding 2 x 2 street corners."""
    codes, geoms = [], []
    for r in range(3):
        for c in range(3):
            codes.append(f"W{r}{c}")
            x0, y0 = c * 2 * STEP - STEP / 2, r * 2 * STEP - STEP / 2
            geoms.append(box(x0, y0, x0 + 2 * STEP, y0 + 2 * STEP))
    return gpd.GeoDataFrame(
        {"ward_name": [f"Ward {c}" for c in codes]},
        geometry=geoms,
        index=pd.Index(codes, name="ward_code"),
        crs=settings.crs,
    )


RNG_POP = [int(v) for v in np.random.default_rng(3).integers(20, 200, size=N * N)]


def demand_points(wards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    pts = [Point(j * STEP, i * STEP) for i in range(N) for j in range(N)]
    ids = [f"P{i:02d}" for i in range(N * N)]
    gdf = gpd.GeoDataFrame(
        {"population": RNG_POP}, geometry=pts, index=pd.Index(ids, name="point_id")
    ).set_crs(settings.crs)
    joined = gpd.sjoin(gdf, wards[["geometry"]].reset_index(), predicate="within")
    gdf["ward_code"] = joined["ward_code"]
    return gdf


#: (id, category, name, street corner (row, col))
CANDIDATES = [
    ("C1", "LBC Community Centre", "Corner Centre", (0, 0)),
    ("L1", "Library", "Corner Library", (0, 0)),  # same building as C1: a tie
    ("C2", "Community Centre", "Middle Hall", (2, 3)),
    ("L2", "Library", "East Library", (4, 5)),
    ("K1", "Council", "Civic Office", (5, 1)),
    ("R1", "Religious Institution", "Chapel", (3, 3)),  # not a default category
]


@pytest.fixture(scope="module")
def area() -> dict[str, Any]:
    wards = ward_grid()
    demand = demand_points(wards)
    register = gpd.GeoDataFrame(
        {
            "name": [c[2] for c in CANDIDATES],
            "category": [c[1] for c in CANDIDATES],
            "postcode": ["" for _ in CANDIDATES],
            "inside_area": True,
        },
        geometry=[Point(c[3][1] * STEP, c[3][0] * STEP) for c in CANDIDATES],
        index=pd.Index([c[0] for c in CANDIDATES], name="asset_id"),
        crs=settings.crs,
    )
    joined = gpd.sjoin(register, wards[["geometry"]].reset_index(), predicate="within")
    register["ward_code"] = joined["ward_code"]
    register["ward_name"] = register["ward_code"].map(wards["ward_name"])
    wards["population"] = demand.groupby("ward_code")["population"].sum()
    wards["assets"] = register.groupby("ward_code").size().reindex(wards.index, fill_value=0)
    model = prepare(street_grid(), demand=demand, assets=register)
    candidates = hubs.hub_candidates(register)
    minutes = hubs.candidate_minutes(model, candidates, speed_m_per_min=SPEED)
    rules = hubs.hub_rules(
        minutes, demand, candidates, units=wards.index, minutes=MINUTES, speed_m_per_min=SPEED
    )
    return {
        "wards": wards,
        "demand": demand,
        "register": register,
        "model": model,
        "candidates": candidates,
        "minutes": minutes,
        "rules": rules,
    }


POP_ONLY = loc.PartitionRules(measures=("population",))


def within_by_hand(area: dict[str, Any], members: list[str], hub: str) -> float:
    """Residents of the wards ``members`` within 15 minutes of ``hub``, from the minutes."""
    d = area["demand"]
    mins = area["minutes"][hub]
    return float(d.loc[d["ward_code"].isin(members) & (mins <= MINUTES + 1e-9), "population"].sum())


def brute_force(area: dict[str, Any], k: int, cap: float) -> float:
    """The most residents within reach of their hub over every contiguous plan within cap."""
    wards = area["wards"]
    codes = list(wards.index)
    adj = {
        (a, b)
        for a in codes
        for b in codes
        if abs(int(a[1]) - int(b[1])) + abs(int(a[2]) - int(b[2])) == 1
    }
    unit_of = area["candidates"]["ward_code"]
    pop = wards["population"]
    mean = pop.sum() / k
    reach = {(w, h): within_by_hand(area, [w], h) for w in codes for h in unit_of.index}
    best = -1.0
    for labels in itertools.product(range(k), repeat=len(codes)):
        if sorted(set(labels)) != list(range(k)) or labels[0] != 0:
            continue
        groups = [[c for c, lab in zip(codes, labels, strict=True) if lab == j] for j in range(k)]
        if any(abs(pop[g].sum() - mean) / mean > cap + 1e-12 for g in groups):
            continue
        if not all(_connected(g, adj) for g in groups):
            continue
        total = 0.0
        for g in groups:
            inside = [h for h in unit_of.index if unit_of[h] in g]
            if not inside:
                break
            total += max(sum(reach[w, h] for w in g) for h in inside)
        else:
            best = max(best, total)
    return best


def _connected(group: list[str], adj: set[tuple[str, str]]) -> bool:
    seen, stack = {group[0]}, [group[0]]
    while stack:
        u = stack.pop()
        for v in group:
            if (u, v) in adj and v not in seen:
                seen.add(v)
                stack.append(v)
    return len(seen) == len(group)


# ----------------------------------------------------------------------- candidates


def test_default_candidates_are_the_community_categories_in_tie_order(area: dict) -> None:
    cands = area["candidates"]
    assert list(cands.index) == ["C1", "C2", "L1", "L2", "K1"]  # no chapel
    assert set(cands.columns) >= {*hubs.CANDIDATE_COLUMNS, "geometry"}


def test_additions_by_id_and_name_and_every_bad_one_in_one_error(area: dict) -> None:
    reg = area["register"]
    out = hubs.hub_candidates(reg, categories=["Library"], add_ids=["K1"], add_names=["chapel"])
    assert list(out.index) == ["L1", "L2", "K1", "R1"]
    assert "added by name" in out.at["R1", "source"]
    with pytest.raises(NwmGeoError) as err:
        hubs.hub_candidates(reg, add_ids=["nope"], add_names=["Corner", "Nowhere"])
    text = str(err.value)
    assert "'nope' is not in the register" in text
    assert "'Corner' matches 2 sites (C1, L1)" in text
    assert "'Nowhere' matches no site" in text


def test_new_site_at_a_postcode_uses_its_centroid_and_unknown_ones_fail(area: dict) -> None:
    postcodes = gpd.GeoDataFrame(
        {"ward_code": ["W11"], "ward_name": ["Ward W11"]},
        geometry=[Point(3 * STEP, 3 * STEP)],
        index=pd.Index(["LU1 2BQ"], name="postcode"),
        crs=settings.crs,
    )
    sites = (hubs.NewSite("Town-centre hub", "lu12bq"),)
    out = hubs.hub_candidates(area["register"], new_sites=sites, postcodes=postcodes)
    assert out.at["new-LU12BQ", "ward_code"] == "W11"
    assert out.loc["new-LU12BQ"].geometry.equals(Point(3 * STEP, 3 * STEP))
    # a site not in the walk model is inserted into the network (exact, like an asset)
    demand = area["demand"]
    mins = hubs.candidate_minutes(
        area["model"], out, demand=demand, graph=street_grid(), speed_m_per_min=SPEED
    )
    # from corner (3, 3) to corner (0, 0): six blocks
    assert mins.at["P00", "new-LU12BQ"] == pytest.approx(6 * STEP / SPEED)
    with pytest.raises(NwmGeoError, match="not in the area's Code-Point file"):
        hubs.hub_candidates(
            area["register"], new_sites=(hubs.NewSite("x", "LU9 9ZZ"),), postcodes=postcodes
        )
    with pytest.raises(NwmGeoError, match="not a UK postcode"):
        hubs.hub_candidates(area["register"], new_sites=(hubs.NewSite("x", "nowhere"),))


def test_named_sites_report_missing_ones_and_never_invent(area: dict) -> None:
    named = [
        hubs.NamedHub("Corner Community Centre", "Corner Centre"),
        hubs.NamedHub("Lost Centre", "Lost Centre"),
        hubs.NamedHub("Town-centre hub (new)", ""),
    ]
    out = hubs.named_sites(area["register"], named)
    assert out["in_register"].tolist() == [True, False, False]
    assert out.at[0, "asset_id"] == "C1"
    assert out.loc[1:, "asset_id"].tolist() == ["", ""]
    assert out.loc[1:, "note"].str.startswith("missing").all()


# ----------------------------------------------------------------------- minutes


def test_source_minutes_are_exact_grid_distances(area: dict) -> None:
    mins = source_minutes(area["model"], source_ids=["C2"], speed_m_per_min=SPEED)
    # C2 at corner (2, 3); P35 is corner (5, 5): 3 + 2 blocks
    assert mins.at["P35", "C2"] == pytest.approx(5 * STEP / SPEED)
    bounded = source_minutes(
        area["model"], source_ids=["C2"], speed_m_per_min=SPEED, max_minutes=10
    )
    assert math.isnan(bounded.at["P35", "C2"]) and bounded.at["P27", "C2"] == pytest.approx(
        2 * STEP / SPEED
    )


def test_hub_rules_refuse_inconsistent_tables_listing_every_problem() -> None:
    covered = pd.DataFrame({"A": [5, -1], "B": [1.5, 0]}, index=["u1", "u2"])
    with pytest.raises(NwmGeoError) as err:
        loc.HubRules(
            covered=covered,
            unit_of=pd.Series({"A": "u1", "B": "u9"}),
            population=pd.Series({"u1": 10, "u3": 5}),
        )
    text = str(err.value)
    assert "candidate(s) in a unit not in covered: ['B']" in text
    assert "every value must be a whole number" in text
    assert "population: its index must be exactly the unit codes" in text


# ----------------------------------------------------------------------- fixed plan


def test_best_hubs_coverage_recomputed_from_the_minutes_table(area: dict) -> None:
    plan = loc.partition(area["wards"], k=3, rules=POP_ONLY)
    table = hubs.best_hubs(
        area["rules"],
        plan.assignment,
        minutes_table=area["minutes"],
        demand=area["demand"],
        candidates=area["candidates"],
    )
    assert list(table.columns[: len(hubs.HUB_COLUMNS)]) == list(hubs.HUB_COLUMNS)
    assert len(table) == 3 and table["locality"].is_unique
    demand = area["demand"]
    for row in table.itertuples():
        members = list(plan.assignment.index[plan.assignment == row.locality])
        cands = [
            h for h in area["candidates"].index if area["candidates"].at[h, "ward_code"] in members
        ]
        if not cands:
            assert row.hub_asset_id == "" and row.residents_within == 0
            continue
        # the hub lies inside its locality, and is the best candidate there
        assert row.hub_asset_id in cands
        by_hand = {h: within_by_hand(area, members, h) for h in cands}
        assert row.residents_within == by_hand[row.hub_asset_id] == max(by_hand.values())
        in_loc = demand["ward_code"].isin(members)
        assert row.residents == demand.loc[in_loc, "population"].sum()
        mins = area["minutes"].loc[in_loc, row.hub_asset_id]
        w = demand.loc[in_loc, "population"]
        assert row.mean_minutes == pytest.approx((mins * w).sum() / w.sum())
        assert row.share_pct == pytest.approx(100 * row.residents_within / row.residents)
        if row.runner_up_asset_id:
            assert by_hand[row.runner_up_asset_id] < row.residents_within


def test_a_tie_goes_to_the_first_candidate_and_is_shown(area: dict) -> None:
    plan = pd.Series("all", index=area["wards"].index)
    table = hubs.best_hubs(
        hubs.restrict(area["rules"], ["L1", "C1"]),
        plan,
        minutes_table=area["minutes"],
        demand=area["demand"],
        candidates=area["candidates"],
    )
    # the centre and the library share a building: same reach, the centre is first
    assert table.at[0, "hub_asset_id"] == "C1" and table.at[0, "ties"] == "L1"
    assert table.at[0, "runner_up_asset_id"] == ""


# ----------------------------------------------------------------------- joint model


@pytest.mark.parametrize(
    "cap",
    [
        0.12,
        0.15,
        pytest.param(0.2, marks=pytest.mark.integration),  # slow (fast tier < 60 s)
        pytest.param(0.6, marks=pytest.mark.integration),
    ],
)
def test_joint_optimum_matches_brute_force_and_each_locality_has_one_hub(
    area: dict, cap: float
) -> None:
    expected = brute_force(area, 3, cap)
    if expected < 0:  # no plan within the cap gives every locality a candidate
        with pytest.raises(InfeasiblePartitionError, match="hub candidate"):
            loc.partition_with_hubs(
                area["wards"], k=3, hubs=area["rules"], max_deviation=cap, rules=POP_ONLY
            )
        return
    hp = loc.partition_with_hubs(
        area["wards"], k=3, hubs=area["rules"], max_deviation=cap, rules=POP_ONLY
    )
    assert hp.proven_optimal and hp.status == "proven optimal" and hp.gap == 0
    assert hp.residents_within == expected
    assert hp.plan.objective <= cap + 1e-9
    # one hub per locality, inside it; its reach recomputed from the minutes table
    assignment = hp.plan.assignment
    assert sorted(hp.hubs.index) == sorted(assignment.unique())
    for locality, row in hp.hubs.iterrows():
        members = list(assignment.index[assignment == locality])
        assert area["candidates"].at[row["hub"], "ward_code"] in members
        assert row["residents_within"] == within_by_hand(area, members, row["hub"])
    assert hp.hubs["residents_within"].sum() == hp.residents_within


def test_joint_is_at_least_the_balance_only_plan_with_its_own_best_hubs(area: dict) -> None:
    balance = loc.partition(area["wards"], k=3, rules=POP_ONLY)
    front = loc.hub_frontier(
        area["wards"],
        k=3,
        hubs=area["rules"],
        widths=[0.0, 0.15, 0.3, 0.6],
        rules=POP_ONLY,
        balance=balance,
    )
    table = front.table
    base = table.at[0, "residents_within"]
    own = area["rules"].coverage(balance.assignment).max(axis=1).sum()
    assert base == own
    # at the balance optimum no plan gives every locality a hub: said, not hidden
    assert table.at[1, "status"].startswith("no plan") and 0.0 not in front.plans
    joint = table.iloc[2:]
    assert (joint["residents_within"] >= base).all()
    assert joint["residents_within"].is_monotonic_increasing
    assert (joint["balance_cost_pp"] >= -1e-9).all()
    for width, hp in front.plans.items():
        assert hp.plan.objective <= width + 1e-9


def test_a_cap_no_plan_meets_is_an_infeasible_error(area: dict) -> None:
    # one candidate cannot give three localities a hub each
    with pytest.raises(InfeasiblePartitionError, match="hub"):
        loc.partition_with_hubs(
            area["wards"],
            k=3,
            hubs=hubs.restrict(area["rules"], ["C1"]),
            max_deviation=0.6,
            rules=POP_ONLY,
        )


class _StoppedModel:
    """Wraps a solved highspy model and reports a time-limit stop with a loose bound."""

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
            # PuLP hands HiGHS the negated maximisation: twice it is a looser bound
            mip_dual_bound = 2.0 * info.objective_function_value
            mip_gap = 0.5

        return _Info()


class _TimeLimitHiGHS(pulp.HiGHS):
    """A HiGHS solver whose run looks exactly like a time-limit stop."""

    def actualSolve(self, lp: pulp.LpProblem, **kw: Any) -> int:
        status = super().actualSolve(lp, **kw)
        lp.solverModel = _StoppedModel(lp.solverModel)
        return status


def test_time_limit_stop_reports_best_found_with_its_gap(area: dict) -> None:
    hp = loc.partition_with_hubs(
        area["wards"],
        k=3,
        hubs=area["rules"],
        max_deviation=0.6,
        rules=POP_ONLY,
        solver=_TimeLimitHiGHS(msg=False),
    )
    assert not hp.proven_optimal and not hp.plan.proven_optimal
    assert hp.bound == pytest.approx(2 * hp.residents_within)
    assert hp.gap == pytest.approx(0.5)
    assert hp.status == (
        f"best found within time limit (gap 50.0% relative; {hp.residents_within:,} residents "
        f"within reach of their hub vs proven upper bound {hp.bound:,.0f})"
    )
    assert hp.plan.status == hp.status


# ----------------------------------------------------------------------- outputs


def test_analysis_sheet_and_map_escape_input_text(area: dict, tmp_path: Any) -> None:
    import openpyxl

    from nwm_geo import maps, report

    evil = '=HYPERLINK("http://x")<script>alert(1)</script>'
    candidates = area["candidates"].copy()
    candidates.loc["C2", "name"] = evil
    balance = loc.partition(area["wards"], k=3, rules=POP_ONLY)
    named = hubs.named_sites(area["register"], [hubs.NamedHub("Corner Centre", "Corner Centre")])
    analysis = hubs.analyse_hubs(
        area["wards"],
        area["demand"],
        candidates=candidates,
        minutes_table=area["minutes"],
        balance=balance,
        named=named,
        rules=POP_ONLY,
        options=hubs.HubOptions(
            tolerance=0.2, steps=(0.0, 0.1), minutes=MINUTES, speed_m_per_min=SPEED
        ),
    )
    assert analysis.joint.proven_optimal
    assert analysis.joint.residents_within >= analysis.balance["residents_within"].sum()
    totals = analysis.comparison[analysis.comparison["locality"] == "TOTAL"]
    assert totals["scenario"].tolist() == [
        "council-named hubs, balance-only localities",
        "balance-only localities, their best hubs",
        "joint optimum: localities and hubs together",
    ]
    assert analysis.named.at[0, "residents_within"] == float(
        area["demand"].loc[area["minutes"]["C1"] <= MINUTES, "population"].sum()
    )
    # the workbook: a Hubs sheet added last, no cell a formula
    path = tmp_path / "book.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Summary"
    wb.save(path)
    report.add_hub_sheet(path, analysis)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Summary", report.HUB_SHEET]
    cells = [c.value for row in book[report.HUB_SHEET].iter_rows() for c in row if c.value]
    assert not any(isinstance(v, str) and v.startswith("=") for v in cells)
    # the map: the name is escaped, never live HTML
    frame = analysis.joint_hubs.copy()
    frame.loc[0, "hub_name"] = evil
    frame.loc[0, "hub_asset_id"] = "C2"
    points = maps.hub_points(frame, candidates)
    catch = hubs.hub_catchments(
        area["model"],
        candidates,
        list(points["hub_asset_id"]),
        minutes=MINUTES,
        speed_m_per_min=SPEED,
    )
    m = maps.localities_map(area["wards"], analysis.joint.plan.assignment)
    html = maps.add_hubs(m, points, catch, minutes=MINUTES).get_root().render()
    assert "<script>alert(1)" not in html and "nwm-hub" in html and "nwm-catchment" in html
    # the layer control is drawn after the hub layers, so it can list them (a control
    # drawn before them stops the page's script and no hub shows)
    assert html.rindex("L.control.layers") > html.rindex("nwm-hub")


def test_joint_plan_keeps_pins_and_floors(area: dict) -> None:
    rules = loc.PartitionRules(
        measures=("population",),
        pins={"W00": "Harbour", "W20": "Harbour"},
        category_floors={"assets": 1},
    )
    hp = loc.partition_with_hubs(
        area["wards"], k=3, hubs=area["rules"], max_deviation=0.6, rules=rules
    )
    assignment = hp.plan.assignment
    assert assignment["W00"] == assignment["W20"] == "Harbour"
    assert (hp.plan.summary["assets"] >= 1).all()
    assert hp.proven_optimal


class _JumpingClock:
    """A clock that advances ``step`` seconds per call (a machine far too slow)."""

    def __init__(self, step: float) -> None:
        self.t, self.step = 0.0, step

    def __call__(self) -> float:
        self.t += self.step
        return self.t


def test_no_time_left_is_an_error_not_a_plan(area: dict) -> None:
    from nwm_geo import SolverError

    with pytest.raises(SolverError, match="no plan found with hubs"):
        loc.partition_with_hubs(
            area["wards"],
            k=3,
            hubs=area["rules"],
            max_deviation=0.6,
            rules=POP_ONLY,
            budget=loc.SolveBudget(time_limit_s=10, clock=_JumpingClock(100.0)),
        )


def test_analysis_without_a_joint_plan_says_why_and_keeps_the_rest(area: dict) -> None:
    balance = loc.partition(area["wards"], k=3, rules=POP_ONLY)
    analysis = hubs.analyse_hubs(
        area["wards"],
        area["demand"],
        candidates=area["candidates"],
        minutes_table=area["minutes"],
        balance=balance,
        named=hubs.named_sites(area["register"], []),
        rules=POP_ONLY,
        options=hubs.HubOptions(
            tolerance=0.0, steps=(0.0,), minutes=MINUTES, speed_m_per_min=SPEED
        ),
    )
    # at the balance optimum no plan gives all three localities a candidate
    assert analysis.joint is None and analysis.joint_hubs.empty
    assert any(n.startswith("No joint plan at a") for n in analysis.notes)
    assert set(analysis.comparison["scenario"]) == {"balance-only localities, their best hubs"}
    assert len(analysis.balance) == 3


def test_hub_options_score_every_candidate_and_rank_1_is_the_hub(area: dict) -> None:
    balance = loc.partition(area["wards"], k=3, rules=POP_ONLY)
    analysis = hubs.analyse_hubs(
        area["wards"],
        area["demand"],
        candidates=area["candidates"],
        minutes_table=area["minutes"],
        balance=balance,
        named=hubs.named_sites(area["register"], []),
        rules=POP_ONLY,
        options=hubs.HubOptions(
            tolerance=0.2, steps=(0.0,), minutes=MINUTES, speed_m_per_min=SPEED
        ),
    )
    wards = list(area["wards"].index)
    opts = hubs.hub_options(
        analysis, balance.assignment, area["demand"], town_centre_wards=[wards[0]]
    )
    inside = analysis.candidates["ward_code"].isin(wards)
    assert len(opts) == int(inside.sum())  # every candidate in a locality, once
    best = opts[opts["rank"] == 1].set_index("locality")
    hub_table = analysis.balance.set_index("locality")
    for locality, row in best.iterrows():  # the same numbers as hubs.csv
        assert row["hub_id"] == hub_table.at[locality, "hub_asset_id"]
        assert row["residents_within"] == hub_table.at[locality, "residents_within"]
        assert row["mean_minutes"] == pytest.approx(hub_table.at[locality, "mean_minutes"])
        assert row["is_hub"]
    for _, group in opts.groupby("locality"):
        assert group["residents_within"].is_monotonic_decreasing
    answer = hubs.town_centre_answer(opts, town_centre_wards=[wards[0]])
    if opts["in_town_centre"].any():
        best_tc = opts[opts["in_town_centre"]].sort_values("residents_within").iloc[-1]
        assert str(best_tc["name"]) in answer and "would bring" in answer
    else:
        assert "No hub candidate lies in the town centre" in answer
    assert "names no town-centre wards" in hubs.town_centre_answer(opts)
