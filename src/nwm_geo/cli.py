"""The ``nwm-geo`` command: a thin layer over :mod:`nwm_geo.pipeline`.

Every subcommand parses its options, calls one pipeline function and prints
its summary. Errors raised on purpose (:class:`nwm_geo.NwmGeoError`) are
printed without a traceback and give exit status 2.

The pipeline (and with it folium, matplotlib, osmnx) is imported inside the
command functions, so ``nwm-geo --help`` starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nwm_geo import settings
from nwm_geo._errors import NwmGeoError

if TYPE_CHECKING:
    import pandas as pd

    from nwm_geo.hubs import HubOptions
    from nwm_geo.pipeline import Study

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nwm-geo",
        description="Neighbourhood Working Model analysis: asset register, localities, "
        "15-minute walk coverage and the outline of asset requirements.",
    )
    p.add_argument(
        "--shared-data",
        help="the open-data bundle (default: $NWM_GEO_SHARED_DATA or ../shared/data)",
    )
    p.add_argument(
        "--project-dir",
        help="folder holding data/ and reports/ (default: $NWM_GEO_PROJECT_DIR or the cwd)",
    )
    sub = p.add_subparsers(dest="command", required=True)

    common = argparse.ArgumentParser(add_help=False)  # also accepted after the command
    common.add_argument("--shared-data", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    common.add_argument("--project-dir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    imp = sub.add_parser(
        "import-data", help="copy the bundle into data/raw and check sha256", parents=[common]
    )
    imp.add_argument("--strict", action="store_true", help="also refuse when there is no manifest")
    imp.add_argument(
        "--accept-new-bundle",
        action="store_true",
        help="accept a bundle that differs from the manifest and rewrite data/raw/README.md",
    )
    imp.add_argument("--print-manifest", action="store_true", help="print the manifest table rows")
    tpl = sub.add_parser(
        "template",
        help="write a blank council register (xlsx) to fill in: columns, dropdowns, notes",
        parents=[common],
    )
    tpl.add_argument("path", help="the .xlsx file to write, e.g. register.xlsx")
    tpl.add_argument("--area", default=None, help="area profile whose categories to offer")
    study_opts = argparse.ArgumentParser(add_help=False, parents=[common])
    study_opts.add_argument(
        "--area",
        default=None,
        help="the council: a shipped area (luton, the default; rutland) or the path of an "
        "area profile .toml (see the README, 'Area profiles'). Outputs of an area other "
        "than Luton go to data/processed/<area>/ and reports/<area>/",
    )
    study_opts.add_argument(
        "--register",
        type=Path,
        help="a council register file to use "
        "instead of the open-data register (CSV, XLSX, GeoJSON, GPKG)",
    )
    study_opts.add_argument(
        "--sheet", help="the worksheet of an XLSX register (name or 0-based position)"
    )
    study_opts.add_argument("--layer", help="the layer of a multi-layer GeoPackage register")
    study_opts.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="FILE_COL=FIELD",
        help="map a register column to a schema field (repeatable)",
    )
    study_opts.add_argument(
        "--ward-year",
        type=int,
        default=None,
        help="ward pattern as named in the area profile (Luton: 2023 or 2013; Rutland: 2019 "
        "or 2013); default the current one",
    )
    study_opts.add_argument(
        "-k",
        "--localities",
        dest="k",
        type=int,
        default=None,
        help="number of localities (default: the area profile's; Luton 5)",
    )
    study_opts.add_argument(
        "--alternatives", type=int, default=10, help="how many of the best distinct plans to list"
    )
    study_opts.add_argument("--minutes", type=float, help="walk threshold (default 15)")
    study_opts.add_argument("--speed", type=float, help="walking speed in m/min (default 80)")
    study_opts.add_argument("--osm", type=Path, help="an OSM file (.osm, .osm.bz2, .osm.pbf)")
    study_opts.add_argument("--graph", type=Path, help="a saved walk network (.gpkg, .graphml)")
    study_opts.add_argument(
        "--download",
        action="store_true",
        help="download the walk network from OSM (needs the internet)",
    )
    study_opts.add_argument(
        "--plan",
        type=Path,
        help="a locality plan to use as it is, never re-solved (CSV or GeoJSON with "
        "ward_code and locality columns, e.g. data/processed/localities.csv). Without it, "
        "'run' and 'localities' solve the plan; 'coverage', 'report' and 'scenario' use "
        "the plan in data/processed when there is one",
    )
    study_opts.add_argument("--quiet", action="store_true", help="no progress bars")
    _hub_arguments(study_opts)
    for name, text in [
        ("register", "assemble and validate the asset register; wards and demand points"),
        ("localities", "partition the wards into balanced localities, with proof"),
        ("coverage", "15-minute walk coverage and asset criticality"),
        ("hubs", "one hub per locality: council-named, balance-only and joint plans"),
        ("report", "requirements spreadsheet, maps and reports/index.html"),
        ("run", "the whole pipeline: register, localities, coverage, hubs, report"),
    ]:
        sub.add_parser(name, help=text, parents=[study_opts])
    scen = sub.add_parser(
        "scenario",
        help="what if sites close or open, or settings change: writes scenarios/<name>/",
        parents=[study_opts],
    )
    scen.add_argument("files", nargs="+", type=Path, help="scenario .toml files")
    cmp = sub.add_parser(
        "compare-plans",
        help="compare two locality plans: wards moved, metrics",
        parents=[study_opts],
    )
    cmp.add_argument("plan_a", type=Path, help="the first plan (CSV or GeoJSON)")
    cmp.add_argument("plan_b", type=Path, help="the second plan")
    _add_partition_parser(sub, common)
    return p


def _add_partition_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    """``nwm-geo partition UNITS_FILE ...``: any council's units, any k."""
    part = sub.add_parser(
        "partition",
        help="partition any polygon file of units into k balanced contiguous localities",
        parents=[common],
    )
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
    part.add_argument("--k", type=int, required=True, help="number of localities")
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
    part.add_argument("--quiet", action="store_true", help="no progress output")


