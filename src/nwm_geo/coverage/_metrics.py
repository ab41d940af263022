"""Coverage metrics: nearest-asset minutes and population-weighted coverage tables.

In: a :class:`~nwm_geo.coverage.WalkModel` (or the minutes table it gave) and demand
points with ``population``.
Out: DataFrames on the demand index (minutes per category and bundle) or long tables
per area (population, covered population, share).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra
from tqdm.auto import tqdm

from nwm_geo import settings
from nwm_geo._errors import NwmGeoError
from nwm_geo._units import TOLERANCE_M, resolve_minutes, resolve_speed, within_minutes
from nwm_geo.coverage._model import WalkModel, population_weights

__all__ = [
    "all_bundles_label",
    "coverage_summary",
    "coverage_table",
    "covered_flags",
    "nearest_minutes",
]


def category_names(model: WalkModel, categories: Sequence[str] | None) -> list[str]:
    if categories is not None:
        return list(categories)
    extra = sorted(set(model.category) - set(settings.CATEGORIES))
    return [*settings.CATEGORIES, *extra]


def _multi_source_m(model: WalkModel, sources: np.ndarray, limit: float = np.inf) -> np.ndarray:
    """Distance (m) from the nearest of ``sources`` to every demand point (inf if none)."""
    src = np.unique(sources[sources >= 0])
    if len(src) == 0:
        return np.full(len(model.point_nodes), np.inf)
    d = dijkstra(model.graph, directed=True, indices=src, min_only=True, limit=limit)
    out = np.full(len(model.point_nodes), np.inf)
    ok = model.point_nodes >= 0
    out[ok] = d[model.point_nodes[ok]]
    return out


def nearest_minutes(
    model: WalkModel,
    *,
    speed_m_per_min: float | None = None,
    categories: Sequence[str] | None = None,
    bundles: Mapping[str, Sequence[str]] | None = None,
    max_minutes: float | None = None,
    verbose: bool = False,
) -> pd.DataFrame:
    """Return walking minutes from every demand point to the nearest asset of each category.

    One multi-source Dijkstra per category (all of its assets at once).

    Parameters
    ----------
    model
        From :func:`prepare`.
    speed_m_per_min
        Walking speed (default ``settings.walk_speed_m_per_min``).
    categories
        Categories to report (default ``settings.CATEGORIES``, plus any other category
        present in the assets).
    bundles
        Bundle name → categories (default ``settings.BUNDLES``). A bundle's time is the
        nearest asset of any of its categories.
    max_minutes
        Search no farther than this: a point farther than ``max_minutes`` from every
        asset of a category gets NaN, as an unreachable one does; every time within it
        is the same as without it (the search stops at the threshold plus
        :data:`nwm_geo._units.TOLERANCE_M`). Default: no limit, so times beyond the
        threshold are reported (the published tables need them).
    verbose
        Show a progress bar over categories.

    Raises
    ------
    NwmGeoError
        If a category (in ``categories`` or a bundle) is neither in
        ``settings.CATEGORIES`` nor held by any asset: most likely a misspelling.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``point_id``: one column per category, then one per bundle. NaN where
        no asset of the category exists or none can be reached. ``attrs["network"]`` holds
        the network label, ``attrs["bundles"]`` the bundles and ``attrs["speed_m_per_min"]``
        the speed (the coverage tables read them).

    Examples
    --------
    >>> from nwm_geo import coverage, data, network
    >>> ex = data.synthetic_example()
    >>> model = coverage.prepare(network.approximate_graph(ex.points), demand=ex.points,
    ...                          assets=ex.sites)
    >>> coverage.nearest_minutes(model, categories=["Library"], bundles={}).round(1)
              Library
    point_id
    P1            0.0
    P2            6.6
    P3            6.6
    P4           34.5
    """
    speed = resolve_speed(speed_m_per_min)
    limit_m = (
        np.inf
        if max_minutes is None
        else resolve_minutes(max_minutes, what="max_minutes") * speed + TOLERANCE_M
    )
    cats = category_names(model, categories)
    bund = dict(settings.BUNDLES if bundles is None else bundles)
    needed = list(dict.fromkeys([*cats, *(c for cs in bund.values() for c in cs)]))
    unknown = [c for c in needed if c not in set(settings.CATEGORIES) | set(model.category)]
    if unknown:
        raise NwmGeoError(
            f"Unknown categories {unknown} in categories/bundles: not in settings.CATEGORIES "
            "and no asset has them (misspelled?)."
        )
    # one (points x columns) block, filled in place: categories, then bundles
    columns = list(dict.fromkeys([*cats, *bund]))
    where = {c: i for i, c in enumerate(columns)}
    renamed = set(bund) & set(cats)  # a bundle named like a category replaces its column
    block = np.full((len(model.point_ids), len(columns)), np.inf)
    metres: dict[str, np.ndarray] = {}
    category = model.category.to_numpy()
    for cat in tqdm(needed, disable=not verbose, desc="categories"):
        d = _multi_source_m(model, model.asset_nodes[category == cat], limit_m)
        if cat in where and cat not in renamed:
            block[:, where[cat]] = d
            d = block[:, where[cat]]  # the column itself, no second copy
        metres[cat] = d
    for bname, bcats in bund.items():
        col = np.full(len(model.point_ids), np.inf)
        for c in bcats:
            np.minimum(col, metres[c], out=col)
        block[:, where[bname]] = col
    del metres
    block /= speed
    block[~np.isfinite(block)] = np.nan
    out = pd.DataFrame(block, index=model.point_ids, columns=columns, copy=False)
    out.attrs["network"] = model.label
    out.attrs["bundles"] = {k: list(v) for k, v in bund.items()}
    out.attrs["speed_m_per_min"] = speed
    return out


# ---------------------------------------------------------------------------------------
# Coverage tables


def all_bundles_label(bundles: Mapping[str, Sequence[str]] | None = None) -> str:
    """Row name for "covered by every bundle" ("all three bundles" for the default).

    "the one bundle" for one bundle, "both bundles" for two, "all <n> bundles" otherwise.
    """
    n = len(settings.BUNDLES if bundles is None else bundles)
    if n == 1:
        return "the one bundle"
    if n == 2:
        return "both bundles"
    words = {3: "three", 4: "four", 5: "five"}
    return f"all {words.get(n, str(n))} bundles"


def _covered_flags(
    minutes_df: pd.DataFrame,
    minutes: float | None,
    bundles: Mapping[str, Sequence[str]] | None,
    speed_m_per_min: float | None = None,
) -> pd.DataFrame:
    """Boolean table: each point's time within the threshold, plus the all-bundles column."""
    speed = minutes_df.attrs.get("speed_m_per_min") if speed_m_per_min is None else speed_m_per_min
    flags = within_minutes(minutes_df, minutes, speed_m_per_min=speed).astype(bool)
    bund = minutes_df.attrs.get("bundles") if bundles is None else bundles
    if bund is None:
        bund = settings.BUNDLES
    if bundles is not None:
        missing = [b for b in bundles if b not in minutes_df.columns]
        if missing:
            raise NwmGeoError(
                f"Bundles {missing} are not columns of the minutes table "
                f"(it has {list(minutes_df.columns)}); pass nearest_minutes the same bundles."
            )
    present = [b for b in bund if b in minutes_df.columns]
    if present:
        flags[all_bundles_label(bund)] = flags[present].all(axis=1)
    return flags


