"""CloudTrail: the management-event activity of the company's accounts, as delivered to S3.

What it writes under `<demo_dir>/world/cloudtrail/`:
- `objects/*.bin`: the content of the log archive bucket's objects, packed (one pack per
  generated day plus one for digests, zstd-compressed: thousands of small gzip files
  would cost more to write than to make; CloudTrail's gzip is applied on delivery).
  Log files are keyed like CloudTrail's: `AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/
  <acct>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<random>.json.gz`, body `{"Records": [...]}`,
  gzip. A file is delivered 5-15 minutes after its last event and its key carries the
  delivery date, so the files holding the last minutes of a day sit under the next
  day's prefix. Hourly digests (`AWSLogs/<acct>/CloudTrail-Digest/<region>/...`) list the
  log files delivered during their hour with the SHA-256 of the uncompressed content and
  chain to the previous digest by its hash.
- `deliveries.tsv`: `deliver_at, key, pack, offset, length, size` for every object that
  reaches the bucket, by delivery time (the stand-in makes exactly those delivered by "now"
  present).
- `facts.json`: what the oracles need, recorded while generating: every root and IAM-user
  console activity and every trail change (with the file it landed in), the planted
  delivery faults (log files listed in a digest but never delivered, hours without a
  digest, a file delivered hours late, a duplicate delivery) and the minutes during
  which logging was stopped.

The baseline is compliant: people sign in through Okta (SAML federation, `MFAUsed: No`
because the identity provider did the MFA), a few administrators have IAM users that
always sign in with MFA, automation runs under roles, nobody uses root, and the trail
is never touched. Violations are planted on chosen days (`plan_incidents`), with
approved exceptions (one per control expiring while its entity still fails).

Volume: about 20,500 automation events a day plus human activity for the default
company (300 people, scale 1), proportional to `employees / 300 * scale`. Records are
rendered from per-API string templates (json.dumps only for the few planted records);
days are independent random streams, generated in two processes for large windows, and
each file is compressed and appended to its pack as soon as it is complete, so memory
stays at about one account-day.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zlib
from bisect import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from random import Random
from typing import TYPE_CHECKING, Any

from ccm_demo.spec import DemoSpec
from ccm_demo.world import aws_org
from ccm_demo.world.common import rng_for, write_json
from ccm_demo.world.people import Person

if TYPE_CHECKING:
    from ccm_demo.world import WorldContext

log = logging.getLogger(__name__)

ORDER = 40

ROOT_DIR = "world/cloudtrail"
OBJECTS_DIR = f"{ROOT_DIR}/objects"
DELIVERIES_FILE = f"{ROOT_DIR}/deliveries.tsv"
FACTS_FILE = f"{ROOT_DIR}/facts.json"

TRAIL_CHANGE_EVENTS = ("StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors")
DELIVERY_DELAY_MINUTES = (5, 15)  # after a file's last event
DIGEST_DELAY_MINUTES = (5, 25)  # after the digest's hour closes
AUTOMATION_EVENTS_PER_DAY = 20_500  # default company, scale 1
GZIP_LEVEL = 1  # CloudTrail's compression level is not observable; generation speed is

_HMS = [f"{h:02d}:{m:02d}:{s:02d}Z" for h in range(24) for m in range(60) for s in range(60)]
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _ident(rng: Random, prefix: str, length: int = 16) -> str:
    return prefix + "".join(rng.choice(_UPPER) for _ in range(length))


def _uuid(rng: Random) -> str:
    h = rng.randbytes(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}"


def gzip_bytes(body: bytes) -> bytes:
    """gzip without a timestamp in the header, so the same spec gives the same bytes."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    return compressor.compress(body) + compressor.flush()


def _pack_codec() -> Any:
    import pyarrow as pa  # generation and delivery only; zstd is much faster than gzip

    return pa.Codec("zstd", compression_level=1)


def pack_bytes(body: bytes) -> bytes:
    """How an object's content is kept in a pack (CloudTrail's gzip is applied on delivery)."""
    return _pack_codec().compress(body, asbytes=True)


# ---------------------------------------------------------------------------------------
# who and where


@dataclass(frozen=True)
class Scope:
    """One account and region the trail logs."""

    account: aws_org.Account
    region: str
    share: float  # of the automation volume
    window_minutes: int  # how much activity one log file holds

    @property
    def account_id(self) -> str:
        return self.account.account_id

    @property
    def label(self) -> str:
        return f"{self.account.name}/{self.region}"


def scopes(seed: int) -> list[Scope]:
    """Every account and active region, with its share of activity and file cadence."""
    shares = {("prod", "us-east-1"): (0.5, 30), ("prod", "eu-west-1"): (0.15, 60),
              ("staging", "us-east-1"): (0.2, 60), ("security", "us-east-1"): (0.15, 60)}
    out = []
    for account in aws_org.accounts(seed):
        for region in account.regions:
            share, window = shares.get((account.name, region), (0.1, 60))
            out.append(Scope(account, region, share, window))
    return out


