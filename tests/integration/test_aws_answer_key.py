"""The AWS controls, run day by day against the moto stand-in, conclude what the answer key says."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ccm.report import current_results
from ccm.sources.registry import datasets_of
from ccm_demo.oracles.aws import ORACLES
from ccm_demo.verify import compare_with_answer_key, run_window
from ccm_demo.world.aws import outage_windows

pytestmark = pytest.mark.integration

AWS_CONTROLS = sorted(ORACLES)


def test_aws_controls_match_the_answer_key(settings, demo_dir, small_spec):
    start, _ = outage_windows(small_spec)[0]
    # through the first AWS outage (day 2) and the first periods whose only failures are excepted
    days = (start - small_spec.window_start).days + 2
    run_window(settings, demo_dir, days, AWS_CONTROLS, [d.key for d in datasets_of("aws")])
    compared, mismatches = compare_with_answer_key(settings, demo_dir, days, AWS_CONTROLS)
    assert mismatches == []
    assert compared == len(AWS_CONTROLS) * days
    results = [r for r in current_results(settings) if r["control_id"] in AWS_CONTROLS]
    assert {"pass", "fail", "excepted", "not_tested"} <= {r["status"] for r in results}
    outage_day = (start - timedelta(days=1)).date()
    for row in results:
        if row["period_start"].date() == outage_day:
            assert row["status"] == "not_tested" and "ServiceUnavailable" in row["reason"], row
