"""The workbook's Hubs sheet: one hub per locality, three plans side by side.

In: an existing workbook (``asset_requirements.xlsx``) and a
:class:`~nwm_geo.hubs.HubAnalysis`. Out: the same workbook with a "Hubs" sheet added
(replaced if present), written atomically. Cells go through the same guard as every
other sheet (masked text, never a formula).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import load_workbook

from nwm_geo import hubs
from nwm_geo._publish import save_workbook
from nwm_geo.report._edit import fit_widths, put_cell, write_table
from nwm_geo.report._sheet import BOLD_FONT

__all__ = ["HUB_SHEET", "add_hub_sheet", "hub_sheet"]

#: The sheet's name.
HUB_SHEET = "Hubs"


def _shares(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn percentages into fractions, shown as percentages (``share_pct``: ``share_within``)."""
    out = frame.copy()
    if "share_pct" in out.columns:
        out.insert(list(out.columns).index("share_pct"), "share_within", out["share_pct"] / 100)
        out = out.drop(columns="share_pct")
    for col in [c for c in out.columns if str(c).endswith("_pct")]:  # percent -> fraction
        out[col] = pd.to_numeric(out[col], errors="coerce") / 100
        out = out.rename(columns={col: str(col).removesuffix("_pct")})
    if "mean_minutes" in out.columns:
        out["mean_minutes"] = out["mean_minutes"].round(1)
    return out


def hub_sheet(wb: Any, analysis: hubs.HubAnalysis, *, notes: Sequence[str] = ()) -> None:
    """Add (or replace) the Hubs sheet of an open workbook (edited, not saved).

    Parameters
    ----------
    wb
        An :class:`openpyxl.Workbook`.
    analysis
        :func:`nwm_geo.hubs.analyse_hubs` (``Study.hub_analysis``).
    notes
        More lines for the top of the sheet (network, sources and licences).
    """
    if HUB_SHEET in wb.sheetnames:
        del wb[HUB_SHEET]
    ws = wb.create_sheet(HUB_SHEET)  # the last sheet: the locality sheets keep their places
    put_cell(ws, 1, 1, "Community hubs: one hub per locality", font=BOLD_FONT)
    row = 2
    for line in [*analysis.notes, *notes]:
        put_cell(ws, row, 1, line)
        row += 1
    row += 1
    row = write_table(
        ws,
        row,
        "Residents within the walk of their own locality's hub: three plans side by side",
        _shares(analysis.comparison).set_index(["scenario", "locality"]),
        note="council-named hubs (as far as the register holds them) and the balance-only "
        "localities' best hubs are on the published localities; the joint optimum chooses "
        "localities and hubs together",
    )
    cols = [*hubs.HUB_COLUMNS, "ties", "runner_up_name", "runner_up_within", "n_candidates"]
    row = write_table(
        ws,
        row,
        "Hubs of the published localities (hubs.csv)",
        _shares(analysis.balance[cols]).set_index("locality"),
    )
    row = write_table(
        ws,
        row,
        "What balance costs in coverage: the joint optimum at a few balance caps",
        _shares(analysis.frontier).set_index("plan"),
        note="worst deviation = the worst relative gap to the mean population or asset count "
        "of any locality; balance cost in percentage points over the balance-only optimum",
    )
    row = write_table(
        ws, row, "The council's named hubs in the register", analysis.named.set_index("named_hub")
    )
    cand = pd.DataFrame(analysis.candidates.drop(columns=analysis.candidates.geometry.name))
    write_table(ws, row, "Hub candidates", cand)
    fit_widths(ws)


def add_hub_sheet(path: Path, analysis: hubs.HubAnalysis, *, notes: Sequence[str] = ()) -> Path:
    """Add (or replace) the Hubs sheet of a saved workbook (:func:`hub_sheet`), atomically.

    Returns
    -------
    Path
        ``path``.
    """
    wb = load_workbook(path)
    hub_sheet(wb, analysis, notes=notes)
    save_workbook(wb, path)
    return path
