"""Atomic output writing: single files, and whole output folders switched as one.

In: files written into a staging folder. Out: the project's output folders
(``data/processed`` and ``reports``, or ``data/raw`` for the bundle import), all
switched to the new generation or none of them.

Design
------
Every command that writes holds an exclusive :func:`fcntl.flock` on
``<project>/.nwm-geo.lock`` (:func:`project_lock`) from its start to its end, so two
runs in one project cannot interleave; the second refuses (or waits up to a
timeout) and names the holder's pid and start time, which the holder writes into
the lock file.

Under the lock, :func:`staged_outputs`:

1. finishes or undoes a switch a killed run left behind (:func:`recover`) and removes
   leftover ``.staging-*`` folders (:func:`clean_leftovers`);
2. yields a fresh ``<project>/.staging-*`` folder; the caller writes its files into
   ``stage / "data" / "processed"`` and ``stage / "reports"``;
3. completes each staged folder into a full new *generation*: every file of the
   current folder that was not re-written is hard-linked in (copied if links are not
   possible), so files of other stages survive; every file is fsync'd;
4. writes the journal ``<project>/.nwm-geo-switch.json`` (temporary file, fsync,
   ``os.replace``, fsync of the folder): it names, for every folder, the new
   generation and where the current one goes;
5. renames each current folder aside (into the staging folder) and the new
   generation into place; a directory rename is atomic on one filesystem. SIGINT and
   SIGTERM are deferred during this step, so Ctrl-C lands before or after it;
6. deletes the journal, then the staging folder with the old generations.

A reader that finds the journal (:func:`pending_switch`) knows a switch is half-done;
:func:`finish_pending` completes it when no writer is running. At the next start a
leftover journal is rolled *forward* (the journal is only written once every new
generation is complete); when that is impossible (for example a new generation was
lost), or after a failure inside the running process, it is rolled *back* to the
previous generation. Either way every output folder holds the same run's files
afterwards.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from nwm_geo._errors import NwmGeoError

__all__ = [
    "JOURNAL_NAME",
    "LOCK_NAME",
    "OUTPUT_FOLDERS",
    "LockedError",
    "atomic_path",
    "clean_leftovers",
    "fill_from_current",
    "finish_pending",
    "fsync_tree",
    "lock_path",
    "pending_switch",
    "project_lock",
    "recover",
    "remove_partial_files",
    "staged_outputs",
    "switch_folders",
]

#: The lock file, in the project folder.
LOCK_NAME = ".nwm-geo.lock"

#: The journal of a pending switch, in the project folder.
JOURNAL_NAME = ".nwm-geo-switch.json"

#: The output folders a pipeline run switches, relative to the project folder.
OUTPUT_FOLDERS: tuple[str, ...] = ("data/processed", "reports")

_STAGING_PREFIX = ".staging-"
_OLD = ".old"
_DEFERRED = {signal.SIGINT, signal.SIGTERM}


class LockedError(NwmGeoError):
    """Another nwm-geo process holds the project's lock."""


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


# --------------------------------------------------------------------------- lock


def lock_path(root: str | os.PathLike[str]) -> Path:
    """Return the lock file of a project folder (``<root>/.nwm-geo.lock``).

    Parameters
    ----------
    root
        The project folder.

    Returns
    -------
    Path
        The lock file (it may not exist yet).
    """
    return Path(root) / LOCK_NAME


