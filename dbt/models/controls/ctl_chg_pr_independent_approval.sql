-- Population for chg_pr_independent_approval: every pull request merged into its
-- repository's default branch in the period, with
--   independent_approval_count: APPROVED reviews submitted before the merge by someone who
--     is neither the pull request's author nor the author of any of its commits (GitHub
--     stops authors approving their own pull request, not a reviewer approving code they
--     pushed to it);
--   commits_after_approval: commits after the newest commit any such approval was given on
--     (an approval of a commit that is not in the pull request counts as approving none);
--     null without an approval.
-- The pass criteria live in the GX suite ctl_chg_pr_independent_approval.
with

pulls as (
    {{ events_in_periods('stg_github__pull_requests', 'merged_at') }}
),

reviews as (
    {{ events_in_periods('stg_github__pull_request_reviews', 'merged_at') }}
),

commits as (
    {{ events_in_periods('stg_github__pull_request_commits', 'merged_at') }}
),

in_scope as (
    select * from pulls where is_to_default_branch
),

contributors as (
    select repository, pull_number, lower(author_login) as login from commits where author_login is not null
    union
    select repository, number, lower(author_login) from in_scope where author_login is not null
),

approvals as (
    select reviews.repository, reviews.pull_number, reviews.reviewer_login, reviews.commit_id
    from reviews
    join in_scope
      on in_scope.repository = reviews.repository and in_scope.number = reviews.pull_number
    where reviews.review_state = 'APPROVED'
      and reviews.submitted_at <= in_scope.merged_at
      and reviews.reviewer_login is not null
      and not exists (
          select 1 from contributors
          where contributors.repository = reviews.repository
            and contributors.pull_number = reviews.pull_number
            and contributors.login = lower(reviews.reviewer_login)
      )
),

approval_summary as (
    select
        approvals.repository,
        approvals.pull_number,
        count(*) as independent_approval_count,
        list(distinct approvals.reviewer_login order by approvals.reviewer_login) as independent_approvers,
        max(coalesce(commits.position, 0)) as last_approved_position
    from approvals
    left join commits
      on commits.repository = approvals.repository
     and commits.pull_number = approvals.pull_number
     and commits.sha = approvals.commit_id
    group by approvals.repository, approvals.pull_number
),

commit_counts as (
    select repository, pull_number, count(*) as commit_count
    from commits
    group by repository, pull_number
)

select
    in_scope.period_start,
    in_scope.period_end,
    in_scope.repository || '#' || in_scope.number as entity_id,
    in_scope.repository,
    in_scope.number as pull_number,
    in_scope.author_login,
    in_scope.merged_at,
    coalesce(commit_counts.commit_count, 0) as commit_count,
    coalesce(approval_summary.independent_approval_count, 0) as independent_approval_count,
    coalesce(approval_summary.independent_approvers, []) as independent_approvers,
    case
        when approval_summary.pull_number is null then null
        else coalesce(commit_counts.commit_count, 0) - approval_summary.last_approved_position
    end as commits_after_approval,
    'github.pull_requests:repository=' || in_scope.repository || ',number=' || in_scope.number as source_ref
from in_scope
left join approval_summary
    on approval_summary.repository = in_scope.repository and approval_summary.pull_number = in_scope.number
left join commit_counts
    on commit_counts.repository = in_scope.repository and commit_counts.pull_number = in_scope.number
