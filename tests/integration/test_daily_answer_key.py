"""Day by day, every control concludes what the answer key says, as production runs it.

The other answer-key tests evaluate a window once. Here each day is its own run (extract
with look-back, plan, build, evaluate, publish) over a window that crosses the end of a
month, a quarter and a year, so every frequency of the matrix closes a period, and a
CloudTrail log file delivered late forces the re-evaluation of an already evaluated day:
the new version must equal the key and the old one must be kept.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from ccm.config import Settings
from ccm.constants import Frequency
from ccm.controls.catalog import load_catalog
from ccm.warehouse import connect
from ccm_demo.simulator import generate
from ccm_demo.spec import DemoSpec
from ccm_demo.verify import compare_with_answer_key, run_daily

pytestmark = pytest.mark.integration

# ten days from 2025-12-29, of which the first three run: the run of Dec 31 closes December,
# Q4 and the year 2025, and (in a ten-day window) its look-back re-reads Dec 30, whose last
# CloudTrail file with an IAM sign-in without MFA is delivered hours late
SPEC = DemoSpec(seed=7, employees=40, start=date(2025, 12, 29), days=10)
DAYS = 3


@pytest.fixture(scope="module")
def daily_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path, list[dict]]:
    data_dir = tmp_path_factory.mktemp("daily-verify") / "var"
    demo_dir = generate(SPEC, data_dir / "demo")
    settings = Settings.from_env({"CCM_DATA_DIR": str(data_dir), "CCM_EXCEPTIONS": str(demo_dir / "exceptions.yml")})
    return settings, demo_dir, run_daily(settings, demo_dir, DAYS)


def test_every_control_matches_the_key_day_by_day(daily_run):
    settings, demo_dir, _ = daily_run
    compared, mismatches = compare_with_answer_key(settings, demo_dir, DAYS)
    assert [str(m) for m in mismatches] == []
    catalog = load_catalog(settings.controls_path)
    by_frequency = {f: [c for c in catalog if c.frequency is f] for f in Frequency}
    # every daily control each day, and each monthly, quarterly and annual control once
    assert compared == (DAYS * len(by_frequency[Frequency.DAILY]) + len(by_frequency[Frequency.MONTHLY])
                        + len(by_frequency[Frequency.QUARTERLY]) + len(by_frequency[Frequency.ANNUAL]))


def test_late_data_makes_a_new_version_and_keeps_the_old(daily_run):
    settings, _, _ = daily_run
    with connect(settings.warehouse_path, read_only=True) as con:
        versions = con.execute(
            "select control_id, strftime(period_start, '%Y-%m-%d'), list(version order by version), "
            "list(evidence_path order by version), list(run_id order by version) "
            "from ccm.control_results group by all having count(*) > 1").fetchall()
    assert versions, "no control-period was re-evaluated"
    late_day = "2025-12-30"  # its last log file is delivered after the next day's run started
    assert ("iam_aws_console_mfa", late_day) in {(c, p) for c, p, *_ in versions}
    for control_id, period, numbers, evidence, runs in versions:
        assert numbers == list(range(1, len(numbers) + 1)), (control_id, period)
        assert len(set(evidence)) == len(evidence) and all(evidence), "every version keeps its own record"
        assert runs[0] != runs[-1], "a later day's run re-evaluated it"


def test_the_evidence_of_every_version_verifies(daily_run):
    settings, demo_dir, _ = daily_run
    ccm = str(Path(sys.executable).with_name("ccm"))
    env = {**os.environ, "CCM_DATA_DIR": str(settings.data_dir), "CCM_EXCEPTIONS": str(demo_dir / "exceptions.yml")}
    done = subprocess.run([ccm, "evidence", "verify"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "0 finding" in done.stdout or "findings" not in done.stdout.split("verified", 1)[-1], done.stdout
