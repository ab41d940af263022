"""The parsed OSM network is cached by the file's sha256 (issue 26 item 4).

On the tiny SYNTHETIC OSM fixture (tests/data/network): a second load reads the cache
and does not call the OSM parser (pyosmium's ``SimpleHandler.apply_file``, patched to
fail); a changed file gets a new entry and is parsed again.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import networkx as nx
import osmium
import pytest
from shapely.geometry import box

from nwm_geo import network

TINY_OSM = Path(__file__).parent / "data" / "network" / "tiny_walk.osm"


class _Parsed(Exception):
    """Raised by the patched parser: the file was parsed."""


def _same(a: nx.MultiDiGraph, b: nx.MultiDiGraph) -> bool:
    """Same nodes, edges, attributes and graph attributes (but osmnx's creation time)."""
    ga = {k: v for k, v in a.graph.items() if k != "created_date"}
    gb = {k: v for k, v in b.graph.items() if k != "created_date"}
    return (
        ga == gb
        and dict(a.nodes(data=True)) == dict(b.nodes(data=True))
        and sorted(a.edges(keys=True, data=True), key=str)
        == sorted(b.edges(keys=True, data=True), key=str)
    )


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise _Parsed

    monkeypatch.setattr(osmium.SimpleHandler, "apply_file", fail)


def test_a_second_load_reads_the_cache_not_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    osm = tmp_path / "tiny.osm"
    shutil.copy(TINY_OSM, osm)
    cache = tmp_path / "cache"
    first = network.cached_graph_from_osm_file(osm, polygon=None, cache_dir=cache)
    entry = network.osm_cache_path(osm, polygon=None, cache_dir=cache)
    assert entry.is_file() and hashlib.sha256(osm.read_bytes()).hexdigest() in entry.name
    fresh = network.graph_from_osm_file(osm)
    assert _same(first, fresh)
    _no_parsing(monkeypatch)
    second = network.cached_graph_from_osm_file(osm, polygon=None, cache_dir=cache)
    assert _same(second, fresh) and second.graph == first.graph  # the very same
    # another area is another entry: parsed again
    with pytest.raises(_Parsed):
        network.cached_graph_from_osm_file(osm, polygon=box(0, 0, 1, 1), cache_dir=cache)


def test_a_changed_file_is_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    osm = tmp_path / "tiny.osm"
    shutil.copy(TINY_OSM, osm)
    cache = tmp_path / "cache"
    network.cached_graph_from_osm_file(osm, polygon=None, cache_dir=cache)
    text = osm.read_text(encoding="utf-8")
    osm.write_text(text.replace("</osm>", "<!-- edited -->\n</osm>"), encoding="utf-8")
    _no_parsing(monkeypatch)
    with pytest.raises(_Parsed):
        network.cached_graph_from_osm_file(osm, polygon=None, cache_dir=cache)


def test_an_unreadable_cache_entry_is_parsed_again(tmp_path: Path) -> None:
    osm = tmp_path / "tiny.osm"
    shutil.copy(TINY_OSM, osm)
    cache = tmp_path / "cache"
    entry = network.osm_cache_path(osm, polygon=None, cache_dir=cache)
    entry.parent.mkdir(parents=True)
    entry.write_bytes(b"not a pickle")
    G = network.cached_graph_from_osm_file(osm, polygon=None, cache_dir=cache)
    assert _same(G, network.graph_from_osm_file(osm))
    assert entry.read_bytes() != b"not a pickle"


def test_cached_walk_network_is_walk_network_with_the_osm_file_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    osm = tmp_path / "tiny.osm"
    shutil.copy(TINY_OSM, osm)
    cache = tmp_path / "cache"
    first = network.cached_walk_network(osm_cache_dir=cache, osm_path=osm)
    assert _same(first, network.walk_network(osm_path=osm))
    saved = tmp_path / "saved.graphml"
    network.save_graph(first, saved)
    _no_parsing(monkeypatch)
    assert _same(network.cached_walk_network(osm_cache_dir=cache, osm_path=osm), first)
    # a saved graph comes first, as in walk_network: the OSM file is not read
    from_saved = network.cached_walk_network(osm_cache_dir=cache, graph_path=saved, osm_path=osm)
    assert len(from_saved) == len(first)
