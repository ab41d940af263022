"""De-duplicate the same site listed in several open files, logging every merge."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from nwm_geo.data.assets._schema import MERGE_LOG_COLUMNS

__all__ = ["dedupe_sites", "faith_of", "name_similarity"]

_MERGE_MAX_M = 30.0
_NEAR_MAX_M = 100.0
_NAME_SIM_MIN = 0.5
_SAME_NAME_MAX_M = 250.0

#: Words that name a faith; two records of different faiths are never one site (a
#: mosque and a church 44 m apart on Bury Park Road share "Bury Park", not a building).
_FAITH_WORDS: dict[str, tuple[str, ...]] = {
    "muslim": ("masjid", "mosque", "islamic", "jamia", "jame", "madrasa", "madressa", "muslim"),
    "christian": (
        "church", "chapel", "methodist", "baptist", "anglican", "catholic", "pentecostal",
        "christian", "evangelical", "reformed", "salvation army", "jehovah", "adventist",
        "parish", "cathedral", "christ", "gospel", "fellowship", "quaker", "friends meeting",
    ),
    "sikh": ("gurdwara", "gurudwara", "sikh"),
    "hindu": ("mandir", "hindu", "swaminarayan"),
    "jewish": ("synagogue", "jewish"),
    "buddhist": ("buddhist", "vihara"),
}  # fmt: skip

_STOP = {
    "the",
    "of",
    "and",
    "for",
    "at",
    "in",
    "on",
    "luton",
    "rutland",
    "ltd",
    "limited",
    "uk",
    "cic",
    "centre",
    "center",
    "church",
    "community",
    "hall",
    "house",
    "road",
    "street",
    "lane",
    "avenue",
    "st",
    "saint",
    "practice",
    "surgery",
    "medical",
    "school",
    "nhs",
    "trust",
}


def _tokens(name: str) -> set[str]:
    s = re.sub(r"[^a-z0-9 ]+", " ", name.lower().replace("&", " and ").replace("'", ""))
    return {t for t in s.split() if t not in _STOP}


def name_similarity(a: str, b: str) -> float:
    """Similarity of two asset names, 0 to 1.

    The larger of: the share of the shorter name's distinctive words found in the
    other, and the :class:`difflib.SequenceMatcher` ratio of the sorted distinctive
    words. Generic words ("church", "centre", "Luton", "the"...) are ignored; names
    made only of generic words are compared whole.

    Parameters
    ----------
    a, b
        Names.

    Returns
    -------
    float
        1 for the same name; 0.5 or more is treated as "similar" when de-duplicating.
    """
    ta, tb = _tokens(a), _tokens(b)
    if ta and tb:
        overlap = len(ta & tb) / min(len(ta), len(tb))
        ratio = difflib.SequenceMatcher(None, " ".join(sorted(ta)), " ".join(sorted(tb))).ratio()
    else:
        overlap = 0.0
        norm_a = " ".join(re.sub(r"[^a-z0-9 ]+", " ", a.lower()).split())
        norm_b = " ".join(re.sub(r"[^a-z0-9 ]+", " ", b.lower()).split())
        ratio = difflib.SequenceMatcher(None, norm_a, norm_b).ratio()
    return float(max(ratio, overlap))


def faith_of(*texts: str) -> str:
    """Return the faith named in a place's name or subtype ("" when none is named).

    Parameters
    ----------
    *texts
        Name, subtype, ... of one record.

    Returns
    -------
    str
        ``"muslim"``, ``"christian"``, ``"sikh"``, ``"hindu"``, ``"jewish"``,
        ``"buddhist"`` or ``""``. When several are named, the first in that order.
    """
    text = " ".join(t.lower() for t in texts)
    for faith, words in _FAITH_WORDS.items():
        if any(re.search(rf"\b{re.escape(w)}", text) for w in words):
            return faith
    return ""


def dedupe_sites(reg: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Merge records of one site listed in several files; log every merge.

    Two records are one site when they come from different files, have the same
    category, do not name different faiths (:func:`faith_of`), and: share a postcode
    and have similar names (:func:`name_similarity` >= 0.5); or lie within 30 m with
    similar names; or lie within 100 m with similar names when one of them has no
    postcode (OpenStreetMap points and FHRS geocodes sit apart by tens of metres); or
    have a very similar name (>= 0.9) within 250 m. Two records of one file are never
    merged through a chain of links via another file; one file listing the same
    site twice (the same point, postcode and name) is merged. The kept record is the
    best-ranked source (``_rank``), then source coordinates over postcode centroids.

    Parameters
    ----------
    reg
        Records with ``name``, ``category``, ``postcode``, ``subtype``, ``geocode``,
        ``easting``, ``northing`` and the private ``_rank`` and ``_file`` columns.

    Returns
    -------
    tuple of (geopandas.GeoDataFrame, pandas.DataFrame)
        The records kept, and the merge log (:data:`MERGE_LOG_COLUMNS`).
    """
    recs = _Records.of(reg)
    pair_info, same_file_pairs = _linked_pairs(recs)
    sites = _join_sites(recs, pair_info, same_file_pairs)
    drop, log = _merges(reg, recs, sites, pair_info)
    out = reg.drop(index=recs.ids[drop])
    merge_log = pd.DataFrame(log, columns=list(MERGE_LOG_COLUMNS))
    return out, merge_log


