"""Benchmark: the whole pipeline over the demo window, stage by stage, day by day.

    .venv/bin/python bench/end_to_end.py [--employees 300] [--days 182] [--scale 1]
                                         [--mode daily|window] [--measure 23-37,173-182]
                                         [--history-every 7] [--profile 22,172]
                                         [--dir DIR] [--out FILE.json]

The demo company is generated and served by its stand-ins in this process; the pipeline
runs in child processes (so their peak memory, VmHWM, is their own and not the moto
server's, which keeps the delivered CloudTrail files of the last 35 days in memory). For
every day of the window the simulated clock moves to the scheduled run's moment and a
child extracts the datasets the control matrix needs; then:

- `--mode daily` (what the DAG does): plan, transform (dbt), evaluate (GX + evidence) and
  publish (marts, index, dashboard) for that day's interval. A *measured* day runs in a
  new child process, as Airflow runs every task of a DAG run in a process of its own
  (nothing a long-lived process accumulates is carried over; the time the child takes to
  start is reported apart as `startup`). Days outside `--measure` (default: every day)
  are *history*: they run in one long-lived child, which extracts every day and runs the
  rest of the pipeline over the days since its last run every `--history-every` days
  (default 1) and before each measured day, so the measured runs find the whole history
  evaluated. The cost of a daily run after 30 days of history is set against the cost
  after 180 days (it should stay flat);
- `--mode window` (`ccm demo verify`'s fast path): daily extracts, then one plan /
  transform / evaluate / publish over the whole window, all in one long-lived child.

Stages: extract, plan, dbt (transform), gx (the control tests: `SuiteRunner.validate`,
including GX's result store and the Data Docs page), evidence (the rest of evaluate:
populations, records, copied manifests, ledger, Data Docs index), publish. The stand-ins'
own work (delivering CloudTrail files into moto) is reported apart as `standins`.

`--profile` days run like measured days with each stage under cProfile, the profiles
written to `<dir>/profiles/day-NNN-<stage>.pstats` (to see what a stage spends more time on
late in the window than early); their figures are kept but left out of the medians, as
profiling slows Python code unevenly.

Prints a summary and writes every figure to `--out` (JSON; `<out>.partial.json` after
every day). Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

STAGES = ("extract", "plan", "dbt", "gx", "evidence", "publish")


def _peak_mb() -> float:
    from peak_memory import peak_mb  # beside this script (on sys.path in the spawned children too)

    return peak_mb()


def worker(connection: Any, data_dir: str, exceptions: str) -> None:
    """The pipeline: runs what the parent asks, returns wall and CPU seconds per stage."""
    from ccm import pipeline
    from ccm.config import Settings
    from ccm.controls import gx_runner
    from ccm.manifests import RunContext
    from ccm.periods import as_utc
    from ccm.sources.extract import Interval
    from ccm_demo.runner import DEMO_HTTP_SETTINGS
    from ccm_demo.verify import extract_day, needed_datasets

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
    extract_seconds: dict[str, float] = {}  # wall seconds per dataset, to name what grows
    extract_peak_mb: dict[str, float] = {}  # the process's peak after each dataset: where it jumps
    extract = pipeline.extract

    def timed_extract(settings, key, *args, **kwargs):
        wall = time.perf_counter()
        try:
            return extract(settings, key, *args, **kwargs)
        finally:
            extract_seconds[key] = time.perf_counter() - wall
            extract_peak_mb[key] = _peak_mb()

    pipeline.extract = timed_extract  # extract_day looks it up on the module at each call
    connection.send("ready")

    profile_to: str | None = None  # a path prefix: profile each stage of this request there

    def stage(name: str, timings: dict, work, *args) -> Any:
        import cProfile

        profiler = cProfile.Profile() if profile_to else None
        wall, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        value = work(*args)
        if profiler:
            profiler.disable()
            profiler.dump_stats(f"{profile_to}-{name}.pstats")
        timings[name] = [time.perf_counter() - wall, time.process_time() - cpu]
        return value

    while True:
        request = connection.recv()
        if request is None:
            break
        kind, start, end, profile_to = request
        interval = Interval(as_utc(start), as_utc(end))
        run = RunContext(dag_id="bench", run_id=f"bench__{start:%Y-%m-%d}__{kind}")
        timings: dict[str, list[float]] = {}
        reply: dict[str, Any] = {"timings": timings}
        if kind == "extract":
            manifests = stage("extract", timings, extract_day, settings, interval.start, run, datasets)
            reply["rows"] = sum(m.rows_written for m in manifests)
            reply["incomplete"] = [m.dataset_key for m in manifests if m.status.value != "complete"]
            reply["extract_s"] = dict(extract_seconds)
            reply["extract_peak_mb"] = dict(extract_peak_mb)
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


class Child:
    """A pipeline worker process: started, asked for stages, closed."""

    def __init__(self, root: Path, demo_dir: Path) -> None:
        self.connection, theirs = mp.get_context("spawn").Pipe()
        self.process = mp.get_context("spawn").Process(
            target=worker, args=(theirs, str(root / "var"), str(demo_dir / "exceptions.yml")))
        wall = time.perf_counter()
        self.process.start()
        self.connection.recv()  # "ready": the interpreter started and the pipeline imported
        self.startup_s = time.perf_counter() - wall

    def request(self, kind: str, start: date, end: date, profile_to: Path | None = None) -> dict[str, Any]:
        self.connection.send((kind, start, end, str(profile_to) if profile_to else None))
        return self.connection.recv()

    def close(self) -> None:
        self.connection.send(None)
        self.process.join(timeout=60)
        if self.process.is_alive():
            self.process.kill()

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run(args: argparse.Namespace) -> dict[str, Any]:
    from ccm_demo.runner import advance_clock
    from ccm_demo.simulator import generate
    from ccm_demo.spec import CLOCK_FILE, DemoSpec
    from ccm_demo.standins.servers import Standins

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
        profiled = args.profile if args.mode == "daily" else set()
        measured = (args.measure | profiled) if args.mode == "daily" else set()
        if profiled:
            (root / "profiles").mkdir(parents=True, exist_ok=True)
        history: Child | None = None
        pending: date | None = None  # first history day not evaluated yet

        def catch_up(until: date, row: dict[str, Any] | None) -> None:
            nonlocal pending
            if pending is not None and history is not None:
                reply = history.request("evaluate", pending, until)
                if row is not None:
                    row["timings"] |= reply.pop("timings")
                    row["history_evaluated_days"] = (until - pending).days
                pending = None

        for offset in range(spec.days):
            number, day = offset + 1, spec.window_start + timedelta(days=offset)
            following = day + timedelta(days=1)
            wall = time.perf_counter()
            advance_clock(demo_dir, following, env)
            delivered = time.perf_counter() - wall
            if number in measured:
                catch_up(day, days[-1] if days else None)
                if history is not None:
                    history.close()
                    history = None
                profile_to = root / "profiles" / f"day-{number:03d}" if number in profiled else None
                with Child(root, demo_dir) as child:
                    row = {"day": f"{day:%Y-%m-%d}", "measured": True, "profiled": profile_to is not None,
                           "standins_s": delivered, "startup_s": child.startup_s,
                           **child.request("extract", day, following, profile_to)}
                    evaluated = child.request("evaluate", day, following, profile_to)
                    row["timings"] |= evaluated.pop("timings")
                    row |= evaluated
            else:
                if history is None:
                    history = Child(root, demo_dir).__enter__()
                row = {"day": f"{day:%Y-%m-%d}", "measured": False, "standins_s": delivered,
                       **history.request("extract", day, following)}
                pending = pending or day
                if args.mode == "daily" and (following - pending).days >= args.history_every:
                    catch_up(following, row)
            days.append(row)
            if args.out:  # a run of an hour or more: keep what was measured if it is stopped
                args.out.with_suffix(".partial.json").write_text(json.dumps({"days": days}, default=str))
            total = sum(t[0] for t in row["timings"].values())
            print(f"{row['day']}: {total:6.1f}s pipeline{' (measured)' if row['measured'] else ''}, "
                  f"{delivered:5.1f}s stand-ins, peak {row['peak_mb']:.0f} MB {row.get('statuses', '')}", flush=True)
        if args.mode == "window":
            assert history is not None
            window = history.request("evaluate", spec.window_start, spec.window_end)
            print(f"window: {window['timings']} {window['statuses']}", flush=True)
        else:
            catch_up(spec.window_end, days[-1])
        if history is not None:
            history.close()
    return {"spec": {"employees": spec.employees, "days": spec.days, "scale": spec.scale, "mode": args.mode},
            "generate_s": generated, "days": days, "window": window, "directory": str(root),
            "answer_key": answer_key(root, demo_dir, spec.days)}


def answer_key(root: Path, demo_dir: Path, days: int) -> dict[str, Any]:
    """The run's current results against the demo's answer key, every control and period."""
    from ccm.config import Settings
    from ccm_demo.verify import compare_with_answer_key

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
    startup = sum(r.get("startup_s", 0.0) for r in result["days"])
    peaks = [r["peak_mb"] for r in result["days"]] + ([result["window"]["peak_mb"]] if result["window"] else [])
    summary: dict[str, Any] = {"stages": totals, "pipeline_wall_s": sum(t[0] for t in totals.values()),
                               "pipeline_cpu_s": sum(t[1] for t in totals.values()),
                               "standins_s": standins, "startup_s": startup, "peak_mb": max(peaks)}
    if result["spec"]["mode"] == "daily":
        # daily runs that close only daily periods (no month/quarter end), so early and late compare alike
        def daily_only(row: dict[str, Any]) -> bool:
            following = date.fromisoformat(row["day"]) + timedelta(days=1)
            return following.day != 1 and following.weekday() != 0  # weeks close on Mondays

        def cost(row: dict[str, Any]) -> float:
            return sum(t[0] for t in row["timings"].values())

        runs = [(i + 1, r) for i, r in enumerate(result["days"])
                if r.get("measured", True) and not r.get("profiled") and daily_only(r)]
        for label, history in (("after_30_days", 30), ("after_180_days", 180)):
            near = [r for n, r in runs if abs(n - history) <= 7]
            if near:
                summary[label] = {
                    "median_s": statistics.median(cost(r) for r in near), "runs": len(near),
                    "median_cpu_s": statistics.median(sum(t[1] for t in r["timings"].values()) for r in near),
                    "stages_median_s": {s: statistics.median(r["timings"][s][0] for r in near) for s in STAGES},
                    "startup_median_s": statistics.median(r.get("startup_s", 0.0) for r in near),
                    "extract_median_s": {k: statistics.median(r["extract_s"][k] for r in near)
                                         for k in near[0].get("extract_s", {})},
                }
        if "after_30_days" in summary and "after_180_days" in summary:
            summary["incremental_ratio"] = summary["after_180_days"]["median_s"] / summary["after_30_days"]["median_s"]
    return summary


def day_numbers(text: str) -> set[int]:
    """"23-37,173-182" -> {23, ..., 37, 173, ..., 182}"""
    numbers: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        numbers |= set(range(int(first), int(last or first) + 1))
    return numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=300)
    parser.add_argument("--days", type=int, default=182)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--start", default="2025-10-01")
    parser.add_argument("--mode", choices=("daily", "window"), default="daily")
    parser.add_argument("--measure", type=day_numbers, help="days (1-based) measured in a process of their own, "
                        "e.g. 23-37,173-182 (default: every day)")
    parser.add_argument("--history-every", type=int, default=1,
                        help="days between the long-lived child's runs of the pipeline past the extract")
    parser.add_argument("--profile", type=day_numbers, default=set(),
                        help="days run like measured ones with every stage under cProfile, left out of the medians")
    parser.add_argument("--dir", help="work directory (default: a new temporary one)")
    parser.add_argument("--out", type=Path, help="write every figure here (JSON)")
    args = parser.parse_args()
    if args.measure is None:
        args.measure = set(range(1, args.days + 1))
    result = run(args)
    result["summary"] = summarise(result) | {"answer_key": {"compared": result["answer_key"]["compared"],
                                                             "mismatches": len(result["answer_key"]["mismatches"])}}
    print(json.dumps(result["summary"], indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1, default=str))
    sys.exit(0)


if __name__ == "__main__":
    main()
