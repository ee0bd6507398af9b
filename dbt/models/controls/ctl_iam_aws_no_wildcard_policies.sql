-- Population for iam_aws_no_wildcard_policies: every customer-managed policy per period,
-- with the number of statements in its default version that Allow every action ("*" or
-- "*:*") on every resource ("*"), and the number that Allow as much written the other way
-- round: NotAction (every action but those listed) or NotResource (every resource but
-- those listed) with the other element unbounded (docs/adr/0024). A NotAction or
-- NotResource that itself lists "*" excludes everything and grants nothing. The limits
-- (none of either) live in the GX suite.
with

policies as (
    {{ observed_snapshot('stg_aws__iam_policies', 'aws.iam_policies') }}
),

statement_scope as (
    select
        policies.period_start,
        statements.policy_arn,
        statements.effect,
        list_contains(statements.actions, '*') or list_contains(statements.actions, '*:*') as every_action,
        len(statements.not_actions) > 0
            and not list_contains(statements.not_actions, '*')
            and not list_contains(statements.not_actions, '*:*') as every_action_but_listed,
        list_contains(statements.resources, '*') as every_resource,
        len(statements.not_resources) > 0
            and not list_contains(statements.not_resources, '*') as every_resource_but_listed
    from policies
    join {{ ref('int_aws__policy_statements') }} as statements
        on statements.lake_file = policies.lake_file
       and statements.policy_arn = policies.policy_arn
),

statements as (
    select
        period_start,
        policy_arn,
        count(*) filter (
            where effect = 'Allow' and every_action and every_resource
        ) as full_admin_statements,
        count(*) filter (
            where effect = 'Allow'
              and (every_action or every_action_but_listed)
              and (every_resource or every_resource_but_listed)
              and not (every_action and every_resource)
        ) as near_admin_statements,
        count(*) as statement_count
    from statement_scope
    group by period_start, policy_arn
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
    coalesce(statements.near_admin_statements, 0) as near_admin_statements,
    policies.observed_at,
    'aws.iam_policies:policy_arn=' || policies.policy_arn || '@' || strftime(policies.observed_at, '%Y-%m-%dT%H:%M:%SZ')
        as source_ref
from policies
left join statements
    on statements.period_start = policies.period_start
   and statements.policy_arn = policies.policy_arn
