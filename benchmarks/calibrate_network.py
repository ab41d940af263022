"""Measure the postcode-proximity approximation against OSM on real Rutland data (not a test).

Rutland has both real Code-Point postcodes and a real OpenStreetMap extract, so the
approximation (:func:`nwm_geo.network.approximate_graph`, built from the postcodes) can
be compared with the OSM walk network (:func:`nwm_geo.network.graph_from_osm_file`):

1. walking distances between seeded random pairs of postcodes, both inserted on their
   nearest edge (:func:`nwm_geo.calibration.compare_distances`), at the defaults and,
   unless ``--quick``, for a few ``max_edge_m`` values with the detour factor refitted;
2. the share of residents whose 15-minute verdict flips between the two networks, per
   category and bundle (:func:`nwm_geo.calibration.verdict_flips`).

Writes ``benchmarks/results/network_calibration.json`` (settings, inputs with sha256,
network labels, figures, time taken).

Run: ``python benchmarks/calibrate_network.py [--data-dir data/raw] [--quick]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from nwm_geo import calibration, network, settings
from nwm_geo._io import atomic_path
from nwm_geo._units import resolve_minutes, resolve_speed
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


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the calibration and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data/raw"))
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--n-pairs", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-dist-m", type=float, default=2000.0)
    parser.add_argument("--minutes", type=float, default=None)
    parser.add_argument("--speed", type=float, default=None, help="metres per minute")
    parser.add_argument("--quick", action="store_true", help="defaults only, no sweep")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    minutes = resolve_minutes(args.minutes)
    speed = resolve_speed(args.speed)

    inputs = load_rutland(args.data_dir)
    osm_path = args.data_dir / OSM_FILE
    print(f"Reading {osm_path} ...")
    G_osm = network.graph_from_osm_file(osm_path)
    print(network.network_label(G_osm))
    t_load = time.perf_counter() - t0

    print(f"Comparing distances on {args.n_pairs} postcode pairs at the defaults ...")
    at_defaults = calibration.compare_distances(
        G_osm,
        inputs.postcodes,
        n_pairs=args.n_pairs,
        seed=args.seed,
        max_dist_m=args.max_dist_m,
        minutes=minutes,
        speed_m_per_min=speed,
        verbose=True,
    )
    s = at_defaults.summary
    print(
        f"median ratio {s.median_ratio:.3f} (p10 {s.p10_ratio:.3f}, p90 {s.p90_ratio:.3f}); "
        f"abs error median {s.median_abs_error_m:.0f} m, p90 {s.p90_abs_error_m:.0f} m"
    )
    pairs = at_defaults.pairs
    bands = pd.cut(pairs["osm_m"], [0, 500, 1000, 1500, 2000])
    by_band = pairs.groupby(bands, observed=True).agg(
        pairs=("ratio", "size"),
        median_ratio=("ratio", "median"),
        median_abs_error_m=("abs_error_m", "median"),
    )

    towns = in_towns(pairs, inputs.postcodes)
    town_stats: dict[str, Any] = {"wards": list(TOWN_WARDS), **pair_stats(pairs[towns])}
    sweep: list[dict[str, Any]] = []
    if not args.quick:
        for me in (200.0, 300.0, 400.0, 600.0):
            raw = calibration.compare_distances(
                G_osm,
                inputs.postcodes,
                n_pairs=args.n_pairs,
                seed=args.seed,
                max_dist_m=args.max_dist_m,
                detour_factor=1.0,
                max_edge_m=me,
            ).pairs
            fitted = max(1.0, float(np.median(raw["osm_m"] / raw["approx_m"])))
            if me == network.DEFAULT_MAX_EDGE_M:
                rt = raw[in_towns(raw, inputs.postcodes)]
                town_stats["fitted_detour_factor_at_default_max_edge"] = float(
                    np.median(rt["osm_m"] / rt["approx_m"])
                )
            fit = calibration.compare_distances(
                G_osm,
                inputs.postcodes,
                n_pairs=args.n_pairs,
                seed=args.seed,
                max_dist_m=args.max_dist_m,
                detour_factor=fitted,
                max_edge_m=me,
                minutes=minutes,
                speed_m_per_min=speed,
            ).summary
            print(
                f"max_edge_m {me:.0f}: fitted detour {fitted:.3f}, p90 abs error "
                f"{fit.p90_abs_error_m:.0f} m, same side {fit.same_side_share:.3f}"
            )
            f = calibration.verdict_flips(
                G_osm,
                network.approximate_graph(inputs.postcodes, detour_factor=fitted, max_edge_m=me),
                demand=inputs.demand,
                assets=inputs.assets,
                minutes=minutes,
                speed_m_per_min=speed,
            ).table
            sweep.append(
                {
                    "max_edge_m": me,
                    "fitted_detour_factor": fitted,
                    **fit.as_dict(),
                    "verdict_flip_share": f.loc[[*settings.BUNDLES, f.index[-1]], "flip_share"]
                    .round(4)
                    .to_dict(),
                }
            )

    print("Verdict flips (15-minute walk to the nearest asset) ...")
    G_apx = network.approximate_graph(inputs.postcodes)
    flips = calibration.verdict_flips(
        G_osm,
        G_apx,
        demand=inputs.demand,
        assets=inputs.assets,
        minutes=minutes,
        speed_m_per_min=speed,
        verbose=True,
    )
    table = flips.table
    print(table.round(3).to_string())
    bundle_rows = [*settings.BUNDLES, *[r for r in table.index if r.startswith("all ")]]

    result: dict[str, Any] = {
        "what": "postcode-proximity approximation vs the OSM walk network, real Rutland "
        "postcodes (Code-Point Open 2025-10) and OSM extract 2022-07-20",
        "settings": {
            "n_pairs": args.n_pairs,
            "seed": args.seed,
            "max_dist_m": args.max_dist_m,
            "minutes": minutes,
            "speed_m_per_min": speed,
            "detour_factor": network.DEFAULT_DETOUR_FACTOR,
            "max_edge_m": network.DEFAULT_MAX_EDGE_M,
            "pairs": "all unordered postcode pairs with OSM walking distance in "
            "(0, max_dist_m], sampled without replacement with the seed; both postcodes "
            "inserted on their nearest edge of each network (coverage.prepare)",
        },
        "inputs": {
            "files": {
                str(p.relative_to(args.data_dir)): sha256(p) for p in [*inputs.files, osm_path]
            },
            "postcodes": len(inputs.postcodes),
            "distinct_postcode_locations": len(
                np.unique(
                    np.column_stack([inputs.postcodes.geometry.x, inputs.postcodes.geometry.y]),
                    axis=0,
                )
            ),
            "weighting": inputs.weighting,
            **inputs.notes,
        },
        "networks": {
            "osm": at_defaults.osm_label,
            "osm_nodes": G_osm.number_of_nodes(),
            "osm_directed_edges": G_osm.number_of_edges(),
            "approx": at_defaults.approx_label,
            "approx_nodes": G_apx.number_of_nodes(),
            "approx_directed_edges": G_apx.number_of_edges(),
        },
        "distances_at_defaults": s.as_dict(),
        "distances_by_osm_band": {str(k): v for k, v in by_band.to_dict(orient="index").items()},
        "distances_at_defaults_town_pairs": town_stats,
        "detour_sweep": sweep,
        "verdict_flips": {
            "weighting": flips.weighting,
            "minutes": flips.minutes,
            "speed_m_per_min": flips.speed_m_per_min,
            "population_total": float(table["population"].iloc[0]),
            "per_category": table.drop(columns="population").to_dict(orient="index"),
            "bundles": {
                r: table.loc[r].drop("population").to_dict()
                for r in bundle_rows
                if r in table.index
            },
        },
        "seconds": {"load": t_load, "total": time.perf_counter() - t0},
    }
    result = _round(result)
    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out} in {result['seconds']['total']:.0f} s")
    return result


if __name__ == "__main__":
    main()
