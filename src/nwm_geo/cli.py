"""The ``nwm-geo`` command: a thin layer over :mod:`nwm_geo.pipeline`.

Every subcommand parses its own options (:data:`COMMANDS`), calls one pipeline
function and prints its summary. Exit status: 0 success; 1 a failure while running
(a locked project, a full disk, a solver or network failure); 2 bad usage or input
(an unknown option, a malformed register, a setting out of range). Errors are one
line without a traceback (``--verbose`` adds it).

The pipeline (and with it folium, matplotlib, osmnx) is imported inside the
command functions, so ``nwm-geo --help`` starts fast.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nwm_geo import _cli_options as _opts
from nwm_geo import settings
from nwm_geo._collector import collector_paused
from nwm_geo._errors import NetworkError, NwmGeoError, SolverError
from nwm_geo._io import LockedError

if TYPE_CHECKING:
    import pandas as pd

    from nwm_geo.hubs import HubOptions
    from nwm_geo.pipeline import Study

__all__ = ["main"]


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, one-line description, option groups and handler.

    Adding a subcommand is one entry in :data:`COMMANDS`: a handler taking the parsed
    arguments, the option groups it reads (:data:`OPTION_GROUPS`) and a function adding
    its own arguments.
    """

    name: str
    help: str
    handler: Callable[[argparse.Namespace], None]
    groups: tuple[str, ...] = ()
    arguments: Callable[[argparse.ArgumentParser], None] | None = None


def _global_options(p: argparse.ArgumentParser, *, hidden: bool = False) -> None:
    """--shared-data, --project-dir, --verbose and --quiet: before or after the command."""
    kw: dict[str, Any] = {"default": argparse.SUPPRESS} if hidden else {}
    p.add_argument(
        "--shared-data",
        help=argparse.SUPPRESS
        if hidden
        else "the open-data bundle (default: $NWM_GEO_SHARED_DATA or ../shared/data)",
        **kw,
    )
    p.add_argument(
        "--project-dir",
        help=argparse.SUPPRESS
        if hidden
        else "folder holding data/ and reports/ (default: $NWM_GEO_PROJECT_DIR or the cwd)",
        **kw,
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help=argparse.SUPPRESS if hidden else "more detail: the traceback of an error",
        **kw,
    )
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help=argparse.SUPPRESS if hidden else "no progress bars (never drawn off a terminal)",
        **kw,
    )


_GLOBAL_NOTE = (
    "Also before or after the command: --project-dir, --shared-data, -v/--verbose, "
    "-q/--quiet (nwm-geo --help)."
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nwm-geo",
        description="Neighbourhood Working Model analysis: asset register, localities, "
        "15-minute walk coverage and the outline of asset requirements.",
        epilog="Exit status: 0 success; 1 a failure while running (a locked project, a "
        "full disk, a solver failure); 2 bad usage or input. See the README.",
    )
    p.add_argument("--version", action="version", version=f"nwm-geo {_version()}")
    _global_options(p)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)  # also accepted after the command
    _global_options(common, hidden=True)
    for cmd in COMMANDS:
        parser = sub.add_parser(
            cmd.name, help=cmd.help, description=cmd.help[:1].upper() + cmd.help[1:] + ".",
            parents=[common], epilog=_GLOBAL_NOTE,
        )  # fmt: skip
        if cmd.arguments is not None:
            cmd.arguments(parser)
        for group in cmd.groups:
            OPTION_GROUPS[group](parser)
    return p


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


def _progress(args: argparse.Namespace) -> bool:
    """Progress bars: unless --quiet, and only on a terminal (never in a log file)."""
    return not args.quiet and sys.stderr.isatty()


def _study(args: argparse.Namespace) -> Study:
    from nwm_geo._units import resolve_minutes, resolve_speed
    from nwm_geo.pipeline import Study

    opts: dict[str, Any] = {"minutes": None, "speed": None, "osm": None, "graph": None}
    opts |= {"download": False}
    opts |= {"alternatives": 10, "plan": None, "k": None}
    opts |= {"hub_add_id": [], "hub_add_name": [], "hub_site": [], "hub_cap": None}
    for name, default in opts.items():  # options a command does not take: their defaults
        if not hasattr(args, name):
            setattr(args, name, default)
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
        verbose=_progress(args),
        hub_options=_hub_options(args),
        project_dir=settings.project_dir(),
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
        from nwm_geo.pipeline import saved_plan

        return saved_plan(settings.project_dir(), load_area(args.area).output_subdir)
    return None


