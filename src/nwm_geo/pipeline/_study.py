"""The Study: one analysis of an area, each stage computed once on first use."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from nwm_geo import (
    coverage,
    data,
    equity,
    hubs,
    localities,
    network,
    report,
    requirements,
    rural,
    settings,
    uncertainty,
)
from nwm_geo._display import Display
from nwm_geo._errors import NwmGeoError
from nwm_geo._readers import settle
from nwm_geo._units import resolve_minutes, resolve_speed
from nwm_geo.areas import Area, load_area
from nwm_geo.pipeline._changes import Changes, apply_changes, cached_results, forget_results
from nwm_geo.pipeline._gaps import gap_cells, gap_points_by_speed
from nwm_geo.pipeline._notes import data_note
from nwm_geo.pipeline._plan_source import PlanAttribute, PlanSource
from nwm_geo.pipeline._saved_graph import SavedGraph
from nwm_geo.pipeline._study_settings import (
    StudySettings,
    missing_bundle_text,
    saved_plan,
    summary_lines,
)
from nwm_geo.pipeline._wards import WardResults

if TYPE_CHECKING:  # networkx loads where a graph is built or read
    import networkx as nx


@dataclass(repr=False)
class Study(WardResults, Display):
    """One analysis of an area, computed stage by stage on first use.

    Settings are the parameters (all in :attr:`settings`); each result is an attribute
    computed once, when first read (``study.plan``, ``study.coverage()``...). What each
    result holds and how it is made: the docs page *The Study* (``docs/study.md``).

    Parameters
    ----------
    area
        The area profile: a name (``"luton"``, the default; ``"rutland"``), a profile
        path or an :class:`~nwm_geo.areas.Area` (:mod:`nwm_geo.areas`); or an area's
        data (:func:`nwm_geo.data.open_area`), whose tables already read are reused.
    data_dir
        The imported bundle (default ``<project_dir>/data/raw``, or the area data's).
    register_path
        A council register file (CSV, XLSX, GeoJSON, GeoPackage) to use instead of the
        open-data register assembled from the bundle.
    register_columns
        Column mapping for ``register_path`` (file column → schema column).
    register_sheet, register_layer
        The worksheet of an XLSX register, the layer of a multi-layer GeoPackage.
    ward_year
        Ward pattern as named in the area profile (Luton: 2023 or 2013); default the current.
    k
        Number of localities (default: the area profile's).
    n_alternatives
        How many of the best distinct locality plans to list.
    minutes, speed_m_per_min
        Walk threshold and speed (:mod:`nwm_geo.settings`' defaults, resolved at creation).
    osm_path, graph_path, download
        Walk network source (:func:`nwm_geo.network.walk_network`); default the area's:
        its OSM file (Rutland) or the postcode-proximity approximation (Luton).
    new_sites
        How many new sites to suggest per bundle (MCLP).
    plan
        A plan used as it is, never re-solved: a :class:`~nwm_geo.localities.LocalityPlan`
        or a file with ``ward_code`` and ``locality`` (``localities.csv``); default: solve.
    verbose
        Show progress.
    hub_options
        How hubs are chosen (:class:`~nwm_geo.hubs.HubOptions`); walk settings are the study's.
    project_dir
        The project folder (``data/raw``, ``data/processed``, ``reports``), from any working
        directory; default ``$NWM_GEO_PROJECT_DIR``, else the working directory.

    Examples
    --------
    >>> import nwm_geo
    >>> study = nwm_geo.Study(project_dir=".", minutes=10)  # nothing is read yet
    >>> study.settings.minutes, study.settings.k
    (10.0, 5)
    """

    area: str | Path | Area | data.AreaData | None = None
    data_dir: Path | None = None
    register_path: Path | None = None
    register_columns: Mapping[str, str] | None = None
    register_sheet: str | int | None = None
    register_layer: str | None = None
    ward_year: int | None = None
    k: int | None = None
    n_alternatives: int = 10
    minutes: float | None = None
    speed_m_per_min: float | None = None
    osm_path: Path | None = None
    graph_path: Path | None = None
    download: bool = False
    new_sites: int = 3
    plan: PlanAttribute = field(default=PlanAttribute(), repr=False, compare=False)
    verbose: bool = False
    hub_options: hubs.HubOptions | None = None
    project_dir: Path | None = None

    def __post_init__(self) -> None:
        # minutes and speed were checked and resolved as __init__ set them (__setattr__)
        area = self.area
        if isinstance(area, data.AreaData):
            self._use_area_data(area)
            area = area.profile
        self.area = load_area(area)
        if self.ward_year is None:
            self.ward_year = self.area.current_ward_year
        self.area.ward_pattern(self.ward_year)  # an unknown pattern fails here, early
        if self.k is None:
            self.k = self.area.localities
        where = self.project_dir if self.project_dir is not None else settings.project_dir()
        self.project_dir = Path(where).expanduser().resolve()
        settle(self.project_dir)  # a run killed in its switch: rolled forward, no waiting
        self.__dict__["_made"] = True

    def __setattr__(self, name: str, value: Any) -> None:
        # minutes and speed are checked (0, NaN, km/h by mistake...) and resolved when set,
        # at __init__ too: a later change of nwm_geo.settings does not change this study.
        # A setting given again after results were read drops them: never stale numbers.
        if name == "minutes":
            value = resolve_minutes(value, what="minutes")
        elif name == "speed_m_per_min":
            value = resolve_speed(value, what="speed_m_per_min")
        super().__setattr__(name, value)
        if "_made" in self.__dict__ and name in _FIELDS:
            forget_results(self, name)

    def _use_area_data(self, given: data.AreaData) -> None:
        if self.data_dir is not None and Path(self.data_dir).resolve() != given.data_dir.resolve():
            raise NwmGeoError(
                f"data_dir {self.data_dir} differs from the area data's folder "
                f"{given.data_dir}: give one of them"
            )
        self.data_dir = given.data_dir
        self.__dict__["_area_data"] = given

    @classmethod
    def from_outputs(cls, **options: Any) -> Study:
        """Return a study over a project's outputs: its saved plan, read and never re-solved.

        ``options`` are :class:`Study`'s; without ``plan``, the plan ``nwm-geo localities``
        (or ``run``) saved in ``data/processed`` is used when there is one
        (``settings.plan`` names it; ``"solved"`` when none was saved).
        """
        study = cls(**options)
        assert study.project_dir is not None
        saved = saved_plan(Path(study.project_dir), study.profile.output_subdir)
        if saved is not None and options.get("plan") is None:
            study.plan = saved
        return study

    @property
    def raw_dir(self) -> Path:
        """The imported bundle: ``data_dir``, else ``<project_dir>/data/raw`` (must exist)."""
        if self.data_dir is not None:
            return Path(self.data_dir)
        assert self.project_dir is not None
        raw = Path(self.project_dir) / "data" / "raw"
        if not raw.is_dir():
            raise NwmGeoError(missing_bundle_text(Path(self.project_dir)))
        return raw

    @property
    def settings(self) -> StudySettings:
        """The study's settings in one frozen record (defaults resolved)."""
        if self.osm_path is not None:
            net = f"OSM file {self.osm_path}"
        elif self.graph_path is not None:
            net = f"graph file {self.graph_path}"
        else:
            net = "download" if self.download else "area default"
        assert self.project_dir is not None and self.ward_year is not None
        return StudySettings(
            area=self.profile.name,
            council=self.profile.council,
            ward_year=int(self.ward_year),
            k=self.n_localities,
            minutes=resolve_minutes(self.minutes),
            speed_m_per_min=resolve_speed(self.speed_m_per_min),
            plan=self.plan_source,
            register=str(self.register_path) if self.register_path is not None else "open data",
            network=net,
            n_alternatives=self.n_alternatives,
            new_sites=self.new_sites,
            project_dir=Path(self.project_dir),
        )

    def _summary(self) -> tuple[str, list[str]]:
        results = cached_results(type(self)) - {"_register_and_merges", "_current_wards"}
        done = {k for k in self.__dict__ if k in results - {"_ward_shapes"}} | (
            {"plan"} if "_plan_resolved" in self.__dict__ else set()
        )
        return summary_lines(self.settings, done, self.changes)

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
        """The three bundles (:data:`nwm_geo.settings.BUNDLES`) in the area's categories."""
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
            reg = self.area_data.read_register(
                self.register_path,
                columns=self.register_columns,
                sheet=self.register_sheet,
                layer=self.register_layer,
            )
            return reg, pd.DataFrame(columns=list(data.MERGE_LOG_COLUMNS))
        return self.area_data.assets, self.area_data.merges

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
        """Residential demand points: postcodes with Census 2021 population, IMD and ages."""
        return self._in_ward_pattern(self.area_data.population)

    @property
    def area_data(self) -> data.AreaData:
        """The area's data, each table read once (:class:`~data.AreaData`); what-ifs share it."""
        found = self.__dict__.get("_area_data")
        if not isinstance(found, data.AreaData):
            found = data.AreaData(self.profile, self.raw_dir, verbose=self.verbose)
            self.__dict__["_area_data"] = found
        return found

    @cached_property
    def postcodes(self) -> gpd.GeoDataFrame:
        """The Code-Point postcodes of the area's bundle (read once per study)."""
        return self.area_data.postcodes

    @cached_property
    def _current_wards(self) -> gpd.GeoDataFrame:
        """The wards of the area's current pattern (Code-Point and the register use it)."""
        return self.area_data.wards

    @cached_property
    def _ward_shapes(self) -> gpd.GeoDataFrame:
        return self.area_data.wards_in(self.ward_year)

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
    @property
    def plan_given(self) -> bool:
        """True when the plan was given (a file or a plan), so it is never solved."""
        return self.__dict__.get("_plan_given") is not None

    @property
    def plan_source(self) -> str:
        """Where the plan comes from: the file given, ``"given"`` or ``"solved"``."""
        given = self.__dict__.get("_plan_given")
        if isinstance(given, str | Path):
            path = Path(given).absolute()
            root = Path(self.project_dir or settings.project_dir()).absolute()
            return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(given)
        return "given" if given is not None else "solved"

    @property
    def plan_source_text(self) -> str:
        """The plan's origin in words, for SOURCES.txt and the CLI."""
        if self.plan_given:
            return f"plan {self.plan_source}, used as given (not re-solved)"
        return "plan solved by this run (nwm-geo localities writes it to localities.csv)"

    def _resolve_plan(self, given: PlanSource) -> localities.LocalityPlan:
        """Return the plan: read (and checked) from the file, as given, or solved.

        Solved, it is the first of :attr:`alternatives`, so the swing wards are measured
        against this very plan and the wards are not solved twice.
        """
        if isinstance(given, localities.LocalityPlan):
            codes = set(map(str, self.wards.index))
            if set(map(str, given.assignment.index)) != codes:
                raise NwmGeoError(
                    "the plan given does not assign exactly the study's wards "
                    f"({len(given.assignment)} in the plan, {len(codes)} wards)"
                )
            return given
        if given is not None:
            return localities.read_plan(given, self.wards, measures=self.balanced)
        if self.n_alternatives > 0 and self.alternatives.best is not None:
            return self.alternatives.best
        # verbose=False: the partition's verbose mode prints the HiGHS log, not a bar
        rules = localities.PartitionRules(measures=self.balanced)
        return localities.partition(self.wards, k=self.n_localities, rules=rules)

    @cached_property
    def alternatives(self) -> localities.Alternatives:
        """The best distinct locality plans and the swing wards."""
        rules, k = localities.PartitionRules(measures=self.balanced), self.n_localities
        return localities.alternatives(self.wards, k=k, n=self.n_alternatives, rules=rules)

    @property
    def balanced(self) -> tuple[str, ...]:
        """The measures the localities balance: population and assets, or population alone."""
        if int(self.wards["assets"].sum()) < 2 * self.n_localities:
            return ("population",)
        return ("population", "assets")

    @property
    def localities_note(self) -> str:
        """One sentence on the plan: how many localities, what is balanced, the proof."""
        n = int(self.plan.assignment.nunique())
        text = f"{n} localities of whole wards ({self.plan.status})"
        if self.balanced == ("population",):
            text += (
                f"; population only is balanced: the register has "
                f"{int(self.wards['assets'].sum())} asset(s) in the area, fewer than two per "
                "locality, so asset counts cannot be balanced"
            )
        return text

    @cached_property
    def locality_areas(self) -> gpd.GeoDataFrame:
        """The localities as areas: the plan's wards dissolved, with their metrics."""
        return localities.dissolve(self.wards, self.plan.assignment)

    @property
    def localities(self) -> gpd.GeoDataFrame:
        """Deprecated: :attr:`locality_areas` (``nwm_geo.localities`` is the module)."""
        warnings.warn(
            "Study.localities is deprecated; use Study.locality_areas",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.locality_areas

    def locality_of(self, frame: pd.DataFrame) -> pd.Series:
        """Return the locality of each row of ``frame`` from its ``ward_code``."""
        return self.plan.locality_of(frame["ward_code"], unknown=requirements.OUTSIDE_BOROUGH)

    # -- network and coverage ------------------------------------------------
    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The walk network (EPSG:27700): the given source, else the area's default."""
        saved: SavedGraph | None = self.__dict__.get("_saved_graph")
        if saved is not None:  # read from the saved baseline, decoded now
            return saved.graph()
        osm_path = self.osm_path
        if (
            osm_path is None
            and self.graph_path is None
            and not self.download
            and self.profile.network == "osm"
            and self.profile.osm_file
        ):
            osm_path = self.area_data.path(self.profile.osm_file)
        return network.cached_walk_network(
            osm_cache_dir=self.settings.project_dir / "data" / "cache" / "network",
            boundary=data.borough_boundary(self._ward_shapes),
            postcodes=self.postcodes,
            osm_path=osm_path,
            graph_path=self.graph_path,
            download=network.OverpassDownload(cache_dir=self.raw_dir / "osm")
            if self.download
            else False,
            buffer_m=self.profile.network_buffer_m,
            verbose=self.verbose,
        )

    @property
    def _network_head(self) -> nx.MultiDiGraph | dict[str, Any]:
        """The network, or (saved baseline, not yet decoded) its graph attributes."""
        saved: SavedGraph | None = self.__dict__.get("_saved_graph")
        if "graph" in self.__dict__ or saved is None:
            return self.graph
        return saved.attributes

    @property
    def network_label(self) -> str:
        """The network line every output states."""
        return network.network_label(self._network_head)

    @property
    def network_approximate(self) -> bool:
        """Whether the walk network is the postcode-proximity approximation."""
        return network.is_approximate(self._network_head)

    @cached_property
    def model(self) -> coverage.WalkModel:
        """The walk network with demand points and assets inserted, checked to cover the area."""
        model = coverage.prepare(
            self.graph, demand=self.demand, assets=self.register, verbose=self.verbose
        )
        network.check_covers(self.graph, model.point_snaps["snap_m"], self.demand["population"])
        return model

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
    def site_cover(self) -> coverage.Cover:
        """Which demand points are within the walk of which postcode (shared, see study.md)."""
        return coverage.coverage_matrix(
            self.model,
            sources="points",
            minutes=self.minutes,
            speed_m_per_min=self.speed_m_per_min,
            verbose=self.verbose,
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
        """The walksheds dissolved per category (EPSG:27700); ``attrs["method"]`` says how."""
        if network.is_approximate(self.graph):
            cats = [c for c in self.categories if c in self.minutes_to_nearest.columns]
            return coverage.catchment_cells(
                self.demand,
                self.minutes_to_nearest,
                boundary=data.borough_boundary(self._ward_shapes),
                columns=cats,
                minutes=self.minutes,
                speed_m_per_min=self.speed_m_per_min,
            )
        return coverage.walksheds(
            self.model, minutes=self.minutes, speed_m_per_min=self.speed_m_per_min, by="category"
        )

    @cached_property
    def gap_cells(self) -> gpd.GeoDataFrame:
        """Where residents are beyond the walk, per bundle: catchment cells in the area."""
        boundary, bundles = data.borough_boundary(self.wards), list(self.bundles)
        return gap_cells(self.demand, self.minutes_to_nearest, boundary=boundary,
                         bundles=bundles, minutes=self.minutes,
                         speed_m_per_min=self.speed_m_per_min)  # fmt: skip

    @cached_property
    def lsoas(self) -> gpd.GeoDataFrame:
        """The area's 2021 LSOAs with their population (:func:`nwm_geo.data.load_lsoas`)."""
        return self.area_data.lsoas

    @cached_property
    def lsoa_gaps(self) -> pd.DataFrame:
        """Residents beyond the walk per LSOA and bundle (``requirements.gap_population``)."""
        return requirements.gap_population(
            self.minutes_to_nearest,
            self.demand,
            assignment=self.plan.assignment,
            by="lsoa",
            minutes=self.settings.minutes,
        )

    #: Each headline share with its low–high range (:func:`nwm_geo.uncertainty.study_ranges`).
    ranges = cached_property(uncertainty.study_ranges)

    # -- equity --------------------------------------------------------------
    @cached_property
    def equity(self) -> equity.EquityTables:
        """Coverage by IMD decile and quintile and by age band, the gaps (:mod:`nwm_geo.equity`)."""
        return equity.equity_tables(
            self.minutes_to_nearest,
            self.demand_with_locality,
            by="locality",
            area_name=self.profile.name,
            minutes=self.minutes,
            bundles=self.bundles,
            shortfall=requirements.register_shortfall(self.reconciliation),
        )

    @cached_property
    def equity_gap_points(self) -> pd.DataFrame:
        """Postcodes with residents beyond the walk, per bundle: all, and 65+ at their speed."""
        return gap_points_by_speed(
            self.minutes_to_nearest,
            self.demand,
            assignment=self.plan.assignment,
            bundles=list(self.bundles),
            minutes=self.settings.minutes,
            older_speed_m_per_min=self.equity.speeds["age_65_plus"],
        )

    # -- hubs ----------------------------------------------------------------
    @property
    def _hub_options(self) -> hubs.HubOptions:
        opt = self.hub_options or hubs.HubOptions()
        return replace(opt, minutes=self.minutes, speed_m_per_min=self.speed_m_per_min)

    @cached_property
    def hub_candidates(self) -> gpd.GeoDataFrame:
        """The sites that could be a locality's hub (the profile's categories, additions)."""
        opt = self._hub_options
        return hubs.hub_candidates(
            self.register,
            categories=self.profile.hub_categories or None,
            add_ids=opt.add_ids,
            add_names=opt.add_names,
            new_sites=opt.new_sites,
            postcodes=self.postcodes,
        )

    @cached_property
    def hub_named(self) -> pd.DataFrame:
        """Which of the council's named hubs (area profile) the register holds."""
        named = [hubs.NamedHub(name, reg) for name, reg in self.profile.hub_named]
        return hubs.named_sites(self.register, named)

    @cached_property
    def hub_minutes(self) -> pd.DataFrame:
        """Walking minutes from every hub candidate to every demand point."""
        return hubs.candidate_minutes(
            self.model,
            self.hub_candidates,
            demand=self.demand,
            graph=self.graph,
            speed_m_per_min=self.speed_m_per_min,
            verbose=self.verbose,
        )

    @cached_property
    def hub_analysis(self) -> hubs.HubAnalysis:
        """Council-named hubs, the plan's best hubs and the joint optimum, side by side."""
        return hubs.analyse_hubs(
            self.wards,
            self.demand,
            candidates=self.hub_candidates,
            minutes_table=self.hub_minutes,
            balance=self.plan,
            named=self.hub_named,
            rules=localities.PartitionRules(measures=self.balanced),
            options=self._hub_options,
        )

    #: Median walk to each locality's hub and residents by distance band (:mod:`nwm_geo.rural`).
    hub_walks = cached_property(rural.study_hub_walks)

    @property
    def hubs(self) -> pd.DataFrame:
        """One hub per locality of the plan (the columns of ``hubs.csv``)."""
        return self.hub_analysis.balance

    def _hub_ids(self, table: pd.DataFrame) -> list[str]:
        """Return the hubs of a hubs table among the candidates, once each, in order."""
        candidates = self.hub_analysis.candidates
        ids = table["hub_asset_id"].astype(str)
        found = [str(h) for h in table.loc[ids.isin(candidates.index), "hub_asset_id"]]
        return list(dict.fromkeys(h for h in found if h))

    @cached_property
    def _all_hub_catchments(self) -> gpd.GeoDataFrame:
        """Walk catchments of the hubs of the published and the joint plan, each once."""
        ids = self._hub_ids(self.hubs)
        if self.hub_analysis.joint is not None:
            ids = list(dict.fromkeys([*ids, *self._hub_ids(self.hub_analysis.joint_hubs)]))
        return hubs.hub_catchments(
            self.model,
            self.hub_analysis.candidates,
            ids,
            minutes=self.minutes,
            speed_m_per_min=self.speed_m_per_min,
        )

    def _catchments_of(self, table: pd.DataFrame) -> gpd.GeoDataFrame:
        """Walk catchments of a hubs table's hubs among the candidates (each walked once)."""
        ids = self._hub_ids(table)
        if not ids:
            return hubs.hub_catchments(
                self.model,
                self.hub_analysis.candidates,
                [],
                minutes=self.minutes,
                speed_m_per_min=self.speed_m_per_min,
            )
        return self._all_hub_catchments.loc[ids]

    @cached_property
    def hub_catchments(self) -> gpd.GeoDataFrame:
        """Walk catchments of the published plan's hubs (:attr:`hubs`), for the maps."""
        return self._catchments_of(self.hubs)

    @cached_property
    def joint_hub_catchments(self) -> gpd.GeoDataFrame | None:
        """Walk catchments of the joint plan's hubs (None without a joint plan)."""
        if self.hub_analysis.joint is None:
            return None
        return self._catchments_of(self.hub_analysis.joint_hubs)

    @cached_property
    def closure_impact(self) -> coverage.ClosureImpact:
        """What closing each asset would do (:func:`nwm_geo.coverage.closure_impact`)."""
        names = self.wards["ward_name"] if "ward_name" in self.wards.columns else None
        return coverage.closure_impact(
            self.model,
            cover=self.asset_cover,
            demand=self.demand_with_locality,
            by=("ward_code", "locality"),
            names=names,
            verbose=self.verbose,
        )

    # -- what-ifs --------------------------------------------------------------
    def with_changes(
        self,
        *,
        close: Iterable[str] = (),
        add: Sequence[Mapping[str, Any]] = (),
        minutes: float | None = None,
        speed_m_per_min: float | None = None,
    ) -> Study:
        """Return a what-if study: sites closed or added, or other walk settings.

        It shares this study's network, demand points and plan (never re-solved) and
        recomputes only what changed; compare with :func:`nwm_geo.scenarios.compare`.

        Parameters
        ----------
        close
            Asset ids (or exact, unique asset names) to close.
        add
            New sites, one mapping each: ``name``, ``category`` and ``postcode``, or
            ``lon`` and ``lat``, or ``easting`` and ``northing``.
        minutes, speed_m_per_min
            Other walk settings (default: this study's).

        Returns
        -------
        Study
            ``changes`` says what changed (:class:`~nwm_geo.pipeline.Changes`).

        Raises
        ------
        NwmGeoError
            Listing every problem with the changes (unknown asset, category or postcode,
            a site outside the area, settings out of range).
        """
        return apply_changes(
            self, close=close, add=add, minutes=minutes, speed_m_per_min=speed_m_per_min
        )

    @property
    def changes(self) -> Changes | None:
        """The changes this what-if study was made with (None for a baseline)."""
        found: Changes | None = self.__dict__.get("changes")
        return found

    # -- requirements --------------------------------------------------------
    @cached_property
    def outline(self) -> requirements.RequirementsOutline:
        """The outline of asset requirements per locality (exact LSCP/MCLP, checked)."""
        return requirements.outline(
            self.register,
            self.demand,
            assignment=self.plan.assignment,
            inputs=requirements.OutlineInputs(
                cover=self.asset_cover,
                site_cover=self.site_cover,
                nearest=self.minutes_to_nearest,
                criticality=self.criticality,
                network_label=self.network_label,
                minutes=self.minutes,
                walk_speed_m_per_min=self.speed_m_per_min,
                reconciliation=self.reconciliation,
            ),
            k=self.new_sites,
            bundles=self.bundles,
            verbose=self.verbose,
            area_name=self.profile.name,
            protected=self.profile.protected,
        )

    @cached_property
    def run_info(self) -> report.RunInfo:
        """The method and provenance text the spreadsheet and the index show."""
        return report.RunInfo.from_method(
            {
                **self.outline.method,
                "data_dates": self.data_dates,
                "register": data_note(self.reconciliation, area=self.profile),
                "localities": self.localities_note,
            }
        )

    def coverage(self, *, by: str = "ward_code") -> pd.DataFrame:
        """Population-weighted coverage per area (``ward_code``, ``lsoa_code``, ``locality``)."""
        return coverage.coverage_table(
            self.minutes_to_nearest, self.demand_with_locality, by=by, minutes=self.minutes
        )


#: The settings a study is made with (setting one again drops the results it changes).
_FIELDS: frozenset[str] = frozenset(f.name for f in fields(Study))
