select
    observed_at,
    exercise_id,
    title,
    plan_id,
    scenario,
    lower(status) as exercise_status,
    scheduled_for,
    held_on,
    lower(facilitator_email) as facilitator_email,
    participants,
    findings_count,
    report_url,
    raw,
    lake_file
from {{ source('grc', 'grc__tabletop_exercises') }}
