"""Area profiles: the shipped councils, bad profiles, and Rutland end to end on real OSM."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from conftest import RunOutputs
from nwm_geo import data
from nwm_geo.areas import AREAS, ProfileError, load_area
from nwm_geo.cli import main

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"
LUTON_TOML = (ROOT / "src" / "nwm_geo" / "areas" / "luton.toml").read_text(encoding="utf-8")


def _profile(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "council.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_profiles_load() -> None:
    assert set(AREAS) == {"luton", "rutland"}
    luton, rutland = load_area("luton"), load_area("rutland")
    assert luton.district_code == "E06000032" and rutland.district_code == "E06000017"
    assert sum((luton.council_counts or {}).values()) == 287
    assert rutland.council_counts is None  # no published counts: no target is made up
    assert "LBC Community Centre" in luton.categories
    assert "LBC Community Centre" not in rutland.categories
    assert luton.network == "approximate" and rutland.network == "osm"
    assert luton.output_subdir == "" and rutland.output_subdir == "rutland"
    assert [s.rank for s in luton.sources] == list(range(1, len(luton.sources) + 1))


def test_a_bad_profile_lists_every_problem_with_its_key(tmp_path: Path) -> None:
    text = (
        LUTON_TOML.replace('district_code = "E06000032"', 'district_code = "Luton"')
        .replace('"Cultural Centre" = 1', '"Cultural Centr" = 1')
        .replace("localities = 5", "localites = 5")
    )
    with pytest.raises(ProfileError) as err:
        load_area(_profile(tmp_path, text))
    msg = str(err.value)
    assert "council.toml" in msg
    assert "key 'district_code'" in msg and "'Luton' is not an ONS local authority code" in msg
    assert "key 'council_counts.Cultural Centr'" in msg and "did you mean 'Cultural Centre'" in msg
    assert "key 'localites'" in msg and "did you mean 'localities'" in msg
    assert msg.startswith("area profile") and "3 problems" in msg


def test_a_profile_naming_a_missing_file_fails_before_anything_is_read(tmp_path: Path) -> None:
    text = LUTON_TOML.replace(
        "postcodes/codepoint_open_2025-10_LU.csv", "postcodes/codepoint_open_1999_LU.csv"
    )
    area = load_area(_profile(tmp_path, text))
    with pytest.raises(ProfileError, match=r"key 'files.postcodes': file not found"):
        area.check_files(RAW)


def test_an_unknown_area_name_is_refused() -> None:
    with pytest.raises(ProfileError, match="not a shipped area"):
        load_area("atlantis")


@pytest.mark.integration
def test_a_wrong_district_code_is_found_in_the_postcodes(tmp_path: Path) -> None:
    text = LUTON_TOML.replace('district_code = "E06000032"', 'district_code = "E06000017"')
    with pytest.raises(ProfileError, match=r"key 'district_code': no postcode .* E06000017"):
        data.open_area(_profile(tmp_path, text)).postcodes  # noqa: B018


@pytest.mark.integration
def test_bad_profile_on_the_cli_exits_2_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NWM_GEO_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(RAW))
    bad = _profile(tmp_path, LUTON_TOML.replace('"Library" = 6', '"Libary" = 6'))
    code = main(["run", "--quiet", "--area", str(bad)])
    err = capsys.readouterr().err
    assert code == 2
    assert "council.toml" in err and "council_counts.Libary" in err
    assert not (tmp_path / "data" / "processed").exists()
    assert not (tmp_path / "reports").exists()


@pytest.mark.integration
def test_rutland_register_is_sourced_and_deduplicated() -> None:
    rutland = data.open_area("rutland")
    reg, log = rutland.assets, rutland.merges
    inside = reg[reg["inside_area"]]
    outside = reg[~reg["inside_area"]]
    assert len(outside) == 7 and set(outside["category"]) == {"Fire and rescue"}
    assert "LBC Community Centre" not in set(reg["category"])
    assert (inside["source"].str.strip() != "").all()
    # the hospital listed twice by NHS Choices (two trusts) and again by FHRS is one site
    assert inside["name"].str.contains("Rutland (?:Memorial )?Hospital", regex=True).sum() == 1
    ex = rutland.exclusions
    assert ex["record"].str.contains("HMP STOCKEN").sum() == 1  # prison healthcare
    assert ex["record"].str.contains("KENDREW").sum() == 1  # military medical centre
    assert (
        not (log["kept_source"] == log["dropped_source"]).any()
        or (
            log.loc[log["kept_source"] == log["dropped_source"], "rule"].str.startswith(
                "listed twice"
            )
        ).all()
    )
    rec = data.reconciliation(reg, area="rutland")
    assert rec["council_count"].isna().all() and rec["gap"].isna().all()
    assert int(rec.loc["TOTAL", "register_count"]) == len(inside)


@pytest.mark.integration
def test_rutland_demand_adds_up_to_the_census() -> None:
    points = data.open_area("rutland").population
    assert int(points["population"].sum()) == 41043
    assert points["ward_code"].notna().all()
    assert points["ward_code"].nunique() == 15


@pytest.mark.integration
@pytest.mark.xdist_group("areas")
def test_rutland_runs_end_to_end_on_real_osm_streets(rutland_run: RunOutputs) -> None:
    # the session's one `nwm-geo run --quiet --area rutland` into an empty project
    # (tests/conftest.py); it exited 0
    tmp_path, out = rutland_run.project, rutland_run.printed
    assert "Rutland" in out
    processed = tmp_path / "data" / "processed" / "rutland"
    reports = tmp_path / "reports" / "rutland"
    assert (processed, reports) == (rutland_run.processed, rutland_run.reports)
    sources = (processed / "SOURCES.txt").read_text(encoding="utf-8")
    assert "network: OpenStreetMap file rutland-2022-07-20.osm.pbf" in sources
    assert "approximate" not in sources
    assert "prisoners and boarders" in sources  # communal establishments flagged
    # the same set of outputs as a Luton run, in the area's own folders
    names = {p.name for p in processed.iterdir()} | {p.name for p in reports.rglob("*")}
    for expected in (
        "assets_register.csv",
        "register_reconciliation.csv",
        "localities.csv",
        "coverage_localities.csv",
        "asset_criticality.csv",
        "walk_network.gpkg",
        "asset_requirements.xlsx",
        "map_localities.html",
        "index.html",
        "business_case.csv",
    ):
        assert expected in names, expected
    assert not (tmp_path / "data" / "processed" / "localities.csv").exists()
    plan = pd.read_csv(processed / "localities.csv")
    assert len(plan) == 15 and plan["locality"].nunique() == 3
    cov = pd.read_csv(processed / "coverage_localities.csv")
    assert (cov["network"].str.startswith("network: OpenStreetMap")).all()


def test_every_category_has_an_owner_type_and_a_bad_owners_table_is_reported(
    tmp_path: Path,
) -> None:
    from nwm_geo import settings

    for key in AREAS:
        area = load_area(key)
        assert {area.owner_of(c) for c in area.categories} <= set(settings.OWNER_TYPES)
    luton = load_area("luton")
    assert luton.owner_of("LBC Community Centre") == "council"
    assert luton.owner_of("Education") == "partner public sector"
    assert luton.owner_of("Religious Institution") == "community and faith"
    text = LUTON_TOML.replace(
        '"Education" = "partner public sector"', '"Education" = "the council"'
    ).replace('"Charity" = "community and faith"', '"Charities" = "community and faith"')
    with pytest.raises(ProfileError) as err:
        load_area(_profile(tmp_path, text))
    msg = str(err.value)
    assert "key 'owners.Education': 'the council' is not an owner type" in msg
    assert "key 'owners.Charities': unknown category" in msg


def test_the_hubs_table_is_read_and_checked(tmp_path: Path) -> None:
    luton = load_area("luton")
    assert luton.hub_categories[0] == "LBC Community Centre"
    assert ("Hockwell Ring Community Centre", "Hockwell Community Centre") in luton.hub_named
    assert load_area("rutland").hub_named == ()  # no named hubs: none made up
    text = LUTON_TOML.replace(
        'categories = ["LBC Community Centre", "Community Centre", "Library", "Council"]',
        'categories = ["Libary"]\ncolour = "red"',
    ).replace('name = "Farley Community Centre"', 'title = "Farley Community Centre"')
    with pytest.raises(ProfileError) as err:
        load_area(_profile(tmp_path, text))
    msg = str(err.value)
    assert "key 'hubs.categories[0]'" in msg and "'Libary'" in msg
    assert "key 'hubs.colour': not a hubs key" in msg
    assert "key 'hubs.named[1]': needs a name" in msg
