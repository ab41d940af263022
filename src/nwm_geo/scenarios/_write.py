"""Write scenarios: ``scenarios/<name>/``, all at once, never touching the baseline's files.

In: checked scenarios with their baseline studies (:func:`check_scenarios`). Out: per
scenario, the comparison per locality and per ward, the postcodes that change, the
closed and added sites, a difference map, a short workbook, the scenario file itself,
``SOURCES.txt`` and ``provenance.json``; every scenario folder is staged and switched in
one step (:func:`nwm_geo._io.staged_outputs`), so a failure writes nothing. The same
scenario run twice gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from nwm_geo import _publish, maps, network, report, settings
from nwm_geo._io import atomic_path, staged_outputs
from nwm_geo.pipeline import (
    Study,
    sources_note,
    walk_text,
    write_csv,
    write_provenance,
)
from nwm_geo.scenarios._compare import Comparison, compare
from nwm_geo.scenarios._spec import Scenario, check_scenarios

__all__ = ["run_scenarios", "scenario_folder", "write_scenario"]

_FIXED_TIME = (2000, 1, 1, 0, 0, 0)
_CORE_DATE = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")
_FOLIUM_ID = re.compile(r"(?<=_)[0-9a-f]{32}(?![0-9a-f])")


def scenario_folder(study: Study, name: str) -> Path:
    """Return the folder of a scenario, relative to the project: ``scenarios/[<area>/]<name>``."""
    return Path("scenarios") / study.profile.output_subdir / name


def _stable_xlsx(path: Path) -> None:
    """Rewrite a workbook with fixed zip times and document dates (same input, same bytes)."""
    with zipfile.ZipFile(path) as src:
        items = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in items:
            if name == "docProps/core.xml":
                data = _CORE_DATE.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", data)
            dst.writestr(zipfile.ZipInfo(name, date_time=_FIXED_TIME), data, zipfile.ZIP_DEFLATED)


def _stable_map(m: Any, path: Path) -> Path:
    """Save a map with folium's random element ids replaced by counters."""
    html = maps.map_html(m)
    seen: dict[str, str] = {}
    html = _FOLIUM_ID.sub(lambda g: seen.setdefault(g.group(0), f"{len(seen):032x}"), html)
    return _publish.write_text(path, html)


def _sites(base: Study, scen: Study) -> tuple[pd.DataFrame, pd.DataFrame]:
    changes = scen.changes
    assert changes is not None
    cols = ["name", "category", "postcode", "ward_code", "ward_name", "inside_area", "lon", "lat"]
    closed = base.register.loc[list(changes.close)].reindex(columns=cols)
    closed.insert(0, "change", "closed")
    added = changes.add.to_crs(settings.wgs84)
    added = added.assign(lon=added.geometry.x, lat=added.geometry.y)
    added = pd.DataFrame(added.drop(columns="geometry")).reindex(columns=[*cols, "located_by"])
    added.insert(0, "change", "added")
    return closed, added


