"""The export families' dataset contracts: HR, the LMS, the GRC tool and screening vendor, the IGA tool.

Every dataset here is a snapshot of a register one system exports whole once a day into
the inbox, `<inbox>/<source>/<dataset>/<dataset>_YYYY-MM-DD.<format>` (`FORMATS` gives each
dataset's format); `ccm.sources.exports` builds one family per source from them.

GRC records (`grc`): the compliance tool's registers and the screening vendor's report, as inbox exports.

One export per register per day, as of the end of the day it is dated by, under
`<inbox>/grc/<dataset>/<dataset>_YYYY-MM-DD.<json|csv>`:

| dataset                 | format | what it is                                                   |
|-------------------------|--------|--------------------------------------------------------------|
| background_checks       | CSV    | the screening vendor's report: one row per check ordered     |
| policies                | JSON   | policy documents, one record per version (draft/published/…) |
| policy_acknowledgements | CSV    | who acknowledged which policy version, when                  |
| risks                   | JSON   | the risk register: severity, owner, mitigation, reviews      |
| vendors                 | JSON   | the vendor register with each vendor's latest security review |
| incidents               | JSON   | security incidents with closure and postmortem               |
| tabletop_exercises      | JSON   | incident-response tabletop exercises, held and scheduled     |
| restore_tests           | JSON   | backup restore tests per system, with result                 |

Every dataset is a snapshot: each export is the register's state when it was produced,
records are edited in place (a risk gets a new owner, a postmortem date is filled in, a
vendor review replaces the previous one) and the tools keep no change feed we could
replay. So a control reads the observation made just after its period closed, and a
backfill cannot recreate a past day's register (those periods are `not_tested`).

HR (`hr`): the employee roster, from the HRIS's daily export in the inbox.

`<inbox>/hr/employees/employees_YYYY-MM-DD.csv` is the roster as of the end of that day:
everyone employed, pre-boarding or terminated (with the termination moment in UTC).
It is the authoritative list of people for every control that asks "who works here",
"who joined" and "who left". A snapshot dataset: each day's export is one observation.

Identity governance exports (`iga`): approved administrators and user-access reviews.

Both arrive in the inbox as daily exports dated by the day they describe, like the HR
roster (`ccm.sources.exports.inbox`):
- `<inbox>/iga/approved_admins/approved_admins_YYYY-MM-DD.csv`: the approved-administrator
  register at the end of that day, one row per approval (system, account, role, approver,
  approval time, ticket, expiry). The administrator controls compare every admin role
  found in Okta, Google (and, after the merge, GitHub and AWS) with it.
- `<inbox>/iga/access_reviews/access_reviews_YYYY-MM-DD.json`: the cumulative register of
  user-access review campaigns (one object per campaign and system: reviewer, started,
  completed, signed off by whom and when), as of the end of that day.

Snapshot datasets: each day's export is one observation. A missing export fails naming
the file expected, so the controls that need it are `not_tested` for that day.

LMS (`lms`): course enrolments and completions, from the learning platform's nightly CSV report.

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

GRC = "grc"
HR = "hr"
IGA = "iga"
LMS = "lms"

# grc: the compliance tool's registers and the screening vendor's report

BACKGROUND_CHECKS = Dataset(
    source=GRC,
    name="background_checks",
    kind=DatasetKind.SNAPSHOT,
    description="Screening vendor report: one row per background check ordered, with status and result.",
    key_columns=("check_id",),
    columns=(
        Column("check_id", "report_id", required=True),
        Column("candidate_id", "candidate_id"),
        Column("employee_id", "custom_id", description="HR employee id the check was ordered for"),
        Column("email", "candidate_email"),
        Column("package", "package"),
        Column("status", "status", required=True),
        Column("result", "result"),
        Column("adjudication", "adjudication"),
        Column("requested_at", "created_at", ColumnType.TIMESTAMP, required=True),
        Column("completed_at", "completed_at", ColumnType.TIMESTAMP),
    ),
)

POLICIES = Dataset(
    source=GRC,
    name="policies",
    kind=DatasetKind.SNAPSHOT,
    description="Policy documents, one row per version, with status and publication time.",
    key_columns=("policy_id", "version"),
    columns=(
        Column("policy_id", "id", required=True),
        Column("title", "title", required=True),
        Column("version", "version", required=True),
        Column("status", "status", required=True),
        Column("owner_email", "owner.email"),
        Column("approved_at", "approved_at", ColumnType.TIMESTAMP),
        Column("published_at", "published_at", ColumnType.TIMESTAMP),
        Column("requires_acknowledgement", "requires_acknowledgement", ColumnType.BOOL, required=True),
    ),
)

POLICY_ACKNOWLEDGEMENTS = Dataset(
    source=GRC,
    name="policy_acknowledgements",
    kind=DatasetKind.SNAPSHOT,
    description="Employee acknowledgements of policy versions.",
    key_columns=("acknowledgement_id",),
    columns=(
        Column("acknowledgement_id", "acknowledgement_id", required=True),
        Column("policy_id", "policy_id", required=True),
        Column("policy_version", "policy_version", required=True),
        Column("employee_id", "employee_id", required=True),
        Column("email", "email"),
        Column("acknowledged_at", "acknowledged_at", ColumnType.TIMESTAMP, required=True),
        Column("method", "method"),
    ),
)

RISKS = Dataset(
    source=GRC,
    name="risks",
    kind=DatasetKind.SNAPSHOT,
    description="The risk register: one row per risk with severity, owner, mitigation plan and last review.",
    key_columns=("risk_id",),
    columns=(
        Column("risk_id", "id", required=True),
        Column("title", "title", required=True),
        Column("category", "category"),
        Column("severity", "severity", required=True),
        Column("likelihood", "likelihood", ColumnType.INT),
        Column("impact", "impact", ColumnType.INT),
        Column("owner_email", "owner.email"),
        Column("owner_name", "owner.name"),
        Column("treatment", "treatment"),
        Column("mitigation_plan", "mitigation_plan"),
        Column("status", "status", required=True),
        Column("identified_on", "identified_on", ColumnType.DATE, required=True),
        Column("closed_on", "closed_on", ColumnType.DATE),
        Column("last_reviewed_at", "last_reviewed_at", ColumnType.TIMESTAMP),
        Column("review_history", "review_history", ColumnType.JSON),
    ),
)

VENDORS = Dataset(
    source=GRC,
    name="vendors",
    kind=DatasetKind.SNAPSHOT,
    description="The vendor register: criticality, status and the latest security review of each vendor.",
    key_columns=("vendor_id",),
    columns=(
        Column("vendor_id", "vendor_id", required=True),
        Column("name", "name", required=True),
        Column("criticality", "criticality", required=True),
        Column("status", "status", required=True),
        Column("owner_email", "owner_email"),
        Column("data_access", "data_access"),
        Column("services", "services", ColumnType.STRING_LIST),
        Column("onboarded_on", "onboarded_on", ColumnType.DATE),
        Column("offboarded_on", "offboarded_on", ColumnType.DATE),
        Column("last_review_completed_on", "last_review.completed_on", ColumnType.DATE),
        Column("last_review_outcome", "last_review.outcome"),
        Column("last_reviewer_email", "last_review.reviewer_email"),
        Column("next_review_due", "next_review_due", ColumnType.DATE),
    ),
)

INCIDENTS = Dataset(
    source=GRC,
    name="incidents",
    kind=DatasetKind.SNAPSHOT,
    description="Security incidents with detection, closure and postmortem times.",
    key_columns=("incident_id",),
    columns=(
        Column("incident_id", "id", required=True),
        Column("title", "title", required=True),
        Column("severity", "severity", required=True),
        Column("status", "status", required=True),
        Column("commander_email", "commander_email"),
        Column("detected_at", "detected_at", ColumnType.TIMESTAMP, required=True),
        Column("resolved_at", "resolved_at", ColumnType.TIMESTAMP),
        Column("closed_at", "closed_at", ColumnType.TIMESTAMP),
        Column("postmortem_status", "postmortem.status"),
        Column("postmortem_completed_at", "postmortem.completed_at", ColumnType.TIMESTAMP),
        Column("postmortem_url", "postmortem.url"),
    ),
)

TABLETOP_EXERCISES = Dataset(
    source=GRC,
    name="tabletop_exercises",
    kind=DatasetKind.SNAPSHOT,
    description="Incident-response tabletop exercises: scheduled, held or cancelled.",
    key_columns=("exercise_id",),
    columns=(
        Column("exercise_id", "id", required=True),
        Column("title", "title", required=True),
        Column("plan_id", "plan_id", required=True),
        Column("scenario", "scenario"),
        Column("status", "status", required=True),
        Column("scheduled_for", "scheduled_for", ColumnType.DATE),
        Column("held_on", "held_on", ColumnType.DATE),
        Column("facilitator_email", "facilitator_email"),
        Column("participants", "participants", ColumnType.STRING_LIST),
        Column("findings_count", "findings_count", ColumnType.INT),
        Column("report_url", "report_url"),
    ),
)

RESTORE_TESTS = Dataset(
    source=GRC,
    name="restore_tests",
    kind=DatasetKind.SNAPSHOT,
    description="Backup restore tests: which system, from which backup, when, and whether it succeeded.",
    key_columns=("test_id",),
    columns=(
        Column("test_id", "id", required=True),
        Column("system_id", "system.id", required=True),
        Column("system_name", "system.name"),
        Column("system_kind", "system.kind"),
        Column("backup_id", "backup_id"),
        Column("backup_taken_at", "backup_taken_at", ColumnType.TIMESTAMP),
        Column("started_at", "started_at", ColumnType.TIMESTAMP, required=True),
        Column("completed_at", "completed_at", ColumnType.TIMESTAMP),
        Column("result", "result", required=True),
        Column("data_verified", "data_verified", ColumnType.BOOL),
        Column("restore_minutes", "restore_minutes", ColumnType.INT),
        Column("performed_by", "performed_by"),
        Column("ticket", "ticket"),
    ),
)

# hr: the HRIS roster

EMPLOYEES = Dataset(
    source=HR,
    name="employees",
    kind=DatasetKind.SNAPSHOT,
    description="The HRIS roster export: one row per person employed, joining or gone.",
    key_columns=("employee_id",),
    columns=(
        Column("employee_id", "employee_id", required=True),
        Column("first_name", "first_name"),
        Column("last_name", "last_name"),
        Column("email", "work_email", required=True),
        Column("department", "department"),
        Column("title", "job_title"),
        Column("manager_id", "manager_employee_id"),
        Column("employment_type", "employment_type", required=True),
        Column("status", "employment_status", required=True),
        Column("hire_date", "hire_date", ColumnType.DATE, required=True),
        Column("termination_at", "termination_datetime", ColumnType.TIMESTAMP),
    ),
)

# iga: approved administrators and user-access reviews

APPROVED_ADMINS = Dataset(
    source=IGA,
    name="approved_admins",
    kind=DatasetKind.SNAPSHOT,
    description="The approved-administrator register: one row per approval of a role on a system.",
    key_columns=("approval_id",),
    columns=(
        Column("approval_id", "approval_id", required=True),
        Column("system", "system", required=True, description="okta | google | github | aws"),
        Column("account", "account", required=True, description="login / email of the account on that system"),
        Column("employee_id", "employee_id"),
        Column("role", "role", required=True, description="the system's role name, e.g. SUPER_ADMIN"),
        Column("approved_by", "approved_by", required=True),
        Column("approved_at", "approved_at", ColumnType.TIMESTAMP, required=True),
        Column("ticket", "ticket"),
        Column("expires_on", "expires_on", ColumnType.DATE),
    ),
)

ACCESS_REVIEWS = Dataset(
    source=IGA,
    name="access_reviews",
    kind=DatasetKind.SNAPSHOT,
    description="The user-access review register: one row per review campaign and system.",
    key_columns=("review_id",),
    columns=(
        Column("review_id", "review_id", required=True),
        Column("system", "system", required=True),
        Column("campaign", "campaign", required=True, description="the quarter reviewed, e.g. 2025-Q4"),
        Column("reviewer", "reviewer", required=True),
        Column("status", "status", required=True, description="in_progress | completed | signed_off"),
        Column("started_at", "started_at", ColumnType.TIMESTAMP, required=True),
        Column("due_at", "due_at", ColumnType.TIMESTAMP),
        Column("completed_at", "completed_at", ColumnType.TIMESTAMP),
        Column("signed_off_by", "signed_off_by"),
        Column("signed_off_at", "signed_off_at", ColumnType.TIMESTAMP),
        Column("items_reviewed", "items_reviewed", ColumnType.INT),
        Column("items_revoked", "items_revoked", ColumnType.INT),
    ),
)

# lms: the learning platform's course completion report

TRAINING_COMPLETIONS = Dataset(
    source=LMS,
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

# source -> {dataset name: export format}, the families in registry order
FORMATS: dict[str, dict[str, str]] = {
    GRC: {
        BACKGROUND_CHECKS.name: "csv",
        POLICIES.name: "json",
        POLICY_ACKNOWLEDGEMENTS.name: "csv",
        RISKS.name: "json",
        VENDORS.name: "json",
        INCIDENTS.name: "json",
        TABLETOP_EXERCISES.name: "json",
        RESTORE_TESTS.name: "json",
    },
    HR: {EMPLOYEES.name: "csv"},
    IGA: {APPROVED_ADMINS.name: "csv", ACCESS_REVIEWS.name: "json"},
    LMS: {TRAINING_COMPLETIONS.name: "csv"},
}

DATASETS = (BACKGROUND_CHECKS, POLICIES, POLICY_ACKNOWLEDGEMENTS, RISKS, VENDORS, INCIDENTS,
            TABLETOP_EXERCISES, RESTORE_TESTS, EMPLOYEES, APPROVED_ADMINS, ACCESS_REVIEWS,
            TRAINING_COMPLETIONS)
