"""Two studies side by side: coverage per locality and ward, and who gains or loses.

In: a baseline :class:`~nwm_geo.pipeline.Study` and a what-if study on the same demand
points and the same locality plan (``Study.with_changes``). Out: :class:`Comparison`:
per locality (and the whole area) and per ward, for every category, bundle and "all
bundles", the population, the baseline and scenario shares, the change in percentage
points and the residents losing and gaining access; and the postcodes that change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from nwm_geo import coverage
from nwm_geo._display import Display
from nwm_geo._errors import NwmGeoError
from nwm_geo.pipeline import Study

__all__ = ["COMPARISON_COLUMNS", "Comparison", "compare"]

#: The columns of the per-locality and per-ward comparisons, after the area columns.
COMPARISON_COLUMNS: tuple[str, ...] = (
    "measure",
    "population",
    "baseline_covered",
    "scenario_covered",
    "baseline_pct",
    "scenario_pct",
    "change_pct_points",
    "residents_losing",
    "residents_gaining",
)


@dataclass(repr=False)
class Comparison(Display):
    """A scenario against its baseline.

    Attributes
    ----------
    localities
        One row per locality (and one for the whole area, named after it) per measure:
        ``locality`` and :data:`COMPARISON_COLUMNS`. Percentages to 0.01.
    wards
        The same per ward: ``ward_code``, ``ward_name``, ``locality``, then the columns.
        Computed on first read, as ``equity``.
    postcodes
        One row per postcode and measure whose access changes: ``postcode``,
        ``ward_code``, ``ward_name``, ``locality``, ``population``, ``measure``,
        ``change`` (``"loses"``/``"gains"``), ``baseline_minutes``,
        ``scenario_minutes``, ``lon``, ``lat``.
    equity
        When the demand points carry the equity columns (``imd_quintile``, the Census
        2021 age bands of :data:`nwm_geo.coverage.AGE_BANDS`): the whole area's residents
        losing and gaining access per group (``group`` such as ``IMD quintile 1 (most
        deprived)``, ``age 0-15`` or ``age 65+``), ``measure``, ``population``,
        ``residents_losing``, ``residents_gaining``; else empty. Computed on first read
        (a batch task reads only ``localities`` and never pays for it).
    area
        The whole area's name (its row in ``localities``).
    measures
        The measures in order (categories, bundles, all bundles).
    """

    localities: pd.DataFrame
    postcodes: pd.DataFrame
    area: str
    measures: list[str]
    #: The demand points and both coverage flags ``wards`` and ``equity`` are made from
    #: (compared as a field: the same inputs give the same tables).
    _split_from: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] = field(repr=False)

    @cached_property
    def wards(self) -> pd.DataFrame:
        """The comparison per ward (see above)."""
        return _table(*self._split_from, ["ward_code", "ward_name", "locality"])

    @cached_property
    def equity(self) -> pd.DataFrame:
        """The whole area's residents losing and gaining access per group (see above)."""
        return _equity(*self._split_from)

    @property
    def changed_measures(self) -> list[str]:
        """The measures for which some residents lose or gain access."""
        t = self.localities
        moved = t.loc[(t["residents_losing"] > 0) | (t["residents_gaining"] > 0), "measure"]
        return [m for m in self.measures if m in set(moved)]

    def _summary(self) -> tuple[str, list[str]]:
        whole = self.localities[self.localities["locality"] == self.area].set_index("measure")
        changed = self.changed_measures
        lines = [
            f"{len(self.measures)} measures; {len(changed)} change; "
            f"{len(self.postcodes):,} postcode rows change",
        ]
        for m in changed[:3]:
            row = whole.loc[m]
            lines.append(
                f"{m}: {row['baseline_pct']:.1f} % -> {row['scenario_pct']:.1f} %, "
                f"{row['residents_losing']:,.0f} losing, {row['residents_gaining']:,.0f} gaining"
            )
        if len(changed) > 3:
            lines.append(f"... and {len(changed) - 3} more (see .localities)")
        return f"Comparison: scenario against baseline in {self.area}", lines


def _flags(study: Study) -> pd.DataFrame:
    return coverage.covered_flags(
        study.minutes_to_nearest,
        minutes=study.minutes,
        bundles=study.bundles,
        speed_m_per_min=study.speed_m_per_min,
    )


def _table(
    demand: pd.DataFrame, base: pd.DataFrame, scen: pd.DataFrame, by: list[str]
) -> pd.DataFrame:
    pop = demand["population"].to_numpy(float)
    b, s = base.to_numpy(bool), scen.to_numpy(bool)
    parts = {
        "baseline_covered": b * pop[:, None],
        "scenario_covered": s * pop[:, None],
        "residents_losing": (b & ~s) * pop[:, None],
        "residents_gaining": (~b & s) * pop[:, None],
    }
    keys = demand[by].astype(str)
    frames = []
    for name, values in parts.items():
        f = pd.DataFrame(values, columns=base.columns, index=demand.index)
        g = f.groupby([keys[c] for c in by], sort=True).sum()
        stacked = pd.Series(g.stack(), name=name)
        frames.append(stacked)
    out = pd.concat(frames, axis=1)
    out.index = out.index.set_names([*by, "measure"])
    out = out.reset_index()
    total = (
        pd.DataFrame({**{c: keys[c] for c in by}, "population": pop})
        .groupby(by, sort=True)["population"]
        .sum()
        .reset_index()
    )
    out = out.merge(total, on=by, how="left")
    denom = out["population"].where(out["population"] > 0)
    out["baseline_pct"] = (out["baseline_covered"] / denom * 100).round(2)
    out["scenario_pct"] = (out["scenario_covered"] / denom * 100).round(2)
    out["change_pct_points"] = (out["scenario_pct"] - out["baseline_pct"]).round(2)
    order = {m: i for i, m in enumerate(base.columns)}
    out["_o"] = out["measure"].map(order)
    out = out.sort_values([*by, "_o"], kind="stable").drop(columns="_o").reset_index(drop=True)
    table: pd.DataFrame = out[[*by, *COMPARISON_COLUMNS]]
    return table


