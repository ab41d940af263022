"""``help(nwm_geo.Study)`` stays short; ``docs/study.md`` carries the detail of every result."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import nwm_geo

ROOT = Path(__file__).resolve().parent.parent


def _public_members() -> dict[str, object]:
    fields = {f.name for f in dataclasses.fields(nwm_geo.Study)}
    found: dict[str, object] = {}
    for cls in reversed(nwm_geo.Study.__mro__):  # base classes' results are the study's too
        if cls.__module__.startswith("nwm_geo."):
            found.update(vars(cls))
    return {n: v for n, v in found.items() if not n.startswith("_") and n not in fields}


def test_each_result_of_study_has_a_one_line_docstring() -> None:
    long = {}
    for name, value in _public_members().items():
        func = getattr(value, "fget", None) or getattr(value, "func", None)
        if func is None or func.__module__ != "nwm_geo.pipeline._study":
            continue  # methods keep their sections; results made elsewhere are documented there
        doc = (func.__doc__ or "").strip()
        if not doc or "\n" in doc:
            long[name] = doc
    assert long == {}, "one line in help(Study); the detail goes into docs/study.md"


def test_the_study_page_names_every_public_member() -> None:
    page = (ROOT / "docs" / "study.md").read_text(encoding="utf-8")
    members = _public_members()
    assert len(members) > 40  # the check reads the real class
    missing = [n for n in members if not re.search(rf"`[^`\n]*\b{n}\b[^`\n]*`", page)]
    assert missing == []
