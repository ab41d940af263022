"""The notebooks: jupytext percent-format sources in ``notebooks/``, run on the Luton data.

Each ``notebooks/NN_name.py`` is turned into a notebook in memory (jupytext) and executed
with nbclient from inside ``notebooks/``, as a reader would open it. No ``.ipynb`` is
stored. The static checks are in the fast tier; executing needs the real bundle.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

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


@pytest.mark.notebooks
@pytest.mark.integration
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path) -> None:
    nb = _read(path)
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "notebooks")}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on failure
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.get("output_type") == "error"
    ]
    assert not errors
    assert all(cell.execution_count is not None for cell in nb.cells if cell.cell_type == "code"), (
        "every code cell ran"
    )
    # a cell ending in a maps.plot_* call shows the figure (no %matplotlib inline needed)
    for cell in nb.cells:
        last = cell.source.strip().splitlines()[-1:] if cell.cell_type == "code" else []
        opens = [ln for ln in cell.source.splitlines() if ln.startswith("maps.plot_")]
        if opens and last and not last[0].startswith(("#", " ")):
            kinds = [set(out.get("data", {})) for out in cell.outputs]
            assert any("image/png" in k for k in kinds), f"{path.name}: a figure did not show"
