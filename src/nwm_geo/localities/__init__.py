"""Balanced, contiguous localities made of whole units, with a proof of optimality.

In: a units GeoDataFrame (wards by default, or any finer units such as LSOAs) in a
metric CRS, indexed by unit code, with ``population`` (int), ``assets`` (int), optional
one int column per asset category (named as in :data:`nwm_geo.settings.CATEGORIES`),
an optional ``ward_name`` column and polygon geometry; ``k``; the rules
(:class:`PartitionRules`: measures to balance, population band, category floors,
pins, the objective); and the budget (:class:`SolveBudget`: time limit, sets, search
nodes, memory, clock, seed).

Out: a :class:`LocalityPlan` (ward -> locality name, a per-locality summary, the
objective, the boundary cut and an honest proof status), ranked
:class:`Alternatives`, and dissolved locality polygons. A plan is also a decision kept
in a file: :func:`read_plan` loads one (checked, never re-solved) and
:func:`compare_plans` sets two side by side.

The method (objective, the two exact methods, the proof status and the naming rule)
is described in plain words in ``docs/localities.md``.
"""

from __future__ import annotations

from nwm_geo._solver import Deadline
from nwm_geo.localities._alternatives import alternatives
from nwm_geo.localities._budget import SolveBudget
from nwm_geo.localities._hubs import (
    HubFrontier,
    HubPlan,
    HubRules,
    hub_frontier,
    partition_with_hubs,
)
from nwm_geo.localities._instance import polsby_popper, ward_adjacency
from nwm_geo.localities._partition import SETS_MAX_UNITS, Method, partition
from nwm_geo.localities._plan import (
    Alternatives,
    LocalityPlan,
    dissolve,
    locality_of_wards,
    plan_summary,
)
from nwm_geo.localities._planfile import (
    PlanComparison,
    compare_plans,
    plan_from_assignment,
    plan_parts,
    plan_sha256,
    read_plan,
)
from nwm_geo.localities._rules import DEFAULT_K_RANGE, Objective, PartitionRules
from nwm_geo.localities._units import plan_record, read_units, within_wording

__all__ = [
    "DEFAULT_K_RANGE",
    "SETS_MAX_UNITS",
    "Alternatives",
    "Deadline",
    "HubFrontier",
    "HubPlan",
    "HubRules",
    "LocalityPlan",
    "Method",
    "Objective",
    "PartitionRules",
    "PlanComparison",
    "SolveBudget",
    "alternatives",
    "compare_plans",
    "dissolve",
    "hub_frontier",
    "locality_of_wards",
    "partition",
    "partition_with_hubs",
    "plan_from_assignment",
    "plan_parts",
    "plan_record",
    "plan_sha256",
    "plan_summary",
    "polsby_popper",
    "read_plan",
    "read_units",
    "ward_adjacency",
    "within_wording",
]
