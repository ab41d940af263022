"""Population: residential demand points from Code-Point postcodes and the Census.

In: Code-Point Open postcodes, LSOA 2021 boundaries with Census 2021 totals and broad
age bands, OA 2011 boundaries with Census 2011 totals, LSOA 2011 boundaries with IMD 2019
(:func:`nwm_geo.data.load_imd`). Out: one demand point per postcode of the area,
carrying an integer share of its LSOA's 2021 population, split by age band, and the
deprivation of the LSOA 2011 it lies in. :func:`build_demand_points` is the pure
function; :attr:`nwm_geo.data.AreaData.population` builds them from an area's bundle.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from nwm_geo import settings
from nwm_geo._checks import checks_crs
from nwm_geo._errors import NwmGeoError
from nwm_geo.data.boundaries import AGE_BANDS
from nwm_geo.data.deprivation import IMD_COLUMNS

__all__ = [
    "DEMAND_COLUMNS",
    "GROUP_COLUMNS",
    "build_demand_points",
    "largest_remainder",
    "split_by_bands",
    "ward_population",
]

#: Columns of :func:`build_demand_points`, in order (the index is ``point_id``).
DEMAND_COLUMNS: tuple[str, ...] = (
    "postcode",
    "lsoa_code",
    "oa11_code",
    "ward_code",
    "ward_name",
    "population",
    "weight",
    "weight_source",
    "lon",
    "lat",
    "geometry",
)

#: The group columns :func:`build_demand_points` adds after :data:`DEMAND_COLUMNS`: the
#: deprivation of the point's LSOA 2011 (:data:`nwm_geo.data.IMD_COLUMNS`) and its
#: residents per Census 2021 broad age band (:data:`nwm_geo.data.AGE_BANDS`).
GROUP_COLUMNS: tuple[str, ...] = (*IMD_COLUMNS, *AGE_BANDS)


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split an integer total in proportion to weights (Hamilton's method).

    Each share gets the floor of its quota; the units left over go to the largest
    fractional parts, ties going to the earlier position.

    Parameters
    ----------
    total
        The non-negative integer to split.
    weights
        Non-negative weights, at least one positive (if all are zero, equal weights).

    Returns
    -------
    numpy.ndarray
        Integers that sum to ``total`` exactly.
    """
    w = np.asarray(weights, dtype=float)
    if len(w) == 0:
        raise NwmGeoError("cannot split a population over zero points")
    if total < 0 or (w < 0).any() or not np.isfinite(w).all():
        raise NwmGeoError(
            "largest_remainder needs a non-negative total and finite non-negative weights"
        )
    if w.sum() <= 0:
        w = np.ones_like(w)
    quota = total * w / w.sum()
    base: np.ndarray = np.floor(quota).astype(np.int64)
    left = int(total - base.sum())
    if left > 0:
        order = np.lexsort((np.arange(len(w)), -(quota - base)))
        base[order[:left]] += 1
    return base


def split_by_bands(point_totals: np.ndarray, band_totals: np.ndarray) -> np.ndarray:
    """Split one area's people over points × bands, exact on both margins.

    Sequential largest remainder: band after band, the band's total is split over the
    points by Hamilton's method (:func:`largest_remainder`) in proportion to each
    point's residents not yet placed in a band; the last band takes every resident
    left. A point's share of a band is therefore never more than it has left, every
    column sums to its band total and every row to its point total, exactly. The first
    band is the proportional split itself; each later cell is within one person of the
    proportional split of what is left.

    Parameters
    ----------
    point_totals
        Non-negative integer residents per point (one area, e.g. an LSOA).
    band_totals
        Non-negative integer residents per band, with the same sum.

    Returns
    -------
    numpy.ndarray
        Integers, shape (points, bands).

    Raises
    ------
    NwmGeoError
        If the totals are negative or their sums differ.
    """
    rows = np.asarray(point_totals, dtype=np.int64)
    cols = np.asarray(band_totals, dtype=np.int64)
    if (rows < 0).any() or (cols < 0).any() or rows.sum() != cols.sum():
        raise NwmGeoError(
            f"cannot split {int(rows.sum())} residents of the points into bands that "
            f"total {int(cols.sum())}: the totals must be non-negative and equal"
        )
    out = np.zeros((len(rows), len(cols)), dtype=np.int64)
    left = rows.copy()
    for j, total in enumerate(cols):
        if j == len(cols) - 1:
            out[:, j] = left
            break
        if total == 0:
            continue
        out[:, j] = largest_remainder(int(total), left.astype(float))
        left -= out[:, j]
    return out


