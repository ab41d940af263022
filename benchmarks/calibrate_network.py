"""Measure the postcode-proximity approximation against OSM on real Rutland data (not a test).

Rutland has both real Code-Point postcodes and a real OpenStreetMap extract, so the
approximation (:func:`nwm_geo.network.approximate_graph`, built from the postcodes) can
be compared with the OSM walk network (:func:`nwm_geo.network.graph_from_osm_file`):

1. walking distances between seeded random pairs of postcodes, both inserted on their
   nearest edge (:func:`nwm_geo.calibration.compare_distances`), at the defaults and,
   unless ``--quick``, for a few ``max_edge_m`` values with the detour factor refitted;
2. the share of residents whose 15-minute verdict flips between the two networks, per
   category and bundle (:func:`nwm_geo.calibration.verdict_flips`);
3. other model families against the flip target (:data:`FAMILIES`: a per-walk access
   term, a density split, Gabriel and relative-neighbourhood graphs), each fitted on the
   training half by the same rule, and the flip share a network with a given error
   would give (:func:`noise_bound`); ``--attempts-only`` re-runs just these and updates
   ``attempts`` in the JSON.

Writes ``benchmarks/results/network_calibration.json`` (settings, inputs with sha256,
network labels, figures, time taken).

Run: ``python benchmarks/calibrate_network.py [--data-dir data/raw] [--quick | --attempts-only]``.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from nwm_geo import calibration, coverage, network, settings
from nwm_geo._io import atomic_path
from nwm_geo._units import resolve_minutes, resolve_speed, within_minutes
from nwm_geo.pipeline import Study

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "network_calibration.json"
OSM_FILE = Path("osm") / "rutland-2022-07-20.osm.pbf"


def sha256(path: Path) -> str:
    """Return the hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class RutlandInputs:
    """What the calibration needs: Rutland's postcodes, demand points and assets."""

    postcodes: gpd.GeoDataFrame  # index point_id (postcode), EPSG:27700
    demand: gpd.GeoDataFrame  # index point_id, with population
    assets: gpd.GeoDataFrame  # index asset_id, with name, category
    weighting: str
    files: list[Path] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)


def load_rutland(data_dir: Path) -> RutlandInputs:
    """Rutland's postcodes, demand points and open register, as the pipeline builds them.

    ``Study(area="rutland")``: Census 2021 LSOA totals spread over the postcodes by the
    Census 2011 OA weights and integerised (:func:`nwm_geo.data.build_demand_points`),
    and the de-duplicated open register's sites inside Rutland.
    """
    study = Study(area="rutland", data_dir=data_dir)
    area = study.profile
    pcs = study.postcodes[study.postcodes["in_borough"]]
    postcodes = gpd.GeoDataFrame(
        {"admin_ward_code": pcs["ward_code"], "admin_ward_name": pcs["ward_name"] + " Ward"},
        geometry=pcs.geometry.to_numpy(),
        index=pd.Index(pcs.index, name="point_id"),
        crs=pcs.crs,
    )
    register = study.register[study.register["inside_area"].astype(bool)]
    files = [data_dir / rel for rel in area.files.values()]
    files += [data_dir / s.file for s in area.sources]
    return RutlandInputs(
        postcodes=postcodes,
        demand=study.demand,
        assets=register[["name", "category", "geometry"]],
        weighting=(
            "Study(area='rutland').demand: each LSOA21's Census 2021 usual residents spread "
            "over its Code-Point postcodes by Census 2011 OA weights, integerised; communal "
            "establishments (HMP Stocken, Kendrew Barracks, boarding schools) included"
        ),
        files=sorted(set(files)),
        notes={
            "population_total": int(study.demand["population"].sum()),
            "assets_by_category": register["category"].value_counts().sort_index().to_dict(),
            "register": "the open register of Study(area='rutland'), sites inside Rutland",
        },
    )


#: Wards of Rutland's two towns: the most urban pairs Rutland has, closest to Luton.
TOWN_WARDS = (
    "Oakham North East Ward",
    "Oakham North West Ward",
    "Oakham South Ward",
    "Uppingham Ward",
)


