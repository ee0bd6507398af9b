-- The identity graph as each planned control-period sees it: every account of the
-- observations the engine chose for that period (one per account dataset), linked to
-- the person on the HR roster observation chosen for the same period.
--
-- Link rule, first match wins: the HR employee id the system carries (Okta
-- employeeNumber, Google externalIds), then the account's email, then its login. An
-- email or login shared by two roster entries links to nobody (ambiguous), so a bad
-- roster cannot quietly attach an account to the wrong person. When the control does
-- not use the roster, accounts stay unlinked (employee_id NULL).
--
-- Population models read their own rows: where population_model = <the model>.
with

plan as (
    select distinct population_model, period_start, period_end, dataset, lake_file
    from {{ ref('stg_ccm__plan_inputs') }}
),

accounts as (
    select plan.population_model, plan.period_start, plan.period_end, accounts.*
    from {{ ref('int_identity__accounts') }} as accounts
    join plan on plan.dataset = accounts.dataset and plan.lake_file = accounts.lake_file
    where accounts.observed_at between {{ plan_bound('snapshots_from') }}
                                   and {{ plan_bound('snapshots_to') }}
),

people as (
    select plan.population_model, plan.period_start, people.*
    from {{ ref('int_identity__people') }} as people
    join plan on plan.dataset = people.dataset and plan.lake_file = people.lake_file
    where people.observed_at between {{ plan_bound('snapshots_from') }}
                                 and {{ plan_bound('snapshots_to') }}
),

by_email as (
    select population_model, period_start, email, min(employee_id) as employee_id
    from people
    group by population_model, period_start, email
    having count(distinct employee_id) = 1
),

linked as (
    select
        accounts.*,
        coalesce(by_id.employee_id, by_mail.employee_id, by_login.employee_id) as employee_id,
        case
            when by_id.employee_id is not null then 'employee_id'
            when by_mail.employee_id is not null then 'email'
            when by_login.employee_id is not null then 'login'
        end as match_method
    from accounts
    left join people as by_id
        on by_id.population_model = accounts.population_model
       and by_id.period_start = accounts.period_start
       and by_id.employee_id = accounts.employee_id_hint
    left join by_email as by_mail
        on by_mail.population_model = accounts.population_model
       and by_mail.period_start = accounts.period_start
       and by_mail.email = accounts.email
    left join by_email as by_login
        on by_login.population_model = accounts.population_model
       and by_login.period_start = accounts.period_start
       and by_login.email = accounts.login
)

select
    linked.*,
    person.email as person_email,
    person.employment_status,
    coalesce(person.is_current, false) as has_current_hr_record,
    person.termination_at,
    linked.dataset || ':' || linked.account_id || '@'
        || strftime(linked.observed_at, '%Y-%m-%dT%H:%M:%SZ') as source_ref
from linked
left join people as person
    on person.population_model = linked.population_model
   and person.period_start = linked.period_start
   and person.employee_id = linked.employee_id
