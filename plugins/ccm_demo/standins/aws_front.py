"""The AWS stand-in's front door: a WSGI layer in front of moto.

It passes every request to moto except where moto cannot give the pipeline what AWS
would, and says so:
- **outages** planted in the world: while one is on (simulated clock), the control-plane
  APIs the audit reads (IAM, EC2, RDS, KMS, CloudTrail, GuardDuty, Backup, S3 Control and
  S3 bucket configuration) answer 503 `ServiceUnavailable` in each protocol's error
  shape; STS and S3 object reads/writes stay up, like a real control-plane incident;
- **faults** injected by tests (`POST /_standin/faults`): throttling or errors for a
  service/operation, N times, optionally after K successes;
- **GetCredentialReport**: moto's report has wall-clock dates, no `<root_account>` row and
  a fixed GeneratedTime; the front takes moto's rows (who exists, password, MFA, key
  status) and fills in what moto cannot know from the world at the simulated moment
  (creation, rotation and last-use dates, the root user), following AWS's documented
  format and sentinels;
- **GetAccountSummary**: `AccountMFAEnabled` / `AccountAccessKeysPresent` describe the
  root user, which moto does not model; they are set from the world;
- **AWS Backup ListBackupJobs** (moto has no backup jobs): rendered from the world;
- **wall-clock times** moto stamps into answers (CloudTrail `GetTrailStatus` delivery and
  logging times, RDS `LatestRestorableTime`) are set from the simulated clock and the
  world's trail timeline, so that observing the same simulated moment twice gives the
  same bytes, as it would in AWS.
The caller's account is known from the STS AssumeRole responses the front relays.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from ccm_demo.world import aws as world
from ccm_demo.world.aws import AwsWorld
from ccm_demo.world.common import parse

QUERY_PROTOCOL = {"iam", "sts", "ec2", "rds"}
JSON_PROTOCOL = {"kms", "cloudtrail", "config"}
REST_JSON_PROTOCOL = {"guardduty", "backup"}
# an outage takes these down; sts and s3 object operations stay up
CONTROL_PLANE = {"iam", "ec2", "rds", "kms", "cloudtrail", "guardduty", "config", "backup", "s3control"}
S3_BUCKET_CONFIGURATION = {"encryption": "GetBucketEncryption", "publicAccessBlock": "GetPublicAccessBlock",
                           "versioning": "GetBucketVersioning", "tagging": "GetBucketTagging",
                           "location": "GetBucketLocation", "policyStatus": "GetBucketPolicyStatus"}
_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
ISO = "%Y-%m-%dT%H:%M:%S+00:00"  # the credential report's timestamp format


@dataclass
class Fault:
    service: str
    operation: str
    status: int
    code: str
    count: int
    after: int = 0
    message: str = "injected fault"


@dataclass(frozen=True)
class Call:
    service: str
    region: str
    access_key: str
    operation: str
    method: str
    path: str


class Front:
    def __init__(self, app: Callable, aws_world: AwsWorld, reconciler: Any, now: Callable[[], datetime],
                 outage: Callable[[datetime], bool], admin: Callable[[str, dict[str, Any]], Any]) -> None:
        self.app, self.world, self.reconciler = app, aws_world, reconciler
        self.now, self.outage, self.admin = now, outage, admin
        self.accounts_by_key: dict[str, str] = {}  # temporary access key -> account (from AssumeRole)
        self.faults: list[Fault] = []
        # (account, service, operation, status) of recent calls, for tests and debugging
        self.request_log: deque[tuple[str, str, str, int]] = deque(maxlen=10_000)
        self._lock = threading.Lock()

    # WSGI -------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_standin/"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
            try:
                result = self.admin(path.removeprefix("/_standin/"), body)
            except Exception as exc:  # loud: the demo must not continue on a broken world
                return _respond(start_response, 500, {"Content-Type": "application/json"},
                                json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode())
            return _respond(start_response, 200, {"Content-Type": "application/json"},
                            json.dumps(result, default=str).encode())
        call = self._describe(environ)
        account = self.accounts_by_key.get(call.access_key, "")
        audited = call.service in CONTROL_PLANE or (call.service == "s3" and bool(call.operation))
        if audited and self.outage(self.now()):
            self._log(account, call, 503)
            return self._error(start_response, call, 503, "ServiceUnavailable",
                               "Service is unavailable. Please try again later.")
        fault = self._take_fault(call)
        if fault is not None:
            self._log(account, call, fault.status)
            return self._error(start_response, call, fault.status, fault.code, fault.message)
        self._log(account, call, 200)  # relayed (to moto, or answered from the world)
        if call.service == "sts" and call.operation == "AssumeRole":
            return self._assume_role(environ, start_response)
        if account in {a.account_id for a in self.world.accounts}:
            if call.service == "iam" and call.operation == "GetCredentialReport":
                return self._credential_report(environ, start_response, account)
            if call.service == "iam" and call.operation == "GetAccountSummary":
                return self._account_summary(environ, start_response, account)
            if call.service == "backup" and call.operation == "ListBackupJobs":
                return self._list_backup_jobs(environ, start_response, account, call.region)
            if call.service == "cloudtrail" and call.operation == "GetTrailStatus":
                return self._trail_status(environ, start_response, account)
            if call.service == "rds" and call.operation == "DescribeDBInstances":
                return self._db_instances(environ, start_response)
        return self.app(environ, start_response)

    def _log(self, account: str, call: Call, status: int) -> None:
        with self._lock:
            self.request_log.append((account, call.service, call.operation, status))

    def _describe(self, environ: dict[str, Any]) -> Call:
        match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        access_key, region, service = match.groups() if match else ("", "", "")
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "")
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        operation = ""
        if service in QUERY_PROTOCOL:
            operation = (query.get("Action") or [""])[0]
            if not operation and method == "POST":
                body = _read_body(environ)
                operation = (parse_qs(body.decode("utf-8", "replace")).get("Action") or [""])[0]
        elif service in JSON_PROTOCOL:
            operation = environ.get("HTTP_X_AMZ_TARGET", "").rsplit(".", 1)[-1]
        elif service == "backup" and method == "GET" and path.rstrip("/") == "/backup-jobs":
            operation = "ListBackupJobs"
        elif service == "guardduty" and method == "GET" and path.startswith("/detector"):
            operation = "ListDetectors" if path.rstrip("/") == "/detector" else "GetDetector"
        elif service == "s3" and path.startswith("/v20180820/"):
            service, operation = "s3control", f"{method.title()}PublicAccessBlock"
        elif service == "s3" and method == "GET":
            if path in ("", "/"):
                operation = "ListBuckets"
            elif path.strip("/").count("/") == 0:
                operation = next((op for sub, op in S3_BUCKET_CONFIGURATION.items() if sub in query), "")
        return Call(service, region, access_key, operation, method, path)

    # faults -----------------------------------------------------------------------------
    def inject(self, spec: dict[str, Any]) -> None:
        with self._lock:
            if spec.get("clear"):
                self.faults.clear()
                return
            self.faults.append(Fault(service=spec["service"], operation=spec.get("operation", ""),
                                     status=int(spec.get("status", 400)), code=spec.get("code", "Throttling"),
                                     count=int(spec.get("count", 1)), after=int(spec.get("after", 0)),
                                     message=spec.get("message", "Rate exceeded")))

    def _take_fault(self, call: Call) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.count <= 0 or fault.service != call.service:
                    continue
                if fault.operation and fault.operation != call.operation:
                    continue
                if fault.after > 0:
                    fault.after -= 1
                    return None
                fault.count -= 1
                return fault
        return None

    def _error(self, start_response: Callable, call: Call, status: int, code: str, message: str) -> Iterable[bytes]:
        """The error in the shape the service's protocol uses, so botocore parses it as AWS's."""
        request_id = str(uuid.uuid4())
        headers = {"x-amzn-RequestId": request_id}
        if call.service in JSON_PROTOCOL | REST_JSON_PROTOCOL:
            json_code = code if code.endswith("Exception") else f"{code}Exception"
            headers |= {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": json_code}
            body = json.dumps({"__type": json_code, "message": message}).encode()
        elif call.service == "ec2":
            headers["Content-Type"] = "text/xml"
            body = (f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
                    f"<RequestID>{request_id}</RequestID></Response>").encode()
        elif call.service in ("s3", "s3control"):
            headers["Content-Type"] = "application/xml"
            body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}"
                    f"</Message><RequestId>{request_id}</RequestId></Error>").encode()
        else:
            headers["Content-Type"] = "text/xml"
            kind = "Receiver" if status >= 500 else "Sender"
            body = (f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message>"
                    f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>").encode()
        return _respond(start_response, status, headers, body)

    # relayed calls ------------------------------------------------------------------------
    def _forward(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        chunks = self.app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        return captured["status"], captured["headers"], body

    def _assume_role(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        params = parse_qs(_read_body(environ).decode("utf-8", "replace"))
        role_arn = (params.get("RoleArn") or [""])[0]
        status, headers, body = self._forward(environ)
        key = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>", body)
        account = re.match(r"arn:aws:iam::(\d{12}):role/", role_arn)
        if status.startswith("200") and key and account:
            with self._lock:
                self.accounts_by_key[key.group(1).decode()] = account.group(1)
        start_response(status, headers)
        return [body]

    def _account_summary(self, environ: dict[str, Any], start_response: Callable, account: str) -> Iterable[bytes]:
        status, headers, body = self._forward(environ)
        if status.startswith("200"):
            root = self.world.state(self.world.root_of(account), self.now()) or {}
            values = {"AccountMFAEnabled": int(bool(root.get("mfa"))),
                      "AccountAccessKeysPresent": int(bool(root.get("access_key")))}
            for name, value in values.items():
                body = re.sub(rf"(<key>{name}</key>\s*<value>)\d+(</value>)".encode(),
                              rb"\g<1>" + str(value).encode() + rb"\g<2>", body)
        return _respond(start_response, int(status.split()[0]), dict(headers), body)

    def _trail_status(self, environ: dict[str, Any], start_response: Callable, account: str) -> Iterable[bytes]:
        name = str(json.loads(_read_body(environ) or b"{}").get("Name", "")).rsplit("/", 1)[-1]
        status, headers, body = self._forward(environ)
        if not status.startswith("200"):
            start_response(status, headers)
            return [body]
        doc = json.loads(body)
        trail = next((t for t in self.world.resources(world.TRAIL)
                      if t["account_id"] == account and t["name"] == name), None)
        if trail is not None:
            doc = trail_status_times(doc, self.world.timeline(trail), self.now())
        return _respond(start_response, 200, dict(headers), json.dumps(doc).encode())

    def _db_instances(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        """RDS restores to within the last five minutes; moto says "now" by the wall clock."""
        status, headers, body = self._forward(environ)
        restorable = (self.now() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        body = re.sub(rb"<LatestRestorableTime>[^<]*</LatestRestorableTime>",
                      f"<LatestRestorableTime>{restorable}</LatestRestorableTime>".encode(), body)
        return _respond(start_response, int(status.split()[0]), dict(headers), body)

    def _credential_report(self, environ: dict[str, Any], start_response: Callable,
                           account: str) -> Iterable[bytes]:
        status, headers, body = self._forward(environ)
        if not status.startswith("200"):
            start_response(status, headers)
            return [body]
        content = re.search(rb"<Content>([^<]*)</Content>", body)
        now = self.now()
        with self.reconciler.lock:
            report = credential_report(self.world, self.reconciler, account,
                                       base64.b64decode(content.group(1)).decode(), now)
        encoded = base64.b64encode(report.encode()).decode()
        xml = ('<GetCredentialReportResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
               f"<GetCredentialReportResult><Content>{encoded}</Content><ReportFormat>text/csv</ReportFormat>"
               f"<GeneratedTime>{now.strftime('%Y-%m-%dT%H:%M:%SZ')}</GeneratedTime></GetCredentialReportResult>"
               f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
               "</GetCredentialReportResponse>")
        return _respond(start_response, 200, {"Content-Type": "text/xml"}, xml.encode())

    def _list_backup_jobs(self, environ: dict[str, Any], start_response: Callable, account: str,
                          region: str) -> Iterable[bytes]:
        """GET /backup-jobs/ with ByCreatedAfter / ByCreatedBefore, maxResults / nextToken."""
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        now = self.now()
        after = _rest_time(query.get("createdAfter")) or datetime.min.replace(tzinfo=now.tzinfo)
        before = _rest_time(query.get("createdBefore")) or now
        jobs = self.world.backup_jobs(account, region, after, min(before, now), now)
        if query.get("state"):
            jobs = [j for j in jobs if j["State"] == query["state"]]
        if query.get("resourceArn"):
            jobs = [j for j in jobs if j["ResourceArn"] == query["resourceArn"]]
        size = max(1, min(1000, int(query.get("maxResults") or 1000)))
        offset = int(query.get("nextToken") or 0)
        page = {"BackupJobs": jobs[offset:offset + size]}
        if offset + size < len(jobs):
            page["NextToken"] = str(offset + size)
        return _respond(start_response, 200, {"Content-Type": "application/json"}, json.dumps(page).encode())


def trail_status_times(doc: dict[str, Any], timeline: list[tuple[datetime, dict[str, Any] | None]],
                       now: datetime) -> dict[str, Any]:
    """GetTrailStatus with the times AWS would give at `now`: logging started and stopped
    when the trail's timeline says, logs delivered up to now while it logs."""
    starts, stops, logging = [], [], False
    for at, state in timeline:
        if at > now:
            break
        current = bool(state and state.get("logging"))
        if current != logging:
            (starts if current else stops).append(at)
        logging = current
    doc = {k: v for k, v in doc.items() if k not in ("StartLoggingTime", "StopLoggingTime", "LatestDeliveryTime")}
    doc |= {"TimeLoggingStarted": "", "TimeLoggingStopped": "", "LatestDeliveryAttemptTime": ""}
    if starts:
        doc |= {"StartLoggingTime": int(starts[-1].timestamp()), "TimeLoggingStarted": _iso_z(starts[-1])}
    if stops:
        doc |= {"StopLoggingTime": int(stops[-1].timestamp()), "TimeLoggingStopped": _iso_z(stops[-1])}
    delivered = now if logging else (stops[-1] if stops else None)
    if delivered is not None and starts:
        doc |= {"LatestDeliveryTime": int(delivered.timestamp()), "LatestDeliveryAttemptTime": _iso_z(delivered)}
    return doc


