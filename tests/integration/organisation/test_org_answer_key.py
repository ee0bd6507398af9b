"""The organisational controls conclude exactly what the demo's answer key says.

A 40-person company over 92 days (Q4 2025: three monthly closes, one quarter, the year
2025), extracted day by day from the inbox on the simulated clock and evaluated once:
every control-period of the eight controls must match the answer key, entity by entity.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ccm.config import Settings
from ccm.report import current_results
from ccm.sources.registry import datasets_of
from ccm.warehouse import connect
from ccm_demo.simulator import generate
from ccm_demo.spec import DemoSpec
from ccm_demo.verify import compare_with_answer_key, run_window

pytestmark = pytest.mark.integration

DAYS = 92
ORG_CONTROLS = ["org_background_checks", "org_security_training", "org_policy_acknowledgement",
                "org_risk_register_review", "org_vendor_reviews", "mon_incident_postmortems",
                "mon_tabletop_exercise", "avl_restore_test"]
ORG_DATASETS = ["hr.employees", *(d.key for d in datasets_of("lms")), *(d.key for d in datasets_of("grc"))]


@pytest.fixture(scope="module")
def org_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    data_dir = tmp_path_factory.mktemp("org-verify") / "var"
    demo_dir = generate(DemoSpec(seed=7, employees=40, days=DAYS), data_dir / "demo")
    settings = Settings.from_env({"CCM_DATA_DIR": str(data_dir), "CCM_EXCEPTIONS": str(demo_dir / "exceptions.yml")})
    run_window(settings, demo_dir, DAYS, controls=ORG_CONTROLS, datasets=ORG_DATASETS)
    return settings, demo_dir


def test_every_control_period_matches_the_answer_key(org_run):
    settings, demo_dir = org_run
    compared, mismatches = compare_with_answer_key(settings, demo_dir, DAYS, ORG_CONTROLS)
    assert [str(m) for m in mismatches] == []
    # 3 monthly closes x 3 monthly controls, Q4 x 4 quarterly controls, the year 2025
    assert compared == 3 * 3 + 4 + 1


def test_the_window_shows_every_status_and_why_a_period_was_not_tested(org_run):
    settings, _ = org_run
    results = {(r["control_id"], r["period_start"].strftime("%Y-%m-%d")): r for r in current_results(settings)
               if r["control_id"] in ORG_CONTROLS}
    assert {r["status"] for r in results.values()} == {"pass", "fail", "not_tested"}
    incidents = results[("mon_incident_postmortems", "2025-10-01")]
    assert incidents["status"] == "not_tested"
    assert "grc/incidents/incidents_2025-10-31.json was not delivered" in incidents["reason"]
    for control_id in ("org_background_checks", "org_security_training"):
        november = results[(control_id, "2025-11-01")]
        assert november["status"] == "not_tested" and "hr.employees" in november["reason"]
    assert results[("mon_tabletop_exercise", "2025-01-01")]["status"] == "pass"


def test_approved_exceptions_cover_until_they_expire(org_run):
    settings, demo_dir = org_run
    by_control: dict[str, set[str]] = {}
    for entry in yaml.safe_load((demo_dir / "exceptions.yml").read_text())["exceptions"]:
        by_control.setdefault(entry["control_id"], set()).add(entry["entity_id"])
    with connect(settings.warehouse_path, read_only=True) as con:
        cursor = con.execute("select control_id, failing_entity_ids, excepted_entity_ids from ccm.current_results "
                             "where control_id in (select unnest(?))", [ORG_CONTROLS])
        results = [dict(zip(("control_id", "failing_entity_ids", "excepted_entity_ids"), row, strict=True))
                   for row in cursor.fetchall()]
    assert {r["control_id"] for r in results if r["excepted_entity_ids"]} >= {
        "org_vendor_reviews", "avl_restore_test", "org_risk_register_review", "org_policy_acknowledgement",
        "mon_incident_postmortems"}
    uncovered = {(r["control_id"], entity) for r in results for entity in r["failing_entity_ids"] or []
                 if entity not in (r["excepted_entity_ids"] or []) and entity in by_control.get(r["control_id"], ())}
    # entities whose exception expired before the quarter closed, while they still failed
    assert {c for c, _ in uncovered} >= {"org_vendor_reviews", "avl_restore_test", "org_risk_register_review",
                                         "org_policy_acknowledgement"}
