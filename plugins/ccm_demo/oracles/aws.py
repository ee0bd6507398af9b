"""Oracles for the AWS configuration and IAM controls, judged from the AWS world directly.

Each judge looks at the world's resources as they were when the demo's run closing the
period observed AWS (`view.observed(period)`), and says which entities fail; None when
the AWS APIs were down at that moment (the run could not observe them).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from ccm.constants import Frequency
from ccm.periods import Period
from ccm_demo.oracles import Oracle, WorldView
from ccm_demo.world import aws
from ccm_demo.world.aws import AwsWorld
from ccm_demo.world.common import parse

FULL_ADMIN_ACTIONS = {"*", "*:*"}
KMS_ALGORITHMS = {"aws:kms", "aws:kms:dsse"}


def _world(view: WorldView) -> AwsWorld:
    return view.memo("aws:world", lambda: AwsWorld(view.load(aws.WORLD_FILE)))


def _observed(judge: Callable[[AwsWorld, datetime, Period], list[str]]) -> Callable[[WorldView, Period], Any]:
    """A judge of the world at the observation moment, or None when AWS was down then."""

    def judge_period(view: WorldView, period: Period) -> list[str] | None:
        observed = view.observed(period)
        if view.source_down("aws", observed):
            return None
        return judge(_world(view), observed, period)

    return judge_period


def user_mfa(world: AwsWorld, at: datetime, period: Period) -> list[str]:
    return [aws.entity_of(user) for user, state in world.existing(aws.USER, at)
            if state["console"] and not state["mfa"]]


def root_account(world: AwsWorld, at: datetime, period: Period) -> list[str]:
    failing = []
    for account in world.accounts:
        state = world.state(world.root_of(account.account_id), at)
        if state is None or not state["mfa"] or state["access_key"]:
            failing.append(account.account_id)
    return failing


def key_rotation(world: AwsWorld, at: datetime, period: Period) -> list[str]:
    failing = set()
    for key, state in world.existing(aws.ACCESS_KEY, at):
        age = at - parse(key["static"]["created"])
        if state["status"] == "Active" and age > timedelta(days=aws.KEY_MAX_AGE_DAYS):
            failing.add(aws.user_arn(key["account_id"], key["static"]["user"]))
    return sorted(failing)


def password_policy(world: AwsWorld, at: datetime, period: Period) -> list[str]:
    failing = []
    for account in world.accounts:
        policy = world.state(world.password_policy_of(account.account_id), at)
        ok = policy is not None and all(policy.get(flag) for flag in aws.PASSWORD_REQUIRED_FLAGS)
        ok = ok and (policy.get("MinimumPasswordLength") or 0) >= aws.PASSWORD_MINIMUMS["MinimumPasswordLength"]
        ok = ok and (policy.get("PasswordReusePrevention") or 0) >= aws.PASSWORD_MINIMUMS["PasswordReusePrevention"]
        ok = ok and 1 <= (policy.get("MaxPasswordAge") or 0) <= aws.PASSWORD_MINIMUMS["MaxPasswordAge"]
        if not ok:
            failing.append(account.account_id)
    return failing


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _grants_everything(statement: dict[str, Any]) -> bool:
    """An Allow whose actions and resources are both unbounded: "*" (or "*:*"), or a
    NotAction / NotResource that excludes something short of everything."""
    if statement.get("Effect") != "Allow":
        return False
    excluded_actions = set(_as_list(statement.get("NotAction")))
    excluded_resources = set(_as_list(statement.get("NotResource")))
    every_action = bool(FULL_ADMIN_ACTIONS & set(_as_list(statement.get("Action")))) or (
        bool(excluded_actions) and not FULL_ADMIN_ACTIONS & excluded_actions)
    every_resource = "*" in _as_list(statement.get("Resource")) or (
        bool(excluded_resources) and "*" not in excluded_resources)
    return every_action and every_resource


def no_wildcard_policies(world: AwsWorld, at: datetime, period: Period) -> list[str]:
    return [aws.entity_of(policy) for policy, state in world.existing(aws.POLICY, at)
            if any(_grants_everything(s) for s in _as_list(state["document"].get("Statement")))]


def _opens_admin_port(rule: list[Any]) -> bool:
    protocol, from_port, to_port, cidr = rule
    if cidr.rsplit("/", 1)[-1] != "0":
        return False
    if protocol in ("-1", "all"):
        return True
    return protocol in ("tcp", "udp") and any(from_port <= port <= to_port for port in aws.ADMIN_PORTS)


def sg_admin_ports(world: AwsWorld, at: datetime, period: Period) -> list[str]:
    return [aws.entity_of(group) for group, state in world.existing(aws.SECURITY_GROUP, at)
            if any(_opens_admin_port(rule) for rule in state["ingress"])]


def s3_public_access_block(world: AwsWorld, at: datetime, period: Period) -> list[str]:
    failing = []
    for account in world.accounts:
        block = world.state(world.by_key[f"{account.account_id}/s3/account-public-access-block"], at)
        if block is None or not all(block.get(k) for k in aws.FULL_PAB):
            failing.append(account.account_id)
    for bucket, state in world.existing(aws.BUCKET, at):
        block = state["public_access_block"]
        if block is None or not all(block.get(k) for k in aws.FULL_PAB):
            failing.append(aws.entity_of(bucket))
    return failing


def encryption_at_rest(world: AwsWorld, at: datetime, period: Period) -> list[str]:
    failing = []
    for bucket, state in world.existing(aws.BUCKET, at):
        confidential = state["tags"].get("data-classification") in ("confidential", "restricted")
        if state["encryption"] is None or (confidential and state["encryption"] not in KMS_ALGORITHMS):
            failing.append(aws.entity_of(bucket))
    failing += [aws.entity_of(rds) for rds, state in world.existing(aws.RDS, at) if not state["encrypted"]]
    return failing


def s3_versioning(world: AwsWorld, at: datetime, period: Period) -> list[str]:
    return [aws.entity_of(bucket) for bucket, state in world.existing(aws.BUCKET, at)
            if state["versioning"] != "Enabled"]


def rds_not_public(world: AwsWorld, at: datetime, period: Period) -> list[str]:
    return [aws.entity_of(rds) for rds, state in world.existing(aws.RDS, at) if state["public"]]


def rds_deletion_protection(world: AwsWorld, at: datetime, period: Period) -> list[str]:
    return [aws.entity_of(rds) for rds, state in world.existing(aws.RDS, at)
            if state["tags"].get("env") == "prod" and not state["deletion_protection"]]


def kms_rotation(world: AwsWorld, at: datetime, period: Period) -> list[str]:
    return [aws.entity_of(key) for key, state in world.existing(aws.KMS_KEY, at) if not state["rotation"]]


def guardduty_enabled(world: AwsWorld, at: datetime, period: Period) -> list[str]:
    failing = []
    for account in world.accounts:
        for region in account.regions:
            state = world.state(world.by_key[f"{account.account_id}/{region}/guardduty"], at)
            if state is None or not state["enabled"]:
                failing.append(aws.region_entity(account.account_id, region))
    return failing


def config_recording(world: AwsWorld, at: datetime, period: Period) -> list[str]:
    failing = []
    for account in world.accounts:
        for region in account.regions:
            state = world.state(world.by_key[f"{account.account_id}/{region}/config"], at)
            if state is None or not state["recording"]:
                failing.append(aws.region_entity(account.account_id, region))
    return failing


def cloudtrail_logging(world: AwsWorld, at: datetime, period: Period) -> list[str]:
    failing = []
    for account in world.accounts:
        trails = [s for r, s in world.existing(aws.TRAIL, at) if r["account_id"] == account.account_id]
        if not any(t["logging"] and t["multi_region"] and t["log_file_validation"]
                   and any(s.get("IncludeManagementEvents") and s.get("ReadWriteType") == "All"
                           for s in t["event_selectors"]) for t in trails):
            failing.append(account.account_id)
    return failing


def backup_daily(world: AwsWorld, at: datetime, period: Period) -> list[str]:
    failing = []
    for rds, state in world.existing(aws.RDS, at):
        if state["tags"].get("backup") != "daily":
            continue
        jobs = world.backup_jobs(rds["account_id"], rds["region"], period.start, period.end, at)
        arn = aws.entity_of(rds)
        if not any(j["ResourceArn"] == arn and j["State"] == "COMPLETED" for j in jobs):
            failing.append(arn)
    return failing


def rds_resilience(world: AwsWorld, at: datetime, period: Period) -> list[str]:
    return [aws.entity_of(rds) for rds, state in world.existing(aws.RDS, at)
            if state["tags"].get("env") == "prod" and (state["backup_retention"] < 7 or not state["multi_az"])]


# every AWS control is daily, judged on the world as observed at the period's end
ORACLES = {key: Oracle(Frequency.DAILY, _observed(judge)) for key, judge in {
    "iam_aws_user_mfa": user_mfa,
    "iam_aws_root_account": root_account,
    "iam_aws_key_rotation": key_rotation,
    "iam_aws_password_policy": password_policy,
    "iam_aws_no_wildcard_policies": no_wildcard_policies,
    "inf_sg_admin_ports": sg_admin_ports,
    "inf_s3_public_access_block": s3_public_access_block,
    "inf_encryption_at_rest": encryption_at_rest,
    "inf_s3_versioning": s3_versioning,
    "inf_rds_not_public": rds_not_public,
    "inf_kms_rotation": kms_rotation,
    "mon_guardduty_enabled": guardduty_enabled,
    "mon_cloudtrail_trail_logging": cloudtrail_logging,
    "mon_aws_config_recording": config_recording,
    "avl_backup_daily": backup_daily,
    "avl_rds_resilience": rds_resilience,
    "avl_rds_deletion_protection": rds_deletion_protection,
}.items()}
