"""Benchmark the 15-minute coverage engine against peer tools (not a test).

On the real Rutland OpenStreetMap walk network (data/raw/osm), with 287 SYNTHETIC assets
placed at seeded random network locations over the council's 14 categories and demand at
every network node (SYNTHETIC population 1 each), time side by side:

* ours: ``nwm_geo.coverage.nearest_minutes`` for all 14 categories (plus prepare);
* (a) the osmnx recipe: ``nx.ego_graph(radius=1200, distance="length")`` per asset, union;
* (b) networkx ``multi_source_dijkstra_path_length`` per category;
* (c) pandana ``nearest_pois`` (network build + precompute, and the queries);
* criticality of all 287 assets.

Ratios compare like with like only, and every ratio names both sides
(:func:`ratio`): a query against a query on the same prepared graph, or a whole run
from the street graph to the answers against a whole run (ours: ``prepare`` +
``nearest_minutes``). A peer's whole run is never divided by our query alone.

then scaling on SYNTHETIC grid networks of 10k, 100k and 1M nodes (the snapping step is
also timed against shapely's ``STRtree.query_nearest``, which coverage used before). The
approximation error of the postcode-proximity network is measured by
``benchmarks/calibrate_network.py``. Writes ``benchmarks/results/coverage.json``
atomically and prints a table.

Run: ``python benchmarks/bench_coverage.py [--quick] [--sizes 10000,1000000]
[--sections grids]``. Partial runs (``--sections``) print but only write with ``--out``.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import os
import platform
import sys
import time
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
        "cpus_available": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "packages": {
            p: ver(p) for p in ["numpy", "scipy", "networkx", "osmnx", "shapely", "pandana"]
        },
    }


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def ratio(peer: str, peer_s: float, ours: str, ours_s: float) -> dict[str, Any]:
    """One like-for-like comparison: ``peer_s / ours_s``, with what each side timed."""
    return {
        "peer": peer,
        "peer_s": peer_s,
        "nwm_geo": ours,
        "nwm_geo_s": ours_s,
        "ratio": peer_s / ours_s,
    }


QUERY = "nwm_geo query (nearest_minutes, 14 categories)"
WHOLE = "nwm_geo prepare + query (snap, insert, nearest_minutes)"


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


def model_nx(model: Any) -> nx.Graph:
    """Return the prepared model graph (points inserted) as an undirected networkx graph."""
    return nx.from_scipy_sparse_array(model.graph, edge_attribute="length")


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


def bench_rutland(quick: bool) -> dict[str, Any]:
    res: dict[str, Any] = {"inputs": "real Rutland OSM walk network; SYNTHETIC assets and demand"}
    path = settings.raw_dir() / "osm" / "rutland-2022-07-20.osm.pbf"
    G, t_load = timed(graph_from_osm_file, path)
    arr, t_arr = timed(NetworkArrays.from_graph, G)
    res["network"] = {
        "source": G.graph["nwm_source"],
        "nodes": G.number_of_nodes(),
        "directed_edges": G.number_of_edges(),
        "load_s": t_load,
        "to_arrays_s": t_arr,
    }
    A = synthetic_assets(arr, SEED)
    D = node_demand(arr, None, SEED)
    model, t_prep = timed(prepare, arr, demand=D, assets=A)
    limit = settings.walk_minutes * settings.walk_speed_m_per_min
    ours, t_ours = timed(nearest_minutes, model, bundles={})
    ours_m = ours * settings.walk_speed_m_per_min  # metres
    xy = np.vstack([D.geometry.get_coordinates().to_numpy(), A.geometry.get_coordinates()])
    snaps, t_snap = timed(snap_xy, arr, xy)
    (ref_edge, ref_d), t_str = timed(strtree_snap, arr, xy)
    res["ours"] = {
        "prepare_s": t_prep,
        "nearest_all_categories_s": t_ours,
        "demand_points": len(D),
        "assets": len(A),
        "snap_s": t_snap,
        "shapely_strtree_snap_s": t_str,
        "snap_max_abs_diff_m_vs_strtree": float(np.max(np.abs(snaps.snap_m - ref_d))),
        "snap_other_edge_equally_near": int(
            np.sum((snaps.edge != ref_edge) & (snaps.snap_m == ref_d))
        ),
        "snap_other_edge_not_equally_near": int(
            np.sum((snaps.edge != ref_edge) & (snaps.snap_m != ref_d))
        ),
    }
    print(
        f"ours: prepare {t_prep:.3f}s (snap {t_snap:.3f}s, shapely STRtree snap {t_str:.3f}s), "
        f"all-category nearest {t_ours:.3f}s"
    )

    # (b) networkx multi-source dijkstra per category, on the same inserted graph
    H, t_conv = timed(model_nx, model)
    pnodes = model.point_nodes
    t0 = time.perf_counter()
    nx_m = {}
    for cat in settings.CATEGORIES:
        src = set(model.asset_nodes[(model.category == cat).to_numpy()].tolist())
        d = nx.multi_source_dijkstra_path_length(H, src, weight="length")
        nx_m[cat] = np.array([d.get(int(n), np.inf) for n in pnodes])
    t_nx = time.perf_counter() - t0
    diff_nx = max(
        float(
            np.nanmax(
                np.abs(
                    np.nan_to_num(ours_m[c].to_numpy(), nan=np.inf) - nx_m[c],
                    where=np.isfinite(nx_m[c]),
                    out=np.zeros(len(pnodes)),
                )
            )
        )
        for c in settings.CATEGORIES
    )
    same_reach = all(
        np.array_equal(np.isfinite(nx_m[c]), ours_m[c].notna().to_numpy())
        for c in settings.CATEGORIES
    )
    res["networkx_multi_source"] = {
        "s": t_nx,
        "graph_conversion_s": t_conv,
        "max_abs_diff_m": diff_nx,
        "same_reachability": same_reach,
        "agrees_to_0.1m": bool(diff_nx <= TOL_M and same_reach),
        "ratios": [
            ratio("networkx multi_source_dijkstra (same inserted graph)", t_nx, QUERY, t_ours)
        ],
    }
    print(f"networkx multi-source: {t_nx:.3f}s, max diff {diff_nx:.2e} m")

    # (a) osmnx recipe: ego graph per asset (radius = 15 min), union per category
    t0 = time.perf_counter()
    ego_cov: dict[str, set[int]] = {c: set() for c in settings.CATEGORIES}
    ego_per_asset = []
    for node, cat in zip(model.asset_nodes, model.category, strict=True):
        sub = nx.ego_graph(H, int(node), radius=limit, distance="length")
        nodes = set(sub.nodes)
        ego_cov[cat] |= nodes
        ego_per_asset.append(nodes)
    t_ego = time.perf_counter() - t0
    mismatch = 0
    for c in settings.CATEGORIES:
        ego_in = np.array([int(n) in ego_cov[c] for n in pnodes])
        ours_in = (ours_m[c] <= limit + 1e-6).to_numpy()
        mismatch += int((ego_in != ours_in).sum())
    res["osmnx_ego_graph"] = {
        "s": t_ego,
        "covered_set_mismatches": mismatch,
        "agrees_within_15min": mismatch == 0,
        "ratios": [
            ratio("osmnx ego_graph per asset + union (same inserted graph)", t_ego, QUERY, t_ours)
        ],
    }
    print(f"ego-graph recipe: {t_ego:.3f}s, coverage mismatches {mismatch}")

    # (a') the literal osmnx recipe on the osmnx MultiDiGraph: nearest node, then ego graph
    import osmnx as ox

    t0 = time.perf_counter()
    near = ox.distance.nearest_nodes(G, A.geometry.x.to_numpy(), A.geometry.y.to_numpy())
    t_near = time.perf_counter() - t0
    t0 = time.perf_counter()
    lit_cov: dict[str, set[Any]] = {c: set() for c in settings.CATEGORIES}
    for node, cat in zip(near, model.category, strict=True):
        lit_cov[cat] |= set(nx.ego_graph(G, node, radius=limit, distance="length").nodes)
    t_lit_q = time.perf_counter() - t0
    t_lit = t_near + t_lit_q
    res["osmnx_ego_graph_multidigraph_nearest_node"] = {
        "s": t_lit,
        "nearest_nodes_s": t_near,
        "ego_graphs_s": t_lit_q,
        "ratios": [
            ratio(
                "osmnx nearest_nodes + ego_graph per asset + union", t_lit, WHOLE, t_prep + t_ours
            ),
            ratio("osmnx ego_graph per asset + union", t_lit_q, QUERY, t_ours),
        ],
        "note": "assets moved to their nearest graph node, as in the osmnx isochrone example; "
        "results differ from exact insertion by design, so only the time is compared",
    }
    print(f"ego-graph recipe on osmnx MultiDiGraph: {t_lit:.3f}s")

    # (c) pandana
    res["pandana"] = bench_pandana(model, ours_m, limit, t_ours, t_prep)

    # criticality
    crit, t_crit = timed(asset_criticality, model)
    pn_set = {int(n): i for i, n in enumerate(pnodes)}
    ego_counts = np.array([sum(1 for n in s if n in pn_set) for s in ego_per_asset])
    res["criticality"] = {
        "assets": len(A),
        "s": t_crit,
        "covered_points_match_ego_graph": bool(
            np.array_equal(crit["covered_points"].to_numpy(), ego_counts)
        ),
        "total_sole_points": int(crit["sole_points"].sum()),
    }
    print(f"criticality of {len(A)} assets: {t_crit:.3f}s")
    return res


def bench_pandana(
    model: Any, ours_m: pd.DataFrame, limit: float, t_ours: float, t_prep: float
) -> dict[str, Any]:
    """Pandana on our inserted graph (its build gets our snapping for free)."""
    try:
        import pandana
    except ImportError as exc:
        return {"installed": False, "error": f"pandana could not be imported: {exc}"}
    coo = model.graph.tocoo()
    upper = coo.row < coo.col
    xy = model.node_xy
    if np.isnan(xy).any():
        return {"installed": True, "error": "model nodes without coordinates"}
    t0 = time.perf_counter()
    net = pandana.Network(
        pd.Series(xy[:, 0]),
        pd.Series(xy[:, 1]),
        pd.Series(coo.row[upper]),
        pd.Series(coo.col[upper]),
        pd.DataFrame({"length": coo.data[upper]}),
        twoway=True,
    )
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    net.precompute(limit + 1)
    t_pre = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = {}
    for cat in settings.CATEGORIES:
        nodes = model.asset_nodes[(model.category == cat).to_numpy()]
        net.set_pois(cat, limit, 1, pd.Series(xy[nodes, 0]), pd.Series(xy[nodes, 1]))
        out[cat] = net.nearest_pois(limit, cat, num_pois=1)[1]
    t_q = time.perf_counter() - t0
    total = t_build + t_pre + t_q
    diff = 0.0
    mismatch = 0
    for cat in settings.CATEGORIES:
        p = out[cat].reindex(model.point_nodes).to_numpy(float)
        o = ours_m[cat].to_numpy(float)
        # pandana fills "none within maxdist" with maxdist; points within 0.1 m of the
        # threshold are ambiguous under pandana's float32 weights and are not compared
        within = o <= limit - TOL_M
        beyond = ~(o < limit + TOL_M)  # farther, or unreachable (NaN)
        diff = max(diff, float(np.max(np.abs(p[within] - o[within]), initial=0.0)))
        mismatch += int((np.abs(p[within] - o[within]) > TOL_M).sum())
        mismatch += int((p[beyond] < limit - TOL_M).sum())
    return {
        "installed": True,
        "version": pandana.__version__,
        "build_s": t_build,
        "precompute_s": t_pre,
        "query_s": t_q,
        "total_s": total,
        "max_abs_diff_m_within_15min": diff,
        "within_15min_mismatches": mismatch,
        "agrees_to_0.1m_within_15min": bool(diff <= TOL_M and mismatch == 0),
        "ratios": [
            ratio("pandana build + precompute + query", total, WHOLE, t_prep + t_ours),
            ratio("pandana query (set_pois + nearest_pois)", t_q, QUERY, t_ours),
        ],
        "note": "pandana is built from our inserted graph, so its build does not include "
        "snapping; ours (prepare) does",
    }


def strtree_snap(arr: NetworkArrays, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Snap with shapely's STRtree nearest edge (the reference; coverage used it before)."""
    tree = shapely.STRtree(arr.geom)
    idx, dist = tree.query_nearest(shapely.points(xy), return_distance=True, all_matches=False)
    edge = np.full(len(xy), -1, dtype=np.int64)
    d = np.full(len(xy), np.nan)
    edge[idx[0]], d[idx[0]] = idx[1], dist
    return edge, d


