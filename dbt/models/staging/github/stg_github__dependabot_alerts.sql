select
    observed_at,
    repository,
    number,
    state,
    lower(severity) as severity,
    ghsa_id,
    cve_id,
    summary,
    package_ecosystem,
    package_name,
    manifest_path,
    created_at,
    updated_at,
    fixed_at,
    dismissed_at,
    dismissed_reason,
    auto_dismissed_at,
    -- when the alert stopped being open, as observed (null while it is open)
    case state
        when 'fixed' then fixed_at
        when 'dismissed' then dismissed_at
        when 'auto_dismissed' then auto_dismissed_at
    end as resolved_at,
    html_url,
    raw,
    lake_file
from {{ source('github', 'github__dependabot_alerts') }}
