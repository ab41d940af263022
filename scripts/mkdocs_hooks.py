"""MkDocs hooks: README.md is the home page; the notebooks are executed into pages.

Both live outside ``docs/``, so they are added to the site's files here instead of
being copied. Each ``notebooks/NN_*.py`` (jupytext percent format) is executed once,
with nbclient, from inside ``notebooks/`` as a reader would open it, and the executed
notebook, outputs and all, becomes the page ``notebooks/NN_name.ipynb``; mkdocs-jupyter
(priority 0, ``execute: false``) renders it and copies it next to the page for download.
A cell that raises stops the build, naming the notebook and the cell: the docs build is
also the notebooks' test (``tests/test_notebooks.py`` then checks the built pages).
The notebooks read the plan ``nwm-geo localities`` (or ``run``) saved in
``data/processed``: the build stops, saying so, when there is none.
This hook runs first (priority 100) so mkdocs-jupyter sees the executed notebooks.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import jupytext
import nbformat
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from nwm_geo.data import ensure_bundle
from nwm_geo.pipeline import saved_plan

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
#: Notebooks executed at once (two kernels keep two cores busy).
WORKERS = max(1, min(2, os.cpu_count() or 1))
#: Seconds one cell may take before the build stops.
CELL_TIMEOUT_S = 600

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
log = get_plugin_logger("nwm_geo.notebooks")
_executed_dirs: list[Path] = []


def notebook_sources() -> list[Path]:
    """Return the notebooks, ``notebooks/NN_name.py``, in order."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))


async def _execute(source: Path, out_dir: Path, slots: asyncio.Semaphore) -> None:
    async with slots:
        start = time.perf_counter()
        nb = jupytext.read(source, fmt="py:percent")
        client = NotebookClient(
            nb,
            timeout=CELL_TIMEOUT_S,
            kernel_name="python3",
            resources={"metadata": {"path": str(source.parent)}},
        )
        try:
            await client.async_execute()  # stops at the first cell that raises
        except CellExecutionError as exc:
            text = _ANSI.sub("", str(exc))  # IPython colours its tracebacks
            raise PluginError(f"notebooks/{source.name} failed:\n{text}") from exc
        nbformat.write(nb, out_dir / f"{source.stem}.ipynb")
        log.info("executed notebooks/%s in %.0f s", source.name, time.perf_counter() - start)


async def _execute_all(sources: list[Path], out_dir: Path, workers: int) -> None:
    slots = asyncio.Semaphore(workers)
    tasks = [asyncio.create_task(_execute(s, out_dir, slots)) for s in sources]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:  # one failed: stop the others (their kernels shut down)
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def execute_notebooks(sources: list[Path], out_dir: Path, *, workers: int = WORKERS) -> list[Path]:
    """Execute each jupytext notebook into ``out_dir/<stem>.ipynb``; return those paths.

    Each runs in its own kernel from its own folder, ``workers`` at a time. Raises
    ``PluginError`` naming the notebook, with the failing cell and its traceback, when
    a cell raises.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    asyncio.run(_execute_all(sources, out_dir, max(1, workers)))
    log.info(
        "executed %d notebooks in %.0f s (%d at once)",
        len(sources),
        time.perf_counter() - start,
        workers,
    )
    return [out_dir / f"{s.stem}.ipynb" for s in sources]


def _prepare_project() -> None:
    """Import the bundle if needed (once, before the kernels start); require a saved plan."""
    project = Path(os.environ.get("NWM_GEO_PROJECT_DIR") or ROOT)  # as notebook_setup()
    ensure_bundle(project_dir=project)
    if saved_plan(project, "") is None:
        raise PluginError(
            f"The notebooks read the plan saved in {project / 'data' / 'processed'}, and "
            "there is none: run `nwm-geo localities` (or `nwm-geo run`) first."
        )


@event_priority(100)
def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Add README.md as ``index.md`` and every executed notebook as a page."""
    if files.get_file_from_path("index.md") is None:
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        files.append(File.generated(config, "index.md", content=readme))
    _prepare_project()
    build = Path(tempfile.mkdtemp(prefix="nwm-geo-notebooks-"))
    _executed_dirs.append(build)
    for path in execute_notebooks(notebook_sources(), build / "notebooks"):
        files.append(
            File(
                f"notebooks/{path.name}",
                src_dir=str(build),
                dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls,
            )
        )
    return files


def _remove_executed() -> None:
    while _executed_dirs:
        shutil.rmtree(_executed_dirs.pop(), ignore_errors=True)


def on_post_build(*, config: MkDocsConfig) -> None:
    """Remove the executed notebooks' folder (the site keeps a copy of each)."""
    _remove_executed()


def on_build_error(*, error: Exception) -> None:
    """Remove the executed notebooks' folder when the build fails."""
    _remove_executed()
