"""HR roster exports: read on time, refused when missing or malformed."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ccm.constants import ExtractStatus
from ccm.errors import SourceError
from ccm.lake import Lake
from ccm.manifests import RunContext
from ccm.pipeline import extract
from ccm.sources.exports.datasets import EMPLOYEES
from ccm.sources.extract import Interval
from ccm_demo.simulator import generate
from ccm_demo.spec import DemoSpec
from ccm_demo.standins import inbox as inbox_standin
from ccm_demo.world.hr import missing_export_days


def deliver(demo_dir: Path, settings, moment: datetime) -> None:
    inbox_standin.advance_to(demo_dir, moment, {"CCM_INBOX_URI": settings.inbox_uri})


def extract_day(settings, day: datetime):
    return extract(settings, "hr.employees", Interval(day, day + timedelta(days=1)), RunContext(), lambda _c: None)


def test_the_days_roster_is_extracted_with_every_person(settings, demo_dir, small_spec):
    day = small_spec.window_start + timedelta(days=3)
    deliver(demo_dir, settings, small_spec.observation_time(day + timedelta(days=1)))
    manifest = extract_day(settings, day)
    assert manifest.status is ExtractStatus.COMPLETE
    assert manifest.inputs[0].name == f"hr/employees/employees_{day:%Y-%m-%d}.csv"
    table = pq.read_table(Lake(settings.lake_uri)._abs(manifest.files_written[0].path))
    assert manifest.rows_written == table.num_rows >= small_spec.employees
    assert set(table.column("status").to_pylist()) <= {"Active", "Pending", "Terminated"}
    assert table.schema.field("hire_date").type == "date32[day]"


def test_an_export_not_yet_delivered_fails_naming_the_file(settings, demo_dir, small_spec):
    day = small_spec.window_start + timedelta(days=3)
    deliver(demo_dir, settings, day + timedelta(hours=23))  # before the export for `day` arrives
    with pytest.raises(SourceError, match=r"hr: export hr/employees/employees_2025-10-04\.csv was not delivered "
                                          r"\(no export dated 2025-10-04 in .*/hr/employees; latest is "
                                          r"hr/employees/employees_2025-10-03\.csv\)"):
        extract_day(settings, day)


def test_the_missing_november_export_is_planted(tmp_path):
    spec = DemoSpec(employees=20, days=92)
    assert missing_export_days(spec) == {datetime.fromisoformat("2025-11-30T00:00:00+00:00")}
    demo = generate(spec, tmp_path / "demo")
    assert not (demo / "world" / "exports" / "hr" / "employees" / "employees_2025-11-30.csv").exists()
    assert (demo / "world" / "exports" / "hr" / "employees" / "employees_2025-12-01.csv").exists()


def test_a_row_without_an_employee_id_refuses_the_export_naming_line_and_column(settings, demo_dir, small_spec):
    day = small_spec.window_start
    deliver(demo_dir, settings, small_spec.observation_time(day + timedelta(days=1)))
    export = Path(settings.inbox_uri) / "hr" / "employees" / f"employees_{day:%Y-%m-%d}.csv"
    lines = export.read_text().splitlines()
    lines[2] = "," + lines[2].split(",", 1)[1]
    export.write_text("\n".join(lines) + "\n")
    with pytest.raises(SourceError, match=r"hr: hr/employees/employees_2025-10-01\.csv line 3 column 'employee_id': "
                                          r"required field 'employee_id' is missing"):
        extract_day(settings, day)
    assert Lake(settings.lake_uri).dataset_files(EMPLOYEES) == []
