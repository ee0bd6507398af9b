"""Faults end to end: each makes its control-periods `not_tested` (never `pass`), and once it
is removed a re-run gives exactly the clean results, with nothing lost or duplicated.

One small company over six days and the smoke matrix: Okta MFA (a snapshot over HTTP),
branch protection (GitHub), console MFA (CloudTrail log files in S3). A clean run of the
six days is the reference. A second run meets the faults below, day by day, exactly as
the daily runs would (same simulated clock, same stand-ins); then the faults are removed
and the six days are run again. `docs/reliability.md` is the table of this module.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ccm import pipeline
from ccm.config import Settings
from ccm.evidence.store import EvidenceStore
from ccm.evidence.verify import verify_store
from ccm.manifests import RunContext
from ccm.report import current_results
from ccm.sources.extract import Interval
from ccm.sources.registry import sources_of
from ccm.warehouse import connect
from ccm_demo.runner import DEMO_HTTP_SETTINGS, advance_clock
from ccm_demo.spec import CLOCK_FILE, DemoSpec
from ccm_demo.standins import cloudtrail as cloudtrail_standin
from ccm_demo.standins.servers import Standins
from ccm_demo.verify import extract_day, needed_datasets, run_window
from ccm_demo.world import cloudtrail as cloudtrail_world
from tests.conftest import PROJECT_DIR, SMALL_DEMO

pytestmark = pytest.mark.integration

DAYS = 6
SMOKE = PROJECT_DIR / "tests" / "fixtures" / "controls" / "smoke.yml"
NOT_TESTED, UNCHANGED = "not_tested", "unchanged"


@dataclass
class World:
    """What a fault reaches into: the running stand-ins, the log archive, the demo."""

    standins: Standins
    demo_dir: Path
    env: dict[str, str]
    settings: Settings
    restore: list[Callable[[], None]]

    def okta(self) -> Any:
        return self.standins.servers["okta"]

    def github(self) -> Any:
        return self.standins.servers["github"]

    def clear_faults(self) -> None:
        for server in self.standins.servers.values():
            server.clear_faults()

    def bucket(self) -> tuple[Any, str]:
        archive = cloudtrail_standin.log_archive(self.env)
        assert archive is not None
        return archive

    def log_files(self, day: str, hours: range) -> list[str]:
        """Keys of the CloudTrail log files (not digests) delivered under `day` (YYYY/MM/DD)
        whose file name stamps one of `hours`, in the production us-east-1 trail."""
        client, bucket = self.bucket()
        stamp = day.replace("/", "")
        keys = [d.key for d in cloudtrail_world.load_deliveries(self.demo_dir)
                if "/CloudTrail/us-east-1/" in d.key and f"/{day}/" in d.key]
        chosen = [k for k in keys if any(f"_{stamp}T{h:02d}" in k for h in hours)]
        present = {o["Key"] for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=chosen[0].rsplit("/", 1)[0]) for o in page.get("Contents", [])} if chosen else set()
        return [k for k in chosen if k in present]

    def replace_object(self, key: str, body: bytes | None) -> None:
        """Put `body` at `key` (None: delete it); the original comes back when the fault is removed."""
        client, bucket = self.bucket()
        original = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        if body is None:
            client.delete_object(Bucket=bucket, Key=key)
        else:
            client.put_object(Bucket=bucket, Key=key, Body=body)
        self.restore.append(lambda: client.put_object(Bucket=bucket, Key=key, Body=original))


def _missing_hours(world: World) -> None:
    keys = world.log_files("2025/10/01", range(2, 5))
    assert len(keys) >= 3
    for key in keys:
        world.replace_object(key, None)


def _truncated_file(world: World) -> None:
    key = world.log_files("2025/10/02", range(10, 11))[0]
    client, bucket = world.bucket()
    data = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    world.replace_object(key, data[: len(data) // 2])


def _duplicate_delivery(world: World) -> None:
    """The same file delivered again under another CloudTrail file name."""
    key = world.log_files("2025/10/05", range(9, 10))[0]
    client, bucket = world.bucket()
    copy = key[: -len("XXXXXXXXXXXXXXXX.json.gz")] + "DUPLICATEDELIVRY.json.gz"
    client.copy_object(Bucket=bucket, Key=copy, CopySource={"Bucket": bucket, "Key": key})
    world.restore.append(lambda: client.delete_object(Bucket=bucket, Key=copy))


@dataclass(frozen=True)
class Fault:
    name: str
    day: int  # offset in the window
    control_id: str  # the control whose period of that day it hits
    expected: str  # NOT_TESTED, or UNCHANGED when the pipeline absorbs it
    inject: Callable[[World], None]
    killed_extract: str | None = None  # the dataset whose extract is killed mid-flight


FAULTS = (
    Fault("Okta API down all day (503 on every request)", 0, "iam_okta_mfa", NOT_TESTED,
          lambda w: w.okta().inject(status=503, count=100_000)),
    Fault("CloudTrail log files missing for three hours", 0, "iam_aws_console_mfa", NOT_TESTED, _missing_hours),
    Fault("Okta 429 storm longer than the retry budget", 1, "iam_okta_mfa", NOT_TESTED,
          lambda w: w.okta().inject(status=429, count=100_000)),
    Fault("a truncated CloudTrail gzip file", 1, "iam_aws_console_mfa", NOT_TESTED, _truncated_file),
    Fault("schema drift: Okta users lose a required field", 3, "iam_okta_mfa", NOT_TESTED,
          lambda w: w.okta().inject(kind="drop_field", field="id", path="/api/v1/users", count=1)),
    Fault("GitHub 429 burst within the retry budget", 4, "chg_branch_protection", UNCHANGED,
          lambda w: w.github().inject(status=429, count=2)),
    Fault("duplicate delivery of a CloudTrail log file", 4, "iam_aws_console_mfa", UNCHANGED, _duplicate_delivery),
    Fault("worker killed mid-extract (SIGKILL during the Okta users pages)", 5, "iam_okta_mfa", NOT_TESTED,
          lambda w: w.okta().inject(kind="slow", seconds=60, path="/api/v1/users", after=1, count=1),
          killed_extract="okta.users"),
)


def _results(settings: Settings) -> dict[tuple[str, str], tuple[str, tuple[str, ...]]]:
    return {(r["control_id"], f"{r['period_start']:%Y-%m-%d}"): (r["status"], tuple(r["failing_entity_ids"] or []))
            for r in current_results(settings)}


def _lake_data(settings: Settings) -> dict[str, str]:
    """Every data file of the lake (not manifests, not quarantine) by path, with its SHA-256."""
    root = Path(settings.lake_uri) / "raw"
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _kill_mid_extract(world: World, dataset: str, day) -> int:
    """Run the extract as its own process (as an Airflow worker would) and SIGKILL it while it
    waits on the source; returns the exit status."""
    before = len(world.okta().request_log)
    env = {**os.environ, "CCM_DATA_DIR": str(world.settings.data_dir), "CCM_LAKE_URI": world.settings.lake_uri}
    child = subprocess.Popen(
        [str(Path(sys.executable).with_name("ccm")), "extract", dataset,
         "--from", f"{day:%Y-%m-%d}", "--to", f"{day + timedelta(days=1):%Y-%m-%d}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while not any(path.startswith("/api/v1/users") for _, path, _ in world.okta().request_log[before:]):
        assert child.poll() is None and time.monotonic() < deadline, "the extract never reached the source"
        time.sleep(0.1)
    time.sleep(0.5)  # now waiting on the slow second request
    os.killpg(child.pid, signal.SIGKILL)
    return child.wait(timeout=30)


def _run_days(world: World, faults: tuple[Fault, ...], run: RunContext) -> dict[str, Any]:
    """Extract day by day on the simulated clock (meeting each day's faults), then evaluate."""
    spec = DemoSpec.load(world.demo_dir)
    datasets = needed_datasets(world.settings)
    killed = {}
    for offset in range(DAYS):
        day = spec.window_start + timedelta(days=offset)
        advance_clock(world.demo_dir, day + timedelta(days=1), world.env, sources_of(datasets))
        todays = [f for f in faults if f.day == offset]
        for fault in (f for f in todays if f.killed_extract):
            fault.inject(world)
            killed[fault.name] = _kill_mid_extract(world, fault.killed_extract, day)
            world.clear_faults()
        for fault in (f for f in todays if not f.killed_extract):
            fault.inject(world)
        skip = {f.killed_extract for f in todays}
        extract_day(world.settings, day, run, [d for d in datasets if d not in skip])
        world.clear_faults()
    interval = Interval(spec.window_start, spec.window_start + timedelta(days=DAYS))
    pipeline.plan(world.settings, interval, run)
    pipeline.transform(world.settings, run)
    pipeline.evaluate(world.settings, run)
    return killed


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path):
    root = tmp_path_factory.mktemp("faults")
    demo = Path(shutil.copytree(demo_dir, root / "demo"))
    assert DemoSpec.load(demo) == SMALL_DEMO

    def settings_for(name: str) -> Settings:
        return Settings.from_env({"CCM_DATA_DIR": str(root / name), "CCM_CONTROLS": str(SMOKE),
                                  "CCM_EXCEPTIONS": str(demo / "exceptions.yml")}).with_overrides(**DEMO_HTTP_SETTINGS)

    clean = settings_for("clean")
    run_window(clean, demo, DAYS)
    reference = {"results": _results(clean), "lake": _lake_data(clean)}

    settings = settings_for("faulty")
    with Standins(demo).start() as standins, pytest.MonkeyPatch.context() as patch:
        for name, value in standins.connection_env().items():
            patch.setenv(name, value)
        patch.setenv("CCM_CLOCK_FILE", str(demo / CLOCK_FILE))
        env = {**os.environ, "CCM_DATA_DIR": str(settings.data_dir), "CCM_INBOX_URI": settings.inbox_uri}
        world = World(standins, demo, env, settings, restore=[])
        killed = _run_days(world, FAULTS, RunContext(dag_id="faults", run_id="with_faults"))
        during = {"results": _results(settings), "lake": _lake_data(settings), "killed": killed}
        for undo in world.restore:
            undo()
        _run_days(world, (), RunContext(dag_id="faults", run_id="after_faults"))
    after = {"results": _results(settings), "lake": _lake_data(settings)}
    return reference, during, after, settings


