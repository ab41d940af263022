"""A leading underscore means "private to this module" (issue 19, item 4).

An AST scan of ``src/nwm_geo``: no module imports a name with one leading underscore
from another ``nwm_geo`` module. Underscore *modules* (``nwm_geo._publish``) are the
package's internals and may be imported; the names inside them that other modules use
carry no underscore.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "nwm_geo"

#: Underscore names still imported across modules: the debt left, as
#: (defining module, name). An entry may go (rename the name), never come back; a new
#: one is a failure. Owned by the coverage and pipeline stages (issue 19, item 4).
UNDERSCORE_DEBT: frozenset[tuple[str, str]] = frozenset()


def _module_of(path: Path, package: Path) -> tuple[str, list[str]]:
    """Return the dotted module name of ``path`` and its package's parts."""
    parts = [package.name, *path.relative_to(package).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts = parts[:-1]
        return ".".join(parts), parts
    return ".".join(parts), parts[:-1]


def _is_module(dotted: str, package: Path) -> bool:
    """Whether ``dotted`` (inside ``package``) is a module or a subpackage."""
    rel = Path(*dotted.split(".")[1:]) if "." in dotted else Path()
    base = package / rel
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def underscore_imports(package: Path) -> dict[tuple[str, str], set[str]]:
    """Return ``(module, name) -> importing modules`` for every underscore name imported
    from another module of ``package`` (a folder holding an ``__init__.py``).
    """
    found: dict[tuple[str, str], set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        here, pkg = _module_of(path, package)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = pkg[: len(pkg) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            if source != package.name and not source.startswith(package.name + "."):
                continue
            for alias in node.names:
                name = alias.name
                if not name.startswith("_") or name.startswith("__"):
                    continue
                if _is_module(f"{source}.{name}", package):
                    continue  # an underscore module: internal, and fine to import
                found.setdefault((source, name), set()).add(here)
    return found


def test_no_underscore_name_is_imported_from_another_module() -> None:
    new = {key: sorted(users) for key, users in underscore_imports(SRC).items()}
    new = {key: users for key, users in new.items() if key not in UNDERSCORE_DEBT}
    assert new == {}


def test_the_underscore_check_can_fail(tmp_path: Path) -> None:
    pkg = tmp_path / "nwm_geo"
    (pkg / "stage").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "_internal.py").write_text("def _helper():\n    return 1\n")
    (pkg / "stage" / "__init__.py").write_text("")
    (pkg / "stage" / "_inner.py").write_text("_TABLE = {}\n__all__ = []\n")
    (pkg / "stage" / "_user.py").write_text(
        "from nwm_geo import _internal\n"  # a module: fine
        "from nwm_geo._internal import _helper\n"
        "from ._inner import _TABLE, __all__\n"  # a dunder: fine
        "from . import _inner\n"  # a module again: fine
    )
    assert underscore_imports(pkg) == {
        ("nwm_geo._internal", "_helper"): {"nwm_geo.stage._user"},
        ("nwm_geo.stage._inner", "_TABLE"): {"nwm_geo.stage._user"},
    }
    (pkg / "stage" / "_user.py").write_text("from nwm_geo._internal import helper\n")
    assert underscore_imports(pkg) == {}
