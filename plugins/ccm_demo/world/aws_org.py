"""The demo company's AWS organisation: accounts, regions, the organisation trail's bucket.

Shared by the AWS world modules (resources, CloudTrail activity) and the AWS stand-in, so
they agree on account ids and names without depending on each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from ccm_demo.world.common import rng_for

AUDIT_ROLE = "ccm-audit"  # assumed in every account by the extract (read-only audit role)
TRAIL_NAME = "org-trail"  # organisation trail, logging every account into the log archive
HOME_REGION = "us-east-1"


@dataclass(frozen=True)
class Account:
    account_id: str
    name: str  # prod | staging | security
    regions: tuple[str, ...]  # regions the company is active in (GuardDuty must be on in each)

    @property
    def audit_role_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:role/{AUDIT_ROLE}"


def accounts(seed: int) -> tuple[Account, ...]:
    """Three accounts with 12-digit ids derived from the seed (stable for a seed)."""
    rng = rng_for(seed, "aws:accounts")
    ids = sorted({f"{rng.randint(10**11, 10**12 - 1)}" for _ in range(3)})
    while len(ids) < 3:  # vanishingly unlikely collision
        ids = sorted({*ids, f"{rng.randint(10**11, 10**12 - 1)}"})
    return (
        Account(ids[0], "prod", ("us-east-1", "eu-west-1")),
        Account(ids[1], "staging", ("us-east-1",)),
        Account(ids[2], "security", ("us-east-1",)),
    )


def log_archive_bucket(seed: int) -> str:
    """The organisation trail's bucket, in the security account."""
    return f"kestrel-cloudtrail-{accounts(seed)[2].account_id}"


def iam_user_name(email: str) -> str:
    """IAM user names follow the email's local part (ada.abbott)."""
    return email.split("@", 1)[0]
