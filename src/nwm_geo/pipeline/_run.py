"""The run itself: the stages in order, the settings check, staging and provenance.

:func:`run` stages every file and moves them into place only when all were written, so
a failed run leaves no partial outputs.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from nwm_geo import _publish
from nwm_geo._collector import collector_frozen
from nwm_geo._errors import NwmGeoError
from nwm_geo._io import staged_outputs
from nwm_geo.pipeline._baseline import reuse_baseline, save_baseline
from nwm_geo.pipeline._processed import (
    write_coverage,
    write_hubs,
    write_localities,
    write_register_stage,
)
from nwm_geo.pipeline._provenance import (
    PROVENANCE_NAME,
    current_settings,
    provenance,
    read_provenance,
    settings_conflicts,
    sources_note,
)
from nwm_geo.pipeline._published import write_report
from nwm_geo.pipeline._study import Study

__all__ = ["STAGES", "check_settings", "run", "write_provenance"]


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
        Folder holding ``data/processed`` and ``reports`` (default: the study's
        ``project_dir``).
    progress
        Show a progress bar over the stages.

    Returns
    -------
    list of Path
        The final paths of the files written.
    """
    root = Path(project_dir) if project_dir is not None else study.settings.project_dir
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise ValueError(f"unknown stage(s) {unknown}; choose from {list(STAGES)}")
    sub = study.profile.output_subdir
    folders = {"processed": Path("data") / "processed" / sub, "reports": Path("reports") / sub}
    check_settings(study, [root / f for f in folders.values()], stages=stages)
    # the collector's full passes walked every table and geometry the earlier stages had
    # made, again and again: each stage freezes what exists when it starts, and everything
    # is handed back to the collector when the run ends (or fails); a caller's own freeze
    # is left to it
    refreeze = not gc.get_freeze_count()
    with collector_frozen():
        return _run_stages(
            study, stages, root=root, folders=folders, progress=progress, refreeze=refreeze
        )


def _run_stages(
    study: Study,
    stages: Sequence[str],
    *,
    root: Path,
    folders: dict[str, Path],
    progress: bool,
    refreeze: bool,
) -> list[Path]:
    # the results a saved baseline holds for the same code, inputs and settings are read,
    # not computed again; its plan-bound tables once the plan is known, if it is the same
    plan_tables_pending = reuse_baseline(study)
    written: list[Path] = []
    with staged_outputs(root) as stage:
        bar: Any = tqdm(stages, desc="nwm-geo", unit="stage", disable=not progress)
        for name in bar:
            bar.set_postfix_str(name)
            if refreeze:
                gc.freeze()
            writer, folder = STAGES[name]
            target = stage / folders[folder]
            target.mkdir(parents=True, exist_ok=True)
            try:
                files = writer(study, target)
            except NwmGeoError as exc:
                exc.add_note(f"stage: {name}")
                raise
            written += [root / p.relative_to(stage) for p in files]
            if plan_tables_pending and "_plan_resolved" in study.__dict__:
                plan_tables_pending = reuse_baseline(study)
        note = sources_note(study, with_network=bool({"coverage", "report"} & set(stages)))
        for folder in sorted({STAGES[name][1] for name in stages}):
            path = stage / folders[folder] / "SOURCES.txt"
            _publish.write_text(path, note)
            written.append(root / path.relative_to(stage))
            mine = [n for n in stages if STAGES[n][1] == folder]
            written.append(
                root / write_provenance(study, stage / folders[folder], stages=mine,
                                        previous=read_provenance(root / folders[folder]))
                .relative_to(stage)
            )  # fmt: skip
    save_baseline(study, project_dir=root)  # for what-ifs (nwm-geo scenario): a cache
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
    _publish.write_json(path, record, indent=1)
    return path
