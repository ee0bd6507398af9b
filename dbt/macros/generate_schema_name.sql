{# Use the layer name (staging, controls, marts) as the schema, not target_layer. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
