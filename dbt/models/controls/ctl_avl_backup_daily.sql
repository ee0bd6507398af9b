-- Population for avl_backup_daily: every protected resource (RDS instances tagged
-- backup=daily, observed after the period closed), per period, with the AWS Backup jobs
-- created for it during the period. The criterion (a completed backup) lives in the GX suite.
with

instances as (
    {{ observed_snapshot('stg_aws__rds_instances', 'aws.rds_instances') }}
),

jobs as (
    {{ events_in_periods('stg_aws__backup_jobs', 'created_at') }}
),

per_resource as (
    select
        period_start,
        resource_arn,
        count(*) filter (where state = 'COMPLETED') as completed_backups,
        count(*) filter (where state in ('FAILED', 'ABORTED', 'EXPIRED')) as failed_backups,
        count(*) as backup_jobs,
        list(backup_job_id order by created_at) as backup_job_ids
    from jobs
    group by period_start, resource_arn
)

select
    instances.period_start,
    instances.period_end,
    instances.db_instance_arn as entity_id,
    instances.account_id,
    instances.region,
    instances.db_instance_identifier,
    coalesce(per_resource.completed_backups, 0) as completed_backups,
    coalesce(per_resource.failed_backups, 0) as failed_backups,
    coalesce(per_resource.backup_jobs, 0) as backup_jobs,
    coalesce(per_resource.backup_job_ids, []) as backup_job_ids,
    instances.observed_at,
    'aws.rds_instances:db_instance_arn=' || instances.db_instance_arn || '@'
        || strftime(instances.observed_at, '%Y-%m-%dT%H:%M:%SZ') || '; aws.backup_jobs:resource_arn='
        || instances.db_instance_arn as source_ref
from instances
left join per_resource
    on per_resource.period_start = instances.period_start
   and per_resource.resource_arn = instances.db_instance_arn
where instances.backup_tag = 'daily'
