"""Chain the stages: register → localities → coverage → requirements → maps and report.

In: the imported bundle (``data/raw``), or a council register file. Out: the files
under ``data/processed`` and ``reports``. :class:`Study` computes each stage once,
lazily, from the stages it depends on; the ``write_*`` functions write a stage's
files into a folder; :func:`run` stages every file and moves them into place only
when all were written, so a failed run leaves no partial outputs.
The CLI (:mod:`nwm_geo.cli`) and the notebooks call these functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import pandas as pd
from tqdm.auto import tqdm

from nwm_geo import (
    __version__,
    coverage,
    data,
    localities,
    maps,
    network,
    report,
    requirements,
    settings,
)
from nwm_geo._errors import NwmGeoError
from nwm_geo._io import staged_outputs
from nwm_geo._safe import neutralise_formula
from nwm_geo.areas import Area, load_area

__all__ = [
    "PROCESSED_TABLES",
    "STAGES",
    "Study",
    "coverage_by_locality",
    "data_note",
    "run",
    "sources_note",
    "write_coverage",
    "write_localities",
    "write_register_stage",
    "write_report",
]


@dataclass
class Study:
    """One analysis of the borough, computed stage by stage on first use.

    Parameters
    ----------
    area
        The area profile: a name (``"luton"``, the default; ``"rutland"``), a profile
        path or an :class:`~nwm_geo.areas.Area` (:mod:`nwm_geo.areas`).
    data_dir
        The imported bundle (default ``settings.raw_dir()``).
    register_path
        A council register file (CSV, XLSX, GeoJSON, GeoPackage) to use instead of the
        open-data register assembled from the bundle.
    register_columns
        Column mapping for ``register_path`` (file column → schema column).
    ward_year
        Ward pattern, as named in the area profile (Luton: 2023, 20 wards, or 2013);
        default the current one.
    k
        Number of localities (default: the area profile's).
    n_alternatives
        How many of the best distinct locality plans to list.
    minutes, speed_m_per_min
        Walk threshold and speed (defaults from :mod:`nwm_geo.settings`).
    osm_path, graph_path, download
        Walk network source (see :func:`nwm_geo.network.walk_network`); with none of
        them the area's default is used: its OSM file (Rutland) or the offline
        postcode-proximity approximation (Luton).
    new_sites
        How many new sites to suggest per bundle (MCLP).
    verbose
        Show progress.
    """

    area: str | Path | Area | None = None
    data_dir: Path | None = None
    register_path: Path | None = None
    register_columns: Mapping[str, str] | None = None
    ward_year: int | None = None
    k: int | None = None
    n_alternatives: int = 10
    minutes: float | None = None
    speed_m_per_min: float | None = None
    osm_path: Path | None = None
    graph_path: Path | None = None
    download: bool = False
    new_sites: int = 3
    verbose: bool = False

    def __post_init__(self) -> None:
        self.area = load_area(self.area)
        if self.ward_year is None:
            self.ward_year = self.area.current_ward_year
        self.area.ward_pattern(self.ward_year)  # an unknown pattern fails here, early
        if self.k is None:
            self.k = self.area.localities

    @property
    def profile(self) -> Area:
        """The area profile (resolved from ``area``)."""
        assert isinstance(self.area, Area)
        return self.area

    @property
    def categories(self) -> tuple[str, ...]:
        """The register categories this area uses (its profile's)."""
        return self.profile.categories

    @property
    def bundles(self) -> dict[str, tuple[str, ...]]:
        """The three bundles (:data:`nwm_geo.settings.BUNDLES`), limited to the area's
        categories (Rutland has no council-run community centre category)."""
        out = {
            name: tuple(c for c in cats if c in self.categories)
            for name, cats in settings.BUNDLES.items()
        }
        return {name: cats for name, cats in out.items() if cats}

    @property
    def data_dates(self) -> str:
        """The dates of the data behind every output (from the area profile)."""
        return self.profile.data_dates

    @property
    def n_localities(self) -> int:
        """The number of localities (``k``, or the area profile's)."""
        return int(self.k if self.k is not None else self.profile.localities)

    # -- register ------------------------------------------------------------
    @cached_property
    def _register_and_merges(self) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
        if self.register_path is not None:
            reg = data.read_register(
                self.register_path,
                columns=self.register_columns,
                area=self.profile,
                data_dir=self.data_dir,
            )
            return reg, pd.DataFrame(columns=list(data.MERGE_LOG_COLUMNS))
        return data.build_open_register(
            area=self.profile, data_dir=self.data_dir, verbose=self.verbose
        )

    @cached_property
    def register(self) -> gpd.GeoDataFrame:
        """The asset register, indexed by ``asset_id`` (EPSG:27700), in ``ward_year`` wards."""
        return self._in_ward_pattern(self._register_and_merges[0])

    @property
    def merges(self) -> pd.DataFrame:
        """The de-duplication log of the open-data register (empty for a council file)."""
        return self._register_and_merges[1]

    @cached_property
    def reconciliation(self) -> pd.DataFrame:
        """Council count, register count and gap per category."""
        return data.reconciliation(self.register, area=self.profile)

    # -- boundaries and population -------------------------------------------
    @cached_property
    def demand(self) -> gpd.GeoDataFrame:
        """Residential demand points (postcodes carrying Census 2021 population)."""
        points = data.build_demand_points(
            self.postcodes,
            data.load_lsoas(year=2021, area=self.profile, data_dir=self.data_dir),
            data.load_oas(area=self.profile, data_dir=self.data_dir),
            data.load_wards(area=self.profile, data_dir=self.data_dir),
            verbose=self.verbose,
        )
        return self._in_ward_pattern(points)

    @cached_property
    def postcodes(self) -> gpd.GeoDataFrame:
        """The Code-Point postcodes of the area's bundle (read once per study)."""
        return data.load_postcodes(area=self.profile, data_dir=self.data_dir)

    @cached_property
    def _ward_shapes(self) -> gpd.GeoDataFrame:
        return data.load_wards(year=self.ward_year, area=self.profile, data_dir=self.data_dir)

    def _in_ward_pattern(self, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Re-assign ``ward_code``/``ward_name`` by location when ``ward_year`` is not 2023.

        The loaders give 2023 wards (Code-Point and the register use them); the 2013
        pattern is assigned by point in polygon.
        """
        if self.ward_year == self.profile.current_ward_year:
            return frame
        shapes = self._ward_shapes
        right = shapes[["ward_name", "geometry"]].reset_index(names="ward_code")
        joined = gpd.sjoin(frame[["geometry"]], right, how="left", predicate="within")
        joined = joined[~joined.index.duplicated(keep="first")]
        out = frame.copy()
        out["ward_code"] = joined["ward_code"]
        out["ward_name"] = joined["ward_name"]
        return out

    @cached_property
    def wards(self) -> gpd.GeoDataFrame:
        """Wards with population, asset counts (total and per category) and geometry."""
        geo = self._ward_shapes
        table = data.ward_table(geo, self.register, self.demand, categories=self.categories)
        out = geo[["geometry"]].join(table)
        return gpd.GeoDataFrame(out, geometry="geometry", crs=geo.crs)

    # -- localities ----------------------------------------------------------
    @cached_property
    def plan(self) -> localities.LocalityPlan:
        """The proven-optimal locality plan (or the best found, with its gap).

        It is the first of :attr:`alternatives`, so the swing wards are measured against
        this very plan and the wards are not solved twice.
        """
        if self.n_alternatives > 0 and self.alternatives.best is not None:
            return self.alternatives.best
        # verbose=False: the partition's verbose mode prints the HiGHS log, not a bar
        return localities.partition(self.wards, k=self.n_localities)

    @cached_property
    def alternatives(self) -> localities.Alternatives:
        """The best distinct locality plans and the swing wards."""
        return localities.alternatives(self.wards, k=self.n_localities, n=self.n_alternatives)

    @cached_property
    def localities(self) -> gpd.GeoDataFrame:
        """The dissolved localities with their metrics."""
        return localities.dissolve(self.wards, self.plan.assignment)

    def locality_of(self, frame: pd.DataFrame) -> pd.Series:
        """Return the locality of each row of ``frame`` from its ``ward_code``."""
        return requirements.locality_of(frame["ward_code"], self.plan.assignment)

    # -- network and coverage ------------------------------------------------
    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The walk network (EPSG:27700): the given source, else the area's default."""
        osm_path = self.osm_path
        if (
            osm_path is None
            and self.graph_path is None
            and not self.download
            and self.profile.network == "osm"
            and self.profile.osm_file
        ):
            osm_path = data.require_raw(self.profile.osm_file, data_dir=self.data_dir)
        return network.walk_network(
            boundary=data.borough_boundary(self._ward_shapes),
            postcodes=self.postcodes,
            osm_path=osm_path,
            graph_path=self.graph_path,
            download=self.download,
            cache_dir=None if self.data_dir is None else Path(self.data_dir) / "osm",
            data_dir=self.data_dir,
            verbose=self.verbose,
        )

    @property
    def network_label(self) -> str:
        """The network line every output states."""
        return network.network_label(self.graph)

    @cached_property
    def model(self) -> coverage.WalkModel:
        """The walk network with demand points and assets inserted."""
        return coverage.prepare(
            self.graph, demand=self.demand, assets=self.register, verbose=self.verbose
        )

    @cached_property
    def minutes_to_nearest(self) -> pd.DataFrame:
        """Walking minutes from each demand point to the nearest asset per category/bundle."""
        return coverage.nearest_minutes(
            self.model,
            speed_m_per_min=self.speed_m_per_min,
            categories=self.categories,
            bundles=self.bundles,
            verbose=self.verbose,
        )

    @cached_property
    def asset_cover(self) -> coverage.Cover:
        """Which demand points are within the walk of which asset (sparse, points × assets)."""
        return coverage.coverage_matrix(
            self.model, sources="assets", minutes=self.minutes, speed_m_per_min=self.speed_m_per_min
        )

    @cached_property
    def criticality(self) -> pd.DataFrame:
        """Per asset: population covered, and population that loses access if it closed."""
        return coverage.asset_criticality(self.model, cover=self.asset_cover)

    @cached_property
    def demand_with_locality(self) -> gpd.GeoDataFrame:
        """Demand points with a ``locality`` column."""
        out = self.demand.copy()
        out["locality"] = self.locality_of(out)
        return out

    @cached_property
    def walksheds(self) -> gpd.GeoDataFrame:
        """15-minute walksheds dissolved per category (EPSG:27700)."""
        return coverage.walksheds(
            self.model, minutes=self.minutes, speed_m_per_min=self.speed_m_per_min, by="category"
        )

    # -- requirements --------------------------------------------------------
    @cached_property
    def outline(self) -> requirements.RequirementsOutline:
        """The outline of asset requirements per locality (exact LSCP/MCLP, checked)."""
        site_cover = coverage.coverage_matrix(
            self.model,
            sources="points",
            minutes=self.minutes,
            speed_m_per_min=self.speed_m_per_min,
            verbose=self.verbose,
        )
        return requirements.outline(
            self.register,
            self.demand,
            assignment=self.plan.assignment,
            cover=self.asset_cover,
            site_cover=site_cover,
            nearest=self.minutes_to_nearest,
            criticality=self.criticality,
            network_label=self.network_label,
            k=self.new_sites,
            minutes=self.minutes,
            walk_speed_m_per_min=self.speed_m_per_min,
            bundles=self.bundles,
            method_notes={
                "data_dates": self.data_dates,
                "register": data_note(self.reconciliation, area=self.profile),
                "localities": f"{self.n_localities} localities of whole wards ({self.plan.status})",
            },
            verbose=self.verbose,
        )

    def coverage(self, *, by: str = "ward_code") -> pd.DataFrame:
        """Population-weighted coverage per area (``ward_code``, ``lsoa_code``, ``locality``)."""
        return coverage.coverage_table(
            self.minutes_to_nearest, self.demand_with_locality, by=by, minutes=self.minutes
        )


def data_note(reconciliation: pd.DataFrame, *, area: str | Area | None = None) -> str:
    """One sentence on the register against the council's count, and its missing categories.

    Parameters
    ----------
    reconciliation
        :func:`nwm_geo.data.reconciliation`.
    area
        The area profile (default Luton); a council with no published counts gets a
        sentence that says so instead of a target.

    Returns
    -------
    str
        The note.
    """
    prof = load_area(area)
    total = reconciliation.loc["TOTAL"]
    body = reconciliation.drop(index="TOTAL")
    if not prof.has_council_counts:
        empty = body.index[body["register_count"] == 0].tolist()
        text = (
            f"{total['register_count']} sites in the open register for {prof.name}; "
            f"{prof.council} publishes no register with category counts, so there is no "
            "target to reconcile against (none is made up)."
        )
        if empty:
            text += f" No site in the register for: {', '.join(empty)}."
        return text
    short = body[body["gap"] > 0]
    empty = body.index[body["register_count"] == 0].tolist()
    text = (
        f"{total['register_count']} sites in the register against the council's "
        f"{total['council_count']}; {int(short['gap'].sum())} short in "
        f"{len(short)} categories."
    )
    if empty:
        text += (
            f" No site in the register for: {', '.join(empty)}; their coverage reads 0 % "
            "because no site is known, not because none exists."
        )
    return text


def coverage_by_locality(study: Study) -> pd.DataFrame:
    """Share of residents within the walk threshold: categories × localities, plus the area.

    Parameters
    ----------
    study
        The study.

    Returns
    -------
    pandas.DataFrame
        Indexed by category or bundle; one column per locality and one named after the
        area (``Luton``); values are
        percentages.
    """
    table = study.coverage(by="locality")
    wide = table.pivot(index="category", columns="locality", values="share") * 100
    total = coverage.coverage_summary(
        study.minutes_to_nearest, study.demand, minutes=study.minutes
    )["share"]
    wide[study.profile.name] = total * 100
    order = [c for c in total.index if c in wide.index]
    wide = wide.loc[order].round(1)
    present = set(study.register.loc[study.register["in_borough"].astype(bool), "category"])
    wide.index = [
        f"{c} (no site in register)" if c in study.categories and c not in present else c
        for c in wide.index
    ]
    wide.index.name = "category"
    return wide


# -- writers ---------------------------------------------------------------------
def _csv(frame: pd.DataFrame, path: Path, *, index: bool = True) -> Path:
    """Write a CSV; text cells that Excel would read as formulas are neutralised."""
    path.parent.mkdir(parents=True, exist_ok=True)
    safe = frame.copy()
    for col in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[col]):
            safe[col] = safe[col].map(neutralise_formula)
    if not pd.api.types.is_numeric_dtype(safe.index):
        safe.index = safe.index.map(neutralise_formula)
    safe.to_csv(path, index=index, encoding="utf-8")
    return path


def write_register_stage(study: Study, out: Path) -> list[Path]:
    """Write the register, reconciliation, merges, wards and demand points.

    Parameters
    ----------
    study
        The study.
    out
        Folder for ``data/processed`` files.

    Returns
    -------
    list of Path
        The files written.
    """
    reg_csv, reg_gpkg = out / "assets_register.csv", out / "assets_register.gpkg"
    data.write_register(study.register, reg_csv, reg_gpkg)
    wards = pd.DataFrame(study.wards.drop(columns="geometry"))
    demand = pd.DataFrame(study.demand.drop(columns="geometry"))
    return [
        reg_csv,
        reg_gpkg,
        _csv(study.reconciliation, out / "register_reconciliation.csv"),
        _csv(study.merges, out / "register_merges.csv", index=False),
        _csv(wards, out / "wards.csv"),
        _csv(demand, out / "demand_points.csv"),
    ]


def write_localities(study: Study, out: Path) -> list[Path]:
    """Write ``localities.csv``, ``localities.geojson``, the summary and the alternatives.

    Parameters
    ----------
    study
        The study.
    out
        Folder for ``data/processed`` files.

    Returns
    -------
    list of Path
        The files written.
    """
    plan = study.plan
    assignment = pd.DataFrame({"ward_name": study.wards["ward_name"], "locality": plan.assignment})
    assignment.index.name = "ward_code"
    summary = plan.summary.copy()
    summary["objective"] = plan.objective
    summary["boundary_cut_m"] = plan.boundary_cut_m
    summary["status"] = plan.status
    geo = study.localities.to_crs(settings.wgs84)
    geo_path = out / "localities.geojson"
    geo.reset_index().to_file(geo_path, driver="GeoJSON")
    alts = study.alternatives
    return [
        _csv(assignment, out / "localities.csv"),
        geo_path,
        _csv(summary, out / "locality_summary.csv"),
        _csv(alts.plans, out / "locality_alternatives.csv", index=False),
        _csv(alts.swing, out / "locality_swing_wards.csv"),
    ]


def write_coverage(study: Study, out: Path) -> list[Path]:
    """Write the coverage tables, the asset criticality and the walk network.

    Parameters
    ----------
    study
        The study.
    out
        Folder for ``data/processed`` files.

    Returns
    -------
    list of Path
        The files written.
    """
    demand = study.demand
    snaps = study.model.point_snaps
    points = pd.DataFrame(
        {
            "lon": demand["lon"],
            "lat": demand["lat"],
            "population": demand["population"],
            "ward_code": demand["ward_code"],
            "lsoa_code": demand["lsoa_code"],
            "locality": study.locality_of(demand),
            "snap_m": snaps["snap_m"].round(1),
            "snap_flagged": snaps["flagged"],
        }
    ).join(study.minutes_to_nearest.round(2))
    crit = study.criticality.join(study.register[["ward_code", "in_borough"]])
    crit["locality"] = study.locality_of(crit)
    tables = {"coverage_points.csv": (points, True), "asset_criticality.csv": (crit, True)}
    for by, name in [("ward_code", "wards"), ("lsoa_code", "lsoas"), ("locality", "localities")]:
        tables[f"coverage_{name}.csv"] = (study.coverage(by=by), False)
    paths = []
    for name, (frame, index) in tables.items():
        frame["network"] = study.network_label  # every file says which network it used
        paths.append(_csv(frame, out / name, index=index))
    paths.append(network.save_graph(study.graph, out / "walk_network.gpkg"))
    return paths


def write_report(study: Study, out: Path) -> list[Path]:
    """Write the requirements spreadsheet, the maps and ``index.html``.

    Parameters
    ----------
    study
        The study.
    out
        Folder for ``reports`` files.

    Returns
    -------
    list of Path
        The files written.
    """
    label = study.network_label
    minutes = study.minutes or settings.walk_minutes
    outline = study.outline
    wards, assignment = study.wards, study.plan.assignment
    register = study.register
    gaps = outline.gap_points
    bundles = list(study.bundles)
    lsoas = data.load_lsoas(year=2021, area=study.profile, data_dir=study.data_dir)
    area_gaps = requirements.gap_population(
        study.minutes_to_nearest, study.demand, assignment=assignment, by="lsoa", minutes=minutes
    )
    common: dict[str, Any] = {"network_label": label}
    folium_maps = {
        "Localities": (
            "map_localities.html",
            maps.localities_map(wards, assignment, **common),
        ),
        "Community assets by category": (
            "map_assets.html",
            maps.assets_map(register, wards=wards, assignment=assignment, **common),
        ),
        f"Residents beyond a {minutes:g}-minute walk": (
            "map_gaps.html",
            maps.gaps_map(
                gaps,
                measures=bundles,
                wards=wards,
                areas=lsoas,
                area_gaps=area_gaps,
                minutes=minutes,
                **common,
            ),
        ),
        f"{minutes:g}-minute walksheds by category": (
            "map_walksheds.html",
            maps.walksheds_map(
                study.walksheds, assets=register, wards=wards, minutes=minutes, **common
            ),
        ),
    }
    written: list[Path] = []
    map_links: list[tuple[str, Path]] = []
    for title, (name, m) in folium_maps.items():
        maps.save_map(m, out / name)
        map_links.append((title, out / name))
    figures = {
        "Localities (PNG)": ("localities.png", maps.plot_localities(wards, assignment, **common)),
        "Assets by category (PNG)": (
            "assets.png",
            maps.plot_assets(register, wards=wards, **common),
        ),
        "Coverage by bundle (PNG)": (
            "coverage.png",
            maps.plot_coverage(
                study.demand,
                study.minutes_to_nearest,
                measures=bundles,
                wards=wards,
                minutes=minutes,
                **common,
            ),
        ),
    }
    for title, (name, fig) in figures.items():
        maps.save_figure(fig, out / name)
        map_links.append((title, out / name))
    xlsx = report.write_requirements_xlsx(
        outline, out / "asset_requirements.xlsx", method_extra={"data_dates": study.data_dates}
    )
    tables_dir = out / "tables"
    table_links: list[tuple[str, Path]] = [("Outline of asset requirements (Excel)", xlsx)]
    for title, name, frame in [
        ("Business case list", "business_case.csv", outline.business_case),
        ("Required assets", "required_assets.csv", outline.required),
        ("Redundant assets", "redundant_assets.csv", outline.redundant),
        ("Suggested new sites", "new_sites.csv", outline.new_sites),
        ("Residents beyond the walk, by locality", "gap_population.csv", outline.gaps),
        ("Coverage and requirements summary", "summary.csv", outline.summary),
        ("Solver proof status", "solver_status.csv", outline.solver_status),
    ]:
        table_links.append((title, _csv(frame, tables_dir / name)))
    written += [p for _, p in map_links] + [p for _, p in table_links]
    links = [(t, str(p.relative_to(out))) for t, p in table_links]
    # The data/processed tables: written by this run (beside ``out`` in the staging folder,
    # or beside it in the project when called directly), or by an earlier run (the staging
    # folder sits inside the project folder, so that is two levels up).
    sub = study.profile.output_subdir
    depth = 2 if sub else 1  # reports/ or reports/<area>/
    up = "../" * depth
    for title, name in PROCESSED_TABLES.items():
        rel = Path("data") / "processed" / sub / name
        if any((base / rel).exists() for base in out.parents[depth - 1 : depth + 1]):
            links.append((title, f"{up}{rel.as_posix()}"))
    index = report.write_index_html(
        out / "index.html",
        maps=[(t, str(p.relative_to(out))) for t, p in map_links],
        tables=links,
        method={**outline.method, "data_dates": study.data_dates},
        open_register_assets=int(study.reconciliation["register_count"]["TOTAL"]),
        notes=[data_note(study.reconciliation, area=study.profile)]
        + ([study.profile.communal_note] if study.profile.communal_note else [])
        + ([network.APPROXIMATION_ERROR_NOTE] if network.is_approximate(study.graph) else []),
        check_exists=False,
    )
    written.append(index)
    return written


#: The data/processed tables that ``reports/index.html`` links, with their titles.
PROCESSED_TABLES: dict[str, str] = {
    "Asset register (open data)": "assets_register.csv",
    "Register against the council's 287": "register_reconciliation.csv",
    "Register de-duplication log": "register_merges.csv",
    "Wards: population and assets": "wards.csv",
    "Residential demand points": "demand_points.csv",
    "Localities: ward assignment": "localities.csv",
    "Localities: metrics and proof status": "locality_summary.csv",
    "Localities: best alternative plans": "locality_alternatives.csv",
    "Localities: swing wards": "locality_swing_wards.csv",
    "Coverage per postcode": "coverage_points.csv",
    "Coverage per ward": "coverage_wards.csv",
    "Coverage per LSOA": "coverage_lsoas.csv",
    "Coverage per locality": "coverage_localities.csv",
    "Asset criticality": "asset_criticality.csv",
    "Walk network (GeoPackage)": "walk_network.gpkg",
}


#: The stages of :func:`run`, in order: name, writer, and the output folder's key.
STAGES: dict[str, tuple[Callable[[Study, Path], list[Path]], str]] = {
    "register": (write_register_stage, "processed"),
    "localities": (write_localities, "processed"),
    "coverage": (write_coverage, "processed"),
    "report": (write_report, "reports"),
}


def run(
    study: Study,
    *,
    stages: Sequence[str] = tuple(STAGES),
    project_dir: Path | None = None,
    progress: bool = True,
) -> list[Path]:
    """Run stages and move their files into place only when all were written.

    Parameters
    ----------
    study
        The study to run.
    stages
        Names from :data:`STAGES`, run in the given order.
    project_dir
        Folder holding ``data/processed`` and ``reports`` (default
        ``settings.project_dir()``).
    progress
        Show a progress bar over the stages.

    Returns
    -------
    list of Path
        The final paths of the files written.
    """
    root = Path(project_dir) if project_dir is not None else settings.project_dir()
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise ValueError(f"unknown stage(s) {unknown}; choose from {list(STAGES)}")
    sub = study.profile.output_subdir
    folders = {"processed": Path("data") / "processed" / sub, "reports": Path("reports") / sub}
    written: list[Path] = []
    with staged_outputs(root) as stage:
        bar: Any = tqdm(stages, desc="nwm-geo", unit="stage", disable=not progress)
        for name in bar:
            bar.set_postfix_str(name)
            writer, folder = STAGES[name]
            target = stage / folders[folder]
            target.mkdir(parents=True, exist_ok=True)
            try:
                files = writer(study, target)
            except NwmGeoError as exc:
                exc.add_note(f"stage: {name}")
                raise
            written += [root / p.relative_to(stage) for p in files]
        note = sources_note(study, with_network=bool({"coverage", "report"} & set(stages)))
        for folder in {STAGES[name][1] for name in stages}:
            path = stage / folders[folder] / "SOURCES.txt"
            path.write_text(note, encoding="utf-8")
            written.append(root / path.relative_to(stage))
    return written


def sources_note(study: Study, *, with_network: bool = True) -> str:
    """The sources, licences, data dates and network of a run, for ``SOURCES.txt``.

    Parameters
    ----------
    study
        The study.
    with_network
        Include the network line (this builds the network if it was not built).

    Returns
    -------
    str
        Plain text.
    """
    lines = [
        f"Written by nwm_geo {__version__}.",
        "",
        f"Area: {study.profile.name} ({study.profile.council}, {study.profile.district_code}); "
        f"profile {study.profile.profile}.",
        f"Register: {data_note(study.reconciliation, area=study.profile)}",
        f"Data dates: {study.data_dates}.",
    ]
    if with_network:
        lines.append(study.network_label)
        if network.is_approximate(study.graph):
            lines.append(
                "Walk times use an approximate network built from postcode centroids, not "
                "the OpenStreetMap street network; treat them as indicative (docs/network.md)."
            )
            lines.append(network.APPROXIMATION_ERROR_NOTE)
    if study.profile.communal_note:
        lines.append(f"Population: {study.profile.communal_note}")
    lines += ["", "Sources and licences:", settings.attribution, ""]
    return "\n".join(lines)
