select
    observed_at,
    incident_id,
    title,
    severity,
    lower(status) as incident_status,
    lower(commander_email) as commander_email,
    detected_at,
    resolved_at,
    closed_at,
    lower(postmortem_status) as postmortem_status,
    postmortem_completed_at,
    postmortem_url,
    raw,
    lake_file
from {{ source('grc', 'grc__incidents') }}
