"""AWS stand-in: moto on loopback, reached through boto3 exactly like AWS.

Two listeners share one in-process moto:
- the public endpoint (the pipeline's `aws_default` connection) goes through
  `aws_front.Front`: planted outages, injected faults, and the few answers moto cannot
  give (credential report dates and root row, root fields of the account summary, AWS
  Backup jobs), filled in from the world;
- a private endpoint used only by the stand-in's own reconciler, which applies the world
  at the simulated moment to moto through boto3 (`aws_reconcile`).

`advance_to(demo_dir, moment, env)` runs in whatever process moves the clock (the demo
runner, an Airflow task): it asks the running stand-in, over its admin path
`POST /_standin/advance`, to reconcile. The reconciler lives in the stand-in's process
because only it knows which access key id AWS (moto) gave each of the world's keys.

The connection carries the endpoint, region, the accounts to audit (each through the
`ccm-audit` role, which moto honours across accounts via STS) and the organisation
trail's bucket.

moto is patched where the stand-in starts it (`aws_moto.patch_moto`) so that a request
costs the same however long the demo has run; no answer changes.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from ccm import clock as ccm_clock
from ccm_demo.spec import DemoSpec
from ccm_demo.world import aws_org
from ccm_demo.world.aws import AwsWorld

ACCESS_KEY = "AKIADEMOSTANDIN00001"
SECRET_KEY = "demo-aws-secret-key-000000000000000000000"
CONN_ENV = "AIRFLOW_CONN_AWS_DEFAULT"


class AwsStandin:
    name = "aws"  # also the source name its outages are planted under
    conn_id = "aws_default"

    def __init__(self, demo_dir: Path, clock_file: Path | None = None, port: int = 0) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.demo_dir = Path(demo_dir)
        self.spec = DemoSpec.load(demo_dir)
        self.clock_file = Path(clock_file) if clock_file else None
        self.world = AwsWorld.load(demo_dir)
        self._outages = [(ccm_clock.read_iso(o["start"]), ccm_clock.read_iso(o["end"]))
                         for o in json.loads((self.demo_dir / "world" / "outages.json").read_text())
                         if o["source"] == self.name]
        self._port = port
        self._servers: list[Any] = []
        self._threads: list[threading.Thread] = []
        self.front: Any = None
        self.reconciler: Any = None

    # lifecycle ---------------------------------------------------------------------------
    def start(self) -> AwsStandin:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        from ccm_demo.standins.aws_front import Front
        from ccm_demo.standins.aws_moto import patch_moto
        from ccm_demo.standins.aws_reconcile import Reconciler

        patch_moto()
        app = DomainDispatcherApplication(create_backend_app)
        internal = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
        self._serve(internal)
        internal_url = _url(internal)
        # moto keeps its state per process: start from an empty AWS, whose IAM knows AWS's
        # managed policies (AdministratorAccess, ...) as real IAM does; the company runs no
        # EC2 instances, so moto's catalogue of public AMIs (slow to load per region) is skipped
        os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
        os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
        _post(f"{internal_url}/moto-api/reset", {})
        self.reconciler = Reconciler(self.world, internal_url)
        self.front = Front(app, self.world, self.reconciler, self.now, self.outage, self._admin)
        public = make_server("127.0.0.1", self._port, self.front, threaded=True, request_handler=MotoRequestHandler)
        self._serve(public)
        return self

    def _serve(self, server: Any) -> None:
        thread = threading.Thread(target=server.serve_forever, name=f"aws-standin-{len(self._servers)}", daemon=True)
        thread.start()
        self._servers.append(server)
        self._threads.append(thread)

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=10)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> AwsStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return _url(self._servers[-1])

    # the simulated clock and the world's outages ----------------------------------------
    def now(self) -> datetime:
        if self.clock_file and self.clock_file.exists():
            return ccm_clock.read_clock_file(self.clock_file)
        return ccm_clock.now()

    def outage(self, moment: datetime) -> bool:
        return any(start <= moment < end for start, end in self._outages)

    # admin path (never called by extract code) --------------------------------------------
    def _admin(self, action: str, body: dict[str, Any]) -> Any:
        if action == "advance":
            return self.advance(ccm_clock.read_iso(body["moment"]))
        if action == "faults":
            self.front.inject(body)
            return {"faults": len(self.front.faults)}
        raise ValueError(f"unknown admin action {action!r}")

    def advance(self, moment: datetime) -> dict[str, int]:
        """Reconcile moto to the world at `moment` (in this process)."""
        return self.reconciler.advance(moment)

    def inject(self, **spec: Any) -> None:
        """A fault for the next matching calls: service, operation, status, code, count, after."""
        self.front.inject(spec)

    def clear_faults(self) -> None:
        self.front.inject({"clear": True})

    def connection_env(self) -> dict[str, str]:
        extra = {
            "endpoint_url": self.url,
            "region_name": aws_org.HOME_REGION,
            "accounts": [{"account_id": a.account_id, "name": a.name, "role_arn": a.audit_role_arn,
                          "regions": list(a.regions)} for a in aws_org.accounts(self.spec.seed)],
            "cloudtrail_bucket": aws_org.log_archive_bucket(self.spec.seed),
        }
        document = {"conn_type": "aws", "login": ACCESS_KEY, "password": SECRET_KEY, "extra": extra}
        return {CONN_ENV: json.dumps(document)}


def _url(server: Any) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"


def _post(url: str, body: dict[str, Any], timeout: float = 600) -> Any:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        data = response.read()
    return json.loads(data) if data else None


def start(demo_dir: Path, clock_file: Path, port: int = 0) -> AwsStandin:
    return AwsStandin(demo_dir, clock_file, port).start()


def advance_to(demo_dir: Path, moment: datetime, env: dict[str, str]) -> None:
    """Ask the running AWS stand-in (named by the aws_default connection) to reconcile moto
    to the world at `moment`. Without an aws_default connection there is nothing to drive."""
    value = env.get(CONN_ENV)
    if not value:
        return
    try:
        endpoint = json.loads(value)["extra"]["endpoint_url"].rstrip("/")
    except (ValueError, KeyError, TypeError):
        raise RuntimeError(f"aws stand-in: {CONN_ENV} has no extra.endpoint_url; cannot advance the AWS world") from None
    try:
        _post(f"{endpoint}/_standin/advance", {"moment": moment.isoformat()})
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:2000]
        raise RuntimeError(f"aws stand-in at {endpoint}: advancing to {moment.isoformat()} failed: {detail}") from None
    except OSError as exc:
        raise RuntimeError(f"aws stand-in at {endpoint}: cannot advance to {moment.isoformat()}: {exc}") from None
