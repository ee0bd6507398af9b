"""Benchmark: CloudTrail log files -> partitioned Parquet, the ccm extract against DuckDB alone.

    .venv/bin/python bench/cloudtrail_ingest.py [--files 192,768] [--files-per-day 96]
                                                [--events-per-file 1000] [--dir DIR]

For each file count N it writes N gzip CloudTrail log files (`{"Records": [...]}`, records
rendered by the demo world's generator) in the S3 layout under a local directory, with
the hourly digests CloudTrail would deliver beside them (no moto: the archive is read
from disk), then runs two contenders, each in a child process so that its peak memory
(VmHWM, bench/peak_memory.py) is its own:

- ccm: the `cloudtrail.events` extract exactly as the pipeline runs it, one UTC day at a
  time as `ccm extract --from --to` runs it (`run_extracts` over a `LocalArchive`, each
  day's lake write overlapping the next day's fetch): list, verify every file's SHA-256 against
  its digest, map the records onto the typed columns with validation, deduplicate by
  eventID, write the day's partition and the manifest;
- duckdb: DuckDB's own `read_json` over the same files, `unnest(Records)`, `COPY ... TO`
  Parquet partitioned by the event date (no verification, no validation, no dedupe).

It prints events/s (wall clock) and CPU seconds of both, the ratios (target: ccm >= 0.8
of duckdb; the CPU ratio is the one to trust on a busy machine) and peak memory, at two
file counts, to show the extract's memory does not grow with the number of files (it
holds one day at a time). Results are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2025, 10, 1, tzinfo=UTC)
ACCOUNT = "123456789012"
REGION = "us-east-1"


def generate(root: Path, files: int, files_per_day: int, events_per_file: int) -> int:
    """Write `files` log files (and their digests) under root; returns the number of events."""
    from random import Random

    from ccm_demo.world import aws_org
    from ccm_demo.world import cloudtrail as world

    account = aws_org.Account(ACCOUNT, "prod", (REGION,))
    rng = Random(7)
    resources = world.account_resources(rng, account, REGION)
    role = world.Role(ACCOUNT, "datadog-integration", "AROABENCHMARK0000000")
    app = world.Role(ACCOUNT, "ecs-task-api", "AROABENCHMARK0000001")
    window = 86400 // files_per_day
    total = 0
    listed_by_hour: dict[datetime, list[dict]] = {}
    for index in range(files):
        day = START + timedelta(days=index // files_per_day)
        slot = index % files_per_day
        renderer = world.Renderer(Random(index), day)
        resources.random = renderer.rng.random
        monitoring = role.session_identity("DatadogAWSIntegration", "ASIABENCHMARK0000000", renderer.time(0))
        apps = app.session_identity("task-1", "ASIABENCHMARK0000001", renderer.time(0))
        seconds = sorted(slot * window + int(renderer.rng.random() * window) for _ in range(events_per_file))
        records = []
        for second in seconds:
            if renderer.rng.random() < 0.5:
                records.append(renderer.call(second, REGION, monitoring, world.MONITORING_MIX.pick(renderer.rng.random()),
                                             resources, "44.192.28.17", world.sdk_agent("datadog")))
            else:
                records.append(renderer.call(second, REGION, apps, world.APP_MIX.pick(renderer.rng.random()), resources,
                                             "10.0.12.7", world.sdk_agent("ecs-task")))
        body = ('{"Records":[' + ",".join(records) + "]}").encode()
        newest = day + timedelta(seconds=seconds[-1])
        deliver_at = newest + timedelta(minutes=7)
        key = (f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/{deliver_at:%Y/%m/%d}/"
               f"{ACCOUNT}_CloudTrail_{REGION}_{deliver_at:%Y%m%dT%H%MZ}_bench{index:08d}.json.gz")
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(world.gzip_bytes(body))
        hour = deliver_at.replace(minute=0, second=0, microsecond=0)
        listed_by_hour.setdefault(hour, []).append({
            "s3Bucket": "bench", "s3Object": key, "hashValue": hashlib.sha256(body).hexdigest(),
            "hashAlgorithm": "SHA-256", "oldestEventTime": world.stamp(day + timedelta(seconds=seconds[0])),
            "newestEventTime": world.stamp(newest)})
        total += len(records)
    for hour, listed in sorted(listed_by_hour.items()):
        end = hour + timedelta(hours=1)
        key = world.digest_key(ACCOUNT, REGION, end)
        doc = {"awsAccountId": ACCOUNT, "digestStartTime": world.stamp(hour), "digestEndTime": world.stamp(end),
               "digestS3Bucket": "bench", "digestS3Object": key, "logFiles": listed}
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(world.gzip_bytes(json.dumps(doc).encode()))
    return total


def run_ccm(archive: str, out: str, days: int) -> dict:
    """Child process: the cloudtrail.events extract, one day at a time, into a lake."""
    import duckdb  # noqa: F401  (imported before the clock starts, as the other contender's is)
    import pandas  # noqa: F401  (DuckDB imports it on its first scan of a Python object)
    import pyarrow.parquet  # noqa: F401

    from ccm.lake import Lake
    from ccm.pipeline import midnight_intervals
    from ccm.sources.cloudtrail.client import CloudTrailClient, LocalArchive, Trail
    from ccm.sources.cloudtrail.datasets import EVENTS
    from ccm.sources.cloudtrail.fetchers import fetch_events
    from ccm.sources.extract import run_extracts

    client = CloudTrailClient(Trail(LocalArchive(Path(archive)), ((ACCOUNT, REGION),)))
    lake = Lake(out)
    began = time.perf_counter()
    rows = 0
    # what `ccm extract cloudtrail.events --from --to` runs: one day at a time, each day's
    # lake write overlapping the next day's fetch
    for extracted in run_extracts(EVENTS, midnight_intervals(START, START + timedelta(days=days)),
                                  fetch_events(client), lake):
        manifest = extracted.manifest
        if manifest.status.value != "complete":
            raise SystemExit(f"extract of {manifest.interval_start:%Y-%m-%d} was {manifest.status.value}: "
                             f"{extracted.error or manifest.quarantine_reasons}")
        rows += manifest.rows_written
    return {"seconds": time.perf_counter() - began, "rows": rows}


def run_duckdb(archive: str, out: str, days: int) -> dict:
    """Child process: DuckDB's own read_json -> COPY TO Parquet, partitioned by event date."""
    import duckdb

    con = duckdb.connect()
    began = time.perf_counter()
    pattern = f"{archive}/AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz"
    con.execute(f"""
        copy (
            select record.*, cast(record.eventTime as date) as date
            from (select unnest(Records) as record from read_json('{pattern}'))
        ) to '{out}' (format parquet, compression zstd, partition_by (date))
    """)
    rows = con.execute(f"select count(*) from read_parquet('{out}/**/*.parquet')").fetchall()[0][0]
    return {"seconds": time.perf_counter() - began, "rows": rows}


