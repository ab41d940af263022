"""A range on every headline share: network error, walking speed, register completeness.

In: walking minutes to the nearest asset per category and bundle
(:func:`nwm_geo.coverage.nearest_minutes`), demand points with ``population`` and a
``locality`` column, and three sources of doubt:

- **network**: on the approximate network the walks are rescaled by the calibrated
  band of approximate ÷ real distance (:data:`nwm_geo.network.CALIBRATION`, its 10th
  and 90th percentile): real minutes = approximate minutes ÷ ratio. On a real (OSM)
  network this source is empty;
- **speed**: walking speed 10 % slower and 10 % faster (minutes × 1/0.9 and 1/1.1);
- **register**: for each category the register holds fewer sites of than the council's
  count, the missing sites are placed where they would add the most residents, from the
  same candidates as the new-site suggestions (:func:`nwm_geo.requirements.best_new_sites`:
  existing buildings first, then postcodes); residents they reach count as within. The
  register can only be short, so this source only raises a share.

Out: :func:`headline_ranges`, one row per locality (and the whole area) × bundle and
"all three bundles": the published share and its low and high, each the widest of the
three sources taken alone (not compounded), and the ``main_driver`` (the source that
moves the share furthest). Every share is :func:`nwm_geo.coverage.coverage_table`, the
one implementation, on rescaled minutes or with the extra residents marked within.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from nwm_geo import coverage, network, requirements
from nwm_geo._errors import SolverError
from nwm_geo._units import resolve_minutes

if TYPE_CHECKING:  # networkx loads where a graph is built or read
    import networkx as nx

__all__ = [
    "RANGE_COLUMNS",
    "REGISTER_TIME_LIMIT_S",
    "SPEED_SPREAD",
    "MissingSites",
    "headline_ranges",
    "missing_sites",
    "network_band",
    "range_text",
    "study_ranges",
]

#: Walking speed varies by this fraction either way.
SPEED_SPREAD: float = 0.10

#: Seconds the solver may spend placing one category's missing sites. A placement
#: stopped by the limit is the best found, its gap recorded (:attr:`MissingSites.statuses`):
#: the register's high end is then at least as wide as printed, never wider.
REGISTER_TIME_LIMIT_S: float = 5.0

#: Columns of :func:`headline_ranges` (and ``uncertainty.csv``).
RANGE_COLUMNS: tuple[str, ...] = (
    "locality",
    "measure",
    "population",
    "published_pct",
    "low_pct",
    "high_pct",
    "main_driver",
    "network_low_pct",
    "network_high_pct",
    "speed_low_pct",
    "speed_high_pct",
    "register_high_pct",
)


@dataclass(frozen=True)
class MissingSites:
    """The register's missing sites, placed where they add the most residents.

    Attributes
    ----------
    sites
        One row per placed site (:data:`nwm_geo.requirements.SITE_COLUMNS`, with
        ``measure`` the category it stands in for).
    shortfall
        Category -> sites the register is short of the council's count.
    within
        Points × categories: True where a placed site of that category is within the walk.
    statuses
        One row per solve (:meth:`nwm_geo.requirements.SolveStatus.as_row`): whether each
        placement is proven optimal or stopped by :data:`REGISTER_TIME_LIMIT_S`.
    """

    sites: pd.DataFrame
    shortfall: dict[str, int]
    within: pd.DataFrame
    statuses: pd.DataFrame


def missing_sites(
    cover: coverage.Cover,
    site_cover: coverage.Cover,
    assets: pd.DataFrame,
    points: pd.DataFrame,
    *,
    reconciliation: pd.DataFrame,
    bundles: Mapping[str, Sequence[str]] | None = None,
    exact: bool = False,
) -> MissingSites:
    """Place the register's missing sites where they would add the most residents.

    For each category with ``council_count > register_count`` in ``reconciliation``,
    ``k`` = the shortfall sites are placed borough-wide among the new-site suggestions'
    candidates (:func:`nwm_geo.requirements.building_candidates`, then
    :func:`nwm_geo.requirements.postcode_candidates`) with their rules (minimum gain,
    spacing; :class:`nwm_geo.requirements.RequirementsPolicy`):

    * by default greedily, each site the one that newly reaches the most residents:
      deterministic, fast, exact for ``k = 1`` and at least 63 % of the best gain
      otherwise, so the register's high end is never wider than the best placement;
    * with ``exact=True`` by :func:`nwm_geo.requirements.best_new_sites` (an exact
      MCLP, :data:`REGISTER_TIME_LIMIT_S` per solve), keeping the greedy placement when
      the solver stops without a solution or with a worse one. Which one finishes in
      time depends on the machine, so this is not the default.

    Parameters
    ----------
    cover
        ``coverage_matrix(model, sources="assets")``.
    site_cover
        ``coverage_matrix(model, sources="points")`` (postcode fallback sites).
    assets
        The register (as for :func:`nwm_geo.requirements.best_new_sites`).
    points
        Demand points with ``population``, ``ward_code``, ``lon``, ``lat``.
    reconciliation
        :func:`nwm_geo.data.reconciliation` (``council_count``, ``register_count``).
    bundles
        Bundle -> categories, for the candidates' policy.
    exact
        Solve each placement as an exact MCLP (see above).

    Returns
    -------
    MissingSites
    """
    counts = reconciliation.drop(index="TOTAL", errors="ignore")
    gap = (counts["council_count"] - counts["register_count"]).dropna()
    shortfall = {str(c): int(g) for c, g in gap.items() if g > 0}
    cov: coverage.Cover = cover
    sites_cov: coverage.Cover = site_cover.reindex_points(cov.point_index)
    within = pd.DataFrame(False, index=cov.point_index, columns=list(shortfall))
    tables: list[pd.DataFrame] = []
    statuses: list[dict[str, Any]] = []
    policy_bundles = None if bundles is None else {k: tuple(v) for k, v in bundles.items()}
    for cat, k in shortfall.items():
        pol = requirements.RequirementsPolicy(
            k=k, bundles=policy_bundles, time_limit=REGISTER_TIME_LIMIT_S
        )
        if not exact:
            table, hit = _greedy(cov, sites_cov, assets, points, category=cat, policy=pol)
            statuses.append({"measure": cat, "label": "greedy", "proven_optimal": False})
        else:
            table, hit = _exact(
                cov, sites_cov, assets, points, category=cat, policy=pol, statuses=statuses
            )
        if len(table):
            tables.append(table.assign(measure=cat))
            within[cat] = hit
    sites = pd.concat(tables) if tables else pd.DataFrame(columns=list(requirements.SITE_COLUMNS))
    return MissingSites(
        sites=sites, shortfall=shortfall, within=within, statuses=pd.DataFrame(statuses)
    )


def _exact(
    cov: coverage.Cover,
    sites_cov: coverage.Cover,
    assets: pd.DataFrame,
    points: pd.DataFrame,
    *,
    category: str,
    policy: requirements.RequirementsPolicy,
    statuses: list[dict[str, Any]],
) -> tuple[pd.DataFrame, np.ndarray]:
    """Return the exact MCLP placement, or the greedy one when the solver does worse."""
    cat, pol = category, policy
    try:
        sol = requirements.best_new_sites(
            cov, assets, points, measure=cat, site_cover=sites_cov, policy=pol
        )
    except SolverError as exc:  # stopped before any solution: greedy, same candidates
        table, hit = _greedy(cov, sites_cov, assets, points, category=cat, policy=pol)
        statuses.append({"measure": cat, "label": f"greedy ({exc})", "proven_optimal": False})
    else:
        statuses += [st.as_row() for st in sol.statuses]
        table = sol.table
        hit = _reached(table.index, cov, sites_cov)
        if not all(st.proven_optimal for st in sol.statuses):  # stopped early: keep the
            g_table, g_hit = _greedy(  # greedy placement when it reaches more residents
                cov, sites_cov, assets, points, category=cat, policy=pol
            )
            if g_table["marginal_population"].sum() > table["marginal_population"].sum():
                table, hit = g_table, g_hit
                statuses.append(
                    {"measure": cat, "label": "greedy (reaches more)", "proven_optimal": False}
                )
    return table, hit


def _greedy(
    cover: coverage.Cover,
    site_cover: coverage.Cover,
    assets: pd.DataFrame,
    points: pd.DataFrame,
    *,
    category: str,
    policy: requirements.RequirementsPolicy,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Place ``policy.k`` sites one by one, each adding the most residents.

    The candidates of the new-site suggestions
    (:func:`nwm_geo.requirements.building_candidates`, then
    :func:`nwm_geo.requirements.postcode_candidates`); each step the candidate, at least
    ``policy.spacing_m`` from those chosen, that newly covers the most gap residents,
    until ``k`` sites or a gain below ``policy.min_population``. Ties go to the first
    candidate, so the result does not depend on the machine. Exact for ``k = 1``.
    """
    cat_of = assets["category"].reindex(cover.source_index).astype(str).to_numpy()
    today = np.asarray(cover.csc[:, np.flatnonzero(cat_of == category)].sum(axis=1)).ravel() > 0
    pop = pd.to_numeric(points["population"]).reindex(cover.point_index).fillna(0).to_numpy()
    gap = np.where(today, 0.0, pop)
    b_cols, b_meta = requirements.building_candidates(
        assets, cover.source_index, categories=policy.candidate_categories, points=points
    )
    p_cols, p_meta = requirements.postcode_candidates(points, site_cover.source_index)
    blocks = [(cover.csc[:, b_cols], b_meta), (site_cover.csc[:, p_cols], p_meta)]
    covered = np.zeros(len(gap), dtype=bool)
    rows: list[dict[str, Any]] = []
    chosen_xy: list[np.ndarray] = []
    for matrix, meta in blocks:
        xy = _metres([m.get("lon") for m in meta], [m.get("lat") for m in meta])
        allowed = np.isfinite(xy).all(axis=1) if len(meta) else np.zeros(0, bool)
        for c in chosen_xy:  # the spacing holds across buildings and postcodes
            allowed &= np.hypot(*(xy - c).T) >= policy.spacing_m
        while len(rows) < policy.k and allowed.any():
            gains = np.where(allowed, matrix.T @ np.where(covered, 0.0, gap), -1.0)
            best = int(np.argmax(gains))
            if gains[best] < max(policy.min_population, 1e-9):
                break
            reach = matrix[:, best].nonzero()[0]
            rows.append({**meta[best], "marginal_population": float(gains[best])})
            covered[reach] = True
            chosen_xy.append(xy[best])
            allowed &= np.hypot(*(xy - xy[best]).T) >= policy.spacing_m
    if not rows:
        return pd.DataFrame({"marginal_population": pd.Series(dtype=float)}), covered
    return pd.DataFrame(rows).set_index("site_id"), covered


