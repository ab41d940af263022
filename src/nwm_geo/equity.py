"""Equity: who is within the walk, by deprivation and by age, with slower older walkers.

In: walking minutes to the nearest asset per category and bundle
(:func:`nwm_geo.coverage.nearest_minutes`) and demand points carrying the group columns
(:data:`nwm_geo.data.GROUP_COLUMNS`: IMD 2019 decile, quintile and rank of their LSOA
2011, and residents per Census 2021 age band), plus a locality column.
Out: long tables per locality (and the whole area) × measure (category, bundle, "all
three bundles") × group:

- :func:`coverage_by_deprivation`: residents and the share within the threshold per
  IMD decile or quintile;
- :func:`coverage_by_age`: the same per age band, each band at its own walking speed
  (:data:`nwm_geo.settings.walk_speed_by_age_m_per_min`) and at the default speed,
  with an "all residents" row whose share is the population-weighted result over the
  bands;
- :func:`equity_gaps`: the gap in percentage points between the most and the least
  deprived quintile and between residents aged 65+ and all residents, and the
  concentration index of coverage over deprivation (:func:`concentration_index`);
- :func:`group_split`: any flagged or weighted set of points (residents beyond the
  walk, residents who lose access when a site closes) split by IMD quintile and age
  band (re-exported from :func:`nwm_geo.coverage.group_split`, the one implementation,
  which :func:`nwm_geo.coverage.closure_impact` also uses);
- :func:`need_by_area`: residents in the two most deprived deciles and aged 65+ per
  ward, a third measure :func:`nwm_geo.localities.partition` can balance;
- :func:`flag_small_groups`: each gap's groups with their residents, and a note on the
  groups under :data:`SMALL_GROUP_SHARE` of their locality's residents, naming the
  register's shortfalls in the measure's categories (a small group's share moves a lot
  with one more site).

Every share is computed by :func:`nwm_geo.coverage.coverage_table` (the one
implementation of population-weighted coverage), with the band's residents as the
population. Minutes at another speed are the network distance (minutes × the speed
they were computed at) divided by that speed: one Dijkstra per category serves every
speed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nwm_geo import settings
from nwm_geo._display import Display
from nwm_geo._errors import NwmGeoError
from nwm_geo._units import resolve_speed
from nwm_geo.coverage import (
    AGE_LABELS,
    all_bundles_label,
    coverage_summary,
    coverage_table,
    group_split,
    reusing_flags,
)
from nwm_geo.data import AGE_BANDS, DOMAIN_DECILES

__all__ = [
    "AGE_LABELS",
    "ALL_RESIDENTS",
    "SMALL_GROUP_SHARE",
    "EquityTables",
    "age_speeds",
    "concentration_index",
    "coverage_by_age",
    "coverage_by_deprivation",
    "equity_gaps",
    "equity_tables",
    "flag_small_groups",
    "group_split",
    "minutes_at_speed",
    "need_by_area",
    "speeds_note",
]

#: The ``age_band`` of the row for all residents (each at their band's speed).
ALL_RESIDENTS: str = "all residents"

_OLDEST = "age_65_plus"

#: A group with fewer than this share of its locality's residents is flagged small.
SMALL_GROUP_SHARE: float = 0.05


def age_speeds(
    speeds: Mapping[str, float | None] | None = None, *, default: float | None = None
) -> dict[str, float]:
    """Return the walking speed of every age band, in metres per minute.

    Parameters
    ----------
    speeds
        Band → speed, ``None`` for the default (default
        :data:`nwm_geo.settings.walk_speed_by_age_m_per_min`); bands left out walk at
        the default speed.
    default
        The default speed (default :data:`nwm_geo.settings.walk_speed_m_per_min`).

    Returns
    -------
    dict
        One speed per band of :data:`nwm_geo.data.AGE_BANDS`, in that order.

    Raises
    ------
    NwmGeoError
        For an unknown band, a speed out of range, or a 65+ speed given above the
        default (older residents walk more slowly; a faster speed is a typing error,
        and would break the rule that their coverage at their speed is never above the
        default). The setting's 65+ speed is lowered to the default when the default
        is set below it (e.g. ``--speed 45``).
    """
    base = resolve_speed(default)
    given = dict(settings.walk_speed_by_age_m_per_min if speeds is None else speeds)
    oldest = given.get(_OLDEST)
    if speeds is None and oldest is not None:
        given[_OLDEST] = min(float(oldest), base)
    unknown = sorted(set(given) - set(AGE_BANDS))
    if unknown:
        raise NwmGeoError(f"unknown age band(s) {unknown}; the bands are {list(AGE_BANDS)}")
    out = {
        band: base
        if given.get(band) is None
        else resolve_speed(given[band], what=f"walking speed of {band}")
        for band in AGE_BANDS
    }
    if out[_OLDEST] > base:
        raise NwmGeoError(
            f"walking speed of {_OLDEST} ({out[_OLDEST]:g} m/min) is above the default speed "
            f"({base:g} m/min); older residents walk more slowly"
        )
    return out


def minutes_at_speed(minutes_df: pd.DataFrame, *, speed_m_per_min: float) -> pd.DataFrame:
    """Return the nearest-asset minutes at another walking speed.

    The network distance is the minutes times the speed they were computed at
    (``minutes_df.attrs["speed_m_per_min"]``, else the setting); dividing it by the new
    speed gives the new minutes, with no new shortest-path computation.

    Parameters
    ----------
    minutes_df
        :func:`nwm_geo.coverage.nearest_minutes`.
    speed_m_per_min
        The new speed.

    Returns
    -------
    pandas.DataFrame
        The same shape and index; ``attrs`` copied with the new ``speed_m_per_min``.
    """
    speed = resolve_speed(speed_m_per_min)
    memo = _AT_SPEED.get()
    if memo is not None:
        hit = memo.get((id(minutes_df), speed))
        if hit is not None and hit[0] is minutes_df:
            return hit[1]
    old = resolve_speed(minutes_df.attrs.get("speed_m_per_min"))
    out = minutes_df * (old / speed) if speed != old else minutes_df.copy()
    out.attrs = {**minutes_df.attrs, "speed_m_per_min": speed}
    if memo is not None:
        memo[(id(minutes_df), speed)] = (minutes_df, out)
    return out


#: Inside :func:`_computed_once`: the minutes at each speed already computed, by (id of
#: the table, speed), with the table (held, so that its id is not reused meanwhile).
_AT_SPEED: ContextVar[dict[tuple[int, float], tuple[pd.DataFrame, pd.DataFrame]] | None] = (
    ContextVar("nwm_geo_minutes_at_speed", default=None)
)


@contextmanager
def _computed_once() -> Iterator[None]:
    """Inside the block, the minutes at a speed and their covered flags are computed once.

    The equity tables sum the same minutes, at the same few speeds (five of the six age
    bands walk at the default speed), over many groups and scopes: 55 coverage tables
    for one what-if, which computed the same flags again each time.
    """
    token = _AT_SPEED.set({})
    try:
        with reusing_flags():
            yield
    finally:
        _AT_SPEED.reset(token)


def _require(demand: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in demand.columns]
    if missing:
        raise NwmGeoError(
            f"demand points have no column(s) {missing}; build them with "
            "nwm_geo.data.open_area(...).population (or Study.demand), with the IMD and age groups"
        )


def _check_bands(demand: pd.DataFrame) -> None:
    _require(demand, ["population", *AGE_BANDS])
    total = demand[list(AGE_BANDS)].sum(axis=1)
    bad = demand.index[(total != demand["population"]).to_numpy()]
    if len(bad):
        raise NwmGeoError(
            f"{len(bad)} demand point(s) have age bands that do not add up to their "
            f"population, e.g. {list(bad[:5])}"
        )


def _scoped(
    minutes_df: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    group: str | None,
    by: str | None,
    area_name: str,
    minutes: float | None,
) -> pd.DataFrame:
    """coverage_table per scope (each ``by`` value, then the whole area) and group.

    Two :func:`~nwm_geo.coverage.coverage_table` calls, not one per scope: the scopes'
    points keyed by scope and group in one (each group sums the same points in the same
    order as a call per scope would), the whole area in the other.
    """
    frames = []
    if by is not None:
        _require(demand, [by])
    # only the columns used: every copy below is then small (not the geometry)
    used = [c for c in dict.fromkeys(["population", by, group]) if c is not None]
    demand = pd.DataFrame(demand[[c for c in used if c in demand.columns]])
    if by is not None:
        inside = demand[demand[by].notna()]
        scope, names = pd.factorize(inside[by], sort=True)
        n_groups = 1
        if group is not None:
            codes, values = pd.factorize(inside[group], sort=True)
            n_groups = len(values) + 1
            codes = np.where(codes < 0, len(values), codes)  # no value: last, as groupby
        key = scope * n_groups + (codes if group is not None else 0)
        t = coverage_table(minutes_df, inside.assign(_key=key), by="_key", minutes=minutes)
        k = t.pop("_key").to_numpy()
        if group is not None:
            t.insert(0, group, pd.Series(values).reindex(k % n_groups).to_numpy())
        t.insert(0, "locality", np.asarray([str(n) for n in names], dtype=object)[k // n_groups])
        frames.append(_measure_major(t, k // n_groups) if group is not None else t)
    if group is None:
        t = coverage_summary(minutes_df, demand, minutes=minutes).reset_index()
    else:
        t = _measure_major(coverage_table(minutes_df, demand, by=group, minutes=minutes), None)
    t.insert(0, "locality", area_name)
    frames.append(t)
    out = pd.concat(frames, ignore_index=True).rename(columns={"category": "measure"})
    return out.drop(columns=["share", "share_pct"], errors="ignore")


def _measure_major(t: pd.DataFrame, scope: np.ndarray | None) -> pd.DataFrame:
    """Order a scope's rows measure by measure, then the groups in order (stable)."""
    order = {m: i for i, m in enumerate(dict.fromkeys(t["category"]))}
    rank = t["category"].map(order).to_numpy(int)
    if scope is not None:
        rank = scope * len(order) + rank
    return t.iloc[np.argsort(rank, kind="stable")]


