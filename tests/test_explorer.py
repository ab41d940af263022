"""The decision explorer's data and file, on the SYNTHETIC council (no real data).

What the page needs to be exact: per site, every demand point within the cap with its
network distance, so that the nearest open site, under any closures, any candidate
opened, at every threshold and speed the page offers, gives Python's coverage flags.
The browser side (the same comparison as ``scenarios.compare``) is
``test_explorer_browser.py``.
"""

from __future__ import annotations

import base64
import itertools
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from _explorer import page_data
from conftest import build_synthetic_area
from nwm_geo import coverage, explorer, pipeline


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[pipeline.Study, dict[str, Any]]:
    """One SYNTHETIC study and its explorer data, shared by the read-only tests."""
    profile, data_dir = build_synthetic_area(tmp_path_factory.mktemp("explorer"))
    study = pipeline.Study(area=profile, data_dir=data_dir)
    return study, explorer.explorer_data(study)


@pytest.fixture
def study(synthetic_area: tuple[Path, Path]) -> pipeline.Study:
    profile, data_dir = synthetic_area
    return pipeline.Study(area=profile, data_dir=data_dir)


def _decode(reach: dict[str, Any]) -> tuple[list[int], np.ndarray, np.ndarray]:
    dtype = np.uint16 if reach["point_dtype"] == "uint16" else np.uint32
    pts = np.frombuffer(base64.b64decode(reach["points"]), dtype=np.dtype(dtype).newbyteorder("<"))
    m32 = np.frombuffer(base64.b64decode(reach["metres32"]), dtype=np.dtype("<f4"))
    metres = m32.astype(np.float64)
    for i, exact in reach["exact"]:
        metres[i] = exact
    return reach["offsets"], pts.astype(np.int64), metres


def _flags(
    data: dict[str, Any],
    *,
    close: set[str] = frozenset(),  # type: ignore[assignment]
    add: list[tuple[str, int]] = (),  # type: ignore[assignment]
    minutes: float,
    speed: float,
) -> pd.DataFrame:
    """The page's rule, in Python: nearest open site per category, then the within test."""
    n = len(data["points"]["id"])
    off, pts, metres = _decode(data["reach"])
    coff, cpts, cmetres = _decode(data["candidate_reach"])
    lim = minutes + data["settings"]["tolerance_m"] / speed
    out = {}
    for cat in data["categories"]:
        best = np.full(n, np.inf)
        for i, s in enumerate(data["sites"]):
            if s["category"] == cat and s["id"] not in close:
                sl = slice(off[i], off[i + 1])
                np.minimum.at(best, pts[sl], metres[sl])
        for c, k in add:
            if c == cat:
                sl = slice(coff[k], coff[k + 1])
                np.minimum.at(best, cpts[sl], cmetres[sl])
        out[cat] = best / speed <= lim
    return pd.DataFrame(out, index=pd.Index(data["points"]["id"]))


def _python_flags(study: pipeline.Study, minutes: float, speed: float) -> pd.DataFrame:
    nearest = coverage.nearest_minutes(
        study.model, speed_m_per_min=speed, categories=study.categories, bundles=study.bundles
    )
    flags = coverage.covered_flags(nearest, minutes=minutes, speed_m_per_min=speed)
    return flags[list(study.categories)]


def test_every_offered_threshold_and_speed_gives_pythons_coverage(
    built: tuple[pipeline.Study, dict[str, Any]],
) -> None:
    study, data = built
    speeds = data["settings"]["speeds"]
    assert speeds["65+"] == 50.8 and speeds["default"] == 80.0
    assert data["settings"]["cap_m"] == 30 * 80.0
    for minutes, speed in itertools.product(data["settings"]["minute_choices"], speeds.values()):
        page = _flags(data, minutes=minutes, speed=speed)
        python = _python_flags(study, minutes, speed)
        pd.testing.assert_frame_equal(page, python.set_axis(page.index), check_names=False)


def test_closing_any_set_of_sites_is_exact(built: tuple[pipeline.Study, dict[str, Any]]) -> None:
    study, data = built
    ids = [s["id"] for s in data["sites"]]
    rng = random.Random(7)
    sets = [set(ids), *({i} for i in ids)]
    sets += [set(rng.sample(ids, rng.randint(2, len(ids) - 1))) for _ in range(8)]
    for close in sets:
        scen = study.with_changes(close=sorted(close))
        python = coverage.covered_flags(scen.minutes_to_nearest)[list(study.categories)]
        page = _flags(data, close=close, minutes=15.0, speed=80.0)
        assert (page.to_numpy() == python.to_numpy()).all(), sorted(close)