def child(contender: str, archive: str, out: str, days: int) -> None:
    import resource

    from peak_memory import peak_mb

    before = resource.getrusage(resource.RUSAGE_SELF)
    result = (run_ccm if contender == "ccm" else run_duckdb)(archive, out, days)
    after = resource.getrusage(resource.RUSAGE_SELF)
    result["cpu_seconds"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result["peak_rss_mb"] = peak_mb()
    print("RESULT " + json.dumps(result), flush=True)


def measure(contender: str, archive: Path, out: Path, days: int) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    done = subprocess.run([sys.executable, __file__, "--child", contender, str(archive), str(out), str(days)],
                          capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{contender} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", default="192,768", help="file counts to run, comma-separated")
    parser.add_argument("--files-per-day", type=int, default=96, help="log files per day (one per 15 minutes)")
    parser.add_argument("--events-per-file", type=int, default=1000)
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: a temporary one)")
    parser.add_argument("--child", nargs=4, metavar=("CONTENDER", "ARCHIVE", "OUT", "DAYS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        contender, archive, out, days = args.child
        child(contender, archive, out, int(days))
        return
    work = args.dir or Path(tempfile.mkdtemp(prefix="ccm-bench-"))
    print(f"work dir {work}; {os.cpu_count()} cores")
    print(f"{'files':>6} {'events':>9} {'gz MB':>6} | {'ccm ev/s':>9} {'cpu s':>6} {'peak MB':>7} | "
          f"{'duckdb ev/s':>11} {'cpu s':>6} {'peak MB':>7} | ratio (wall, cpu)")
    for count in [int(n) for n in args.files.split(",")]:
        archive = work / f"archive-{count}"
        shutil.rmtree(archive, ignore_errors=True)
        events = generate(archive, count, args.files_per_day, args.events_per_file)
        days = -(-count // args.files_per_day)
        size = sum(p.stat().st_size for p in archive.rglob("*.json.gz") if "Digest" not in p.name) / 2**20
        ccm = measure("ccm", archive, work / "out-ccm", days)
        duck = measure("duckdb", archive, work / "out-duckdb", days)
        if ccm["rows"] != events or duck["rows"] != events:
            raise SystemExit(f"row counts differ: generated {events}, ccm {ccm['rows']}, duckdb {duck['rows']}")
        ccm_rate, duck_rate = events / ccm["seconds"], events / duck["seconds"]
        print(f"{count:>6} {events:>9} {size:>6.1f} | {ccm_rate:>9,.0f} {ccm['cpu_seconds']:>6.1f} "
              f"{ccm['peak_rss_mb']:>7.0f} | {duck_rate:>11,.0f} {duck['cpu_seconds']:>6.1f} {duck['peak_rss_mb']:>7.0f} | "
              f"{ccm_rate / duck_rate:.2f}, {duck['cpu_seconds'] / ccm['cpu_seconds']:.2f}", flush=True)
        shutil.rmtree(archive, ignore_errors=True)
    if args.dir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