def bench_scaling(sizes: list[int]) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        side = round(float(np.sqrt(size)))
        arr = grid_arrays(side)
        n = len(arr.xy)
        A = synthetic_assets(arr, SEED)
        D = node_demand(arr, None, SEED)
        model, t_prep = timed(prepare, arr, demand=D, assets=A)
        m, t_q = timed(nearest_minutes, model, bundles={})
        # the snapping step alone, ours against shapely's STRtree (the previous method)
        xy = np.vstack([D.geometry.get_coordinates().to_numpy(), A.geometry.get_coordinates()])
        ours, t_snap = timed(snap_xy, arr, xy)
        (ref_edge, ref_d), t_str = timed(strtree_snap, arr, xy)
        other_edge = ours.edge != ref_edge
        row: dict[str, Any] = {
            "inputs": "SYNTHETIC grid, 100 m edges, 287 SYNTHETIC assets, demand at every node",
            "nodes": n,
            "edges": len(arr.length),
            "prepare_s": t_prep,
            "nearest_all_categories_s": t_q,
            "prepare_plus_nearest_s": t_prep + t_q,
            "snap_s": t_snap,
            "shapely_strtree_snap_s": t_str,
            "snap_max_abs_diff_m_vs_strtree": float(np.max(np.abs(ours.snap_m - ref_d))),
            # points on a node: several edges are exactly as near; GEOS picks any of them,
            # we pick the lowest edge row. The model graph is the same either way.
            "snap_other_edge_equally_near": int(np.sum(other_edge & (ours.snap_m == ref_d))),
            "snap_other_edge_not_equally_near": int(np.sum(other_edge & (ours.snap_m != ref_d))),
        }
        if n <= 100_000:
            H = model_nx(model)
            t0 = time.perf_counter()
            diff = 0.0
            for cat in settings.CATEGORIES:
                src = set(model.asset_nodes[(model.category == cat).to_numpy()].tolist())
                d = nx.multi_source_dijkstra_path_length(H, src, weight="length")
                ref = np.array([d.get(int(k), np.inf) for k in model.point_nodes])
                diff = max(
                    diff,
                    float(np.max(np.abs(ref - m[cat].to_numpy() * settings.walk_speed_m_per_min))),
                )
            row["networkx_s"] = time.perf_counter() - t0
            row["networkx_max_abs_diff_m"] = diff
            row["ratio_networkx_vs_ours"] = row["networkx_s"] / t_q
        print(
            f"grid {n:>9,} nodes: prepare {t_prep:.2f}s (snap {t_snap:.2f}s, "
            f"shapely STRtree snap {t_str:.2f}s), nearest {t_q:.3f}s"
            + (f", networkx {row['networkx_s']:.2f}s" if "networkx_s" in row else "")
        )
        rows.append(row)
    return rows