def _pct(covered: pd.Series, population: pd.Series) -> pd.Series:
    out: pd.Series = 100 * covered / population.where(population > 0)
    return out


def coverage_by_deprivation(
    minutes_df: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    group: str = "imd_decile",
    by: str | None = "locality",
    area_name: str = "Luton",
    minutes: float | None = None,
    speeds: Mapping[str, float | None] | None = None,
) -> pd.DataFrame:
    """Return the residents within the walk threshold per IMD 2019 decile or quintile.

    Parameters
    ----------
    minutes_df
        :func:`nwm_geo.coverage.nearest_minutes`.
    demand
        Demand points on the same index with ``population``, ``imd_decile`` /
        ``imd_quintile``, the age bands and the ``by`` column.
    group
        ``"imd_decile"``, ``"imd_quintile"`` or a domain decile
        (:data:`nwm_geo.data.DOMAIN_DECILES`, e.g.
        ``"barriers_to_housing_and_services_decile"``).
    by
        The column naming each point's locality (``None``: the whole area only).
    area_name
        The name of the whole-area rows (the area's name, e.g. ``"Luton"``).
    minutes
        The threshold (default ``settings.walk_minutes``).
    speeds
        Age band → walking speed for ``covered_pct_age_speeds`` (default
        :func:`age_speeds`).

    Returns
    -------
    pandas.DataFrame
        One row per locality (then the area) × measure × group present: ``locality``,
        ``measure``, the ``group`` column, ``population`` (int),
        ``covered_population`` and ``covered_pct`` (everyone at the default speed), and
        ``covered_pct_age_speeds`` (each resident at their age band's speed). The
        populations of a locality and measure add up over the groups to the
        locality's residents exactly.

    Raises
    ------
    NwmGeoError
        For an unknown group or missing group columns.
    """
    allowed = ("imd_decile", "imd_quintile", *DOMAIN_DECILES)
    if group not in allowed:
        raise NwmGeoError(f"group must be one of {list(allowed)}, not {group!r}")
    _require(demand, ["population", group])
    keys = ["locality", "measure", group]
    base = _scoped(minutes_df, demand, group=group, by=by, area_name=area_name, minutes=minutes)
    base["covered_pct"] = _pct(base["covered_population"], base["population"])
    _check_bands(demand)
    slow = None
    default = resolve_speed(minutes_df.attrs.get("speed_m_per_min"))
    for band, speed in age_speeds(speeds, default=default).items():
        t = _scoped(
            minutes_at_speed(minutes_df, speed_m_per_min=speed),
            demand.assign(population=demand[band]),
            group=group,
            by=by,
            area_name=area_name,
            minutes=minutes,
        ).set_index(keys)
        slow = t if slow is None else slow + t
    assert slow is not None
    base = base.join(_pct(slow["covered_population"], slow["population"]).rename("x"), on=keys)
    base = base.rename(columns={"x": "covered_pct_age_speeds"})
    base[group] = base[group].astype(int)
    base["population"] = base["population"].astype(int)
    cols = ["population", "covered_population", "covered_pct", "covered_pct_age_speeds"]
    return base[[*keys, *cols]]


