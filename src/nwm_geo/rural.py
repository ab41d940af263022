"""Rural honesty: where the walk to the locality hub is long, say so and show distances.

In: walking minutes from every demand point to every hub candidate
(``hubs.candidate_minutes``, ``Study.hub_minutes``), the chosen hub of each locality
(``Study.hubs``), and demand points with ``population`` and ``locality``.
Out: :func:`hub_walks`, per locality and for the whole area, the residents' median walk
to their locality's hub (minutes and km, population-weighted), their median walk to
the nearest site of every bundle (the walk to "most services"), and the residents in
each distance band to the hub (:data:`DISTANCE_BANDS_KM`). A locality is ``rural`` when
both medians are over :data:`RURAL_MEDIAN_MINUTES`: the hub alone is not enough, since
one hub per 40,000 residents is over 20 minutes from most of them in a town too (three
of Luton's five localities), while Luton's residents have every bundle a median 10-18
minutes away and Rutland's 34. :func:`rural_notes` gives the sentences every output
prints for such an area: walking is not the main mode there, and the 15-minute figures
must not be read as "a 15-minute walk from" anything.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from nwm_geo._units import resolve_speed

__all__ = [
    "DISTANCE_BANDS_KM",
    "RURAL_MEDIAN_MINUTES",
    "hub_walks",
    "rural_notes",
    "study_hub_walks",
]

#: A locality whose residents' median walk to its hub is over this is rural.
RURAL_MEDIAN_MINUTES: float = 20.0

#: Walking distance bands to the hub, in km (the last is open-ended).
DISTANCE_BANDS_KM: tuple[float, ...] = (0.0, 1.2, 2.4, 5.0, 10.0)


def _band_labels(bands: Sequence[float]) -> list[str]:
    labels = [f"{a:g}-{b:g} km" for a, b in itertools.pairwise(bands)]
    return [*labels, f"over {bands[-1]:g} km", "not reached"]


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    ok = np.isfinite(values) & (weights > 0)
    if not ok.any():
        return float("nan")
    v, w = values[ok], weights[ok]
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cum = np.cumsum(w)
    return float(v[np.searchsorted(cum, cum[-1] / 2)])


def hub_walks(
    hub_minutes: pd.DataFrame,
    hubs: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    service_minutes: pd.Series,
    area_name: str,
    speed_m_per_min: float | None = None,
) -> pd.DataFrame:
    """Return each locality's median walk to its hub and its residents by distance band.

    Parameters
    ----------
    hub_minutes
        Demand points × hub candidates: walking minutes (NaN where unreachable).
    hubs
        One row per locality: ``locality``, ``hub_asset_id``.
    demand
        Demand points with ``population`` and ``locality``, on ``hub_minutes``' index.
    service_minutes
        Per demand point, the walk to the nearest site of every bundle (the "all three
        bundles" time: the largest of the bundles' nearest times; NaN if one is missing).
    area_name
        The name of the whole-area row.
    speed_m_per_min
        The speed the minutes were computed at (default: the setting).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``locality`` (then the area): ``hub_asset_id``, ``residents``,
        ``median_minutes``, ``median_km`` (to the hub), ``median_service_minutes`` (to
        every bundle), ``rural`` (both medians over :data:`RURAL_MEDIAN_MINUTES`), and one
        column of residents per band of :data:`DISTANCE_BANDS_KM` plus ``not reached``.
    """
    speed = resolve_speed(speed_m_per_min)
    hub_of = dict(zip(hubs["locality"].astype(str), hubs["hub_asset_id"], strict=True))
    pop = pd.to_numeric(demand["population"]).reindex(hub_minutes.index).fillna(0).to_numpy()
    loc = demand["locality"].astype(str).reindex(hub_minutes.index).to_numpy()
    mins = np.full(len(hub_minutes), np.nan)
    for name, hub in hub_of.items():
        if hub in hub_minutes.columns:
            sel = loc == name
            mins[sel] = pd.to_numeric(hub_minutes.loc[sel, hub]).to_numpy(dtype=float)
    km = mins * speed / 1000
    service = pd.to_numeric(service_minutes.reindex(hub_minutes.index)).to_numpy(dtype=float)
    service = np.where(np.isnan(service), np.inf, service)  # no site at all: not near
    labels = _band_labels(DISTANCE_BANDS_KM)
    edges = [*DISTANCE_BANDS_KM, np.inf]
    band = np.full(len(km), len(labels) - 1)
    for i, (a, b) in enumerate(itertools.pairwise(edges)):
        band[np.isfinite(km) & (km > a if i else km >= a) & (km <= b)] = i
    rows = {}
    scopes = [(name, loc == name) for name in hub_of] + [(area_name, np.ones(len(loc), bool))]
    for name, sel in scopes:
        med = _weighted_median(mins[sel], pop[sel])
        med_service = _weighted_median(np.minimum(service[sel], 1e9), pop[sel])
        row: dict[str, Any] = {
            "hub_asset_id": hub_of.get(name, ""),
            "residents": float(pop[sel].sum()),
            "median_minutes": med,
            "median_km": med * speed / 1000,
            "median_service_minutes": med_service,
            "rural": bool(
                np.isfinite(med)
                and med > RURAL_MEDIAN_MINUTES
                and med_service > RURAL_MEDIAN_MINUTES
            ),
        }
        for i, label in enumerate(labels):
            row[label] = float(pop[sel & (band == i)].sum())
        rows[name] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "locality"
    return out


def rural_notes(walks: pd.DataFrame, *, area_name: str, minutes: float = 15.0) -> list[str]:
    """Return the sentences an output prints when some localities are rural (else none).

    Parameters
    ----------
    walks
        :func:`hub_walks`.
    area_name
        The whole-area row's name.
    minutes
        The walk threshold of the figures, for the wording.
    """
    flagged = walks["rural"].astype(bool)
    rural = walks[flagged & (walks.index != area_name)]
    if rural.empty and not flagged.get(area_name, False):
        return []
    labels = [c for c in walks.columns if c.endswith(" km") or c == "not reached"]
    parts = []
    for name, r in rural.iterrows():
        bands = ", ".join(
            f"{100 * r[c] / r['residents']:.0f} % {c}" for c in labels if r["residents"] > 0
        )
        parts.append(
            f"{name}: median walk {r['median_service_minutes']:.0f} minutes to every bundle "
            f"and {r['median_minutes']:.0f} minutes ({r['median_km']:.1f} km) to its hub; "
            f"residents by walking distance to the hub: {bands}"
        )
    area = walks.loc[area_name] if area_name in walks.index else None
    whole = (
        f" Across {area_name} the median resident walks {area['median_service_minutes']:.0f} "
        f"minutes to reach every bundle and {area['median_minutes']:.0f} minutes "
        f"({area['median_km']:.1f} km) to the locality hub."
        if area is not None
        else ""
    )
    return [
        f"Walking is not the main way to reach services in {len(rural)} of "
        f"{len(walks) - 1} localities of {area_name}: there the residents' median walk both "
        f"to every bundle and to the locality's hub is over {RURAL_MEDIAN_MINUTES:g} minutes."
        + whole
        + f" The {minutes:g}-minute figures count the residents who happen to live near a "
        "site (mostly in the towns); they do not mean that the villages are a "
        f"{minutes:g}-minute walk from anything. Read them with the distances"
        + (": " + "; ".join(parts) if parts else "")
        + ".",
    ]


class _StudyLike(Protocol):
    @property
    def hub_minutes(self) -> pd.DataFrame: ...
    @property
    def minutes_to_nearest(self) -> pd.DataFrame: ...
    @property
    def bundles(self) -> dict[str, tuple[str, ...]]: ...
    @property
    def hubs(self) -> pd.DataFrame: ...
    @property
    def demand_with_locality(self) -> pd.DataFrame: ...
    @property
    def profile(self) -> Any: ...

    speed_m_per_min: float | None


def study_hub_walks(study: _StudyLike) -> pd.DataFrame:
    """Return :func:`hub_walks` for a study (:class:`nwm_geo.pipeline.Study`)."""
    bundles = [b for b in study.bundles if b in study.minutes_to_nearest.columns]
    return hub_walks(
        study.hub_minutes,
        study.hubs,
        study.demand_with_locality,
        service_minutes=study.minutes_to_nearest[bundles].max(axis=1, skipna=False),
        area_name=study.profile.name,
        speed_m_per_min=study.speed_m_per_min,
    )