def root_arn(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:root"


def iam_user_arn(account_id: str, user_name: str) -> str:
    return f"arn:aws:iam::{account_id}:user/{user_name}"


def trail_change_entity(account_id: str, region: str, event_name: str, trail_name: str) -> str:
    """How the continuity control names a trail change (and exceptions cover it)."""
    return f"{account_id}/{region}/{event_name}/{trail_name}"


def hour_entity(account_id: str, region: str, hour: datetime) -> str:
    """How the continuity control names one digest hour of one account and region."""
    return f"{account_id}/{region}/{stamp(hour)}"


@dataclass
class Role:
    """An IAM role in one account, assumed by people or automation."""

    account_id: str
    name: str
    role_id: str

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:role/{self.name}"

    def session_identity(self, session: str, key_id: str, created: str, mfa: bool = False) -> str:
        return (
            '{"type":"AssumedRole","principalId":"' + self.role_id + ":" + session
            + '","arn":"arn:aws:sts::' + self.account_id + ":assumed-role/" + self.name + "/" + session
            + '","accountId":"' + self.account_id + '","accessKeyId":"' + key_id
            + '","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"' + self.role_id
            + '","arn":"' + self.arn + '","accountId":"' + self.account_id + '","userName":"' + self.name
            + '"},"webIdFederationData":{},"attributes":{"creationDate":"' + created
            + '","mfaAuthenticated":"' + ("true" if mfa else "false") + '"}}}'
        )


def _iam_user_identity(account_id: str, user_id: str, name: str, key_id: str = "") -> str:
    return ('{"type":"IAMUser","principalId":"' + user_id + '","arn":"' + iam_user_arn(account_id, name)
            + '","accountId":"' + account_id + '","accessKeyId":"' + key_id + '","userName":"' + name + '"}')


def _root_identity(account_id: str, key_id: str, created: str) -> str:
    return ('{"type":"Root","principalId":"' + account_id + '","arn":"' + root_arn(account_id)
            + '","accountId":"' + account_id + '","accessKeyId":"' + key_id
            + '","sessionContext":{"sessionIssuer":{},"webIdFederationData":{},"attributes":{"creationDate":"'
            + created + '","mfaAuthenticated":"true"}}}')


def _service_identity(service: str) -> str:
    return '{"type":"AWSService","invokedBy":"' + service + '"}'


# ---------------------------------------------------------------------------------------
# the API calls activity is made of


@dataclass
class Resources:
    """Resource names of one account and region that requests refer to."""

    account_id: str
    region: str
    instances: list[str]
    security_groups: list[str]
    buckets: list[str]
    secrets: list[str]
    parameters: list[str]
    cluster: str
    services: list[str]
    functions: list[str]
    key_ids: list[str]
    log_groups: list[str]
    db_instances: list[str]
    random: Callable[[], float] = field(default=Random(0).random, repr=False)

    def pick(self, items: list[str]) -> str:
        return items[int(self.random() * len(items))]


def account_resources(rng: Random, account: aws_org.Account, region: str) -> Resources:
    env = account.name
    return Resources(
        account_id=account.account_id, region=region,
        instances=[f"i-0{rng.randbytes(8).hex()}" for _ in range(12)],
        security_groups=[f"sg-0{rng.randbytes(8).hex()}" for _ in range(6)],
        buckets=[f"kestrel-{env}-{name}-{account.account_id[-4:]}" for name in ("assets", "exports", "backups", "logs")],
        secrets=[f"{env}/api/{name}-{''.join(rng.choice(_ALNUM) for _ in range(6))}"
                 for name in ("database", "stripe", "sendgrid", "jwt-signing")],
        parameters=[f"/{env}/api/{name}" for name in ("feature-flags", "log-level", "db-host", "queue-url")],
        cluster=f"{env}-{region}-apps",
        services=["api", "worker", "scheduler", "web"],
        functions=[f"{env}-billing-export", f"{env}-thumbnailer", f"{env}-slack-notifier"],
        key_ids=[_uuid(rng) for _ in range(3)],
        log_groups=[f"/ecs/{env}/{name}" for name in ("api", "worker", "web")],
        db_instances=[f"{env}-postgres-{n}" for n in (1, 2)],
    )


Req = Callable[[Resources], str]


@dataclass(frozen=True)
class Api:
    source: str  # e.g. ec2 (eventSource ec2.amazonaws.com)
    name: str
    read_only: bool
    request: Req
    response: Req | None = None
    version: str = "1.09"
    global_service: bool = False  # IAM, STS global endpoint: recorded in us-east-1

    @property
    def event_source(self) -> str:
        return f"{self.source}.amazonaws.com"


def _c(text: str) -> Req:
    return lambda res: text


def _hex(res: Resources, length: int) -> str:
    return f"{int(res.random() * 16**length):0{length}x}"


def _instances(res: Resources) -> str:
    return '{"instancesSet":{"items":[{"instanceId":"' + res.pick(res.instances) + '"}]},"filterSet":{}}'


def _sg(res: Resources) -> str:
    return ('{"securityGroupSet":{},"securityGroupIdSet":{"items":[{"groupId":"' + res.pick(res.security_groups)
            + '"}]},"filterSet":{}}')


def _bucket(what: str) -> Req:
    return lambda res: '{"bucketName":"' + res.pick(res.buckets) + '","Host":"s3.amazonaws.com","' + what + '":""}'


def _secret(res: Resources) -> str:
    return ('{"secretId":"arn:aws:secretsmanager:' + res.region + ":" + res.account_id + ":secret:"
            + res.pick(res.secrets) + '"}')


def _params(res: Resources) -> str:
    return '{"names":["' + res.pick(res.parameters) + '"],"withDecryption":true}'


def _kms(extra: str = "") -> Req:
    return lambda res: ('{"keyId":"arn:aws:kms:' + res.region + ":" + res.account_id + ":key/" + res.pick(res.key_ids)
                        + '","encryptionAlgorithm":"SYMMETRIC_DEFAULT","encryptionContext":{"aws:ecs:cluster":"'
                        + res.cluster + '"}' + extra + "}")


def _log_stream(res: Resources) -> str:
    return ('{"logGroupName":"' + res.pick(res.log_groups) + '","logStreamName":"ecs/'
            + res.pick(res.services) + "/" + _hex(res, 12) + '"}')


def _service(res: Resources) -> str:
    return '{"cluster":"' + res.cluster + '","services":["' + res.pick(res.services) + '"]}'


def _update_service(res: Resources) -> str:
    return '{"cluster":"' + res.cluster + '","service":"' + res.pick(res.services) + '","forceNewDeployment":true}'


def _task_definition(res: Resources) -> str:
    return ('{"family":"' + res.pick(res.services) + '","networkMode":"awsvpc","requiresCompatibilities":'
            '["FARGATE"],"cpu":"512","memory":"1024"}')


def _function(res: Resources) -> str:
    return '{"functionName":"' + res.pick(res.functions) + '"}'


def _db(res: Resources) -> str:
    return '{"dBInstanceIdentifier":"' + res.pick(res.db_instances) + '"}'


def _ssm_instance(res: Resources) -> str:
    return ('{"instanceId":"' + res.pick(res.instances) + '","agentVersion":"3.3.987.0","agentStatus":"Active",'
            '"platformType":"Linux","platformName":"Amazon Linux","platformVersion":"2023",'
            '"iPAddress":"10.0.' + str(int(res.random() * 250)) + "." + str(int(res.random() * 250)) + '"}')


def _assume_role(res: Resources) -> str:
    return ('{"roleArn":"arn:aws:iam::' + res.account_id + ':role/ecs-task-api","roleSessionName":"'
            + _hex(res, 12) + '","durationSeconds":3600}')


def _assume_role_response(res: Resources) -> str:
    return ('{"credentials":{"accessKeyId":"ASIA' + _hex(res, 12).upper() + '","sessionToken":"IQoJb3JpZ2luX2VjEA'
            + _hex(res, 12) + '","expiration":"Dec 31, 2099, 12:00:00 AM"},"assumedRoleUser":{"assumedRoleId":'
            '"AROA' + res.account_id + ":" + _hex(res, 8) + '","arn":"arn:aws:sts::' + res.account_id
            + ':assumed-role/ecs-task-api/' + _hex(res, 8) + '"}}')


def _tags(res: Resources) -> str:
    return ('{"resourcesSet":{"items":[{"resourceId":"' + res.pick(res.instances) + '"}]},"tagSet":{"items":'
            '[{"key":"owner","value":"platform"}]}}')


def _trail(res: Resources) -> str:
    return '{"name":"arn:aws:cloudtrail:us-east-1:' + res.account_id + ':trail/' + aws_org.TRAIL_NAME + '"}'


EMPTY = _c("null")
METRIC = ('{"metricDataQueries":[{"id":"m1","metricStat":{"metric":{"namespace":"AWS/ECS","metricName":'
          '"CPUUtilization"},"period":300,"stat":"Average"}}],"scanBy":"TimestampDescending"}')

APIS: dict[str, Api] = {api.name: api for api in (
    Api("ec2", "DescribeInstances", True, _instances),
    Api("ec2", "DescribeSecurityGroups", True, _sg),
    Api("ec2", "DescribeVolumes", True, _c('{"volumeSet":{},"filterSet":{}}')),
    Api("ec2", "DescribeVpcs", True, _c('{"vpcSet":{},"filterSet":{}}')),
    Api("ec2", "CreateTags", False, _tags, _c('{"_return":true}')),
    Api("s3", "ListBuckets", True, _c('{"Host":"s3.amazonaws.com"}')),
    Api("s3", "GetBucketEncryption", True, _bucket("encryption")),
    Api("s3", "GetBucketVersioning", True, _bucket("versioning")),
    Api("s3", "GetBucketPolicy", True, _bucket("policy")),
    Api("s3", "PutBucketTagging", False, _bucket("tagging")),
    Api("secretsmanager", "GetSecretValue", True, _secret, version="1.08"),
    Api("ssm", "GetParameters", True, _params),
    Api("ssm", "UpdateInstanceInformation", False, _ssm_instance),
    Api("kms", "Decrypt", True, _kms(), version="1.08"),
    Api("kms", "GenerateDataKey", True, _kms(',"keySpec":"AES_256"'), version="1.08"),
    Api("kms", "ListAliases", True, _c('{"limit":100}')),
    Api("logs", "CreateLogStream", False, _log_stream, version="1.08"),
    Api("logs", "DescribeLogGroups", True, _c('{"limit":50}')),
    Api("ecs", "DescribeServices", True, _service),
    Api("ecs", "ListTasks", True, lambda res: '{"cluster":"' + res.cluster + '"}'),
    Api("ecs", "UpdateService", False, _update_service),
    Api("ecs", "RegisterTaskDefinition", False, _task_definition),
    Api("ecr", "GetAuthorizationToken", True, EMPTY),
    Api("lambda", "ListFunctions20150331", True, EMPTY, version="1.08"),
    Api("lambda", "GetFunction20150331v2", True, _function, version="1.08"),
    Api("rds", "DescribeDBInstances", True, _db),
    Api("monitoring", "GetMetricData", True, _c(METRIC)),
    Api("monitoring", "DescribeAlarms", True, _c('{"maxRecords":100}')),
    Api("elasticloadbalancing", "DescribeLoadBalancers", True, EMPTY),
    Api("elasticloadbalancing", "DescribeTargetHealth", True,
        _c('{"targetGroupArn":"arn:aws:elasticloadbalancing:targetgroup/api/6d0ecf831eec9f09"}')),
    Api("tagging", "GetResources", True, _c('{"resourcesPerPage":100}')),
    Api("guardduty", "ListDetectors", True, EMPTY),
    Api("iam", "ListUsers", True, EMPTY, global_service=True),
    Api("iam", "GetAccountSummary", True, EMPTY, global_service=True),
    Api("iam", "GetAccountPasswordPolicy", True, EMPTY, global_service=True),
    Api("iam", "GenerateCredentialReport", False, EMPTY, global_service=True),
    Api("iam", "GetCredentialReport", True, EMPTY, global_service=True),
    Api("iam", "ListAccessKeys", True, EMPTY, global_service=True),
    Api("sts", "AssumeRole", True, _assume_role, _assume_role_response, version="1.08"),
    Api("sts", "GetCallerIdentity", True, EMPTY, version="1.08"),
    Api("cloudtrail", "DescribeTrails", True, _c('{"includeShadowTrails":true}')),
    Api("cloudtrail", "GetTrailStatus", True, _trail),
    Api("cloudtrail", "GetEventSelectors", True, lambda res: '{"trailName":"' + aws_org.TRAIL_NAME + '"}'),
    Api("cloudtrail", "LookupEvents", True, _c('{"maxResults":50}')),
    Api("backup", "ListBackupJobs", True, _c('{"maxResults":100}')),
)}


@dataclass(frozen=True)
class Mix:
    """A weighted choice of APIs."""

    apis: tuple[Api, ...]
    edges: tuple[float, ...]

    @classmethod
    def of(cls, *pairs: tuple[str, float]) -> Mix:
        edges, total = [], 0.0
        for _, weight in pairs:
            total += weight
            edges.append(total)
        return cls(tuple(APIS[name] for name, _ in pairs), tuple(e / total for e in edges))

    def pick(self, roll: float) -> Api:
        return self.apis[min(bisect(self.edges, roll), len(self.apis) - 1)]


MONITORING_MIX = Mix.of(("DescribeInstances", 3), ("DescribeVolumes", 2), ("DescribeSecurityGroups", 1),
                        ("GetMetricData", 6), ("DescribeAlarms", 1), ("DescribeLoadBalancers", 1),
                        ("DescribeTargetHealth", 2), ("DescribeDBInstances", 1), ("ListFunctions20150331", 1),
                        ("GetResources", 2), ("DescribeServices", 2), ("ListBuckets", 1))
APP_MIX = Mix.of(("GetSecretValue", 3), ("Decrypt", 5), ("GenerateDataKey", 2), ("GetParameters", 3),
                 ("CreateLogStream", 2))
HUMAN_READ_MIX = Mix.of(("DescribeInstances", 4), ("DescribeSecurityGroups", 2), ("DescribeServices", 3),
                        ("ListTasks", 2), ("GetMetricData", 2), ("DescribeLogGroups", 2), ("ListBuckets", 1),
                        ("GetBucketPolicy", 1), ("DescribeDBInstances", 1), ("GetFunction20150331v2", 1),
                        ("DescribeAlarms", 1), ("GetCallerIdentity", 1), ("DescribeVpcs", 1),
                        ("LookupEvents", 1), ("GetParameters", 1))
HUMAN_WRITE_MIX = Mix.of(("UpdateService", 3), ("CreateTags", 2), ("PutBucketTagging", 1),
                         ("RegisterTaskDefinition", 1))
DEPLOY_MIX = Mix.of(("GetAuthorizationToken", 2), ("RegisterTaskDefinition", 2), ("UpdateService", 2),
                    ("DescribeServices", 6), ("DescribeTargetHealth", 3), ("GetCallerIdentity", 1))
AUDIT_APIS = ("DescribeTrails", "GetTrailStatus", "GetEventSelectors", "GenerateCredentialReport",
              "GetCredentialReport", "GetAccountPasswordPolicy", "GetAccountSummary", "ListUsers",
              "ListAccessKeys", "ListBuckets", "GetBucketEncryption", "GetBucketVersioning",
              "DescribeSecurityGroups", "DescribeDBInstances", "ListAliases", "ListDetectors", "ListBackupJobs")

CONSOLE_UA = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/129.0.0.0 Safari/537.36")
CLI_UA = ("aws-cli/2.17.52 md/awscrt#0.21.5 ua/2.0 os/macos#23.6.0 md/arch#arm64 lang/python#3.12.6 "
          "md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off")


def sdk_agent(service: str) -> str:
    return f"aws-sdk-go-v2/1.30.5 os/linux lang/go#1.22.7 md/GOOS#linux md/GOARCH#amd64 api/{service}#1.36.0"


# ---------------------------------------------------------------------------------------
# rendering records

# (second of the day, record JSON, fact for facts.json or None)
Event = tuple[int, str, "dict[str, Any] | None"]


class Renderer:
    """Renders one day's records; everything random comes from the day's stream."""

    def __init__(self, rng: Random, day: datetime) -> None:
        self.rng = rng
        self.day = day
        self.prefix = day.strftime("%Y-%m-%dT")
        self._templates: dict[tuple[str, str, str, bool], str] = {}

    def time(self, second: int) -> str:
        return self.prefix + _HMS[second]

    def uuid(self) -> str:
        h = self.rng.randbytes(16).hex()
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}"

    def _template(self, api: Api, region: str, account_id: str, console: bool) -> str:
        key = (api.name, region, account_id, console)
        template = self._templates.get(key)
        if template is None:
            host = f"{api.source}.amazonaws.com" if api.global_service else f"{api.source}.{region}.amazonaws.com"
            template = (
                '{"eventVersion":"' + api.version + '","userIdentity":%s,"eventTime":"%s","eventSource":"'
                + api.event_source + '","eventName":"' + api.name + '","awsRegion":"' + region
                + '","sourceIPAddress":"%s","userAgent":"%s"%s,"requestParameters":%s,"responseElements":%s,'
                '"requestID":"%s","eventID":"%s","readOnly":' + ("true" if api.read_only else "false")
                + ',"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"' + account_id
                + '","eventCategory":"Management"' + (',"sessionCredentialFromConsole":"true"' if console else "")
                + ',"tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256",'
                '"clientProvidedHostHeader":"' + host + '"}}'
            )
            self._templates[key] = template
        return template

    def call(self, second: int, region: str, identity: str, api: Api, res: Resources, ip: str, agent: str,
             console: bool = False, error: tuple[str, str] | None = None, event_id: str | None = None) -> str:
        """One API call's record, from the API's template."""
        if api.global_service:
            region = aws_org.HOME_REGION
        err, response = "", "null"
        if error:
            err = ',"errorCode":"' + error[0] + '","errorMessage":"' + error[1] + '"'
        elif api.response is not None:
            response = api.response(res)
        h = self.rng.randbytes(32).hex()
        return self._template(api, region, res.account_id, console) % (
            identity, self.prefix + _HMS[second], ip, agent, err, api.request(res), response,
            f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:32]}",
            event_id or f"{h[32:40]}-{h[40:44]}-4{h[45:48]}-{h[48:52]}-{h[52:]}",
        )

    def record(self, second: int, fields: dict[str, Any]) -> str:
        """A record from a dict (planted and sign-in records: few, so json.dumps is fine)."""
        doc = {"eventVersion": "1.09", **fields}
        doc["eventTime"] = self.time(second)
        doc.setdefault("eventID", self.uuid())
        return json.dumps(doc, separators=(",", ":"))


