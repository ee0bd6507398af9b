"""Reconcile moto to the AWS world at a moment, through boto3 only.

The reconciler remembers what it applied (`applied`: resource key -> state) and the ids
AWS assigned (access keys, security groups, KMS keys, GuardDuty detectors), so a move of
the clock — forwards or backwards — costs only the changes between the two moments. It
only ever touches resources the world owns: the log archive bucket is created and
configured but never deleted, and objects in it are never touched (CloudTrail delivers
its log files there).
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime
from typing import Any

from ccm_demo.standins.aws_moto import GROUP_ID_TAG
from ccm_demo.world import aws as world
from ccm_demo.world.aws import AwsWorld

log = logging.getLogger(__name__)

ADMIN_ROLE = "OrganizationAccountAccessRole"  # the stand-in's own way into each account
ADMIN_ACCESS_KEY = "AKIADEMOSTANDINADMIN"
ADMIN_SECRET_KEY = "demo-aws-standin-admin-secret-00000000000"
# creations in dependency order (a trail needs its bucket, a user its policies, a key its user);
# deletions run in the reverse order
APPLY_ORDER = (world.ROOT, world.PASSWORD_POLICY, world.ACCOUNT_PAB, world.POLICY, world.BUCKET, world.TRAIL,
               world.USER, world.ACCESS_KEY, world.SECURITY_GROUP, world.RDS, world.KMS_KEY, world.DETECTOR,
               world.CONFIG_RECORDER)
RDS_MASTER_PASSWORD = "demo-standin-not-a-secret-1"


class ReconcileError(RuntimeError):
    """Applying the world to moto failed; the message names the resource and the call."""


class Reconciler:
    def __init__(self, aws_world: AwsWorld, endpoint_url: str) -> None:
        self.world = aws_world
        self.endpoint_url = endpoint_url
        self.applied: dict[str, dict[str, Any]] = {}
        self.access_key_ids: dict[str, str] = {}  # world key -> AccessKeyId
        self.key_slots: dict[tuple[str, str], list[str]] = {}  # (account, user) -> world keys in IAM's order
        self.group_ids: dict[str, str] = {}
        self.kms_key_ids: dict[str, str] = {}
        self.detector_ids: dict[str, str] = {}
        self.moment: datetime | None = None
        self.lock = threading.RLock()
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._sessions: dict[str, Any] = {}

    # boto3 ------------------------------------------------------------------------------
    def client(self, account_id: str, service: str, region: str = world.aws_org.HOME_REGION) -> Any:
        key = (account_id, service, region)
        if key not in self._clients:
            import boto3
            from botocore.config import Config

            session = self._sessions.get(account_id)
            if session is None:
                base = boto3.Session(aws_access_key_id=ADMIN_ACCESS_KEY, aws_secret_access_key=ADMIN_SECRET_KEY,
                                     region_name=world.aws_org.HOME_REGION)
                credentials = base.client("sts", endpoint_url=self.endpoint_url).assume_role(
                    RoleArn=f"arn:aws:iam::{account_id}:role/{ADMIN_ROLE}", RoleSessionName="ccm-demo-standin",
                )["Credentials"]
                session = boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                                        aws_secret_access_key=credentials["SecretAccessKey"],
                                        aws_session_token=credentials["SessionToken"])
                self._sessions[account_id] = session
            config = Config(region_name=region, retries={"mode": "standard", "max_attempts": 1},
                            s3={"addressing_style": "path"})
            client = session.client(service, endpoint_url=self.endpoint_url, config=config)
            if service == "s3control":
                from ccm.sources.aws.client import strip_account_host_label

                client.meta.events.register("before-sign.s3-control", strip_account_host_label)
            self._clients[key] = client
        return self._clients[key]

    # the reconciliation -----------------------------------------------------------------
    def advance(self, moment: datetime) -> dict[str, int]:
        """Make moto look like the world at `moment`; returns counts of changes by kind."""
        with self.lock:
            desired = {r["key"]: self.world.state(r, moment) for r in self.world.resources()}
            changes: dict[str, int] = {}
            for kind in APPLY_ORDER:
                for resource in self.world.resources(kind):
                    want, have = desired[resource["key"]], self.applied.get(resource["key"])
                    if want is not None and want != have:
                        self._apply(resource, have, want)
                        changes[kind] = changes.get(kind, 0) + 1
            for kind in reversed(APPLY_ORDER):
                for resource in self.world.resources(kind):
                    if desired[resource["key"]] is None and resource["key"] in self.applied:
                        self._apply(resource, self.applied[resource["key"]], None)
                        changes[kind] = changes.get(kind, 0) + 1
            self.moment = moment
            return changes

    def _apply(self, resource: dict[str, Any], have: dict[str, Any] | None, want: dict[str, Any] | None) -> None:
        handler = getattr(self, f"_apply_{resource['kind']}")
        try:
            handler(resource, have, want)
        except Exception as exc:
            raise ReconcileError(f"aws stand-in: reconciling {resource['key']} from {have} to {want} failed: "
                                 f"{type(exc).__name__}: {exc}") from exc
        if want is None:
            self.applied.pop(resource["key"], None)
        else:
            self.applied[resource["key"]] = want

    # account-level ----------------------------------------------------------------------
    def _apply_root(self, resource, have, want) -> None:
        """The root user is not a moto resource: the front renders it from the world."""

    def _apply_password_policy(self, resource, have, want) -> None:
        iam = self.client(resource["account_id"], "iam")
        if want is None:
            iam.delete_account_password_policy()
            return
        iam.update_account_password_policy(**{k: v for k, v in want.items() if v is not None})

    def _apply_s3_account_public_access_block(self, resource, have, want) -> None:
        control = self.client(resource["account_id"], "s3control")
        if want is None:
            control.delete_public_access_block(AccountId=resource["account_id"])
        else:
            control.put_public_access_block(AccountId=resource["account_id"], PublicAccessBlockConfiguration=want)

    # IAM --------------------------------------------------------------------------------
    def _apply_iam_policy(self, resource, have, want) -> None:
        iam = self.client(resource["account_id"], "iam")
        arn = world.entity_of(resource)
        if want is None:
            entities = iam.list_entities_for_policy(PolicyArn=arn)
            for user in entities.get("PolicyUsers", []):
                iam.detach_user_policy(UserName=user["UserName"], PolicyArn=arn)
            for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
                if not version["IsDefaultVersion"]:
                    iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
            iam.delete_policy(PolicyArn=arn)
            return
        document = json.dumps(want["document"])
        if have is None:
            iam.create_policy(PolicyName=resource["name"], PolicyDocument=document,
                              Description=f"{resource['name']} (managed by the platform team)")
            return
        for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:  # IAM keeps at most five
            if not version["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=document, SetAsDefault=True)

    def _apply_iam_user(self, resource, have, want) -> None:
        iam = self.client(resource["account_id"], "iam")
        name = resource["name"]
        serial = f"arn:aws:iam::{resource['account_id']}:mfa/{name}"
        if want is None:
            for world_key in list(self.key_slots.get((resource["account_id"], name), [])):
                self._delete_access_key(resource["account_id"], name, world_key)
            if have.get("console"):
                iam.delete_login_profile(UserName=name)
            if have.get("mfa"):
                iam.deactivate_mfa_device(UserName=name, SerialNumber=serial)
                iam.delete_virtual_mfa_device(SerialNumber=serial)
            for arn in have.get("policies", []):
                iam.detach_user_policy(UserName=name, PolicyArn=arn)
            iam.delete_user(UserName=name)
            return
        have = have or {}
        if not have:
            iam.create_user(UserName=name, Tags=[{"Key": k, "Value": v} for k, v in want["tags"].items()])
        elif have.get("tags") != want["tags"]:
            stale = [k for k in have.get("tags", {}) if k not in want["tags"]]
            if stale:
                iam.untag_user(UserName=name, TagKeys=stale)
            iam.tag_user(UserName=name, Tags=[{"Key": k, "Value": v} for k, v in want["tags"].items()])
        if want["console"] and not have.get("console"):
            iam.create_login_profile(UserName=name, Password=f"Demo-{name}-Passw0rd!", PasswordResetRequired=False)
        elif have.get("console") and not want["console"]:
            iam.delete_login_profile(UserName=name)
        if want["mfa"] and not have.get("mfa"):
            iam.create_virtual_mfa_device(VirtualMFADeviceName=name)
            iam.enable_mfa_device(UserName=name, SerialNumber=serial, AuthenticationCode1="123456",
                                  AuthenticationCode2="654321")
        elif have.get("mfa") and not want["mfa"]:
            iam.deactivate_mfa_device(UserName=name, SerialNumber=serial)
            iam.delete_virtual_mfa_device(SerialNumber=serial)
        for arn in want["policies"]:
            if arn not in have.get("policies", []):
                iam.attach_user_policy(UserName=name, PolicyArn=arn)
        for arn in have.get("policies", []):
            if arn not in want["policies"]:
                iam.detach_user_policy(UserName=name, PolicyArn=arn)

    def _apply_iam_access_key(self, resource, have, want) -> None:
        account, user = resource["account_id"], resource["static"]["user"]
        iam = self.client(account, "iam")
        if want is None:
            self._delete_access_key(account, user, resource["key"])
            return
        if resource["key"] not in self.access_key_ids:
            created = iam.create_access_key(UserName=user)["AccessKey"]
            self.access_key_ids[resource["key"]] = created["AccessKeyId"]
            self.key_slots.setdefault((account, user), []).append(resource["key"])
        if want["status"] != "Active" or (have and have["status"] != want["status"]):
            iam.update_access_key(UserName=user, AccessKeyId=self.access_key_ids[resource["key"]],
                                  Status=want["status"])

    def _delete_access_key(self, account: str, user: str, world_key: str) -> None:
        key_id = self.access_key_ids.pop(world_key, None)
        if key_id is None:
            return
        self.client(account, "iam").delete_access_key(UserName=user, AccessKeyId=key_id)
        slots = self.key_slots.get((account, user), [])
        if world_key in slots:
            slots.remove(world_key)
        self.applied.pop(world_key, None)

    # S3 and CloudTrail --------------------------------------------------------------------
    def _apply_s3_bucket(self, resource, have, want) -> None:
        s3 = self.client(resource["account_id"], "s3", resource["region"])
        name = resource["name"]
        if want is None:
            if resource["static"].get("retain"):
                return  # the log archive bucket holds CloudTrail's files: never deleted
            s3.delete_bucket(Bucket=name)
            return
        have = have or {}
        if not have:
            existing = {b["Name"] for b in s3.list_buckets()["Buckets"]}
            if name not in existing:
                extra = {} if resource["region"] == "us-east-1" else {
                    "CreateBucketConfiguration": {"LocationConstraint": resource["region"]}}
                s3.create_bucket(Bucket=name, **extra)
        if want["encryption"] != have.get("encryption"):
            if want["encryption"] is None:
                s3.delete_bucket_encryption(Bucket=name)
            else:
                s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [{
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": want["encryption"]},
                    "BucketKeyEnabled": want["encryption"] == "aws:kms"}]})
        if want["public_access_block"] != have.get("public_access_block"):
            if want["public_access_block"] is None:
                s3.delete_public_access_block(Bucket=name)
            else:
                s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=want["public_access_block"])
        if want["versioning"] != have.get("versioning") and want["versioning"] is not None:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": want["versioning"]})
        if want["tags"] != have.get("tags"):
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v}
                                                                   for k, v in sorted(want["tags"].items())]})

    def _apply_cloudtrail_trail(self, resource, have, want) -> None:
        trail = self.client(resource["account_id"], "cloudtrail", resource["region"])
        name = resource["name"]
        if want is None:
            trail.delete_trail(Name=name)
            return
        have = have or {}
        if not have:
            trail.create_trail(Name=name, S3BucketName=resource["static"]["bucket"], IncludeGlobalServiceEvents=True,
                               IsMultiRegionTrail=want["multi_region"],
                               EnableLogFileValidation=want["log_file_validation"])
        elif (have["multi_region"], have["log_file_validation"]) != (want["multi_region"], want["log_file_validation"]):
            trail.update_trail(Name=name, IsMultiRegionTrail=want["multi_region"],
                               EnableLogFileValidation=want["log_file_validation"])
        if want["event_selectors"] != have.get("event_selectors"):
            trail.put_event_selectors(TrailName=name, EventSelectors=want["event_selectors"])
        if want["logging"] != have.get("logging", False):
            if want["logging"]:
                trail.start_logging(Name=name)
            else:
                trail.stop_logging(Name=name)

    # EC2, RDS, KMS, GuardDuty ------------------------------------------------------------
    def _apply_security_group(self, resource, have, want) -> None:
        ec2 = self.client(resource["account_id"], "ec2", resource["region"])
        if want is None:
            ec2.delete_security_group(GroupId=self.group_ids.pop(resource["key"]))
            return
        if have is None:
            vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
            created = ec2.create_security_group(
                GroupName=resource["name"], Description=resource["static"]["description"], VpcId=vpcs[0]["VpcId"],
                TagSpecifications=[{"ResourceType": "security-group", "Tags": [
                    {"Key": GROUP_ID_TAG, "Value": resource["static"]["group_id"]}]}])
            self.group_ids[resource["key"]] = created["GroupId"]
        group_id = self.group_ids[resource["key"]]
        old = {tuple(rule) for rule in (have or {}).get("ingress", [])}
        new = {tuple(rule) for rule in want["ingress"]}
        if old - new:
            ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=[_permission(r) for r in sorted(
                old - new, key=str)])
        if new - old:
            ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[_permission(r) for r in sorted(
                new - old, key=str)])

    def _apply_rds_instance(self, resource, have, want) -> None:
        rds = self.client(resource["account_id"], "rds", resource["region"])
        identifier = resource["name"]
        if want is None or (have is not None and have["encrypted"] != want["encrypted"]):
            # storage encryption cannot be changed in place: the instance is replaced
            if have is not None and have["deletion_protection"]:  # RDS refuses to delete it otherwise
                rds.modify_db_instance(DBInstanceIdentifier=identifier, DeletionProtection=False,
                                       ApplyImmediately=True)
            rds.delete_db_instance(DBInstanceIdentifier=identifier, SkipFinalSnapshot=True,
                                   DeleteAutomatedBackups=True)
            if want is None:
                return
            have = None
        tags = [{"Key": k, "Value": v} for k, v in sorted(want["tags"].items())]
        if have is None:
            rds.create_db_instance(
                DBInstanceIdentifier=identifier, DBInstanceClass=resource["static"]["instance_class"],
                Engine=resource["static"]["engine"], AllocatedStorage=100, MasterUsername="app",
                MasterUserPassword=RDS_MASTER_PASSWORD, StorageEncrypted=want["encrypted"],
                BackupRetentionPeriod=want["backup_retention"], MultiAZ=want["multi_az"],
                PubliclyAccessible=want["public"], DeletionProtection=want["deletion_protection"], Tags=tags,
            )
            return
        if (have["backup_retention"], have["multi_az"]) != (want["backup_retention"], want["multi_az"]):
            rds.modify_db_instance(DBInstanceIdentifier=identifier, BackupRetentionPeriod=want["backup_retention"],
                                   MultiAZ=want["multi_az"], ApplyImmediately=True)
        if (have["public"], have["deletion_protection"]) != (want["public"], want["deletion_protection"]):
            rds.modify_db_instance(DBInstanceIdentifier=identifier, PubliclyAccessible=want["public"],
                                   DeletionProtection=want["deletion_protection"], ApplyImmediately=True)
        if have["tags"] != want["tags"]:
            arn = world.entity_of(resource)
            stale = [k for k in have["tags"] if k not in want["tags"]]
            if stale:
                rds.remove_tags_from_resource(ResourceName=arn, TagKeys=stale)
            rds.add_tags_to_resource(ResourceName=arn, Tags=tags)

    def _apply_kms_key(self, resource, have, want) -> None:
        kms = self.client(resource["account_id"], "kms", resource["region"])
        if want is None:
            key_id = self.kms_key_ids.pop(resource["key"])
            kms.delete_alias(AliasName=resource["name"])
            kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
            return
        if have is None:
            key_id = kms.create_key(Description=resource["static"]["description"])["KeyMetadata"]["KeyId"]
            kms.create_alias(AliasName=resource["name"], TargetKeyId=key_id)
            self.kms_key_ids[resource["key"]] = key_id
        key_id = self.kms_key_ids[resource["key"]]
        if want["rotation"] != (have or {}).get("rotation", False):
            if want["rotation"]:
                kms.enable_key_rotation(KeyId=key_id)
            else:
                kms.disable_key_rotation(KeyId=key_id)

    def _apply_guardduty_detector(self, resource, have, want) -> None:
        guardduty = self.client(resource["account_id"], "guardduty", resource["region"])
        if want is None:
            guardduty.delete_detector(DetectorId=self.detector_ids.pop(resource["key"]))
        elif have is None:
            created = guardduty.create_detector(Enable=want["enabled"], FindingPublishingFrequency="SIX_HOURS")
            self.detector_ids[resource["key"]] = created["DetectorId"]
        else:
            guardduty.update_detector(DetectorId=self.detector_ids[resource["key"]], Enable=want["enabled"])

    def _apply_config_recorder(self, resource, have, want) -> None:
        config = self.client(resource["account_id"], "config", resource["region"])
        name = resource["name"]
        if want is None:
            config.delete_configuration_recorder(ConfigurationRecorderName=name)
            return
        if have is None:
            role = f"arn:aws:iam::{resource['account_id']}:role/aws-service-role/config.amazonaws.com/" \
                   "AWSServiceRoleForConfig"
            config.put_configuration_recorder(ConfigurationRecorder={
                "name": name, "roleARN": role,
                "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True}})
            config.put_delivery_channel(DeliveryChannel={"name": name,
                                                         "s3BucketName": resource["static"]["delivery_bucket"]})
        if want["recording"] != (have or {}).get("recording", False):
            if want["recording"]:
                config.start_configuration_recorder(ConfigurationRecorderName=name)
            else:
                config.stop_configuration_recorder(ConfigurationRecorderName=name)


def _permission(rule: tuple[Any, ...]) -> dict[str, Any]:
    protocol, from_port, to_port, cidr = rule
    permission: dict[str, Any] = {"IpProtocol": protocol}
    if from_port is not None:
        permission |= {"FromPort": from_port, "ToPort": to_port}
    if ":" in cidr:
        permission["Ipv6Ranges"] = [{"CidrIpv6": cidr}]
    else:
        permission["IpRanges"] = [{"CidrIp": cidr}]
    return permission
