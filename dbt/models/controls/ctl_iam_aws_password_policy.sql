-- Population for iam_aws_password_policy: one row per audited account and period with its
-- IAM password policy. An account without a policy shows has_policy = false and zero / false
-- settings (AWS's default rules then apply, which do not meet the minimums). The minimums
-- live in the GX suite ctl_iam_aws_password_policy.
with

policies as (
    {{ observed_snapshot('stg_aws__password_policies', 'aws.password_policy') }}
)

select
    period_start,
    period_end,
    account_id as entity_id,
    account_name,
    has_policy,
    coalesce(minimum_password_length, 0) as minimum_password_length,
    coalesce(require_symbols, false) as require_symbols,
    coalesce(require_numbers, false) as require_numbers,
    coalesce(require_uppercase, false) as require_uppercase,
    coalesce(require_lowercase, false) as require_lowercase,
    coalesce(max_password_age_days, 0) as max_password_age_days,
    coalesce(password_reuse_prevention, 0) as password_reuse_prevention,
    observed_at,
    'aws.password_policy:account_id=' || account_id || '@' || strftime(observed_at, '%Y-%m-%dT%H:%M:%SZ') as source_ref
from policies
