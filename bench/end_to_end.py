"""Benchmark: the whole pipeline over the demo window, stage by stage, day by day.

    .venv/bin/python bench/end_to_end.py [--employees 300] [--days 182] [--scale 1]
                                         [--mode daily|window] [--dir DIR] [--out FILE.json]

The demo company is generated and served by its stand-ins in this process; the pipeline
runs in a child process (so its peak memory, ru_maxrss, is its own and not the moto
server's, which keeps the delivered CloudTrail files of the last 35 days in memory). For every day of the
window the simulated clock moves to the scheduled run's moment and the child extracts
the datasets the control matrix needs; then:

- `--mode daily` (what the DAG does): plan, transform (dbt), evaluate (GX + evidence) and
  publish (marts, index, dashboard) for that day's interval, every day. Each day's cost
  is recorded, so the cost of a daily run after 30 days of history can be set against the
  cost after 180 days (it should stay flat);
- `--mode window` (`ccm demo verify`'s fast path): one plan / transform / evaluate /
  publish over the whole window after the daily extracts.

Stages: extract, plan, dbt (transform), gx (the control tests: `SuiteRunner.validate`,
including GX's result store and the Data Docs page), evidence (the rest of evaluate:
populations, records, copied manifests, ledger, Data Docs index), publish. The stand-ins'
own work (delivering CloudTrail files into moto) is reported apart as `standins`.

Prints a summary and writes every figure to `--out` (JSON). Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

STAGES = ("extract", "plan", "dbt", "gx", "evidence", "publish")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(connection: Any, data_dir: str, exceptions: str) -> None:
    """The pipeline: runs what the parent asks, returns wall and CPU seconds per stage."""
    from ccm import pipeline
    from ccm.config import Settings
    from ccm.controls import gx_runner
    from ccm.demo.runner import DEMO_HTTP_SETTINGS
    from ccm.demo.verify import extract_day, needed_datasets
    from ccm.manifests import RunContext
    from ccm.periods import as_utc
    from ccm.sources.extract import Interval

    settings = Settings.from_env({**os.environ, "CCM_DATA_DIR": data_dir, "CCM_EXCEPTIONS": exceptions})
    settings = settings.with_overrides(**DEMO_HTTP_SETTINGS)
    datasets = needed_datasets(settings)
    gx_seconds = [0.0, 0.0]  # wall, CPU inside SuiteRunner.validate
    validate = gx_runner.SuiteRunner.validate

    def timed_validate(self, *args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return validate(self, *args, **kwargs)
        finally:
            gx_seconds[0] += time.perf_counter() - wall
            gx_seconds[1] += time.process_time() - cpu

    gx_runner.SuiteRunner.validate = timed_validate  # the engine looks it up on the class

    def stage(name: str, timings: dict, work, *args) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        value = work(*args)
        timings[name] = [time.perf_counter() - wall, time.process_time() - cpu]
        return value

    while True:
        request = connection.recv()
        if request is None:
            break
        kind, start, end = request
        interval = Interval(as_utc(start), as_utc(end))
        run = RunContext(dag_id="bench", run_id=f"bench__{start:%Y-%m-%d}__{kind}")
        timings: dict[str, list[float]] = {}
        reply: dict[str, Any] = {"timings": timings}
        if kind == "extract":
            manifests = stage("extract", timings, extract_day, settings, interval.start, run, datasets)
            reply["rows"] = sum(m.rows_written for m in manifests)
            reply["incomplete"] = [m.dataset_key for m in manifests if m.status.value != "complete"]
        else:
            planned = stage("plan", timings, pipeline.plan, settings, interval, run)
            stage("dbt", timings, pipeline.transform, settings, run)
            gx_seconds[:] = [0.0, 0.0]
            evaluation = stage("evaluate", timings, pipeline.evaluate, settings, run)
            wall, cpu = timings.pop("evaluate")
            timings["gx"] = list(gx_seconds)
            timings["evidence"] = [wall - gx_seconds[0], cpu - gx_seconds[1]]
            stage("publish", timings, pipeline.publish, settings, run)
            reply["planned"] = planned["planned"]
            reply["evaluated"] = evaluation["evaluated"]
            reply["statuses"] = {s: sum(1 for r in evaluation["results"] if r["status"] == s)
                                 for s in ("pass", "fail", "excepted", "not_tested")}
        reply["peak_mb"] = _peak_mb()
        connection.send(reply)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from ccm.demo.runner import advance_clock
    from ccm.demo.simulator import generate
    from ccm.demo.spec import CLOCK_FILE, DemoSpec
    from ccm.demo.standins.servers import Standins

    root = Path(args.dir or tempfile.mkdtemp(prefix="ccm-bench-e2e-"))
    spec = DemoSpec(seed=7, employees=args.employees, days=args.days, scale=args.scale,
                    start=date.fromisoformat(args.start))
    began = time.perf_counter()
    demo_dir = generate(spec, root / "demo")
    generated = time.perf_counter() - began
    print(f"generated {spec.employees} employees x {spec.days} days, scale {spec.scale}: {generated:.0f}s", flush=True)
    days: list[dict[str, Any]] = []
    window: dict[str, Any] | None = None
    with Standins(demo_dir).start() as standins:
        os.environ.update(standins.connection_env())
        os.environ["CCM_CLOCK_FILE"] = str(demo_dir / CLOCK_FILE)
        env = {**os.environ, "CCM_DATA_DIR": str(root / "var"), "CCM_INBOX_URI": str(root / "var" / "inbox")}
        context = mp.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(target=worker, args=(child, str(root / "var"), str(demo_dir / "exceptions.yml")))
        process.start()
        try:
            for offset in range(spec.days):
                day = spec.window_start + timedelta(days=offset)
                wall = time.perf_counter()
                advance_clock(demo_dir, day + timedelta(days=1), env)
                delivered = time.perf_counter() - wall
                parent.send(("extract", day, day + timedelta(days=1)))
                row = {"day": f"{day:%Y-%m-%d}", "standins_s": delivered, **parent.recv()}
                if args.mode == "daily":
                    parent.send(("evaluate", day, day + timedelta(days=1)))
                    evaluated = parent.recv()
                    row["timings"] |= evaluated.pop("timings")
                    row |= evaluated
                days.append(row)
                total = sum(t[0] for t in row["timings"].values())
                print(f"{row['day']}: {total:6.1f}s pipeline, {delivered:5.1f}s stand-ins, "
                      f"peak {row['peak_mb']:.0f} MB {row.get('statuses', '')}", flush=True)
            if args.mode == "window":
                parent.send(("evaluate", spec.window_start, spec.window_end))
                window = parent.recv()
                print(f"window: {window['timings']} {window['statuses']}", flush=True)
            parent.send(None)
        finally:
            process.join(timeout=60)
            if process.is_alive():
                process.kill()
    return {"spec": {"employees": spec.employees, "days": spec.days, "scale": spec.scale, "mode": args.mode},
            "generate_s": generated, "days": days, "window": window, "directory": str(root),
            "answer_key": answer_key(root, demo_dir, spec.days)}


def answer_key(root: Path, demo_dir: Path, days: int) -> dict[str, Any]:
    """The run's current results against the demo's answer key, every control and period."""
    from ccm.config import Settings
    from ccm.demo.verify import compare_with_answer_key

    settings = Settings.from_env({**os.environ, "CCM_DATA_DIR": str(root / "var"),
                                  "CCM_EXCEPTIONS": str(demo_dir / "exceptions.yml")})
    compared, mismatches = compare_with_answer_key(settings, demo_dir, days)
    print(f"answer key: {compared} control-periods compared, {len(mismatches)} mismatches", flush=True)
    for mismatch in mismatches[:50]:
        print(f"  {mismatch}", flush=True)
    return {"compared": compared, "mismatches": [str(m) for m in mismatches]}


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    """Totals per stage (wall, CPU), peak memory, and the daily cost early and late in the window."""
    rows = [r["timings"] for r in result["days"]] + ([result["window"]["timings"]] if result["window"] else [])
    totals = {s: [sum(r.get(s, [0, 0])[i] for r in rows) for i in (0, 1)] for s in STAGES}
    standins = sum(r["standins_s"] for r in result["days"])
    peaks = [r["peak_mb"] for r in result["days"]] + ([result["window"]["peak_mb"]] if result["window"] else [])
    summary: dict[str, Any] = {"stages": totals, "pipeline_wall_s": sum(t[0] for t in totals.values()),
                               "pipeline_cpu_s": sum(t[1] for t in totals.values()),
                               "standins_s": standins, "peak_mb": max(peaks)}
    if result["spec"]["mode"] == "daily":
        # daily runs that close only daily periods (no month/quarter end), so early and late compare alike
        def daily_only(row: dict[str, Any]) -> bool:
            following = date.fromisoformat(row["day"]) + timedelta(days=1)
            return following.day != 1 and following.weekday() != 0  # weeks close on Mondays

        def cost(row: dict[str, Any]) -> float:
            return sum(t[0] for t in row["timings"].values())

        runs = [(i + 1, cost(r)) for i, r in enumerate(result["days"]) if daily_only(r)]
        for label, history in (("after_30_days", 30), ("after_180_days", 180)):
            near = [c for n, c in runs if abs(n - history) <= 7]
            if near:
                summary[label] = {"median_s": statistics.median(near), "runs": len(near)}
        if "after_30_days" in summary and "after_180_days" in summary:
            summary["incremental_ratio"] = summary["after_180_days"]["median_s"] / summary["after_30_days"]["median_s"]
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=300)
    parser.add_argument("--days", type=int, default=182)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--start", default="2025-10-01")
    parser.add_argument("--mode", choices=("daily", "window"), default="daily")
    parser.add_argument("--dir", help="work directory (default: a new temporary one)")
    parser.add_argument("--out", type=Path, help="write every figure here (JSON)")
    args = parser.parse_args()
    result = run(args)
    result["summary"] = summarise(result) | {"answer_key": {"compared": result["answer_key"]["compared"],
                                                             "mismatches": len(result["answer_key"]["mismatches"])}}
    print(json.dumps(result["summary"], indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1, default=str))
    sys.exit(0)


if __name__ == "__main__":
    main()