def coverage_by_age(
    minutes_df: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    by: str | None = "locality",
    area_name: str = "Luton",
    minutes: float | None = None,
    speeds: Mapping[str, float | None] | None = None,
) -> pd.DataFrame:
    """Residents within the walk threshold per Census 2021 age band, each at its own speed.

    Parameters
    ----------
    minutes_df
        :func:`nwm_geo.coverage.nearest_minutes` (at the default speed).
    demand
        Demand points with ``population``, the age bands and the ``by`` column.
    by, area_name, minutes
        As for :func:`coverage_by_deprivation`.
    speeds
        Age band → walking speed (default :func:`age_speeds`, from
        :data:`nwm_geo.settings.walk_speed_by_age_m_per_min`).

    Returns
    -------
    pandas.DataFrame
        One row per locality (then the area) × measure × age band, then an
        :data:`ALL_RESIDENTS` row: ``locality``, ``measure``, ``age_band``,
        ``population`` (int), ``speed_m_per_min`` (NaN for all residents: each band at
        its own), ``covered_population`` and ``covered_pct`` at the band's speed, and
        ``covered_pct_default_speed``. The all-residents ``covered_pct`` is the
        population-weighted result over the bands; its ``covered_pct_default_speed`` is
        the usual coverage. Over the bands, the populations add up to the residents.

    Raises
    ------
    NwmGeoError
        If the age bands are missing or do not add up to each point's population.
    """
    _check_bands(demand)
    keys = ["locality", "measure"]
    default = resolve_speed(minutes_df.attrs.get("speed_m_per_min"))
    rows = []
    for band, speed in age_speeds(speeds, default=default).items():
        pop = demand.assign(population=demand[band])
        at = _scoped(
            minutes_at_speed(minutes_df, speed_m_per_min=speed),
            pop,
            group=None,
            by=by,
            area_name=area_name,
            minutes=minutes,
        )
        usual = _scoped(minutes_df, pop, group=None, by=by, area_name=area_name, minutes=minutes)
        at["covered_default"] = usual["covered_population"].to_numpy()
        at["age_band"] = band
        at["speed_m_per_min"] = speed
        rows.append(at)
    table = pd.concat(rows, ignore_index=True)
    total = table.groupby(keys, sort=False)[
        ["population", "covered_population", "covered_default"]
    ].sum()
    total = total.reset_index().assign(age_band=ALL_RESIDENTS, speed_m_per_min=np.nan)
    table = pd.concat([table, total], ignore_index=True)
    table["covered_pct"] = _pct(table["covered_population"], table["population"])
    table["covered_pct_default_speed"] = _pct(table["covered_default"], table["population"])
    table["population"] = table["population"].astype(int)
    order = {b: i for i, b in enumerate([*AGE_BANDS, ALL_RESIDENTS])}
    first = {k: i for i, k in enumerate(dict.fromkeys(table["locality"]))}
    measures = {k: i for i, k in enumerate(dict.fromkeys(table["measure"]))}
    table["_l"] = table["locality"].map(first)
    table["_m"] = table["measure"].map(measures)
    table["_b"] = table["age_band"].map(order)
    table = table.sort_values(["_l", "_m", "_b"], kind="stable").reset_index(drop=True)
    cols = [*keys, "age_band", "population", "speed_m_per_min", "covered_population"]
    out: pd.DataFrame = table[[*cols, "covered_pct", "covered_pct_default_speed"]]
    return out


