"""One GitHub-only pass of `ccm demo verify` over October, shared by the tests of this directory.

The company is the small one (40 people) with a 62-day window, so the planted GitHub outage
falls in November and October's monthly controls are evaluated; only October is run.
"""

from __future__ import annotations

import pytest

from ccm.config import Settings
from ccm.sources.registry import datasets_of
from ccm_demo.simulator import generate
from ccm_demo.spec import DemoSpec

GITHUB_CONTROLS = ["iam_github_org_2fa", "chg_pr_independent_approval", "chg_pr_checks_passed",
                   "chg_branch_protection", "chg_deploy_from_ci", "mon_dependabot_sla"]
DAYS = 31


@pytest.fixture(scope="module")
def github_verified(tmp_path_factory: pytest.TempPathFactory):
    from ccm_demo.verify import compare_with_answer_key, run_window

    root = tmp_path_factory.mktemp("github-verify")
    demo_dir = generate(DemoSpec(seed=7, employees=40, days=62), root / "demo")
    settings = Settings.from_env({"CCM_DATA_DIR": str(root / "var")}).with_overrides(
        exceptions_path=demo_dir / "exceptions.yml")
    datasets = [d.key for d in datasets_of("github") if d.name != "workflow_runs"]  # no control reads it
    run_window(settings, demo_dir, DAYS, controls=GITHUB_CONTROLS, datasets=datasets)
    compared, mismatches = compare_with_answer_key(settings, demo_dir, DAYS, GITHUB_CONTROLS)
    return settings, demo_dir, compared, mismatches


@pytest.fixture
def github_results(github_verified):
    from ccm.report import current_results

    settings = github_verified[0]
    return [r for r in current_results(settings) if r["control_id"] in GITHUB_CONTROLS]
