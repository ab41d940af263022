"""The assets the model needs, and the business-case list (rules R1 to R4).

In: the required and redundant assets, the minimal covers, the new sites and a
:class:`RequirementsPolicy`. Out: the needed-assets table (on (``measure``,
``asset_id``)) and the business-case list (on ``case``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from nwm_geo._units import resolve_minutes
from nwm_geo.requirements._common import (
    RequirementsPolicy,
    _policy,
    locality_of,
    measure_categories,
)
from nwm_geo.requirements._lscp import CoverSolution

__all__ = ["BUSINESS_CASE_COLUMNS", "business_case", "needed_assets"]


#: Columns of :func:`business_case`.
BUSINESS_CASE_COLUMNS: tuple[str, ...] = (
    "rule",
    "action",
    "locality",
    "id",
    "name",
    "category",
    "measure",
    "population",
    "evidence",
)

_ACTIONS = {
    "R1": "retain/invest",
    "R2": "secure access",
    "R3": "acquire/co-locate",
    "R4": "rationalise/alternative use",
}


def needed_assets(
    required: pd.DataFrame,
    covers: Mapping[str, CoverSolution],
    assets: pd.DataFrame,
    *,
    assignment: pd.Series,
    bundles: Mapping[str, Sequence[str]] | None = None,
    required_ids: Mapping[str, Iterable[object]] | None = None,
) -> pd.DataFrame:
    """Return the assets the model needs, per locality and measure.

    For each measure (category or bundle): the required assets of its categories
    (sole providers, in every optimal cover) and the chosen minimal cover.

    Parameters
    ----------
    required
        :func:`required_assets`.
    covers
        ``measure -> CoverSolution`` from :func:`minimal_cover`.
    assets
        The register.
    assignment
        ``ward_code -> locality``.
    bundles
        ``settings.BUNDLES`` by default.
    required_ids
        ``measure -> asset_id``s that are sole providers for that measure (from
        :func:`sole_providers`; needed for bundles, where another category's asset is an
        alternative). Without it, the category-level ``required`` table is used.

    Returns
    -------
    pd.DataFrame
        Indexed by (``measure``, ``asset_id``): ``locality``, ``category``, ``name``,
        ``required`` (sole provider), ``in_minimal_cover``, ``reason``; sorted by
        measure and locality.
    """
    rows = []
    for measure, sol in covers.items():
        if required_ids is not None and measure in required_ids:
            req_ids = set(required_ids[measure])
        else:
            cats = set(measure_categories(measure, bundles=bundles))
            req_ids = set(required.index[required["category"].isin(cats)])
        ordered = [i for i in assets.index if i in req_ids]
        ids = list(dict.fromkeys([*sol.selected, *ordered]))
        for aid in ids:
            is_req = aid in req_ids
            in_cov = aid in sol.selected
            reason = (
                "required and in minimal cover"
                if is_req and in_cov
                else "required (sole provider)"
                if is_req
                else "in minimal cover"
            )
            rows.append(
                {
                    "measure": measure,
                    "asset_id": aid,
                    "ward_code": assets.at[aid, "ward_code"],
                    "category": assets.at[aid, "category"],
                    "name": assets.at[aid, "name"],
                    "required": is_req,
                    "in_minimal_cover": in_cov,
                    "reason": reason,
                }
            )
    cols = ["locality", "category", "name", "required", "in_minimal_cover", "reason"]
    if not rows:
        out = pd.DataFrame(columns=["measure", "asset_id", *cols]).set_index(
            ["measure", "asset_id"]
        )
        return out
    out = pd.DataFrame(rows)
    out["locality"] = locality_of(out["ward_code"], assignment)
    out = out.sort_values(["measure", "locality"], kind="stable").set_index(["measure", "asset_id"])
    return out[cols]


def business_case(
    required: pd.DataFrame,
    redundant: pd.DataFrame,
    new_sites: pd.DataFrame,
    covers: Mapping[str, CoverSolution],
    *,
    policy: RequirementsPolicy | None = None,
    minutes: float | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Return the business-case list, by :data:`BUSINESS_CASE_RULES` (R1 to R4).

    Parameters
    ----------
    required
        :func:`required_assets`.
    redundant
        :func:`redundant_assets`.
    new_sites
        Concatenated :attr:`SiteSolution.table` rows (indexed by ``site_id``).
    covers
        ``measure -> CoverSolution``; R4 needs an asset outside the minimal cover of its
        category and of every bundle containing it (measures not solved do not count).
    policy
        ``sole_threshold`` (rule R2), ``council_categories`` and ``bundles``
        (:class:`RequirementsPolicy`; its defaults when None).
    minutes
        The walk threshold, for the evidence text (the setting by default).
    **options
        Policy fields as keywords (``sole_threshold=250``), applied over ``policy``;
        kept for old calls.

    Returns
    -------
    pd.DataFrame
        Indexed by ``case`` (1..n): ``rule``, ``action``, ``locality``, ``id``, ``name``,
        ``category``, ``measure``, ``population``, ``evidence``; sorted by locality and rule.
    """
    pol = _policy(policy, options)
    bundles, sole_threshold = pol.bundle_map, pol.sole_threshold
    minutes = resolve_minutes(minutes)
    council = set(pol.council_categories)
    bundle_cats = {c for cats in bundles.values() for c in cats}
    rows: list[dict[str, Any]] = []
    for aid, r in required.iterrows():
        if r["category"] in council:
            rows.append(
                {
                    "rule": "R1",
                    "id": aid,
                    "measure": r["category"],
                    "population": float(r["sole_population"]),
                    "evidence": (
                        f"only {r['category']} within {minutes:g} min for "
                        f"{r['sole_population']:,.0f} residents"
                    ),
                    **_pick(r),
                }
            )
        elif r["category"] in bundle_cats and r["sole_population"] >= sole_threshold:
            rows.append(
                {
                    "rule": "R2",
                    "id": aid,
                    "measure": r["category"],
                    "population": float(r["sole_population"]),
                    "evidence": (
                        f"only {r['category']} within {minutes:g} min for "
                        f"{r['sole_population']:,.0f} residents (threshold "
                        f"{sole_threshold:g})"
                    ),
                    **_pick(r),
                }
            )
    for sid, r in new_sites.iterrows():
        rows.append(
            {
                "rule": "R3",
                "id": sid,
                "measure": r["measure"],
                "population": float(r["marginal_population"]),
                "evidence": (
                    f"{r['site_type']} site newly covering {r['marginal_population']:,.0f} "
                    f"residents for '{r['measure']}'"
                ),
                **_pick(r),
            }
        )
    for aid, r in redundant.iterrows():
        if r["category"] not in council:
            continue
        relevant = [r["category"], *[b for b, cats in bundles.items() if r["category"] in cats]]
        in_some_cover = any(aid in covers[m].selected for m in relevant if m in covers)
        if in_some_cover:
            continue
        rows.append(
            {
                "rule": "R4",
                "id": aid,
                "measure": r["category"],
                "population": float(r["covered_population"]),
                "evidence": (
                    f"{r['redundancy']}; not in the minimal cover of "
                    + ", ".join(m for m in relevant if m in covers)
                ),
                **_pick(r),
            }
        )
    for row in rows:
        row["action"] = _ACTIONS[row["rule"]]
    out = pd.DataFrame(rows, columns=list(BUSINESS_CASE_COLUMNS))
    out = out.sort_values(["locality", "rule"], kind="stable").reset_index(drop=True)
    out.index = pd.RangeIndex(1, len(out) + 1, name="case")
    return out


def _pick(r: pd.Series) -> dict[str, Any]:
    return {"locality": r.get("locality"), "name": r.get("name"), "category": r.get("category")}
