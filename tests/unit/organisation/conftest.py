"""A company with a month of LMS and GRC exports, generated once for these tests."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ccm.config import Settings
from ccm.manifests import ExtractManifest, RunContext
from ccm.pipeline import extract
from ccm.sources.extract import Interval
from ccm_demo.simulator import generate
from ccm_demo.spec import DemoSpec
from ccm_demo.standins import inbox as inbox_standin
from tests.conftest import set_clock

ORG_DEMO = DemoSpec(seed=7, employees=40, days=35)


@pytest.fixture(scope="module")
def org_spec() -> DemoSpec:
    return ORG_DEMO


@pytest.fixture(scope="module")
def org_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 people, 35 days: covers the October close and the missing incident export."""
    return generate(ORG_DEMO, tmp_path_factory.mktemp("org-demo") / "demo")


@pytest.fixture
def org_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, org_demo: Path) -> Settings:
    monkeypatch.setenv("CCM_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CCM_CLOCK_FILE", str(tmp_path / "clock"))
    monkeypatch.setenv("CCM_EXCEPTIONS", str(org_demo / "exceptions.yml"))
    for name in ("CCM_LAKE_URI", "CCM_EVIDENCE_URI", "CCM_WAREHOUSE", "CCM_INBOX_URI"):
        monkeypatch.delenv(name, raising=False)
    return Settings.from_env()


def run_at(settings: Settings, demo_dir: Path, moment: datetime) -> None:
    """Move the simulated clock to `moment` and deliver every export due by then."""
    set_clock(Path(os.environ["CCM_CLOCK_FILE"]), moment)
    inbox_standin.advance_to(demo_dir, moment, {"CCM_INBOX_URI": settings.inbox_uri})


def extract_day(settings: Settings, dataset: str, day: datetime) -> ExtractManifest:
    """The daily run's extract of `dataset` for `day`."""
    return extract(settings, dataset, Interval(day, day + timedelta(days=1)), RunContext(), lambda _c: None)
