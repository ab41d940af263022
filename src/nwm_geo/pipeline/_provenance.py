"""Provenance: the settings and inputs every output folder came from, and the mixing guard.

In: a :class:`~nwm_geo.pipeline.Study` and the stages written. Out: the
``provenance.json`` record (:func:`provenance`: sha256 of each input file, package
versions, minutes, speed, the plan and its fingerprint, the network and its source, the
register's fingerprint, solver statuses) and :func:`settings_conflicts`, which finds
the output files that a partial run would leave written with other settings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from nwm_geo import __version__, data, equity, localities, network, rural, settings
from nwm_geo._units import resolve_minutes, resolve_speed
from nwm_geo._versions import installed_versions
from nwm_geo.pipeline._notes import data_note
from nwm_geo.pipeline._study import Study

__all__ = [
    "PROVENANCE_NAME",
    "file_sha256",
    "provenance",
    "read_provenance",
    "register_fingerprint",
    "settings_conflicts",
    "sources_note",
    "walk_text",
]

#: The provenance file in every output folder.
PROVENANCE_NAME = "provenance.json"

#: Packages whose versions are recorded.
_PACKAGES: tuple[str, ...] = (
    "geopandas", "shapely", "pyproj", "pandas", "numpy", "scipy", "networkx", "osmnx",
    "pulp", "highspy", "folium", "matplotlib", "openpyxl",
)  # fmt: skip

#: The settings each stage's files depend on (compared by :func:`settings_conflicts`).
STAGE_SETTINGS: dict[str, tuple[str, ...]] = {
    "register": (),
    "localities": ("plan_sha256",),
    "coverage": (
        "minutes",
        "speed_m_per_min",
        "walk_speed_by_age_m_per_min",
        "plan_sha256",
        "network",
    ),
    "report": (
        "minutes",
        "speed_m_per_min",
        "walk_speed_by_age_m_per_min",
        "plan_sha256",
        "network",
    ),
    "hubs": ("minutes", "speed_m_per_min", "plan_sha256", "network"),
}

#: The settings every stage's files depend on, besides their own :data:`STAGE_SETTINGS`:
#: the register (a stage re-run on other sites would leave the others' files stale).
EVERY_STAGE_SETTINGS: tuple[str, ...] = ("register_fingerprint",)

_HASHES: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | Path) -> str:
    """Return the sha256 of a file (memoised by path, size and modification time)."""
    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASHES:
        h = hashlib.sha256()
        with p.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        _HASHES[key] = h.hexdigest()
    return _HASHES[key]


def register_fingerprint(register: pd.DataFrame) -> str:
    """Return the sha256 of a register's ids, names, categories and positions."""
    cols = [c for c in ("name", "category", "easting", "northing", "inside_area") if c in register]
    text = register[cols].sort_index().to_csv(lineterminator="\n", float_format="%.1f")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def input_hashes(study: Study) -> dict[str, str]:
    root = study.raw_dir
    prof = study.profile
    named = [*prof.files.values(), *(p.file for p in prof.wards)]
    if study.register_path is None:
        named += [s.file for s in prof.sources]
    if prof.osm_file and prof.network == "osm":
        named.append(prof.osm_file)
    out = {}
    for rel in sorted(set(named)):
        path = root / rel
        if path.is_file():
            out[f"data/raw/{rel}"] = file_sha256(path)
    for extra in (study.register_path, study.osm_path, study.graph_path):
        if extra is not None and Path(extra).is_file():
            out[str(extra)] = file_sha256(extra)
    given = study.__dict__.get("_plan_given")
    if isinstance(given, str | Path) and Path(given).is_file():
        out[str(given)] = file_sha256(given)
    if Path(prof.profile).is_file():
        out[f"area profile {Path(prof.profile).name}"] = file_sha256(prof.profile)
    return out


def package_versions(*extra: str) -> dict[str, str]:
    """Return the versions of nwm_geo and the packages its results depend on (and ``extra``)."""
    return installed_versions(*_PACKAGES, *extra)


def _network_source(study: Study) -> str:
    if study.graph_path is not None:
        return f"saved network {study.graph_path}"
    if study.osm_path is not None:
        return f"OSM file {study.osm_path}"
    if study.download:
        return "downloaded from OpenStreetMap (osmnx)"
    if study.profile.network == "osm" and study.profile.osm_file:
        return f"OSM file data/raw/{study.profile.osm_file} (the area's default)"
    return "approximate: postcode-proximity graph built from Code-Point (the area's default)"


def current_settings(study: Study, *, stages: Iterable[str]) -> dict[str, Any]:
    """Return the settings a run of ``stages`` fixes (those :data:`STAGE_SETTINGS` compare).

    The plan and the network are only looked at when the stages use them, so that
    ``nwm-geo register`` does not solve a plan.
    """
    stages = set(stages)
    out: dict[str, Any] = {
        "minutes": resolve_minutes(study.minutes),
        "speed_m_per_min": resolve_speed(study.speed_m_per_min),
        "register_fingerprint": register_fingerprint(study.register),
    }
    if stages & {"localities", "coverage", "hubs", "report", "scenario"}:
        out["plan_sha256"] = localities.plan_sha256(study.plan.assignment)
    if stages & {"coverage", "hubs", "report", "scenario"}:
        out["network"] = study.network_label
        # the equity tables' speed per age band (nwm_geo.settings.walk_speed_by_age_m_per_min)
        out["walk_speed_by_age_m_per_min"] = equity.age_speeds(default=out["speed_m_per_min"])
    return out


