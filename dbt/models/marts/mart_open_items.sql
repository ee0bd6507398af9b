{#
  What needs attention now: every entity failing in its control's latest tested period
  (item_type `failure`), and every approved exception in force at the as-of instant
  (item_type `exception`), with age and expiry.

  A failure's age runs from the start of the first period of its current streak: the
  consecutive tested periods, ending with the latest, in which the entity failed
  (`not_tested` periods are skipped, they neither break nor extend a streak). An entity
  failing but covered by an exception is an `exception` item, not a `failure`.
#}
{%- set warning_days = var('exception_expiry_warning_days', 30) %}
with as_of as (
    select * from {{ ref('int_metrics__as_of') }}
),

tested as (
    select
        *,
        row_number() over (partition by control_id order by period_start desc) as recency
    from {{ ref('int_metrics__current_results') }}
    where status <> 'not_tested' and period_end <= (select as_of from as_of)
),

latest as (
    select * from tested where recency = 1
),

failing_entities as (
    select control_id, recency, period_start, unnest(failing_entity_ids) as entity_id
    from tested
),

streaks as (
    select
        control_id,
        entity_id,
        recency,
        period_start,
        recency - row_number() over (partition by control_id, entity_id order by recency) as island
    from failing_entities
),

current_streaks as (
    -- island 0 is the streak that reaches the latest tested period (recency 1)
    select control_id, entity_id, min(period_start) as since, count(*) as periods_failing
    from streaks
    where island = 0
    group by control_id, entity_id
),

exceptions as (
    select * from {{ ref('stg_ccm__exceptions') }}
),

expired as (
    select control_id, entity_id, max(expires_on) as exception_expired_on
    from exceptions
    where valid_until <= (select as_of from as_of)
    group by control_id, entity_id
),

failures as (
    select
        'failure' as item_type,
        latest.control_id,
        current_streaks.entity_id,
        current_streaks.since,
        current_streaks.periods_failing,
        cast(null as varchar) as exception_id,
        cast(null as varchar) as ticket,
        cast(null as varchar) as approved_by,
        latest.reason,
        cast(null as date) as expires_on,
        cast(null as timestamptz) as valid_until,
        expired.exception_expired_on,
        true as entity_failing,
        latest.period_start as latest_period_start,
        latest.period_end as latest_period_end,
        latest.data_docs_path,
        latest.evidence_path
    from latest
    inner join current_streaks on current_streaks.control_id = latest.control_id
    left join expired
        on expired.control_id = latest.control_id and expired.entity_id = current_streaks.entity_id
    where not list_contains(coalesce(latest.excepted_entity_ids, []), current_streaks.entity_id)
),

in_force as (
    select
        'exception' as item_type,
        exceptions.control_id,
        exceptions.entity_id,
        exceptions.valid_from as since,
        current_streaks.periods_failing,
        exceptions.exception_id,
        exceptions.ticket,
        exceptions.approved_by,
        exceptions.reason,
        exceptions.expires_on,
        exceptions.valid_until,
        cast(null as date) as exception_expired_on,
        coalesce(list_contains(latest.failing_entity_ids, exceptions.entity_id), false) as entity_failing,
        latest.period_start as latest_period_start,
        latest.period_end as latest_period_end,
        latest.data_docs_path,
        latest.evidence_path
    from exceptions
    left join latest on latest.control_id = exceptions.control_id
    left join current_streaks
        on current_streaks.control_id = exceptions.control_id and current_streaks.entity_id = exceptions.entity_id
    where exceptions.valid_from <= (select as_of from as_of)
        and exceptions.valid_until > (select as_of from as_of)
),

items as (
    select * from failures
    union all
    select * from in_force
)

select
    item_type || ':' || control_id || ':' || coalesce(exception_id, entity_id) as item_key,
    item_type,
    control_id,
    entity_id,
    since,
    round(date_diff('second', since, (select as_of from as_of)) / 86400.0, 2) as age_days,
    periods_failing,
    exception_id,
    ticket,
    approved_by,
    reason,
    expires_on,
    round(date_diff('second', (select as_of from as_of), valid_until) / 86400.0, 2) as days_to_expiry,
    coalesce(date_diff('second', (select as_of from as_of), valid_until) / 86400.0 <= {{ warning_days }}, false)
        as is_expiring,
    exception_expired_on,
    entity_failing,
    latest_period_start,
    latest_period_end,
    data_docs_path,
    evidence_path
from items
