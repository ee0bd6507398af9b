"""`ccm`: every pipeline step from the command line.

Other installed packages add command groups through the `ccm.cli` entry-point group (the
demo organisation adds `ccm demo` that way), so this module names none of them.

Credentials come from the environment (`AIRFLOW_CONN_<ID>`, the same variables Airflow
reads), never from arguments, so they do not end up in shell history or process lists.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from ccm.config import Settings
from ccm.errors import CcmError
from ccm.evidence.cli import evidence_app
from ccm.metrics import cli as metrics_cli

if TYPE_CHECKING:  # the pipeline imports the engine, dbt and GX glue: only when a step runs
    from ccm.pipeline import Shortfall

app = typer.Typer(no_args_is_help=True, help="Continuous control monitoring for SOC 2 Type II.")
controls_app = typer.Typer(no_args_is_help=True, help="The control matrix.")
app.add_typer(controls_app, name="controls")
datasets_app = typer.Typer(no_args_is_help=True, help="The dataset contracts (docs/datasets.md).")
app.add_typer(datasets_app, name="datasets")
inbox_app = typer.Typer(no_args_is_help=True, help="The inbox of HR, LMS, GRC and IGA exports.")
app.add_typer(inbox_app, name="inbox")
app.add_typer(evidence_app, name="evidence")
app.command("dashboard")(metrics_cli.dashboard)
console = Console()

CLI_ENTRY_POINTS = "ccm.cli"


def _add_installed_command_groups() -> None:
    """Each entry point in the `ccm.cli` group is a Typer app added under its entry-point name."""
    from importlib.metadata import entry_points

    for entry_point in entry_points(group=CLI_ENTRY_POINTS):
        try:
            group = entry_point.load()
        except ModuleNotFoundError as exc:
            # declared but not shipped (the production image installs the product without the demo)
            logging.getLogger("ccm.cli").debug("command group %s not available: %s", entry_point.name, exc)
            continue
        app.add_typer(group, name=entry_point.name)

def _settings() -> Settings:
    return Settings.from_env()


def _interval(start: datetime, end: datetime):
    from ccm.sources.extract import Interval

    return Interval(start, end)


def _cli_run():
    from ccm.manifests import RunContext

    return RunContext(dag_id="cli", run_id=f"cli__{datetime.now():%Y%m%dT%H%M%S}", try_number=1)


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


# pipeline steps ----------------------------------------------------------------------------

@app.command()
def extract(dataset: str, start: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"])],
            end: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"])]) -> None:
    """Extract one dataset (e.g. okta.users) for [--from, --to) into the lake: an event
    dataset one UTC day at a time, each day with its own manifest."""
    from ccm.pipeline import extract_days
    from ccm.sources.connections import from_env

    extracted = extract_days(_settings(), dataset, _interval(start, end), _cli_run(), from_env)
    for manifest, error in ((e.manifest, e.error) for e in extracted):
        console.print(f"{manifest.dataset_key} {manifest.interval_start:%Y-%m-%d}: [bold]{manifest.status.value}[/], "
                      f"{manifest.rows_written} rows, {manifest.pages} pages, {manifest.quarantined} quarantined"
                      + (f": {error}" if error else f" → {manifest.relative_path}"))
    if any(e.manifest.status.value != "complete" for e in extracted):
        raise typer.Exit(1)


@app.command()
def run(start: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"])],
        end: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"])]) -> None:
    """Run every step for [--from, --to) without a scheduler (extract, plan, transform, evaluate, publish)."""
    from ccm.pipeline import run_interval
    from ccm.sources.connections import from_env

    summary = run_interval(_settings(), _interval(start, end), _cli_run(), from_env)
    _print_results(summary.evaluation["results"])
    _exit_on_shortfall(summary.shortfall)


@app.command()
def plan(start: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"])],
         end: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"])]) -> None:
    """Decide which control-periods closed in [--from, --to) and whether their inputs are complete."""
    from ccm.pipeline import Shortfall
    from ccm.pipeline import plan as plan_step

    summary = plan_step(_settings(), _interval(start, end), _cli_run())
    console.print(f"planned {summary['planned']} control-periods, {summary['complete']} with complete inputs")
    _exit_on_shortfall(Shortfall(not_tested=tuple(summary["not_tested"])))


@app.command()
def transform(all_tests: Annotated[bool, typer.Option(
        "--all-tests", help="also run the staging views' integrity tests over the whole lake")] = False) -> None:
    """Build the planned populations with dbt."""
    from ccm.pipeline import Shortfall
    from ccm.pipeline import transform as transform_step

    summary = transform_step(_settings(), _cli_run(), all_tests)
    console.print(summary)
    _exit_on_shortfall(Shortfall(unbuilt_populations=tuple(f"{m}: {why}" for m, why in summary["unbuilt"].items())))


@app.command()
def evaluate() -> None:
    """Run the GX suites over the planned populations and record results and evidence."""
    from ccm.pipeline import Shortfall
    from ccm.pipeline import evaluate as evaluate_step

    results = evaluate_step(_settings(), _cli_run())["results"]
    _print_results(results)
    _exit_on_shortfall(Shortfall.of_results(results))


@app.command()
def publish() -> None:
    """Regenerate the HTML status index."""
    from ccm.pipeline import publish as publish_step

    console.print(publish_step(_settings(), _cli_run()))


@app.command()
def status(control: Annotated[str | None, typer.Option(help="only this control")] = None,
           last: Annotated[int, typer.Option(help="periods per control")] = 10) -> None:
    """Current result of the most recent periods of each control."""
    from ccm.report import current_results

    rows = current_results(_settings())
    if control:
        rows = [r for r in rows if r["control_id"] == control]
    shown: list[dict] = []
    for control_id in sorted({r["control_id"] for r in rows}):
        shown += [r for r in rows if r["control_id"] == control_id][-last:]
    _print_results([{"control_id": r["control_id"], "period": r["period_start"].strftime("%Y-%m-%d"),
                     "status": r["status"], "version": r["version"], "failing": r["failing_entity_ids"] or [],
                     "reason": r["reason"]} for r in shown])
    totals: dict[str, int] = {}
    for row in rows:
        totals[row["status"]] = totals.get(row["status"], 0) + 1
    console.print("totals over all periods: " + ", ".join(f"{k} {v}" for k, v in sorted(totals.items())))


SHORTFALL_EXIT_CODE = 1  # the step ran, but something is untested; 2 is a configuration error


def _exit_on_shortfall(shortfall: Shortfall) -> None:
    """Name every failed extract, unbuilt population and `not_tested` control-period, then
    exit 1: a run with holes in its evidence must not look like a clean run to cron or CI."""
    if shortfall.ok:
        return
    for line in shortfall.lines():
        console.print(f"[red]{line}[/]", highlight=False, soft_wrap=True)
    console.print(f"[red]incomplete:[/] {len(shortfall.failed_extracts)} extracts failed, "
                  f"{len(shortfall.unbuilt_populations)} populations not built, "
                  f"{len(shortfall.not_tested)} control-periods not_tested", soft_wrap=True)
    raise typer.Exit(SHORTFALL_EXIT_CODE)


_STYLE = {"pass": "green", "fail": "red", "excepted": "yellow", "not_tested": "bright_black"}


def _print_results(results: list[dict]) -> None:
    table = Table("control", "period", "status", "v", "failing", "reason")
    for r in results:
        failing = list(r.get("failing") or [])
        table.add_row(r["control_id"], r["period"], f"[{_STYLE.get(r['status'], '')}]{r['status']}[/]",
                      str(r.get("version", "")), ", ".join(failing[:3]) + (" …" if len(failing) > 3 else ""),
                      (r.get("reason") or "")[:90])
    console.print(table)


# controls ----------------------------------------------------------------------------------

@controls_app.command("list")
def controls_list(
    markdown: Annotated[bool, typer.Option(help="print it as Markdown (docs/controls.md)")] = False,
) -> None:
    """The control matrix: criteria → controls, with owner, frequency, sources and test."""
    from ccm.controls.catalog import load_controls
    from ccm.controls.describe import describe_suite, matrix_markdown
    from ccm.sources.registry import dataset_kinds

    settings = _settings()
    catalog = load_controls(settings, dataset_kinds())
    if markdown:
        sys.stdout.write(matrix_markdown(settings, catalog))
        return
    table = Table("criterion", "control", "title", "owner", "frequency", "sources", "test", show_lines=True)
    for criterion, controls in catalog.by_criterion().items():
        for control in controls:
            table.add_row(criterion, control.control_id, control.title, control.owner, control.frequency.value,
                          "\n".join(control.datasets), describe_suite(settings, control.suite))
    console.print(table)
    console.print(f"{len(catalog)} controls covering {len(catalog.by_criterion())} criteria")


@controls_app.command("init")
def controls_init(
    folder: Annotated[Path | None, typer.Argument(help="the company folder (default: $CCM_COMPANY_DIR)")] = None,
) -> None:
    """Create a company folder for your own controls (controls.yml, exceptions.yml, models/, suites/)."""
    import os

    from ccm.controls.scaffold import init_company_dir

    target = folder or (Path(os.environ["CCM_COMPANY_DIR"]) if os.environ.get("CCM_COMPANY_DIR") else None)
    if target is None:
        raise CcmError("name the folder: ccm controls init <folder> (then set CCM_COMPANY_DIR to it)")
    for path in init_company_dir(target):
        console.print(f"created {path}")
    console.print(f"company folder {target.resolve()}: set CCM_COMPANY_DIR={target.resolve()}")


@controls_app.command("new")
def controls_new(
    control_id: Annotated[str, typer.Argument(help="snake_case with a domain prefix, e.g. iam_okta_mfa")],
    criteria: Annotated[list[str], typer.Option("--criteria", help="TSC criterion, e.g. CC6.1 (repeatable)")],
    frequency: Annotated[str, typer.Option(help="daily, weekly, monthly, quarterly or annual")],
    source: Annotated[list[str], typer.Option("--source", help="dataset, e.g. okta.users (repeatable)")],
    title: Annotated[str, typer.Option(help="one line")],
    owner: Annotated[str, typer.Option(help="the team accountable for the control")],
    description: Annotated[str | None, typer.Option(help="what the control ensures")] = None,
    freshness: Annotated[str, typer.Option(help="how soon after a period closes a snapshot must be observed")] = "6h",
    into: Annotated[str, typer.Option(help="company (the CCM_COMPANY_DIR folder) or shipped (the product's matrix)")]
    = "company",
) -> None:
    """Scaffold a control: its catalog entry, population model (SQL + YAML) and GX suite."""
    from ccm.controls.scaffold import new_control

    written = new_control(_settings(), control_id, criteria=criteria, frequency=frequency, sources=source,
                          title=title, owner=owner, description=description, freshness=freshness, into=into)
    console.print(f"appended control {control_id} to {written[0]}")
    for path in written[1:]:
        console.print(f"wrote {path}")
    console.print("next: compute the attributes the test needs in the model's SQL, add an expectation on them "
                  "to the suite, then run `ccm controls check`")


@controls_app.command("check")
def controls_check(
    build: Annotated[bool, typer.Option(help="build the populations into a throw-away warehouse to check "
                                             "their columns (--no-build skips the column checks)")] = True,
) -> None:
    """Validate every control's chain: catalog entry, population model and its columns, GX suite."""
    from ccm.controls.check import check_controls, describe_report

    report = check_controls(_settings(), build=build)
    for line in describe_report(report):
        console.print(line, highlight=False, markup=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)


