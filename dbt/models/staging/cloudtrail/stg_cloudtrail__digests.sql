-- Digest coverage per account, region and hour.
select
    account_id,
    region,
    digest_start_time,
    digest_end_time,
    digest_found,
    digest_s3_object,
    digest_intact,
    log_file_count,
    log_files_missing,
    log_files_altered,
    log_files,
    raw,
    lake_file
from {{ source('cloudtrail', 'cloudtrail__digests') }}
