"""Import the shared open-data bundle into ``data/raw``.

In: ``../shared/data`` (or ``NWM_GEO_SHARED_DATA``). Out: a copy under the
gitignored ``data/raw``, every file checked against the sha256 manifest committed
in ``data/raw/README.md``; a bundle that differs is refused unless accepted, and
``data/raw`` is switched as a whole (never left half-copied).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from nwm_geo import _io, _readers, settings
from nwm_geo._errors import NwmGeoError

__all__ = [
    "BundleChangedWarning",
    "bundle_changes",
    "bundle_manifest",
    "ensure_bundle",
    "import_bundle",
    "read_manifest",
    "require_raw",
]


class BundleChangedWarning(UserWarning):
    """The shared bundle differs from the manifest; readers go on with ``data/raw``."""


_MANIFEST_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|.*\|\s*([0-9a-f]{64})\s*\|\s*$")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def bundle_manifest(source: Path | None = None) -> pd.DataFrame:
    """Return the files of a bundle with their size and sha256.

    Parameters
    ----------
    source
        The bundle folder; defaults to :func:`nwm_geo.settings.shared_data_dir`.

    Returns
    -------
    pandas.DataFrame
        Columns ``file`` (path relative to the bundle), ``bytes`` and ``sha256``.
    """
    source = Path(source) if source is not None else settings.shared_data_dir()
    rows = [
        {"file": p.relative_to(source).as_posix(), "bytes": p.stat().st_size, "sha256": _sha256(p)}
        for p in sorted(source.rglob("*"))
        if p.is_file()
    ]
    return pd.DataFrame(rows, columns=["file", "bytes", "sha256"])


def read_manifest(readme: Path) -> dict[str, str]:
    """Read the ``file -> sha256`` manifest table from ``data/raw/README.md``.

    Parameters
    ----------
    readme
        Path of the README holding the manifest table.

    Returns
    -------
    dict
        File path (relative to the bundle) to sha256.
    """
    if not readme.exists():
        return {}
    out: dict[str, str] = {}
    for line in readme.read_text(encoding="utf-8").splitlines():
        m = _MANIFEST_ROW.match(line.strip())
        if m:
            out[m.group(1)] = m.group(2)
    return out


def _manifest_rows(readme_text: str) -> tuple[list[str], dict[str, list[str]], list[str]]:
    """Split a README into the lines before the table rows, the rows' columns, the rest."""
    lines = readme_text.splitlines()
    idx = [i for i, line in enumerate(lines) if _MANIFEST_ROW.match(line.strip())]
    if not idx:
        return lines, {}, []
    cols = {}
    for i in idx:
        cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
        cols[cells[0].strip("`")] = cells
    return lines[: idx[0]], cols, lines[idx[-1] + 1 :]


def _rewrite_manifest(old_text: str | None, files: pd.DataFrame) -> str:
    """Return the README with its manifest rows replaced by ``files`` (keeping source/licence)."""
    if old_text is None:
        old_text = (
            "# data/raw: the imported open-data bundle\n\n"
            "| file | source | licence | sha256 |\n|---|---|---|---|\n"
        )
    head, cols, tail = _manifest_rows(old_text)
    if not cols and not any(line.startswith("| file |") for line in head):
        head += ["", "| file | source | licence | sha256 |", "|---|---|---|---|"]
    rows = []
    for r in files.itertuples():
        old = cols.get(str(r.file))
        source, licence = (old[1], old[2]) if old and len(old) >= 4 else ("see SOURCES.md",) * 2
        rows.append(f"| `{r.file}` | {source} | {licence} | {r.sha256} |")
    return "\n".join([*head, *rows, *tail]) + "\n"


def _against_manifest(manifest: pd.DataFrame, expected: dict[str, str]) -> pd.DataFrame:
    """Add each bundle file's ``status`` against the committed manifest, and its absentees.

    ``ok``, ``not in manifest`` or ``sha256 differs from manifest``; then one row per
    file the manifest lists but the bundle lacks, ``missing from bundle``.
    """
    status = []
    for row in manifest.itertuples():
        want = expected.get(str(row.file))
        if want is None:
            status.append("not in manifest")
        elif want != row.sha256:
            status.append("sha256 differs from manifest")
        else:
            status.append("ok")
    manifest["status"] = status
    manifest = manifest.astype({"bytes": "Int64"})
    absent = sorted(set(expected) - set(manifest["file"]))
    if absent:
        missing = pd.DataFrame(
            {"file": absent, "bytes": pd.NA, "sha256": "", "status": "missing from bundle"},
            index=range(len(manifest), len(manifest) + len(absent)),
        )
        manifest = pd.concat([manifest, missing.astype(manifest.dtypes.to_dict())])
    return manifest


