"""The decision explorer in headless Chromium: the same numbers as ``nwm-geo scenario``.

SYNTHETIC council (tests/conftest.py) for the contract, the keyboard, the exports and the
print view; the Luton file (real bundle) in the integration tier. Playwright drives
Debian's ``/usr/bin/chromium`` (no browser download): one browser and one tab per module.
Every test records the page's requests and fails on any that is not the file itself.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from playwright.sync_api import Browser, Error, Page, Request, sync_playwright

from _explorer import (
    COLUMNS,
    assert_same,
    chromium_path,
    fragment,
    page_data,
    python_compare,
    python_comparison,
    random_moves,
    random_scenario,
)
from conftest import build_synthetic_area
from nwm_geo import explorer, localities, pipeline

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def tab(browser: Browser) -> Iterator[Page]:
    """The module's one tab: a new tab costs Chromium about 0.3 CPU-s (see :class:`Opened`)."""
    page = browser.new_page(accept_downloads=True)
    yield page
    page.close()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("explorer")
    profile, data_dir = build_synthetic_area(root)
    study = pipeline.Study(area=profile, data_dir=data_dir)
    page = explorer.write_explorer(study, root / "explorer.html")
    return {"study": study, "page": page, "data": page_data(page), "root": root,
            "profile": profile, "data_dir": data_dir}  # fmt: skip


class Opened:
    """A page opened offline in the module's tab, with every request it made.

    The tab goes to ``about:blank`` first: a new document every time, even when only
    the URL's fragment differs from the last page's.
    """

    def __init__(self, tab: Page, url: str) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page: Page = tab
        self.page.goto("about:blank")
        self.page.on("request", self._request)
        self.page.on("pageerror", self._error)
        self.file = url.split("#")[0]
        self.page.goto(url)
        self.page.wait_for_function("() => window.nwmExplorer !== undefined")

    def comparison(self) -> pd.DataFrame:
        text = self.page.text_content("#nwm-comparison") or ""
        assert text, f"no comparison; errors: {self.page.text_content('#nwm-errors')}"
        return pd.DataFrame(json.loads(text))[COLUMNS]

    def assert_offline(self) -> None:
        others = [u for u in self.requests if u.split("#")[0] != self.file]
        others = [u for u in others if not u.startswith(("data:", "blob:"))]
        assert not others, f"the page made network requests: {others[:5]}"
        assert not self.errors, self.errors

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)

    def _error(self, error: Error) -> None:
        self.errors.append(str(error))

    def close(self) -> None:
        self.page.remove_listener("request", self._request)
        self.page.remove_listener("pageerror", self._error)


def test_fragment_scenarios_equal_pythons_comparison(
    tab: Page, synthetic: dict[str, Any], tmp_path: Path
) -> None:
    data, page = synthetic["data"], synthetic["page"]
    for seed in range(8):
        scenario = random_scenario(data, seed)
        if seed % 2:
            scenario["moves"] = random_moves(data, seed, n=1)
        opened = Opened(tab, page.as_uri() + fragment(scenario))
        got = opened.comparison()
        wards = pd.DataFrame(json.loads(opened.page.text_content("#nwm-comparison-wards") or ""))
        equity = pd.DataFrame(json.loads(opened.page.text_content("#nwm-comparison-equity") or ""))
        opened.assert_offline()
        opened.close()
        want = python_compare(synthetic["study"], scenario, tmp_path / str(seed))
        assert_same(got, want.localities[COLUMNS])
        assert (got["locality"] == "Synthetica").sum() == len(data["categories"]) + 4
        # the ward rows and the equity split too (comparison_wards / comparison_equity)
        assert_same(wards[list(want.wards.columns)], want.wards, keys=4)
        assert_same(equity[list(want.equity.columns)], want.equity, keys=2)


def test_a_bad_fragment_is_refused_with_reasons(tab: Page, synthetic: dict) -> None:
    scenario = {"close": ["site-9999"], "add": [{"category": "Librry", "postcode": "ZZ1 1ZZ"}],
                "minutes": 45}  # fmt: skip
    opened = Opened(tab, synthetic["page"].as_uri() + fragment(scenario))
    errors = opened.page.text_content("#nwm-errors") or ""
    assert "close[1]" in errors and "add[1].category" in errors and "beyond" in errors
    assert (opened.page.text_content("#nwm-comparison") or "") == ""
    opened.assert_offline()
    opened.close()


