select
    observed_at,
    account_id,
    account_name,
    region,
    key_id,
    key_arn,
    key_manager,
    key_state,
    key_spec,
    origin,
    aliases,
    -- keys are named by their alias (stable across re-creation); unaliased keys by their ARN
    coalesce('arn:aws:kms:' || region || ':' || account_id || ':' || list_sort(aliases)[1], key_arn) as key_name_arn,
    rotation_enabled,
    raw,
    lake_file
from {{ source('aws', 'aws__kms_keys') }}