def write_scenario(
    base: Study, scen: Study, scenario: Scenario, out: Path
) -> tuple[list[Path], Comparison]:
    """Write one scenario's files into ``out``.

    Parameters
    ----------
    base
        The baseline study.
    scen
        ``base.with_changes(...)`` for the scenario.
    scenario
        The scenario as read from its file.
    out
        The scenario's folder (in the staging area).

    Returns
    -------
    tuple of (list of Path, Comparison)
        The files written and the comparison.
    """
    out.mkdir(parents=True, exist_ok=True)
    cmp = compare(base, scen)
    changes = scen.changes
    assert changes is not None
    closed, added = _sites(base, scen)
    sites = pd.concat([closed, added])
    sites.index.name = "asset_id"
    label = scen.network_label
    lines = changes.describe(base.register)
    # the closed and added sites' categories first (the first layer is shown), then the
    # bundles, then the other measures that change (e.g. with slower walking)
    site_cats = [*base.register.loc[list(changes.close), "category"], *changes.add["category"]]
    first = [*dict.fromkeys(map(str, site_cats)), *base.bundles]
    changed = cmp.changed_measures
    measures = [m for m in first if m in changed] + [m for m in changed if m not in first]
    measures = measures or list(base.bundles)
    written = [
        write_csv(cmp.localities, out / "comparison_localities.csv", index=False),
        write_csv(cmp.wards, out / "comparison_wards.csv", index=False),
        write_csv(cmp.postcodes, out / "postcodes_changed.csv", index=False),
        write_csv(sites, out / "changes.csv"),
    ]
    if len(cmp.equity):  # with the equity columns: who loses, by deprivation and age
        written.append(write_csv(cmp.equity, out / "comparison_equity.csv", index=False))
    m = maps.difference_map(
        cmp.postcodes,
        measures=measures,
        wards=base.wards,
        assignment=base.plan.assignment,
        closed=closed if len(closed) else None,
        added=added if len(added) else None,
        page=maps.MapPage(
            title=f"Scenario {scenario.name}: who gains and who loses access",
            subtitle="; ".join(lines) + f". {walk_text(scen)}; localities fixed (baseline plan).",
            network_label=label,
        ),
    )
    written.append(_stable_map(m, out / "map_difference.html"))
    area_rows = cmp.localities[cmp.localities["locality"] == cmp.area].set_index("measure")
    headline = area_rows.loc[[m for m in cmp.measures if m in area_rows.index]]
    summary_lines = [
        f"Scenario: {scenario.name}",
        *([scenario.description] if scenario.description else []),
        "Changes:",
        *(f"  {x}" for x in lines),
        f"Baseline walk: {walk_text(base)}.",
        f"Scenario walk: {walk_text(scen)}.",
        f"Localities: {base.plan_source_text}; the same plan for both, never re-solved.",
        label,
        *([network.APPROXIMATION_ERROR_NOTE] if scen.network_approximate else []),
        "Residents losing: within the walk before, not after; gaining: the reverse.",
        "Sources and licences:",
        settings.attribution,
    ]
    xlsx = report.write_tables_xlsx(
        out / "summary.xlsx",
        title=f"Scenario {scenario.name} against the baseline",
        lines=summary_lines,
        tables={
            cmp.area: (f"{cmp.area}: coverage before and after", headline.reset_index()),
            "Localities": (
                "Per locality",
                cmp.localities[cmp.localities["measure"].isin(measures)],
            ),
            "Wards": (
                "Per ward: find your ward by name",
                cmp.wards[cmp.wards["measure"].isin(measures)],
            ),
            "Sites": ("Sites closed and added", sites.reset_index()),
        },
    )
    _stable_xlsx(xlsx)
    written.append(xlsx)
    _publish.write_text(out / "scenario.toml", scenario.text)
    written.append(out / "scenario.toml")
    note = (
        sources_note(scen)
        + "\n"
        + "\n".join([f"Scenario {scenario.name}:", *(f"  {x}" for x in lines), ""])
    )
    _publish.write_text(out / "SOURCES.txt", note)
    written.append(out / "SOURCES.txt")
    extra = {
        "scenario": {
            "name": scenario.name,
            "file": scenario.path.name,
            "file_sha256": hashlib.sha256(scenario.text.encode("utf-8")).hexdigest(),
            "changes": lines,
            "closed": list(changes.close),
            "added": list(added.index),
        },
        "baseline": {
            "minutes": changes.baseline_minutes,
            "speed_m_per_min": changes.baseline_speed_m_per_min,
        },
    }
    written.append(write_provenance(scen, out, stages=["scenario"], extra=extra))
    return written, cmp


def run_scenarios(
    paths: Sequence[str | Path],
    *,
    study_for: Callable[[Path | None], Study],
    project_dir: Path | None = None,
) -> dict[str, list[Path]]:
    """Check every scenario file, then write every scenario folder in one step.

    Parameters
    ----------
    paths
        The scenario ``.toml`` files.
    study_for
        ``plan -> Study``: the baseline study for a scenario's plan file (None: the
        default, the project's existing plan).
    project_dir
        The project folder (default ``settings.project_dir()``).

    Returns
    -------
    dict
        Scenario name -> the final paths of its files.

    Raises
    ------
    ScenarioError
        Every problem of every file, before anything is written.
    """
    root = Path(project_dir) if project_dir is not None else settings.project_dir()
    checked = check_scenarios(paths, study_for, project_dir=root)
    folders = [scenario_folder(study, s.name).as_posix() for s, study in checked]
    out: dict[str, list[Path]] = {}
    with staged_outputs(root, folders=folders) as stage:
        for scenario, study in checked:
            scen = study.with_changes(
                close=scenario.close,
                add=scenario.add,
                minutes=scenario.minutes,
                speed_m_per_min=scenario.speed_m_per_min,
            )
            folder = scenario_folder(study, scenario.name)
            files, _ = write_scenario(study, scen, scenario, stage / folder)
            out[scenario.name] = [root / p.relative_to(stage) for p in files]
    return out
