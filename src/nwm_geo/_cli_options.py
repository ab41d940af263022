"""The command line's option groups and per-command arguments (used by :mod:`nwm_geo.cli`)."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = [
    "batch_arguments",
    "compare_arguments",
    "hub_arguments",
    "import_arguments",
    "k_option",
    "partition_arguments",
    "plan_options",
    "register_options",
    "scenario_arguments",
    "template_arguments",
    "walk_options",
]


def register_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--area",
        default=None,
        help="the council: a shipped area (luton, the default; rutland) or the path of an "
        "area profile .toml (see the README, 'Area profiles'). Outputs of an area other "
        "than Luton go to data/processed/<area>/ and reports/<area>/",
    )
    p.add_argument(
        "--register",
        type=Path,
        help="a council register file to use "
        "instead of the open-data register (CSV, XLSX, GeoJSON, GPKG)",
    )
    p.add_argument("--sheet", help="the worksheet of an XLSX register (name or 0-based position)")
    p.add_argument("--layer", help="the layer of a multi-layer GeoPackage register")
    p.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="FILE_COL=FIELD",
        help="map a register column to a schema field (repeatable)",
    )
    p.add_argument(
        "--ward-year",
        type=int,
        default=None,
        help="ward pattern as named in the area profile (Luton: 2023 or 2013; Rutland: 2019 "
        "or 2013); default the current one",
    )


def k_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-k",
        "--localities",
        dest="k",
        type=int,
        default=None,
        metavar="K",
        help="number of localities (default: the area profile's; Luton 5)",
    )


def plan_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--alternatives", type=int, default=10, help="how many of the best distinct plans to list"
    )
    p.add_argument(
        "--plan",
        type=Path,
        help="a locality plan to use as it is, never re-solved (CSV or GeoJSON with "
        "ward_code and locality columns, e.g. data/processed/localities.csv). Without it, "
        "'run' and 'localities' solve the plan; 'coverage', 'report' and 'scenario' use "
        "the plan in data/processed when there is one",
    )


def walk_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--minutes", type=float, help="walk threshold (default 15)")
    p.add_argument("--speed", type=float, help="walking speed in m/min (default 80)")
    p.add_argument("--osm", type=Path, help="an OSM file (.osm, .osm.bz2, .osm.pbf)")
    p.add_argument("--graph", type=Path, help="a saved walk network (.gpkg, .graphml)")
    p.add_argument(
        "--download",
        action="store_true",
        help="download the walk network from OSM (needs the internet)",
    )


def import_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--strict", action="store_true", help="also refuse when there is no manifest")
    p.add_argument(
        "--accept-new-bundle",
        action="store_true",
        help="accept a bundle that differs from the manifest and rewrite data/raw/README.md",
    )
    p.add_argument("--print-manifest", action="store_true", help="print the manifest table rows")


def template_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", help="the .xlsx file to write, e.g. register.xlsx")
    p.add_argument("--area", default=None, help="area profile whose categories to offer")
    p.add_argument("--force", action="store_true", help="replace PATH if it exists")


def batch_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", type=Path, help="the batch spec .toml (see docs/batch.md)")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="an existing Dask scheduler (default: $DASK_SCHEDULER_ADDRESS, else a "
        "LocalCluster on this machine)",
    )
    where.add_argument("--serial", action="store_true", help="run in this process, without Dask")
    p.add_argument(
        "--workers", type=int, default=None, help="LocalCluster workers (default: the cores)"
    )


def scenario_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", type=Path, help="scenario .toml files")


def compare_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("plan_a", type=Path, help="the first plan (CSV or GeoJSON)")
    p.add_argument("plan_b", type=Path, help="the second plan")


def partition_arguments(part: argparse.ArgumentParser) -> None:
    """``nwm-geo partition UNITS_FILE ...``: any council's units, any k."""
    part.add_argument("units_file", type=Path, help="GeoJSON, GeoPackage or shapefile of units")
    part.add_argument("--id-column", required=True, help="column with each unit's unique id")
    part.add_argument("--population-column", required=True, help="column with the population")
    part.add_argument(
        "--balance-column",
        action="append",
        default=[],
        metavar="COLUMN",
        help="another column to balance, e.g. an asset count (repeatable)",
    )
    part.add_argument("--layer", help="the layer of a multi-layer file")
    part.add_argument(
        "-k",
        "--localities",
        dest="k",
        type=int,
        default=None,
        metavar="K",
        help="number of localities (required)",
    )
    part.add_argument("--k", dest="k", type=int, help=argparse.SUPPRESS)  # the old spelling
    part.add_argument(
        "--time-limit", type=float, default=60.0, help="seconds for the whole solve (default 60)"
    )
    part.add_argument(
        "--objective",
        choices=["balance", "compact"],
        default="balance",
        help="balance: minimise the worst deviation (default); compact: minimise the "
        "boundary between localities with every measure within --tolerance",
    )
    part.add_argument(
        "--tolerance",
        type=float,
        default=5.0,
        help="with --objective compact: the band, ± %% of the average (default 5)",
    )
    part.add_argument("--out", type=Path, required=True, help="the plan CSV to write")
    part.add_argument(
        "--summary", type=Path, help="the JSON summary to write (default: OUT with .json)"
    )
    part.add_argument(
        "--force", action="store_true", help="replace OUT and the summary if they exist"
    )


def hub_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the hub options (issue 12): extra candidates and the joint plan's balance cap."""
    parser.add_argument(
        "--hub-add-id",
        action="append",
        default=[],
        metavar="ASSET_ID",
        help="add a register site as a hub candidate, by asset id (repeatable)",
    )
    parser.add_argument(
        "--hub-add-name",
        action="append",
        default=[],
        metavar="NAME",
        help="add a register site as a hub candidate, by name (repeatable)",
    )
    parser.add_argument(
        "--hub-site",
        action="append",
        default=[],
        metavar="NAME=POSTCODE",
        help="add a new hub site at a postcode (repeatable)",
    )
    parser.add_argument(
        "--hub-cap",
        type=float,
        metavar="FRACTION",
        help="the joint plan's balance cap, e.g. 0.25 (default: the balance optimum + 0.10)",
    )