def concentration_index(
    covered: Sequence[float] | np.ndarray | pd.Series,
    population: Sequence[float] | np.ndarray | pd.Series,
    rank: Sequence[float] | np.ndarray | pd.Series,
) -> float:
    r"""Return the concentration index of an outcome over residents ranked by deprivation.

    The grouped-data formula of Kakwani, Wagstaff & van Doorslaer (1997), "Socioeconomic
    inequalities in health: measurement, computation and statistical inference", *Journal
    of Econometrics* 77, after Wagstaff, Paci & van Doorslaer (1991), *Social Science &
    Medicine* 33: with groups sorted from the most to the least deprived, population
    shares :math:`f_t`, outcome means :math:`\mu_t` (here the share within the walk),
    overall mean :math:`\mu` and relative ranks :math:`R_t = \sum_{s<t} f_s + f_t/2`,

    .. math:: C = \frac{2}{\mu} \sum_t f_t \mu_t R_t - 1.

    :math:`C = 0` when coverage is the same at every level of deprivation; :math:`C > 0`
    when it is concentrated among the less deprived; :math:`C < 0` among the more
    deprived. For a yes/no outcome such as coverage, :math:`C` lies between
    :math:`\mu - 1` and :math:`1 - \mu` (Wagstaff 2005).

    Parameters
    ----------
    covered
        Covered residents per group.
    population
        Residents per group.
    rank
        The deprivation rank of each group (1 = most deprived, e.g. the IMD rank);
        groups with the same rank are merged.

    Returns
    -------
    float
        The index; NaN when nobody is covered or there are no residents.
    """
    values = np.asarray(covered, dtype=float)
    people = np.asarray(population, dtype=float)
    ranks = np.asarray(rank, dtype=float)
    known = ~np.isnan(ranks)  # as a groupby: a group without a rank is left out
    _, group = np.unique(ranks[known], return_inverse=True)  # sorted by rank
    g_cov = np.bincount(group, weights=values[known])
    g_pop = np.bincount(group, weights=people[known])
    keep = g_pop > 0
    g_cov, g_pop = g_cov[keep], g_pop[keep]
    total = float(g_pop.sum())
    if total <= 0 or float(g_cov.sum()) <= 0:
        return float("nan")
    f = g_pop / total
    mu_t = g_cov / g_pop
    mu = float(np.sum(f * mu_t))
    r = np.cumsum(f) - f / 2
    return float(2.0 / mu * np.sum(f * mu_t * r) - 1.0)


