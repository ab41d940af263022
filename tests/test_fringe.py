"""Destinations across the boundary: Luton's fringe files on the real bundle (issue 21).

Sites up to 2 km outside Luton (Dunstable, Houghton Regis, Caddington, ...) count for
coverage and as the next-best site when a site closes, but the council decides only about
its own: no business case, hub, requirement, suggested site or council count uses them.
"""

from __future__ import annotations

import pandas as pd
import pytest

from nwm_geo.areas import load_area
from nwm_geo.pipeline import Study

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("areas")]


@pytest.fixture
def luton(luton_study: Study) -> Study:
    """The session's one Luton study (tests/conftest.py): read, never changed."""
    return luton_study


def test_fringe_sites_are_in_the_register_flagged_outside(luton: Study) -> None:
    reg = luton.register
    fringe = reg[reg.index.str.startswith("fringe-")]
    assert len(fringe) == 69
    assert not fringe["inside_area"].any()
    assert (fringe["ward_code"] == "").all()
    assert {"Dunstable Library", "Houghton Regis Library"} <= set(fringe["name"])
    # the council's counts are the inside sites only
    rec = luton.reconciliation
    assert int(rec.loc["TOTAL", "register_count"]) == int(reg["inside_area"].sum()) == 274


def test_fringe_sites_are_never_the_councils_decision(luton: Study) -> None:
    outside = set(luton.register.index[~luton.register["inside_area"]])
    out = luton.outline
    assert outside.isdisjoint(out.business_case["id"].astype(str))
    assert outside.isdisjoint(out.required.index)
    assert outside.isdisjoint(out.redundant.index)
    for sol in out.minimal_covers.values():
        assert outside.isdisjoint(sol.table.index)
    sites = out.new_sites["source_id"].astype(str) if len(out.new_sites) else pd.Series([])
    assert outside.isdisjoint(sites)
    assert outside.isdisjoint(luton.hub_candidates.index)
    assert outside.isdisjoint(luton.hubs["hub_asset_id"].astype(str))


def test_fringe_sites_count_for_coverage_and_closure_impact(luton: Study) -> None:
    reg = luton.register
    inside_only = luton.with_changes(close=list(reg.index[reg.index.str.startswith("fringe-")]))
    with_fringe = luton.minutes_to_nearest
    without = inside_only.minutes_to_nearest
    pop = luton.demand["population"].reindex(with_fringe.index).fillna(0)
    minutes = luton.asset_cover.minutes
    # edge residents walk across the boundary: Houghton Hall Park visitor centre and
    # Keech Cottage hospice are within the walk of Luton homes (the Dunstable and
    # Houghton Regis libraries and GP practices are more than 15 minutes from any; on
    # the calibrated network, issue 21, so are the fringe community centres)
    for cat in ("Cultural Centre", "Health", "something to do", "someone to see"):
        a = float(pop[with_fringe[cat] <= minutes].sum())
        b = float(pop[without[cat] <= minutes].sum())
        assert a > b, cat
    for cat in with_fringe.columns:  # a site added never takes anyone's walk away
        assert (with_fringe[cat].fillna(1e9) <= without[cat].fillna(1e9) + 1e-9).all(), cat
    impact = luton.closure_impact.assets
    nxt = impact["next_best_asset_id"].dropna().astype(str)
    assert nxt.str.startswith("fringe-").any()


def test_the_boundary_is_stated_in_every_area() -> None:
    assert "outside Luton" in load_area("luton").boundary_note
    rutland = load_area("rutland")
    assert not rutland.has_fringe
    assert "walks across the boundary are cut" in rutland.boundary_note
