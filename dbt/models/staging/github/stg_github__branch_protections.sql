-- An unprotected branch (404 "Branch not protected") requires no reviews, lets anyone with
-- push access force-push, and binds no one: the coalesces say so explicitly.
select
    observed_at,
    repository,
    branch,
    protected as is_protected,
    coalesce(required_approving_review_count, 0) as required_approving_review_count,
    coalesce(dismiss_stale_reviews, false) as dismiss_stale_reviews,
    coalesce(require_code_owner_reviews, false) as require_code_owner_reviews,
    coalesce(enforce_admins, false) as enforce_admins,
    coalesce(allow_force_pushes, not protected) as allow_force_pushes,
    coalesce(allow_deletions, not protected) as allow_deletions,
    coalesce(required_linear_history, false) as required_linear_history,
    coalesce(required_status_checks, []) as required_status_checks,
    raw,
    lake_file
from {{ source('github', 'github__branch_protection') }}
