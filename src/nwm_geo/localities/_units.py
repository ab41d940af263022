"""Any council's units from a polygon file, checked for partitioning.

In: a polygon file (GeoJSON, GeoPackage, shapefile), the id column, the population
column and any other columns to balance, and ``k``. Out: a GeoDataFrame indexed by unit
id, in a metric CRS, with ``population`` and the balance columns as numbers, ready for
:func:`~nwm_geo.localities.partition`. Every problem (a missing column, a missing or
non-numeric or negative value, a duplicate id, a missing geometry, an island with no
neighbour, ``k`` larger than the number of units) is reported at once, naming the file,
the row as the user sees it, the column and the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from nwm_geo._checks import checks_crs
from nwm_geo._errors import DataValidationError, Problem
from nwm_geo.localities._instance import ward_adjacency
from nwm_geo.localities._plan import LocalityPlan

__all__ = ["plan_record", "read_units", "within_wording"]


def _numeric(frame: pd.DataFrame, col: str, name: str) -> tuple[pd.Series, list[Problem]]:
    raw = frame[col]
    values = pd.to_numeric(raw, errors="coerce")
    problems = []
    for pos, (orig, val) in enumerate(zip(raw.tolist(), values.tolist(), strict=True), start=1):
        if pd.isna(orig):
            problems.append(Problem(name, pos, col, "", "missing value"))
        elif pd.isna(val):
            problems.append(Problem(name, pos, col, str(orig), "not a number"))
        elif val < 0:
            problems.append(Problem(name, pos, col, str(orig), "negative"))
    return values, problems


def _check_geometry(gdf: gpd.GeoDataFrame, name: str) -> list[Problem]:
    problems = []
    for pos, geom in enumerate(gdf.geometry.tolist(), start=1):
        if geom is None or geom.is_empty:
            problems.append(Problem(name, pos, "geometry", "", "missing geometry"))
        elif geom.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(
                Problem(name, pos, "geometry", geom.geom_type, "not a polygon or multipolygon")
            )
    return problems


def _repair(gdf: gpd.GeoDataFrame, name: str) -> tuple[gpd.GeoDataFrame, list[str], list[Problem]]:
    """Repair invalid polygons (a "bowtie") with ``make_valid``; refuse what stays unusable.

    Returns the frame, one note per repaired feature ("feature 3: self-intersection"),
    and a problem per feature that is not a polygon once repaired.
    """
    invalid = ~gdf.geometry.is_valid & gdf.geometry.notna()
    if not invalid.any():
        return gdf, [], []
    geoms = gdf.geometry.to_numpy().copy()
    notes: list[str] = []
    problems: list[Problem] = []
    for pos in np.flatnonzero(invalid.to_numpy()):
        geom = geoms[pos]
        why = shapely.is_valid_reason(geom)
        fixed = shapely.make_valid(geom)
        if fixed.geom_type == "GeometryCollection":
            parts = [g for g in fixed.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
            fixed = shapely.union_all(parts) if parts else fixed
        if fixed.is_empty or fixed.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(
                Problem(
                    name,
                    int(pos) + 1,
                    "geometry",
                    "",
                    f"invalid polygon ({why}) that "
                    "cannot be repaired into an area; fix it in a GIS",
                )
            )
            continue
        geoms[pos] = fixed
        notes.append(f"feature {int(pos) + 1}: {why}")
    return gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs)), notes, problems


def _degrees_labelled_metres(gdf: gpd.GeoDataFrame, name: str) -> list[Problem]:
    """Refuse a projected CRS whose coordinates all lie within longitude/latitude ranges."""
    if gdf.crs is None or gdf.crs.is_geographic or gdf.geometry.isna().all():
        return []
    x0, y0, x1, y1 = gdf.total_bounds
    if -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90 and (x1 - x0) < 10 and (y1 - y0) < 10:
        return [
            Problem(
                name,
                None,
                None,
                str(gdf.crs.to_string()),
                "the coordinates look like degrees (longitude, latitude) but the file's "
                "coordinate system is in metres: the file is mislabelled; set its CRS "
                "to EPSG:4326 (or reproject it) and try again",
            )
        ]
    return []


def _islands(units: gpd.GeoDataFrame, name: str, id_column: str) -> list[Problem]:
    """Units with no neighbour, and pieces of the map not joined to the largest one."""
    import networkx as nx  # loaded here, not on import

    adj = ward_adjacency(units)
    graph = nx.Graph()
    graph.add_nodes_from(units.index)
    graph.add_edges_from(adj[["ward_a", "ward_b"]].itertuples(index=False))
    pos = {code: i for i, code in enumerate(units.index, start=1)}
    problems = []
    comps = sorted(nx.connected_components(graph), key=len, reverse=True)
    for comp in comps[1:]:
        for code in sorted(comp, key=lambda c: pos[c]):
            reason = (
                "an island: no neighbour shares a boundary with this unit"
                if len(comp) == 1
                else f"cut off from the rest of the map with {len(comp) - 1} other unit(s)"
            )
            problems.append(Problem(name, pos[code], id_column, str(code), reason))
    return problems


def read_units(
    path: str | Path,
    *,
    id_column: str,
    population_column: str,
    balance_columns: Sequence[str] = (),
    k: int | None = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read and check a polygon file of units for :func:`~nwm_geo.localities.partition`.

    Parameters
    ----------
    path
        A GeoJSON, GeoPackage or shapefile of polygons.
    id_column
        The column with each unit's unique id.
    population_column
        The column with each unit's population (becomes ``population``).
    balance_columns
        Other columns to balance (kept under their names).
    k
        The number of localities wanted, checked against the number of units.
    layer
        The layer of a multi-layer file.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by unit id (``ward_code``), ``ward_name`` (the id), ``population`` and
        the balance columns as floats, in the file's metric CRS (a geographic CRS is
        projected to its UTM zone). Invalid polygons (a self-intersecting "bowtie") are
        repaired with ``shapely.make_valid``; ``attrs["repaired"]`` lists them
        ("feature 3: Self-intersection[...]"). Coordinates in degrees in a file that
        says its CRS is in metres are refused as a mislabelled CRS.

    Raises
    ------
    DataValidationError
        Every problem found, each naming the file, row, column and reason.
    """
    name = str(path)
    try:
        gdf = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except Exception as exc:  # fiona/pyogrio raise many kinds of errors
        raise DataValidationError(
            [Problem(name, None, None, "", f"cannot be read as a polygon file ({exc})")]
        ) from exc
    wanted = [id_column, population_column, *balance_columns]
    missing = [c for c in dict.fromkeys(wanted) if c not in gdf.columns]
    problems = [Problem(name, None, c, "", "column not found") for c in missing]
    if population_column in balance_columns:
        problems.append(
            Problem(name, None, population_column, "", "given as population and balance column")
        )
    if gdf.crs is None:
        problems.append(Problem(name, None, None, "", "the file has no coordinate system"))
    if problems:
        raise DataValidationError(problems)
    problems += _check_geometry(gdf, name)
    problems += _degrees_labelled_metres(gdf, name)
    if not problems:
        gdf, repaired, found = _repair(gdf, name)
        problems += found
    else:
        repaired = []
    ids = gdf[id_column]
    for pos, (val, dup) in enumerate(
        zip(ids.tolist(), ids.duplicated(keep="first").tolist(), strict=True), start=1
    ):
        if pd.isna(val) or str(val).strip() == "":
            problems.append(Problem(name, pos, id_column, "", "missing id"))
        elif dup:
            problems.append(Problem(name, pos, id_column, str(val), "duplicate id"))
    columns: dict[str, pd.Series] = {}
    for col, out in [(population_column, "population"), *((c, c) for c in balance_columns)]:
        values, found = _numeric(gdf, col, name)
        problems += found
        columns[out] = values
    if k is not None and k > len(gdf):
        problems.append(
            Problem(name, None, None, str(k), f"k={k} localities but only {len(gdf)} units")
        )
    if problems:
        raise DataValidationError(problems)
    index = pd.Index(ids.astype(str).tolist(), name="ward_code")
    data = {"ward_name": ids.astype(str).tolist()}
    data.update({c: v.to_numpy(dtype=float) for c, v in columns.items()})
    units = gpd.GeoDataFrame(data, geometry=gdf.geometry.to_numpy(), index=index, crs=gdf.crs)
    if units.crs is not None and units.crs.is_geographic:
        units = units.to_crs(units.estimate_utm_crs())
    if len(units) > 1:
        island = _islands(units, name, id_column)
        if island:
            raise DataValidationError(island)
    units.attrs["repaired"] = repaired
    return units


