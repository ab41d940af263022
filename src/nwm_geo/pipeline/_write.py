"""The one guard every CSV of a run goes through: formula-like text and commit hashes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from nwm_geo._safe import neutralise_formula, strip_commit_hashes

__all__ = ["write_csv"]


def write_csv(frame: pd.DataFrame, path: Path, *, index: bool = True) -> Path:
    """Write a CSV; formula-like text is neutralised and commit hashes are dropped."""
    path.parent.mkdir(parents=True, exist_ok=True)
    safe = frame.copy()
    for col in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[col]):
            safe[col] = safe[col].map(
                lambda v: neutralise_formula(strip_commit_hashes(v) if isinstance(v, str) else v)
            )
    if not pd.api.types.is_numeric_dtype(safe.index):
        safe.index = safe.index.map(neutralise_formula)
    safe.to_csv(path, index=index, encoding="utf-8")
    return path
