"""The published folder: the maps, workbook, locality pack and index of ``reports/``.

In: a :class:`~nwm_geo.pipeline.Study`. Out: the files :func:`write_report` writes (every
link stays inside ``reports/``, so the folder works when it is shared alone) and the
shared tables (:data:`SHARED_TABLES`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from nwm_geo import (
    coverage,
    data,
    explorer,
    maps,
    network,
    report,
    rural,
    settings,
)
from nwm_geo._collector import collector_frozen, fewer_collections
from nwm_geo.pipeline._gaps import OLDER_SUFFIX
from nwm_geo.pipeline._notes import data_note
from nwm_geo.pipeline._paper import (
    hub_headlines,
    lead_with_hubs,
    paper_sheets,
    write_paper_outputs,
)
from nwm_geo.pipeline._provenance import walk_text
from nwm_geo.pipeline._study import Study
from nwm_geo.pipeline._summaries import equity_sections
from nwm_geo.pipeline._write import write_csv

__all__ = ["SHARED_TABLES", "write_pack", "write_report"]


def _equity_map(study: Study, minutes: float, common: dict[str, Any]) -> Any:
    """Map the postcodes beyond the walk per bundle by IMD decile; 65+ at their speed."""
    bundles = list(study.bundles)
    return maps.deprivation_gaps_map(
        study.equity_gap_points,
        measures=bundles,
        older={b: b + OLDER_SUFFIX for b in bundles},
        wards=study.wards,
        minutes=minutes,
        speeds_note=study.equity.speeds_note(),
        **common,
    )


def workbook_sheets(study: Study) -> list[Callable[[Any], object]]:
    """Return the workbook's sheets beyond the briefing: equity, closure impact, hubs.

    Producers for :func:`nwm_geo.report.write_requirements_xlsx` (``sheets``), so the
    workbook is written and saved once.
    """
    label = study.network_label
    hub_notes = [label, f"Sources and licences: {settings.attribution}"]
    if study.network_approximate:
        hub_notes.append(network.APPROXIMATION_ERROR_NOTE)
    hub_notes += _rural_notes(study)
    return [
        partial(
            report.equity_sheet,
            gaps=study.equity.gaps,
            quintiles=study.equity.quintiles,
            age=study.equity.age,
            area_name=study.profile.name,
            speeds_note=study.equity.speeds_note(),
            measures=[*study.bundles, coverage.all_bundles_label(study.bundles)],
        ),
        partial(
            report.closure_impact_sheet,
            impact=study.closure_impact.assets,
            note=f"{walk_text(study)}; {label}",
        ),
        partial(report.hub_sheet, analysis=study.hub_analysis, notes=hub_notes),
    ]


def _hub_markers(study: Study, localities_map: Any) -> None:
    """Add the published plan's hubs and their walk catchments to the localities map."""
    analysis = study.hub_analysis
    maps.add_hubs(
        localities_map,
        maps.hub_points(study.hubs, analysis.candidates),
        study.hub_catchments,
        minutes=study.settings.minutes,
        name="Hubs (best in each locality)",
        localities=study.plan.assignment.to_numpy(),
    )


def _same_partition(a: pd.Series, b: pd.Series) -> bool:
    """Whether two plans group the wards the same way (whatever the localities' names)."""

    def groups(x: pd.Series) -> set[frozenset[str]]:
        return {frozenset(map(str, idx)) for idx in x.groupby(x.astype(str)).groups.values()}

    return groups(a) == groups(b)


