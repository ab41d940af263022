"""What-if sites on a prepared walk model: close assets, add new sites, no re-snapping.

In: a :class:`~nwm_geo.coverage.WalkModel` (the baseline) and the assets to drop or the
new sites to add. Out: a new :class:`WalkModel` sharing the baseline's graph arrays
(:func:`with_sites`), and :func:`extend_cover`, the baseline's within-threshold
:class:`~nwm_geo.coverage.Cover` with the closed columns dropped and one column per new
site (one bounded Dijkstra per new site).

A new site is snapped to the walk network like every other point and joined to the two
ends of the piece of edge it falls on (the baseline model has already split edges at
every demand point and asset, so no other point lies on that piece), with the exact
walking lengths: distances to and from it are the exact network distances that
:func:`~nwm_geo.coverage.prepare` would give with the site in the register.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from nwm_geo._checks import checks_crs
from nwm_geo._errors import NwmGeoError
from nwm_geo.coverage._cover import Cover, coverage_matrix
from nwm_geo.coverage._model import WalkModel
from nwm_geo.coverage._snap import points_xy, snap_xy, snaps_frame

__all__ = ["extend_cover", "with_sites"]


def _attach(model: WalkModel, edge: int, offset: float, snap_m: float) -> list[tuple[int, float]]:
    """Return the model nodes a point on ``edge`` at ``offset`` joins, with the walk to each."""
    p = model.pieces
    cand = np.flatnonzero((p.src == edge) & (p.off0 <= offset) & (offset <= p.off1))
    if len(cand) == 0:  # rounding at a piece end: take the nearest piece of the edge
        on_edge = np.flatnonzero(p.src == edge)
        gap = np.maximum(p.off0[on_edge] - offset, offset - p.off1[on_edge])
        cand = on_edge[[int(np.argmin(gap))]]
    i = int(cand[0])
    return [
        (int(p.a[i]), snap_m + max(offset - float(p.off0[i]), 0.0)),
        (int(p.b[i]), snap_m + max(float(p.off1[i]) - offset, 0.0)),
    ]


@checks_crs
def with_sites(
    model: WalkModel,
    *,
    drop: Iterable[Any] = (),
    add: gpd.GeoDataFrame | None = None,
) -> WalkModel:
    """Return the model with some assets closed and new sites added.

    The graph is shared with ``model`` when nothing is added; each added site adds one
    node (or re-uses the model node it falls on) and at most two edges.

    Parameters
    ----------
    model
        From :func:`~nwm_geo.coverage.prepare`.
    drop
        Asset ids to close (they stay in the graph as plain nodes, but are no longer
        sources).
    add
        New sites, indexed by new asset ids, with ``category``, optional ``name`` and
        point geometry (converted to the model's CRS).

    Returns
    -------
    WalkModel
        Assets: the model's, less ``drop``, then ``add``.

    Raises
    ------
    NwmGeoError
        If a dropped id is not an asset, an added id is already one, an added site has
        no category, or a site cannot be snapped to the network.
    """
    drop_ids = pd.Index(list(drop))
    unknown = drop_ids.difference(model.asset_ids)
    if len(unknown):
        raise NwmGeoError(f"cannot close unknown asset id(s): {list(unknown[:10])}")
    keep = ~model.asset_ids.isin(drop_ids)
    ids = model.asset_ids[keep]
    nodes = model.asset_nodes[keep]
    category = model.category[keep]
    name = model.name[keep]
    snaps = model.asset_snaps[keep]
    graph, node_xy = model.graph, model.node_xy
    if add is not None and len(add):
        clash = add.index.intersection(model.asset_ids)
        if len(clash) or not add.index.is_unique:
            raise NwmGeoError(f"new site ids must be new and unique: {list(clash[:10])}")
        if "category" not in add.columns or add["category"].isna().any():
            raise NwmGeoError("every new site needs a category")
        xy = points_xy(add, model.crs)
        s = snap_xy(model.network, xy)
        if (s.edge < 0).any():
            raise NwmGeoError(
                f"new site(s) {list(add.index[s.edge < 0])} cannot be placed on the walk network"
            )
        n = graph.shape[0]
        rows: list[int] = []
        cols: list[int] = []
        lengths: list[float] = []
        new_nodes = np.empty(len(add), dtype=np.int64)
        extra_xy: list[np.ndarray] = []
        for k in range(len(add)):
            ends = _attach(model, int(s.edge[k]), float(s.offset[k]), float(s.snap_m[k]))
            at = [node for node, d in ends if d <= 0.0]
            if at:  # the site is on a model node
                new_nodes[k] = at[0]
                continue
            new_nodes[k] = n + len(extra_xy)
            extra_xy.append(xy[k])
            for node, d in ends:
                rows += [int(new_nodes[k]), node]
                cols += [node, int(new_nodes[k])]
                lengths += [d, d]
        m = n + len(extra_xy)
        if m > n:
            old = graph.tocoo()
            graph = sp.csr_matrix(
                (
                    np.concatenate([old.data, lengths]),
                    (np.concatenate([old.row, rows]), np.concatenate([old.col, cols])),
                ),
                shape=(m, m),
            )
            node_xy = np.vstack([node_xy, np.asarray(extra_xy)])
        ids = ids.append(pd.Index(add.index))
        nodes = np.concatenate([nodes, new_nodes])
        category = pd.concat([category, add["category"].astype(str)])
        add_names = add["name"] if "name" in add.columns else pd.Series("", index=add.index)
        name = pd.concat([name, add_names.astype(str)])
        snaps = pd.concat([snaps, snaps_frame(model.network, s, add.index)])
    return replace(
        model,
        graph=graph,
        node_xy=node_xy,
        asset_ids=ids,
        asset_nodes=nodes,
        category=category,
        name=name,
        asset_snaps=snaps,
    )


def extend_cover(cover: Cover, model: WalkModel, *, verbose: bool = False) -> Cover:
    """Re-use a baseline cover for a changed model: drop closed columns, add new ones.

    Parameters
    ----------
    cover
        The baseline ``coverage_matrix(baseline, sources="assets")``.
    model
        :func:`with_sites` of the baseline (same demand points).
    verbose
        Show progress of the new sites' Dijkstra runs.

    Returns
    -------
    Cover
        Columns ``model.asset_ids``, at the cover's threshold and speed: the baseline's
        columns for the assets kept, one bounded Dijkstra per new site.
    """
    if not cover.point_index.equals(model.point_ids):
        raise NwmGeoError("the cover and the model must have the same demand points")
    kept = model.asset_ids.intersection(cover.source_index, sort=False)
    new = model.asset_ids.difference(cover.source_index, sort=False)
    parts = [cover.csc[:, cover.source_index.get_indexer(kept)]]
    if len(new):
        fresh = coverage_matrix(
            model,
            source_ids=new,
            minutes=cover.minutes,
            speed_m_per_min=cover.speed_m_per_min,
            verbose=verbose,
        )
        parts.append(fresh.csc)
    matrix = sp.hstack(parts).tocsr()
    index = kept.append(new)
    out = Cover(
        matrix=matrix,
        point_index=cover.point_index,
        source_index=index,
        minutes=cover.minutes,
        speed_m_per_min=cover.speed_m_per_min,
    )
    order = index.get_indexer(model.asset_ids)
    return Cover(
        matrix=out.csc[:, order].tocsr(),
        point_index=cover.point_index,
        source_index=model.asset_ids,
        minutes=cover.minutes,
        speed_m_per_min=cover.speed_m_per_min,
    )
