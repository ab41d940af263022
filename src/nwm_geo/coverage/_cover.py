"""Within-threshold matrices (:class:`Cover`) and per-asset criticality.

In: a :class:`~nwm_geo.coverage.WalkModel` and a walk threshold.
Out: :class:`Cover` (which demand points are within the walk of which sources) and
:func:`asset_criticality` / :func:`cover_criticality` (covered and sole-provider
population per asset) on the asset index.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from tqdm.auto import tqdm

from nwm_geo._display import Display
from nwm_geo._errors import NwmGeoError
from nwm_geo._units import TOLERANCE_M, resolve_minutes, resolve_speed, within_metres
from nwm_geo.coverage._model import WalkModel

__all__ = [
    "Cover",
    "asset_criticality",
    "cover_criticality",
    "coverage_matrix",
    "source_minutes",
]


@dataclass(repr=False, frozen=True, kw_only=True)
class Cover(Display):
    """Which demand points are within the walk threshold of which sources.

    Orientation: **rows are demand points** (``point_index``), **columns are sources**
    (``source_index``: assets, or candidate sites at demand points); ``matrix[i, j]`` is
    True when point ``i`` is within the threshold of source ``j``
    (:func:`nwm_geo._units.within_metres` of the exact network distance).

    Build it with :func:`coverage_matrix`; tests and callers with a matrix of their own
    can build one directly.

    Attributes
    ----------
    matrix
        Boolean sparse matrix, shape (n_points, n_sources), stored as CSR.
    point_index
        The demand point ids (``point_id``), one per row.
    source_index
        The source ids (``asset_id`` or ``point_id``), one per column.
    minutes, speed_m_per_min
        The walk threshold and the speed it was computed at.

    Raises
    ------
    NwmGeoError
        If the shape does not match the indexes, an index has duplicates, or the
        threshold or speed is out of range.
    """

    matrix: sp.csr_matrix
    point_index: pd.Index
    source_index: pd.Index
    minutes: float
    speed_m_per_min: float

    def __post_init__(self) -> None:
        m = sp.csr_matrix(self.matrix, dtype=bool)
        points, sources = pd.Index(self.point_index), pd.Index(self.source_index)
        if m.shape != (len(points), len(sources)):
            raise NwmGeoError(
                f"coverage matrix shape {m.shape} does not match its indexes "
                f"({len(points)} points x {len(sources)} sources)"
            )
        if not points.is_unique or not sources.is_unique:
            raise NwmGeoError("coverage matrix point and source indexes must be unique")
        object.__setattr__(self, "matrix", m)
        object.__setattr__(self, "point_index", points)
        object.__setattr__(self, "source_index", sources)
        object.__setattr__(self, "minutes", resolve_minutes(self.minutes))
        object.__setattr__(self, "speed_m_per_min", resolve_speed(self.speed_m_per_min))

    @property
    def threshold_m(self) -> float:
        """The threshold as a walking distance in metres."""
        return self.minutes * self.speed_m_per_min

    @cached_property
    def csc(self) -> sp.csc_matrix:
        """The matrix in CSC form (fast column slices), converted once per cover."""
        return self.matrix.tocsc()

    def reindex_points(self, point_index: pd.Index) -> Cover:
        """Return this cover with its rows in ``point_index`` order (``self`` if already).

        Raises
        ------
        NwmGeoError
            If a point of ``point_index`` is not a row of this cover.
        """
        if self.point_index.equals(point_index):
            return self
        pos = self.point_index.get_indexer(point_index)
        if (pos < 0).any():
            raise NwmGeoError("the cover has no row for some of the points asked for")
        return Cover(
            matrix=self.matrix[pos],
            point_index=pd.Index(point_index),
            source_index=self.source_index,
            minutes=self.minutes,
            speed_m_per_min=self.speed_m_per_min,
        )


def _source_distances(
    model: WalkModel,
    source_nodes: np.ndarray,
    limit_m: float,
    *,
    chunk: int = 64,
    verbose: bool = False,
    desc: str = "sources",
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``(sources, points, metres)``: bounded Dijkstra from ``chunk`` sources at a time.

    ``sources`` are positions in ``source_nodes`` (snapped ones only), ``points`` the
    positions of the snapped demand points, ``metres`` the distances (sources × points;
    inf beyond ``limit_m`` plus the tolerance, or unreached).
    """
    ok_pts = np.flatnonzero(model.point_nodes >= 0)
    pnodes = model.point_nodes[ok_pts]
    valid = np.flatnonzero(source_nodes >= 0)
    starts = range(0, len(valid), chunk)
    for start in tqdm(starts, disable=not verbose, desc=desc):
        sel = valid[start : start + chunk]
        d = dijkstra(
            model.graph, directed=True, indices=source_nodes[sel], limit=limit_m + TOLERANCE_M
        )
        yield sel, ok_pts, d[:, pnodes]


