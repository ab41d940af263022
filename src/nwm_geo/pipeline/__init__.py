"""Chain the stages: register → localities → coverage → requirements → maps and report.

In: the imported bundle (``data/raw``), or a council register file. Out: the files
under ``data/processed`` and ``reports``. :class:`Study` computes each stage once,
lazily, from the stages it depends on; the ``write_*`` functions write a stage's
files into a folder; :func:`run` stages every file and moves them into place only
when all were written, so a failed run leaves no partial outputs.
The CLI (:mod:`nwm_geo.cli`) and the notebooks call these functions.
"""

from __future__ import annotations

from nwm_geo.pipeline._study import Study, coverage_by_locality, data_note
from nwm_geo.pipeline._write import (
    PROCESSED_TABLES,
    STAGES,
    run,
    sources_note,
    write_coverage,
    write_csv,
    write_localities,
    write_pack,
    write_register_stage,
    write_report,
)

__all__ = [
    "PROCESSED_TABLES",
    "STAGES",
    "Study",
    "coverage_by_locality",
    "data_note",
    "run",
    "sources_note",
    "write_coverage",
    "write_csv",
    "write_localities",
    "write_pack",
    "write_register_stage",
    "write_report",
]
