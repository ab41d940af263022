"""Checks that a walk network is usable: sound lengths and CRS, and it covers the area."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from nwm_geo._errors import NetworkError
from nwm_geo.network._label import network_label

if TYPE_CHECKING:  # networkx loads where a graph is built or read
    import networkx as nx

__all__ = ["check_covers", "check_graph"]


def check_graph(G: nx.MultiDiGraph, *, label: str = "the walk network") -> None:
    """Check that a graph is a projected walk network in metres with sound edge lengths.

    Parameters
    ----------
    G
        The graph.
    label
        How the graph is named in the error (a file path).

    Raises
    ------
    NetworkError
        Listing every problem: no nodes or edges, node coordinates missing, a CRS that is
        not projected in metres (a GraphML in EPSG:4326), edges without a ``length`` or
        with a negative, NaN or infinite one.
    """
    from pyproj import CRS

    problems: list[str] = []
    if len(G) == 0 or G.number_of_edges() == 0:
        problems.append("it has no nodes or no edges")
    missing_xy = sum(1 for _, d in G.nodes(data=True) if "x" not in d or "y" not in d)
    if missing_xy:
        problems.append(f"{missing_xy} node(s) have no x/y coordinates")
    crs = G.graph.get("crs")
    try:
        projected = crs is not None and CRS.from_user_input(crs).is_projected
    except Exception:  # pyproj raises CRSError and others for junk
        projected = False
    if not projected:
        problems.append(
            f"its CRS ({crs!r}) is not a projected CRS in metres; project it first "
            "(osmnx.project_graph(G, to_crs='EPSG:27700'))"
        )
    bad = 0
    for _, _, d in G.edges(data=True):
        try:
            length = float(d["length"])
        except (KeyError, TypeError, ValueError):
            bad += 1
            continue
        if not np.isfinite(length) or length < 0:
            bad += 1
    if bad:
        problems.append(f"{bad} edge(s) have a missing, negative, NaN or infinite length")
    if problems:
        raise NetworkError(f"{label} is not a usable walk network: " + "; ".join(problems))


def check_covers(
    G: nx.MultiDiGraph,
    snap_m: pd.Series,
    population: pd.Series,
    *,
    max_snap_m: float = 500.0,
    max_share_far: float = 0.05,
) -> None:
    """Refuse a network that cannot be the study area's: too many residents far from it.

    Parameters
    ----------
    G
        The walk network (for its label).
    snap_m
        Distance (metres) from each demand point to the network.
    population
        Residents of each demand point (same index).
    max_snap_m
        A resident farther than this from every street is "far".
    max_share_far
        The largest share of residents allowed to be far.

    Raises
    ------
    NetworkError
        When more than ``max_share_far`` of the residents are more than ``max_snap_m``
        from the network (a 3-node OSM file, or an extract of another place).
    """
    pop = population.astype(float)
    total = float(pop.sum())
    if total <= 0:
        return
    far = float(pop[snap_m.reindex(pop.index).fillna(np.inf) > max_snap_m].sum()) / total
    if far <= max_share_far:
        return
    raise NetworkError(
        f"{network_label(G)} does not cover the study area: {far:.0%} of residents are "
        f"more than {max_snap_m:g} m from any of its streets (at most "
        f"{max_share_far:.0%} allowed). Is the OSM file or saved graph of this area?"
    )
