"""AWS accounts discovered from the Organization (issue 18 item 4): active accounts only,
allow and deny lists, a new account audited from the next extract."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from ccm.errors import ConfigError, SourceError
from ccm.sources.aws.client import make_client
from ccm.sources.aws.organization import OrganizationDiscovery
from ccm.sources.connections import Connection


@pytest.fixture
def organization(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        org = boto3.client("organizations", region_name="us-east-1")
        org.create_organization(FeatureSet="ALL")
        ids = {}
        for name in ("production", "staging", "sandbox", "closed"):
            status = org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
            ids[name] = status["AccountId"]
        org.close_account(AccountId=ids["closed"])
        yield org, ids


def client_for(settings, organization: dict):
    connection = Connection("aws_default", extra={"region_name": "us-east-1", "organization": organization})
    return make_client(connection, settings)


def test_every_active_account_is_audited_through_the_audit_role(settings, organization):
    org, ids = organization
    client = client_for(settings, {"role_name": "ccm-audit", "regions": ["us-east-1", "eu-west-1"]})
    audited = {a.account_id: a for a in client.accounts}
    assert {ids["production"], ids["staging"], ids["sandbox"]} <= set(audited)
    assert ids["closed"] not in audited  # suspended / pending closure
    production = audited[ids["production"]]
    assert production.name == "production"
    assert production.role_arn == f"arn:aws:iam::{ids['production']}:role/ccm-audit"
    assert production.regions == ("us-east-1", "eu-west-1")
    # a new account is audited from the next extract
    new = org.create_account(AccountName="new-team", Email="new@example.com")["CreateAccountStatus"]["AccountId"]
    assert new in {a.account_id for a in client_for(settings, {"role_name": "ccm-audit",
                                                               "regions": ["us-east-1"]}).accounts}


def test_allow_and_deny_lists(settings, organization):
    _, ids = organization
    denied = client_for(settings, {"role_name": "ccm-audit", "regions": ["us-east-1"], "deny": [ids["sandbox"]]})
    assert ids["sandbox"] not in {a.account_id for a in denied.accounts}
    assert ids["production"] in {a.account_id for a in denied.accounts}
    allowed = client_for(settings, {"role_name": "ccm-audit", "regions": ["us-east-1"],
                                    "allow": [ids["production"], ids["closed"]]})
    assert [a.account_id for a in allowed.accounts] == [ids["production"]]  # allowed but closed: skipped


def test_nothing_left_to_audit_fails_instead_of_auditing_nothing(settings, organization):
    _, ids = organization
    with pytest.raises(SourceError, match="no active account to audit"):
        client_for(settings, {"role_name": "ccm-audit", "regions": ["us-east-1"], "allow": [ids["closed"]]})


@pytest.mark.parametrize(("entry", "message"), [
    ({"role_name": "ccm audit!", "regions": ["us-east-1"]}, "role_name must be an IAM role name"),
    ({"role_name": "ccm-audit", "regions": []}, "regions must be a non-empty list"),
    ({"role_name": "ccm-audit", "regions": ["us-east-1"], "deny": ["123"]}, "account ids are 12 digits"),
    ({"role_name": "ccm-audit", "regions": ["us-east-1"], "allow": ["111111111111"], "deny": ["111111111111"]},
     "both allowed and denied"),
    ({"role_name": "ccm-audit", "regions": ["us-east-1"], "accountz": []}, "unknown keys"),
])
def test_a_wrong_discovery_configuration_names_the_field(entry, message):
    with pytest.raises(ConfigError, match=message):
        OrganizationDiscovery.from_extra(entry)


def test_accounts_and_organization_together_are_refused(settings):
    connection = Connection("aws_default", extra={"accounts": [{"account_id": "111111111111"}],
                                                  "organization": {"role_name": "r", "regions": ["us-east-1"]}})
    with pytest.raises(ConfigError, match="not both"):
        make_client(connection, settings)
