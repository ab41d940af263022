"""SYNTHETIC maps shared by the tests and the benchmarks (one implementation of each).

Nothing here is real data: the populations and asset counts are drawn from a seeded
random generator, so a seed gives the same map everywhere.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import MultiPoint, box
from shapely.ops import voronoi_diagram


def synthetic_grid(rows: int, cols: int, seed: int) -> gpd.GeoDataFrame:
    """SYNTHETIC: rows x cols squares of 500 m, heavy-tailed populations, Poisson assets."""
    rng = np.random.default_rng(seed)
    n = rows * cols
    geoms = [
        box(c * 500.0, r * 500.0, (c + 1) * 500.0, (r + 1) * 500.0)
        for r in range(rows)
        for c in range(cols)
    ]
    return gpd.GeoDataFrame(
        {
            "population": np.round(rng.lognormal(7.5, 1.2, n)).astype(int) + 50,
            "assets": rng.poisson(0.3, n),
        },
        geometry=geoms,
        index=pd.Index([f"G{i:05d}" for i in range(n)], name="ward_code"),
        crs="EPSG:27700",
    )


def synthetic_voronoi(n: int, seed: int) -> gpd.GeoDataFrame:
    """SYNTHETIC: a Voronoi map of ``n`` cells in a 20 km square, random people and assets."""
    rng = np.random.default_rng(seed)
    side = 20_000.0
    pts = MultiPoint([tuple(p) for p in rng.uniform(0, side, size=(n, 2))])
    frame = box(0, 0, side, side)
    cells = [c.intersection(frame) for c in voronoi_diagram(pts, envelope=frame).geoms]
    cells = [c for c in cells if not c.is_empty]
    codes = [f"SYN{i:03d}" for i in range(len(cells))]
    return gpd.GeoDataFrame(
        {
            "ward_name": [f"Synthetic cell {i}" for i in range(len(cells))],
            "population": rng.integers(1_000, 12_000, size=len(cells)),
            "assets": rng.integers(0, 8, size=len(cells)),
        },
        geometry=cells,
        index=pd.Index(codes, name="ward_code"),
        crs="EPSG:27700",
    )
