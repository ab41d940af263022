"""Every docstring example runs (numpydoc "Examples" sections, as doctests).

The examples use the SYNTHETIC area of :func:`nwm_geo.data.synthetic_example`, never the
bundle, so they run in the fast tier; this file is how the test command runs them.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import nwm_geo

MODULES = sorted(m.name for m in pkgutil.walk_packages(nwm_geo.__path__, "nwm_geo."))
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _tests(name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(name)
    return [t for t in doctest.DocTestFinder().find(module, name) if t.examples]


@pytest.mark.parametrize("name", ["nwm_geo", *MODULES])
def test_the_examples_of_a_module_run(name: str) -> None:
    failures: list[str] = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in _tests(name):
        runner.run(test, out=failures.append)
    assert runner.failures == 0, "".join(failures)


def test_twenty_public_functions_have_examples() -> None:
    stages = ("data", "network", "coverage", "localities", "areas", "pipeline", "scenarios")
    documented = set()
    for stage in stages:
        module = importlib.import_module(f"nwm_geo.{stage}")
        for public in module.__all__:
            obj = getattr(module, public)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and ">>> " in (obj.__doc__ or ""):
                documented.add(f"{stage}.{public}")
    assert len(documented) >= 20, sorted(documented)


def test_topic_pages_name_public_things_only() -> None:
    import re
    from pathlib import Path

    docs = Path(__file__).resolve().parent.parent / "docs"
    private = re.compile(r"nwm_geo(?:\.\w+)*\._\w+|(?:\w+/)+_\w+\.py")
    found = {
        page.name: private.findall(page.read_text(encoding="utf-8"))
        for page in docs.glob("*.md")
        if page.name != "reliability.md"  # the design note of the atomic writer, for developers
    }
    assert {name: hits for name, hits in found.items() if hits} == {}
