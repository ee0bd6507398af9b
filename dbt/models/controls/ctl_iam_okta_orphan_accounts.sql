-- Population for iam_okta_orphan_accounts: every Okta account that is not deactivated
-- (DEPROVISIONED), per month, linked through the identity graph to the HR roster
-- observed after the month closed. The pass criterion (linked to a person whose record
-- is Active or Pending) lives in the GX suite ctl_iam_okta_orphan_accounts: an account
-- with no HR record, or whose person has left, is an orphan.
with

accounts as (
    {{ identity_graph('okta') }}
)

select
    period_start,
    period_end,
    account_id as entity_id,
    login,
    email,
    status,
    created_at,
    employee_id,
    match_method,
    employment_status as hr_status,
    termination_at,
    observed_at,
    source_ref
from accounts
where not is_deprovisioned
