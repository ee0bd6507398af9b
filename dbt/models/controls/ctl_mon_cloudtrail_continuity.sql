-- Population for mon_cloudtrail_continuity, two kinds of row per period:
-- * one per account, region and hour of digest coverage (entity account/region/hourZ):
--   was the hour's digest delivered, were the log files it lists all delivered with the
--   SHA-256 it records, and does the next digest confirm its own hash;
-- * one per change to what a trail records (entity account/region/action/trail): every
--   successful StopLogging, DeleteTrail, UpdateTrail, PutEventSelectors, ... in the
--   period, from the log files delivered intact (a missing file is a failing hour above).
-- The pass criteria live in the GX suite; columns that do not apply to a kind of row are
-- NULL, which the suite's expectations skip.
with

digests as (
    {{ events_in_periods('stg_cloudtrail__digests', 'digest_start_time') }}
),

changes as (
    {{ events_in_periods('stg_cloudtrail__trail_changes', 'event_time') }}
),

hours as (
    select
        period_start,
        period_end,
        account_id || '/' || region || '/' || strftime(digest_start_time, '%Y-%m-%dT%H:%M:%SZ') as entity_id,
        'log_delivery' as check_type,
        account_id,
        region,
        digest_start_time as at,
        digest_found,
        digest_intact,
        log_file_count,
        log_files_missing,
        log_files_altered,
        cast(null as varchar) as trail_change,
        cast(null as bigint) as change_count,
        'cloudtrail.digests:' || coalesce(digest_s3_object, 'no digest for ' || account_id || '/' || region || ' at '
                                          || strftime(digest_start_time, '%Y-%m-%dT%H:%M:%SZ')) as source_ref
    from digests
),

trail_changes as (
    select
        period_start,
        period_end,
        recipient_account_id || '/' || aws_region || '/' || event_name || '/' || trail_name as entity_id,
        'trail_change' as check_type,
        recipient_account_id as account_id,
        aws_region as region,
        min(event_time) as at,
        cast(null as boolean) as digest_found,
        cast(null as boolean) as digest_intact,
        cast(null as bigint) as log_file_count,
        cast(null as bigint) as log_files_missing,
        cast(null as bigint) as log_files_altered,
        event_name || ' ' || trail_name || ' by ' || arg_min(user_arn, event_time) as trail_change,
        count(*) as change_count,
        'cloudtrail.trail_changes:eventID=' || arg_min(event_id, event_time) as source_ref
    from changes
    where succeeded
    group by period_start, period_end, recipient_account_id, aws_region, event_name, trail_name
)

select * from hours
union all
select * from trail_changes
