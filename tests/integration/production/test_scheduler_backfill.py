"""The real thing: a scheduler on PostgreSQL backfills two weeks of the demo window.

The results must equal those of the in-process path over the same days (and the answer
key), the run history must be in the metadata database, and no credential used by the
run may appear in task logs, the lake or the evidence store.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from ccm.config import Settings
from ccm.report import current_results
from ccm_demo.answer_key import read_answer_key
from tests.integration.production.conftest import SCHEDULER_DAYS, SCHEDULER_SPEC

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def _results(settings: Settings) -> dict[tuple[str, str], tuple[str, tuple[str, ...]]]:
    return {(r["control_id"], r["period_start"].strftime("%Y-%m-%d")): (r["status"], tuple(r["failing_entity_ids"] or []))
            for r in current_results(settings)}


@pytest.fixture(scope="module")
def in_process(airflow_deployment, tmp_path_factory):
    """The same days through the in-process path (`ccm demo verify`, its own copy of the same
    demo company and stand-ins), started now so it runs while the scheduler backfills."""
    data_dir = tmp_path_factory.mktemp("in-process") / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CCM_"))}
    env |= {"CCM_DATA_DIR": str(data_dir), "CCM_CONTROLS": airflow_deployment.env["CCM_CONTROLS"]}
    ccm = str(Path(sys.executable).with_name("ccm"))
    spec = SCHEDULER_SPEC
    log = open(data_dir.parent / "verify.log", "w")  # noqa: SIM115 - closed below
    child = subprocess.Popen([ccm, "demo", "verify", "--days", str(SCHEDULER_DAYS), "--seed", str(spec.seed),
                              "--employees", str(spec.employees), "--window-days", str(spec.days)],
                             env=env, stdout=log, stderr=subprocess.STDOUT)
    yield child, data_dir / "verify", data_dir.parent / "verify.log"
    if child.poll() is None:
        child.kill()
    log.close()


@pytest.fixture(scope="module")
def backfilled(airflow_deployment, in_process):
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


def test_results_equal_the_in_process_run_and_the_answer_key(backfilled, in_process):
    matrix = backfilled.env["CCM_CONTROLS"]
    scheduled = _results(Settings.from_env({"CCM_DATA_DIR": str(backfilled.data_dir), "CCM_CONTROLS": matrix,
                                            "CCM_EXCEPTIONS": str(backfilled.demo_dir / "exceptions.yml")}))
    child, verify_dir, log = in_process
    # `ccm demo verify` exits 0 only if it matched the answer key itself
    assert child.wait(timeout=900) == 0, log.read_text()[-3000:]
    in_process_results = _results(Settings.from_env({
        "CCM_DATA_DIR": str(verify_dir), "CCM_CONTROLS": matrix,
        "CCM_EXCEPTIONS": str(verify_dir / "demo" / "exceptions.yml")}))
    assert len(scheduled) == SCHEDULER_DAYS * 3
    assert scheduled == in_process_results
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
