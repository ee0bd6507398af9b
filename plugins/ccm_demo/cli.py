"""`ccm demo`: the embedded demo organisation's commands.

Registered under the `ccm.cli` entry-point group by the `demo` extra, so the product's
CLI shows them when this package is installed and never names it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ccm.config import Settings
from ccm.errors import CcmError

demo_app = typer.Typer(no_args_is_help=True, help="The embedded demo organisation.")
console = Console()


def _settings() -> Settings:
    return Settings.from_env()


@demo_app.command("generate")
def demo_generate(
    seed: int = 7, employees: int = 300,
    start: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"])] = datetime(2025, 10, 1),
    days: int = 182, scale: int = 1,
    out: Annotated[Path | None, typer.Option(help="default: <data dir>/demo")] = None,
) -> None:
    """Generate the seeded demo company (deterministic for a given seed and size)."""
    from ccm_demo.simulator import generate
    from ccm_demo.spec import DemoSpec

    spec = DemoSpec(seed=seed, employees=employees, start=start.date(), days=days, scale=scale)
    target = out or _settings().data_dir / "demo"
    began = time.monotonic()
    generate(spec, target)
    console.print(f"generated {spec.employees} employees over {spec.days} days from {spec.start} "
                  f"(seed {spec.seed}) in {time.monotonic() - began:.1f}s → {target}")


@demo_app.command("serve")
def demo_serve(okta_port: int = 8001) -> None:
    """Serve the generated demo company's APIs on loopback until interrupted."""
    from ccm_demo.standins.servers import Standins

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

    from ccm_demo.runner import PROGRESS, DemoPaths, demo_env, prepare_airflow
    from ccm_demo.simulator import generate
    from ccm_demo.spec import DemoSpec
    from ccm_demo.standins.servers import Standins

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
                [sys.executable, "-m", "ccm_demo.runner", spec.window_start.isoformat(), str(run_days)],
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
                                              "the world (ccm_demo.census)")] = False,
) -> None:
    """Extract the demo company day by day, evaluate the window once, compare with the answer key."""
    import shutil

    from ccm_demo.simulator import generate
    from ccm_demo.spec import DemoSpec
    from ccm_demo.verify import compare_with_answer_key, run_window

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
        from ccm_demo import census as lake_census
        from ccm_demo.verify import needed_datasets

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