def _hub_arguments(parser: argparse.ArgumentParser) -> None:
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


def _hub_options(args: argparse.Namespace) -> HubOptions | None:
    from nwm_geo.hubs import HubOptions, NewSite

    if not (args.hub_add_id or args.hub_add_name or args.hub_site or args.hub_cap is not None):
        return None
    sites = []
    for item in args.hub_site:
        if "=" not in item:
            raise NwmGeoError(f"--hub-site expects NAME=POSTCODE, got {item!r}")
        name, postcode = item.rsplit("=", 1)
        sites.append(NewSite(name.strip(), postcode.strip()))
    if args.hub_cap is not None and not 0 < args.hub_cap <= 2:
        raise NwmGeoError(f"--hub-cap must be a fraction in (0, 2], got {args.hub_cap}")
    return HubOptions(
        max_deviation=args.hub_cap,
        add_ids=tuple(args.hub_add_id),
        add_names=tuple(args.hub_add_name),
        new_sites=tuple(sites),
    )


def _study(args: argparse.Namespace) -> Study:
    from nwm_geo._units import resolve_minutes, resolve_speed
    from nwm_geo.pipeline import Study

    if args.minutes is not None:
        resolve_minutes(args.minutes, what="--minutes")
    if args.speed is not None:
        resolve_speed(args.speed, what="--speed")
    if args.alternatives < 1:
        raise NwmGeoError(
            f"--alternatives must be 1 or more (the plan is the first of them), "
            f"got {args.alternatives}"
        )
    sheet: str | int | None = args.sheet
    if isinstance(sheet, str) and sheet.isdigit():
        sheet = int(sheet)
    mapping = {}
    for item in args.column:
        if "=" not in item:
            raise NwmGeoError(f"--column expects FILE_COL=FIELD, got {item!r}")
        src, dst = item.split("=", 1)
        mapping[src.strip()] = dst.strip()
    return Study(
        plan=_plan_for(args),
        area=args.area,
        register_path=args.register,
        register_sheet=sheet,
        register_layer=args.layer,
        register_columns=mapping or None,
        ward_year=args.ward_year,
        k=args.k,
        n_alternatives=args.alternatives,
        minutes=args.minutes,
        speed_m_per_min=args.speed,
        osm_path=args.osm,
        graph_path=args.graph,
        download=args.download,
        verbose=not args.quiet,
        hub_options=_hub_options(args),
    )


