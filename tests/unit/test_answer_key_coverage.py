"""The default company's answer key covers the whole shipped control matrix, period by period.

Only the shipped matrix (`include/controls.yml`) has demo oracles: a company's own controls
(`CCM_COMPANY_DIR`) are tested by its own data and need none."""

from __future__ import annotations

from collections import Counter

import yaml

from ccm.controls.catalog import load_catalog
from ccm.periods import periods_closing_in
from ccm_demo.answer_key import read_answer_key
from ccm_demo.spec import DemoSpec
from tests.conftest import PROJECT_DIR

MATRIX = PROJECT_DIR / "include" / "controls.yml"  # the shipped controls: each has an oracle


def test_only_the_shipped_controls_need_an_oracle(tmp_path):
    from ccm.config import Settings
    from ccm.controls.catalog import load_controls
    from ccm.controls.scaffold import init_company_dir, new_control
    from ccm_demo.oracles import all_oracles

    init_company_dir(tmp_path / "company")
    settings = Settings.from_env({"CCM_DATA_DIR": str(tmp_path / "var"), "CCM_COMPANY_DIR": str(tmp_path / "company")})
    new_control(settings, "acme_okta_mfa_enrolled", criteria=["CC6.1"], frequency="daily", sources=["okta.users"],
                title="Okta users have MFA enrolled", owner="IT Security")
    shipped = {c.control_id for c in load_catalog(MATRIX)}
    assert {c.control_id for c in load_controls(settings)} == shipped | {"acme_okta_mfa_enrolled"}
    assert set(all_oracles()) == shipped  # one oracle per shipped control, none for the company's


def test_every_control_has_an_expected_result_for_every_period_closing_in_the_window(default_company):
    spec = DemoSpec.load(default_company)
    key = read_answer_key(default_company)
    catalog = load_catalog(MATRIX)
    assert len(catalog.controls) >= 35
    for control in catalog:
        closing = {f"{p.start:%Y-%m-%d}" for p in periods_closing_in(spec.window_start, spec.window_end,
                                                                        control.frequency)}
        assert closing, control.control_id
        assert {period for (cid, period) in key if cid == control.control_id} == closing, control.control_id
    assert {cid for cid, _ in key} == {c.control_id for c in catalog}


def test_every_control_is_seeded_with_failures_and_approved_exceptions(default_company):
    """The baseline is compliant; violations are planted. Every control that closes more
    than once in the window fails somewhere, and has at least three approved exceptions."""
    key = read_answer_key(default_company)
    exceptions = Counter(e["control_id"] for e in
                         yaml.safe_load((default_company / "exceptions.yml").read_text())["exceptions"])
    periods = Counter(cid for cid, _ in key)
    for control in load_catalog(MATRIX):
        if periods[control.control_id] < 2:  # the annual control closes once (and passes)
            continue
        statuses = {slot["status"] for (cid, _), slot in key.items() if cid == control.control_id}
        assert "fail" in statuses, control.control_id
        assert exceptions[control.control_id] >= 3, control.control_id
