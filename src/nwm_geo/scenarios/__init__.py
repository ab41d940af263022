"""Scenarios: what if a site closes, a new one opens, or people walk slower.

In: a baseline :class:`~nwm_geo.pipeline.Study` (its locality plan kept fixed) and small
TOML scenario files (``name``, optional ``plan``, ``[[close]]``, ``[[add]]``,
``[settings]``; see ``docs/scenarios.md``), or the same changes given in Python
(``study.with_changes(...)``).
Out: :func:`compare` (the baseline and the scenario side by side: coverage per
locality and ward, residents losing and gaining access, the postcodes that change) and
:func:`run_scenarios`, which checks every file first (:class:`ScenarioError` lists
every problem with file, key and reason; nothing is written) and then writes
``scenarios/<name>/`` for each, all in one atomic step, never touching the baseline's
``data/processed`` or ``reports``.
"""

from __future__ import annotations

from nwm_geo.scenarios._compare import COMPARISON_COLUMNS, Comparison, compare
from nwm_geo.scenarios._spec import (
    Scenario,
    ScenarioError,
    ScenarioProblem,
    check_scenarios,
    read_scenario,
)
from nwm_geo.scenarios._write import run_scenarios, scenario_folder, write_scenario

__all__ = [
    "COMPARISON_COLUMNS",
    "Comparison",
    "Scenario",
    "ScenarioError",
    "ScenarioProblem",
    "check_scenarios",
    "compare",
    "read_scenario",
    "run_scenarios",
    "scenario_folder",
    "write_scenario",
]
