"""The AWS stand-in: moto reconciled to the world whichever way the clock moves, and the
answers moto cannot give (credential report dates, the root user, backup jobs)."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

from ccm import clock
from ccm.sources.aws.client import make_client
from ccm_demo.standins import aws as aws_standin_module
from ccm_demo.world import aws as world
from ccm_demo.world import aws_org


def _moto_state(standin) -> dict[str, Any]:
    """What moto holds for every world-owned kind of resource, read back through boto3."""
    reconciler = standin.reconciler
    state: dict[str, Any] = {}
    for account in standin.world.accounts:
        acct = account.account_id
        iam = reconciler.client(acct, "iam")
        details = iam.get_account_authorization_details(Filter=["User", "LocalManagedPolicy"])
        for user in details["UserDetailList"]:
            name = user["UserName"]
            keys = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
            state[f"{acct}/iam/user/{name}"] = {
                "console": _has_login_profile(iam, name),
                "mfa": bool(iam.list_mfa_devices(UserName=name)["MFADevices"]),
                "policies": sorted(p["PolicyArn"] for p in user["AttachedManagedPolicies"]),
                "tags": {t["Key"]: t["Value"] for t in user.get("Tags", [])},
                "keys": sorted(k["Status"] for k in keys),
            }
        for policy in details["Policies"]:
            default = next(v for v in policy["PolicyVersionList"] if v["IsDefaultVersion"])
            state[f"{acct}/iam/policy/{policy['Arn'].rsplit('/', 1)[1]}"] = default["Document"]
        try:
            state[f"{acct}/iam/password-policy"] = iam.get_account_password_policy()["PasswordPolicy"][
                "MinimumPasswordLength"]
        except iam.exceptions.NoSuchEntityException:
            state[f"{acct}/iam/password-policy"] = None
        s3 = reconciler.client(acct, "s3")
        for bucket in s3.list_buckets()["Buckets"]:
            try:
                rules = s3.get_bucket_encryption(Bucket=bucket["Name"])["ServerSideEncryptionConfiguration"]["Rules"]
                encryption = rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
            except s3.exceptions.ClientError:
                encryption = None
            state[f"s3/{bucket['Name']}"] = encryption
        for region in account.regions:
            ec2 = reconciler.client(acct, "ec2", region)
            for group in ec2.describe_security_groups()["SecurityGroups"]:
                rules = sorted(f"{p['IpProtocol']} {p.get('FromPort')}-{p.get('ToPort')} {[cidr]}"
                               for p in group["IpPermissions"]
                               for cidr in [r["CidrIp"] for r in p["IpRanges"]] + [r["CidrIpv6"] for r in p["Ipv6Ranges"]])
                state[f"{acct}/{region}/ec2/security-group/{group['GroupName']}"] = (group["GroupId"], rules)
            for instance in reconciler.client(acct, "rds", region).describe_db_instances()["DBInstances"]:
                state[f"{acct}/{region}/rds/{instance['DBInstanceIdentifier']}"] = (
                    instance["StorageEncrypted"], instance["BackupRetentionPeriod"], instance["MultiAZ"],
                    instance["PubliclyAccessible"], instance["DeletionProtection"])
            kms = reconciler.client(acct, "kms", region)
            for alias in kms.list_aliases()["Aliases"]:
                if not alias["AliasName"].startswith("alias/aws/") and alias.get("TargetKeyId"):
                    state[f"{acct}/{region}/kms/{alias['AliasName']}"] = kms.get_key_rotation_status(
                        KeyId=alias["TargetKeyId"])["KeyRotationEnabled"]
            guardduty = reconciler.client(acct, "guardduty", region)
            detectors = guardduty.list_detectors()["DetectorIds"]
            state[f"{acct}/{region}/guardduty"] = [guardduty.get_detector(DetectorId=d)["Status"] for d in detectors]
            recorders = reconciler.client(acct, "config", region).describe_configuration_recorder_status()
            state[f"{acct}/{region}/config"] = [r["recording"] for r in recorders["ConfigurationRecordersStatus"]]
        trail = reconciler.client(acct, "cloudtrail")
        for described in trail.describe_trails()["trailList"]:
            status = trail.get_trail_status(Name=described["Name"])
            state[f"{acct}/cloudtrail/{described['Name']}"] = (
                status["IsLogging"], described["IsMultiRegionTrail"], described["LogFileValidationEnabled"])
    return state


def _has_login_profile(iam, name: str) -> bool:
    try:
        iam.get_login_profile(UserName=name)
        return True
    except iam.exceptions.NoSuchEntityException:
        return False


def _world_state(aws_world: world.AwsWorld, moment, log_archive: str) -> dict[str, Any]:
    """The same view, from the world."""
    state: dict[str, Any] = {}
    keys: dict[str, list[str]] = {}
    for key, key_state in aws_world.existing(world.ACCESS_KEY, moment):
        keys.setdefault(f"{key['account_id']}/iam/user/{key['static']['user']}", []).append(key_state["status"])
    for user, user_state in aws_world.existing(world.USER, moment):
        state[user["key"]] = {"console": user_state["console"], "mfa": user_state["mfa"],
                              "policies": sorted(user_state["policies"]), "tags": user_state["tags"],
                              "keys": sorted(keys.get(user["key"], []))}
    for policy, policy_state in aws_world.existing(world.POLICY, moment):
        state[policy["key"]] = policy_state["document"]
    for resource in aws_world.resources(world.PASSWORD_POLICY):
        policy_state = aws_world.state(resource, moment)
        state[resource["key"]] = policy_state["MinimumPasswordLength"] if policy_state else None
    for bucket, bucket_state in aws_world.existing(world.BUCKET, moment):
        state[bucket["key"]] = bucket_state["encryption"]
    if f"s3/{log_archive}" not in state:  # retained whatever the clock says
        state[f"s3/{log_archive}"] = "aws:kms"
    for group, group_state in aws_world.existing(world.SECURITY_GROUP, moment):
        state[group["key"]] = (group["static"]["group_id"],  # the world's id, which the stand-in gives the group
                               sorted(f"{p} {f}-{t} {[c]}" for p, f, t, c in group_state["ingress"]))
    for rds, rds_state in aws_world.existing(world.RDS, moment):
        state[rds["key"]] = (rds_state["encrypted"], rds_state["backup_retention"], rds_state["multi_az"],
                             rds_state["public"], rds_state["deletion_protection"])
    for key, key_state in aws_world.existing(world.KMS_KEY, moment):
        state[key["key"]] = key_state["rotation"]
    for detector in aws_world.resources(world.DETECTOR):
        detector_state = aws_world.state(detector, moment)
        state[detector["key"]] = [] if detector_state is None else [
            "ENABLED" if detector_state["enabled"] else "DISABLED"]
    for recorder in aws_world.resources(world.CONFIG_RECORDER):
        recorder_state = aws_world.state(recorder, moment)
        state[recorder["key"]] = [] if recorder_state is None else [recorder_state["recording"]]
    for trail, trail_state in aws_world.existing(world.TRAIL, moment):
        state[trail["key"]] = (trail_state["logging"], trail_state["multi_region"], trail_state["log_file_validation"])
    return state


def _comparable(state: dict[str, Any]) -> dict[str, Any]:
    """moto's own default security groups are not the world's."""
    return {k: v for k, v in state.items() if not k.endswith("/ec2/security-group/default")}


def test_the_clock_moving_forward_and_back_gives_the_worlds_state(aws_standin, at_day, small_spec, demo_dir):
    log_archive = aws_org.log_archive_bucket(small_spec.seed)
    early = at_day(1)
    first = _comparable(_moto_state(aws_standin))
    assert first == _world_state(aws_standin.world, early, log_archive)
    late = at_day(8)
    moved = _comparable(_moto_state(aws_standin))
    assert moved == _world_state(aws_standin.world, late, log_archive) and moved != first
    at_day(1)
    assert _comparable(_moto_state(aws_standin)) == first
    assert aws_standin.advance(early) == {}  # nothing left to do: idempotent


def test_the_log_archive_bucket_and_its_objects_survive_any_clock(aws_standin, at_day, small_spec):
    at_day(1)
    security = aws_org.accounts(small_spec.seed)[2].account_id
    s3 = aws_standin.reconciler.client(security, "s3")
    bucket = aws_org.log_archive_bucket(small_spec.seed)
    s3.put_object(Bucket=bucket, Key="AWSLogs/probe.json.gz", Body=b"{}")
    # before the company existed: every resource the world owns is gone, except that bucket
    ancient = small_spec.window_start - timedelta(days=3000)
    aws_standin.advance(ancient)
    emptied = _comparable(_moto_state(aws_standin))
    assert emptied == _world_state(aws_standin.world, ancient, bucket)
    assert {k: v for k, v in emptied.items() if v} == {f"s3/{bucket}": "aws:kms"}
    assert s3.get_object(Bucket=bucket, Key="AWSLogs/probe.json.gz")["Body"].read() == b"{}"
    moment = at_day(1)
    assert _comparable(_moto_state(aws_standin)) == _world_state(aws_standin.world, moment, bucket)
    s3.delete_object(Bucket=bucket, Key="AWSLogs/probe.json.gz")


# the columns of IAM's credential report, in AWS's order (IAM User Guide, "Getting credential reports")
CREDENTIAL_REPORT_COLUMNS = [
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
    "password_next_rotation", "mfa_active",
    *(f"access_key_{n}_{field}" for n in (1, 2)
      for field in ("active", "last_rotated", "last_used_date", "last_used_region", "last_used_service")),
    *(f"cert_{n}_{field}" for n in (1, 2) for field in ("active", "last_rotated")),
]

def test_the_credential_report_has_the_worlds_dates_and_the_root_user(aws_standin, aws_connection, at_day, settings,
                                                                      small_spec):
    moment = at_day(1)
    client = make_client(aws_connection, settings)
    staging = client.accounts[1]
    iam = client.client(staging, "iam")
    iam.generate_credential_report()
    report = iam.get_credential_report()
    assert report["GeneratedTime"] == moment
    rows = list(csv.DictReader(io.StringIO(report["Content"].decode())))
    assert list(rows[0]) == CREDENTIAL_REPORT_COLUMNS
    assert rows[0]["user"] == "<root_account>" and rows[0]["arn"] == f"arn:aws:iam::{staging.account_id}:root"
    root = aws_standin.world.state(aws_standin.world.root_of(staging.account_id), moment)
    assert rows[0]["access_key_1_active"] == ("true" if root["access_key"] else "false")
    by_user = {r["user"]: r for r in rows[1:]}
    for user, state in aws_standin.world.existing(world.USER, moment):
        if user["account_id"] != staging.account_id:
            continue
        row = by_user[user["name"]]
        assert row["user_creation_time"] == world.parse(user["timeline"][0][0]).strftime("%Y-%m-%dT%H:%M:%S+00:00")
        assert row["mfa_active"] == str(state["mfa"]).lower()
        if not state["console"]:
            assert row["password_last_used"] == row["password_last_changed"] == "N/A"
        created = sorted(world.parse(k["static"]["created"]).strftime("%Y-%m-%dT%H:%M:%S+00:00")
                         for k, _ in aws_standin.world.existing(world.ACCESS_KEY, moment)
                         if k["account_id"] == staging.account_id and k["static"]["user"] == user["name"])
        reported = sorted(row[f"access_key_{n}_last_rotated"] for n in (1, 2)
                          if row[f"access_key_{n}_last_rotated"] != "N/A")
        assert reported == created


def test_the_account_summary_describes_the_root_user(aws_standin, aws_connection, at_day, settings, small_spec):
    moment = at_day(1)
    client = make_client(aws_connection, settings)
    for account in client.accounts:
        summary = client.client(account, "iam").get_account_summary()["SummaryMap"]
        root = aws_standin.world.state(aws_standin.world.root_of(account.account_id), moment)
        assert summary["AccountMFAEnabled"] == int(root["mfa"])
        assert summary["AccountAccessKeysPresent"] == int(bool(root["access_key"]))
    assert any(aws_standin.world.state(aws_standin.world.root_of(a.account_id), moment)["access_key"]
               for a in client.accounts)  # the planted root key is visible on day one


def test_advance_to_drives_a_running_standin_through_its_connection(aws_standin, aws_clock, small_spec, demo_dir,
                                                                    at_day):
    at_day(1)
    moment = small_spec.observation_time(small_spec.window_start + timedelta(days=5))
    clock.write_clock_file(aws_clock, moment)
    aws_standin_module.advance_to(demo_dir, moment, aws_standin.connection_env())
    assert aws_standin.reconciler.moment == moment
    aws_standin_module.advance_to(demo_dir, moment, {})  # no AWS connection: nothing to drive
    broken = {aws_standin_module.CONN_ENV: json.dumps({"extra": {"endpoint_url": "http://127.0.0.1:9"}})}
    try:
        aws_standin_module.advance_to(demo_dir, moment, broken)
    except RuntimeError as exc:
        assert "aws stand-in at http://127.0.0.1:9: cannot advance" in str(exc)
    else:
        raise AssertionError("advancing an unreachable stand-in must fail loudly")
