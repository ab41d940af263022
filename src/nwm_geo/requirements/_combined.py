"""One combined option per locality: the single site that best serves all bundles.

In: the asset cover, optionally the postcode-site cover, the register, the demand
points, the ward -> locality assignment and a :class:`RequirementsPolicy`. Out: one row
per locality (:data:`COMBINED_COLUMNS`) and a status row per locality.

For each candidate, the residents it would newly bring within the walk are counted
bundle by bundle (a resident beyond the walk for two bundles counts twice) and summed;
the best candidate is found by enumerating every candidate, which is exact. Real
buildings come first (the same candidates as :func:`best_new_sites`); a postcode is
offered, labelled as a fallback, only when no building adds the minimum number of
residents.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from nwm_geo.requirements._common import (
    CoverMatrix,
    RequirementsPolicy,
    as_cover,
    asset_columns,
    checked_site_cover,
    locality_of,
    measure_categories,
    population_of,
    resolve_policy,
)
from nwm_geo.requirements._mclp import building_candidates, postcode_candidates
from nwm_geo.requirements._status import SolveStatus

__all__ = ["COMBINED_COLUMNS", "best_combined_site"]

#: Columns of :func:`best_combined_site` (one ``residents: <bundle>`` column per bundle
#: follows ``residents_newly_within``).
COMBINED_COLUMNS: tuple[str, ...] = (
    "site_type",
    "name",
    "address",
    "category",
    "owner_type",
    "ward_code",
    "lon",
    "lat",
    "bundles_served",
    "residents_newly_within",
    "source_id",
)


def _scores(
    matrix: Any, gaps: Sequence[tuple[np.ndarray, np.ndarray]], cols: np.ndarray
) -> np.ndarray:
    """Residents newly within the walk, per bundle (rows) and candidate (columns)."""
    out = np.zeros((len(gaps), len(cols)))
    if len(cols) == 0:
        return out
    for b, (rows, w) in enumerate(gaps):
        if len(rows):
            out[b] = np.asarray(matrix[rows][:, cols].T @ w).ravel()
    return out


def best_combined_site(
    cover: CoverMatrix,
    assets: pd.DataFrame,
    points: pd.DataFrame,
    *,
    assignment: pd.Series,
    site_cover: CoverMatrix | None = None,
    localities: Sequence[str] | None = None,
    policy: RequirementsPolicy | None = None,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Return, per locality, the one site that newly serves the most residents over all bundles.

    Parameters
    ----------
    cover
        ``coverage_matrix(model, sources="assets")``.
    assets
        The register.
    points
        Demand points with ``population``, ``ward_code``, ``lon``, ``lat``.
    assignment
        ``ward_code -> locality``.
    site_cover
        ``coverage_matrix(model, sources="points")`` for postcode fallback sites.
    localities
        Localities to solve; all of ``assignment`` by default.
    policy
        ``bundles``, ``candidate_categories`` and ``min_site_population``
        (:class:`RequirementsPolicy`).

    Returns
    -------
    tuple of (pandas.DataFrame, list of dict)
        The sites, indexed by ``locality`` (:data:`COMBINED_COLUMNS`, then one
        ``residents: <bundle>`` column per bundle); a locality where no site adds the
        minimum is absent. And one solver-status row per locality (exhaustive
        enumeration, so proven optimal).
    """
    pol = resolve_policy(policy, {})
    bundles = pol.bundle_map
    cov = as_cover(cover)
    m, pop = cov.csc, population_of(points, cov.point_index)
    sc = None if site_cover is None else checked_site_cover(site_cover, cov)
    point_loc = locality_of(points["ward_code"].reindex(cov.point_index), assignment).to_numpy()
    names = list(bundles)
    covered = {}
    for b in names:
        cols, _ = asset_columns(assets, cov.source_index, measure_categories(b, bundles=bundles))
        covered[b] = np.asarray(m[:, cols].sum(axis=1)).ravel() > 0
    locs = sorted(set(assignment.dropna().astype(str))) if localities is None else list(localities)
    rows: list[dict[str, Any]] = []
    statuses: list[dict[str, Any]] = []
    for loc in locs:
        gaps = []
        for b in names:
            r = np.flatnonzero((~covered[b]) & (pop > 0) & (point_loc == loc))
            gaps.append((r, pop[r]))
        b_cols, b_meta = building_candidates(
            assets,
            cov.source_index,
            categories=pol.candidate_categories,
            assignment=assignment,
            locality=loc,
            points=points,
        )
        blocks = [(m, b_cols, b_meta)]
        if sc is not None:
            p_cols, p_meta = postcode_candidates(
                points, sc.source_index, assignment=assignment, locality=loc
            )
            blocks.append((sc.csc, p_cols, p_meta))
        n_cand, chosen = 0, None
        for matrix, cols, meta in blocks:  # buildings first, then the postcode fallback
            score = _scores(matrix, gaps, cols)
            n_cand += len(cols)
            if len(cols) == 0:
                continue
            total = score.sum(axis=0)
            j = int(np.argmax(total))
            if total[j] >= pol.min_population and total[j] > 0:
                chosen = (meta[j], score[:, j], float(total[j]))
                break
        objective = 0.0 if chosen is None else chosen[2]
        statuses.append(
            SolveStatus(
                "single site for all bundles",
                "all bundles",
                loc,
                "proven optimal",
                True,
                f"exhaustive enumeration of {n_cand} candidates",
                0.0,
                objective,
                objective,
                "enumeration",
            ).as_row()
        )
        if chosen is None:
            continue
        rec, by_bundle, total_new = chosen
        row = {k: rec.get(k) for k in COMBINED_COLUMNS if k in rec}
        row["locality"] = loc
        row["bundles_served"] = int((by_bundle > 0).sum())
        row["residents_newly_within"] = total_new
        for b, v in zip(names, by_bundle, strict=True):
            row[f"residents: {b}"] = float(v)
        rows.append(row)
    cols_out = [*COMBINED_COLUMNS, *(f"residents: {b}" for b in names)]
    table = pd.DataFrame(rows, columns=["locality", *cols_out]).set_index("locality")
    return table, statuses
