"""docs/controls-howto.md, step by step, in a temporary copy of the project.

A company folder is created with `ccm controls init`, a control is scaffolded into it with
`ccm controls new` (Okta users who can sign in have MFA enrolled), its SQL and suite are
filled in, `ccm controls check` passes, the small demo company is extracted and evaluated
for a few days, and the control's results are compared with failing users computed here,
independently, from the lake files; `ccm evidence verify` is OK and the evidence records
name the company's own model and suite files by hash.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ccm.cli import app
from ccm.config import Settings
from ccm.lake import Lake
from ccm.sources.registry import get_dataset
from tests.conftest import PROJECT_DIR

pytestmark = pytest.mark.integration

CONTROL = "acme_okta_mfa_enrolled"
DAYS = 3
CAN_SIGN_IN = {"ACTIVE", "PASSWORD_EXPIRED", "LOCKED_OUT", "RECOVERY"}

# what the howto asks the reader to add: the attribute the test needs ...
ATTRIBUTE = """\
    (
        select count(*)
        from okta_factors
        where okta_factors.period_start = okta_users.period_start
          and okta_factors.user_id = okta_users.user_id
          and okta_factors.factor_status = 'ACTIVE'
          and okta_factors.factor_type <> 'question'
    ) as mfa_factor_count,
