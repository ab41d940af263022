"""The one guard every CSV of a run goes through (:mod:`nwm_geo._publish`).

Personal data masked, formula-like text neutralised, commit hashes dropped.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from nwm_geo import _publish

__all__ = ["write_csv"]


def write_csv(frame: pd.DataFrame, path: Path, *, index: bool = True) -> Path:
    """Write a CSV through :func:`nwm_geo._publish.write_csv`.

    Phone numbers and e-mail addresses are masked, formula-like text is neutralised and
    commit hashes are dropped, in every cell, index label and column name.
    """
    return _publish.write_csv(frame, path, index=index)
