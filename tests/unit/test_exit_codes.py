"""Pipeline commands exit non-zero when their evidence has a hole, and say which (issue 18 item 6).

`ccm run` used to exit 0 with failed extracts and `not_tested` control-periods; a cron job or
CI step only sees the exit code.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from ccm.cli import SHORTFALL_EXIT_CODE, app
from ccm.constants import DatasetKind, ExtractStatus
from ccm.manifests import ExtractManifest
from ccm.pipeline import IntervalSummary, Shortfall, _incomplete_reason
from ccm.sources.extract import Interval
from ccm_demo.standins import inbox as inbox_standin


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """No source is configured: every API extract fails for want of its connection."""
    for name in list(os.environ):
        if name.startswith("AIRFLOW_CONN_") or name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")


def test_run_with_failed_extracts_exits_1_naming_each_dataset_and_control_period(
        settings, demo_dir, small_spec, no_connections):
    day = small_spec.window_start + timedelta(days=1)
    # the HR roster is delivered, nothing else is reachable
    inbox_standin.advance_to(demo_dir, small_spec.observation_time(day + timedelta(days=1)),
                             {"CCM_INBOX_URI": settings.inbox_uri})
    result = CliRunner().invoke(app, ["run", "--from", f"{day:%Y-%m-%d}",
                                      "--to", f"{day + timedelta(days=1):%Y-%m-%d}"],
                                env={"COLUMNS": "400"})
    assert result.exit_code == SHORTFALL_EXIT_CODE, result.output
    out = result.output
    assert "extract failed: okta.users:" in out
    assert "extract failed: github.pull_requests:" in out or "extract failed: github." in out
    assert "extract failed: hr.employees" not in out  # it was delivered and read
    assert "not_tested: iam_okta_mfa_enforced" in out or "not_tested: " in out
    assert "control-periods not_tested" in out


def test_plan_exits_1_listing_the_control_periods_without_inputs(settings, no_connections):
    result = CliRunner().invoke(app, ["plan", "--from", "2025-10-02", "--to", "2025-10-03"],
                                env={"COLUMNS": "400"})
    assert result.exit_code == SHORTFALL_EXIT_CODE, result.output
    assert "not_tested: " in result.output
    assert "0 with complete inputs" in result.output


def test_evaluate_exits_1_when_a_result_is_not_tested(settings, no_connections):
    runner = CliRunner()
    assert runner.invoke(app, ["plan", "--from", "2025-10-02", "--to", "2025-10-03"]).exit_code == 1
    result = runner.invoke(app, ["evaluate"], env={"COLUMNS": "400"})
    assert result.exit_code == SHORTFALL_EXIT_CODE, result.output
    assert "control-periods not_tested" in result.output


def test_a_clean_summary_is_ok_and_any_hole_is_not():
    assert Shortfall().ok
    assert not Shortfall(failed_extracts=("okta.users: 401",)).ok
    assert not Shortfall(unbuilt_populations=("pop_x: compile error",)).ok
    results = [{"control_id": "a", "period": "2025-10-01", "status": "pass", "reason": None},
               {"control_id": "b", "period": "2025-10-01", "status": "not_tested",
                "reason": "okta.users: no complete extract"}]
    shortfall = Shortfall.of_results(results)
    assert shortfall.lines() == ["not_tested: b 2025-10-01: okta.users: no complete extract"]


def test_an_incomplete_extract_counts_as_failed_with_its_quarantine_reasons(small_spec):
    start = small_spec.window_start
    manifest = ExtractManifest("x", "hr", "employees", DatasetKind.SNAPSHOT, start, start + timedelta(days=1),
                               ExtractStatus.INCOMPLETE, start, start, quarantined=2,
                               quarantine_reasons={"required field 'employee_id' is missing": 2})
    reason = _incomplete_reason(manifest)
    assert reason == "incomplete: 2 records quarantined: required field 'employee_id' is missing (2x)"
    summary = IntervalSummary(Interval(start, start + timedelta(days=1)), [manifest], {}, {"results": []},
                              {"hr.employees": reason})
    assert summary.shortfall.lines() == [f"extract failed: hr.employees: {reason}"]
