select
    observed_at,
    policy_id,
    title,
    version as policy_version,
    lower(status) as policy_status,
    lower(owner_email) as owner_email,
    approved_at,
    published_at,
    requires_acknowledgement,
    published_at is not null and lower(status) in ('published', 'superseded') as is_published,
    raw,
    lake_file
from {{ source('grc', 'grc__policies') }}