def _joint_hub_map(study: Study, out: Path) -> list[tuple[str, Path]]:
    """Save the map of the localities and hubs chosen together; return its link (if any)."""
    analysis = study.hub_analysis
    joint, catchments = analysis.joint, study.joint_hub_catchments
    if joint is None or catchments is None:
        return []
    page = maps.MapPage(
        title="Localities and hubs chosen together",
        subtitle=(
            f"{joint.residents_within:,} residents within {analysis.rules.minutes:g} minutes "
            f"of their own locality's hub ({joint.status}; worst deviation "
            f"{joint.plan.objective:.1%}, cap {joint.max_deviation:.1%})"
            + (
                ". The same localities as the balance-only plan: within the cap, no other "
                "plan brings more residents within the walk of a hub"
                if _same_partition(joint.plan.assignment, study.plan.assignment)
                else ""
            )
        ),
        network_label=study.network_label,
    )
    m = maps.localities_map(study.wards, joint.plan.assignment, page=page)
    maps.add_hubs(
        m,
        maps.hub_points(analysis.joint_hubs, analysis.candidates),
        catchments,
        minutes=study.settings.minutes,
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
    with collector_frozen(), fewer_collections():
        return _write_report(study, out)


def _write_report(study: Study, out: Path) -> list[Path]:
    label = study.network_label
    minutes = study.settings.minutes
    outline = study.outline
    wards, assignment = study.wards, study.plan.assignment
    register = study.register
    gaps = outline.gap_points
    bundles = list(study.bundles)
    common: dict[str, Any] = {"page": maps.MapPage(network_label=label)}
    localities_map = maps.localities_map(
        wards,
        assignment,
        page=maps.MapPage(
            subtitle=f"{study.profile.name}'s wards grouped into localities", network_label=label
        ),
    )
    _hub_markers(study, localities_map)
    folium_maps = {
        "Localities": ("map_localities.html", localities_map),
        "Walking time to the nearest site, in bands": (
            "map_travel_times.html",
            maps.travel_time_map(
                study.demand,
                study.minutes_to_nearest,
                measures=bundles,
                wards=wards,
                speed_m_per_min=study.speed_m_per_min,
                **common,
            ),
        ),
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
                areas=study.lsoas,
                area_gaps=study.lsoa_gaps,
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
    map_links.append(
        ("What if? Decision explorer", explorer.write_explorer(study, out / "explorer.html"))
    )
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
    xlsx = report.write_requirements_xlsx(  # the one save of the workbook
        outline,
        out / "asset_requirements.xlsx",
        run_info=study.run_info,
        context=context,
        sheets=workbook_sheets(study) + paper_sheets(study),
    )
    paper = write_paper_outputs(study, out)  # ward profiles, ward tables, hub options
    table_links: list[tuple[str, Path]] = [("Outline of asset requirements (Excel)", xlsx)]
    map_links += [link for link in paper if link[1].suffix == ".pdf"]
    table_links += [link for link in paper if link[1].suffix != ".pdf"]
    for title, frame in shared_tables(study).items():
        table_links.append((title, write_csv(frame, out / "tables" / SHARED_TABLES[title])))
    written += [p for _, p in map_links] + [p for _, p in table_links]
    # every link stays inside reports/, so the folder works when it is shared alone
    notes = [data_note(study.reconciliation, area=study.profile), study.equity.speeds_note()]
    notes += [study.profile.communal_note] if study.profile.communal_note else []
    notes.append(study.profile.boundary_note)
    notes += [network.APPROXIMATION_ERROR_NOTE] if study.network_approximate else []
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
        notes=notes,
        check_exists=False,
        findings=replace(
            lead_with_hubs(
                study, report.index_findings(outline, run_info=study.run_info, context=context)
            ),
            reconciliation=study.reconciliation,  # no published count: no target, never Luton's
        ),
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
        page=maps.MapPage(network_label=study.network_label),
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
    notes = [data_note(study.reconciliation, area=study.profile), f"Data: {study.data_dates}."]
    if study.network_approximate:
        notes.append(network.APPROXIMATION_ERROR_NOTE)
    minutes = study.settings.minutes
    notes += rural.rural_notes(study.hub_walks, area_name=study.profile.name, minutes=minutes)
    inputs = report.PackInputs(
        area_name=study.profile.name,
        wards=study.wards,
        assignment=study.plan.assignment,
        register=study.register,
        outline=study.outline,
        bundles=bundles,
        gaps=study.gap_cells,
        hubs=study.hubs,
        network_label=study.network_label,
        notes=notes,
        minutes=study.minutes,
        ranges=study.ranges,
        findings=hub_headlines(study),
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
        study.locality_coverage,
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
        coverage=study.locality_coverage,
        equity=equity_sections(study),
        equity_note=study.equity.speeds_note(),
        ranges=study.ranges,
        notes=tuple(_rural_notes(study)),
    )


def _rural_notes(study: Study) -> list[str]:
    """:func:`nwm_geo.rural.rural_notes` of the study (none where walking is the main mode)."""
    minutes = study.minutes or settings.walk_minutes
    return rural.rural_notes(study.hub_walks, area_name=study.profile.name, minutes=minutes)
