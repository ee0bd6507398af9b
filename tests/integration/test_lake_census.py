"""The lake census: every dataset of the demo company is in the raw lake with the world's rows.

The answer-key tests prove what the controls conclude; this proves what they stand on.
A copy of the small company is extracted day by day on the simulated clock, exactly as
the daily runs would (every dataset of the registry, no dbt or GX), over the first four
days of its window: they hold the planted outages of Okta, AWS and GitHub (day 3), a
CloudTrail log file that is never delivered (day 4), a duplicate delivery, a late file
the next day's look-back re-reads and two missing digests. The census
(`ccm_demo.census`) then counts each dataset-day in the lake against the world's own
state functions and files. Finally the last day is extracted again, as a retried run
would, and the lake's data files must not change.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from ccm.config import Settings
from ccm.manifests import RunContext
from ccm.sources.registry import ALL_DATASETS, sources_of
from ccm_demo.census import MATCH, MISMATCH, NOT_EXTRACTED, CensusRow, census, format_census
from ccm_demo.runner import advance_clock
from ccm_demo.spec import CLOCK_FILE, DemoSpec
from ccm_demo.standins.servers import Standins
from ccm_demo.verify import extract_day
from ccm_demo.world.common import parse, read_json
from tests.conftest import SMALL_DEMO

pytestmark = pytest.mark.integration

DAYS = 4  # the planted outages close day 3; CloudTrail's undelivered log file is on day 4
DATASETS = [d.key for d in ALL_DATASETS]
FAMILIES = sorted({d.source for d in ALL_DATASETS})


@dataclass(frozen=True)
class Surveyed:
    demo: Path
    settings: Settings
    rows: list[CensusRow]
    raw_before: dict[str, str]  # lake data files (path under raw/ -> SHA-256) after the daily runs
    raw_after: dict[str, str]  # the same after the last day was extracted again
    rerun_rows: list[CensusRow]  # the census of the last day after it was extracted again


def _raw_files(settings: Settings) -> dict[str, str]:
    root = Path(settings.lake_uri) / "raw"
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def surveyed(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> Surveyed:
    root = tmp_path_factory.mktemp("lake-census")
    demo = Path(shutil.copytree(demo_dir, root / "demo"))  # the stand-ins write the clock into it
    spec = DemoSpec.load(demo)
    assert spec == SMALL_DEMO
    # outages fail at once instead of backing off: their days are "not extracted" either way
    settings = Settings.from_env({"CCM_DATA_DIR": str(root / "var"), "CCM_EXCEPTIONS": str(demo / "exceptions.yml")})
    settings = settings.with_overrides(http_max_attempts=1, http_max_total_wait_s=0.0)
    last_day = spec.window_start + timedelta(days=DAYS - 1)
    with Standins(demo).start() as standins, pytest.MonkeyPatch.context() as patch:
        for name, value in standins.connection_env().items():
            patch.setenv(name, value)
        patch.setenv("CCM_CLOCK_FILE", str(demo / CLOCK_FILE))
        env = {**os.environ, "CCM_DATA_DIR": str(settings.data_dir), "CCM_INBOX_URI": settings.inbox_uri}
        run = RunContext(dag_id="lake_census", run_id="daily")
        for offset in range(DAYS):
            day = spec.window_start + timedelta(days=offset)
            advance_clock(demo, day + timedelta(days=1), env, sources_of(DATASETS))
            extract_day(settings, day, run, DATASETS)
        raw_before = _raw_files(settings)
        rows = census(demo, settings, DAYS)
        # a retry of the last daily run: same simulated moment, same sources
        advance_clock(demo, last_day + timedelta(days=1), env, sources_of(DATASETS))
        extract_day(settings, last_day, RunContext(dag_id="lake_census", run_id="retry"), DATASETS)
        raw_after = _raw_files(settings)
    rerun_rows = [r for r in census(demo, settings, DAYS) if r.day == last_day.date()]
    return Surveyed(demo, settings, rows, raw_before, raw_after, rerun_rows)


def test_every_dataset_is_counted_on_every_day(surveyed: Surveyed) -> None:
    assert len(DATASETS) == 50  # with github.audit_log, aws.config_recorders and the devices' intune.managed_devices, crowdstrike.hosts, jamf.computers
    counted = {(r.dataset, r.day) for r in surveyed.rows}
    days = {SMALL_DEMO.start + timedelta(days=offset) for offset in range(DAYS)}
    assert counted == {(key, day) for key in DATASETS for day in days}
    assert len(surveyed.rows) == len(counted)


def test_every_row_matches_the_world_or_is_a_gap_a_planted_fault_explains(surveyed: Surveyed) -> None:
    table = format_census(surveyed.rows)
    assert [r for r in surveyed.rows if r.status == MISMATCH] == [], table
    unexplained = [r for r in surveyed.rows if r.status == NOT_EXTRACTED and not r.fault]
    assert unexplained == [], table
    assert {r.status for r in surveyed.rows} == {MATCH, NOT_EXTRACTED}
    for row in surveyed.rows:
        if row.status == MATCH:
            assert row.lake_rows == row.world_rows is not None, row
        else:
            assert row.lake_rows is None, row


def test_every_source_family_has_a_matching_day_with_rows(surveyed: Surveyed) -> None:
    found = {r.dataset.split(".")[0] for r in surveyed.rows if r.status == MATCH and r.lake_rows}
    assert found == set(FAMILIES), format_census(surveyed.rows)


def test_the_gaps_are_exactly_the_planted_ones(surveyed: Surveyed) -> None:
    """Read from the world's own records, not from the census: every source down when its
    day's run observes it, and the day whose CloudTrail log file never arrives."""
    outages = read_json(surveyed.demo / "world" / "outages.json")
    facts = read_json(surveyed.demo / "world" / "cloudtrail" / "facts.json")
    expected = set()
    for offset in range(DAYS):
        day = SMALL_DEMO.window_start + timedelta(days=offset)
        run_at = SMALL_DEMO.observation_time(day + timedelta(days=1))
        down = {o["source"] for o in outages if parse(o["start"]) <= run_at < parse(o["end"])}
        expected |= {(key, day.date()) for key in DATASETS if key.split(".")[0] in down}
        if any(parse(f["oldest"]).date() == day.date() for f in facts["missing_log_files"]):
            expected.add(("cloudtrail.events", day.date()))
    assert {"okta", "aws", "github"} <= {key.split(".")[0] for key, _day in expected}
    assert ("cloudtrail.events", SMALL_DEMO.start + timedelta(days=3)) in expected
    assert {(r.dataset, r.day) for r in surveyed.rows if r.status == NOT_EXTRACTED} == expected


