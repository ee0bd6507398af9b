"""The answer key: what every control should conclude for every period of the window.

Computed by the oracles (`ccm_demo.oracles`) from the simulated world directly, never
from the API, the lake or the warehouse, so it is an independent check of the whole
pipeline. Rows: (control_id, period_start, entity_id, expected_status); the row with an
empty entity_id is the control-period's status, the others name each failing or
excepted entity. The pipeline never reads this file.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ccm.constants import Status
from ccm.periods import Period, periods_closing_in
from ccm_demo.oracles import WorldView, all_oracles
from ccm_demo.spec import ANSWER_KEY_FILE


@dataclass(frozen=True)
class Expected:
    control_id: str
    period: Period
    status: Status
    failing: tuple[str, ...] = ()
    excepted: tuple[str, ...] = ()


def expected_results(view: WorldView) -> list[Expected]:
    results = []
    for control_id, oracle in sorted(all_oracles().items()):
        for period in periods_closing_in(view.spec.window_start, view.spec.window_end, oracle.frequency):
            failing = oracle.judge(view, period)
            if failing is None:
                results.append(Expected(control_id, period, Status.NOT_TESTED))
                continue
            failing = sorted(set(failing))
            excepted = tuple(e for e in failing if any(x.covers(control_id, e, period) for x in view.exceptions))
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
        writer.writerow(["control_id", "period_start", "entity_id", "expected_status"])
        for result in results:
            writer.writerow([result.control_id, result.period.label, "", result.status.value])
            for entity in result.failing:
                status = Status.EXCEPTED if entity in result.excepted else Status.FAIL
                writer.writerow([result.control_id, result.period.label, entity, status.value])
    return path


def read_answer_key(demo_dir: Path) -> dict[tuple[str, str], dict]:
    """{(control_id, period_label): {"status": ..., "failing": set, "excepted": set}}"""
    key: dict[tuple[str, str], dict] = {}
    with open(Path(demo_dir) / ANSWER_KEY_FILE, newline="") as handle:
        for row in csv.DictReader(handle):
            slot = key.setdefault((row["control_id"], row["period_start"]),
                                  {"status": None, "failing": set(), "excepted": set()})
            if not row["entity_id"]:
                slot["status"] = row["expected_status"]
            else:
                slot["failing"].add(row["entity_id"])
                if row["expected_status"] == Status.EXCEPTED:
                    slot["excepted"].add(row["entity_id"])
    return key
