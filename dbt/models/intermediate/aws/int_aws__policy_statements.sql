-- One row per statement of each customer-managed policy's default version, with its
-- Action / NotAction / Resource / NotResource elements as lists (IAM accepts a string or a list, and a single
-- statement object instead of a list of statements).
with

policies as (
    select
        observed_at, account_id, policy_arn, policy_name, document, lake_file,
        case json_type(document, '$.Statement')
            when 'ARRAY' then json_extract(document, '$.Statement[*]')
            when 'OBJECT' then [json_extract(document, '$.Statement')]
            else []::json[]
        end as statements
    from {{ ref('stg_aws__iam_policies') }}
),

statements as (
    select
        observed_at, account_id, policy_arn, policy_name, lake_file,
        unnest(statements) as statement,
        unnest(range(len(statements))) as statement_index
    from policies
)

select
    observed_at,
    account_id,
    policy_arn,
    policy_name,
    statement_index,
    statement ->> 'Effect' as effect,
    {{ json_string_list('statement', '$.Action') }} as actions,
    {{ json_string_list('statement', '$.NotAction') }} as not_actions,
    {{ json_string_list('statement', '$.Resource') }} as resources,
    {{ json_string_list('statement', '$.NotResource') }} as not_resources,
    statement,
    lake_file
from statements
