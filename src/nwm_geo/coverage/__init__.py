"""15-minute walk coverage: snapping, nearest-asset times, coverage shares, criticality.

In: a walk network (:mod:`nwm_geo.network`), demand points (postcodes with
``population``) and assets (with ``category``), all in EPSG:27700.
Out: DataFrames on the demand or asset index: minutes to the nearest asset of each
category and bundle, population-weighted coverage by any area column, each asset's
covered and sole-provider population, a within-threshold :class:`Cover` for the
requirements stage, and walkshed polygons.

The package has two halves:

- the **routing engine**: :class:`NetworkArrays` (the graph as arrays,
  ``_network``), :func:`snap` / :func:`snap_xy` (exact snapping, ``_snap``;
  :func:`reuse_snap_index` keeps the search index across many small snaps),
  :func:`insert_points` / :func:`prepare` / :class:`WalkModel` (points inserted on
  their edges, ``_model``) and :func:`coverage_matrix` / :class:`Cover` (the
  within-threshold matrices, ``_cover``), with :func:`source_minutes` (the same runs,
  keeping the minutes, for hub catchments);
- the **metrics**: :func:`nearest_minutes`, :func:`coverage_table`,
  :func:`coverage_summary` (``_metrics``; :func:`reusing_flags` computes each minutes
  table's flags once for a caller that sums it many ways), :func:`asset_criticality` /
  :func:`cover_criticality` (``_cover``) and :func:`walksheds` /
  :func:`catchment_cells` (``_walksheds``);
- **travel-time bands**: :func:`time_bands` (residents per band of :data:`TIME_BANDS`,
  per area and measure, ``_bands``);
- **what-ifs**: :func:`with_sites` / :func:`extend_cover` (close assets and add new
  sites on a prepared model, re-using its cover, ``_sites``) and
  :func:`closure_impact` (every asset's closure at once, ``_impact``), whose
  ``losing_*`` columns are :func:`group_split` (residents by IMD quintile and age
  band, ``_groups``; also :func:`nwm_geo.equity.group_split`).

Every point is inserted into the network exactly: the edge it snaps to is split at the
projection point and a leaf edge of length ``snap_m`` (walked at the same speed) leads
to the point. All shortest paths are computed with :func:`scipy.sparse.csgraph.dijkstra`
on one CSR matrix: one multi-source run per category for nearest times, and bounded
(``limit=``) runs from all assets at once for criticality and coverage matrices.
Walk networks are treated as undirected. Thresholds and speeds are resolved, and
"within" is decided, by :mod:`nwm_geo._units` only.

A calibration that needs exact network distances between bare points uses the public
engine::

    arr = NetworkArrays.from_graph(G)
    ins = insert_points(arr, snap_xy(arr, xy))
    dijkstra(ins.graph, indices=ins.point_nodes[origins])
"""

from __future__ import annotations

from nwm_geo.coverage._bands import TIME_BANDS, band_labels, band_of, time_bands
from nwm_geo.coverage._cover import (
    CRITICALITY_COLUMNS,
    Cover,
    asset_criticality,
    cover_criticality,
    coverage_matrix,
    source_minutes,
)
from nwm_geo.coverage._groups import (
    AGE_LABELS,
    GROUP_SPLIT_COLUMNS,
    GroupColumns,
    group_split,
    group_splits,
    split_residents,
)
from nwm_geo.coverage._impact import AGE_BANDS, IMPACT_COLUMNS, ClosureImpact, closure_impact
from nwm_geo.coverage._metrics import (
    all_bundles_label,
    coverage_summary,
    coverage_table,
    covered_flags,
    nearest_minutes,
    reusing_flags,
)
from nwm_geo.coverage._model import InsertedPoints, WalkModel, insert_points, prepare
from nwm_geo.coverage._network import NetworkArrays
from nwm_geo.coverage._sites import extend_cover, with_sites
from nwm_geo.coverage._snap import Snaps, reuse_snap_index, snap, snap_xy
from nwm_geo.coverage._walksheds import CATCHMENT_CELLS_NOTE, catchment_cells, walksheds

__all__ = [
    "AGE_BANDS",
    "AGE_LABELS",
    "CATCHMENT_CELLS_NOTE",
    "CRITICALITY_COLUMNS",
    "GROUP_SPLIT_COLUMNS",
    "IMPACT_COLUMNS",
    "TIME_BANDS",
    "ClosureImpact",
    "Cover",
    "GroupColumns",
    "InsertedPoints",
    "NetworkArrays",
    "Snaps",
    "WalkModel",
    "all_bundles_label",
    "asset_criticality",
    "band_labels",
    "band_of",
    "catchment_cells",
    "closure_impact",
    "cover_criticality",
    "coverage_matrix",
    "coverage_summary",
    "coverage_table",
    "covered_flags",
    "extend_cover",
    "group_split",
    "group_splits",
    "insert_points",
    "nearest_minutes",
    "prepare",
    "reuse_snap_index",
    "reusing_flags",
    "snap",
    "snap_xy",
    "source_minutes",
    "split_residents",
    "time_bands",
    "walksheds",
    "with_sites",
]
