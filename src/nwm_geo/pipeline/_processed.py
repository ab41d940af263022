"""The analyst's tables: the files each stage writes into ``data/processed``.

In: a :class:`~nwm_geo.pipeline.Study`. Out: the register, localities, coverage, equity,
closure-impact and hub tables (:data:`PROCESSED_TABLES`) and the walk network. Writers
only write: every quantity comes from the study.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from nwm_geo import _publish, data, network, settings
from nwm_geo._units import published_minutes
from nwm_geo.pipeline._study import Study
from nwm_geo.pipeline._write import write_csv

__all__ = [
    "PROCESSED_TABLES",
    "write_closure_impact",
    "write_coverage",
    "write_equity",
    "write_hubs",
    "write_localities",
    "write_register_stage",
]


def _write_tables(
    tables: dict[str, tuple[pd.DataFrame, bool]],
    out: Path,
    *,
    network_label: str,
    decimals: int | None = None,
) -> list[Path]:
    """Write each ``{file name: (table, with its index)}``, saying which network it used.

    ``decimals`` rounds every float column first.
    """
    paths = []
    for name, (frame, index) in tables.items():
        frame = frame.copy()
        if decimals is not None:
            floats = frame.select_dtypes("float").columns
            frame[floats] = frame[floats].round(decimals)
        frame["network"] = network_label  # every file says which network it used
        paths.append(write_csv(frame, out / name, index=index))
    return paths


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
    _publish.write_geo(geo.reset_index(), geo_path, driver="GeoJSON")
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
    postcode = demand["postcode"] if "postcode" in demand else demand.index.to_series()
    points = pd.DataFrame(
        {
            "postcode": postcode,
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
    paths = _write_tables(tables, out, network_label=study.network_label)
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
    eq = study.equity
    age = eq.age.copy()
    sources = age["age_band"].map(eq.sources)
    age["speed_source"] = sources.fillna("each age band at its own speed").astype(str)
    frames = {
        "coverage_deprivation.csv": eq.deprivation,
        "coverage_deprivation_quintiles.csv": eq.quintiles,
        "coverage_age.csv": age,
        "coverage_equity_gaps.csv": eq.gaps,
    }
    tables = {name: (_rounded(frame), False) for name, frame in frames.items()}
    return _write_tables(tables, out, network_label=study.network_label)


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
        "hub_options.csv": (study.hub_option_table, False),
    }
    return _write_tables(tables, out, network_label=label, decimals=4)


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
