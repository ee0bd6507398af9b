-- Population for inf_rds_not_public: every RDS DB instance in every active region, per
-- period, with whether AWS gives it a publicly resolvable endpoint (PubliclyAccessible).
-- The criterion (not publicly accessible) lives in the GX suite ctl_inf_rds_not_public.
with

instances as (
    {{ observed_snapshot('stg_aws__rds_instances', 'aws.rds_instances') }}
)

select
    period_start,
    period_end,
    db_instance_arn as entity_id,
    account_id,
    region,
    db_instance_identifier,
    engine,
    env_tag,
    publicly_accessible,
    observed_at,
    'aws.rds_instances:db_instance_arn=' || db_instance_arn || '@' || strftime(observed_at, '%Y-%m-%dT%H:%M:%SZ')
        as source_ref
from instances
