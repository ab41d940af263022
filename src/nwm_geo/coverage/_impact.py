"""Closure impact for every asset at once: who loses access, where they live, what next.

In: a :class:`~nwm_geo.coverage.WalkModel`, its within-threshold
:class:`~nwm_geo.coverage.Cover` of the assets, and the demand points (with
``population`` and the area columns to group by; optionally the equity columns
``imd_quintile`` and the Census 2021 age bands).
Out: :class:`ClosureImpact`: per asset, the residents who would lose access to its
category within the threshold if it closed (the ``sole_population`` of
:func:`~nwm_geo.coverage.cover_criticality`), where they live, the next-best site of
the same category for them and the extra minutes they would walk; and the same
residents per asset and area.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra
from tqdm.auto import tqdm

from nwm_geo._display import Display
from nwm_geo._errors import NwmGeoError
from nwm_geo._units import resolve_speed
from nwm_geo.coverage._cover import Cover
from nwm_geo.coverage._groups import GroupColumns, split_residents
from nwm_geo.coverage._model import WalkModel
from nwm_geo.data import AGE_BANDS

__all__ = ["AGE_BANDS", "IMPACT_COLUMNS", "ClosureImpact", "closure_impact"]

#: The columns of :attr:`ClosureImpact.assets` always present (equity columns follow).
IMPACT_COLUMNS: tuple[str, ...] = (
    "category",
    "name",
    "residents_losing",
    "postcodes_losing",
    "localities",
    "wards",
    "next_best_asset_id",
    "next_best_name",
    "next_best_share_pct",
    "extra_minutes_median",
    "extra_minutes_max",
    "residents_without_alternative",
)


@dataclass(repr=False)
class ClosureImpact(Display):
    """What closing each asset would do, asset by asset.

    Attributes
    ----------
    assets
        Indexed by ``asset_id``: :data:`IMPACT_COLUMNS`: the residents losing access
        within the threshold and their postcodes; where they live (``localities`` and
        ``wards`` as ``"name: residents"`` text, largest first); the next-best site of
        the same category for most of them and the share of them it serves; the extra
        minutes they would walk (population-weighted median and maximum, among those
        with another reachable site); residents with no other reachable site. With the
        equity columns in the demand: ``losing_imd_q1`` … ``losing_imd_q5`` (1 = most
        deprived) and ``losing_age_0_15`` … ``losing_age_65_plus``.
    areas
        Long table: ``asset_id``, the area columns (e.g. ``ward_code``, ``locality``),
        ``residents_losing``.
    minutes, speed_m_per_min
        The threshold and speed.
    """

    assets: pd.DataFrame
    areas: pd.DataFrame
    minutes: float
    speed_m_per_min: float


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    ok = np.isfinite(values) & (weights > 0)
    if not ok.any():
        return float("nan")
    v, w = values[ok], weights[ok]
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    return float(v[order][np.searchsorted(cum, cum[-1] / 2.0)])


def _text(labels: Sequence[Any], values: np.ndarray, *, top: int = 5) -> str:
    """``"label: residents; ..."``, largest first (ties in their order), then "and n more"."""
    kept = [(k, v) for k, v in zip(labels, values.tolist(), strict=True) if v > 0]
    kept.sort(key=lambda kv: -kv[1])  # stable: equal counts keep their order
    parts = [f"{k}: {v:,.0f}" for k, v in kept[:top]]
    if len(kept) > top:
        parts.append(f"and {len(kept) - top} more")
    return "; ".join(parts)


def _equity(cols: GroupColumns, hit: np.ndarray, weights: np.ndarray) -> dict[str, float]:
    """Return the ``losing_*`` columns of one site: its losing points' group split.

    :func:`~nwm_geo.coverage.group_split`'s sums of the losing points (each weighted 1,
    with their residents ``weights`` as population), on columns converted once.
    """
    return {
        (f"losing_imd_q{v}" if g == "imd_quintile" else f"losing_{v}"): r
        for g, v, r in split_residents(cols, weights.astype(float), np.ones(len(hit)), hit)
    }


def _where(
    rows: dict[object, dict[str, object]],
    losing: list[tuple[Any, np.ndarray, np.ndarray]],
    area_text: pd.DataFrame,
    *,
    names: pd.Series | None,
) -> pd.DataFrame:
    """Return the residents losing access per asset and area; set the place texts.

    Each asset's ``wards`` and ``localities`` texts are set in ``rows``. One grouping
    over every asset's points (the asset first), not one per asset: each group sums
    the same residents in the same order, so the sums are the same.
    """
    areas = list(area_text.columns)
    pos = np.repeat(np.arange(len(losing)), [len(hit) for _, hit, _ in losing])
    sub = area_text.iloc[np.concatenate([hit for _, hit, _ in losing])]
    weights = pd.Series(np.concatenate([w for _, _, w in losing]))
    at = pd.Series(pos, name="_asset")
    keys = {c: pd.Series(sub[c].to_numpy(), name=c) for c in areas}
    grouped = weights.groupby([at, *keys.values()]).sum()
    long = grouped.rename("residents_losing").reset_index()
    ids = np.empty(len(losing), dtype=object)
    ids[:] = [aid for aid, _, _ in losing]
    long.insert(0, "asset_id", ids[long.pop("_asset").to_numpy()])
    texts = {"wards": areas[0], "localities": areas[1] if len(areas) > 1 else None}
    for column, area in texts.items():
        if area is None:
            continue
        sums = weights.groupby([at, keys[area]]).sum()
        where = sums.index.get_level_values(0).to_numpy()
        bounds = np.searchsorted(where, np.arange(len(losing) + 1))
        labels = sums.index.get_level_values(1).tolist()
        values = sums.to_numpy()
        for p, (aid, _, _) in enumerate(losing):
            here = labels[bounds[p] : bounds[p + 1]]
            if column == "wards" and names is not None:
                here = [str(names.get(k, k)) for k in here]
            rows[aid][column] = _text(here, values[bounds[p] : bounds[p + 1]])
    return long


def closure_impact(
    model: WalkModel,
    *,
    cover: Cover,
    demand: pd.DataFrame,
    by: Sequence[str] = ("ward_code", "locality"),
    names: pd.Series | None = None,
    verbose: bool = False,
) -> ClosureImpact:
    """Return the closure impact of every asset of the model, in one call.

    For each category, one multi-source Dijkstra gives every resident's nearest site;
    for each asset that is some residents' only site within the threshold, one more
    (from the other sites of the category) gives their next-best site and how much
    farther it is.

    Parameters
    ----------
    model
        From :func:`~nwm_geo.coverage.prepare`.
    cover
        ``coverage_matrix(model, sources="assets")`` (its threshold applies).
    demand
        Demand points on ``model.point_ids`` with ``population`` and the ``by`` columns
        (and, when present, ``imd_quintile`` and the :data:`AGE_BANDS`).
    by
        Area columns of ``demand`` to say where the residents live (those present are
        used; the first two give the ``wards`` and ``localities`` texts).
    names
        Display names of the ``by[0]`` areas (e.g. ward names by ward code).
    verbose
        Show a progress bar over the assets.

    Returns
    -------
    ClosureImpact

    Raises
    ------
    NwmGeoError
        If the cover is not the model's all-assets cover or the demand lacks points.
    """
    if not (
        cover.point_index.equals(model.point_ids) and cover.source_index.equals(model.asset_ids)
    ):
        raise NwmGeoError("cover must be coverage_matrix(model, sources='assets') of this model")
    missing = model.point_ids.difference(demand.index)
    if len(missing):
        raise NwmGeoError(f"{len(missing)} model point(s) are not in the demand frame")
    frame = demand.reindex(model.point_ids)
    speed = resolve_speed(cover.speed_m_per_min)
    pop = model.population
    areas = [c for c in by if c in frame.columns]
    # the columns each asset's rows are read from, taken once (not a copy of every demand
    # column per asset): the areas as text, and the equity columns (group_split's)
    area_text = pd.DataFrame({c: frame[c].astype(str) for c in areas}, index=frame.index)
    equity_cols = GroupColumns.of(frame)
    cat_arr = model.category.to_numpy()
    ok_pts = model.point_nodes >= 0
    rows: dict[object, dict[str, object]] = {}
    long: list[pd.DataFrame] = []
    losing: list[tuple[Any, np.ndarray, np.ndarray]] = []  # asset, its points, residents
    csc = cover.csc
    todo = list(pd.unique(cat_arr))
    bar = tqdm(total=len(model.asset_ids), disable=not verbose, desc="closure impact")
    for cat in todo:
        idx = np.flatnonzero(cat_arr == cat)
        w = csc[:, idx]
        count = np.asarray(w.sum(axis=1)).ravel()
        nodes = model.asset_nodes[idx]

        def nearest(sel: np.ndarray, nodes: np.ndarray = nodes) -> tuple[np.ndarray, np.ndarray]:
            """Metres to the nearest of ``nodes[sel]`` at every point, and which one."""
            dist = np.full(len(model.point_ids), np.inf)
            who = np.full(len(model.point_ids), -1, dtype=np.int64)
            src = nodes[sel]
            good = src >= 0
            if not good.any():
                return dist, who
            d, _, s = dijkstra(
                model.graph,
                directed=True,
                indices=src[good],
                min_only=True,
                return_predecessors=True,
            )
            pn = model.point_nodes[ok_pts]
            dist[ok_pts] = d[pn]
            pos_of_node = np.full(model.graph.shape[0], -1, dtype=np.int64)
            pos_of_node[src[good]] = sel[good]
            found = s[pn]
            who[ok_pts] = np.where(found >= 0, pos_of_node[np.clip(found, 0, None)], -1)
            return dist, who

        base_m, _ = nearest(np.arange(len(idx)))
        for j, col in enumerate(idx):
            bar.update(1)
            aid: Any = model.asset_ids[int(col)]
            # the points this site alone covers: its column's rows (sorted, as a dense
            # column's nonzeros would be) with a count of one
            span = slice(w.indptr[j], w.indptr[j + 1])
            rows_j = w.indices[span][w.data[span].astype(bool)]
            hit = np.unique(rows_j[count[rows_j] == 1]).astype(np.int64)
            row: dict[str, object] = {
                "category": cat,
                "name": model.name.iloc[col],
                "residents_losing": float(pop[hit].sum()),
                "postcodes_losing": len(hit),
            }
            rows[aid] = row
            if len(hit) == 0:
                continue
            others = np.delete(np.arange(len(idx)), j)
            after_m, who = nearest(others)
            extra = (after_m[hit] - base_m[hit]) / speed
            reach = np.isfinite(extra)
            weights = pop[hit]
            row["extra_minutes_median"] = _weighted_median(extra, weights)
            row["extra_minutes_max"] = float(extra[reach].max()) if reach.any() else np.nan
            row["residents_without_alternative"] = float(weights[~reach].sum())
            nb = pd.Series(weights[reach]).groupby(who[hit][reach]).sum()
            if len(nb):
                best = int(nb.sort_values(ascending=False, kind="stable").index[0])
                row["next_best_asset_id"] = model.asset_ids[int(idx[best])]
                row["next_best_name"] = model.name.iloc[idx[best]]
                row["next_best_share_pct"] = float(nb.max() / weights.sum() * 100.0)
            losing.append((aid, hit, weights))
            row.update(_equity(equity_cols, hit, weights))
    bar.close()
    if areas and losing:
        long.append(_where(rows, losing, area_text, names=names))
    out = pd.DataFrame.from_dict(rows, orient="index")
    out = out.reindex(model.asset_ids)
    out.index.name = "asset_id"
    for column in IMPACT_COLUMNS:
        if column not in out.columns:
            out[column] = np.nan
    equity = [c for c in out.columns if c.startswith("losing_")]
    out[equity] = out[equity].fillna(0.0)
    out["residents_without_alternative"] = out["residents_without_alternative"].fillna(0.0)
    out = out[[*IMPACT_COLUMNS, *equity]]
    area_table = (
        pd.concat(long, ignore_index=True)
        if long
        else pd.DataFrame(columns=["asset_id", *areas, "residents_losing"])
    )
    return ClosureImpact(assets=out, areas=area_table, minutes=cover.minutes, speed_m_per_min=speed)