def test_keyboard_only_close_a_site_change_the_threshold_move_a_ward(
    tab: Page, synthetic: dict, tmp_path: Path
) -> None:
    site = synthetic["data"]["sites"][1]
    opened = Opened(tab, synthetic["page"].as_uri())
    page = opened.page
    for _ in range(40):  # Tab from the top of the page to the search box
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "nwm-search":
            break
    assert page.evaluate("document.activeElement.id") == "nwm-search"
    page.keyboard.type(site["name"])
    page.keyboard.press("Tab")  # the first result: the site
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.startswith("Close: ") and site["name"] in focused
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # on to the threshold, one step down: the next choice
    while page.evaluate("document.activeElement.id") != "nwm-minutes":
        page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    minutes = float(page.evaluate("document.getElementById('nwm-minutes').value"))
    assert minutes != synthetic["data"]["settings"]["minutes"]
    # move the first ward to another locality: Tab to the ward and locality choices,
    # arrow keys to choose, Enter on the button
    while page.evaluate("document.activeElement.id") != "nwm-move-to":
        page.keyboard.press("Tab")
    ward = synthetic["data"]["wards"][0]
    for _ in range(len(synthetic["data"]["localities"])):
        if page.evaluate("document.activeElement.value") != ward["locality"]:
            break
        page.keyboard.press("ArrowDown")
    target = page.evaluate("document.activeElement.value")
    assert target != ward["locality"]
    while page.evaluate("document.activeElement.id") != "nwm-move":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert "Moved: " + ward["name"] in (page.text_content("#nwm-changes") or "")
    got = opened.comparison()
    opened.assert_offline()
    opened.close()
    scenario = {"close": [site["id"]], "minutes": minutes, "moves": {ward["code"]: target}}
    assert_same(got, python_comparison(synthetic["study"], scenario, tmp_path))


def test_export_and_import_round_trip_through_the_cli(
    tab: Page, synthetic: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nwm_geo.cli import main

    data = synthetic["data"]
    scenario = random_scenario(data, 3)
    scenario["moves"] = random_moves(data, 3, n=1)
    scenario["minutes"] = 20.0
    opened = Opened(tab, synthetic["page"].as_uri() + fragment(scenario))
    shown = opened.comparison()
    files = {}
    for button in ("#nwm-export-toml", "#nwm-export-plan"):
        with opened.page.expect_download() as dl:
            opened.page.click(button)
        target = tmp_path / dl.value.suggested_filename
        dl.value.save_as(target)
        files[button] = target
    opened.assert_offline()
    opened.close()
    toml = files["#nwm-export-toml"].read_text(encoding="utf-8")
    assert 'plan = "explorer-plan.csv"' in toml and "[[close]]" in toml
    # the CLI reproduces the page's figures
    project = tmp_path / "project"
    monkeypatch.setenv("NWM_GEO_PROJECT_DIR", str(project))
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(synthetic["data_dir"]))
    args = ["scenario", "--quiet", "--area", str(synthetic["profile"])]
    assert main([*args, str(files["#nwm-export-toml"])]) == 0
    out = next(project.glob("scenarios/**/explorer-scenario/comparison_localities.csv"))
    assert_same(shown, pd.read_csv(out)[COLUMNS])
    # importing the two files into a fresh page gives the same state and figures
    fresh = Opened(tab, synthetic["page"].as_uri())
    fresh.page.set_input_files("#nwm-import-plan", str(files["#nwm-export-plan"]))
    fresh.page.wait_for_function(
        "() => Object.keys(window.nwmExplorer.scenario().moves).length > 0", timeout=5000
    )
    fresh.page.set_input_files("#nwm-import-toml", str(files["#nwm-export-toml"]))
    fresh.page.wait_for_function(
        "() => document.getElementById('nwm-minutes').value === '20'", timeout=5000
    )
    assert_same(fresh.comparison(), shown)
    assert fresh.page.evaluate("window.nwmExplorer.scenarioToml()") == toml
    fresh.assert_offline()
    fresh.close()


def test_hostile_names_stay_text(tab: Page, tmp_path: Path) -> None:
    profile, data_dir = build_synthetic_area(tmp_path)
    study = pipeline.Study(area=profile, data_dir=data_dir)
    reg = study.register
    reg.loc[reg.index[0], "name"] = "<img src=x onerror=window.pwned=1>Hall"
    reg.loc[reg.index[1], "name"] = "</script><script>window.pwned=2</script>Club"
    page = explorer.write_explorer(study, tmp_path / "explorer.html")
    opened = Opened(tab, page.as_uri())
    opened.page.fill("#nwm-search", "script")
    opened.page.fill("#nwm-search", "img")
    opened.page.hover(".nwm-site")  # a tooltip is drawn from the names
    assert opened.page.evaluate("window.pwned") is None
    assert opened.page.locator("img[src=x]").count() == 0
    assert "<img src=x" in (opened.page.text_content("#nwm-results") or "")
    assert opened.page.title().startswith("What if? Decision explorer")
    opened.assert_offline()
    opened.close()


