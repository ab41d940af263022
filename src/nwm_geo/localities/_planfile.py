"""A locality plan as a file and a decision: read, check, fingerprint and compare plans.

In: a plan file (CSV or GeoJSON with ``ward_code`` and ``locality`` columns) or a
``ward_code -> locality`` Series, and the wards (as for :func:`partition`).
Out: a :class:`~nwm_geo.localities.LocalityPlan` that keeps the file's names and is
never re-solved (:func:`read_plan`, :func:`plan_from_assignment`); a stable
fingerprint of an assignment (:func:`plan_sha256`); and :func:`compare_plans`, the
wards that moved between two plans and their metrics side by side.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from nwm_geo._checks import checks_crs
from nwm_geo._display import Display
from nwm_geo._errors import DataValidationError, NwmGeoError, Problem
from nwm_geo.localities._instance import ward_adjacency
from nwm_geo.localities._plan import LocalityPlan, plan_summary

__all__ = [
    "PlanComparison",
    "compare_plans",
    "plan_from_assignment",
    "plan_parts",
    "plan_sha256",
    "read_plan",
]

#: The two columns a plan file needs (matched without regard to case or spaces).
PLAN_COLUMNS: tuple[str, str] = ("ward_code", "locality")


def plan_sha256(assignment: pd.Series) -> str:
    """Return a fingerprint of a plan: sha256 of its sorted ``ward_code,locality`` lines.

    The same wards in the same localities give the same fingerprint, whatever the file
    format, row order or extra columns.

    Examples
    --------
    >>> import pandas as pd
    >>> from nwm_geo import localities
    >>> a = pd.Series(["N", "S"], index=["W1", "W2"])
    >>> localities.plan_sha256(a) == localities.plan_sha256(a.iloc[::-1])  # order-free
    True
    """
    lines = sorted(f"{code},{loc}" for code, loc in assignment.astype(str).items())
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


@checks_crs
def plan_parts(wards: gpd.GeoDataFrame, assignment: pd.Series) -> pd.Series:
    """Return the number of contiguous parts of each locality (1 = contiguous).

    Parameters
    ----------
    wards
        The units, indexed by code, with polygon geometry in a metric CRS.
    assignment
        ``ward_code -> locality``.

    Returns
    -------
    pandas.Series
        Indexed by locality: the number of connected pieces of its wards.
    """
    adj = ward_adjacency(wards)
    pos = {code: i for i, code in enumerate(wards.index)}
    a = adj["ward_a"].map(pos).to_numpy()
    b = adj["ward_b"].map(pos).to_numpy()
    labels = assignment.reindex(wards.index).astype(str).to_numpy()
    same = labels[a] == labels[b]
    n = len(wards)
    graph = coo_matrix((np.ones(int(same.sum())), (a[same], b[same])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    parts = pd.Series(comp, index=wards.index).groupby(labels).nunique()
    parts.index.name = "locality"
    return parts.rename("parts")


def _boundary_cut(wards: gpd.GeoDataFrame, assignment: pd.Series) -> float:
    adj = ward_adjacency(wards)
    la = adj["ward_a"].map(assignment)
    lb = adj["ward_b"].map(assignment)
    return float(adj.loc[la != lb, "shared_m"].sum())


@checks_crs
def plan_from_assignment(
    wards: gpd.GeoDataFrame,
    assignment: pd.Series,
    *,
    source: str = "given",
    measures: tuple[str, ...] = ("population", "assets"),
) -> LocalityPlan:
    """Wrap a given ``ward_code -> locality`` map as a plan, with its metrics; no solving.

    Parameters
    ----------
    wards
        The units (see :func:`~nwm_geo.localities.partition`).
    assignment
        ``ward_code -> locality`` for every ward (see :func:`read_plan` for the checks).
    source
        Where the plan comes from, for its status (``"given in localities.csv"``).
    measures
        The balanced measures whose worst deviation is the plan's ``objective``.

    Returns
    -------
    LocalityPlan
        ``status`` says the plan was given (and not proven anything); the summary has a
        ``parts`` column (1 = contiguous) and the status names the localities that are
        not contiguous.

    Examples
    --------
    >>> import pandas as pd
    >>> from nwm_geo import data, localities
    >>> wards = data.synthetic_example().wards
    >>> plan = localities.plan_from_assignment(
    ...     wards, pd.Series(["North", "North", "South", "South"], index=wards.index))
    >>> plan.summary["population"].to_dict()
    {'North': 2200, 'South': 2000}
    """
    t0 = time.perf_counter()
    assignment = assignment.reindex(wards.index).astype(object).rename("locality")
    summary = plan_summary(wards, assignment)
    parts = plan_parts(wards, assignment)
    summary["parts"] = parts.reindex(summary.index).astype(int)
    devs = [
        summary[f"{m}_dev_pct"].abs().max() / 100.0
        for m in measures
        if f"{m}_dev_pct" in summary.columns
    ]
    objective = float(max(devs)) if devs else 0.0
    split = [f"{loc} ({n} parts)" for loc, n in summary["parts"].items() if n > 1]
    status = f"{source}; not solved"
    if split:
        status += "; not contiguous: " + ", ".join(split)
    return LocalityPlan(
        assignment=assignment,
        summary=summary,
        objective=objective,
        boundary_cut_m=_boundary_cut(wards, assignment),
        status=status,
        proven_optimal=False,
        gap=float("nan"),
        runtime_s=time.perf_counter() - t0,
        method=f"plan {source}: used as it is, never re-solved",
    )


def _find_columns(frame: pd.DataFrame) -> dict[str, str]:
    norm = {str(c).strip().lower().replace(" ", "_"): str(c) for c in frame.columns}
    return {want: norm[want] for want in PLAN_COLUMNS if want in norm}


def _read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        if suffix in {".geojson", ".json", ".gpkg"}:
            frame = gpd.read_file(path)
            return pd.DataFrame(frame.drop(columns="geometry", errors="ignore")).astype(str)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise NwmGeoError(f"{path}: cannot read the plan: {exc}") from exc
    raise NwmGeoError(
        f"{path}: a plan must be a .csv or .geojson file (ward_code and locality columns)"
    )


@checks_crs
def read_plan(
    path: str | Path,
    wards: gpd.GeoDataFrame,
    *,
    measures: tuple[str, ...] = ("population", "assets"),
) -> LocalityPlan:
    """Read a locality plan (ward code -> locality name) from a CSV or GeoJSON file.

    The names in the file are kept as they are; the plan is checked, never re-solved.

    Parameters
    ----------
    path
        A ``.csv`` or ``.geojson`` file with a ``ward_code`` and a ``locality`` column
        (any case; other columns, such as ``ward_name``, are ignored). The plan written
        by ``nwm-geo localities`` (``data/processed/localities.csv``) is one.
    wards
        The wards of the study (index ``ward_code``).
    measures
        As for :func:`plan_from_assignment`.

    Returns
    -------
    LocalityPlan
        See :func:`plan_from_assignment`; contiguity is reported in ``status`` and
        ``summary["parts"]``, not refused.

    Raises
    ------
    DataValidationError
        Every problem at once, each naming the file, the row (as a spreadsheet shows
        it) and the reason: a missing column, an empty or unknown ward code, a ward given
        twice, an empty locality name, a ward of the area missing from the file.
    NwmGeoError
        If the file cannot be read or is not CSV/GeoJSON.
    """
    path = Path(path)
    if not path.is_file():
        raise NwmGeoError(f"{path}: plan file not found")
    table = _read_table(path)
    label = str(path)
    cols = _find_columns(table)
    missing = [c for c in PLAN_COLUMNS if c not in cols]
    if missing:
        raise DataValidationError(
            [
                Problem(label, None, c, "", f"no {c!r} column (found: {list(table.columns)})")
                for c in missing
            ]
        )
    known = set(map(str, wards.index))
    problems: list[Problem] = []
    first: dict[str, int] = {}
    out: dict[str, str] = {}
    for row, (code_raw, loc_raw) in enumerate(
        zip(table[cols["ward_code"]], table[cols["locality"]], strict=True), start=1
    ):
        code, name = str(code_raw).strip(), str(loc_raw).strip()
        if not code:
            problems.append(Problem(label, row, cols["ward_code"], "", "empty ward code"))
            continue
        if code not in known:
            problems.append(
                Problem(label, row, cols["ward_code"], code, "not a ward of the study's area")
            )
        elif code in first:
            earlier = Problem(label, first[code], None, "", "").shown_row
            problems.append(
                Problem(
                    label,
                    row,
                    cols["ward_code"],
                    code,
                    f"ward given twice (first in {earlier})",
                )
            )
        else:
            first[code] = row
        if not name or name.lower() == "nan":
            problems.append(Problem(label, row, cols["locality"], "", "empty locality name"))
        elif code in known and code not in out:
            out[code] = name
    absent = [c for c in map(str, wards.index) if c not in first]
    if absent:
        shown = ", ".join(absent[:20]) + (" ..." if len(absent) > 20 else "")
        problems.append(
            Problem(
                label,
                None,
                cols["ward_code"],
                "",
                f"{len(absent)} ward(s) of the area are in no locality: {shown}",
            )
        )
    if problems:
        raise DataValidationError(problems)
    assignment = pd.Series(out, dtype=object).reindex(wards.index.astype(str))
    assignment.index = wards.index
    return plan_from_assignment(
        wards, assignment, source=f"given in {path.name}", measures=measures
    )


@dataclass(repr=False)
class PlanComparison(Display):
    """Two locality plans side by side.

    Attributes
    ----------
    moved
        Index ``ward_code``: ``ward_name``, ``population``, ``locality_a``,
        ``locality_b`` and ``matched_b`` (plan a's locality that ``locality_b`` matches
        by most shared residents), for the wards whose ``matched_b`` differs from
        ``locality_a``: the wards that moved.
    metrics
        One row per locality of each plan: ``plan`` (``"a"``/``"b"``), ``locality``,
        ``matched_a`` (for plan b, its matched locality of plan a), and the
        :func:`~nwm_geo.localities.plan_summary` columns.
    matching
        Plan b's locality -> the plan a locality it matches (Hungarian, by shared
        population; NaN for unmatched localities when the counts differ).
    moved_population
        Residents of the wards that moved.

    The ``metrics`` carry a ``parts`` column (1 = contiguous); :attr:`not_contiguous`
    lists the localities in more than one piece.
    """

    moved: pd.DataFrame
    metrics: pd.DataFrame
    matching: pd.Series
    moved_population: float

    @property
    def not_contiguous(self) -> list[str]:
        """``"plan a: Name (2 parts)"`` for every locality in more than one piece."""
        split = self.metrics[self.metrics["parts"] > 1]
        return [
            f"plan {plan}: {name} ({parts} parts)"
            for plan, name, parts in zip(
                split["plan"], split["locality"], split["parts"].astype(int), strict=True
            )
        ]

    def _summary(self) -> tuple[str, list[str]]:
        lines = [
            f"{len(self.moved)} ward(s) moved ({self.moved_population:,.0f} residents)",
            "not contiguous: " + ("; ".join(self.not_contiguous) or "none"),
        ]
        return "PlanComparison of two locality plans", lines


@checks_crs
def compare_plans(wards: gpd.GeoDataFrame, a: pd.Series, b: pd.Series) -> PlanComparison:
    """Compare two plans: the wards that moved, and each plan's metrics side by side.

    Localities are matched between the plans by the residents they share (so renaming
    a locality is not a move), then a ward has moved if its locality in ``b`` matches a
    different locality of ``a`` than the one it was in.

    Parameters
    ----------
    wards
        The units, with ``population`` (and ``assets``, ``ward_name``) and geometry.
    a, b
        ``ward_code -> locality`` of the two plans (``LocalityPlan.assignment``), on the
        same wards.

    Returns
    -------
    PlanComparison

    Raises
    ------
    NwmGeoError
        If the plans do not cover the same wards.

    Examples
    --------
    >>> import pandas as pd
    >>> from nwm_geo import data, localities
    >>> wards = data.synthetic_example().wards
    >>> a = pd.Series(["N", "N", "S", "S"], index=wards.index)
    >>> b = pd.Series(["N", "S", "S", "S"], index=wards.index)
    >>> cmp = localities.compare_plans(wards, a, b)
    >>> list(cmp.moved.index), cmp.moved_population
    (['W2'], 1200.0)
    """
    if set(a.index) != set(b.index) or set(a.index) != set(wards.index):
        raise NwmGeoError("the two plans and the wards must have the same ward codes")
    a = a.reindex(wards.index).astype(str)
    b = b.reindex(wards.index).astype(str)
    pop = pd.to_numeric(wards["population"], errors="coerce").fillna(0.0)
    overlap = pop.groupby([b, a]).sum().unstack(fill_value=0.0)
    from scipy.optimize import linear_sum_assignment  # lazy: 0.3 CPU-s to import

    rows, cols = linear_sum_assignment(-overlap.to_numpy())
    matching = pd.Series(np.nan, index=overlap.index, dtype=object, name="matched_a")
    for r, c in zip(rows, cols, strict=True):
        matching.iloc[r] = overlap.columns[c]
    matched = b.map(matching)
    names = (
        wards["ward_name"] if "ward_name" in wards.columns else pd.Series(wards.index, wards.index)
    )
    moved = pd.DataFrame(
        {
            "ward_name": names,
            "population": pop,
            "locality_a": a,
            "locality_b": b,
            "matched_b": matched,
        }
    )
    moved = moved[moved["matched_b"] != moved["locality_a"]]
    moved.index.name = "ward_code"
    sa = plan_summary(wards, a).join(plan_parts(wards, a)).reset_index()
    sa.insert(0, "plan", "a")
    sb = plan_summary(wards, b).join(plan_parts(wards, b)).reset_index()
    sb.insert(0, "plan", "b")
    sb.insert(2, "matched_a", sb["locality"].map(matching))
    metrics = pd.concat([sa, sb], ignore_index=True)
    return PlanComparison(
        moved=moved,
        metrics=metrics,
        matching=matching,
        moved_population=float(moved["population"].sum()),
    )
