"""The line every output prints about its walk network, and whether it is approximate."""

from __future__ import annotations

from typing import Any

import networkx as nx

__all__ = ["is_approximate", "network_label"]

_OSM_ATTRIBUTION = "© OpenStreetMap contributors, ODbL"


def network_label(G: nx.MultiDiGraph) -> str:
    """Return the one-line statement of which network an output used.

    Parameters
    ----------
    G
        A graph from this module.

    Returns
    -------
    str
        E.g. ``"network: approximate (postcode proximity), not OSM"`` or
        ``"network: OpenStreetMap file x.osm.pbf (OSM data 2022-07-20T20:14:02Z),
        © OpenStreetMap contributors, ODbL"``.

    Examples
    --------
    >>> from nwm_geo import data, network
    >>> network.network_label(network.approximate_graph(data.synthetic_example().points))
    'network: approximate (postcode proximity), not OSM'
    """
    source = str(G.graph.get("nwm_source", "unknown source"))
    if is_approximate(G):
        return f"network: {source}"
    stamp = G.graph.get("osm_timestamp")
    when = f" (OSM data {stamp})" if stamp and "downloaded" not in source else ""
    return f"network: {source}{when}, {_OSM_ATTRIBUTION}"


def is_approximate(G: nx.MultiDiGraph) -> bool:
    """Return True when ``G`` is the offline postcode-proximity approximation.

    Parameters
    ----------
    G
        A graph from this module (also after :func:`save_graph` / :func:`load_graph`).

    Returns
    -------
    bool
        Whether walk times over ``G`` are approximate.
    """
    return as_bool(G.graph.get("approximate", False))


def as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)