def _plan_for(args: argparse.Namespace) -> Path | None:
    """Return the plan file: ``--plan``, else the saved plan for the later stages, else None.

    ``run`` and ``localities`` solve the plan unless ``--plan`` is given; ``coverage``,
    ``report`` and ``scenario`` use the plan in ``data/processed`` when there is one, so
    the plan stays the decision it was.
    """
    if args.plan is not None:
        return Path(args.plan)
    if args.command in {"coverage", "report", "scenario"}:
        from nwm_geo.areas import load_area

        sub = load_area(args.area).output_subdir
        saved = settings.project_dir() / "data" / "processed" / sub / "localities.csv"
        if saved.is_file():
            return saved
    return None


def _show(title: str, frame: pd.DataFrame) -> None:
    print(f"\n{title}")
    print(frame.to_string())


def _cmd_stages(args: argparse.Namespace) -> None:
    from nwm_geo.data import import_bundle
    from nwm_geo.pipeline import STAGES, coverage_by_locality, data_note, run

    study = _study(args)  # options are checked before any data is read or copied
    import_bundle()
    stages = list(STAGES) if args.command == "run" else [args.command]
    written = run(study, stages=stages, progress=not args.quiet)
    if "register" in stages:
        _show(
            f"Register against {study.profile.council}'s counts (in-borough sites):",
            study.reconciliation,
        )
        print(data_note(study.reconciliation, area=study.profile))
    print(f"Localities: {study.plan_source_text}.")
    if "localities" in stages:
        plan = study.plan
        _show(
            f"Localities ({plan.status}; worst deviation {plan.objective:.2%}):",
            plan.summary[
                ["population", "assets", "population_dev_pct", "assets_dev_pct", "n_wards"]
            ].round(1),
        )
    if "hubs" in stages:
        _show_hubs(study)
    if "coverage" in stages or "report" in stages:
        print(f"\n{study.network_label}")
        _show(
            f"Share of residents within {study.minutes or settings.walk_minutes:g} minutes' "
            "walk (%):",
            coverage_by_locality(study),
        )
        _show_equity(study)
    print(f"\nwrote {len(written)} files:")
    for path in written:
        print(f"  {path}")


def _show_equity(study: Study) -> None:
    """Print the deprivation (IMD quintile) and 65+ gaps per bundle for the area."""
    from nwm_geo.pipeline import equity_headline

    _show(
        f"Who is within the walk in {study.profile.name}: by IMD 2019 quintile (1 = most "
        "deprived) and for residents aged 65+ at their own speed (pp = percentage points):",
        equity_headline(study),
    )
    print(study.equity.speeds_note())


def _show_hubs(study: Study) -> None:
    """Print the hubs of the three plans (totals) and the named sites missing."""
    analysis = study.hub_analysis
    totals = analysis.comparison[analysis.comparison["locality"] == "TOTAL"]
    _show(
        "Residents within the walk of their own locality's hub:",
        totals.set_index("scenario")[["residents_within", "share_pct", "status"]].round(1),
    )
    for note in analysis.notes:
        print(note)


def _cmd_import_data(args: argparse.Namespace) -> None:
    from nwm_geo.data import import_bundle

    manifest = import_bundle(strict=args.strict, accept_new=args.accept_new_bundle)
    present = manifest[manifest["status"] != "missing from bundle"]
    if args.print_manifest:
        for r in present.itertuples():
            print(f"| `{r.file}` | see SOURCES.md | see SOURCES.md | {r.sha256} |")
    counts = manifest["status"].value_counts().to_dict()
    print(f"imported {len(present)} files into data/raw: {counts}")