@dataclass(frozen=True)
class _Records:
    """The columns of the records that :func:`dedupe_sites` compares, as arrays."""

    ids: np.ndarray
    xy: np.ndarray
    names: list[str]
    cats: list[str]
    pcs: list[str]
    files: list[str]
    faiths: list[str]

    @classmethod
    def of(cls, reg: gpd.GeoDataFrame) -> _Records:
        names = reg["name"].tolist()
        return cls(
            ids=reg.index.to_numpy(),
            xy=np.column_stack([reg["easting"].to_numpy(float), reg["northing"].to_numpy(float)]),
            names=names,
            cats=reg["category"].tolist(),
            pcs=reg["postcode"].tolist(),
            files=reg["_file"].tolist(),
            faiths=[faith_of(n, t) for n, t in zip(names, reg["subtype"].tolist(), strict=True)],
        )


def _merge_rule(r: _Records, i: int, j: int, dist: float, sim: float) -> str:
    """Why records ``i`` and ``j`` are one site ("" when they are not)."""
    pcs = r.pcs
    if r.files[i] == r.files[j]:
        # One file listing one site twice (e.g. one hospital under two trusts):
        # the same point, the same postcode and a very similar name.
        if dist < 1.0 and pcs[i] and pcs[i] == pcs[j] and sim >= 0.9:
            return "listed twice in one file (same point, postcode and name)"
        return ""
    if pcs[i] and pcs[i] == pcs[j] and sim >= _NAME_SIM_MIN:
        return "same postcode and similar name"
    if dist <= _MERGE_MAX_M and sim >= _NAME_SIM_MIN:
        return f"within {_MERGE_MAX_M:g} m and similar name"
    if dist <= _NEAR_MAX_M and sim >= _NAME_SIM_MIN and not (pcs[i] and pcs[j]):
        return f"within {_NEAR_MAX_M:g} m and similar name (one has no postcode)"
    if sim >= 0.9:
        return f"very similar name (>= 0.9) within {_SAME_NAME_MAX_M:g} m"
    return ""


def _linked_pairs(
    r: _Records,
) -> tuple[dict[tuple[int, int], tuple[str, float, float]], list[tuple[int, int]]]:
    """Return the pairs of records that may be one site, and those of one file.

    Each pair (``i < j``) maps to its (rule, distance, similarity); the second list holds
    the pairs of one file listing one site twice.
    """
    pair_info: dict[tuple[int, int], tuple[str, float, float]] = {}
    same_file_pairs: list[tuple[int, int]] = []
    for i in range(len(r.ids)):
        d = np.hypot(r.xy[:, 0] - r.xy[i, 0], r.xy[:, 1] - r.xy[i, 1])
        for j in (int(x) for x in np.nonzero(d <= _SAME_NAME_MAX_M)[0]):
            if j <= i or r.cats[i] != r.cats[j]:
                continue
            if r.faiths[i] and r.faiths[j] and r.faiths[i] != r.faiths[j]:
                continue
            sim = name_similarity(r.names[i], r.names[j])
            rule = _merge_rule(r, i, j, float(d[j]), sim)
            if rule and r.files[i] == r.files[j]:
                same_file_pairs.append((i, j))
            if rule:
                pair_info[(i, j)] = (rule, float(d[j]), sim)
    return pair_info, same_file_pairs


def _join_sites(
    r: _Records,
    pair_info: dict[tuple[int, int], tuple[str, float, float]],
    same_file_pairs: list[tuple[int, int]],
) -> dict[int, list[int]]:
    """Join records into sites greedily, the most similar pair first (then the nearest).

    Two sites join only if they hold no records of the same file, so two records of one
    file are never merged through a chain of links via another file.
    """
    files, ids = r.files, r.ids
    parent = list(range(len(ids)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    site_files: dict[int, set[str]] = {i: {files[i]} for i in range(len(ids))}
    for i, j in same_file_pairs:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[rj] = ri
            site_files[ri] |= site_files.pop(rj)
    order = sorted(
        (p for p in pair_info if files[p[0]] != files[p[1]]),
        key=lambda p: (-pair_info[p][2], pair_info[p][1], ids[p[0]], ids[p[1]]),
    )
    for i, j in order:
        ri, rj = find(i), find(j)
        if ri == rj or site_files[ri] & site_files[rj]:
            continue
        parent[rj] = ri
        site_files[ri] |= site_files.pop(rj)
    sites: dict[int, list[int]] = {}
    for i in range(len(ids)):
        sites.setdefault(find(i), []).append(i)
    return sites


def _merges(
    reg: gpd.GeoDataFrame,
    r: _Records,
    sites: dict[int, list[int]],
    pair_info: dict[tuple[int, int], tuple[str, float, float]],
) -> tuple[list[int], list[dict[str, object]]]:
    """Return the records dropped (all but the best of each site) and the log's rows."""
    ids, xy, names = r.ids, r.xy, r.names
    rank = reg["_rank"].to_numpy(int)
    quality = np.where(reg["geocode"].str.startswith("source").to_numpy(bool), 0, 1)
    drop: list[int] = []
    log: list[dict[str, object]] = []
    for members in sites.values():
        if len(members) == 1:
            continue
        kept, *others = sorted(members, key=lambda k: (rank[k], quality[k], ids[k]))
        for k in sorted(others):
            a, b = min(k, kept), max(k, kept)
            rule, dist, sim = pair_info.get(
                (a, b),
                (
                    "same site (linked through another record)",
                    float(np.hypot(*(xy[k] - xy[kept]))),
                    name_similarity(names[k], names[kept]),
                ),
            )
            drop.append(k)
            log.append(
                {
                    "kept_asset_id": ids[kept],
                    "dropped_asset_id": ids[k],
                    "kept_name": names[kept],
                    "dropped_name": names[k],
                    "category": r.cats[kept],
                    "rule": rule,
                    "name_similarity": round(sim, 3),
                    "distance_m": round(dist, 1),
                    "kept_source": r.files[kept],
                    "dropped_source": r.files[k],
                }
            )
    return drop, log