def _show(title: str, frame: pd.DataFrame) -> None:
    print(f"\n{title}")
    print(frame.to_string())


def _stages_for(study: Study, args: argparse.Namespace) -> list[str]:
    """Return the stages to run: the command's; with ``--plan``, also those the plan changes.

    ``nwm-geo localities --plan council.csv`` in a project with outputs re-runs the
    stages whose files were computed with another plan (coverage, hubs, report), so the
    outputs never mix two plans; it says so first.
    """
    from nwm_geo.pipeline import STAGES, current_settings, settings_conflicts

    stages = list(STAGES) if args.command == "run" else [args.command]
    if args.plan is None or args.command == "run":
        return stages
    sub = study.profile.output_subdir
    root = study.settings.project_dir
    folders = [root / "data" / "processed" / sub, root / "reports" / sub]
    lines = settings_conflicts(folders, current_settings(study, stages=stages), stages=stages)
    stale = {line.split("the ", 1)[1].split(" files", 1)[0] for line in lines}
    if stale:
        also = [s for s in STAGES if s in stale]
        print(
            f"The plan {args.plan} replaces the one the {', '.join(also)} files were "
            "computed with: re-running those stages with it."
        )
    return [s for s in STAGES if s in stale or s in stages]


def _cmd_stages(args: argparse.Namespace) -> None:
    from nwm_geo.data import ensure_bundle
    from nwm_geo.pipeline import baseline_note, data_note, run

    study = _study(args)  # options are checked before any data is read or copied
    ensure_bundle()
    stages = _stages_for(study, args)
    written = run(study, stages=stages, progress=_progress(args))
    if "register" in stages:
        prof = study.profile
        if prof.has_council_counts:
            _show(
                f"Register against {prof.council}'s counts (in-borough sites):",
                study.reconciliation,
            )
        else:  # no published counts: no column of <NA> targets
            _show(
                f"Register for {prof.name} ({prof.council} publishes no counts to check "
                "against; in-area sites):",
                study.reconciliation[["register_count"]],
            )
        print(data_note(study.reconciliation, area=study.profile))
    print(f"Localities: {study.plan_source_text}.")
    note = baseline_note(study)
    if note:  # the saved baseline read, or why not
        print(f"Baseline: {note}.")
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
            f"Share of residents within {study.settings.minutes:g} minutes' walk (%):",
            study.locality_coverage,
        )
        _show_equity(study)
    print(f"\nwrote {len(written)} files:")
    for path in written:
        print(f"  {path}")
    if args.command == "hubs":  # hubs writes data/processed only
        print(
            "\nreports/ is not refreshed by 'nwm-geo hubs': run 'nwm-geo report' to update "
            "index.html, the workbook's Hubs and Hub options sheets, the maps and the pack."
        )


def _show_equity(study: Study) -> None:
    """Print the deprivation (IMD quintile) and 65+ gaps per bundle for the area."""
    from nwm_geo.pipeline import equity_headline

    table = equity_headline(study)
    _show(
        f"Who is within the walk in {study.profile.name}: by IMD 2019 quintile (1 = most "
        "deprived) and for residents aged 65+ at their own speed (n = the group's residents, "
        "pp = percentage points):",
        table,
    )
    for bundle, note in table.attrs.get("small_groups", {}).items():
        print(f"  {bundle}: {note}")
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
    if study.profile.town_centre_wards:
        from nwm_geo import hubs

        print(
            hubs.town_centre_answer(
                study.hub_option_table, town_centre_wards=study.profile.town_centre_wards
            )
        )


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
    from nwm_geo._publish import check_output_path
    from nwm_geo.data import write_register_template

    check_output_path(args.path, force=args.force)
    path = write_register_template(Path(args.path), area=args.area)
    print(
        f"wrote {path}: fill in one row per site (row 2 is an example: delete it), then "
        f"nwm-geo run --register {path}"
    )


def _cmd_scenario(args: argparse.Namespace) -> None:
    from nwm_geo.data import ensure_bundle
    from nwm_geo.pipeline import load_baseline
    from nwm_geo.scenarios import run_scenarios

    base = _study(args)
    ensure_bundle()
    found = load_baseline(base)
    if args.whole_process:  # the baseline lives until the process ends: the collector's
        gc.freeze()  # full passes need not walk it (what a what-if drops is still collected)
    print(found[0].upper() + found[1:] + ".")
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
            load_baseline(studies[plan])
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


