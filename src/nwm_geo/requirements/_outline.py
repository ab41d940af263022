"""The outline of asset requirements, per locality: every requirements table at once.

In: the register, the demand points, the ward -> locality assignment, the earlier
stages' outputs in one :class:`OutlineInputs` (asset :class:`~nwm_geo.coverage.Cover`,
optional postcode-site cover, nearest minutes, criticality, the walk and the network
label, the register reconciliation) and a :class:`RequirementsPolicy`.
Out: :class:`RequirementsOutline`, which the report and the notebooks read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from nwm_geo import settings
from nwm_geo._display import Display
from nwm_geo._errors import NwmGeoError
from nwm_geo.requirements._business import business_case, council_overlap, needed_assets
from nwm_geo.requirements._catchments import (
    asset_catchments,
    redundant_assets,
    required_assets,
    sole_providers,
)
from nwm_geo.requirements._combined import best_combined_site
from nwm_geo.requirements._common import (
    CoverMatrix,
    RequirementsPolicy,
    as_cover,
    business_case_rules,
    checked_site_cover,
    inside_area,
    locality_of,
    measure_categories,
    resolve_policy,
)
from nwm_geo.requirements._gaps import gap_points, gap_population
from nwm_geo.requirements._lscp import CoverSolution, minimal_cover
from nwm_geo.requirements._mclp import (
    SITE_COLUMNS,
    SiteScope,
    best_new_sites,
    reusing_candidates,
)

__all__ = ["OutlineInputs", "RequirementsOutline", "outline"]


@dataclass(repr=False)
class RequirementsOutline(Display):
    """Everything the report and notebooks need, borough-wide and per locality.

    Attributes
    ----------
    localities
        Locality names, sorted.
    summary
        Indexed by (``locality``, ``measure``): ``population``, ``covered_population``,
        ``gap_population``, ``covered_share``, ``gap_share``, ``gap_points``,
        ``n_assets``, ``n_required`` (sole providers for the measure: for a bundle, any
        asset of its categories is an alternative), ``n_redundant`` (category-level),
        ``n_in_minimal_cover``. Locality ``policy.area_name`` (the area's name) is the
        whole area.
    catchments
        :func:`asset_catchments` (or the criticality table passed in).
    required, redundant
        :func:`required_assets`, :func:`redundant_assets`.
    gaps
        :func:`gap_population` by locality.
    gap_points
        :func:`gap_points`.
    minimal_covers
        ``measure -> CoverSolution``.
    needed
        :func:`needed_assets`.
    new_sites
        All :attr:`SiteSolution.table` rows, indexed by ``site_id`` (not unique across
        measures), with ``locality`` and ``measure``.
    business_case
        :func:`business_case`.
    combined_sites
        :func:`best_combined_site`: per locality, the one site that newly serves the
        most residents over all bundles.
    council_overlap
        :func:`council_overlap`: the council's own assets with overlapping coverage,
        and why rule R4 lists them or not.
    solver_status
        One row per optimisation (:meth:`SolveStatus.as_row`).
    rules
        The business-case rules as filled in.
    method
        Walking speed, minutes, network label and any notes given.
    """

    localities: list[str]
    summary: pd.DataFrame
    catchments: pd.DataFrame
    required: pd.DataFrame
    redundant: pd.DataFrame
    gaps: pd.DataFrame
    gap_points: pd.DataFrame
    minimal_covers: dict[str, CoverSolution]
    needed: pd.DataFrame
    new_sites: pd.DataFrame
    business_case: pd.DataFrame
    solver_status: pd.DataFrame
    rules: dict[str, str]
    method: dict[str, Any] = field(default_factory=dict)
    combined_sites: pd.DataFrame = field(default_factory=pd.DataFrame)
    council_overlap: pd.DataFrame = field(default_factory=pd.DataFrame)

    def for_locality(self, locality: str) -> dict[str, pd.DataFrame]:
        """Return the tables of one locality.

        Parameters
        ----------
        locality
            A name in :attr:`localities`.

        Returns
        -------
        dict
            ``summary``, ``required``, ``redundant``, ``needed``, ``gaps``,
            ``new_sites``, ``business_case``, ``combined_site``, ``council_overlap``.
        """
        if locality not in self.localities:
            raise NwmGeoError(f"unknown locality {locality!r}; expected one of {self.localities}")
        at = self.summary.index.get_level_values("locality") == locality
        summ = self.summary[at].droplevel("locality")
        needed = self.needed[self.needed["locality"] == locality]
        return {
            "summary": summ,
            "required": self.required[self.required["locality"] == locality],
            "redundant": self.redundant[self.redundant["locality"] == locality],
            "needed": needed,
            "gaps": self.gap_points[self.gap_points["locality"] == locality],
            "new_sites": self.new_sites[self.new_sites["locality"] == locality],
            "business_case": self.business_case[self.business_case["locality"] == locality],
            "combined_site": self.combined_sites[self.combined_sites.index == locality]
            if len(self.combined_sites)
            else self.combined_sites,
            "council_overlap": self.council_overlap[self.council_overlap["locality"] == locality]
            if len(self.council_overlap)
            else self.council_overlap,
        }


@dataclass(frozen=True, eq=False)
class OutlineInputs:
    """What the earlier stages made that an outline reads: one value, not eight keywords.

    Attributes
    ----------
    cover
        ``coverage_matrix(model, sources="assets")``: its threshold is the outline's.
    nearest
        ``nearest_minutes(...)``.
    network_label
        ``nwm_geo.network.network_label(G)``, e.g. "network: approximate (postcode
        proximity), not OSM"; stored in :attr:`RequirementsOutline.method`.
    site_cover
        ``coverage_matrix(model, sources="points")`` for postcode candidate sites, at
        the same threshold; without it only council assets are candidates.
    criticality
        ``asset_criticality(...)``; :func:`asset_catchments` of ``cover`` when not given.
    reconciliation
        :func:`nwm_geo.data.reconciliation`: business-case rows in a category where the
        register is short of the council's count say so.
    minutes, walk_speed_m_per_min
        The threshold the cover was computed at: checked against a
        :class:`~nwm_geo.coverage.Cover` (an error if they differ), and taken as the
        threshold of a legacy tuple cover. The settings by default.
    """

    cover: CoverMatrix
    nearest: pd.DataFrame
    network_label: str
    site_cover: CoverMatrix | None = None
    criticality: pd.DataFrame | None = None
    reconciliation: pd.DataFrame | None = None
    minutes: float | None = None
    walk_speed_m_per_min: float | None = None


def outline(
    assets: pd.DataFrame,
    points: pd.DataFrame,
    *,
    assignment: pd.Series,
    inputs: OutlineInputs,
    policy: RequirementsPolicy | None = None,
    solver: Any = None,
    method_notes: Mapping[str, Any] | None = None,
    verbose: bool = False,
    **options: Any,
) -> RequirementsOutline:
    """Assemble the outline of asset requirements, per locality.

    Parameters
    ----------
    assets
        The register (GeoDataFrame or DataFrame) indexed by ``asset_id``.
    points
        Demand points indexed by ``point_id``.
    assignment
        ``ward_code -> locality``.
    inputs
        The covers, minutes, walk, network label and reconciliation
        (:class:`OutlineInputs`).
    policy
        The policy knobs (:class:`RequirementsPolicy`): ``k``, ``sole_threshold``,
        ``measures``, ``new_site_measures``, ``bundles``, candidate and council
        categories, ``time_limit``. Its defaults when None.
    solver
        A PuLP solver for every optimisation; HiGHS with ``policy.time_limit`` by default.
    method_notes
        Extra method entries (data dates, sources, the register gap) for the report.
    verbose
        Show a progress bar over the optimisations.
    **options
        Policy fields as keywords (``k=1``, ``measures=[...]``), applied over ``policy``;
        kept for old calls. An unknown name is an error.

    Returns
    -------
    RequirementsOutline

    Raises
    ------
    NwmGeoError
        On an unknown option, or a cover at another threshold than ``inputs.minutes``.
    """
    pol = resolve_policy(policy, options)
    bundles = pol.bundle_map
    # the covers are converted (and their CSC form cached) once, not in every
    # optimisation below (site_cover is postcodes x postcodes, and best_new_sites runs
    # per measure and locality)
    cov = as_cover(
        inputs.cover, minutes=inputs.minutes, speed_m_per_min=inputs.walk_speed_m_per_min
    )
    nearest, criticality, site_cover = inputs.nearest, inputs.criticality, inputs.site_cover
    minutes, speed = cov.minutes, cov.speed_m_per_min
    if pol.measures is None:
        present = set(assets["category"])
        measures = [c for c in settings.CATEGORIES if c in present] + list(bundles)
    else:
        measures = list(pol.measures)
    new_site_measures = (
        list(bundles) if pol.new_site_measures is None else list(pol.new_site_measures)
    )
    sites = None if site_cover is None else checked_site_cover(site_cover, cov)
    crit = asset_catchments(cov, assets, points) if criticality is None else criticality
    required = required_assets(assets, crit, assignment=assignment)
    redundant = redundant_assets(assets, crit, assignment=assignment)
    near_cols = [m for m in measures if m in nearest.columns]
    gaps = gap_population(
        nearest,
        points,
        assignment=assignment,
        measures=near_cols,
        minutes=minutes,
        speed_m_per_min=speed,
    )
    borough = gap_population(
        nearest,
        points,
        assignment=assignment,
        by="borough",
        measures=near_cols,
        minutes=minutes,
        speed_m_per_min=speed,
        area_name=pol.area_name,
    ).rename_axis(["locality", "measure"])
    gpts = gap_points(
        nearest,
        points,
        assignment=assignment,
        measures=near_cols,
        minutes=minutes,
        speed_m_per_min=speed,
    )
    localities = sorted(set(assignment.dropna().astype(str)))

    covers: dict[str, CoverSolution] = {}
    statuses: list[dict[str, Any]] = []
    site_tables: list[pd.DataFrame] = []
    jobs: list[tuple[str, str | None]] = [(m, None) for m in measures]
    jobs += [(m, loc) for m in new_site_measures for loc in localities]
    # each locality's candidate buildings found once, for every bundle and the combined site
    with reusing_candidates():
        for measure, loc in tqdm(jobs, disable=not verbose, desc="optimising"):
            if loc is None:
                sol = minimal_cover(
                    cov,
                    assets,
                    points,
                    measure=measure,
                    bundles=bundles,
                    solver=solver,
                    time_limit=pol.time_limit,
                )
                covers[measure] = sol
                statuses.append(sol.status.as_row())
            else:
                # sites already suggested for this measure (in other localities) keep the
                # spacing across locality boundaries too
                earlier = [t for t in site_tables if (t["measure"] == measure).any()]
                ssol = best_new_sites(
                    cov,
                    assets,
                    points,
                    measure=measure,
                    site_cover=sites,
                    where=SiteScope(
                        assignment=assignment,
                        locality=loc,
                        avoid=pd.concat(earlier)[["lon", "lat"]] if earlier else None,
                    ),
                    policy=pol,
                    solver=solver,
                )
                statuses += [st.as_row() for st in ssol.statuses]
                if len(ssol.table):
                    site_tables.append(ssol.table)
        combined, combined_status = best_combined_site(
            cov,
            assets,
            points,
            assignment=assignment,
            site_cover=sites,
            localities=localities,
            policy=pol,
        )
    statuses += combined_status
    new_sites = (
        pd.concat(site_tables)
        if site_tables
        else pd.DataFrame(columns=list(SITE_COLUMNS)).rename_axis("site_id")
    )
    sole_ids = {
        m: set(sole_providers(cov, assets, points, measure=m, bundles=bundles)) for m in measures
    }
    needed = needed_assets(
        required, covers, assets, assignment=assignment, bundles=bundles, required_ids=sole_ids
    )
    bcase = business_case(
        required,
        redundant,
        new_sites,
        covers,
        policy=pol,
        minutes=minutes,
        reconciliation=inputs.reconciliation,
    )

    # summary per locality and measure
    asset_loc = locality_of(assets["ward_code"], assignment)
    summary = pd.concat([gaps, borough]).sort_index()
    extra = []
    whole = pol.area_name
    # the columns counted, read once as arrays (counts: the same as the Series')
    a_loc = asset_loc.to_numpy(dtype=object)
    a_inside = inside_area(assets).to_numpy(dtype=bool)
    r_loc = redundant["locality"].to_numpy(dtype=object)
    per_measure: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]] = {}
    for loc, measure in summary.index:
        if measure not in per_measure:
            cats = list(set(measure_categories(measure, bundles=bundles)))
            req_ids = sole_ids.get(measure, set(required.index[required["category"].isin(cats)]))
            per_measure[measure] = (
                assets["category"].isin(cats).to_numpy(dtype=bool) & a_inside,
                asset_loc.index.isin(list(req_ids)),
                redundant["category"].isin(cats).to_numpy(dtype=bool),
                asset_loc.reindex(covers[measure].selected).to_numpy(dtype=object)
                if measure in covers
                else None,
            )
        here, req, red, sel_loc = per_measure[measure]
        at = (a_loc == loc) | (loc == whole)
        extra.append(
            {
                "n_assets": int((here & at).sum()),
                "n_required": int((req & at).sum()),
                "n_redundant": int((red & ((r_loc == loc) | (loc == whole))).sum()),
                "n_in_minimal_cover": 0
                if sel_loc is None
                else int(((sel_loc == loc) | (loc == whole)).sum()),
            }
        )
    summary = pd.concat([summary, pd.DataFrame(extra, index=summary.index)], axis=1)
    method: dict[str, Any] = {
        "walk_speed_m_per_min": speed,
        "walk_minutes": minutes,
        "network": inputs.network_label,
        "k_new_sites": pol.k,
        "sole_threshold": pol.sole_threshold,
        "new_site_min_residents": pol.min_population,
        "new_site_spacing_m": pol.spacing_m,
    }
    if method_notes:
        method.update(method_notes)
    return RequirementsOutline(
        localities=localities,
        summary=summary,
        catchments=crit,
        required=required,
        redundant=redundant,
        gaps=gaps,
        gap_points=gpts,
        minimal_covers=covers,
        needed=needed,
        new_sites=new_sites,
        business_case=bcase,
        solver_status=pd.DataFrame(statuses),
        rules=business_case_rules(minutes=minutes, policy=pol),
        method=method,
        combined_sites=combined,
        council_overlap=council_overlap(redundant, covers, policy=pol),
    )
