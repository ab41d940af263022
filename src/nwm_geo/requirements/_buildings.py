"""One suggestion per building: rule R3's suggested sites merged when they are one place.

The best-k analysis runs per bundle, so the same building (or two records of one
building in different open files, metres apart) can be suggested for several bundles.
:func:`one_case_per_building` merges R3 business cases whose sites lie within
:data:`SAME_BUILDING_M` metres of each other, or share a postcode and have similar
names, into one case: the candidate with a street address is kept (then the one
serving the most residents), and the case lists every bundle and every record.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from typing import Any

__all__ = ["SAME_BUILDING_M", "one_case_per_building"]

#: Suggested sites closer than this (metres) are one building.
SAME_BUILDING_M = 50.0
_POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})\b")
_NO_ADDRESS = "no street address"


def _metres(a: dict[str, Any], b: dict[str, Any]) -> float:
    try:
        lat = math.radians((float(a["_lat"]) + float(b["_lat"])) / 2)
        dx = (float(a["_lon"]) - float(b["_lon"])) * 111_320.0 * math.cos(lat)
        dy = (float(a["_lat"]) - float(b["_lat"])) * 110_540.0
    except (TypeError, ValueError):
        return math.inf
    d = math.hypot(dx, dy)
    return d if math.isfinite(d) else math.inf


def _postcode(row: dict[str, Any]) -> str:
    for text in (str(row.get("id", "")), str(row.get("address", ""))):
        m = _POSTCODE.search(text.upper())
        if m:
            return m.group(1).replace(" ", "")
    return ""


def _similar(a: str, b: str) -> bool:
    a, b = a.casefold().strip(), b.casefold().strip()
    if not a or not b:
        return False
    return a in b or b in a or difflib.SequenceMatcher(None, a, b).ratio() >= 0.6


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if _metres(a, b) <= SAME_BUILDING_M:
        return True
    pa, pb = _postcode(a), _postcode(b)
    return bool(pa) and pa == pb and _similar(str(a.get("name", "")), str(b.get("name", "")))


def _groups(rows: Sequence[dict[str, Any]]) -> list[list[int]]:
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            if _same(rows[i], rows[j]):
                parent[find(j)] = find(i)
    out: dict[int, list[int]] = {}
    for i in range(len(rows)):
        out.setdefault(find(i), []).append(i)
    return list(out.values())


def _has_address(row: dict[str, Any]) -> bool:
    address = str(row.get("address") or "")
    return bool(address) and _NO_ADDRESS not in address and not address.startswith("postcode")


def one_case_per_building(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Merge R3 case rows that are one building; return one row per building.

    Parameters
    ----------
    rows
        R3 business-case rows (:data:`BUSINESS_CASE_COLUMNS` keys) with ``_lon`` and
        ``_lat`` (WGS84) of their site.

    Returns
    -------
    list of dict
        One row per group, the kept candidate's fields (street address first, then the
        most residents), with ``measure`` listing every bundle, ``population`` the most
        residents any of them newly serves, ``evidence`` every bundle's sentence and
        the other records merged into it. ``_lon`` and ``_lat`` are kept.
    """
    out = []
    for idx in _groups(rows):
        group = [rows[i] for i in idx]
        keep = max(group, key=lambda r: (_has_address(r), float(r.get("population") or 0)))
        if len(group) == 1:
            out.append(dict(keep))
            continue
        merged = dict(keep)
        measures = list(dict.fromkeys(str(r["measure"]) for r in group))
        merged["measure"] = ", ".join(measures)
        merged["population"] = max(float(r.get("population") or 0) for r in group)
        evidence = list(dict.fromkeys(str(r["evidence"]) for r in group))
        others = sorted(
            {str(r.get("name")) for r in group if str(r.get("name")) != str(keep.get("name"))}
        )
        merged["evidence"] = "; ".join(evidence) + (
            f" (one building with: {', '.join(others)})" if others else ""
        )
        notes = [str(r.get("register_note") or "") for r in group]
        merged["register_note"] = "; ".join(dict.fromkeys(n for n in notes if n))
        out.append(merged)
    return out
