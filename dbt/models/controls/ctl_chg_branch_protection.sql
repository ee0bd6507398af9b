-- Population for chg_branch_protection: every production repository (not archived) with
-- the protection of its default branch, both observed after the period closed. An
-- unprotected branch shows its effective settings (0 reviews, force pushes allowed, admins
-- not bound). The pass criteria live in the GX suite ctl_chg_branch_protection.
with

repos as (
    {{ observed_snapshot('stg_github__repositories', 'github.repositories') }}
),

protection as (
    {{ observed_snapshot('stg_github__branch_protections', 'github.branch_protection') }}
)

select
    repos.period_start,
    repos.period_end,
    repos.full_name as entity_id,
    repos.default_branch,
    coalesce(protection.is_protected, false) as is_protected,
    coalesce(protection.required_approving_review_count, 0) as required_approving_review_count,
    coalesce(protection.allow_force_pushes, true) as allow_force_pushes,
    coalesce(protection.enforce_admins, false) as enforce_admins,
    coalesce(protection.dismiss_stale_reviews, false) as dismiss_stale_reviews,
    coalesce(protection.required_status_checks, []) as required_status_checks,
    repos.observed_at,
    'github.branch_protection:repository=' || repos.full_name || '@' || strftime(repos.observed_at, '%Y-%m-%dT%H:%M:%SZ') as source_ref
from repos
left join protection
    on protection.period_start = repos.period_start
   and protection.repository = repos.full_name
   and protection.branch = repos.default_branch
where repos.is_production and not repos.archived
