-- Population for mon_tabletop_exercise: one row per period for the incident response plan,
-- with the latest tabletop exercise held before the close according to the exercise log
-- observed after it, and the whole months from that exercise to the close (the 12-month
-- limit lives in the GX suite). The row exists even when the log holds no exercise at all,
-- so "never exercised" fails rather than leaving an empty population.
with

exercises as (
    {{ observed_snapshot('stg_grc__tabletop_exercises', 'grc.tabletop_exercises') }}
),

periods as (
    {{ control_periods() }}
),

held as (
    select
        period_start,
        max(held_on) as last_exercise_on,
        arg_max(exercise_id, held_on) as last_exercise_id,
        arg_max(observed_at, held_on) as observed_at,
        count(*) as exercises_on_record
    from exercises
    where exercise_status = 'completed' and held_on is not null and held_on < period_end::date
    group by period_start
)

select
    periods.period_start,
    periods.period_end,
    'incident_response_plan' as entity_id,
    held.last_exercise_id,
    held.last_exercise_on,
    coalesce(held.exercises_on_record, 0) as exercises_on_record,
    {{ whole_months_between('held.last_exercise_on', 'periods.period_end') }} as months_since_last_exercise,
    held.observed_at,
    'grc.tabletop_exercises:exercise_id=' || coalesce(held.last_exercise_id, '(none)')
    || coalesce('@' || strftime(held.observed_at, '%Y-%m-%dT%H:%M:%SZ'), '') as source_ref
from periods
left join held
    on held.period_start = periods.period_start
