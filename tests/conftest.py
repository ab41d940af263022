"""Shared pytest fixtures.

Data-layer fixtures are **synthetic**: two square wards and three postcodes near Luton,
with made-up names and positions, so the register tests need neither the real bundle
nor the network.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

if TYPE_CHECKING:
    from nwm_geo.pipeline import Study

REGISTER_FIXTURES = Path(__file__).parent / "data" / "register"


@pytest.fixture
def register_dir() -> Path:
    """Folder of the synthetic register fixtures (``tests/data/register``)."""
    return REGISTER_FIXTURES


@pytest.fixture
def synthetic_wards() -> gpd.GeoDataFrame:
    """Two synthetic 5 km square wards side by side, EPSG:27700, indexed by ward_code."""
    gdf = gpd.GeoDataFrame(
        {
            "ward_code": ["W00000001", "W00000002"],
            "ward_name": ["Synthetic West", "Synthetic East"],
        },
        geometry=[box(505000, 219000, 510000, 224000), box(510000, 219000, 515000, 224000)],
        crs="EPSG:27700",
    ).set_index("ward_code")
    gdf["area_km2"] = gdf.geometry.area / 1e6
    return gdf


@pytest.fixture
def synthetic_postcodes() -> gpd.GeoDataFrame:
    """Three synthetic postcode points (two inside the synthetic wards, one outside)."""
    rows = {
        "LU1 1AA": (508000.0, 221000.0),
        "LU2 2BB": (511000.0, 223000.0),
        "LU3 3DD": (520000.0, 230000.0),
    }
    return gpd.GeoDataFrame(
        {
            "postcode": list(rows),
            "easting": [xy[0] for xy in rows.values()],
            "northing": [xy[1] for xy in rows.values()],
        },
        geometry=[Point(xy) for xy in rows.values()],
        crs="EPSG:27700",
    ).set_index("postcode")


# ----------------------------------------------------------------------------------------
# A synthetic council: a profile plus its data folder, as a new council would bring


def _write_geojson(gdf: gpd.GeoDataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    gdf.to_crs("EPSG:4326").to_file(path, driver="GeoJSON")


def build_synthetic_area(root: Path) -> tuple[Path, Path]:
    """Write a SYNTHETIC council (4 wards, 4 LSOAs, 36 postcodes, 10 assets) and its profile.

    Every name, code, count and position is made up. The wards are 2 km squares in a
    2 x 2 grid; each ward is one LSOA and one OA; postcodes sit on a 6 x 6 grid.

    Returns
    -------
    tuple of (Path, Path)
        The profile file and the data folder (the "bundle").
    """
    import pandas as pd

    data = root / "raw"
    x0, y0, side = 600000.0, 300000.0, 2000.0
    cells = [(i, j) for j in range(2) for i in range(2)]
    squares = [box(x0 + i * side, y0 + j * side, x0 + (i + 1) * side, y0 + (j + 1) * side)
               for i, j in cells]  # fmt: skip
    wards = [f"X0500000{n}" for n in range(1, 5)]
    lsoas = [f"X0100000{n}" for n in range(1, 5)]
    oas = [f"X0000000{n}" for n in range(1, 5)]
    crs = "EPSG:27700"
    _write_geojson(
        gpd.GeoDataFrame(
            {"WDCD": wards, "WDNM": [f"Synthetic Ward {n}" for n in range(1, 5)]},
            geometry=squares,
            crs=crs,
        ),
        data / "boundaries" / "wards.geojson",
    )
    for year, codes in ((2021, lsoas), (2011, lsoas)):
        yy = str(year)[2:]
        _write_geojson(
            gpd.GeoDataFrame(
                {f"LSOA{yy}CD": codes, f"LSOA{yy}NM": [f"Synthetic {c}" for c in codes]},
                geometry=squares,
                crs=crs,
            ),
            data / "boundaries" / f"lsoa_{year}.geojson",
        )
    _write_geojson(
        gpd.GeoDataFrame({"OA11CD": oas}, geometry=squares, crs=crs),
        data / "boundaries" / "oa_2011.geojson",
    )
    pop = [1200, 900, 1500, 600]
    bands = pd.DataFrame(
        {
            "lsoa21_code": lsoas,
            "lsoa21_name": [f"Synthetic {c}" for c in lsoas],
            "total": pop,
            "age_0_15": [p // 5 for p in pop],
            "age_16_24": [p // 10 for p in pop],
            "age_25_34": [p // 10 for p in pop],
            "age_35_49": [p // 5 for p in pop],
            "age_50_64": [p // 5 for p in pop],
        }
    )
    bands["age_65_plus"] = bands["total"] - bands.iloc[:, 3:].sum(axis=1)
    (data / "population").mkdir(parents=True)
    bands.to_csv(data / "population" / "census2021.csv", index=False)
    pd.DataFrame({"LSOA11CD": lsoas, "total": [p - 50 for p in pop]}).to_csv(
        data / "population" / "religion2011.csv", index=False
    )
    pd.DataFrame({"oa11_code": oas, "usual_residents_2011": [p - 50 for p in pop]}).to_csv(
        data / "population" / "census2011_oa.csv", index=False
    )
    deciles = [1, 4, 7, 10]  # the IMD 2019 file's schema; ranks and deciles made up
    imd = pd.DataFrame(
        {
            "lsoa11_code": lsoas,
            "index_of_multiple_deprivation_imd_rank": [d * 3000 - 100 for d in deciles],
            "index_of_multiple_deprivation_imd_decile": deciles,
        }
    )
    for domain in ("income", "employment", "education_skills_and_training",
                   "health_deprivation_and_disability", "crime",
                   "barriers_to_housing_and_services", "living_environment"):  # fmt: skip
        imd[f"{domain}_decile"] = deciles
    imd.to_csv(data / "population" / "imd2019.csv", index=False)
    rows = []
    for a in range(6):
        for b in range(6):
            e, n = x0 + 300 + a * 650, y0 + 300 + b * 650
            ward = wards[(1 if e >= x0 + side else 0) + (2 if n >= y0 + side else 0)]
            rows.append(
                {
                    "postcode": f"ZZ{a + 1} {b + 1}AB",
                    "pos_quality": 10,
                    "easting": e,
                    "northing": n,
                    "lon": 0.0,
                    "lat": 0.0,
                    "admin_district_code": "E06999999",  # synthetic, not a real council
                    "admin_ward_code": ward,
                    "admin_ward_name": f"Synthetic Ward {wards.index(ward) + 1} Ward",
                }
            )
    (data / "postcodes").mkdir(parents=True)
    pd.DataFrame(rows).to_csv(data / "postcodes" / "codepoint.csv", index=False)
    cats = ["Community Centre", "Library", "GP / Medical Centre", "Religious Institution",
            "Education", "Community Centre", "Council", "Health", "Sports and Leisure",
            "Library"]  # fmt: skip
    assets = pd.DataFrame(
        {
            "name": [f"Synthetic Site {n}" for n in range(1, 11)],
            "category": cats,
            "easting": [x0 + 400 + (n % 4) * 900 for n in range(10)],
            "northing": [y0 + 500 + (n // 4) * 1300 for n in range(10)],
            "source": "synthetic test data",
            "source_date": "n/a",
            "licence": "n/a",
        }
    )
    (data / "assets").mkdir(parents=True)
    assets.to_csv(data / "assets" / "sites.csv", index=False)
    profile = root / "synthetic.toml"
    profile.write_text(
        """key = "synthetic"
