"""Airflow run history is read the same way from SQLite (the embedded demo) and PostgreSQL
(production), from Airflow's own schema."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from ccm.evidence.history import engine_url, read_history
from tests.integration.evidence.conftest import RERUN_ID, populate_airflow_db
from tests.machine import postgres_url

pytestmark = pytest.mark.integration

WINDOW_START = datetime(2025, 10, 1, tzinfo=UTC)
DAYS = 6
RERUN_START = WINDOW_START + timedelta(days=1)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def airflow_url(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('airflow') / 'airflow.db'}"
        populate_airflow_db(url, WINDOW_START, DAYS, RERUN_START)
        yield url
        return
    server = postgres_url()
    import sqlalchemy as sa

    name = f"ccm_history_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(engine_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(sa.text(f'create database "{name}"'))
    url = engine_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        populate_airflow_db(url, WINDOW_START, DAYS, RERUN_START)
        yield url
    finally:
        with admin.connect() as con:
            con.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


def test_runs_in_the_window_with_every_try(airflow_url):
    history = read_history(airflow_url, WINDOW_START, WINDOW_START + timedelta(days=DAYS))
    assert [r.data_interval_start[:10] for r in history.dag_runs] == [
        "2025-10-01", "2025-10-02", "2025-10-02", "2025-10-03", "2025-10-04", "2025-10-05", "2025-10-06"]
    assert {r.run_id for r in history.dag_runs} >= {RERUN_ID}
    assert history.summary() == {"dag_runs": 7, "dag_run_states": {"success": 6, "failed": 1}, "task_tries": 22,
                                 "tasks_retried": 1, "failed_tries": 2}
    earlier = [t for t in history.task_tries if not t.latest]
    assert [(t.task_id, t.try_number, t.state) for t in earlier] == [("extract_okta.users", 1, "failed")]
    assert earlier[0].start_date == "2026-01-07T09:00:00+00:00" and earlier[0].duration_s == 30.0
    assert "password" not in history.source


def test_the_window_bounds_the_runs(airflow_url):
    history = read_history(airflow_url, WINDOW_START + timedelta(days=2), WINDOW_START + timedelta(days=3))
    assert [r.data_interval_start[:10] for r in history.dag_runs] == ["2025-10-03"]
    assert {t.run_id for t in history.task_tries} == {history.dag_runs[0].run_id}
    assert read_history(airflow_url, datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)).dag_runs == []


def test_a_recorded_history_is_tamper_evident_evidence(airflow_url, tmp_path):
    from ccm.evidence.history import record_history, recorded_history
    from ccm.evidence.store import EvidenceStore
    from ccm.evidence.verify import verify_store

    store = EvidenceStore(str(tmp_path / "evidence"))
    end = WINDOW_START + timedelta(days=DAYS)
    history = read_history(airflow_url, WINDOW_START, end)
    key, seq = record_history(store, history, "2025-10-08T00:00:00+00:00")
    assert seq == 1 and verify_store(store).ok
    assert recorded_history(store, WINDOW_START, end) == (history, key)  # what the pack falls back to
    assert recorded_history(store, WINDOW_START, end - timedelta(days=1)) is None
    path = store.local_path(key)
    path.write_text(path.read_text().replace('"failed"', '"success"'))
    assert [(f.kind, f.subject) for f in verify_store(store).findings] == [("artefact-modified", key)]