def _within(
    model: WalkModel,
    source_nodes: np.ndarray,
    limit_m: float,
    *,
    chunk: int = 64,
    verbose: bool = False,
    desc: str = "sources",
) -> sp.csr_matrix:
    """Boolean (n_sources × n_points) matrix: point within ``limit_m`` of the source."""
    n_pts = len(model.point_nodes)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for sel, ok_pts, d in _source_distances(
        model, source_nodes, limit_m, chunk=chunk, verbose=verbose, desc=desc
    ):
        hit_r, hit_c = np.nonzero(within_metres(d, limit_m))
        rows.append(sel[hit_r])
        cols.append(ok_pts[hit_c])
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    data = np.ones(len(r), dtype=bool)
    return sp.csr_matrix((data, (r, c)), shape=(len(source_nodes), n_pts))


def _source_ids_nodes(
    model: WalkModel, sources: str, source_ids: Iterable[Any] | None
) -> tuple[pd.Index, np.ndarray]:
    """Return the ids and model nodes of the chosen sources (all, or ``source_ids``)."""
    if sources == "assets":
        ids, nodes = model.asset_ids, model.asset_nodes
    elif sources == "points":
        ids, nodes = model.point_ids, model.point_nodes
    else:
        raise NwmGeoError(f"sources must be 'assets' or 'points', not {sources!r}")
    if source_ids is not None:
        wanted = pd.Index(list(source_ids))
        pos = ids.get_indexer(wanted)
        if (pos < 0).any():
            raise NwmGeoError(f"Unknown source ids: {list(wanted[pos < 0][:10])}")
        ids, nodes = ids[pos], nodes[pos]
    return pd.Index(ids), nodes


def source_minutes(
    model: WalkModel,
    *,
    sources: Literal["assets", "points"] = "assets",
    source_ids: Iterable[Any] | None = None,
    speed_m_per_min: float | None = None,
    max_minutes: float | None = None,
    verbose: bool = False,
) -> pd.DataFrame:
    """Return walking minutes from each chosen source to every demand point.

    The same bounded Dijkstra runs as :func:`coverage_matrix`, keeping the distances
    instead of the within-threshold flags (for hub catchments and mean walk times).

    Parameters
    ----------
    model
        From :func:`~nwm_geo.coverage.prepare`.
    sources
        ``"assets"`` (the register) or ``"points"`` (sites at the demand points).
    source_ids
        A subset of the sources, by id (default all).
    speed_m_per_min
        Walking speed (default from settings).
    max_minutes
        Stop each search at this many minutes (None: no limit, every reachable point).
    verbose
        Show progress.

    Returns
    -------
    pandas.DataFrame
        Indexed by the model's demand point ids, one column per source id; NaN where a
        point is unreachable, unsnapped or beyond ``max_minutes``.

    Raises
    ------
    NwmGeoError
        If ``sources`` is unknown, a source id is unknown, or the speed or limit is out
        of range.
    """
    speed = resolve_speed(speed_m_per_min)
    limit = np.inf if max_minutes is None else resolve_minutes(max_minutes) * speed
    ids, nodes = _source_ids_nodes(model, sources, source_ids)
    out = np.full((len(model.point_ids), len(ids)), np.nan)
    for sel, ok_pts, d in _source_distances(model, nodes, limit, verbose=verbose):
        block = np.where(np.isfinite(d), d / speed, np.nan)
        out[np.ix_(ok_pts, sel)] = block.T
    return pd.DataFrame(out, index=model.point_ids, columns=ids)


