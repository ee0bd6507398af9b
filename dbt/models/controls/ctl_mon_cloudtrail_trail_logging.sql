-- Population for mon_cloudtrail_trail_logging: every audited account (from the account
-- summary, so an account without trails is in the population), per period, with the number
-- of its trails that record every region, are logging, validate log files and record all
-- management events (basic selectors: IncludeManagementEvents with ReadWriteType All;
-- advanced selectors: eventCategory = Management without a readOnly filter).
-- The criterion (at least one such trail) lives in the GX suite.
with

accounts as (
    {{ observed_snapshot('stg_aws__account_summaries', 'aws.account_summary') }}
),

trails as (
    {{ observed_snapshot('stg_aws__cloudtrail_trails', 'aws.cloudtrail_trails') }}
),

judged as (
    select
        *,
        (
            len(list_filter(json_extract(event_selectors, '$[*]'), lambda s:
                (s ->> 'IncludeManagementEvents')::boolean and s ->> 'ReadWriteType' = 'All')) > 0
            or len(list_filter(json_extract(advanced_event_selectors, '$[*]'), lambda s:
                len(list_filter(json_extract(s, '$.FieldSelectors[*]'), lambda f:
                    f ->> 'Field' = 'eventCategory' and list_contains(json_extract_string(f, '$.Equals[*]'), 'Management'))) > 0
                and len(list_filter(json_extract(s, '$.FieldSelectors[*]'), lambda f: f ->> 'Field' = 'readOnly')) = 0)) > 0
        ) as records_management_events
    from trails
)

select
    accounts.period_start,
    accounts.period_end,
    accounts.account_id as entity_id,
    accounts.account_name,
    count(judged.trail_arn) as trail_count,
    count(judged.trail_arn) filter (
        where judged.is_multi_region and judged.is_logging and judged.log_file_validation_enabled
          and judged.records_management_events
    ) as qualifying_trails,
    list(judged.trail_name || ': ' || case when judged.is_logging then 'logging' else 'NOT logging' end
         || case when judged.is_multi_region then ', multi-region' else ', single-region' end
         || case when judged.log_file_validation_enabled then ', validation on' else ', validation OFF' end
         || case when judged.records_management_events then '' else ', management events NOT recorded' end
         order by judged.trail_name) filter (where judged.trail_arn is not null) as trails,
    accounts.observed_at,
    'aws.cloudtrail_trails:account_id=' || accounts.account_id || '@'
        || strftime(accounts.observed_at, '%Y-%m-%dT%H:%M:%SZ') as source_ref
from accounts
left join judged
    on judged.period_start = accounts.period_start
   and judged.account_id = accounts.account_id
group by accounts.period_start, accounts.period_end, accounts.account_id, accounts.account_name, accounts.observed_at
