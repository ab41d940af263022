"""Import the shared open-data bundle into ``data/raw``.

In: ``../shared/data`` (or ``NWM_GEO_SHARED_DATA``). Out: a copy under the
gitignored ``data/raw`` and a check of every file against the sha256 manifest
committed in ``data/raw/README.md``.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import warnings
from pathlib import Path

import pandas as pd

from nwm_geo import settings
from nwm_geo._errors import NwmGeoError

__all__ = ["bundle_manifest", "import_bundle", "read_manifest", "require_raw"]

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


def import_bundle(
    source: Path | None = None,
    *,
    dest: Path | None = None,
    strict: bool = False,
) -> pd.DataFrame:
    """Copy the shared bundle into ``data/raw`` and check it against the manifest.

    Files already present with the right checksum are not copied again.

    Parameters
    ----------
    source
        The bundle folder; defaults to :func:`nwm_geo.settings.shared_data_dir`.
    dest
        Destination; defaults to :func:`nwm_geo.settings.raw_dir`.
    strict
        Raise instead of warning when a file differs from the committed manifest or
        is missing from the bundle; nothing is copied then.

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
        If the bundle folder does not exist, or (``strict``) a checksum differs or a
        manifest file is missing from the bundle.
    """
    source = Path(source) if source is not None else settings.shared_data_dir()
    dest = Path(dest) if dest is not None else settings.raw_dir()
    if not source.is_dir():
        raise NwmGeoError(
            f"data bundle not found at {source}. Put the Luton bundle there, or point "
            "NWM_GEO_SHARED_DATA (or --shared-data) at it."
        )
    manifest = bundle_manifest(source)
    expected = read_manifest(dest / "README.md")
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
    bad = manifest[manifest["status"] != "ok"]
    msg = ""
    if expected and len(bad):
        msg = "the data bundle differs from data/raw/README.md:\n" + "\n".join(
            f"  {r.file}: {r.status}" for r in bad.itertuples()
        )
        if strict:  # before copying anything, so nothing unexpected lands in dest
            raise NwmGeoError(msg)
    for row in manifest[manifest["status"] != "missing from bundle"].itertuples():
        target = dest / str(row.file)
        if target.exists() and _sha256(target) == row.sha256:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name("." + target.name + ".tmp")
        shutil.copyfile(source / str(row.file), tmp)
        tmp.replace(target)
    if msg:
        warnings.warn(msg, stacklevel=2)
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
    if not path.exists():
        raise NwmGeoError(
            f"{path} not found. Import the data bundle first: `nwm-geo import-data` "
            "(it copies ../shared/data into data/raw)."
        )
    return path
