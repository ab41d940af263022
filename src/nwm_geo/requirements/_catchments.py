"""Per-asset catchments, and the required and redundant assets.

In: a cover (``nwm_geo.coverage.coverage_matrix``) or the criticality table, the
register and the ward -> locality assignment. Out: tables on the ``asset_id`` index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from nwm_geo import settings
from nwm_geo.coverage import Cover, cover_criticality
from nwm_geo.requirements._common import (
    CoverMatrix,
    as_cover,
    asset_columns,
    inside_area,
    locality_of,
    measure_categories,
    population_of,
    require_columns,
)

__all__ = [
    "CATCHMENT_COLUMNS",
    "OVERLAPPING",
    "asset_catchments",
    "redundant_assets",
    "required_assets",
    "sole_providers",
]

#: The ``redundancy`` of an asset whose every covered resident has another asset of its
#: category within the walk. It says nothing about capacity, so it is never, on its own,
#: a case for disposal.
OVERLAPPING: str = "overlapping coverage (capacity not considered)"

#: Columns of :func:`asset_catchments`.
CATCHMENT_COLUMNS: tuple[str, ...] = (
    "category",
    "name",
    "covered_points",
    "covered_population",
    "sole_points",
    "sole_population",
    "n_overlapping",
)


def asset_catchments(
    cover: CoverMatrix,
    assets: pd.DataFrame,
    points: pd.DataFrame,
    *,
    categories: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per asset, who it covers and for whom it is the only asset of its category.

    Computed by :func:`nwm_geo.coverage.cover_criticality` (the one implementation, also
    behind ``asset_criticality``), for the register's assets in the cover.

    Parameters
    ----------
    cover
        ``coverage_matrix(model, sources="assets")``.
    assets
        The register, indexed by ``asset_id``, with ``category`` and ``name``.
    points
        Demand points indexed by ``point_id`` with ``population`` (missing or
        non-numeric populations count as 0).
    categories
        Categories to include; ``settings.CATEGORIES`` by default.

    Returns
    -------
    pd.DataFrame
        Indexed by ``asset_id`` (assets in the matrix, in register order): ``category``,
        ``name``, ``covered_points``, ``covered_population``, ``sole_points``,
        ``sole_population``, ``n_overlapping`` (other assets of the category that share
        at least one covered point).
    """
    cov = as_cover(cover)
    pop = population_of(points, cov.point_index)
    categories = settings.CATEGORIES if categories is None else categories
    cols, ids = asset_columns(assets, cov.source_index, categories)
    order = list(CATCHMENT_COLUMNS)
    if len(ids) == 0:
        out = pd.DataFrame(columns=order)
        out.index.name = "asset_id"
        return out
    sub = Cover(
        matrix=cov.csc[:, cols],
        point_index=cov.point_index,
        source_index=ids,
        minutes=cov.minutes,
        speed_m_per_min=cov.speed_m_per_min,
    )
    out = cover_criticality(
        sub, population=pop, category=assets.loc[ids, "category"], name=assets.loc[ids, "name"]
    )[order]
    out.index.name = "asset_id"
    return out


def _with_place(table: pd.DataFrame, assets: pd.DataFrame, assignment: pd.Series) -> pd.DataFrame:
    out = table.copy()
    ward = assets["ward_code"].reindex(out.index)
    out.insert(0, "locality", locality_of(ward, assignment))
    out["ward_code"] = ward
    if "ward_name" in assets.columns:
        out["ward_name"] = assets["ward_name"].reindex(out.index)
    if "name" not in out.columns:
        out["name"] = assets["name"].reindex(out.index)
    if "category" not in out.columns:
        out["category"] = assets["category"].reindex(out.index)
    if "owner_type" in assets.columns:
        out["owner_type"] = assets["owner_type"].reindex(out.index)
    if "address" in assets.columns:
        parts = [assets[c].reindex(out.index) for c in ("address", "postcode") if c in assets]
        out["address"] = [
            ", ".join(str(x) for x in vals if isinstance(x, str) and x)
            for vals in zip(*parts, strict=True)
        ]
    return out


