"""Atomic writes: a failure leaves the destination as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from nwm_geo._io import atomic_path, staged_outputs


def test_atomic_path_replaces_only_on_success(tmp_path: Path) -> None:
    dest = tmp_path / "table.csv"
    dest.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_path(dest) as tmp:
        tmp.write_text("half-written", encoding="utf-8")
        raise RuntimeError("boom")
    assert dest.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]

    with atomic_path(dest) as tmp:
        tmp.write_text("new", encoding="utf-8")
    assert dest.read_text(encoding="utf-8") == "new"


def test_staged_outputs_moves_all_files_or_none(tmp_path: Path) -> None:
    with pytest.raises(ValueError), staged_outputs(tmp_path) as stage:
        (stage / "data").mkdir()
        (stage / "data" / "a.csv").write_text("a", encoding="utf-8")
        raise ValueError("second file failed")
    assert list(tmp_path.iterdir()) == []

    with staged_outputs(tmp_path) as stage:
        (stage / "data").mkdir()
        (stage / "data" / "a.csv").write_text("a", encoding="utf-8")
        (stage / "reports").mkdir()
        (stage / "reports" / "b.html").write_text("b", encoding="utf-8")
    assert (tmp_path / "data" / "a.csv").read_text(encoding="utf-8") == "a"
    assert (tmp_path / "reports" / "b.html").read_text(encoding="utf-8") == "b"
    assert not list(tmp_path.glob(".staging-*"))
