"""One real evidence store for the evidence tests: the small demo company run through
extract → plan → dbt → GX → evidence for six days (pass, fail, excepted and not_tested
periods), then one period re-run so it has a second version. Built once per session;
tests that tamper with it work on a copy."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ccm.config import Settings
from ccm.evidence.store import EvidenceStore

DAYS = 6
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


@contextmanager
def environment(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def evidence_run(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> EvidenceRun:
    from ccm import pipeline
    from ccm.demo.spec import DemoSpec
    from ccm.demo.verify import run_window
    from ccm.manifests import RunContext
    from ccm.sources.extract import Interval

    root = tmp_path_factory.mktemp("evidence-run")
    demo = Path(shutil.copytree(demo_dir, root / "demo"))
    settings = Settings.from_env({"CCM_DATA_DIR": str(root / "var"), "CCM_EXCEPTIONS": str(demo / "exceptions.yml")})
    with environment(CCM_EVIDENCE_ACTOR="evidence-tests"):
        run_window(settings, demo, DAYS)
        spec = DemoSpec.load(demo)
        start = spec.window_start + timedelta(days=RERUN_DAY)
        with environment(CCM_CLOCK_FILE=str(demo / "clock")):
            run = RunContext(dag_id="ccm_controls", run_id="rerun__2025-10-02", try_number=1, task_id="evaluate")
            pipeline.plan(settings, Interval(start, start + timedelta(days=1)), run)
            pipeline.transform(settings, run)
            pipeline.evaluate(settings, run)
    return EvidenceRun(settings, demo, spec.window_start, DAYS, start)