def pair_stats(pairs: pd.DataFrame) -> dict[str, float]:
    """Return the statistics of :class:`calibration.DistanceSummary` for a subset of pairs."""
    r = pairs["ratio"]
    return {
        "n_pairs": len(pairs),
        "median_ratio": float(r.median()),
        "p10_ratio": float(r.quantile(0.1)),
        "p90_ratio": float(r.quantile(0.9)),
        "median_abs_error_m": float(pairs["abs_error_m"].median()),
        "p90_abs_error_m": float(pairs["abs_error_m"].quantile(0.9)),
    }


def in_towns(pairs: pd.DataFrame, postcodes: pd.DataFrame) -> pd.Series:
    """Whether both postcodes of each pair lie in a town ward."""
    town = postcodes["admin_ward_name"].isin(TOWN_WARDS)
    return pairs["origin"].map(town) & pairs["destination"].map(town)


def _round(obj: Any, nd: int = 4) -> Any:
    if isinstance(obj, float):
        return round(obj, nd)
    if isinstance(obj, dict):
        return {k: _round(v, nd) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_round(v, nd) for v in obj]
    return obj


#: OSM walking distance bands (minutes at the speed) for the error by distance.
BAND_MINUTES = (0, 5, 10, 15, 20, 30, 45, 60, 90, 240)

#: The model's parameters searched on the training half: short-link factor, edge offset
#: (m), longest short link (m), long-link factor. Long links are kept up to LONG_MAX_M.
GRID = {
    "detour_factor": (1.15, 1.2, 1.25, 1.3, 1.35),
    "edge_offset_m": (0.0, 5.0, 10.0, 15.0),
    "max_edge_m": (300.0, 400.0),
    "long_detour_factor": (1.1, 1.2),
}
LONG_MAX_M = 3000.0
TARGET_MEDIAN = (0.97, 1.03)
TARGET_FLIPS = 0.03


def ratio_stats(approx: np.ndarray, osm: np.ndarray) -> dict[str, float]:
    """Median, p10 and p90 of approx ÷ OSM, the pairs and the median abs error (m)."""
    r = approx / osm
    return {
        "n_pairs": len(r),
        "median_ratio": float(np.median(r)) if len(r) else float("nan"),
        "p10_ratio": float(np.quantile(r, 0.1)) if len(r) else float("nan"),
        "p90_ratio": float(np.quantile(r, 0.9)) if len(r) else float("nan"),
        "median_abs_error_m": float(np.median(np.abs(approx - osm))) if len(r) else float("nan"),
    }


@dataclass
class PairSets:
    """Upper-triangle postcode pairs with their OSM distance and who they belong to."""

    i: np.ndarray
    j: np.ndarray
    osm: np.ndarray
    train: np.ndarray  # both ends in the training half
    held: np.ndarray  # both ends in the held-out half
    town: np.ndarray  # both ends in a town ward
    village: np.ndarray  # both ends outside the towns


def pair_sets(d_osm: pd.DataFrame, postcodes: pd.DataFrame, half: np.ndarray) -> PairSets:
    """Every reachable pair of distinct postcode locations, split train / held-out."""
    i, j = np.triu_indices(len(d_osm), k=1)
    osm = d_osm.to_numpy()[i, j]
    ok = np.isfinite(osm) & (osm > 0)
    i, j, osm = i[ok], j[ok], osm[ok]
    town = postcodes["admin_ward_name"].reindex(d_osm.index).isin(TOWN_WARDS).to_numpy()
    return PairSets(
        i, j, osm, half[i] & half[j], ~half[i] & ~half[j], town[i] & town[j], ~town[i] & ~town[j]
    )


def approx_pairs(G_apx: Any, postcodes: gpd.GeoDataFrame, sets: PairSets) -> np.ndarray:
    """Return the approximation's distance for every pair of ``sets``."""
    d = calibration.network_distances(G_apx, postcodes).to_numpy()
    return d[sets.i, sets.j]


def flip_shares(
    flips: calibration.VerdictFlips,
    in_half: np.ndarray,
    pop: np.ndarray,
    town: np.ndarray | None = None,
) -> dict[str, Any]:
    """Flip share of all three bundles (and each bundle) for all, train and held-out residents."""
    thr, speed = flips.minutes, flips.speed_m_per_min
    bundles = [b for b in settings.BUNDLES if b in flips.minutes_osm.columns]
    w_osm = within_minutes(flips.minutes_osm[bundles], thr, speed_m_per_min=speed)
    w_apx = within_minutes(flips.minutes_approx[bundles], thr, speed_m_per_min=speed)
    w_osm["all three bundles"] = w_osm.all(axis=1)
    w_apx["all three bundles"] = w_apx.all(axis=1)
    flip = (w_osm != w_apx).to_numpy(float)
    out: dict[str, Any] = {}
    groups = [("all", np.ones(len(pop), bool)), ("train", in_half), ("held_out", ~in_half)]
    if town is not None:
        groups += [("town_residents", town), ("village_residents", ~town)]
    for name, sel in groups:
        shares = pop[sel] @ flip[sel] / pop[sel].sum()
        out[name] = dict(zip(w_osm.columns, (float(v) for v in shares), strict=True))
    return out


