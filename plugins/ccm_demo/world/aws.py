"""AWS configuration and IAM of the demo company: resources and their timelines.

The three accounts of `aws_org` hold IAM users derived from the people roster (engineers
and admins with console passwords and MFA, some with access keys, tagged with the
person's email), service users with keys, root users, password policies,
customer-managed policies, S3 buckets, security groups, RDS instances, KMS keys, the
organisation trail, GuardDuty detectors and AWS Backup jobs.

World form (`world/aws.json`): every resource is `{kind, key, account_id, region, name,
static, timeline}` where `timeline` is a sorted list of `[moment, state]` changes and a
state of `null` means the resource does not exist. `AwsWorld.state(resource, moment)`
answers "what did it look like at T" for the stand-in (which reconciles moto to it) and
for the oracles (which judge the controls from it) alike.

The baseline is compliant. Each AWS control gets four planted episodes spread over the
window (`SEEDED_EPISODES`): the first on the window's second day without an exception,
two covered by approved exceptions, and one whose exception expires while the entity
still fails. AWS Backup jobs are not a moto resource: `backup_jobs` renders them from
the protected resources and the planted missing/failed days.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccm_demo.spec import DemoSpec
from ccm_demo.world import aws_org
from ccm_demo.world.common import iso, parse, read_json, rng_for, write_json
from ccm_demo.world.people import Person
from ccm_demo.world.seeds import Seeds

if TYPE_CHECKING:
    from ccm_demo.world import WorldContext

ORDER = 20
WORLD_FILE = "world/aws.json"

# resource kinds
ROOT = "root"
USER = "iam_user"
ACCESS_KEY = "iam_access_key"
PASSWORD_POLICY = "password_policy"
POLICY = "iam_policy"
BUCKET = "s3_bucket"
ACCOUNT_PAB = "s3_account_public_access_block"
SECURITY_GROUP = "security_group"
RDS = "rds_instance"
KMS_KEY = "kms_key"
TRAIL = "cloudtrail_trail"
DETECTOR = "guardduty_detector"
CONFIG_RECORDER = "config_recorder"
KINDS = (ROOT, USER, ACCESS_KEY, PASSWORD_POLICY, POLICY, BUCKET, ACCOUNT_PAB, SECURITY_GROUP, RDS, KMS_KEY,
         TRAIL, DETECTOR, CONFIG_RECORDER)

GLOBAL = "global"  # region of IAM and S3-account resources
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
POWER_USER_POLICY = "arn:aws:iam::aws:policy/PowerUserAccess"
READ_ONLY_POLICY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
CHANGE_PASSWORD_POLICY = "arn:aws:iam::aws:policy/IAMUserChangePassword"
KEY_MAX_AGE_DAYS = 90  # the rotation requirement the oracle judges (the suite holds the same number)

STRONG_PASSWORD_POLICY = {
    "MinimumPasswordLength": 14, "RequireSymbols": True, "RequireNumbers": True,
    "RequireUppercaseCharacters": True, "RequireLowercaseCharacters": True, "AllowUsersToChangePassword": True,
    "MaxPasswordAge": 90, "PasswordReusePrevention": 24, "HardExpiry": False,
}
# the minimums the oracle judges against (the GX suite ctl_iam_aws_password_policy holds the same)
PASSWORD_MINIMUMS = {"MinimumPasswordLength": 14, "PasswordReusePrevention": 24, "MaxPasswordAge": 90}
PASSWORD_REQUIRED_FLAGS = ("RequireSymbols", "RequireNumbers", "RequireUppercaseCharacters",
                           "RequireLowercaseCharacters")
FULL_PAB = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True}
DEFAULT_EVENT_SELECTORS = [{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []}]
ADMIN_PORTS = (22, 3389)
OFFICE_CIDR = "198.51.100.0/24"
VPC_CIDR = "10.0.0.0/16"


# entity ids: what the population models name and the exceptions refer to -------------

def user_arn(account_id: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:user/{name}"


def policy_arn(account_id: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:policy/{name}"


def bucket_arn(name: str) -> str:
    return f"arn:aws:s3:::{name}"


def rds_arn(account_id: str, region: str, identifier: str) -> str:
    return f"arn:aws:rds:{region}:{account_id}:db:{identifier}"


def kms_alias_arn(account_id: str, region: str, alias: str) -> str:
    return f"arn:aws:kms:{region}:{account_id}:{alias}"


def security_group_arn(account_id: str, region: str, group_id: str) -> str:
    """A group is named by its id (names repeat: every VPC has a "default")."""
    return f"arn:aws:ec2:{region}:{account_id}:security-group/{group_id}"


def security_group_id(seed: int, key: str) -> str:
    """The world's id for a group (EC2's shape, sg- and 17 hex digits), fixed by the seed so
    the answer key and the exceptions can name it; the stand-in creates the group with it."""
    return "sg-0" + hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()[:16]


def region_entity(account_id: str, region: str) -> str:
    return f"{account_id}/{region}"


def entity_of(resource: dict[str, Any]) -> str:
    """The entity id under which a resource appears in control populations."""
    kind, account, region, name = resource["kind"], resource["account_id"], resource["region"], resource["name"]
    match kind:
        case "iam_user":
            return user_arn(account, name)
        case "iam_policy":
            return policy_arn(account, name)
        case "s3_bucket":
            return bucket_arn(name)
        case "rds_instance":
            return rds_arn(account, region, name)
        case "kms_key":
            return kms_alias_arn(account, region, name)
        case "security_group":
            return security_group_arn(account, region, resource["static"]["group_id"])
        case "guardduty_detector" | "config_recorder":
            return region_entity(account, region)
    return account  # account-level resources: root, password policy, account PAB, trail


# the world document ---------------------------------------------------------------------

@dataclass
class AwsWorld:
    """The generated AWS world with its timelines parsed once."""

    doc: dict[str, Any]

    def __post_init__(self) -> None:
        self.by_key: dict[str, dict[str, Any]] = {}
        self._by_kind: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
        self._parsed: dict[str, list[tuple[datetime, Any]]] = {}
        for resource in self.doc["resources"]:
            self.by_key[resource["key"]] = resource
            self._by_kind[resource["kind"]].append(resource)
            self._parsed[resource["key"]] = [(parse(at), state) for at, state in resource["timeline"]]
        self.accounts = [aws_org.Account(a["account_id"], a["name"], tuple(a["regions"]))
                         for a in self.doc["accounts"]]

    @classmethod
    def load(cls, demo_dir: Path) -> AwsWorld:
        return cls(read_json(Path(demo_dir) / WORLD_FILE))

    def resources(self, kind: str | None = None) -> list[dict[str, Any]]:
        return list(self.doc["resources"]) if kind is None else self._by_kind[kind]

    def state(self, resource: dict[str, Any], moment: datetime) -> dict[str, Any] | None:
        """The resource's state at `moment`, or None while it does not exist."""
        state = None
        for at, value in self._parsed[resource["key"]]:
            if at > moment:
                break
            state = value
        return state

    def timeline(self, resource: dict[str, Any]) -> list[tuple[datetime, dict[str, Any] | None]]:
        """Every (moment, state) of the resource, oldest first; None while it does not exist."""
        return list(self._parsed[resource["key"]])

    def existing(self, kind: str, moment: datetime) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(resource, state) for every resource of `kind` that exists at `moment`."""
        out = []
        for resource in self.resources(kind):
            state = self.state(resource, moment)
            if state is not None:
                out.append((resource, state))
        return out

    def account_name(self, account_id: str) -> str:
        return next(a.name for a in self.accounts if a.account_id == account_id)

    # credential report fields moto cannot know (dates, last use, the root user) --------
    def keys_of(self, account_id: str, user_name: str) -> list[dict[str, Any]]:
        return [r for r in self.resources(ACCESS_KEY)
                if r["account_id"] == account_id and r["static"]["user"] == user_name]

    def password_last_changed(self, user: dict[str, Any], moment: datetime) -> datetime | None:
        state = self.state(user, moment)
        if not state or not state.get("console"):
            return None
        since = parse(state["console_since"])
        every = timedelta(days=user["static"]["password_change_days"])
        changed = since
        while changed + every <= moment:
            changed += every
        return changed

    def password_last_used(self, user: dict[str, Any], moment: datetime) -> datetime | None:
        """People sign in to the console on workdays at their habitual minute."""
        minute = user["static"].get("login_minute")
        if minute is None:
            return None
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        for _ in range(21):
            candidate = day + timedelta(minutes=minute)
            if candidate <= moment and candidate.weekday() < 5:
                state = self.state(user, candidate)
                if state and state.get("console") and parse(state["console_since"]) <= candidate:
                    return candidate
            day -= timedelta(days=1)
        return None

    def key_last_used(self, key: dict[str, Any], moment: datetime) -> datetime | None:
        """Service keys are used every day at their job's minute, people's keys on workdays."""
        static = key["static"]
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        created = parse(static["created"])
        for _ in range(14):
            candidate = day + timedelta(minutes=static["use_minute"])
            if created <= candidate <= moment and (static["daily"] or candidate.weekday() < 5):
                state = self.state(key, candidate)
                if state and state["status"] == "Active":
                    return candidate
            day -= timedelta(days=1)
            if day < created - timedelta(days=1):
                break
        return None

    def root_of(self, account_id: str) -> dict[str, Any]:
        return self.by_key[f"{account_id}/root"]

    def password_policy_of(self, account_id: str) -> dict[str, Any]:
        return self.by_key[f"{account_id}/iam/password-policy"]

    # AWS Backup ------------------------------------------------------------------------
    def backup_jobs(self, account_id: str, region: str, start: datetime, end: datetime,
                    now: datetime) -> list[dict[str, Any]]:
        """ListBackupJobs' BackupJob objects created in [start, end) and by `now`, as of `now`."""
        jobs = []
        for protected in self.doc["backup"]["protected"]:
            if protected["account_id"] != account_id or protected["region"] != region:
                continue
            day = start.replace(hour=0, minute=0, second=0, microsecond=0)
            while day < end:
                jobs += [j for j in self._jobs_of_day(protected, day, now) if start <= j["_created"] < end]
                day += timedelta(days=1)
        jobs.sort(key=lambda j: (j["_created"], j["BackupJobId"]))
        for job in jobs:
            job.pop("_created")
        return jobs

    def backup_outcome(self, resource_arn: str, day: datetime) -> str:
        return self.doc["backup"]["outcomes"].get(resource_arn, {}).get(day.date().isoformat(), "completed")

    def _jobs_of_day(self, protected: dict[str, Any], day: datetime, now: datetime) -> list[dict[str, Any]]:
        rds = self.by_key[protected["resource_key"]]
        start_at = day + timedelta(minutes=protected["window_minute"])
        state = self.state(rds, start_at)
        if state is None or state.get("tags", {}).get("backup") != "daily":
            return []
        outcome = self.backup_outcome(protected["resource_arn"], day)
        if outcome == "missing":
            return []
        attempts = [("FAILED", start_at)] if outcome.startswith("failed") else [("COMPLETED", start_at)]
        if outcome == "failed_then_completed":
            attempts.append(("COMPLETED", start_at + timedelta(hours=4)))
        jobs = []
        for attempt, (final_state, created) in enumerate(attempts):
            if created > now:
                continue
            jobs.append(_backup_job(protected, created, final_state, attempt, now, self.doc["backup"]))
        return jobs


