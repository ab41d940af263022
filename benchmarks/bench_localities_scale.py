"""Benchmark: nwm_geo.localities.partition at every council size, with peers side by side.

Not a test. Instances: Luton wards (20) and LSOAs 2021 (125) with connected subsets of
40 and 70 LSOAs; synthetic Voronoi maps (labelled synthetic: random points, random
populations and asset counts) of 40, 60, 70, 100 and 150 units; Rutland wards and
LSOAs. For k = 3, 5, 8, 10 each instance is solved by ``partition`` (one child process
per run, so peak memory is measured per run), then, at EQUAL wall time (our median wall
time on the instance), by a ReCom chain that optimises the SAME objective (gerrychain
recom proposals, Metropolis acceptance on the worst deviation over population and
assets, best plan kept; one seed per repeat, best seed reported with the spread) and by
spopt AZP / SKATER; every plan is scored with our objective. Per run: wall time, peak
memory, status, worst deviation, the proven lower bound and the gap, the load average,
and whether each target of issues 13 and 26 is met (and by how much it misses when
not). Ours is repeated ``--repeats`` times (median wall time, spread of wall time and
worst deviation, whether every repeat gave the same plan). Writes
``benchmarks/results/localities_scale.json`` atomically after every instance, so a
partial run still leaves what completed.

Run from the project root::

    python benchmarks/bench_localities_scale.py [--time-limit 60] [--repeats 5]
        [--only luton_lsoa_40] [--k 3 5] [--runs luton_lsoa_125:8] [--no-peers]
        [--quick] [--out PATH]

``--quick``: synthetic maps of 40, 60 and 100 units, k = 5 and 10, 20 s, one repeat
(about 10 minutes).
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import multiprocessing
import os
import platform
import random
import resource
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from nwm_geo import localities as loc
from nwm_geo._io import atomic_path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from _synthetic import synthetic_voronoi  # the tests' Voronoi map: one implementation

__all__ = ["main"]

RESULTS = Path(__file__).parent / "results" / "localities_scale.json"
KS = (3, 5, 8, 10)
GIB = 2**30


# --------------------------------------------------------------------------- instances


def _lsoas_with_assets(area: str) -> gpd.GeoDataFrame:
    from nwm_geo.pipeline import Study

    study = Study(area=area, verbose=False)
    lsoas = study.area_data.lsoas
    reg = study.register
    inb = reg[reg["inside_area"].astype(bool)]
    pts = gpd.GeoDataFrame(inb, geometry=inb.geometry, crs=reg.crs).to_crs(lsoas.crs)
    joined = gpd.sjoin(pts[["geometry"]], lsoas[["geometry"]], predicate="within")
    counts = joined.groupby(joined.columns[-1]).size()
    out = lsoas[["lsoa_name", "population", "geometry"]].rename(columns={"lsoa_name": "ward_name"})
    out["assets"] = counts.reindex(out.index).fillna(0).astype(int)
    return out


def _wards(area: str) -> gpd.GeoDataFrame:
    from nwm_geo.pipeline import Study

    w = Study(area=area, verbose=False).wards
    return w[["ward_name", "population", "assets", "geometry"]]


def _connected_subset(units: gpd.GeoDataFrame, size: int) -> gpd.GeoDataFrame:
    """Return the first ``size`` units in breadth-first order from the first unit."""
    adj = loc.ward_adjacency(units)
    nbrs: dict[Any, list[Any]] = {c: [] for c in units.index}
    for a, b in adj[["ward_a", "ward_b"]].itertuples(index=False):
        nbrs[a].append(b)
        nbrs[b].append(a)
    root = units.index[0]
    order, seen = [root], {root}
    for u in order:
        for v in sorted(nbrs[u]):
            if v not in seen:
                seen.add(v)
                order.append(v)
    return units.loc[order[:size]]


def instances(only: list[str] | None) -> dict[str, tuple[gpd.GeoDataFrame, str]]:
    """Every instance of the issue, by name, with where it comes from."""
    out: dict[str, tuple[gpd.GeoDataFrame, str]] = {}

    def want(name: str) -> bool:
        return not only or any(o in name for o in only)

    if want("luton_wards"):
        out["luton_wards"] = (_wards("luton"), "Luton 2023 wards (Study.wards)")
    if any(want(f"luton_lsoa_{n}") for n in (40, 70, 125)):
        lsoas = _lsoas_with_assets("luton")
        for size in (40, 70):
            if want(f"luton_lsoa_{size}"):
                out[f"luton_lsoa_{size}"] = (
                    _connected_subset(lsoas, size),
                    f"Luton LSOA 2021, the first {size} in breadth-first order from "
                    f"{lsoas.index[0]}",
                )
        if want("luton_lsoa_125"):
            out["luton_lsoa_125"] = (lsoas, "Luton LSOA 2021, all")
    for size, seed in ((40, 40), (60, 60), (70, 70), (100, 100), (150, 150)):
        if want(f"synthetic_voronoi_{size}"):
            out[f"synthetic_voronoi_{size}"] = (
                synthetic_voronoi(size, seed),
                f"SYNTHETIC Voronoi map, {size} cells, seed {seed}",
            )
    if want("rutland_wards"):
        out["rutland_wards"] = (_wards("rutland"), "Rutland wards (Study(area='rutland').wards)")
    if want("rutland_lsoa"):
        out["rutland_lsoa"] = (_lsoas_with_assets("rutland"), "Rutland LSOA 2021, all")
    return out


# --------------------------------------------------------------------------- scoring


def score(units: gpd.GeoDataFrame, labels: pd.Series, adj: pd.DataFrame) -> dict[str, Any]:
    """Worst relative deviation (population, assets) and boundary cut of a labelling."""
    lab = labels.reindex(units.index)
    tot = units[["population", "assets"]].groupby(lab).sum()
    k = len(tot)
    mean = units[["population", "assets"]].sum() / k
    dev = ((tot - mean).abs() / mean).max()
    cut = float(
        adj.loc[lab[adj["ward_a"]].to_numpy() != lab[adj["ward_b"]].to_numpy(), "shared_m"].sum()
    )
    return {
        "n_localities": int(k),
        "worst_dev_pct": float(100 * dev.max()),
        "boundary_cut_m": cut,
    }


# --------------------------------------------------------------------------- ours


def _ours_child(units: gpd.GeoDataFrame, k: int, limit: float, conn: Any) -> None:
    try:
        t0 = time.perf_counter()
        plan = loc.partition(
            units,
            k=k,
            rules=loc.PartitionRules(k_range=(2, 12)),
            budget=loc.SolveBudget(time_limit_s=limit),
        )
        wall = time.perf_counter() - t0
        peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        peak_kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        conn.send(
            {
                "wall_s": wall,
                "peak_memory_bytes": int(max(peak_self, peak_kids)),
                "status": plan.status,
                "proven_optimal": plan.proven_optimal,
                "worst_dev_pct": 100 * plan.objective,
                "lower_bound_pct": 100 * plan.bound,
                "gap_points": 100 * (plan.objective - plan.bound),
                "relative_gap": plan.gap,
                "boundary_cut_m": plan.boundary_cut_m,
                "method": plan.method,
                "assignment": plan.assignment.to_dict(),
            }
        )
    except BaseException as exc:
        conn.send({"error": f"{type(exc).__name__}: {exc}"})
    finally:
        conn.close()


def run_ours(units: gpd.GeoDataFrame, k: int, limit: float) -> dict[str, Any]:
    """``partition`` in a fresh child process: wall time, peak memory, result."""
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    t0 = time.perf_counter()
    child = ctx.Process(target=_ours_child, args=(units, k, limit, send))
    child.start()
    send.close()
    out: dict[str, Any]
    if recv.poll(3 * limit + 60):
        try:
            out = recv.recv()
        except EOFError:
            out = {"error": "the run died without a result (killed or out of memory)"}
    else:
        out = {"error": f"no result after {3 * limit + 60:.0f} s; killed"}
    if child.is_alive():
        child.kill()
    child.join()
    out.setdefault("wall_s", time.perf_counter() - t0)
    return out


# --------------------------------------------------------------------------- peers


def _weights(units: gpd.GeoDataFrame, adj: pd.DataFrame) -> Any:
    from libpysal.weights import W

    pos = {c: i for i, c in enumerate(units.index)}
    neigh: dict[int, list[int]] = {i: [] for i in range(len(units))}
    for a, b in adj[["ward_a", "ward_b"]].itertuples(index=False):
        neigh[pos[a]].append(pos[b])
        neigh[pos[b]].append(pos[a])
    return W(neigh, silence_warnings=True)


def run_spopt(units: gpd.GeoDataFrame, k: int, name: str, adj: pd.DataFrame) -> dict[str, Any]:
    import spopt.region as region

    w = _weights(units, adj)
    gdf = units.reset_index(drop=True)
    attrs = ["population", "assets"]
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.random.seed(0)  # noqa: NPY002 - spopt draws from the legacy global state
        if name == "spopt AZP":
            model = region.AZP(gdf, w, attrs, n_clusters=k, random_state=0)
        else:
            model = region.Skater(gdf, w, attrs, n_clusters=k, floor=1, trace=False)
        model.solve()
    runtime = time.perf_counter() - t0
    labels = pd.Series(np.asarray(model.labels_), index=units.index)
    return {"method": name, "wall_s": runtime, **score(units, labels, adj)}


def _worst_dev(part: Any, means: dict[str, float]) -> float:
    """Our objective on a gerrychain partition: worst |x - mean| / mean over both measures."""
    return max(
        abs(v - means[col]) / means[col]
        for col in ("population", "assets")
        for v in part[col].values()
    )


def run_recom(
    units: gpd.GeoDataFrame,
    k: int,
    adj: pd.DataFrame,
    budget_s: float,
    seed: int = 0,
) -> dict[str, Any]:
    """Run a ReCom chain that optimises OUR objective for ``budget_s`` seconds of wall time.

    Proposals: gerrychain's ``recom`` (a random spanning tree of two merged districts,
    cut within the population band). Acceptance: Metropolis on the worst deviation over
    population and assets (the partitioner's objective), the temperature falling
    geometrically from 1 % to 0.01 % over the budget; the best plan seen is kept. The
    band is the tightest of ±5, 10, 20, 30, 50 % in which a first plan can be drawn; a
    step that finds no balanced cut in 200 trees leaves the plan as it is (small maps at a
    tight band otherwise hang gerrychain; its pair reselection looped for minutes).
    """
    import math

    import networkx as nx
    from gerrychain import Graph, MarkovChain, Partition
    from gerrychain.constraints import contiguous
    from gerrychain.partition import recursive_tree_part
    from gerrychain.proposals import recom
    from gerrychain.tree import bipartition_tree
    from gerrychain.updaters import Tally

    g = nx.Graph()
    for code, row in units[["population", "assets"]].iterrows():
        g.add_node(code, code=code, population=int(row["population"]), assets=int(row["assets"]))
    g.add_edges_from(adj[["ward_a", "ward_b"]].itertuples(index=False))
    graph = Graph.from_networkx(g)
    ideal = units["population"].sum() / k
    means = {"population": ideal, "assets": units["assets"].sum() / k}
    t0 = time.perf_counter()
    random.seed(seed)
    start = None
    eps = 0.05
    for eps in (0.05, 0.10, 0.20, 0.30, 0.50):  # the tightest band ReCom can start in
        try:
            start = recursive_tree_part(graph, range(k), ideal, "population", eps)
            break
        except Exception:
            continue
    if start is None:
        return {"method": "ReCom (same objective)", "error": "no initial plan within ±50 %"}
    updaters = {
        "population": Tally("population", alias="population"),
        "assets": Tally("assets", alias="assets"),
    }
    init = Partition(graph, start, updaters)
    rng = random.Random(seed)
    band = eps
    temp0, temp1 = 1e-2, 1e-4
    state = {"current": _worst_dev(init, means)}

    def proposal(p: Partition, *, rng: random.Random | None = None) -> Partition:
        try:
            return recom(
                p,
                pop_col="population",
                pop_target=ideal,
                epsilon=band,
                bipartition_tree_fn=functools.partial(
                    bipartition_tree,
                    max_attempts=200,
                    warn_attempts=10**9,
                ),
                rng=rng,
            )
        except Exception:  # no balanced cut for any pair tried: the chain stays put
            return p

    def accept(p: Partition) -> bool:
        frac = min((time.perf_counter() - t0) / budget_s, 1.0)
        temp = temp0 * (temp1 / temp0) ** frac
        new = _worst_dev(p, means)
        if new <= state["current"] or rng.random() < math.exp(-(new - state["current"]) / temp):
            state["current"] = new
            return True
        return False

    chain = MarkovChain(
        proposal_fn=proposal,
        constraints=[contiguous],
        acceptance_fn=accept,
        initial_partition=init,
        total_steps=10**9,
        rng=rng,
    )
    best: tuple[float, dict[Any, int]] | None = None
    done = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for part in chain:
            done += 1
            val = _worst_dev(part, means)
            if best is None or val < best[0]:
                best = (val, part.assignment.to_dict())
            if time.perf_counter() - t0 > budget_s:
                break
    assert best is not None
    labels = pd.Series({init.graph.node_data(n)["code"]: d for n, d in best[1].items()})
    labels = labels.reindex(units.index)
    return {
        "method": (
            f"ReCom optimising the same objective (gerrychain recom proposals, Metropolis "
            f"acceptance on the worst deviation, {done} steps in {budget_s:.0f} s, "
            f"±{band:.0%} population band for the cuts, best kept, seed {seed})"
        ),
        "wall_s": time.perf_counter() - t0,
        "steps": done,
        **score(units, labels, adj),
    }


def _recom_child(conn: Any, *args: Any) -> None:
    try:
        conn.send(run_recom(*args))
    except BaseException as exc:
        conn.send({"method": "ReCom (same objective)", "error": f"{type(exc).__name__}: {exc}"})
    finally:
        conn.close()


def run_recom_killable(*args: Any, budget_s: float) -> dict[str, Any]:
    """ReCom in a child process, killed if one of its steps hangs past the budget."""
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_recom_child, args=(send, *args))
    child.start()
    send.close()
    out: dict[str, Any] = {
        "method": "ReCom (same objective)",
        "error": f"a chain step hung past {budget_s + 15:.0f} s; killed",
    }
    if recv.poll(budget_s + 15):
        try:
            out = recv.recv()
        except EOFError:
            out = {"method": "ReCom (same objective)", "error": "the chain died"}
    if child.is_alive():
        child.kill()
    child.join()
    return out


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": float(np.median(values)), "min": min(values), "max": max(values)}


def _ours_repeated(
    units: gpd.GeoDataFrame, k: int, limit: float, repeats: int, adj: pd.DataFrame
) -> dict[str, Any]:
    """Run ours ``repeats`` times (same seed); return the median run, with the spread."""
    runs = []
    for _ in range(repeats):
        got = run_ours(units, k, limit)
        if "error" in got:
            return got
        assignment = got.pop("assignment", None)
        if assignment is not None:
            got["rescored_worst_dev_pct"] = score(units, pd.Series(assignment), adj)[
                "worst_dev_pct"
            ]
        runs.append(got)
    walls = [r["wall_s"] for r in runs]
    devs = [r["worst_dev_pct"] for r in runs]
    mid = sorted(runs, key=lambda r: r["worst_dev_pct"])[len(runs) // 2]
    return {
        **mid,
        "wall_s": float(np.median(walls)),
        "repeats": repeats,
        "wall_s_spread": _spread(walls),
        "worst_dev_pct_spread": _spread(devs),
        "same_plan_every_repeat": len(set(devs)) == 1,
    }


def _recom_repeated(
    units: gpd.GeoDataFrame, k: int, adj: pd.DataFrame, budget_s: float, repeats: int
) -> dict[str, Any]:
    """Run the same-objective ReCom with ``repeats`` seeds; the best seed, with the spread."""
    runs = []
    for seed in range(repeats):
        got = run_recom_killable(units, k, adj, budget_s, seed, budget_s=budget_s)
        if "error" in got:
            return got
        runs.append(got)
    devs = [r["worst_dev_pct"] for r in runs]
    best = min(runs, key=lambda r: r["worst_dev_pct"])
    return {
        **best,
        "method": best["method"] + f"; best of {repeats} seeds",
        "seeds": repeats,
        "worst_dev_pct_spread": _spread(devs),
    }


def _peer(fn: Any, *args: Any) -> dict[str, Any]:
    try:
        out: dict[str, Any] = fn(*args)
    except Exception as exc:
        out = {"error": f"{type(exc).__name__}: {exc}"}
    return out


# --------------------------------------------------------------------------- targets


def targets(
    n: int, k: int, ours: dict[str, Any], peers: list[dict[str, Any]], limit: float
) -> dict[str, Any]:
    """Each target of issues 13 and 26: met, and by how much it misses when not."""
    if "error" in ours:
        return {"no_crash_and_a_plan": {"met": False, "miss": ours["error"]}}
    out: dict[str, Any] = {"no_crash_and_a_plan": {"met": True}}
    over = ours["wall_s"] - 1.1 * limit
    out["within_time_limit_plus_10pct"] = {"met": over <= 0, "miss_s": max(over, 0.0)}
    mem = ours["peak_memory_bytes"] / GIB
    out["peak_memory_under_4_gib"] = {"met": mem < 4, "peak_gib": mem}
    if n <= 60 and k <= 5:
        out["proven_optimal_up_to_60_units_k_le_5"] = {
            "met": bool(ours["proven_optimal"]),
            "miss_points": 0.0 if ours["proven_optimal"] else ours["gap_points"],
        }
    gap = ours["gap_points"]
    out["gap_at_most_1_point"] = {"met": gap <= 1.0 + 1e-9, "miss_points": max(gap - 1.0, 0.0)}
    ok = [p["worst_dev_pct"] for p in peers if "worst_dev_pct" in p and p["n_localities"] > 0]
    if ok:
        diff = ours["worst_dev_pct"] - min(ok)
        out["no_worse_than_peers"] = {"met": diff <= 1e-9, "miss_points": max(diff, 0.0)}
    return out


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark grid and write the JSON results after every instance."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--repeats", type=int, default=5, help="runs of ours, ReCom seeds (5)")
    ap.add_argument(
        "--quick",
        action="store_true",
        help="synthetic maps of 40, 60 and 100 units, k = 5 and 10, 20 s, 1 repeat",
    )
    ap.add_argument("--only", nargs="*", help="instance names (substrings) to run")
    ap.add_argument("--k", nargs="*", type=int, default=list(KS))
    ap.add_argument(
        "--runs",
        nargs="*",
        help="only these instance:k runs, e.g. luton_lsoa_125:8 synthetic_voronoi_40:3",
    )
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    if args.quick:
        args.only = args.only or ["synthetic_voronoi_40", "synthetic_voronoi_60", "voronoi_100"]
        args.k = [5, 10]
        args.time_limit = min(args.time_limit, 20.0)
        args.repeats = 1
    if not args.no_peers:  # without them the JSON would hold only errors for the peers
        missing = [m for m in ("gerrychain", "spopt") if importlib.util.find_spec(m) is None]
        if missing:
            print(
                f"bench_localities_scale: the peers need {', '.join(missing)}: install the "
                'bench extra (pip install -e ".[bench]") or run with --no-peers',
                file=sys.stderr,
            )
            return 2
    pairs = [(r.rsplit(":", 1)[0], int(r.rsplit(":", 1)[1])) for r in args.runs or []]
    if pairs:
        args.only = sorted({name for name, _ in pairs})
        args.k = sorted({k for _, k in pairs})
    load0 = os.getloadavg()
    insts = instances(args.only)
    runs: list[dict[str, Any]] = []
    result: dict[str, Any] = {
        "benchmark": "localities_scale",
        "issues": [13, 26],
        "time_limit_s": args.time_limit,
        "repeats": args.repeats,
        "quick": args.quick,
        "only_runs": args.runs or "every instance and k asked",
        "code_commit": _commit(),
        "peers_at_equal_time": "each peer run gets our median wall time on the instance",
        "objective": "max over localities and {population, assets} of |x - mean| / mean",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": load0,
            "note": "shared 2-core machine; other sessions ran at the same time",
        },
        "instances": {name: {"n_units": len(u), "source": src} for name, (u, src) in insts.items()},
        "runs": runs,
    }
    t_all = time.perf_counter()
    for name, (units, _src) in insts.items():
        adj = loc.ward_adjacency(units)
        for k in args.k:
            if k >= len(units) or (pairs and (name, k) not in pairs):
                continue
            print(f"{name} (n={len(units)}) k={k} ...", flush=True)
            ours = _ours_repeated(units, k, args.time_limit, args.repeats, adj)
            peers: list[dict[str, Any]] = []
            if not args.no_peers and "error" not in ours:
                equal = float(ours["wall_s"])  # the peers get our (median) wall time
                peers.append(_recom_repeated(units, k, adj, equal, args.repeats))
                peers.append(_peer(run_spopt, units, k, "spopt AZP", adj))
                peers.append(_peer(run_spopt, units, k, "spopt SKATER", adj))
            row = {
                "instance": name,
                "n_units": len(units),
                "k": k,
                "ours": ours,
                "peers": peers,
                "targets": targets(len(units), k, ours, peers, args.time_limit),
                "load_average": os.getloadavg(),
            }
            runs.append(row)
            _print_row(row)
            result["elapsed_s"] = time.perf_counter() - t_all
            with atomic_path(args.out) as tmp:
                tmp.write_text(json.dumps(result, indent=2, default=str))
    result["complete"] = True
    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(result, indent=2, default=str))
    print(f"wrote {args.out}")
    return 0


def _commit() -> str:
    """Return the git commit of the code measured (with "+changes" if the tree differs)."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "src"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "unknown"
    return head + ("+changes" if dirty else "") if head else "unknown"


def _print_row(row: dict[str, Any]) -> None:
    o = row["ours"]
    if "error" in o:
        print(f"  ours: ERROR {o['error']}")
        return
    peers = ", ".join(
        f"{p.get('method', '?')[:16]} {p['worst_dev_pct']:.2f}%"
        if "worst_dev_pct" in p
        else f"{p.get('method', '?')[:16]} ERROR {p.get('error', '?')}"
        for p in row["peers"]
    )
    missed = [t for t, v in row["targets"].items() if not v.get("met", False)]
    print(
        f"  ours {o['worst_dev_pct']:.2f}% LB {o['lower_bound_pct']:.2f}% gap "
        f"{o['gap_points']:.2f} pt, {o['wall_s']:.1f} s, "
        f"{o['peak_memory_bytes'] / 2**20:.0f} MiB; peers: {peers}; missed: {missed}",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
