"""AWS stand-in: a moto server on loopback, reached through boto3 exactly like AWS.

The pipeline's `aws_default` connection carries the endpoint, region, the accounts to
audit (each through the `ccm-audit` role, which moto honours across accounts via STS)
and the organisation trail's bucket.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ccm.demo.spec import DemoSpec
from ccm.demo.world import aws_org

ACCESS_KEY = "AKIADEMOSTANDIN00001"
SECRET_KEY = "demo-aws-secret-key-000000000000000000000"


class AwsStandin:
    name = "aws"
    conn_id = "aws_default"

    def __init__(self, demo_dir: Path, port: int = 0) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.spec = DemoSpec.load(demo_dir)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)

    @property
    def url(self) -> str:
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def start(self) -> AwsStandin:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def connection_env(self) -> dict[str, str]:
        extra = {
            "endpoint_url": self.url,
            "region_name": aws_org.HOME_REGION,
            "accounts": [{"account_id": a.account_id, "name": a.name, "role_arn": a.audit_role_arn,
                          "regions": list(a.regions)} for a in aws_org.accounts(self.spec.seed)],
            "cloudtrail_bucket": aws_org.log_archive_bucket(self.spec.seed),
        }
        document = {"conn_type": "aws", "login": ACCESS_KEY, "password": SECRET_KEY, "extra": extra}
        return {"AIRFLOW_CONN_AWS_DEFAULT": json.dumps(document)}


def start(demo_dir: Path, clock_file: Path, port: int = 0) -> AwsStandin:
    return AwsStandin(demo_dir, port).start()