name = "Synthetica"
council = "Synthetic District Council"
district_code = "E06999999"
localities = 2
network = "approximate"
data_dates = "synthetic test data"
categories = ["Community Centre", "Library", "GP / Medical Centre", "Religious Institution",
  "Education", "Council", "Health", "Sports and Leisure"]

[files]
lsoa_2021 = "boundaries/lsoa_2021.geojson"
lsoa_2011 = "boundaries/lsoa_2011.geojson"
oa_2011 = "boundaries/oa_2011.geojson"
census_2021_lsoa = "population/census2021.csv"
census_2011_oa = "population/census2011_oa.csv"
religion_2011_lsoa = "population/religion2011.csv"
imd_2019 = "population/imd2019.csv"
postcodes = "postcodes/codepoint.csv"

[wards.2024]
file = "boundaries/wards.geojson"
code = "WDCD"
name = "WDNM"

[[sources]]
file = "assets/sites.csv"
adapter = "harmonised"
prefix = "site"
""",
        encoding="utf-8",
    )
    return profile, data


@pytest.fixture
def synthetic_area(tmp_path: Path) -> tuple[Path, Path]:
    """A SYNTHETIC council's profile and data folder (see :func:`build_synthetic_area`)."""
    return build_synthetic_area(tmp_path)


