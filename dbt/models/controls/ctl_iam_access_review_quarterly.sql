-- Population for iam_access_review_quarterly: one row per quarter and in-scope system
-- (int_identity__systems), with that quarter's review campaign (campaign = YYYY-QN) from
-- the register exported for the quarter's last day. A system without a campaign has a
-- row with no review. The criterion (completed and signed off before the quarter
-- closed) lives in the GX suite ctl_iam_access_review_quarterly.
with

periods as (
    {{ control_periods() }}
),

systems as (
    select system from {{ ref('int_identity__systems') }} where in_access_review_scope
),

reviews as (
    select
        *,
        row_number() over (partition by period_start, system order by started_at desc, review_id desc) as campaign_rank
    from ({{ observed_snapshot('stg_iga__access_reviews', 'iga.access_reviews') }})
    where campaign = strftime(period_start, '%Y') || '-Q' || cast(quarter(period_start) as varchar)
)

select
    periods.period_start,
    periods.period_end,
    systems.system as entity_id,
    strftime(periods.period_start, '%Y') || '-Q' || cast(quarter(periods.period_start) as varchar) as campaign,
    reviews.review_id,
    reviews.reviewer,
    reviews.status as review_status,
    reviews.started_at,
    reviews.completed_at,
    reviews.signed_off_by,
    reviews.signed_off_at,
    reviews.observed_at,
    case when reviews.review_id is not null
        then 'iga.access_reviews:review_id=' || reviews.review_id || '@' || strftime(reviews.observed_at, '%Y-%m-%dT%H:%M:%SZ')
    end as source_ref
from periods
cross join systems
left join reviews
    on reviews.period_start = periods.period_start
   and reviews.system = systems.system
   and reviews.campaign_rank = 1
