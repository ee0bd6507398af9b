"""Identity governance (IGA) exports: approved administrators and user-access reviews.

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
"""

from __future__ import annotations

from ccm.constants import DatasetKind
from ccm.datasets import Column, ColumnType, Dataset
from ccm.sources.exports.daily import export_family

SOURCE = "iga"

APPROVED_ADMINS = Dataset(
    source=SOURCE,
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
    source=SOURCE,
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

DATASETS = (APPROVED_ADMINS, ACCESS_REVIEWS)

FAMILY = export_family(SOURCE, DATASETS, {APPROVED_ADMINS.name: "csv", ACCESS_REVIEWS.name: "json"})
