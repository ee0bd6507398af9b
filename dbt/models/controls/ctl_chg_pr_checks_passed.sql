-- Population for chg_pr_checks_passed: every pull request merged into its repository's
-- default branch in the period, with the required checks (dbt var github_required_checks,
-- the CI jobs branch protection requires) that had not passed on the merged head before the
-- merge. A check passed when its latest run started before the merge concluded `success`
-- and completed before the merge; a check that never ran did not pass.
-- The pass criterion lives in the GX suite ctl_chg_pr_checks_passed.
{% set required_checks = var('github_required_checks', ['build', 'test']) %}
with

pulls as (
    {{ events_in_periods('stg_github__pull_requests', 'merged_at') }}
),

check_runs as (
    {{ events_in_periods('stg_github__check_runs', 'merged_at') }}
),

in_scope as (
    select * from pulls where is_to_default_branch
),

required_checks as (
    select unnest([{% for name in required_checks %}'{{ name }}'{% if not loop.last %}, {% endif %}{% endfor %}]) as check_name
),

latest_runs as (
    select
        check_runs.repository,
        check_runs.pull_number,
        check_runs.check_name,
        check_runs.conclusion,
        check_runs.completed_at,
        row_number() over (
            partition by check_runs.repository, check_runs.pull_number, check_runs.check_name
            order by check_runs.started_at desc, check_runs.check_run_id desc
        ) as recency
    from check_runs
    join in_scope
      on in_scope.repository = check_runs.repository
     and in_scope.number = check_runs.pull_number
     and in_scope.head_sha = check_runs.head_sha
    where check_runs.started_at <= in_scope.merged_at
),

per_check as (
    select
        in_scope.period_start,
        in_scope.period_end,
        in_scope.repository,
        in_scope.number,
        in_scope.head_sha,
        in_scope.merged_at,
        required_checks.check_name,
        coalesce(latest_runs.conclusion = 'success' and latest_runs.completed_at <= in_scope.merged_at, false) as passed
    from in_scope
    cross join required_checks
    left join latest_runs
      on latest_runs.repository = in_scope.repository
     and latest_runs.pull_number = in_scope.number
     and latest_runs.check_name = required_checks.check_name
     and latest_runs.recency = 1
)

select
    period_start,
    period_end,
    repository || '#' || number as entity_id,
    repository,
    number as pull_number,
    head_sha,
    merged_at,
    count(*) filter (where not passed) as required_checks_not_passed,
    coalesce(list(check_name order by check_name) filter (where not passed), []) as checks_not_passed,
    coalesce(list(check_name order by check_name) filter (where passed), []) as checks_passed,
    'github.check_runs:repository=' || repository || ',pull_number=' || number || ',head_sha=' || head_sha as source_ref
from per_check
group by period_start, period_end, repository, number, head_sha, merged_at
