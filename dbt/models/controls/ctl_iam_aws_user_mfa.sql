-- Population for iam_aws_user_mfa: every IAM user with a console password, per period,
-- from the credential report observed after the period closed, with the person the user
-- belongs to (email tag) and whether it is an administrator. The pass criterion (MFA
-- active) lives in the GX suite ctl_iam_aws_user_mfa.
with

report as (
    {{ observed_snapshot('stg_aws__credential_report', 'aws.credential_report') }}
),

users as (
    {{ observed_snapshot('stg_aws__iam_users', 'aws.iam_users') }}
)

select
    report.period_start,
    report.period_end,
    report.arn as entity_id,
    report.account_id,
    report.account_name,
    report.user_name,
    users.person_email,
    coalesce(users.is_admin, false) as is_admin,
    report.password_last_used_at,
    coalesce(report.mfa_active, false) as mfa_active,
    report.report_generated_at,
    report.observed_at,
    'aws.credential_report:arn=' || report.arn || '@' || strftime(report.observed_at, '%Y-%m-%dT%H:%M:%SZ') as source_ref
from report
left join users
    on users.period_start = report.period_start
   and users.user_arn = report.arn
where not report.is_root
  and report.password_enabled
