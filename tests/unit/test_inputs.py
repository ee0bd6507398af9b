"""Input completeness: which observation is a period's evidence, and when there is none."""

from datetime import UTC, datetime, timedelta

from ccm.constants import DatasetKind, ExtractStatus, Frequency
from ccm.controls.catalog import Control, SourceRequirement
from ccm.controls.inputs import ManifestIndex, assess
from ccm.manifests import ExtractManifest, WrittenFile
from ccm.periods import Period

DAY = Period(datetime(2025, 10, 1, tzinfo=UTC), datetime(2025, 10, 2, tzinfo=UTC))
CONTROL = Control("iam_x", "X", "x", ("CC6.1",), "Security", Frequency.DAILY, "ctl_iam_x", "ctl_iam_x",
                  (SourceRequirement("okta.users", timedelta(hours=6)),))


def observation(at: datetime, status=ExtractStatus.COMPLETE, name="f") -> ExtractManifest:
    return ExtractManifest(
        extract_id=name, source="okta", dataset="users", kind=DatasetKind.SNAPSHOT,
        interval_start=at - timedelta(days=1), interval_end=at, status=status, started_at=at, finished_at=at,
        observed_at=at, files_written=[WrittenFile(f"raw/okta/users/{name}.parquet", "abc", 3, "2025-10-02")]
        if status is ExtractStatus.COMPLETE else [],
        error=None if status is ExtractStatus.COMPLETE else "SourceError: down",
    )


def test_the_latest_complete_observation_after_the_close_within_freshness_is_the_evidence():
    index = ManifestIndex([observation(DAY.end + timedelta(hours=1), name="early"),
                           observation(DAY.end + timedelta(hours=2), name="late"),
                           observation(DAY.end + timedelta(hours=9), name="too-late")])
    result = assess(CONTROL, DAY, index)
    assert result.complete
    assert result.datasets[0].files == (("raw/okta/users/late.parquet", "abc"),)


def test_an_observation_during_the_period_is_not_evidence_of_its_close():
    result = assess(CONTROL, DAY, ManifestIndex([observation(DAY.end - timedelta(hours=1))]))
    assert not result.complete
    assert "okta.users: not observed between 2025-10-02T00:00:00+00:00 and 2025-10-02T06:00:00+00:00" in result.reason
    assert "latest earlier observation 2025-10-01T23:00:00+00:00" in result.reason


def test_a_failed_observation_names_its_error():
    result = assess(CONTROL, DAY, ManifestIndex([observation(DAY.end + timedelta(hours=1), ExtractStatus.FAILED)]))
    assert not result.complete and "was failed (SourceError: down)" in result.reason


def test_the_fingerprint_changes_with_the_evidence():
    a = assess(CONTROL, DAY, ManifestIndex([observation(DAY.end + timedelta(hours=1), name="a")]))
    b = assess(CONTROL, DAY, ManifestIndex([observation(DAY.end + timedelta(hours=1), name="b")]))
    assert a.fingerprint != b.fingerprint


def test_reading_manifests_by_interval_leaves_out_only_those_named_outside_it(tmp_path):
    """The planner reads the manifests overlapping its periods, told by the file name; a file
    not named by our writer is read rather than missed."""
    from ccm.lake import Lake
    from ccm.manifests import read_manifests, write_manifest
    from ccm.sources.registry import get_dataset

    lake = Lake(str(tmp_path))
    for day in (1, 2, 5):
        write_manifest(lake, observation(datetime(2025, 10, day, tzinfo=UTC), name=f"day{day}"))
    lake.write_bytes("manifests/okta/users/hand-written.json",
                     observation(datetime(2025, 10, 9, tzinfo=UTC), name="odd").to_json().encode())
    window = (datetime(2025, 10, 2, tzinfo=UTC), datetime(2025, 10, 3, tzinfo=UTC))
    read = read_manifests(lake, get_dataset("okta.users"), window)
    assert [m.extract_id for m in read] == ["day2", "odd"]  # day1's interval ends 10-01, day5's starts 10-04
    assert len(read_manifests(lake, get_dataset("okta.users"))) == 4
