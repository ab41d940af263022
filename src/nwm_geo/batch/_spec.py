"""Batch specs: read ``SPEC.toml`` and expand it into tasks, checked against the data.

In: a batch spec (``name``, ``areas``, ``scenarios``, ``[[sweep]]``, ``keep``; see
``docs/batch.md``). Out: :class:`BatchSpec` (:func:`read_spec`, shape only) and, with
each area's baseline study at hand, the list of :class:`BatchTask` (:func:`expand_tasks`):
one per scenario file and per generated scenario (every single closure of a category,
every pair from a list, a grid of minutes and speeds). Every problem of the spec and of
its scenario files is listed at once, each naming the file and the key
(:class:`BatchSpecError`).
"""

from __future__ import annotations

import difflib
import itertools
import json
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nwm_geo import settings
from nwm_geo._errors import NwmGeoError
from nwm_geo.areas import AREAS
from nwm_geo.pipeline import change_problems
from nwm_geo.scenarios import Scenario, ScenarioError, ScenarioProblem, check_scenarios

if TYPE_CHECKING:
    from nwm_geo.pipeline import Study

__all__ = [
    "KEEP",
    "SPEC_KEYS",
    "SWEEP_KEYS",
    "BatchSpec",
    "BatchSpecError",
    "BatchTask",
    "ScenarioRef",
    "Sweep",
    "expand_tasks",
    "read_spec",
]

#: The keys a batch spec may have at the top and in each ``[[sweep]]``.
SPEC_KEYS: tuple[str, ...] = ("name", "description", "areas", "scenarios", "sweep", "keep")
SWEEP_KEYS: tuple[str, ...] = (
    "area",
    "close_each",
    "close_pairs",
    "minutes",
    "speed_m_per_min",
    "owner_type",
    "inside_only",
)
#: What a batch may keep besides ``summary.csv``: each task's scenario folder.
KEEP: tuple[str, ...] = ("folders",)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


class BatchSpecError(NwmGeoError):
    """A batch spec (or one of its scenario files) has problems; every problem is listed."""

    def __init__(self, problems: Sequence[ScenarioProblem]) -> None:
        self.problems = list(problems)
        n = len(self.problems)
        super().__init__(
            f"{n} problem{'s' if n != 1 else ''} found in the batch spec; nothing was run:\n"
            + "\n".join(f"  - {p}" for p in self.problems)
        )


@dataclass(frozen=True)
class ScenarioRef:
    """A scenario file named in the spec: ``scenarios[i]`` and the area it runs on."""

    file: Path
    area: str | None
    key: str


@dataclass(frozen=True)
class Sweep:
    """One ``[[sweep]]`` table: generated scenarios on one area.

    Exactly one kind per sweep: ``close_each`` (one scenario per site of the
    categories), ``close_pairs`` (one per pair of the listed sites, or of a category's
    sites) or a grid (``minutes`` × ``speed_m_per_min``). ``owner_type`` and
    ``inside_only`` narrow the sites a category gives.
    """

    index: int
    area: str | None
    close_each: tuple[str, ...] = ()
    close_pairs: tuple[str, ...] = ()
    pairs_category: str | None = None
    minutes: tuple[float, ...] = ()
    speed_m_per_min: tuple[float, ...] = ()
    owner_type: str | None = None
    inside_only: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def key(self) -> str:
        """The sweep's key in the spec (``sweep[1]``, counting from 1)."""
        return f"sweep[{self.index}]"


@dataclass(frozen=True)
class BatchSpec:
    """A batch spec as read from its file (checked for shape; see :func:`expand_tasks`).

    Attributes
    ----------
    name
        The folder under ``batch/``.
    path
        The spec file.
    areas
        Area profiles (shipped keys or profile paths); a scenario file without an area
        runs on the first.
    scenarios
        Scenario files.
    sweeps
        Generated scenarios.
    keep_folders
        Also write each task's scenario folder (``keep = ["folders"]``).
    description
        Free text.
    text
        The spec file's text (hashed into every task).
    """

    name: str
    path: Path
    areas: tuple[str, ...]
    scenarios: tuple[ScenarioRef, ...] = ()
    sweeps: tuple[Sweep, ...] = ()
    keep_folders: bool = False
    description: str = ""
    text: str = field(default="", repr=False)