def test_every_candidate_opens_as_with_changes_adds_it(
    built: tuple[pipeline.Study, dict[str, Any]],
) -> None:
    study, data = built
    assert data["candidates"], "the synthetic council has candidate places"
    for k, cand in enumerate(data["candidates"]):
        site = {"name": "Candidate", "category": "Library", **cand["key"]}
        scen = study.with_changes(add=[site], close=["site-0002"])
        for minutes, speed in ((15.0, 80.0), (30.0, 50.8)):
            if speed != 80.0:
                scen = study.with_changes(add=[site], close=["site-0002"], speed_m_per_min=speed)
            python = coverage.covered_flags(scen.minutes_to_nearest, minutes=minutes)
            page = _flags(
                data, close={"site-0002"}, add=[("Library", k)], minutes=minutes, speed=speed
            )
            assert (page["Library"].to_numpy() == python["Library"].to_numpy()).all(), cand


def test_wards_localities_hubs_and_groups_are_in_the_data(
    built: tuple[pipeline.Study, dict[str, Any]],
) -> None:
    study, data = built
    assert [w["code"] for w in data["wards"]] == list(study.wards.index)
    assert {w["locality"] for w in data["wards"]} == set(study.plan.assignment)
    # 2 x 2 grid of squares: four shared edges, corners do not count
    assert sorted(map(tuple, data["adjacency"])) == [(0, 1), (0, 2), (1, 3), (2, 3)]
    assert sum(data["points"]["population"]) == study.demand["population"].sum()
    assert set(data["points"]["age"]) == set(coverage.AGE_BANDS)
    assert set(data["points"]["imd_quintile"]) <= {1, 2, 3, 4, 5, None}
    assert len(data["hubs"]) >= 1
    assert data["bundles"] == {k: list(v) for k, v in study.bundles.items()}


def test_the_file_is_offline_escaped_and_carries_no_personal_data(
    study: pipeline.Study, tmp_path: Path
) -> None:
    reg = study.register
    first, second = reg.index[0], reg.index[1]
    reg.loc[first, "name"] = "<script>alert(1)</script></script><b>x</b>"
    reg.loc[second, "name"] = "Hall, call 01582 123456 or jane@example.org"
    path = explorer.write_explorer(study, tmp_path / "explorer.html")
    text = path.read_text(encoding="utf-8")
    assert "01582 123456" not in text and "jane@example.org" not in text
    assert "<script>alert" not in text and "</script><b>" not in text
    data = page_data(path)
    names = {s["id"]: s["name"] for s in data["sites"]}
    assert names[first].startswith("<script>alert(1)")  # kept as text, escaped when shown
    # nothing is fetched: no external src/href in the markup (the browser test watches
    # the requests), and a policy that forbids connections
    markup = re.sub(r"<script[^>]*>.*?</script>", "", text, flags=re.S)
    assert "<script" in text and "leaflet" in text.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", markup)
    assert "connect-src 'none'" in text and "default-src 'none'" in text
    assert "Ordnance Survey" in text or "OS " in text  # sources and licences are stated


# Machado, Oliveira & Fernandes (2009), severity 1.0, on linear RGB.
_CVD = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}  # fmt: skip


def _linear(hex_colour: str) -> np.ndarray:
    c = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(lin: np.ndarray) -> np.ndarray:
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = m @ np.clip(lin, 0, 1) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _min_distance(colours: list[str]) -> float:
    worst = np.inf
    for matrix in [np.eye(3), *map(np.array, _CVD.values())]:
        labs = [_lab(matrix @ _linear(c)) for c in colours]
        for a, b in itertools.combinations(labs, 2):
            worst = min(worst, float(np.linalg.norm(a - b)))
    return worst


def test_the_palette_stays_distinct_for_colour_blind_readers() -> None:
    pal = explorer.PALETTE
    # the colours that must be told apart on the map: open, closed, opened sites and the
    # first five localities (Luton's); losing and gaining access
    assert _min_distance([pal["site"], pal["closed"], pal["added"]]) > 15
    assert _min_distance([pal["losing"], pal["gaining"]]) > 20
    assert _min_distance(pal["localities"][:5]) > 15
    # the check can fail: red against green is lost to a deuteranope
    assert _min_distance(["#d62728", "#2ca02c"]) < 10
