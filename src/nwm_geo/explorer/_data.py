"""The explorer's data: everything the page needs to recompute a what-if exactly.

In: a study (duck-typed: the attributes of :class:`nwm_geo.pipeline.Study` listed in
:func:`explorer_data`). Out: one JSON-ready dict, inlined into ``explorer.html``.

Exactness. Coverage depends only on the network distance from a demand point to its
nearest open site of a category, tested by :func:`nwm_geo._units.within_minutes` as
``metres / speed <= minutes + TOLERANCE_M / speed``. The page applies the same rule to
the same IEEE doubles, so it needs, for each site, every demand point within the cap
(:data:`MINUTE_CHOICES`' largest threshold at the fastest speed offered) with its exact
network distance in metres (float64). With every point within the cap shipped per site
(not only the nearest few), closing **any** set of sites is exact for every threshold
and speed up to the cap; a point with no open site within the cap is "beyond the cap",
which is not covered at any threshold the page offers.

New sites are limited to the shipped candidates (the requirements' suggested sites and
the hub candidates at new postcodes): each is inserted into the walk model exactly as
``Study.with_changes(add=...)`` inserts it (:func:`nwm_geo.coverage.with_sites`) and its
distances to every point within the cap are shipped.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import Point

from nwm_geo import coverage, data, localities, settings
from nwm_geo._errors import NwmGeoError
from nwm_geo._safe import mask_personal_text
from nwm_geo._units import TOLERANCE_M, resolve_minutes, resolve_speed

__all__ = [
    "EXPLORER_FORMAT",
    "MINUTE_CHOICES",
    "PALETTE",
    "cap_metres",
    "explorer_data",
    "speed_choices",
]

#: The data format version the page reads.
EXPLORER_FORMAT: int = 1

#: The walk thresholds the page offers (minutes).
MINUTE_CHOICES: tuple[float, ...] = (10.0, 15.0, 20.0, 30.0)

#: The page's colours (Okabe and Ito's palette, distinct under the common colour-vision
#: deficiencies): localities, register sites, closed and added sites, candidates, and
#: residents losing and gaining access.
PALETTE: dict[str, Any] = {
    "localities": ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#CC79A7", "#0072B2",
                   "#D55E00", "#999999"],
    "site": "#0072B2",
    "closed": "#D55E00",
    "added": "#009E73",
    "candidate": "#000000",
    "losing": "#D55E00",
    "gaining": "#009E73",
}  # fmt: skip

_CHUNK = 64


def speed_choices(study: Any) -> dict[str, float]:
    """Return the speeds the page offers: the study's and the 65+ speed (m/min)."""
    base = resolve_speed(study.speed_m_per_min)
    older = settings.walk_speed_by_age_m_per_min.get("age_65_plus") or base
    return {"default": base, "65+": float(older)}


def cap_metres(study: Any) -> float:
    """Return the largest walk the page can test: top threshold × fastest speed (metres)."""
    minutes = max([*MINUTE_CHOICES, resolve_minutes(study.minutes)])
    return minutes * max(speed_choices(study).values())


def _text(value: object) -> str:
    """Input text for the page: personal data masked (the page escapes it when shown)."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    masked, _ = mask_personal_text(str(value))
    return masked


def _b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"))
                            .tobytes()).decode("ascii")  # fmt: skip


def _reach(
    graph: Any, sources: np.ndarray, point_nodes: np.ndarray, limit_m: float
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per source node: the demand points within ``limit_m`` and their distances (m)."""
    pts: list[np.ndarray] = []
    metres: list[np.ndarray] = []
    ok = np.flatnonzero(point_nodes >= 0)
    for start in range(0, len(sources), _CHUNK):
        block = sources[start : start + _CHUNK]
        valid = block >= 0
        d = np.full((len(block), len(ok)), np.inf)
        if valid.any():
            full = dijkstra(graph, directed=True, indices=block[valid], limit=limit_m + TOLERANCE_M)
            d[valid] = full[:, point_nodes[ok]]
        for row in d:
            hit = np.flatnonzero(np.isfinite(row) & (row <= limit_m + TOLERANCE_M))
            pts.append(ok[hit].astype(np.int64))
            metres.append(row[hit].astype(np.float64))
    return pts, metres


