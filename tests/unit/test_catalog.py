from pathlib import Path

import pytest

from ccm.config import Settings
from ccm.constants import Frequency
from ccm.controls.catalog import load_catalog
from ccm.errors import ConfigError
from ccm.sources.registry import dataset_kinds

VALID = """
controls:
  - control_id: iam_example
    title: Example
    description: An example control.
    criteria: [CC6.1, C1.1]
    owner: Security
    frequency: daily
    sources:
      - {dataset: okta.users, freshness: 6h}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "controls.yml"
    path.write_text(text)
    return path


def test_the_project_control_matrix_is_valid_and_every_control_has_its_model_and_suite():
    settings = Settings.from_env()
    catalog = load_catalog(settings.controls_path, dataset_kinds())
    assert len(catalog) >= 1
    models = {p.stem for p in (settings.dbt_project_dir / "models" / "controls").glob("*.sql")}
    for control in catalog:
        assert control.population_model in models, control.control_id
        assert (settings.gx_dir / "suites" / f"{control.suite}.json").exists(), control.control_id
        assert (settings.dbt_project_dir / "models" / "controls" / f"{control.population_model}.yml").exists()


def test_defaults_and_parsing(tmp_path):
    control = load_catalog(write(tmp_path, VALID), dataset_kinds()).get("iam_example")
    assert control.frequency is Frequency.DAILY
    assert control.population_model == control.suite == "ctl_iam_example"
    assert control.criteria == ("CC6.1", "C1.1")
    assert control.sources[0].freshness.total_seconds() == 6 * 3600


@pytest.mark.parametrize(("change", "message"), [
    (("frequency: daily", "frequency: dialy"), r"control #1 \(iam_example\): field 'frequency' must be one of daily"),
    (("criteria: [CC6.1, C1.1]", "criteria: [CC99]"), r"control #1 \(iam_example\): field 'criteria'"),
    (("    owner: Security\n", ""), r"control #1 \(iam_example\): field 'owner' is required"),
    (("okta.users", "okta.nope"), r"control #1 \(iam_example\): sources #1: field 'dataset' names unknown dataset 'okta.nope'"),
    (("freshness: 6h", "freshness: soon"), r"sources #1: field 'freshness': duration 'soon'"),
    (("control_id: iam_example", "control_id: Example"), r"field 'control_id' must be snake_case"),
    (("    owner: Security\n", "    owner: Security\n    colour: red\n"), r"unknown field\(s\) colour"),
])
def test_errors_name_the_entry_and_field(tmp_path, change, message):
    with pytest.raises(ConfigError, match=message):
        load_catalog(write(tmp_path, VALID.replace(*change)), dataset_kinds())


def test_duplicate_controls_are_refused(tmp_path):
    body = VALID.split("controls:\n", 1)[1]
    with pytest.raises(ConfigError, match="defined twice"):
        load_catalog(write(tmp_path, "controls:\n" + body + body), dataset_kinds())


def test_not_yaml(tmp_path):
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_catalog(write(tmp_path, "controls: [\n"), dataset_kinds())


def test_the_test_matrices_are_subsets_of_the_project_matrix():
    """Tests that run a small matrix must test the real controls, not drifted copies."""
    import yaml

    from tests.conftest import PROJECT_DIR

    project = {c["control_id"]: c for c in yaml.safe_load((PROJECT_DIR / "include" / "controls.yml").read_text())["controls"]}
    for path in (PROJECT_DIR / "tests" / "fixtures" / "controls").glob("*.yml"):
        for control in yaml.safe_load(path.read_text())["controls"]:
            assert control == project[control["control_id"]], f"{path.name}: {control['control_id']} drifted"


def test_the_documented_matrix_is_the_one_the_pipeline_runs():
    """docs/controls.md is `ccm controls list --markdown`: a control, owner, source or suite
    threshold changed without regenerating it fails here."""
    from ccm.controls.describe import matrix_markdown

    settings = Settings.from_env({})
    catalog = load_catalog(settings.controls_path, dataset_kinds())
    documented = (settings.project_dir / "docs" / "controls.md").read_text()
    assert documented == matrix_markdown(settings, catalog), "regenerate: ccm controls list --markdown > docs/controls.md"
    assert "expect_" not in documented  # every expectation type the suites use has a readable template
