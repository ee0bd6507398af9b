"""The audit role's policy (include/aws/ccm-audit-policy.json) allows every AWS call the extract
makes and nothing that writes (issue 18 item 4); the StackSet template deploys exactly it.

The calls are recorded with a botocore `before-call` event hook on every client created while
all AWS and CloudTrail datasets are extracted from the stand-ins (a moto server) and the
accounts are discovered from an Organization (moto in-process).
"""

from __future__ import annotations

import fnmatch
import json
import os
from datetime import timedelta
from pathlib import Path

import boto3
import botocore.session
import pytest
import yaml
from moto import mock_aws

from ccm.config import Settings
from ccm.manifests import RunContext
from ccm.pipeline import extract
from ccm.sources.aws.client import make_client
from ccm.sources.connections import Connection, from_env
from ccm.sources.extract import Interval
from ccm.sources.registry import ALL_DATASETS
from ccm_demo.runner import advance_clock
from ccm_demo.simulator import generate
from ccm_demo.spec import CLOCK_FILE, DemoSpec
from ccm_demo.standins.servers import Standins

PROJECT = Path(__file__).resolve().parents[3]
POLICY = json.loads((PROJECT / "include" / "aws" / "ccm-audit-policy.json").read_text())
TEMPLATE = yaml.safe_load((PROJECT / "include" / "aws" / "ccm-audit-stackset.yaml").read_text())

# API operation -> IAM action, where the two names differ (the service authorization reference)
IAM_ACTION = {
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
}
# IAM actions that are not Get/List/Describe and still change nothing the controls test
READ_ONLY_EXCEPTIONS = {"iam:GenerateCredentialReport"}  # (re)builds the account's credential report, a read


def iam_action(service_name: str, signing_name: str, operation: str) -> str:
    return IAM_ACTION.get((service_name, operation), f"{signing_name}:{operation}")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> set[str]:
    """Every IAM action behind the calls of a full AWS + CloudTrail extract and a discovery."""
    calls: set[str] = set()
    recording = [False]  # the stand-ins seed moto through boto3 too: only the extract's calls count

    def record(model, **_):
        if recording[0]:
            calls.add(iam_action(model.service_model.service_name, model.service_model.signing_name,
                                 model.name))

    original = botocore.session.Session.create_client

    def create_client(self, *args, **kwargs):
        client = original(self, *args, **kwargs)
        client.meta.events.register("before-call", record)
        return client

    spec = DemoSpec(seed=5, employees=20, days=7)
    root = tmp_path_factory.mktemp("policy")
    demo = generate(spec, root / "demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session.Session, "create_client", create_client)
        with Standins(demo).start() as standins:
            for name, value in standins.connection_env().items():
                patch.setenv(name, value)
            patch.setenv("CCM_CLOCK_FILE", str(demo / CLOCK_FILE))
            settings = Settings.from_env({**os.environ, "CCM_DATA_DIR": str(root / "var")})
            day = spec.window_start + timedelta(days=1)
            advance_clock(demo, day + timedelta(days=1), {**os.environ, "CCM_INBOX_URI": settings.inbox_uri})
            recording[0] = True
            for dataset in ALL_DATASETS:
                if dataset.source in ("aws", "cloudtrail"):
                    extract(settings, dataset.key, Interval(day, day + timedelta(days=1)), RunContext(), from_env)
            recording[0] = False
        for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                            "AWS_DEFAULT_REGION": "us-east-1"}.items():
            patch.setenv(name, value)
        with mock_aws():
            boto3.client("organizations", region_name="us-east-1").create_organization(FeatureSet="ALL")
            recording[0] = True
            make_client(Connection("aws_default", extra={"organization": {"role_name": "ccm-audit",
                                                                          "regions": ["us-east-1"]}}), settings)
            recording[0] = False
    assert calls, "no AWS call was recorded"
    return calls


def allowed(action: str) -> bool:
    return any(statement["Effect"] == "Allow"
               and any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in statement["Action"])
               for statement in POLICY["Statement"])


def test_every_call_of_the_extract_is_allowed_by_the_policy_or_the_trust_policy(recorded):
    trust = TEMPLATE["Resources"]["AuditRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Action"] for s in trust] == ["sts:AssumeRole"]  # the pipeline's identity enters each account
    refused = sorted(a for a in recorded - {"sts:AssumeRole"} if not allowed(a))
    assert not refused, f"add to include/aws/ccm-audit-policy.json (and the StackSet template): {refused}"


def test_the_policy_grants_nothing_the_extract_does_not_use(recorded):
    granted = {a for s in POLICY["Statement"] for a in s["Action"]}
    assert granted - recorded == set(), "least privilege: remove what no extract calls"


def test_nothing_in_the_policy_can_write():
    for statement in POLICY["Statement"]:
        assert statement["Effect"] == "Allow" and "NotAction" not in statement and "NotResource" not in statement
        for action in statement["Action"]:
            name = action.partition(":")[2]
            assert "*" not in action and "?" not in action, f"{action}: no wildcards"
            assert name.startswith(("Get", "List", "Describe")) or action in READ_ONLY_EXCEPTIONS, \
                f"{action} is not a read"
    objects = next(s for s in POLICY["Statement"] if "s3:GetObject" in s["Action"])
    assert objects["Resource"] == ["arn:aws:s3:::${CloudTrailBucket}", "arn:aws:s3:::${CloudTrailBucket}/*"]


def test_the_stackset_template_deploys_exactly_the_policy():
    def plain(value):
        if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
            return value["Fn::Sub"]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    [inline] = TEMPLATE["Resources"]["AuditRole"]["Properties"]["Policies"]
    assert plain(inline["PolicyDocument"]) == POLICY
    assert set(TEMPLATE["Parameters"]) == {"PipelinePrincipalArn", "RoleName", "CloudTrailBucket"}
