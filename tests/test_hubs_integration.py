"""Integration tests of community hubs on the real Luton and Rutland bundles."""

from __future__ import annotations

import pandas as pd
import pytest

from nwm_geo import hubs, localities
from nwm_geo.pipeline import Study

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("areas")]


@pytest.fixture
def luton(luton_study: Study) -> Study:
    """The session's one Luton study (tests/conftest.py): read, never changed."""
    return luton_study


def _recomputed(study: Study, assignment: pd.Series, table: pd.DataFrame) -> None:
    """Each hub's reach, recomputed from the minutes table and the demand points alone."""
    minutes = study.hub_minutes
    demand = study.demand
    loc = demand["ward_code"].map(assignment)
    for row in table.itertuples():
        in_loc = loc == row.locality
        assert row.residents == demand.loc[in_loc, "population"].sum()
        if not row.hub_asset_id:
            continue
        # the hub lies inside its locality
        ward = study.hub_candidates.at[row.hub_asset_id, "ward_code"]
        assert assignment[ward] == row.locality
        near = minutes[row.hub_asset_id] <= 15 + 1e-6
        assert row.residents_within == demand.loc[in_loc & near, "population"].sum()


def test_named_sites_found_and_missing_on_luton(luton: Study) -> None:
    named = luton.hub_named.set_index("named_hub")
    found = named.loc[named["in_register"], "asset_id"].to_dict()
    assert found == {
        "Farley Community Centre": "library-0003-centre",
        "Bury Park Community Centre": "library-0001-centre",
        "Chaul End Community Centre": "library-0002-centre",
        "Hockwell Ring Community Centre": "library-0004-centre",
    }
    # Lewsey has a library in the register but no community centre; the town-centre hub
    # has no site yet: both are named as missing, none is made up
    missing = named.index[~named["in_register"]].tolist()
    assert missing == ["Lewsey Community Centre", "Town-centre hub (new)"]
    assert any("Lewsey Community Centre" in n for n in luton.hub_analysis.notes)


def test_luton_one_hub_per_locality_with_reach_from_the_minutes(luton: Study) -> None:
    analysis = luton.hub_analysis
    table = luton.hubs
    assert list(table.columns[: len(hubs.HUB_COLUMNS)]) == list(hubs.HUB_COLUMNS)
    assert sorted(table["locality"]) == sorted(luton.plan.assignment.unique())
    assert (table["hub_asset_id"] != "").all()
    _recomputed(luton, luton.plan.assignment, table)
    _recomputed(luton, analysis.joint.plan.assignment, analysis.joint_hubs)
    _recomputed(luton, luton.plan.assignment, analysis.council)


def test_luton_joint_plan_is_proven_and_at_least_the_balance_only_plan(luton: Study) -> None:
    analysis = luton.hub_analysis
    joint = analysis.joint
    assert joint.proven_optimal and joint.status == "proven optimal"
    assert joint.plan.objective <= joint.max_deviation + 1e-9
    balance = analysis.balance["residents_within"].sum()
    assert joint.residents_within >= balance
    assert analysis.joint_hubs["residents_within"].sum() == joint.residents_within
    frontier = analysis.frontier
    solved = frontier.iloc[1:].dropna(subset=["residents_within"])
    assert (solved["residents_within"] >= frontier.at[0, "residents_within"]).all()


def test_rutland_hubs_on_real_streets(rutland_study: Study) -> None:
    study = rutland_study
    analysis = study.hub_analysis
    assert analysis.named.empty and analysis.council.empty
    assert len(study.hubs) == study.n_localities
    _recomputed(study, study.plan.assignment, study.hubs)
    assert analysis.joint.proven_optimal
    assert analysis.joint.residents_within >= study.hubs["residents_within"].sum()
    # a locality's hub set from scratch gives the same answer as the study
    again = localities.partition_with_hubs(
        study.wards,
        k=study.n_localities,
        hubs=analysis.rules,
        max_deviation=analysis.joint.max_deviation,
        rules=localities.PartitionRules(measures=study.balanced),
    )
    assert again.residents_within == analysis.joint.residents_within
