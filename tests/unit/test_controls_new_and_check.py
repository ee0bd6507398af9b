"""`ccm controls new` scaffolds a control into the company folder; `ccm controls check`
names the file and field of every broken link of every control's chain; the catalog and
the exceptions merge the company's files with the shipped ones."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ccm.cli import app
from ccm.config import Settings
from ccm.controls.catalog import load_catalog, load_controls
from ccm.controls.check import check_controls
from ccm.controls.exceptions import load_exception_register
from ccm.controls.scaffold import init_company_dir, new_control
from ccm.errors import ConfigError
from ccm.sources.registry import dataset_kinds
from tests.conftest import PROJECT_DIR

SCAFFOLDED = ("entity_id", "period_start", "period_end", "observed_at")


@pytest.fixture
def company(tmp_path: Path) -> Settings:
    init_company_dir(tmp_path / "company")
    return Settings.from_env({"CCM_DATA_DIR": str(tmp_path / "var"), "CCM_COMPANY_DIR": str(tmp_path / "company")})


def scaffold(settings: Settings, control_id: str, sources=("okta.users",)) -> list[Path]:
    return new_control(settings, control_id, criteria=["CC6.1"], frequency="daily", sources=list(sources),
                       title=f"{control_id} title", owner="IT Security")


def test_new_writes_the_four_files_of_a_valid_control_into_the_company_folder(company):
    runner = CliRunner()
    result = runner.invoke(app, ["controls", "new", "acme_okta_mfa", "--criteria", "CC6.1", "--criteria", "CC6.2",
                                 "--frequency", "monthly", "--source", "okta.users", "--source", "okta.factors",
                                 "--title", "Okta users: MFA", "--owner", "IT Security"],
                           env={"CCM_COMPANY_DIR": str(company.company_dir), "CCM_DATA_DIR": str(company.data_dir)})
    assert result.exit_code == 0, result.output
    root = Path(company.company_dir)
    sql = (root / "models" / "ctl_acme_okta_mfa.sql").read_text()
    assert "observed_snapshot('stg_okta__users', 'okta.users')" in sql
    assert "observed_snapshot('stg_okta__factors', 'okta.factors')" in sql
    assert "as entity_id" in sql and "period_start" in sql and "ATTRIBUTES THE TEST NEEDS" in sql
    model = yaml.safe_load((root / "models" / "ctl_acme_okta_mfa.yml").read_text())
    assert [c["name"] for c in model["models"][0]["columns"]] == ["entity_id", "period_start", "period_end"]
    assert model["unit_tests"][0]["model"] == "ctl_acme_okta_mfa"
    assert {g["input"] for g in model["unit_tests"][0]["given"]} == {
        "ref('stg_okta__users')", "ref('stg_okta__factors')", "ref('stg_ccm__plan_inputs')"}
    suite = json.loads((root / "suites" / "ctl_acme_okta_mfa.json").read_text())
    assert "id" not in suite and all("id" not in e for e in suite["expectations"])

    control = load_controls(company, dataset_kinds()).get("acme_okta_mfa")
    assert control.criteria == ("CC6.1", "CC6.2") and control.frequency.value == "monthly"
    assert control.defined_in == root / "controls.yml"
    assert control.suite == str(root.resolve() / "suites" / "ctl_acme_okta_mfa")  # the company's file, by path
    assert len(load_controls(company)) == len(load_catalog(company.controls_path)) + 1

    again = runner.invoke(app, ["controls", "new", "acme_okta_mfa", "--criteria", "CC6.1", "--frequency", "daily",
                                "--source", "okta.users", "--title", "t", "--owner", "o"],
                          env={"CCM_COMPANY_DIR": str(company.company_dir), "CCM_DATA_DIR": str(company.data_dir)})
    assert again.exit_code != 0 and "already exists" in str(again.exception) and "controls.yml" in str(again.exception)


def test_new_refuses_to_overwrite_a_file_and_names_it(company):
    stale = Path(company.company_dir) / "suites" / "ctl_acme_left_over.json"
    stale.write_text("{}")
    with pytest.raises(ConfigError, match=r"ctl_acme_left_over\.json already exists"):
        scaffold(company, "acme_left_over")
    assert "acme_left_over" not in (Path(company.company_dir) / "controls.yml").read_text()


def test_new_needs_a_company_folder_or_into_shipped(tmp_path):
    settings = Settings.from_env({"CCM_DATA_DIR": str(tmp_path / "var")})
    with pytest.raises(ConfigError, match=r"CCM_COMPANY_DIR.*--into shipped"):
        scaffold(settings, "acme_anything")


def test_new_into_shipped_writes_the_product_files(tmp_path):
    project = tmp_path / "project"
    for part in ("include", "expectations"):
        shutil.copytree(PROJECT_DIR / part, project / part)
    shutil.copytree(PROJECT_DIR / "dbt" / "models", project / "dbt" / "models")
    settings = Settings.from_env({"CCM_PROJECT_DIR": str(project), "CCM_DATA_DIR": str(tmp_path / "var")})
    written = new_control(settings, "mon_gh_deploys_logged", criteria=["CC8.1"], frequency="weekly",
                          sources=["github.deployments"], title="Deployments", owner="Engineering", into="shipped")
    assert written[0] == settings.controls_path
    sql = (project / "dbt" / "models" / "controls" / "ctl_mon_gh_deploys_logged.sql").read_text()
    assert "events_in_periods('stg_github__deployments', 'created_at')" in sql and "config(" not in sql
    assert (project / "expectations" / "suites" / "ctl_mon_gh_deploys_logged.json").exists()
    assert load_catalog(settings.controls_path, dataset_kinds()).get("mon_gh_deploys_logged").suite \
        == "ctl_mon_gh_deploys_logged"


def _columns(settings: Settings, models: list[str]) -> dict:
    """Stand-in for the dbt build: the scaffolded columns, one model without entity_id."""
    return {m: (SCAFFOLDED[1:] if m == "ctl_acme_no_entity" else SCAFFOLDED)
            for m in models if m.startswith("ctl_acme_")}


def test_check_names_the_file_and_field_of_each_broken_link(company):
    root = Path(company.company_dir)
    for control_id in ("acme_unknown_dataset", "acme_no_model", "acme_no_suite", "acme_bad_type",
                       "acme_missing_column", "acme_no_entity", "acme_fine"):
        scaffold(company, control_id)
    controls = root / "controls.yml"
    text = controls.read_text()
    start = text.index("control_id: acme_unknown_dataset")
    controls.write_text(text[:start] + text[start:].replace("okta.users", "okta.userz", 1))
    (root / "models" / "ctl_acme_no_model.sql").unlink()
    (root / "suites" / "ctl_acme_no_suite.json").unlink()
    for name, change in (("ctl_acme_bad_type", {"type": "expect_column_values_to_be_awesome",
                                                "kwargs": {"column": "entity_id"}}),
                         ("ctl_acme_missing_column", {"type": "expect_column_values_to_be_between",
                                                      "kwargs": {"column": "mfa_factor_count", "min_value": 1}})):
        suite = json.loads((root / "suites" / f"{name}.json").read_text())
        suite["expectations"].append(change)
        (root / "suites" / f"{name}.json").write_text(json.dumps(suite))

    report = check_controls(company, model_columns=_columns)
    problems = [str(p) for p in report.problems]
    assert not report.ok and len(problems) == 7, problems

    def one(*parts: str) -> str:
        found = [p for p in problems if all(part in p for part in parts)]
        assert len(found) == 1, (parts, problems)
        return found[0]

    one(str(controls), "(acme_unknown_dataset)", "sources #1: field 'dataset'", "unknown dataset 'okta.userz'")
    one(str(controls), "control acme_no_model: field 'population_model'", "ctl_acme_no_model.sql")
    one(str(controls), "control acme_no_suite: field 'suite'", "ctl_acme_no_suite.json")
    one(str(root / "suites" / "ctl_acme_bad_type.json"), "expectations #2", "field 'type'",
        "'expect_column_values_to_be_awesome' is not a Great Expectations expectation type")
    one(str(root / "suites" / "ctl_acme_missing_column.json"), "expectations #2", "field 'kwargs.column'",
        "'mfa_factor_count' is not a column of model ctl_acme_missing_column")
    one(str(root / "models" / "ctl_acme_no_entity.sql"), "columns", "no column 'entity_id'")
    one(str(root / "suites" / "ctl_acme_no_entity.json"), "expectations #1", "'entity_id' is not a column")
    assert "acme_fine" not in " ".join(problems)


def test_check_passes_on_the_shipped_matrix_without_building(tmp_path):
    report = check_controls(Settings.from_env({"CCM_DATA_DIR": str(tmp_path / "var")}), build=False)
    assert report.ok, [str(p) for p in report.problems]
    assert len(report.controls) >= 35 and not report.columns_checked


def test_check_refuses_a_company_model_or_suite_named_like_a_shipped_one(company):
    root = Path(company.company_dir)
    scaffold(company, "acme_clash")
    (root / "models" / "ctl_acme_clash.sql").rename(root / "models" / "ctl_iam_okta_mfa.sql")
    controls = root / "controls.yml"
    controls.write_text(controls.read_text().replace("    sources:", "    population_model: ctl_iam_okta_mfa\n"
                                                     "    suite: ctl_iam_okta_mfa\n    sources:", 1))
    suite = json.loads((root / "suites" / "ctl_acme_clash.json").read_text())
    suite["name"] = "ctl_iam_okta_mfa"
    (root / "suites" / "ctl_iam_okta_mfa.json").write_text(json.dumps(suite))
    problems = [str(p) for p in check_controls(company, build=False).problems]
    assert len(problems) == 2, problems
    assert any(p.startswith(f"{root / 'models' / 'ctl_iam_okta_mfa.sql'}: file name: dbt model ctl_iam_okta_mfa "
                            "is also the product's dbt/models/controls/ctl_iam_okta_mfa.sql") for p in problems)
    assert any(p.startswith(f"{controls}: control acme_clash: field 'suite': suite ctl_iam_okta_mfa is also")
               for p in problems)


def test_a_control_id_in_both_files_is_an_error_naming_both(company):
    shipped = (PROJECT_DIR / "include" / "controls.yml").read_text()
    entry = shipped[shipped.index("  - control_id: iam_okta_mfa"):].split("\n\n")[0]
    (Path(company.company_dir) / "controls.yml").write_text("controls:\n" + entry + "\n")
    with pytest.raises(ConfigError, match=r"'iam_okta_mfa' is defined in both .*include/controls\.yml and "
                                          r".*company/controls\.yml"):
        load_controls(company)
    problems = [str(p) for p in check_controls(company, build=False).problems]
    assert len(problems) == 1 and "company/controls.yml" in problems[0] and "include/controls.yml" in problems[0]


def test_exceptions_merge_and_a_repeated_exception_id_names_both_files(company, tmp_path):
    entry = {"exception_id": "EXC-1", "control_id": "iam_okta_mfa", "entity_id": "u1", "reason": "r",
             "approved_by": "ciso", "approved_on": "2025-10-01", "ticket": "T-1", "expires_on": "2025-12-31"}
    (Path(company.company_dir) / "exceptions.yml").write_text(yaml.safe_dump({"exceptions": [entry]}))
    register = load_exception_register(company, {"iam_okta_mfa"})
    assert [e.exception_id for e in register.exceptions] == ["EXC-1"]
    shipped = tmp_path / "shipped-exceptions.yml"
    shipped.write_text(yaml.safe_dump({"exceptions": [{**entry, "entity_id": "u2"}]}))
    with pytest.raises(ConfigError, match=r"'EXC-1' is used in both .*shipped-exceptions\.yml and "
                                          r".*company/exceptions\.yml"):
        load_exception_register(company.with_overrides(exceptions_path=shipped), {"iam_okta_mfa"})
