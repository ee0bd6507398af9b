"""Airflow run history for an observation window, read from Airflow's metadata database.

The auditor must see that the tests ran on schedule and which runs failed or were
retried. Airflow keeps that in its metadata DB: `dag_run` (one row per run, with its
data interval and state), `task_instance` (the latest try of each task) and
`task_instance_history` (every earlier try). This module reads those three tables with
plain SQL through SQLAlchemy, so it works on the embedded demo's SQLite file and on
production PostgreSQL alike, from the CLI or from a task (Airflow 3 tasks may not use
the ORM session; they get a URL, ideally of a read-only role).

The URL comes from `CCM_AIRFLOW_DB_URL`, else `AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`, else
the demo's `<data_dir>/airflow/airflow.db` when it exists.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ccm.periods import as_utc

DB_URL_ENV = "CCM_AIRFLOW_DB_URL"
DEFAULT_DAG_PREFIX = "ccm_"


@dataclass(frozen=True)
class DagRunRow:
    dag_id: str
    run_id: str
    run_type: str | None
    state: str | None
    logical_date: str | None
    data_interval_start: str | None
    data_interval_end: str | None
    queued_at: str | None
    start_date: str | None
    end_date: str | None
    triggered_by: str | None
    clear_number: int | None


@dataclass(frozen=True)
class TaskTryRow:
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int
    state: str | None
    start_date: str | None
    end_date: str | None
    duration_s: float | None
    hostname: str | None
    operator: str | None
    latest: bool  # the try in task_instance (True) or an earlier one from task_instance_history


@dataclass(frozen=True)
class RunHistory:
    source: str  # where it was read from (URL without credentials)
    window_start: str
    window_end: str
    dag_runs: list[DagRunRow]
    task_tries: list[TaskTryRow]

    def summary(self) -> dict[str, Any]:
        states: dict[str, int] = {}
        for run in self.dag_runs:
            states[run.state or "none"] = states.get(run.state or "none", 0) + 1
        retried = {(t.dag_id, t.run_id, t.task_id) for t in self.task_tries if t.try_number > 1}
        failed_tries = sum(1 for t in self.task_tries if t.state in ("failed", "up_for_retry"))
        return {"dag_runs": len(self.dag_runs), "dag_run_states": states, "task_tries": len(self.task_tries),
                "tasks_retried": len(retried), "failed_tries": failed_tries}

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "window_start": self.window_start, "window_end": self.window_end,
                "summary": self.summary(), "dag_runs": [asdict(r) for r in self.dag_runs],
                "task_tries": [asdict(t) for t in self.task_tries]}


def default_db_url(data_dir: Path, env: dict[str, str] | None = None) -> str | None:
    env = dict(os.environ if env is None else env)
    if env.get(DB_URL_ENV):
        return env[DB_URL_ENV]
    if env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
        return env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    demo_db = Path(data_dir) / "airflow" / "airflow.db"
    return f"sqlite:///{demo_db}" if demo_db.exists() else None


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return as_utc(value).isoformat()
    return as_utc(str(value).replace(" ", "T")).isoformat()


def _bind(value: datetime, dialect: str) -> Any:
    # SQLite stores Airflow's UTC timestamps as naive text 'YYYY-MM-DD HH:MM:SS.ffffff'
    return as_utc(value).strftime("%Y-%m-%d %H:%M:%S.%f") if dialect == "sqlite" else as_utc(value)


_RUN_FILTER = """
    dr.dag_id like :prefix
    and coalesce(dr.data_interval_end, dr.run_after) > :window_start
    and coalesce(dr.data_interval_start, dr.run_after) < :window_end
