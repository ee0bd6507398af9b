"""A real Airflow deployment for tests: PostgreSQL metadata DB, api-server, scheduler and
dag-processor with the LocalExecutor, driving the project's DAGs against the demo stand-ins."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from ccm_demo.runner import demo_env
from ccm_demo.simulator import generate
from ccm_demo.spec import DemoSpec
from ccm_demo.standins.servers import Standins
from tests.conftest import PROJECT_DIR
from tests.machine import postgres_url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class AirflowDeployment:
    home: Path
    data_dir: Path
    demo_dir: Path
    env: dict[str, str]
    db_url: str
    processes: list[subprocess.Popen] = field(default_factory=list)

    def airflow(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        binary = str(Path(sys.executable).with_name("airflow"))
        done = subprocess.run([binary, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise AssertionError(f"airflow {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done

    def start(self, *args: str) -> None:
        binary = str(Path(sys.executable).with_name("airflow"))
        log = open(self.home / f"{args[0]}.log", "w")  # noqa: SIM115 - closed with the process
        self.processes.append(subprocess.Popen([binary, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True))

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        import psycopg2

        with psycopg2.connect(self.db_url.replace("postgresql+psycopg2://", "postgresql://")) as conn, \
                conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def wait_for(self, predicate, timeout: float, what: str, interval: float = 2.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise AssertionError(f"an Airflow process exited ({process.args}); see {self.home}")
            value = predicate()
            if value:
                return value
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; logs in {self.home}")

    def stop(self) -> None:
        import signal

        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="package")
def postgres_database() -> Iterator[str]:
    """A fresh, throw-away PostgreSQL database for Airflow's metadata."""
    import psycopg2

    base = postgres_url()
    name = f"ccm_airflow_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(base)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'create database "{name}"')
    head, _, _ = base.rpartition("/")
    try:
        yield f"{head}/{name}".replace("postgresql://", "postgresql+psycopg2://", 1)
    finally:
        with admin.cursor() as cursor:
            cursor.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", (name,))
            cursor.execute(f'drop database if exists "{name}"')
        admin.close()


SCHEDULER_DAYS = 14
SCHEDULER_SPEC = DemoSpec(seed=11, employees=40, days=SCHEDULER_DAYS)
# the first try of this day's `evaluate` is killed mid-write (tests/fixtures/kill_mid_write), then retried
KILLED_PERIOD = f"{SCHEDULER_SPEC.window_start + timedelta(days=2):%Y-%m-%d}"
KILL_MID_WRITE = PROJECT_DIR / "tests" / "fixtures" / "kill_mid_write"


@pytest.fixture(scope="package")
def airflow_deployment(tmp_path_factory: pytest.TempPathFactory, postgres_database: str) -> Iterator[AirflowDeployment]:
    root = tmp_path_factory.mktemp("airflow-deployment")
    data_dir = root / "var"
    demo_dir = generate(SCHEDULER_SPEC, data_dir / "demo")
    home = root / "airflow"
    home.mkdir()
    kill_marker = root / "kill-mid-write"
    kill_marker.mkdir()
    port = free_port()
    from ccm.config import Settings

    matrix = PROJECT_DIR / "tests" / "fixtures" / "controls" / "smoke.yml"
    settings = Settings.from_env({"CCM_DATA_DIR": str(data_dir), "CCM_PROJECT_DIR": str(PROJECT_DIR),
                                  "CCM_CONTROLS": str(matrix)})
    with Standins(demo_dir).start() as standins:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CCM_"))}
        env |= demo_env(settings, demo_dir)
        env["CCM_CONTROLS"] = str(matrix)
        env |= standins.connection_env()
        env |= {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres_database,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API_AUTH__JWT_SECRET": uuid.uuid4().hex,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "CCM_RETRY_DELAY_SECONDS": "2",
            # test-only sitecustomize: one task attempt dies in the middle of writing evidence
            "PYTHONPATH": os.pathsep.join(filter(None, [str(KILL_MID_WRITE), env.get("PYTHONPATH")])),
            "CCM_TEST_KILL_MID_WRITE": str(kill_marker),
            "CCM_TEST_KILL_PERIOD": KILLED_PERIOD,
        }
        deployment = AirflowDeployment(home, data_dir, demo_dir, env, postgres_database)
        deployment.airflow("db", "migrate")
        deployment.airflow("pools", "set", "ccm_warehouse", "1", "DuckDB writer")
        deployment.start("api-server", "--port", str(port))
        deployment.start("scheduler")
        deployment.start("dag-processor")
        try:
            deployment.wait_for(lambda: deployment.query("select dag_id from dag where dag_id = 'ccm_controls'"),
                                240, "the dag-processor to serialise ccm_controls")
            yield deployment
        finally:
            deployment.stop()
            shutil.rmtree(home / "logs" / "__unused__", ignore_errors=True)
