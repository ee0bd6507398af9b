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
from tests.integration.production.conftest import KILLED_PERIOD, SCHEDULER_DAYS, SCHEDULER_SPEC

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


def test_an_evaluate_killed_mid_write_is_retried_and_the_evidence_verifies(backfilled):
    """One `evaluate` attempt died (SIGKILL) between two controls' evidence (the first's record and
    ledger entry written, the second's population written, its record not, no digest sealed);
    Airflow retried it, and `ccm evidence verify` finds nothing wrong with what the tasks wrote."""
    marker = Path(backfilled.env["CCM_TEST_KILL_MID_WRITE"]) / "killed.json"
    assert marker.is_file(), "the evaluate attempt was never killed"
    killed = json.loads(marker.read_text())
    assert killed["try_number"] == "1" and f"/{KILLED_PERIOD}/" in killed["about_to_write"]
    assert any(k.startswith("evaluations/") for k in killed["written_before"])
    rows = backfilled.query(
        "select ti.try_number, ti.state from task_instance ti join dag_run dr "
        "on dr.dag_id = ti.dag_id and dr.run_id = ti.run_id "
        "where ti.dag_id = 'ccm_controls' and ti.task_id = 'evaluate' and ti.run_id = %s "
        "and dr.data_interval_start::date = %s", (killed["dag_run_id"], KILLED_PERIOD))
    assert len(rows) == 1 and rows[0][0] >= 2 and rows[0][1] == "success", rows
    settings = Settings.from_env({"CCM_DATA_DIR": str(backfilled.data_dir), "CCM_CONTROLS": backfilled.env["CCM_CONTROLS"],
                                  "CCM_EXCEPTIONS": str(backfilled.demo_dir / "exceptions.yml")})
    # the killed try's one record stays, superseded by the retry's, which recorded every control of the day
    evidence = Path(settings.evidence_uri)
    tries: dict[int, set[str]] = {}
    for path in sorted(evidence.glob(f"evaluations/*/{KILLED_PERIOD}/*.json")):
        record = json.loads(path.read_text())
        if record["run"]["run_id"] == killed["dag_run_id"]:
            tries.setdefault(record["run"]["try_number"], set()).add(path.relative_to(evidence).as_posix())
    assert tries.get(1) == {k for k in killed["written_before"] if k.startswith("evaluations/")}, tries
    assert len(tries.get(rows[0][0], ())) == 3 and set(tries) == {1, rows[0][0]}, tries
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CCM_"))}
    env |= {"CCM_DATA_DIR": str(backfilled.data_dir), "CCM_CONTROLS": backfilled.env["CCM_CONTROLS"],
            "CCM_EXCEPTIONS": str(backfilled.demo_dir / "exceptions.yml"), "COLUMNS": "400"}
    ccm = str(Path(sys.executable).with_name("ccm"))
    done = subprocess.run([ccm, "evidence", "verify"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-3000:]
    assert "UNSIGNED: the chain is internally consistent" in done.stdout


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
