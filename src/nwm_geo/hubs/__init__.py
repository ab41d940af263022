"""Community hubs: one hub per locality, chosen for a plan or together with the plan.

In: the asset register, the walk model and demand points (:mod:`nwm_geo.coverage`),
the wards and a locality plan (:mod:`nwm_geo.localities`), and the council's named
hubs (the area profile's ``[hubs]`` table). Out: hub candidates
(:func:`hub_candidates`), which named sites the register holds (:func:`named_sites`),
walking minutes from each candidate (:func:`candidate_minutes`), the joint model's
table (:func:`hub_rules`, a :class:`~nwm_geo.localities.HubRules`), the best hub of
each locality of a fixed plan with ties and runner-up (:func:`best_hubs`), and the
whole comparison (:func:`analyse_hubs`): council-named hubs, the balance-only plan's
best hubs and the joint optimum, side by side, with the frontier of balance caps; and
the options appraisal (:func:`hub_options`: every candidate scored and ranked in its
locality; :func:`town_centre_answer`).

The joint optimum itself is :func:`nwm_geo.localities.partition_with_hubs`; the
method is in ``docs/hubs.md``.
"""

from __future__ import annotations

from nwm_geo.hubs._analysis import (
    COMPARISON_COLUMNS,
    HubAnalysis,
    HubOptions,
    analyse_hubs,
)
from nwm_geo.hubs._candidates import (
    CANDIDATE_COLUMNS,
    DEFAULT_CATEGORIES,
    NamedHub,
    NewSite,
    hub_candidates,
    named_sites,
)
from nwm_geo.hubs._options import HUB_OPTION_COLUMNS, hub_options, town_centre_answer
from nwm_geo.hubs._score import (
    HUB_COLUMNS,
    best_hubs,
    candidate_minutes,
    hub_catchments,
    hub_rules,
    restrict,
)

__all__ = [
    "CANDIDATE_COLUMNS",
    "COMPARISON_COLUMNS",
    "DEFAULT_CATEGORIES",
    "HUB_COLUMNS",
    "HUB_OPTION_COLUMNS",
    "HubAnalysis",
    "HubOptions",
    "NamedHub",
    "NewSite",
    "analyse_hubs",
    "best_hubs",
    "candidate_minutes",
    "hub_candidates",
    "hub_catchments",
    "hub_options",
    "hub_rules",
    "named_sites",
    "restrict",
    "town_centre_answer",
]