@dataclass(frozen=True)
class BatchTask:
    """One scenario on one baseline: a Dask task.

    Attributes
    ----------
    area
        The area key (a folder name under ``batch/<name>/``).
    base
        Which baseline it runs on: ``(area as given, plan file or None)``.
    scenario
        The scenario (read from its file or generated; ``scenario.text`` is its TOML).
    source
        Where it comes from in the spec (``scenarios[2]`` or ``sweep[1].close_each``),
        with the raw entry, for the content hash.
    """

    area: str
    base: tuple[str, Path | None]
    scenario: Scenario
    source: str
    entry: str = field(default="", repr=False)

    @property
    def task_id(self) -> str:
        """``<area>/<scenario name>``: unique in a batch."""
        return f"{self.area}/{self.scenario.name}"


def _unknown(
    file: str, where: str, keys: Sequence[str], allowed: Sequence[str]
) -> list[ScenarioProblem]:
    out = []
    for key in keys:
        if key not in allowed:
            near = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean '{near[0]}'?" if near else f" (allowed: {', '.join(allowed)})"
            out.append(ScenarioProblem(file, f"{where}{key}", "", f"unknown key{hint}"))
    return out


def _texts(value: Any) -> tuple[str, ...] | None:
    """Return a string or a list of strings as a tuple; None when it is neither."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def _numbers(value: Any) -> tuple[float, ...] | None:
    vals = value if isinstance(value, list) else [value]
    if not vals or any(isinstance(v, bool) or not isinstance(v, int | float) for v in vals):
        return None
    return tuple(float(v) for v in vals)


def _read_sweep(file: str, i: int, raw: dict[str, Any], problems: list[ScenarioProblem]) -> Sweep:
    where = f"sweep[{i}]"
    problems += _unknown(file, f"{where}.", list(raw), SWEEP_KEYS)
    kinds = [k for k in ("close_each", "close_pairs") if k in raw]
    grid = [k for k in ("minutes", "speed_m_per_min") if k in raw]
    if len(kinds) + bool(grid) != 1:
        problems.append(
            ScenarioProblem(
                file,
                where,
                "",
                "give exactly one of close_each, close_pairs, or a grid of minutes and/or "
                "speed_m_per_min",
            )
        )
    area = raw.get("area")
    if area is not None and not isinstance(area, str):
        problems.append(ScenarioProblem(file, f"{where}.area", str(area), "must be an area"))
        area = None
    each = _texts(raw.get("close_each", []))
    if each is None:
        problems.append(
            ScenarioProblem(
                file, f"{where}.close_each", str(raw["close_each"]), "a category or a list of them"
            )
        )
        each = ()
    pairs_raw = raw.get("close_pairs", [])
    pairs_cat = pairs_raw if isinstance(pairs_raw, str) else None
    pairs = () if pairs_cat is not None else _texts(pairs_raw)
    if pairs is None or (pairs_cat is None and "close_pairs" in raw and len(pairs) < 2):
        problems.append(
            ScenarioProblem(
                file,
                f"{where}.close_pairs",
                str(pairs_raw),
                "a category, or a list of two or more asset ids",
            )
        )
        pairs = ()
    grids: dict[str, tuple[float, ...]] = {}
    for key in grid:
        nums = _numbers(raw[key])
        if nums is None:
            problems.append(
                ScenarioProblem(
                    file, f"{where}.{key}", str(raw[key]), "a number or a list of numbers"
                )
            )
            nums = ()
        grids[key] = nums
    owner = raw.get("owner_type")
    if owner is not None and owner not in settings.OWNER_TYPES:
        problems.append(
            ScenarioProblem(
                file,
                f"{where}.owner_type",
                str(owner),
                f"one of: {', '.join(settings.OWNER_TYPES)}",
            )
        )
        owner = None
    inside = raw.get("inside_only", False)
    if not isinstance(inside, bool):
        problems.append(ScenarioProblem(file, f"{where}.inside_only", str(inside), "true or false"))
        inside = False
    return Sweep(
        index=i,
        area=area,
        close_each=each,
        close_pairs=pairs,
        pairs_category=pairs_cat,
        minutes=grids.get("minutes", ()),
        speed_m_per_min=grids.get("speed_m_per_min", ()),
        owner_type=owner,
        inside_only=inside,
        raw=raw,
    )


def _read_scenario_refs(
    file: str, base: Path, raw: Any, problems: list[ScenarioProblem]
) -> list[ScenarioRef]:
    if not isinstance(raw, list):
        problems.append(ScenarioProblem(file, "scenarios", str(raw), "a list of scenario files"))
        return []
    out = []
    for i, item in enumerate(raw, start=1):
        key = f"scenarios[{i}]"
        area = None
        if isinstance(item, dict):
            problems += _unknown(file, f"{key}.", list(item), ("file", "area"))
            area, item = item.get("area"), item.get("file")
            if area is not None and not isinstance(area, str):
                problems.append(ScenarioProblem(file, f"{key}.area", str(area), "must be an area"))
                area = None
        if not isinstance(item, str):
            problems.append(
                ScenarioProblem(
                    file, key, str(item), 'a file path, or {file = "...", area = "..."}'
                )
            )
            continue
        path = Path(item) if Path(item).is_absolute() else base / item
        if not path.is_file():
            problems.append(ScenarioProblem(file, key, item, "scenario file not found"))
            continue
        out.append(ScenarioRef(file=path, area=area, key=key))
    return out


def _read_areas(
    file: str, path: Path, raw: dict[str, Any], problems: list[ScenarioProblem]
) -> tuple[tuple[str, ...], list[str]]:
    """Read the spec's areas (shipped profile keys, or profile files beside the spec)."""
    areas = _texts(raw.get("areas"))
    if not areas:
        problems.append(
            ScenarioProblem(
                file,
                "areas",
                str(raw.get("areas", "")),
                "required: a list of areas (profile keys or paths)",
            )
        )
        areas = ()
    resolved = []
    for i, area in enumerate(areas, start=1):
        if area in AREAS:
            resolved.append(area)
            continue
        p = Path(area) if Path(area).is_absolute() else path.parent / area
        if not p.is_file():
            problems.append(
                ScenarioProblem(
                    file,
                    f"areas[{i}]",
                    area,
                    f"not a shipped area ({', '.join(AREAS)}) nor a profile file",
                )
            )
        resolved.append(str(p))
    return tuple(areas), resolved


