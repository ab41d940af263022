"""Deep equality of study results, for the what-if regression tests (test helper)."""

from __future__ import annotations

import dataclasses
import inspect
import math
from functools import cached_property
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from scipy import sparse

#: Fields that measure the machine, not the result: never compared.
TIMINGS = ("runtime", "elapsed", "wall_s", "seconds")


def public_results(cls: type) -> list[str]:
    """Every public result of a study class: its public cached and plain properties."""
    return sorted(
        name
        for name, value in inspect.getmembers(cls)
        if not name.startswith("_") and isinstance(value, cached_property | property)
    )


def _is_timing(name: object) -> bool:
    return any(t in str(name) for t in TIMINGS)


def _frames(a: Any, b: Any, path: str) -> list[str]:
    try:
        if isinstance(a, pd.DataFrame):
            timing = [c for c in a.columns if _is_timing(c)]
            a, b = a.drop(columns=timing), b.drop(columns=timing, errors="ignore")
            pd.testing.assert_frame_equal(a, b, check_exact=False, atol=1e-9)
        else:
            pd.testing.assert_series_equal(a, b, check_exact=False, atol=1e-9)
    except AssertionError as exc:
        return [f"{path}: {str(exc).splitlines()[0]}"]
    return []


def _arrays(a: Any, b: Any, path: str) -> list[str]:
    if sparse.issparse(a):
        same = a.shape == b.shape and (a != b).nnz == 0
    else:
        same = a.shape == b.shape and bool(np.all((a == b) | (pd.isna(a) & pd.isna(b))))
    return [] if same else [f"{path}: array differs"]


def _containers(a: Any, b: Any, path: str) -> list[str]:
    if isinstance(a, dict):
        if set(a) != set(b):
            return [f"{path}: keys {sorted(map(str, set(a) ^ set(b)))}"]
        return [d for k in a for d in differences(a[k], b[k], f"{path}[{k!r}]")]
    if len(a) != len(b):
        return [f"{path}: length {len(a)} vs {len(b)}"]
    pairs = enumerate(zip(a, b, strict=True))
    return [d for i, (x, y) in pairs for d in differences(x, y, f"{path}[{i}]")]


def _objects(a: Any, b: Any, path: str) -> list[str]:
    if type(a) is not type(b):
        return [f"{path}: {type(a).__name__} vs {type(b).__name__}"]
    if dataclasses.is_dataclass(a):
        # the fields the dataclass itself compares (a cache field says compare=False)
        names = [f.name for f in dataclasses.fields(a) if f.compare]
        return [d for n in names for d in differences(getattr(a, n), getattr(b, n), f"{path}.{n}")]
    return differences(vars(a), vars(b), path)


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two results differ (empty when they are equal); timings are not compared."""
    if _is_timing(path.rsplit(".", 1)[-1]):
        return []
    if isinstance(a, pd.DataFrame | pd.Series):
        return _frames(a, b, path)
    if isinstance(a, pd.Index):
        return [] if a.equals(b) else [f"{path}: index differs"]
    if sparse.issparse(a) or isinstance(a, np.ndarray):
        return _arrays(a, b, path)
    if isinstance(a, nx.Graph):
        return [] if a is b or nx.utils.graphs_equal(a, b) else [f"{path}: graph differs"]
    if isinstance(a, dict | list | tuple):
        return _containers(a, b, path)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return []
    if (dataclasses.is_dataclass(a) or hasattr(a, "__dict__")) and not isinstance(a, type):
        return _objects(a, b, path)
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]
