"""One real evidence store for the evidence tests: the small demo company run through
extract → plan → dbt → GX → evidence for six days (pass, fail, excepted and not_tested
periods), then one period re-run so it has a second version. Built once per session;
tests that tamper with it work on a copy."""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ccm.config import Settings
from ccm.evidence.store import EvidenceStore
from ccm_demo.verify import temporary_environ
from tests.conftest import PROJECT_DIR

DAYS = 6
RERUN_ID = "rerun__2025-10-02"
RERUN_DAY = 1  # 0-based offset of the day re-run for a second version (2025-10-02, a failing day)


@dataclass(frozen=True)
class EvidenceRun:
    settings: Settings
    demo_dir: Path
    window_start: datetime
    days: int
    rerun_start: datetime

    @property
    def evidence_dir(self) -> Path:
        return Path(self.settings.evidence_uri)

    def copy_store(self, target: Path) -> EvidenceStore:
        """A private copy of the evidence store to tamper with."""
        shutil.copytree(self.evidence_dir, target)
        return EvidenceStore(str(target))


@pytest.fixture(scope="session")
def evidence_run(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> EvidenceRun:
    from ccm import pipeline
    from ccm.manifests import RunContext
    from ccm.sources.extract import Interval
    from ccm_demo.spec import DemoSpec
    from ccm_demo.verify import run_window

    root = tmp_path_factory.mktemp("evidence-run")
    demo = Path(shutil.copytree(demo_dir, root / "demo"))
    # one daily control: the tests count its periods and versions
    matrix = PROJECT_DIR / "tests" / "fixtures" / "controls" / "okta_only.yml"
    settings = Settings.from_env({"CCM_DATA_DIR": str(root / "var"), "CCM_EXCEPTIONS": str(demo / "exceptions.yml"),
                                  "CCM_CONTROLS": str(matrix)})
    with temporary_environ(CCM_EVIDENCE_ACTOR="evidence-tests"):
        run_window(settings, demo, DAYS)
        spec = DemoSpec.load(demo)
        start = spec.window_start + timedelta(days=RERUN_DAY)
        with temporary_environ(CCM_CLOCK_FILE=str(demo / "clock")):
            run = RunContext(dag_id="ccm_controls", run_id=RERUN_ID, try_number=1, task_id="evaluate")
            pipeline.plan(settings, Interval(start, start + timedelta(days=1)), run)
            pipeline.transform(settings, run)
            pipeline.evaluate(settings, run)
    return EvidenceRun(settings, demo, spec.window_start, DAYS, start)


def populate_airflow_db(url: str, window_start: datetime, days: int, rerun_start: datetime) -> None:
    """An Airflow metadata DB with Airflow's own schema, holding the window's runs: one per day,
    one failed with a retried task, and the re-run that produced the second version."""
    import sqlalchemy as sa
    from airflow.models import import_all_models
    from airflow.models.base import Base
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.taskinstancehistory import TaskInstanceHistory

    import_all_models()
    engine = sa.create_engine(url)
    Base.metadata.create_all(engine)
    started = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    with engine.begin() as con:
        for day in range(days + 1):
            start = window_start + timedelta(days=day)
            run_id = RERUN_ID if day == days else f"scheduled__{start + timedelta(days=1):%Y-%m-%dT%H:%M:%S}"
            if day == days:
                start = rerun_start
            state = "failed" if day == 2 else "success"
            con.execute(sa.insert(DagRun.__table__).values(
                dag_id="ccm_controls", run_id=run_id, run_type="manual" if day == days else "scheduled",
                state=state, logical_date=None if day == days else start + timedelta(days=1),
                data_interval_start=start,
                data_interval_end=start + timedelta(days=1), run_after=start + timedelta(days=1),
                start_date=started + timedelta(days=day), end_date=started + timedelta(days=day, minutes=3)))
            for task_id in ("extract_okta.users", "plan", "evaluate"):
                tries = 2 if (day == 2 and task_id == "extract_okta.users") else 1
                final = "failed" if tries == 2 else "success"
                con.execute(sa.insert(TaskInstance.__table__).values(
                    dag_id="ccm_controls", run_id=run_id, task_id=task_id, map_index=-1, try_number=tries,
                    state=final, pool="default_pool", start_date=started + timedelta(days=day, minutes=1),
                    end_date=started + timedelta(days=day, minutes=2), duration=60.0, hostname="worker-1"))
                if tries == 2:
                    con.execute(sa.insert(TaskInstanceHistory.__table__).values(
                        task_instance_id=uuid.uuid4(), dag_id="ccm_controls", run_id=run_id, task_id=task_id,
                        map_index=-1, try_number=1, state="failed", pool="default_pool",
                        start_date=started + timedelta(days=day), end_date=started + timedelta(days=day, seconds=30),
                        duration=30.0, hostname="worker-1"))
        # a run outside the window is not exported
        con.execute(sa.insert(DagRun.__table__).values(
            dag_id="ccm_controls", run_id="scheduled__2025-12-01", run_type="scheduled", state="success",
            data_interval_start=datetime(2025, 11, 30, tzinfo=UTC), data_interval_end=datetime(2025, 12, 1, tzinfo=UTC),
            run_after=datetime(2025, 12, 1, tzinfo=UTC)))
    engine.dispose()
