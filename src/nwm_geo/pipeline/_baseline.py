"""The saved baseline: a run's computed results, read back by what-ifs instead of rebuilt.

In: a :class:`~nwm_geo.pipeline.Study` after ``nwm-geo run``. Out:
``data/cache/[<area>/]baseline.pickle`` (:func:`save_baseline`), holding the results no
what-if changes (register, demand points, network, walk model, asset and site covers,
nearest minutes, ward table, walksheds) and, tied to the plan they were computed on, the
equity and closure tables, the headline ranges and the requirements outline; and
:func:`load_baseline`, which puts them back into a fresh study when they are still
valid, so ``nwm-geo scenario`` (and ``study.with_changes`` after ``load_baseline``)
starts from them, and :func:`reuse_baseline`, with which ``nwm-geo run`` reads them
instead of computing them again.

Valid means: the same input files (sha256 of each, the provenance record's list), the
same package versions, the same settings (area, ward pattern, walk minutes and speed,
register options, network source, age-band speeds, the outline's number of new sites),
the same nwm_geo code (sha256 of its source files) and, for the plan-bound results, the
same plan (``plan_sha256``). Anything else is stale: the study recomputes, and
:func:`load_baseline` says why. The values are the very objects the run computed, so a
what-if started from them equals one on a freshly built study. A register whose text
holds phone numbers or e-mail addresses is never saved.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from nwm_geo import data, equity, localities
from nwm_geo._collector import collector_paused
from nwm_geo._io import atomic_path
from nwm_geo._units import resolve_minutes, resolve_speed
from nwm_geo.pipeline._provenance import input_hashes, package_versions
from nwm_geo.pipeline._saved_graph import SavedGraph
from nwm_geo.pipeline._study import Study

__all__ = ["BASELINE_FORMAT", "PLAN_BOUND", "PLAN_FREE", "baseline_note", "baseline_path",
           "load_baseline", "reuse_baseline", "save_baseline"]  # fmt: skip

#: Bumped when the saved record changes shape (older files are then stale).
BASELINE_FORMAT = 2

#: The results saved that do not depend on the locality plan (the walk network is saved
#: apart, as a :class:`~nwm_geo.pipeline._saved_graph.SavedGraph` decoded on first use: a
#: scenario reads only its source line).
PLAN_FREE: tuple[str, ...] = (
    "_register_and_merges",
    "postcodes",
    "_current_wards",
    "_ward_shapes",
    "demand",
    "lsoas",
    "graph",
    "model",
    "minutes_to_nearest",
    "asset_cover",
    "site_cover",
    "criticality",
    "reconciliation",
    "wards",
    "walksheds",
)

#: The results saved that depend on the plan: used only with the same plan.
PLAN_BOUND: tuple[str, ...] = (
    "demand_with_locality", "equity", "closure_impact", "ranges", "outline",
)  # fmt: skip


@cache
def _code_sha256() -> str:
    """Return the sha256 of nwm_geo's source files (other code may compute otherwise)."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def baseline_path(study: Study, *, project_dir: Path | None = None) -> Path:
    """Return the saved baseline's file: ``data/cache/[<area>/]baseline.pickle``.

    ``project_dir`` defaults to the study's.
    """
    root = project_dir if project_dir is not None else study.project_dir
    assert root is not None
    return Path(root) / "data" / "cache" / study.profile.output_subdir / "baseline.pickle"


def _key(study: Study) -> dict[str, Any]:
    """Return what the saved results depend on (compared in full before any is used)."""
    inputs = input_hashes(study)
    given = study.__dict__.get("_plan_given")
    if isinstance(given, str | Path):  # the plan is checked on its own (plan_sha256)
        inputs.pop(str(given), None)
    speed = resolve_speed(study.speed_m_per_min)
    return {
        "format": BASELINE_FORMAT,
        "code": _code_sha256(),
        "packages": package_versions(),  # another pandas or osmnx may compute otherwise
        "inputs": inputs,
        "settings": {
            "area": study.profile.key,
            "ward_year": study.ward_year,
            "minutes": resolve_minutes(study.minutes),
            "speed_m_per_min": speed,
            "walk_speed_by_age_m_per_min": equity.age_speeds(default=speed),
            "register": str(study.register_path) if study.register_path else "open data",
            "register_columns": dict(study.register_columns or {}),
            "register_sheet": study.register_sheet,
            "register_layer": study.register_layer,
            "network": study.settings.network,
            "new_sites": study.new_sites,  # the outline's k (a plan-bound result)
        },
    }