def equity_gaps(
    minutes_df: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    by: str | None = "locality",
    area_name: str = "Luton",
    minutes: float | None = None,
    speeds: Mapping[str, float | None] | None = None,
    quintiles: pd.DataFrame | None = None,
    ages: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return the deprivation and age gaps per locality (and the area) and measure.

    Parameters
    ----------
    minutes_df, demand, by, area_name, minutes, speeds
        As for :func:`coverage_by_deprivation` (``demand`` also needs ``imd_rank``).
    quintiles, ages
        ``coverage_by_deprivation(group="imd_quintile")`` and :func:`coverage_by_age` of
        the same inputs, if already computed.

    Returns
    -------
    pandas.DataFrame
        ``locality``, ``measure``, ``population``, ``covered_pct`` (all residents at
        the default speed); ``most_deprived_quintile`` and ``least_deprived_quintile``
        (the extreme IMD quintiles with residents in the locality: 1 and 5 when both
        are present), their ``covered_pct`` and ``quintile_gap_pp`` (most minus least
        deprived, percentage points: negative when the most deprived are less often
        within the walk); ``age_65_plus_covered_pct`` at the 65+ speed and
        ``age_gap_pp`` (65+ at their speed minus all residents at the default speed),
        ``age_gap_default_speed_pp`` (the same at the default speed: where older
        residents live, not how fast they walk); ``concentration_index`` of coverage
        over residents ranked by the IMD rank of their LSOA 2011
        (:func:`concentration_index`).
    """
    _require(demand, ["imd_rank"])
    if quintiles is None:
        quintiles = coverage_by_deprivation(
            minutes_df,
            demand,
            group="imd_quintile",
            by=by,
            area_name=area_name,
            minutes=minutes,
            speeds=speeds,
        )
    if ages is None:
        ages = coverage_by_age(
            minutes_df, demand, by=by, area_name=area_name, minutes=minutes, speeds=speeds
        )
    keys = ["locality", "measure"]
    q = quintiles[quintiles["population"] > 0]
    most = q.loc[q.groupby(keys)["imd_quintile"].idxmin()].set_index(keys)
    least = q.loc[q.groupby(keys)["imd_quintile"].idxmax()].set_index(keys)
    everyone = ages[ages["age_band"] == ALL_RESIDENTS].set_index(keys)
    oldest = ages[ages["age_band"] == _OLDEST].set_index(keys)
    out = pd.DataFrame(
        {
            "population": everyone["population"],
            "covered_pct": everyone["covered_pct_default_speed"],
            "most_deprived_quintile": most["imd_quintile"],
            "most_deprived_population": most["population"],
            "most_deprived_covered_pct": most["covered_pct"],
            "least_deprived_quintile": least["imd_quintile"],
            "least_deprived_population": least["population"],
            "least_deprived_covered_pct": least["covered_pct"],
        }
    )
    out["quintile_gap_pp"] = out["most_deprived_covered_pct"] - out["least_deprived_covered_pct"]
    out["age_65_plus_population"] = oldest["population"]
    out["age_65_plus_speed_m_per_min"] = oldest["speed_m_per_min"]
    out["age_65_plus_covered_pct"] = oldest["covered_pct"]
    out["age_gap_pp"] = oldest["covered_pct"] - everyone["covered_pct_default_speed"]
    out["age_gap_default_speed_pp"] = (
        oldest["covered_pct_default_speed"] - everyone["covered_pct_default_speed"]
    )
    ranks = _scoped(
        minutes_df, demand, group="imd_rank", by=by, area_name=area_name, minutes=minutes
    )
    ci = pd.Series(
        {
            key: concentration_index(t["covered_population"], t["population"], t["imd_rank"])
            for key, t in ranks.groupby(keys, sort=False)
        },
        dtype=float,
    )
    out["concentration_index"] = ci.reindex(out.index)
    out = out.reindex(everyone.index).reset_index()
    for col in (
        "most_deprived_quintile",
        "least_deprived_quintile",
        "most_deprived_population",
        "least_deprived_population",
        "age_65_plus_population",
    ):
        out[col] = out[col].astype("Int64")
    out["population"] = out["population"].astype(int)
    return out


def flag_small_groups(
    gaps: pd.DataFrame,
    *,
    bundles: Mapping[str, Sequence[str]] | None = None,
    shortfall: Mapping[str, tuple[int, int]] | None = None,
    threshold: float = SMALL_GROUP_SHARE,
) -> pd.DataFrame:
    """Add ``small_groups``: the gap's groups under ``threshold`` of their locality.

    Parameters
    ----------
    gaps
        :func:`equity_gaps` (with the groups' ``*_population`` columns).
    bundles
        Bundle -> categories (default ``settings.BUNDLES``); "all ... bundles" rows use
        every bundle's categories, a category row its own.
    shortfall
        Category -> (register count, council count) where the register is short
        (``nwm_geo.requirements.register_shortfall``); named in each small group's note.
    threshold
        Share of the locality's residents below which a group is small.

    Returns
    -------
    pandas.DataFrame
        ``gaps`` with ``small_groups``: "" when no group is small, else e.g. "small
        group: least deprived (IMD quintile 5) 7,469 residents, 3.3 % of Luton; register
        short for this measure: GP / Medical Centre 24 of 35".
    """
    bund = settings.BUNDLES if bundles is None else bundles
    short = dict(shortfall or {})
    every = [c for cats in bund.values() for c in cats]
    notes = []
    for r in gaps.itertuples(index=False):
        total = float(pd.to_numeric(pd.Series([r.population])).iloc[0])
        sizes = pd.to_numeric(
            pd.Series(
                [r.most_deprived_population, r.least_deprived_population, r.age_65_plus_population]
            ),
            errors="coerce",
        ).to_numpy(dtype=float, na_value=np.nan)
        names = [
            f"most deprived (IMD quintile {r.most_deprived_quintile})",
            f"least deprived (IMD quintile {r.least_deprived_quintile})",
            "aged 65+",
        ]
        small = [
            f"{name} {n:,.0f} residents, {100 * n / total:.1f} % of {r.locality}"
            for name, n in zip(names, sizes, strict=True)
            if np.isfinite(n) and total > 0 and n / total < threshold
        ]
        if not small:
            notes.append("")
            continue
        measure = str(r.measure)
        if measure in bund:
            cats = list(bund[measure])
        else:
            cats = every if measure == all_bundles_label(bund) else [measure]
        hit = [f"{c} {short[c][0]} of {short[c][1]}" for c in dict.fromkeys(cats) if c in short]
        text = f"small group{'s' if len(small) > 1 else ''}: " + "; ".join(small)
        text += (
            f"; register short for this measure: {', '.join(hit)}"
            if hit
            else "; the register is not short for this measure"
        )
        notes.append(text)
    return gaps.assign(small_groups=notes)


@dataclass(repr=False, frozen=True, kw_only=True)
class EquityTables(Display):
    """The equity tables of one study (:func:`equity_tables`).

    Attributes
    ----------
    deprivation
        :func:`coverage_by_deprivation` per IMD decile.
    quintiles
        :func:`coverage_by_deprivation` per IMD quintile.
    age
        :func:`coverage_by_age`.
    gaps
        :func:`equity_gaps`.
    speeds
        The walking speed of each age band (m/min).
    sources
        Where each band's speed comes from.
    """

    deprivation: pd.DataFrame
    quintiles: pd.DataFrame
    age: pd.DataFrame
    gaps: pd.DataFrame
    speeds: dict[str, float]
    sources: dict[str, str]

    def speeds_note(self) -> str:
        """One line naming each band's speed and its source, for every output."""
        return speeds_note(self.speeds, self.sources)


def speeds_note(speeds: Mapping[str, float], sources: Mapping[str, str]) -> str:
    """One line naming each age band's speed and its source (no table is computed).

    ``speeds`` as :func:`age_speeds` returns them, ``sources`` band → source
    (default :data:`nwm_geo.settings.WALK_SPEED_SOURCES`); :meth:`EquityTables.speeds_note`.
    """
    groups: dict[tuple[float, str], list[str]] = {}
    for band, speed in speeds.items():
        key = (speed, sources.get(band, "as given"))
        groups.setdefault(key, []).append(AGE_LABELS[band])
    parts = [f"{', '.join(b)}: {s:g} m/min ({src})" for (s, src), b in groups.items()]
    return "Walking speed by age band: " + "; ".join(parts) + "."


def equity_tables(
    minutes_df: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    by: str | None = "locality",
    area_name: str = "Luton",
    minutes: float | None = None,
    speeds: Mapping[str, float | None] | None = None,
    bundles: Mapping[str, Sequence[str]] | None = None,
    shortfall: Mapping[str, tuple[int, int]] | None = None,
) -> EquityTables:
    """Compute every equity table once (the pipeline writes them all).

    Parameters
    ----------
    minutes_df, demand, by, area_name, minutes, speeds
        As for :func:`equity_gaps`.
    bundles, shortfall
        For :func:`flag_small_groups` (the gaps carry its ``small_groups`` note).

    Returns
    -------
    EquityTables
    """
    default = resolve_speed(minutes_df.attrs.get("speed_m_per_min"))
    resolved = age_speeds(speeds, default=default)
    with _computed_once():  # the same minutes summed many ways: flags computed once
        deciles, quintiles = (
            coverage_by_deprivation(
                minutes_df,
                demand,
                group=group,
                by=by,
                area_name=area_name,
                minutes=minutes,
                speeds=resolved,
            )
            for group in ("imd_decile", "imd_quintile")
        )
        ages = coverage_by_age(
            minutes_df, demand, by=by, area_name=area_name, minutes=minutes, speeds=resolved
        )
        gaps = equity_gaps(
            minutes_df,
            demand,
            by=by,
            area_name=area_name,
            minutes=minutes,
            speeds=resolved,
            quintiles=quintiles,
            ages=ages,
        )
    gaps = flag_small_groups(gaps, bundles=bundles, shortfall=shortfall)
    sources = {
        b: settings.WALK_SPEED_SOURCES.get(b, "")
        if speeds is None
        else ("default speed" if speeds.get(b) is None else "given by the caller")
        for b in resolved
    }
    return EquityTables(
        deprivation=deciles,
        quintiles=quintiles,
        age=ages,
        gaps=gaps,
        speeds=resolved,
        sources=sources,
    )


def need_by_area(demand: pd.DataFrame, *, by: str = "ward_code") -> pd.DataFrame:
    """Residents in need per area, for balancing localities on need as well as size.

    Parameters
    ----------
    demand
        Demand points with ``population``, ``imd_decile``, ``age_65_plus`` and ``by``.
    by
        The area column (``ward_code``: join the result to the wards and pass a column
        to :func:`nwm_geo.localities.partition` as one of its ``measures``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``by``: ``residents_imd_1_2`` (residents of LSOAs in the two most
        deprived IMD 2019 deciles of England) and ``residents_65_plus``, integers.
    """
    _require(demand, [by, "population", "imd_decile", "age_65_plus"])
    frame = pd.DataFrame(
        {
            "residents_imd_1_2": demand["population"].where(demand["imd_decile"] <= 2, 0),
            "residents_65_plus": demand["age_65_plus"],
        }
    )
    out: pd.DataFrame = frame.groupby(demand[by].to_numpy()).sum().astype(int)
    out.index.name = by
    return out