def console_login(renderer: Renderer, second: int, account_id: str, identity: dict[str, Any], ip: str,
                  mfa_used: bool, success: bool = True, saml_provider: str | None = None) -> tuple[str, str]:
    """A ConsoleLogin record (signin.amazonaws.com, recorded in us-east-1) and its eventID."""
    extra: dict[str, Any] = {"LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs&isauthcode=true",
                             "MobileVersion": "No", "MFAUsed": "Yes" if mfa_used else "No"}
    if saml_provider:
        extra["SamlProviderArn"] = saml_provider
    elif mfa_used:
        extra["MFAIdentifier"] = f"arn:aws:iam::{account_id}:mfa/{identity.get('userName', 'root-account-mfa-device')}"
    event_id = renderer.uuid()
    fields: dict[str, Any] = {
        "userIdentity": identity, "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
        "awsRegion": "us-east-1", "sourceIPAddress": ip, "userAgent": CONSOLE_UA,
    }
    if not success:
        fields["errorMessage"] = "Failed authentication"
    fields |= {
        "requestParameters": None, "responseElements": {"ConsoleLogin": "Success" if success else "Failure"},
        "additionalEventData": extra, "eventID": event_id, "readOnly": False, "eventType": "AwsConsoleSignIn",
        "managementEvent": True, "recipientAccountId": account_id, "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                       "clientProvidedHostHeader": "signin.aws.amazon.com"},
    }
    return renderer.record(second, fields), event_id


