"""docker-compose.yml is checked statically (no Docker engine on CI machines)."""

from pathlib import Path

import yaml

from tests.conftest import PROJECT_DIR

SERVICES = {"postgres", "redis", "airflow-init", "airflow-apiserver", "airflow-scheduler",
            "airflow-dag-processor", "airflow-worker", "airflow-triggerer"}
MOUNTS = {"dags", "plugins", "dbt", "expectations", "include"}


def compose() -> dict:
    return yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text())


def test_services_follow_the_official_airflow_3_shape():
    doc = compose()
    assert set(doc["services"]) == SERVICES
    commands = {name: svc.get("command") for name, svc in doc["services"].items()}
    assert commands["airflow-apiserver"] == "api-server"
    assert commands["airflow-scheduler"] == "scheduler"
    assert commands["airflow-dag-processor"] == "dag-processor"
    assert commands["airflow-worker"] == "celery worker"
    assert commands["airflow-triggerer"] == "triggerer"
    init = "\n".join(doc["services"]["airflow-init"]["command"])
    assert "airflow db migrate" in init and "airflow pools set ccm_warehouse 1" in init


def test_every_airflow_service_mounts_the_project_and_uses_postgres_and_redis():
    doc = compose()
    for name, service in doc["services"].items():
        if not name.startswith("airflow-"):
            continue
        mounted = {Path(v.split(":")[0]).name for v in service["volumes"] if v.startswith("./")}
        assert mounted >= MOUNTS, f"{name} mounts {mounted}"
        env = service["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
        assert env["CCM_LAKE_URI"].startswith("${CCM_LAKE_URI:-s3://")
        for mount in MOUNTS:
            assert (PROJECT_DIR / mount).is_dir()


def test_the_image_installs_the_package_on_the_pinned_airflow():
    dockerfile = (PROJECT_DIR / "Dockerfile").read_text()
    pinned = next(line for line in (PROJECT_DIR / "pyproject.toml").read_text().splitlines()
                  if '"apache-airflow==' in line)
    version = pinned.split("==")[1].split('"')[0]
    assert f"FROM apache/airflow:{version}-python3.11" in dockerfile
    assert "pip install" in dockerfile and "plugins/ccm" in dockerfile
