select
    deployment_id,
    repository,
    default_branch,
    environment,
    ref,
    -- a deployment's ref is a branch, tag or sha; branch refs may be written refs/heads/<name>
    regexp_replace(ref, '^refs/heads/', '') as ref_branch,
    sha,
    task,
    creator_login,
    creator_type,
    app_slug,
    created_at,
    -- the API lists statuses newest first
    json_extract_string(statuses, '$[0].state') as latest_status,
    json_array_length(statuses) as status_count,
    raw,
    lake_file
from {{ source('github', 'github__deployments') }}