def _cmd_batch(args: argparse.Namespace) -> None:
    from nwm_geo import batch
    from nwm_geo.data import import_bundle

    if args.workers is not None and args.workers < 1:
        raise NwmGeoError(f"--workers must be 1 or more, got {args.workers}")
    spec = batch.read_spec(args.spec)  # the spec is checked before any data is copied
    import_bundle()
    with contextlib.ExitStack() as stack:
        client = None
        if args.scheduler:
            from distributed import Client

            client = stack.enter_context(Client(args.scheduler, timeout="20s"))
        result = batch.run(
            spec,
            client=client,
            serial=args.serial,
            workers=args.workers,
            progress=False if args.quiet else None,
            on_start=print,
        )
    print(
        f"ran {len(result.ran)} task(s), skipped {len(result.skipped)} unchanged, "
        f"{len(result.failures)} failed, in {result.seconds:.1f} s"
    )
    print(f"wrote {result.folder / 'summary.csv'} ({len(result.summary)} rows)")
    if len(result.failures):
        print(f"failures: {result.folder / 'failures.csv'}")
        for row in result.failures.itertuples():
            print(f"  {row.task}: {row.error}")


def _cmd_compare_plans(args: argparse.Namespace) -> None:
    from nwm_geo import localities
    from nwm_geo.data import ensure_bundle

    study = _study(args)
    ensure_bundle()  # a reader: no write lock when the bundle is imported
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
    if cmp.not_contiguous:
        print(
            "Not contiguous (a locality in more than one piece): " + "; ".join(cmp.not_contiguous)
        )


def _cmd_partition(args: argparse.Namespace) -> None:
    import time

    from nwm_geo import _publish, localities
    from nwm_geo._solver import Deadline

    if args.k is None:
        raise _UsageError("the following argument is required: -k/--localities")
    summary = args.summary or args.out.with_suffix(".json")
    for out in (args.out, summary):  # before the solve: an input is never replaced
        _publish.check_output_path(out, inputs=[args.units_file], force=args.force)
    if args.out.resolve() == summary.resolve():
        raise NwmGeoError(f"--out and --summary are the same file ({args.out})")
    if args.k < 2:
        raise NwmGeoError(f"-k/--localities must be 2 or more, got {args.k}")
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
    _publish.check_ids(units.index, where=f"{args.units_file}, column {args.id_column!r}")
    for note in units.attrs.get("repaired", []):
        print(f"{args.units_file}: repaired an invalid polygon with make_valid: {note}")
    measures = ["population", *args.balance_column]
    rules = localities.PartitionRules(
        measures=measures,
        k_range=(2, max(args.k, len(units))),
        objective=args.objective,
        tolerance=args.tolerance / 100 if args.objective == "compact" else None,
    )
    plan = localities.partition(
        units,
        k=args.k,
        rules=rules,
        budget=localities.SolveBudget(time_limit_s=budget),
        verbose=not args.quiet,  # the solver's log, by line: fine in a log file too
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
    from nwm_geo import _publish, localities
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
        _publish.write_csv(table, csv_tmp)
        _publish.write_json(json_tmp, record, indent=2, end="")
    return summary, list(record["wording"])  # type: ignore[call-overload]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nwm_geo")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


class _UsageError(NwmGeoError):
    """A command line that argparse accepts but that is incomplete (exit status 2)."""


#: The option groups a subcommand can take (see :class:`Command`).
OPTION_GROUPS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "register": _opts.register_options,
    "k": _opts.k_option,
    "plan": _opts.plan_options,
    "walk": _opts.walk_options,
    "hubs": _opts.hub_arguments,
}

_STUDY = ("register", "k", "plan", "walk", "hubs")

#: The subcommands, in the order ``nwm-geo --help`` lists them.
COMMANDS: list[Command] = [
    Command("import-data", "copy the bundle into data/raw and check sha256", _cmd_import_data,
            arguments=_opts.import_arguments),
    Command("template", "write a blank council register (xlsx) to fill in", _cmd_template,
            arguments=_opts.template_arguments),
    Command("register", "assemble and validate the asset register; wards and demand points",
            _cmd_stages, ("register",)),
    Command("localities", "partition the wards into balanced localities, with proof",
            _cmd_stages, ("register", "k", "plan")),
    Command("coverage", "15-minute walk coverage and asset criticality", _cmd_stages,
            ("register", "k", "plan", "walk")),
    Command("hubs", "one hub per locality: council-named, balance-only and joint plans",
            _cmd_stages, _STUDY),
    Command("report", "requirements spreadsheet, maps and reports/index.html", _cmd_stages,
            _STUDY),
    Command("run", "the whole pipeline: register, localities, coverage, hubs, report",
            _cmd_stages, _STUDY),
    Command("scenario", "what if sites close or open, or settings change: scenarios/<name>/",
            _cmd_scenario, _STUDY, _opts.scenario_arguments),
    Command("compare-plans", "compare two locality plans: wards moved, metrics",
            _cmd_compare_plans, ("register", "k"), _opts.compare_arguments),
    Command("partition", "partition any polygon file of units into k balanced localities",
            _cmd_partition, arguments=_opts.partition_arguments),
    Command("batch", "many areas and scenarios at once, on Dask: batch/<name>/summary.csv",
            _cmd_batch, arguments=_opts.batch_arguments),
]  # fmt: skip

