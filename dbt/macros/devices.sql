{# This population model's rows of the device graph (MDM devices with their EDR sensor and owner). #}
{% macro device_graph() -%}
    select *
    from {{ ref('int_devices__graph') }}
    where population_model = '{{ population_model_name() }}'
{%- endmacro %}
