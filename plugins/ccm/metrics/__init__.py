"""Control metrics: reference tables, dbt marts, their Parquet export, and the dashboard.

The publish step runs after evaluate: `reference` refreshes the tables the marts need
(control matrix, datasets, exceptions, extract manifests), `marts` builds the dbt marts
and exports them for BI tools, `dashboard` renders the static HTML dashboard from them.
"""
