"""The best new sites: the ``k`` sites that newly cover the most residents (MCLP).

In: the asset cover, optionally the postcode-site cover
(``coverage_matrix(model, sources="points")``), the register, the demand points and
a :class:`RequirementsPolicy`. Out: :class:`SiteSolution` (sites in order of
marginal gain), solved exactly with HiGHS and its proof checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pulp
from scipy import sparse

from nwm_geo._errors import NwmGeoError
from nwm_geo.requirements._common import (
    CoverMatrix,
    RequirementsPolicy,
    _as_cover,
    _asset_columns,
    _policy,
    _population,
    _safe,
    _site_cover,
    locality_of,
    measure_categories,
)
from nwm_geo.requirements._status import SolveStatus, solve_checked

__all__ = ["SITE_COLUMNS", "SiteSolution", "best_new_sites"]

#: Columns of :attr:`SiteSolution.table`.
SITE_COLUMNS: tuple[str, ...] = (
    "site_type",
    "source_id",
    "name",
    "category",
    "ward_code",
    "locality",
    "lon",
    "lat",
    "gap_population_within",
    "marginal_population",
    "measure",
)


@dataclass(frozen=True)
class SiteSolution:
    """The best ``k`` new sites for a measure.

    Attributes
    ----------
    measure, scope
        Category or bundle; ``"borough"`` or a locality.
    table
        Indexed by ``site_id`` (``"asset:<asset_id>"`` or ``"postcode:<point_id>"``), in
        order of marginal gain: ``site_type`` (``"council asset"`` or ``"postcode"``),
        ``source_id``, ``name``, ``category``, ``ward_code``, ``locality``, ``lon``,
        ``lat``, ``gap_population_within`` (gap residents within the walk of this site
        alone), ``marginal_population`` (newly covered, in this order), ``measure``.
    gap_population
        Residents beyond the walk today (in scope).
    newly_covered
        Residents newly covered by all chosen sites together.
    status
        The checked solver status.
    """

    measure: str
    scope: str
    table: pd.DataFrame
    gap_population: float
    newly_covered: float
    status: SolveStatus


def best_new_sites(  # noqa: PLR0913
    cover: CoverMatrix,
    assets: pd.DataFrame,
    points: pd.DataFrame,
    *,
    measure: str,
    site_cover: CoverMatrix | None = None,
    assignment: pd.Series | None = None,
    locality: str | None = None,
    policy: RequirementsPolicy | None = None,
    solver: Any = None,
    **options: Any,
) -> SiteSolution:
    """Return the ``k`` new sites that newly cover the most residents (MCLP).

    The gap is every residential point not covered today by an asset of the measure
    (from ``cover``). Candidates are council assets of ``policy.candidate_categories`` that
    could host the service (columns of ``cover``) and, when ``site_cover`` is given,
    postcode locations (``coverage_matrix(model, sources="points")``). Maximise the gap
    population within the walk of at least one chosen site, with at most ``k`` sites.
    Solved exactly with HiGHS; the proof is checked by :func:`nwm_geo._solver.solve`.

    Parameters
    ----------
    cover
        ``coverage_matrix(model, sources="assets")``.
    assets
        The register, indexed by ``asset_id``.
    points
        Demand points with ``population`` (and ``ward_code``, ``lon``, ``lat``).
    measure
        A category or bundle.
    site_cover
        ``coverage_matrix(model, sources="points")``: postcode candidate sites.
    assignment
        ``ward_code -> locality``; needed with ``locality``.
    locality
        Restrict gap points and candidate sites to this locality.
    policy
        ``k`` (sites, at most), ``candidate_categories``, ``bundles`` and ``time_limit``
        (:class:`RequirementsPolicy`; its defaults when None).
    solver
        A PuLP solver; HiGHS with ``policy.time_limit`` by default.
    **options
        Policy fields as keywords (``k=1``), applied over ``policy``; kept for old calls.

    Returns
    -------
    SiteSolution

    Raises
    ------
    SolverError
        If the solver fails or returns no solution.
    NwmGeoError
        On inconsistent inputs.
    """
    pol = _policy(policy, options)
    k, bundles, time_limit = pol.k, pol.bundles, pol.time_limit
    if locality is not None and assignment is None:
        raise NwmGeoError("locality= needs assignment=")
    cov = _as_cover(cover)
    m, point_index, source_index = cov.csc, cov.point_index, cov.source_index
    pop = _population(points, point_index)
    cats = measure_categories(measure, bundles=bundles)
    cols, _ = _asset_columns(assets, source_index, cats)
    covered_today = np.asarray(m[:, cols].sum(axis=1)).ravel() > 0
    in_scope = np.ones(len(point_index), dtype=bool)
    scope = "borough"
    if locality is not None and assignment is not None:
        scope = locality
        pl = locality_of(points["ward_code"].reindex(point_index), assignment)
        in_scope = (pl == locality).to_numpy()
    gap = (~covered_today) & (pop > 0) & in_scope
    gap_rows = np.flatnonzero(gap)
    gap_pop = float(pop[gap_rows].sum())

    # candidate columns: council assets, then postcodes
    cand_cols, cand_ids = _asset_columns(assets, source_index, pol.candidate_categories)
    if locality is not None and assignment is not None and len(cand_ids):
        al = locality_of(assets.loc[cand_ids, "ward_code"], assignment)
        keep = (al == locality).to_numpy()
        cand_cols, cand_ids = cand_cols[keep], cand_ids[keep]
    blocks = [m[gap_rows][:, cand_cols].tocsc()]
    meta: list[dict[str, Any]] = []
    for aid in cand_ids:
        a = assets.loc[aid]
        meta.append(
            {
                "site_id": f"asset:{aid}",
                "site_type": "council asset",
                "source_id": str(aid),
                "name": a.get("name"),
                "category": a.get("category"),
                "ward_code": a.get("ward_code"),
                "lon": a.get("lon"),
                "lat": a.get("lat"),
            }
        )
    if site_cover is not None:
        sc = _site_cover(site_cover, cov)
        sm, s_sources = sc.csc, sc.source_index
        site_ok = np.ones(len(s_sources), dtype=bool)
        if locality is not None and assignment is not None:
            sl = locality_of(points["ward_code"].reindex(s_sources), assignment)
            site_ok = (sl == locality).to_numpy()
        s_cols = np.flatnonzero(site_ok)
        blocks.append(sm[gap_rows][:, s_cols].tocsc())
        for pid in s_sources[s_cols]:
            p = points.loc[pid] if pid in points.index else pd.Series(dtype=object)
            meta.append(
                {
                    "site_id": f"postcode:{pid}",
                    "site_type": "postcode",
                    "source_id": str(pid),
                    "name": str(pid),
                    "category": None,
                    "ward_code": p.get("ward_code"),
                    "lon": p.get("lon"),
                    "lat": p.get("lat"),
                }
            )
    a_mat = sparse.hstack(blocks, format="csc") if blocks else sparse.csc_matrix((len(gap_rows), 0))
    w = pop[gap_rows]
    # drop candidates that reach no gap point, and gap points no candidate reaches
    useful = np.flatnonzero(np.asarray(a_mat.sum(axis=0)).ravel() > 0)
    a_mat = a_mat[:, useful].tocsr()
    reach = np.flatnonzero(np.asarray(a_mat.sum(axis=1)).ravel() > 0)
    empty_cols = [*SITE_COLUMNS]
    if k == 0 or len(useful) == 0 or len(reach) == 0:
        status = SolveStatus(
            "new sites (MCLP)",
            measure,
            scope,
            "trivial (nothing to solve)",
            True,
            "no candidate reaches the gap",
            0.0,
            0.0,
            0.0,
            "none",
        )
        table = pd.DataFrame(columns=empty_cols)
        table.index.name = "site_id"
        return SiteSolution(measure, scope, table, gap_pop, 0.0, status)
    integral = bool(np.all(np.isclose(w, np.round(w))))
    prob = pulp.LpProblem(f"mclp_{_safe(measure)}", pulp.LpMaximize)
    x = [pulp.LpVariable(f"x_{j}", cat="Binary") for j in range(len(useful))]
    y = {i: pulp.LpVariable(f"y_{i}", lowBound=0, upBound=1) for i in reach}
    prob += pulp.lpSum(float(w[i]) * y[i] for i in reach)
    prob += pulp.lpSum(x) <= k, "k_sites"
    for i in reach:
        js = a_mat.indices[a_mat.indptr[i] : a_mat.indptr[i + 1]]
        prob += y[i] <= pulp.lpSum(x[j] for j in js), f"cover_{i}"
    status = solve_checked(
        prob,
        solver=solver,
        time_limit=time_limit,
        problem="new sites (MCLP)",
        measure=measure,
        scope=scope,
        integral_objective=integral,
    )
    chosen = [j for j in range(len(useful)) if (x[j].varValue or 0.0) > 0.5]
    a_csc = a_mat.tocsc()
    # order by marginal gain (greedy order over the chosen set)
    remaining = list(chosen)
    covered = np.zeros(a_mat.shape[0], dtype=bool)
    rows_out = []
    while remaining:
        gains = []
        for j in remaining:
            r = a_csc.indices[a_csc.indptr[j] : a_csc.indptr[j + 1]]
            gains.append(float(w[r][~covered[r]].sum()))
        best = int(np.argmax(gains))
        j = remaining.pop(best)
        r = a_csc.indices[a_csc.indptr[j] : a_csc.indptr[j + 1]]
        rec = dict(meta[int(useful[j])])
        rec["gap_population_within"] = float(w[r].sum())
        rec["marginal_population"] = gains[best]
        covered[r] = True
        rows_out.append(rec)
    table = pd.DataFrame(rows_out).set_index("site_id")
    if assignment is not None:
        table["locality"] = locality_of(table["ward_code"], assignment)
    else:
        table["locality"] = pd.NA
    table["measure"] = measure
    table = table[[c for c in empty_cols if c in table.columns]]
    newly = float(w[covered].sum())
    return SiteSolution(measure, scope, table, gap_pop, newly, status)
