select
    observed_at,
    vendor_id,
    name as vendor_name,
    lower(criticality) as criticality,
    lower(status) as vendor_status,
    lower(owner_email) as owner_email,
    data_access,
    services,
    onboarded_on,
    offboarded_on,
    last_review_completed_on,
    lower(last_review_outcome) as last_review_outcome,
    lower(last_reviewer_email) as last_reviewer_email,
    next_review_due,
    raw,
    lake_file
from {{ source('grc', 'grc__vendors') }}