def coverage_matrix(
    model: WalkModel,
    *,
    sources: Literal["assets", "points"] = "assets",
    source_ids: Iterable[Any] | None = None,
    minutes: float | None = None,
    speed_m_per_min: float | None = None,
    verbose: bool = False,
) -> Cover:
    """Which demand points are within the walk threshold of which sources.

    Parameters
    ----------
    model
        From :func:`~nwm_geo.coverage.prepare`.
    sources
        ``"assets"`` (the register) or ``"points"`` (candidate sites at the demand points).
    source_ids
        A subset of the sources, by id (default all).
    minutes, speed_m_per_min
        Threshold and speed (defaults from settings).
    verbose
        Show progress.

    Returns
    -------
    Cover
        Rows the model's demand points, columns the sources, with the threshold.

    Raises
    ------
    NwmGeoError
        If ``sources`` is unknown, a source id is unknown, or the threshold or speed is
        out of range.

    Examples
    --------
    >>> from nwm_geo import coverage, data, network
    >>> ex = data.synthetic_example()
    >>> model = coverage.prepare(network.approximate_graph(ex.points), demand=ex.points,
    ...                          assets=ex.sites)
    >>> cover = coverage.coverage_matrix(model, sources="assets", minutes=15)
    >>> cover.matrix.toarray().astype(int).tolist()  # points x assets: within the walk
    [[1, 0], [1, 0], [1, 0], [0, 1]]
    """
    mins, speed = resolve_minutes(minutes), resolve_speed(speed_m_per_min)
    ids, nodes = _source_ids_nodes(model, sources, source_ids)
    m = _within(model, nodes, mins * speed, verbose=verbose)
    return Cover(
        matrix=m.T.tocsr(),
        point_index=model.point_ids,
        source_index=pd.Index(ids),
        minutes=mins,
        speed_m_per_min=speed,
    )


#: Columns of :func:`cover_criticality` and :func:`asset_criticality`.
CRITICALITY_COLUMNS: tuple[str, ...] = (
    "category",
    "name",
    "covered_population",
    "covered_points",
    "sole_population",
    "sole_points",
    "n_overlapping",
)


def cover_criticality(
    cover: Cover,
    *,
    population: pd.Series | np.ndarray,
    category: pd.Series,
    name: pd.Series | None = None,
) -> pd.DataFrame:
    """Per source, the population it covers and the population only it covers.

    The one implementation of covered and sole-provider population: a point's
    coverers are counted among the sources of the same category only.

    Parameters
    ----------
    cover
        From :func:`coverage_matrix` (``sources="assets"``).
    population
        Population per demand point: a Series on the point ids, or an array in
        ``cover.point_index`` order. Values must be finite and >= 0.
    category
        The category of each source, on the source ids (every source needs one).
    name
        The name of each source, on the source ids (empty text when not given).

    Returns
    -------
    pandas.DataFrame
        On ``cover.source_index``: ``category``, ``name``, ``covered_population``,
        ``covered_points``, ``sole_population`` (population that loses access to the
        category within the threshold if this source closed), ``sole_points`` and
        ``n_overlapping`` (other sources of the category sharing a covered point).

    Raises
    ------
    NwmGeoError
        If a point has no population or a source no category, or a population is not a
        count.
    """
    src = cover.source_index
    if isinstance(population, pd.Series):
        missing = cover.point_index.difference(population.index)
        if len(missing):
            raise NwmGeoError(
                f"{len(missing)} cover point(s) have no population, e.g. {list(missing[:5])}"
            )
        pop = population.reindex(cover.point_index).to_numpy(dtype=float, na_value=np.nan)
    else:
        pop = np.asarray(population, dtype=float)
        if pop.shape != (len(cover.point_index),):
            raise NwmGeoError("population must have one value per cover point")
    if (~np.isfinite(pop) | (pop < 0)).any():
        raise NwmGeoError("population must be a finite number >= 0 at every cover point")
    cats = category.reindex(src)
    if cats.isna().any():
        raise NwmGeoError(f"sources without a category: {list(src[cats.isna().to_numpy()][:5])}")
    names = pd.Series("", index=src) if name is None else name.reindex(src).fillna("")
    by_source = cover.matrix.T.tocsr()
    n = len(src)
    cov_pop, sole_pop = np.zeros(n), np.zeros(n)
    cov_pts, sole_pts, overlap_n = (np.zeros(n, dtype=np.int64) for _ in range(3))
    cat_arr = cats.astype(str).to_numpy()
    for cat in pd.unique(cat_arr):
        idx = np.flatnonzero(cat_arr == cat)
        w = by_source[idx].astype(np.int64)
        cov_pop[idx] = w @ pop
        cov_pts[idx] = np.asarray(w.sum(axis=1)).ravel()
        count = np.asarray(w.sum(axis=0)).ravel()
        sole = w.multiply((count == 1)[None, :]).tocsr()
        sole_pop[idx] = sole @ pop
        sole_pts[idx] = np.asarray(sole.sum(axis=1)).ravel()
        overlap = (w @ w.T).tocsr()
        overlap.setdiag(0)
        overlap.eliminate_zeros()
        overlap_n[idx] = np.diff(overlap.indptr)
    return pd.DataFrame(
        {
            "category": cat_arr,
            "name": names.astype(str).to_numpy(),
            "covered_population": cov_pop,
            "covered_points": cov_pts,
            "sole_population": sole_pop,
            "sole_points": sole_pts,
            "n_overlapping": overlap_n,
        },
        index=src,
    )