# ---------------------------------------------------------------------------------------
# the incidents planted on purpose


@dataclass(frozen=True)
class Incidents:
    """Day offsets (from the window start) of everything planted; None when the window is
    too short to hold it."""

    root_fail: int | None
    root_excepted: tuple[int | None, int | None]
    root_expired: tuple[int | None, int | None]  # (excepted day, a later day after expiry)
    mfa_fail: int | None
    mfa_excepted: tuple[int | None, int | None]
    mfa_expired: tuple[int | None, int | None]
    mfa_failed_attempt: int
    late_file: int | None  # an IAM sign-in without MFA in a file delivered hours late
    duplicate_file: int
    missing_file_midnight: int  # the day's last prod us-east-1 file never arrives (digested the next day)
    missing_file_midday: int  # staging's 14:00 file never arrives
    missing_digest: int | None  # prod eu-west-1's digests for 09:00 and 10:00 never arrive
    trail_excepted: tuple[int | None, int | None]  # PutEventSelectors, UpdateTrail (approved changes)
    trail_expired: tuple[int | None, int | None]  # StopLogging for maintenance (excepted), again after expiry
    trail_fail: int | None  # DeleteTrail of a debugging trail, no exception
    trail_denied: int  # a StopLogging attempt IAM denied (no change happened)


class _Days:
    """Hands out distinct days near the ones asked for, avoiding some."""

    def __init__(self, last: int, avoid: set[int]) -> None:
        self.last = last
        self.used = set(avoid)

    def take(self, wanted: int, earliest: int = 1, latest: int | None = None) -> int | None:
        latest = self.last if latest is None else min(latest, self.last)
        candidates = sorted(range(earliest, latest + 1), key=lambda day: (abs(day - wanted), day))
        for day in candidates:
            if day not in self.used:
                self.used.add(day)
                return day
        return None

    def pair(self, wanted: int, gap: int) -> tuple[int | None, int | None]:
        """A day and a later one at least `gap` days after it (for expired exceptions)."""
        first = self.take(wanted, latest=self.last - gap)
        if first is None:
            return None, None
        return first, self.take(first + gap, earliest=first + gap)


def plan_incidents(days: int) -> Incidents:
    """Spread the incidents over the window; short windows (tests) still get each kind.

    Days with incomplete event logs (a missing log file) are kept apart from the days
    where event-based violations are planted, and days with delivery gaps apart from
    trail changes, so every planted fact shows its intended outcome.
    """
    last = days - 1

    def at(fraction: float, low: int) -> int:
        return max(1, min(last, max(low, round(fraction * last))))

    midnight = at(0.3, 3)
    midday = at(0.72, 5) if at(0.72, 5) != midnight else min(last, midnight + 2)
    incomplete = {midnight, midday}
    root = _Days(last, incomplete)
    root_fail = root.take(1)
    root_excepted = (root.take(at(0.2, 3)), root.take(at(0.5, 4)))
    root_expired = root.pair(at(0.62, 4), 2)
    mfa = _Days(last, incomplete)
    mfa_fail = mfa.take(2)
    mfa_excepted = (mfa.take(at(0.35, 3)), mfa.take(at(0.55, 4)))
    mfa_expired = mfa.pair(at(0.78, 5), 2)
    late = mfa.take(at(0.45, 2), latest=last - 1)  # re-read by the next day's look-back
    gaps = _Days(last, {midnight + 1, midday})
    missing_digest = gaps.take(at(0.5, 4))
    trail = _Days(last, {midnight + 1, midday} | ({missing_digest} if missing_digest else set()))
    return Incidents(
        root_fail=root_fail, root_excepted=root_excepted, root_expired=root_expired,
        mfa_fail=mfa_fail, mfa_excepted=mfa_excepted, mfa_expired=mfa_expired,
        mfa_failed_attempt=at(0.15, 1), late_file=late, duplicate_file=at(0.25, 2),
        missing_file_midnight=midnight, missing_file_midday=midday, missing_digest=missing_digest,
        trail_excepted=(trail.take(at(0.12, 1)), trail.take(at(0.4, 3))),
        trail_expired=trail.pair(at(0.6, 4), 2), trail_fail=trail.take(at(0.88, 6)),
        trail_denied=at(0.3, 2),
    )


# ---------------------------------------------------------------------------------------
# the company's actors


@dataclass
class Company:
    """Who acts in AWS: people through Okta federation, IAM users, automation roles."""

    spec: DemoSpec
    scopes: list[Scope]
    roles: dict[tuple[str, str], Role]
    resources: dict[str, Resources]  # by scope label
    people: list[Person]
    iam_users: list[tuple[Person, str, str]]  # (person, user name, user id) in the security account
    saml_provider: dict[str, str]  # account id -> provider ARN
    ips: dict[str, str]
    volume: float
    incidents: Incidents

    def scope(self, label: str) -> Scope:
        return next(s for s in self.scopes if s.label == label)


AWS_DEPARTMENTS = {"Engineering": 0.55, "IT": 0.8, "Security": 0.8}
ROLE_NAMES = ("okta-engineer", "okta-readonly", "okta-admin", "datadog-integration", "ecs-task-api", "ec2-ssm-role",
              "github-actions-deploy", aws_org.AUDIT_ROLE)


def _company(spec: DemoSpec, people: list[Person]) -> Company:
    rng = rng_for(spec.seed, "cloudtrail:company")
    roles = {(a.account_id, name): Role(a.account_id, name, _ident(rng, "AROA", 17))
             for a in aws_org.accounts(spec.seed) for name in ROLE_NAMES}
    all_scopes = scopes(spec.seed)
    resources = {s.label: account_resources(rng, s.account, s.region) for s in all_scopes}
    stable = [p for p in people if p.termination_at is None and p.start_at < spec.window_start - timedelta(days=30)]
    admins = [p for p in stable if p.department in ("IT", "Security")]
    admins += [p for p in stable if p.department == "Engineering"]
    admins += [p for p in stable if p not in admins]
    iam_users = [(p, aws_org.iam_user_name(p.email), _ident(rng, "AIDA", 17)) for p in admins[:6]]
    saml = {a.account_id: f"arn:aws:iam::{a.account_id}:saml-provider/okta" for a in aws_org.accounts(spec.seed)}
    ips = {p.email: f"{rng.choice(('203.0.113', '198.51.100', '192.0.2'))}.{rng.randrange(2, 254)}" for p in people}
    return Company(spec, all_scopes, roles, resources, people, iam_users, saml, ips,
                   spec.scale * spec.employees / 300, plan_incidents(spec.days))


