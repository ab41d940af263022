"""``Study.plan``: the plan source a study is given, and the descriptor that resolves it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, overload

from nwm_geo import localities
from nwm_geo._errors import NwmGeoError

__all__ = ["PlanSource"]

#: What ``Study(plan=...)`` takes: a plan file (CSV or GeoJSON), a plan, or None (solve).
PlanSource = str | Path | localities.LocalityPlan | None


class PlanAttribute:
    """``Study.plan``: given at construction (a file or a plan) or solved on first use.

    A data descriptor, so ``Study(plan=...)`` sets the source and ``study.plan`` always
    reads the :class:`~nwm_geo.localities.LocalityPlan`.
    """

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> PlanAttribute: ...
    @overload
    def __get__(self, obj: Any, owner: type | None = None) -> localities.LocalityPlan: ...
    def __get__(
        self, obj: Any, owner: type | None = None
    ) -> localities.LocalityPlan | PlanAttribute:
        if obj is None:
            return self
        cache = obj.__dict__
        if "_plan_resolved" not in cache:
            cache["_plan_resolved"] = obj._resolve_plan(cache.get("_plan_given"))
        plan: localities.LocalityPlan = cache["_plan_resolved"]
        return plan

    def __set__(self, obj: Any, value: PlanSource | PlanAttribute) -> None:
        if value is self:  # the dataclass default
            value = None
        if value is not None and not isinstance(value, str | Path | localities.LocalityPlan):
            raise NwmGeoError(
                f"plan must be a plan file (CSV or GeoJSON) or a LocalityPlan, not "
                f"{type(value).__name__}"
            )
        obj.__dict__["_plan_given"] = value
        obj.__dict__.pop("_plan_resolved", None)
