"""The dbt project builds on DuckDB over an empty lake, and its unit tests pass."""

from __future__ import annotations

import pytest

from ccm.lake import Lake
from ccm.sources.registry import ALL_DATASETS
from ccm.transform import TransformError, run_dbt
from ccm.warehouse import connect, register_lake, register_planned_files

pytestmark = pytest.mark.integration


def test_the_whole_project_builds_and_its_unit_tests_pass(settings):
    with connect(settings.warehouse_path) as con:
        register_lake(con, Lake(settings.lake_uri), list(ALL_DATASETS))
        register_planned_files(con, Lake(settings.lake_uri), list(ALL_DATASETS), None)
    results = run_dbt(settings, ["build"])
    statuses = {r["node"]: r["status"] for r in results}
    unit_tests = [n for n in statuses if n.startswith("unit_test.")]
    assert unit_tests, "the project has no dbt unit tests"
    assert all(status in {"success", "pass"} for status in statuses.values()), statuses
    with connect(settings.warehouse_path, read_only=True) as con:
        tables = {r[0] + "." + r[1] for r in con.execute(
            "select table_schema, table_name from information_schema.tables").fetchall()}
    assert "controls.ctl_iam_okta_mfa" in tables
    assert "staging.stg_okta__users" in tables


def test_a_broken_model_fails_loudly_naming_it(settings, tmp_path):
    with connect(settings.warehouse_path) as con:
        register_lake(con, Lake(settings.lake_uri), list(ALL_DATASETS))
        register_planned_files(con, Lake(settings.lake_uri), list(ALL_DATASETS), None)
    with pytest.raises(TransformError, match="does_not_exist"):
        run_dbt(settings, ["show", "--inline", "select * from does_not_exist"])
