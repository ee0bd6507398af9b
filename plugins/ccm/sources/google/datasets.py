"""Google Workspace's dataset: directory users."""

from __future__ import annotations

from ccm.constants import DatasetKind
from ccm.datasets import Column, ColumnType, Dataset

SOURCE = "google"
CONN_ID = "google_default"
USERS = Dataset(
    source=SOURCE,
    name="users",
    kind=DatasetKind.SNAPSHOT,
    description="Every Google Workspace user (deleted ones within retention), as observed at observed_at.",
    key_columns=("user_id",),
    columns=(
        Column("user_id", "id", required=True),
        Column("primary_email", "primaryEmail", required=True),
        Column("given_name", "name.givenName"),
        Column("family_name", "name.familyName"),
        Column("is_admin", "isAdmin", ColumnType.BOOL, required=True),
        Column("is_delegated_admin", "isDelegatedAdmin", ColumnType.BOOL),
        Column("is_enrolled_in_2sv", "isEnrolledIn2Sv", ColumnType.BOOL, required=True),
        Column("is_enforced_in_2sv", "isEnforcedIn2Sv", ColumnType.BOOL, required=True),
        Column("suspended", "suspended", ColumnType.BOOL, required=True),
        Column("suspension_reason", "suspensionReason"),
        Column("archived", "archived", ColumnType.BOOL),
        Column("org_unit_path", "orgUnitPath"),
        Column("customer_id", "customerId"),
        Column("creation_time", "creationTime", ColumnType.TIMESTAMP, required=True),
        Column("last_login_time", "lastLoginTime", ColumnType.TIMESTAMP,
               description="1970-01-01T00:00:00Z means never signed in"),
        Column("deletion_time", "deletionTime", ColumnType.TIMESTAMP),
    ),
)

DATASETS = (USERS,)
