select
    observed_at,
    repository_id,
    name,
    full_name,
    private,
    visibility,
    archived,
    disabled,
    fork,
    default_branch,
    topics,
    -- production services carry the topic (dbt var github_production_topic)
    list_contains(coalesce(topics, []), '{{ var("github_production_topic", "production") }}') as is_production,
    created_at,
    pushed_at,
    raw,
    lake_file
from {{ source('github', 'github__repositories') }}
