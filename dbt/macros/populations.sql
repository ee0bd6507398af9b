{#
  Helpers for population models. A population model computes one row per
  (period, entity) for the periods the engine planned for it in this run.
#}

{# The model being built; inside a unit test, the model under test. #}
{% macro population_model_name() -%}
    {{ (model.get('tested_node_unique_id') or model.unique_id).split('.')[-1] }}
{%- endmacro %}

{#
  A bound of this run's window, as a timestamptz literal, so DuckDB can prune lake
  partitions with a constant filter (views are inlined, filters reach read_parquet).
  Read from the engine's plan when the model is compiled at run time, not passed as a
  dbt var: vars that change every run would invalidate dbt's partial parse and make every
  invocation re-parse the whole project. Wide defaults at parse time and in unit tests.
#}
{% macro plan_bound(name) -%}
    {%- set queries = {
        'events_from': "select min(period_start) from ccm.evaluation_plan where inputs_complete",
        'events_to': "select max(period_end) from ccm.evaluation_plan where inputs_complete",
        'snapshots_from': "select min(observed_at) from ccm.plan_inputs",
        'snapshots_to': "select max(observed_at) from ccm.plan_inputs",
    } -%}
    {%- set value = '2999-01-01 00:00:00+00' if name.endswith('_to') else '1970-01-01 00:00:00+00' -%}
    {%- if execute and not model.get('tested_node_unique_id') -%}
        {%- set result = run_query(queries[name]) -%}
        {%- if result and result.rows and result.rows[0][0] is not none -%}
            {%- set value = result.rows[0][0] -%}
        {%- endif -%}
    {%- endif -%}
    cast('{{ value }}' as timestamptz)
{%- endmacro %}

{# The periods to build: planned for this model, with complete inputs. #}
{% macro control_periods() -%}
    select period_start, period_end
    from {{ ref('stg_ccm__evaluation_plan') }}
    where population_model = '{{ population_model_name() }}' and inputs_complete
{%- endmacro %}

{#
  The rows of a snapshot dataset that are each period's evidence: exactly the
  observation (its files) the engine chose (observed within the control's freshness after the
  period closed). Adds period_start / period_end.
#}
{% macro observed_snapshot(staging_model, dataset) -%}
    select plan.period_start, plan.period_end, snap.*
    from {{ ref(staging_model) }} as snap
    join {{ ref('stg_ccm__plan_inputs') }} as plan
      on plan.dataset = '{{ dataset }}'
     and plan.population_model = '{{ population_model_name() }}'
     and snap.lake_file = plan.lake_file
    where snap.observed_at between {{ plan_bound('snapshots_from') }} and {{ plan_bound('snapshots_to') }}
{%- endmacro %}

{#
  The rows of an event dataset inside each planned period (half-open).
#}
{% macro events_in_periods(staging_model, time_column) -%}
    select periods.period_start, periods.period_end, ev.*
    from {{ ref(staging_model) }} as ev
    join ({{ control_periods() }}) as periods
      on ev.{{ time_column }} >= periods.period_start and ev.{{ time_column }} < periods.period_end
    where ev.{{ time_column }} >= {{ plan_bound('events_from') }}
      and ev.{{ time_column }} < {{ plan_bound('events_to') }}
{%- endmacro %}

{#
  The rows of a per-observation model that has a `dataset` column (e.g.
  int_identity__admin_assignments, a union over several datasets) whose observation the
  engine chose for this population model, whatever dataset each row comes from. Adds
  period_start / period_end. A new branch in the model (a new system) is picked up
  without touching the population.
#}
{% macro planned_observations(model_name) -%}
    select plan.period_start, plan.period_end, obs.*
    from {{ ref(model_name) }} as obs
    join (
        select distinct period_start, period_end, dataset, lake_file
        from {{ ref('stg_ccm__plan_inputs') }}
        where population_model = '{{ population_model_name() }}'
    ) as plan
      on obs.dataset = plan.dataset and obs.lake_file = plan.lake_file
    where obs.observed_at between {{ plan_bound('snapshots_from') }} and {{ plan_bound('snapshots_to') }}
{%- endmacro %}

{# This population model's rows of the identity graph (accounts linked to people). #}
{% macro identity_graph(system=none) -%}
    select *
    from {{ ref('int_identity__graph') }}
    where population_model = '{{ population_model_name() }}'
    {%- if system %} and system = '{{ system }}'{% endif %}
{%- endmacro %}
