"""Atomic output writing.

Nothing partial is ever written: every command stages its files in a temporary
folder beside the destination and moves them into place only when all of them
were written. A failure leaves the destination as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "staged_outputs"]


@contextmanager
def atomic_path(dest: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path; on success it replaces ``dest`` atomically.

    Parameters
    ----------
    dest
        The final file path.

    Yields
    ------
    Path
        A path in the same folder to write to. It is removed on failure.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{dest.name}.", suffix=".tmp" + dest.suffix, dir=dest.parent
    )
    os.close(fd)
    os.unlink(tmp)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextmanager
def staged_outputs(dest_dir: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a staging folder; on success its files are moved into ``dest_dir``.

    Files are written into the staging folder (sub-folders allowed). Only when the
    ``with`` block ends without an exception are they moved, file by file with
    :func:`os.replace`, into ``dest_dir``. On any exception nothing is moved and the
    staging folder is deleted.

    Parameters
    ----------
    dest_dir
        The folder that receives the outputs.

    Yields
    ------
    Path
        The staging folder.
    """
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=dest_dir))
    try:
        yield stage
        for src in sorted(p for p in stage.rglob("*") if p.is_file()):
            target = dest_dir / src.relative_to(stage)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
