"""Okta's datasets: users, their factors, admin role assignments, the System Log."""

from __future__ import annotations

from ccm.constants import DatasetKind
from ccm.datasets import Column, ColumnType, Dataset

SOURCE = "okta"
CONN_ID = "okta_default"
USERS = Dataset(
    source=SOURCE,
    name="users",
    kind=DatasetKind.SNAPSHOT,
    description="Every Okta user and its lifecycle status, as observed at observed_at.",
    key_columns=("user_id",),
    columns=(
        Column("user_id", "id", required=True),
        Column("status", "status", required=True),
        Column("login", "profile.login", required=True),
        Column("email", "profile.email"),
        Column("first_name", "profile.firstName"),
        Column("last_name", "profile.lastName"),
        Column("employee_number", "profile.employeeNumber"),
        Column("user_type", "profile.userType"),
        Column("created", "created", ColumnType.TIMESTAMP, required=True),
        Column("activated", "activated", ColumnType.TIMESTAMP),
        Column("status_changed", "statusChanged", ColumnType.TIMESTAMP),
        Column("last_login", "lastLogin", ColumnType.TIMESTAMP),
        Column("last_updated", "lastUpdated", ColumnType.TIMESTAMP),
        Column("password_changed", "passwordChanged", ColumnType.TIMESTAMP),
    ),
)

FACTORS = Dataset(
    source=SOURCE,
    name="factors",
    kind=DatasetKind.SNAPSHOT,
    description="Enrolled authenticator factors per user (record = {userId, factor}).",
    key_columns=("user_id", "factor_id"),
    columns=(
        Column("user_id", "userId", required=True),
        Column("factor_id", "factor.id", required=True),
        Column("factor_type", "factor.factorType", required=True),
        Column("provider", "factor.provider"),
        Column("status", "factor.status", required=True),
        Column("created", "factor.created", ColumnType.TIMESTAMP),
        Column("last_updated", "factor.lastUpdated", ColumnType.TIMESTAMP),
    ),
)

ADMIN_ROLES = Dataset(
    source=SOURCE,
    name="admin_roles",
    kind=DatasetKind.SNAPSHOT,
    description="Administrator role assignments per user (record = {userId, role}), as observed at observed_at.",
    key_columns=("user_id", "role_assignment_id"),
    columns=(
        Column("user_id", "userId", required=True),
        Column("role_assignment_id", "role.id", required=True),
        Column("role_type", "role.type", required=True),
        Column("role_label", "role.label"),
        Column("role_status", "role.status"),
        Column("assignment_type", "role.assignmentType"),
        Column("created", "role.created", ColumnType.TIMESTAMP),
        Column("last_updated", "role.lastUpdated", ColumnType.TIMESTAMP),
    ),
)

SYSTEM_LOG = Dataset(
    source=SOURCE,
    name="system_log",
    kind=DatasetKind.EVENT,
    description="Okta System Log events (/api/v1/logs), one row per event, by published time.",
    key_columns=("uuid",),
    time_column="published",
    columns=(
        Column("uuid", "uuid", required=True),
        Column("published", "published", ColumnType.TIMESTAMP, required=True),
        Column("event_type", "eventType", required=True),
        Column("version", "version"),
        Column("severity", "severity"),
        Column("legacy_event_type", "legacyEventType"),
        Column("display_message", "displayMessage"),
        Column("actor_id", "actor.id"),
        Column("actor_type", "actor.type"),
        Column("actor_alternate_id", "actor.alternateId"),
        Column("actor_display_name", "actor.displayName"),
        Column("outcome_result", "outcome.result"),
        Column("outcome_reason", "outcome.reason"),
        Column("client_ip", "client.ipAddress"),
        Column("transaction_id", "transaction.id"),
        Column("target", "target", ColumnType.JSON, description="target[] as JSON"),
    ),
)

DATASETS = (USERS, FACTORS, ADMIN_ROLES, SYSTEM_LOG)