def test_print_view_fits_one_a4_page(tab: Page, synthetic: dict, tmp_path: Path) -> None:
    data = synthetic["data"]
    scenario = random_scenario(data, 5)
    scenario["moves"] = random_moves(data, 5, n=1)
    opened = Opened(tab, synthetic["page"].as_uri() + fragment(scenario))
    pdf = opened.page.pdf(format="A4", print_background=True)
    opened.assert_offline()
    opened.close()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 1, f"the print view takes {pages} A4 pages"


@pytest.mark.integration
@pytest.mark.xdist_group("areas")
def test_luton_explorer_is_small_offline_and_exact(
    tab: Page, tmp_path: Path, luton_study: pipeline.Study, luton_run: Any
) -> None:
    study = luton_study  # the session's one Luton study and run (tests/conftest.py)
    page = luton_run.reports / "explorer.html"  # as `nwm-geo run` wrote it
    size = page.stat().st_size
    assert size < 5_000_000, f"{size:,} bytes"
    data = page_data(page)
    assert len(data["sites"]) == len(study.register) and data["candidates"]
    for seed in range(6):
        scenario = random_scenario(data, 100 + seed)
        if seed in (2, 5):
            scenario["moves"] = random_moves(data, seed)
        opened = Opened(tab, page.as_uri() + fragment(scenario))
        got = opened.comparison()
        opened.assert_offline()
        opened.close()
        assert_same(got, python_comparison(study, scenario, tmp_path / str(seed)))


@pytest.mark.integration
@pytest.mark.xdist_group("areas")
def test_rutland_explorer_is_offline_and_exact(
    tab: Page, tmp_path: Path, rutland_study: pipeline.Study, rutland_run: Any
) -> None:
    study = rutland_study  # the session's one Rutland study and run (tests/conftest.py)
    page = rutland_run.reports / "explorer.html"  # as `nwm-geo run` wrote it
    data = page_data(page)
    assert data["area"] == "Rutland" and data["output_subdir"] == "rutland"
    for seed in range(3):
        scenario = random_scenario(data, 200 + seed)
        if seed == 1:
            scenario["moves"] = random_moves(data, seed, n=1)
        opened = Opened(tab, page.as_uri() + fragment(scenario))
        got = opened.comparison()
        opened.assert_offline()
        opened.close()
        assert_same(got, python_comparison(study, scenario, tmp_path / str(seed)))


def test_a_ward_move_that_splits_a_locality_is_flagged_at_once(tab: Page, synthetic: dict) -> None:
    study = synthetic["study"]
    data = synthetic["data"]
    opened = Opened(tab, synthetic["page"].as_uri())
    seen = set()
    codes = [w["code"] for w in data["wards"]]
    for labels in itertools.product(data["localities"], repeat=len(codes)):
        moved = pd.Series(labels, index=codes)
        if moved.nunique() < len(data["localities"]):
            continue  # a locality left empty is not a plan
        moves = {c: x for c, x, w in zip(codes, labels, data["wards"], strict=True)
                 if x != w["locality"]}  # fmt: skip
        parts = localities.plan_parts(study.wards, moved)  # Python's contiguity check
        broken = sorted(str(x) for x in parts.index[parts > 1])
        opened.page.evaluate("(sc) => window.nwmExplorer.apply(sc)", {"moves": moves})
        text = opened.page.text_content("#nwm-contiguity") or ""
        if broken:
            assert text == "Not contiguous: " + ", ".join(broken) + ".", (moves, text)
        else:
            assert text == "Every locality is contiguous.", (moves, text)
        seen.add(bool(broken))
    opened.assert_offline()
    opened.close()
    assert seen == {True, False}, "the synthetic moves include both cases"


def test_best_hub_per_locality_is_pythons_and_moves_with_closures(
    tab: Page, synthetic: dict
) -> None:
    study = synthetic["study"]
    opened = Opened(tab, synthetic["page"].as_uri())
    page = opened.page.evaluate("() => window.nwmExplorer.result().hubs")
    hubs = study.hubs.set_index("locality")
    for loc, row in hubs.iterrows():
        if not row["hub_asset_id"]:
            assert str(loc) not in page
            continue
        assert page[str(loc)]["id"] == row["hub_asset_id"], loc
        assert page[str(loc)]["score"] == row["residents_within"], loc
    # closing a locality's hub: the page's new best hub is Python's best of the others
    loc, row = next((k, r) for k, r in hubs.iterrows() if r["hub_asset_id"] in study.register.index)
    opened.page.evaluate("(sc) => window.nwmExplorer.apply(sc)", {"close": [row["hub_asset_id"]]})
    after = opened.page.evaluate("() => window.nwmExplorer.result().hubs")
    scen = study.with_changes(close=[row["hub_asset_id"]])
    want = scen.hubs.set_index("locality").loc[loc]
    if want["hub_asset_id"]:
        assert after[str(loc)]["id"] == want["hub_asset_id"]
        assert after[str(loc)]["score"] == want["residents_within"]
    else:
        assert str(loc) not in after
    opened.assert_offline()
    opened.close()
