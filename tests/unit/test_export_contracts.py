"""Documented export contracts (issue 18 item 5): docs/datasets.md, templates, column mappings,
and a malformed export refused whole with its file, line and column named."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ccm.cli import app
from ccm.config import Settings
from ccm.constants import ExtractStatus
from ccm.controls.catalog import load_catalog
from ccm.controls.describe import datasets_markdown
from ccm.errors import ConfigError, ExportError
from ccm.lake import Lake
from ccm.manifests import RunContext
from ccm.pipeline import extract
from ccm.sources.describe import inbox_template
from ccm.sources.exports.datasets import EMPLOYEES, RISKS, TRAINING_COMPLETIONS
from ccm.sources.extract import Interval
from ccm.sources.registry import dataset_kinds, get_dataset
from ccm_demo.standins import inbox as inbox_standin


def test_the_documented_contracts_are_the_ones_the_extract_enforces():
    """docs/datasets.md is `ccm datasets list --markdown`: a column, type, key or freshness
    changed without regenerating it fails here."""
    settings = Settings.from_env({})
    catalog = load_catalog(settings.controls_path, dataset_kinds())
    documented = (settings.project_dir / "docs" / "datasets.md").read_text()
    assert documented == datasets_markdown(catalog), "regenerate: ccm datasets list --markdown > docs/datasets.md"
    assert "| `termination_at` | `termination_datetime` | timestamp |  |" in documented
    assert "- inbox file: `<inbox>/hr/employees/employees_YYYY-MM-DD.csv`" in documented


@pytest.fixture
def day(small_spec):
    return small_spec.window_start + timedelta(days=2)


@pytest.fixture
def roster(settings, demo_dir, small_spec, day) -> Path:
    """The demo's real roster export for `day`, delivered to the inbox, to be edited by the test."""
    inbox_standin.advance_to(demo_dir, small_spec.observation_time(day + timedelta(days=1)),
                             {"CCM_INBOX_URI": settings.inbox_uri})
    return Path(settings.inbox_uri) / "hr" / "employees" / f"employees_{day:%Y-%m-%d}.csv"


def extract_roster(settings, day):
    return extract(settings, "hr.employees", Interval(day, day + timedelta(days=1)), RunContext(), lambda _c: None)


def rows_of(path: Path, encoding: str = "utf-8") -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(path.read_text(encoding=encoding)))
    return list(reader.fieldnames or []), list(reader)


def write_rows(path: Path, header: list[str], rows: list[dict[str, str]], encoding: str = "utf-8") -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))


def refused(settings, day, match: str) -> ExportError:
    with pytest.raises(ExportError, match=match) as caught:
        extract_roster(settings, day)
    assert Lake(settings.lake_uri).dataset_files(EMPLOYEES) == []  # nothing of it landed
    return caught.value


def test_the_unchanged_roster_loads(settings, roster, day):
    assert extract_roster(settings, day).status is ExtractStatus.COMPLETE


def test_a_missing_column_is_named_with_the_file_and_header_line(settings, roster, day):
    header, rows = rows_of(roster)
    header.remove("termination_datetime")  # an optional column: absent it would read "nobody left"
    write_rows(roster, header, [{k: v for k, v in r.items() if k != "termination_datetime"} for r in rows])
    error = refused(settings, day, rf"hr/employees/employees_{day:%Y-%m-%d}\.csv line 1 column "
                                   r"'termination_datetime': the header has no column 'termination_datetime'")
    assert (error.line, error.column) == (1, "termination_datetime")


def test_an_unparseable_date_is_named_by_line_and_column(settings, roster, day):
    header, rows = rows_of(roster)
    rows[4]["hire_date"] = "next Tuesday"
    write_rows(roster, header, rows)
    error = refused(settings, day, r"employees_.*\.csv line 6 column 'hire_date': field 'hire_date' should be "
                                   r"date, got 'next Tuesday'")
    assert error.line == 6


def test_a_duplicate_key_is_named_with_both_lines(settings, roster, day):
    header, rows = rows_of(roster)
    rows.append(dict(rows[0], work_email="someone.else@example.com"))
    write_rows(roster, header, rows)
    refused(settings, day, rf"line {len(rows) + 1} column 'employee_id': duplicate key {rows[0]['employee_id']} "
                           r"\(also at line 2\)")


def test_a_wrong_encoding_is_named_by_line(settings, roster, day):
    header, rows = rows_of(roster)
    rows[2]["last_name"] = "Müller"
    write_rows(roster, header, rows, encoding="latin-1")
    refused(settings, day, r"employees_.*\.csv line 4: byte 0xfc at offset \d+ is not utf-8-sig "
                           r"\(set `encoding` for this dataset in the inbox mapping\)")


def test_an_empty_file_is_refused(settings, roster, day):
    roster.write_bytes(b"")
    refused(settings, day, r"employees_.*\.csv: the file is empty")


def test_a_missing_required_value_is_named_by_line_and_column(settings, roster, day):
    header, rows = rows_of(roster)
    rows[0]["employee_id"] = ""
    write_rows(roster, header, rows)
    refused(settings, day, r"line 2 column 'employee_id': required field 'employee_id' is missing")


HRIS_MAPPING = """\
hr.employees:
  columns:
    Employee Number: employee_id
    Work Email: work_email
    Hire Date: hire_date
    Terminated: termination_datetime
  date_formats:
    hire_date: "%m/%d/%Y"
    termination_datetime: "%m/%d/%Y %H:%M"
  encoding: latin-1
"""