@contextmanager
def project_lock(
    root: str | os.PathLike[str],
    *,
    timeout: float = 0.0,
    poll: float = 0.2,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Path]:
    """Hold the exclusive lock of a project folder for the ``with`` block.

    The lock is an :func:`fcntl.flock` on ``<root>/.nwm-geo.lock``; the kernel
    releases it when the process ends, however it ends. It is not re-entrant: a
    second ``project_lock`` on the same folder, even in the same process, waits or
    refuses like any other.

    Parameters
    ----------
    root
        The project folder (created if missing).
    timeout
        Seconds to wait for another holder; ``0`` refuses at once.
    poll
        Seconds between attempts while waiting.
    clock, sleep
        Time source and sleep function (injectable for tests).

    Yields
    ------
    Path
        The lock file.

    Raises
    ------
    LockedError
        If another process still holds the lock after ``timeout`` seconds, naming its
        pid and start time.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    path = lock_path(root)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        start = clock()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise NwmGeoError(f"{path}: cannot lock: {exc.strerror}") from exc
                waited = clock() - start
                if waited >= timeout:
                    holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
                    waited_text = f" after waiting {waited:.0f} s" if timeout > 0 else ""
                    raise LockedError(
                        f"another nwm-geo run holds the lock on {root} "
                        f"({holder or 'holder unknown'}){waited_text}; nothing was changed. "
                        f"Try again when it has finished (lock file {path})."
                    ) from None
                sleep(min(poll, max(timeout - waited, 0.0)))
        started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, started at {started}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)  # releases the flock


# ------------------------------------------------------------------ durability


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    """Flush every file and folder under ``folder`` to disk.

    Parameters
    ----------
    folder
        The folder.
    """
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            p = Path(dirpath) / name
            if p.is_symlink():
                continue
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM during the block; a caught one is handled when it ends.

    Python runs signal handlers in the main thread only, so elsewhere this does
    nothing. A deferred Ctrl-C raises :class:`KeyboardInterrupt` as the block ends; a
    deferred SIGTERM with the default action is re-sent then.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[signal.Signals] = []

    def hold(signum: int, frame: object) -> None:
        caught.append(signal.Signals(signum))

    old = {s: signal.signal(s, hold) for s in _DEFERRED}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        if caught:
            handler = old[caught[0]]
            if callable(handler):
                handler(caught[0], None)  # default_int_handler raises KeyboardInterrupt
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), caught[0])


# ------------------------------------------------------------- generations


def fill_from_current(current: Path, new: Path) -> None:
    """Hard-link (or copy) into ``new`` every file of ``current`` it does not have.

    This completes a new generation of a folder when a run re-wrote only some files.

    Parameters
    ----------
    current
        The current folder (may be missing).
    new
        The new generation, holding the files written by this run.

    Raises
    ------
    NwmGeoError
        If ``current`` exists but is not a folder.
    """
    if not current.exists() and not current.is_symlink():
        return
    if not current.is_dir() or current.is_symlink():
        raise NwmGeoError(
            f"{current}: expected a folder, found a file; move it away and run again "
            "(nothing was changed)"
        )
    for src in sorted(current.rglob("*")):
        dst = new / src.relative_to(current)
        if src.is_dir() and not src.is_symlink():
            dst.mkdir(parents=True, exist_ok=True)
            continue
        if dst.exists() or dst.is_symlink():
            continue  # re-written by this run
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dst, follow_symlinks=False)
        except OSError:
            shutil.copy2(src, dst, follow_symlinks=False)


def pending_switch(root: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Return the journal of a half-done switch in ``root``, or ``None``.

    Parameters
    ----------
    root
        The project folder.

    Returns
    -------
    dict or None
        The journal: ``stage`` and ``folders`` (each ``target``, ``new``, ``old``,
        ``had_old``; paths relative to ``root``).

    Raises
    ------
    NwmGeoError
        If the journal cannot be read.
    """
    path = Path(root) / JOURNAL_NAME
    if not path.exists():
        return None
    try:
        journal: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NwmGeoError(f"{path}: unreadable switch journal: {exc}") from exc
    return journal


