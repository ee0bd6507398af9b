select
    repository,
    pull_number,
    merged_at,
    review_id,
    reviewer_login,
    reviewer_type,
    state as review_state,
    submitted_at,
    commit_id,
    author_association,
    raw,
    lake_file
from {{ source('github', 'github__pull_request_reviews') }}