def read_spec(path: str | Path) -> BatchSpec:
    """Read a batch spec and check its shape (keys, types, files that exist).

    Parameters
    ----------
    path
        The ``SPEC.toml`` file. Relative scenario files and area profile paths are
        looked for beside it.

    Returns
    -------
    BatchSpec

    Raises
    ------
    BatchSpecError
        Listing every problem, each with the file and the key (``sweep[2].close_each``).
    """
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except FileNotFoundError:
        raise BatchSpecError([ScenarioProblem(file, "", "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchSpecError(
            [ScenarioProblem(file, "", "", f"cannot read the file: {exc}")]
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise BatchSpecError([ScenarioProblem(file, "", "", f"not valid TOML: {exc}")]) from None
    problems = _unknown(file, "", list(raw), SPEC_KEYS)
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        problems.append(
            ScenarioProblem(
                file,
                "name",
                "" if name is None else str(name),
                "required: a folder name of letters, digits, '.', '_' or '-' (up to 80)",
            )
        )
        name = path.stem
    areas, resolved = _read_areas(file, path, raw, problems)
    refs = _read_scenario_refs(file, path.parent, raw.get("scenarios", []), problems)
    sweeps_raw = raw.get("sweep", [])
    sweeps = []
    if not isinstance(sweeps_raw, list) or not all(isinstance(s, dict) for s in sweeps_raw):
        problems.append(
            ScenarioProblem(file, "sweep", str(sweeps_raw), "write it as [[sweep]] tables")
        )
    else:
        sweeps = [_read_sweep(file, i, s, problems) for i, s in enumerate(sweeps_raw, start=1)]
    keep = _texts(raw.get("keep", []))
    if keep is None or any(k not in KEEP for k in keep):
        problems.append(
            ScenarioProblem(file, "keep", str(raw.get("keep")), f"a list of: {', '.join(KEEP)}")
        )
        keep = ()
    description = raw.get("description", "")
    if not isinstance(description, str):
        problems.append(ScenarioProblem(file, "description", str(description), "must be text"))
        description = ""
    # an area named by a scenario entry or a sweep must be one of the spec's areas
    names = dict(zip(areas, resolved, strict=True))
    named: list[tuple[str, str | None]] = [(r.key, r.area) for r in refs]
    named += [(s.key, s.area) for s in sweeps]
    for where, given in named:
        if given is not None and given not in names:
            problems.append(
                ScenarioProblem(file, f"{where}.area", given, f"not one of areas: {list(areas)}")
            )
    if not refs and not sweeps:
        problems.append(
            ScenarioProblem(
                file, "scenarios", "", "no scenario files and no [[sweep]]: nothing to run"
            )
        )
    if problems:
        raise BatchSpecError(problems)
    return BatchSpec(
        name=name,
        path=path,
        areas=tuple(resolved),
        scenarios=tuple(
            ScenarioRef(r.file, names[r.area] if r.area else None, r.key) for r in refs
        ),
        sweeps=tuple(
            Sweep(**{**s.__dict__, "area": names[s.area] if s.area else None}) for s in sweeps
        ),
        keep_folders="folders" in keep,
        description=description,
        text=text,
    )


def _toml(
    name: str, description: str, close: Sequence[str], minutes: float | None, speed: float | None
) -> str:
    lines = [f"name = {json.dumps(name)}", f"description = {json.dumps(description)}"]
    for asset in close:
        lines += ["[[close]]", f"asset_id = {json.dumps(asset)}"]
    if minutes is not None or speed is not None:
        lines.append("[settings]")
        if minutes is not None:
            lines.append(f"minutes = {minutes!r}")
        if speed is not None:
            lines.append(f"speed_m_per_min = {speed!r}")
    return "\n".join(lines) + "\n"


def _generated(
    spec: BatchSpec,
    sweep: Sweep,
    name: str,
    close: Sequence[str],
    grid: tuple[float | None, float | None],
) -> Scenario:
    minutes, speed = grid
    what = f"{spec.path.name} {sweep.key}"
    text = _toml(name, f"Generated by batch {spec.name} ({what})", close, minutes, speed)
    return Scenario(
        name=name,
        path=Path(f"{name}.toml"),
        close=tuple(close),
        close_keys=tuple(f"close[{i}].asset_id" for i in range(1, len(close) + 1)),
        minutes=minutes,
        speed_m_per_min=speed,
        description=f"Generated by batch {spec.name} ({what})",
        text=text,
    )


def _sites(
    study: Study,
    sweep: Sweep,
    categories: Sequence[str],
    key: str,
    problems: list[ScenarioProblem],
    file: str,
) -> list[str]:
    reg = study.register
    for cat in categories:
        if cat not in study.categories:
            near = difflib.get_close_matches(cat, study.categories, n=1)
            hint = f"; did you mean '{near[0]}'?" if near else ""
            problems.append(
                ScenarioProblem(file, key, cat, f"not a category of {study.profile.name}{hint}")
            )
    keep = reg["category"].isin(list(categories))
    if sweep.owner_type is not None and "owner_type" in reg:
        keep &= reg["owner_type"] == sweep.owner_type
    if sweep.inside_only and "inside_area" in reg:
        keep &= reg["inside_area"].astype(bool)
    return [str(i) for i in reg.index[keep]]


def _sweep_scenarios(
    spec: BatchSpec, sweep: Sweep, study: Study, problems: list[ScenarioProblem]
) -> list[tuple[str, Scenario]]:
    file = str(spec.path)
    out: list[tuple[str, Scenario]] = []
    if sweep.close_each:
        key = f"{sweep.key}.close_each"
        for asset in _sites(study, sweep, sweep.close_each, key, problems, file):
            out.append((key, _generated(spec, sweep, f"close-{asset}", [asset], (None, None))))
    elif sweep.close_pairs or sweep.pairs_category:
        key = f"{sweep.key}.close_pairs"
        if sweep.pairs_category:
            sites = _sites(study, sweep, [sweep.pairs_category], key, problems, file)
        else:
            sites = list(sweep.close_pairs)
        for a, b in itertools.combinations(sites, 2):
            out.append((key, _generated(spec, sweep, f"pair-{a}_{b}", [a, b], (None, None))))
    else:
        key = sweep.key
        mins: Sequence[float | None] = sweep.minutes or [None]
        speeds: Sequence[float | None] = sweep.speed_m_per_min or [None]
        for m, s in itertools.product(mins, speeds):
            label = (
                "walk"
                + (f"-{m:g}min" if m is not None else "")
                + (f"-{s:g}mpm" if s is not None else "")
            )
            out.append((key, _generated(spec, sweep, label, [], (m, s))))
    if sweep.key not in {p.key.split(".")[0] for p in problems if p.file == file} and not out:
        problems.append(
            ScenarioProblem(file, sweep.key, "", "generates no scenario (no site matches)")
        )
    return out


def _sweep_tasks(
    spec: BatchSpec,
    sweep: Sweep,
    study_for: Callable[[str, Path | None], Study],
    problems: list[ScenarioProblem],
) -> list[BatchTask]:
    """Return a sweep's tasks; its problems (checked against the data) go to ``problems``."""
    file = str(spec.path)
    area = sweep.area or spec.areas[0]
    try:
        study = study_for(area, None)
    except NwmGeoError as exc:
        problems.append(ScenarioProblem(file, f"{sweep.key}.area", area, str(exc)))
        return []
    entry = json.dumps(dict(sweep.raw), sort_keys=True, default=str)
    tasks = []
    seen = set()
    for key, scenario in _sweep_scenarios(spec, sweep, study, problems):
        _, _, found = change_problems(
            study,
            close=scenario.close,
            minutes=scenario.minutes,
            speed_m_per_min=scenario.speed_m_per_min,
        )
        for where, value, reason in found:
            sub = where.split(".")[-1] if where.startswith("settings.") else ""
            msg = (key if not sub else f"{sweep.key}.{sub}", value, reason)
            if msg not in seen:
                seen.add(msg)
                problems.append(ScenarioProblem(file, msg[0], msg[1], f"{scenario.name}: {reason}"))
        tasks.append(BatchTask(study.profile.key, (area, None), scenario, key, entry))
    return tasks


def expand_tasks(
    spec: BatchSpec,
    study_for: Callable[[str, Path | None], Study],
    *,
    project_dir: Path | None = None,
) -> list[BatchTask]:
    """Expand a spec into its tasks and check each against its area's data.

    Parameters
    ----------
    spec
        The spec (:func:`read_spec`).
    study_for
        ``(area, plan) -> Study``: the baseline study of an area (as written in
        ``spec.areas``) for a scenario's plan file (None: the default plan); it reads the
        register and postcodes to check against, not the network.
    project_dir
        Where a scenario file's relative ``plan`` is looked for first.

    Returns
    -------
    list of BatchTask
        In spec order: the scenario files, then each sweep.

    Raises
    ------
    BatchSpecError
        Every problem at once: those of the scenario files (file, key, reason, as
        ``nwm-geo scenario`` reports them), a sweep's unknown category or asset, minutes
        or speed out of range, two tasks with the same area and name.
    """
    file = str(spec.path)
    problems: list[ScenarioProblem] = []
    tasks: list[BatchTask] = []
    first = spec.areas[0]
    by_area: dict[str, list[ScenarioRef]] = {}
    for ref in spec.scenarios:
        by_area.setdefault(ref.area or first, []).append(ref)
    for area, refs in by_area.items():
        try:
            checked = check_scenarios(
                [r.file for r in refs],
                lambda plan, area=area: study_for(area, plan),
                project_dir=project_dir,
            )
        except ScenarioError as exc:
            problems += exc.problems
            continue
        except NwmGeoError as exc:
            problems.append(ScenarioProblem(file, "areas", area, str(exc)))
            continue
        for ref, (scenario, study) in zip(refs, checked, strict=True):
            entry = json.dumps({"file": ref.file.name, "area": area})
            tasks.append(
                BatchTask(study.profile.key, (area, scenario.plan), scenario, ref.key, entry)
            )
    for sweep in spec.sweeps:
        tasks += _sweep_tasks(spec, sweep, study_for, problems)
    for area, plan in {t.base for t in tasks}:
        # the plan is read (or solved) here, once, before the baseline goes to a worker
        try:
            _ = study_for(area, plan).plan
        except NwmGeoError as exc:
            problems.append(ScenarioProblem(file, "areas", area, f"the locality plan: {exc}"))
    seen_ids: dict[str, str] = {}
    for task in tasks:
        if task.task_id in seen_ids:
            problems.append(
                ScenarioProblem(
                    file,
                    task.source,
                    task.scenario.name,
                    f"the same area and scenario name as {seen_ids[task.task_id]}",
                )
            )
        seen_ids.setdefault(task.task_id, task.source)
    if problems:
        raise BatchSpecError(list(dict.fromkeys(problems)))
    return tasks
