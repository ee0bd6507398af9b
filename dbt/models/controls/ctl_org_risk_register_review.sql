-- Population for org_risk_register_review: every risk open at the period's close in the risk
-- register observed after it, with its severity, owner, mitigation plan and latest review.
-- A risk counts as reviewed in the period when its latest review before the close (the
-- quarterly register review, or its assessment when it was raised) falls in the period.
-- Which risks need an owner and a plan (high and critical) is decided in the GX suite.
with

risks as (
    {{ observed_snapshot('stg_grc__risks', 'grc.risks') }}
)

select
    period_start,
    period_end,
    risk_id as entity_id,
    title,
    category,
    severity,
    owner_email,
    treatment,
    mitigation_plan,
    identified_on,
    last_reviewed_at,
    coalesce(last_reviewed_at >= period_start and last_reviewed_at < period_end, false) as reviewed_in_period,
    observed_at,
    'grc.risks:risk_id=' || risk_id || '@' || strftime(observed_at, '%Y-%m-%dT%H:%M:%SZ') as source_ref
from risks
where identified_on < period_end::date
  and coalesce(closed_on >= period_end::date, risk_status <> 'closed')
