"""A lower bound from the set-partitioning LP at each band: its bisection over the list.

In: an ``Instance``, the complete list of connected sets with deviation ``<= U`` (an
incumbent's value ``U``), a known lower bound and a safety deadline. Out: a
:class:`LpBound`: a proven lower bound on the optimum, at least the one given.

For a threshold ``t``, every plan whose localities all have deviation ``<= t`` is an
exact cover by ``k`` of the listed sets with deviation ``<= t``, so it is a solution of
the linear relaxation ``sum_{S ∋ i} x_S = 1`` for every unit ``i``, ``sum_S x_S = k``,
``0 <= x_S <= 1``. When that LP is infeasible, no plan is within ``t``: the optimum,
which is one of the listed sets' deviations, is at least the next listed value above
``t``. The LP's feasibility grows with ``t`` (more columns), so a bisection over the
listed deviations finds the smallest ``t`` whose LP is feasible: the bound. It is the
"bottleneck" relaxation, stronger than the min-max LP (where each unit's rows average
the deviations of the sets covering it) and than a per-unit bound (a unit that no set
within ``t`` holds makes the LP infeasible).

Each LP is built over the sets within its threshold (HiGHS's simplex, through the
project's :class:`~nwm_geo._solver.ArrayModel`). The LPs are cheap at low thresholds,
so the bisection gallops up from the lowest ones (2,048 columns, doubling) and then
bisects, :data:`_MAX_LPS` LPs at most and none over :data:`_MAX_COLUMNS` columns
(counts, so the bound does not depend on the machine; the deadline is only a safety
stop, and an unfinished LP proves nothing and ends the bisection). On Luton's first 70
LSOAs (k = 10, 229,212 sets, incumbent 19.05 %) it proves 7.53 % in about 3.4 CPU-s,
where the exact-cover bisection of :mod:`~nwm_geo.localities._bisect` proves 4.76 %.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
from scipy import sparse

from nwm_geo._solver import ArrayModel
from nwm_geo.localities._instance import Clock, Instance, mask_incidence

__all__ = ["LpBound", "lp_band_bound"]

#: Sets are compared with the threshold with this slack (deviations are floats).
_TOL = 1e-12
#: Columns of the first LP of the bisection (see :func:`lp_band_bound`).
_FIRST_COLUMNS = 2048
#: Columns of the largest LP: thresholds with more sets within them are left to the
#: exact-cover bisection (on the 70-unit synthetic map, k = 10, the LPs over up to
#: 192,833 sets took the time its exact steps needed, and proved less).
_MAX_COLUMNS = 40_000
#: LPs at most: the bound need not be exact, the exact-cover bisection refines it, and
#: every second here is one it does not get (a count, not a clock).
_MAX_LPS = 8


@dataclass(frozen=True)
class LpBound:
    """What the LP bisection proved.

    Attributes
    ----------
    bound
        A proven lower bound on the optimum (at least the ``lower`` given).
    steps
        ``(threshold, outcome)`` per LP: ``"infeasible"`` (proof that the optimum is
        above the threshold), ``"feasible"`` or ``"unknown"`` (stopped by the clock or
        a numerical failure; proves nothing).
    """

    bound: float
    steps: list[tuple[float, str]]

    def describe(self) -> str:
        """Return the steps in words, for the plan's method."""
        infeasible = sum(1 for _, o in self.steps if o == "infeasible")
        return (
            f"LP bisection: {len(self.steps)} LPs ({infeasible} infeasible), "
            f"lower bound {self.bound:.4%}"
        )


def _cover_matrix(inst: Instance, masks: list[int]) -> sparse.csc_matrix:
    """Return the cover rows (one per unit) and the count row over ``masks``, by column."""
    n, n_x = inst.n, len(masks)
    rows, cols = mask_incidence(masks)
    r_arr = np.concatenate([rows, np.full(n_x, n)])
    c_arr = np.concatenate([cols, np.arange(n_x)])
    return sparse.csc_matrix((np.ones(len(r_arr)), (r_arr, c_arr)), shape=(n + 1, n_x))


