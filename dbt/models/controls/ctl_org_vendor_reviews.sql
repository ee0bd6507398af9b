-- Population for org_vendor_reviews: every critical vendor active at the period's close in
-- the vendor register observed after it, with its latest security review and the whole
-- months from that review to the close (the 12-month limit lives in the GX suite).
with

vendors as (
    {{ observed_snapshot('stg_grc__vendors', 'grc.vendors') }}
)

select
    period_start,
    period_end,
    vendor_id as entity_id,
    vendor_name,
    criticality,
    vendor_status,
    data_access,
    last_review_completed_on,
    last_review_outcome,
    next_review_due,
    {{ whole_months_between('last_review_completed_on', 'period_end') }} as months_since_last_review,
    observed_at,
    'grc.vendors:vendor_id=' || vendor_id || '@' || strftime(observed_at, '%Y-%m-%dT%H:%M:%SZ') as source_ref
from vendors
where criticality = 'critical'
  and coalesce(onboarded_on < period_end::date, true)
  and coalesce(offboarded_on >= period_end::date, vendor_status <> 'offboarded')
