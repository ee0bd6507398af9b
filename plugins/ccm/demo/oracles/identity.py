"""Oracles for the identity and access controls (CC6.1, CC6.2, CC6.3)."""

from __future__ import annotations

from ccm.constants import Frequency
from ccm.demo.oracles import Oracle, WorldView
from ccm.demo.world import okta
from ccm.periods import Period


def okta_mfa(view: WorldView, period: Period) -> list[str] | None:
    observed = view.observed(period)
    if view.source_down("okta", observed):
        return None
    failing = []
    for user in view.load(okta.USERS_FILE):
        status, _ = okta.status_at(user, observed)
        if status not in okta.CAN_SIGN_IN:
            continue
        active = [f for f in okta.factors_at(user, observed)
                  if f["status"] == "ACTIVE" and f["factorType"] != "question"]
        if not active:
            failing.append(user["id"])
    return failing


ORACLES = {
    "iam_okta_mfa": Oracle(Frequency.DAILY, okta_mfa),
}
