"""One call that prepares a notebook session: :func:`notebook_setup`.

In: the notebook's working directory (the project root or ``notebooks/``). Out: the
project directory, made the working directory, with the data bundle imported into
``data/raw``. The notebooks call it in their first cell instead of repeating the set-up.

A notebook only reads: when the bundle is already imported it takes no write lock, so it
works while ``nwm-geo run`` publishes in the same project, and a changed shared bundle
gives a warning, not an error (:func:`nwm_geo.data.ensure_bundle`).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["find_project_dir", "notebook_setup"]


def find_project_dir(start: Path | str | None = None) -> Path:
    """Return the project directory that holds ``start`` (default: the working directory).

    The project directory is the nearest folder, ``start`` included, that contains a
    ``pyproject.toml`` next to a ``data`` folder. Without one, ``start`` itself, or its
    parent when ``start`` is a ``notebooks`` folder.

    Parameters
    ----------
    start
        Where to begin looking; the working directory by default.

    Returns
    -------
    pathlib.Path
        The project directory, resolved.
    """
    here = Path.cwd() if start is None else Path(start)
    here = here.resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "data").is_dir():
            return folder
    return here.parent if here.name == "notebooks" else here


def notebook_setup(
    *,
    project_dir: Path | str | None = None,
    import_data: bool = True,
) -> Path:
    """Prepare a notebook session: working directory, environment and data.

    Makes the project directory the working directory (so ``data/raw``,
    ``data/processed`` and ``reports`` are found), sets ``NWM_GEO_PROJECT_DIR`` to it,
    and makes the bundle readable (:func:`nwm_geo.data.ensure_bundle`): imported into
    ``data/raw`` the first time; afterwards read as imported, with no write lock (a run
    may be publishing) and a warning if the shared bundle has changed.

    Parameters
    ----------
    project_dir
        The project directory; by default ``$NWM_GEO_PROJECT_DIR`` when set, else
        found with :func:`find_project_dir`.
    import_data
        Import the data bundle; ``False`` only changes the directory and environment.

    Returns
    -------
    pathlib.Path
        The project directory.
    """
    if project_dir is None:
        project_dir = os.environ.get("NWM_GEO_PROJECT_DIR") or find_project_dir()
    root = Path(project_dir).resolve()
    os.chdir(root)
    os.environ["NWM_GEO_PROJECT_DIR"] = str(root)
    if import_data:
        from nwm_geo.data import ensure_bundle  # heavy (geopandas); only when asked

        ensure_bundle(project_dir=root)
    else:
        from nwm_geo._readers import settle

        settle(root)
    _progress_bars_as_widgets()
    return root


def _progress_bars_as_widgets() -> None:
    """Let tqdm draw widgets when ipywidgets is installed (``pip install -e ".[notebooks]"``).

    Without it, ``tqdm.auto`` falls back to text bars with a ``TqdmWarning``; the
    warning is silenced here, once, since the text bars work.
    """
    import importlib.util
    import warnings

    if importlib.util.find_spec("ipywidgets") is None:
        warnings.filterwarnings("ignore", message="IProgress not found")