def import_bundle(
    source: Path | None = None,
    *,
    dest: Path | None = None,
    strict: bool = False,
    accept_new: bool = False,
    lock_timeout: float = 0.0,
    before_switch: Callable[[], None] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Copy the shared bundle into ``data/raw``, enforcing the committed sha256 manifest.

    Every bundle file is checked against the manifest table in ``dest/README.md``. A
    file whose sha256 differs, a manifest file missing from the bundle, or a bundle
    file not in the manifest is refused: one :class:`NwmGeoError` lists each file and
    its reason, and ``dest`` is left untouched. With ``accept_new`` the bundle is taken
    as the new reference instead and the manifest rows of ``dest/README.md`` are
    rewritten (existing rows keep their source and licence; new rows say "see
    SOURCES.md"). Without a manifest (outside a repository) the bundle is imported
    unchecked, unless ``strict``, which then refuses.

    The import never replaces a good ``dest`` by a worse one: it runs under the
    project lock (:func:`nwm_geo._io.project_lock`), builds a complete new generation
    of ``dest`` in a staging folder (the current files hard-linked, the changed ones
    copied), verifies every copied file's sha256, and switches the folder in one
    journalled rename (:func:`nwm_geo._io.switch_folders`). Leftover staging folders
    and partial ``.tmp`` files in ``dest`` are removed first. A bundle ``README.md`` at
    the top level is never imported (that name is the manifest's).

    Parameters
    ----------
    source
        The bundle folder; defaults to :func:`nwm_geo.settings.shared_data_dir`.
    dest
        Destination; defaults to :func:`nwm_geo.settings.raw_dir`. The project folder
        (for a ``<project>/data/raw``; else ``dest``'s parent) holds the lock file and
        the switch journal.
    strict
        Also refuse when there is no manifest to check against.
    accept_new
        Accept a bundle that differs from the manifest and rewrite the manifest rows.
    lock_timeout
        Seconds to wait for another nwm-geo process's lock; ``0`` refuses at once.
    before_switch, on_step
        Fault-injection hooks of :func:`nwm_geo._io.switch_folders`: called just
        before ``dest`` is switched, and after each rename.

    Returns
    -------
    pandas.DataFrame
        The bundle manifest with a ``status`` column: ``ok``, ``not in manifest`` or
        ``sha256 differs from manifest``; then one row per file listed in the committed
        manifest but absent from the bundle, ``missing from bundle`` (``bytes`` is
        missing and ``sha256`` empty). ``bytes`` is a nullable ``Int64`` column.

    Raises
    ------
    NwmGeoError
        If the bundle folder does not exist; if a file differs from the manifest, is
        missing or is not in it (unless ``accept_new``); if ``strict`` and there is no
        manifest; if a copied file does not match the bundle; or if another process
        holds the lock.
    """
    source = Path(source) if source is not None else settings.shared_data_dir()
    if dest is None:  # the project's data/raw: the project's lock and journal
        root, folder = settings.project_dir(), "data/raw"
        dest = root / folder
    elif Path(dest).parent.name == "data":  # a project's data/raw: its lock and journal
        dest = Path(dest)
        root, folder = dest.parent.parent, f"data/{dest.name}"
    else:
        dest = Path(dest)
        root, folder = dest.parent, dest.name
    if not source.is_dir():
        raise NwmGeoError(
            f"data bundle not found at {source}. Put the Luton bundle there, or point "
            "NWM_GEO_SHARED_DATA (or --shared-data) at it."
        )
    readme = dest / "README.md"
    with _io.project_lock(root, timeout=lock_timeout):
        _io.recover(root)
        _io.clean_leftovers(root)
        _io.remove_partial_files(dest)
        manifest = bundle_manifest(source)
        manifest = manifest[manifest["file"] != "README.md"].reset_index(drop=True)
        expected = read_manifest(readme)
        if strict and not expected:
            raise NwmGeoError(
                f"{readme}: no sha256 manifest to check the bundle {source} against "
                "(--strict needs the committed data/raw/README.md); nothing was imported"
            )
        manifest = _against_manifest(manifest, expected)
        absent = manifest.loc[manifest["status"] == "missing from bundle", "file"].tolist()
        bad = manifest[manifest["status"] != "ok"]
        if expected and len(bad) and not accept_new:
            raise NwmGeoError(
                f"the data bundle {source} differs from the manifest {readme}; "
                f"{dest} was not changed:\n"
                + "\n".join(f"  {r.file}: {r.status}" for r in bad.itertuples())
                + "\nIf this bundle is the new reference, run "
                "`nwm-geo import-data --accept-new-bundle`."
            )
        present = manifest[manifest["status"] != "missing from bundle"]
        stale = [
            r
            for r in present.itertuples()
            if not ((dest / str(r.file)).is_file() and _sha256(dest / str(r.file)) == r.sha256)
        ]
        rewrite = accept_new and (len(bad) > 0 or not expected)
        if not stale and not rewrite:
            return manifest
        stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
        try:
            new = stage / folder
            new.mkdir(parents=True)
            _io.fill_from_current(dest, new)
            problems = []
            for r in stale:
                target = new / str(r.file)
                target.unlink(missing_ok=True)  # a hard link to the old file: never write into it
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source / str(r.file), target)
                got = _sha256(target)
                if got != r.sha256:
                    problems.append(f"  {r.file}: changed while it was copied")
            if problems:
                raise NwmGeoError(
                    f"the data bundle {source} changed during the import; {dest} was not "
                    "changed:\n" + "\n".join(problems)
                )
            if rewrite:
                for f in absent:
                    (new / f).unlink(missing_ok=True)
                old_text = readme.read_text(encoding="utf-8") if readme.exists() else None
                (new / "README.md").unlink(missing_ok=True)
                (new / "README.md").write_text(
                    _rewrite_manifest(old_text, present), encoding="utf-8"
                )
            _io.fsync_tree(new)
            _io.switch_folders(root, stage, [folder], before_switch=before_switch, on_step=on_step)
        finally:
            if _io.pending_switch(root) is None:
                shutil.rmtree(stage, ignore_errors=True)
    return manifest


def require_raw(relative: str, *, data_dir: Path | None = None) -> Path:
    """Return the path of a bundle file under ``data/raw``, or raise a clear error.

    Parameters
    ----------
    relative
        Path inside the bundle, such as ``"boundaries/luton_wards_2025.geojson"``.
    data_dir
        The imported bundle folder; defaults to :func:`nwm_geo.settings.raw_dir`.

    Returns
    -------
    Path
        The existing file.

    Raises
    ------
    NwmGeoError
        If the file is missing, with the command that imports it.
    """
    base = Path(data_dir) if data_dir is not None else settings.raw_dir()
    path = base / relative
    if not path.exists():  # a killed import may be half-switched: roll it forward
        _readers.settle(base.parent.parent if base.parent.name == "data" else base.parent)
    if not path.exists():
        raise NwmGeoError(
            f"{path} not found. Import the data bundle first: `nwm-geo import-data` "
            f"(it copies the shared bundle into {base}); or, if the project is elsewhere, "
            "point at it: Study(project_dir=...), `nwm-geo --project-dir DIR` or the "
            "environment variable NWM_GEO_PROJECT_DIR."
        )
    return path


def bundle_changes(source: Path | None = None, *, dest: Path | None = None) -> list[str]:
    """Return how the shared bundle differs from the manifest of ``dest``, one line each.

    Read-only: nothing is locked, copied or written.

    Parameters
    ----------
    source
        The bundle folder; defaults to :func:`nwm_geo.settings.shared_data_dir`.
    dest
        The imported bundle holding the manifest ``README.md``; defaults to
        :func:`nwm_geo.settings.raw_dir`.

    Returns
    -------
    list of str
        ``"<file>: <reason>"`` per file; empty when the bundle matches (or there is no
        bundle or no manifest to compare).
    """
    source = Path(source) if source is not None else settings.shared_data_dir()
    dest = Path(dest) if dest is not None else settings.raw_dir()
    expected = read_manifest(dest / "README.md")
    if not expected or not source.is_dir():
        return []
    table = bundle_manifest(source)
    found = {str(f): str(h) for f, h in zip(table["file"], table["sha256"], strict=True)}
    found.pop("README.md", None)
    lines = [
        f"{f}: sha256 differs from manifest"
        for f in sorted(set(found) & set(expected))
        if found[f] != expected[f]
    ]
    lines += [f"{f}: not in manifest" for f in sorted(set(found) - set(expected))]
    lines += [f"{f}: missing from bundle" for f in sorted(set(expected) - set(found))]
    return lines


def ensure_bundle(*, project_dir: Path | None = None, source: Path | None = None) -> str:
    """Make the bundle readable for a reader: import it only when it is not there yet.

    A project whose ``data/raw`` holds every file of its manifest is read as it is,
    without the write lock (a run may hold it): a pending switch is settled
    (:func:`nwm_geo._readers.settle`), and a shared bundle that has changed since the
    import gives a :class:`BundleChangedWarning` instead of an error; only
    ``nwm-geo import-data`` stops on it. A project without an imported bundle gets one
    (:func:`import_bundle`, which takes the lock).

    Parameters
    ----------
    project_dir
        The project folder; defaults to :func:`nwm_geo.settings.project_dir`.
    source
        The bundle folder; defaults to :func:`nwm_geo.settings.shared_data_dir`.

    Returns
    -------
    str
        ``"read as imported"`` or ``"imported"``.
    """
    root = Path(project_dir) if project_dir is not None else settings.project_dir()
    dest = root / "data" / "raw"
    _readers.settle(root)
    expected = read_manifest(dest / "README.md")
    present = dest.is_dir() and any(p.name != "README.md" for p in dest.iterdir())
    if present and all((dest / f).is_file() for f in expected):
        changes = bundle_changes(source, dest=dest)
        if changes:
            more = f"; and {len(changes) - 5} more" if len(changes) > 5 else ""
            shown = "; ".join(changes[:5]) + more
            warnings.warn(
                f"the shared data bundle differs from the manifest of {dest} ({shown}); "
                f"reading {dest} as it was imported. To take the new bundle, run "
                "`nwm-geo import-data --accept-new-bundle`.",
                BundleChangedWarning,
                stacklevel=2,
            )
        return "read as imported"
    import_bundle(source, dest=None if project_dir is None else dest)
    return "imported"
