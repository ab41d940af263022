"""Atomic writes: a failure leaves the destination as it was; the lock; clean-up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nwm_geo._io import (
    JOURNAL_NAME,
    LockedError,
    atomic_path,
    pending_switch,
    project_lock,
    remove_partial_files,
    staged_outputs,
)


def test_atomic_path_replaces_only_on_success(tmp_path: Path) -> None:
    dest = tmp_path / "table.csv"
    dest.write_text("old", encoding="utf-8")

    def write_then_fail() -> None:
        with atomic_path(dest) as tmp:
            tmp.write_text("half-written", encoding="utf-8")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert dest.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]

    with atomic_path(dest) as tmp:
        tmp.write_text("new", encoding="utf-8")
    assert dest.read_text(encoding="utf-8") == "new"


def _files(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".nwm-geo.lock"
    }


def test_staged_outputs_moves_all_files_or_none(tmp_path: Path) -> None:
    def stage_then_fail() -> None:
        with staged_outputs(tmp_path) as stage:
            (stage / "data" / "processed").mkdir(parents=True)
            (stage / "data" / "processed" / "a.csv").write_text("a", encoding="utf-8")
            raise ValueError("second file failed")

    with pytest.raises(ValueError, match="second file failed"):
        stage_then_fail()
    assert _files(tmp_path) == {}

    with staged_outputs(tmp_path) as stage:
        (stage / "data" / "processed").mkdir(parents=True)
        (stage / "data" / "processed" / "a.csv").write_text("a", encoding="utf-8")
        (stage / "reports").mkdir()
        (stage / "reports" / "b.html").write_text("b", encoding="utf-8")
    assert _files(tmp_path) == {"data/processed/a.csv": "a", "reports/b.html": "b"}
    assert not list(tmp_path.glob(".staging-*"))
    assert pending_switch(tmp_path) is None
    assert not (tmp_path / JOURNAL_NAME).exists()


def test_a_stage_run_keeps_the_other_stages_files(tmp_path: Path) -> None:
    with staged_outputs(tmp_path) as stage:
        (stage / "data" / "processed").mkdir(parents=True)
        (stage / "data" / "processed" / "register.csv").write_text("r1", encoding="utf-8")
        (stage / "data" / "processed" / "localities.csv").write_text("l1", encoding="utf-8")
        (stage / "reports").mkdir()
        (stage / "reports" / "index.html").write_text("i1", encoding="utf-8")
    with staged_outputs(tmp_path) as stage:  # a localities-only run
        (stage / "data" / "processed").mkdir(parents=True)
        (stage / "data" / "processed" / "localities.csv").write_text("l2", encoding="utf-8")
    assert _files(tmp_path) == {
        "data/processed/localities.csv": "l2",
        "data/processed/register.csv": "r1",
        "reports/index.html": "i1",
    }


def test_a_file_outside_the_output_folders_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"outside the output folders.*stray\.csv"):
        with staged_outputs(tmp_path) as stage:
            (stage / "stray.csv").write_text("x", encoding="utf-8")
    assert _files(tmp_path) == {}


def test_the_lock_refuses_a_second_writer_naming_the_holder(tmp_path: Path) -> None:
    with project_lock(tmp_path):
        with pytest.raises(LockedError, match=rf"holds the lock on .*\(pid {os.getpid()}, "):
            with staged_outputs(tmp_path) as stage:
                (stage / "reports").mkdir()
    assert _files(tmp_path) == {}
    with staged_outputs(tmp_path) as stage:  # released: the next writer gets it
        (stage / "reports").mkdir()
        (stage / "reports" / "b.html").write_text("b", encoding="utf-8")
    assert _files(tmp_path) == {"reports/b.html": "b"}


def test_the_lock_waits_up_to_the_timeout(tmp_path: Path) -> None:
    """An injected clock: the waiting loop sleeps until 5 s have passed, then refuses."""
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    with project_lock(tmp_path), pytest.raises(LockedError, match=r"after waiting 5 s"):
        with project_lock(tmp_path, timeout=5.0, poll=1.0, clock=lambda: now[0], sleep=sleep):
            pass
    assert slept == [1.0] * 5


def test_leftovers_are_removed_at_the_next_start(tmp_path: Path) -> None:
    junk = tmp_path / ".staging-killed" / "data" / "processed"
    junk.mkdir(parents=True)
    (junk / "big.csv").write_text("x" * 1000, encoding="utf-8")
    with staged_outputs(tmp_path):
        pass
    assert not list(tmp_path.glob(".staging-*"))

    raw = tmp_path / "data" / "raw"
    (raw / "assets").mkdir(parents=True)
    (raw / "assets" / ".a.csv.tmp").write_text("partial", encoding="utf-8")
    (raw / "assets" / "a.csv").write_text("whole", encoding="utf-8")
    assert remove_partial_files(raw) == [raw / "assets" / ".a.csv.tmp"]
    assert [p.name for p in (raw / "assets").iterdir()] == ["a.csv"]