def _cmd_template(args: argparse.Namespace) -> None:
    from nwm_geo.data import write_register_template

    path = write_register_template(Path(args.path), area=args.area)
    print(
        f"wrote {path}: fill in one row per site (row 2 is an example: delete it), then "
        f"nwm-geo run --register {path}"
    )


def _cmd_scenario(args: argparse.Namespace) -> None:
    from nwm_geo.data import import_bundle
    from nwm_geo.scenarios import run_scenarios

    base = _study(args)
    import_bundle()
    studies: dict[Path | None, Study] = {}

    def study_for(plan: Path | None) -> Study:
        given = base.__dict__.get("_plan_given")
        if plan is None or (
            isinstance(given, Path) and Path(given).resolve() == Path(plan).resolve()
        ):
            return base
        if plan not in studies:
            studies[plan] = _study(args)
            studies[plan].plan = plan
        return studies[plan]

    print(f"Localities: {base.plan_source_text}.")
    written = run_scenarios(args.files, study_for=study_for)
    for name, paths in written.items():
        folder = paths[0].parent
        print(f"\nscenario {name}: wrote {len(paths)} files in {folder}")
        table = folder / "comparison_localities.csv"
        import pandas as pd

        frame = pd.read_csv(table)
        moved = frame[(frame["residents_losing"] > 0) | (frame["residents_gaining"] > 0)]
        if len(moved):
            _show(
                "Residents losing and gaining access:",
                moved.set_index(["locality", "measure"])[
                    ["baseline_pct", "scenario_pct", "residents_losing", "residents_gaining"]
                ],
            )
        else:
            print("No resident gains or loses access.")


def _cmd_compare_plans(args: argparse.Namespace) -> None:
    from nwm_geo import localities
    from nwm_geo.data import import_bundle

    study = _study(args)
    import_bundle()
    a = localities.read_plan(args.plan_a, study.wards, measures=study.balanced)
    b = localities.read_plan(args.plan_b, study.wards, measures=study.balanced)
    cmp = localities.compare_plans(study.wards, a.assignment, b.assignment)
    print(
        f"{len(cmp.moved)} ward(s) moved ({cmp.moved_population:,.0f} residents), after "
        "matching localities by shared residents."
    )
    if len(cmp.moved):
        _show("Wards moved:", cmp.moved)
    cols = ["plan", "locality", "population", "assets", "population_dev_pct", "n_wards", "parts"]
    _show("Localities:", cmp.metrics[[c for c in cols if c in cmp.metrics.columns]].round(1))


def _cmd_partition(args: argparse.Namespace) -> None:
    import time

    from nwm_geo import localities
    from nwm_geo._solver import Deadline

    if args.k < 2:
        raise NwmGeoError(f"--k must be 2 or more, got {args.k}")
    if args.time_limit <= 0:
        raise NwmGeoError(f"--time-limit must be positive, got {args.time_limit}")
    if not 0 < args.tolerance < 100:
        raise NwmGeoError(f"--tolerance must be between 0 and 100 (%), got {args.tolerance}")
    # one budget for the whole command: reading, adjacency, search, summary, writing
    if getattr(args, "whole_process", False):
        budget = Deadline.from_process_start(args.time_limit)
    else:  # called from Python (main([...])): the budget starts now
        budget = Deadline(args.time_limit)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with budget.phase("reading"):
        units = localities.read_units(
            args.units_file,
            id_column=args.id_column,
            population_column=args.population_column,
            balance_columns=args.balance_column,
            k=args.k,
            layer=args.layer,
        )
    measures = ["population", *args.balance_column]
    plan = localities.partition(
        units,
        k=args.k,
        measures=measures,
        k_range=(2, max(args.k, len(units))),
        time_limit_s=budget,
        verbose=not args.quiet,
        objective=args.objective,
        tolerance=args.tolerance / 100 if args.objective == "compact" else None,
    )
    with budget.phase("summary and writing"):
        summary, wording = _write_partition(args, units, plan, measures, started, budget)
    print(f"{plan.status}; worst deviation {plan.objective:.2%}, lower bound {plan.bound:.2%}")
    for line in wording:
        print(f"  {line}")
    if plan.time_limit_reached:
        print("  the time limit cut the search short: " + ", ".join(plan.time_limit_stops))
    print(f"wrote {args.out} and {summary} in {budget.elapsed():.1f} s (limit {args.time_limit} s)")


