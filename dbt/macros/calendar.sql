{#
  Calendar measures the organisational controls compare with thresholds in their GX
  suites. The oracles in ccm.demo.oracles.organisation compute the same definitions
  independently (business_days_between, whole_months_between).
#}

{#
  Business days (Monday to Friday, UTC dates) after `start_date` up to and including
  `end_date`: 0 when end_date is not after start_date. No holiday calendar: the exports
  carry none, so public holidays count as business days.
#}
{% macro business_days_between(start_date, end_date) -%}
    len(list_filter(
        range(({{ start_date }})::timestamp + interval 1 day, ({{ end_date }})::timestamp + interval 1 day, interval 1 day),
        lambda d: isodow(d) <= 5
    ))
{%- endmacro %}

{#
  Whole calendar months from `earlier` to `later` (dates or UTC timestamps): the number of
  month boundaries crossed, less one if `later` falls earlier in its month (day, then
  time of day) than `earlier` did. "Within the last 12 months" is `< 12`.
#}
{% macro whole_months_between(earlier, later) -%}
    (
        (year(({{ later }})::timestamp) - year(({{ earlier }})::timestamp)) * 12
        + month(({{ later }})::timestamp) - month(({{ earlier }})::timestamp)
        - case
            when strftime(({{ later }})::timestamp, '%d%H%M%S%f') < strftime(({{ earlier }})::timestamp, '%d%H%M%S%f')
            then 1 else 0
          end
    )
{%- endmacro %}
