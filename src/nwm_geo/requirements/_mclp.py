"""The best new sites: the ``k`` sites that newly cover the most residents (MCLP).

In: the asset cover, optionally the postcode-site cover
(``coverage_matrix(model, sources="points")``), the register, the demand points and
a :class:`RequirementsPolicy`. Out: :class:`SiteSolution` (sites in order of
marginal gain), solved exactly with HiGHS and its proof checked.

Real buildings come first: the MCLP is solved over the register's buildings that could
host a service (``policy.candidate_categories``); only the residents none of the chosen
buildings reaches are then offered to bare postcodes, labelled as a fallback. A site
that adds fewer than ``policy.min_site_population`` residents is not suggested, and no
two suggestions lie closer than ``policy.site_spacing_m`` (pairwise constraints added
to the model until the optimum respects them, so the optimum stays exact).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pulp
from scipy import sparse

from nwm_geo import settings
from nwm_geo._errors import NwmGeoError
from nwm_geo.requirements._common import (
    CoverMatrix,
    RequirementsPolicy,
    as_cover,
    asset_columns,
    checked_site_cover,
    inside_area,
    locality_of,
    measure_categories,
    population_of,
    resolve_policy,
    safe_name,
)
from nwm_geo.requirements._status import SolveStatus, solve_checked

__all__ = [
    "BUILDING",
    "POSTCODE",
    "SITE_COLUMNS",
    "SiteScope",
    "SiteSolution",
    "best_new_sites",
    "building_candidates",
    "postcode_candidates",
    "reusing_candidates",
]

#: Columns of :attr:`SiteSolution.table` (names before ids).
SITE_COLUMNS: tuple[str, ...] = (
    "site_type",
    "name",
    "address",
    "category",
    "owner_type",
    "ward_code",
    "locality",
    "lon",
    "lat",
    "gap_population_within",
    "marginal_population",
    "measure",
    "source_id",
)

#: ``site_type`` of a building from the register, and of a bare postcode.
BUILDING, POSTCODE = "existing building", "postcode (fallback)"

#: Metres per degree of latitude (WGS84, mid-latitudes); longitude scales by cos(lat).
_M_PER_DEG = 111_320.0


@dataclass(frozen=True)
class SiteSolution:
    """The best ``k`` new sites for a measure.

    Attributes
    ----------
    measure, scope
        Category or bundle; ``"borough"`` or a locality.
    table
        Indexed by ``site_id`` (``"asset:<asset_id>"`` or ``"postcode:<point_id>"``), in
        order of marginal gain, buildings first: ``site_type`` (:data:`BUILDING` or
        :data:`POSTCODE`), ``name``, ``address`` (a postcode's says it is a fallback),
        ``category``, ``owner_type``, ``ward_code``, ``locality``, ``lon``, ``lat``,
        ``gap_population_within`` (gap residents within the walk of this site alone),
        ``marginal_population`` (newly covered, in this order; at least
        ``min_site_population``), ``measure``, ``source_id``.
    gap_population
        Residents beyond the walk today (in scope).
    newly_covered
        Residents newly covered by all chosen sites together.
    status
        The checked solver status of the buildings' MCLP.
    fallback_status
        The checked status of the postcode fallback's MCLP (None when not solved).
    """

    measure: str
    scope: str
    table: pd.DataFrame
    gap_population: float
    newly_covered: float
    status: SolveStatus
    fallback_status: SolveStatus | None = None

    @property
    def statuses(self) -> tuple[SolveStatus, ...]:
        """Every solve behind the table (buildings, then the postcode fallback)."""
        return (
            (self.status,) if self.fallback_status is None else (self.status, self.fallback_status)
        )


@dataclass
class _Block:
    """Candidate sites: gap rows x candidates, their rows of metadata and positions (m)."""

    matrix: sparse.csc_matrix
    meta: list[dict[str, Any]]
    xy: np.ndarray


def _xy(lon: Any, lat: Any) -> np.ndarray:
    """Return lon/lat as local metres (equirectangular; a few hundred metres' rule)."""
    lon_a = np.asarray(pd.to_numeric(pd.Series(lon), errors="coerce"), dtype=float)
    lat_a = np.asarray(pd.to_numeric(pd.Series(lat), errors="coerce"), dtype=float)
    return np.column_stack([lon_a * _M_PER_DEG * np.cos(np.radians(51.5)), lat_a * _M_PER_DEG])


def _far_from(xy: np.ndarray, avoid: np.ndarray, spacing: float) -> np.ndarray:
    """Rows of ``xy`` at least ``spacing`` metres from every row of ``avoid`` (NaN: kept)."""
    keep = np.ones(len(xy), dtype=bool)
    if spacing <= 0 or len(avoid) == 0 or len(xy) == 0:
        return keep
    d = np.hypot(xy[:, None, 0] - avoid[None, :, 0], xy[:, None, 1] - avoid[None, :, 1])
    close = np.nan_to_num(d, nan=np.inf) < spacing
    out: np.ndarray = ~close.any(axis=1)
    return out


#: Inside :func:`reusing_candidates`: each :func:`building_candidates` result, by the
#: identity of its inputs, held with them.
_Found = tuple[np.ndarray, list[dict[str, Any]]]
_CANDIDATES: ContextVar[dict[tuple[Any, ...], tuple[tuple[Any, ...], _Found]] | None] = ContextVar(
    "nwm_geo_building_candidates", default=None
)


@contextmanager
def reusing_candidates() -> Iterator[None]:
    """Find each locality's candidate buildings once inside the block.

    For a caller that searches the same register, cover, plan and points for many
    measures (the outline: every bundle in every locality): :func:`building_candidates`
    then returns what it found for the same inputs (the very objects) earlier in the
    block. The inputs must not change inside it; the results must not be changed.
    """
    token = _CANDIDATES.set({})
    try:
        yield
    finally:
        _CANDIDATES.reset(token)


#: The register columns a candidate building's metadata reads.
_META_COLUMNS = (
    "category", "name", "address", "postcode", "owner_type", "ward_code", "ward_name", "lon",
    "lat",
)  # fmt: skip


def building_candidates(
    assets: pd.DataFrame,
    source_index: pd.Index,
    *,
    categories: tuple[str, ...],
    assignment: pd.Series | None = None,
    locality: str | None = None,
    points: pd.DataFrame | None = None,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Return the cover columns and metadata of the register's candidate buildings.

    Parameters
    ----------
    assets
        The register.
    source_index
        The asset cover's columns.
    categories
        Categories whose buildings could host a service.
    assignment, locality
        Restrict to the buildings of one locality.
    points
        Demand points indexed by postcode (``lon``, ``lat``): a building with no
        address in the register gets its ward and nearest residential postcode,
        labelled as such.
    """
    memo = _CANDIDATES.get()
    inputs = (assets, source_index, assignment, points)
    key = (tuple(map(id, inputs)), tuple(categories), locality)
    if memo is not None:
        hit = memo.get(key)
        if hit is not None and all(a is b for a, b in zip(hit[0], inputs, strict=True)):
            return hit[1]
    found = _building_candidates(
        assets,
        source_index,
        categories=categories,
        assignment=assignment,
        locality=locality,
        points=points,
    )
    if memo is not None:  # held with its inputs, so that their ids are not reused meanwhile
        memo[key] = (inputs, found)
    return found


def _building_candidates(
    assets: pd.DataFrame,
    source_index: pd.Index,
    *,
    categories: tuple[str, ...],
    assignment: pd.Series | None,
    locality: str | None,
    points: pd.DataFrame | None,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    cols, ids = asset_columns(assets, source_index, categories)
    council = inside_area(assets).reindex(ids, fill_value=True).to_numpy()
    cols, ids = cols[council], ids[council]  # a site outside the area is not the council's
    if locality is not None and assignment is not None and len(ids):
        keep = (locality_of(assets.loc[ids, "ward_code"], assignment) == locality).to_numpy()
        cols, ids = cols[keep], ids[keep]
    meta = []
    # the columns read, once, as records (not a row of the whole register per building)
    wanted = [c for c in _META_COLUMNS if c in assets.columns]
    sub = assets.loc[ids, wanted]
    near = _nearest_postcodes(sub[[c for c in ("lon", "lat") if c in wanted]], points)
    records = sub.to_dict("records") if len(ids) else []
    for aid, pc, a in zip(ids, near, records, strict=True):
        cat = a.get("category")
        address = ", ".join(
            str(x) for x in (a.get("address"), a.get("postcode")) if isinstance(x, str) and x
        )
        if not address and pc:
            ward = a.get("ward_name")
            in_ward = f"{ward}, " if isinstance(ward, str) and ward else ""
            address = f"no street address in the open data; {in_ward}nearest postcode {pc}"
        meta.append(
            {
                "site_id": f"asset:{aid}",
                "site_type": BUILDING,
                "source_id": str(aid),
                "name": a.get("name"),
                "address": address,
                "category": cat,
                "owner_type": a.get("owner_type") or settings.CATEGORY_OWNERS.get(str(cat), ""),
                "ward_code": a.get("ward_code"),
                "lon": a.get("lon"),
                "lat": a.get("lat"),
            }
        )
    return np.asarray(cols, dtype=int), meta


def _nearest_postcodes(sites: pd.DataFrame, points: pd.DataFrame | None) -> list[str]:
    """Return the id (postcode) of the demand point nearest each site ("" without points)."""
    from scipy.spatial import cKDTree  # on first use: importing the package does not load it

    if points is None or len(points) == 0 or len(sites) == 0 or "lon" not in sites:
        return [""] * len(sites)
    pts = _xy(points["lon"], points["lat"])
    ok = np.isfinite(pts).all(axis=1)
    if not ok.any():
        return [""] * len(sites)
    tree = cKDTree(pts[ok])
    ids = np.asarray(points.index)[ok]
    xy = _xy(sites["lon"], sites["lat"])
    good = np.isfinite(xy).all(axis=1)
    out = [""] * len(xy)
    if good.any():  # one query for every site with a position
        found = tree.query(xy[good])[1]
        for i, j in zip(np.flatnonzero(good), found, strict=True):
            out[int(i)] = str(ids[int(j)])
    return out


def postcode_candidates(
    points: pd.DataFrame,
    source_index: pd.Index,
    *,
    assignment: pd.Series | None = None,
    locality: str | None = None,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Return the site-cover columns and metadata of postcode fallback sites.

    Parameters
    ----------
    points
        Demand points (``ward_code``, ``lon``, ``lat``), indexed by postcode.
    source_index
        The postcode-site cover's columns.
    assignment, locality
        Restrict to the postcodes of one locality.
    """
    ok = np.ones(len(source_index), dtype=bool)
    where = points.reindex(source_index)
    if locality is not None and assignment is not None:
        ok = (locality_of(where["ward_code"], assignment) == locality).to_numpy()
    cols = np.flatnonzero(ok)
    # one array per column, read by position (``.at`` per postcode was most of the time)
    ward = where["ward_code"].to_numpy()[cols] if "ward_code" in where else [None] * len(cols)
    lon = where["lon"].to_numpy()[cols] if "lon" in where else np.full(len(cols), np.nan)
    lat = where["lat"].to_numpy()[cols] if "lat" in where else np.full(len(cols), np.nan)
    meta = [
        {
            "site_id": f"postcode:{pid}",
            "site_type": POSTCODE,
            "source_id": str(pid),
            "name": f"near postcode {pid}",
            "address": (
                f"postcode fallback: no building in the register reaches these residents; "
                f"look for a site near {pid}"
            ),
            "category": None,
            "owner_type": "",
            "ward_code": ward[i],
            "lon": lon[i],
            "lat": lat[i],
        }
        for i, pid in enumerate(source_index[cols])
    ]
    return cols, meta


def _block(matrix: Any, rows: np.ndarray, cols: np.ndarray, meta: list[dict[str, Any]]) -> _Block:
    sub = matrix[rows][:, cols].tocsc() if len(cols) else sparse.csc_matrix((len(rows), 0))
    xy = _xy([m["lon"] for m in meta], [m["lat"] for m in meta]) if meta else np.zeros((0, 2))
    return _Block(sub, meta, xy)


def _trivial(measure: str, scope: str, problem: str, why: str) -> SolveStatus:
    return SolveStatus(
        problem, measure, scope, "trivial (nothing to solve)", True, why, 0.0, 0.0, 0.0, "none"
    )


def _choose(
    block: _Block,
    w: np.ndarray,
    *,
    k: int,
    pol: RequirementsPolicy,
    problem: str,
    measure: str,
    scope: str,
    solver: Any,
) -> tuple[list[dict[str, Any]], np.ndarray, SolveStatus]:
    """Solve one MCLP over ``block``; return the kept sites, the rows they cover, the status.

    Sites closer than the spacing get pairwise constraints until the optimum respects
    them; sites adding fewer than the minimum residents (in greedy order) are dropped.
    """
    a_mat = block.matrix
    covered = np.zeros(a_mat.shape[0], dtype=bool)
    useful: np.ndarray = np.zeros(0, dtype=int)
    if a_mat.shape[1]:
        useful = np.flatnonzero(np.asarray(a_mat.sum(axis=0)).ravel() > 0)
    if k == 0 or len(useful) == 0:
        return [], covered, _trivial(measure, scope, problem, "no candidate reaches the gap")
    a_u = a_mat[:, useful].tocsr()
    reach = np.flatnonzero(np.asarray(a_u.sum(axis=1)).ravel() > 0)
    integral = bool(np.all(np.isclose(w, np.round(w))))
    prob = pulp.LpProblem(f"mclp_{safe_name(measure)}", pulp.LpMaximize)
    x = [pulp.LpVariable(f"x_{j}", cat="Binary") for j in range(len(useful))]
    y = {i: pulp.LpVariable(f"y_{i}", lowBound=0, upBound=1) for i in reach}
    # expressions built at once with the terms lpSum would add (a zero weight adds none)
    prob += pulp.LpAffineExpression([(y[i], c) for i in reach if (c := float(w[i])) != 0])
    prob += pulp.lpSum(x) <= k, "k_sites"
    for i in reach:
        js = a_u.indices[a_u.indptr[i] : a_u.indptr[i + 1]]
        prob += y[i] <= pulp.LpAffineExpression([(x[j], 1) for j in js]), f"cover_{i}"
    spacing = float(pol.spacing_m)
    xy = block.xy[useful]
    added: set[tuple[int, int]] = set()
    while True:
        status = solve_checked(
            prob,
            solver=solver,
            time_limit=pol.time_limit,
            problem=problem,
            measure=measure,
            scope=scope,
            integral_objective=integral,
        )
        chosen = [j for j in range(len(useful)) if (x[j].varValue or 0.0) > 0.5]
        close = [
            (a, b)
            for a, b in itertools.combinations(chosen, 2)
            if np.hypot(*(xy[a] - xy[b])) < spacing and (a, b) not in added
        ]
        if not close:
            break
        for a, b in close:  # sites too close: not both (exact: re-solved with the cut)
            added.add((a, b))
            prob += x[a] + x[b] <= 1, f"spacing_{a}_{b}"
    a_csc = a_u.tocsc()
    rows_out: list[dict[str, Any]] = []
    remaining = list(chosen)
    while remaining:
        gains = []
        for j in remaining:
            r = a_csc.indices[a_csc.indptr[j] : a_csc.indptr[j + 1]]
            gains.append(float(w[r][~covered[r]].sum()))
        best = int(np.argmax(gains))
        if gains[best] < pol.min_population or gains[best] <= 0:
            break  # every later site adds no more than this one: none is a suggestion
        j = remaining.pop(best)
        r = a_csc.indices[a_csc.indptr[j] : a_csc.indptr[j + 1]]
        rec = dict(block.meta[int(useful[j])])
        rec["gap_population_within"] = float(w[r].sum())
        rec["marginal_population"] = gains[best]
        covered[r] = True
        rows_out.append(rec)
    return rows_out, covered, status


@dataclass(frozen=True)
class SiteScope:
    """Where :func:`best_new_sites` looks: the plan, one locality, the sites to keep clear of.

    Parameters
    ----------
    assignment
        ``ward_code -> locality``: labels each site's locality; needed with ``locality``.
    locality
        Restrict gap points and candidate sites to this locality.
    avoid
        Sites already suggested for this measure (``lon``, ``lat``), e.g. in a
        neighbouring locality: no candidate within the spacing of one is chosen.
    """

    assignment: pd.Series | None = None
    locality: str | None = None
    avoid: pd.DataFrame | None = None


def best_new_sites(
    cover: CoverMatrix,
    assets: pd.DataFrame,
    points: pd.DataFrame,
    *,
    measure: str,
    site_cover: CoverMatrix | None = None,
    where: SiteScope | None = None,
    policy: RequirementsPolicy | None = None,
    solver: Any = None,
    **options: Any,
) -> SiteSolution:
    """Return up to ``k`` new sites that newly cover the most residents (MCLP).

    The gap is every residential point not covered today by an asset of the measure
    (from ``cover``). Real buildings first: the register's assets of
    ``policy.candidate_categories`` (council buildings, community centres, libraries,
    schools for community use, places of worship) are the candidates of an exact MCLP
    (at most ``k`` sites). When ``site_cover`` is given and fewer than ``k`` buildings
    were kept, the residents no chosen building reaches are offered to postcode
    locations in a second exact MCLP, labelled :data:`POSTCODE` (a fallback).

    In both, no two sites lie closer than ``policy.spacing_m`` metres (nor closer to a
    site in ``avoid``), and a site that newly covers fewer than
    ``policy.min_population`` residents (in greedy order of marginal gain) is dropped:
    it is not a suggestion. Each model is solved exactly with HiGHS; the proof is
    checked by :func:`nwm_geo._solver.solve`.

    Parameters
    ----------
    cover
        ``coverage_matrix(model, sources="assets")``.
    assets
        The register, indexed by ``asset_id`` (``name``, ``category``, ``owner_type``,
        ``address``, ``postcode``, ``ward_code``, ``lon``, ``lat``).
    points
        Demand points with ``population`` (and ``ward_code``, ``lon``, ``lat``).
    measure
        A category or bundle.
    site_cover
        ``coverage_matrix(model, sources="points")``: postcode fallback sites.
    where
        The plan, the one locality to search and the sites to keep clear of
        (:class:`SiteScope`); the whole area, unlabelled, by default.
    policy
        ``k``, ``candidate_categories``, ``bundles``, ``time_limit``,
        ``min_site_population`` and ``site_spacing_m`` (:class:`RequirementsPolicy`).
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
    pol = resolve_policy(policy, options)
    at = where or SiteScope()
    assignment, locality, avoid = at.assignment, at.locality, at.avoid
    if locality is not None and assignment is None:
        raise NwmGeoError("SiteScope: locality= needs assignment=")
    cov = as_cover(cover)
    m, point_index, source_index = cov.csc, cov.point_index, cov.source_index
    pop = population_of(points, point_index)
    cols, _ = asset_columns(assets, source_index, measure_categories(measure, bundles=pol.bundles))
    covered_today = np.asarray(m[:, cols].sum(axis=1)).ravel() > 0
    in_scope = np.ones(len(point_index), dtype=bool)
    scope = "borough"
    if locality is not None and assignment is not None:
        scope = locality
        pl = locality_of(points["ward_code"].reindex(point_index), assignment)
        in_scope = (pl == locality).to_numpy()
    gap_rows = np.flatnonzero((~covered_today) & (pop > 0) & in_scope)
    w = pop[gap_rows]
    avoid_xy = (
        np.zeros((0, 2)) if avoid is None or not len(avoid) else _xy(avoid["lon"], avoid["lat"])
    )
    spacing = float(pol.spacing_m)

    b_cols, b_meta = building_candidates(
        assets,
        source_index,
        categories=pol.candidate_categories,
        assignment=assignment,
        locality=locality,
        points=points,
    )
    build = _block(m, gap_rows, b_cols, b_meta)
    keep = _far_from(build.xy, avoid_xy, spacing)
    build = _Block(
        build.matrix[:, np.flatnonzero(keep)],
        [b for b, ok in zip(build.meta, keep, strict=True) if ok],
        build.xy[keep],
    )
    rows, covered, status = _choose(
        build,
        w,
        k=pol.k,
        pol=pol,
        problem="new sites (MCLP): buildings",
        measure=measure,
        scope=scope,
        solver=solver,
    )
    fallback: SolveStatus | None = None
    if site_cover is not None and len(rows) < pol.k:
        sc = checked_site_cover(site_cover, cov)
        p_cols, p_meta = postcode_candidates(
            points, sc.source_index, assignment=assignment, locality=locality
        )
        left = gap_rows[~covered]
        post = _block(sc.csc, left, p_cols, p_meta)
        taken = np.vstack([avoid_xy, _xy([r["lon"] for r in rows], [r["lat"] for r in rows])])
        keep = _far_from(post.xy, taken, spacing)
        post = _Block(
            post.matrix[:, np.flatnonzero(keep)],
            [p for p, ok in zip(post.meta, keep, strict=True) if ok],
            post.xy[keep],
        )
        more, _, fallback = _choose(
            post,
            w[~covered],
            k=pol.k - len(rows),
            pol=pol,
            problem="new sites (MCLP): postcode fallback",
            measure=measure,
            scope=scope,
            solver=solver,
        )
        rows += more
    empty_cols = list(SITE_COLUMNS)
    if not rows:
        table = pd.DataFrame(columns=empty_cols)
        table.index.name = "site_id"
        return SiteSolution(measure, scope, table, float(w.sum()), 0.0, status, fallback)
    table = pd.DataFrame(rows).set_index("site_id")
    if assignment is not None:
        table["locality"] = locality_of(table["ward_code"], assignment)
    else:
        table["locality"] = pd.NA
    table["measure"] = measure
    table = table[[c for c in empty_cols if c in table.columns]]
    newly = float(table["marginal_population"].sum())
    return SiteSolution(measure, scope, table, float(w.sum()), newly, status, fallback)
