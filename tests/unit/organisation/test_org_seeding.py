"""The default company (300 people, 182 days) plants what the organisational controls must find."""

from __future__ import annotations

from collections import Counter

import yaml

from ccm_demo.answer_key import read_answer_key

ORG_CONTROLS = ["org_background_checks", "org_security_training", "org_policy_acknowledgement",
                "org_risk_register_review", "org_vendor_reviews", "mon_incident_postmortems",
                "mon_tabletop_exercise", "avl_restore_test"]


def test_three_approved_exceptions_per_control(default_company):
    exceptions = yaml.safe_load((default_company / "exceptions.yml").read_text())["exceptions"]
    counts = Counter(e["control_id"] for e in exceptions)
    # the annual control closes once in the window and passes: nothing to except
    assert {c: counts[c] for c in ORG_CONTROLS if c != "mon_tabletop_exercise"} == dict.fromkeys(
        set(ORG_CONTROLS) - {"mon_tabletop_exercise"}, 3)


def test_every_status_is_planted_with_clean_periods_between(default_company):
    key = read_answer_key(default_company)
    statuses = {c: {p: key[(c, p)]["status"] for (control, p) in key if control == c} for c in ORG_CONTROLS}
    assert statuses["mon_incident_postmortems"] == {
        "2025-10-01": "not_tested", "2025-11-01": "fail", "2025-12-01": "fail", "2026-01-01": "fail",
        "2026-02-01": "pass", "2026-03-01": "excepted"}
    for monthly in ("org_background_checks", "org_security_training"):
        assert statuses[monthly]["2025-10-01"] == "fail" and statuses[monthly]["2025-11-01"] == "not_tested"
        assert "pass" in statuses[monthly].values() and "excepted" in statuses[monthly].values()
    for quarterly in ("org_policy_acknowledgement", "org_risk_register_review", "org_vendor_reviews",
                      "avl_restore_test"):
        assert statuses[quarterly] == {"2025-10-01": "fail", "2026-01-01": "excepted"}
    assert statuses["mon_tabletop_exercise"] == {"2025-01-01": "pass"}
