"""Business cases by owner type, and new sites that exist, on SYNTHETIC covers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from nwm_geo import requirements as rq
from nwm_geo.coverage import Cover

# SYNTHETIC: five points in one ward; a school, a GP, a mosque and two libraries that
# all cover the same points (overlapping coverage everywhere), plus a church and a
# community hall that reach the "see" gap.
POINTS = ["P1", "P2", "P3", "P4", "P5"]
POP = [300.0, 300.0, 300.0, 60.0, 500.0]


def _cover(cols: dict[str, list[str]], rows: list[str]) -> Cover:
    m = np.zeros((len(rows), len(cols)), dtype=bool)
    for j, ids in enumerate(cols.values()):
        for pid in ids:
            m[rows.index(pid), j] = True
    return Cover(
        matrix=sparse.csr_matrix(m),
        point_index=pd.Index(rows),
        source_index=pd.Index(list(cols)),
        minutes=15.0,
        speed_m_per_min=80.0,
    )


def _assets(rows: dict[str, tuple[str, str, float]]) -> pd.DataFrame:
    """``asset_id -> (category, owner_type, lon)``; every asset in ward W1, lat 51.88."""
    return pd.DataFrame(
        {
            "name": [f"Synthetic {a}" for a in rows],
            "category": [r[0] for r in rows.values()],
            "owner_type": [r[1] for r in rows.values()],
            "address": [f"{i} Synthetic Street" for i in range(len(rows))],
            "postcode": ["LU1 1AA"] * len(rows),
            "ward_code": ["W1"] * len(rows),
            "lon": [r[2] for r in rows.values()],
            "lat": [51.88] * len(rows),
        },
        index=pd.Index(list(rows), name="asset_id"),
    )


def _points() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "population": POP,
            "ward_code": ["W1"] * 5,
            "lon": [-0.40, -0.39, -0.38, -0.37, -0.36],
            "lat": [51.88] * 5,
        },
        index=pd.Index(POINTS, name="point_id"),
    )


ASSIGN = pd.Series({"W1": "Only"}, name="locality")
BUNDLES = {"go": ("Library", "Religious Institution"), "see": ("GP / Medical Centre",)}


def _outline(assets: pd.DataFrame, cover: Cover, **policy: Any) -> rq.RequirementsOutline:
    # walking minutes only feed the gap tables, not the business case
    nearest = pd.DataFrame({"go": 5.0, "see": 5.0}, index=pd.Index(POINTS, name="point_id"))
    return rq.outline(
        assets,
        _points(),
        assignment=ASSIGN,
        inputs=rq.OutlineInputs(cover=cover, nearest=nearest, network_label="network: synthetic"),
        policy=rq.RequirementsPolicy(
            bundles=BUNDLES, new_site_measures=("see",), sole_threshold=0, **policy
        ),
    )


def test_no_disposal_of_a_school_gp_or_place_of_worship() -> None:
    everyone = ["P1", "P2", "P3"]
    assets = _assets(
        {
            "school1": ("Education", "partner public sector", -0.40),
            "school2": ("Education", "partner public sector", -0.40),
            "gp1": ("GP / Medical Centre", "partner public sector", -0.40),
            "gp2": ("GP / Medical Centre", "partner public sector", -0.40),
            "mosque1": ("Religious Institution", "community and faith", -0.40),
            "mosque2": ("Religious Institution", "community and faith", -0.40),
            "lib1": ("Library", "council", -0.40),
            "lib2": ("Library", "council", -0.40),
        }
    )
    cover = _cover(dict.fromkeys(assets.index, everyone), POINTS)
    out = _outline(assets, cover, k=0)
    # every asset overlaps; the redundant (overlapping) list holds all of them
    assert set(out.redundant.index) == set(assets.index)
    bc = out.business_case
    protected = bc["category"].isin(["Education", "GP / Medical Centre", "Religious Institution"])
    assert len(bc[protected & (bc["rule"] == "R4")]) == 0
    assert not bc["action"][protected].str.contains("rationalise|dispos|alternative use").any()
    # only the council's own libraries are reviewed: one keeps the "go" coverage, so at
    # most the other is an R4 case, and the reason is given for both
    assert set(out.council_overlap.index) == {"lib1", "lib2"}
    assert set(bc.loc[bc["rule"] == "R4", "id"]) <= {"lib1", "lib2"}
    assert (bc.loc[bc["rule"] == "R4", "owner_type"] == "council").all()
    # a council-maintained school is still a school: never reviewed, and the reason says so
    council_schools = assets.assign(owner_type="council")
    out = _outline(council_schools, cover, k=0)
    bc = out.business_case
    assert set(bc.loc[bc["rule"] == "R4", "category"]) <= {"Library"}
    school = out.council_overlap.loc["school1"]
    assert not school["r4"] and "never listed for review" in school["why"]


def test_owner_type_decides_retain_or_secure_access_and_short_register_is_said() -> None:
    assets = _assets(
        {
            "lib_council": ("Library", "council", -0.40),
            "lib_trust": ("Library", "community and faith", -0.38),
        }
    )
    cover = _cover({"lib_council": ["P1"], "lib_trust": ["P3"]}, POINTS)
    reconciliation = pd.DataFrame(
        {"council_count": [5, 5], "register_count": [2, 2], "gap": [3, 3]},
        index=pd.Index(["Library", "TOTAL"], name="category"),
    ).astype("Int64")
    out = _outline(assets, cover, k=0)
    bc = out.business_case.set_index("id")
    assert bc.loc["lib_council", "rule"] == "R1"
    assert bc.loc["lib_council", "action"] == "retain and invest"
    assert bc.loc["lib_trust", "rule"] == "R2"
    assert bc.loc["lib_trust", "action"] == "secure access or partnership"
    assert (bc["register_note"] == "").all()
    short = rq.business_case(
        out.required, out.redundant, out.new_sites, out.minimal_covers,
        policy=rq.RequirementsPolicy(bundles=BUNDLES, sole_threshold=0),
        reconciliation=reconciliation,
    )  # fmt: skip
    assert short["register_note"].str.contains("Library 2 of 5").all()


def _site_fixture() -> tuple[pd.DataFrame, Cover, Cover]:
    # the "see" gap is everyone (no GP). A church reaches P1-P3 (900), a hall 100 m away
    # reaches P4 (60), a school 200 m from the church reaches P2-P4 (660).
    assets = _assets(
        {
            "church": ("Religious Institution", "community and faith", -0.4000),
            "hall": ("Community Centre", "community and faith", -0.3985),
            "school": ("Education", "partner public sector", -0.3970),
        }
    )
    cover = _cover(
        {"church": ["P1", "P2", "P3"], "hall": ["P4"], "school": ["P2", "P3", "P4"]}, POINTS
    )
    site_cover = _cover({p: [p] for p in POINTS}, POINTS)
    return assets, cover, site_cover


def test_new_sites_are_buildings_first_spaced_and_add_the_minimum() -> None:
    assets, cover, site_cover = _site_fixture()
    sol = rq.best_new_sites(
        cover,
        assets,
        _points(),
        measure="see",
        site_cover=site_cover,
        policy=rq.RequirementsPolicy(
            k=3, bundles=BUNDLES, min_site_population=100, site_spacing_m=400
        ),
    )
    table = sol.table
    # the church (900) first; the school is 200 m away and the hall 100 m away, so the
    # spacing rule keeps them out; P5 (500 residents) is reached by no building, so the
    # postcode fallback offers it, labelled
    assert list(table.index) == ["asset:church", "postcode:P5"]
    assert table.loc["asset:church", "site_type"] == rq.BUILDING
    assert table.loc["asset:church", "address"] == "0 Synthetic Street, LU1 1AA"
    assert table.loc["postcode:P5", "site_type"] == rq.POSTCODE
    assert (table["marginal_population"] >= 100).all()
    assert all(st.proven_optimal for st in sol.statuses)
    # without the spacing rule the hall is still not a suggestion: it adds 60 < 100
    loose = rq.best_new_sites(
        cover,
        assets,
        _points(),
        measure="see",
        policy=rq.RequirementsPolicy(
            k=3, bundles=BUNDLES, min_site_population=100, site_spacing_m=0
        ),
    )
    assert "asset:hall" not in loose.table.index
    assert (loose.table["marginal_population"] >= 100).all()


def test_one_combined_site_per_locality_serves_the_most_residents() -> None:
    assets, cover, site_cover = _site_fixture()
    # a library covering P1 only, so "go" has a gap at P2-P5
    assets = pd.concat([assets, _assets({"lib": ("Library", "council", -0.41)})])
    cols = {
        "church": ["P1", "P2", "P3"],
        "hall": ["P4"],
        "school": ["P2", "P3", "P4", "P5"],
        "lib": ["P1"],
    }
    cover = _cover(cols, POINTS)
    table, status = rq.best_combined_site(
        cover,
        assets,
        _points(),
        assignment=ASSIGN,
        site_cover=site_cover,
        policy=rq.RequirementsPolicy(bundles=BUNDLES, min_site_population=100),
    )
    # the church is a "go" asset itself (today P1-P3 have "go"), so it adds only "see"
    # (900); the school adds "go" at P4-P5 (560) and "see" at P2-P5 (1,160): 1,720
    row = table.loc["Only"]
    assert row["name"] == "Synthetic school"
    assert row["residents_newly_within"] == pytest.approx(1720)
    assert row["residents: go"] == pytest.approx(560)
    assert row["bundles_served"] == 2
    assert status[0]["proven_optimal"] and "enumeration" in status[0]["model_status"]
