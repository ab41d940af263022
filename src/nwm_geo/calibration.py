"""How far the postcode-proximity approximation is from a real (OSM) walk network.

In: a real walk network (normally :func:`nwm_geo.network.graph_from_osm_file`), postcode
points, and for the verdict comparison demand points (with ``population``) and assets
(with ``category``).
Out: :class:`DistanceComparison` (walking distances between seeded random pairs of
postcodes on both networks, and their summary statistics) and :class:`VerdictFlips`
(the share of residents whose "within the walk threshold" verdict differs between the
two networks, per category and bundle).

Every point is inserted on its nearest edge of each network exactly as the coverage
stage does (:func:`nwm_geo.coverage.prepare`), so the distances compared are the ones
the outputs would use. This module sits above :mod:`nwm_geo.network` and
:mod:`nwm_geo.coverage` and uses only their public API. The figures measured on Rutland
are in ``benchmarks/results/network_calibration.json`` (``benchmarks/calibrate_network.py``)
and docs/network.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra
from tqdm.auto import tqdm

from nwm_geo import coverage, network, settings
from nwm_geo._checks import checks_crs
from nwm_geo._errors import NwmGeoError
from nwm_geo._units import (
    resolve_minutes,
    resolve_speed,
    threshold_m,
    within_metres,
    within_minutes,
)

if TYPE_CHECKING:  # networkx loads where a graph is built or read
    import networkx as nx

__all__ = [
    "CompareOptions",
    "DistanceComparison",
    "DistanceSummary",
    "FlipOptions",
    "VerdictFlips",
    "compare_distances",
    "network_distances",
    "verdict_flips",
]

_CHUNK = 64  # Dijkstra sources per call: bounds memory at chunk × model nodes


@dataclass(frozen=True)
class CompareOptions:
    """Which pairs :func:`compare_distances` compares and how it builds the approximation.

    Attributes
    ----------
    max_dist_m
        Longest OSM walking distance of an eligible pair (metres).
    detour_factor, max_edge_m, edge_offset_m, long_detour_factor, long_edge_max_m
        Passed to :func:`nwm_geo.network.approximate_graph` (``None``: its defaults, the
        fitted :data:`nwm_geo.network.CALIBRATION`).
    minutes, speed_m_per_min
        The walk threshold for ``same_side_share`` (``None``: the settings).
    """

    max_dist_m: float = 2000.0
    detour_factor: float | None = None
    max_edge_m: float | None = None
    edge_offset_m: float | None = None
    long_detour_factor: float | None = None
    long_edge_max_m: float | None = None
    minutes: float | None = None
    speed_m_per_min: float | None = None

    def approximation(self, points: gpd.GeoDataFrame) -> nx.MultiDiGraph:
        """Return :func:`nwm_geo.network.approximate_graph` of ``points`` with these options."""
        return network.approximate_graph(
            points,
            detour_factor=self.detour_factor,
            max_edge_m=self.max_edge_m,
            edge_offset_m=self.edge_offset_m,
            long_detour_factor=self.long_detour_factor,
            long_edge_max_m=self.long_edge_max_m,
        )


@dataclass(frozen=True)
class FlipOptions:
    """The threshold, speed, categories and bundles :func:`verdict_flips` compares.

    Attributes
    ----------
    minutes, speed_m_per_min
        The threshold and walking speed (``None``: the settings).
    categories
        Categories to report (default: those of ``settings.CATEGORIES`` that some asset
        has, then any other category the assets have).
    bundles
        Bundle name → categories (default ``settings.BUNDLES``).
    """

    minutes: float | None = None
    speed_m_per_min: float | None = None
    categories: Sequence[str] | None = None
    bundles: Mapping[str, Sequence[str]] | None = None


@dataclass(frozen=True)
class DistanceSummary:
    """Summary of approximate versus OSM walking distances over the compared pairs.

    Attributes
    ----------
    n_points
        Postcode points used (each one a node of the approximation).
    n_pairs
        Pairs compared.
    median_ratio, p10_ratio, p90_ratio
        Median, 10th and 90th percentile of approximate ÷ OSM distance.
    median_abs_error_m, p90_abs_error_m
        Median and 90th percentile of |approximate − OSM| (metres).
    median_pct_error
        Median of the absolute error as a percentage of the OSM distance.
    threshold_m
        The walk threshold used for ``same_side_share`` (metres).
    same_side_share
        Share of pairs that both networks put on the same side of ``threshold_m``.
    osm_over_straight_median
        Median of OSM distance ÷ straight-line distance.
    median_osm_snap_m
        Median straight distance from a point to its nearest OSM edge (the leaf each OSM
        distance starts and ends with; the approximation has none).
    detour_factor, max_edge_m
        The approximation's parameters.
    max_dist_m
        Only pairs with OSM distance in (0, max_dist_m] were eligible.
    seed
        Random seed of the pair sample.
    """

    n_points: int
    n_pairs: int
    median_ratio: float
    p10_ratio: float
    p90_ratio: float
    median_abs_error_m: float
    p90_abs_error_m: float
    median_pct_error: float
    threshold_m: float
    same_side_share: float
    osm_over_straight_median: float
    median_osm_snap_m: float
    detour_factor: float
    max_edge_m: float
    max_dist_m: float
    seed: int

    def as_dict(self) -> dict[str, float | int]:
        """Return the fields as a plain dict (for JSON)."""
        return asdict(self)


@dataclass(frozen=True)
class DistanceComparison:
    """Walking distances between postcode pairs on the OSM and approximate networks.

    Attributes
    ----------
    pairs
        One row per pair: ``origin``, ``destination`` (point ids), ``straight_m``,
        ``osm_m``, ``approx_m``, ``ratio`` (approx ÷ OSM), ``abs_error_m``, ``pct_error``.
    summary
        The statistics over ``pairs``.
    approx_label, osm_label
        :func:`nwm_geo.network.network_label` of each network.
    """

    pairs: pd.DataFrame
    summary: DistanceSummary
    approx_label: str
    osm_label: str


@dataclass(frozen=True)
class VerdictFlips:
    """Residents whose walk-threshold verdict differs between two networks.

    Attributes
    ----------
    table
        Indexed by ``category`` (categories, then bundles, then the "all three bundles"
        row: within every bundle). Columns: ``population`` (total weight),
        ``within_osm_share``, ``within_approx_share``, ``flip_share`` (within on one
        network and not on the other), ``approx_only_share`` (the approximation says
        within, OSM says not), ``osm_only_share`` (the reverse). Shares are of
        ``population``.
    minutes_osm, minutes_approx
        :func:`nwm_geo.coverage.nearest_minutes` on each network (index of the demand).
    weighting
        ``"population"`` or ``"unweighted"`` (every demand point counts 1).
    minutes, speed_m_per_min
        The threshold and speed used.
    """

    table: pd.DataFrame
    minutes_osm: pd.DataFrame
    minutes_approx: pd.DataFrame
    weighting: str
    minutes: float
    speed_m_per_min: float


def _no_assets(crs: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"category": pd.Series([], dtype=str)}, geometry=[], crs=crs)


def _model(G: nx.MultiDiGraph, points: gpd.GeoDataFrame) -> coverage.WalkModel:
    """Insert the points (weight 1) on their nearest edges of ``G``."""
    demand = gpd.GeoDataFrame({"population": 1.0}, geometry=points.geometry, index=points.index)
    return coverage.prepare(G, demand=demand, assets=_no_assets(points.crs))


def _distances(
    model: coverage.WalkModel,
    origins: np.ndarray,
    *,
    limit: float = np.inf,
    verbose: bool = False,
    desc: str = "origins",
) -> np.ndarray:
    """Network distance (m) from each origin point to every point: (len(origins), n)."""
    nodes = model.point_nodes
    out = np.full((len(origins), len(nodes)), np.inf)
    ok = nodes >= 0
    for start in tqdm(range(0, len(origins), _CHUNK), disable=not verbose, desc=desc):
        rows = np.arange(start, min(start + _CHUNK, len(origins)))
        src = nodes[origins[rows]]
        good = src >= 0
        if not good.any():
            continue
        d = dijkstra(model.graph, directed=True, indices=src[good], limit=limit)
        block = np.full((good.sum(), len(nodes)), np.inf)
        block[:, ok] = d[:, nodes[ok]]
        out[rows[good]] = block
    return out


def _as_points(points: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoDataFrame:
    frame = points if isinstance(points, gpd.GeoDataFrame) else gpd.GeoDataFrame(geometry=points)
    if frame.crs is None:
        raise NwmGeoError("The points have no CRS; give them one (EPSG:27700).")
    if not frame.crs.equals(settings.crs):
        frame = frame.to_crs(settings.crs)
    if not frame.index.is_unique:
        raise NwmGeoError("The points' index (point ids) has duplicates.")
    keep = ~(frame.geometry.is_empty | frame.geometry.isna())
    return frame[keep]


@checks_crs
def network_distances(
    G: nx.MultiDiGraph,
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    limit_m: float = np.inf,
    verbose: bool = False,
) -> pd.DataFrame:
    """Return the walking distance (m) between every pair of points over ``G``.

    Every point is inserted on its nearest edge (:func:`nwm_geo.coverage.prepare`), as
    the coverage stage does, and one Dijkstra run per point gives its distances.

    Parameters
    ----------
    G
        A projected walk network (OSM or the approximation).
    points
        Points in EPSG:27700 (other CRSs are converted), indexed by unique point id.
    limit_m
        Distances above this are ``inf``.
    verbose
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        Square, indexed and columned by point id (``inf`` where unreachable).

    Raises
    ------
    NwmGeoError
        If the points have no CRS or duplicate ids.
    """
    pts = _as_points(points)
    model = _model(G, pts)
    d = _distances(model, np.arange(len(pts)), limit=limit_m, verbose=verbose)
    return pd.DataFrame(d, index=pts.index, columns=pts.index)


@checks_crs
def compare_distances(
    G_osm: nx.MultiDiGraph,
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    n_pairs: int = 2000,
    seed: int = 0,
    options: CompareOptions | None = None,
    verbose: bool = False,
) -> DistanceComparison:
    """Compare walking distances between postcode pairs on OSM and on the approximation.

    The approximation is built from the same ``points``
    (:func:`nwm_geo.network.approximate_graph`). Every point is inserted on its nearest
    edge of each network (:func:`nwm_geo.coverage.prepare`). All pairs of points with an
    OSM walking distance in (0, ``options.max_dist_m``] are eligible (each unordered pair once);
    ``n_pairs`` of them are drawn at random with ``seed`` (all of them if there are
    fewer), and their distance over the approximation is computed.

    Parameters
    ----------
    G_osm
        A real projected walk network (EPSG:27700, edges with ``length``).
    points
        Postcode points in EPSG:27700 (other CRSs are converted), indexed by point id.
    n_pairs
        Number of pairs to compare.
    seed
        Random seed of the pair sample.
    options
        The longest eligible walk, the approximation's parameters and the threshold
        (default :class:`CompareOptions`: 2,000 m, the fitted defaults, the settings).
    verbose
        Show progress bars.

    Returns
    -------
    DistanceComparison
        The pairs and their summary.

    Raises
    ------
    NwmGeoError
        If the points have no CRS or duplicate ids, or no pair is eligible.
    NetworkError
        If the approximation cannot be built from the points.
    """
    opt = CompareOptions() if options is None else options
    max_dist_m = opt.max_dist_m
    pts = _as_points(points)
    G_apx = opt.approximation(pts)
    model_osm = _model(G_osm, pts)
    model_apx = _model(G_apx, pts)
    n = len(pts)
    everyone = np.arange(n)
    d_osm = _distances(model_osm, everyone, limit=max_dist_m, verbose=verbose, desc="OSM")
    upper = np.triu(np.ones((n, n), dtype=bool), k=1)
    oi, dj = np.nonzero(upper & np.isfinite(d_osm) & (d_osm > 0) & (d_osm <= max_dist_m))
    if len(oi) == 0:
        raise NwmGeoError(f"No pair of points is within {max_dist_m:g} m on the OSM network.")
    rng = np.random.default_rng(seed)
    if len(oi) > n_pairs:
        sel = np.sort(rng.choice(len(oi), size=n_pairs, replace=False))
        oi, dj = oi[sel], dj[sel]
    origins, inverse = np.unique(oi, return_inverse=True)
    d_apx = _distances(model_apx, origins, verbose=verbose, desc="approximation")
    xy = np.column_stack([pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()])
    ids = pts.index.to_numpy()
    pairs = pd.DataFrame(
        {
            "origin": ids[oi],
            "destination": ids[dj],
            "straight_m": np.hypot(*(xy[oi] - xy[dj]).T),
            "osm_m": d_osm[oi, dj],
            "approx_m": d_apx[inverse, dj],
        }
    )
    pairs["ratio"] = pairs["approx_m"] / pairs["osm_m"]
    pairs["abs_error_m"] = (pairs["approx_m"] - pairs["osm_m"]).abs()
    pairs["pct_error"] = 100 * pairs["abs_error_m"] / pairs["osm_m"]
    limit = threshold_m(opt.minutes, opt.speed_m_per_min)
    same = within_metres(pairs["osm_m"], limit) == within_metres(pairs["approx_m"], limit)
    summary = DistanceSummary(
        n_points=n,
        n_pairs=len(pairs),
        median_ratio=float(pairs["ratio"].median()),
        p10_ratio=float(pairs["ratio"].quantile(0.1)),
        p90_ratio=float(pairs["ratio"].quantile(0.9)),
        median_abs_error_m=float(pairs["abs_error_m"].median()),
        p90_abs_error_m=float(pairs["abs_error_m"].quantile(0.9)),
        median_pct_error=float(pairs["pct_error"].median()),
        threshold_m=limit,
        same_side_share=float(same.mean()),
        osm_over_straight_median=float((pairs["osm_m"] / pairs["straight_m"]).median()),
        median_osm_snap_m=float(model_osm.point_snaps["snap_m"].median()),
        detour_factor=float(G_apx.graph["detour_factor"]),
        max_edge_m=float(G_apx.graph["max_edge_m"]),
        max_dist_m=float(max_dist_m),
        seed=int(seed),
    )
    return DistanceComparison(
        pairs=pairs,
        summary=summary,
        approx_label=network.network_label(G_apx),
        osm_label=network.network_label(G_osm),
    )


@checks_crs
def verdict_flips(
    G_osm: nx.MultiDiGraph,
    G_approx: nx.MultiDiGraph,
    *,
    demand: gpd.GeoDataFrame,
    assets: gpd.GeoDataFrame,
    options: FlipOptions | None = None,
    verbose: bool = False,
) -> VerdictFlips:
    """Share of residents whose walk-threshold verdict differs between two networks.

    On each network the demand points and assets are inserted
    (:func:`nwm_geo.coverage.prepare`) and the walk time to the nearest asset of each
    category and bundle is computed (:func:`nwm_geo.coverage.nearest_minutes`). A point
    is within if that time is within ``options.minutes`` (:func:`nwm_geo._units.within_minutes`);
    a point with no reachable asset is not within. A point's verdict flips if it is
    within on one network and not on the other.

    Parameters
    ----------
    G_osm
        The real walk network.
    G_approx
        The approximation (any second network works the same way).
    demand
        Demand points, indexed by point id, with ``population`` if residents are to be
        weighted (without it every point counts 1).
    assets
        Assets, indexed by asset id, with ``category``.
    options
        Threshold, speed, categories and bundles (default :class:`FlipOptions`: the
        settings, the categories the assets have, ``settings.BUNDLES``).
    verbose
        Print progress.

    Returns
    -------
    VerdictFlips
        The per-category table and the minutes on each network.

    Raises
    ------
    NwmGeoError
        As :func:`nwm_geo.coverage.prepare` and :func:`nwm_geo.coverage.nearest_minutes`
        (missing columns, bad populations, unknown categories), or if the total
        population is 0.
    """
    opt = FlipOptions() if options is None else options
    thr = resolve_minutes(opt.minutes)
    speed = resolve_speed(opt.speed_m_per_min)
    categories, bundles = opt.categories, opt.bundles
    weighting = "population" if "population" in demand.columns else "unweighted"
    dem = demand if weighting == "population" else demand.assign(population=1.0)
    if categories is None:
        held = set(assets["category"].astype(str)) if "category" in assets.columns else set()
        cats = [c for c in settings.CATEGORIES if c in held]
        cats += sorted(held - set(settings.CATEGORIES))
    else:
        cats = list(categories)
    bund = {k: tuple(v) for k, v in (settings.BUNDLES if bundles is None else bundles).items()}
    tables: list[pd.DataFrame] = []
    for G in (G_osm, G_approx):
        model = coverage.prepare(G, demand=dem, assets=assets, verbose=verbose)
        tables.append(
            coverage.nearest_minutes(
                model, speed_m_per_min=speed, categories=cats, bundles=bund, verbose=verbose
            )
        )
    minutes_osm, minutes_apx = tables
    pop = pd.to_numeric(dem["population"]).to_numpy(dtype=float)
    total = float(pop.sum())
    if total <= 0:
        raise NwmGeoError("The demand's total population is 0: no share can be computed.")
    w_osm = within_minutes(minutes_osm, thr, speed_m_per_min=speed).to_numpy(bool)
    w_apx = within_minutes(minutes_apx, thr, speed_m_per_min=speed).to_numpy(bool)
    columns = list(minutes_osm.columns)
    present = [b for b in bund if b in columns]
    if present:
        where = [columns.index(b) for b in present]
        w_osm = np.column_stack([w_osm, w_osm[:, where].all(axis=1)])
        w_apx = np.column_stack([w_apx, w_apx[:, where].all(axis=1)])
        columns.append(coverage.all_bundles_label(bund))

    def share(flags: np.ndarray) -> np.ndarray:
        return np.asarray((pop @ flags) / total, dtype=float)

    table = pd.DataFrame(
        {
            "population": total,
            "within_osm_share": share(w_osm),
            "within_approx_share": share(w_apx),
            "flip_share": share(w_osm != w_apx),
            "approx_only_share": share(w_apx & ~w_osm),
            "osm_only_share": share(w_osm & ~w_apx),
        },
        index=pd.Index(columns, name="category"),
    )
    return VerdictFlips(
        table=table,
        minutes_osm=minutes_osm,
        minutes_approx=minutes_apx,
        weighting=weighting,
        minutes=thr,
        speed_m_per_min=speed,
    )
