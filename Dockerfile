# Production image: the official Airflow image plus the ccm package and its pinned dependencies.
FROM apache/airflow:3.3.2-python3.11

USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends git \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
USER airflow

COPY --chown=airflow:root pyproject.toml README.md /opt/ccm/
# the product only: the demo organisation (plugins/ccm_demo, the `demo` extra) is not shipped
COPY --chown=airflow:root plugins/ccm /opt/ccm/plugins/ccm
RUN pip install --no-cache-dir "/opt/ccm" "psycopg2-binary>=2.9" "apache-airflow-providers-celery"

ENV CCM_PROJECT_DIR=/opt/airflow
