-- Population for iam_aws_root_account: one row per audited account (the account summary
-- lists every account the extract read), with the root user's MFA and active access keys
-- from the credential report's <root_account> row and the account summary. A missing root
-- row shows as root_row_present = false. Criteria in the GX suite ctl_iam_aws_root_account.
with

accounts as (
    {{ observed_snapshot('stg_aws__account_summaries', 'aws.account_summary') }}
),

report as (
    {{ observed_snapshot('stg_aws__credential_report', 'aws.credential_report') }}
),

root as (
    select * from report where is_root
)

select
    accounts.period_start,
    accounts.period_end,
    accounts.account_id as entity_id,
    accounts.account_name,
    root.arn is not null as root_row_present,
    coalesce(root.mfa_active, false) as root_mfa_active,
    coalesce(root.access_key_1_active::integer, 0) + coalesce(root.access_key_2_active::integer, 0)
        as root_active_access_keys,
    accounts.account_mfa_enabled,
    accounts.account_access_keys_present,
    accounts.observed_at,
    'aws.account_summary:account_id=' || accounts.account_id || '; aws.credential_report:arn=arn:aws:iam::'
        || accounts.account_id || ':root@' || strftime(accounts.observed_at, '%Y-%m-%dT%H:%M:%SZ') as source_ref
from accounts
left join root
    on root.period_start = accounts.period_start
   and root.account_id = accounts.account_id
