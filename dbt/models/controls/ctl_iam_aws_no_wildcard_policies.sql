-- Population for iam_aws_no_wildcard_policies: every customer-managed policy per period,
-- with the number of statements in its default version that Allow every action ("*" or
-- "*:*") on every resource ("*"). The limit (none) lives in the GX suite.
with

policies as (
    {{ observed_snapshot('stg_aws__iam_policies', 'aws.iam_policies') }}
),

statements as (
    select
        policies.period_start,
        statements.policy_arn,
        count(*) filter (
            where statements.effect = 'Allow'
              and (list_contains(statements.actions, '*') or list_contains(statements.actions, '*:*'))
              and list_contains(statements.resources, '*')
        ) as full_admin_statements,
        count(*) as statement_count
    from policies
    join {{ ref('int_aws__policy_statements') }} as statements
        on statements.lake_file = policies.lake_file
       and statements.policy_arn = policies.policy_arn
    group by policies.period_start, statements.policy_arn
)

select
    policies.period_start,
    policies.period_end,
    policies.policy_arn as entity_id,
    policies.account_id,
    policies.policy_name,
    policies.default_version_id,
    policies.attachment_count,
    coalesce(statements.statement_count, 0) as statement_count,
    coalesce(statements.full_admin_statements, 0) as full_admin_statements,
    policies.observed_at,
    'aws.iam_policies:policy_arn=' || policies.policy_arn || '@' || strftime(policies.observed_at, '%Y-%m-%dT%H:%M:%SZ')
        as source_ref
from policies
left join statements
    on statements.period_start = policies.period_start
   and statements.policy_arn = policies.policy_arn