def required_assets(
    assets: pd.DataFrame,
    criticality: pd.DataFrame,
    *,
    assignment: pd.Series,
    min_sole_population: float = 0.0,
) -> pd.DataFrame:
    """Assets whose closure leaves residents without a walk to their category.

    An asset is required when its ``sole_population`` (residents for whom it is the
    only asset of its category within the walk) is above ``min_sole_population``.

    Parameters
    ----------
    assets
        The register, indexed by ``asset_id``, with ``ward_code``.
    criticality
        ``asset_criticality(...)`` or :func:`asset_catchments`, indexed by ``asset_id``,
        with ``category``, ``name``, ``covered_population``, ``sole_population``,
        ``sole_points``.
    assignment
        ``ward_code -> locality``.
    min_sole_population
        Strict lower bound on ``sole_population`` (0: anyone affected).

    Returns
    -------
    pd.DataFrame
        Indexed by ``asset_id``: ``locality``, ``category``, ``name``,
        ``covered_population``, ``sole_population``, ``sole_points``, ``ward_code``,
        ``ward_name``, ``rank`` (1 = most residents affected, within locality and
        category); sorted by locality, category and rank.
    """
    require_columns(
        criticality, ["category", "covered_population", "sole_population", "sole_points"]
    )
    inside = inside_area(assets).reindex(criticality.index, fill_value=True)
    req = criticality[(criticality["sole_population"] > min_sole_population) & inside]
    cols = ["category", "name", "covered_population", "sole_population", "sole_points"]
    req = _with_place(req[[c for c in cols if c in req.columns]], assets, assignment)
    req = req.sort_values(
        ["locality", "category", "sole_population"], ascending=[True, True, False], kind="stable"
    )
    req["rank"] = req.groupby(["locality", "category"]).cumcount() + 1
    return req


def redundant_assets(
    assets: pd.DataFrame,
    criticality: pd.DataFrame,
    *,
    assignment: pd.Series,
) -> pd.DataFrame:
    """Assets whose catchment is fully covered by other assets of the same category.

    Each is redundant on its own: closing two of them together may leave a gap (the
    joint answer is :func:`minimal_cover`).

    Parameters
    ----------
    assets
        The register, indexed by ``asset_id``.
    criticality
        As for :func:`required_assets`.
    assignment
        ``ward_code -> locality``.

    Returns
    -------
    pd.DataFrame
        Indexed by ``asset_id``: ``locality``, ``category``, ``name``,
        ``covered_population``, ``covered_points`` and ``n_overlapping`` (when given),
        ``redundancy`` (``"covers no one"``: no resident within the walk, or
        :data:`OVERLAPPING`: every point it covers is covered by another asset of
        its category), ``ward_code``, ``ward_name``; sorted by locality and category.
    """
    require_columns(criticality, ["category", "covered_population", "sole_points"])
    inside = inside_area(assets).reindex(criticality.index, fill_value=True)
    red = criticality[(criticality["sole_points"] == 0) & inside]
    cols = [
        "category",
        "name",
        "covered_population",
        "covered_points",
        "n_overlapping",
    ]
    red = _with_place(red[[c for c in cols if c in red.columns]], assets, assignment)
    red["redundancy"] = np.where(red["covered_population"] > 0, OVERLAPPING, "covers no one")
    return red.sort_values(["locality", "category"], kind="stable")


def sole_providers(
    cover: CoverMatrix,
    assets: pd.DataFrame,
    points: pd.DataFrame,
    *,
    measure: str,
    bundles: Mapping[str, Sequence[str]] | None = None,
) -> pd.Index:
    """Assets that are the only asset of a measure within the walk for some resident.

    For a category this equals ``sole_population > 0`` in :func:`asset_catchments`;
    for a bundle any asset of any of its categories counts as an alternative.

    Returns
    -------
    pd.Index
        ``asset_id``s, in register order.
    """
    cov = as_cover(cover)
    m, pop = cov.csc, population_of(points, cov.point_index)
    cats = measure_categories(measure, bundles=bundles)
    cols, ids = asset_columns(assets, cov.source_index, cats)
    sub = m[:, cols].astype(np.int32)
    sole = (np.asarray(sub.sum(axis=1)).ravel() == 1) & (pop > 0)
    hits = np.asarray(sub.T @ sole.astype(np.int32)).ravel() > 0
    hits &= inside_area(assets).reindex(ids, fill_value=True).to_numpy()
    hit_ids: pd.Index = pd.Index(ids[hits], name="asset_id")
    return hit_ids