#: Inside :func:`reusing_flags`: each minutes table's flags, by (id, minutes, bundles,
#: speed), with the table itself (held, so that its id is not reused meanwhile).
_FLAGS: ContextVar[dict[tuple[Any, ...], tuple[pd.DataFrame, pd.DataFrame]] | None] = ContextVar(
    "nwm_geo_covered_flags", default=None
)


@contextmanager
def reusing_flags() -> Iterator[None]:
    """Compute each minutes table's covered flags once inside the block.

    For a caller that sums the same minutes tables many ways (the equity tables: each
    age band and group, each scope): :func:`coverage_table` then reuses the flags of a
    table it has seen in the block. The tables must not change inside it.
    """
    token = _FLAGS.set({})
    try:
        yield
    finally:
        _FLAGS.reset(token)


def _flags_once(
    minutes_df: pd.DataFrame,
    minutes: float,
    bundles: Mapping[str, Sequence[str]] | None,
    speed_m_per_min: float | None,
) -> pd.DataFrame:
    """:func:`_covered_flags`, computed once per table inside :func:`reusing_flags`."""
    memo = _FLAGS.get()
    if memo is None:
        return _covered_flags(minutes_df, minutes, bundles, speed_m_per_min)
    named = None if bundles is None else tuple((k, tuple(v)) for k, v in bundles.items())
    key = (id(minutes_df), minutes, named, speed_m_per_min)
    hit = memo.get(key)
    if hit is None or hit[0] is not minutes_df:
        hit = (minutes_df, _covered_flags(minutes_df, minutes, bundles, speed_m_per_min))
        memo[key] = hit
    return hit[1]


def covered_flags(
    minutes_df: pd.DataFrame,
    *,
    minutes: float | None = None,
    bundles: Mapping[str, Sequence[str]] | None = None,
    speed_m_per_min: float | None = None,
) -> pd.DataFrame:
    """Return, per demand point, whether each category and bundle is within the walk.

    The per-point flags behind :func:`coverage_table` (same rule, same columns).

    Parameters
    ----------
    minutes_df, minutes, bundles, speed_m_per_min
        As for :func:`coverage_table`.

    Returns
    -------
    pandas.DataFrame
        Boolean, on ``minutes_df.index``: one column per category and bundle, and the
        "all three bundles" column.
    """
    return _covered_flags(minutes_df, resolve_minutes(minutes), bundles, speed_m_per_min)


