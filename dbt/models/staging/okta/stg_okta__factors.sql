select
    observed_at,
    user_id,
    factor_id,
    factor_type,
    provider,
    status as factor_status,
    created as created_at,
    last_updated as last_updated_at,
    -- a security question is a knowledge factor, not a second factor
    status = 'ACTIVE' and factor_type <> 'question' as is_active_mfa,
    raw,
    lake_file
from {{ source('okta', 'okta__factors') }}
