"""Benchmark: what a daily run costs against the floor of the same work, in the same run.

    .venv/bin/python bench/daily_run.py [--days 7] [--from-day 8] [--scale 1] [--employees 300]
                                        [--dir DIR] [--json] [--out FILE.json]

The demo company is generated and served by its stand-ins in this process; the pipeline
runs in one child process (so its CPU seconds are its own, not the stand-ins'). Days
before `--from-day` are history: extracted day by day and evaluated once over them
(`ccm demo verify`'s fast path), unmeasured. Then `--days` consecutive daily runs are
measured, each in-process as the DAG's steps run them (extract every dataset the matrix
needs, plan, transform, evaluate, publish), and for each the **floor** of the same day:

- the same extracts (shared: measured once, counted in both);
- the same compiled SQL dbt ran for that day (every model and data test of the build, in
  dbt's order, taken from the build's results) executed straight in one DuckDB connection
  on a copy of the warehouse taken after the plan;
- the same verdicts: each planned control-period's suite translated to one SQL query
  (`bench/gx_vs_sql.py`'s translation) over the population the floor built.

Stages of a run: extract, plan, dbt, gx (`SuiteRunner.validate`: the suite, GX's result
store, the Data Docs page), evidence (the rest of evaluate), publish; of the floor:
extract, floor_sql, floor_verdicts. Prints wall and CPU seconds per stage per day, the
median daily run, the median floor and their ratio; `--json` prints the same as one JSON
object (keys `median_run_s`, `median_floor_s`, `ratio`, ...). Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

RUN_STAGES = ("extract", "plan", "dbt", "gx", "evidence", "publish")
FLOOR_STAGES = ("extract", "floor_sql", "floor_verdicts")


class Stopwatch:
    """Wall and CPU seconds of named stages (CPU of this process, every thread)."""

    def __init__(self) -> None:
        self.timings: dict[str, list[float]] = {}

    def run(self, name: str, work: Any, *args: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return work(*args)
        finally:
            self.timings[name] = [time.perf_counter() - wall, time.process_time() - cpu]


def built_nodes(result: Any) -> list[dict[str, Any]]:
    """What a dbt build ran, in its order: each model's and data test's compiled SQL and relation."""
    nodes = []
    for node_result in getattr(result.result, "results", None) or []:
        node = node_result.node
        if getattr(node, "compiled_code", None):
            nodes.append({"unique_id": node.unique_id, "resource_type": str(node.resource_type.value),
                          "materialized": node.config.materialized, "schema": node.schema,
                          "relation_name": node.relation_name, "compiled_code": node.compiled_code})
    return nodes


def floor_sql(warehouse_copy: Path, nodes: list[dict[str, Any]]) -> tuple[Any, int]:
    """Execute the compiled SQL of dbt's build straight in one DuckDB connection.

    Models are created as the relation dbt created (table or view, `create or replace`, no
    temporary relation and rename); data tests are run as dbt runs them (their failing rows
    counted). Returns the open connection (the verdicts run on it) and the nodes executed.
    """
    import duckdb

    con = duckdb.connect(str(warehouse_copy))
    con.execute("set TimeZone = 'UTC'")
    executed = 0
    for node in nodes:
        code = node["compiled_code"]
        if node["resource_type"] == "model":
            kind = "view" if node["materialized"] == "view" else "table"
            con.execute(f'create schema if not exists "{node["schema"]}"')
            con.execute(f"create or replace {kind} {node['relation_name']} as (\n{code}\n)")
        elif node["resource_type"] == "test":
            con.execute(f"select count(*) from (\n{code}\n) dbt_internal_test").fetchall()
        else:
            continue
        executed += 1
    return con, executed


def floor_verdicts(con: Any, settings: Any) -> dict[tuple[str, str], set[str]]:
    """Each planned control-period's verdict (failing entity ids, `(control)` for a
    control-level failure) from its suite translated to SQL, over the floor's populations."""
    from gx_vs_sql import suite_sql  # beside this script

    from ccm.controls.catalog import load_catalog

    catalog = {c.control_id: c for c in load_catalog(settings.controls_path)}
    planned = con.execute("select control_id, population_model, period_start from ccm.evaluation_plan "
                          "where inputs_complete order by 1, 3").fetchall()
    queries: dict[str, str] = {}
    verdicts: dict[tuple[str, str], set[str]] = {}
    for control_id, model, period_start in planned:
        control = catalog[control_id]
        if control_id not in queries:
            suite = json.loads((settings.gx_dir / "suites" / f"{control.suite}.json").read_text())
            queries[control_id] = suite_sql(suite, f'controls."{model}"')
        failing = {r[0] for r in con.execute(queries[control_id], {"period": period_start}).fetchall()}
        verdicts[(control_id, f"{period_start:%Y-%m-%d}")] = failing
    return verdicts