"""
# ... and the expectation on it
EXPECTATION = {"type": "expect_column_values_to_be_between",
               "kwargs": {"column": "mfa_factor_count", "min_value": 1},
               "meta": {"notes": "CC6.1: every Okta user who can sign in has an active factor other than a "
                                 "security question."},
               "severity": "critical"}


def _project_copy(root: Path) -> Path:
    project = root / "project"
    ignore = shutil.ignore_patterns("target", "logs", "dbt_packages", "company_models")
    for part in ("dbt", "expectations", "include"):
        shutil.copytree(PROJECT_DIR / part, project / part, ignore=ignore)
    return project


def _expected_failing(settings: Settings, period_end) -> set[str]:
    """Users who can sign in without an active non-question factor, in the first observation
    of users and of factors made after the period closed (what the engine picks)."""
    lake = Lake(settings.lake_uri)

    def first_observation(dataset_key: str) -> list[dict]:
        rows = []
        for path in lake.dataset_files(get_dataset(dataset_key)):
            rows += pq.read_table(io.BytesIO(lake.read_bytes(path))).to_pylist()
        observed = min(r["observed_at"] for r in rows if r["observed_at"] >= period_end)
        return [r for r in rows if r["observed_at"] == observed]

    enrolled = {f["user_id"] for f in first_observation("okta.factors")
                if f["status"] == "ACTIVE" and f["factor_type"] != "question"}
    return {u["user_id"] for u in first_observation("okta.users")
            if u["status"] in CAN_SIGN_IN and u["user_id"] not in enrolled}


def test_a_control_written_without_python_runs_and_leaves_verified_evidence(tmp_path, demo_dir, monkeypatch):
    from ccm.evidence.store import EvidenceStore
    from ccm.report import current_results
    from ccm_demo.verify import run_window

    project = _project_copy(tmp_path)
    company = tmp_path / "acme-controls"
    demo = Path(shutil.copytree(demo_dir, tmp_path / "demo"))
    env = {"CCM_PROJECT_DIR": str(project), "CCM_DATA_DIR": str(tmp_path / "var"),
           "CCM_CONTROLS": str(PROJECT_DIR / "tests" / "fixtures" / "controls" / "okta_only.yml"),
           "CCM_EXCEPTIONS": str(demo / "exceptions.yml"), "CCM_COMPANY_DIR": str(company)}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()

    # 1. the company folder
    result = runner.invoke(app, ["controls", "init", str(company)])
    assert result.exit_code == 0, result.output
    # 2. the control's files
    result = runner.invoke(app, ["controls", "new", CONTROL, "--criteria", "CC6.1", "--frequency", "daily",
                                 "--source", "okta.users", "--source", "okta.factors",
                                 "--title", "Okta users have MFA enrolled", "--owner", "IT Security"])
    assert result.exit_code == 0, result.output
    # 3. one expectation (before the SQL, as the howto shows)
    suite_file = company / "suites" / f"ctl_{CONTROL}.json"
    suite = json.loads(suite_file.read_text())
    suite["expectations"].append(EXPECTATION)
    suite_file.write_text(json.dumps(suite, indent=2) + "\n")
    # the check builds the population with dbt: the expectation's column is not there yet
    result = runner.invoke(app, ["controls", "check"])
    output = " ".join(result.output.split())
    assert result.exit_code == 1, result.output
    assert (f"{suite_file.resolve()}: expectations #2 (expect_column_values_to_be_between): field 'kwargs.column': column "
            f"'mfa_factor_count' is not a column of model ctl_{CONTROL}") in output
    assert "2 controls checked (catalog, model files, model columns, suites): 1 problem(s)" in output
    # 4. the SQL: the attribute the test needs, and the population (users who can sign in)
    model = company / "models" / f"ctl_{CONTROL}.sql"
    sql = model.read_text()
    marker = "    -- >>> ATTRIBUTES THE TEST NEEDS"
    assert marker in sql and sql.rstrip().endswith("from okta_users")
    sql = sql.replace(marker, ATTRIBUTE + marker, 1).rstrip() + "\nwhere okta_users.can_sign_in\n"
    model.write_text(sql)
    unit_test = company / "models" / f"ctl_{CONTROL}.yml"
    unit_test.write_text(unit_test.read_text().replace('user_id: "user-id-1"}', 'user_id: "user-id-1", '
                                                       'can_sign_in: true}', 1))
    # 5. the whole chain checks (the population is built by dbt into a throw-away warehouse)
    result = runner.invoke(app, ["controls", "check"])
    assert result.exit_code == 0, result.output
    assert "2 controls checked (catalog, model files, model columns, suites): OK" in " ".join(result.output.split())

    # 6. run: extract the demo company's Okta day by day, then plan, build and evaluate
    settings = Settings.from_env()
    assert settings.company_dir == company.resolve()
    run_window(settings, demo, DAYS, datasets=["okta.users", "okta.factors"])

    results = current_results(settings)
    rows = [r for r in results if r["control_id"] == CONTROL]
    assert len(rows) == DAYS
    # a day the demo's Okta was down is not_tested, for the shipped MFA control as for ours
    shipped = {r["period_start"]: r["status"] for r in results if r["control_id"] == "iam_okta_mfa"}
    for row in rows:
        assert (row["status"] == "not_tested") == (shipped[row["period_start"]] == "not_tested"), row
        if row["status"] == "not_tested":
            assert "could not" not in (row["reason"] or ""), row  # inputs missing, not a broken test
    rows = [r for r in rows if r["status"] != "not_tested"]
    assert rows and {r["status"] for r in rows} <= {"pass", "fail"}, rows
    failing_somewhere = False
    for row in rows:
        expected = _expected_failing(settings, row["period_end"])
        assert set(row["failing_entity_ids"] or []) == expected, row["period_start"]
        assert row["status"] == ("fail" if expected else "pass")
        failing_somewhere |= bool(expected)
    assert failing_somewhere, "the demo company plants users without MFA"

    # 7. the evidence names the company's own files, and verifies
    store = EvidenceStore(settings.evidence_uri)
    record = json.loads(store.get(rows[0]["evidence_path"]))
    assert record["code"]["gx_suite_sha256"] == hashlib.sha256(suite_file.read_bytes()).hexdigest()
    assert record["code"]["dbt_model_sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert record["gx"]["success"] is (rows[0]["status"] == "pass")
    start = rows[0]["period_start"]
    result = runner.invoke(app, ["evidence", "verify", "--from", f"{start:%Y-%m-%d}",
                                 "--to", f"{start + timedelta(days=DAYS - 1):%Y-%m-%d}"])
    assert result.exit_code == 0, result.output
    assert "UNSIGNED: the chain is internally consistent" in result.output


def test_a_scaffolded_control_builds_as_written_for_every_dataset(tmp_path, monkeypatch):
    """`ccm controls new` for each dataset the product knows: every model builds (with its dbt
    unit test) and yields entity_id and the period columns, as `ccm controls check` sees it."""
    from ccm.controls.check import check_controls
    from ccm.controls.scaffold import init_company_dir, new_control
    from ccm.sources.registry import ALL_DATASETS

    project = _project_copy(tmp_path)
    init_company_dir(tmp_path / "company")
    monkeypatch.delenv("CCM_CONTROLS", raising=False)
    settings = Settings.from_env({
        "CCM_PROJECT_DIR": str(project), "CCM_DATA_DIR": str(tmp_path / "var"),
        "CCM_CONTROLS": str(PROJECT_DIR / "tests" / "fixtures" / "controls" / "okta_only.yml"),
        "CCM_COMPANY_DIR": str(tmp_path / "company")})
    for dataset in ALL_DATASETS:
        new_control(settings, "zz_" + dataset.key.replace(".", "_"), criteria=["CC6.1"], frequency="weekly",
                    sources=[dataset.key], title=dataset.key, owner="IT")
    report = check_controls(settings)
    assert report.ok and report.columns_checked, [str(p) for p in report.problems]
    assert len(report.controls) == len(ALL_DATASETS) + 1
