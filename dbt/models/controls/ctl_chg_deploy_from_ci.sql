-- Population for chg_deploy_from_ci: every deployment to a production environment created
-- in the period (dbt var github_production_environments), with who created it and which
-- ref it deployed. GitHub resolves a branch ref to that branch's head commit when the
-- deployment is created, so a deployment of the default branch deploys a commit on it.
-- The pass criteria (the CI identity, ref = default branch) live in the GX suite.
{% set environments = var('github_production_environments', ['production']) %}
with

deployments as (
    {{ events_in_periods('stg_github__deployments', 'created_at') }}
)

select
    period_start,
    period_end,
    repository || '/deployments/' || deployment_id as entity_id,
    repository,
    deployment_id,
    environment,
    created_at,
    coalesce(creator_login, '(unknown)') as creator_login,
    creator_type,
    app_slug,
    ref,
    ref_branch,
    default_branch,
    sha,
    latest_status,
    'github.deployments:deployment_id=' || deployment_id as source_ref
from deployments
where environment in ({% for name in environments %}'{{ name }}'{% if not loop.last %}, {% endif %}{% endfor %})