def _automation(company: Company, renderer: Renderer, scope: Scope) -> list[Event]:
    """Monitoring, applications, agents and AWS services: steady, day and night."""
    rng = renderer.rng
    random = rng.random
    res = company.resources[scope.label]
    res.random = random
    acct = scope.account_id
    count = round(AUTOMATION_EVENTS_PER_DAY * company.volume * scope.share * rng.uniform(1.0, 1.06))
    created = renderer.time(0)
    monitoring = company.roles[(acct, "datadog-integration")].session_identity(
        "DatadogAWSIntegration", _ident(rng, "ASIA"), created)
    apps = [company.roles[(acct, "ecs-task-api")].session_identity(rng.randbytes(16).hex(), _ident(rng, "ASIA"), created)
            for _ in range(4)]
    agents = [company.roles[(acct, "ec2-ssm-role")].session_identity(i, _ident(rng, "ASIA"), created)
              for i in res.instances[:6]]
    ecs = _service_identity("ecs-tasks.amazonaws.com")
    monitoring_agent, app_agent = sdk_agent("datadog"), sdk_agent("ecs-task")
    ssm_agent = "aws-sdk-go/1.44.0 (go1.21; linux; amd64) amazon-ssm-agent/3.3.987.0"
    update, assume = APIS["UpdateInstanceInformation"], APIS["AssumeRole"]
    region = scope.region
    call = renderer.call
    throttled = ("ThrottlingException", "Rate exceeded")
    events: list[Event] = []
    append = events.append
    for _ in range(count):
        second = int(random() * 86400)
        roll = random()
        if roll < 0.42:
            text = call(second, region, monitoring, MONITORING_MIX.pick(random()), res, "44.192.28.17",
                        monitoring_agent, error=throttled if random() < 0.01 else None)
        elif roll < 0.72:
            text = call(second, region, apps[int(random() * 4)], APP_MIX.pick(random()), res,
                        "10.0.12." + str(2 + int(random() * 248)), app_agent)
        elif roll < 0.88:
            text = call(second, region, agents[int(random() * 6)], update, res,
                        "10.0.3." + str(2 + int(random() * 248)), ssm_agent)
        else:
            text = call(second, region, ecs, assume, res, "ecs-tasks.amazonaws.com", "ecs-tasks.amazonaws.com")
        append((second, text, None))
    # the pipeline's own audit role reads configuration every night at 01:20
    session = company.roles[(acct, aws_org.AUDIT_ROLE)].session_identity("ccm-extract", _ident(rng, "ASIA"),
                                                                         renderer.time(4800))
    for offset, name in enumerate(AUDIT_APIS):
        api = APIS[name]
        if api.global_service and region != aws_org.HOME_REGION:
            continue
        second = 4800 + 3 * offset
        append((second, call(second, region, session, api, res, "198.51.100.10", sdk_agent("ccm")), None))
    return events


def _deploys(company: Company, renderer: Renderer, scope: Scope) -> list[Event]:
    """CI deployments on workdays: bursts of calls by the GitHub Actions role."""
    if renderer.day.weekday() >= 5 or scope.account.name == "security":
        return []
    rng = renderer.rng
    res = company.resources[scope.label]
    role = company.roles[(scope.account_id, "github-actions-deploy")]
    events: list[Event] = []
    for _ in range(rng.randint(1, 4)):
        start = rng.randrange(9 * 3600, 18 * 3600)
        session = role.session_identity(f"GitHubActions-{rng.randrange(10**9, 10**10)}", _ident(rng, "ASIA"),
                                        renderer.time(start))
        second = start
        for _ in range(max(3, round(rng.randint(40, 120) * company.volume))):
            second = min(86399, second + rng.randint(1, 4))
            events.append((second, renderer.call(second, scope.region, session, DEPLOY_MIX.pick(rng.random()), res,
                                                 "4.175.114.51", sdk_agent("ecs")), None))
    return events


def _people(company: Company, renderer: Renderer) -> dict[str, list[Event]]:
    """People sign in through Okta (SAML) and work in the console or the CLI, mostly on workdays."""
    rng = renderer.rng
    day = renderer.day
    out: dict[str, list[Event]] = {s.label: [] for s in company.scopes}
    workday = day.weekday() < 5
    for person in company.people:
        share = AWS_DEPARTMENTS.get(person.department)
        if share is None:
            continue
        login = rng.randrange(7 * 3600, 10 * 3600)
        if not person.employed_at(day + timedelta(seconds=login)) or rng.random() > (share if workday else share * 0.05):
            continue
        account = "security" if person.department == "Security" else rng.choice(("prod", "staging", "staging"))
        work = company.scope(f"{account}/{rng.choice([r for r in company.scope(account + '/us-east-1').account.regions])}")
        home = company.scope(f"{account}/{aws_org.HOME_REGION}")
        acct = work.account_id
        role = company.roles[(acct, {"Engineering": "okta-engineer", "IT": "okta-admin",
                                     "Security": "okta-readonly"}[person.department])]
        ip = company.ips[person.email]
        provider = company.saml_provider[acct]
        session_arn = f"arn:aws:sts::{acct}:assumed-role/{role.name}/{person.email}"
        out[home.label].append((login, renderer.record(login, {
            "userIdentity": {"type": "SAMLUser", "principalId": hashlib.sha1(person.email.encode()).hexdigest()[:28]
                             + ":" + person.email, "userName": person.email, "identityProvider": provider},
            "eventSource": "sts.amazonaws.com", "eventName": "AssumeRoleWithSAML", "awsRegion": "us-east-1",
            "sourceIPAddress": ip, "userAgent": "signin.amazonaws.com",
            "requestParameters": {"sAMLAssertionID": "_" + rng.randbytes(16).hex(), "roleSessionName": person.email,
                                  "roleArn": role.arn, "principalArn": provider, "durationSeconds": 43200},
            "responseElements": {"subjectType": "persistent", "issuer": "http://www.okta.com/exk1kestrel",
                                 "audience": "https://signin.aws.amazon.com/saml",
                                 "assumedRoleUser": {"assumedRoleId": f"{role.role_id}:{person.email}",
                                                     "arn": session_arn}},
            "requestID": renderer.uuid(), "readOnly": True, "eventType": "AwsApiCall", "managementEvent": True,
            "recipientAccountId": acct, "eventCategory": "Management",
        }), None))
        identity = {"type": "AssumedRole", "principalId": f"{role.role_id}:{person.email}", "arn": session_arn,
                    "accountId": acct}
        text, _ = console_login(renderer, login + 2, acct, identity, ip, mfa_used=False, saml_provider=provider)
        out[home.label].append((login + 2, text, None))
        session = role.session_identity(person.email, _ident(rng, "ASIA"), renderer.time(login))
        res = company.resources[work.label]
        res.random = rng.random
        console = rng.random() < 0.6
        agent = CONSOLE_UA if console else CLI_UA
        second = login + 30
        for _ in range(round(rng.randint(15, 45) * company.spec.scale)):
            second += rng.randint(20, 600)
            if second >= 86400:
                break
            api = (HUMAN_WRITE_MIX if rng.random() < 0.08 else HUMAN_READ_MIX).pick(rng.random())
            error = ("AccessDenied", "User is not authorized to perform this action") if rng.random() < 0.03 else None
            target = home if api.global_service else work
            out[target.label].append((second, renderer.call(second, target.region, session, api, res, ip, agent,
                                                            console=console, error=error), None))
    return out


def _iam_session(company: Company, renderer: Renderer, scope: Scope, second: int, user: tuple[Person, str, str],
                 mfa: bool, success: bool = True) -> list[Event]:
    """An IAM user's console sign-in and a few calls; the sign-in is recorded as a fact."""
    person, name, user_id = user
    acct = scope.account_id
    identity = {"type": "IAMUser", "principalId": user_id, "arn": iam_user_arn(acct, name), "accountId": acct,
                "userName": name}
    ip = company.ips[person.email]
    text, event_id = console_login(renderer, second, acct, identity, ip, mfa_used=mfa, success=success)
    fact = {"kind": "console_login", "time": renderer.time(second), "account_id": acct,
            "principal_arn": iam_user_arn(acct, name), "principal_type": "IAMUser", "mfa_used": mfa,
            "success": success, "event_id": event_id}
    events: list[Event] = [(second, text, fact)]
    if success:
        res = company.resources[scope.label]
        res.random = renderer.rng.random
        session = _iam_user_identity(acct, user_id, name, _ident(renderer.rng, "ASIA"))
        for step in range(4):
            at = min(86399, second + 60 * (step + 1))
            events.append((at, renderer.call(at, scope.region, session, HUMAN_READ_MIX.pick(renderer.rng.random()),
                                             res, ip, CONSOLE_UA, console=True), None))
    return events


