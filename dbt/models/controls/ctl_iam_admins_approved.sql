-- Population for iam_admins_approved: every administrator right (Okta role assignments,
-- Google super admins) on an account that is not deactivated, per period, with the
-- approval on the IGA approved-administrator register exported for the period (matched
-- on system, role and the account's login or email). The criterion (an approval
-- exists) lives in the GX suite ctl_iam_admins_approved. Systems added to
-- int_identity__admin_assignments join automatically.
with

assignments as (
    {{ planned_observations('int_identity__admin_assignments') }}
),

accounts as (
    {{ identity_graph() }}
),

approvals as (
    {{ observed_snapshot('stg_iga__approved_admins', 'iga.approved_admins') }}
),

joined as (
    select
        assignments.period_start,
        assignments.period_end,
        assignments.system || ':' || assignments.account_id || ':' || assignments.role as entity_id,
        assignments.system,
        assignments.account_id,
        assignments.role,
        assignments.role_label,
        accounts.login,
        accounts.status as account_status,
        coalesce(accounts.is_deprovisioned, false) as is_deprovisioned,
        approvals.approval_id,
        approvals.approved_by,
        approvals.approved_at,
        approvals.ticket,
        assignments.observed_at,
        assignments.dataset || ':' || assignments.account_id || ':' || assignments.role || '@'
            || strftime(assignments.observed_at, '%Y-%m-%dT%H:%M:%SZ') as source_ref,
        row_number() over (
            partition by assignments.period_start, assignments.system, assignments.account_id, assignments.role
            order by approvals.approved_at desc nulls last, approvals.approval_id
        ) as approval_rank
    from assignments
    left join accounts
        on accounts.period_start = assignments.period_start
       and accounts.system = assignments.system
       and accounts.account_id = assignments.account_id
    left join approvals
        on approvals.period_start = assignments.period_start
       and approvals.system = assignments.system
       and approvals.role = assignments.role
       and (approvals.account = accounts.login or approvals.account = accounts.email)
)

select * exclude (approval_rank, is_deprovisioned)
from joined
where approval_rank = 1 and not is_deprovisioned
