-- Population for iam_aws_key_rotation: every IAM user (not the root user, which
-- iam_aws_root_account covers) with at least one active access key, per period, with the
-- age in days of its oldest active key when the credential report was generated. An active
-- key without a rotation date cannot show its age and counts as infinitely old.
-- The maximum age lives in the GX suite ctl_iam_aws_key_rotation.
with

report as (
    {{ observed_snapshot('stg_aws__credential_report', 'aws.credential_report') }}
),

keys as (
    select period_start, period_end, arn, account_id, user_name, report_generated_at, observed_at,
           access_key_1_last_rotated_at as rotated_at
    from report where not is_root and access_key_1_active
    union all
    select period_start, period_end, arn, account_id, user_name, report_generated_at, observed_at,
           access_key_2_last_rotated_at as rotated_at
    from report where not is_root and access_key_2_active
)

select
    period_start,
    period_end,
    arn as entity_id,
    account_id,
    user_name,
    count(*) as active_key_count,
    min(rotated_at) as oldest_active_key_rotated_at,
    max(coalesce((epoch(report_generated_at) - epoch(rotated_at)) / 86400.0, 1e9)) as oldest_active_key_age_days,
    max(report_generated_at) as report_generated_at,
    max(observed_at) as observed_at,
    'aws.credential_report:arn=' || arn || '@' || strftime(max(observed_at), '%Y-%m-%dT%H:%M:%SZ') as source_ref
from keys
group by period_start, period_end, arn, account_id, user_name