#: Commands that do not read a project (no pending switch to settle first).
_NOT_READING = {"template", "partition"}

#: Commands that import the pipeline (first, with :func:`_import_pipeline`).
_PIPELINE = {"register", "localities", "coverage", "hubs", "report", "run", "scenario"}


def _import_pipeline(command: str) -> None:
    """Import what the command needs with the cyclic garbage collector paused.

    An import makes objects that live as long as the process (modules, classes,
    functions) and no garbage, yet every few hundred of them set off a collection that
    walks them all again: about 0.1 CPU-s of a command. Only for the real command line
    (a process of its own), where ``run`` and ``scenario`` then freeze what exists
    (:func:`gc.freeze`), so the collector never walks the imported objects at all.
    """
    with collector_paused():
        for name in ("nwm_geo.pipeline", "nwm_geo.scenarios")[: 2 if command == "scenario" else 1]:
            importlib.import_module(name)


#: Errors of a run that started well: exit status 1 (the others are bad input: 2).
_RUNNING_FAILURES = (LockedError, SolverError, NetworkError)


def _exit_status(exc: NwmGeoError) -> int:
    return 1 if isinstance(exc, _RUNNING_FAILURES) else 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``nwm-geo`` command line.

    Parameters
    ----------
    argv
        Arguments without the program name; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        0 on success; 1 on a failure while running (a locked project, a full disk, a
        solver or network failure); 2 on bad usage or input; 130 when interrupted.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    # on the real command line the process is the command: its start-up counts too
    args.whole_process = argv is None
    # the folders given on the command line hold for this command only: main() called
    # from Python (a notebook, a test) leaves the environment as it found it
    with _environment(NWM_GEO_SHARED_DATA=args.shared_data, NWM_GEO_PROJECT_DIR=args.project_dir):
        status = _main(args)
    if args.whole_process:  # the process ends now: no collection of the whole heap on exit
        gc.freeze()
    return status


@contextlib.contextmanager
def _environment(**values: str | None) -> Iterator[None]:
    """Set the given environment variables (those not None) for the block, then restore."""
    saved = {k: os.environ.get(k) for k, v in values.items() if v is not None}
    os.environ.update({k: str(v) for k, v in values.items() if v is not None})
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _main(args: argparse.Namespace) -> int:
    handler = {cmd.name: cmd.handler for cmd in COMMANDS}[args.command]
    try:
        if args.command not in _NOT_READING:
            from nwm_geo._readers import settle

            settle(settings.project_dir())  # a switch a killed run left: rolled forward
        if args.whole_process and args.command in _PIPELINE:
            _import_pipeline(args.command)
        handler(args)
    except NwmGeoError as exc:
        if args.verbose:
            traceback.print_exc()
        notes = getattr(exc, "__notes__", [])
        stage = "".join(f" ({n})" for n in notes)
        print(f"nwm-geo {args.command}: error{stage}: {exc}", file=sys.stderr)
        if any(n.startswith("stage: ") for n in notes):  # raised inside pipeline.run
            print("Nothing was written to data/processed or reports.", file=sys.stderr)
        return _exit_status(exc)
    except OSError as exc:  # a full disk, a read-only folder, a file that vanished
        if args.verbose:
            traceback.print_exc()
        where = f": {exc.filename}" if exc.filename else ""
        print(
            f"nwm-geo {args.command}: error: {exc.strerror or exc}{where}. The outputs are "
            "all the previous run's or all this run's, never a mix (docs/reliability.md).",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt as exc:  # notes say what a deferred Ctrl-C left switched
        what = "; ".join(getattr(exc, "__notes__", [])) or "nothing was changed"
        print(f"nwm-geo {args.command}: interrupted; {what}", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
