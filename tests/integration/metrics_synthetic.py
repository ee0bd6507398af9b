"""A synthetic control environment for the metrics tests: any number of controls at every
frequency, mapped to many criteria, with results, re-evaluations, exceptions and extract
manifests, written where the pipeline would write them. Deterministic for a seed."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import yaml

from ccm.config import Settings
from ccm.constants import DatasetKind, ExtractStatus
from ccm.controls.catalog import load_catalog
from ccm.lake import Lake
from ccm.manifests import ExtractManifest, RunContext, write_manifest
from ccm.periods import next_period_start, period_start_for
from ccm.warehouse import connect, ensure_schema

DOMAINS = ("iam", "inf", "mon", "chg", "avl", "org")
FREQUENCIES = ("daily", "daily", "daily", "weekly", "monthly", "quarterly", "annual")
CRITERIA = ("CC1.1", "CC2.1", "CC3.2", "CC4.1", "CC5.2", "CC6.1", "CC6.2", "CC6.3", "CC6.6", "CC7.1", "CC7.2",
            "CC8.1", "CC9.2", "A1.2", "C1.1")
START = datetime(2025, 1, 1, tzinfo=UTC)


def write_matrix(path: Path, controls: int, seed: int = 7) -> Path:
    rng = random.Random(f"{seed}-matrix")
    entries = []
    for index in range(controls):
        domain = DOMAINS[index % len(DOMAINS)]
        entries.append({
            "control_id": f"{domain}_synthetic_{index:02d}",
            "title": f"Synthetic control {index} ({domain})",
            "description": "A control of the synthetic test matrix.",
            "criteria": sorted(rng.sample(CRITERIA, 1 + (index % 2))),
            "owner": "Test",
            "frequency": FREQUENCIES[index % len(FREQUENCIES)] if controls > 1 else "daily",
            "sources": [{"dataset": "okta.users", "freshness": "6h"}],
        })
    path.write_text(yaml.safe_dump({"controls": entries}, sort_keys=False))
    return path


def write_exceptions(path: Path, as_of: datetime, control_ids: list[str]) -> Path:
    day = as_of.date()
    exceptions = [
        {"exception_id": "EXC-9001", "control_id": control_ids[0], "entity_id": "user-1", "reason": "Lost token",
         "approved_by": "CISO", "approved_on": (day - timedelta(days=20)).isoformat(), "ticket": "SEC-1",
         "expires_on": (day + timedelta(days=5)).isoformat()},
        {"exception_id": "EXC-9002", "control_id": control_ids[-1], "entity_id": "user-2", "reason": "Vendor access",
         "approved_by": "CTO", "approved_on": (day - timedelta(days=3)).isoformat(), "ticket": "SEC-2",
         "expires_on": (day + timedelta(days=90)).isoformat()},
        {"exception_id": "EXC-9003", "control_id": control_ids[0], "entity_id": "user-3", "reason": "Expired one",
         "approved_by": "CISO", "approved_on": (day - timedelta(days=60)).isoformat(), "ticket": "SEC-3",
         "expires_on": (day - timedelta(days=10)).isoformat()},
    ]
    path.write_text(yaml.safe_dump({"exceptions": exceptions}, sort_keys=False))
    return path


def write_results(settings: Settings, days: int, seed: int = 7) -> int:
    """Current and superseded results for every control-period closing within `days` of START."""
    catalog = load_catalog(settings.controls_path)
    rng = random.Random(f"{seed}-results")
    end = START + timedelta(days=days)
    rows = []
    for control in catalog:
        start = period_start_for(START, control.frequency)
        while (period_end := next_period_start(start, control.frequency)) <= end:
            status = rng.choices(("pass", "fail", "excepted", "not_tested"), (80, 10, 5, 5))[0]
            versions = [status] if rng.random() > 0.05 else ["not_tested", status]  # late data: a second version
            for version, current in enumerate(versions, start=1):
                failing = sorted(rng.sample(["user-1", "user-2", "user-3", "user-4"], rng.randint(1, 2))) \
                    if current in ("fail", "excepted") else []
                excepted = failing if current == "excepted" else []
                rows.append([
                    uuid.uuid4().hex, control.control_id, start, period_end, version, current,
                    None if current == "not_tested" else 40, len(failing), len(excepted), failing, excepted,
                    [f"EXC-{e}" for e in excepted], "synthetic" if current != "pass" else None,
                    None, None if current == "not_tested" else f"gx/docs/{control.control_id}/{start:%Y-%m-%d}.html",
                    None, None, "fp", f"evaluations/{control.control_id}/{start:%Y-%m-%d}/v{version:03d}.json",
                    len(rows) + 1, period_end + timedelta(hours=2), "ccm_controls", f"scheduled__{period_end:%Y-%m-%d}", 1,
                ])
            start = period_end
    with connect(settings.warehouse_path) as con:
        ensure_schema(con)
        names = [r[0] for r in con.execute("select column_name from information_schema.columns where "
                                           "table_schema = 'ccm' and table_name = 'control_results' "
                                           "order by ordinal_position").fetchall()]
        frame = pd.DataFrame(rows, columns=names)  # one bulk insert: executemany is row by row
        con.register("synthetic_results", frame)
        con.execute("insert into ccm.control_results select * from synthetic_results")
        con.unregister("synthetic_results")
    return len(rows)


def write_manifests(settings: Settings, days: int, failed_days: set[int]) -> int:
    """One okta.users observation per day (failed on `failed_days`) and nothing for okta.factors."""
    lake = Lake(settings.lake_uri)
    count = 0
    for offset in range(days):
        day = START + timedelta(days=offset)
        observed = day + timedelta(days=1, hours=1, minutes=30)
        failed = offset in failed_days
        manifest = ExtractManifest(
            extract_id=uuid.uuid4().hex[:12], source="okta", dataset="users", kind=DatasetKind.SNAPSHOT,
            interval_start=day, interval_end=day + timedelta(days=1),
            status=ExtractStatus.FAILED if failed else ExtractStatus.COMPLETE,
            started_at=observed, finished_at=observed + timedelta(seconds=3),
            observed_at=None if failed else observed, rows_written=0 if failed else 40, pages=1,
            error="SourceError: HTTP 503" if failed else None, run=RunContext("ccm_controls", f"r{offset}"),
        )
        write_manifest(lake, manifest)
        count += 1
    return count


def as_of_for(days: int) -> datetime:
    """The publish moment of the run that closes day `days` (the demo's 01:30 observation)."""
    return START + timedelta(days=days, hours=1, minutes=30)


def first_day() -> date:
    return START.date()