def _equity(demand: pd.DataFrame, base: pd.DataFrame, scen: pd.DataFrame) -> pd.DataFrame:
    """Residents losing and gaining access per IMD quintile and age band (whole area).

    Each figure is :func:`nwm_geo.coverage.group_split` (the one implementation of the
    split; for every measure at once, :func:`~nwm_geo.coverage.group_splits`) of the
    points that lose or gain access to a measure; empty when the demand points carry no
    IMD or age columns.
    """
    columns = ["group", "measure", "population", "residents_losing", "residents_gaining"]
    points = pd.DataFrame(demand.drop(columns="geometry", errors="ignore"))
    b, s = base.to_numpy(bool), scen.to_numpy(bool)
    weights: dict[str, Any] = {"_everyone": np.ones(len(points))}
    for j in range(len(base.columns)):  # every split at once: the columns converted once
        weights[f"_losing_{j}"] = b[:, j] & ~s[:, j]
        weights[f"_gaining_{j}"] = ~b[:, j] & s[:, j]
    splits = coverage.group_splits(points, weights, partial=True)
    population = splits["_everyone"]
    if population.empty:
        return pd.DataFrame(columns=columns)
    prefix = population["group"].map({"imd_quintile": "IMD quintile", "age_band": "age"})
    labels = (prefix + " " + population["label"].astype(str)).to_numpy()
    frames = []
    for j, measure in enumerate(base.columns):
        losing, gaining = splits[f"_losing_{j}"], splits[f"_gaining_{j}"]
        frames.append(
            pd.DataFrame(
                {
                    "group": labels,
                    "measure": measure,
                    "population": population["residents"].to_numpy(),
                    "residents_losing": losing["residents"].to_numpy(),
                    "residents_gaining": gaining["residents"].to_numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)[columns]


def compare(a: Study, b: Study) -> Comparison:
    """Compare a scenario ``b`` with its baseline ``a``: the same tables the CLI writes.

    Parameters
    ----------
    a
        The baseline study.
    b
        The what-if study (``a.with_changes(...)``), on the same demand points and plan.

    Returns
    -------
    Comparison

    Raises
    ------
    NwmGeoError
        If the two studies do not share their demand points and locality plan.
    """
    if not a.demand.index.equals(b.demand.index):
        raise NwmGeoError("compare needs two studies on the same demand points")
    if not a.plan.assignment.sort_index().equals(b.plan.assignment.sort_index()):
        raise NwmGeoError(
            "compare needs two studies on the same locality plan (use a.with_changes(...), "
            "which keeps the baseline's plan)"
        )
    demand = a.demand_with_locality
    base, scen = _flags(a), _flags(b)
    scen = scen.reindex(columns=base.columns, fill_value=False)
    base = base.reindex(demand.index, fill_value=False)
    scen = scen.reindex(demand.index, fill_value=False)
    area = a.profile.name
    per_loc = _table(demand, base, scen, ["locality"])
    whole = _table(demand.assign(locality=area), base, scen, ["locality"])
    localities = pd.concat([per_loc, whole], ignore_index=True)
    # the postcodes that change, with their walking minutes before and after
    lose = base.to_numpy(bool) & ~scen.to_numpy(bool)
    gain = ~base.to_numpy(bool) & scen.to_numpy(bool)
    rows, cols = np.nonzero(lose | gain)
    measures = list(base.columns)
    mins_a = a.minutes_to_nearest.reindex(demand.index)
    mins_b = b.minutes_to_nearest.reindex(demand.index)

    def minutes_of(table: pd.DataFrame) -> np.ndarray:
        out = np.full(len(rows), np.nan)
        for j, m in enumerate(measures):
            if m in table.columns:
                sel = cols == j
                out[sel] = table[m].to_numpy(float)[rows[sel]]
        return np.round(out, 2)

    postcodes = pd.DataFrame(
        {
            "postcode": demand.index[rows].astype(str),
            "ward_code": demand["ward_code"].to_numpy()[rows],
            "ward_name": demand["ward_name"].to_numpy()[rows] if "ward_name" in demand else "",
            "locality": demand["locality"].to_numpy()[rows],
            "population": demand["population"].to_numpy()[rows],
            "measure": np.asarray(measures, dtype=object)[cols],
            "change": np.where(lose[rows, cols], "loses", "gains"),
            "baseline_minutes": minutes_of(mins_a),
            "scenario_minutes": minutes_of(mins_b),
            "lon": demand["lon"].to_numpy()[rows],
            "lat": demand["lat"].to_numpy()[rows],
        }
    )
    order = {m: i for i, m in enumerate(measures)}
    postcodes = postcodes.sort_values(
        ["measure", "change", "postcode"], key=lambda s: s.map(order) if s.name == "measure" else s
    ).reset_index(drop=True)
    return Comparison(
        localities=localities,
        postcodes=postcodes,
        area=area,
        measures=measures,
        _split_from=(demand, base, scen),
    )
