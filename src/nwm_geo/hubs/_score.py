"""Walking minutes to each hub candidate, the joint model's table, and hubs per locality.

In: the walk model (:mod:`nwm_geo.coverage`), the demand points, the candidates and a
locality plan. Out: the minutes table (demand points × candidates), the
:class:`~nwm_geo.localities.HubRules` the joint model reads, and one hub per locality:
residents, residents within the threshold, share, population-weighted mean minutes,
ties and runner-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from nwm_geo import coverage
from nwm_geo._checks import checks_crs
from nwm_geo._errors import NwmGeoError
from nwm_geo._units import resolve_minutes, within_minutes
from nwm_geo.localities import HubRules

if TYPE_CHECKING:  # networkx loads where a graph is built or read
    import networkx as nx

__all__ = [
    "HUB_COLUMNS",
    "best_hubs",
    "candidate_minutes",
    "hub_catchments",
    "hub_rules",
    "restrict",
]

#: The columns of ``hubs.csv`` (:func:`best_hubs`), in order; more columns follow them.
HUB_COLUMNS: tuple[str, ...] = (
    "locality",
    "hub_asset_id",
    "hub_name",
    "residents",
    "residents_within",
    "share_pct",
    "mean_minutes",
    "runner_up_asset_id",
    "status",
)


@checks_crs
def candidate_minutes(
    model: coverage.WalkModel,
    candidates: gpd.GeoDataFrame,
    *,
    demand: gpd.GeoDataFrame | None = None,
    graph: nx.MultiDiGraph | None = None,
    speed_m_per_min: float | None = None,
    verbose: bool = False,
) -> pd.DataFrame:
    """Return walking minutes from every hub candidate to every demand point.

    Register candidates are the model's own assets (:func:`nwm_geo.coverage.source_minutes`);
    a new site at a residential postcode is that demand point; a new site at another
    postcode is inserted into the network with ``graph`` and ``demand``
    (:func:`nwm_geo.coverage.prepare`).

    Parameters
    ----------
    model
        The study's walk model (demand points and register assets inserted).
    candidates
        :func:`hub_candidates`.
    demand, graph
        The demand points and the walk network, needed only for new sites at
        non-residential postcodes.
    speed_m_per_min
        Walking speed (default from settings).
    verbose
        Show progress.

    Returns
    -------
    pandas.DataFrame
        Index: the model's demand point ids; one column per ``hub_id``, in the
        candidates' order; NaN where unreachable.

    Raises
    ------
    NwmGeoError
        If a candidate is neither a model asset nor a postcode that can be placed.
    """
    ids = candidates.index
    in_model = [h for h in ids if h in model.asset_ids]
    parts = [
        coverage.source_minutes(
            model, source_ids=in_model, speed_m_per_min=speed_m_per_min, verbose=verbose
        )
    ]
    rest = candidates.loc[[h for h in ids if h not in model.asset_ids]]
    at_point = rest[rest["postcode"].isin(model.point_ids)]
    if len(at_point):
        mins = coverage.source_minutes(
            model,
            sources="points",
            source_ids=at_point["postcode"],
            speed_m_per_min=speed_m_per_min,
        )
        mins.columns = at_point.index
        parts.append(mins)
    other = rest.drop(index=at_point.index)
    if len(other):
        if graph is None or demand is None:
            raise NwmGeoError(
                f"hub candidate(s) {list(other.index)} are not in the walk model; pass graph= "
                "and demand= to insert them"
            )
        sites = other.assign(category=other["category"].astype(str))
        extra = coverage.prepare(graph, demand=demand, assets=sites)
        parts.append(
            coverage.source_minutes(extra, speed_m_per_min=speed_m_per_min).set_axis(
                model.point_ids, axis=0
            )
        )
    out = pd.concat(parts, axis=1)[list(ids)]
    out.columns = pd.Index(ids, name="hub_id")
    return out


def hub_rules(
    minutes_table: pd.DataFrame,
    demand: pd.DataFrame,
    candidates: pd.DataFrame,
    *,
    units: pd.Index,
    minutes: float | None = None,
    speed_m_per_min: float | None = None,
) -> HubRules:
    """Build the joint model's table: residents per unit within the threshold of each candidate.

    Parameters
    ----------
    minutes_table
        :func:`candidate_minutes` (demand points × candidates).
    demand
        Demand points with ``population`` and ``ward_code``, on the table's index.
    candidates
        :func:`hub_candidates` (``ward_code`` is the unit each lies in).
    units
        The unit codes of the plan (the wards' index); candidates in other units are
        dropped.
    minutes, speed_m_per_min
        Threshold and the speed the minutes were computed at (defaults from settings).

    Returns
    -------
    HubRules
    """
    flags = within_minutes(minutes_table, minutes, speed_m_per_min=speed_m_per_min)
    pop = demand["population"].reindex(minutes_table.index).astype(float)
    ward = demand["ward_code"].reindex(minutes_table.index)
    covered = (flags.astype(float).mul(pop, axis=0)).groupby(ward).sum()
    covered = covered.reindex(units, fill_value=0.0).round()
    keep = [h for h in candidates.index if candidates.at[h, "ward_code"] in set(units)]
    population = pop.groupby(ward).sum().reindex(units, fill_value=0.0)
    return HubRules(
        covered=covered[keep],
        unit_of=candidates.loc[keep, "ward_code"],
        population=population,
        minutes=resolve_minutes(minutes),
    )


def weighted_mean_minutes(mins: pd.Series, pop: pd.Series) -> float:
    ok = mins.notna()
    weight = pop[ok]
    return float((mins[ok] * weight).sum() / weight.sum()) if weight.sum() > 0 else float("nan")


def best_hubs(
    rules: HubRules,
    assignment: pd.Series,
    *,
    minutes_table: pd.DataFrame,
    demand: pd.DataFrame,
    candidates: pd.DataFrame,
    status: str | Mapping[str, str] | None = None,
    none_note: str = "no hub candidate in this locality",
) -> pd.DataFrame:
    """Return the best hub of each locality of a fixed plan, with ties and the runner-up.

    The best hub maximises the locality's residents within the threshold of it
    (:meth:`HubRules.coverage`, the same sums the joint model uses); a tie goes to the
    first candidate in ``rules`` order and the others are listed in ``ties``. The
    runner-up is the best candidate that reaches fewer residents.

    Parameters
    ----------
    rules
        :func:`hub_rules` (restrict its columns to score only some candidates).
    assignment
        Index: unit code; values: locality name.
    minutes_table
        :func:`candidate_minutes`, for the mean minutes.
    demand
        Demand points with ``population`` and ``ward_code``.
    candidates
        :func:`hub_candidates`, for the names.
    status
        Text for the ``status`` column (one for all, or per locality); default "best of
        n candidates (exhaustive)".
    none_note
        The status of a locality with no candidate inside.

    Returns
    -------
    pandas.DataFrame
        :data:`HUB_COLUMNS`, then ``hub_category``, ``ties``, ``runner_up_name``,
        ``runner_up_within``, ``n_candidates``, ``unreached_residents`` (residents of the
        locality with no walking route to the hub), one row per locality.
    """
    table = rules.coverage(assignment)
    pop = demand["population"].astype(float)
    loc_of = demand["ward_code"].map(assignment.astype(str))
    rows = []
    for loc in table.index:
        vals = table.loc[loc].dropna()
        residents = float(rules.population[assignment.reindex(rules.population.index) == loc].sum())
        in_loc = loc_of == loc
        row: dict[str, object] = {"locality": loc, "residents": residents}
        if vals.empty:
            row.update(
                hub_asset_id="",
                hub_name="",
                residents_within=0.0,
                share_pct=0.0,
                mean_minutes=np.nan,
                runner_up_asset_id="",
                status=none_note,
                hub_category="",
                ties="",
                runner_up_name="",
                runner_up_within=np.nan,
                n_candidates=0,
                unreached_residents=np.nan,
            )
            rows.append(row)
            continue
        order = sorted(vals.index, key=lambda h: (-vals[h], rules.candidates.get_loc(h)))
        hub = order[0]
        ties = [h for h in order[1:] if vals[h] == vals[hub]]
        lower = [h for h in order if vals[h] < vals[hub]]
        runner = lower[0] if lower else ""
        mins = minutes_table.loc[in_loc, hub]
        if isinstance(status, Mapping):
            text = status.get(str(loc), "")
        else:
            text = status or f"best of {len(vals)} candidate(s) in the locality (exhaustive)"
        row.update(
            hub_asset_id=hub,
            hub_name=str(candidates.at[hub, "name"]),
            residents_within=float(vals[hub]),
            share_pct=100 * float(vals[hub]) / residents if residents else np.nan,
            mean_minutes=weighted_mean_minutes(mins, pop[in_loc]),
            runner_up_asset_id=runner,
            status=text,
            hub_category=str(candidates.at[hub, "category"]),
            ties=", ".join(ties),
            runner_up_name=str(candidates.at[runner, "name"]) if runner else "",
            runner_up_within=float(vals[runner]) if runner else np.nan,
            n_candidates=len(vals),
            unreached_residents=float(pop[in_loc & minutes_table[hub].isna()].sum()),
        )
        rows.append(row)
    extra = [
        "hub_category",
        "ties",
        "runner_up_name",
        "runner_up_within",
        "n_candidates",
        "unreached_residents",
    ]
    return pd.DataFrame(rows, columns=[*HUB_COLUMNS, *extra])


def restrict(rules: HubRules, hub_ids: list[str]) -> HubRules:
    """Return the same table for a subset of the candidates (e.g. the council's named hubs)."""
    keep = [h for h in rules.candidates if h in set(hub_ids)]
    return replace(rules, covered=rules.covered[keep], unit_of=rules.unit_of[keep])


def hub_catchments(
    model: coverage.WalkModel,
    candidates: pd.DataFrame,
    hub_ids: list[str],
    *,
    minutes: float | None = None,
    speed_m_per_min: float | None = None,
) -> gpd.GeoDataFrame:
    """Walk catchments of the chosen hubs (:func:`nwm_geo.coverage.walksheds`).

    Parameters
    ----------
    model
        The study's walk model.
    candidates
        :func:`hub_candidates` (a new site at a residential postcode starts from that
        demand point).
    hub_ids
        The hubs to draw.
    minutes, speed_m_per_min
        Threshold and speed (defaults from settings).

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by hub id, with ``category`` and ``name``; an empty geometry for a new
        site that is not in the walk model.
    """
    ids = list(dict.fromkeys(h for h in hub_ids if h))
    nodes = []
    for h in ids:
        if h in model.asset_ids:
            nodes.append(int(model.asset_nodes[model.asset_ids.get_loc(h)]))
        elif candidates.at[h, "postcode"] in model.point_ids:
            nodes.append(
                int(model.point_nodes[model.point_ids.get_loc(candidates.at[h, "postcode"])])
            )
        else:
            nodes.append(-1)
    sub = replace(
        model,
        asset_ids=pd.Index(ids, name="hub_id"),
        asset_nodes=np.asarray(nodes, dtype=np.int64),
        category=pd.Series(candidates.loc[ids, "category"].astype(str).to_numpy(), index=ids),
        name=pd.Series(candidates.loc[ids, "name"].astype(str).to_numpy(), index=ids),
    )
    return coverage.walksheds(sub, minutes=minutes, speed_m_per_min=speed_m_per_min, by="asset")
