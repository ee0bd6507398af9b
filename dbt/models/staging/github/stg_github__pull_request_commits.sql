select
    repository,
    pull_number,
    merged_at,
    position,
    sha,
    author_login,
    lower(author_email) as author_email,
    authored_at,
    committer_login,
    committed_at,
    raw,
    lake_file
from {{ source('github', 'github__pull_request_commits') }}