def asset_criticality(
    model: WalkModel,
    *,
    minutes: float | None = None,
    speed_m_per_min: float | None = None,
    cover: Cover | None = None,
    verbose: bool = False,
) -> pd.DataFrame:
    """How many people each asset serves, and how many rely on it alone.

    Bounded Dijkstra (``limit`` = threshold distance) from every asset
    (:func:`coverage_matrix`), then :func:`cover_criticality`. Exact.

    Parameters
    ----------
    model
        From :func:`~nwm_geo.coverage.prepare`.
    minutes, speed_m_per_min
        Threshold and speed (defaults from settings).
    cover
        ``coverage_matrix(model, sources="assets")`` for all the model's assets, if
        already computed: it is used instead of running the same Dijkstra again, and
        its threshold applies (so ``minutes`` and ``speed_m_per_min`` must be left None).
    verbose
        Show a progress bar over the sources.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``asset_id``: ``category``, ``name``, ``covered_population``
        (population within the asset's walk), ``covered_points``, ``sole_population``
        (population that loses access to the category within the threshold if this
        asset closed), ``sole_points`` and ``n_overlapping`` (other assets of the
        category sharing a covered point). ``attrs["network"]`` is the network label.

    Raises
    ------
    NwmGeoError
        If ``cover`` is not the all-assets cover of this model, or comes with
        ``minutes`` or ``speed_m_per_min``.

    Examples
    --------
    >>> from nwm_geo import coverage, data, network
    >>> ex = data.synthetic_example()
    >>> model = coverage.prepare(network.approximate_graph(ex.points), demand=ex.points,
    ...                          assets=ex.sites)
    >>> crit = coverage.asset_criticality(model)
    >>> crit["sole_points"].to_dict()  # demand points only this site reaches
    {'A1': 3, 'A2': 1}
    """
    if cover is None:
        cover = coverage_matrix(
            model, minutes=minutes, speed_m_per_min=speed_m_per_min, verbose=verbose
        )
    else:
        if minutes is not None or speed_m_per_min is not None:
            raise NwmGeoError(
                "Give cover= or minutes=/speed_m_per_min=, not both: cover fixes the threshold."
            )
        if not (
            cover.point_index.equals(model.point_ids) and cover.source_index.equals(model.asset_ids)
        ):
            raise NwmGeoError(
                "cover must be coverage_matrix(model, sources='assets') of this model, "
                "for all its demand points and assets."
            )
    out = cover_criticality(
        cover, population=model.population, category=model.category, name=model.name
    )
    out.attrs["network"] = model.label
    return out
