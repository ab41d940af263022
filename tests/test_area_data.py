"""The area object: a profile and its data folder, each table read once (SYNTHETIC council).

Every test here reads the SYNTHETIC council of ``tests/conftest.py`` (made-up names,
codes, counts and positions), never the real bundle.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import nwm_geo
from nwm_geo import NwmGeoError, data, pipeline, report

#: The SYNTHETIC council's counts (tests/test_uncertainty.py adds the same kind of table).
SYNTHETIC_COUNTS = (
    '\n[council_counts]\n"Community Centre" = 2\n"Library" = 4\n'
    '"GP / Medical Centre" = 2\n"Religious Institution" = 1\n"Education" = 1\n'
    '"Council" = 1\n"Health" = 1\n"Sports and Leisure" = 1\n'
)

TABLES = ("wards", "postcodes", "lsoas", "oas", "deprivation", "assets", "merges", "exclusions")


def test_each_table_is_read_once_and_kept(synthetic_area: tuple[Path, Path]) -> None:
    profile, raw = synthetic_area
    area = data.open_area(profile, data_dir=raw)
    assert area.name == "Synthetica" and area.data_dir == raw
    assert "Synthetica" not in repr(area) and "'synthetic'" in repr(area)  # short repr
    first = {name: getattr(area, name) for name in TABLES}
    assert len(first["wards"]) == 4 and len(first["assets"]) == 10
    shutil.rmtree(raw)  # the bundle is gone: whatever answers now was kept
    for name in TABLES:
        assert getattr(area, name) is first[name], name
    assert area.wards_in(None) is first["wards"]  # the current pattern, by year or not
    assert area.wards_in(area.profile.current_ward_year) is first["wards"]
    # the demand points are built from the kept tables, without reading a file
    points = area.population
    assert int(points["population"].sum()) == int(first["lsoas"]["population"].sum())
    assert area.population is points
    # a loader reads afresh: the files are gone, so it fails, naming the fix
    with pytest.raises(NwmGeoError, match="import-data"):
        data.load_wards(area)


def test_loaders_read_afresh_from_the_same_object(synthetic_area: tuple[Path, Path]) -> None:
    profile, raw = synthetic_area
    area = data.open_area(profile, data_dir=raw)
    fresh = data.load_postcodes(area)
    assert fresh is not area.postcodes
    assert fresh.equals(area.postcodes)
    assert data.load_imd(area).equals(area.deprivation)


def test_a_study_reads_through_its_area_data(synthetic_area: tuple[Path, Path]) -> None:
    profile, raw = synthetic_area
    area = data.open_area(profile, data_dir=raw)
    for name in TABLES:
        getattr(area, name)
    area.population  # noqa: B018
    shutil.rmtree(raw)  # the study can only use what the area data holds
    study = pipeline.Study(area=area, project_dir=raw.parent)
    assert study.area_data is area and study.profile is area.profile
    assert study.data_dir == raw
    assert study.postcodes is area.postcodes
    assert study.demand is area.population
    assert study.register is area.assets
    assert int(study.wards["assets"].sum()) == 10
    # a what-if reads the same bundle: it shares the area data
    assert study.with_changes(close=[str(area.assets.index[0])]).area_data is area


def test_a_study_makes_its_area_data_from_profile_and_folder(
    synthetic_area: tuple[Path, Path],
) -> None:
    profile, raw = synthetic_area
    study = pipeline.Study(area=profile, data_dir=raw)
    assert study.area_data is study.area_data
    assert study.area_data.data_dir == raw and study.area_data.profile is study.profile
    assert study.lsoas is study.area_data.lsoas
    with pytest.raises(NwmGeoError, match="differs from the area data's folder"):
        pipeline.Study(area=data.open_area(profile, data_dir=raw), data_dir=raw / "other")


def test_a_council_without_counts_gets_no_luton_counts(
    synthetic_area: tuple[Path, Path],
) -> None:
    profile, raw = synthetic_area
    study = pipeline.Study(area=profile, data_dir=raw)
    assert study.profile.council_counts is None
    rec = study.reconciliation
    assert rec["council_count"].isna().all() and rec["gap"].isna().all()
    note = report.register_gap_note(rec)
    assert "council lists" not in note and "287" not in note
    assert "the council lists" not in report.register_gap_note(None)
    # the same council with its own counts gets its own total, never Luton's 287
    text = profile.read_text(encoding="utf-8")
    with_counts = profile.with_name("counted.toml")  # profiles are cached by path
    with_counts.write_text(text.replace("\n[files]", SYNTHETIC_COUNTS + "\n[files]", 1))
    counted = pipeline.Study(area=with_counts, data_dir=raw)
    note = report.register_gap_note(counted.reconciliation)
    assert "10 sites in the register; the council lists 13 in 8 categories" in note
    assert "287" not in note


def test_luton_counts_live_in_its_profile_only() -> None:
    assert not hasattr(nwm_geo.settings, "COUNCIL_REGISTER_COUNTS")
    luton = nwm_geo.areas.load_area("luton")
    assert sum((luton.council_counts or {}).values()) == 287
    # the vocabulary holds for every council: each profile's categories are among it
    for key in nwm_geo.areas.AREAS:
        assert set(nwm_geo.areas.load_area(key).categories) <= set(nwm_geo.settings.CATEGORIES)
    assert luton.categories == nwm_geo.settings.CATEGORIES


def test_minutes_and_speed_are_resolved_when_the_study_is_made(
    synthetic_area: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    profile, raw = synthetic_area
    study = pipeline.Study(area=profile, data_dir=raw)
    assert (study.minutes, study.speed_m_per_min) == (15.0, 80.0)
    monkeypatch.setattr(nwm_geo.settings, "walk_minutes", 10.0)
    monkeypatch.setattr(nwm_geo.settings, "walk_speed_m_per_min", 60.0)
    # a study made before the change keeps the values it was made with
    assert (study.settings.minutes, study.settings.speed_m_per_min) == (15.0, 80.0)
    assert (study.minutes, study.speed_m_per_min) == (15.0, 80.0)
    later = pipeline.Study(area=profile, data_dir=raw)
    assert (later.settings.minutes, later.settings.speed_m_per_min) == (10.0, 60.0)
    given = pipeline.Study(area=profile, data_dir=raw, minutes=20, speed_m_per_min=70)
    assert (given.minutes, given.speed_m_per_min) == (20.0, 70.0)


def test_a_council_register_is_read_against_the_kept_tables(
    synthetic_area: tuple[Path, Path], tmp_path: Path
) -> None:
    profile, raw = synthetic_area
    area = data.open_area(profile, data_dir=raw)
    area.postcodes, area.wards  # noqa: B018
    shutil.rmtree(raw)  # geocoding and wards can only come from what the area holds
    path = tmp_path / "council.csv"  # SYNTHETIC register: two made-up sites by postcode
    path.write_text(
        "asset_id,name,category,postcode\n"
        "c1,Synthetic Hall,Community Centre,ZZ1 1AB\n"
        "c2,Synthetic Library,Library,ZZ6 6AB\n",
        encoding="utf-8",
    )
    reg = area.read_register(path)
    assert reg.index.tolist() == ["c1", "c2"]
    assert reg["inside_area"].all() and reg["ward_code"].ne("").all()
    path.write_text("asset_id,name,category,postcode\nc3,X,Charity,ZZ1 1AB\n")
    with pytest.raises(NwmGeoError, match="Charity"):  # a category the area does not use
        area.read_register(path)
