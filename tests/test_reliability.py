"""Faults during a run: the outputs switch as one, the lock, a corrupt bundle, Ctrl-C.

Every project and bundle here is SYNTHETIC (made-up file contents in tmp folders); the
full pipeline is not needed to test how files are switched. Every output file is
compared by sha256 before and after.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from nwm_geo import NwmGeoError, pipeline
from nwm_geo._io import (
    JOURNAL_NAME,
    LOCK_NAME,
    pending_switch,
    project_lock,
    recover,
    staged_outputs,
)
from nwm_geo.cli import main
from nwm_geo.data import BundleChangedWarning

#: A previous run's outputs (synthetic).
OLD = {
    "data/processed/README.md": "# processed (tracked)\n",
    "data/processed/register.csv": "asset_id\nA1\nA2\n",
    "data/processed/localities.csv": "ward,locality\nW1,1\nW2,2\nW3,3\nW4,4\n",
    "data/processed/coverage_localities.csv": "locality,pct\n1,90\n2,80\n3,70\n4,60\n",
    "reports/index.html": "<p>4 localities</p>\n",
    "reports/map_localities.html": "<p>map of 4</p>\n",
}
#: What a localities + report run writes (synthetic): some files of each folder.
WRITTEN = {
    "data/processed/localities.csv": "ward,locality\nW1,1\nW2,2\nW3,3\nW4,4\nW5,5\n",
    "data/processed/coverage_localities.csv": "locality,pct\n1,91\n2,81\n3,71\n4,61\n5,51\n",
    "reports/index.html": "<p>5 localities</p>\n",
    "reports/map_localities.html": "<p>map of 5</p>\n",
}
NEW = {**OLD, **WRITTEN}

STEPS = [
    "before switch",
    "moved the current data/processed aside",
    "moved the new data/processed into place",
    "moved the current reports aside",
    "moved the new reports into place",
]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _outputs(root: Path) -> dict[str, str]:
    """sha256 of every file under data/processed and reports."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in ("data/processed", "reports")
        if (root / folder).exists()
        for p in sorted((root / folder).rglob("*"))
        if p.is_file()
    }


def _shas(files: dict[str, str]) -> dict[str, str]:
    return {k: _sha(v) for k, v in sorted(files.items())}


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    _write(root, OLD)
    assert _outputs(root) == _shas(OLD)
    return root