def _spread_bands(points: pd.DataFrame, lsoas: pd.DataFrame) -> pd.DataFrame:
    """Residents per age band at each point, from its LSOA's band totals."""
    sums = lsoas[list(AGE_BANDS)].sum(axis=1)
    bad = lsoas.index[(sums != lsoas["population"]).to_numpy()]
    if len(bad):
        shown = ", ".join(
            f"{code} ({int(sums[code])} in bands, total {int(lsoas.loc[code, 'population'])})"
            for code in bad[:10]
        )
        raise NwmGeoError(
            f"{len(bad)} LSOA(s) have Census 2021 age bands that do not add up to their "
            f"total: {shown}"
        )
    groups = points.groupby("lsoa_code", sort=False).indices  # positions; no LSOA: in none
    # an LSOA code the census does not know raises KeyError, as looking up its bands did
    band_totals = lsoas.loc[list(groups), list(AGE_BANDS)].to_numpy(dtype=np.int64)
    pop = points["population"].to_numpy()
    out = np.zeros((len(points), len(AGE_BANDS)), dtype=np.int64)
    placed = np.zeros(len(points), dtype=bool)
    for totals, at in zip(band_totals, groups.values(), strict=True):
        out[at] = split_by_bands(pop[at], totals)
        placed[at] = True
    table = pd.DataFrame(out, index=points.index, columns=list(AGE_BANDS))
    if not placed.all():  # a point in no LSOA has no bands
        table = table.astype(float)
        table.iloc[~placed] = np.nan
    return table


