"""GRC records: the compliance tool's registers and the screening vendor's report, as inbox exports.

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
"""

from __future__ import annotations

from ccm.constants import DatasetKind
from ccm.datasets import Column, ColumnType, Dataset
from ccm.sources.exports.daily import export_family

SOURCE = "grc"

BACKGROUND_CHECKS = Dataset(
    source=SOURCE,
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
    source=SOURCE,
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
    source=SOURCE,
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
    source=SOURCE,
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
    source=SOURCE,
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
    source=SOURCE,
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
    source=SOURCE,
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
    source=SOURCE,
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

DATASETS = (BACKGROUND_CHECKS, POLICIES, POLICY_ACKNOWLEDGEMENTS, RISKS, VENDORS, INCIDENTS,
            TABLETOP_EXERCISES, RESTORE_TESTS)

# dataset name -> export format (the register's file is <name>/<name>_YYYY-MM-DD.<format>)
EXPORT_FORMATS = {
    BACKGROUND_CHECKS.name: "csv",
    POLICIES.name: "json",
    POLICY_ACKNOWLEDGEMENTS.name: "csv",
    RISKS.name: "json",
    VENDORS.name: "json",
    INCIDENTS.name: "json",
    TABLETOP_EXERCISES.name: "json",
    RESTORE_TESTS.name: "json",
}

FAMILY = export_family(SOURCE, DATASETS, EXPORT_FORMATS)
