"""Stage writers, the staged run and SOURCES.txt; every CSV goes through one guard."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from nwm_geo import (
    __version__,
    coverage,
    data,
    equity,
    hubs,
    maps,
    network,
    report,
    requirements,
    rural,
    settings,
)
from nwm_geo._errors import NwmGeoError
from nwm_geo._io import staged_outputs
from nwm_geo._safe import neutralise_formula, strip_commit_hashes
from nwm_geo._units import published_minutes, resolve_minutes, resolve_speed
from nwm_geo.pipeline._provenance import (
    PROVENANCE_NAME,
    current_settings,
    provenance,
    read_provenance,
    settings_conflicts,
)
from nwm_geo.pipeline._study import Study, coverage_by_locality, data_note, equity_sections


# -- writers ---------------------------------------------------------------------
def write_csv(frame: pd.DataFrame, path: Path, *, index: bool = True) -> Path:
    """Write a CSV; formula-like text is neutralised and commit hashes are dropped."""
    path.parent.mkdir(parents=True, exist_ok=True)
    safe = frame.copy()
    for col in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[col]):
            safe[col] = safe[col].map(
                lambda v: neutralise_formula(strip_commit_hashes(v) if isinstance(v, str) else v)
            )
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
        write_csv(study.reconciliation, out / "register_reconciliation.csv"),
        write_csv(study.merges, out / "register_merges.csv", index=False),
        write_csv(wards, out / "wards.csv"),
        write_csv(demand, out / "demand_points.csv"),
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
    if study.plan_given:  # never re-solved: no alternatives, and none left from a solve
        plans = pd.DataFrame(columns=list(ALTERNATIVES_COLUMNS))
        swing = pd.DataFrame(columns=list(SWING_COLUMNS[1:]), index=pd.Index([], name="ward_code"))
    else:
        plans, swing = study.alternatives.plans, study.alternatives.swing
    return [
        write_csv(assignment, out / "localities.csv"),
        geo_path,
        write_csv(summary, out / "locality_summary.csv"),
        write_csv(plans, out / "locality_alternatives.csv", index=False),
        write_csv(swing, out / "locality_swing_wards.csv"),
    ]


#: Columns of ``locality_alternatives.csv`` and ``locality_swing_wards.csv``.
ALTERNATIVES_COLUMNS: tuple[str, ...] = (
    "rank", "objective", "pct_worse_than_optimum", "boundary_cut_m", "status", "ward_code",
    "ward_name", "locality",
)  # fmt: skip
SWING_COLUMNS: tuple[str, ...] = (
    "ward_code", "ward_name", "optimal_locality", "n_plans", "n_plans_different", "swing_share",
)  # fmt: skip


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
    ).join(  # rounded toward each verdict: `<= minutes` on the file gives the shares
        published_minutes(
            study.minutes_to_nearest, study.minutes, speed_m_per_min=study.speed_m_per_min
        )
    )
    crit = study.criticality.join(study.register[["ward_code", "inside_area"]])
    crit["locality"] = study.locality_of(crit)
    tables = {"coverage_points.csv": (points, True), "asset_criticality.csv": (crit, True)}
    for by, name in [("ward_code", "wards"), ("lsoa_code", "lsoas"), ("locality", "localities")]:
        tables[f"coverage_{name}.csv"] = (study.coverage(by=by), False)
    paths = []
    for name, (frame, index) in tables.items():
        frame["network"] = study.network_label  # every file says which network it used
        paths.append(write_csv(frame, out / name, index=index))
    paths.append(network.save_graph(study.graph, out / "walk_network.gpkg"))
    ranges = study.ranges.assign(network=study.network_label)  # issue 21: a range per headline
    paths.append(write_csv(ranges, out / "uncertainty.csv", index=False))
    paths += write_equity(study, out)
    paths += write_closure_impact(study, out)
    return paths


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    """Percentages and gaps to 2 decimals, the index to 4, whole counts as integers."""
    out = frame.copy()
    for col in out.columns:
        if "_pct" in col or col.endswith("_pp"):
            out[col] = out[col].round(2)
        elif col == "concentration_index":
            out[col] = out[col].round(4)
        elif col == "covered_population":
            out[col] = out[col].round().astype("Int64")
    return out


def write_equity(study: Study, out: Path) -> list[Path]:
    """Write coverage by IMD decile and quintile, by age band, and the equity gaps.

    Parameters
    ----------
    study
        The study (:attr:`Study.equity`).
    out
        Folder for ``data/processed`` files.

    Returns
    -------
    list of Path
        ``coverage_deprivation.csv`` (per IMD decile), ``coverage_deprivation_quintiles.csv``,
        ``coverage_age.csv`` (with each band's speed and its source) and
        ``coverage_equity_gaps.csv``; each names its network.
    """
    tables = study.equity
    age = tables.age.copy()
    sources = age["age_band"].map(tables.sources)
    age["speed_source"] = sources.fillna("each age band at its own speed").astype(str)
    frames = {
        "coverage_deprivation.csv": tables.deprivation,
        "coverage_deprivation_quintiles.csv": tables.quintiles,
        "coverage_age.csv": age,
        "coverage_equity_gaps.csv": tables.gaps,
    }
    return [
        write_csv(_rounded(frame).assign(network=study.network_label), out / name, index=False)
        for name, frame in frames.items()
    ]


def _equity_map(study: Study, minutes: float, common: dict[str, Any]) -> Any:
    """Map the postcodes beyond the walk per bundle by IMD decile; 65+ at their speed."""
    bundles = list(study.bundles)
    demand, assignment = study.demand, study.plan.assignment
    slow = equity.minutes_at_speed(
        study.minutes_to_nearest, speed_m_per_min=study.equity.speeds["age_65_plus"]
    )
    beyond = {
        key: requirements.gap_points(
            nearest, demand, assignment=assignment, measures=bundles, minutes=minutes
        )
        for key, nearest in (("all", study.minutes_to_nearest), ("65+", slow))
    }
    pts = pd.DataFrame(demand[["lon", "lat", "population", "imd_decile", "age_65_plus"]])
    older = {b: f"{b} (65+ at their speed)" for b in bundles}
    for b in bundles:
        pts[b] = beyond["all"][b].reindex(pts.index, fill_value=False).astype(bool)
        old = beyond["65+"][b].reindex(pts.index, fill_value=False).astype(bool)
        pts[older[b]] = old & (pts["age_65_plus"] > 0)
    pts = pts[pts[[*bundles, *older.values()]].any(axis=1)]
    return maps.deprivation_gaps_map(
        pts,
        measures=bundles,
        older=older,
        wards=study.wards,
        minutes=minutes,
        speeds_note=study.equity.speeds_note(),
        **common,
    )


def write_closure_impact(study: Study, out: Path) -> list[Path]:
    """Write ``closure_impact.csv`` (per asset) and ``closure_impact_areas.csv``.

    Parameters
    ----------
    study
        The study (:attr:`Study.closure_impact`).
    out
        Folder for ``data/processed`` files.

    Returns
    -------
    list of Path
        The files written.
    """
    impact = study.closure_impact
    assets = impact.assets.copy()
    assets["minutes"] = impact.minutes
    assets["speed_m_per_min"] = impact.speed_m_per_min
    assets["network"] = study.network_label
    areas = impact.areas.copy()
    if "ward_code" in areas.columns:
        names = study.wards["ward_name"] if "ward_name" in study.wards.columns else None
        if names is not None:
            at = list(areas.columns).index("ward_code") + 1
            areas.insert(at, "ward_name", areas["ward_code"].map(names))
    return [
        write_csv(assets.round(2), out / "closure_impact.csv"),
        write_csv(areas, out / "closure_impact_areas.csv", index=False),
    ]


def write_hubs(study: Study, out: Path) -> list[Path]:
    """Write ``hubs.csv`` and the hub comparison, frontier, candidates and named sites.

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
    analysis = study.hub_analysis
    label = study.network_label
    cand = analysis.candidates.to_crs(settings.wgs84)
    candidates = pd.DataFrame(cand.drop(columns=cand.geometry.name))
    candidates["lon"], candidates["lat"] = cand.geometry.x.round(6), cand.geometry.y.round(6)
    joint = analysis.joint
    joint_plan = pd.DataFrame({"ward_name": study.wards["ward_name"]})
    if joint is not None:
        joint_plan["locality"] = joint.plan.assignment
        joint_plan["hub_asset_id"] = joint_plan["locality"].map(joint.hubs["hub"])
        joint_plan["status"] = joint.status
    else:
        joint_plan["locality"], joint_plan["hub_asset_id"] = "", ""
        joint_plan["status"] = " ".join(n for n in analysis.notes if n.startswith("No joint"))
    joint_plan.index.name = "ward_code"
    tables: dict[str, tuple[pd.DataFrame, bool]] = {
        "hubs.csv": (study.hubs, False),
        "hubs_comparison.csv": (analysis.comparison, False),
        "hubs_frontier.csv": (analysis.frontier, False),
        "hubs_joint_localities.csv": (joint_plan, True),
        "hub_candidates.csv": (candidates, True),
        "hub_named_sites.csv": (analysis.named, False),
        "hub_distance_bands.csv": (study.hub_walks, True),  # issue 21: rural honesty
    }
    paths = []
    for name, (frame, index) in tables.items():
        frame = frame.copy()
        floats = frame.select_dtypes("float").columns
        frame[floats] = frame[floats].round(4)
        frame["network"] = label  # every file says which network it used
        paths.append(write_csv(frame, out / name, index=index))
    return paths


def _hub_sheet(study: Study, xlsx: Path) -> None:
    """Add the Hubs sheet to the workbook."""
    notes = [study.network_label, f"Sources and licences: {settings.attribution}"]
    if network.is_approximate(study.graph):
        notes.append(network.APPROXIMATION_ERROR_NOTE)
    report.add_hub_sheet(xlsx, study.hub_analysis, notes=notes)


def _hub_markers(study: Study, localities_map: Any) -> None:
    """Add the published plan's hubs and their walk catchments to the localities map."""
    analysis = study.hub_analysis
    points = maps.hub_points(study.hubs, analysis.candidates)
    catchments = hubs.hub_catchments(
        study.model,
        analysis.candidates,
        [str(h) for h in points["hub_asset_id"]],
        minutes=study.minutes,
        speed_m_per_min=study.speed_m_per_min,
    )
    maps.add_hubs(
        localities_map,
        points,
        catchments,
        minutes=study.minutes or settings.walk_minutes,
        name="Hubs (best in each locality)",
        localities=study.plan.assignment.to_numpy(),
    )


def _joint_hub_map(study: Study, out: Path) -> list[tuple[str, Path]]:
    """Save the map of the localities and hubs chosen together; return its link (if any)."""
    analysis = study.hub_analysis
    joint = analysis.joint
    if joint is None:
        return []
    m = maps.localities_map(
        study.wards,
        joint.plan.assignment,
        title="Localities and hubs chosen together",
        subtitle=(
            f"{joint.residents_within:,} residents within {analysis.rules.minutes:g} minutes "
            f"of their own locality's hub ({joint.status}; worst deviation "
            f"{joint.plan.objective:.1%}, cap {joint.max_deviation:.1%})"
        ),
        network_label=study.network_label,
    )
    points = maps.hub_points(analysis.joint_hubs, analysis.candidates)
    catchments = hubs.hub_catchments(
        study.model,
        analysis.candidates,
        [str(h) for h in points["hub_asset_id"]],
        minutes=study.minutes,
        speed_m_per_min=study.speed_m_per_min,
    )
    maps.add_hubs(
        m,
        points,
        catchments,
        minutes=study.minutes or settings.walk_minutes,
        localities=joint.plan.assignment.to_numpy(),
    )
    path = out / "map_hubs_joint.html"
    maps.save_map(m, path)
    return [("Localities and hubs chosen together (joint optimum)", path)]


def write_report(study: Study, out: Path) -> list[Path]:
    """Write the requirements spreadsheet, the maps, the locality pack and ``index.html``.

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
    localities_map = maps.localities_map(wards, assignment, **common)
    _hub_markers(study, localities_map)
    folium_maps = {
        "Localities": ("map_localities.html", localities_map),
        "Community assets by category": (
            "map_assets.html",
            maps.assets_map(
                register, wards=wards, assignment=assignment, outline=outline, **common
            ),
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
        f"Residents beyond a {minutes:g}-minute walk, by deprivation and age": (
            "map_equity.html",
            _equity_map(study, minutes, common),
        ),
        f"{minutes:g}-minute walksheds by category": (
            "map_walksheds.html",
            maps.walksheds_map(
                study.walksheds, assets=register, wards=wards, minutes=minutes, **common
            ),
        ),
        **requirements_map_entry(study),
    }
    written: list[Path] = []
    map_links: list[tuple[str, Path]] = []
    for title, (name, m) in folium_maps.items():
        maps.save_map(m, out / name)
        map_links.append((title, out / name))
    map_links += _joint_hub_map(study, out)
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
    map_links.append(
        ("Printable locality pack (PDF)", write_pack(study, out / "locality_pack.pdf"))
    )
    context = workbook_context(study)
    xlsx = report.write_requirements_xlsx(
        outline,
        out / "asset_requirements.xlsx",
        run_info=study.run_info,
        context=context,
    )
    report.add_equity_sheet(
        xlsx,
        gaps=study.equity.gaps,
        quintiles=study.equity.quintiles,
        age=study.equity.age,
        area_name=study.profile.name,
        speeds_note=study.equity.speeds_note(),
        measures=[*study.bundles, coverage.all_bundles_label(study.bundles)],
    )
    report.add_closure_impact_sheet(
        xlsx, study.closure_impact.assets, note=f"{walk_text(study)}; {label}"
    )
    _hub_sheet(study, xlsx)
    report.finish_workbook(xlsx)  # the sheets added after the briefing get its set-up
    table_links: list[tuple[str, Path]] = [("Outline of asset requirements (Excel)", xlsx)]
    for title, frame in shared_tables(study).items():
        table_links.append((title, write_csv(frame, out / "tables" / SHARED_TABLES[title])))
    written += [p for _, p in map_links] + [p for _, p in table_links]
    # every link stays inside reports/, so the folder works when it is shared alone
    notes = [data_note(study.reconciliation, area=study.profile), study.equity.speeds_note()]
    notes += [study.profile.communal_note] if study.profile.communal_note else []
    notes.append(study.profile.boundary_note)
    notes += [network.APPROXIMATION_ERROR_NOTE] if network.is_approximate(study.graph) else []
    notes += rural.rural_notes(study.hub_walks, area_name=study.profile.name, minutes=minutes)
    notes.append(
        "The analyst's full tables (coverage per postcode, the walk network, the merge log "
        "and the alternative plans) are written to data/processed/ in the project, which is "
        "not part of this shared folder."
    )
    index = report.write_index_html(
        out / "index.html",
        maps=[(t, str(p.relative_to(out))) for t, p in map_links],
        tables=[(t, str(p.relative_to(out))) for t, p in table_links],
        run_info=study.run_info,
        open_register_assets=int(study.reconciliation["register_count"]["TOTAL"]),
        notes=notes,
        check_exists=False,
        findings=report.index_findings(outline, run_info=study.run_info, context=context),
    )
    written.append(index)
    return written


def requirements_map_entry(study: Study) -> dict[str, tuple[str, Any]]:
    """Return the requirements map as a ``{title: (file name, map)}`` entry of the report.

    Parameters
    ----------
    study
        The study.

    Returns
    -------
    dict
        One entry: "Required assets, business cases and new sites" ->
        (``map_requirements.html``, :func:`nwm_geo.maps.requirements_map`).
    """
    m = maps.requirements_map(
        study.outline,
        study.register,
        wards=study.wards,
        assignment=study.plan.assignment,
        network_label=study.network_label,
    )
    return {"Required assets, business cases and new sites": ("map_requirements.html", m)}


def write_pack(study: Study, path: Path) -> Path:
    """Write the printable locality pack (``reports/locality_pack.pdf``).

    Parameters
    ----------
    study
        The study (its hubs, once it has them, are marked on each locality's map).
    path
        Destination ``.pdf``.

    Returns
    -------
    Path
        The file written: a summary page and one page per locality.
    """
    bundles = list(study.bundles)
    gaps = coverage.catchment_cells(
        study.demand,
        study.minutes_to_nearest,
        boundary=data.borough_boundary(study.wards),
        columns=bundles,
        minutes=study.minutes,
        speed_m_per_min=study.speed_m_per_min,
        beyond=True,
    )
    notes = [data_note(study.reconciliation, area=study.profile), f"Data: {study.data_dates}."]
    if network.is_approximate(study.graph):
        notes.append(network.APPROXIMATION_ERROR_NOTE)
    minutes = study.minutes or settings.walk_minutes
    notes += rural.rural_notes(study.hub_walks, area_name=study.profile.name, minutes=minutes)
    inputs = report.PackInputs(
        area_name=study.profile.name,
        wards=study.wards,
        assignment=study.plan.assignment,
        register=study.register,
        outline=study.outline,
        bundles=bundles,
        gaps=gaps,
        hubs=study.hubs,
        network_label=study.network_label,
        notes=notes,
        minutes=study.minutes,
        ranges=study.ranges,
    )
    return report.write_locality_pack(path, inputs)


#: The tables ``reports/tables/`` holds (title -> file name); index.html links them.
SHARED_TABLES: dict[str, str] = {
    "Business case list": "business_case.csv",
    "Required assets": "required_assets.csv",
    "Overlapping coverage, by owner type (capacity not considered)": "overlapping_assets.csv",
    "The council's own assets with overlapping coverage, and rule R4": "council_overlap.csv",
    "Suggested new sites": "new_sites.csv",
    "One site for all bundles, per locality": "combined_sites.csv",
    "Residents beyond the walk, by locality": "gap_population.csv",
    "Coverage and requirements summary": "summary.csv",
    "Solver proof status": "solver_status.csv",
    "Asset register (open data)": "assets_register.csv",
    "Register against the council's count": "register_reconciliation.csv",
    "Localities: wards": "localities.csv",
    "Coverage per locality (percent)": "coverage_by_locality.csv",
    "Equity gaps: deprivation, age, concentration index": "coverage_equity_gaps.csv",
    "Coverage by IMD 2019 quintile": "coverage_deprivation_quintiles.csv",
    "Coverage by age band (slower walking for 65+)": "coverage_age.csv",
    "Closure impact per asset (who loses access, next-best site)": "closure_impact.csv",
    "Hubs: one per locality": "hubs.csv",
}


def shared_tables(study: Study) -> dict[str, pd.DataFrame]:
    """Return the tables written to ``reports/tables/``, by their :data:`SHARED_TABLES` title.

    They are copies of what a reader of the shared reports needs, so that no link of
    ``index.html`` leads outside ``reports/``.
    """
    outline = study.outline
    register = pd.DataFrame(data.publishable(study.register)[0].drop(columns="geometry"))
    wards = pd.DataFrame({"ward_name": study.wards["ward_name"], "locality": study.plan.assignment})
    wards.index.name = "ward_code"
    frames = [
        outline.business_case,
        outline.required,
        outline.redundant,
        outline.council_overlap,
        outline.new_sites,
        outline.combined_sites,
        outline.gaps,
        outline.summary,
        outline.solver_status,
        register[list(data.REGISTER_COLUMNS[1:])],
        study.reconciliation,
        wards,
        coverage_by_locality(study),
        study.equity.gaps,
        study.equity.quintiles,
        study.equity.age,
        study.closure_impact.assets.round(2),
        study.hubs.set_index("locality"),
    ]
    return dict(zip(SHARED_TABLES, frames, strict=True))


def workbook_context(study: Study) -> report.WorkbookContext:
    """Return what the workbook says beyond the outline: wards, plan, register, owners.

    The hooks ``hubs`` (issue 12) and ``equity`` (issue 11, :func:`equity_sections`:
    the deprivation and age lines of each locality sheet) are filled here.
    """
    wards = pd.DataFrame(study.wards.drop(columns="geometry"))[
        ["ward_name", "population", "assets"]
    ]
    wards["locality"] = study.plan.assignment.reindex(wards.index)
    return report.WorkbookContext(
        area=study.profile.name,
        hubs=study.hubs.set_index("locality"),
        wards=wards,
        locality_figures=study.plan.summary,
        reconciliation=study.reconciliation,
        bundles=study.bundles,
        owners={c: study.profile.owner_of(c) for c in study.categories},
        coverage=coverage_by_locality(study),
        equity=equity_sections(study),
        equity_note=study.equity.speeds_note(),
        ranges=study.ranges,
    )


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
    "Range on every headline share (network, walking speed, register)": "uncertainty.csv",
    "Coverage by IMD 2019 decile": "coverage_deprivation.csv",
    "Coverage by IMD 2019 quintile": "coverage_deprivation_quintiles.csv",
    "Coverage by age band (slower walking for 65+)": "coverage_age.csv",
    "Equity gaps: deprivation, age, concentration index": "coverage_equity_gaps.csv",
    "Asset criticality": "asset_criticality.csv",
    "Closure impact per asset (who loses access, next-best site)": "closure_impact.csv",
    "Closure impact per asset and ward": "closure_impact_areas.csv",
    "Hubs: one per locality": "hubs.csv",
    "Hubs: council-named, balance-only and joint plans": "hubs_comparison.csv",
    "Hubs: what balance costs in coverage": "hubs_frontier.csv",
    "Hubs: the joint plan's wards": "hubs_joint_localities.csv",
    "Hubs: candidates": "hub_candidates.csv",
    "Hubs: the council's named sites": "hub_named_sites.csv",
    "Hubs: median walk and residents by distance band": "hub_distance_bands.csv",
    "Walk network (GeoPackage)": "walk_network.gpkg",
}


#: The stages of :func:`run`, in order: name, writer, and the output folder's key.
STAGES: dict[str, tuple[Callable[[Study, Path], list[Path]], str]] = {
    "register": (write_register_stage, "processed"),
    "localities": (write_localities, "processed"),
    "coverage": (write_coverage, "processed"),
    "hubs": (write_hubs, "processed"),
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
    check_settings(study, [root / f for f in folders.values()], stages=stages)
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
        for folder in sorted({STAGES[name][1] for name in stages}):
            path = stage / folders[folder] / "SOURCES.txt"
            path.write_text(note, encoding="utf-8")
            written.append(root / path.relative_to(stage))
            mine = [n for n in stages if STAGES[n][1] == folder]
            written.append(
                root / write_provenance(study, stage / folders[folder], stages=mine,
                                        previous=read_provenance(root / folders[folder]))
                .relative_to(stage)
            )  # fmt: skip
    return written


def check_settings(study: Study, folders: Sequence[Path], *, stages: Sequence[str]) -> None:
    """Refuse a partial run that would leave files written with two settings side by side.

    Parameters
    ----------
    study
        The study about to be run.
    folders
        The output folders as they are now.
    stages
        The stages of this run.

    Raises
    ------
    NwmGeoError
        Naming each stage whose files would keep other settings (minutes, speed, plan
        or network), and how to run it; nothing is written.
    """
    kept: set[str] = set()
    for folder in folders:
        record = read_provenance(folder) or {}
        kept |= set(record.get("stages", {})) - set(stages)
    if not kept:  # nothing left from an earlier run to mix with: nothing to compute
        return
    current = current_settings(study, stages=stages)
    lines = settings_conflicts(folders, current, stages=stages)
    if lines:
        stale = sorted({line.split("the ", 1)[1].split(" files", 1)[0] for line in lines})
        raise NwmGeoError(
            "this run would leave output files written with other settings:\n"
            + "\n".join(f"  - {line}" for line in lines)
            + f"\nRun the stage(s) {', '.join(stale)} too (for example `nwm-geo run` with "
            "the same options), or use the settings those files were written with. "
            "Nothing was written."
        )


def write_provenance(
    study: Study,
    folder: Path,
    *,
    stages: Sequence[str],
    previous: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``provenance.json`` into an output folder (see :func:`provenance`)."""
    record = provenance(study, stages=stages, previous=previous, extra=extra)
    path = folder / PROVENANCE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, sort_keys=False, default=str) + "\n", "utf-8")
    return path


