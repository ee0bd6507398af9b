select
    observed_at,
    account_id,
    account_name,
    region,
    db_instance_arn,
    db_instance_identifier,
    engine,
    status,
    storage_encrypted,
    backup_retention_period,
    multi_az,
    publicly_accessible,
    deletion_protection,
    lower({{ aws_tag_value('tags', 'env') }}) as env_tag,
    lower({{ aws_tag_value('tags', 'backup') }}) as backup_tag,
    raw,
    lake_file
from {{ source('aws', 'aws__rds_instances') }}
