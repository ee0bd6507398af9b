"""The identity controls conclude exactly what the demo's answer key says.

One small company over the first quarter, evaluated once. To stay fast, only the
observations each control needs are made, on the simulated clock exactly as the daily
runs would make them:
- the daily controls on the window's first days (they hold a failure, an approved
  exception, an outage and clean days);
- the monthly controls on the observation after October closes (an HR termination
  whose deadline falls in October, accounts without an HR record);
- the quarterly access-review control on the observation after the quarter closes: its
  only input is the review register exported for the quarter's last day, so that one
  observation is the whole of its evidence (a GitHub review completed late, an AWS
  review signed off late under an approved exception).
Every other period of those controls is then `not_tested` (nothing was observed), and
only the periods whose inputs were observed are compared.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from ccm import pipeline
from ccm.config import Settings
from ccm.manifests import RunContext
from ccm.sources.extract import Interval
from ccm.sources.registry import sources_of
from ccm_demo.answer_key import read_answer_key
from ccm_demo.runner import advance_clock
from ccm_demo.simulator import generate
from ccm_demo.spec import CLOCK_FILE, DemoSpec
from ccm_demo.standins.servers import Standins
from ccm_demo.verify import compare_with_answer_key, extract_day

pytestmark = pytest.mark.integration

DAILY = ["iam_google_2sv", "iam_dormant_accounts", "iam_admins_approved"]
MONTHLY = ["iam_okta_orphan_accounts", "iam_okta_deprovision_24h"]
QUARTERLY = ["iam_access_review_quarterly"]
DAILY_DAYS = 5
OBSERVATIONS = {  # day of the window -> datasets its run extracts
    **{day: ["okta.users", "okta.admin_roles", "google.users", "iga.approved_admins"] for day in range(DAILY_DAYS)},
    30: ["okta.users", "hr.employees"],
    91: ["iga.access_reviews"],
}


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    root = tmp_path_factory.mktemp("identity-answer-key")
    spec = DemoSpec(employees=40, days=92)
    demo_dir = generate(spec, root / "demo")
    settings = Settings.from_env({"CCM_DATA_DIR": str(root / "var"),
                                  "CCM_EXCEPTIONS": str(demo_dir / "exceptions.yml")})
    # outages fail at once instead of backing off: their days are not_tested either way
    settings = settings.with_overrides(http_max_attempts=1, http_max_total_wait_s=0.0)
    run = RunContext(dag_id="identity_answer_key", run_id="identity_answer_key")
    with Standins(demo_dir).start() as standins, pytest.MonkeyPatch.context() as patch:
        for name, value in standins.connection_env().items():
            patch.setenv(name, value)
        patch.setenv("CCM_CLOCK_FILE", str(demo_dir / CLOCK_FILE))
        env = {**os.environ, "CCM_DATA_DIR": str(settings.data_dir), "CCM_INBOX_URI": settings.inbox_uri}
        for offset, datasets in sorted(OBSERVATIONS.items()):
            day = spec.window_start + timedelta(days=offset)
            advance_clock(demo_dir, day + timedelta(days=1), env, sources_of(datasets))
            extract_day(settings, day, run, datasets)
        pipeline.plan(settings, Interval(spec.window_start, spec.window_end), run, DAILY + MONTHLY + QUARTERLY)
        pipeline.transform(settings, run)
        pipeline.evaluate(settings, run)
    return settings, demo_dir


@pytest.mark.parametrize(("controls", "days", "periods"), [
    (DAILY, DAILY_DAYS, DAILY_DAYS * len(DAILY)),
    (MONTHLY, 31, len(MONTHLY)),
    (QUARTERLY, 92, 1),
], ids=["daily", "monthly", "quarterly"])
def test_the_identity_controls_match_the_answer_key(evaluated, controls, days, periods):
    settings, demo_dir = evaluated
    compared, mismatches = compare_with_answer_key(settings, demo_dir, days, controls)
    assert compared == periods
    assert mismatches == []


def test_the_compared_periods_are_not_all_alike(evaluated):
    """The comparison above can only fail if the key holds more than passes."""
    _settings, demo_dir = evaluated
    key = read_answer_key(demo_dir)
    daily = {key[(c, f"2025-10-0{d + 1}")]["status"] for c in DAILY for d in range(DAILY_DAYS)}
    assert {"pass", "fail", "excepted", "not_tested"} <= daily
    assert key[("iam_okta_orphan_accounts", "2025-10-01")]["failing"]
    quarter = key[("iam_access_review_quarterly", "2025-10-01")]
    assert quarter["status"] == "fail" and quarter["failing"] == {"github", "aws"} and set(quarter["excepted"]) == {"aws"}