def _iam_user_logins(company: Company, renderer: Renderer) -> list[Event]:
    """Administrators with IAM users sign in with MFA now and then (the baseline)."""
    if renderer.day.weekday() >= 5:
        return []
    security = company.scope(f"security/{aws_org.HOME_REGION}")
    events: list[Event] = []
    for user in company.iam_users:
        if renderer.rng.random() < 0.25:
            events += _iam_session(company, renderer, security, renderer.rng.randrange(8 * 3600, 17 * 3600), user, True)
    return events


def _root_session(company: Company, renderer: Renderer, scope: Scope, second: int) -> list[Event]:
    """Someone signs in as root (with MFA) and makes a few calls: CIS 'root account usage'."""
    acct = scope.account_id
    ip = "192.0.2.200"
    text, event_id = console_login(renderer, second, acct, {"type": "Root", "principalId": acct, "arn": root_arn(acct),
                                                            "accountId": acct, "accessKeyId": ""}, ip, mfa_used=True)
    events: list[Event] = [(second, text, {"kind": "root", "time": renderer.time(second), "account_id": acct,
                                           "event_name": "ConsoleLogin", "event_id": event_id})]
    identity = _root_identity(acct, _ident(renderer.rng, "ASIA"), renderer.time(second))
    res = company.resources[scope.label]
    for step, name in enumerate(("GetAccountSummary", "ListAccessKeys", "ListUsers")):
        at = second + 45 * (step + 1)
        event_id = renderer.uuid()
        text = renderer.call(at, aws_org.HOME_REGION, identity, APIS[name], res, ip, CONSOLE_UA, console=True,
                             event_id=event_id)
        events.append((at, text, {"kind": "root", "time": renderer.time(at), "account_id": acct,
                                  "event_name": name, "event_id": event_id}))
    return events


