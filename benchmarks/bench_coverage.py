"""Benchmark the 15-minute coverage engine against peer tools (not a test).

Every timing is repeated (``--repeat``, at least 5 by default) and reported as the median
with its minimum and maximum; the load average (``os.getloadavg``) is recorded before
and after each section. Every side runs on ONE CPU: the benchmark pins itself and each
worker process to one processor (``os.sched_setaffinity``) and starts the workers with
``OMP_NUM_THREADS=1`` (pandana's OpenMP), ``RAYON_NUM_THREADS=1`` (cityseer's Rust
core) and ``OPENBLAS_NUM_THREADS=1`` / ``MKL_NUM_THREADS=1``. Ours is single-threaded
apart from the k-d tree query in snapping (``workers=-1``), which the pinning holds to
one CPU too.

Sections:

* ``peers``: ours, pandana and cityseer, each in its own pinned process, on the same
  network with the same destinations and the same 1,200 m cutoff (15 min at 80 m/min):
  ours ``prepare`` (snap + insert) and ``nearest_minutes(max_minutes=15)``; pandana
  ``Network`` + ``precompute(1200)`` and ``set_pois`` + ``nearest_pois``; cityseer
  ``io.network_structure_from_nx`` and ``layers.compute_accessibilities`` (14
  categories, ``distances=[1200]``, reading ``cc_<category>_nearest_max_1200``). The
  peers are built from OUR inserted graph (so their build gets our snapping for free)
  and their destinations are the assets' inserted nodes. Networks: the real Rutland
  OSM walk network with edge lengths measured on its EPSG:27700 geometry (cityseer
  measures lengths on the geometry, so all three sides walk the same lengths), and a
  SYNTHETIC 100 x 100 grid. Assets (287 over the 14 categories) and demand (every
  network node, population 1) are SYNTHETIC.
* ``rutland``: on the real Rutland OSM network (osmnx lengths), in process: networkx
  multi-source Dijkstra, the osmnx ego-graph recipe (on our inserted graph, and as
  osmnx users run it after ``nearest_nodes``), and criticality of all 287 assets.
* ``grids``: SYNTHETIC square grids (100 m edges), each size in its own process, with
  the process's peak resident memory; the snapping step against shapely's
  ``STRtree.query_nearest`` (up to 100k nodes) and networkx (up to 100k nodes, not with
  ``--quick``). With ``--baseline-src DIR`` (the ``src`` folder of an older commit) the
  same grid runs are repeated on the old code, old/new as ratios.

Run: ``python benchmarks/bench_coverage.py [--quick] [--repeat 5] [--sizes 10000,1000000]
[--sections peers,rutland,grids] [--baseline-src DIR] [--out FILE]``. ``--quick`` (a few
minutes): the grid peers and the 10k grid only. Partial runs print but only write with
``--out``.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata as md
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from nwm_geo import settings
from nwm_geo._io import atomic_path
from nwm_geo.areas import load_area
from nwm_geo.coverage import (
    NetworkArrays,
    asset_criticality,
    nearest_minutes,
    prepare,
    snap_xy,
)
from nwm_geo.network import graph_from_osm_file

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "coverage.json"
SEED = 20251
TOL_M = 0.1
LIMIT_M = settings.walk_minutes * settings.walk_speed_m_per_min
RUTLAND_PBF = "rutland-2022-07-20.osm.pbf"
#: Every worker process runs with one thread per library.
ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "RAYON_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
PACKAGES = ["numpy", "scipy", "networkx", "osmnx", "shapely", "pandana", "cityseer"]


def pin_one_cpu() -> int | None:
    """Pin this process to one CPU (the lowest it may use); return it (None if unsupported)."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def load_average() -> list[float]:
    """Return the 1, 5 and 15-minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    def ver(p: str) -> str | None:
        try:
            return md.version(p)
        except md.PackageNotFoundError:
            return None

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus_on_machine": os.cpu_count(),
        "packages": {p: ver(p) for p in PACKAGES},
    }


def spread(times: list[float]) -> dict[str, Any]:
    """Median, minimum and maximum of repeated timings (seconds)."""
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "runs": len(times),
    }


def repeat(fn: Callable[[], Any], n: int) -> tuple[Any, dict[str, Any]]:
    """Run ``fn`` ``n`` times; return its last result and :func:`spread` of the times."""
    times = []
    out = None
    for _ in range(n):
        out = None  # free the previous result before the next run
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, spread(times)


def ratio(peer: str, peer_t: dict[str, Any], ours: str, ours_t: dict[str, Any]) -> dict[str, Any]:
    """One like-for-like comparison: peer median / our median, with what each side timed."""
    return {
        "peer": peer,
        "peer_median_s": peer_t["median_s"],
        "peer_min_max_s": [peer_t["min_s"], peer_t["max_s"]],
        "nwm_geo": ours,
        "nwm_geo_median_s": ours_t["median_s"],
        "nwm_geo_min_max_s": [ours_t["min_s"], ours_t["max_s"]],
        "ratio": peer_t["median_s"] / ours_t["median_s"],
    }


def summed(*parts: dict[str, Any]) -> dict[str, Any]:
    """Medians, minima and maxima added up (for a whole run made of separately timed steps)."""
    return {
        "median_s": sum(p["median_s"] for p in parts),
        "min_s": sum(p["min_s"] for p in parts),
        "max_s": sum(p["max_s"] for p in parts),
        "runs": min(p["runs"] for p in parts),
    }


QUERY_CUT = "nwm_geo query (nearest_minutes, 14 categories, max_minutes=15: 1,200 m cutoff)"
QUERY_FULL = "nwm_geo query (nearest_minutes, 14 categories, no cutoff)"
PREPARE = "nwm_geo prepare (snap + insert every demand point and asset)"
WHOLE = "nwm_geo prepare + query with the 1,200 m cutoff"


def synthetic_assets(arr: NetworkArrays, seed: int) -> gpd.GeoDataFrame:
    """287 SYNTHETIC assets at random points on random edges (length-weighted)."""
    rng = np.random.default_rng(seed)
    counts = load_area("luton").council_counts or {}  # Luton's published counts (287)
    cats = np.repeat(list(counts), list(counts.values()))
    n = len(cats)
    glen = shapely.length(arr.geom)
    e = rng.choice(len(glen), size=n, p=glen / glen.sum())
    pts = shapely.line_interpolate_point(arr.geom[e], rng.uniform(0, 1, n), normalized=True)
    return gpd.GeoDataFrame(
        {"category": cats, "name": [f"synthetic asset {i}" for i in range(n)]},
        geometry=pts,
        index=pd.Index([f"SYN{i:03d}" for i in range(n)], name="asset_id"),
        crs=settings.crs,
    )


def node_demand(arr: NetworkArrays, sample: int | None, seed: int) -> gpd.GeoDataFrame:
    """SYNTHETIC demand: network nodes (or a seeded sample), population 1 each."""
    idx = np.arange(len(arr.xy))
    if sample is not None and sample < len(idx):
        idx = np.sort(np.random.default_rng(seed).choice(idx, size=sample, replace=False))
    return gpd.GeoDataFrame(
        {"population": np.ones(len(idx), dtype=np.int64)},
        geometry=gpd.points_from_xy(arr.xy[idx, 0], arr.xy[idx, 1]),
        index=pd.Index([f"N{i}" for i in idx], name="point_id"),
        crs=settings.crs,
    )


def grid_arrays(side: int, step: float = 100.0) -> NetworkArrays:
    """Return a SYNTHETIC side×side grid with edges of length ``step``."""
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    ids = (ii * side + jj).ravel()
    xy = np.column_stack([jj.ravel() * step, ii.ravel() * step]).astype(float)
    right = ids.reshape(side, side)[:, :-1].ravel()
    up = ids.reshape(side, side)[:-1, :].ravel()
    eu = np.concatenate([right, up])
    ev = np.concatenate([right + 1, up + side])
    geom = shapely.linestrings(np.stack([xy[eu], xy[ev]], axis=1))
    return NetworkArrays(
        node_ids=ids.astype(object),
        xy=xy,
        eu=eu.astype(np.int64),
        ev=ev.astype(np.int64),
        ekey=np.zeros(len(eu), dtype=object),
        length=np.full(len(eu), step),
        geom=geom,
        crs=settings.crs,
        label="network: SYNTHETIC grid",
    )


def rutland_arrays(*, planar: bool = False) -> tuple[nx.MultiDiGraph, NetworkArrays]:
    """Return the real Rutland OSM walk network (with ``planar``: lengths on the geometry)."""
    G = graph_from_osm_file(settings.raw_dir() / "osm" / RUTLAND_PBF)
    arr = NetworkArrays.from_graph(G)
    if planar:
        arr = dataclasses.replace(
            arr,
            length=shapely.length(arr.geom),
            label=arr.label + "; edge lengths measured on the EPSG:27700 geometry",
            _node_pos=None,
        )
    return G, arr


def peer_network(name: str) -> NetworkArrays:
    """``rutland`` (real OSM, planar lengths) or ``gridN`` (SYNTHETIC N x N grid)."""
    if name == "rutland":
        return rutland_arrays(planar=True)[1]
    if name.startswith("grid"):
        return grid_arrays(int(name[4:]))
    raise SystemExit(f"unknown network {name!r}")


def side_ours(arr: NetworkArrays, A: gpd.GeoDataFrame, D: gpd.GeoDataFrame, n: int) -> Any:
    model, t_prep = repeat(lambda: prepare(arr, demand=D, assets=A), n)
    cut, t_cut = repeat(
        lambda: nearest_minutes(model, bundles={}, max_minutes=settings.walk_minutes), n
    )
    _, t_full = repeat(lambda: nearest_minutes(model, bundles={}), n)
    metres = cut[list(settings.CATEGORIES)].to_numpy() * settings.walk_speed_m_per_min
    timings = {"prepare": t_prep, "query": t_cut, "query_no_cutoff": t_full}
    return timings, np.nan_to_num(metres, nan=np.inf)


def side_pandana(model: Any, n: int) -> Any:
    import pandana

    coo = model.graph.tocoo()
    upper = coo.row < coo.col
    xy = model.node_xy
    args = (
        pd.Series(xy[:, 0]),
        pd.Series(xy[:, 1]),
        pd.Series(coo.row[upper]),
        pd.Series(coo.col[upper]),
        pd.DataFrame({"length": coo.data[upper]}),
    )

    def build() -> Any:
        net = pandana.Network(*args, twoway=True)
        net.precompute(LIMIT_M + 1)
        return net

    net, t_build = repeat(build, n)

    def query() -> dict[str, pd.Series]:
        out = {}
        for cat in settings.CATEGORIES:
            nodes = model.asset_nodes[(model.category == cat).to_numpy()]
            net.set_pois(cat, LIMIT_M, 1, pd.Series(xy[nodes, 0]), pd.Series(xy[nodes, 1]))
            out[cat] = net.nearest_pois(LIMIT_M, cat, num_pois=1)[1]
        return out

    out, t_q = repeat(query, n)
    metres = np.column_stack(
        [out[c].reindex(model.point_nodes).to_numpy(float) for c in settings.CATEGORIES]
    )
    metres[metres >= LIMIT_M] = np.inf  # pandana fills "none within maxdist" with maxdist
    timings = {"build (Network + precompute(1200))": t_build, "query": t_q}
    return timings, metres, {"version": md.version("pandana")}


def side_cityseer(model: Any, n: int) -> Any:
    import logging

    from cityseer import config
    from cityseer.metrics import layers
    from cityseer.tools import io

    config.QUIET_MODE = True
    logging.getLogger("cityseer").setLevel(logging.WARNING)
    G, skipped = cityseer_graph(model)
    xy = model.node_xy
    (nodes, _, structure), t_build = repeat(lambda: io.network_structure_from_nx(G), n)
    data = gpd.GeoDataFrame(
        {"category": model.category.to_numpy()},
        geometry=gpd.points_from_xy(xy[model.asset_nodes, 0], xy[model.asset_nodes, 1]),
        crs=settings.crs,
    )
    cats = list(settings.CATEGORIES)

    def query() -> gpd.GeoDataFrame:
        return layers.compute_accessibilities(
            data, "category", cats, nodes, structure, distances=[int(LIMIT_M)], decay_fn="1"
        )

    out, t_q = repeat(query, n)
    cols = [f"cc_{c}_nearest_max_{int(LIMIT_M)}" for c in cats]
    metres = out[cols].to_numpy(float)[model.point_nodes]
    timings = {"build (io.network_structure_from_nx)": t_build, "query": t_q}
    extra = {"version": md.version("cityseer"), "degenerate_pieces_left_out": skipped}
    return timings, np.nan_to_num(metres, nan=np.inf), extra


def cityseer_graph(model: Any) -> tuple[nx.MultiGraph, int]:
    """Our inserted graph as cityseer wants it: string keys, x/y, each piece's geometry.

    cityseer measures every edge on its geometry, so each piece gets the part of its
    source edge between its offsets (``shapely.ops.substring``), and each leaf the
    straight leg to its point: on a network whose lengths are its planar geometry
    lengths (the peers' networks), cityseer then walks our lengths.
    """
    from shapely.ops import substring

    p = model.pieces
    arr = model.network
    xy = model.node_xy
    geoms = np.empty(len(p.a), dtype=object)
    leaf = p.src < 0
    geoms[leaf] = shapely.linestrings(np.stack([p.leaf_from[leaf], p.leaf_to[leaf]], axis=1))
    src = np.where(leaf, 0, p.src)
    whole = ~leaf & (p.off0 == 0) & (p.off1 == arr.length[src])
    geoms[whole] = arr.geom[p.src[whole]]
    for i in np.flatnonzero(~leaf & ~whole):
        geoms[i] = substring(arr.geom[p.src[i]], p.off0[i], p.off1[i])
    # legs so short that both ends are the same point (assets placed on an edge, 1e-10 m
    # off it) are not valid LineStrings for cityseer: left out, the asset's data point
    # then sits on the edge itself, to within that distance
    keep = (p.a != p.b) & (p.length > 0) & shapely.is_valid(geoms)
    G = nx.MultiGraph()
    G.graph["crs"] = settings.crs
    keys = [str(i) for i in range(len(xy))]
    G.add_nodes_from((keys[i], {"x": xy[i, 0], "y": xy[i, 1]}) for i in range(len(xy)))
    G.add_edges_from(
        (keys[a], keys[b], {"geom": g})
        for a, b, g in zip(p.a[keep], p.b[keep], geoms[keep], strict=True)
    )
    return G, int((~keep).sum())


def worker(side: str, network: str, n: int, npy: Path) -> dict[str, Any]:
    """One side of the peers section, in this (pinned, one-thread) process."""
    cpu = pin_one_cpu()
    load0 = load_average()
    arr = peer_network(network)
    A = synthetic_assets(arr, SEED)
    D = node_demand(arr, None, SEED)
    res: dict[str, Any] = {
        "side": side,
        "pinned_cpu": cpu,
        "thread_env": {k: os.environ.get(k) for k in ONE_THREAD},
        "nodes": len(arr.xy),
        "network": arr.label,
    }
    if side == "ours":
        timings, metres = side_ours(arr, A, D, n)
    else:
        model = prepare(arr, demand=D, assets=A)
        timings, metres, extra = {"pandana": side_pandana, "cityseer": side_cityseer}[side](
            model, n
        )
        res |= extra
    np.save(npy, metres)
    res["timings"] = timings
    res["load_average"] = {"start": load0, "end": load_average()}
    return res


def run_worker(args: list[str], *, pythonpath: str | None = None) -> dict[str, Any]:
    """Run ``bench_coverage.py --worker ...`` in a pinned one-thread process; its JSON."""
    env = os.environ | ONE_THREAD
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), *args, "--result", str(result)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0 or not result.exists():
            return {"error": proc.stderr[-3000:]}
        return json.loads(result.read_text())


def agreement(ours_m: np.ndarray, peer_m: np.ndarray) -> dict[str, Any]:
    """Peer distances against ours within the cutoff (points within 0.1 m of it are skipped)."""
    within = ours_m <= LIMIT_M - TOL_M
    beyond = ours_m > LIMIT_M + TOL_M
    diff = np.abs(peer_m[within] - ours_m[within])
    mismatches = int((diff > TOL_M).sum()) + int((peer_m[beyond] < LIMIT_M - TOL_M).sum())
    max_diff = float(diff.max(initial=0.0))
    return {
        "pairs_within_cutoff": int(within.sum()),
        "max_abs_diff_m_within_cutoff": max_diff,
        "mismatches": mismatches,
        "agrees_to_0.1m": bool(max_diff <= TOL_M and mismatches == 0),
    }


def bench_peers(network: str, n: int) -> dict[str, Any]:
    res: dict[str, Any] = {"load_average_start": load_average()}
    metres: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for side in ("ours", "pandana", "cityseer"):
            npy = Path(tmp) / f"{side}.npy"
            out = run_worker(
                ["--worker", side, "--network", network, "--repeat", str(n), "--npy", str(npy)]
            )
            res[side] = out
            if "error" not in out:
                metres[side] = np.load(npy)
            print(f"  {network} {side}: " + short(out), flush=True)
    res["load_average_end"] = load_average()
    if "ours" not in metres:
        return res
    ours = res["ours"]["timings"]
    whole = summed(ours["prepare"], ours["query"])
    for side in ("pandana", "cityseer"):
        if side not in metres:
            continue
        t = res[side]["timings"]
        build_key = next(k for k in t if k.startswith("build"))
        res[side]["agreement"] = agreement(metres["ours"], metres[side])
        res[side]["ratios"] = [
            ratio(f"{side} query", t["query"], QUERY_CUT, ours["query"]),
            ratio(f"{side} {build_key}", t[build_key], PREPARE, ours["prepare"]),
            ratio(f"{side} build + query", summed(t[build_key], t["query"]), WHOLE, whole),
        ]
    return res


def short(out: dict[str, Any]) -> str:
    if "error" in out:
        return "ERROR " + out["error"].strip().splitlines()[-1]
    return ", ".join(f"{k} {v['median_s']:.3f}s" for k, v in out["timings"].items())


def bench_rutland(n: int) -> dict[str, Any]:
    """networkx, the osmnx ego-graph recipe and criticality on the real Rutland network."""
    res: dict[str, Any] = {
        "inputs": "real Rutland OSM walk network (osmnx lengths); SYNTHETIC assets and demand",
        "load_average_start": load_average(),
    }
    (G, arr), t_load = repeat(rutland_arrays, 1)
    A = synthetic_assets(arr, SEED)
    D = node_demand(arr, None, SEED)
    res["network"] = {
        "source": G.graph["nwm_source"],
        "nodes": G.number_of_nodes(),
        "directed_edges": G.number_of_edges(),
        "load_and_to_arrays_s_once": t_load["median_s"],
    }
    model, t_prep = repeat(lambda: prepare(arr, demand=D, assets=A), n)
    full, t_full = repeat(lambda: nearest_minutes(model, bundles={}), n)
    _, t_cut = repeat(
        lambda: nearest_minutes(model, bundles={}, max_minutes=settings.walk_minutes), n
    )
    ours_m = full * settings.walk_speed_m_per_min
    res["ours"] = {"prepare": t_prep, "query_no_cutoff": t_full, "query_cutoff": t_cut}
    H = nx.from_scipy_sparse_array(model.graph, edge_attribute="length")
    pnodes = model.point_nodes
    cat_src = {
        c: set(model.asset_nodes[(model.category == c).to_numpy()].tolist())
        for c in settings.CATEGORIES
    }

    def nx_query() -> dict[str, np.ndarray]:
        out = {}
        for c in settings.CATEGORIES:
            d = nx.multi_source_dijkstra_path_length(H, cat_src[c], weight="length")
            out[c] = np.array([d.get(int(k), np.inf) for k in pnodes])
        return out

    nx_m, t_nx = repeat(nx_query, n)
    diff = max(
        float(np.max(np.abs(nx_m[c] - ours_m[c].fillna(np.inf).to_numpy()), initial=0.0,
                     where=np.isfinite(nx_m[c])))
        for c in settings.CATEGORIES
    )  # fmt: skip
    res["networkx_multi_source"] = {
        "timing": t_nx,
        "max_abs_diff_m": diff,
        "ratios": [ratio("networkx multi_source_dijkstra (same graph)", t_nx, QUERY_FULL, t_full)],
    }

    def ego() -> dict[str, set[int]]:
        cov: dict[str, set[int]] = {c: set() for c in settings.CATEGORIES}
        for node, cat in zip(model.asset_nodes, model.category, strict=True):
            cov[cat] |= set(nx.ego_graph(H, int(node), radius=LIMIT_M, distance="length").nodes)
        return cov

    ego_cov, t_ego = repeat(ego, n)
    mismatch = sum(
        int(
            (
                np.array([int(k) in ego_cov[c] for k in pnodes])
                != (ours_m[c] <= LIMIT_M + 1e-6).to_numpy()
            ).sum()
        )
        for c in settings.CATEGORIES
    )
    res["osmnx_ego_graph"] = {
        "timing": t_ego,
        "covered_set_mismatches": mismatch,
        "ratios": [
            ratio("osmnx ego_graph per asset + union (same graph)", t_ego, QUERY_CUT, t_cut)
        ],
    }
    res["osmnx_ego_graph_multidigraph_nearest_node"] = osmnx_literal(G, A, model, n, t_prep, t_cut)
    _, t_crit = repeat(lambda: asset_criticality(model), n)
    res["criticality"] = {"assets": len(A), "timing": t_crit}
    res["load_average_end"] = load_average()
    return res


def osmnx_literal(
    G: nx.MultiDiGraph, A: gpd.GeoDataFrame, model: Any, n: int, t_prep: Any, t_cut: Any
) -> dict[str, Any]:
    """Time the osmnx isochrone recipe as users run it: nearest node, then ego graphs."""
    import osmnx as ox

    near, t_near = repeat(
        lambda: ox.distance.nearest_nodes(G, A.geometry.x.to_numpy(), A.geometry.y.to_numpy()), n
    )

    def ego() -> None:
        for node in near:
            nx.ego_graph(G, node, radius=LIMIT_M, distance="length")

    _, t_ego = repeat(ego, n)
    return {
        "nearest_nodes": t_near,
        "ego_graphs": t_ego,
        "ratios": [
            ratio(
                "osmnx nearest_nodes + ego_graph per asset",
                summed(t_near, t_ego),
                WHOLE,
                summed(t_prep, t_cut),
            ),
            ratio("osmnx ego_graph per asset (MultiDiGraph)", t_ego, QUERY_CUT, t_cut),
        ],
        "note": "assets moved to their nearest graph node, as in the osmnx isochrone example; "
        "results differ from exact insertion by design, so only the time is compared",
    }


def strtree_snap(arr: NetworkArrays, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Snap with shapely's STRtree nearest edge (the reference; coverage used it before)."""
    tree = shapely.STRtree(arr.geom)
    idx, dist = tree.query_nearest(shapely.points(xy), return_distance=True, all_matches=False)
    edge = np.full(len(xy), -1, dtype=np.int64)
    d = np.full(len(xy), np.nan)
    edge[idx[0]], d[idx[0]] = idx[1], dist
    return edge, d


def peak_rss_mb() -> float:
    """Return this process's peak resident memory in MB (``VmHWM``; ``ru_maxrss`` elsewhere).

    ``VmHWM`` starts afresh at ``exec``; ``ru_maxrss`` on Linux can carry the parent's
    resident size over a fork, which would put a floor under a worker's figure.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scale_worker(size: int, n: int, extras: bool) -> dict[str, Any]:
    """One grid size, in this pinned process: times, and the process's peak memory."""
    cpu = pin_one_cpu()
    load0 = load_average()
    t0 = time.perf_counter()
    side = round(float(np.sqrt(size)))
    arr = grid_arrays(side)
    A = synthetic_assets(arr, SEED)
    D = node_demand(arr, None, SEED)
    row: dict[str, Any] = {
        "inputs": "SYNTHETIC grid, 100 m edges, 287 SYNTHETIC assets, demand at every node",
        "pinned_cpu": cpu,
        "nodes": len(arr.xy),
        "edges": len(arr.length),
        "synthetic_inputs_s_once": time.perf_counter() - t0,
    }
    model, t_prep = repeat(lambda: prepare(arr, demand=D, assets=A), n)
    m, t_q = repeat(lambda: nearest_minutes(model, bundles={}), n)
    row |= {"prepare": t_prep, "query_no_cutoff": t_q, "prepare_plus_query": summed(t_prep, t_q)}
    if extras:
        row |= grid_extras(arr, A, D, model, m, n)
    row["peak_rss_mb_whole_process"] = peak_rss_mb()
    row["whole_process_wall_s"] = time.perf_counter() - t0
    row["load_average"] = {"start": load0, "end": load_average()}
    return row


def grid_extras(
    arr: NetworkArrays,
    A: gpd.GeoDataFrame,
    D: gpd.GeoDataFrame,
    model: Any,
    m: pd.DataFrame,
    n: int,
) -> dict[str, Any]:
    """Snapping against shapely's STRtree, and the query against networkx."""
    xy = np.vstack([D.geometry.get_coordinates().to_numpy(), A.geometry.get_coordinates()])
    ours, t_snap = repeat(lambda: snap_xy(arr, xy), n)
    (ref_edge, ref_d), t_str = repeat(lambda: strtree_snap(arr, xy), n)
    other = ours.edge != ref_edge
    out: dict[str, Any] = {
        "snap": t_snap,
        "shapely_strtree_snap": t_str,
        "snap_max_abs_diff_m_vs_strtree": float(np.max(np.abs(ours.snap_m - ref_d))),
        # points on a node: several edges are exactly as near; GEOS picks any of them,
        # we pick the lowest edge row. The model graph is the same either way.
        "snap_other_edge_equally_near": int(np.sum(other & (ours.snap_m == ref_d))),
        "snap_other_edge_not_equally_near": int(np.sum(other & (ours.snap_m != ref_d))),
    }
    H = nx.from_scipy_sparse_array(model.graph, edge_attribute="length")

    def nx_query() -> float:
        diff = 0.0
        for cat in settings.CATEGORIES:
            src = set(model.asset_nodes[(model.category == cat).to_numpy()].tolist())
            d = nx.multi_source_dijkstra_path_length(H, src, weight="length")
            ref = np.array([d.get(int(k), np.inf) for k in model.point_nodes])
            got = m[cat].to_numpy() * settings.walk_speed_m_per_min
            diff = max(diff, float(np.max(np.abs(ref - got))))
        return diff

    out["networkx_max_abs_diff_m"], out["networkx"] = repeat(nx_query, n)
    return out


def bench_grids(
    sizes: list[int], n: int, *, extras_up_to: int, baseline_src: Path | None
) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        args = ["--worker", "scale", "--size", str(size), "--repeat", str(n)]
        extras = ["--extras"] if size <= extras_up_to else []
        row = run_worker(args + extras)
        if baseline_src is not None and "error" not in row:
            row |= old_over_new(size, n, baseline_src)
        print(f"  grid {size:,}: " + grid_line(row), flush=True)
        rows.append(row)
    return rows


def old_over_new(size: int, n: int, baseline_src: Path) -> dict[str, Any]:
    """Old and new code in turn (old, new, old, new, ...), one run each: paired ratios.

    Each pair is a fresh process for each side, so the peak memory and the whole
    process's wall time are per run; pairing keeps the ratio fair when the machine's
    load drifts.
    """
    args = ["--worker", "scale", "--size", str(size), "--repeat", "1"]
    pairs: list[dict[str, Any]] = []
    for _ in range(n):
        old = run_worker(args, pythonpath=str(baseline_src))
        new = run_worker(args)
        if "error" in old or "error" in new:
            return {"baseline_error": old.get("error") or new.get("error")}
        pairs.append({"old": old, "new": new})

    def per_pair(get: Callable[[dict[str, Any]], float]) -> dict[str, Any]:
        old_v = [get(p["old"]) for p in pairs]
        new_v = [get(p["new"]) for p in pairs]
        ratios = [o / w for o, w in zip(old_v, new_v, strict=True)]
        return {
            "old_median": statistics.median(old_v),
            "new_median": statistics.median(new_v),
            "old_over_new_median": statistics.median(ratios),
            "old_over_new_min_max": [min(ratios), max(ratios)],
        }

    return {
        "baseline_pairs": len(pairs),
        "old_over_new": {
            "prepare_plus_query_s": per_pair(lambda r: r["prepare_plus_query"]["median_s"]),
            "prepare_s": per_pair(lambda r: r["prepare"]["median_s"]),
            "query_s": per_pair(lambda r: r["query_no_cutoff"]["median_s"]),
            "peak_rss_mb": per_pair(lambda r: r["peak_rss_mb_whole_process"]),
            "whole_process_wall_s": per_pair(lambda r: r["whole_process_wall_s"]),
        },
    }


def grid_line(row: dict[str, Any]) -> str:
    if "error" in row:
        return "ERROR " + row["error"].strip().splitlines()[-1]
    text = (
        f"{row['nodes']:,} nodes: prepare {row['prepare']['median_s']:.2f}s, "
        f"query {row['query_no_cutoff']['median_s']:.3f}s, "
        f"peak {row['peak_rss_mb_whole_process']:.0f} MB, "
        f"process {row['whole_process_wall_s']:.1f}s"
    )
    if "old_over_new" in row:
        r = row["old_over_new"]
        pq = r["prepare_plus_query_s"]["old_over_new_median"]
        mem = r["peak_rss_mb"]["old_over_new_median"]
        text += f"; old/new (paired): prepare+query {pq:.2f}x, peak memory {mem:.2f}x"
    return text


SECTIONS = ("peers", "rutland", "grids")


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="grid peers and the 10k grid only")
    ap.add_argument("--repeat", type=int, default=5, help="runs per timing (default 5)")
    ap.add_argument(
        "--sizes",
        type=lambda v: [int(float(x)) for x in v.split(",")],
        default=None,
        help="grid sizes in nodes (default 10000,100000,1000000; 10000 with --quick)",
    )
    ap.add_argument(
        "--sections",
        type=lambda v: v.split(","),
        default=None,
        help=f"comma-separated subset of {','.join(SECTIONS)} (default all; peers,grids "
        "with --quick)",
    )
    ap.add_argument("--baseline-src", type=Path, default=None, help="old code's src folder")
    ap.add_argument("--out", type=Path, default=None, help=f"results file (default {OUT.name})")
    ap.add_argument("--worker", choices=["ours", "pandana", "cityseer", "scale"], help="internal")
    ap.add_argument("--network", default="rutland", help="internal: peers network")
    ap.add_argument("--size", type=int, default=10_000, help="internal: grid size")
    ap.add_argument("--extras", action="store_true", help="internal: snap and networkx")
    ap.add_argument("--npy", type=Path, default=None, help="internal: distances file")
    ap.add_argument("--result", type=Path, default=None, help="internal: worker's JSON file")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.worker is not None:
        out = (
            scale_worker(args.size, args.repeat, args.extras)
            if args.worker == "scale"
            else worker(args.worker, args.network, args.repeat, args.npy)
        )
        args.result.write_text(json.dumps(out, default=float))
        return
    sections = args.sections or (["peers", "grids"] if args.quick else list(SECTIONS))
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")
    sizes = args.sizes or ([10_000] if args.quick else [10_000, 100_000, 1_000_000])
    cpu = pin_one_cpu()
    result: dict[str, Any] = {
        "benchmark": "coverage",
        "note": "assets, populations and grids are SYNTHETIC; the Rutland street network is "
        "real OSM",
        "quick": args.quick,
        "repeat": args.repeat,
        "machine": machine(),
        "threads": {
            "pinned_cpu": cpu,
            "worker_env": ONE_THREAD,
            "policy": "every side (this process and each worker) runs on one CPU",
        },
        "load_average_start": load_average(),
        "cutoff_m": LIMIT_M,
        "threshold": {
            "minutes": settings.walk_minutes,
            "speed_m_per_min": settings.walk_speed_m_per_min,
        },
    }
    if "peers" in sections:
        result["peers"] = {"rutland": bench_peers("rutland", args.repeat)}
    if "rutland" in sections:
        result["rutland"] = bench_rutland(args.repeat)
    if "grids" in sections:
        result["scaling_synthetic_grids"] = bench_grids(
            sizes,
            args.repeat,
            extras_up_to=10_000 if args.quick else 100_000,
            baseline_src=args.baseline_src,
        )
    result["load_average_end"] = load_average()
    out = args.out
    if out is None and set(sections) == set(SECTIONS) and not args.quick:
        out = OUT
    if out is not None:
        with atomic_path(out) as tmp:
            tmp.write_text(json.dumps(result, indent=2, default=float))
    print_table(result)
    if out is not None:
        print(f"wrote {out}")


