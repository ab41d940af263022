"""The outline of asset requirements: which assets the model needs, and where the gaps are.

In: the asset register (indexed by ``asset_id``), the demand points (indexed by
``point_id``), the ward -> locality ``assignment``, and the outputs of
:mod:`nwm_geo.coverage`: a boolean coverage matrix (points x sources, "within
``walk_minutes``"), the nearest-asset minutes per point, and optionally the asset
criticality table.

Out: plain DataFrames on natural indexes, and one :class:`RequirementsOutline`
that the report and the notebooks read.

- :func:`asset_catchments`: per asset, the population it covers and the population
  for whom it is the only asset of its category within the walk (``sole_population``).
- :func:`required_assets`: assets whose closure leaves residents without access.
- :func:`redundant_assets`: assets whose catchment is already covered by others.
- :func:`gap_points`, :func:`gap_population`: residents beyond the walk, and where.
- :func:`minimal_cover`: the smallest set of existing assets that keeps today's
  coverage (location set covering problem), solved exactly with HiGHS.
- :func:`best_new_sites`: the ``k`` new sites that newly cover the most residents
  (maximal covering location problem), solved exactly with HiGHS.
- :func:`business_case`: the business-case list, by the written
  :data:`BUSINESS_CASE_RULES`.
- :func:`outline`: all of the above, per locality.

Optimality is checked here, not taken from PuLP: PuLP reports a HiGHS run that
stopped at its time limit as "Optimal". :func:`solve_status` reads HiGHS's own model
status and MIP gap and says "proven optimal" only when HiGHS proved it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pulp
from scipy import sparse
from tqdm.auto import tqdm

from nwm_geo import settings
from nwm_geo._errors import NwmGeoError, SolverError

__all__ = [
    "BUSINESS_CASE_COLUMNS",
    "BUSINESS_CASE_RULES",
    "COUNCIL_RUN_CATEGORIES",
    "DEFAULT_SOLE_THRESHOLD",
    "OUTSIDE_BOROUGH",
    "SITE_COLUMNS",
    "CoverSolution",
    "RequirementsOutline",
    "SiteSolution",
    "SolveStatus",
    "asset_catchments",
    "best_new_sites",
    "business_case",
    "business_case_rules",
    "gap_points",
    "gap_population",
    "locality_of",
    "measure_categories",
    "minimal_cover",
    "needed_assets",
    "outline",
    "redundant_assets",
    "required_assets",
    "sole_providers",
    "solve_status",
]

#: Council-run categories: they can host a service, and rules R1 and R4 apply to them.
COUNCIL_RUN_CATEGORIES: tuple[str, ...] = ("LBC Community Centre", "Council", "Library")

#: Default for rule R2: the fewest residents for whom a non-council asset must be the
#: only option before a business case to secure access is listed. A policy choice, not data.
DEFAULT_SOLE_THRESHOLD: float = 100.0

#: Locality label for wards that are not in the assignment (assets outside Luton).
OUTSIDE_BOROUGH: str = "outside the borough"

#: The business-case rules, in order. ``{sole_threshold}`` and ``{minutes}`` are filled
#: in by :func:`business_case_rules`; the report prints the filled-in text.
BUSINESS_CASE_RULES: dict[str, str] = {
    "R1": (
        "Retain/invest: a council-run asset (LBC Community Centre, Council, Library) that "
        "is required, i.e. closing it would leave residents with no {minutes:g}-minute walk "
        "to an asset of its category."
    ),
    "R2": (
        "Secure access (partnership or community-use agreement): an asset that is not "
        "council-run, is required, is the only {minutes:g}-minute option of its category "
        "for at least {sole_threshold:g} residents, and whose category is in one of the "
        "model's bundles."
    ),
    "R3": (
        "Acquire or co-locate: a proposed new site from the best-k analysis (maximal "
        "covering) for a bundle or category in a locality: a council asset that could host "
        "the service, or a postcode location where a site should be found."
    ),
    "R4": (
        "Rationalise or alternative use: a council-run asset whose catchment is fully "
        "covered by other assets of its category and that is not in the minimal cover of "
        "its category or of any bundle containing its category."
    ),
}

#: Columns of :func:`business_case`.
BUSINESS_CASE_COLUMNS: tuple[str, ...] = (
    "rule",
    "action",
    "locality",
    "id",
    "name",
    "category",
    "measure",
    "population",
    "evidence",
)

_ACTIONS = {
    "R1": "retain/invest",
    "R2": "secure access",
    "R3": "acquire/co-locate",
    "R4": "rationalise/alternative use",
}

#: A coverage matrix as returned by ``nwm_geo.coverage.coverage_matrix``:
#: (boolean sparse matrix n_points x n_sources, point index, source index).
CoverMatrix = tuple[Any, pd.Index, pd.Index]


# ---------------------------------------------------------------------------
# helpers


def business_case_rules(
    *, sole_threshold: float = DEFAULT_SOLE_THRESHOLD, minutes: float | None = None
) -> dict[str, str]:
    """Return :data:`BUSINESS_CASE_RULES` with the thresholds filled in.

    Parameters
    ----------
    sole_threshold
        Rule R2's threshold (residents).
    minutes
        The walk threshold; ``settings.walk_minutes`` by default.
    """
    minutes = settings.walk_minutes if minutes is None else minutes
    return {
        k: v.format(sole_threshold=sole_threshold, minutes=minutes)
        for k, v in BUSINESS_CASE_RULES.items()
    }


def measure_categories(
    measure: str, *, bundles: Mapping[str, Sequence[str]] | None = None
) -> tuple[str, ...]:
    """Return the categories that meet a measure (a category or a bundle name).

    Parameters
    ----------
    measure
        One of ``settings.CATEGORIES`` or a key of ``bundles``.
    bundles
        ``settings.BUNDLES`` by default.

    Raises
    ------
    NwmGeoError
        If ``measure`` is neither a category nor a bundle.
    """
    bundles = settings.BUNDLES if bundles is None else bundles
    if measure in bundles:
        return tuple(bundles[measure])
    if measure in settings.CATEGORIES:
        return (measure,)
    raise NwmGeoError(
        f"unknown measure {measure!r}: expected one of the categories "
        f"{list(settings.CATEGORIES)} or bundles {list(bundles)}"
    )


def locality_of(ward_codes: pd.Series, assignment: pd.Series) -> pd.Series:
    """Map ward codes to locality names; wards not in ``assignment`` get :data:`OUTSIDE_BOROUGH`.

    Parameters
    ----------
    ward_codes
        Ward codes on any index.
    assignment
        ``ward_code -> locality`` (from :mod:`nwm_geo.localities`).

    Returns
    -------
    pd.Series
        Locality names on the index of ``ward_codes``, named ``locality``.
    """
    loc = ward_codes.map(assignment)
    out = loc.astype(object).where(loc.notna(), OUTSIDE_BOROUGH).astype(str)
    out.name = "locality"
    return out


def _cover_parts(cover: CoverMatrix) -> tuple[sparse.csc_matrix, pd.Index, pd.Index]:
    try:
        matrix, point_index, source_index = cover
    except (TypeError, ValueError) as exc:
        raise NwmGeoError(
            "cover must be the (matrix, point index, source index) tuple returned by "
            "nwm_geo.coverage.coverage_matrix"
        ) from exc
    m = sparse.csc_matrix(matrix, dtype=bool)
    point_index = pd.Index(point_index)
    source_index = pd.Index(source_index)
    if m.shape != (len(point_index), len(source_index)):
        raise NwmGeoError(
            f"coverage matrix shape {m.shape} does not match its indexes "
            f"({len(point_index)} points x {len(source_index)} sources)"
        )
    if not point_index.is_unique or not source_index.is_unique:
        raise NwmGeoError("coverage matrix point and source indexes must be unique")
    return m, point_index, source_index


def _site_parts(
    site_cover: CoverMatrix, point_index: pd.Index
) -> tuple[sparse.csc_matrix, pd.Index, pd.Index]:
    """``_cover_parts`` of the postcode-site matrix, rows in ``point_index`` order."""
    sm, s_points, s_sources = _cover_parts(site_cover)
    if not s_points.equals(point_index):
        pos = s_points.get_indexer(point_index)
        if (pos < 0).any():
            raise NwmGeoError("site_cover must cover the same points as cover")
        sm = sm.tocsr()[pos].tocsc()
    return sm, point_index, s_sources


def _population(points: pd.DataFrame, point_index: pd.Index) -> np.ndarray:
    if "population" not in points.columns:
        raise NwmGeoError("demand points need a 'population' column")
    missing = point_index.difference(points.index)
    if len(missing):
        raise NwmGeoError(
            f"{len(missing)} coverage-matrix points are not in the demand points, "
            f"e.g. {list(missing[:5])}"
        )
    pop = pd.to_numeric(points["population"].reindex(point_index), errors="coerce")
    return np.asarray(pop.fillna(0.0), dtype=float)


def _asset_columns(
    assets: pd.DataFrame, source_index: pd.Index, categories: Iterable[str]
) -> tuple[np.ndarray, pd.Index]:
    cats = set(categories)
    in_matrix = assets.index.intersection(source_index)
    chosen = assets.loc[in_matrix]
    chosen = chosen[chosen["category"].isin(cats)]
    ids = pd.Index(chosen.index)
    return source_index.get_indexer(ids), ids


# ---------------------------------------------------------------------------
# solver status


@dataclass(frozen=True)
class SolveStatus:
    """What the solver proved, read from HiGHS itself (not from PuLP's label).

    Attributes
    ----------
    problem
        ``"minimal cover (LSCP)"`` or ``"new sites (MCLP)"``.
    measure
        The category or bundle solved for.
    scope
        ``"borough"`` or a locality name.
    label
        ``"proven optimal"``, ``"time limit (gap x %)"``, ``"optimal within gap x %"``,
        ``"trivial (nothing to solve)"`` or ``"reported optimal by <solver>; proof not checked"``.
    proven_optimal
        True only when HiGHS reported an optimal model status with a zero gap (or a gap
        smaller than one unit of an integer objective).
    model_status
        HiGHS's model status text, or PuLP's status for other solvers.
    mip_gap
        Relative MIP gap (fraction), NaN when unknown.
    objective
        Objective value of the returned solution.
    bound
        Best dual bound, NaN when unknown.
    solver
        The solver's name.
    """

    problem: str
    measure: str
    scope: str
    label: str
    proven_optimal: bool
    model_status: str
    mip_gap: float
    objective: float
    bound: float
    solver: str

    def as_dict(self) -> dict[str, Any]:
        """Return the fields as a plain dict (for tables)."""
        return {
            "problem": self.problem,
            "measure": self.measure,
            "scope": self.scope,
            "label": self.label,
            "proven_optimal": self.proven_optimal,
            "model_status": self.model_status,
            "mip_gap": self.mip_gap,
            "objective": self.objective,
            "bound": self.bound,
            "solver": self.solver,
        }


def _default_solver(time_limit: float | None) -> Any:
    solver = pulp.HiGHS(msg=False, gapRel=0.0, timeLimit=time_limit)
    if not solver.available():  # pragma: no cover - highspy is a dependency
        raise SolverError("HiGHS (highspy) is not available; install highspy")
    return solver


def solve_status(
    prob: pulp.LpProblem,
    *,
    problem: str,
    measure: str,
    scope: str = "borough",
    integral_objective: bool = False,
) -> SolveStatus:
    """Read the real proof status of a solved PuLP problem.

    For ``pulp.HiGHS`` (highspy) the HiGHS model status, MIP gap and dual bound are
    read from ``prob.solverModel``. For any other solver the PuLP status is used and
    the label says the proof was not checked.

    Parameters
    ----------
    prob
        A problem after ``prob.solve(...)``.
    problem, measure, scope
        Labels for the status.
    integral_objective
        The objective only takes integer values, so any gap below 1 proves optimality.

    Returns
    -------
    SolveStatus

    Raises
    ------
    SolverError
        If no feasible solution was returned (infeasible, error, or a limit reached
        before any solution).
    """
    model = getattr(prob, "solverModel", None)
    if model is not None and hasattr(model, "getModelStatus") and hasattr(model, "getInfo"):
        import highspy

        ms = highspy.HighsModelStatus
        status = model.getModelStatus()
        text = str(model.modelStatusToString(status))
        info = model.getInfo()
        has_solution = int(getattr(info, "primal_solution_status", 0)) == 2
        obj = float(getattr(info, "objective_function_value", math.nan))
        bound = float(getattr(info, "mip_dual_bound", math.nan))
        gap = float(getattr(info, "mip_gap", math.nan))
        if not math.isfinite(gap):
            gap = math.nan
        abs_gap = abs(obj - bound) if math.isfinite(bound) else math.inf
        if status == ms.kOptimal:
            exact = abs_gap <= 1e-6 * max(1.0, abs(obj)) or (
                integral_objective and abs_gap < 1.0 - 1e-9
            )
            if exact:
                label = "proven optimal"
            else:
                label = f"optimal within gap {100 * gap:.2f} %"
            return SolveStatus(
                problem, measure, scope, label, exact, text, gap, obj, bound, "HiGHS"
            )
        limits = {ms.kTimeLimit, ms.kIterationLimit, ms.kInterrupt}
        for name in ("kSolutionLimit", "kObjectiveBound", "kObjectiveTarget"):
            if hasattr(ms, name):
                limits.add(getattr(ms, name))
        if status in limits and has_solution:
            kind = "time limit" if status == ms.kTimeLimit else text.lower()
            label = f"{kind} (gap {100 * gap:.2f} %)"
            return SolveStatus(
                problem, measure, scope, label, False, text, gap, obj, bound, "HiGHS"
            )
        raise SolverError(
            f"{problem} for {measure!r} ({scope}): HiGHS returned '{text}' without a "
            "usable solution"
        )
    status_text = pulp.LpStatus.get(prob.status, str(prob.status))
    if prob.status != pulp.LpStatusOptimal or prob.sol_status not in (
        pulp.LpSolutionOptimal,
        pulp.LpSolutionIntegerFeasible,
    ):
        raise SolverError(f"{problem} for {measure!r} ({scope}): solver returned '{status_text}'")
    obj = float(pulp.value(prob.objective) or 0.0)
    name = type(getattr(prob, "solver", None)).__name__
    return SolveStatus(
        problem,
        measure,
        scope,
        f"reported optimal by {name}; proof not checked",
        False,
        status_text,
        math.nan,
        obj,
        math.nan,
        name,
    )


def _solve(prob: pulp.LpProblem, solver: Any, time_limit: float | None) -> None:
    solver = _default_solver(time_limit) if solver is None else solver
    try:
        prob.solve(solver)
    except Exception as exc:  # PuLP raises plain exceptions (and KeyError on new statuses)
        raise SolverError(f"solver failed on {prob.name}: {exc}") from exc


# ---------------------------------------------------------------------------
# catchments, required, redundant


def asset_catchments(
    cover: CoverMatrix,
    assets: pd.DataFrame,
    points: pd.DataFrame,
    *,
    categories: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per asset, who it covers and for whom it is the only asset of its category.

    The same quantities as ``nwm_geo.coverage.asset_criticality``, computed straight
    from the coverage matrix, plus the point counts used for redundancy.

    Parameters
    ----------
    cover
        ``coverage_matrix(model, sources="assets")``: (matrix, point index, asset index).
    assets
        The register, indexed by ``asset_id``, with ``category`` and ``name``.
    points
        Demand points indexed by ``point_id`` with ``population``.
    categories
        Categories to include; ``settings.CATEGORIES`` by default.

    Returns
    -------
    pd.DataFrame
        Indexed by ``asset_id`` (assets in the matrix, in register order): ``category``,
        ``name``, ``covered_points``, ``covered_population``, ``sole_points``,
        ``sole_population``, ``n_overlapping`` (other assets of the category that share
        at least one covered point).
    """
    m, point_index, source_index = _cover_parts(cover)
    pop = _population(points, point_index)
    categories = settings.CATEGORIES if categories is None else categories
    frames = []
    for cat in categories:
        cols, ids = _asset_columns(assets, source_index, [cat])
        if len(ids) == 0:
            continue
        sub = m[:, cols].astype(np.int32)
        counts = np.asarray(sub.sum(axis=1)).ravel()
        sole = counts == 1
        overlap = (sub.T @ sub).tocsr()
        overlap.setdiag(0)
        overlap.eliminate_zeros()
        frames.append(
            pd.DataFrame(
                {
                    "category": cat,
                    "name": assets.loc[ids, "name"].to_numpy(),
                    "covered_points": np.asarray(sub.sum(axis=0)).ravel().astype(int),
                    "covered_population": sub.T @ pop,
                    "sole_points": (sub.T @ sole.astype(np.int32)).astype(int),
                    "sole_population": sub.T @ (pop * sole),
                    "n_overlapping": np.diff(overlap.indptr).astype(int),
                },
                index=ids,
            )
        )
    if not frames:
        out = pd.DataFrame(
            columns=[
                "category",
                "name",
                "covered_points",
                "covered_population",
                "sole_points",
                "sole_population",
                "n_overlapping",
            ]
        )
        out.index.name = "asset_id"
        return out
    out = pd.concat(frames)
    order = assets.index[assets.index.isin(out.index)]
    out = out.loc[order]
    out.index.name = "asset_id"
    return out


def _with_place(table: pd.DataFrame, assets: pd.DataFrame, assignment: pd.Series) -> pd.DataFrame:
    out = table.copy()
    ward = assets["ward_code"].reindex(out.index)
    out.insert(0, "locality", locality_of(ward, assignment))
    out["ward_code"] = ward
    if "ward_name" in assets.columns:
        out["ward_name"] = assets["ward_name"].reindex(out.index)
    if "name" not in out.columns:
        out["name"] = assets["name"].reindex(out.index)
    if "category" not in out.columns:
        out["category"] = assets["category"].reindex(out.index)
    return out


def required_assets(
    assets: pd.DataFrame,
    criticality: pd.DataFrame,
    *,
    assignment: pd.Series,
    min_sole_population: float = 0.0,
) -> pd.DataFrame:
    """Assets whose closure leaves residents without a walk to their category.

    An asset is required when its ``sole_population`` (residents for whom it is the
    only asset of its category within the walk) is above ``min_sole_population``.

    Parameters
    ----------
    assets
        The register, indexed by ``asset_id``, with ``ward_code``.
    criticality
        ``asset_criticality(...)`` or :func:`asset_catchments`, indexed by ``asset_id``,
        with ``category``, ``name``, ``covered_population``, ``sole_population``,
        ``sole_points``.
    assignment
        ``ward_code -> locality``.
    min_sole_population
        Strict lower bound on ``sole_population`` (0: anyone affected).

    Returns
    -------
    pd.DataFrame
        Indexed by ``asset_id``: ``locality``, ``category``, ``name``,
        ``covered_population``, ``sole_population``, ``sole_points``, ``ward_code``,
        ``ward_name``, ``rank`` (1 = most residents affected, within locality and
        category); sorted by locality, category and rank.
    """
    _need(criticality, ["category", "covered_population", "sole_population", "sole_points"])
    req = criticality[criticality["sole_population"] > min_sole_population]
    cols = ["category", "name", "covered_population", "sole_population", "sole_points"]
    req = _with_place(req[[c for c in cols if c in req.columns]], assets, assignment)
    req = req.sort_values(
        ["locality", "category", "sole_population"], ascending=[True, True, False], kind="stable"
    )
    req["rank"] = req.groupby(["locality", "category"]).cumcount() + 1
    return req


def redundant_assets(
    assets: pd.DataFrame,
    criticality: pd.DataFrame,
    *,
    assignment: pd.Series,
) -> pd.DataFrame:
    """Assets whose catchment is fully covered by other assets of the same category.

    Each is redundant on its own: closing two of them together may leave a gap (the
    joint answer is :func:`minimal_cover`).

    Parameters
    ----------
    assets
        The register, indexed by ``asset_id``.
    criticality
        As for :func:`required_assets`.
    assignment
        ``ward_code -> locality``.

    Returns
    -------
    pd.DataFrame
        Indexed by ``asset_id``: ``locality``, ``category``, ``name``,
        ``covered_population``, ``covered_points`` and ``n_overlapping`` (when given),
        ``redundancy`` (``"covers no one"``: no resident within the walk, or
        ``"covered by others"``: every point it covers is covered by another asset of
        its category), ``ward_code``, ``ward_name``; sorted by locality and category.
    """
    _need(criticality, ["category", "covered_population", "sole_points"])
    red = criticality[criticality["sole_points"] == 0]
    cols = [
        "category",
        "name",
        "covered_population",
        "covered_points",
        "n_overlapping",
    ]
    red = _with_place(red[[c for c in cols if c in red.columns]], assets, assignment)
    red["redundancy"] = np.where(
        red["covered_population"] > 0, "covered by others", "covers no one"
    )
    return red.sort_values(["locality", "category"], kind="stable")


def sole_providers(
    cover: CoverMatrix,
    assets: pd.DataFrame,
    points: pd.DataFrame,
    *,
    measure: str,
    bundles: Mapping[str, Sequence[str]] | None = None,
) -> pd.Index:
    """Assets that are the only asset of a measure within the walk for some resident.

    For a category this equals ``sole_population > 0`` in :func:`asset_catchments`;
    for a bundle any asset of any of its categories counts as an alternative.

    Returns
    -------
    pd.Index
        ``asset_id``s, in register order.
    """
    m, point_index, source_index = _cover_parts(cover)
    pop = _population(points, point_index)
    cols, ids = _asset_columns(assets, source_index, measure_categories(measure, bundles=bundles))
    sub = m[:, cols].astype(np.int32)
    sole = (np.asarray(sub.sum(axis=1)).ravel() == 1) & (pop > 0)
    hits = np.asarray(sub.T @ sole.astype(np.int32)).ravel() > 0
    return pd.Index(ids[hits], name="asset_id")


def _need(df: pd.DataFrame, cols: Sequence[str]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise NwmGeoError(f"table is missing column(s) {missing}")


# ---------------------------------------------------------------------------
# gaps


def _measure_columns(nearest: pd.DataFrame, measures: Sequence[str] | None) -> list[str]:
    if measures is None:
        known = set(settings.CATEGORIES) | set(settings.BUNDLES)
        return [c for c in nearest.columns if c in known]
    missing = [m for m in measures if m not in nearest.columns]
    if missing:
        raise NwmGeoError(f"nearest_minutes has no column(s) {missing}")
    return list(measures)


def gap_points(
    nearest: pd.DataFrame,
    points: pd.DataFrame,
    *,
    assignment: pd.Series,
    measures: Sequence[str] | None = None,
    minutes: float | None = None,
) -> pd.DataFrame:
    """The demand points beyond the walk for at least one measure.

    Parameters
    ----------
    nearest
        ``nearest_minutes(...)``: indexed by ``point_id``, one column per category and
        bundle (minutes; NaN = unreachable).
    points
        Demand points: ``population``, ``ward_code``, ``lsoa_code``, ``lon``, ``lat``.
    assignment
        ``ward_code -> locality``.
    measures
        Columns of ``nearest`` to use; every category and bundle column by default.
    minutes
        The threshold; ``settings.walk_minutes`` by default. A point is in the gap when
        its nearest time is above it or unknown.

    Returns
    -------
    pd.DataFrame
        Indexed by ``point_id`` (points with at least one gap): ``locality``,
        ``ward_code``, ``lsoa_code``, ``population``, ``lon``, ``lat``, then one boolean
        column per measure (True = beyond the walk).
    """
    minutes = settings.walk_minutes if minutes is None else minutes
    cols = _measure_columns(nearest, measures)
    near = nearest[cols].reindex(points.index)
    beyond = ~(near.apply(pd.to_numeric, errors="coerce") <= minutes)
    keep = beyond.any(axis=1)
    base = pd.DataFrame(index=points.index)
    base["locality"] = locality_of(points["ward_code"], assignment)
    for c in ("ward_code", "lsoa_code", "population", "lon", "lat"):
        if c in points.columns:
            base[c] = points[c]
    out = pd.concat([base, beyond.astype(bool)], axis=1)[keep.to_numpy()]
    out.index.name = points.index.name or "point_id"
    return out


def gap_population(
    nearest: pd.DataFrame,
    points: pd.DataFrame,
    *,
    assignment: pd.Series,
    by: str = "locality",
    measures: Sequence[str] | None = None,
    minutes: float | None = None,
) -> pd.DataFrame:
    """Residents beyond the walk, per area and measure.

    Parameters
    ----------
    nearest, points, assignment, measures, minutes
        As for :func:`gap_points`.
    by
        ``"locality"``, ``"ward"``, ``"lsoa"`` or ``"borough"``.

    Returns
    -------
    pd.DataFrame
        Indexed by (area, ``measure``): ``population``, ``covered_population``,
        ``gap_population``, ``covered_share``, ``gap_share``, ``gap_points``.
    """
    minutes = settings.walk_minutes if minutes is None else minutes
    keys = {"locality": "locality", "ward": "ward_code", "lsoa": "lsoa_code", "borough": "borough"}
    if by not in keys:
        raise NwmGeoError(f"by must be one of {list(keys)}, not {by!r}")
    cols = _measure_columns(nearest, measures)
    near = nearest[cols].reindex(points.index).apply(pd.to_numeric, errors="coerce")
    beyond = ~(near <= minutes)
    pop = pd.to_numeric(points["population"], errors="coerce").fillna(0.0)
    if by == "locality":
        area = locality_of(points["ward_code"], assignment)
    elif by == "borough":
        area = pd.Series("Luton", index=points.index)
    else:
        area = points[keys[by]].astype(str)
    area.name = keys[by]
    rows = []
    for measure in cols:
        g = (
            pd.DataFrame(
                {
                    "area": area.to_numpy(),
                    "population": pop.to_numpy(),
                    "gap_population": (pop * beyond[measure]).to_numpy(),
                    "gap_points": (beyond[measure] & (pop > 0)).to_numpy().astype(int),
                }
            )
            .groupby("area", sort=True)[["population", "gap_population", "gap_points"]]
            .sum()
        )
        g["measure"] = measure
        rows.append(g)
    out = pd.concat(rows).reset_index().rename(columns={"area": keys[by]})
    out = out.set_index([keys[by], "measure"])
    out["covered_population"] = out["population"] - out["gap_population"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["gap_share"] = np.where(
            out["population"] > 0, out["gap_population"] / out["population"], np.nan
        )
    out["covered_share"] = 1.0 - out["gap_share"]
    return out[
        [
            "population",
            "covered_population",
            "gap_population",
            "covered_share",
            "gap_share",
            "gap_points",
        ]
    ]


# ---------------------------------------------------------------------------
# minimal cover (LSCP)


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
    must stay covered by a chosen asset. Minimise the number of assets. Solved exactly
    with HiGHS; the proof is checked by :func:`solve_status`. Optimal sets are often
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
    m, point_index, source_index = _cover_parts(cover)
    pop = _population(points, point_index)
    cats = measure_categories(measure, bundles=bundles)
    cols, ids = _asset_columns(assets, source_index, cats)
    sub = m[:, cols].tocsr()
    counts = np.asarray(sub.sum(axis=1)).ravel()
    rows = np.flatnonzero((counts > 0) & (pop > 0))
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
    prob = pulp.LpProblem(f"lscp_{_safe(measure)}", pulp.LpMinimize)
    x = [pulp.LpVariable(f"x_{j}", cat="Binary") for j in range(len(ids))]
    prob += pulp.lpSum(x)
    for n, pat in enumerate(patterns):
        prob += pulp.lpSum(x[j] for j in pat) >= 1, f"keep_{n}"
    _solve(prob, solver, time_limit)
    status = solve_status(
        prob, problem="minimal cover (LSCP)", measure=measure, integral_objective=True
    )
    chosen = np.array([(v.varValue or 0.0) > 0.5 for v in x], dtype=bool)
    table["selected"] = chosen
    return CoverSolution(
        measure,
        table,
        pd.Index(ids[chosen], name="asset_id"),
        len(ids),
        len(rows),
        float(pop[rows].sum()),
        status,
    )


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text)[:40]


# ---------------------------------------------------------------------------
# best new sites (MCLP)


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


def best_new_sites(
    cover: CoverMatrix,
    assets: pd.DataFrame,
    points: pd.DataFrame,
    *,
    measure: str,
    k: int,
    site_cover: CoverMatrix | None = None,
    assignment: pd.Series | None = None,
    locality: str | None = None,
    candidate_categories: Sequence[str] = COUNCIL_RUN_CATEGORIES,
    bundles: Mapping[str, Sequence[str]] | None = None,
    solver: Any = None,
    time_limit: float | None = 300.0,
) -> SiteSolution:
    """The ``k`` new sites that newly cover the most residents (MCLP).

    The gap is every residential point not covered today by an asset of the measure
    (from ``cover``). Candidates are council assets of ``candidate_categories`` that
    could host the service (columns of ``cover``) and, when ``site_cover`` is given,
    postcode locations (``coverage_matrix(model, sources="points")``). Maximise the gap
    population within the walk of at least one chosen site, with at most ``k`` sites.
    Solved exactly with HiGHS; the proof is checked by :func:`solve_status`.

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
    k
        Number of new sites (at most).
    site_cover
        ``coverage_matrix(model, sources="points")``: postcode candidate sites.
    assignment
        ``ward_code -> locality``; needed with ``locality``.
    locality
        Restrict gap points and candidate sites to this locality.
    candidate_categories
        Council asset categories that can host a service.
    bundles
        ``settings.BUNDLES`` by default.
    solver, time_limit
        As for :func:`minimal_cover`.

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
    if k < 0:
        raise NwmGeoError(f"k must be >= 0, not {k}")
    if locality is not None and assignment is None:
        raise NwmGeoError("locality= needs assignment=")
    m, point_index, source_index = _cover_parts(cover)
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
    cand_cols, cand_ids = _asset_columns(assets, source_index, candidate_categories)
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
        sm, _, s_sources = _site_parts(site_cover, point_index)
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
    _solve(prob, solver, time_limit)
    status = solve_status(
        prob,
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


# ---------------------------------------------------------------------------
# needed assets and the business case


def needed_assets(
    required: pd.DataFrame,
    covers: Mapping[str, CoverSolution],
    assets: pd.DataFrame,
    *,
    assignment: pd.Series,
    bundles: Mapping[str, Sequence[str]] | None = None,
    required_ids: Mapping[str, Iterable[object]] | None = None,
) -> pd.DataFrame:
    """The assets the model needs, per locality and measure.

    For each measure (category or bundle): the required assets of its categories
    (sole providers, in every optimal cover) and the chosen minimal cover.

    Parameters
    ----------
    required
        :func:`required_assets`.
    covers
        ``measure -> CoverSolution`` from :func:`minimal_cover`.
    assets
        The register.
    assignment
        ``ward_code -> locality``.
    bundles
        ``settings.BUNDLES`` by default.
    required_ids
        ``measure -> asset_id``s that are sole providers for that measure (from
        :func:`sole_providers`; needed for bundles, where another category's asset is an
        alternative). Without it, the category-level ``required`` table is used.

    Returns
    -------
    pd.DataFrame
        Indexed by (``measure``, ``asset_id``): ``locality``, ``category``, ``name``,
        ``required`` (sole provider), ``in_minimal_cover``, ``reason``; sorted by
        measure and locality.
    """
    rows = []
    for measure, sol in covers.items():
        if required_ids is not None and measure in required_ids:
            req_ids = set(required_ids[measure])
        else:
            cats = set(measure_categories(measure, bundles=bundles))
            req_ids = set(required.index[required["category"].isin(cats)])
        ordered = [i for i in assets.index if i in req_ids]
        ids = list(dict.fromkeys([*sol.selected, *ordered]))
        for aid in ids:
            is_req = aid in req_ids
            in_cov = aid in sol.selected
            reason = (
                "required and in minimal cover"
                if is_req and in_cov
                else "required (sole provider)"
                if is_req
                else "in minimal cover"
            )
            rows.append(
                {
                    "measure": measure,
                    "asset_id": aid,
                    "ward_code": assets.at[aid, "ward_code"],
                    "category": assets.at[aid, "category"],
                    "name": assets.at[aid, "name"],
                    "required": is_req,
                    "in_minimal_cover": in_cov,
                    "reason": reason,
                }
            )
    cols = ["locality", "category", "name", "required", "in_minimal_cover", "reason"]
    if not rows:
        out = pd.DataFrame(columns=["measure", "asset_id", *cols]).set_index(
            ["measure", "asset_id"]
        )
        return out
    out = pd.DataFrame(rows)
    out["locality"] = locality_of(out["ward_code"], assignment)
    out = out.sort_values(["measure", "locality"], kind="stable").set_index(["measure", "asset_id"])
    return out[cols]


def business_case(
    required: pd.DataFrame,
    redundant: pd.DataFrame,
    new_sites: pd.DataFrame,
    covers: Mapping[str, CoverSolution],
    *,
    sole_threshold: float = DEFAULT_SOLE_THRESHOLD,
    council_categories: Sequence[str] = COUNCIL_RUN_CATEGORIES,
    bundles: Mapping[str, Sequence[str]] | None = None,
    minutes: float | None = None,
) -> pd.DataFrame:
    """The business-case list, by :data:`BUSINESS_CASE_RULES` (R1 to R4).

    Parameters
    ----------
    required
        :func:`required_assets`.
    redundant
        :func:`redundant_assets`.
    new_sites
        Concatenated :attr:`SiteSolution.table` rows (indexed by ``site_id``).
    covers
        ``measure -> CoverSolution``; R4 needs an asset outside the minimal cover of its
        category and of every bundle containing it (measures not solved do not count).
    sole_threshold
        Rule R2's threshold (residents).
    council_categories
        Council-run categories.
    bundles
        ``settings.BUNDLES`` by default.
    minutes
        The walk threshold, for the evidence text.

    Returns
    -------
    pd.DataFrame
        Indexed by ``case`` (1..n): ``rule``, ``action``, ``locality``, ``id``, ``name``,
        ``category``, ``measure``, ``population``, ``evidence``; sorted by locality and rule.
    """
    bundles = settings.BUNDLES if bundles is None else bundles
    minutes = settings.walk_minutes if minutes is None else minutes
    council = set(council_categories)
    bundle_cats = {c for cats in bundles.values() for c in cats}
    rows: list[dict[str, Any]] = []
    for aid, r in required.iterrows():
        if r["category"] in council:
            rows.append(
                {
                    "rule": "R1",
                    "id": aid,
                    "measure": r["category"],
                    "population": float(r["sole_population"]),
                    "evidence": (
                        f"only {r['category']} within {minutes:g} min for "
                        f"{r['sole_population']:,.0f} residents"
                    ),
                    **_pick(r),
                }
            )
        elif r["category"] in bundle_cats and r["sole_population"] >= sole_threshold:
            rows.append(
                {
                    "rule": "R2",
                    "id": aid,
                    "measure": r["category"],
                    "population": float(r["sole_population"]),
                    "evidence": (
                        f"only {r['category']} within {minutes:g} min for "
                        f"{r['sole_population']:,.0f} residents (threshold "
                        f"{sole_threshold:g})"
                    ),
                    **_pick(r),
                }
            )
    for sid, r in new_sites.iterrows():
        rows.append(
            {
                "rule": "R3",
                "id": sid,
                "measure": r["measure"],
                "population": float(r["marginal_population"]),
                "evidence": (
                    f"{r['site_type']} site newly covering {r['marginal_population']:,.0f} "
                    f"residents for '{r['measure']}'"
                ),
                **_pick(r),
            }
        )
    for aid, r in redundant.iterrows():
        if r["category"] not in council:
            continue
        relevant = [r["category"], *[b for b, cats in bundles.items() if r["category"] in cats]]
        in_some_cover = any(aid in covers[m].selected for m in relevant if m in covers)
        if in_some_cover:
            continue
        rows.append(
            {
                "rule": "R4",
                "id": aid,
                "measure": r["category"],
                "population": float(r["covered_population"]),
                "evidence": (
                    f"{r['redundancy']}; not in the minimal cover of "
                    + ", ".join(m for m in relevant if m in covers)
                ),
                **_pick(r),
            }
        )
    for row in rows:
        row["action"] = _ACTIONS[row["rule"]]
    out = pd.DataFrame(rows, columns=list(BUSINESS_CASE_COLUMNS))
    out = out.sort_values(["locality", "rule"], kind="stable").reset_index(drop=True)
    out.index = pd.RangeIndex(1, len(out) + 1, name="case")
    return out


def _pick(r: pd.Series) -> dict[str, Any]:
    return {"locality": r.get("locality"), "name": r.get("name"), "category": r.get("category")}


# ---------------------------------------------------------------------------
# the outline


@dataclass
class RequirementsOutline:
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
        ``n_in_minimal_cover``. Locality ``"Luton"`` is the whole borough.
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
    solver_status
        One row per optimisation (:meth:`SolveStatus.as_dict`).
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
            ``new_sites``, ``business_case``.
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
        }


def outline(
    assets: pd.DataFrame,
    points: pd.DataFrame,
    *,
    assignment: pd.Series,
    cover: CoverMatrix,
    nearest: pd.DataFrame,
    network_label: str,
    site_cover: CoverMatrix | None = None,
    criticality: pd.DataFrame | None = None,
    measures: Sequence[str] | None = None,
    new_site_measures: Sequence[str] | None = None,
    k: int = 2,
    sole_threshold: float = DEFAULT_SOLE_THRESHOLD,
    minutes: float | None = None,
    walk_speed_m_per_min: float | None = None,
    bundles: Mapping[str, Sequence[str]] | None = None,
    solver: Any = None,
    time_limit: float | None = 300.0,
    method_notes: Mapping[str, Any] | None = None,
    verbose: bool = False,
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
    cover
        ``coverage_matrix(model, sources="assets")`` at ``minutes``.
    nearest
        ``nearest_minutes(...)``.
    network_label
        ``nwm_geo.network.network_label(G)``, e.g. "network: approximate (postcode
        proximity), not OSM"; stored in :attr:`RequirementsOutline.method`.
    site_cover
        ``coverage_matrix(model, sources="points")`` for postcode candidate sites;
        without it only council assets are candidates.
    criticality
        ``asset_criticality(...)``; computed from ``cover`` when not given.
    measures
        Categories and bundles to report; the categories present in the register plus
        every bundle by default.
    new_site_measures
        Measures for the best-k analysis; the bundles by default.
    k
        New sites per measure and locality.
    sole_threshold
        Rule R2's threshold.
    minutes, walk_speed_m_per_min
        For the method note; ``settings`` by default.
    bundles
        ``settings.BUNDLES`` by default.
    solver, time_limit
        As for :func:`minimal_cover`.
    method_notes
        Extra method entries (data dates, sources, the register gap) for the report.
    verbose
        Show a progress bar over the optimisations.

    Returns
    -------
    RequirementsOutline
    """
    bundles = settings.BUNDLES if bundles is None else bundles
    minutes = settings.walk_minutes if minutes is None else minutes
    speed = settings.walk_speed_m_per_min if walk_speed_m_per_min is None else walk_speed_m_per_min
    if measures is None:
        present = set(assets["category"])
        measures = [c for c in settings.CATEGORIES if c in present] + list(bundles)
    new_site_measures = list(bundles) if new_site_measures is None else list(new_site_measures)
    # convert the matrices once, not in every optimisation below (site_cover is
    # postcodes x postcodes, and best_new_sites runs per measure and locality)
    cover = _cover_parts(cover)
    if site_cover is not None:
        site_cover = _site_parts(site_cover, cover[1])
    crit = asset_catchments(cover, assets, points) if criticality is None else criticality
    required = required_assets(assets, crit, assignment=assignment)
    redundant = redundant_assets(assets, crit, assignment=assignment)
    near_cols = [m for m in measures if m in nearest.columns]
    gaps = gap_population(
        nearest, points, assignment=assignment, measures=near_cols, minutes=minutes
    )
    borough = gap_population(
        nearest, points, assignment=assignment, by="borough", measures=near_cols, minutes=minutes
    ).rename_axis(["locality", "measure"])
    gpts = gap_points(nearest, points, assignment=assignment, measures=near_cols, minutes=minutes)
    localities = sorted(set(assignment.dropna().astype(str)))

    covers: dict[str, CoverSolution] = {}
    statuses: list[dict[str, Any]] = []
    site_tables: list[pd.DataFrame] = []
    jobs: list[tuple[str, str | None]] = [(m, None) for m in measures]
    jobs += [(m, loc) for m in new_site_measures for loc in localities]
    for measure, loc in tqdm(jobs, disable=not verbose, desc="optimising"):
        if loc is None:
            sol = minimal_cover(
                cover,
                assets,
                points,
                measure=measure,
                bundles=bundles,
                solver=solver,
                time_limit=time_limit,
            )
            covers[measure] = sol
            statuses.append(sol.status.as_dict())
        else:
            ssol = best_new_sites(
                cover,
                assets,
                points,
                measure=measure,
                k=k,
                site_cover=site_cover,
                assignment=assignment,
                locality=loc,
                bundles=bundles,
                solver=solver,
                time_limit=time_limit,
            )
            statuses.append(ssol.status.as_dict())
            if len(ssol.table):
                site_tables.append(ssol.table)
    new_sites = (
        pd.concat(site_tables)
        if site_tables
        else pd.DataFrame(columns=list(SITE_COLUMNS)).rename_axis("site_id")
    )
    sole_ids = {
        m: set(sole_providers(cover, assets, points, measure=m, bundles=bundles)) for m in measures
    }
    needed = needed_assets(
        required, covers, assets, assignment=assignment, bundles=bundles, required_ids=sole_ids
    )
    bcase = business_case(
        required,
        redundant,
        new_sites,
        covers,
        sole_threshold=sole_threshold,
        bundles=bundles,
        minutes=minutes,
    )

    # summary per locality and measure
    asset_loc = locality_of(assets["ward_code"], assignment)
    summary = pd.concat([gaps, borough]).sort_index()
    extra = []
    for loc, measure in summary.index:
        cats = set(measure_categories(measure, bundles=bundles))
        here = assets["category"].isin(cats) & ((asset_loc == loc) | (loc == "Luton"))
        req_ids = sole_ids.get(measure, set(required.index[required["category"].isin(cats)]))
        req_here = asset_loc.index.isin(list(req_ids)) & ((asset_loc == loc) | (loc == "Luton"))
        red_here = redundant["category"].isin(cats) & (
            (redundant["locality"] == loc) | (loc == "Luton")
        )
        n_cov = 0
        if measure in covers:
            sel = covers[measure].selected
            n_cov = int(((asset_loc.reindex(sel) == loc) | (loc == "Luton")).sum())
        extra.append(
            {
                "n_assets": int(here.sum()),
                "n_required": int(req_here.sum()),
                "n_redundant": int(red_here.sum()),
                "n_in_minimal_cover": n_cov,
            }
        )
    summary = pd.concat([summary, pd.DataFrame(extra, index=summary.index)], axis=1)
    method: dict[str, Any] = {
        "walk_speed_m_per_min": speed,
        "walk_minutes": minutes,
        "network": network_label,
        "k_new_sites": k,
        "sole_threshold": sole_threshold,
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
        rules=business_case_rules(sole_threshold=sole_threshold, minutes=minutes),
        method=method,
    )
