{#
  Helpers for AWS API shapes kept as JSON in the raw lake.
#}

{# The value of tag `key` in an AWS TagList ([{"Key": ..., "Value": ...}, ...]), or null. #}
{% macro aws_tag_value(tags_json, key) -%}
    (list_filter(json_extract(coalesce({{ tags_json }}, '[]'), '$[*]'), lambda t: t ->> 'Key' = '{{ key }}')[1] ->> 'Value')
{%- endmacro %}

{#
  A policy element that may be one string or a list of strings (IAM's Action, Resource,
  NotAction), as a list of strings; [] when the element is absent.
#}
{% macro json_string_list(json_value, path) -%}
    (case json_type({{ json_value }}, '{{ path }}')
        when 'ARRAY' then json_extract_string({{ json_value }}, '{{ path }}[*]')
        when 'VARCHAR' then [json_extract_string({{ json_value }}, '{{ path }}')]
        else []::varchar[]
    end)
{%- endmacro %}
