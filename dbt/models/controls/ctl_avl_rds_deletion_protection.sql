-- Population for avl_rds_deletion_protection: every production RDS DB instance (tag
-- env=prod) in every active region, per period, with its DeletionProtection flag. The
-- criterion (protected) lives in the GX suite ctl_avl_rds_deletion_protection.
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
    deletion_protection,
    observed_at,
    'aws.rds_instances:db_instance_arn=' || db_instance_arn || '@' || strftime(observed_at, '%Y-%m-%dT%H:%M:%SZ')
        as source_ref
from instances
where env_tag = 'prod'