def _run_lp(inst: Instance, mat: sparse.csc_matrix, cut: int, time_left: float) -> str:
    """Solve the cover LP over the first ``cut`` columns of ``mat``; return its state.

    In this process, not in a child as the MIPs are: at most ``_MAX_COLUMNS`` columns
    (a few MB), one thread, and HiGHS's own time limit set to the time left.
    """
    n = inst.n
    rows = sparse.csr_matrix(mat[:, :cut])
    rhs = np.concatenate([np.ones(n), [float(inst.k)]])
    model = ArrayModel(
        names=[f"x_{j}" for j in range(cut)],
        col_cost=np.zeros(cut),
        col_lower=np.zeros(cut),
        col_upper=np.ones(cut),
        integer=np.zeros(cut, dtype=bool),
        row_lower=rhs,
        row_upper=rhs,
        a_start=rows.indptr,
        a_index=rows.indices,
        a_value=rows.data,
    )
    # as nwm_geo._solver does: an earlier solve may have started HiGHS's scheduler
    # with another thread count, and HiGHS then refuses to run
    highspy.Highs.resetGlobalScheduler(True)
    h = model.highs(time_limit_s=max(time_left, 0.01), verbose=False, threads=1)
    h.setOptionValue("solver", "simplex")
    h.run()
    return _lp_state(h)


def _lp_state(h: highspy.Highs) -> str:
    """Return ``"infeasible"``, ``"feasible"`` or ``"unknown"`` for the last run.

    Every column is bounded (``0 <= x <= 1``), so the LP cannot be unbounded: HiGHS's
    "unbounded or infeasible" (from presolve) means infeasible.
    """
    ms = highspy.HighsModelStatus
    status = h.getModelStatus()
    if status in (ms.kInfeasible, ms.kUnboundedOrInfeasible):
        return "infeasible"
    if status == ms.kOptimal:
        return "feasible"
    return "unknown"


def lp_band_bound(
    inst: Instance,
    sets: list[tuple[int, float]],
    *,
    lower: float,
    upper: float,
    deadline: float,
    clock: Clock,
) -> LpBound:
    """Bisect on the band with the cover LP (see the module's docstring).

    ``sets`` must hold every connected set with deviation ``<= upper`` that could be a
    locality (complete, as :func:`~nwm_geo.localities._enumerate.enumerate_connected_sets`
    lists them), and ``upper`` a plan's value; else an infeasible LP proves nothing.

    Returns
    -------
    LpBound
    """
    devs = np.asarray([dev for _, dev in sets], dtype=float)
    values = sorted({float(d) for d in devs if lower - _TOL <= d < upper - _TOL})
    steps: list[tuple[float, str]] = []
    if not values or clock() >= deadline:
        return LpBound(lower, steps)
    order = np.argsort(devs, kind="stable")
    sorted_devs = devs[order]
    # the LPs over more than _MAX_COLUMNS sets are not solved (a count, so the work
    # does not depend on the machine): values[top] is the last threshold tried, and
    # only the sets up to it enter the cover matrix
    cap_at = sorted_devs[min(_MAX_COLUMNS, len(sorted_devs)) - 1]
    top = int(np.searchsorted(values, cap_at + _TOL, side="right")) - 1
    if top < 0:
        return LpBound(lower, steps)
    used = int(np.searchsorted(sorted_devs, values[top] + _TOL, side="right"))
    mat = _cover_matrix(inst, [sets[int(s)][0] for s in order[:used]])
    lo_i, hi_i = 0, len(values)  # infeasible at values[: lo_i]; feasible at values[hi_i:]
    bound = lower
    # the LPs are cheap with few columns: gallop up from the lowest thresholds (columns
    # doubling from _FIRST_COLUMNS), then bisect between the last infeasible and the
    # first feasible threshold
    target, galloping = _FIRST_COLUMNS, True
    while lo_i < hi_i and lo_i <= top and len(steps) < _MAX_LPS and clock() < deadline:
        if galloping:
            at = sorted_devs[min(target, len(sorted_devs)) - 1]
            # hi_i only falls on a feasible LP, which ends the galloping: mid < hi_i
            mid = min(max(int(np.searchsorted(values, at - _TOL, side="left")), lo_i), top)
        else:
            mid = (lo_i + hi_i) // 2
        t = values[mid]
        cut = int(np.searchsorted(sorted_devs, t + _TOL, side="right"))
        state = _run_lp(inst, mat, cut, deadline - clock())
        steps.append((t, state))
        if state == "unknown":
            break
        if state == "infeasible":
            bound = max(bound, values[mid + 1] if mid + 1 < len(values) else upper)
            lo_i = mid + 1
            target *= 2
        else:
            hi_i = mid
            galloping = False
    return LpBound(min(bound, upper), steps)