def worker(connection: Any, data_dir: str, exceptions: str) -> None:
    """The pipeline and its floor, in one process: does what the parent asks, returns timings."""
    from dbt.cli.main import dbtRunner

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

    def timed_validate(self: Any, *args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return validate(self, *args, **kwargs)
        finally:
            gx_seconds[0] += time.perf_counter() - wall
            gx_seconds[1] += time.process_time() - cpu

    gx_runner.SuiteRunner.validate = timed_validate  # the engine looks it up on the class
    builds: list[Any] = []  # dbt's build results, to take the compiled SQL the floor runs
    invoke = dbtRunner.invoke

    def recording_invoke(self: Any, args: list[str], **kwargs: Any) -> Any:
        result = invoke(self, args, **kwargs)
        if args and args[0] == "build":
            builds.append(result)
        return result

    dbtRunner.invoke = recording_invoke  # ccm.transform looks it up on the class at each call
    floor_dir = Path(data_dir).parent / "floor"
    connection.send("ready")
    while True:
        request = connection.recv()
        if request is None:
            break
        kind, start, end = request
        interval = Interval(as_utc(start), as_utc(end))
        run = RunContext(dag_id="bench", run_id=f"bench__{start:%Y-%m-%d}__{kind}")
        watch = Stopwatch()
        reply: dict[str, Any] = {"timings": watch.timings}
        if kind == "extract":
            watch.run("extract", extract_day, settings, interval.start, run, datasets)
        elif kind == "window":
            pipeline.plan(settings, interval, run)
            pipeline.transform(settings, run)
            pipeline.evaluate(settings, run)
            pipeline.publish(settings, run)
        else:  # a measured daily run, then its floor
            manifests = watch.run("extract", extract_day, settings, interval.start, run, datasets)
            reply["incomplete_extracts"] = [m.dataset_key for m in manifests if m.status.value != "complete"]
            reply["planned"] = watch.run("plan", pipeline.plan, settings, interval, run)["planned"]
            shutil.rmtree(floor_dir, ignore_errors=True)  # the warehouse as the plan left it, for the floor
            floor_dir.mkdir(parents=True)
            warehouse_copy = floor_dir / settings.warehouse_path.name  # same name: same catalog in dbt's SQL
            shutil.copy2(settings.warehouse_path, warehouse_copy)
            builds.clear()
            watch.run("dbt", pipeline.transform, settings, run)
            nodes = [n for build in builds for n in built_nodes(build)]
            gx_seconds[:] = [0.0, 0.0]
            evaluation = watch.run("evaluate", pipeline.evaluate, settings, run)
            wall, cpu = watch.timings.pop("evaluate")
            watch.timings["gx"] = list(gx_seconds)
            watch.timings["evidence"] = [wall - gx_seconds[0], cpu - gx_seconds[1]]
            watch.run("publish", pipeline.publish, settings, run)
            con, reply["floor_nodes"] = watch.run("floor_sql", floor_sql, warehouse_copy, nodes)
            try:
                verdicts = watch.run("floor_verdicts", floor_verdicts, con, settings)
            finally:
                con.close()
            reply["evaluated"] = evaluation["evaluated"]
            reply["statuses"] = {s: sum(1 for r in evaluation["results"] if r["status"] == s)
                                 for s in ("pass", "fail", "excepted", "not_tested")}
            reply["verdicts_disagree"] = disagreements(evaluation["results"], verdicts)
        connection.send(reply)


def disagreements(results: list[dict[str, Any]], verdicts: dict[tuple[str, str], set[str]]) -> list[str]:
    """Control-periods where the floor's verdict differs from the run's: a pass must have no
    failing entity in the floor, a fail or excepted at least one (the floor applies no
    exceptions, so it is compared on whether anything failed)."""
    out = []
    for result in results:
        key = (result["control_id"], result["period"].split("/")[0][:10])
        if result["status"] == "not_tested" or key not in verdicts:
            continue
        if (result["status"] == "pass") != (not verdicts[key]):
            out.append(f"{key[0]} {key[1]}: run {result['status']}, floor {sorted(verdicts[key])[:5]}")
    return out


class Child:
    """The pipeline's process: started once, asked for days, closed."""

    def __init__(self, root: Path, demo_dir: Path) -> None:
        context = mp.get_context("spawn")
        self.connection, theirs = context.Pipe()
        self.process = context.Process(target=worker,
                                       args=(theirs, str(root / "var"), str(demo_dir / "exceptions.yml")))
        self.process.start()
        self.connection.recv()  # "ready"

    def request(self, kind: str, start: date, end: date) -> dict[str, Any]:
        self.connection.send((kind, start, end))
        return self.connection.recv()

    def close(self) -> None:
        self.connection.send(None)
        self.process.join(timeout=60)
        if self.process.is_alive():
            self.process.kill()


def run(args: argparse.Namespace) -> dict[str, Any]:
    from ccm_demo.runner import advance_clock
    from ccm_demo.simulator import generate
    from ccm_demo.spec import CLOCK_FILE, DemoSpec
    from ccm_demo.standins.servers import Standins

    root = Path(args.dir or tempfile.mkdtemp(prefix="ccm-bench-daily-"))
    last_day = args.from_day + args.days - 1
    spec = DemoSpec(seed=7, employees=args.employees, days=max(last_day, 7), scale=args.scale,
                    start=date.fromisoformat(args.start))
    began = time.perf_counter()
    demo_dir = generate(spec, root / "demo")
    log(args, f"generated {spec.employees} employees x {spec.days} days, scale {spec.scale}: "
              f"{time.perf_counter() - began:.0f}s")
    days: list[dict[str, Any]] = []
    with Standins(demo_dir).start() as standins:
        os.environ.update(standins.connection_env())
        os.environ["CCM_CLOCK_FILE"] = str(demo_dir / CLOCK_FILE)
        env = {**os.environ, "CCM_DATA_DIR": str(root / "var"), "CCM_INBOX_URI": str(root / "var" / "inbox")}
        child = Child(root, demo_dir)
        try:
            began = time.perf_counter()
            for number in range(1, args.from_day):
                day = spec.window_start + timedelta(days=number - 1)
                advance_clock(demo_dir, day + timedelta(days=1), env)
                child.request("extract", day, day + timedelta(days=1))
            if args.from_day > 1:
                child.request("window", spec.window_start, spec.window_start + timedelta(days=args.from_day - 1))
                log(args, f"history: {args.from_day - 1} days in {time.perf_counter() - began:.0f}s")
            for number in range(args.from_day, last_day + 1):
                day = spec.window_start + timedelta(days=number - 1)
                advance_clock(demo_dir, day + timedelta(days=1), env)
                row = {"day": f"{day:%Y-%m-%d}", "number": number,
                       **child.request("daily", day, day + timedelta(days=1))}
                days.append(row)
                log(args, f"day {number} {row['day']}: run {run_seconds(row)[0]:.1f}s, "
                          f"floor {floor_seconds(row)[0]:.1f}s, {row['statuses']}"
                          + (f", verdicts disagree: {row['verdicts_disagree']}" if row["verdicts_disagree"] else ""))
        finally:
            child.close()
    result = {"spec": {"employees": spec.employees, "scale": spec.scale, "from_day": args.from_day,
                       "days": args.days}, "directory": str(root), "days": days}
    if args.answer_key:
        result["answer_key"] = answer_key(root, demo_dir, last_day)
    return result


def answer_key(root: Path, demo_dir: Path, days: int) -> dict[str, Any]:
    """The current results of the window so far against the demo's answer key."""
    from ccm.config import Settings
    from ccm_demo.verify import compare_with_answer_key

    settings = Settings.from_env({**os.environ, "CCM_DATA_DIR": str(root / "var"),
                                  "CCM_EXCEPTIONS": str(demo_dir / "exceptions.yml")})
    compared, mismatches = compare_with_answer_key(settings, demo_dir, days)
    return {"compared": compared, "mismatches": [str(m) for m in mismatches]}


def run_seconds(row: dict[str, Any]) -> list[float]:
    return [sum(row["timings"][s][i] for s in RUN_STAGES) for i in (0, 1)]


def floor_seconds(row: dict[str, Any]) -> list[float]:
    return [sum(row["timings"][s][i] for s in FLOOR_STAGES) for i in (0, 1)]


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    days = result["days"]
    stages = {s: [statistics.median(d["timings"][s][i] for d in days) for i in (0, 1)]
              for s in dict.fromkeys(RUN_STAGES + FLOOR_STAGES)}
    median_run = statistics.median(run_seconds(d)[0] for d in days)
    median_floor = statistics.median(floor_seconds(d)[0] for d in days)
    median_run_cpu = statistics.median(run_seconds(d)[1] for d in days)
    median_floor_cpu = statistics.median(floor_seconds(d)[1] for d in days)
    summary = {
        **result["spec"],
        "median_run_s": median_run, "median_floor_s": median_floor, "ratio": median_run / median_floor,
        "median_run_cpu_s": median_run_cpu, "median_floor_cpu_s": median_floor_cpu,
        "ratio_cpu": median_run_cpu / median_floor_cpu,
        # the extract is shared (and on a day a stand-in is down, mostly retry back-off): the
        # ratio of what follows it says what the pipeline adds on top of the SQL alone
        "ratio_past_extract": statistics.median(
            (run_seconds(d)[0] - d["timings"]["extract"][0]) / (floor_seconds(d)[0] - d["timings"]["extract"][0])
            for d in days),
        "stages_median_wall_cpu_s": stages,
        "verdicts_disagree": sum(len(d["verdicts_disagree"]) for d in days),
    }
    if "answer_key" in result:
        summary["answer_key"] = {"compared": result["answer_key"]["compared"],
                                 "mismatches": len(result["answer_key"]["mismatches"])}
    return summary


def table(result: dict[str, Any], summary: dict[str, Any]) -> str:
    """Per day and stage wall / CPU seconds, then the medians."""
    columns = list(dict.fromkeys(RUN_STAGES + FLOOR_STAGES))
    lines = ["| day | " + " | ".join(columns) + " | run | floor | ratio |",
             "|---|" + "---:|" * (len(columns) + 3)]
    for d in result["days"]:
        cells = [f"{d['timings'][s][0]:.1f} / {d['timings'][s][1]:.1f}" for s in columns]
        run_s, floor_s = run_seconds(d), floor_seconds(d)
        lines.append(f"| {d['number']} | " + " | ".join(cells)
                     + f" | {run_s[0]:.1f} / {run_s[1]:.1f} | {floor_s[0]:.1f} / {floor_s[1]:.1f} "
                       f"| {run_s[0] / floor_s[0]:.2f} |")
    medians = summary["stages_median_wall_cpu_s"]
    lines.append("| **median** | " + " | ".join(f"{medians[s][0]:.1f} / {medians[s][1]:.1f}" for s in columns)
                 + f" | **{summary['median_run_s']:.1f}** / {summary['median_run_cpu_s']:.1f} "
                   f"| **{summary['median_floor_s']:.1f}** / {summary['median_floor_cpu_s']:.1f} "
                   f"| **{summary['ratio']:.2f}** |")
    return "\n".join(lines)


def log(args: argparse.Namespace, text: str) -> None:
    print(text, file=sys.stderr if args.json else sys.stdout, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=7, help="consecutive daily runs measured")
    parser.add_argument("--from-day", type=int, default=8,
                        help="the first measured day (1-based); the days before it are history")
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--employees", type=int, default=300)
    parser.add_argument("--start", default="2025-10-01")
    parser.add_argument("--dir", help="work directory (default: a new temporary one)")
    parser.add_argument("--no-answer-key", dest="answer_key", action="store_false",
                        help="skip comparing the results with the demo's answer key at the end")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    parser.add_argument("--out", type=Path, help="write every figure here (JSON)")
    args = parser.parse_args()
    result = run(args)
    summary = summarise(result)
    if args.out:
        args.out.write_text(json.dumps(result | {"summary": summary}, indent=1, default=str))
    if args.json:
        print(json.dumps(summary, default=str))
    else:
        print(table(result, summary))
        print(f"median run {summary['median_run_s']:.1f}s, median floor {summary['median_floor_s']:.1f}s, "
              f"ratio {summary['ratio']:.2f} (CPU {summary['ratio_cpu']:.2f}, "
              f"past the extract {summary['ratio_past_extract']:.2f}); "
              f"verdicts disagreeing: {summary['verdicts_disagree']}"
              + (f"; answer key: {summary['answer_key']['compared']} compared, "
                 f"{summary['answer_key']['mismatches']} mismatches" if "answer_key" in summary else ""))
    failed = summary["verdicts_disagree"] or summary.get("answer_key", {}).get("mismatches")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
