"""The real thing: a scheduler on PostgreSQL backfills two weeks of the demo window.

The results must equal those of the in-process path over the same days (and the answer
key), the run history must be in the metadata database, and no credential used by the
run may appear in task logs, the lake or the evidence store.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from ccm.config import Settings
from ccm.demo.answer_key import read_answer_key
from ccm.demo.verify import run_window
from ccm.report import current_results
from tests.integration.production.conftest import SCHEDULER_DAYS, SCHEDULER_SPEC

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def _results(settings: Settings) -> dict[tuple[str, str], tuple[str, tuple[str, ...]]]:
    return {(r["control_id"], r["period_start"].strftime("%Y-%m-%d")): (r["status"], tuple(r["failing_entity_ids"] or []))
            for r in current_results(settings)}


@pytest.fixture(scope="module")
def backfilled(airflow_deployment):
    deployment = airflow_deployment
    deployment.airflow("dags", "unpause", "ccm_controls")
    last = SCHEDULER_SPEC.window_start + timedelta(days=SCHEDULER_DAYS - 1)
    # one run at a time: the demo's simulated clock (and the DuckDB writer) are shared by all runs
    deployment.airflow("backfill", "create", "--dag-id", "ccm_controls", "--max-active-runs", "1",
                       "--from-date", SCHEDULER_SPEC.window_start.strftime("%Y-%m-%d"),
                       "--to-date", last.strftime("%Y-%m-%d"))

    def finished():
        rows = deployment.query("select state from dag_run where dag_id = 'ccm_controls'")
        done = [r for r in rows if r[0] in ("success", "failed")]
        return rows if len(rows) >= SCHEDULER_DAYS and len(done) == len(rows) else None

    deployment.wait_for(finished, timeout=1500, what=f"{SCHEDULER_DAYS} backfilled runs to finish", interval=5)
    return deployment


def test_the_backfill_ran_every_day_through_the_scheduler(backfilled):
    runs = backfilled.query(
        "select data_interval_start, data_interval_end, run_type, state from dag_run "
        "where dag_id = 'ccm_controls' order by data_interval_start")
    starts = [r[0].date() for r in runs]
    expected = [(SCHEDULER_SPEC.window_start + timedelta(days=d)).date() for d in range(SCHEDULER_DAYS)]
    assert starts == expected
    assert all(r[1] - r[0] == timedelta(days=1) for r in runs)
    assert {r[2] for r in runs} == {"backfill"}
    tries = backfilled.query("select count(*) from task_instance where dag_id = 'ccm_controls' and try_number >= 1")
    assert tries[0][0] >= SCHEDULER_DAYS * 9  # clock, 3 extracts, plan, transform, evaluate, publish, checks


def test_results_equal_the_in_process_run_and_the_answer_key(backfilled, tmp_path):
    matrix = backfilled.env["CCM_CONTROLS"]
    scheduled = _results(Settings.from_env({"CCM_DATA_DIR": str(backfilled.data_dir), "CCM_CONTROLS": matrix,
                                            "CCM_EXCEPTIONS": str(backfilled.demo_dir / "exceptions.yml")}))
    in_process_settings = Settings.from_env({"CCM_DATA_DIR": str(tmp_path / "var"), "CCM_CONTROLS": matrix,
                                             "CCM_EXCEPTIONS": str(backfilled.demo_dir / "exceptions.yml")})
    run_window(in_process_settings, backfilled.demo_dir, SCHEDULER_DAYS)
    in_process = _results(in_process_settings)
    assert scheduled == in_process
    key = read_answer_key(backfilled.demo_dir)
    for (control_id, period), (status, failing) in scheduled.items():
        assert status == key[(control_id, period)]["status"], (control_id, period)
        assert set(failing) == key[(control_id, period)]["failing"], (control_id, period)
    assert {"pass", "fail", "not_tested"} <= {s for s, _ in scheduled.values()}


def test_no_credential_reaches_logs_lake_or_evidence(backfilled):
    secrets = set()
    for name, value in backfilled.env.items():
        if name.startswith("AIRFLOW_CONN_"):
            document = json.loads(value)
            secrets |= {document.get("password")} - {None, ""}
    assert secrets
    roots = [backfilled.home / "logs", backfilled.data_dir / "lake", backfilled.data_dir / "evidence"]
    scanned = 0
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                scanned += 1
                for secret in secrets:
                    assert secret.encode() not in data, f"{secret[:4]}… found in {path}"
    assert scanned > 50