def save_baseline(study: Study, *, project_dir: Path | None = None) -> Path | None:
    """Save the results a study has computed for later what-ifs (none is computed here).

    Parameters
    ----------
    study
        A baseline study (not a what-if: its results would pass for the baseline's).
    project_dir
        The project folder (default: the study's).

    Returns
    -------
    Path or None
        The file written (:func:`baseline_path`), or None for a what-if study, one that
        has not built its walk model, or one whose register text holds phone numbers or
        e-mail addresses (the cache would keep them unmasked: such a study's what-ifs
        recompute, and an older saved baseline is removed).
    """
    state = study.__dict__
    if study.changes is not None or "model" not in state:
        return None
    path = baseline_path(study, project_dir=project_dir)
    if any(data.publishable(t)[1] for t in state["_register_and_merges"]):
        path.unlink(missing_ok=True)
        return None
    if _holds_already(study, path):  # read by this run and nothing new: not written again
        return path
    record = {
        "key": _key(study),
        "plan_sha256": localities.plan_sha256(study.plan.assignment),
        "free": {k: state[k] for k in PLAN_FREE if k in state and k != "graph"},
        "graph": SavedGraph(state["graph"]) if "graph" in state else None,
        "bound": {k: state[k] for k in PLAN_BOUND if k in state},
    }
    try:
        with atomic_path(path) as tmp, tmp.open("wb") as fh:
            pickle.dump(record, fh, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError:  # a cache: the outputs are written; a what-if then recomputes
        return None
    return path


@dataclass(frozen=True)
class _Read:
    """What a study read from a saved baseline file (:func:`reuse_baseline`)."""

    path: Path
    mtime_ns: int
    key: dict[str, Any]
    plan_sha256: str
    free: frozenset[str]
    graph: bool
    bound: frozenset[str]
    #: The plan-bound tables, held until the run knows its plan (then applied once).
    waiting: dict[str, Any] | None = field(default=None, compare=False, repr=False)


def _holds_already(study: Study, path: Path) -> bool:
    """Say whether the saved file holds everything :func:`save_baseline` would write.

    True when the study read it (same code, packages, inputs and settings), it is
    unchanged since, the plan is the saved one, and no result was computed that the
    file lacks.
    """
    state = study.__dict__
    read: _Read | None = state.get("_baseline_read")
    if read is None or read.path != path:
        return False
    try:
        if path.stat().st_mtime_ns != read.mtime_ns:
            return False
    except OSError:
        return False
    free = {k for k in PLAN_FREE if k in state and k != "graph"}
    bound = {k for k in PLAN_BOUND if k in state}
    return (
        free <= read.free
        and bound <= read.bound
        and ("graph" not in state or read.graph)
        and read.key == _key(study)
        and read.plan_sha256 == localities.plan_sha256(study.plan.assignment)
    )


def _differences(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    out = []
    if saved.get("format") != now["format"]:
        return ["the saved file has another format"]
    if saved.get("code") != now["code"]:
        out.append("the nwm_geo code changed")
    if saved.get("packages") != now["packages"]:
        out.append("package versions changed")
    old_in, new_in = saved.get("inputs", {}), now["inputs"]
    changed = sorted(k for k in set(old_in) | set(new_in) if old_in.get(k) != new_in.get(k))
    if changed:
        out.append("input file(s) changed: " + ", ".join(changed[:5]))
    old_set, new_set = saved.get("settings", {}), now["settings"]
    for k in new_set:
        if old_set.get(k) != new_set[k]:
            out.append(f"{k} {old_set.get(k)!r} -> {new_set[k]!r}")
    return out


def load_baseline(study: Study) -> str:
    """Put a saved baseline's results into ``study`` when they are still valid.

    Parameters
    ----------
    study
        A fresh baseline study (results it has already computed are kept).

    Returns
    -------
    str
        What happened, in words: read (and whether the plan-bound tables were), or why
        not (none saved, or stale: which inputs or settings changed), in which case the
        study recomputes on first use.
    """
    return _load(study)[0]


def reuse_baseline(study: Study) -> bool:
    """Read a still-valid saved baseline into a study about to run (``nwm-geo run``).

    The results a run would compute again with the same code, packages, inputs and
    settings (the register, demand, network, walk model, nearest minutes, covers...)
    are read instead, as :func:`load_baseline` does for a what-if; a stale or missing
    baseline reads nothing and the run computes as before.

    Parameters
    ----------
    study
        A fresh baseline study.

    Returns
    -------
    bool
        True when a valid baseline was read but the plan is not known yet (it is solved
        by the run): call again once it is, to read the plan-bound tables (equity,
        closure impact, headline ranges) if the plan is the saved one.
    """
    state = study.__dict__
    read: _Read | None = state.get("_baseline_read")
    if read is not None and read.waiting is not None and "_plan_resolved" in state:
        text, pending = _with_plan(study, read, read.waiting, _read_text(read.path))  # held
        if state["_baseline_read"].bound:  # the plan solved is the saved one: tables put in
            text += "; the plan solved is the saved one: its equity and closure tables are read too"
        state["_baseline_note"] = text
        return pending
    text, pending = _load(study)
    state["_baseline_note"] = text
    return pending


def baseline_note(study: Study) -> str | None:
    """Return what a run did with the saved baseline, in words; None before a run.

    ``"baseline read from ... (saved by nwm-geo run; inputs and settings unchanged)"``,
    or why it was not read (none saved, stale: which input or setting changed), as
    :func:`reuse_baseline` found it.
    """
    note = study.__dict__.get("_baseline_note")
    return str(note) if note is not None else None


def _read_text(path: Path) -> str:
    return f"baseline read from {path} (saved by nwm-geo run; inputs and settings unchanged)"


def _with_plan(study: Study, read: _Read, tables: dict[str, Any], text: str) -> tuple[str, bool]:
    """Put the saved plan-bound ``tables`` into ``study`` if its plan is the saved one."""
    state = study.__dict__
    if localities.plan_sha256(study.plan.assignment) != read.plan_sha256:
        state["_baseline_read"] = replace(read, waiting=None)
        return text + "; another plan: its equity and closure tables are recomputed", False
    for name, value in tables.items():
        state.setdefault(name, value)
    state["_baseline_read"] = replace(read, bound=frozenset(tables), waiting=None)
    return text, False


def _load(study: Study) -> tuple[str, bool]:
    """:func:`load_baseline`'s text, and whether the plan-bound tables wait for the plan."""
    path = baseline_path(study)
    if study.changes is not None:
        return "a what-if study: no saved baseline is read into it", False
    if not path.is_file():
        text = f"no saved baseline in {path}: the baseline is computed (nwm-geo run saves it)"
        return text, False
    try:
        mtime_ns = path.stat().st_mtime_ns
        with path.open("rb") as fh, collector_paused():
            record: Any = pickle.load(fh)
        saved_key = record["key"]
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError,
            KeyError, TypeError):  # fmt: skip
        return f"the saved baseline {path} is unreadable: the baseline is recomputed", False
    stale = _differences(saved_key, _key(study))
    if stale:
        return (
            f"the saved baseline {path} is stale ({'; '.join(stale)}): the baseline is recomputed",
            False,
        )
    state = study.__dict__
    for name, value in record["free"].items():
        state.setdefault(name, value)
    if "graph" not in state and record.get("graph") is not None:
        state["_saved_graph"] = record["graph"]
    text = _read_text(path)
    read = _Read(
        path=path,
        mtime_ns=mtime_ns,
        key=saved_key,
        plan_sha256=record["plan_sha256"],
        free=frozenset(record["free"]),
        graph=record.get("graph") is not None,
        bound=frozenset(),
    )
    if state.get("_plan_given") is None and "_plan_resolved" not in state:
        state["_baseline_read"] = replace(read, waiting=record["bound"])
        return text + "; no plan given: the plan-bound tables are computed on first use", True
    return _with_plan(study, read, record["bound"], text)