def flip_counts(
    flips: calibration.VerdictFlips, pop: np.ndarray, town: np.ndarray
) -> dict[str, Any]:
    """Residents and postcodes whose all-three-bundles verdict flips, with the towns' part.

    Also the longest OSM walk to a bundle (minutes) of the flipping postcodes: near the
    threshold on both sides is noise, far from it would be bias.
    """
    thr, speed = flips.minutes, flips.speed_m_per_min
    bundles = [b for b in settings.BUNDLES if b in flips.minutes_osm.columns]
    w_osm = within_minutes(flips.minutes_osm[bundles], thr, speed_m_per_min=speed).all(axis=1)
    w_apx = within_minutes(flips.minutes_approx[bundles], thr, speed_m_per_min=speed).all(axis=1)
    flip = (w_osm != w_apx).to_numpy(bool)
    longest = flips.minutes_osm[bundles].max(axis=1).to_numpy(float)[flip]
    return {
        "residents": round(float(pop[flip].sum())),
        "postcodes": int(flip.sum()),
        "postcodes_total": len(flip),
        "postcodes_in_towns": int((flip & town).sum()),
        "longest_osm_walk_to_a_bundle_min": (
            [round(float(longest.min()), 1), round(float(longest.max()), 1)] if flip.any() else None
        ),
    }


def by_band(approx: np.ndarray, sets: PairSets, speed: float) -> list[dict[str, Any]]:
    """Ratio statistics per OSM walking-time band (all pairs)."""
    rows = []
    mins = sets.osm / speed
    for lo, hi in itertools.pairwise(BAND_MINUTES):
        sel = (mins > lo) & (mins <= hi)
        rows.append({"osm_minutes": f"{lo}-{hi}", **ratio_stats(approx[sel], sets.osm[sel])})
    return rows


def holds_up_to(bands: list[dict[str, Any]], lo: float = 0.9, hi: float = 1.1) -> str:
    """Return the walking times (bands) over which the median ratio stays in [lo, hi]."""
    good = [b["osm_minutes"] for b in bands if lo <= b["median_ratio"] <= hi]
    bad = [b["osm_minutes"] for b in bands if not lo <= b["median_ratio"] <= hi]
    return (
        f"median ratio within {lo}-{hi} for OSM walks of {', '.join(good) or 'no band'} "
        f"minutes; outside it for {', '.join(bad) or 'no band'} minutes"
    )


def evaluate(
    params: dict[str, float], inputs: RutlandInputs, sets: PairSets, limit_m: float
) -> dict[str, Any]:
    """Distance statistics of one parameter set on the train and held-out pairs."""
    G_apx = network.approximate_graph(inputs.postcodes, long_edge_max_m=LONG_MAX_M, **params)
    approx = approx_pairs(G_apx, inputs.postcodes, sets)
    short = sets.osm <= limit_m
    return {
        "params": {**params, "long_edge_max_m": LONG_MAX_M},
        "approx": approx,
        "graph": G_apx,
        "train": ratio_stats(approx[short & sets.train], sets.osm[short & sets.train]),
        "held_out": ratio_stats(approx[short & sets.held], sets.osm[short & sets.held]),
    }


