"""Suite files need no hand-made ids: the runner fills in missing ones deterministically
and keeps the ones a file has, so every shipped suite loads exactly as GX's own
filesystem store loaded it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from ccm.controls.gx_runner import SuiteRunner
from ccm.controls.suites import read_suite
from ccm.errors import ConfigError
from tests.conftest import PROJECT_DIR

SUITES = PROJECT_DIR / "expectations" / "suites"


@pytest.fixture(scope="module")
def runner(tmp_path_factory) -> SuiteRunner:
    root = tmp_path_factory.mktemp("gx")
    return SuiteRunner(SUITES, root / "results", root / "docs")


def test_shipped_suites_load_as_gx_own_filesystem_store_loads_them(runner, tmp_path):
    import great_expectations as gx
    from great_expectations.data_context.types.base import DataContextConfig

    filesystem = {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(SUITES)}
    reference = gx.get_context(mode="ephemeral", project_config=DataContextConfig(
        stores={"expectations_store": {"class_name": "ExpectationsStore", "store_backend": filesystem}},
        expectations_store_name="expectations_store", analytics_enabled=False))
    names = sorted(p.stem for p in SUITES.glob("*.json"))
    assert len(names) >= 35
    for name in names:
        assert runner.load_suite(name).to_json_dict() == reference.suites.get(name).to_json_dict(), name


def test_a_suite_without_ids_runs_and_gets_the_same_ids_every_time(tmp_path):
    document = json.loads((SUITES / "ctl_iam_okta_mfa.json").read_text())
    document.pop("id")
    document.pop("name")
    for expectation in document["expectations"]:
        expectation.pop("id")
    suites = tmp_path / "suites"
    suites.mkdir()
    (suites / "ctl_iam_okta_mfa.json").write_text(json.dumps(document))
    first, second = read_suite(suites / "ctl_iam_okta_mfa.json"), read_suite(suites / "ctl_iam_okta_mfa.json")
    assert first == second and first["id"] and all(e["id"] for e in first["expectations"])
    assert len({e["id"] for e in first["expectations"]}) == len(first["expectations"])

    runner = SuiteRunner(suites, tmp_path / "results", tmp_path / "docs")
    frame = pd.DataFrame({"entity_id": ["u1", "u2"], "active_factor_count": [1, 0]})
    outcome = runner.validate("ctl_iam_okta_mfa", frame, "run", datetime(2025, 10, 2, tzinfo=UTC))
    assert not outcome.success and outcome.failing_entity_ids == ("u2",)
    assert json.loads((suites / "ctl_iam_okta_mfa.json").read_text()) == document  # GX never writes the file
    # a company suite is named by its absolute path (without .json): the same file, by path
    other = SuiteRunner(Path("/nonexistent"), tmp_path / "results2", tmp_path / "docs2")
    outcome = other.validate(str(suites / "ctl_iam_okta_mfa"), frame, "run", datetime(2025, 10, 2, tzinfo=UTC))
    assert outcome.failing_entity_ids == ("u2",) and outcome.result_id.startswith("ctl_iam_okta_mfa/")


def test_a_suite_named_unlike_its_file_is_refused(tmp_path):
    (tmp_path / "ctl_a.json").write_text(json.dumps({"name": "ctl_b", "expectations": []}))
    with pytest.raises(ConfigError, match=r"ctl_a.json: field 'name'"):
        read_suite(tmp_path / "ctl_a.json")