def _trail_change(company: Company, renderer: Renderer, second: int, event_name: str, trail: str,
                  actor: Person, error: tuple[str, str] | None = None, record_fact: bool = True) -> Event:
    """A call on a trail by an administrator in the security account's home region."""
    acct = company.scope(f"security/{aws_org.HOME_REGION}").account_id
    role = company.roles[(acct, "okta-admin")]
    trail_arn = f"arn:aws:cloudtrail:us-east-1:{acct}:trail/{trail}"
    request: dict[str, Any] = {"name": trail_arn}
    response: Any = None
    if event_name == "PutEventSelectors":
        selectors = [{"readWriteType": "All", "includeManagementEvents": True, "excludeManagementEventSources": [],
                      "dataResources": [{"type": "AWS::S3::Object",
                                         "values": [f"arn:aws:s3:::kestrel-prod-exports-{acct[-4:]}/"]}]}]
        request = {"trailName": trail, "eventSelectors": selectors}
        response = {"trailARN": trail_arn, "eventSelectors": selectors}
    elif event_name == "UpdateTrail":
        request = {"name": trail_arn, "isMultiRegionTrail": True, "enableLogFileValidation": True,
                   "includeGlobalServiceEvents": True}
        response = {"name": trail, "s3BucketName": aws_org.log_archive_bucket(company.spec.seed),
                    "includeGlobalServiceEvents": True, "isMultiRegionTrail": True, "trailARN": trail_arn,
                    "logFileValidationEnabled": True, "isOrganizationTrail": True}
    identity = json.loads(role.session_identity(actor.email, _ident(renderer.rng, "ASIA"), renderer.time(second)))
    fields: dict[str, Any] = {"userIdentity": identity, "eventSource": "cloudtrail.amazonaws.com",
                              "eventName": event_name, "awsRegion": "us-east-1",
                              "sourceIPAddress": company.ips[actor.email], "userAgent": CONSOLE_UA}
    if error:
        fields |= {"errorCode": error[0], "errorMessage": error[1]}
        response = None
    event_id = renderer.uuid()
    fields |= {"requestParameters": request, "responseElements": response, "requestID": renderer.uuid(),
               "eventID": event_id, "readOnly": False, "eventType": "AwsApiCall", "managementEvent": True,
               "recipientAccountId": acct, "eventCategory": "Management", "sessionCredentialFromConsole": "true",
               "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                              "clientProvidedHostHeader": "cloudtrail.us-east-1.amazonaws.com"}}
    fact = {"kind": "trail_change", "time": renderer.time(second), "account_id": acct, "region": "us-east-1",
            "event_name": event_name, "trail": trail, "success": error is None, "event_id": event_id}
    return second, renderer.record(second, fields), fact if record_fact else None


@dataclass
class DayPlan:
    """What one day adds on purpose: events by scope label, exceptions approved, logging pauses."""

    events: dict[str, list[Event]]
    approvals: list[tuple[str, str, str, int, int]] = field(default_factory=list)
    stopped: list[tuple[int, int]] = field(default_factory=list)


def _planted(company: Company, renderer: Renderer, offset: int) -> DayPlan:
    inc = company.incidents
    rng = renderer.rng
    plan = DayPlan({s.label: [] for s in company.scopes})
    security = company.scope(f"security/{aws_org.HOME_REGION}")
    admin = company.iam_users[0][0]

    def approve(control_id: str, entity: str, reason: str, first: int, last: int) -> None:
        plan.approvals.append((control_id, entity, reason, first, last))

    # root activity (entity: the account's root user) ------------------------------------
    root_plan = {inc.root_fail: "prod", inc.root_excepted[0]: "security", inc.root_excepted[1]: "prod",
                 inc.root_expired[0]: "staging", inc.root_expired[1]: "staging"}
    root_plan.pop(None, None)
    if offset in root_plan:
        scope = company.scope(f"{root_plan[offset]}/{aws_org.HOME_REGION}")
        plan.events[scope.label] += _root_session(company, renderer, scope, rng.randrange(10 * 3600, 16 * 3600))
        arn = root_arn(scope.account_id)
        if offset == inc.root_excepted[0]:
            approve("iam_aws_root_activity", arn, "Break-glass: root sign-in to replace the root MFA device, "
                    "witnessed by two administrators", offset, offset + 1)
        elif offset == inc.root_excepted[1]:
            approve("iam_aws_root_activity", arn, "Break-glass: root sign-in to close an account-level support "
                    "case only root can open", offset, offset)
        elif offset == inc.root_expired[0]:
            approve("iam_aws_root_activity", arn, "Break-glass: root sign-in to update the billing contact",
                    offset, offset + 1)
    # IAM users signing in to the console without MFA (entity: the user) ----------------
    users = company.iam_users
    mfa_plan = {inc.mfa_fail: 1, inc.mfa_excepted[0]: 2, inc.mfa_excepted[1]: 3, inc.mfa_expired[0]: 4,
                inc.mfa_expired[1]: 4, inc.late_file: 0}
    mfa_plan.pop(None, None)
    if offset in mfa_plan:
        user = users[mfa_plan[offset] % len(users)]
        second = 21 * 3600 + 300 if offset == inc.late_file else rng.randrange(9 * 3600, 17 * 3600)
        plan.events[security.label] += _iam_session(company, renderer, security, second, user, mfa=False)
        arn = iam_user_arn(security.account_id, user[1])
        if offset in inc.mfa_excepted:
            approve("iam_aws_console_mfa", arn, "MFA device lost; replacement token shipped, console access "
                    "restricted to read-only meanwhile", offset, offset + 2)
        elif offset == inc.mfa_expired[0]:
            approve("iam_aws_console_mfa", arn, "Virtual MFA being re-registered after a phone replacement",
                    offset, offset + 1)
    if offset == inc.mfa_failed_attempt:  # a failed sign-in without MFA is not a sign-in
        plan.events[security.label] += _iam_session(company, renderer, security, rng.randrange(9 * 3600, 17 * 3600),
                                                    users[5 % len(users)], mfa=False, success=False)
    # trail changes (entity: account/region/action/trail) ---------------------------------
    trail = aws_org.TRAIL_NAME
    acct = security.account_id
    if offset == inc.trail_excepted[0]:
        plan.events[security.label].append(_trail_change(company, renderer, 14 * 3600 + 310, "PutEventSelectors",
                                                         trail, admin))
        approve("mon_cloudtrail_continuity", trail_change_entity(acct, "us-east-1", "PutEventSelectors", trail),
                "CHG-2107: add S3 data events for the exports bucket", offset, offset)
    if offset == inc.trail_excepted[1]:
        plan.events[security.label].append(_trail_change(company, renderer, 15 * 3600 + 125, "UpdateTrail", trail,
                                                         admin))
        approve("mon_cloudtrail_continuity", trail_change_entity(acct, "us-east-1", "UpdateTrail", trail),
                "CHG-2144: enable log file validation on the organisation trail", offset - 1, offset + 1)
    if offset in inc.trail_expired:
        start = 13 * 3600 + 600 if offset == inc.trail_expired[0] else 16 * 3600 + 1200
        plan.events[security.label].append(_trail_change(company, renderer, start, "StopLogging", trail, admin))
        plan.stopped.append((start + 1, start + 420))
        plan.events[security.label].append(_trail_change(company, renderer, start + 420, "StartLogging", trail, admin,
                                                         record_fact=False))
        if offset == inc.trail_expired[0]:
            approve("mon_cloudtrail_continuity", trail_change_entity(acct, "us-east-1", "StopLogging", trail),
                    "CHG-2160: trail bucket policy migration, logging paused for minutes", offset, offset + 1)
    if offset == inc.trail_fail:
        plan.events[security.label].append(_trail_change(company, renderer, 11 * 3600 + 45, "DeleteTrail",
                                                         "debug-trail", admin))
    if offset == inc.trail_denied:
        person = company.people[-1]
        plan.events[security.label].append(_trail_change(
            company, renderer, 12 * 3600 + 17, "StopLogging", trail, person,
            error=("AccessDenied", f"User: arn:aws:sts::{acct}:assumed-role/okta-admin/{person.email} is not "
                                   "authorized to perform: cloudtrail:StopLogging")))
    return plan


# ---------------------------------------------------------------------------------------
# writing log files


@dataclass(frozen=True)
class LogFile:
    scope_label: str
    account_id: str
    region: str
    key: str
    deliver_at: datetime
    sha256: str  # of the uncompressed content, as the digest records it
    oldest: datetime
    newest: datetime
    delivered: bool
    pack: str = ""
    offset: int = 0
    length: int = 0  # in the pack
    size: int = 0  # uncompressed


@dataclass
class DayResult:
    offset: int
    files: list[LogFile] = field(default_factory=list)
    planted: list[dict[str, Any]] = field(default_factory=list)
    faults: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    approvals: list[tuple[str, str, str, int, int]] = field(default_factory=list)
    stopped: list[dict[str, str]] = field(default_factory=list)
    events: int = 0


def _log_key(scope: Scope, deliver_at: datetime, rng: Random) -> str:
    suffix = "".join(rng.choice(_ALNUM) for _ in range(16))
    return (f"AWSLogs/{scope.account_id}/CloudTrail/{scope.region}/{deliver_at:%Y/%m/%d}/"
            f"{scope.account_id}_CloudTrail_{scope.region}_{deliver_at:%Y%m%dT%H%MZ}_{suffix}.json.gz")


def _write_scope_day(company: Company, scope: Scope, renderer: Renderer, offset: int, events: list[Event],
                     pack: Any, pack_name: str, result: DayResult) -> None:
    """Cut a scope-day's records into log files (one per window), compress and pack them."""
    inc = company.incidents
    rng = renderer.rng
    day = renderer.day
    events.sort(key=itemgetter(0))
    window = scope.window_minutes * 60
    faults = {("prod/us-east-1", inc.missing_file_midnight, 86400 - window): "missing",  # digested the next day
              ("staging/us-east-1", inc.missing_file_midday, 14 * 3600): "missing",
              ("security/us-east-1", inc.late_file, 21 * 3600): "late",  # after the next day's run
              ("prod/us-east-1", inc.duplicate_file, 10 * 3600): "duplicate"}
    index, total = 0, len(events)
    while index < total:
        slot = events[index][0] // window
        end = index
        while end < total and events[end][0] // window == slot:
            end += 1
        batch = events[index:end]
        index = end
        body = ('{"Records":[' + ",".join(e[1] for e in batch) + "]}").encode()
        oldest = day + timedelta(seconds=batch[0][0])
        newest = day + timedelta(seconds=batch[-1][0])
        deliver_at = newest + timedelta(minutes=rng.randint(*DELIVERY_DELAY_MINUTES), seconds=rng.randrange(60))
        start = slot * window
        fault = faults.get((scope.label, offset, start))
        if fault == "late":
            deliver_at = day + timedelta(days=1, hours=3, minutes=40)
        key = _log_key(scope, deliver_at, rng)
        digest = hashlib.sha256(body).hexdigest()
        meta = {"key": key, "account_id": scope.account_id, "region": scope.region, "oldest": stamp(oldest),
                "newest": stamp(newest), "deliver_at": stamp(deliver_at)}
        delivered = fault != "missing"
        if delivered:
            data = pack_bytes(body)
            position = pack.tell()
            pack.write(data)
            result.files.append(LogFile(scope.label, scope.account_id, scope.region, key, deliver_at, digest, oldest,
                                        newest, True, pack_name, position, len(data), len(body)))
            if fault == "duplicate":  # the same records delivered again under another name
                again = deliver_at + timedelta(minutes=3)
                copy_key = _log_key(scope, again, rng)
                result.files.append(LogFile(scope.label, scope.account_id, scope.region, copy_key, again, digest,
                                            oldest, newest, True, pack_name, position, len(data), len(body)))
                result.faults.setdefault("duplicate_log_files", []).append({**meta, "copy_key": copy_key})
            elif fault == "late":
                result.faults.setdefault("late_log_files", []).append(meta)
        else:
            result.files.append(LogFile(scope.label, scope.account_id, scope.region, key, deliver_at, digest, oldest,
                                        newest, False))
            result.faults.setdefault("missing_log_files", []).append(meta)
        for _second, _text, fact in batch:
            if fact is not None:
                result.planted.append({**fact, "key": key, "delivered": delivered})


def _generate_days(company: Company, demo_dir: Path, offsets: list[int]) -> list[DayResult]:
    """Generate and pack the log files of some days (independent random streams per day)."""
    spec = company.spec
    objects = Path(demo_dir) / OBJECTS_DIR
    objects.mkdir(parents=True, exist_ok=True)
    results = []
    for offset in offsets:
        day = spec.window_start + timedelta(days=offset)
        renderer = Renderer(rng_for(spec.seed, f"cloudtrail:{day:%Y-%m-%d}"), day)
        result = DayResult(offset)
        humans = _people(company, renderer)
        plan = _planted(company, renderer, offset)
        result.approvals = plan.approvals
        result.stopped = [{"start": renderer.time(a), "end": renderer.time(b)} for a, b in plan.stopped]
        iam = _iam_user_logins(company, renderer)
        pack_name = f"{day:%Y-%m-%d}.bin"
        with open(objects / pack_name, "wb") as pack:
            for scope in company.scopes:
                events = _automation(company, renderer, scope) + _deploys(company, renderer, scope)
                events += humans[scope.label] + plan.events[scope.label]
                if scope.label == f"security/{aws_org.HOME_REGION}":
                    events += iam
                if plan.stopped:  # nothing is logged while the trail is stopped
                    events = [e for e in events if not any(a <= e[0] < b for a, b in plan.stopped)]
                result.events += len(events)
                _write_scope_day(company, scope, renderer, offset, events, pack, pack_name, result)
        results.append(result)
    return results


# ---------------------------------------------------------------------------------------
# digests


def digest_key(account_id: str, region: str, end: datetime) -> str:
    return (f"AWSLogs/{account_id}/CloudTrail-Digest/{region}/{end:%Y/%m/%d}/"
            f"{account_id}_CloudTrail-Digest_{region}_{aws_org.TRAIL_NAME}_{region}_{end:%Y%m%dT%H%M%SZ}.json.gz")


def _write_digests(company: Company, files: list[LogFile], demo_dir: Path,
                   deliveries: list[tuple[str, str, str, int, int]]) -> list[dict[str, Any]]:
    """Hourly digests per scope, chained by hash; returns the digest hours never delivered."""
    spec = company.spec
    bucket = aws_org.log_archive_bucket(spec.seed)
    rng = rng_for(spec.seed, "cloudtrail:digests")
    inc = company.incidents
    by_scope: dict[str, list[LogFile]] = {}
    for log_file in files:
        by_scope.setdefault(log_file.scope_label, []).append(log_file)
    lost_hours = set()
    if inc.missing_digest is not None:
        gap_day = spec.window_start + timedelta(days=inc.missing_digest)
        lost_hours = {("prod/eu-west-1", gap_day + timedelta(hours=9)), ("prod/eu-west-1", gap_day + timedelta(hours=10))}
    missing: list[dict[str, Any]] = []
    pack_name = "digests.bin"
    with open(Path(demo_dir) / OBJECTS_DIR / pack_name, "wb") as pack:
        for scope in company.scopes:
            listed_files = sorted(by_scope.get(scope.label, []), key=lambda f: (f.deliver_at, f.key))
            fingerprint = rng.randbytes(16).hex()
            previous: tuple[str, str, str] | None = None  # key, sha256, signature
            cursor = 0
            for hour in range(spec.days * 24 + 2):  # the hour after the window lists its last files
                start = spec.window_start + timedelta(hours=hour)
                end = start + timedelta(hours=1)
                listed = []
                while cursor < len(listed_files) and listed_files[cursor].deliver_at < end:
                    listed.append(listed_files[cursor])
                    cursor += 1
                key = digest_key(scope.account_id, scope.region, end)
                doc = {
                    "awsAccountId": scope.account_id, "digestStartTime": stamp(start), "digestEndTime": stamp(end),
                    "digestS3Bucket": bucket, "digestS3Object": key, "digestPublicKeyFingerprint": fingerprint,
                    "digestSignatureAlgorithm": "SHA256withRSA",
                    "newestEventTime": stamp(max(f.newest for f in listed)) if listed else None,
                    "oldestEventTime": stamp(min(f.oldest for f in listed)) if listed else None,
                    "previousDigestS3Bucket": bucket if previous else None,
                    "previousDigestS3Object": previous[0] if previous else None,
                    "previousDigestHashValue": previous[1] if previous else None,
                    "previousDigestHashAlgorithm": "SHA-256" if previous else None,
                    "previousDigestSignature": previous[2] if previous else None,
                    "logFiles": [{"s3Bucket": bucket, "s3Object": f.key, "hashValue": f.sha256,
                                  "hashAlgorithm": "SHA-256", "newestEventTime": stamp(f.newest),
                                  "oldestEventTime": stamp(f.oldest)} for f in listed],
                }
                body = json.dumps(doc, separators=(",", ":")).encode()
                previous = (key, hashlib.sha256(body).hexdigest(), rng.randbytes(256).hex())
                deliver_at = end + timedelta(minutes=rng.randint(*DIGEST_DELAY_MINUTES), seconds=rng.randrange(60))
                if (scope.label, start) in lost_hours:  # written (the next one chains to it), never delivered
                    missing.append({"account_id": scope.account_id, "region": scope.region, "start": stamp(start),
                                    "key": key})
                    continue
                data = pack_bytes(body)
                deliveries.append((stamp(deliver_at), key, pack_name, pack.tell(), len(data), len(body)))
                pack.write(data)
    return missing


# ---------------------------------------------------------------------------------------


def _chunks(days: int, parts: int) -> list[list[int]]:
    size = max(1, -(-days // parts))
    return [list(range(start, min(days, start + size))) for start in range(0, days, size)]


def generate(ctx: WorldContext) -> None:
    spec = ctx.spec
    company = _company(spec, ctx.people)
    root = ctx.demo_dir / ROOT_DIR
    (root / "objects").mkdir(parents=True, exist_ok=True)
    results = None
    workers = min(2, os.cpu_count() or 1)
    if workers > 1 and spec.days * company.volume >= 20:  # days are independent: two processes
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        chunks = _chunks(spec.days, 12)
        try:
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
                results = [r for part in pool.map(_generate_days, [company] * len(chunks),
                                                  [ctx.demo_dir] * len(chunks), chunks) for r in part]
        except BrokenProcessPool:  # e.g. a __main__ that cannot be re-imported: same output, one process
            log.warning("cloudtrail: worker processes unavailable; generating in this process")
    if results is None:
        results = _generate_days(company, ctx.demo_dir, list(range(spec.days)))
    files = [f for r in results for f in r.files]
    deliveries = [(stamp(f.deliver_at), f.key, f.pack, f.offset, f.length, f.size) for f in files if f.delivered]
    missing_digests = _write_digests(company, files, ctx.demo_dir, deliveries)
    deliveries.sort()
    (root / "deliveries.tsv").write_text("".join("\t".join(map(str, d)) + "\n" for d in deliveries))
    for result in results:
        for control_id, entity, reason, first, last in result.approvals:
            ctx.seeds.add_exception(control_id, entity, reason, spec.window_start + timedelta(days=first),
                                    spec.window_start + timedelta(days=last))
    faults: dict[str, list[dict[str, Any]]] = {"missing_log_files": [], "late_log_files": [], "duplicate_log_files": []}
    for result in results:
        for name, items in result.faults.items():
            faults[name] += items
    write_json(root / "facts.json", {
        "bucket": aws_org.log_archive_bucket(spec.seed),
        "scopes": [{"account_id": s.account_id, "account_name": s.account.name, "region": s.region}
                   for s in company.scopes],
        "events_per_day": {f"{spec.window_start + timedelta(days=r.offset):%Y-%m-%d}": r.events for r in results},
        "planted_events": [p for r in results for p in r.planted],
        "logging_stopped": [s for r in results for s in r.stopped],
        "missing_digests": missing_digests,
        **faults,
    })


# ---------------------------------------------------------------------------------------
# reading the world back (stand-in and oracles)


@dataclass(frozen=True)
class Delivery:
    deliver_at: str  # ISO, sorts in time order
    key: str
    pack: str
    offset: int
    length: int  # in the pack
    size: int  # uncompressed


def load_deliveries(demo_dir: Path) -> list[Delivery]:
    """Every object that reaches the bucket, by delivery time."""
    path = Path(demo_dir) / DELIVERIES_FILE
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        at, key, pack, offset, length, size = line.split("\t")
        out.append(Delivery(at, key, pack, int(offset), int(length), int(size)))
    return out


def read_content(demo_dir: Path, delivery: Delivery) -> bytes:
    """The object's uncompressed content (the JSON CloudTrail wrote)."""
    with open(Path(demo_dir) / OBJECTS_DIR / delivery.pack, "rb") as pack:
        pack.seek(delivery.offset)
        data = pack.read(delivery.length)
    return _pack_codec().decompress(data, decompressed_size=delivery.size, asbytes=True)


def read_object(demo_dir: Path, delivery: Delivery) -> bytes:
    """The object exactly as delivered to the bucket: its content, gzip-compressed."""
    return gzip_bytes(read_content(demo_dir, delivery))


def load_facts(demo_dir: Path) -> dict[str, Any]:
    return json.loads((Path(demo_dir) / FACTS_FILE).read_text())