def _limits(study: Any) -> list[tuple[float, float]]:
    """Every (threshold, speed) pair the page offers: the ones checked to be exact."""
    minutes = sorted({*MINUTE_CHOICES, resolve_minutes(study.minutes)})
    speeds = sorted({*speed_choices(study).values(), resolve_speed(None)})
    return [(m, v) for m in minutes for v in speeds]


def _pack(
    pts: list[np.ndarray],
    metres: list[np.ndarray],
    n_points: int,
    limits: list[tuple[float, float]],
) -> dict[str, Any]:
    """Per-source lists as offsets + typed arrays (base64, little-endian).

    Metres go as float32; ``exact`` lists (entry, float64 metres) wherever the float32
    value would decide a threshold of ``limits`` differently from the exact one, so the
    page's within test equals Python's at every threshold and speed it offers.
    """
    offsets = np.zeros(len(pts) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(p) for p in pts])
    flat_p = np.concatenate(pts) if pts else np.zeros(0, dtype=np.int64)
    flat_m = np.concatenate(metres) if metres else np.zeros(0)
    short = flat_m.astype(np.float32)
    wide = short.astype(np.float64)
    differ = np.zeros(len(flat_m), dtype=bool)
    for minutes, speed in limits:
        limit = minutes + TOLERANCE_M / speed
        differ |= (flat_m / speed <= limit) != (wide / speed <= limit)
    dtype = np.uint16 if n_points < 2**16 else np.uint32
    where = np.flatnonzero(differ)
    return {
        "offsets": offsets.tolist(),
        "point_dtype": "uint16" if dtype is np.uint16 else "uint32",
        "points": _b64(flat_p.astype(dtype)),
        "metres32": _b64(short),
        "exact": [[int(i), float(flat_m[i])] for i in where],
    }


def _ward_geometry(wards: gpd.GeoDataFrame) -> list[Any]:
    """Ward outlines in WGS84, simplified to 5 m, coordinates to 6 decimals."""
    shapes = wards.geometry.simplify(5.0, preserve_topology=True)
    geo = gpd.GeoSeries(shapes, crs=wards.crs).to_crs(settings.wgs84)
    out = []
    for g in geo:
        polys = [g] if g.geom_type == "Polygon" else list(getattr(g, "geoms", []))
        rings = [[[[round(x, 6), round(y, 6)] for x, y in p.exterior.coords]] for p in polys]
        out.append(rings)
    return out


def _wards(study: Any) -> tuple[list[dict[str, Any]], list[list[int]]]:
    wards = study.wards
    assignment = study.plan.assignment.reindex(wards.index).astype(str)
    geoms = _ward_geometry(wards)
    rows = []
    for i, code in enumerate(wards.index):
        rows.append(
            {
                "code": str(code),
                "name": _text(wards.at[code, "ward_name"]) if "ward_name" in wards else str(code),
                "locality": assignment[code],
                "population": float(wards.at[code, "population"]) if "population" in wards else 0.0,
                "assets": int(wards.at[code, "assets"]) if "assets" in wards else 0,
                "geometry": geoms[i],
            }
        )
    adj = localities.ward_adjacency(wards)
    pos = {code: i for i, code in enumerate(wards.index)}
    pairs = [[pos[a], pos[b]] for a, b in zip(adj["ward_a"], adj["ward_b"], strict=True)]
    return rows, pairs


def _points(study: Any, ward_codes: list[str]) -> dict[str, Any]:
    demand = study.demand
    ward_pos = {c: i for i, c in enumerate(ward_codes)}
    out: dict[str, Any] = {
        "id": [str(i) for i in demand.index],
        "ward": [ward_pos.get(str(c), -1) for c in demand["ward_code"]],
        "population": demand["population"].astype(float).tolist(),
        "lon": demand["lon"].astype(float).round(6).tolist(),
        "lat": demand["lat"].astype(float).round(6).tolist(),
    }
    if "imd_quintile" in demand.columns:
        q = pd.to_numeric(demand["imd_quintile"], errors="coerce")
        out["imd_quintile"] = [None if pd.isna(v) else int(v) for v in q]
    if all(b in demand.columns for b in coverage.AGE_BANDS):
        out["age"] = {
            b: pd.to_numeric(demand[b], errors="coerce").fillna(0).astype(float).tolist()
            for b in coverage.AGE_BANDS
        }
    return out


