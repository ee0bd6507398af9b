"""Running the demo: the simulated clock, the stand-ins, and Airflow runs day by day.

`ccm demo run` (what `make demo` calls) generates the company if needed, starts the
stand-ins, prepares an Airflow home inside the project (SQLite metadata DB, git-ignored)
and runs the `ccm_controls` DAG through Airflow's `dag.test()` once per day of the window
in a child process, so the run history lands in Airflow's database. Before each run the
simulated clock moves to the moment that day's scheduled run would happen.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from ccm import clock
from ccm.airflow_support import INTERVAL_HOOK_ENV
from ccm.config import Settings
from ccm.periods import as_utc
from ccm_demo.spec import CLOCK_FILE, EXCEPTIONS_FILE, DemoSpec

PROGRESS = "CCM-PROGRESS "
# the demo's outages last hours: fail fast instead of backing off for minutes
DEMO_HTTP_SETTINGS = {"http_max_attempts": 3, "http_max_total_wait_s": 3.0}


@dataclass(frozen=True)
class DemoPaths:
    settings: Settings

    @property
    def demo_dir(self) -> Path:
        return self.settings.data_dir / "demo"

    @property
    def airflow_home(self) -> Path:
        return self.settings.data_dir / "airflow"

    @property
    def log_file(self) -> Path:
        return self.settings.data_dir / "demo-run.log"


def demo_env(settings: Settings, demo_dir: Path) -> dict[str, str]:
    """Environment for Airflow and the pipeline in a demo deployment."""
    airflow_home = settings.data_dir / "airflow"
    return {
        "CCM_DEMO_DIR": str(demo_dir),
        INTERVAL_HOOK_ENV: "ccm_demo.runner:advance_clock_for_interval",
        "CCM_CLOCK_FILE": str(demo_dir / CLOCK_FILE),
        "CCM_EXCEPTIONS": str(demo_dir / EXCEPTIONS_FILE),
        "CCM_DATA_DIR": str(settings.data_dir),
        "CCM_PROJECT_DIR": str(settings.project_dir),
        "CCM_START_DATE": DemoSpec.load(demo_dir).start.isoformat(),
        "CCM_END_DATE": DemoSpec.load(demo_dir).window_end.isoformat(),
        "CCM_HTTP_MAX_ATTEMPTS": str(DEMO_HTTP_SETTINGS["http_max_attempts"]),
        "CCM_HTTP_MAX_TOTAL_WAIT_SECONDS": str(DEMO_HTTP_SETTINGS["http_max_total_wait_s"]),
        "CCM_TASK_RETRIES": os.environ.get("CCM_TASK_RETRIES", "1"),
        "CCM_RETRY_DELAY_SECONDS": os.environ.get("CCM_RETRY_DELAY_SECONDS", "1"),
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.project_dir / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(settings.project_dir / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home}/airflow.db",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(airflow_home / "logs"),
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        "NO_COLOR": "1",
    }


def advance_clock(demo_dir: Path, interval_end: datetime, env: dict[str, str],
                  sources: set[str] | None = None) -> datetime:
    """Set the simulated clock to when the scheduled run for the interval ending at
    `interval_end` happens, and let the stand-ins catch up (state seeded through their
    APIs, files delivered by then)."""
    from ccm_demo.standins.servers import advance_all

    spec = DemoSpec.load(demo_dir)
    moment = spec.observation_time(as_utc(interval_end))
    clock.write_clock_file(Path(demo_dir) / CLOCK_FILE, moment)
    advance_all(Path(demo_dir), moment, env, sources)
    return moment


def advance_clock_for_interval(interval_start: datetime, interval_end: datetime) -> str:
    """The demo's interval hook (the DAG's `prepare_interval` task): the demo directory comes from CCM_DEMO_DIR; only
    the stand-ins of sources the DAG extracts catch up."""
    from ccm.airflow_support import extract_groups

    return advance_clock(Path(os.environ["CCM_DEMO_DIR"]), interval_end, dict(os.environ),
                         set(extract_groups())).isoformat()


def prepare_airflow(env: dict[str, str]) -> None:
    """Create the SQLite metadata DB and the warehouse pool (idempotent)."""
    from ccm.airflow_support import WAREHOUSE_POOL, WAREHOUSE_POOL_DESCRIPTION

    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    airflow = str(Path(sys.executable).with_name("airflow"))
    full_env = {**os.environ, **env}
    for command in (["db", "migrate"], ["pools", "set", WAREHOUSE_POOL, "1", WAREHOUSE_POOL_DESCRIPTION]):
        done = subprocess.run([airflow, *command], env=full_env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")


def run_days_in_airflow(first_day: datetime, days: int) -> int:
    """Child-process entry: one dag.test() per day; prints a progress line per run."""
    from airflow.dag_processing.dagbag import DagBag

    dagbag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if dagbag.import_errors:
        print(PROGRESS + f"DAG import errors: {dagbag.import_errors}", flush=True)
        return 2
    dag = dagbag.get_dag("ccm_controls")
    failures = 0
    for offset in range(days):
        start = first_day + timedelta(days=offset)
        end = start + timedelta(days=1)
        advance_clock_for_interval(start, end)  # the DAG's first task does it too; this makes the logs agree
        run = dag.test(logical_date=end)
        interval = (as_utc(run.data_interval_start), as_utc(run.data_interval_end))
        if interval != (start, end):
            print(PROGRESS + f"unexpected data interval {interval} for day {start:%Y-%m-%d}", flush=True)
            return 2
        state = str(run.state)
        failures += state != "success"
        print(PROGRESS + f"{start:%Y-%m-%d} {state} {run.run_id}", flush=True)
    return 0 if failures == 0 else 1


def main() -> None:  # python -m ccm_demo.runner FIRST_DAY DAYS
    first_day = as_utc(sys.argv[1])
    days = int(sys.argv[2])
    code = run_days_in_airflow(first_day, days)
    sys.exit(0 if code in (0, 1) else code)


if __name__ == "__main__":
    main()