# init and doctor ---------------------------------------------------------------------------

@app.command("init")
def init_command(
    folder: Annotated[Path, typer.Argument(help="the configuration folder")] = Path("ccm-config"),
) -> None:
    """Write a deployment's starting configuration: every source's connection with each field and
    what it is for, the settings, the inbox mapping, and a template per inbox export. Re-running
    adds what is missing and never overwrites what you changed."""
    from ccm.init import init_deployment

    for written, path in init_deployment(folder, _settings()):
        console.print(f"{written.value} {path}", highlight=False, soft_wrap=True)
    console.print(f"next: edit {folder}/connections.env and {folder}/settings.env, `source` both, "
                  "deliver the exports (see docs/datasets.md), then run `ccm doctor`", highlight=False)


# doctor ------------------------------------------------------------------------------------

@app.command()
def doctor(
    day: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="the day a run would read "
                                                 "(default: yesterday, UTC)")] = None,
    dataset: Annotated[list[str] | None, typer.Option("--dataset", help="only these datasets (repeatable)")] = None,
) -> None:
    """Check everything a run needs (sources, inbox exports, lake, evidence store), one row per
    check with the fix for each failure; exits 1 if any check fails."""
    from datetime import UTC, timedelta

    from ccm.doctor import CheckStatus, run_doctor
    from ccm.sources.connections import from_env

    when = (day.date() if day else (datetime.now(UTC) - timedelta(days=1)).date())
    results = run_doctor(_settings(), from_env, when, dataset)
    style = {CheckStatus.OK: "green", CheckStatus.FAIL: "red", CheckStatus.SKIPPED: "bright_black"}
    table = Table("area", "check", "result", "detail", "fix", show_lines=True)
    for r in results:
        table.add_row(r.area, r.check, f"[{style[r.status]}]{r.status.value}[/]", r.detail, r.fix)
    console.print(table)
    failed = [r for r in results if r.status is CheckStatus.FAIL]
    console.print(f"{len(results)} checks for {when.isoformat()}: {len(failed)} failed")
    if failed:
        raise typer.Exit(1)


