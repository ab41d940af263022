"""The cyclic garbage collector kept off work that makes no cycles to free.

In: a block of code. Out: the same block, with Python's cyclic collector paused,
frozen or run less often (:mod:`gc`), and set back as it was when the block ends.

A run makes millions of objects that live as long as the study (frames, graphs,
geometries) or are freed by reference counts at once (cells, artists, glyphs). With the
collector's defaults, every few hundred new objects set off a pass, and the older passes
walk everything the process holds: on Luton a few tenths of a CPU-s per stage. The
blocks the project runs with the collector changed:

* :func:`collector_paused`: for importing modules and unpickling a saved baseline
  (objects that live as long as the process, and no garbage);
* :func:`collector_frozen`: for a stage or the report, which then skips everything that
  existed before it (:func:`gc.freeze`), handed back when the block ends;
* :func:`fewer_collections`: for the report, whose youngest pass runs less often.

Besides these, ``pipeline.run`` freezes again before each stage (inside its
:func:`collector_frozen` block), and the command line, a process of its own, freezes
once the scenario's saved baseline is read and before it exits: nothing is unfrozen
there, since the process ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["REPORT_GC_THRESHOLD", "collector_frozen", "collector_paused", "fewer_collections"]

#: The collector's first threshold while the report is written (Python's default: 700).
REPORT_GC_THRESHOLD = 7000


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector until the block ends (if it was running)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@contextmanager
def collector_frozen() -> Iterator[None]:
    """Keep the garbage collector off the objects that exist now, until the block ends.

    What the block drops is still collected; the objects frozen are handed back to the
    collector when the block ends (:func:`gc.unfreeze`). If a caller froze already, its
    freeze is left to it.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def fewer_collections(threshold: int = REPORT_GC_THRESHOLD) -> Iterator[None]:
    """Run the collector's youngest pass less often (at ``threshold`` new objects).

    The report makes millions of short-lived objects, most freed by reference counts: at
    the default threshold the older passes ran a few times over everything it had made
    (about 0.1 CPU-s on Luton; the peak memory is about 15 MB higher). The thresholds
    are set back when the block ends.
    """
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], threshold), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