"""

_TRY_COLUMNS = """ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.try_number, ti.state, ti.start_date,
    ti.end_date, ti.duration, ti.hostname, ti.operator"""


def engine_url(db_url: str) -> Any:
    """The URL with a driver that is installed: SQLAlchemy 2.1 maps a bare `postgresql://` to
    psycopg 3, while Airflow deployments commonly ship psycopg2."""
    import importlib.util

    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    if url.drivername == "postgresql" and importlib.util.find_spec("psycopg") is None \
            and importlib.util.find_spec("psycopg2") is not None:
        url = url.set(drivername="postgresql+psycopg2")
    return url


def read_history(db_url: str, window_start: datetime, window_end: datetime,
                 dag_prefix: str = DEFAULT_DAG_PREFIX) -> RunHistory:
    """DAG runs whose data interval overlaps [window_start, window_end), with every task try."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(engine_url(db_url))
    dialect = engine.dialect.name
    params = {"prefix": f"{dag_prefix}%", "window_start": _bind(window_start, dialect),
              "window_end": _bind(window_end, dialect)}
    try:
        with engine.connect() as con:
            runs = con.execute(text(
                "select dr.dag_id, dr.run_id, dr.run_type, dr.state, dr.logical_date, dr.data_interval_start, "
                "dr.data_interval_end, dr.queued_at, dr.start_date, dr.end_date, dr.triggered_by, dr.clear_number "
                f"from dag_run dr where {_RUN_FILTER} order by dr.dag_id, dr.data_interval_start, dr.run_id"
            ), params).fetchall()
            tries = []
            for table, latest in (("task_instance", True), ("task_instance_history", False)):
                rows = con.execute(text(
                    f"select {_TRY_COLUMNS} from {table} ti join dag_run dr "
                    f"on dr.dag_id = ti.dag_id and dr.run_id = ti.run_id where {_RUN_FILTER}"
                ), params).fetchall()
                tries += [(row, latest) for row in rows]
    finally:
        engine.dispose()
    dag_runs = [DagRunRow(r[0], r[1], str(r[2]) if r[2] else None, r[3], _iso(r[4]), _iso(r[5]), _iso(r[6]),
                          _iso(r[7]), _iso(r[8]), _iso(r[9]), str(r[10]) if r[10] else None, r[11]) for r in runs]
    task_tries = sorted(
        (TaskTryRow(r[0], r[1], r[2], int(r[3] if r[3] is not None else -1), int(r[4] or 0), r[5], _iso(r[6]),
                    _iso(r[7]), float(r[8]) if r[8] is not None else None, r[9], r[10], latest)
         for r, latest in tries),
        key=lambda t: (t.dag_id, t.run_id, t.start_date or "", t.task_id, t.map_index, t.try_number),
    )
    source = make_url(db_url).render_as_string(hide_password=True)
    return RunHistory(source, as_utc(window_start).isoformat(), as_utc(window_end).isoformat(), dag_runs, task_tries)


HISTORY = "run-history"


def record_history(store: Any, history: RunHistory, recorded_at: str) -> tuple[str, int]:
    """Copy a run-history export into the write-once evidence store and enter it in the ledger.

    Airflow's metadata DB is operational state: runs can be cleared or deleted. A copy in the
    evidence store, chained into the ledger and sealed by the next digest, is what the
    auditor can rely on later. Content-addressed, so re-recording the same history is a no-op
    write (but a new ledger entry saying it was exported again). Returns (key, ledger seq).
    """
    import json

    from ccm.evidence.ledger import Ledger
    from ccm.evidence.store import sha256_bytes

    data = json.dumps(history.to_dict(), sort_keys=True, indent=1).encode()
    digest = sha256_bytes(data)
    key = f"{HISTORY}/{history.window_start[:10]}_{history.window_end[:10]}/{digest[:16]}.json"
    store.put(key, data)
    entry = Ledger(store).append("run_history", {
        "path": key, "sha256": digest, "window_start": history.window_start, "window_end": history.window_end,
        "dag_runs": len(history.dag_runs), "task_tries": len(history.task_tries), "source": history.source,
    }, recorded_at)
    return key, entry.seq


def recorded_history(store: Any, window_start: datetime, window_end: datetime) -> tuple[RunHistory, str] | None:
    """The latest run history recorded in the evidence store for exactly this window, if any."""
    import json

    from ccm.evidence.ledger import Ledger

    start, end = as_utc(window_start).isoformat(), as_utc(window_end).isoformat()
    matches = [e for e in Ledger(store).entries()
               if e.kind == "run_history" and e.body.get("window_start") == start and e.body.get("window_end") == end]
    if not matches:
        return None
    key = matches[-1].body["path"]
    doc = json.loads(store.get(key))
    history = RunHistory(doc["source"], doc["window_start"], doc["window_end"],
                         [DagRunRow(**r) for r in doc["dag_runs"]], [TaskTryRow(**t) for t in doc["task_tries"]])
    return history, key
