"""Tooling contracts: a fast command line, the package version, the notebook helper."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

import nwm_geo
from nwm_geo._notebook import find_project_dir, notebook_setup

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("folium", "matplotlib", "osmnx")


def test_importing_the_cli_loads_no_heavy_library() -> None:
    code = (
        "import sys, nwm_geo.cli; "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules) or 'none')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "none", f"import nwm_geo.cli loaded {out.stdout.strip()}"


def test_the_heavy_check_can_fail() -> None:
    code = (
        # the maps load matplotlib and folium when they draw, not when imported
        "import sys, folium, nwm_geo.cli, nwm_geo.maps; nwm_geo.maps.new_figure((1, 1)); "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules) or 'none')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert "folium" in out.stdout and "matplotlib" in out.stdout


def test_help_exits_0() -> None:
    cli = Path(sys.executable).with_name("nwm-geo")
    cmd = [str(cli)] if cli.exists() else [sys.executable, "-m", "nwm_geo.cli"]
    out = subprocess.run([*cmd, "--help"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: nwm-geo")
    for command in ("import-data", "register", "localities", "coverage", "report", "run"):
        assert command in out.stdout


def test_version_comes_from_the_package_metadata() -> None:
    assert nwm_geo.__version__ == version("nwm_geo")
    assert nwm_geo.__version__ != "0+unknown"


def _project(tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "notebooks").mkdir()
    return tmp_path


def test_find_project_dir_walks_up_from_notebooks(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert find_project_dir(root / "notebooks") == root.resolve()
    assert find_project_dir(root) == root.resolve()


def test_find_project_dir_outside_a_project(tmp_path: Path) -> None:
    (tmp_path / "notebooks").mkdir()
    assert find_project_dir(tmp_path / "notebooks") == tmp_path.resolve()
    assert find_project_dir(tmp_path) == tmp_path.resolve()


def test_notebook_setup_moves_to_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path)
    monkeypatch.delenv("NWM_GEO_PROJECT_DIR", raising=False)
    monkeypatch.chdir(root / "notebooks")
    assert notebook_setup(import_data=False) == root.resolve()
    assert Path.cwd() == root.resolve()
    assert os.environ["NWM_GEO_PROJECT_DIR"] == str(root.resolve())
    assert nwm_geo.settings.raw_dir() == root.resolve() / "data" / "raw"


def test_notebook_setup_honours_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path / "elsewhere")
    monkeypatch.setenv("NWM_GEO_PROJECT_DIR", str(root))
    monkeypatch.chdir(tmp_path)
    assert notebook_setup(import_data=False) == root.resolve()
    assert Path.cwd() == root.resolve()


def test_notebook_setup_imports_the_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr("nwm_geo.data.bundle.import_bundle", lambda *a, **k: calls.append("import"))
    monkeypatch.delenv("NWM_GEO_PROJECT_DIR", raising=False)
    monkeypatch.chdir(_project(tmp_path))
    notebook_setup()
    assert calls == ["import"]


def test_pre_commit_runs_the_same_tools_and_guards_the_bundle() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert {"ruff-check", "ruff-format", "mypy", "lint-imports", "no-data-bundle"} <= set(hooks)
    guard = re.compile(hooks["no-data-bundle"]["files"])
    assert guard.search("data/raw/assets/gias.csv")
    assert guard.search("data/raw/manifest.csv")
    assert not guard.search("data/raw/README.md")
    assert not guard.search("src/nwm_geo/data/bundle.py")


def test_version_falls_back_in_an_uninstalled_checkout() -> None:
    code = (
        "import importlib.metadata as md\n"
        "def missing(name):\n"
        "    raise md.PackageNotFoundError(name)\n"
        "md.version = missing\n"
        "import nwm_geo\n"
        "print(nwm_geo.__version__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "0+unknown"


# -- the house: module sizes and import circles (issue 19) ----------------------------
SRC = ROOT / "src" / "nwm_geo"
MAX_MODULE_LINES = 800


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(root: Path) -> dict[str, set[str]]:
    """Every module of the package under ``root`` -> the package's modules it imports.

    Every import counts: at the top, inside a function, under ``TYPE_CHECKING``. ``from
    pkg import name`` imports the submodule ``pkg.name`` when there is one, else ``pkg``.
    """
    import ast

    files = {_module_name(p, root): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative import
                    here = name.split(".") if is_pkg else name.split(".")[:-1]
                    here = here[: len(here) - (node.level - 1)]
                    base = ".".join([*here, base] if base else here)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base
                           for a in node.names]  # fmt: skip
            graph[name] |= {t for t in targets if t in files and t != name}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles: strongly connected groups of more than one module."""
    import networkx as nx

    g = nx.DiGraph([(a, b) for a, bs in graph.items() for b in bs])
    return sorted(sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1)