def _metres(lon: Sequence[Any], lat: Sequence[Any]) -> np.ndarray:
    """Lon/lat to local metres (equirectangular; fine for spacing within a borough)."""
    lo = pd.to_numeric(pd.Series(lon, dtype=object), errors="coerce").to_numpy(dtype=float)
    la = pd.to_numeric(pd.Series(lat, dtype=object), errors="coerce").to_numpy(dtype=float)
    m_per_deg = 111_320.0
    ref = np.nanmean(la) if np.isfinite(la).any() else 0.0
    return np.column_stack([lo * m_per_deg * np.cos(np.radians(ref)), la * m_per_deg])


def _reached(site_ids: pd.Index, cover: coverage.Cover, site_cover: coverage.Cover) -> np.ndarray:
    """Points within the walk of any of the sites (``asset:<id>`` or ``postcode:<id>``).

    Both covers have their rows in the same point order.
    """
    out = np.zeros(len(cover.point_index), dtype=bool)
    for sid in site_ids:
        kind, _, key = str(sid).partition(":")
        src = cover if kind == "asset" else site_cover
        col = int(src.source_index.get_indexer(pd.Index([key]))[0])
        if col >= 0:
            out[src.csc[:, col].nonzero()[0]] = True
    return out


def _shares(
    minutes_df: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    minutes: float,
    bundles: Mapping[str, Sequence[str]],
    area_name: str,
    extra: pd.DataFrame | None = None,
) -> pd.Series:
    """Percent within per (locality, measure) and for the area, optionally with extra sites.

    ``extra`` marks points × categories newly within: their minutes become 0 for that
    category (within), then bundles are recomputed as the minimum over their categories.
    """
    frame = minutes_df
    if extra is not None and len(extra.columns):
        frame = minutes_df.copy()
        for cat in extra.columns:
            if cat in frame.columns:
                hit = extra[cat].reindex(frame.index, fill_value=False).to_numpy(bool)
                frame.loc[hit, cat] = 0.0
        for b, cats in bundles.items():
            present = [c for c in cats if c in frame.columns]
            if b in frame.columns and present:
                frame[b] = frame[present].min(axis=1, skipna=True)
    everyone = demand.assign(locality=area_name)
    parts = [
        coverage.coverage_table(frame, d, by="locality", minutes=minutes, bundles=bundles)
        for d in (demand, everyone)
    ]
    table = pd.concat(parts)
    return table.set_index(["locality", "category"])["share"] * 100