@dataclass(frozen=True)
class SyntheticRun:
    """The SYNTHETIC council's profile and data folder, and a project holding its run."""

    profile: Path
    data_dir: Path
    project: Path

    @property
    def area(self) -> tuple[Path, Path]:
        """``(profile, data_dir)``, as the ``synthetic_area`` fixture gives them."""
        return self.profile, self.data_dir


@pytest.fixture(scope="session")
def _synthetic_run_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One whole ``pipeline.run`` of the SYNTHETIC council per test process, never changed."""
    from nwm_geo import pipeline

    root = tmp_path_factory.mktemp("synthetic-run")
    profile, data_dir = build_synthetic_area(root / "area")
    study = pipeline.Study(area=profile, data_dir=data_dir)
    pipeline.run(study, project_dir=root / "project", progress=False)
    return root


@pytest.fixture
def synthetic_run(_synthetic_run_template: Path, tmp_path: Path) -> SyntheticRun:
    """A copy, for this test alone, of the SYNTHETIC council and a project it was run into.

    The project holds what ``pipeline.run`` (every stage, the default settings) wrote:
    ``data/processed/synthetic``, ``reports/synthetic`` and the saved baseline. It is
    copied from one run per test process, so a test may change the data or the project
    as it likes; a test of what a run itself does makes its own run.
    """
    import shutil

    copy = tmp_path / "synthetic-run"
    shutil.copytree(_synthetic_run_template, copy, symlinks=True)
    return SyntheticRun(
        profile=copy / "area" / "synthetic.toml",
        data_dir=copy / "area" / "raw",
        project=copy / "project",
    )


@pytest.fixture(autouse=True)
def _session_left_as_found() -> Iterator[None]:
    """Each test leaves the working directory and the project variables as it found them.

    ``nwm_geo.notebook_setup`` sets them for a notebook's whole session, as it should;
    a test that calls it must not leave its temporary project to the tests after it.
    """
    keys = ("NWM_GEO_PROJECT_DIR", "NWM_GEO_SHARED_DATA")
    saved = {k: os.environ.get(k) for k in keys}
    cwd = os.getcwd()
    yield
    os.chdir(cwd)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


# ----------------------------------------------------------------------------------------
# The real bundles, computed once per test session (slow tier only)
#
# Each is built the first time a test asks for it and then only read: a test that needs
# a changed input (another register, a closed site, a stage that fails) makes its own
# study or run. Under pytest-xdist each process would build its own copy, so the tests
# that read them run on one process, as one unit: :func:`area_group` names them (the
# ``xdist_group("areas")`` marks they carry document it; pytest 9.2 no longer lets
# xdist schedule by them).

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"

# The test files whose every test reads a session area; in the files of _AREA_USERS, a
# test that reads one must also name its area ("luton" or "rutland") in its name (a
# parametrize id counts). A new file is listed in one of them.
_AREA_FILES = {"test_batch_areas.py", "test_fringe.py", "test_honest.py",
               "test_scenarios_luton.py"}  # fmt: skip
_AREA_USERS = {"test_areas.py", "test_browser.py", "test_cli.py", "test_equity.py",
               "test_explorer_browser.py", "test_hubs_integration.py", "test_library.py",
               "test_pack.py", "test_paper.py"}  # fmt: skip


def area_group(nodeid: str) -> str | None:
    """``"areas"`` for a test that reads a session area, from its node id alone.

    pytest 9.2 no longer lets pytest-xdist add a test's ``xdist_group`` to its node id
    (pytest-xdist issue 1386), so ``--dist loadgroup`` stopped grouping; the scheduler
    below groups by this rule instead, and :func:`pytest_collection_modifyitems` checks
    that it holds every test that reads an area.
    """
    path, _, name = nodeid.partition("::")
    file = path.rsplit("/", 1)[-1]
    if file in _AREA_FILES:
        return "areas"
    if file in _AREA_USERS and ("luton" in name.lower() or "rutland" in name.lower()):
        return "areas"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that reads a session area is in the group "areas", or collection stops."""
    areas = {f"{a}_{kind}" for a in ("luton", "rutland") for kind in ("study", "run")}
    for item in items:
        used = areas & set(getattr(item, "fixturenames", ()))
        if used and area_group(item.nodeid) != "areas":
            raise pytest.UsageError(
                f"{item.nodeid} reads {', '.join(sorted(used))} but is not in the group "
                "'areas': list its file in tests/conftest.py's _AREA_FILES, or in _AREA_USERS "
                "and name its area (luton or rutland) in the test's name"
            )


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup``: the areas' tests as one unit, every other test alone."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class AreaGroups(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return area_group(nodeid) or nodeid

    return AreaGroups(config, log)