def provenance(
    study: Study,
    *,
    stages: Iterable[str],
    previous: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the provenance record of an output folder.

    Parameters
    ----------
    study
        The study whose files the folder holds.
    stages
        The stages written by this run.
    previous
        The folder's earlier record: its entries for stages not re-run are kept (their
        files are kept too).
    extra
        More keys (a scenario's changes).

    Returns
    -------
    dict
        JSON-ready: ``nwm_geo`` and ``packages`` versions, ``area``, ``inputs`` (sha256
        per file), ``settings`` (minutes, speed, plan and its sha256, network and its
        source, the register's fingerprint), ``solver_statuses`` and ``stages`` (per
        stage, the settings its files were written with).
    """
    stages = list(stages)
    plan = study.plan
    current = current_settings(study, stages=stages)
    record: dict[str, Any] = {
        "nwm_geo": __version__,
        "packages": package_versions(),
        "area": {
            "key": study.profile.key,
            "name": study.profile.name,
            "profile": Path(study.profile.profile).name,
        },
        "inputs": input_hashes(study),
        "settings": {
            "minutes": current["minutes"],
            "speed_m_per_min": current["speed_m_per_min"],
            "ward_year": study.ward_year,
            "localities": int(plan.assignment.nunique()),
            "plan": study.plan_source,
            "plan_sha256": localities.plan_sha256(plan.assignment),
            "register": str(study.register_path) if study.register_path else "open data",
            "register_fingerprint": register_fingerprint(study.register),
            "register_assets": len(study.register),
        },
        "solver_statuses": {"localities": plan.status},
    }
    if "network" in current:
        record["settings"]["network"] = current["network"]
        record["settings"]["network_source"] = _network_source(study)
        record["settings"]["network_approximate"] = study.network_approximate
    if "report" in stages and "outline" in study.__dict__:
        status = study.outline.solver_status
        record["solver_statuses"]["requirements"] = json.loads(
            status.astype(str).to_json(orient="index")
        )
    if "hubs" in stages and "hub_analysis" in study.__dict__:
        joint = study.hub_analysis.joint
        record["solver_statuses"]["hubs"] = joint.status if joint is not None else "no joint plan"
    done = dict(previous.get("stages", {})) if previous else {}
    for stage in stages:
        keys = (*EVERY_STAGE_SETTINGS, *STAGE_SETTINGS.get(stage, tuple(current)))
        done[stage] = {k: current[k] for k in dict.fromkeys(keys) if k in current}
    record["stages"] = dict(sorted(done.items()))
    if extra:
        record.update(extra)
    return record


def read_provenance(folder: Path) -> dict[str, Any] | None:
    """Return the ``provenance.json`` of a folder, or None when there is none (or unreadable)."""
    path = Path(folder) / PROVENANCE_NAME
    if not path.is_file():
        return None
    try:
        found: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found


def settings_conflicts(
    folders: Iterable[Path], current: Mapping[str, Any], *, stages: Iterable[str]
) -> list[str]:
    """Find files a partial run would leave written with other settings.

    Parameters
    ----------
    folders
        The output folders (``data/processed``, ``reports``) as they are now.
    current
        :func:`current_settings` of this run.
    stages
        The stages this run writes.

    Returns
    -------
    list of str
        One line per stage not re-run whose files were written with a different value
        of a setting it depends on.
    """
    run = set(stages)
    lines = []
    for folder in folders:
        prev = read_provenance(folder)
        if not prev:
            continue
        for stage, recorded in prev.get("stages", {}).items():
            if stage in run:
                continue
            for key in (*EVERY_STAGE_SETTINGS, *STAGE_SETTINGS.get(stage, ())):
                if key in current and key in recorded and recorded[key] != current[key]:
                    lines.append(
                        f"{folder}: the {stage} files were written with {key} = "
                        f"{recorded[key]!r}; this run has {current[key]!r}"
                    )
    return lines


def walk_text(study: Study) -> str:
    """Return the walk settings in words: "15-minute walk at 80 m/min (4.8 km/h), 1,200 m".

    Examples
    --------
    >>> import nwm_geo
    >>> nwm_geo.pipeline.walk_text(nwm_geo.Study(project_dir=".", minutes=10))
    '10-minute walk at 80 m/min (4.8 km/h), 800 m'
    """
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
        if study.network_approximate:
            lines.append(
                "Walk times use an approximate network built from postcode centroids, not "
                "the OpenStreetMap street network; treat them as indicative (docs/network.md)."
            )
            lines.append(network.APPROXIMATION_ERROR_NOTE)
        # the note only, not the equity tables (a scenario does not compute them)
        speeds = equity.age_speeds(default=resolve_speed(study.speed_m_per_min))
        lines.append(equity.speeds_note(speeds, settings.WALK_SPEED_SOURCES))
        if "hub_walks" in study.__dict__:  # the report computed it: no solve just for this
            walks = study.hub_walks
            minutes = study.settings.minutes
            rural_lines = rural.rural_notes(walks, area_name=study.profile.name, minutes=minutes)
            lines += [f"Walking: {text}" for text in rural_lines]
    if study.profile.communal_note:
        lines.append(f"Population: {study.profile.communal_note}")
    lines.append(f"Boundary: {study.profile.boundary_note}")
    lines += ["", "Sources and licences:", settings.attribution, ""]
    return "\n".join(lines)