SECTIONS = ("rutland", "grids")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    ap.add_argument(
        "--sizes",
        type=lambda v: [int(float(x)) for x in v.split(",")],
        default=None,
        help="grid sizes in nodes, comma-separated (default 10000,100000,1000000; "
        "10000 with --quick); each is rounded to a square grid",
    )
    ap.add_argument(
        "--sections",
        type=lambda v: v.split(","),
        default=list(SECTIONS),
        help=f"comma-separated subset of {','.join(SECTIONS)} (default all)",
    )
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"results file (default {OUT.relative_to(HERE.parent)} for a full run; "
        "partial runs only print unless this is given)",
    )
    args = ap.parse_args(argv)
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        ap.error(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")
    sizes = args.sizes or ([10_000] if args.quick else [10_000, 100_000, 1_000_000])
    result: dict[str, Any] = {
        "benchmark": "coverage",
        "note": "assets, populations and grids are synthetic; "
        "the Rutland street network is real OSM",
        "quick": args.quick,
        "machine": machine(),
        "threshold": {
            "minutes": settings.walk_minutes,
            "speed_m_per_min": settings.walk_speed_m_per_min,
        },
    }
    if "rutland" in args.sections:
        result["rutland"] = bench_rutland(args.quick)
    if "grids" in args.sections:
        result["scaling_synthetic_grids"] = bench_scaling(sizes)
    out = args.out
    if out is None and set(args.sections) == set(SECTIONS):
        out = OUT
    if out is not None:
        with atomic_path(out) as tmp:
            tmp.write_text(json.dumps(result, indent=2, default=float))
    print_table(result)
    if out is not None:
        print(f"wrote {out}")


def print_table(r: dict[str, Any]) -> None:
    if "rutland" in r:
        print_rutland(r["rutland"])
    if "scaling_synthetic_grids" in r:
        print("\nScaling (SYNTHETIC grids)")
        for row in r["scaling_synthetic_grids"]:
            nxs = f"{row['networkx_s']:.2f}" if "networkx_s" in row else "-"
            print(
                f"{row['nodes']:>10,} nodes  prepare {row['prepare_s']:7.2f}s "
                f"(snap {row['snap_s']:6.2f}s; "
                f"shapely STRtree {row['shapely_strtree_snap_s']:6.2f}s)"
                f"  nearest {row['nearest_all_categories_s']:7.3f}s"
                f"  total {row['prepare_plus_nearest_s']:7.2f}s  networkx {nxs}"
            )


def print_rutland(ru: dict[str, Any]) -> None:
    print(f"\nRutland ({ru['network']['nodes']:,} nodes; SYNTHETIC assets/demand)")
    ours = ru["ours"]
    print(
        f"nwm_geo prepare {ours['prepare_s']:.3f}s, query {ours['nearest_all_categories_s']:.3f}s"
    )
    print(f"{'peer':58s} {'s':>7s}  {'nwm_geo side':48s} {'s':>7s} {'ratio':>6s}")
    for key in (
        "networkx_multi_source",
        "osmnx_ego_graph",
        "osmnx_ego_graph_multidigraph_nearest_node",
        "pandana",
    ):
        entry = ru.get(key, {})
        if "ratios" not in entry:
            print(f"{key}: {entry.get('error', 'not run')}")
            continue
        for r in entry["ratios"]:
            print(
                f"{r['peer']:58s} {r['peer_s']:7.3f}  {r['nwm_geo']:48s} "
                f"{r['nwm_geo_s']:7.3f} {r['ratio']:6.1f}"
            )
    crit = ru["criticality"]
    print(
        f"nwm_geo criticality of {crit['assets']} assets: {crit['s']:.3f}s, "
        f"ego match {crit['covered_points_match_ego_graph']}"
    )


if __name__ == "__main__":
    main()
