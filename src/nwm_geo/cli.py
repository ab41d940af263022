"""The ``nwm-geo`` command: a thin layer over :mod:`nwm_geo.pipeline`.

Every subcommand parses its options, calls one pipeline function and prints
its summary. Errors raised on purpose (:class:`nwm_geo.NwmGeoError`) are
printed without a traceback and give exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from nwm_geo._errors import NwmGeoError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nwm-geo", description=__doc__.splitlines()[0])
    p.add_argument(
        "--shared-data",
        help="the open-data bundle (default: $NWM_GEO_SHARED_DATA or ../shared/data)",
    )
    p.add_argument(
        "--project-dir",
        help="folder holding data/ and reports/ (default: $NWM_GEO_PROJECT_DIR or the cwd)",
    )
    sub = p.add_subparsers(dest="command", required=True)

    imp = sub.add_parser("import-data", help="copy the bundle into data/raw and check sha256")
    imp.add_argument("--strict", action="store_true", help="fail when a file differs")
    imp.add_argument(
        "--print-manifest", action="store_true", help="print the manifest table rows"
    )
    return p


def _cmd_import_data(args: argparse.Namespace) -> None:
    from nwm_geo.data import import_bundle

    manifest = import_bundle(strict=args.strict)
    if args.print_manifest:
        for r in manifest.itertuples():
            print(f"| `{r.file}` | see SOURCES.md | see SOURCES.md | {r.sha256} |")
    counts = manifest["status"].value_counts().to_dict()
    print(f"imported {len(manifest)} files into data/raw: {counts}")


_COMMANDS = {
    "import-data": _cmd_import_data,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``nwm-geo`` command line.

    Parameters
    ----------
    argv
        Arguments without the program name; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        0 on success, 2 when an input or a request was rejected.
    """
    args = _parser().parse_args(argv)
    if args.shared_data:
        os.environ["NWM_GEO_SHARED_DATA"] = args.shared_data
    if args.project_dir:
        os.environ["NWM_GEO_PROJECT_DIR"] = args.project_dir
    try:
        _COMMANDS[args.command](args)
    except NwmGeoError as exc:
        print(f"nwm-geo {args.command}: error: {exc}", file=sys.stderr)
        print("Nothing was written.", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
