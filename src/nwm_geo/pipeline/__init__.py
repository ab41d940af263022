"""Chain the stages: register → localities → coverage → requirements → maps and report.

In: the imported bundle (``data/raw``), or a council register file. Out: the files
under ``data/processed`` and ``reports``. :class:`Study` computes each stage once,
lazily, from the stages it depends on; the ``write_*`` functions write a stage's
files into a folder; :func:`run` stages every file and moves them into place only
when all were written, so a failed run leaves no partial outputs.
The CLI (:mod:`nwm_geo.cli`) and the notebooks call these functions.

Where things live, by audience: ``_study`` the study (and ``_changes`` its what-ifs,
``_summaries`` its summaries for people, ``_wards`` its per-ward results, cached on it);
``_processed`` the analyst's tables in ``data/processed``; ``_published`` the shared
folder ``reports/`` (with ``_paper`` the ward profiles and the workbook's ward and hub
options sheets); ``_run`` the run itself (stages, settings check, provenance file), with
``_provenance`` the record and ``SOURCES.txt`` text; ``_baseline`` the saved baseline
what-ifs start from; ``_notes`` the register note; ``_write`` the one CSV guard. Imports
run one way: ``_run`` → ``_baseline``/``_published``/``_processed`` → ``_paper`` →
``_provenance``/``_summaries`` → ``_study`` → ``_wards``/``_changes``/``_notes``.
"""

from __future__ import annotations

from nwm_geo.pipeline._baseline import (
    baseline_note,
    baseline_path,
    load_baseline,
    reuse_baseline,
    save_baseline,
)
from nwm_geo.pipeline._changes import Changes, apply_changes, change_problems, new_sites
from nwm_geo.pipeline._notes import data_note
from nwm_geo.pipeline._paper import hub_headlines, ward_profiles
from nwm_geo.pipeline._plan_source import PlanSource
from nwm_geo.pipeline._processed import (
    PROCESSED_TABLES,
    write_closure_impact,
    write_coverage,
    write_equity,
    write_hubs,
    write_localities,
    write_register_stage,
)
from nwm_geo.pipeline._provenance import (
    PROVENANCE_NAME,
    STAGE_SETTINGS,
    current_settings,
    file_sha256,
    provenance,
    read_provenance,
    register_fingerprint,
    settings_conflicts,
    sources_note,
    walk_text,
)
from nwm_geo.pipeline._published import write_pack, write_report
from nwm_geo.pipeline._run import STAGES, check_settings, run, write_provenance
from nwm_geo.pipeline._study import Study
from nwm_geo.pipeline._study_settings import StudySettings, saved_plan
from nwm_geo.pipeline._summaries import coverage_by_locality, equity_headline, equity_sections
from nwm_geo.pipeline._wards import hub_option_table, ward_bands
from nwm_geo.pipeline._write import write_csv

__all__ = [
    "PROCESSED_TABLES",
    "PROVENANCE_NAME",
    "STAGES",
    "STAGE_SETTINGS",
    "Changes",
    "PlanSource",
    "Study",
    "StudySettings",
    "apply_changes",
    "baseline_note",
    "baseline_path",
    "change_problems",
    "check_settings",
    "coverage_by_locality",
    "current_settings",
    "data_note",
    "equity_headline",
    "equity_sections",
    "file_sha256",
    "hub_headlines",
    "hub_option_table",
    "load_baseline",
    "new_sites",
    "provenance",
    "read_provenance",
    "register_fingerprint",
    "reuse_baseline",
    "run",
    "save_baseline",
    "saved_plan",
    "settings_conflicts",
    "sources_note",
    "walk_text",
    "ward_bands",
    "ward_profiles",
    "write_closure_impact",
    "write_coverage",
    "write_csv",
    "write_equity",
    "write_hubs",
    "write_localities",
    "write_pack",
    "write_provenance",
    "write_register_stage",
    "write_report",
]