def print_table(r: dict[str, Any]) -> None:
    print(f"\nload average {r['load_average_start']} -> {r['load_average_end']}")
    for name, res in r.get("peers", {}).items():
        print(f"\nPeers on {name} (medians of {r['repeat']}; one CPU each)")
        for side in ("pandana", "cityseer"):
            entry = res.get(side, {})
            if "ratios" not in entry:
                print(f"{side}: {entry.get('error', 'not run')[-300:]}")
                continue
            print(f"{side} agreement: {entry['agreement']}")
            for x in entry["ratios"]:
                print_ratio(x)
    if "rutland" in r:
        print("\nRutland (real OSM, osmnx lengths)")
        for key in (
            "networkx_multi_source",
            "osmnx_ego_graph",
            "osmnx_ego_graph_multidigraph_nearest_node",
        ):
            for x in r["rutland"][key]["ratios"]:
                print_ratio(x)
    for row in r.get("scaling_synthetic_grids", []):
        print("grid " + grid_line(row))


def print_ratio(x: dict[str, Any]) -> None:
    print(
        f"  {x['peer']:52s} {x['peer_median_s']:8.3f}s  {x['nwm_geo'][:60]:60s} "
        f"{x['nwm_geo_median_s']:8.3f}s  {x['ratio']:6.1f}x"
    )


if __name__ == "__main__":
    main()
