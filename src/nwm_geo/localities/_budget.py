"""The budget of a search: time limit, sets, search nodes, memory, clock and seed.

In: what a caller allows. Out: a :class:`SolveBudget` that :func:`partition`,
:func:`alternatives` and the joint hub plans take instead of six keywords.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from nwm_geo._solver import Deadline
from nwm_geo.localities._mip import DEFAULT_MEMORY_LIMIT_MB

__all__ = ["SolveBudget"]


@dataclass(frozen=True)
class SolveBudget:
    """How much a search may do, and its seed: one value instead of six keywords.

    The localities' searches (:func:`nwm_geo.localities.partition`,
    :func:`~nwm_geo.localities.alternatives`, the joint hub plans) take one budget.
    Search effort is counted (moves, search nodes, sets) and sized from the time
    limit, so a seed and a limit give the same plan on every machine; the clock is
    only a safety stop.

    Attributes
    ----------
    time_limit_s
        Seconds for the whole call, in seconds of ``clock``; or a :class:`Deadline`
        made earlier (e.g. by a command before it read its input), whose remaining
        time, clock and notes the call shares.
    max_sets
        Connected sets the enumeration may keep; None: the function's own default
        (documented with it).
    max_nodes
        Search nodes the enumeration may visit; None: sized from ``time_limit_s``.
    memory_limit_mb
        MiB the enumeration's sets and each solver child process may take.
    clock
        Seconds, for the time limit and run times; default ``time.perf_counter``.
        Tests inject a fake clock. Ignored when ``time_limit_s`` is a Deadline.
    seed
        Seed of the warm-start heuristic.
    """

    time_limit_s: float | Deadline = 60.0
    max_sets: int | None = None
    max_nodes: int | None = None
    memory_limit_mb: int = DEFAULT_MEMORY_LIMIT_MB
    clock: Callable[[], float] = time.perf_counter
    seed: int = 0

    def deadline(self) -> Deadline:
        """Return the call's :class:`Deadline` (the given one, or one starting now)."""
        if isinstance(self.time_limit_s, Deadline):
            return self.time_limit_s
        return Deadline(float(self.time_limit_s), self.clock)

    def sets(self, default: int) -> int:
        """Return ``max_sets``, or ``default`` when it is None."""
        return default if self.max_sets is None else self.max_sets
