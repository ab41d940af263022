"""Importing the data bundle into data/raw, checked against the sha256 manifest."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from nwm_geo import NwmGeoError
from nwm_geo.data import import_bundle, read_manifest, require_raw


def _bundle(root: Path) -> Path:
    """A tiny SYNTHETIC bundle of two files."""
    (root / "assets").mkdir(parents=True)
    (root / "assets" / "a.csv").write_text("name\nSynthetic Hall\n", encoding="utf-8")
    (root / "SOURCES.md").write_text("synthetic\n", encoding="utf-8")
    return root


def _readme(dest: Path, sums: dict[str, str]) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    rows = "\n".join(f"| `{f}` | synthetic | n/a | {h} |" for f, h in sums.items())
    (dest / "README.md").write_text(
        f"# raw\n\n| file | source | licence | sha256 |\n|---|---|---|---|\n{rows}\n",
        encoding="utf-8",
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_import_copies_and_checks_the_manifest(tmp_path: Path) -> None:
    src = _bundle(tmp_path / "shared")
    dest = tmp_path / "raw"
    _readme(
        dest,
        {"assets/a.csv": _sha(src / "assets" / "a.csv"), "SOURCES.md": _sha(src / "SOURCES.md")},
    )
    manifest = import_bundle(src, dest=dest, strict=True)
    assert set(manifest["status"]) == {"ok"}
    assert (dest / "assets" / "a.csv").read_bytes() == (src / "assets" / "a.csv").read_bytes()
    assert read_manifest(dest / "README.md")["assets/a.csv"] == _sha(src / "assets" / "a.csv")


def _tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): _sha(p) for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_changed_file_is_refused_and_nothing_is_copied(tmp_path: Path) -> None:
    src = _bundle(tmp_path / "shared")
    dest = tmp_path / "raw"
    _readme(dest, {"assets/a.csv": "0" * 64, "SOURCES.md": _sha(src / "SOURCES.md")})
    before = _tree(dest)
    for strict in (True, False):
        with pytest.raises(NwmGeoError, match=r"assets/a.csv: sha256 differs from manifest"):
            import_bundle(src, dest=dest, strict=strict)
        assert _tree(dest) == before  # only the README: nothing copied


def test_a_manifest_file_missing_from_the_bundle_is_refused(tmp_path: Path) -> None:
    src = _bundle(tmp_path / "shared")
    dest = tmp_path / "raw"
    _readme(
        dest,
        {
            "assets/a.csv": _sha(src / "assets" / "a.csv"),
            "SOURCES.md": _sha(src / "SOURCES.md"),
            "assets/gone.csv": "1" * 64,
        },
    )
    with pytest.raises(NwmGeoError, match=r"assets/gone.csv: missing from bundle"):
        import_bundle(src, dest=dest)
    assert not (dest / "assets").exists()


def test_a_file_not_in_the_manifest_is_refused_unless_accepted(tmp_path: Path) -> None:
    src = _bundle(tmp_path / "shared")
    dest = tmp_path / "raw"
    _readme(dest, {"assets/a.csv": _sha(src / "assets" / "a.csv")})
    with pytest.raises(NwmGeoError, match=r"SOURCES.md: not in manifest"):
        import_bundle(src, dest=dest)
    manifest = import_bundle(src, dest=dest, accept_new=True)
    assert manifest.set_index("file")["status"].to_dict() == {
        "SOURCES.md": "not in manifest",
        "assets/a.csv": "ok",
    }
    readme = (dest / "README.md").read_text(encoding="utf-8")
    assert f"| `assets/a.csv` | synthetic | n/a | {_sha(src / 'assets' / 'a.csv')} |" in readme
    assert f"| `SOURCES.md` | see SOURCES.md | see SOURCES.md | {_sha(src / 'SOURCES.md')} |" in (
        readme
    )
    assert set(import_bundle(src, dest=dest, strict=True)["status"]) == {"ok"}


def test_without_a_manifest_strict_refuses(tmp_path: Path) -> None:
    src = _bundle(tmp_path / "shared")
    dest = tmp_path / "raw"
    with pytest.raises(NwmGeoError, match=r"README.md: no sha256 manifest"):
        import_bundle(src, dest=dest, strict=True)
    assert not dest.exists()
    manifest = import_bundle(src, dest=dest)  # outside a repository: imported unchecked
    assert set(manifest["status"]) == {"not in manifest"}
    assert _tree(dest) == {f: _sha(src / f) for f in ["SOURCES.md", "assets/a.csv"]}


def test_missing_bundle_and_missing_raw_file_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(NwmGeoError, match="NWM_GEO_SHARED_DATA"):
        import_bundle(tmp_path / "nowhere", dest=tmp_path / "raw")
    with pytest.raises(NwmGeoError, match="nwm-geo import-data"):
        require_raw("boundaries/luton_wards_2025.geojson", data_dir=tmp_path)


@pytest.mark.integration
def test_committed_manifest_matches_the_imported_bundle() -> None:
    """data/raw/README.md lists every file of the real bundle with its sha256."""
    root = Path(__file__).resolve().parent.parent / "data" / "raw"
    manifest = read_manifest(root / "README.md")
    assert len(manifest) == 65  # Luton 27, the OSM places of worship, 13 fringe, Rutland 24
    assert sum(name.startswith("rutland/") for name in manifest) == 24
    for name, digest in manifest.items():
        assert _sha(root / name) == digest, name
