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


def test_a_process_parses_the_project_once_and_again_when_a_model_changes(settings, tmp_path, monkeypatch):
    """The parsed project is reused between invocations only while its files are unchanged:
    a build after an edit builds the edited model, and a reused parse builds what a fresh
    parse builds."""
    from ccm import transform

    models = tmp_path / "company" / "models"
    models.mkdir(parents=True)
    model = models / "ctl_parse_probe.sql"
    model.write_text("select 'first' as entity_id\n")
    monkeypatch.setenv("CCM_COMPANY_DIR", str(tmp_path / "company"))
    settings = type(settings).from_env()

    def build() -> list[str]:
        run_dbt(settings, ["build", "--select", "ctl_parse_probe"])
        with connect(settings.warehouse_path, read_only=True) as con:
            return [r[0] for r in con.execute("select entity_id from main.ctl_parse_probe").fetchall()]

    try:
        transform._parsed = None
        assert build() == ["first"]
        parsed = transform._parsed
        assert parsed is not None
        assert build() == ["first"]
        assert transform._parsed is parsed, "an unchanged project was parsed again"
        compiled = (transform.dbt_target_dir(settings) / "compiled").rglob("ctl_parse_probe.sql")
        reused = [p.read_text() for p in compiled]
        assert reused, "the build wrote no compiled SQL (the evidence record hashes it)"

        model.write_text("select 'second' as entity_id\n")
        assert build() == ["second"]
        assert transform._parsed is not parsed, "an edited model was built from the old parse"

        model.write_text("select 'first' as entity_id\n")
        transform._parsed = None  # a fresh parse compiles what the reused one compiled
        assert build() == ["first"]
        compiled = (transform.dbt_target_dir(settings) / "compiled").rglob("ctl_parse_probe.sql")
        assert [p.read_text() for p in compiled] == reused
    finally:
        monkeypatch.delenv("CCM_COMPANY_DIR")
        transform._point_at_company_models(type(settings).from_env())