@dataclass(frozen=True)
class RunOutputs:
    """A whole ``nwm-geo run`` of one area into a temporary project: read it, never write."""

    project: Path
    processed: Path
    reports: Path
    printed: str


def _cli_run(area: str, project: Path) -> RunOutputs:
    """``nwm-geo run --quiet [--area AREA]`` into ``project``, as a user runs it.

    Luton is the default area: its run is the plain ``nwm-geo run --quiet``.
    """
    from nwm_geo.areas import load_area
    from nwm_geo.cli import main

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("NWM_GEO_PROJECT_DIR", str(project))
        env.setenv("NWM_GEO_SHARED_DATA", str(RAW))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["run", "--quiet", *([] if area == "luton" else ["--area", area])])
    assert code == 0, err.getvalue()
    sub = load_area(area).output_subdir
    return RunOutputs(
        project=project,
        processed=project / "data" / "processed" / sub,
        reports=project / "reports" / sub,
        printed=out.getvalue(),
    )


@pytest.fixture(scope="session")
def luton_run(tmp_path_factory: pytest.TempPathFactory) -> RunOutputs:
    """One ``nwm-geo run`` of Luton (the default area) into a temporary project."""
    return _cli_run("luton", tmp_path_factory.mktemp("luton-run"))


@pytest.fixture(scope="session")
def rutland_run(tmp_path_factory: pytest.TempPathFactory, rutland_study: Study) -> RunOutputs:
    """One ``nwm-geo run --area rutland`` into a temporary project.

    The project starts with the parsed-OSM cache the session's Rutland study wrote (a
    second run's start, keyed by the pbf's sha256): the pbf is parsed once per session.
    ``tests/test_osm_cache.py`` and ``tests/test_network.py`` parse it themselves.
    """
    import shutil

    project = tmp_path_factory.mktemp("rutland-run")
    rutland_study.graph  # noqa: B018  (parses the pbf into ROOT's cache, once)
    cache = ROOT / "data" / "cache" / "network"
    if cache.is_dir():
        shutil.copytree(cache, project / "data" / "cache" / "network")
    return _cli_run("rutland", project)


@pytest.fixture(scope="session")
def luton_study() -> Study:
    """One Luton :class:`~nwm_geo.pipeline.Study` (``Study()``) whose results tests read."""
    from nwm_geo.pipeline import Study

    return Study(project_dir=ROOT)


@pytest.fixture(scope="session")
def rutland_study() -> Study:
    """One Rutland :class:`~nwm_geo.pipeline.Study` whose results tests read."""
    from nwm_geo.pipeline import Study

    return Study(area="rutland", project_dir=ROOT)
