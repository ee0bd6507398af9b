"""LMS: course enrolments and completions, from the learning platform's nightly CSV report.

`<inbox>/lms/training_completions/training_completions_YYYY-MM-DD.csv` is the LMS's
"course completion" report as of the end of that day: one row per enrolment (assigned,
in progress or completed) of every LMS user, with the HR employee number the LMS gets
from the HRIS. It includes people HR no longer lists and LMS-only guest accounts, so
controls take their population from the HR roster and only look completions up here.

A snapshot dataset, not an event log: the report is the LMS's current register (an
enrolment's status and completion date are edited in place, admins can backdate or
void a completion), there is no change feed, and the controls need each learner's
history going back more than a year. Each day's report is one observation.
"""

from __future__ import annotations

from ccm.constants import DatasetKind
from ccm.datasets import Column, ColumnType, Dataset
from ccm.sources.exports.daily import export_family

SOURCE = "lms"

TRAINING_COMPLETIONS = Dataset(
    source=SOURCE,
    name="training_completions",
    kind=DatasetKind.SNAPSHOT,
    description="LMS course enrolments with their status and completion time, one row per enrolment.",
    key_columns=("enrollment_id",),
    columns=(
        Column("enrollment_id", "enrollment_id", required=True),
        Column("lms_user_id", "user_id", required=True),
        Column("employee_id", "employee_number", description="HR employee id; empty for LMS-only accounts"),
        Column("email", "email", required=True),
        Column("course_code", "course_code", required=True),
        Column("course_title", "course_title"),
        Column("curriculum", "curriculum", required=True),
        Column("assigned_at", "assigned_at", ColumnType.TIMESTAMP, required=True),
        Column("due_date", "due_date", ColumnType.DATE),
        Column("completed_at", "completed_at", ColumnType.TIMESTAMP),
        Column("status", "status", required=True),
        Column("score", "score", ColumnType.INT),
    ),
)

DATASETS = (TRAINING_COMPLETIONS,)

FAMILY = export_family(SOURCE, DATASETS, {TRAINING_COMPLETIONS.name: "csv"})
