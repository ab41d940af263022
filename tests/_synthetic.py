"""SYNTHETIC maps shared by the tests and the benchmarks (one implementation of each).

Nothing here is real data: the populations and asset counts are drawn from a seeded
random generator, so a seed gives the same map everywhere.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box


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
