"""Evaluation records built in tests, shaped like real ones (format 2)."""

from __future__ import annotations

from ccm.constants import Frequency, Status
from ccm.evidence.record import (
    CodeVersion,
    ControlRef,
    EvaluationRecord,
    Inputs,
    PopulationArtifact,
    RunRef,
)
from ccm.periods import Period


def synthetic_record(evaluation_id: str, control: ControlRef, period: Period, status: Status,
                     population: PopulationArtifact | None = None, failing: tuple[str, ...] = (),
                     reason: str | None = None, version: int = 1) -> EvaluationRecord:
    return EvaluationRecord(
        evaluation_id=evaluation_id, control=control, period=period, version=version, status=status,
        reason=reason, population=population, failing_entity_ids=failing, excepted_entity_ids=(),
        exceptions_applied=(), gx=None, inputs=Inputs("f" * 64),
        code=CodeVersion(git_commit="0" * 40, controls_yml_sha256=None, exceptions_yml_sha256=None,
                         dbt_model="pop_" + control.control_id, dbt_model_sha256=None, dbt_compiled_sha256=None,
                         gx_suite="ctl_" + control.control_id, gx_suite_sha256=None),
        run=RunRef("ccm_controls", f"scheduled__{period.end.isoformat()}", 1, "evaluate",
                   period.end.isoformat(), period.end.isoformat()),
    )


PR_REVIEW = ControlRef("chg_pr_review", "Pull requests are reviewed", ("CC8.1",), Frequency.MONTHLY, "Engineering")


def ed25519_pem_pair() -> tuple[str, str]:
    """A fresh Ed25519 key pair as (private PKCS#8 PEM, public SubjectPublicKeyInfo PEM)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
    )

    key = Ed25519PrivateKey.generate()
    return (key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode(),
            key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode())
