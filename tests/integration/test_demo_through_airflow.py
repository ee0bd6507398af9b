"""The DAG, run day by day through Airflow (dag.test on SQLite), concludes what the demo implies."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ccm.config import Settings
from ccm.report import current_results
from ccm_demo.answer_key import read_answer_key
from ccm_demo.runner import demo_env
from ccm_demo.verify import compare_with_answer_key
from tests.conftest import PROJECT_DIR

pytestmark = pytest.mark.integration

DAYS = 4
SMOKE = PROJECT_DIR / "tests" / "fixtures" / "controls" / "smoke.yml"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("airflow-demo") / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CCM_"))}
    env["CCM_DATA_DIR"] = str(data_dir)
    # a few controls over HTTP, S3 and late-arriving events: the whole matrix is the answer-key tests' job
    env["CCM_CONTROLS"] = str(SMOKE)
    ccm = str(Path(sys.executable).with_name("ccm"))
    done = subprocess.run([ccm, "demo", "run", "--days", str(DAYS), "--employees", "40", "--window-days", "10"],
                          env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return data_dir, done.stdout


def test_results_match_the_answer_key_including_a_fail_and_a_not_tested_day(demo_run):
    data_dir, _ = demo_run
    key = read_answer_key(data_dir / "demo")
    settings = Settings.from_env({"CCM_DATA_DIR": str(data_dir), "CCM_CONTROLS": str(SMOKE)})
    results = {(r["control_id"], r["period_start"].strftime("%Y-%m-%d")): r for r in current_results(settings)}
    compared, mismatches = compare_with_answer_key(settings, data_dir / "demo", DAYS)
    assert mismatches == [] and compared == len(results) == DAYS * 3
    statuses = set()
    for (control_id, period), row in results.items():
        expected = key[(control_id, period)]
        assert row["status"] == expected["status"], (control_id, period, row["reason"])
        assert set(row["failing_entity_ids"] or []) == expected["failing"], (control_id, period)
        statuses.add(row["status"])
    assert {"pass", "fail", "not_tested"} <= statuses
    okta_not_tested = [r for r in results.values() if r["status"] == "not_tested" and r["control_id"] == "iam_okta_mfa"]
    assert okta_not_tested and all("okta.users" in r["reason"] and "HTTP 503" in r["reason"] for r in okta_not_tested)


def test_the_run_history_is_in_airflows_database(demo_run):
    data_dir, _ = demo_run
    with sqlite3.connect(data_dir / "airflow" / "airflow.db") as db:
        runs = db.execute("select data_interval_start, state from dag_run where dag_id = 'ccm_controls' "
                          "order by data_interval_start").fetchall()
        tries = db.execute("select count(*) from task_instance where dag_id = 'ccm_controls'").fetchone()[0]
    days = [r[0][:10] for r in runs]
    assert days == ["2025-10-01", "2025-10-02", "2025-10-03", "2025-10-04"]
    # a day whose data could not be extracted completely (an API outage, an undelivered
    # CloudTrail file: the answer key's not_tested days) fails its run loudly, after its
    # evidence was recorded; every other day succeeds
    key = read_answer_key(data_dir / "demo")
    broken = {period for (_, period), expected in key.items() if expected["status"] == "not_tested"}
    assert [r[1] for r in runs] == ["failed" if day in broken else "success" for day in days]
    assert {"failed", "success"} == {r[1] for r in runs}
    assert tries >= DAYS * 8


def test_every_result_links_to_its_evidence(demo_run):
    data_dir, stdout = demo_run
    settings = Settings.from_env({"CCM_DATA_DIR": str(data_dir), "CCM_CONTROLS": str(SMOKE)})
    evidence = Path(settings.evidence_uri)
    for row in current_results(settings):
        assert (evidence / row["evidence_path"]).is_file()
        if row["status"] != "not_tested":
            assert (evidence / row["data_docs_path"]).is_file()
            assert (evidence / row["population_path"]).is_file()
    index = (data_dir / "reports" / "index.html").read_text()
    fails = sum(1 for row in current_results(settings) if row["status"] == "fail")
    assert fails >= 2 and index.count('<td><span class="status fail">') == fails and "Data Docs" in index
    assert "status index:" in stdout and "GX Data Docs:" in stdout


def _ccm_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CCM_"))}
    return env | {"CCM_DATA_DIR": str(data_dir), "CCM_CONTROLS": str(SMOKE),
                  "CCM_EXCEPTIONS": str(data_dir / "demo" / "exceptions.yml"), "COLUMNS": "400"}


def _ccm(*args: str, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    ccm = str(Path(sys.executable).with_name("ccm"))
    return subprocess.run([ccm, *args], env=env, capture_output=True, text=True, timeout=timeout)


def test_the_evidence_the_airflow_tasks_wrote_verifies_and_a_changed_byte_is_named(demo_run, tmp_path):
    data_dir, _ = demo_run
    env = _ccm_env(data_dir)
    done = _ccm("evidence", "verify", env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "UNSIGNED: the chain is internally consistent" in done.stdout
    evidence = Path(Settings.from_env(env).evidence_uri)
    copy = tmp_path / "evidence"
    shutil.copytree(evidence, copy)
    records = sorted(p for p in (copy / "evaluations").rglob("*.json"))
    assert len(records) >= DAYS * 3
    changed = records[len(records) // 2]
    data = bytearray(changed.read_bytes())
    # one digit of the record changes (the JSON stays well-formed): only its SHA-256 gives it away
    at = max(i for i, b in enumerate(data) if chr(b).isdigit())
    data[at] = ord("1") if data[at] != ord("1") else ord("2")
    changed.write_bytes(bytes(data))
    tampered = _ccm("evidence", "verify", "--store", str(copy), env=env)
    assert tampered.returncode == 1, tampered.stdout[-3000:] + tampered.stderr[-3000:]
    assert changed.relative_to(copy).as_posix() in tampered.stdout, tampered.stdout[-3000:]
    assert "OK: nothing" not in tampered.stdout


@pytest.fixture(scope="module")
def evidence_pack_run(demo_run):
    """The `ccm_evidence_pack` DAG over the demo's window, through Airflow (`airflow dags test`,
    the demo's Airflow home and SQLite metadata DB)."""
    data_dir, _ = demo_run
    settings = Settings.from_env({"CCM_DATA_DIR": str(data_dir), "CCM_CONTROLS": str(SMOKE)})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CCM_"))}
    env |= demo_env(settings, data_dir / "demo")
    env |= {"CCM_CONTROLS": str(SMOKE), "CCM_AIRFLOW_DB_URL": env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"],
            "CCM_TASK_RETRIES": "0"}
    airflow = str(Path(sys.executable).with_name("airflow"))
    conf = json.dumps({"window_from": "2025-10-01", "window_to": f"2025-10-{DAYS:02d}"})
    done = subprocess.run([airflow, "dags", "test", "ccm_evidence_pack", f"2025-10-{DAYS + 1:02d}", "-c", conf],
                          env=env, capture_output=True, text=True, timeout=900)
    with sqlite3.connect(data_dir / "airflow" / "airflow.db") as db:
        runs = db.execute("select run_id, state from dag_run where dag_id = 'ccm_evidence_pack'").fetchall()
        tasks = dict(db.execute("select task_id, state from task_instance where dag_id = 'ccm_evidence_pack'")
                     .fetchall())
    return data_dir, done, runs, tasks


