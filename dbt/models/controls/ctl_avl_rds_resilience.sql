-- Population for avl_rds_resilience: every production RDS instance (tag env=prod), per
-- period, with its automated backup retention and Multi-AZ setting. The thresholds live in
-- the GX suite ctl_avl_rds_resilience.
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
    coalesce(backup_retention_period, 0) as backup_retention_period,
    coalesce(multi_az, false) as multi_az,
    observed_at,
    'aws.rds_instances:db_instance_arn=' || db_instance_arn || '@' || strftime(observed_at, '%Y-%m-%dT%H:%M:%SZ')
        as source_ref
from instances
where env_tag = 'prod'
