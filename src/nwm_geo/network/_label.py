"""The line every output prints about its walk network, and whether it is approximate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # networkx loads where a graph is built or read
    import networkx as nx


__all__ = ["is_approximate", "network_label"]

_OSM_ATTRIBUTION = "© OpenStreetMap contributors, ODbL"


def network_label(G: nx.MultiDiGraph | Mapping[str, Any]) -> str:
    """Return the one-line statement of which network an output used.

    Parameters
    ----------
    G
        A graph from this module, or its graph attributes (``G.graph``).

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
    attrs = G if isinstance(G, Mapping) else G.graph
    source = str(attrs.get("nwm_source", "unknown source"))
    if is_approximate(attrs):
        return f"network: {source}"
    stamp = attrs.get("osm_timestamp")
    when = f" (OSM data {stamp})" if stamp and "downloaded" not in source else ""
    return f"network: {source}{when}, {_OSM_ATTRIBUTION}"


def is_approximate(G: nx.MultiDiGraph | Mapping[str, Any]) -> bool:
    """Return True when ``G`` is the offline postcode-proximity approximation.

    Parameters
    ----------
    G
        A graph from this module (also after :func:`save_graph` / :func:`load_graph`),
        or its graph attributes (``G.graph``).

    Returns
    -------
    bool
        Whether walk times over ``G`` are approximate.
    """
    attrs = G if isinstance(G, Mapping) else G.graph
    return as_bool(attrs.get("approximate", False))


def as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)
