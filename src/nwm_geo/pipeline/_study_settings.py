"""A study's settings in one frozen record, and the study's short display.

In: the :class:`~nwm_geo.pipeline.Study` parameters, defaults resolved. Out:
:class:`StudySettings` (``study.settings``), the few lines ``repr(study)`` shows, and the
error that says where a study looked for its data and how to point elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from nwm_geo.pipeline._changes import Changes

__all__ = ["StudySettings", "missing_bundle_text", "saved_plan", "summary_lines"]


@dataclass(frozen=True)
class StudySettings:
    """A study's settings, in one place (``study.settings``); the results are the study's.

    Attributes
    ----------
    area, council
        The area profile's name and its council.
    ward_year
        The ward pattern.
    k
        The number of localities.
    minutes, speed_m_per_min
        The walk threshold and speed, defaults resolved.
    plan
        Where the plan comes from: a file (relative to the project), ``"given"`` or
        ``"solved"``.
    register
        The council register file, or ``"open data"``.
    network
        The network source: an OSM or graph file, ``"download"`` or ``"area default"``.
    n_alternatives, new_sites
        How many distinct plans to list; new sites to suggest per bundle.
    project_dir
        The project folder (``data/raw``, ``data/processed``, ``reports``).
    """

    area: str
    council: str
    ward_year: int
    k: int
    minutes: float
    speed_m_per_min: float
    plan: str
    register: str
    network: str
    n_alternatives: int
    new_sites: int
    project_dir: Path


def saved_plan(project_dir: Path, output_subdir: str) -> Path | None:
    """Return the plan ``nwm-geo localities`` saved in a project, or None when there is none.

    Parameters
    ----------
    project_dir
        The project folder.
    output_subdir
        The area's output sub-folder (``""`` for Luton).

    Returns
    -------
    Path or None
        ``data/processed/<area>/localities.csv`` if it exists.
    """
    path = Path(project_dir) / "data" / "processed" / output_subdir / "localities.csv"
    return path if path.is_file() else None


def missing_bundle_text(project_dir: Path) -> str:
    """Return the error for a project folder without ``data/raw``: where, and how to point.

    Parameters
    ----------
    project_dir
        The project folder the study used.

    Returns
    -------
    str
        The message.
    """
    env = os.environ.get("NWM_GEO_PROJECT_DIR")
    came = f"$NWM_GEO_PROJECT_DIR = {env}" if env else "project_dir, else the working directory"
    return (
        f"no imported data bundle in {project_dir / 'data' / 'raw'}: looked in the project "
        f"folder {project_dir} (from {came}). Point at the project that holds data/raw with "
        "Study(project_dir=...), the environment variable NWM_GEO_PROJECT_DIR or "
        "`nwm-geo --project-dir DIR`; or import the bundle there: "
        f"`nwm-geo --project-dir {project_dir} import-data`."
    )


def summary_lines(
    settings: StudySettings, done: Iterable[str], changes: Changes | None
) -> tuple[str, list[str]]:
    """Return the title and the few lines that ``repr(study)`` shows.

    Parameters
    ----------
    settings
        The study's settings.
    done
        The results computed so far (nothing is computed to display a study).
    changes
        The what-if's changes, or None for a baseline.

    Returns
    -------
    tuple
        The title and the lines.
    """
    s = settings
    done = sorted(done)
    lines = [
        f"{s.k} localities of {s.ward_year} wards; plan: {s.plan}",
        f"walk: {s.minutes:g} min at {s.speed_m_per_min:g} m/min; network: {s.network}",
        f"register: {s.register}; project: {s.project_dir}",
        "computed: " + (", ".join(done) if done else "nothing yet"),
    ]
    if changes is not None:
        lines.append(
            f"what-if: {len(changes.close)} site(s) closed, {len(changes.add)} added; "
            f"walk {changes.baseline_minutes:g} -> {changes.minutes:g} min"
        )
    return f"Study of {s.area} ({s.council})", lines