@checks_crs
def within_wording(units: gpd.GeoDataFrame, assignment: pd.Series, measure: str) -> str:
    """LGBCE-style wording: "every locality within ±x % of the average <measure>".

    Parameters
    ----------
    units
        The units, with the ``measure`` column.
    assignment
        Unit code -> locality.
    measure
        The column.

    Returns
    -------
    str
        E.g. ``"every locality within ±2.4 % of the average population"``.
    """
    totals = units[measure].groupby(assignment.reindex(units.index)).sum()
    mean = float(units[measure].sum()) / len(totals)
    worst = float(((totals - mean).abs() / mean).max()) if mean > 0 else 0.0
    return f"every locality within ±{100 * worst:.1f} % of the average {measure}"


@checks_crs
def plan_record(
    plan: LocalityPlan, units: gpd.GeoDataFrame, *, measures: Sequence[str]
) -> dict[str, object]:
    """Return a JSON-ready summary of a plan: status, worst deviation, bound, gap.

    Parameters
    ----------
    plan
        The plan.
    units
        The units it partitions.
    measures
        The balanced columns.

    Returns
    -------
    dict
        ``status``, ``proven_optimal``, ``worst_deviation_pct``, ``lower_bound_pct``,
        ``gap_points`` (percentage points of worst deviation), ``relative_gap``,
        ``boundary_cut_m``, ``runtime_s``, ``method``, ``wording`` (one LGBCE-style
        line per measure) and ``localities`` (per-locality totals).
    """
    per = units[list(measures)].groupby(plan.assignment.reindex(units.index)).sum()
    means = units[list(measures)].sum() / len(per)
    localities = []
    for name, row in per.iterrows():
        rec: dict[str, object] = {
            "locality": str(name),
            "n_units": int((plan.assignment == name).sum()),
        }
        for m in measures:
            rec[m] = float(row[m])
            rec[f"{m}_dev_pct"] = float(100 * (row[m] - means[m]) / means[m]) if means[m] else 0.0
        localities.append(rec)
    return {
        "status": plan.status,
        "proven_optimal": plan.proven_optimal,
        "worst_deviation_pct": 100 * plan.objective,
        "lower_bound_pct": 100 * plan.bound,
        "gap_points": 100 * (plan.objective - plan.bound),
        "relative_gap": plan.gap,
        "boundary_cut_m": plan.boundary_cut_m,
        "runtime_s": plan.runtime_s,
        "method": plan.method,
        "wording": [within_wording(units, plan.assignment, m) for m in measures],
        "localities": localities,
    }
