"""The register note every output carries: the register against the council's count."""

from __future__ import annotations

import pandas as pd

from nwm_geo.areas import Area, load_area

__all__ = ["data_note"]


def data_note(reconciliation: pd.DataFrame, *, area: str | Area | None = None) -> str:
    """One sentence on the register against the council's count, and its missing categories.

    Parameters
    ----------
    reconciliation
        :func:`nwm_geo.data.reconciliation`.
    area
        The area profile (default Luton); a council with no published counts gets a
        sentence that says so instead of a target.

    Returns
    -------
    str
        The note.
    """
    prof = load_area(area)
    total = reconciliation.loc["TOTAL"]
    body = reconciliation.drop(index="TOTAL")
    if not prof.has_council_counts:
        empty = body.index[body["register_count"] == 0].tolist()
        text = (
            f"{total['register_count']} sites in the open register for {prof.name}; "
            f"{prof.council} publishes no register with category counts, so there is no "
            "target to reconcile against (none is made up)."
        )
        if empty:
            text += f" No site in the register for: {', '.join(empty)}."
        return text
    short = body[body["gap"] > 0]
    empty = body.index[body["register_count"] == 0].tolist()
    over = body[body["gap"] < 0]
    text = (
        f"{total['register_count']} sites in the register; the council lists "
        f"{total['council_count']}; {int(short['gap'].sum())} short in {len(short)} "
        f"categories, {int(-over['gap'].sum())} over in {len(over)}."
    )
    if empty:
        text += (
            f" No site in the register for: {', '.join(empty)}; their coverage reads 0 % "
            "because no site is known, not because none exists."
        )
    return text
