"""The assets the model needs, and the business-case list (rules R1 to R4).

In: the required and overlapping ("redundant") assets, the minimal covers, the new
sites, the register's reconciliation and a :class:`RequirementsPolicy`. Out: the
needed-assets table (on (``measure``, ``asset_id``)), the business-case list (on
``case``) and the council's overlapping assets with the reason R4 fires or not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from nwm_geo import settings
from nwm_geo._units import resolve_minutes
from nwm_geo.requirements._buildings import one_case_per_building
from nwm_geo.requirements._catchments import OVERLAPPING
from nwm_geo.requirements._common import (
    PROTECTED_CATEGORIES,
    RequirementsPolicy,
    locality_of,
    measure_categories,
    resolve_policy,
)
from nwm_geo.requirements._lscp import CoverSolution

__all__ = [
    "BUSINESS_CASE_COLUMNS",
    "OVERLAP_COLUMNS",
    "business_case",
    "council_overlap",
    "needed_assets",
    "owner_types",
    "register_shortfall",
]


#: Columns of :func:`business_case` (names before ids; ``id`` last).
BUSINESS_CASE_COLUMNS: tuple[str, ...] = (
    "rule",
    "action",
    "locality",
    "name",
    "address",
    "category",
    "owner_type",
    "measure",
    "population",
    "evidence",
    "register_note",
    "id",
)

#: Columns of :func:`council_overlap`.
OVERLAP_COLUMNS: tuple[str, ...] = (
    "locality",
    "name",
    "category",
    "covered_population",
    "in_minimal_cover_of",
    "r4",
    "why",
)

_ACTIONS = {
    "R1": "retain and invest",
    "R2": "secure access or partnership",
    "R4": "review: rationalise or alternative use (council asset)",
}
_R3_ACTIONS = {
    "council": "new provision: invest to host the service in this council building",
    "partner public sector": "new provision: agree community use of this building (partnership)",
    "community and faith": "new provision: agree community use of this building (partnership)",
    "": "new provision: find a site near this postcode",
}


def owner_types(table: pd.DataFrame, *, policy: RequirementsPolicy | None = None) -> pd.Series:
    """Return each row's owner type: its ``owner_type``, else one from its category.

    Without an ``owner_type`` value, ``policy.council_categories`` are "council" and
    the others take :data:`nwm_geo.settings.CATEGORY_OWNERS` (unknown: "community and
    faith"; never assumed to be the council's).

    Parameters
    ----------
    table
        Rows with ``category`` (and optionally ``owner_type``).
    policy
        The policy (its council categories).

    Returns
    -------
    pandas.Series
        On the index of ``table``, named ``owner_type``.
    """
    pol = resolve_policy(policy, {})
    council = set(pol.council_categories)

    def default(cat: object) -> str:
        if cat in council:
            return "council"
        owner = settings.CATEGORY_OWNERS.get(str(cat), "community and faith")
        return "community and faith" if owner == "council" else owner

    given = (
        table["owner_type"]
        if "owner_type" in table.columns
        else pd.Series("", index=table.index, dtype=object)
    )
    out = [
        g if isinstance(g, str) and g else default(c)
        for g, c in zip(given, table["category"], strict=True)
    ]
    return pd.Series(out, index=table.index, name="owner_type", dtype=object)


def register_shortfall(reconciliation: pd.DataFrame | None) -> dict[str, tuple[int, int]]:
    """Return ``category -> (register count, council count)`` where the register is short.

    Parameters
    ----------
    reconciliation
        :func:`nwm_geo.data.reconciliation` (None or no council counts: empty).
    """
    if reconciliation is None or "council_count" not in reconciliation.columns:
        return {}
    out = {}
    rows = reconciliation  # columns read as they are (no copy, no iterrows): it is per cell
    for cat, council, known in zip(
        rows.index, rows["council_count"], rows["register_count"], strict=True
    ):
        if isinstance(cat, str) and cat == "TOTAL":
            continue
        if pd.notna(council) and pd.notna(known) and int(known) < int(council):
            out[str(cat)] = (int(known), int(council))
    return out


def _register_note(
    categories: Sequence[str], short: Mapping[str, tuple[int, int]], *, gap: bool
) -> str:
    hit = [(c, short[c]) for c in categories if c in short]
    if not hit:
        return ""
    parts = ", ".join(f"{c} {k} of {n}" for c, (k, n) in hit)
    if gap:
        return (
            f"register short of the council's count ({parts} known): missing sites may "
            "already serve part of this gap"
        )
    return (
        f"register short of the council's count ({parts} known): a missing site may "
        "also serve these residents, so this may not hold"
    )


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
    reconciliation: pd.DataFrame | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Return the business-case list, by :data:`BUSINESS_CASE_RULES` (R1 to R4).

    The rules follow who owns the asset (``owner_type``; :func:`owner_types`): retain
    and invest in the council's own required assets (R1), secure access to or a
    partnership over anyone else's (R2), new provision at the gaps (R3), and a review
    of the council's own assets with overlapping coverage that no minimal cover needs
    (R4). No rule ever lists a school, a GP practice or a place of worship for disposal.
    Suggested sites (R3) that are one building (within 50 m, or one postcode and a
    similar name) are one case listing every bundle
    (:func:`~nwm_geo.requirements._buildings.one_case_per_building`).

    Parameters
    ----------
    required
        :func:`required_assets`.
    redundant
        :func:`redundant_assets` (overlapping coverage).
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
    reconciliation
        :func:`nwm_geo.data.reconciliation`: a row whose category (or, for a new site,
        one of its bundle's categories) is short of the council's count says so in
        ``register_note``.
    **options
        Policy fields as keywords (``sole_threshold=250``), applied over ``policy``;
        kept for old calls.

    Returns
    -------
    pd.DataFrame
        Indexed by ``case`` (1..n): :data:`BUSINESS_CASE_COLUMNS`; sorted by locality and
        rule.
    """
    pol = resolve_policy(policy, options)
    bundles, sole_threshold = pol.bundle_map, pol.sole_threshold
    minutes = resolve_minutes(minutes)
    short = register_shortfall(reconciliation)
    bundle_cats = {c for cats in bundles.values() for c in cats}
    rows: list[dict[str, Any]] = []
    req_owner = owner_types(required, policy=pol).tolist() if len(required) else []
    for (aid, r), owner in zip(required.iterrows(), req_owner, strict=True):
        if owner == "council":
            rule = "R1"
        elif r["category"] in bundle_cats and r["sole_population"] >= sole_threshold:
            rule = "R2"
        else:
            continue
        rows.append(
            {
                "rule": rule,
                "action": _ACTIONS[rule],
                "id": aid,
                "owner_type": owner,
                "measure": r["category"],
                "population": float(r["sole_population"]),
                "evidence": (
                    f"only {r['category']} within {minutes:g} min for "
                    f"{r['sole_population']:,.0f} residents"
                    + (f" (threshold {sole_threshold:g})" if rule == "R2" else "")
                ),
                "register_note": _register_note([r["category"]], short, gap=False),
                **_pick(r),
            }
        )
    r3: list[dict[str, Any]] = []
    for sid, r in new_sites.iterrows():
        owner = r.get("owner_type") if isinstance(r.get("owner_type"), str) else ""
        kind = "postcode fallback" if str(sid).startswith("postcode:") else "building"
        r3.append(
            {
                "rule": "R3",
                "action": _R3_ACTIONS.get(owner or "", _R3_ACTIONS[""]),
                "id": sid,
                "owner_type": owner,
                "measure": r["measure"],
                "population": float(r["marginal_population"]),
                "evidence": (
                    f"{kind} newly bringing {r['marginal_population']:,.0f} residents within "
                    f"{minutes:g} min of '{r['measure']}'"
                ),
                "register_note": _register_note(
                    measure_categories(r["measure"], bundles=bundles), short, gap=True
                ),
                **_pick(r),
                "_lon": r.get("lon"),
                "_lat": r.get("lat"),
            }
        )
    for row in one_case_per_building(r3):  # one suggestion per building
        row.pop("_lon", None)
        row.pop("_lat", None)
        rows.append(row)
    for _, r in council_overlap(redundant, covers, policy=pol).iterrows():
        if not r["r4"]:
            continue
        rows.append(
            {
                "rule": "R4",
                "action": _ACTIONS["R4"],
                "id": r.name,
                "owner_type": "council",
                "measure": r["category"],
                "population": float(r["covered_population"]),
                "evidence": r["why"],
                "register_note": "",
                **_pick(r),
            }
        )
    out = pd.DataFrame(rows, columns=list(BUSINESS_CASE_COLUMNS))
    out = out.sort_values(["locality", "rule"], kind="stable").reset_index(drop=True)
    out.index = pd.RangeIndex(1, len(out) + 1, name="case")
    return out


def council_overlap(
    redundant: pd.DataFrame,
    covers: Mapping[str, CoverSolution],
    *,
    policy: RequirementsPolicy | None = None,
) -> pd.DataFrame:
    """Return the council's own assets with overlapping coverage, and why R4 fires or not.

    Parameters
    ----------
    redundant
        :func:`redundant_assets` (every resident within the asset's walk has another asset
        of its category within the walk; capacity is not considered).
    covers
        ``measure -> CoverSolution`` (the minimal covers).
    policy
        ``bundles`` and ``council_categories`` (:class:`RequirementsPolicy`).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``asset_id``, council-owned rows only: :data:`OVERLAP_COLUMNS`
        (``in_minimal_cover_of``: the measures whose minimal cover keeps it; ``r4``:
        whether rule R4 lists it; ``why``: the reason in words).
    """
    pol = resolve_policy(policy, {})
    bundles = pol.bundle_map
    if len(redundant) == 0:
        return pd.DataFrame(columns=list(OVERLAP_COLUMNS)).rename_axis("asset_id")
    owner = owner_types(redundant, policy=pol)
    council = redundant[owner == "council"]
    rows = []
    for aid, r in council.iterrows():
        relevant = [r["category"], *[b for b, cats in bundles.items() if r["category"] in cats]]
        solved = [m for m in relevant if m in covers]
        keeps = [m for m in solved if aid in covers[m].selected]
        protected = pol.is_protected(aid, r.get("name"))
        if protected:
            why = (
                "overlapping coverage (capacity not considered); the area profile marks "
                "this site protected (e.g. the council's headquarters): never listed for "
                "review"
            )
        elif r["category"] in PROTECTED_CATEGORIES:
            why = (
                f"overlapping coverage (capacity not considered); a {r['category']} site is "
                "never listed for review or disposal, whoever owns it"
            )
        elif keeps:
            why = (
                "overlapping coverage (capacity not considered), but in the minimal cover of "
                + ", ".join(keeps)
                + ": needed to keep today's coverage, so R4 does not apply"
            )
        else:
            kind = r.get("redundancy", "")
            why = (
                ("covers no resident within the walk" if kind == "covers no one" else OVERLAPPING)
                + "; not in the minimal cover of "
                + ", ".join(solved)
            )
        rows.append(
            {
                "asset_id": aid,
                "locality": r.get("locality"),
                "name": r.get("name"),
                "category": r["category"],
                "covered_population": float(r.get("covered_population", 0.0)),
                "in_minimal_cover_of": ", ".join(keeps),
                "r4": not keeps and not protected and r["category"] not in PROTECTED_CATEGORIES,
                "why": why,
            }
        )
    out = pd.DataFrame(rows, columns=["asset_id", *OVERLAP_COLUMNS]).set_index("asset_id")
    return out


def _pick(r: pd.Series) -> dict[str, Any]:
    return {
        "locality": r.get("locality"),
        "name": r.get("name"),
        "category": r.get("category"),
        "address": r.get("address") if isinstance(r.get("address"), str) else "",
    }
