"""The minimal cover: the fewest existing assets that keep today's coverage (LSCP).

In: a cover (``nwm_geo.coverage.coverage_matrix(model, sources="assets")``), the
register and the demand points. Out: :class:`CoverSolution`, solved exactly with
HiGHS (the caller may pass another PuLP solver) and its proof checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pulp

from nwm_geo.requirements._common import (
    CoverMatrix,
    as_cover,
    asset_columns,
    inside_area,
    measure_categories,
    population_of,
    safe_name,
)
from nwm_geo.requirements._status import SolveStatus, solve_checked

__all__ = ["CoverSolution", "minimal_cover"]


@dataclass(frozen=True)
class CoverSolution:
    """The smallest set of existing assets that keeps today's coverage.

    Attributes
    ----------
    measure
        Category or bundle.
    table
        Indexed by ``asset_id`` (every asset of the measure): ``category``, ``name``,
        ``selected`` (in the minimal set), ``covered_population``.
    selected
        The chosen ``asset_id``s.
    n_assets_today
        Assets of the measure today.
    points_kept, population_kept
        Residential points (and residents) covered today, all of them kept covered.
    status
        The checked solver status.
    """

    measure: str
    table: pd.DataFrame
    selected: pd.Index
    n_assets_today: int
    points_kept: int
    population_kept: float
    status: SolveStatus


def minimal_cover(
    cover: CoverMatrix,
    assets: pd.DataFrame,
    points: pd.DataFrame,
    *,
    measure: str,
    bundles: Mapping[str, Sequence[str]] | None = None,
    solver: Any = None,
    time_limit: float | None = 300.0,
) -> CoverSolution:
    """Smallest set of today's assets that keeps every covered resident covered (LSCP).

    Every residential point (population > 0) covered today by an asset of the measure
    must stay covered by a chosen asset. Sites outside the area (``inside_area`` False)
    stay open whatever the council decides: they are never chosen, and the residents
    they cover need no council site. Minimise the number of assets. Solved exactly
    with HiGHS; the proof is checked by :func:`nwm_geo._solver.solve`. Optimal sets are often
    not unique: the required assets are in every one, the rest is one optimal choice.

    Parameters
    ----------
    cover
        ``coverage_matrix(model, sources="assets")``.
    assets
        The register, indexed by ``asset_id``.
    points
        Demand points with ``population``.
    measure
        A category or a bundle (any asset of its categories counts).
    bundles
        ``settings.BUNDLES`` by default.
    solver
        A PuLP solver; ``pulp.HiGHS(msg=False, gapRel=0, timeLimit=time_limit)`` by default.
    time_limit
        Seconds, for the default solver.

    Returns
    -------
    CoverSolution

    Raises
    ------
    SolverError
        If the solver fails or returns no solution.
    """
    cov = as_cover(cover)
    m, pop = cov.csc, population_of(points, cov.point_index)
    cats = measure_categories(measure, bundles=bundles)
    cols, ids = asset_columns(assets, cov.source_index, cats)
    everyone = m[:, cols].tocsr()
    counts = np.asarray(everyone.sum(axis=1)).ravel()
    covered_rows = np.flatnonzero((counts > 0) & (pop > 0))
    # sites outside the area stay open whatever the council decides: the residents they
    # cover need no site of the council's, and they are never in the minimal set
    inside = inside_area(assets).reindex(ids, fill_value=True).to_numpy()
    by_outside = np.asarray(everyone[:, ~inside].sum(axis=1)).ravel() > 0
    cols, ids = cols[inside], ids[inside]
    sub = m[:, cols].tocsr()
    rows = covered_rows[~by_outside[covered_rows]]
    covered_pop = np.asarray(sub.T.astype(np.float64) @ pop).ravel()
    table = pd.DataFrame(
        {
            "category": assets.loc[ids, "category"].to_numpy(),
            "name": assets.loc[ids, "name"].to_numpy(),
            "selected": False,
            "covered_population": covered_pop,
        },
        index=ids,
    )
    table.index.name = "asset_id"
    if len(rows) == 0:
        status = SolveStatus(
            "minimal cover (LSCP)",
            measure,
            "borough",
            "trivial (nothing to solve)",
            True,
            "no covered residents",
            0.0,
            0.0,
            0.0,
            "none",
        )
        return CoverSolution(
            measure, table, pd.Index([], name="asset_id"), len(ids), 0, 0.0, status
        )
    # identical covering sets give identical constraints: keep one of each
    patterns: dict[tuple[int, ...], None] = {}
    for r in rows:
        patterns[tuple(sub.indices[sub.indptr[r] : sub.indptr[r + 1]])] = None
    prob = pulp.LpProblem(f"lscp_{safe_name(measure)}", pulp.LpMinimize)
    x = [pulp.LpVariable(f"x_{j}", cat="Binary") for j in range(len(ids))]
    prob += pulp.lpSum(x)
    for n, pat in enumerate(patterns):
        # the terms as lpSum would add them (coefficient 1, in this order), built at once
        prob += pulp.LpAffineExpression([(x[j], 1) for j in pat]) >= 1, f"keep_{n}"
    status = solve_checked(
        prob,
        solver=solver,
        time_limit=time_limit,
        problem="minimal cover (LSCP)",
        measure=measure,
        integral_objective=True,
    )
    chosen = np.array([(v.varValue or 0.0) > 0.5 for v in x], dtype=bool)
    table["selected"] = chosen
    return CoverSolution(
        measure,
        table,
        pd.Index(ids[chosen], name="asset_id"),
        len(ids),
        len(covered_rows),
        float(pop[covered_rows].sum()),
        status,
    )
