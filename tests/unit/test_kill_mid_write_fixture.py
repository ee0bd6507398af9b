"""The test-only sitecustomize that kills an `evaluate` attempt mid-write fires once, where meant."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from tests.conftest import PROJECT_DIR

FIXTURE = PROJECT_DIR / "tests" / "fixtures" / "kill_mid_write"
SCRIPT = """
import sys
from ccm.evidence.store import EvidenceStore
store = EvidenceStore(sys.argv[1])
store.put("populations/a/2025-10-03/1.parquet", b"p")
store.put("evaluations/a/2025-10-03/v001-1.json", b"{}")
store.put("ledger/entries/000001.json", b"{}")
store.put("populations/b/2025-10-03/2.parquet", b"p")
store.put("evaluations/b/2025-10-03/v001-2.json", b"{}")
print("survived")
"""


def _run(tmp_path, store, try_number: str, task_id: str = "evaluate") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CCM_"))}
    env |= {"PYTHONPATH": str(FIXTURE), "CCM_TEST_KILL_MID_WRITE": str(tmp_path), "CCM_TEST_KILL_PERIOD": "2025-10-03",
            "AIRFLOW_CTX_TASK_ID": task_id, "AIRFLOW_CTX_TRY_NUMBER": try_number, "AIRFLOW_CTX_DAG_RUN_ID": "r"}
    return subprocess.run([sys.executable, "-c", SCRIPT, str(store)], env=env, capture_output=True, text=True,
                          timeout=120)


def test_the_first_evaluate_try_dies_before_its_second_record_and_only_once(tmp_path):
    assert "survived" in _run(tmp_path, tmp_path / "other-task", "1", task_id="transform").stdout
    assert "survived" in _run(tmp_path, tmp_path / "retry", "2").stdout
    assert not (tmp_path / "killed.json").exists()
    killed = _run(tmp_path, tmp_path / "first", "1")
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    marker = json.loads((tmp_path / "killed.json").read_text())
    assert marker["about_to_write"] == "evaluations/b/2025-10-03/v001-2.json" and marker["try_number"] == "1"
    assert marker["written_before"][-1] == "populations/b/2025-10-03/2.parquet"
    assert not (tmp_path / "first" / "evaluations" / "b").exists()
    assert (tmp_path / "first" / "evaluations" / "a" / "2025-10-03" / "v001-1.json").is_file()
    assert "survived" in _run(tmp_path, tmp_path / "again", "1").stdout  # the marker: once across all processes
