"""Scenario files: read a small TOML file and check it against the baseline study.

In: ``scenario.toml`` files (``name``, optional ``plan`` and ``description``,
``[[close]]``, ``[[add]]``, ``[settings]``; see ``docs/scenarios.md``). Out:
:class:`Scenario` (:func:`read_scenario`), checked against a study by
:func:`check_scenarios`, which lists every problem of every file at once, each naming
the file, the key and the reason (:class:`ScenarioError`).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nwm_geo._errors import NwmGeoError
from nwm_geo.pipeline import change_problems

if TYPE_CHECKING:
    from nwm_geo.pipeline import Study

__all__ = ["Scenario", "ScenarioError", "ScenarioProblem", "check_scenarios", "read_scenario"]

#: The keys a scenario file may have, at the top, in ``[[close]]`` and ``[settings]``.
TOP_KEYS: tuple[str, ...] = ("name", "description", "plan", "close", "add", "settings")
CLOSE_KEYS: tuple[str, ...] = ("asset_id", "name")
SETTINGS_KEYS: tuple[str, ...] = ("minutes", "speed_m_per_min")

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")

#: Names Windows reserves for devices (with or without an extension): never a folder.
_RESERVED = re.compile(r"(?i)(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?")

#: The largest scenario file read (bytes): a scenario is a few lines of TOML.
MAX_SCENARIO_BYTES: int = 1_000_000


def _name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a scenario folder, or None."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        return "required: a folder name of letters, digits, '.', '_' or '-' (up to 80)"
    if _RESERVED.fullmatch(name):
        return f"{name!r} is a device name on Windows (CON, PRN, AUX, NUL, COM1, LPT1...)"
    return None


@dataclass(frozen=True)
class ScenarioProblem:
    """One problem in a scenario file: the file, the key (``close[2].asset_id``), why."""

    file: str
    key: str
    value: str
    reason: str

    def __str__(self) -> str:
        value = f" (value: {self.value!r})" if self.value != "" else ""
        where = f", key '{self.key}'" if self.key else ""
        return f"{self.file}{where}: {self.reason}{value}"


class ScenarioError(NwmGeoError):
    """One or more scenario files have problems; every problem is listed."""

    def __init__(self, problems: Sequence[ScenarioProblem]) -> None:
        self.problems = list(problems)
        n = len(self.problems)
        super().__init__(
            f"{n} problem{'s' if n != 1 else ''} found in the scenario file(s); nothing was "
            "written:\n" + "\n".join(f"  - {p}" for p in self.problems)
        )


@dataclass(frozen=True)
class Scenario:
    """A scenario read from its file (checked for shape; see :func:`check_scenarios`).

    Attributes
    ----------
    name
        The folder name under ``scenarios/``.
    path
        The file it was read from.
    close
        Asset ids or exact names to close.
    add
        New sites: mappings with ``name``, ``category`` and a location.
    minutes, speed_m_per_min
        Walk settings, when the file overrides them.
    plan
        The plan file to keep fixed (default: the baseline's plan).
    description
        Free text, shown in the summary.
    """

    name: str
    path: Path
    close: tuple[str, ...] = ()
    close_keys: tuple[str, ...] = ()
    add: tuple[Mapping[str, Any], ...] = ()
    minutes: float | None = None
    speed_m_per_min: float | None = None
    plan: Path | None = None
    description: str = ""
    text: str = field(default="", repr=False)


def _unknown(
    file: str, where: str, keys: Sequence[str], allowed: Sequence[str]
) -> list[ScenarioProblem]:
    out = []
    for key in keys:
        if key in allowed:
            continue
        near = difflib.get_close_matches(key, allowed, n=1)
        hint = f"; did you mean '{near[0]}'?" if near else f" (allowed: {', '.join(allowed)})"
        out.append(ScenarioProblem(file, f"{where}{key}", "", f"unknown key{hint}"))
    return out


def _tables(
    file: str, raw: dict[str, Any], key: str, problems: list[ScenarioProblem]
) -> list[dict[str, Any]]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        problems.append(ScenarioProblem(file, key, str(value), f"write it as [[{key}]] tables"))
        return []
    return value


def _closes(
    file: str, raw: dict[str, Any], problems: list[ScenarioProblem]
) -> tuple[list[str], list[str]]:
    """Read the ``[[close]]`` tables: the sites to close and the key each was given by."""
    close: list[str] = []
    close_keys: list[str] = []
    for i, item in enumerate(_tables(file, raw, "close", problems), start=1):
        where = f"close[{i}]"
        problems += _unknown(file, f"{where}.", list(item), CLOSE_KEYS)
        given = [k for k in CLOSE_KEYS if k in item]
        if len(given) != 1 or not isinstance(item[given[0]], str):
            problems.append(
                ScenarioProblem(file, where, "", "give exactly one of asset_id or name, as text")
            )
            continue
        close.append(item[given[0]])
        close_keys.append(f"{where}.{given[0]}")
    return close, close_keys


def _walk_settings(
    file: str, raw: dict[str, Any], problems: list[ScenarioProblem]
) -> tuple[float | None, float | None]:
    """Read the ``[settings]`` table: minutes and speed (None when not given)."""
    settings = raw.get("settings", {})
    minutes = speed = None
    if not isinstance(settings, dict):
        problems.append(ScenarioProblem(file, "settings", str(settings), "write it as [settings]"))
        return minutes, speed
    problems += _unknown(file, "settings.", list(settings), SETTINGS_KEYS)
    for key in SETTINGS_KEYS:
        value = settings.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(
                ScenarioProblem(file, f"settings.{key}", str(value), "must be a number")
            )
        elif key == "minutes":
            minutes = float(value)
        else:
            speed = float(value)
    return minutes, speed


def _plan_path(
    file: str,
    raw: dict[str, Any],
    problems: list[ScenarioProblem],
    *,
    path: Path,
    project_dir: Path | None,
) -> Path | None:
    """Find the ``plan`` file: in the project (``project_dir`` or the cwd), then beside it."""
    if "plan" not in raw:
        return None
    if not isinstance(raw["plan"], str):
        problems.append(ScenarioProblem(file, "plan", str(raw["plan"]), "must be a file path"))
        return None
    cands = [Path(raw["plan"])]
    if not cands[0].is_absolute():
        base = project_dir if project_dir is not None else Path.cwd()
        cands = [base / raw["plan"], path.parent / raw["plan"]]
    found = [c for c in cands if c.is_file()]
    if found:
        return found[0]
    problems.append(ScenarioProblem(file, "plan", raw["plan"], "plan file not found"))
    return None


def read_scenario(
    path: str | Path, *, project_dir: Path | None = None
) -> tuple[Scenario | None, list[ScenarioProblem]]:
    """Read a scenario file and check its shape (keys, types); not yet the data.

    Parameters
    ----------
    path
        The ``.toml`` file.
    project_dir
        Where a relative ``plan`` path is looked for first (then beside the file).

    Returns
    -------
    tuple of (Scenario or None, list of ScenarioProblem)
        The scenario (None when the file cannot be read) and the problems found.
    """
    path = Path(path)
    file = str(path)
    problems: list[ScenarioProblem] = []
    try:
        if path.stat().st_size > MAX_SCENARIO_BYTES:
            return None, [
                ScenarioProblem(
                    file,
                    "",
                    "",
                    f"the file is {path.stat().st_size:,} bytes; a scenario file may be at "
                    f"most {MAX_SCENARIO_BYTES:,} (a name, a short description, the changes)",
                )
            ]
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except FileNotFoundError:
        return None, [ScenarioProblem(file, "", "", "file not found")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [ScenarioProblem(file, "", "", f"cannot read the file: {exc}")]
    except tomllib.TOMLDecodeError as exc:
        return None, [ScenarioProblem(file, "", "", f"not valid TOML: {exc}")]
    problems += _unknown(file, "", list(raw), TOP_KEYS)
    name = raw.get("name")
    if (why := _name_problem(name)) is not None or not isinstance(name, str):
        problems.append(ScenarioProblem(file, "name", "" if name is None else str(name), str(why)))
        name = path.stem
    close, close_keys = _closes(file, raw, problems)
    add = tuple(_tables(file, raw, "add", problems))
    minutes, speed = _walk_settings(file, raw, problems)
    plan = _plan_path(file, raw, problems, path=path, project_dir=project_dir)
    description = raw.get("description", "")
    if not isinstance(description, str):
        problems.append(ScenarioProblem(file, "description", str(description), "must be text"))
        description = ""
    return (
        Scenario(
            name=name,
            path=path,
            close=tuple(close),
            close_keys=tuple(close_keys),
            add=add,
            minutes=minutes,
            speed_m_per_min=speed,
            plan=plan,
            description=description,
            text=text,
        ),
        problems,
    )


def check_scenarios(
    paths: Sequence[str | Path],
    study_for: Any,
    *,
    project_dir: Path | None = None,
) -> list[tuple[Scenario, Study]]:
    """Read every scenario file and check it against its baseline; all problems at once.

    Parameters
    ----------
    paths
        The scenario files.
    study_for
        ``plan -> Study``: the baseline study for a scenario's plan (None: the default
        plan). Called once per distinct plan.
    project_dir
        For relative ``plan`` paths.

    Returns
    -------
    list of (Scenario, Study)
        Each scenario with its baseline study, in the order given.

    Raises
    ------
    ScenarioError
        Listing every problem of every file (file, key, reason): unknown or misspelled
        keys, an unknown asset id or name, a category that does not exist, a postcode
        not in the data, settings out of range, two scenarios with the same name.
    """
    problems: list[ScenarioProblem] = []
    read: list[Scenario] = []
    for p in paths:
        scenario, found = read_scenario(p, project_dir=project_dir)
        problems += found
        if scenario is not None:
            read.append(scenario)
    seen: dict[str, Path] = {}
    for s in read:
        if s.name in seen:
            problems.append(
                ScenarioProblem(str(s.path), "name", s.name, f"the same name as {seen[s.name]}")
            )
        seen.setdefault(s.name, s.path)
    out: list[tuple[Scenario, Study]] = []
    for s in read:
        if any(p.file == str(s.path) and p.key == "plan" for p in problems):
            continue
        try:
            study = study_for(s.plan)
            _ = study.plan  # a plan file is read and checked now, before anything is written
            _, _, changed = change_problems(
                study,
                close=s.close,
                add=s.add,
                minutes=s.minutes,
                speed_m_per_min=s.speed_m_per_min,
            )
        except NwmGeoError as exc:
            problems.append(ScenarioProblem(str(s.path), "plan" if s.plan else "", "", str(exc)))
            continue
        problems += [
            ScenarioProblem(str(s.path), _toml_key(s, key), value, reason)
            for key, value, reason in changed
        ]
        out.append((s, study))
    if problems:
        raise ScenarioError(problems)
    return out


def _toml_key(s: Scenario, key: str) -> str:
    """``close[2]`` (the second closure) becomes the key written in the file."""
    m = re.fullmatch(r"close\[(\d+)\]", key)
    if m and int(m.group(1)) <= len(s.close_keys):
        return s.close_keys[int(m.group(1)) - 1]
    return key
