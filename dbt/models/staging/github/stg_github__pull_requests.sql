select
    pull_request_id,
    repository,
    number,
    title,
    author_login,
    author_type,
    base_ref,
    default_branch,
    base_ref = default_branch as is_to_default_branch,
    head_ref,
    head_sha,
    merge_commit_sha,
    created_at,
    merged_at,
    raw,
    lake_file
from {{ source('github', 'github__pull_requests') }}
