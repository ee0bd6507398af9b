-- Population for iam_aws_root_activity: every AWS account with CloudTrail events in the
-- period, with the root user's own activity in it (CIS "root account usage": the root
-- user acting, not an AWS service on its behalf). The pass criterion (none) lives in the
-- GX suite ctl_iam_aws_root_activity; approved break-glass use is an exception on the
-- account's root user.
with

events as (
    {{ events_in_periods('stg_cloudtrail__events', 'event_time') }}
),

accounts as (
    select period_start, period_end, recipient_account_id as account_id, count(*) as event_count
    from events
    where recipient_account_id is not null
    group by all
),

root as (
    select
        period_start,
        recipient_account_id as account_id,
        count(*) as root_event_count,
        min(event_time) as first_root_event_at,
        max(event_time) as last_root_event_at,
        list(distinct event_name order by event_name) as root_event_names,
        arg_min(event_id, event_time) as first_root_event_id,
        arg_min(log_file, event_time) as first_root_log_file
    from events
    where is_root_activity
    group by all
)

select
    accounts.period_start,
    accounts.period_end,
    'arn:aws:iam::' || accounts.account_id || ':root' as entity_id,
    accounts.account_id,
    accounts.event_count,
    coalesce(root.root_event_count, 0) as root_event_count,
    root.first_root_event_at,
    root.last_root_event_at,
    coalesce(root.root_event_names, []) as root_event_names,
    case
        when root.first_root_event_id is not null
            then 'cloudtrail.events:eventID=' || root.first_root_event_id || '@' || root.first_root_log_file
        else 'cloudtrail.events:recipientAccountId=' || accounts.account_id
    end as source_ref
from accounts
left join root
    on root.period_start = accounts.period_start
   and root.account_id = accounts.account_id