def _write_journal(root: Path, journal: Mapping[str, Any]) -> None:
    path = root / JOURNAL_NAME
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(journal, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(root)


def _drop_journal(root: Path) -> None:
    (root / JOURNAL_NAME).unlink(missing_ok=True)
    _fsync_dir(root)


def _roll(root: Path, journal: Mapping[str, Any], direction: Literal["forward", "back"]) -> None:
    for f in journal["folders"]:
        target, new, old = root / f["target"], root / f["new"], root / f["old"]
        if direction == "forward":
            if new.exists():  # not switched yet
                if f["had_old"] and target.exists():
                    old.parent.mkdir(parents=True, exist_ok=True)
                    os.rename(target, old)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.rename(new, target)
            elif f["had_old"] and not old.exists():
                raise FileNotFoundError(errno.ENOENT, "new generation lost", str(new))
        else:
            if not new.exists() and target.exists() and (old.exists() or not f["had_old"]):
                new.parent.mkdir(parents=True, exist_ok=True)  # switched: take it out
                os.rename(target, new)
            if f["had_old"] and old.exists() and not target.exists():
                os.rename(old, target)
        _fsync_dir(target.parent)


def recover(root: str | os.PathLike[str], *, prefer: Literal["forward", "back"] = "forward") -> str:
    """Finish or undo a half-done switch in ``root``; call it holding the lock.

    Parameters
    ----------
    root
        The project folder.
    prefer
        ``"forward"`` completes the switch to the new generation (what the next
        start does: the journal exists only once every new generation is complete);
        ``"back"`` restores the previous one. If the preferred way fails, the other
        is tried.

    Returns
    -------
    str
        ``"nothing to do"``, ``"rolled forward"`` or ``"rolled back"``.

    Raises
    ------
    NwmGeoError
        If neither way succeeds; the journal is kept for the next attempt.
    """
    root = Path(root)
    journal = pending_switch(root)
    if journal is None:
        return "nothing to do"
    other: Literal["forward", "back"] = "back" if prefer == "forward" else "forward"
    errors = []
    for direction in (prefer, other):
        try:
            _roll(root, journal, direction)
        except OSError as exc:
            errors.append(f"rolling {direction}: {exc.strerror} ({exc.filename})")
            continue
        _drop_journal(root)
        return "rolled forward" if direction == "forward" else "rolled back"
    raise NwmGeoError(
        f"{root / JOURNAL_NAME}: a switch of "
        + ", ".join(f["target"] for f in journal["folders"])
        + " was interrupted and cannot be finished or undone: "
        + "; ".join(errors)
    )


def finish_pending(root: str | os.PathLike[str]) -> str:
    """For readers: finish a half-done switch in ``root`` if no writer is running.

    Parameters
    ----------
    root
        The project folder.

    Returns
    -------
    str
        ``"nothing to do"``, ``"rolled forward"`` or ``"rolled back"``.

    Raises
    ------
    LockedError
        If a writer holds the lock (it finishes the switch itself).
    """
    root = Path(root)
    if pending_switch(root) is None:
        return "nothing to do"
    with project_lock(root):
        outcome = recover(root)
        clean_leftovers(root)
    return outcome


def remove_partial_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete partial temporary files (``.<name>...tmp...``) left in a folder tree.

    Parameters
    ----------
    folder
        The folder, such as ``data/raw``.

    Returns
    -------
    list of Path
        The files removed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    gone = [p for p in folder.rglob(".*.tmp*") if p.is_file() or p.is_symlink()]
    for p in gone:
        p.unlink(missing_ok=True)
    return gone


def clean_leftovers(root: str | os.PathLike[str]) -> list[Path]:
    """Remove leftover staging folders (with old generations) after :func:`recover`.

    Call it holding the lock and with no switch pending.

    Parameters
    ----------
    root
        The project folder.

    Returns
    -------
    list of Path
        The folders and files removed.
    """
    root = Path(root)
    if pending_switch(root) is not None:
        return []
    gone = [p for p in root.glob(_STAGING_PREFIX + "*") if p.is_dir()]
    for p in gone:
        shutil.rmtree(p, ignore_errors=True)
    tmp_journal = root / (JOURNAL_NAME + ".tmp")
    if tmp_journal.exists():
        tmp_journal.unlink()
        gone.append(tmp_journal)
    return gone


def switch_folders(
    root: str | os.PathLike[str],
    stage: str | os.PathLike[str],
    folders: Sequence[str],
    *,
    before_switch: Callable[[], None] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> None:
    """Switch ``root / f`` to the complete new generation ``stage / f``, all as one.

    Call it holding the lock. ``stage`` must be inside ``root``; the old generations
    are moved into ``stage / ".old"``.

    Parameters
    ----------
    root
        The project folder.
    stage
        The staging folder holding each new generation at the same relative path.
    folders
        Folders relative to ``root`` (and ``stage``) to switch.
    before_switch
        Called after the journal is written, before the first rename (fault
        injection for tests).
    on_step
        Called with a description after every rename (fault injection for tests).

    Raises
    ------
    NwmGeoError
        If a folder cannot be switched; the previous generation is restored first.
    """
    root, stage = Path(root), Path(stage)
    rel_stage = stage.relative_to(root)
    journal: dict[str, Any] = {
        "stage": rel_stage.as_posix(),
        "folders": [
            {
                "target": f,
                "new": (rel_stage / f).as_posix(),
                "old": (rel_stage / _OLD / f).as_posix(),
                "had_old": (root / f).exists() or (root / f).is_symlink(),
            }
            for f in folders
        ],
    }
    switched = False
    try:
        with _signals_deferred():
            try:
                _write_journal(root, journal)
                if before_switch is not None:
                    before_switch()
                for f in journal["folders"]:
                    target, new, old = root / f["target"], root / f["new"], root / f["old"]
                    if f["had_old"]:
                        old.parent.mkdir(parents=True, exist_ok=True)
                        os.rename(target, old)
                        if on_step is not None:
                            on_step(f"moved the current {f['target']} aside")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.rename(new, target)
                    _fsync_dir(target.parent)
                    if on_step is not None:
                        on_step(f"moved the new {f['target']} into place")
                _drop_journal(root)
            except BaseException as exc:
                if pending_switch(root) is not None:
                    outcome = recover(root, prefer="back")
                    exc.add_note(
                        "nothing was changed"
                        if outcome == "rolled back"
                        else "the outputs were switched to this run's files"
                    )
                if isinstance(exc, OSError):
                    raise NwmGeoError(
                        f"{exc.filename}: cannot switch it into place: {exc.strerror}; "
                        "nothing was changed"
                    ) from exc
                raise
            switched = True
    except KeyboardInterrupt as exc:  # deferred Ctrl-C, raised when the switch ended
        if switched:
            exc.add_note("the outputs were switched to this run's files")
        raise


@contextmanager
def staged_outputs(
    dest_dir: str | os.PathLike[str],
    *,
    folders: Sequence[str] = OUTPUT_FOLDERS,
    lock_timeout: float = 0.0,
    before_switch: Callable[[], None] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> Iterator[Path]:
    """Yield a staging folder; on success the staged output folders switch as one.

    Holds the project lock for the whole ``with`` block (see :func:`project_lock`),
    first finishing any half-done switch (:func:`recover`) and removing leftovers
    (:func:`clean_leftovers`). Files are written into the staging folder under the
    ``folders`` (``stage / "data" / "processed"``, ``stage / "reports"``). When the
    block ends without an exception, every folder that received files becomes a full
    new generation (the current folder's other files are hard-linked in) and all of
    them are switched in one journalled step (:func:`switch_folders`). On any
    exception nothing is switched and the staging folder is deleted.

    Parameters
    ----------
    dest_dir
        The project folder (holding ``data/processed`` and ``reports``).
    folders
        The output folders, relative to ``dest_dir``; staged files must lie in them.
    lock_timeout
        Seconds to wait for another run's lock; ``0`` refuses at once.
    before_switch, on_step
        Fault-injection hooks passed to :func:`switch_folders`.

    Yields
    ------
    Path
        The staging folder.

    Raises
    ------
    LockedError
        If another run holds the lock.
    NwmGeoError
        If a staged file lies outside ``folders``, or a folder cannot be switched.
    """
    root = Path(dest_dir)
    with project_lock(root, timeout=lock_timeout):
        recover(root)
        clean_leftovers(root)
        stage = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=root))
        try:
            yield stage
            stray = [
                p.relative_to(stage).as_posix()
                for p in stage.rglob("*")
                if not p.is_dir() and not any(p.is_relative_to(stage / f) for f in folders)
            ]
            if stray:
                raise NwmGeoError(
                    f"{stage}: files outside the output folders {list(folders)}: {stray}"
                )
            changed = [f for f in folders if (stage / f).is_dir()]
            for f in changed:
                fill_from_current(root / f, stage / f)
                fsync_tree(stage / f)
            if changed:
                switch_folders(root, stage, changed, before_switch=before_switch, on_step=on_step)
        finally:
            if pending_switch(root) is None:
                shutil.rmtree(stage, ignore_errors=True)
