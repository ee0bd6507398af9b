"""Shared fixtures: a small generated demo company, stand-ins, and isolated data dirs.

Airflow reads its configuration when first imported, so its environment is set here,
before any test module imports it: a throw-away AIRFLOW_HOME, the project's DAGs.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]
# pytest rotates /tmp/pytest-of-<user>/pytest-N and deletes all but the newest three, even
# while another session (another checkout, a parallel run) is still using one: keep this
# checkout's temporary directories apart.
_TEMP_ROOT = Path(tempfile.gettempdir()) / f"ccm-pytest-{hashlib.sha256(str(PROJECT_DIR).encode()).hexdigest()[:8]}"
_TEMP_ROOT.mkdir(exist_ok=True)
os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", str(_TEMP_ROOT))
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="ccm-test-airflow-"))
os.environ.setdefault("AIRFLOW_HOME", str(_AIRFLOW_HOME))
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(PROJECT_DIR / "dags"))
os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(PROJECT_DIR / "plugins"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{_AIRFLOW_HOME}/airflow.db")

from ccm.config import Settings  # noqa: E402
from ccm_demo.simulator import generate  # noqa: E402
from ccm_demo.spec import DemoSpec  # noqa: E402

SMALL_DEMO = DemoSpec(seed=7, employees=40, days=10)

# modules that take minutes run first, so with several workers (`make test`) none is left
# running alone at the end: the scheduler backfill, then the rest of the integration tests
_FIRST = ("tests/integration/production/", "tests/integration/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = Path(str(item.path)).relative_to(PROJECT_DIR).as_posix()
        return next((i for i, prefix in enumerate(_FIRST) if path.startswith(prefix)), len(_FIRST))

    items.sort(key=rank)  # stable: the order within each rank is the collection order


@pytest.fixture(scope="session")
def small_spec() -> DemoSpec:
    return SMALL_DEMO


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small company (40 people, 10 days) generated once per session; treat as read-only."""
    return generate(SMALL_DEMO, tmp_path_factory.mktemp("demo") / "demo")


@pytest.fixture(scope="session")
def default_company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default company (300 people, 182 days), generated once per session; read-only."""
    return generate(DemoSpec(), tmp_path_factory.mktemp("default-company") / "demo")


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_dir: Path) -> Settings:
    """Settings writing to a fresh temporary data dir, on the demo's clock and exceptions."""
    clock_file = tmp_path / "clock"
    monkeypatch.setenv("CCM_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CCM_CLOCK_FILE", str(clock_file))
    monkeypatch.setenv("CCM_EXCEPTIONS", str(demo_dir / "exceptions.yml"))
    monkeypatch.delenv("CCM_LAKE_URI", raising=False)
    monkeypatch.delenv("CCM_EVIDENCE_URI", raising=False)
    monkeypatch.delenv("CCM_WAREHOUSE", raising=False)
    set_clock(clock_file, SMALL_DEMO.observation_time(SMALL_DEMO.window_start + timedelta(days=1)))
    return Settings.from_env()


def set_clock(path: Path, moment) -> None:
    from ccm import clock

    clock.write_clock_file(path, moment)


@pytest.fixture
def okta_standin(demo_dir: Path, settings: Settings):
    from ccm_demo.standins.okta import OktaStandin

    server = OktaStandin(demo_dir, Path(os.environ["CCM_CLOCK_FILE"]), token="test-okta-token").start()
    yield server
    server.stop()


@pytest.fixture
def okta_connection(okta_standin):
    from ccm.sources.connections import Connection
    from ccm.sources.http_client import Secret

    return Connection("okta_default", host=okta_standin.url, password=Secret("test-okta-token"))


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium driven by Playwright (no browser download: the machine's Chromium)."""
    from playwright.sync_api import sync_playwright

    from tests.machine import CHROMIUM_ARGS, chromium_executable

    executable = chromium_executable()
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()
