"""`ccm`: every pipeline step from the command line, plus the demo.

Credentials come from the environment (`AIRFLOW_CONN_<ID>`, the same variables Airflow
reads), never from arguments, so they do not end up in shell history or process lists.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ccm.config import Settings
from ccm.errors import CcmError
from ccm.evidence.cli import evidence_app
from ccm.metrics import cli as metrics_cli

app = typer.Typer(no_args_is_help=True, help="Continuous control monitoring for SOC 2 Type II.")
demo_app = typer.Typer(no_args_is_help=True, help="The embedded demo organisation.")
controls_app = typer.Typer(no_args_is_help=True, help="The control matrix.")
app.add_typer(demo_app, name="demo")
app.add_typer(controls_app, name="controls")
app.add_typer(evidence_app, name="evidence")
app.command("dashboard")(metrics_cli.dashboard)
console = Console()

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


@app.command()
def plan(start: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"])],
         end: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"])]) -> None:
    """Decide which control-periods closed in [--from, --to) and whether their inputs are complete."""
    from ccm.pipeline import plan as plan_step

    summary = plan_step(_settings(), _interval(start, end), _cli_run())
    console.print(f"planned {summary['planned']} control-periods, {summary['complete']} with complete inputs")
    for line in summary["not_tested"]:
        console.print(f"  not_tested: {line}")


@app.command()
def transform(all_tests: Annotated[bool, typer.Option(
        "--all-tests", help="also run the staging views' integrity tests over the whole lake")] = False) -> None:
    """Build the planned populations with dbt."""
    from ccm.pipeline import transform as transform_step

    console.print(transform_step(_settings(), _cli_run(), all_tests))


@app.command()
def evaluate() -> None:
    """Run the GX suites over the planned populations and record results and evidence."""
    from ccm.pipeline import evaluate as evaluate_step

    _print_results(evaluate_step(_settings(), _cli_run())["results"])


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
    from ccm.controls.catalog import load_catalog
    from ccm.controls.describe import describe_suite, matrix_markdown
    from ccm.sources.registry import dataset_kinds

    settings = _settings()
    catalog = load_catalog(settings.controls_path, dataset_kinds())
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


# demo --------------------------------------------------------------------------------------

@demo_app.command("generate")
def demo_generate(
    seed: int = 7, employees: int = 300,
    start: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"])] = datetime(2025, 10, 1),
    days: int = 182, scale: int = 1,
    out: Annotated[Path | None, typer.Option(help="default: <data dir>/demo")] = None,
) -> None:
    """Generate the seeded demo company (deterministic for a given seed and size)."""
    from ccm.demo.simulator import generate
    from ccm.demo.spec import DemoSpec

    spec = DemoSpec(seed=seed, employees=employees, start=start.date(), days=days, scale=scale)
    target = out or _settings().data_dir / "demo"
    began = time.monotonic()
    generate(spec, target)
    console.print(f"generated {spec.employees} employees over {spec.days} days from {spec.start} "
                  f"(seed {spec.seed}) in {time.monotonic() - began:.1f}s → {target}")


@demo_app.command("serve")
def demo_serve(okta_port: int = 8001) -> None:
    """Serve the generated demo company's APIs on loopback until interrupted."""
    from ccm.demo.standins.servers import Standins

    demo_dir = _settings().data_dir / "demo"
    with Standins(demo_dir).start({"okta": okta_port}) as standins:
        for name, server in standins.servers.items():
            console.print(f"{name}: {server.url}")
        for key, value in standins.connection_env().items():
            console.print(f"export {key}='{value}'")
        console.print(f"export CCM_CLOCK_FILE={demo_dir / 'clock'}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


@demo_app.command("run")
def demo_run(
    days: Annotated[int | None, typer.Option(help="days of the window to run (default: all)")] = None,
    fresh: Annotated[bool, typer.Option(help="discard earlier results, lake and evidence first")] = True,
    employees: int = 300, window_days: Annotated[int, typer.Option("--window-days")] = 182, seed: int = 7,
) -> None:
    """Generate (if needed) and run the demo company through Airflow, day by day."""
    import shutil

    from ccm.demo.runner import PROGRESS, DemoPaths, demo_env, prepare_airflow
    from ccm.demo.simulator import generate
    from ccm.demo.spec import DemoSpec
    from ccm.demo.standins.servers import Standins

    settings = _settings()
    paths = DemoPaths(settings)
    spec = DemoSpec(seed=seed, employees=employees, days=window_days)
    try:
        existing = DemoSpec.load(paths.demo_dir)
    except CcmError:
        existing = None
    if existing != spec:
        began = time.monotonic()
        generate(spec, paths.demo_dir)
        console.print(f"generated the demo company ({spec.employees} employees, {spec.days} days, seed {spec.seed}) "
                      f"in {time.monotonic() - began:.1f}s")
    if fresh:
        for path in (Path(settings.lake_uri), Path(settings.evidence_uri), settings.warehouse_path,
                     settings.data_dir / "reports", paths.airflow_home):
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    run_days = min(days or spec.days, spec.days)
    env = demo_env(settings, paths.demo_dir)
    console.print("preparing Airflow (SQLite metadata DB in var/airflow) …")
    prepare_airflow(env)
    with Standins(paths.demo_dir).start() as standins:
        env |= standins.connection_env()
        console.print(f"running ccm_controls through Airflow for {run_days} days from {spec.start} "
                      f"(log: {paths.log_file})")
        began = time.monotonic()
        with open(paths.log_file, "a") as log:
            child = subprocess.Popen(
                [sys.executable, "-m", "ccm.demo.runner", spec.window_start.isoformat(), str(run_days)],
                env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            )
            assert child.stdout is not None
            for line in child.stdout:
                log.write(line)
                if line.startswith(PROGRESS):
                    console.print("  " + line[len(PROGRESS):].rstrip())
            code = child.wait()
    if code != 0:
        console.print(f"[red]the demo run failed (exit {code}); see {paths.log_file}[/]")
        raise typer.Exit(code)
    console.print(f"done in {time.monotonic() - began:.0f}s")
    _print_demo_summary(settings)


@demo_app.command("verify")
def demo_verify(
    days: Annotated[int | None, typer.Option(help="days of the window (default: all)")] = None,
    employees: int = 300, window_days: Annotated[int, typer.Option("--window-days")] = 182, seed: int = 7,
    census: Annotated[bool, typer.Option("--census", help="also count every extracted dataset-day in the lake against "
                                              "the world (ccm.demo.census)")] = False,
) -> None:
    """Extract the demo company day by day, evaluate the window once, compare with the answer key."""
    import shutil

    from ccm.demo.simulator import generate
    from ccm.demo.spec import DemoSpec
    from ccm.demo.verify import compare_with_answer_key, run_window

    base = _settings()
    settings = base.with_overrides(data_dir=base.data_dir / "verify", lake_uri=str(base.data_dir / "verify" / "lake"),
                                   evidence_uri=str(base.data_dir / "verify" / "evidence"),
                                   inbox_uri=str(base.data_dir / "verify" / "inbox"),
                                   warehouse_path=base.data_dir / "verify" / "warehouse.duckdb")
    shutil.rmtree(settings.data_dir, ignore_errors=True)
    spec = DemoSpec(seed=seed, employees=employees, days=window_days)
    demo_dir = generate(spec, settings.data_dir / "demo")
    settings = settings.with_overrides(exceptions_path=demo_dir / "exceptions.yml")
    run_days = min(days or spec.days, spec.days)
    began = time.monotonic()
    run_window(settings, demo_dir, run_days)
    compared, mismatches = compare_with_answer_key(settings, demo_dir, run_days)
    for mismatch in mismatches:
        console.print(f"[red]{mismatch}[/]")
    console.print(f"{compared} control-periods compared with the answer key in {time.monotonic() - began:.0f}s: "
                  f"{len(mismatches)} mismatches")
    findings = 0
    if census:
        from ccm.demo import census as lake_census
        from ccm.demo.verify import needed_datasets

        rows = lake_census.census(demo_dir, settings, run_days, needed_datasets(settings))
        unexplained = [r for r in rows if r.status == lake_census.MISMATCH
                       or (r.status == lake_census.NOT_EXTRACTED and not r.fault)]
        for row in unexplained:
            console.print(f"[red]{row}[/]")
        findings = len(unexplained)
        matched = sum(r.status == lake_census.MATCH for r in rows)
        console.print(f"lake census: {len(rows)} dataset-days, {matched} match the world, "
                      f"{len(rows) - findings - matched} gaps a planted fault explains, {findings} findings")
    if mismatches or findings:
        raise typer.Exit(1)


def _print_demo_summary(settings: Settings) -> None:
    from ccm.report import current_results

    rows = current_results(settings)
    totals: dict[str, int] = {}
    for row in rows:
        totals[row["status"]] = totals.get(row["status"], 0) + 1
    console.print("results: " + ", ".join(f"{k} {v}" for k, v in sorted(totals.items())))
    console.print(f"status index:   {settings.data_dir / 'reports' / 'index.html'}")
    console.print(f"GX Data Docs:   {Path(settings.evidence_uri) / 'gx' / 'docs' / 'index.html'}")
    console.print(f"evidence store: {settings.evidence_uri}")
    console.print(f"raw lake:       {settings.lake_uri}")
    console.print(f"warehouse:      {settings.warehouse_path} (DuckDB; schema ccm.current_results)")
    console.print("command line:   ccm status")


def entrypoint() -> None:
    try:
        app()
    except CcmError as exc:
        console.print(f"[red]error:[/] {exc}")
        sys.exit(2)


if __name__ == "__main__":
    entrypoint()