def _backup_job(protected: dict[str, Any], created: datetime, final_state: str, attempt: int, now: datetime,
                backup: dict[str, Any]) -> dict[str, Any]:
    account, region = protected["account_id"], protected["region"]
    digest = hashlib.sha256(f"{protected['resource_arn']}|{iso(created)}|{attempt}".encode()).digest()
    job_id = str(uuid.UUID(bytes=digest[:16]))
    duration = timedelta(minutes=18 + digest[16] % 25)
    done = created + duration
    finished = now >= done
    state = final_state if finished else "RUNNING"
    vault = backup["vault"]
    job: dict[str, Any] = {
        "_created": created,
        "AccountId": account, "BackupJobId": job_id, "BackupVaultName": vault,
        "BackupVaultArn": f"arn:aws:backup:{region}:{account}:backup-vault:{vault}",
        "ResourceArn": protected["resource_arn"], "ResourceType": "RDS", "ResourceName": protected["name"],
        "CreationDate": created.timestamp(), "StartBy": (created + timedelta(hours=8)).timestamp(),
        "ExpectedCompletionDate": (created + timedelta(hours=1)).timestamp(),
        "State": state, "PercentDone": "100.0" if finished else "42.0",
        "IamRoleArn": f"arn:aws:iam::{account}:role/service-role/AWSBackupDefaultServiceRole",
        "CreatedBy": {"BackupPlanId": backup["plan_id"],
                      "BackupPlanArn": f"arn:aws:backup:{region}:{account}:backup-plan:{backup['plan_id']}",
                      "BackupPlanVersion": backup["plan_version"], "BackupRuleId": backup["rule_id"]},
        "BackupType": "", "IsParent": False,
        "InitiationDate": created.timestamp(),
    }
    if finished:
        job["CompletionDate"] = done.timestamp()
        if final_state == "COMPLETED":
            job["BackupSizeInBytes"] = 10_000_000_000 + 1_000_003 * (digest[17] + 1)
            job["BytesTransferred"] = job["BackupSizeInBytes"]
            job["RecoveryPointArn"] = f"arn:aws:rds:{region}:{account}:snapshot:awsbackup:job-{job_id}"
            job["MessageCategory"] = "SUCCESS"
        else:
            job["StatusMessage"] = ("An internal error occurred while creating the snapshot: "
                                    "DB instance is not in an available state (storage-optimization)")
            job["MessageCategory"] = "AccessDenied" if digest[18] % 2 else "InvalidState"
    return job


