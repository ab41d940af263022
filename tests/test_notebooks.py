"""The notebooks: jupytext percent-format sources in ``notebooks/``, run on the Luton data.

The docs build executes each ``notebooks/NN_name.py`` once (``scripts/mkdocs_hooks.py``,
nbclient, from inside ``notebooks/``) and publishes the executed notebook as a page with
its outputs; a cell that raises stops the build. The slow tests here read that built
site: ``scripts/test.sh`` builds it after ``nwm-geo import-data`` and ``nwm-geo
localities`` and passes its folder in ``NWM_GEO_SITE_DIR``; without the variable they
build it themselves (``mkdocs build --strict``). No ``.ipynb`` is stored. The static
checks are in the fast tier.
"""

from __future__ import annotations

import html
import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def _read(path: Path) -> nbformat.NotebookNode:
    return jupytext.read(path, fmt="py:percent")


def test_the_notebooks_exist() -> None:
    names = [p.name for p in NOTEBOOKS]
    assert names == [
        "01_data_and_register.py",
        "02_localities.py",
        "03_walk_coverage.py",
        "04_asset_requirements.py",
        "05_equity.py",
        "06_hubs.py",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_a_story_with_one_setup_call(path: Path) -> None:
    nb = _read(path)
    kinds = [cell.cell_type for cell in nb.cells]
    assert kinds[0] == "markdown" and nb.cells[0].source.startswith("# "), "opens with a title"
    assert kinds.count("markdown") >= 2 and kinds.count("code") >= 3
    code = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    assert "nwm_geo.notebook_setup()" in code[0], "the first code cell sets the session up"
    joined = "\n".join(code)
    assert joined.count("notebook_setup(") == 1
    for side_effect in ("os.chdir", "import_bundle(", "os.environ", "warnings.filterwarnings"):
        assert side_effect not in joined, f"{path.name}: {side_effect} belongs in notebook_setup"
    # a notebook reads the project's saved plan; only 02_localities solves one, on purpose
    assert "Study()" not in joined and "pipeline import Study" not in joined
    if "Study" in joined:
        assert "nwm_geo.Study.from_outputs()" in joined


def test_the_docs_site_lists_every_notebook() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    listed = re.findall(r"^\s*- notebooks/(\S+)\.ipynb\s*$", nav, flags=re.MULTILINE)
    assert listed == [p.stem for p in NOTEBOOKS]


# --- the built site (slow tier) ------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The docs site with the executed notebooks: ``$NWM_GEO_SITE_DIR``, else built here."""
    given = os.environ.get("NWM_GEO_SITE_DIR")
    if given:
        yield Path(given)
        return
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr[-4000:]
    yield out


def _executed(site: Path, path: Path) -> nbformat.NotebookNode:
    """The executed notebook the site offers for download next to the page."""
    return nbformat.read(site / "notebooks" / path.stem / f"{path.stem}.ipynb", as_version=4)


def _outputs(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


@pytest.mark.notebooks
@pytest.mark.integration
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_ran_in_full_for_the_docs_site(site: Path, path: Path) -> None:
    nb = _executed(site, path)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    # the site was built from these sources, not from an older copy
    assert [c.source for c in code] == [
        c.source for c in _read(path).cells if c.cell_type == "code"
    ]
    assert all(cell.execution_count is not None for cell in code), "every code cell ran"
    outputs = _outputs(nb)
    assert not [out for out in outputs if out.output_type == "error"]
    # nothing red on the page: no warning or progress bar text on stderr
    stderr = [out.text for out in outputs if out.get("name") == "stderr"]
    assert stderr == [], f"{path.name} writes to stderr: {stderr}"
    # a cell ending in a maps.plot_* call shows the figure (no %matplotlib inline needed)
    for cell in code:
        last = cell.source.strip().splitlines()[-1:]
        opens = [ln for ln in cell.source.splitlines() if ln.startswith("maps.plot_")]
        if opens and last and not last[0].startswith(("#", " ")):
            kinds = [set(out.get("data", {})) for out in cell.outputs]
            assert any("image/png" in k for k in kinds), f"{path.name}: a figure did not show"


def _html_outputs(nb: nbformat.NotebookNode) -> dict[str, int]:
    """What the page must show for the notebook's outputs: figures, tables, maps."""
    shown = {"figures": 0, "tables": 0, "maps": 0}
    for out in _outputs(nb):
        data = out.get("data", {})
        if "image/png" in data:
            shown["figures"] += 1
        elif "text/html" in data:
            text = data["text/html"]
            shown["tables"] += text.count('class="dataframe')
            shown["maps"] += text.count("<iframe")
    return shown


def _shown_on_page(page: str) -> dict[str, int]:
    return {
        "figures": len(re.findall(r'<img [^>]*src="data:image/png;base64,', page)),
        "tables": page.count('<table border="1" class="dataframe'),
        "maps": len(re.findall(r'<iframe [^>]*srcdoc="&lt;!DOCTYPE html&gt;', page)),
    }


@pytest.mark.notebooks
@pytest.mark.integration
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_page_shows_the_outputs(site: Path, path: Path) -> None:
    nb = _executed(site, path)
    page = (site / "notebooks" / path.stem / "index.html").read_text(encoding="utf-8")
    wanted = _html_outputs(nb)
    assert wanted["tables"] >= 1, f"{path.name}: no table among the outputs"
    assert _shown_on_page(page) == wanted
    # the printed lines are on the page too
    for out in _outputs(nb):
        if out.get("name") == "stdout":
            for line in out.text.strip().splitlines()[:3]:
                assert html.escape(line.strip(), quote=False) in page, line


@pytest.mark.notebooks
@pytest.mark.integration
def test_the_notebook_pages_carry_figures_and_maps(site: Path) -> None:
    shown = {p.stem: _shown_on_page(
        (site / "notebooks" / p.stem / "index.html").read_text(encoding="utf-8")
    ) for p in NOTEBOOKS}  # fmt: skip
    assert shown["01_data_and_register"]["figures"] >= 1  # the register and demand plot
    assert shown["04_asset_requirements"]["figures"] >= 2  # coverage and locality pack page
    for stem in ("02_localities", "03_walk_coverage", "04_asset_requirements", "06_hubs"):
        assert shown[stem]["maps"] >= 1, f"{stem}: no interactive map on the page"


def _hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mkdocs_hooks", ROOT / "scripts/mkdocs_hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.notebooks
def test_a_failing_cell_stops_the_docs_build_naming_the_notebook(tmp_path: Path) -> None:
    from mkdocs.exceptions import PluginError

    good = tmp_path / "01_fine.py"
    good.write_text("# %%\nprint(6 * 7)\n", encoding="utf-8")
    bad = tmp_path / "02_broken.py"
    bad.write_text("# %%\nx = 1\n\n# %%\nraise ValueError('a broken cell')\n", encoding="utf-8")
    hooks = _hooks()
    failed = r"(?s)notebooks/02_broken\.py failed.*a broken cell"
    with pytest.raises(PluginError, match=failed) as e:
        hooks.execute_notebooks([good, bad], tmp_path / "out", workers=2)
    assert "raise ValueError('a broken cell')" in str(e.value)  # the cell, as written
    assert "\x1b[" not in str(e.value)  # plain text in the build log, no terminal colours