def walk_text(study: Study) -> str:
    """Return the walk settings in words: "15-minute walk at 80 m/min (4.8 km/h), 1,200 m"."""
    minutes, speed = resolve_minutes(study.minutes), resolve_speed(study.speed_m_per_min)
    return (
        f"{minutes:g}-minute walk at {speed:g} m/min ({speed * 60 / 1000:.1f} km/h), "
        f"{minutes * speed:,.0f} m"
    )


def sources_note(study: Study, *, with_network: bool = True) -> str:
    """Return the sources, licences, data dates and network of a run, for ``SOURCES.txt``.

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
        f"Personal data: {data.publishable(study.register)[1]} phone number(s) or e-mail "
        "address(es) found in register text were masked in every published file.",
        f"Data dates: {study.data_dates}.",
        f"Walk: {walk_text(study)}.",
        f"Localities: {study.plan_source_text}.",
    ]
    if with_network:
        lines.append(study.network_label)
        if network.is_approximate(study.graph):
            lines.append(
                "Walk times use an approximate network built from postcode centroids, not "
                "the OpenStreetMap street network; treat them as indicative (docs/network.md)."
            )
            lines.append(network.APPROXIMATION_ERROR_NOTE)
        lines.append(study.equity.speeds_note())
    if study.profile.communal_note:
        lines.append(f"Population: {study.profile.communal_note}")
    lines.append(f"Boundary: {study.profile.boundary_note}")
    lines += ["", "Sources and licences:", settings.attribution, ""]
    return "\n".join(lines)
