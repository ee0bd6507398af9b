"""Enumerations shared by every layer: one name per concept across the tree."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Result of one control for one period."""

    PASS = "pass"
    FAIL = "fail"
    EXCEPTED = "excepted"
    NOT_TESTED = "not_tested"


class Frequency(StrEnum):
    """Period grain of a control."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ANNUAL = "annual"


class DatasetKind(StrEnum):
    """How a dataset relates to time (docs/adr/0002-events-and-snapshots.md).

    EVENT datasets can be read for any past interval the source retains; each extract
    replaces the date partitions of its interval. SNAPSHOT datasets only show the present;
    each extract appends one observation stamped with `observed_at`.
    """

    EVENT = "event"
    SNAPSHOT = "snapshot"


class ExtractStatus(StrEnum):
    """Outcome of one extract, as written in its manifest."""

    COMPLETE = "complete"  # everything the source reported is in the lake
    INCOMPLETE = "incomplete"  # written, but records were quarantined or totals disagree
    FAILED = "failed"  # nothing written; the lake is as it was before


TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