def fit(
    inputs: RutlandInputs, G_osm: Any, sets: PairSets, half_demand: np.ndarray, limit_m: float
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Grid search on the training half: median ratio in the target, then fewest flips."""
    pop = inputs.demand["population"].to_numpy(float)

    tried: list[dict[str, Any]] = []
    keys = list(GRID)
    for values in tqdm(list(itertools.product(*GRID.values())), desc="grid"):
        params = dict(zip(keys, values, strict=True))
        ev = evaluate(params, inputs, sets, limit_m)
        row = {"params": ev["params"], "train": ev["train"], "held_out": ev["held_out"]}
        lo, hi = TARGET_MEDIAN
        if lo <= ev["train"]["median_ratio"] <= hi:
            flips = calibration.verdict_flips(
                G_osm, ev["graph"], demand=inputs.demand, assets=inputs.assets
            )
            row["flip_share_all_three"] = flip_shares(flips, half_demand, pop)
        tried.append(row)
    ok = [r for r in tried if "flip_share_all_three" in r]
    best = min(  # fewest train flips, then the train median closest to 1
        ok,
        key=lambda r: (
            round(r["flip_share_all_three"]["train"]["all three bundles"], 6),
            abs(r["train"]["median_ratio"] - 1),
        ),
    )
    return best, tried


# ---------------------------------------------------------------------------------------
# Other model families tried against the flip target (issue 21): each fitted on the
# training half by the same rule as the grid above, the held-out half reported.

#: Per-walk access/egress term (m) added once to every walk, instead of (or besides) the
#: per-hop offset: the short-walk bias (0.89 under 5 minutes) is a per-walk shortfall.
ACCESS_M = (0.0, 25.0, 50.0, 75.0, 100.0, 150.0)
FAMILIES: dict[str, dict[str, tuple[Any, ...]]] = {
    "delaunay_access": {  # the library's graph, plus a per-walk access/egress term
        "keep": ("delaunay",),
        "detour_factor": (1.1, 1.15, 1.2, 1.25, 1.3),
        "edge_offset_m": (0.0, 5.0),
        "max_edge_m": (300.0, 400.0),
        "access_m": ACCESS_M,
    },
    "density_split": {  # short links x a sparse factor where postcodes are sparse
        "keep": ("delaunay",),
        "detour_factor": (1.25, 1.3, 1.35),
        "edge_offset_m": (5.0,),
        "max_edge_m": (400.0,),
        "sparse_k5_m": (150.0, 250.0),
        "sparse_detour_factor": (1.1, 1.2, 1.4),
        "access_m": (0.0,),
    },
    "gabriel_access": {  # Gabriel neighbours only (plus the spanning tree), access term
        "keep": ("gabriel",),
        "detour_factor": (1.1, 1.15, 1.2, 1.25, 1.3),
        "edge_offset_m": (0.0, 5.0),
        "max_edge_m": (400.0,),
        "access_m": (0.0, 25.0, 50.0, 75.0),
    },
    "rng_access": {  # relative-neighbourhood graph (sparser still), access term
        "keep": ("rng",),
        "detour_factor": (1.1, 1.15, 1.2, 1.25, 1.3),
        "edge_offset_m": (0.0, 5.0),
        "max_edge_m": (400.0,),
        "access_m": (0.0, 25.0, 50.0, 75.0),
    },
}
#: Graph parameters of a family (the access term is added to the distances afterwards).
_GRAPH_KEYS = ("keep", "detour_factor", "edge_offset_m", "max_edge_m", "sparse_k5_m",
               "sparse_detour_factor")  # fmt: skip


def _neighbour_filter(xy: np.ndarray, pairs: np.ndarray, straight: np.ndarray, keep: str) -> Any:
    """Which Delaunay edges are Gabriel (or relative-neighbourhood) edges."""
    from scipy.spatial import cKDTree

    if keep == "delaunay":
        return np.ones(len(pairs), bool)
    tree = cKDTree(xy)
    mid = (xy[pairs[:, 0]] + xy[pairs[:, 1]]) / 2
    if keep == "gabriel":  # no other point inside the circle on the edge as diameter
        inside = tree.query_ball_point(mid, straight / 2 * (1 - 1e-9), return_length=True)
        return np.asarray(inside == 0)
    ok = np.ones(len(pairs), bool)  # relative neighbourhood: no point nearer both ends
    for e, (a, b) in enumerate(pairs):
        cand = tree.query_ball_point(mid[e], straight[e])
        da = np.hypot(*(xy[cand] - xy[a]).T)
        db = np.hypot(*(xy[cand] - xy[b]).T)
        ok[e] = not np.any(np.maximum(da, db) < straight[e] - 1e-9)
    return ok


def variant_graph(points: gpd.GeoDataFrame, params: dict[str, Any]) -> Any:
    """Build an experimental variant of :func:`network.approximate_graph` (same layout).

    ``keep="delaunay"`` with no ``sparse_k5_m`` reproduces ``approximate_graph`` exactly
    (checked in :func:`attempts`); ``gabriel``/``rng`` keep only those neighbours among
    the triangle edges (the spanning tree always); ``sparse_k5_m``: a short link with an
    end whose 5th-nearest postcode is farther than this gets ``sparse_detour_factor``.
    """
    import networkx as nx
    import shapely
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import minimum_spanning_tree
    from scipy.spatial import Delaunay, cKDTree

    xy = np.unique(np.column_stack([points.geometry.x, points.geometry.y]), axis=0)
    s = Delaunay(xy).simplices
    pairs = np.unique(np.sort(np.vstack([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]]), 1), axis=0)
    straight = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
    n = len(xy)
    mst = minimum_spanning_tree(
        coo_matrix((straight + 1e-9, (pairs[:, 0], pairs[:, 1])), shape=(n, n)).tocsr()
    ).tocoo()
    in_mst = {(min(a, b), max(a, b)) for a, b in zip(mst.row, mst.col, strict=True)}
    tree_edge = np.array([(a, b) in in_mst for a, b in pairs])
    short = straight <= params["max_edge_m"]
    kept = _neighbour_filter(xy, pairs, straight, params["keep"]) & (straight <= LONG_MAX_M)
    keep = kept | tree_edge
    pairs, straight, short = pairs[keep], straight[keep], short[keep]
    factor = np.where(short, params["detour_factor"], 1.2)
    if params.get("sparse_k5_m") is not None:
        k5 = cKDTree(xy).query(xy, k=6)[0][:, -1]
        sparse = (k5 > params["sparse_k5_m"])[pairs].any(axis=1)
        factor = np.where(short & sparse, params["sparse_detour_factor"], factor)
    lengths = factor * straight + params["edge_offset_m"]
    G = nx.MultiDiGraph(crs=settings.crs, nwm_source=network.APPROXIMATE_SOURCE, approximate=True)
    G.add_nodes_from((i, {"x": float(x), "y": float(y)}) for i, (x, y) in enumerate(xy))
    lines = shapely.linestrings(np.stack([xy[pairs[:, 0]], xy[pairs[:, 1]]], axis=1))
    for (a, b), length, g in zip(pairs, lengths, lines, strict=True):
        G.add_edge(int(a), int(b), key=0, length=float(length), geometry=g)
        G.add_edge(int(b), int(a), key=0, length=float(length), geometry=shapely.reverse(g))
    return G


@dataclass
class FlipBase:
    """The OSM side of the flip comparison, computed once."""

    within_osm: np.ndarray  # within all three bundles on OSM, per demand point
    pop: np.ndarray
    groups: dict[str, np.ndarray]  # all, train, held_out, town_residents, village_residents


def _all_three(minutes: pd.DataFrame, add_m: float, speed: float) -> np.ndarray:
    bundles = [b for b in settings.BUNDLES if b in minutes.columns]
    m = minutes[bundles] + add_m / speed
    return np.asarray(within_minutes(m, resolve_minutes(None), speed_m_per_min=speed).all(axis=1))


def attempt_row(
    minutes: pd.DataFrame, approx: np.ndarray, add_m: float, ctx: tuple[FlipBase, PairSets, float]
) -> dict[str, Any]:
    """Medians (walks up to 20 min) and all-three-bundles flips of one attempt."""
    base, sets, speed = ctx
    flip = (_all_three(minutes, add_m, speed) != base.within_osm).astype(float)
    d = approx + add_m
    short = sets.osm <= 20 * speed
    return {
        "median_ratio": {
            name: float(np.median(d[short & sel] / sets.osm[short & sel]))
            for name, sel in (("train", sets.train), ("held_out", sets.held))
        },
        "flip_share_all_three": {
            name: float(base.pop[sel] @ flip[sel] / base.pop[sel].sum())
            for name, sel in base.groups.items()
        },
        "median_ratio_by_osm_minutes": {
            b["osm_minutes"]: b["median_ratio"] for b in by_band(d, sets, speed)[:4]
        },
    }


def attempts(
    inputs: RutlandInputs, G_osm: Any, sets: PairSets, groups: dict[str, np.ndarray]
) -> dict[str, Any]:
    """Fit every family of :data:`FAMILIES` on the training half; report the held-out."""
    speed = resolve_speed(None)
    model = coverage.prepare(G_osm, demand=inputs.demand, assets=inputs.assets)
    osm_minutes = coverage.nearest_minutes(model, speed_m_per_min=speed)
    base = FlipBase(
        _all_three(osm_minutes, 0.0, speed),
        inputs.demand["population"].to_numpy(float),
        groups,
    )
    check = variant_graph(inputs.postcodes, {"keep": "delaunay", **CALIBRATED_GRAPH})
    ref = network.approximate_graph(inputs.postcodes)
    ours = sorted(round(d["length"], 6) for *_, d in check.edges(data=True))
    assert ours == sorted(round(d["length"], 6) for *_, d in ref.edges(data=True))
    out: dict[str, Any] = {"noise_bound": noise_bound(osm_minutes, ref, inputs, base.pop)}
    for family, grid in FAMILIES.items():
        rows = []
        graph_grid = [dict(zip(grid, v, strict=True)) for v in itertools.product(*grid.values())]
        seen: dict[tuple[Any, ...], tuple[pd.DataFrame, np.ndarray]] = {}
        for params in tqdm(graph_grid, desc=family):
            gkey = tuple(params.get(k) for k in _GRAPH_KEYS)
            if gkey not in seen:
                G = variant_graph(inputs.postcodes, params)
                m = coverage.prepare(G, demand=inputs.demand, assets=inputs.assets)
                seen[gkey] = (
                    coverage.nearest_minutes(m, speed_m_per_min=speed),
                    approx_pairs(G, inputs.postcodes, sets),
                )
            row = attempt_row(*seen[gkey], params["access_m"], (base, sets, speed))
            rows.append({"params": params, **row})
        lo, hi = TARGET_MEDIAN
        ok = [r for r in rows if lo <= r["median_ratio"]["train"] <= hi]
        best = min(
            ok,
            key=lambda r: (
                round(r["flip_share_all_three"]["train"], 6),
                abs(r["median_ratio"]["train"] - 1),
            ),
        )
        out[family] = {
            "grid": {k: list(v) for k, v in grid.items()},
            "fitted_on_train": best,
            "flips_met_held_out": best["flip_share_all_three"]["held_out"] <= TARGET_FLIPS,
            "in_target_points": len(ok),
            "lowest_held_out_of_any_in_target_point": min(
                r["flip_share_all_three"]["held_out"] for r in ok
            ),
        }
    return out


#: Log-normal spreads of the walk to the nearest site tried by :func:`noise_bound`.
NOISE_SIGMAS = (0.04, 0.06, 0.08, 0.10, 0.15)


def noise_bound(
    osm_minutes: pd.DataFrame, G_apx: Any, inputs: RutlandInputs, pop: np.ndarray
) -> dict[str, Any]:
    """How precise a network must be for the flip target, and how precise the fitted one is.

    The OSM walks to each bundle's nearest site are multiplied by independent
    log-normal errors of spread sigma (median 1, 200 seeded draws); the share of residents
    whose all-three-bundles verdict flips is what any network with that much error
    would give. The fitted approximation's own spread is measured on the same walks
    (those of 10-20 OSM minutes, where verdicts can flip), resident-weighted.
    """
    speed, limit = resolve_speed(None), resolve_minutes(None)
    bundles = [b for b in settings.BUNDLES if b in osm_minutes.columns]
    osm = osm_minutes[bundles].to_numpy(float)
    within = (osm <= limit).all(axis=1)
    rng = np.random.default_rng(0)
    rows = []
    for sigma in NOISE_SIGMAS:
        draws = []
        for _ in range(200):
            noisy = osm * np.exp(rng.normal(0.0, sigma, size=osm.shape))
            draws.append(pop @ ((noisy <= limit).all(axis=1) != within) / pop.sum())
        rows.append({
            "sigma": sigma,
            "p10_p90_ratio": [float(np.exp(-1.2816 * sigma)), float(np.exp(1.2816 * sigma))],
            "flip_share_mean": float(np.mean(draws)),
            "flip_share_p5_p95": [float(np.quantile(draws, 0.05)),
                                  float(np.quantile(draws, 0.95))],
        })  # fmt: skip
    model = coverage.prepare(G_apx, demand=inputs.demand, assets=inputs.assets)
    apx = coverage.nearest_minutes(model, speed_m_per_min=speed)[bundles].to_numpy(float)
    sel = (osm > 10) & (osm <= 20) & np.isfinite(apx)
    ratio = apx[sel] / osm[sel]
    weight = np.repeat(pop[:, None], len(bundles), axis=1)[sel]
    order = np.argsort(ratio)
    cum = np.cumsum(weight[order]) / weight.sum()
    q = {p: float(ratio[order][np.searchsorted(cum, p)]) for p in (0.1, 0.5, 0.9)}
    return {
        "what": "flip share of all three bundles if every walk to a bundle's nearest site "
        "were the OSM walk times an independent log-normal error of spread sigma",
        "by_sigma": rows,
        "fitted_nearest_site_walks_10_20_min": {
            "n_walks": int(sel.sum()),
            "p10_ratio": q[0.1],
            "median_ratio": q[0.5],
            "p90_ratio": q[0.9],
            "log_sd": float(np.sqrt(np.cov(np.log(ratio), aweights=weight))),
        },
    }


#: The library's fitted graph parameters (``network.CALIBRATION``), for the check above.
CALIBRATED_GRAPH = {
    "detour_factor": network.DEFAULT_DETOUR_FACTOR,
    "edge_offset_m": network.DEFAULT_EDGE_OFFSET_M,
    "max_edge_m": network.DEFAULT_MAX_EDGE_M,
}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Fit the approximation on Rutland, measure it, and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data/raw"))
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="measure the defaults, no fit")
    parser.add_argument(
        "--attempts-only",
        action="store_true",
        help="only (re)run the other model families and update 'attempts' in --out",
    )
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    minutes, speed = resolve_minutes(None), resolve_speed(None)
    limit_m = 20 * speed  # "walks up to 20 minutes"

    inputs = load_rutland(args.data_dir)
    osm_path = args.data_dir / OSM_FILE
    print(f"Reading {osm_path} ...")
    G_osm = network.graph_from_osm_file(osm_path)
    t_load = time.perf_counter() - t0
    print("OSM distances between every pair of postcodes ...")
    d_osm = calibration.network_distances(G_osm, inputs.postcodes, verbose=True)
    rng = np.random.default_rng(args.seed)
    half = rng.random(len(d_osm)) < 0.5  # training half of the postcodes
    sets = pair_sets(d_osm, inputs.postcodes, half)
    in_half = pd.Series(half, index=d_osm.index)
    half_demand = in_half.reindex(inputs.demand.index).fillna(False).to_numpy(bool)
    pop = inputs.demand["population"].to_numpy(float)
    ward = inputs.postcodes["admin_ward_name"].reindex(inputs.demand.index)
    town_demand = ward.isin(TOWN_WARDS).to_numpy(bool)
    groups = {
        "all": np.ones(len(pop), bool),
        "train": half_demand,
        "held_out": ~half_demand,
        "town_residents": town_demand,
        "village_residents": ~town_demand,
    }
    if args.attempts_only:
        result = json.loads(args.out.read_text(encoding="utf-8"))
        result["attempts"] = _round(attempts(inputs, G_osm, sets, groups))
        result["seconds"]["attempts"] = round(time.perf_counter() - t0, 1)
        with atomic_path(args.out) as tmp:
            text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
            tmp.write_text(text, encoding="utf-8")
        print(json.dumps(result["attempts"], indent=1))
        return result

    old = evaluate(
        {"detour_factor": 1.14, "max_edge_m": 300.0, "long_detour_factor": 1.14,
         "edge_offset_m": 0.0}, inputs, sets, limit_m
    )  # fmt: skip
    old["params"]["long_edge_max_m"] = 300.0
    old_graph = network.approximate_graph(
        inputs.postcodes, detour_factor=1.14, max_edge_m=300.0, long_detour_factor=1.14,
        long_edge_max_m=300.0, edge_offset_m=0.0,
    )  # fmt: skip
    old_approx = approx_pairs(old_graph, inputs.postcodes, sets)
    tried: list[dict[str, Any]] = []
    if args.quick:
        params = {
            "detour_factor": network.DEFAULT_DETOUR_FACTOR,
            "max_edge_m": network.DEFAULT_MAX_EDGE_M,
            "long_detour_factor": network.DEFAULT_LONG_DETOUR_FACTOR,
            "edge_offset_m": network.DEFAULT_EDGE_OFFSET_M,
        }
    else:
        best, tried = fit(inputs, G_osm, sets, half_demand, limit_m)
        params = {k: v for k, v in best["params"].items() if k != "long_edge_max_m"}
    print(f"fitted: {params}")
    chosen = evaluate(params, inputs, sets, limit_m)
    G_apx = chosen["graph"]
    approx = chosen["approx"]
    short = sets.osm <= limit_m
    flips = calibration.verdict_flips(
        G_osm, G_apx, demand=inputs.demand, assets=inputs.assets, verbose=True
    )
    old_flips = calibration.verdict_flips(
        G_osm, old_graph, demand=inputs.demand, assets=inputs.assets
    )
    table = flips.table
    bands = by_band(approx, sets, speed)
    fitted = {
        "params": chosen["params"],
        "up_to_20_min": {
            "all": ratio_stats(approx[short], sets.osm[short]),
            "train": chosen["train"],
            "held_out": chosen["held_out"],
            "town_pairs": ratio_stats(approx[short & sets.town], sets.osm[short & sets.town]),
            "village_pairs": ratio_stats(
                approx[short & sets.village], sets.osm[short & sets.village]
            ),
        },
        "flip_share": flip_shares(flips, half_demand, pop, town_demand),
        "flips_all_three_bundles": flip_counts(flips, pop, town_demand),
        "by_osm_minutes": bands,
        "holds": holds_up_to(bands),
        "targets": {
            "median_ratio_up_to_20_min": list(TARGET_MEDIAN),
            "flip_share_all_three_bundles_max": TARGET_FLIPS,
        },
    }
    fitted["targets"]["median_met_held_out"] = bool(
        TARGET_MEDIAN[0] <= chosen["held_out"]["median_ratio"] <= TARGET_MEDIAN[1]
    )
    fitted["targets"]["flips_met_held_out"] = bool(
        fitted["flip_share"]["held_out"]["all three bundles"] <= TARGET_FLIPS
    )
    previous = {
        "params": old["params"],
        "up_to_20_min": {
            "all": ratio_stats(old_approx[short], sets.osm[short]),
            "train": old["train"],
            "held_out": old["held_out"],
        },
        "flip_share": flip_shares(old_flips, half_demand, pop, town_demand),
        "by_osm_minutes": by_band(old_approx, sets, speed),
    }
    result: dict[str, Any] = {
        "what": "postcode-proximity approximation vs the OSM walk network, real Rutland "
        "postcodes (Code-Point Open 2025-10) and OSM extract 2022-07-20: the model fitted "
        "on a random half of the postcodes (train) and checked on the other half (held out)",
        "settings": {
            "seed": args.seed,
            "minutes": minutes,
            "speed_m_per_min": speed,
            "walks_up_to_m": limit_m,
            "grid": {k: list(v) for k, v in GRID.items()},
            "long_edge_max_m": LONG_MAX_M,
            "selection": "among grid points whose train median ratio (OSM walks up to 20 "
            "minutes) is within the target, the fewest train residents whose 15-minute "
            "verdict for all three bundles flips, then the train median closest to 1",
            "pairs": "every pair of distinct postcodes reachable on the OSM network, both "
            "inserted on their nearest edge of each network (coverage.prepare); train: both "
            "in the training half, held out: both in the other half",
            "towns": list(TOWN_WARDS),
        },
        "inputs": {
            "files": {
                str(p.relative_to(args.data_dir)): sha256(p) for p in [*inputs.files, osm_path]
            },
            "postcodes": len(inputs.postcodes),
            "weighting": inputs.weighting,
            **inputs.notes,
        },
        "networks": {
            "osm": network.network_label(G_osm),
            "osm_nodes": G_osm.number_of_nodes(),
            "osm_directed_edges": G_osm.number_of_edges(),
            "approx": network.network_label(G_apx),
            "approx_nodes": G_apx.number_of_nodes(),
            "approx_directed_edges": G_apx.number_of_edges(),
        },
        "fitted": fitted,
        "previous_defaults": previous,
        "verdict_flips": {
            "weighting": flips.weighting,
            "population_total": float(table["population"].iloc[0]),
            "per_category": table.drop(columns="population").to_dict(orient="index"),
        },
        "grid_tried": tried,
        "attempts": attempts(inputs, G_osm, sets, groups),
        "seconds": {"load": t_load, "total": time.perf_counter() - t0},
    }
    result = _round(result)
    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({"fitted": fitted, "previous": previous["up_to_20_min"]}, indent=1))
    print(f"wrote {args.out} in {result['seconds']['total']:.0f} s")
    return result


if __name__ == "__main__":
    main()