def test_the_planted_delivery_faults_are_counted_as_the_world_delivered_them(surveyed: Surveyed) -> None:
    by_key = {(r.dataset, r.day): r for r in surveyed.rows}
    second, third, fourth = (SMALL_DEMO.start + timedelta(days=n) for n in (1, 2, 3))
    late = by_key[("cloudtrail.events", second)]  # re-read by the third day's look-back, with its late file
    assert late.status == MATCH and "late delivery" in (late.fault or "") and "look-back" in late.fault
    assert late.moment == SMALL_DEMO.observation_time(SMALL_DEMO.window_start + timedelta(days=3))
    duplicated = by_key[("cloudtrail.events", third)]
    assert duplicated.status == MATCH and "duplicate delivery" in (duplicated.fault or "")
    digests = by_key[("cloudtrail.digests", fourth)]
    assert digests.status == MATCH and digests.lake_rows == 4 * 24 and "2 digests never delivered" in digests.fault


def test_the_census_notices_a_lake_that_lost_or_gained_rows(surveyed: Surveyed, tmp_path: Path) -> None:
    """Proof the census can fail: the same lake with one partition removed and one
    observation stored twice."""
    settings = Settings.from_env({"CCM_DATA_DIR": str(tmp_path)})
    shutil.copytree(surveyed.settings.lake_uri, settings.lake_uri)
    raw = Path(settings.lake_uri) / "raw"
    first = SMALL_DEMO.start
    for path in (raw / "cloudtrail" / "events" / f"date={first}").glob("*.parquet"):
        path.unlink()
    users = next((raw / "okta" / "users" / f"date={first + timedelta(days=1)}").glob("*.parquet"))
    shutil.copy(users, users.with_name("part-0000000000000000.parquet"))
    rows = {r.dataset: r for r in census(surveyed.demo, settings, 1, ["cloudtrail.events", "okta.users"])}
    assert rows["cloudtrail.events"].status == MISMATCH and rows["cloudtrail.events"].lake_rows == 0
    assert rows["okta.users"].status == MISMATCH
    assert rows["okta.users"].lake_rows == 2 * rows["okta.users"].world_rows


def test_a_retried_run_leaves_the_lake_byte_for_byte_identical(surveyed: Surveyed) -> None:
    assert surveyed.raw_after == surveyed.raw_before
    assert [r for r in surveyed.rerun_rows if r.status == MISMATCH] == []
