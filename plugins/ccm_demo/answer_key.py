"""The answer key: what every control should conclude for every period of the window.

Computed by the oracles (`ccm_demo.oracles`) from the simulated world directly, never
from the API, the lake or the warehouse, so it is an independent check of the whole
pipeline; which periods exist and which exceptions apply are decided by the key's own
rules (`ccm_demo.key_rules`), not the engine's. Rows: (control_id, period_start,
entity_id, expected_status, exception_id); the row with an empty entity_id is the
control-period's status, the others name each failing or excepted entity, an excepted
one with the exception that covers it. The pipeline never reads this file.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from ccm.constants import Status
from ccm.periods import Period
from ccm_demo.key_rules import covering_exception, key_periods
from ccm_demo.oracles import WorldView, all_oracles
from ccm_demo.spec import ANSWER_KEY_FILE

KEY_COLUMNS = ["control_id", "period_start", "entity_id", "expected_status", "exception_id"]


@dataclass(frozen=True)
class Expected:
    control_id: str
    period: Period
    status: Status
    failing: tuple[str, ...] = ()
    excepted: dict[str, str] = field(default_factory=dict)  # entity_id -> exception_id


def expected_results(view: WorldView) -> list[Expected]:
    results = []
    first_day, end_day = view.spec.window_start.date(), view.spec.window_end.date()
    for control_id, oracle in sorted(all_oracles().items()):
        for period in key_periods(first_day, end_day, oracle.frequency.value):
            failing = oracle.judge(view, period)
            if failing is None:
                results.append(Expected(control_id, period, Status.NOT_TESTED))
                continue
            failing = sorted(set(failing))
            excepted = {e: x for e in failing
                        if (x := covering_exception(view.exceptions, control_id, e, period)) is not None}
            if not failing:
                status = Status.PASS
            elif len(excepted) == len(failing):
                status = Status.EXCEPTED
            else:
                status = Status.FAIL
            results.append(Expected(control_id, period, status, tuple(failing), excepted))
    return results


def write_answer_key(demo_dir: Path, results: list[Expected]) -> Path:
    path = Path(demo_dir) / ANSWER_KEY_FILE
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(KEY_COLUMNS)
        for result in results:
            writer.writerow([result.control_id, result.period.label, "", result.status.value, ""])
            for entity in result.failing:
                exception_id = result.excepted.get(entity, "")
                status = Status.EXCEPTED if exception_id else Status.FAIL
                writer.writerow([result.control_id, result.period.label, entity, status.value, exception_id])
    return path


def read_answer_key(demo_dir: Path) -> dict[tuple[str, str], dict]:
    """{(control_id, period_label): {"status": ..., "failing": set, "excepted": {entity: exception_id}}}"""
    key: dict[tuple[str, str], dict] = {}
    with open(Path(demo_dir) / ANSWER_KEY_FILE, newline="") as handle:
        for row in csv.DictReader(handle):
            slot = key.setdefault((row["control_id"], row["period_start"]),
                                  {"status": None, "failing": set(), "excepted": {}})
            if not row["entity_id"]:
                slot["status"] = row["expected_status"]
            else:
                slot["failing"].add(row["entity_id"])
                if row["expected_status"] == Status.EXCEPTED:
                    slot["excepted"][row["entity_id"]] = row["exception_id"]
    return key
