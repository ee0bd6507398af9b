select
    repository,
    pull_number,
    merged_at,
    head_sha,
    check_run_id,
    name as check_name,
    status as check_status,
    conclusion,
    started_at,
    completed_at,
    app_slug,
    raw,
    lake_file
from {{ source('github', 'github__check_runs') }}
