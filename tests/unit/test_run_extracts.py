"""run_extracts: several intervals in order, each complete or not at all with its own
manifest, the lake write of one overlapping the fetch of the next."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from ccm.constants import DatasetKind, ExtractStatus
from ccm.datasets import Column, ColumnType, Dataset
from ccm.lake import Lake
from ccm.manifests import read_manifests
from ccm.pipeline import midnight_intervals
from ccm.sources.extract import run_extracts

EVENTS = Dataset("t", "events", DatasetKind.EVENT, (Column("id", "id", required=True),
                                                    Column("at", "at", ColumnType.TIMESTAMP, required=True)),
                 key_columns=("id",), time_column="at")
START = datetime(2025, 10, 1, tzinfo=UTC)
DAYS = midnight_intervals(START, START + timedelta(days=3))


def fetch_two_per_day(interval, fetch_log):
    for hour in (3, 15):
        moment = interval.start + timedelta(hours=hour)
        yield {"id": f"{moment:%d}-{hour}", "at": moment.isoformat()}


def stored_days(lake: Lake) -> dict[str, list[str]]:
    return {path.split("/")[-2]: lake.read_table(path).column("id").to_pylist()
            for path in lake.dataset_files(EVENTS)}


def test_midnight_intervals_cut_a_range_into_utc_days():
    assert [(i.start.day, i.end.day) for i in DAYS] == [(1, 2), (2, 3), (3, 4)]
    part = midnight_intervals(START + timedelta(hours=20), START + timedelta(days=1, hours=6))
    assert [(i.start.hour, i.end.hour) for i in part] == [(20, 0), (0, 6)]


def test_every_day_is_written_with_its_own_manifest_in_order(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    extracted = run_extracts(EVENTS, DAYS, fetch_two_per_day, lake)
    assert [e.manifest.interval_start for e in extracted] == [d.start for d in DAYS]
    assert all(e.error is None and e.manifest.status is ExtractStatus.COMPLETE for e in extracted)
    assert sorted(stored_days(lake).values()) == [["01-3", "01-15"], ["02-3", "02-15"], ["03-3", "03-15"]]
    assert len(read_manifests(lake, EVENTS)) == 3


def test_a_failed_fetch_fails_its_day_only(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    run_extracts(EVENTS, DAYS, fetch_two_per_day, lake)
    before = stored_days(lake)

    def fetch(interval, fetch_log):
        if interval.start.day == 2:
            raise ConnectionError("source down on day 2")
        yield from fetch_two_per_day(interval, fetch_log)

    extracted = run_extracts(EVENTS, DAYS, fetch, lake)
    assert [e.manifest.status for e in extracted] == [ExtractStatus.COMPLETE, ExtractStatus.FAILED,
                                                      ExtractStatus.COMPLETE]
    assert isinstance(extracted[1].error, ConnectionError)
    assert extracted[1].manifest.error == "ConnectionError: source down on day 2"
    assert stored_days(lake) == before  # day 2 keeps what it had


def test_a_failed_write_is_a_failed_manifest_and_the_next_day_still_runs(tmp_path, monkeypatch):
    lake = Lake(str(tmp_path / "lake"))
    replace = lake.replace_event_interval

    def replace_or_fail(dataset, start, end, table):
        if start.day == 1:
            raise OSError("disk full")
        return replace(dataset, start, end, table)

    monkeypatch.setattr(lake, "replace_event_interval", replace_or_fail)
    extracted = run_extracts(EVENTS, DAYS, fetch_two_per_day, lake)
    assert [e.manifest.status for e in extracted] == [ExtractStatus.FAILED, ExtractStatus.COMPLETE,
                                                      ExtractStatus.COMPLETE]
    assert extracted[0].manifest.error == "OSError: disk full" and extracted[0].manifest.rows_written == 0
    assert sorted(stored_days(lake)) == ["date=2025-10-02", "date=2025-10-03"]
    stored = {m.interval_start.day: m.status for m in read_manifests(lake, EVENTS)}
    assert stored == {1: ExtractStatus.FAILED, 2: ExtractStatus.COMPLETE, 3: ExtractStatus.COMPLETE}


def test_a_day_is_written_while_the_next_is_fetched(tmp_path, monkeypatch):
    """The overlap itself: the write of day 1 blocks until day 2's fetch has started, which
    only a writer running beside the fetch lets happen (one thread would wait forever)."""
    lake = Lake(str(tmp_path / "lake"))
    day_two_fetching = threading.Event()
    replace = lake.replace_event_interval

    def replace_after_next_fetch_started(dataset, start, end, table):
        if start.day == 1:
            assert day_two_fetching.wait(timeout=10), "day 2 was not fetched while day 1 was written"
        return replace(dataset, start, end, table)

    def fetch(interval, fetch_log):
        if interval.start.day == 2:
            day_two_fetching.set()
        yield from fetch_two_per_day(interval, fetch_log)

    monkeypatch.setattr(lake, "replace_event_interval", replace_after_next_fetch_started)
    extracted = run_extracts(EVENTS, DAYS[:2], fetch, lake)
    assert [e.manifest.status for e in extracted] == [ExtractStatus.COMPLETE, ExtractStatus.COMPLETE]


@pytest.mark.parametrize("bad", ["quarantined", "total"])
def test_an_incomplete_day_leaves_its_partition_and_the_others_are_written(tmp_path, bad):
    lake = Lake(str(tmp_path / "lake"))
    run_extracts(EVENTS, DAYS, fetch_two_per_day, lake)
    before = stored_days(lake)

    def fetch(interval, fetch_log):
        if interval.start.day == 3:
            if bad == "quarantined":
                yield {"id": "no-time"}
            else:
                fetch_log.api_total = 5
        yield from fetch_two_per_day(interval, fetch_log)

    extracted = run_extracts(EVENTS, DAYS, fetch, lake)
    assert [e.manifest.status for e in extracted] == [ExtractStatus.COMPLETE, ExtractStatus.COMPLETE,
                                                      ExtractStatus.INCOMPLETE]
    assert stored_days(lake) == before