def _period(fault: Fault) -> tuple[str, str]:
    return fault.control_id, f"{SMALL_DEMO.window_start + timedelta(days=fault.day):%Y-%m-%d}"


def test_the_reference_days_are_tested_where_faults_will_hit(runs):
    reference, *_ = runs
    assert len(reference["results"]) == DAYS * 3
    for fault in FAULTS:
        status, _ = reference["results"][_period(fault)]
        assert status != NOT_TESTED, f"{fault.name}: its period must be tested in the clean run"


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_each_fault_is_not_tested_or_absorbed(runs, fault):
    reference, during, _after, _settings = runs
    status, failing = during["results"][_period(fault)]
    if fault.expected == NOT_TESTED:
        assert status == NOT_TESTED, fault.name
    else:
        assert (status, failing) == reference["results"][_period(fault)], fault.name


def test_no_fault_ever_turns_into_a_pass(runs):
    """Anywhere in the window, a faulty run concludes what the clean run did, or not_tested."""
    reference, during, _after, _settings = runs
    assert during["results"].keys() == reference["results"].keys()
    for period, (status, failing) in during["results"].items():
        assert status == NOT_TESTED or (status, failing) == reference["results"][period], period


def test_a_failed_or_killed_extract_left_nothing_in_the_lake(runs):
    """Snapshots are observed after the day closes: each Okta fault costs exactly the
    observation of its day, nothing else, and no half-written file is left behind."""
    reference, during, _after, settings = runs
    assert during["killed"] == {f.name: -signal.SIGKILL for f in FAULTS if f.killed_extract}
    okta_faults = {f.day for f in FAULTS if f.control_id == "iam_okta_mfa" and f.expected == NOT_TESTED}

    def observations(lake: dict[str, str], days: set[int] | None = None) -> set[str]:
        dates = None if days is None else {f"{SMALL_DEMO.window_start + timedelta(days=d + 1):%Y-%m-%d}" for d in days}
        return {p for p in lake if p.startswith("okta/users/") and (dates is None or p.split("=")[1][:10] in dates)}

    assert observations(reference["lake"], okta_faults)
    assert observations(during["lake"]) == observations(reference["lake"]) - observations(reference["lake"], okta_faults)
    assert not list(Path(settings.lake_uri).rglob(".tmp-*"))


def test_after_the_faults_are_removed_a_rerun_gives_exactly_the_clean_results(runs):
    reference, _during, after, _settings = runs
    assert after["results"] == reference["results"]


def test_nothing_was_lost_or_duplicated_in_the_lake(runs):
    reference, _during, after, _settings = runs
    assert after["lake"] == reference["lake"]


def test_every_version_is_kept_and_the_evidence_verifies(runs):
    *_, settings = runs
    with connect(settings.warehouse_path) as con:
        versions = con.execute("select count(*), count(distinct (control_id, period_start)), max(version) "
                               "from ccm.control_results").fetchone()
    assert versions == (2 * DAYS * 3, DAYS * 3, 2)
    report = verify_store(EvidenceStore(settings.evidence_uri))
    assert report.ok, report