# generation -------------------------------------------------------------------------------

def _resource(kind: str, key: str, account_id: str, region: str, name: str, since: datetime,
              state: dict[str, Any], **static: Any) -> dict[str, Any]:
    return {"kind": kind, "key": key, "account_id": account_id, "region": region, "name": name,
            "static": static, "timeline": [[iso(since, millis=False), state]]}


def _set(resource: dict[str, Any], moment: datetime, state: dict[str, Any] | None) -> None:
    """Append a change (the generator builds timelines in order)."""
    resource["timeline"].append([iso(moment, millis=False), state])
    resource["timeline"].sort(key=lambda entry: parse(entry[0]))


def _state_at(resource: dict[str, Any], moment: datetime) -> dict[str, Any] | None:
    state = None
    for at, value in resource["timeline"]:
        if parse(at) > moment:
            break
        state = value
    return state


def override(resource: dict[str, Any], start: datetime, end: datetime,
             changes: dict[str, Any] | None) -> None:
    """Between `start` and `end` the resource's state carries `changes` (None: it is absent).

    Changes recorded inside the span keep their own values for every other field, and at
    `end` the resource returns to what its own timeline says.
    """
    timeline = [(parse(at), state) for at, state in resource["timeline"]]
    at_start, at_end = _state_at(resource, start), _state_at(resource, end)

    def merged(state: dict[str, Any] | None) -> dict[str, Any] | None:
        if changes is None:
            return None
        if state is None:
            raise ValueError(f"{resource['key']}: cannot change a resource that does not exist at {start}")
        return {**state, **changes}

    new = [(t, s) for t, s in timeline if t < start]
    new.append((start, merged(at_start)))
    new += [(t, merged(s)) for t, s in timeline if start < t < end]
    new.append((end, at_end))
    new += [(t, s) for t, s in timeline if t > end]
    resource["timeline"] = [[iso(t, millis=False), s] for t, s in new]


def _people_in_aws(spec: DemoSpec, people: list[Person]) -> list[tuple[Person, str, tuple[str, ...]]]:
    """(person, role, account names): engineers in staging (most) and prod (some), admins everywhere."""
    rng = rng_for(spec.seed, "aws:people")
    chosen = []
    for person in sorted(people, key=lambda p: p.employee_id):
        if person.department not in ("Engineering", "IT", "Security"):
            continue
        roll = rng.random()
        if person.department == "Security" or (person.department == "IT" and person.title.startswith("Head")):
            chosen.append((person, "admin", ("prod", "staging", "security")))
        elif person.department == "IT":
            chosen.append((person, "admin", ("prod", "staging")) if roll < 0.5 else (person, "engineer", ("staging",)))
        elif roll < 0.3:
            chosen.append((person, "engineer", ("prod", "staging")))
        elif roll < 0.75:
            chosen.append((person, "engineer", ("staging",)))
    # small companies: make sure prod has enough long-standing people for the seeded episodes,
    # first by giving more of them prod access, then by adding read-only users from other teams
    missing = 8 - sum(1 for c in chosen if "prod" in c[2] and _is_stable(spec, c[0]))
    for index, (person, role, names) in enumerate(chosen):
        if missing > 0 and "prod" not in names and _is_stable(spec, person):
            chosen[index] = (person, role, (*names, "prod"))
            missing -= 1
    taken = {c[0].employee_id for c in chosen}
    for person in sorted(people, key=lambda p: p.employee_id):
        if missing > 0 and person.employee_id not in taken and _is_stable(spec, person):
            chosen.append((person, "engineer", ("prod", "staging")))
            missing -= 1
    return chosen


def _is_stable(spec: DemoSpec, person: Person) -> bool:
    return person.start_at < spec.window_start - timedelta(days=120) and person.termination_at is None


def _key_chain(account_id: str, user: str, first: datetime, every: int, until: datetime, daily: bool,
               use_minute: int, number: int) -> list[dict[str, Any]]:
    """Regular rotation: a new key every `every` days; the old one is deactivated a day later
    and deleted a week after that."""
    keys = []
    created = first
    while created < until:
        successor = created + timedelta(days=every)
        key = _resource(ACCESS_KEY, f"{account_id}/iam/access-key/{user}/{number}", account_id, GLOBAL,
                        f"{user}#{number}", created, {"status": "Active"}, user=user, created=iso(created, False),
                        use_minute=use_minute, daily=daily, use_region=aws_org.HOME_REGION,
                        use_service="s3" if daily else "sts")
        if successor < until:
            _set(key, successor + timedelta(days=1), {"status": "Inactive"})
            _set(key, successor + timedelta(days=8), None)
        keys.append(key)
        created, number = successor, number + 1
    return keys


def _end_user(user: dict[str, Any], keys: list[dict[str, Any]], left_at: datetime, rng) -> list[dict[str, Any]]:
    """Offboarding with a lag: console and keys off a few hours after the person left, the
    user deleted days later. Returns the keys that existed before the user was disabled."""
    disabled = left_at + timedelta(hours=rng.randint(2, 20))
    gone = left_at + timedelta(days=rng.randint(3, 7), hours=rng.randint(0, 6))
    state = _state_at(user, disabled)
    _set(user, disabled, {**state, "console": False, "console_since": None})
    _set(user, gone, None)
    kept = []
    for key in keys:
        if parse(key["timeline"][0][0]) >= disabled:
            continue  # the rotation that would have happened after the person left
        key["timeline"] = [e for e in key["timeline"] if parse(e[0]) < disabled]
        if _state_at(key, disabled) is not None:
            _set(key, disabled, {"status": "Inactive"})
            _set(key, gone, None)
        kept.append(key)
    return kept


