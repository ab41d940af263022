"""Reads that never block: a reader's view of a project while a run publishes.

In: a project folder. Out: its output folders as one complete generation, without
taking the write lock for longer than an instant and never waiting for a run.

A writer (:func:`nwm_geo._io.staged_outputs`) builds its new generation in a staging
folder; the current folders stay untouched, so a reader reads them as they are. The
only moment a reader can see a mix is a *pending switch*: the journal
``.nwm-geo-switch.json`` is on disk while the folders are renamed one by one. Then:

- when no writer holds the lock (the writer was killed in its switch), the reader takes
  the lock without waiting and rolls the switch forward (:func:`nwm_geo._io.recover`);
- when a writer holds it, it is inside its switch (a few renames, milliseconds): the
  reader waits for the journal to go, at most ``wait`` seconds, and reads the result.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path

from nwm_geo._io import LockedError, clean_leftovers, pending_switch, project_lock, recover

__all__ = ["settle"]


def settle(
    root: str | Path,
    *,
    wait: float = 5.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Make the project's output folders one complete generation, for a reader.

    Parameters
    ----------
    root
        The project folder.
    wait
        Seconds to wait for a running writer to finish its switch.
    clock, sleep
        Time source and sleep function (injectable for tests).

    Returns
    -------
    str
        ``"nothing to do"``, ``"rolled forward"``, ``"rolled back"``, ``"switched by
        the running writer"``, or ``"a run is switching"`` (still pending after
        ``wait``; a warning says so).
    """
    root = Path(root)
    if not root.is_dir() or pending_switch(root) is None:
        return "nothing to do"
    deadline = clock() + wait
    while True:
        try:
            with project_lock(root):  # timeout 0: never waits for a run
                outcome = recover(root)
                clean_leftovers(root)
                return outcome
        except LockedError:  # a live writer is inside its switch; it may also die in it
            pass
        if pending_switch(root) is None:
            return "switched by the running writer"
        if clock() >= deadline:
            break
        sleep(0.05)
    warnings.warn(
        f"{root}: a run is switching its outputs into place; the folders may be a mix of "
        "two runs until it finishes (a second or so). Read again then.",
        stacklevel=2,
    )
    return "a run is switching"