def coverage_table(
    minutes_df: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    by: str = "ward_code",
    minutes: float | None = None,
    bundles: Mapping[str, Sequence[str]] | None = None,
    speed_m_per_min: float | None = None,
) -> pd.DataFrame:
    """Return population within the walk threshold of each category, per area.

    Parameters
    ----------
    minutes_df
        From :func:`nearest_minutes` (index ``point_id``).
    demand
        Demand points with ``population`` and the ``by`` column, on the same index.
    by
        Any column of ``demand`` (``ward_code``, ``lsoa_code``, ``locality`` ...).
    minutes
        The threshold (default ``settings.walk_minutes``); a point is covered if its time
        is within it (:func:`nwm_geo._units.within_minutes`).
    bundles
        The bundles whose joint coverage makes the "all three bundles" row (default: the
        ones :func:`nearest_minutes` used).
    speed_m_per_min
        The speed the times were computed at, for the tolerance of the within test
        (default: the one :func:`nearest_minutes` used, else the setting).

    Returns
    -------
    pandas.DataFrame
        Long format: ``by``, ``category`` (categories, bundles, "all three bundles"),
        ``population``, ``covered_population``, ``share`` (NaN where population is 0).

    Raises
    ------
    NwmGeoError
        If ``by`` or ``population`` is missing, a population is not a count, or a
        ``bundles`` name is not a column of ``minutes_df``.

    Examples
    --------
    >>> from nwm_geo import coverage, data, network
    >>> ex = data.synthetic_example()
    >>> model = coverage.prepare(network.approximate_graph(ex.points), demand=ex.points,
    ...                          assets=ex.sites)
    >>> minutes = coverage.nearest_minutes(model, categories=["Library"], bundles={})
    >>> coverage.coverage_table(minutes, ex.points, by="ward_code", minutes=15, bundles={})
      ward_code category  population  covered_population  share
    0        W2  Library       400.0                 0.0    0.0
    1        W3  Library       600.0               600.0    1.0
    """
    if by not in demand.columns:
        raise NwmGeoError(f"demand has no column {by!r} to group coverage by.")
    if "population" not in demand.columns:
        raise NwmGeoError("demand has no 'population' column.")
    flags = _flags_once(minutes_df, resolve_minutes(minutes), bundles, speed_m_per_min)
    flags = flags.reindex(demand.index, fill_value=False)  # a new frame: the memo's is kept
    pop = population_weights(demand)
    covered = flags.to_numpy(bool) * pop[:, None]
    groups = demand[by].to_numpy()
    frame = pd.DataFrame(covered, columns=flags.columns, index=demand.index)
    frame[by] = groups
    frame["__pop"] = pop
    agg = frame.groupby(by, sort=True, dropna=False).sum()
    tot = agg.pop("__pop")
    # long format: each area (sorted, as grouped) then each category in the flags' order
    n_cat = len(agg.columns)
    long = pd.DataFrame(
        {
            by: agg.index.repeat(n_cat),
            "category": np.tile(np.asarray(agg.columns, dtype=object), len(agg)),
            "covered_population": agg.to_numpy(float).ravel(),
            "population": np.repeat(tot.to_numpy(float), n_cat),
        }
    )
    long["share"] = long["covered_population"] / long["population"].where(long["population"] > 0)
    return long[[by, "category", "population", "covered_population", "share"]]


def coverage_summary(
    minutes_df: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    minutes: float | None = None,
    bundles: Mapping[str, Sequence[str]] | None = None,
    speed_m_per_min: float | None = None,
) -> pd.DataFrame:
    """Borough-wide coverage: one row per category, bundle and "all three bundles".

    Parameters
    ----------
    minutes_df, demand, minutes, bundles, speed_m_per_min
        As for :func:`coverage_table`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``category``: ``population``, ``covered_population``, ``share_pct``
        (percent, 0-100, like every share the outputs publish).

    Examples
    --------
    >>> from nwm_geo import coverage, data, network
    >>> ex = data.synthetic_example()
    >>> model = coverage.prepare(network.approximate_graph(ex.points), demand=ex.points,
    ...                          assets=ex.sites)
    >>> minutes = coverage.nearest_minutes(model, categories=["Library", "Education"],
    ...                                    bundles={})
    >>> coverage.coverage_summary(minutes, ex.points, minutes=15, bundles={})
               population  covered_population  share_pct
    category
    Library        1000.0               600.0       60.0
    Education      1000.0               400.0       40.0
    """
    d = demand.assign(_all="all")
    t = coverage_table(
        minutes_df, d, by="_all", minutes=minutes, bundles=bundles, speed_m_per_min=speed_m_per_min
    )
    t["share_pct"] = 100 * t.pop("share")
    return t.drop(columns="_all").set_index("category")
