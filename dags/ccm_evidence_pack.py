"""
### The auditor's evidence pack, on demand

Trigger with the observation window (`window_from`, `window_to`, inclusive UTC dates) for
a Type II pack, or with `as_of` for a Type I pack (control design and one day's results).

1. **record_run_history** reads the Airflow run history of the window (DAG runs and every
   task try) from the metadata DB (`CCM_AIRFLOW_DB_URL`) and copies it into the write-once
   evidence store, entered in the ledger: the metadata DB can be cleared, the copy cannot.
2. **seal_ledger** closes a signed-off digest over the ledger entries appended since the
   last digest (signed when `CCM_LEDGER_HMAC_KEY` or `CCM_LEDGER_SIGNING_KEY` is set), so
   every evaluation in the pack is sealed. It shares the one-slot `ccm_warehouse` pool
   with `evaluate`, so it never seals while evaluations are being appended.
3. **build_pack** verifies the evidence store (ledger chain, digests, every record and
   artefact), exports the Airflow run history for the window from the metadata DB
   (`CCM_AIRFLOW_DB_URL`), and writes the pack (HTML index, populations, Data Docs, run
   history, ledger verification, OSCAL assessment results, SHA256SUMS) and its zip under
   `out_dir` (default `<CCM_DATA_DIR>/packs`).
4. **evidence_verified** fails the run, without retrying, if verification found anything:
   the pack is still written, and its `ledger/verification.html` names every finding.

See `docs/auditor-guide.md` for what the auditor does with the pack.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import Param, dag, task

from ccm.airflow_support import WAREHOUSE_POOL, default_args

START_DATE = pendulum.parse(os.environ.get("CCM_START_DATE", "2025-10-01"), tz="UTC")


def _window(params: dict) -> tuple:
    from datetime import date, timedelta

    from ccm.periods import as_utc

    if params.get("as_of"):
        start = as_utc(date.fromisoformat(params["as_of"]))
        return start, start + timedelta(days=1)
    if not (params.get("window_from") and params.get("window_to")):
        raise ValueError("give window_from and window_to (Type II) or as_of (Type I)")
    return (as_utc(date.fromisoformat(params["window_from"])),
            as_utc(date.fromisoformat(params["window_to"])) + timedelta(days=1))


@task(pool=WAREHOUSE_POOL)
def record_run_history(**context) -> dict:
    from ccm import clock
    from ccm.config import Settings
    from ccm.evidence.history import default_db_url, read_history, record_history
    from ccm.evidence.store import EvidenceStore

    settings = Settings.from_env()
    db_url = default_db_url(settings.data_dir)
    if not db_url:
        raise ValueError("no Airflow metadata DB URL: set CCM_AIRFLOW_DB_URL")
    start, end = _window(context["params"])
    history = read_history(db_url, start, end)
    store = EvidenceStore(settings.evidence_uri, settings.s3_endpoint_url, settings.evidence_retention_days)
    key, seq = record_history(store, history, clock.now().isoformat())
    return {"path": key, "ledger_seq": seq, **history.summary()}


@task(pool=WAREHOUSE_POOL)
def seal_ledger(**context) -> dict:
    from ccm import clock
    from ccm.config import Settings
    from ccm.evidence.ledger import Ledger
    from ccm.evidence.records import actor
    from ccm.evidence.signing import signer_from_env
    from ccm.evidence.store import EvidenceStore

    settings = Settings.from_env()
    ti = context["ti"]
    store = EvidenceStore(settings.evidence_uri, settings.s3_endpoint_url, settings.evidence_retention_days)
    digest = Ledger(store).seal({"actor": actor(), "dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id,
                                 "try_number": ti.try_number}, clock.now().isoformat(), signer_from_env())
    return {"digest_seq": digest.digest_seq, "entries": [digest.from_seq, digest.to_seq]} if digest else {}


@task
def build_pack(**context) -> dict:
    from datetime import date
    from pathlib import Path

    from ccm.config import Settings
    from ccm.evidence.pack import build_pack as build

    params = context["params"]
    settings = Settings.from_env()

    def day(name: str) -> date | None:
        return date.fromisoformat(params[name]) if params.get(name) else None

    out_dir = Path(params.get("out_dir") or settings.data_dir / "packs")
    result = build(settings, out_dir, day("window_from"), day("window_to"), day("as_of"),
                   sample_seed=int(params.get("sample_seed") or 1),
                   organisation=params.get("organisation") or "the service organisation")
    return {**result.summary, "directory": str(result.directory), "zip": str(result.zip_path)}


@task
def evidence_verified(summary: dict) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    if not summary["verification_ok"]:
        raise AirflowFailException("evidence verification found: " + "; ".join(summary["findings"]))


@dag(
    dag_id="ccm_evidence_pack",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["ccm", "soc2", "evidence"],
    doc_md=__doc__,
    params={
        "window_from": Param(None, type=["null", "string"], format="date",
                             description="first day of the observation window (Type II)"),
        "window_to": Param(None, type=["null", "string"], format="date",
                           description="last day of the observation window, inclusive (Type II)"),
        "as_of": Param(None, type=["null", "string"], format="date",
                       description="Type I instead: control design and this day's results"),
        "out_dir": Param(None, type=["null", "string"], description="default: <CCM_DATA_DIR>/packs"),
        "sample_seed": Param(1, type="integer", description="seed of the sample drawn for each control"),
        "organisation": Param("the service organisation", type="string", description="for the OSCAL metadata"),
    },
)
def ccm_evidence_pack():
    recorded = record_run_history()
    sealed = seal_ledger()
    summary = build_pack()
    recorded >> sealed >> summary
    evidence_verified(summary)


ccm_evidence_pack()