def test_an_hris_export_with_its_own_columns_dates_and_encoding_loads_through_the_mapping(
        settings, roster, day, tmp_path, monkeypatch):
    header, rows = rows_of(roster)
    renames = {"employee_id": "Employee Number", "work_email": "Work Email", "hire_date": "Hire Date",
               "termination_datetime": "Terminated"}
    theirs = []
    for row in rows:
        hired = row["hire_date"]
        left = row["termination_datetime"]
        row = dict(row, hire_date=f"{hired[5:7]}/{hired[8:10]}/{hired[:4]}",
                   termination_datetime=f"{left[5:7]}/{left[8:10]}/{left[:4]} {left[11:16]}" if left else "")
        theirs.append({renames.get(k, k): v for k, v in row.items()})
    theirs[0]["last_name"] = "Müller"
    write_rows(roster, [renames.get(h, h) for h in header], theirs, encoding="latin-1")
    # without the mapping the export is refused naming what is wrong: first its encoding, then its columns
    refused(settings, day, r"line 2: byte 0xfc at offset \d+ is not utf-8-sig")
    roster.write_bytes(roster.read_bytes().replace("Müller".encode("latin-1"), b"Muller"))
    refused(settings, day, r"line 1 column 'employee_id': the header has no column 'employee_id'")
    roster.write_bytes(roster.read_bytes().replace(b"Muller", "Müller".encode("latin-1")))
    mapping = tmp_path / "inbox_mapping.yml"
    mapping.write_text(HRIS_MAPPING)
    monkeypatch.setenv("CCM_INBOX_MAPPING", str(mapping))
    manifest = extract_roster(Settings.from_env(), day)
    assert manifest.status is ExtractStatus.COMPLETE
    table = pq.read_table(Lake(settings.lake_uri)._abs(manifest.files_written[0].path)).to_pylist()
    by_id = {r["employee_id"]: r for r in table}
    assert len(by_id) == len(rows)
    for original in rows:
        loaded = by_id[original["employee_id"]]
        assert loaded["email"] == original["work_email"]
        assert loaded["hire_date"].isoformat() == original["hire_date"]
        if original["termination_datetime"]:
            assert loaded["termination_at"].isoformat()[:16] == original["termination_datetime"][:16]
        else:
            assert loaded["termination_at"] is None
    assert by_id[rows[0]["employee_id"]]["last_name"] == "Müller"


def test_a_date_not_in_the_configured_format_is_named(settings, roster, day, tmp_path, monkeypatch):
    mapping = tmp_path / "inbox_mapping.yml"
    mapping.write_text('hr.employees:\n  date_formats:\n    hire_date: "%m/%d/%Y"\n')
    monkeypatch.setenv("CCM_INBOX_MAPPING", str(mapping))
    with pytest.raises(ExportError, match=r"line 2 column 'hire_date': '\d{4}-\d{2}-\d{2}' does not match the date "
                                          r"format '%m/%d/%Y'"):
        extract_roster(Settings.from_env(), day)


@pytest.mark.parametrize(("text", "message"), [
    ("hr.staff: {}\n", "'hr.staff' is not an inbox export dataset"),
    ("hr.employees:\n  columns: {Email: email}\n", "maps to 'email', which is not a source field"),
    ("hr.employees:\n  date_formats: {department: '%Y'}\n", "'department', which is not a date or timestamp"),
    ("hr.employees:\n  encoding: klingon\n", "unknown encoding 'klingon'"),
    ("hr.employees:\n  colums: {}\n", "unknown keys \\['colums'\\]"),
])
def test_a_wrong_mapping_fails_naming_what_is_wrong(settings, roster, day, tmp_path, monkeypatch, text, message):
    mapping = tmp_path / "inbox_mapping.yml"
    mapping.write_text(text)
    monkeypatch.setenv("CCM_INBOX_MAPPING", str(mapping))
    with pytest.raises(ConfigError, match=message):
        extract_roster(Settings.from_env(), day)


def test_a_template_has_the_contract_columns_and_never_loads_unchanged(settings, roster, day, tmp_path):
    target = tmp_path / "employees.csv"
    result = CliRunner().invoke(app, ["inbox", "template", "hr.employees", "--out", str(target)])
    assert result.exit_code == 0, result.output
    header, rows = rows_of(target)
    assert header == [c.path for c in EMPLOYEES.columns]
    assert rows[0]["hire_date"] == "<YYYY-MM-DD>"
    again = CliRunner().invoke(app, ["inbox", "template", "hr.employees", "--out", str(target)])
    assert again.exit_code != 0 and "not overwritten" in str(again.exception)
    roster.write_text(target.read_text())  # delivered as it is: refused, not loaded as a person
    refused(settings, day, r"line 2 column 'hire_date'")
    # filled in with one real person, it loads
    _, real = rows_of(roster.with_name("employees_" + f"{day - timedelta(days=1):%Y-%m-%d}.csv"))
    write_rows(roster, header, real[:1])
    assert extract_roster(settings, day).rows_written == 1


def test_json_templates_nest_dotted_fields_and_api_datasets_have_none():
    record = json.loads(inbox_template(RISKS))[0]
    assert record["owner"] == {"email": "<text>", "name": "<text>"}
    assert record["identified_on"] == "<YYYY-MM-DD>"
    assert inbox_template(TRAINING_COMPLETIONS).startswith("enrollment_id,user_id,employee_number,")
    with pytest.raises(ConfigError, match="read from an API"):
        inbox_template(get_dataset("okta.users"))
