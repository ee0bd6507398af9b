-- Population for inf_kms_rotation: every enabled customer-managed symmetric KMS key made by
-- KMS (rotation is not available for imported, asymmetric or AWS-managed keys), per period,
-- named by its alias. The criterion (rotation on) lives in the GX suite.
with

keys as (
    {{ observed_snapshot('stg_aws__kms_keys', 'aws.kms_keys') }}
)

select
    period_start,
    period_end,
    key_name_arn as entity_id,
    account_id,
    region,
    key_id,
    key_arn,
    aliases,
    coalesce(rotation_enabled, false) as rotation_enabled,
    observed_at,
    'aws.kms_keys:key_arn=' || key_arn || '@' || strftime(observed_at, '%Y-%m-%dT%H:%M:%SZ') as source_ref
from keys
where key_manager = 'CUSTOMER'
  and key_state = 'Enabled'
  and coalesce(key_spec, 'SYMMETRIC_DEFAULT') = 'SYMMETRIC_DEFAULT'
  and coalesce(origin, 'AWS_KMS') = 'AWS_KMS'
