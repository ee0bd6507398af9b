"""`ccm init` (issue 18 item 1): a complete starting configuration, and re-running it never
overwrites what the user changed."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from typer.testing import CliRunner

from ccm.cli import app
from ccm.config import Settings
from ccm.sources.connections import from_env
from ccm.sources.exports.contract import load_mappings
from ccm.sources.exports.datasets import DATASETS
from ccm.sources.exports.inbox import Inbox
from ccm.sources.registry import FAMILIES


def exported(path) -> dict[str, str]:
    """The variables a shell would get from `source path` (uncommented `export NAME=value` lines)."""
    out = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^export ([A-Z0-9_]+)=(.*)$", line)
        if match:
            out[match.group(1)] = shlex.split(match.group(2))[0] if match.group(2) else ""
    return out


def init(folder):
    result = CliRunner().invoke(app, ["init", str(folder)], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    return result.output


def test_init_writes_every_connection_setting_and_export_template(settings, tmp_path):
    output = init(tmp_path / "cfg")
    connections = exported(tmp_path / "cfg" / "connections.env")
    needed = {f"AIRFLOW_CONN_{f.conn_id.upper()}" for f in FAMILIES if f.conn_id}
    assert set(connections) == needed
    for name, value in connections.items():  # each parses as the pipeline reads it
        conn_id = name.removeprefix("AIRFLOW_CONN_").lower()
        assert from_env(conn_id, {name: value}).conn_id == conn_id
    text = (tmp_path / "cfg" / "connections.env").read_text()
    assert "#   extra.accounts:" in text and "#   extra.org:" in text and "#   password:" in text
    assert "export CCM_EVIDENCE_RETENTION_DAYS=400" in (tmp_path / "cfg" / "settings.env").read_text()
    mapping = exported(tmp_path / "cfg" / "settings.env")["CCM_INBOX_MAPPING"]
    assert load_mappings(Settings.from_env({"CCM_INBOX_MAPPING": mapping}).inbox_mapping_path, {}) == {}
    inbox = Inbox(settings.inbox_uri)
    for dataset in DATASETS:
        directory = f"{dataset.source}/{dataset.name}"
        assert list((Path(settings.inbox_uri) / directory).glob(f"{dataset.name}.template.*"))
        assert inbox.exports(directory) == []  # a template is never read as a day's export
    assert "created" in output


def test_rerunning_init_keeps_what_the_user_changed_and_adds_only_what_is_missing(settings, tmp_path):
    folder = tmp_path / "cfg"
    init(folder)
    connections = folder / "connections.env"
    okta = exported(connections)["AIRFLOW_CONN_OKTA_DEFAULT"]
    edited = connections.read_text().replace(okta, json.dumps({"conn_type": "http", "host": "https://acme.okta.com",
                                                                "password": "secret-token"}))
    # the user also removed the GitHub connection block (GitHub not used yet)
    edited = re.sub(r"# github_default.*?export AIRFLOW_CONN_GITHUB_DEFAULT=.*?\n", "", edited, flags=re.S)
    connections.write_text(edited)
    (folder / "inbox_mapping.yml").write_text("hr.employees:\n  encoding: cp1252\n")
    template = tmp_path / "var" / "inbox" / "hr" / "employees" / "employees.template.csv"
    template.write_text("my own notes\n")
    output = init(folder)
    after = connections.read_text()
    assert after.startswith(edited)  # nothing the user wrote changed
    assert exported(connections)["AIRFLOW_CONN_OKTA_DEFAULT"] == json.dumps(
        {"conn_type": "http", "host": "https://acme.okta.com", "password": "secret-token"})
    assert "AIRFLOW_CONN_GITHUB_DEFAULT" in exported(connections)  # the missing one is added back
    assert after.count("AIRFLOW_CONN_OKTA_DEFAULT=") == 1
    assert (folder / "inbox_mapping.yml").read_text() == "hr.employees:\n  encoding: cp1252\n"
    assert template.read_text() == "my own notes\n"
    assert f"added to {connections}" in output and f"kept {folder / 'settings.env'}" in output