def _iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rest_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except ValueError:
        return parse(value)


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body once and put it back for moto."""
    if "ccm.body" not in environ:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["ccm.body"] = body
    else:
        environ["wsgi.input"] = io.BytesIO(environ["ccm.body"])
    return environ["ccm.body"]


def _respond(start_response: Callable, status: int, headers: dict[str, str], body: bytes) -> list[bytes]:
    reasons = {200: "OK", 400: "Bad Request", 403: "Forbidden", 429: "Too Many Requests", 500: "Internal Server Error",
               503: "Service Unavailable"}
    clean = [(k, v) for k, v in headers.items() if k.lower() != "content-length"]
    start_response(f"{status} {reasons.get(status, 'Error')}", [*clean, ("Content-Length", str(len(body)))])
    return [body]


# the credential report ------------------------------------------------------------------

def _when(moment: datetime | None, otherwise: str) -> str:
    return moment.strftime(ISO) if moment is not None else otherwise


def credential_report(aws_world: AwsWorld, reconciler: Any, account: str, moto_csv: str, now: datetime) -> str:
    """moto's report with the fields only the world knows, in AWS's documented format.

    Rows are moto's: which users exist, `password_enabled`, `mfa_active` and the access
    keys' `active` flags. Dates and last use come from the world; the `<root_account>`
    row is added first, as AWS does. Columns keep moto's header spelling.
    """
    reader = csv.DictReader(io.StringIO(moto_csv))
    header = list(reader.fieldnames or [])
    rows = []
    users = {r["name"]: r for r in aws_world.resources(world.USER) if r["account_id"] == account}
    keys = {r["key"]: r for r in aws_world.resources(world.ACCESS_KEY) if r["account_id"] == account}
    policy = aws_world.state(aws_world.password_policy_of(account), now) or {}
    for row in reader:
        record = {name.lower(): value for name, value in row.items()}
        user = users.get(record["user"])
        if user is not None:
            _fill_user(aws_world, reconciler, account, user, keys, policy, record, now)
        rows.append(record)
    rows.insert(0, _root_row(aws_world, account, now))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for record in rows:
        writer.writerow([record.get(name.lower(), "N/A") for name in header])
    return out.getvalue()


def _fill_user(aws_world: AwsWorld, reconciler: Any, account: str, user: dict[str, Any],
               keys: dict[str, dict[str, Any]], policy: dict[str, Any], record: dict[str, str],
               now: datetime) -> None:
    record["user_creation_time"] = parse(user["timeline"][0][0]).strftime(ISO)
    if record["password_enabled"] == "true":
        changed = aws_world.password_last_changed(user, now)
        record["password_last_used"] = _when(aws_world.password_last_used(user, now), "no_information")
        record["password_last_changed"] = _when(changed, "N/A")
        max_age = policy.get("MaxPasswordAge")
        record["password_next_rotation"] = (_when(changed + timedelta(days=max_age), "N/A")
                                            if changed and max_age else "N/A")
    else:
        record["password_last_used"] = record["password_last_changed"] = record["password_next_rotation"] = "N/A"
    slots = reconciler.key_slots.get((account, user["name"]), [])
    present = sum(1 for n in (1, 2) if record.get(f"access_key_{n}_last_rotated", "N/A") != "N/A")
    if present != len(slots):
        raise RuntimeError(f"aws stand-in: moto lists {present} access keys for {user['name']} in {account}, "
                           f"the reconciler applied {len(slots)}")
    for number in (1, 2):
        prefix = f"access_key_{number}_"
        if number > len(slots):
            record |= {prefix + "last_rotated": "N/A", prefix + "last_used_date": "N/A",
                       prefix + "last_used_region": "N/A", prefix + "last_used_service": "N/A"}
            continue
        key = keys[slots[number - 1]]
        used = aws_world.key_last_used(key, now)
        record[prefix + "last_rotated"] = parse(key["static"]["created"]).strftime(ISO)
        record[prefix + "last_used_date"] = _when(used, "N/A")
        record[prefix + "last_used_region"] = key["static"]["use_region"] if used else "N/A"
        record[prefix + "last_used_service"] = key["static"]["use_service"] if used else "N/A"


def _root_row(aws_world: AwsWorld, account: str, now: datetime) -> dict[str, str]:
    root = aws_world.root_of(account)
    state = aws_world.state(root, now) or {"mfa": False, "access_key": None}
    key = state.get("access_key")
    last_used = root["static"].get("password_last_used")
    row = {
        "user": "<root_account>", "arn": f"arn:aws:iam::{account}:root",
        "user_creation_time": parse(root["timeline"][0][0]).strftime(ISO),
        "password_enabled": "not_supported",
        "password_last_used": parse(last_used).strftime(ISO) if last_used else "no_information",
        "password_last_changed": "not_supported", "password_next_rotation": "not_supported",
        "mfa_active": "true" if state.get("mfa") else "false",
        "access_key_1_active": "true" if key else "false",
        "access_key_1_last_rotated": parse(key["created"]).strftime(ISO) if key else "N/A",
        "access_key_1_last_used_date": "N/A", "access_key_1_last_used_region": "N/A",
        "access_key_1_last_used_service": "N/A",
        "access_key_2_active": "false", "access_key_2_last_rotated": "N/A", "access_key_2_last_used_date": "N/A",
        "access_key_2_last_used_region": "N/A", "access_key_2_last_used_service": "N/A",
        "cert_1_active": "false", "cert_1_last_rotated": "N/A", "cert_2_active": "false", "cert_2_last_rotated": "N/A",
    }
    return row
