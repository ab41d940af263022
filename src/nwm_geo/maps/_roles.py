"""The role of each asset in the outline of requirements, as the map popups show it.

In: the register (indexed by ``asset_id``) and a
:class:`~nwm_geo.requirements.RequirementsOutline`. Out: :func:`asset_roles`, one row
per asset with its owner type, its role in words and the residents who depend on it.
Nothing is recomputed: every figure is read from the outline's tables.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import pandas as pd

from nwm_geo._units import resolve_minutes
from nwm_geo.requirements import RequirementsOutline

__all__ = ["ROLE_COLUMNS", "asset_roles", "public_source"]

#: Columns of :func:`asset_roles`.
ROLE_COLUMNS: tuple[str, ...] = (
    "owner_type",
    "role",
    "required",
    "overlapping",
    "business_case",
    "covered_population",
    "sole_population",
)

# A git commit hash (7 to 40 hex digits with at least one digit and one letter), with
# the " @ " that introduces it in the register's source column.
_HASH = re.compile(r"(?:\s*@\s*)?\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b")


def public_source(text: Any) -> str:
    """Return a register source or date text without commit hashes.

    The register records each source with the exact repository snapshot it was read
    from (``owner/repo @ <hash> : path``), which is provenance for the CSV, not
    something a map reader can use: the hash is dropped, the rest kept.

    Parameters
    ----------
    text
        A ``source`` or ``source_date`` cell.

    Returns
    -------
    str
        The text without hashes ("" for a missing value).
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    out = _HASH.sub("", str(text))
    return re.sub(r"\(\s*\)", "", re.sub(r"\s{2,}", " ", out)).replace(" )", ")").strip()


def _fmt(n: float) -> str:
    return f"{n:,.0f}"


def asset_roles(
    assets: pd.DataFrame,
    outline: RequirementsOutline | None = None,
    *,
    minutes: float | None = None,
) -> pd.DataFrame:
    """Return each asset's role in the outline: required, overlapping, business case.

    Parameters
    ----------
    assets
        The register, indexed by ``asset_id`` (``owner_type`` is used when present).
    outline
        The outline of requirements; without it, only the owner type is filled.
    minutes
        The walk threshold, for the wording (default: the outline's, else settings).

    Returns
    -------
    pandas.DataFrame
        On the register's index, :data:`ROLE_COLUMNS`: ``owner_type`` (or ``<NA>``),
        ``role`` (one sentence, e.g. "required: the only Library within 15 min for
        11,510 residents; business case R1 retain/invest (Library)"), the flags
        ``required``, ``overlapping``, ``business_case`` and, from the outline's
        catchments, ``covered_population`` (residents within the walk) and
        ``sole_population`` (residents who would lose walk access to the category if
        it closed).
    """
    out = pd.DataFrame(index=assets.index)
    owner = assets["owner_type"] if "owner_type" in assets.columns else pd.NA
    out["owner_type"] = owner
    parts: dict[object, list[str]] = defaultdict(list)
    out["required"] = False
    out["overlapping"] = False
    out["business_case"] = False
    out["covered_population"] = float("nan")
    out["sole_population"] = float("nan")
    if outline is not None:
        m = resolve_minutes(minutes if minutes is not None else outline.method.get("walk_minutes"))
        catch = outline.catchments.reindex(out.index)
        for col in ("covered_population", "sole_population"):
            if col in catch.columns:
                out[col] = pd.to_numeric(catch[col], errors="coerce")
        req = outline.required
        here = set(out.index)
        rows = zip(req.index, req["category"], req["sole_population"], strict=True)
        for aid, category, sole in rows:
            if aid in here:
                parts[aid].append(
                    f"required: the only {category} within {m:g} min for "
                    f"{_fmt(float(sole))} residents"
                )
        out["required"] = out.index.isin(req.index)
        for aid in outline.redundant.index:
            if aid in here:
                parts[aid].append("overlapping coverage (capacity not considered)")
        out["overlapping"] = out.index.isin(outline.redundant.index)
        cases = outline.business_case
        cases = cases[cases["id"].isin(out.index)]
        for aid, rule, action, measure in zip(
            cases["id"], cases["rule"], cases["action"], cases["measure"], strict=True
        ):
            parts[aid].append(f"business case {rule} {action} ({measure})")
        out["business_case"] = out.index.isin(cases["id"])
    out["role"] = [
        "; ".join(dict.fromkeys(parts[aid])) if parts.get(aid) else "no role in the outline"
        for aid in out.index
    ]
    return out[list(ROLE_COLUMNS)]