# datasets and the inbox ------------------------------------------------------------------

@datasets_app.command("list")
def datasets_list(
    markdown: Annotated[bool, typer.Option(help="print it as Markdown (docs/datasets.md)")] = False,
) -> None:
    """Every dataset: where it is read from, kind, key, columns and the controls that need it."""
    from ccm.controls.catalog import load_controls
    from ccm.controls.describe import datasets_markdown
    from ccm.sources.describe import export_path
    from ccm.sources.registry import FAMILIES, dataset_kinds

    catalog = load_controls(_settings(), dataset_kinds())
    if markdown:
        sys.stdout.write(datasets_markdown(catalog))
        return
    table = Table("dataset", "kind", "key", "read from", "required columns")
    for family in FAMILIES:
        for dataset in family.datasets:
            origin = family.conn_id or f"<inbox>/{export_path(dataset)}"
            table.add_row(dataset.key, dataset.kind.value, ", ".join(dataset.key_columns), origin,
                          ", ".join(c.path for c in dataset.columns if c.required))
    console.print(table)


@inbox_app.command("template")
def inbox_template(
    dataset: Annotated[str, typer.Argument(help="an inbox export dataset, e.g. hr.employees")],
    out: Annotated[Path | None, typer.Option(help="file to write (default ./<dataset>.template.<csv|json>)")] = None,
    force: Annotated[bool, typer.Option(help="overwrite an existing file")] = False,
) -> None:
    """Write a ready export file: the contract's columns and one example row of placeholders."""
    from ccm.sources.describe import export_format
    from ccm.sources.describe import inbox_template as render
    from ccm.sources.registry import get_dataset

    contract = get_dataset(dataset)
    text = render(contract)
    target = out or Path(f"{contract.key}.template.{export_format(contract)}")
    if target.exists() and not force:
        raise CcmError(f"{target} exists; not overwritten (--force to replace it)")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    settings = _settings()
    console.print(f"wrote {target}: replace the example row, then deliver it as "
                  f"{settings.inbox_uri}/{contract.source}/{contract.name}/{contract.name}_YYYY-MM-DD"
                  f".{export_format(contract)}", highlight=False, soft_wrap=True)


def entrypoint() -> None:
    _add_installed_command_groups()
    try:
        app()
    except CcmError as exc:
        console.print(f"[red]error:[/] {exc}")
        sys.exit(2)


if __name__ == "__main__":
    entrypoint()
