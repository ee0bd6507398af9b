"""`ccm doctor` against the stand-ins: green on a correct configuration, and each planted
misconfiguration fails its own row naming what is wrong and how to fix it (issue 18 item 2)."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import boto3
import pytest
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from ccm.cli import app
from ccm.doctor import fix_for
from ccm.sources.registry import get_dataset
from ccm_demo.runner import advance_clock
from ccm_demo.simulator import generate
from ccm_demo.spec import CLOCK_FILE, DemoSpec
from ccm_demo.standins.servers import Standins

SPEC = DemoSpec(seed=11, employees=20, days=7)
DAY = SPEC.window_start + timedelta(days=1)


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    """A small company served by every stand-in, its exports for DAY delivered."""
    root = tmp_path_factory.mktemp("doctor")
    demo = generate(SPEC, root / "demo")
    with Standins(demo).start() as standins:
        yield root, demo, standins.connection_env()


@pytest.fixture
def env(company, monkeypatch):
    root, demo, connections = company
    for name in list(os.environ):
        if name.startswith("AIRFLOW_CONN_"):
            monkeypatch.delenv(name)
    values = {**connections, "CCM_DATA_DIR": str(root / "var"), "CCM_EXCEPTIONS": str(demo / "exceptions.yml"),
              "CCM_CLOCK_FILE": str(demo / CLOCK_FILE), "CCM_HTTP_MAX_ATTEMPTS": "1"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    for name in ("CCM_LAKE_URI", "CCM_EVIDENCE_URI", "CCM_INBOX_URI", "CCM_INBOX_MAPPING", "CCM_COMPANY_DIR"):
        monkeypatch.delenv(name, raising=False)
    advance_clock(demo, DAY + timedelta(days=1), {**os.environ, "CCM_INBOX_URI": str(root / "var" / "inbox")})
    from ccm import cli

    # one table row per line whatever terminal the suite runs in (the console is made at import)
    monkeypatch.setattr(cli.console, "_width", 1000)
    return monkeypatch


def doctor(*args: str):
    return CliRunner().invoke(app, ["doctor", "--day", f"{DAY:%Y-%m-%d}", *args], env={"COLUMNS": "1000"})


def rows(output: str, marker: str) -> list[str]:
    return [line for line in output.splitlines() if marker in line]


def test_a_correct_configuration_is_green(env):
    result = doctor()
    assert result.exit_code == 0, result.output
    assert " 0 failed" in result.output
    assert rows(result.output, "okta.users readable") and rows(result.output, "aws.credential_report readable")
    assert rows(result.output, "hr.employees fits its contract")


def test_a_bad_token_is_named_with_its_connection(env):
    okta = json.loads(os.environ["AIRFLOW_CONN_OKTA_DEFAULT"])
    env.setenv("AIRFLOW_CONN_OKTA_DEFAULT", json.dumps(okta | {"password": "not-the-token"}))
    result = doctor("--dataset", "okta.users", "--dataset", "google.users")
    assert result.exit_code == 1, result.output
    [row] = rows(result.output, "okta.users readable")
    assert "fail" in row and "HTTP 401" in row and "connection okta_default is rejected" in row
    assert "ok" in rows(result.output, "google.users readable")[0]


def test_a_wrong_organisation_is_named(env):
    github = json.loads(os.environ["AIRFLOW_CONN_GITHUB_DEFAULT"])
    env.setenv("AIRFLOW_CONN_GITHUB_DEFAULT", json.dumps(github | {"extra": {**github["extra"], "org": "not-us"}}))
    result = doctor("--dataset", "github.organization")
    assert result.exit_code == 1, result.output
    [row] = rows(result.output, "github.organization readable")
    assert "fail" in row and "HTTP 404" in row and "/orgs/not-us" in row and "GitHub organisation `org`" in row


def test_a_missing_connection_is_named(env):
    env.delenv("AIRFLOW_CONN_GOOGLE_DEFAULT")
    result = doctor("--dataset", "google.users")
    assert result.exit_code == 1, result.output
    [row] = rows(result.output, "connection google_default")
    assert "fail" in row and "set AIRFLOW_CONN_GOOGLE_DEFAULT" in row


def test_a_missing_column_is_named_with_file_and_line(env, company):
    root = company[0]
    export = root / "var" / "inbox" / "hr" / "employees" / f"employees_{DAY:%Y-%m-%d}.csv"
    lines = export.read_text().splitlines()
    header = lines[0].split(",")
    drop = header.index("work_email")
    export.write_text("\n".join(",".join(v for i, v in enumerate(line.split(",")) if i != drop) for line in lines)
                      + "\n")
    result = doctor("--dataset", "hr.employees")
    assert result.exit_code == 1, result.output
    [row] = rows(result.output, "hr.employees fits its contract")
    assert "fail" in row and f"employees_{DAY:%Y-%m-%d}.csv line 1 column 'work_email'" in row
    assert "inbox mapping" in row


def test_a_missing_export_is_named_with_the_file_expected(env, company):
    (company[0] / "var" / "inbox" / "lms" / "training_completions"
     / f"training_completions_{DAY:%Y-%m-%d}.csv").unlink()
    result = doctor("--dataset", "lms.training_completions")
    assert result.exit_code == 1, result.output
    [row] = rows(result.output, "lms.training_completions delivered")
    assert f"lms/training_completions/training_completions_{DAY:%Y-%m-%d}.csv" in row
    assert "ccm inbox template lms.training_completions" in row


@pytest.fixture
def s3(env):
    aws = json.loads(os.environ["AIRFLOW_CONN_AWS_DEFAULT"])
    endpoint = aws["extra"]["endpoint_url"]
    env.setenv("CCM_S3_ENDPOINT_URL", endpoint)
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        env.setenv(name, value)
    return boto3.client("s3", endpoint_url=endpoint)


def test_an_evidence_bucket_without_object_lock_is_named(s3, env):
    s3.create_bucket(Bucket="evidence-unlocked")
    env.setenv("CCM_EVIDENCE_URI", "s3://evidence-unlocked/ccm")
    result = doctor("--dataset", "hr.employees")
    assert result.exit_code == 1, result.output
    [row] = rows(result.output, "Object Lock (compliance mode)")
    assert "fail" in row and "evidence-unlocked" in row and "put-object-lock-configuration" in row
    assert "ok" in rows(result.output, "writable")[1]  # the bucket itself takes writes


def test_an_evidence_bucket_in_governance_mode_or_short_retention_fails_and_compliance_passes(s3, env):
    for mode, days, expected in (("GOVERNANCE", 400, "not COMPLIANCE"), ("COMPLIANCE", 30, "30 days, less than"),
                                 ("COMPLIANCE", 400, "COMPLIANCE, 400 days")):
        bucket = f"evidence-{mode.lower()}-{days}"
        s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
        s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": mode, "Days": days}}})
        env.setenv("CCM_EVIDENCE_URI", f"s3://{bucket}/ccm")
        result = doctor("--dataset", "hr.employees")
        [row] = rows(result.output, "Object Lock (compliance mode)")
        assert expected in row, result.output
        assert result.exit_code == (0 if expected.startswith("COMPLIANCE") else 1)


def test_a_refused_permission_names_what_to_grant():
    """The stand-ins do not model partial grants; the fix is derived from the refusal's own words."""
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "User: arn:aws:sts::1:assumed-role/ccm-audit/x "
                                    "is not authorized to perform: iam:GenerateCredentialReport"}},
                         "GenerateCredentialReport")
    assert "allow iam:GenerateCredentialReport" in fix_for(get_dataset("aws.credential_report"), "aws_default", denied)
    forbidden = Exception("okta: GET /api/v1/logs returned HTTP 403: {\"errorCode\":\"E0000006\"}")
    assert "okta.logs.read" in fix_for(get_dataset("okta.system_log"), "okta_default", forbidden)
    assert "'Pull requests: read'" in fix_for(get_dataset("github.pull_requests"), "github_default",
                                              Exception("github: GET /repos/a/b/pulls returned HTTP 403: {}"))


def test_the_doctor_table_has_no_secret(env):
    result = doctor("--dataset", "okta.users")
    assert json.loads(os.environ["AIRFLOW_CONN_OKTA_DEFAULT"])["password"] not in result.output
