-- The user-access review register per daily export: one row per campaign and system.
select
    observed_at,
    review_id,
    lower(trim(system)) as system,
    upper(trim(campaign)) as campaign,
    reviewer,
    status,
    started_at,
    due_at,
    completed_at,
    signed_off_by,
    signed_off_at,
    items_reviewed,
    items_revoked,
    raw,
    lake_file
from {{ source('iga', 'iga__access_reviews') }}