def headline_ranges(
    minutes_df: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    bundles: Mapping[str, Sequence[str]],
    area_name: str,
    minutes: float | None = None,
    network_band: tuple[float, float] | None = None,
    register_within: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return each headline share with a low–high range and its main driver.

    Parameters
    ----------
    minutes_df
        Minutes to the nearest asset per category and bundle (at the run's speed).
    demand
        Demand points with ``population`` and ``locality``, on the same index.
    bundles
        Bundle -> categories.
    area_name
        The ``locality`` of the whole-area rows (``Luton``).
    minutes
        The threshold (default: the setting).
    network_band
        ``(p10, p90)`` of approximate ÷ real distance; ``None`` on a real network.
    register_within
        :attr:`MissingSites.within`; ``None`` or empty when the register is complete.

    Returns
    -------
    pandas.DataFrame
        :data:`RANGE_COLUMNS`: per locality (then the area) and measure (the bundles,
        then "all three bundles"), ``population``, ``published_pct``, ``low_pct`` <=
        ``published_pct`` <= ``high_pct``, ``main_driver`` (``network``, ``walking
        speed``, ``register`` or ``none``) and each source's own bounds (NaN where a
        source does not apply).
    """
    thr = resolve_minutes(minutes)

    def at(scale: float, extra: pd.DataFrame | None = None) -> pd.Series:
        scaled = minutes_df * scale
        scaled.attrs = dict(minutes_df.attrs)
        return _shares(
            scaled, demand, minutes=thr, bundles=bundles, area_name=area_name, extra=extra
        )

    published = at(1.0)
    cols: dict[str, pd.Series] = {"published_pct": published}
    if network_band is not None:
        p10, p90 = network_band
        cols["network_low_pct"] = at(1.0 / p10) if p10 < 1 else published
        cols["network_high_pct"] = at(1.0 / p90) if p90 > 1 else published
    cols["speed_low_pct"] = at(1.0 / (1.0 - SPEED_SPREAD))
    cols["speed_high_pct"] = at(1.0 / (1.0 + SPEED_SPREAD))
    if register_within is not None and len(register_within.columns):
        cols["register_high_pct"] = at(1.0, register_within)
    table = pd.DataFrame(cols)
    for c in RANGE_COLUMNS[7:]:
        if c not in table.columns:
            table[c] = np.nan
    lows = table[["network_low_pct", "speed_low_pct"]]
    highs = table[["network_high_pct", "speed_high_pct", "register_high_pct"]]
    table["low_pct"] = np.minimum(lows.min(axis=1, skipna=True), table["published_pct"])
    table["high_pct"] = np.maximum(highs.max(axis=1, skipna=True), table["published_pct"])
    down = (table["published_pct"].to_numpy()[:, None] - lows.to_numpy()).clip(0)
    up = (highs.to_numpy() - table["published_pct"].to_numpy()[:, None]).clip(0)
    moves = np.nan_to_num(np.column_stack([down[:, 0], down[:, 1], up[:, 0], up[:, 1], up[:, 2]]))
    names = np.array(["network", "walking speed", "network", "walking speed", "register"])
    driver = np.where(moves.max(axis=1) > 0, names[moves.argmax(axis=1)], "none")
    table["main_driver"] = driver
    pop = _populations(demand, area_name)
    table = table.reset_index().rename(columns={"category": "measure"})
    names_wanted = [*bundles, coverage.all_bundles_label(bundles)]
    table = table[table["measure"].isin(names_wanted)]
    table["population"] = table["locality"].map(pop).astype(int)
    order = {m: i for i, m in enumerate(names_wanted)}
    locs = [*sorted(set(table["locality"]) - {area_name}), area_name]
    table["_l"] = table["locality"].map({loc: i for i, loc in enumerate(locs)})
    table["_m"] = table["measure"].map(order)
    table = table.sort_values(["_l", "_m"]).drop(columns=["_l", "_m"])
    return table[list(RANGE_COLUMNS)].reset_index(drop=True)


def _populations(demand: pd.DataFrame, area_name: str) -> dict[str, float]:
    pop = pd.to_numeric(demand["population"]).groupby(demand["locality"]).sum().to_dict()
    pop[area_name] = float(pd.to_numeric(demand["population"]).sum())
    return {str(k): float(v) for k, v in pop.items()}


def range_text(published: float, low: float, high: float) -> str:
    """Return ``"73.9 % (66–75 %)"``: the share to one decimal, its range to whole percent.

    The range's ends are rounded outward (down and up), so the printed range always
    holds the printed share.
    """
    lo = min(np.floor(low), np.floor(published * 10) / 10)
    hi = max(np.ceil(high), np.ceil(published * 10) / 10)
    return f"{published:.1f} % ({lo:.0f}–{hi:.0f} %)"


class _StudyLike(Protocol):
    """What :func:`study_ranges` reads from a study (:class:`nwm_geo.pipeline.Study`)."""

    @property
    def minutes_to_nearest(self) -> pd.DataFrame: ...
    @property
    def demand_with_locality(self) -> pd.DataFrame: ...
    @property
    def graph(self) -> nx.MultiDiGraph: ...
    @property
    def model(self) -> coverage.WalkModel: ...
    @property
    def asset_cover(self) -> Any: ...
    @property
    def site_cover(self) -> Any: ...
    @property
    def register(self) -> pd.DataFrame: ...
    @property
    def reconciliation(self) -> pd.DataFrame: ...
    @property
    def bundles(self) -> dict[str, tuple[str, ...]]: ...
    @property
    def profile(self) -> Any: ...

    minutes: float | None
    speed_m_per_min: float | None


def network_band(G: nx.MultiDiGraph) -> tuple[float, float] | None:
    """Return the calibrated (p10, p90) approximate ÷ real band; None on a real network."""
    if not network.is_approximate(G):
        return None
    return (network.CALIBRATION["p10_ratio"], network.CALIBRATION["p90_ratio"])


def study_ranges(study: _StudyLike) -> pd.DataFrame:
    """Return :func:`headline_ranges` for a study (``Study.uncertainty``).

    The missing sites are placed by :func:`missing_sites` over the study's asset cover
    and its postcode-site cover (``Study.site_cover``, the outline's);
    ``attrs["missing_sites"]`` holds them.
    """
    placed = missing_sites(
        study.asset_cover,
        study.site_cover,  # the outline's postcode-site cover, computed once
        study.register,
        study.demand_with_locality,
        reconciliation=study.reconciliation,
        bundles=study.bundles,
    )
    table = headline_ranges(
        study.minutes_to_nearest,
        study.demand_with_locality,
        bundles=study.bundles,
        area_name=study.profile.name,
        minutes=study.minutes,
        network_band=network_band(study.graph),
        register_within=placed.within,
    )
    table.attrs["missing_sites"] = placed.sites
    table.attrs["shortfall"] = placed.shortfall
    table.attrs["register_statuses"] = placed.statuses
    return table