def _write_partition(
    args: argparse.Namespace,
    units: Any,
    plan: Any,
    measures: list[str],
    started: str,
    budget: Any,
) -> tuple[Path, list[str]]:
    """Write the plan CSV and its JSON summary as one generation.

    Returns the JSON path and the plan's wording lines.
    """
    import json

    from nwm_geo import localities
    from nwm_geo._io import atomic_path

    table = units[measures].copy()
    table.insert(0, "locality", plan.assignment)
    table.index.name = args.id_column
    record = {
        "input": {
            "units_file": str(args.units_file),
            "layer": args.layer,
            "id_column": args.id_column,
            "population_column": args.population_column,
            "balance_columns": args.balance_column,
            "n_units": len(units),
        },
        "settings": {
            "k": args.k,
            "time_limit_s": args.time_limit,
            "objective": args.objective,
            "tolerance_pct": args.tolerance if args.objective == "compact" else None,
        },
        "started_utc": started,
        "nwm_geo": _version(),
        **localities.plan_record(plan, units, measures=measures),
    }
    record["time_limit"] = {
        "limit_s": args.time_limit,
        "covers": "the whole command: reading, adjacency, search, MIP, summary, writing",
        "seconds_by_phase_before_writing": {k: round(v, 3) for k, v in budget.phases.items()},
        "elapsed_before_writing_s": round(budget.elapsed(), 3),
        "cut_short_by_wall_clock": plan.time_limit_reached,
        "phases_cut_short": list(plan.time_limit_stops),
    }
    summary = Path(args.summary or args.out.with_suffix(".json"))
    # both files are staged and replace their targets only when both are written
    with atomic_path(args.out) as csv_tmp, atomic_path(summary) as json_tmp:
        table.to_csv(csv_tmp)
        json_tmp.write_text(json.dumps(record, indent=2, default=str))
    return summary, list(record["wording"])  # type: ignore[call-overload]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nwm_geo")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


_COMMANDS = {
    "template": _cmd_template,
    "import-data": _cmd_import_data,
    "register": _cmd_stages,
    "localities": _cmd_stages,
    "coverage": _cmd_stages,
    "hubs": _cmd_stages,
    "report": _cmd_stages,
    "run": _cmd_stages,
    "scenario": _cmd_scenario,
    "compare-plans": _cmd_compare_plans,
    "partition": _cmd_partition,
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
        0 on success, 2 when an input or a request was rejected, 130 when interrupted.
    """
    args = _parser().parse_args(argv)
    # on the real command line the process is the command: its start-up counts too
    args.whole_process = argv is None
    if args.shared_data:
        os.environ["NWM_GEO_SHARED_DATA"] = args.shared_data
    if args.project_dir:
        os.environ["NWM_GEO_PROJECT_DIR"] = args.project_dir
    try:
        _COMMANDS[args.command](args)
    except NwmGeoError as exc:
        notes = getattr(exc, "__notes__", [])
        stage = "".join(f" ({n})" for n in notes)
        print(f"nwm-geo {args.command}: error{stage}: {exc}", file=sys.stderr)
        if any(n.startswith("stage: ") for n in notes):  # raised inside pipeline.run
            print("Nothing was written to data/processed or reports.", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, a read-only folder, a file that vanished
        where = f": {exc.filename}" if exc.filename else ""
        print(
            f"nwm-geo {args.command}: error: {exc.strerror or exc}{where}. The outputs are "
            "all the previous run's or all this run's, never a mix (docs/reliability.md).",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt as exc:  # notes say what a deferred Ctrl-C left switched
        what = "; ".join(getattr(exc, "__notes__", [])) or "nothing was changed"
        print(f"nwm-geo {args.command}: interrupted; {what}", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