def _human_users(spec: DemoSpec, people: list[Person], accounts: dict[str, aws_org.Account]) -> list[dict[str, Any]]:
    rng = rng_for(spec.seed, "aws:users")
    horizon = spec.window_end + timedelta(days=30)
    resources = []
    for person, role, names in _people_in_aws(spec, people):
        for name in names:
            account = accounts[name]
            user_name = aws_org.iam_user_name(person.email)
            created = (person.start_at + timedelta(days=rng.randint(0, 2))).replace(
                hour=rng.randint(10, 15), minute=rng.randint(0, 59))
            if role == "admin":
                policies = [ADMIN_POLICY, CHANGE_PASSWORD_POLICY]
            elif name == "prod":
                policies = [READ_ONLY_POLICY, CHANGE_PASSWORD_POLICY]
            else:
                policies = [POWER_USER_POLICY, CHANGE_PASSWORD_POLICY]
            tags = {"email": person.email, "employee_id": person.employee_id, "team": person.department}
            state = {"console": True, "console_since": iso(created, False), "mfa": False, "policies": policies,
                     "tags": tags}
            user = _resource(USER, f"{account.account_id}/iam/user/{user_name}", account.account_id, GLOBAL,
                             user_name, created, state, email=person.email, user_kind="person",
                             login_minute=7 * 60 + rng.randint(0, 180),
                             password_change_days=rng.randint(60, 85))
            _set(user, created + timedelta(minutes=rng.randint(20, 90)), {**state, "mfa": True})
            keys: list[dict[str, Any]] = []
            if role == "engineer" and rng.random() < 0.3:
                first = created + timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 3))
                every = rng.randint(55, 80)
                if first < spec.window_start - timedelta(days=every):  # catch up to the window
                    first += timedelta(days=every * ((spec.window_start - first).days // every - 1))
                keys = _key_chain(account.account_id, user_name, first, every, horizon, False,
                                  8 * 60 + rng.randint(0, 300), 1)
            if person.termination_at is not None:
                keys = _end_user(user, keys, person.termination_at, rng)
            resources.append(user)
            resources += keys
    return resources


SERVICE_USERS = {  # account name -> (user, policies, description)
    "prod": [("ci-deployer", ["ci-deploy"], "CI/CD pipeline deploys"),
             ("terraform", [ADMIN_POLICY], "Infrastructure as code (admin principal)"),
             ("metrics-exporter", ["read-billing"], "Cost and usage metrics export")],
    "staging": [("ci-deployer", ["ci-deploy"], "CI/CD pipeline deploys"),
                ("terraform", [ADMIN_POLICY], "Infrastructure as code (admin principal)")],
    "security": [("log-shipper", ["log-archive-read"], "SIEM log shipping")],
}


def _service_users(spec: DemoSpec, accounts: dict[str, aws_org.Account]) -> list[dict[str, Any]]:
    rng = rng_for(spec.seed, "aws:service-users")
    horizon = spec.window_end + timedelta(days=30)
    resources = []
    for name, users in SERVICE_USERS.items():
        account = accounts[name]
        for user_name, policies, purpose in users:
            created = spec.window_start - timedelta(days=rng.randint(500, 900), hours=rng.randint(0, 8))
            arns = [p if p.startswith("arn:") else policy_arn(account.account_id, p) for p in policies]
            state = {"console": False, "console_since": None, "mfa": False, "policies": arns,
                     "tags": {"owner": "platform@kestrel.example", "purpose": purpose}}
            user = _resource(USER, f"{account.account_id}/iam/user/{user_name}", account.account_id, GLOBAL,
                             user_name, created, state, email=None, user_kind="service", login_minute=None,
                             password_change_days=90)
            every = rng.randint(70, 85)
            # the current key was created some days before the window (rotation is automated)
            first = spec.window_start - timedelta(days=rng.randint(5, every - 5), hours=rng.randint(0, 20))
            keys = _key_chain(account.account_id, user_name, first, every, horizon, True, rng.randint(0, 1439), 1)
            resources += [user, *keys]
    return resources


def _policy_document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


# the security account's incident-response policy: scoped at baseline; a seeded episode
# widens it to everything but IAM (NotAction), which is as much as "*" on "*" (ADR 0024)
INCIDENT_RESPONSE_SCOPED = _policy_document(
    {"Sid": "Investigate", "Effect": "Allow",
     "Action": ["ec2:Describe*", "ec2:CreateSnapshot", "ec2:StopInstances", "logs:Get*", "logs:FilterLogEvents",
                "cloudtrail:LookupEvents", "guardduty:Get*", "guardduty:List*"],
     "Resource": "*"},
    {"Sid": "NoLogTampering", "Effect": "Deny", "NotAction": ["s3:GetObject", "s3:ListBucket"],
     "Resource": "arn:aws:s3:::*-cloudtrail-*"})
INCIDENT_RESPONSE_WIDENED = _policy_document(
    {"Sid": "EverythingButIam", "Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})

CUSTOMER_POLICIES = {  # account name -> {policy name: document}
    "prod": {
        "ci-deploy": _policy_document(
            {"Sid": "Deploy", "Effect": "Allow", "Action": ["ecs:UpdateService", "ecs:RegisterTaskDefinition",
                                                           "ecr:PutImage", "ecr:InitiateLayerUpload"],
             "Resource": "*"},
            {"Sid": "Artifacts", "Effect": "Allow", "Action": "s3:*",
             "Resource": ["arn:aws:s3:::kestrel-prod-artifacts", "arn:aws:s3:::kestrel-prod-artifacts/*"]}),
        "read-billing": _policy_document({"Effect": "Allow", "Action": ["ce:Get*", "cur:Describe*"], "Resource": "*"}),
        "deny-outside-regions": _policy_document(
            {"Effect": "Deny", "Action": "*", "Resource": "*",
             "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}}),
        "data-science-read": _policy_document(
            {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::kestrel-prod-analytics/*"}),
    },
    "staging": {
        "ci-deploy": _policy_document(
            {"Effect": "Allow", "Action": ["ecs:*", "ecr:*"], "Resource": "*"}),
        "dev-sandbox": _policy_document({"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}),
    },
    "security": {
        "log-archive-read": _policy_document(
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}),
        "incident-response": INCIDENT_RESPONSE_SCOPED,
    },
}


def _buckets(seed: int, accounts: dict[str, aws_org.Account], born: datetime) -> list[dict[str, Any]]:
    """(name, account, region, classification, encryption, versioning, retain)."""
    log_archive = aws_org.log_archive_bucket(seed)
    plan = [
        ("kestrel-prod-app-data", "prod", "us-east-1", "confidential", "aws:kms", "Enabled"),
        ("kestrel-prod-customer-exports", "prod", "us-east-1", "confidential", "aws:kms", "Enabled"),
        ("kestrel-prod-artifacts", "prod", "us-east-1", "internal", "AES256", "Enabled"),
        ("kestrel-prod-analytics", "prod", "us-east-1", "internal", "AES256", "Enabled"),
        ("kestrel-prod-eu-app-data", "prod", "eu-west-1", "confidential", "aws:kms", "Enabled"),
        ("kestrel-staging-app-data", "staging", "us-east-1", "internal", "AES256", "Enabled"),
        ("kestrel-staging-artifacts", "staging", "us-east-1", "internal", "AES256", "Enabled"),
        (log_archive, "security", aws_org.HOME_REGION, "confidential", "aws:kms", "Enabled"),
        ("kestrel-security-findings", "security", "us-east-1", "confidential", "aws:kms", "Enabled"),
    ]
    resources = []
    for offset, (name, account_name, region, classification, encryption, versioning) in enumerate(plan):
        account = accounts[account_name]
        state = {"encryption": encryption, "public_access_block": dict(FULL_PAB), "versioning": versioning,
                 "tags": {"data-classification": classification, "env": account_name}}
        resources.append(_resource(BUCKET, f"s3/{name}", account.account_id, region, name,
                                   born + timedelta(days=offset * 13), state, retain=name == log_archive))
    return resources


SECURITY_GROUPS = {  # (account name, region) -> {group name: ingress rules [protocol, from, to, cidr]}
    ("prod", "us-east-1"): {
        "web-alb": [["tcp", 443, 443, "0.0.0.0/0"], ["tcp", 443, 443, "::/0"], ["tcp", 80, 80, "0.0.0.0/0"]],
        "app": [["tcp", 8080, 8080, VPC_CIDR]],
        "bastion": [["tcp", 22, 22, OFFICE_CIDR]],
        "db": [["tcp", 5432, 5432, VPC_CIDR]],
    },
    ("prod", "eu-west-1"): {
        "web-alb": [["tcp", 443, 443, "0.0.0.0/0"], ["tcp", 443, 443, "::/0"]],
        "app": [["tcp", 8080, 8080, VPC_CIDR]],
    },
    ("staging", "us-east-1"): {
        "web-alb": [["tcp", 443, 443, "0.0.0.0/0"]],
        "app": [["tcp", 8000, 8100, VPC_CIDR]],
        "bastion": [["tcp", 22, 22, OFFICE_CIDR], ["tcp", 3389, 3389, OFFICE_CIDR]],
    },
    ("security", "us-east-1"): {
        "tooling": [["tcp", 443, 443, "10.0.0.0/8"], ["udp", 514, 514, "10.0.0.0/8"]],
    },
}

RDS_INSTANCES = [  # (identifier, account name, region, engine, retention, multi_az, env, backup)
    ("orders-db", "prod", "us-east-1", "postgres", 14, True, "prod", "daily"),
    ("billing-db", "prod", "us-east-1", "postgres", 14, True, "prod", "daily"),
    ("ledger-db", "prod", "us-east-1", "mysql", 35, True, "prod", "daily"),
    ("eu-orders-db", "prod", "eu-west-1", "postgres", 14, True, "prod", "daily"),
    ("staging-db", "staging", "us-east-1", "postgres", 1, False, "staging", None),
]

KMS_KEYS = [  # (alias, account name, region, description)
    ("alias/app-data", "prod", "us-east-1", "Application data at rest"),
    ("alias/billing", "prod", "us-east-1", "Billing records"),
    ("alias/backups", "prod", "us-east-1", "Backup vault encryption"),
    ("alias/eu-app-data", "prod", "eu-west-1", "Application data at rest (EU)"),
    ("alias/staging-app", "staging", "us-east-1", "Staging application data"),
    ("alias/log-archive", "security", "us-east-1", "CloudTrail log archive"),
    ("alias/findings", "security", "us-east-1", "Security findings"),
]


def _infrastructure(spec: DemoSpec, accounts: dict[str, aws_org.Account]) -> list[dict[str, Any]]:
    rng = rng_for(spec.seed, "aws:infrastructure")
    born = spec.window_start - timedelta(days=600)
    resources: list[dict[str, Any]] = []
    for offset, (name, account) in enumerate(accounts.items()):
        acct = account.account_id
        created = spec.window_start - timedelta(days=1800 - offset * 300)
        resources.append(_resource(ROOT, f"{acct}/root", acct, GLOBAL, "<root_account>", created,
                                   {"mfa": True, "access_key": None},
                                   password_last_used=iso(spec.window_start - timedelta(days=150 + 40 * offset), False)
                                   if name != "staging" else None))
        resources.append(_resource(PASSWORD_POLICY, f"{acct}/iam/password-policy", acct, GLOBAL, "password-policy",
                                   created + timedelta(days=30), dict(STRONG_PASSWORD_POLICY)))
        resources.append(_resource(ACCOUNT_PAB, f"{acct}/s3/account-public-access-block", acct, GLOBAL,
                                   "account-public-access-block", created + timedelta(days=31), dict(FULL_PAB)))
        resources.append(_resource(TRAIL, f"{acct}/cloudtrail/{aws_org.TRAIL_NAME}", acct, aws_org.HOME_REGION,
                                   aws_org.TRAIL_NAME, created + timedelta(days=32),
                                   {"logging": True, "multi_region": True, "log_file_validation": True,
                                    "event_selectors": DEFAULT_EVENT_SELECTORS},
                                   bucket=aws_org.log_archive_bucket(spec.seed)))
        for region in account.regions:
            resources.append(_resource(DETECTOR, f"{acct}/{region}/guardduty", acct, region, "guardduty",
                                       created + timedelta(days=60), {"enabled": True}))
            resources.append(_resource(CONFIG_RECORDER, f"{acct}/{region}/config", acct, region, "default",
                                       created + timedelta(days=61), {"recording": True},
                                       delivery_bucket=aws_org.log_archive_bucket(spec.seed)))
        for policy_name, document in CUSTOMER_POLICIES[name].items():
            resources.append(_resource(POLICY, f"{acct}/iam/policy/{policy_name}", acct, GLOBAL, policy_name,
                                       born + timedelta(days=rng.randint(0, 200)), {"document": document}))
    resources += _buckets(spec.seed, accounts, born)
    for (account_name, region), groups in SECURITY_GROUPS.items():
        acct = accounts[account_name].account_id
        for group_name, rules in groups.items():
            key = f"{acct}/{region}/ec2/security-group/{group_name}"
            resources.append(_resource(SECURITY_GROUP, key, acct, region, group_name,
                                       born + timedelta(days=rng.randint(0, 300)), {"ingress": rules},
                                       description=f"{group_name} ({account_name})",
                                       group_id=security_group_id(spec.seed, key)))
    for identifier, account_name, region, engine, retention, multi_az, env, backup in RDS_INSTANCES:
        acct = accounts[account_name].account_id
        tags = {"env": env, **({"backup": backup} if backup else {})}
        resources.append(_resource(RDS, f"{acct}/{region}/rds/{identifier}", acct, region, identifier,
                                   born + timedelta(days=rng.randint(0, 300)),
                                   {"encrypted": True, "backup_retention": retention, "multi_az": multi_az,
                                    "public": False, "deletion_protection": env == "prod", "tags": tags}, engine=engine, instance_class="db.r6g.large"))
    for alias, account_name, region, description in KMS_KEYS:
        acct = accounts[account_name].account_id
        resources.append(_resource(KMS_KEY, f"{acct}/{region}/kms/{alias}", acct, region, alias,
                                   born + timedelta(days=rng.randint(0, 300)), {"rotation": True},
                                   description=description))
    return resources


def _backup(spec: DemoSpec, resources: list[dict[str, Any]]) -> dict[str, Any]:
    rng = rng_for(spec.seed, "aws:backup")
    protected = []
    for resource in resources:
        if resource["kind"] == RDS and resource["timeline"][0][1]["tags"].get("backup") == "daily":
            protected.append({"resource_key": resource["key"], "resource_arn": entity_of(resource),
                              "account_id": resource["account_id"], "region": resource["region"],
                              "name": resource["name"], "window_minute": 4 * 60 + rng.randint(0, 90)})
    return {"protected": protected, "outcomes": {}, "vault": "kestrel-daily",
            "plan_id": str(uuid.UUID(int=rng.getrandbits(128))), "plan_version": "ZmYxY2U0YjktMmQ3ZS00",
            "rule_id": str(uuid.UUID(int=rng.getrandbits(128)))}


# seeded violations -----------------------------------------------------------------------

@dataclass(frozen=True)
class Episode:
    control_id: str
    entity_id: str
    start: datetime
    end: datetime
    exception: str  # "none" | "covering" | "expiring"
    reason: str


def episode_spans(spec: DemoSpec, control_index: int) -> list[tuple[datetime, datetime]]:
    """Four violation spans: the window's second day, then about 30%, 55% and 80% in."""
    rng = rng_for(spec.seed, f"aws:episodes:{control_index}")
    spans = []
    for number, fraction in enumerate((0.0, 0.3, 0.55, 0.8)):
        day = 1 if number == 0 else max(2, int(spec.days * fraction) + control_index % 3)
        length = 3 if number in (0, 3) else rng.randint(2, 3)
        start = spec.window_start + timedelta(days=day, hours=rng.randint(10, 15), minutes=rng.randint(0, 59))
        end = start + timedelta(days=length, hours=rng.randint(-2, 2))
        spans.append((start, end))
    return spans


class _Seeder:
    def __init__(self, spec: DemoSpec, resources: list[dict[str, Any]], backup: dict[str, Any],
                 seeds: Seeds) -> None:
        self.spec, self.resources, self.backup, self.seeds = spec, resources, backup, seeds
        self.by_key = {r["key"]: r for r in resources}
        self.episodes: list[Episode] = []

    def add(self, control_id: str, entity_id: str, start: datetime, end: datetime, number: int,
            reason: str) -> None:
        mode = ("none", "covering", "covering", "expiring")[number]
        self.episodes.append(Episode(control_id, entity_id, start, end, mode, reason))
        if mode == "covering":
            self.seeds.add_exception(control_id, entity_id, reason, start, end)
        elif mode == "expiring":
            self.seeds.add_exception(control_id, entity_id, reason, start, end - timedelta(days=2))

    def change(self, control_id: str, resource: dict[str, Any], spans, number: int,
               changes: dict[str, Any] | None, reason: str) -> None:
        start, end = spans[number]
        override(resource, start, end, changes)
        self.add(control_id, entity_of(resource), start, end, number, reason)

    def find(self, kind: str, **match: Any) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["kind"] == kind
                and all(r.get(k, r["static"].get(k)) == v for k, v in match.items())]


def _stable_people_users(seeder: _Seeder, account_ids: list[str], without_keys: bool = False) -> list[dict[str, Any]]:
    """Users of people who are there through the whole window (created 100+ days before it)
    with console access, in the order of `account_ids`; optionally only users without keys."""
    end = seeder.spec.window_end + timedelta(days=2)
    with_keys = {(r["account_id"], r["static"]["user"]) for r in seeder.find(ACCESS_KEY)}
    out = []
    for account_id in account_ids:
        for user in seeder.find(USER, account_id=account_id, user_kind="person"):
            created = parse(user["timeline"][0][0])
            state = _state_at(user, end)
            if created >= seeder.spec.window_start - timedelta(days=100) or not state or not state["console"]:
                continue
            if without_keys and (account_id, user["name"]) in with_keys:
                continue
            out.append(user)
    return out


def _seed(spec: DemoSpec, accounts: dict[str, aws_org.Account], resources: list[dict[str, Any]],
          backup: dict[str, Any], seeds: Seeds) -> list[Episode]:
    seeder = _Seeder(spec, resources, backup, seeds)
    rng = rng_for(spec.seed, "aws:seeds")
    prod, staging, security = (accounts[n].account_id for n in ("prod", "staging", "security"))

    # iam_aws_user_mfa: a person's MFA device is removed (lost phone) and re-registered days later
    spans = episode_spans(spec, 0)
    users = rng.sample(_stable_people_users(seeder, [prod, staging, security])[:12], 4)
    for number, user in enumerate(users):
        seeder.change("iam_aws_user_mfa", user, spans, number, {"mfa": False},
                      "MFA device lost; re-registration booked with IT, console sessions limited to 1 hour")

    # iam_aws_root_account: a root access key for a few days; root MFA device replaced
    spans = episode_spans(spec, 1)
    plan = [(staging, {"access_key": "created"}, "Root access key created for an AWS Support case"),
            (security, {"mfa": False}, "Root hardware MFA token replaced; new token in transit"),
            (prod, {"access_key": "created"}, "Root credentials needed for account closure of a legacy "
                                              "sub-service; key held in the vault"),
            (staging, {"mfa": False}, "Root MFA re-registration during custodian change")]
    for number, (account_id, changes, reason) in enumerate(plan):
        root = seeder.by_key[f"{account_id}/root"]
        if changes.get("access_key") == "created":
            changes = {"access_key": {"created": iso(spans[number][0], False)}}
        seeder.change("iam_aws_root_account", root, spans, number, changes, reason)

    # iam_aws_key_rotation: a person's forgotten access key, created 90 days before the span starts
    spans = episode_spans(spec, 2)
    candidates = _stable_people_users(seeder, [staging, prod, security], without_keys=True)
    for number, user in enumerate(rng.sample(candidates[:12], 4)):
        start, end = spans[number]
        created = start - timedelta(days=KEY_MAX_AGE_DAYS)
        key = _resource(ACCESS_KEY, f"{user['account_id']}/iam/access-key/{user['name']}/legacy",
                        user["account_id"], GLOBAL, f"{user['name']}#legacy", created, {"status": "Active"},
                        user=user["name"], created=iso(created, False), use_minute=11 * 60 + number * 7,
                        daily=False, use_region="eu-west-1", use_service="s3")
        _set(key, end, {"status": "Inactive"})
        _set(key, end + timedelta(days=5), None)
        resources.append(key)
        seeder.by_key[key["key"]] = key
        seeder.add("iam_aws_key_rotation", entity_of(user), start, end, number,
                   "Key used by a data migration script; replacement in progress")

    # iam_aws_password_policy: a weakened policy, and one deleted for a while
    spans = episode_spans(spec, 3)
    weak = {"MinimumPasswordLength": 8, "RequireSymbols": False, "PasswordReusePrevention": None}
    plan = [(staging, weak), (prod, {"MaxPasswordAge": None, "HardExpiry": False}), (security, weak),
            (staging, None)]
    for number, (account_id, changes) in enumerate(plan):
        policy = seeder.by_key[f"{account_id}/iam/password-policy"]
        seeder.change("iam_aws_password_policy", policy, spans, number, changes,
                      "Password policy relaxed by Terraform drift; fix scheduled")

    # iam_aws_no_wildcard_policies: the incident-response policy widened to everything but IAM
    # (NotAction), then Action * on Resource * as a new default version or a new policy
    spans = episode_spans(spec, 4)
    admin_list_doc = _policy_document({"Effect": "Allow", "Action": ["*"], "Resource": ["*"]})
    single = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}
    for number in range(4):
        start, end = spans[number]
        if number == 0:
            policy = seeder.by_key[f"{security}/iam/policy/incident-response"]
            seeder.change("iam_aws_no_wildcard_policies", policy, spans, number,
                          {"document": INCIDENT_RESPONSE_WIDENED},
                          "Incident responders given everything but IAM during an incident; scoping back tracked")
        elif number == 3:
            policy = _resource(POLICY, f"{prod}/iam/policy/vendor-onboarding", prod, GLOBAL, "vendor-onboarding",
                               start, {"document": single})
            _set(policy, end, None)
            resources.append(policy)
            seeder.add("iam_aws_no_wildcard_policies", entity_of(policy), start, end, number,
                       "Temporary break-glass policy for an incident; removal tracked")
        else:
            policy = seeder.by_key[f"{(staging if number == 1 else prod)}/iam/policy/ci-deploy"]
            seeder.change("iam_aws_no_wildcard_policies", policy, spans, number,
                          {"document": admin_list_doc}, "CI role widened during a pipeline migration")

    # inf_sg_admin_ports: SSH / RDP open to the world (including a non-canonical /0 CIDR)
    spans = episode_spans(spec, 5)
    plan = [(prod, "us-east-1", "bastion", ["tcp", 22, 22, "0.0.0.0/0"]),
            (staging, "us-east-1", "bastion", ["tcp", 3389, 3389, "::/0"]),
            (prod, "eu-west-1", "app", ["-1", None, None, "0.0.0.0/0"]),
            (staging, "us-east-1", "app", ["tcp", 0, 1024, "203.0.113.77/0"])]
    for number, (account_id, region, name, rule) in enumerate(plan):
        group = seeder.by_key[f"{account_id}/{region}/ec2/security-group/{name}"]
        rules = [*_state_at(group, spans[number][0])["ingress"], rule]
        seeder.change("inf_sg_admin_ports", group, spans, number, {"ingress": rules},
                      "Temporary vendor access for a migration; IP allow-listing follows")

    # inf_s3_public_access_block: bucket PAB removed or partly off, account PAB off
    spans = episode_spans(spec, 6)
    partial = {**FULL_PAB, "BlockPublicPolicy": False, "RestrictPublicBuckets": False}
    plan = [("s3/kestrel-prod-artifacts", {"public_access_block": None}),
            (f"{staging}/s3/account-public-access-block", partial),
            ("s3/kestrel-staging-artifacts", {"public_access_block": partial}),
            (f"{prod}/s3/account-public-access-block", None)]
    for number, (key, changes) in enumerate(plan):
        seeder.change("inf_s3_public_access_block", seeder.by_key[key], spans, number, changes,
                      "Public download of release artifacts for a customer; CloudFront migration planned")

    # inf_encryption_at_rest: a confidential bucket on SSE-S3, an unencrypted restored RDS instance
    spans = episode_spans(spec, 7)
    for number in range(4):
        start, end = spans[number]
        if number in (1, 3):
            account_id = staging if number == 1 else prod
            name = "reports-restore" if number == 1 else "orders-db-restore"
            rds = _resource(RDS, f"{account_id}/us-east-1/rds/{name}", account_id, "us-east-1", name, start,
                            {"encrypted": False, "backup_retention": 1, "multi_az": False, "public": False,
                             "deletion_protection": False,
                             "tags": {"env": "restore-test"}}, engine="postgres", instance_class="db.t3.medium")
            _set(rds, end, None)
            resources.append(rds)
            seeder.add("inf_encryption_at_rest", entity_of(rds), start, end, number,
                       "Restored from a legacy unencrypted snapshot for a data recovery test")
        else:
            bucket = seeder.by_key["s3/kestrel-prod-customer-exports" if number == 0 else "s3/kestrel-prod-app-data"]
            seeder.change("inf_encryption_at_rest", bucket, spans, number, {"encryption": "AES256"},
                          "Default encryption switched to SSE-S3 by a bucket migration; KMS key re-applied")

    # inf_kms_rotation: rotation switched off on customer-managed keys
    spans = episode_spans(spec, 8)
    for number, key in enumerate([f"{prod}/us-east-1/kms/alias/billing", f"{security}/us-east-1/kms/alias/findings",
                                  f"{prod}/eu-west-1/kms/alias/eu-app-data", f"{staging}/us-east-1/kms/alias/staging-app"]):
        seeder.change("inf_kms_rotation", seeder.by_key[key], spans, number, {"rotation": False},
                      "Rotation paused while a dependent HSM integration is re-certified")

    # mon_guardduty_enabled: a detector suspended, one deleted
    spans = episode_spans(spec, 9)
    plan = [(f"{prod}/eu-west-1/guardduty", {"enabled": False}), (f"{staging}/us-east-1/guardduty", None),
            (f"{security}/us-east-1/guardduty", {"enabled": False}), (f"{prod}/us-east-1/guardduty", {"enabled": False})]
    for number, (key, changes) in enumerate(plan):
        seeder.change("mon_guardduty_enabled", seeder.by_key[key], spans, number, changes,
                      "Detector suspended during a findings-export migration")

    # mon_cloudtrail_trail_logging: StopLogging, log file validation off, management events excluded
    spans = episode_spans(spec, 10)
    plan = [(prod, {"logging": False}), (staging, {"log_file_validation": False}), (security, {"logging": False}),
            (prod, {"event_selectors": [{"ReadWriteType": "All", "IncludeManagementEvents": False,
                                         "DataResources": []}]})]
    for number, (account_id, changes) in enumerate(plan):
        seeder.change("mon_cloudtrail_trail_logging", seeder.by_key[f"{account_id}/cloudtrail/{aws_org.TRAIL_NAME}"],
                      spans, number, changes, "Trail change during the log archive re-encryption")

    # avl_backup_daily: days without a completed backup (missing or failed job)
    spans = episode_spans(spec, 11)
    protected = backup["protected"]
    outcomes = ["missing", "failed", "failed", "missing"]
    for number, (start, end) in enumerate(spans):
        target = protected[number % len(protected)]
        day = start.replace(hour=0, minute=0, second=0, microsecond=0)
        last = end.replace(hour=0, minute=0, second=0, microsecond=0)
        while day < last:
            backup["outcomes"].setdefault(target["resource_arn"], {})[day.date().isoformat()] = outcomes[number]
            day += timedelta(days=1)
        seeder.add("avl_backup_daily", target["resource_arn"], day_start(start), last - timedelta(seconds=1), number,
                   "Backup window conflicts with a storage migration; manual snapshots taken")
    # a failed job retried the same day is not a violation
    first = protected[0]["resource_arn"]
    retry_day = spec.window_start + timedelta(days=max(3, int(spec.days * 0.45)))
    backup["outcomes"].setdefault(first, {}).setdefault(retry_day.date().isoformat(), "failed_then_completed")

    # avl_rds_resilience: production instances with short retention or a single AZ
    spans = episode_spans(spec, 12)
    plan = [("orders-db", "us-east-1", {"backup_retention": 1}), ("billing-db", "us-east-1", {"multi_az": False}),
            ("eu-orders-db", "eu-west-1", {"multi_az": False}), ("ledger-db", "us-east-1", {"backup_retention": 3})]
    for number, (name, region, changes) in enumerate(plan):
        seeder.change("avl_rds_resilience", seeder.by_key[f"{prod}/{region}/rds/{name}"], spans, number, changes,
                      "Instance resized; Multi-AZ and retention restored after the maintenance window")

    # inf_s3_versioning: versioning suspended (S3 cannot turn it off once enabled)
    spans = episode_spans(spec, 13)
    plan = ["kestrel-prod-analytics", "kestrel-staging-artifacts", "kestrel-prod-artifacts", "kestrel-security-findings"]
    for number, name in enumerate(plan):
        seeder.change("inf_s3_versioning", seeder.by_key[f"s3/{name}"], spans, number, {"versioning": "Suspended"},
                      "Versioning suspended for a bulk re-import to cap storage cost; re-enabling tracked")

    # inf_rds_not_public: an instance made publicly accessible for a vendor's migration tool
    spans = episode_spans(spec, 14)
    plan = [(staging, "us-east-1", "staging-db"), (prod, "us-east-1", "ledger-db"),
            (prod, "eu-west-1", "eu-orders-db"), (prod, "us-east-1", "billing-db")]
    for number, (account_id, region, name) in enumerate(plan):
        seeder.change("inf_rds_not_public", seeder.by_key[f"{account_id}/{region}/rds/{name}"], spans, number,
                      {"public": True}, "Made public for a vendor's migration tool; private endpoint restored after")

    # avl_rds_deletion_protection: protection lifted on production instances for maintenance
    spans = episode_spans(spec, 15)
    plan = [("us-east-1", "billing-db"), ("us-east-1", "orders-db"), ("eu-west-1", "eu-orders-db"),
            ("us-east-1", "ledger-db")]
    for number, (region, name) in enumerate(plan):
        seeder.change("avl_rds_deletion_protection", seeder.by_key[f"{prod}/{region}/rds/{name}"], spans, number,
                      {"deletion_protection": False}, "Protection lifted for an engine upgrade; re-enable tracked")

    # mon_aws_config_recording: the recorder stopped in one account-region
    spans = episode_spans(spec, 16)
    plan = [(staging, "us-east-1"), (prod, "eu-west-1"), (security, "us-east-1"), (prod, "us-east-1")]
    for number, (account_id, region) in enumerate(plan):
        seeder.change("mon_aws_config_recording", seeder.by_key[f"{account_id}/{region}/config"], spans, number,
                      {"recording": False}, "Recorder stopped while its delivery role was rotated; restart tracked")
    return seeder.episodes


def day_start(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def generate_world(spec: DemoSpec, people: list[Person], seeds: Seeds) -> dict[str, Any]:
    accounts = {a.name: a for a in aws_org.accounts(spec.seed)}
    resources = _infrastructure(spec, accounts)
    resources += _human_users(spec, people, accounts)
    resources += _service_users(spec, accounts)
    backup = _backup(spec, resources)
    episodes = _seed(spec, accounts, resources, backup, seeds)
    resources.sort(key=lambda r: (KINDS.index(r["kind"]), r["key"]))
    return {
        "accounts": [{"account_id": a.account_id, "name": a.name, "regions": list(a.regions)}
                     for a in accounts.values()],
        "resources": resources,
        "backup": backup,
        "episodes": [{"control_id": e.control_id, "entity_id": e.entity_id, "start": iso(e.start, False),
                      "end": iso(e.end, False), "exception": e.exception, "reason": e.reason} for e in episodes],
    }


def outage_windows(spec: DemoSpec) -> list[tuple[datetime, datetime]]:
    """The AWS APIs the audit reads are down for six hours after the window's third day
    closes (so even a short demo shows a not_tested day) and after day ~60% of the window."""
    windows = []
    for day in sorted({2, int(spec.days * 0.6)}):
        closes = spec.window_start + timedelta(days=day + 1)
        windows.append((closes, closes + timedelta(hours=6)))
    return windows


def generate(ctx: WorldContext) -> None:
    write_json(ctx.demo_dir / WORLD_FILE, generate_world(ctx.spec, ctx.people, ctx.seeds))
    for start, end in outage_windows(ctx.spec):
        ctx.seeds.add_outage("aws", start, end, "AWS control-plane APIs (IAM, EC2, RDS, KMS, CloudTrail, GuardDuty, "
                                                "Backup, S3 bucket configuration) return 503 for six hours")