def _sites(study: Any, ward_codes: list[str]) -> list[dict[str, Any]]:
    register, _ = data.publishable(study.register)
    ward_pos = {c: i for i, c in enumerate(ward_codes)}
    wgs = gpd.GeoSeries(study.register.geometry, crs=study.register.crs).to_crs(settings.wgs84)
    rows = []
    for aid in study.register.index:
        r = register.loc[aid]
        g = wgs.loc[aid]
        rows.append(
            {
                "id": str(aid),
                "name": _text(r.get("name", "")),
                "category": str(r["category"]),
                "owner_type": _text(r.get("owner_type", "")),
                "postcode": _text(r.get("postcode", "")),
                "inside_area": bool(r.get("inside_area", True)),
                "ward": ward_pos.get(str(r.get("ward_code", "")), -1),
                "lon": round(float(g.x), 6),
                "lat": round(float(g.y), 6),
            }
        )
    return rows


def _candidate_places(study: Any) -> list[dict[str, Any]]:
    """Return the new-site candidates, each with the location key a scenario file uses.

    The requirements' suggested sites (an existing building by its easting and
    northing, a bare postcode by its postcode), the hub candidates at new postcodes,
    then one residential postcode per ward (the demand point nearest the ward's centre).
    """
    out: dict[str, dict[str, Any]] = {}
    register = study.register

    def put(key: dict[str, Any], label: str, why: str) -> None:
        ident = json.dumps(key, sort_keys=True)
        if ident not in out:
            out[ident] = {"key": key, "label": _text(label), "why": why}

    new_sites = getattr(study.outline, "new_sites", None)
    if new_sites is not None and len(new_sites):
        for _, r in new_sites.iterrows():
            src = str(r.get("source_id", ""))
            why = f"suggested site ({r.get('measure', '')})"
            if src in register.index:
                g = register.geometry.loc[src]
                put({"easting": float(g.x), "northing": float(g.y)}, str(r.get("name", src)), why)
            elif src in study.postcodes.index:
                put({"postcode": src}, src, why)
    hc = study.hub_candidates
    for hid in hc.index:
        pc = hc.at[hid, "postcode"] if "postcode" in hc.columns else None
        if hid not in register.index and isinstance(pc, str) and pc in study.postcodes.index:
            put({"postcode": pc}, pc, "hub candidate (new site)")
    demand = study.demand
    codes = demand["ward_code"]
    rows_of = codes.groupby(codes.to_numpy(), sort=False).indices  # each ward's rows, in order
    for code, shape in study.wards.geometry.items():
        at = rows_of.get(code)
        if at is None:
            continue
        centre = shape.representative_point()
        pc = str(demand.geometry.iloc[at].distance(centre).idxmin())
        if pc in study.postcodes.index:
            put({"postcode": pc}, pc, "central residential postcode of the ward")
    return list(out.values())


def _candidate_geometry(study: Any, key: Mapping[str, Any]) -> Any:
    if "postcode" in key:
        return study.postcodes.geometry.loc[key["postcode"]]
    return Point(float(key["easting"]), float(key["northing"]))


def _candidates(
    study: Any, ward_codes: list[str], limit_m: float
) -> tuple[list[dict[str, Any]], list[np.ndarray], list[np.ndarray]]:
    model = study.model
    wards = study.wards
    ward_pos = {c: i for i, c in enumerate(ward_codes)}
    rows: list[dict[str, Any]] = []
    pts: list[np.ndarray] = []
    metres: list[np.ndarray] = []
    kept: list[Any] = []
    shapes = wards.geometry.to_numpy()
    with coverage.reuse_snap_index():  # one new site at a time, on the same network
        for k, place in enumerate(_candidate_places(study)):
            geom = _candidate_geometry(study, place["key"])
            site = gpd.GeoDataFrame(
                {"category": ["candidate"], "name": [place["label"]]},
                geometry=[geom],
                crs=settings.crs,
                index=pd.Index([f"explorer-candidate-{k}"], name="asset_id"),
            )
            try:  # inserted exactly as Study.with_changes(add=...) inserts a new site
                changed = coverage.with_sites(model, add=site)
            except NwmGeoError:  # a place that cannot be put on the walk network is left out
                continue
            p, m = _reach(changed.graph, changed.asset_nodes[-1:], changed.point_nodes, limit_m)
            hit = wards.index[shapely.contains(shapes, geom)]
            rows.append({**place, "ward": ward_pos.get(str(hit[0]), -1) if len(hit) else -1})
            kept.append(geom)
            pts += p
            metres += m
    # every kept place to longitude and latitude at once (point by point, the same figures)
    wgs = gpd.GeoSeries(kept, crs=settings.crs).to_crs(settings.wgs84)
    for row, x, y in zip(rows, wgs.x, wgs.y, strict=True):
        row["lon"], row["lat"] = round(float(x), 6), round(float(y), 6)
    return rows, pts, metres