def _new_run(
    root: Path,
    *,
    before_switch: Callable[[], None] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> None:
    with staged_outputs(root, before_switch=before_switch, on_step=on_step) as stage:
        _write(stage, WRITTEN)


class Boom(RuntimeError):
    pass


@pytest.mark.parametrize("step", STEPS)
def test_a_failure_during_the_switch_leaves_the_previous_run(project: Path, step: str) -> None:
    def fail(at: str = "before switch") -> None:
        if at == step:
            raise Boom(at)

    with pytest.raises(Boom) as info:
        _new_run(project, before_switch=fail, on_step=fail)
    assert _outputs(project) == _shas(OLD)
    assert "nothing was changed" in getattr(info.value, "__notes__", [])
    assert pending_switch(project) is None
    assert not list(project.glob(".staging-*"))
    _new_run(project)  # the next run is not hindered
    assert _outputs(project) == _shas(NEW)


_CRASH = """
import os, signal, sys
from pathlib import Path
from nwm_geo._io import staged_outputs
root, kill_at, written = Path(sys.argv[1]), sys.argv[2], {}
import json
written = json.loads(sys.argv[3])
def kill(at="before switch"):
    if at == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
with staged_outputs(root, before_switch=kill, on_step=kill) as stage:
    for rel, text in written.items():
        (stage / rel).parent.mkdir(parents=True, exist_ok=True)
        (stage / rel).write_text(text, encoding="utf-8")
    kill("while writing")
"""


@pytest.mark.parametrize("step", ["while writing", *STEPS])
def test_sigkill_during_the_switch_is_rolled_forward_at_the_next_start(
    project: Path, step: str
) -> None:
    """A real SIGKILL, sent by the process to itself from the hook at a known step."""
    proc = subprocess.run(
        [sys.executable, "-c", _CRASH, str(project), step, json.dumps(WRITTEN)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert list(project.glob(".staging-*"))  # the killed run's copy is still there
    after_kill = _outputs(project)
    if step == "while writing":
        assert pending_switch(project) is None
        assert after_kill == _shas(OLD)
        expected = _shas(OLD)
    else:
        assert pending_switch(project) is not None  # a reader sees the switch is pending
        if step == "moved the new data/processed into place":
            assert after_kill != _shas(OLD) and after_kill != _shas(NEW)  # a mix, on disk
        expected = _shas(NEW)  # the journal exists only once the new generation is complete
    with project_lock(project):
        assert recover(project) == (
            "nothing to do" if step == "while writing" else "rolled forward"
        )
    assert _outputs(project) == expected
    with staged_outputs(project):  # the next start removes the leftovers
        pass
    assert not list(project.glob(".staging-*"))
    assert not (project / JOURNAL_NAME).exists()
    assert _outputs(project) == expected


def test_a_leftover_journal_that_cannot_roll_forward_rolls_back(project: Path) -> None:
    """Killed after data/processed was switched, then reports' new generation was lost."""
    proc = subprocess.run(
        [sys.executable, "-c", _CRASH, str(project), STEPS[2], json.dumps(WRITTEN)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    journal = pending_switch(project)
    assert journal is not None
    reports = next(f for f in journal["folders"] if f["target"] == "reports")
    shutil.rmtree(project / reports["new"])  # reports' new generation is lost
    with project_lock(project):
        assert recover(project) == "rolled back"  # forward is impossible: back
    assert _outputs(project) == _shas(OLD)


def test_a_read_only_reports_folder_changes_nothing(project: Path) -> None:
    """As root, chmod does not stop writes: make the folder immutable (chattr +i).

    An immutable folder cannot be renamed, even by root, so the switch of ``reports``
    fails after ``data/processed`` was switched, and is rolled back.
    """
    subprocess.run(["chattr", "+i", str(project / "reports")], check=True)
    try:
        with pytest.raises(NwmGeoError, match=r"reports: cannot switch it into place"):
            _new_run(project)
        assert _outputs(project) == _shas(OLD)
    finally:
        subprocess.run(["chattr", "-i", str(project / "reports")], check=True)
    assert pending_switch(project) is None


def test_a_permission_error_mid_switch_changes_nothing(project: Path) -> None:
    """The same failure injected: renaming ``reports`` raises PermissionError."""

    def deny(at: str) -> None:
        if at == "moved the new data/processed into place":
            raise PermissionError(13, "Permission denied", str(project / "reports"))

    with pytest.raises(NwmGeoError, match=r"reports: cannot switch it into place: Permission"):
        _new_run(project, on_step=deny)
    assert _outputs(project) == _shas(OLD)


def test_a_file_where_the_reports_folder_should_be_changes_nothing(project: Path) -> None:
    for p in (project / "reports").iterdir():
        p.unlink()
    (project / "reports").rmdir()
    (project / "reports").write_text("not a folder", encoding="utf-8")
    before = _outputs(project)
    with pytest.raises(NwmGeoError, match=r"reports: expected a folder, found a file"):
        _new_run(project)
    assert _outputs(project) == before
    assert (project / "reports").read_text(encoding="utf-8") == "not a folder"


def test_ctrl_c_during_the_switch_is_deferred_until_it_is_complete(project: Path) -> None:
    def interrupt(at: str) -> None:
        if at == "moved the current data/processed aside":
            # Sent to this thread (os.kill would let the kernel pick any thread of the
            # process, and a busy machine could run the handler late); deferred until
            # the switch has finished.
            signal.raise_signal(signal.SIGINT)

    # Python's own Ctrl-C handler, as in the CLI process (a test worker may run others).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt) as info:
            _new_run(project, on_step=interrupt)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert "the outputs were switched to this run's files" in info.value.__notes__
    assert _outputs(project) == _shas(NEW)
    assert pending_switch(project) is None


# ----------------------------------------------------------------- the CLI


def _bundle(root: Path) -> dict[str, str]:
    """A SYNTHETIC bundle of three files; returns file -> sha256."""
    files = {
        "SOURCES.md": "synthetic bundle for tests\n",
        "postcodes/codepoint_synthetic.csv": "postcode,easting,northing\n"
        + "".join(f"LU1 {i}AA,50{i}000,22{i}000\n" for i in range(9)),
        "boundaries/wards_synthetic.geojson": '{"type": "FeatureCollection", "features": []}\n',
    }
    _write(root, files)
    return {k: _sha(v) for k, v in files.items()}


def _manifest(project: Path, sums: dict[str, str]) -> None:
    rows = "\n".join(f"| `{f}` | synthetic source | n/a | {h} |" for f, h in sums.items())
    _write(
        project,
        {
            "data/raw/README.md": "# raw\n\n| file | source | licence | sha256 |\n"
            f"|---|---|---|---|\n{rows}\n\nAfter the table.\n"
        },
    )


@pytest.fixture
def cli_project(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path]:
    """A synthetic project with outputs and an imported synthetic bundle."""
    monkeypatch.setenv("NWM_GEO_PROJECT_DIR", str(project))  # main() sets these; restore
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(tmp_path / "bundle"))
    bundle = tmp_path / "bundle"
    _manifest(project, _bundle(bundle))
    assert main(["--project-dir", str(project), "import-data"]) == 0
    return project, bundle


def _everything(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != LOCK_NAME
    }


def _args(cmd: list[str], project: Path, bundle: Path) -> list[str]:
    return ["--project-dir", str(project), "--shared-data", str(bundle), *cmd]


def test_a_second_run_refuses_while_the_lock_is_held(
    cli_project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    project, bundle = cli_project
    before = _everything(project)
    capsys.readouterr()
    with project_lock(project):
        for cmd in (["run", "--quiet", "-k", "6"], ["import-data"]):
            assert main(_args(cmd, project, bundle)) == 1  # a failure while running
            err = capsys.readouterr().err
            assert f"another nwm-geo run holds the lock on {project} (pid {os.getpid()}, " in (err)
            assert "started at 20" in err and "Traceback" not in err
    assert _everything(project) == before


def test_a_truncated_bundle_file_is_refused_then_accepted(
    cli_project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    project, bundle = cli_project
    codepoint = bundle / "postcodes" / "codepoint_synthetic.csv"
    codepoint.write_bytes(codepoint.read_bytes()[:40])  # truncated
    (project / "data" / "raw" / ".partial.csv.tmp").write_text("partial", encoding="utf-8")
    before = _everything(project)
    capsys.readouterr()
    for cmd in (["import-data"], ["import-data", "--strict"]):  # only an import stops
        assert main(_args(cmd, project, bundle)) == 2
        err = capsys.readouterr().err
        assert "postcodes/codepoint_synthetic.csv: sha256 differs from manifest" in err
        assert "Traceback" not in err
        after = _everything(project)
        assert after == {k: v for k, v in before.items() if not k.endswith(".tmp")}
    assert main(_args(["import-data", "--accept-new-bundle"], project, bundle)) == 0
    raw = project / "data" / "raw"
    assert raw.joinpath("postcodes/codepoint_synthetic.csv").read_bytes() == codepoint.read_bytes()
    readme = (raw / "README.md").read_text(encoding="utf-8")
    digest = hashlib.sha256(codepoint.read_bytes()).hexdigest()
    assert f"| `postcodes/codepoint_synthetic.csv` | synthetic source | n/a | {digest} |" in readme
    assert readme.endswith("\nAfter the table.\n")
    assert _outputs(project) == _shas(OLD)  # the import never touches the outputs
    assert main(_args(["import-data", "--strict"], project, bundle)) == 0
    codepoint.write_bytes(codepoint.read_bytes()[:20])  # changed again: a reader warns
    with pytest.warns(BundleChangedWarning, match="sha256 differs from manifest"):
        assert main(_args(["compare-plans", "--quiet", "a.csv", "a.csv"], project, bundle)) == 2
    err = capsys.readouterr().err  # it went on to read (this bundle has no real area)
    assert "differs from the manifest" not in err and "sha256 differs" not in err


def test_a_missing_or_unlisted_bundle_file_is_refused(
    cli_project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    project, bundle = cli_project
    (bundle / "boundaries" / "wards_synthetic.geojson").unlink()
    _write(bundle, {"assets/extra_synthetic.csv": "name\nExtra\n"})
    before = _everything(project)
    capsys.readouterr()
    assert main(_args(["import-data"], project, bundle)) == 2
    err = capsys.readouterr().err
    assert "boundaries/wards_synthetic.geojson: missing from bundle" in err
    assert "assets/extra_synthetic.csv: not in manifest" in err
    assert _everything(project) == before
    assert main(_args(["import-data", "--accept-new-bundle"], project, bundle)) == 0
    raw = project / "data" / "raw"
    readme = (raw / "README.md").read_text(encoding="utf-8")
    assert "| `assets/extra_synthetic.csv` | see SOURCES.md | see SOURCES.md |" in readme
    assert "wards_synthetic" not in readme
    assert not (raw / "boundaries" / "wards_synthetic.geojson").exists()


def test_strict_without_a_manifest_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project, bundle = tmp_path / "elsewhere", tmp_path / "bundle"
    monkeypatch.setenv("NWM_GEO_PROJECT_DIR", str(project))
    monkeypatch.setenv("NWM_GEO_SHARED_DATA", str(bundle))
    _bundle(bundle)
    assert main(_args(["import-data", "--strict"], project, bundle)) == 2
    assert "no sha256 manifest" in capsys.readouterr().err
    assert not (project / "data").exists()


def test_a_crash_while_importing_leaves_data_raw_whole(cli_project: tuple[Path, Path]) -> None:
    project, bundle = cli_project
    raw = project / "data" / "raw"
    before = _everything(raw)
    codepoint = bundle / "postcodes" / "codepoint_synthetic.csv"
    codepoint.write_text("postcode\nLU9 9ZZ\n", encoding="utf-8")
    from nwm_geo.data import import_bundle

    with pytest.raises(Boom):
        import_bundle(bundle, accept_new=True, before_switch=lambda: (_ for _ in ()).throw(Boom()))
    assert _everything(raw) == before
    import_bundle(bundle, accept_new=True)
    assert (raw / "postcodes" / "codepoint_synthetic.csv").read_text() == "postcode\nLU9 9ZZ\n"


def test_ctrl_c_prints_one_line_and_exits_130(
    cli_project: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project, bundle = cli_project

    def interrupted(study: pipeline.Study, out: Path) -> list[Path]:
        (out / "localities.csv").write_text("half", encoding="utf-8")
        raise KeyboardInterrupt

    monkeypatch.setitem(pipeline.STAGES, "localities", (interrupted, "processed"))
    before = _everything(project)
    capsys.readouterr()
    assert main(_args(["localities", "--quiet"], project, bundle)) == 130
    err = capsys.readouterr().err
    assert err == "nwm-geo localities: interrupted; nothing was changed\n"
    assert _everything(project) == before


_CRASH_IMPORT = """
import os, signal, sys
from pathlib import Path
from nwm_geo.data import import_bundle
def kill(at):
    if at == "moved the current data/raw aside":
        os.kill(os.getpid(), signal.SIGKILL)
import_bundle(Path(sys.argv[1]), accept_new=True, on_step=kill)
"""


def test_a_reader_finishes_an_import_killed_mid_switch(cli_project: tuple[Path, Path]) -> None:
    project, bundle = cli_project
    codepoint = bundle / "postcodes" / "codepoint_synthetic.csv"
    codepoint.write_text("postcode\nLU9 9ZZ\n", encoding="utf-8")
    env = {**os.environ, "NWM_GEO_PROJECT_DIR": str(project)}
    proc = subprocess.run(
        [sys.executable, "-c", _CRASH_IMPORT, str(bundle)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert not (project / "data" / "raw").exists()  # moved aside, new one not yet in place
    from nwm_geo.data import require_raw

    path = require_raw("postcodes/codepoint_synthetic.csv")  # rolls the switch forward
    assert path.read_text(encoding="utf-8") == "postcode\nLU9 9ZZ\n"
    assert pending_switch(project) is None
    assert not list(project.glob(".staging-*"))
