"""The outline of asset requirements: which assets the model needs, and where the gaps are.

In: the asset register (indexed by ``asset_id``), the demand points (indexed by
``point_id``), the ward -> locality ``assignment``, and the outputs of
:mod:`nwm_geo.coverage`: a :class:`~nwm_geo.coverage.Cover` (points x sources,
"within ``walk_minutes``", carrying its threshold), the nearest-asset minutes per
point, and optionally the asset criticality table. The policy knobs (``k``, rule R2's
threshold, measures, bundles, candidate categories, time limit) travel in one
:class:`RequirementsPolicy`.

Out: plain DataFrames on natural indexes, and one :class:`RequirementsOutline`
that the report and the notebooks read.

- :func:`asset_catchments` (``_catchments``): per asset, the population it covers and
  the population for whom it is the only asset of its category within the walk
  (``sole_population``), by ``nwm_geo.coverage.cover_criticality``.
- :func:`required_assets`, :func:`redundant_assets`, :func:`sole_providers`
  (``_catchments``): assets whose closure leaves residents without access; assets
  with overlapping coverage (every resident they cover has another asset of the
  category; capacity not considered, so never on its own a case for disposal).
- :func:`gap_points`, :func:`gap_population` (``_gaps``): residents beyond the walk.
- :func:`minimal_cover` (``_lscp``): the smallest set of existing assets that keeps
  today's coverage (location set covering problem), solved exactly with HiGHS.
- :func:`best_new_sites` (``_mclp``): the ``k`` new sites that newly cover the most
  residents (maximal covering location problem), solved exactly with HiGHS; real
  buildings first, a postcode only as a labelled fallback; a minimum of residents per
  site and a minimum spacing between sites.
- :func:`best_combined_site` (``_combined``): per locality, the one site that newly
  serves the most residents over all bundles (exhaustive enumeration).
- :func:`needed_assets`, :func:`business_case`, :func:`council_overlap` (``_business``):
  the assets the model needs and the business-case list by owner type, by the written
  :data:`BUSINESS_CASE_RULES`; the council's overlapping assets and why R4 fires or not.
- :func:`outline` (``_outline``): all of the above, per locality; the earlier stages' outputs
  it reads travel in one :class:`OutlineInputs`.

Optimality is checked, not taken from PuLP: PuLP reports a HiGHS run that stopped at
its time limit as "Optimal". Every optimisation is solved by :mod:`nwm_geo._solver`
(the one proof status shared with the localities stage), which reads HiGHS's own model
status and bound; ``_status`` labels it with the problem, measure and scope.
Every optimiser takes the PuLP solver as ``solver=``.
"""

from __future__ import annotations

from nwm_geo.requirements._business import (
    BUSINESS_CASE_COLUMNS,
    OVERLAP_COLUMNS,
    business_case,
    council_overlap,
    needed_assets,
    owner_types,
    register_shortfall,
)
from nwm_geo.requirements._catchments import (
    CATCHMENT_COLUMNS,
    OVERLAPPING,
    asset_catchments,
    redundant_assets,
    required_assets,
    sole_providers,
)
from nwm_geo.requirements._combined import COMBINED_COLUMNS, best_combined_site
from nwm_geo.requirements._common import (
    BUSINESS_CASE_RULES,
    CANDIDATE_CATEGORIES,
    COUNCIL_RUN_CATEGORIES,
    DEFAULT_SOLE_THRESHOLD,
    OUTSIDE_BOROUGH,
    PROTECTED_CATEGORIES,
    CoverMatrix,
    RequirementsPolicy,
    business_case_rules,
    locality_of,
    measure_categories,
)
from nwm_geo.requirements._gaps import gap_points, gap_population
from nwm_geo.requirements._lscp import CoverSolution, minimal_cover
from nwm_geo.requirements._mclp import (
    BUILDING,
    POSTCODE,
    SITE_COLUMNS,
    SiteScope,
    SiteSolution,
    best_new_sites,
    building_candidates,
    postcode_candidates,
)
from nwm_geo.requirements._outline import OutlineInputs, RequirementsOutline, outline
from nwm_geo.requirements._status import SolveStatus, solve_status

__all__ = [
    "BUILDING",
    "BUSINESS_CASE_COLUMNS",
    "BUSINESS_CASE_RULES",
    "CANDIDATE_CATEGORIES",
    "CATCHMENT_COLUMNS",
    "COMBINED_COLUMNS",
    "COUNCIL_RUN_CATEGORIES",
    "DEFAULT_SOLE_THRESHOLD",
    "OUTSIDE_BOROUGH",
    "OVERLAPPING",
    "OVERLAP_COLUMNS",
    "POSTCODE",
    "PROTECTED_CATEGORIES",
    "SITE_COLUMNS",
    "CoverMatrix",
    "CoverSolution",
    "OutlineInputs",
    "RequirementsOutline",
    "RequirementsPolicy",
    "SiteScope",
    "SiteSolution",
    "SolveStatus",
    "asset_catchments",
    "best_combined_site",
    "best_new_sites",
    "building_candidates",
    "business_case",
    "business_case_rules",
    "council_overlap",
    "gap_points",
    "gap_population",
    "locality_of",
    "measure_categories",
    "minimal_cover",
    "needed_assets",
    "outline",
    "owner_types",
    "postcode_candidates",
    "redundant_assets",
    "register_shortfall",
    "required_assets",
    "sole_providers",
    "solve_status",
]