def _hubs(study: Any, site_ids: list[str], candidates: list[dict[str, Any]]) -> list[Any]:
    """Hub candidates as references to a site (``s``) or a new-site candidate (``c``)."""
    hc = study.hub_candidates
    site_pos = {s: i for i, s in enumerate(site_ids)}
    cand_pos = {c["key"].get("postcode"): i for i, c in enumerate(candidates)}
    out: list[Any] = []
    for hid in hc.index:
        name = _text(hc.at[hid, "name"]) if "name" in hc.columns else str(hid)
        if hid in site_pos:
            out.append({"id": str(hid), "name": name, "site": site_pos[hid]})
        elif str(hc.at[hid, "postcode"]) in cand_pos:
            out.append(
                {"id": str(hid), "name": name, "candidate": cand_pos[str(hc.at[hid, "postcode"])]}
            )
    return out


def _settings(study: Any) -> dict[str, Any]:
    return {
        "minutes": resolve_minutes(study.minutes),
        "speed_m_per_min": resolve_speed(study.speed_m_per_min),
        "minute_choices": list(MINUTE_CHOICES),
        "speeds": speed_choices(study),
        "cap_m": cap_metres(study),
        "tolerance_m": TOLERANCE_M,
    }


def explorer_data(study: Any) -> dict[str, Any]:
    """Return everything the explorer page needs, as a JSON-ready dict.

    Parameters
    ----------
    study
        A :class:`nwm_geo.pipeline.Study` (its ``profile``, ``minutes``,
        ``speed_m_per_min``, ``categories``, ``bundles``, ``wards``, ``plan``,
        ``demand``, ``register``, ``postcodes``, ``model``, ``outline``,
        ``hub_candidates`` and ``network_label`` are read).

    Returns
    -------
    dict
        ``format``, ``area``, ``settings`` (minutes, speed, the choices, the cap),
        ``categories``, ``bundles``, ``all_bundles`` (the label), ``wards`` (code,
        name, locality, assets, outline), ``adjacency`` (pairs of ward positions),
        ``localities``, ``points`` (id, ward, population, lon, lat, IMD quintile, age
        bands), ``sites`` (the register as published), ``reach`` (per site, the points
        within the cap and their metres), ``candidates`` with ``candidate_reach``,
        ``hubs``, ``notes`` (network, sources and licences).
    """
    limit_m = cap_metres(study)
    limits = _limits(study)
    wards, adjacency = _wards(study)
    ward_codes = [w["code"] for w in wards]
    points = _points(study, ward_codes)
    sites = _sites(study, ward_codes)
    model = study.model
    order = model.asset_ids.get_indexer(study.register.index)
    nodes = np.where(order >= 0, model.asset_nodes[np.maximum(order, 0)], -1)
    n_points = len(points["id"])
    point_nodes = model.point_nodes
    p, m = _reach(model.graph, nodes, point_nodes, limit_m)
    cands, cp, cm = _candidates(study, ward_codes, limit_m)
    bundles: Mapping[str, Sequence[str]] = study.bundles
    network_label = str(study.network_label)
    return {
        "format": EXPLORER_FORMAT,
        "area": _text(study.profile.name),
        "output_subdir": str(study.profile.output_subdir),
        "settings": _settings(study),
        "categories": [str(c) for c in study.categories],
        "bundles": {str(k): [str(c) for c in v] for k, v in bundles.items()},
        "all_bundles": coverage.all_bundles_label(bundles),
        "wards": wards,
        "adjacency": adjacency,
        "localities": sorted({w["locality"] for w in wards}),
        "points": points,
        "sites": sites,
        "reach": _pack(p, m, n_points, limits),
        "candidates": cands,
        "candidate_reach": _pack(cp, cm, n_points, limits),
        "hubs": _hubs(study, [s["id"] for s in sites], cands),
        "palette": PALETTE,
        "notes": {
            "network": _text(network_label),
            "attribution": settings.attribution,
            "plan": _text(getattr(study, "plan_source_text", "")),
        },
    }