def _attach_deprivation(points: gpd.GeoDataFrame, imd: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return the IMD columns of the LSOA 2011 each point lies in (else the nearest)."""
    polys = imd[["geometry"]].to_crs(points.crs).reset_index(names="lsoa11_code")
    left = gpd.GeoDataFrame(geometry=points.geometry.values, index=points.index, crs=points.crs)
    joined = left.sjoin(polys, how="left", predicate="intersects")
    code = joined[~joined.index.duplicated(keep="first")]["lsoa11_code"].reindex(points.index)
    lost = code.isna()
    if lost.any():  # generalised boundaries leave slivers: take the nearest LSOA 2011
        near = left[lost.to_numpy()].sjoin_nearest(polys, how="left")
        near = near[~near.index.duplicated(keep="first")]
        code[lost] = near["lsoa11_code"].reindex(code.index[lost]).to_numpy()
    values = imd.drop(columns="geometry").reindex(code.to_numpy())
    values.index = points.index
    values.insert(0, "lsoa11_code", code.astype(str))
    out: pd.DataFrame = values[list(IMD_COLUMNS)]
    return out


@checks_crs
def build_demand_points(
    postcodes: gpd.GeoDataFrame,
    lsoas: gpd.GeoDataFrame,
    oas: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
    *,
    imd: gpd.GeoDataFrame | None = None,
    verbose: bool = False,
) -> gpd.GeoDataFrame:
    """Build residential demand points: the area's postcodes carrying Census 2021 population.

    Notes
    -----
    1. Points: the Code-Point Open postcodes whose ``admin_district_code`` is the area's
       (``in_borough``; Luton E06000032). Each is placed in a 2021 LSOA and a 2011
       OA by point in polygon. Postcodes outside every LSOA polygon are not demand
       points (their LSOA's people are spread over the postcodes that are inside it).
    2. Weight: the Census 2011 population of the postcode's OA divided by the number of
       area postcodes in that OA (``weight_source == "oa2011"``). A postcode with no
       OA information (not in an OA, or its OA has no population) gets the mean weight
       of the other postcodes of its LSOA, or 1 if none has one (equal weights,
       ``weight_source == "lsoa mean"`` / ``"equal"``).
    3. Population: each LSOA's Census 2021 total is split over its postcodes in
       proportion to the weights and integerised by largest remainder, so every LSOA
       sums to its Census 2021 total exactly and the borough to the Census total
       (Luton 225,239; Rutland 41,043).
    4. An LSOA with no postcode inside gets one point at its representative point (a
       point guaranteed inside the polygon), ``point_id = "<lsoa_code>:centre"``, an
       empty ``postcode`` and ``weight_source == "lsoa point"``, carrying the whole
       LSOA total. Nobody is dropped.
    5. Age bands (when ``lsoas`` carries all of :data:`~nwm_geo.data.AGE_BANDS`): each
       point's residents are split over the LSOA's Census 2021 band totals by
       :func:`split_by_bands` (sequential largest remainder), so the bands add up
       exactly to the point's ``population`` and, over the LSOA's points, to the
       LSOA's band totals. Every point of an LSOA gets the same age mix, up to rounding.
    6. Deprivation (when ``imd`` is given): the IMD 2019 rank, decile, quintile and
       domain deciles of the LSOA 2011 polygon the point lies in (``lsoa11_code``); a
       point in no LSOA 2011 polygon (a sliver of the generalised boundaries) takes the
       nearest one.

    Ward: the postcode's Code-Point ward (the ONS assignment, current pattern); for a
    representative point, the ward polygon that contains it.

    Parameters
    ----------
    postcodes
        :func:`~nwm_geo.data.load_postcodes` (``in_borough`` marks the area's own).
    lsoas
        :func:`~nwm_geo.data.load_lsoas` for 2021, with ``population``.
    oas
        :func:`~nwm_geo.data.load_oas`, with ``population_2011``.
    wards
        :func:`~nwm_geo.data.load_wards` in the current pattern.
    imd
        :func:`~nwm_geo.data.load_imd`: LSOA 2011 polygons with IMD 2019.
    verbose
        Show a progress bar over the LSOAs.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``point_id`` (the postcode), with the columns of
        :data:`DEMAND_COLUMNS`, then the IMD columns (with ``imd``) and the age bands
        (when ``lsoas`` has them), in :data:`GROUP_COLUMNS` order; ``population`` and
        the groups are int, ``weight`` the raw weight.
    """
    pts = postcodes[postcodes["in_borough"]].copy()
    pts = pts.to_crs(lsoas.crs)
    pts.index.name = "postcode"

    def locate(points: gpd.GeoDataFrame, polys: gpd.GeoDataFrame, name: str) -> pd.Series:
        left = gpd.GeoDataFrame(geometry=points.geometry.values, index=points.index, crs=points.crs)
        right = gpd.GeoDataFrame(
            geometry=polys.geometry.values, index=polys.index.rename(name), crs=polys.crs
        )
        joined = left.sjoin(right.reset_index(), how="left", predicate="intersects")
        joined = joined[~joined.index.duplicated(keep="first")]
        out: pd.Series = joined[name].reindex(points.index)
        return out

    pts["lsoa_code"] = locate(pts, lsoas, "lsoa_code")
    pts["oa11_code"] = locate(pts, oas, "oa11_code")
    pts = pts[pts["lsoa_code"].notna()].copy()

    per_oa = pts.groupby("oa11_code").size()
    oa_pop = oas["population_2011"]
    weight = pts["oa11_code"].map(oa_pop).astype(float) / pts["oa11_code"].map(per_oa).astype(float)
    pts["weight"] = weight
    pts["weight_source"] = np.where(weight.notna() & (weight > 0), "oa2011", "")

    # each LSOA's points appended column by column, one frame made at the end (not a
    # frame per LSOA and a concat): the same rows, values and column dtypes
    names = ("point_id", "postcode", "lsoa_code", "oa11_code", "ward_code", "ward_name")
    parts: dict[str, list[Any]] = {c: [] for c in (*names, "weight_source", "geometry")}
    counts: list[np.ndarray] = []
    used: list[np.ndarray] = []
    # each LSOA's postcodes in postcode order, found once by grouping (not one mask and
    # one frame per LSOA); the columns are read as arrays
    ordered = pts.sort_index()
    at = ordered.groupby("lsoa_code", sort=False).indices
    col = {
        c: ordered[c].to_numpy(dtype=object)
        for c in ("weight_source", "oa11_code", "ward_code", "ward_name")
    }
    weights = ordered["weight"].to_numpy(dtype=float)
    ids, geoms = ordered.index.to_numpy(), ordered.geometry.to_numpy()
    iterator = tqdm(lsoas.itertuples(), total=len(lsoas), desc="LSOAs", disable=not verbose)
    for lsoa in iterator:
        code = str(lsoa.Index)
        total = int(lsoa.population)
        pos = at.get(code)
        if pos is None:
            rep = lsoa.geometry.representative_point()
            ward = wards[wards.contains(rep)]
            values: dict[str, Any] = {
                "point_id": [f"{code}:centre"],
                "postcode": [""],
                "lsoa_code": [code],
                "oa11_code": [None],
                "ward_code": [ward.index[0] if len(ward) else None],
                "ward_name": [ward["ward_name"].iloc[0] if len(ward) else None],
                "weight_source": ["lsoa point"],
                "geometry": [rep],
            }
            counts.append(np.asarray([total], dtype=np.int64))
            used.append(np.asarray([1.0]))
        else:
            w = weights[pos]
            source = col["weight_source"][pos]
            known = np.isfinite(w) & (w > 0)
            if not known.all():
                fill = float(w[known].mean()) if known.any() else 1.0
                source = np.where(known, source, "lsoa mean" if known.any() else "equal")
                w = np.where(known, w, fill)
            values = {
                "point_id": ids[pos],
                "postcode": ids[pos],
                "lsoa_code": [code] * len(pos),
                "oa11_code": col["oa11_code"][pos],
                "ward_code": col["ward_code"][pos],
                "ward_name": col["ward_name"][pos],
                "weight_source": source,
                "geometry": geoms[pos],
            }
            counts.append(largest_remainder(total, w))
            used.append(np.asarray(w, dtype=float))
        for c, v in values.items():
            parts[c].append(np.asarray(v, dtype=object))
    frame = pd.DataFrame(
        {
            **{c: np.concatenate(parts[c]) for c in names},
            "population": np.concatenate(counts),
            "weight": np.concatenate(used),
            "weight_source": np.concatenate(parts["weight_source"]),
            "geometry": np.concatenate(parts["geometry"]),
        }
    )
    out = gpd.GeoDataFrame(frame, geometry="geometry", crs=lsoas.crs).set_index("point_id")
    lonlat = out.geometry.to_crs(settings.wgs84)
    out["lon"] = lonlat.x.round(6)
    out["lat"] = lonlat.y.round(6)
    out["population"] = out["population"].astype(int)
    out["weight"] = out["weight"].astype(float)
    check = out.groupby("lsoa_code")["population"].sum().reindex(lsoas.index).fillna(0)
    if not (check.astype(int) == lsoas["population"].astype(int)).all():  # pragma: no cover
        raise NwmGeoError("demand points do not reproduce the LSOA totals; this is a bug")
    extra: list[pd.DataFrame] = []
    if imd is not None:
        extra.append(_attach_deprivation(out, imd))
    if all(band in lsoas.columns for band in AGE_BANDS):
        extra.append(_spread_bands(out, lsoas))
    return pd.concat([out[list(DEMAND_COLUMNS)], *extra], axis=1)


@checks_crs
def ward_population(points: gpd.GeoDataFrame) -> pd.Series:
    """Sum the demand-point population by ward.

    Parameters
    ----------
    points
        Demand points with ``ward_code`` and ``population``, such as from
        :attr:`nwm_geo.data.AreaData.population`.

    Returns
    -------
    pandas.Series
        Integer population indexed by ``ward_code``, sorted by code.
    """
    out: pd.Series = (
        points.groupby("ward_code")["population"]
        .sum()
        .astype(int)
        .sort_index()
        .rename("population")
    )
    return out