def test_the_evidence_pack_dag_runs_through_airflow_and_its_pack_verifies_on_its_own(evidence_pack_run):
    data_dir, done, runs, tasks = evidence_pack_run
    output = done.stdout[-4000:] + done.stderr[-4000:]
    assert done.returncode == 0, output
    assert [state for _, state in runs] == ["success"], (runs, output)
    assert tasks == {"record_run_history": "success", "seal_ledger": "success", "build_pack": "success",
                     "evidence_verified": "success"}, (tasks, output)
    packs = [p for p in (data_dir / "packs").iterdir() if p.is_dir() and not p.is_symlink()]
    assert len(packs) == 1, packs
    pack = packs[0]
    assert (data_dir / "packs" / "latest").resolve() == pack.resolve()
    assert (pack / "index.html").is_file() and (pack / "SHA256SUMS").is_file()
    assert (data_dir / "packs" / f"{pack.name}.zip").is_file(), list((data_dir / "packs").iterdir())
    own = _ccm("evidence", "verify", "--store", str(pack / "evidence"), "--from", "2025-10-01",
               "--to", f"2025-10-{DAYS:02d}", env=_ccm_env(data_dir))
    assert own.returncode == 0, own.stdout[-3000:] + own.stderr[-3000:]
    assert "UNSIGNED: the chain is internally consistent" in own.stdout