def test_no_import_circle_even_inside_a_package() -> None:
    # a package's __init__ re-exports its modules; a module may still import a sibling
    # package's facade (`from nwm_geo import coverage`), so facades stay in the graph
    assert _circles(_imports(SRC)) == []


def test_the_circle_check_can_fail(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from pkg.sub._a import A\n")
    (pkg / "sub" / "_a.py").write_text("from pkg.sub._b import B\nA = 1\n")
    (pkg / "sub" / "_b.py").write_text(  # a TYPE_CHECKING import is still a circle
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.sub import _a\nB = 2\n"
    )
    assert _circles(_imports(pkg)) == [["pkg.sub._a", "pkg.sub._b"]]


def test_no_module_is_over_800_lines() -> None:
    sizes = {
        str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines())
        for p in SRC.rglob("*.py")
    }
    assert {p: n for p, n in sizes.items() if n > MAX_MODULE_LINES} == {}
    assert max(sizes.values()) > MAX_MODULE_LINES // 2  # the count reads real modules


def _diagram_layers(markdown: str) -> list[str]:
    """The layers of the "Import layers" diagram, names in full, as the contract writes them."""
    block = markdown.split("## Import layers", 1)[1].split("```", 2)[1]
    layers = []
    for line in block.strip().splitlines():
        names = re.split(r"\s{2,}", line.strip())[0]  # a comment follows two spaces
        parts = re.split(r"(\s[|:]\s)", names)  # `_io` stands for `nwm_geo._io`
        layers.append(
            "".join(
                p if p.strip() in {"|", ":"} or p.startswith("nwm_geo.") else f"nwm_geo.{p}"
                for p in parts
            )
        )
    return layers


def _contract_layers() -> list[str]:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    return [str(x) for x in contracts[0]["layers"]]


def test_contributing_layer_diagram_is_the_import_linter_contract() -> None:
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert _diagram_layers(text) == _contract_layers()


def test_the_diagram_check_can_fail() -> None:
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    stale = text.replace("nwm_geo.hubs\n", "", 1)  # a layer the diagram forgot
    assert _diagram_layers(stale) != _contract_layers()


#: Functions over complexity 15 or 8 parameters, `noqa` not counted (issue 19, item 6):
#: the debt left, per module and rule. A module may go below its count, never above.
COMPLEXITY_DEBT: dict[tuple[str, str], int] = {}


def _complexity_counts(folder: Path) -> dict[tuple[str, str], int]:
    import json
    from collections import Counter

    ruff = Path(sys.executable).with_name("ruff")
    out = subprocess.run(
        [str(ruff), "check", str(folder), "--select", "C901,PLR0913", "--ignore-noqa",
         "--output-format", "json", "--exit-zero", "--no-cache"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    found = json.loads(out.stdout)
    return dict(
        Counter(
            (Path(x["filename"]).relative_to(folder.parent).as_posix(), x["code"]) for x in found
        )
    )


def test_no_new_function_over_complexity_15_or_8_parameters() -> None:
    over = {key: n for key, n in _complexity_counts(SRC).items() if n > COMPLEXITY_DEBT.get(key, 0)}
    assert over == {}


def test_the_complexity_check_can_fail(tmp_path: Path) -> None:
    pkg = tmp_path / "nwm_geo"
    pkg.mkdir()
    args = ", ".join(f"a{i}" for i in range(9))
    (pkg / "wide.py").write_text(f"def f({args}):  # noqa: PLR0913\n    return a0\n")
    assert _complexity_counts(pkg) == {("nwm_geo/wide.py", "PLR0913"): 1}
