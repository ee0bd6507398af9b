"""ccm: continuous control monitoring for SOC 2 Type II.

The package is deliberately free of Airflow imports outside `ccm.airflow`, so every step
runs the same way from a DAG, from the `ccm` CLI and from tests.
"""

__version__ = "0.1.0"
