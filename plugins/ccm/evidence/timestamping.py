"""RFC 3161 timestamps over ledger digests: an anchor outside the operator's reach.

A signature proves who sealed a digest, not when, and whoever holds the key (or, unsigned,
whoever can write the store) can rewrite the whole history consistently. A time-stamping
authority (TSA) signs "these bytes existed at time T" with its own key. Each seal asks the
configured TSA (`CCM_TSA_URL`) for a token over the SHA-256 of the digest object's stored
bytes and keeps the reply beside it (`ledger/timestamps/<n>.tsr`, written once). Since every
digest holds the SHA-256 of the one before it and the hash of the entries it seals, a token
on digest n fixes digests 1..n and every entry they seal as of the token's time: a history
rewritten after that time no longer matches the token, key or no key.

The verifier trusts the TSA's root certificate(s) it was given (`CCM_TSA_ROOTS`, PEM text or a
path; never taken from the store). A TSA that is down does not stop a seal: the digest is
written, the failure logged, and `ccm evidence timestamp` obtains the missing tokens later
(each then proves only its own, later, time).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from ccm.errors import ConfigError, EvidenceError
from ccm.evidence.store import EvidenceStore

log = logging.getLogger(__name__)

TSA_URL_ENV = "CCM_TSA_URL"
TSA_ROOTS_ENV = "CCM_TSA_ROOTS"
TIMESTAMPS = "ledger/timestamps"
QUERY_TYPE = "application/timestamp-query"


def timestamp_key(digest_seq: int) -> str:
    return f"{TIMESTAMPS}/{digest_seq:06d}.tsr"


def load_roots(value: str) -> tuple[Any, ...]:
    """The trusted TSA root certificates from PEM text or a PEM file (one or more certificates)."""
    from pathlib import Path

    from cryptography import x509

    text = value.strip()
    if text.startswith("-----BEGIN"):
        pem = text.encode()
    else:
        path = Path(text).expanduser()
        if not path.is_file():
            raise ConfigError(f"{TSA_ROOTS_ENV}: {text!r} is neither PEM text nor a readable file")
        pem = path.read_bytes()
    try:
        roots = tuple(x509.load_pem_x509_certificates(pem))
    except ValueError as exc:
        raise ConfigError(f"{TSA_ROOTS_ENV}: not PEM certificates ({exc})") from None
    if not roots:
        raise ConfigError(f"{TSA_ROOTS_ENV}: no certificate in it")
    return roots


def roots_from_env(env: dict[str, str] | None = None) -> tuple[Any, ...]:
    value = (os.environ if env is None else env).get(TSA_ROOTS_ENV)
    return load_roots(value) if value else ()


@dataclass(frozen=True)
class TokenCheck:
    """What one stored token proves: `ok` True (valid under a trusted root), False (a finding),
    None (intact and matching, but no trusted root to check its signature)."""

    ok: bool | None
    detail: str
    gen_time: datetime | None = None
    tsa: str | None = None


def _tsa_name(response: Any) -> str | None:
    from cryptography import x509

    for der in response.signed_data.certificates:
        cert = x509.load_der_x509_certificate(der)
        try:
            usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            continue
        if x509.oid.ExtendedKeyUsageOID.TIME_STAMPING in usage:
            return cert.subject.rfc4514_string()
    return None


def check_token(token: bytes, digest_sha256: str, roots: tuple[Any, ...]) -> TokenCheck:
    """Check a stored TSA reply against the SHA-256 of the digest bytes it claims to timestamp."""
    from rfc3161_client import PKIStatus, VerificationError, VerifierBuilder, decode_timestamp_response

    try:
        response = decode_timestamp_response(token)
        info = response.tst_info
    except (ValueError, TypeError) as exc:
        return TokenCheck(False, f"not an RFC 3161 timestamp reply ({exc}): modified or forged")
    if PKIStatus(response.status) is not PKIStatus.GRANTED:
        return TokenCheck(False, f"the TSA did not grant this timestamp (status {response.status})")
    gen_time, tsa = info.gen_time, _tsa_name(response)
    if info.message_imprint.message.hex() != digest_sha256:
        return TokenCheck(False, "the token timestamps other bytes than this digest: the digest was rewritten "
                          "after it was timestamped, or the token belongs to another digest", gen_time, tsa)
    if not roots:
        return TokenCheck(None, f"matches the digest; its signature was not checked (no {TSA_ROOTS_ENV})",
                          gen_time, tsa)
    try:
        VerifierBuilder(roots=list(roots)).build().verify(response, bytes.fromhex(digest_sha256))
    except VerificationError as exc:
        return TokenCheck(False, f"the token does not verify under the trusted TSA root(s): {_openssl_reasons(exc)}",
                          gen_time, tsa)
    except ValueError as exc:  # malformed certificates inside the token
        return TokenCheck(False, f"the token's certificates cannot be read ({exc})", gen_time, tsa)
    return TokenCheck(True, "valid", gen_time, tsa)


def _openssl_reasons(exc: Exception) -> str:
    """OpenSSL's error stack reduced to its reasons ("signature failure", "certificate verify error")."""
    import re

    reasons = list(dict.fromkeys(re.findall(r'reason: "([^"]+)"', str(exc))))
    return "; ".join(reasons) if reasons else str(exc)[:200]


@dataclass(frozen=True)
class TimestampAuthority:
    """The TSA the seals ask for tokens; the roots, when given, check each reply at once."""

    url: str
    roots: tuple[Any, ...] = field(default=(), repr=False)
    timeout_s: float = 30.0
    attempts: int = 3

    def __post_init__(self) -> None:
        parsed = urlparse(self.url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(f"{TSA_URL_ENV}: {self.url!r} is not an http(s) URL")
        if self.attempts < 1 or self.timeout_s <= 0:
            raise ConfigError(f"{TSA_URL_ENV}: attempts and timeout must be positive")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> TimestampAuthority | None:
        env = dict(os.environ if env is None else env)
        url = env.get(TSA_URL_ENV)
        return cls(url, roots_from_env(env)) if url else None

    def timestamp(self, data: bytes) -> bytes:
        """The TSA's DER reply over SHA-256(`data`), checked (status, nonce, imprint; signature if
        roots are known). Raises EvidenceError if the TSA cannot be reached or replies wrongly."""
        import hashlib

        import httpx
        from rfc3161_client import (
            HashAlgorithm,
            PKIStatus,
            TimestampRequestBuilder,
            decode_timestamp_response,
        )
        from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

        request = TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA256).build()

        @retry(stop=stop_after_attempt(self.attempts), wait=wait_exponential(multiplier=0.5, max=8),
               retry=retry_if_exception_type(httpx.TransportError), reraise=True)
        def post() -> httpx.Response:
            return httpx.post(self.url, content=request.as_bytes(), headers={"Content-Type": QUERY_TYPE},
                              timeout=self.timeout_s)

        try:
            reply = post()
        except httpx.HTTPError as exc:
            raise EvidenceError(f"time-stamping authority {self.url}: {exc}") from None
        if reply.status_code != 200:
            raise EvidenceError(f"time-stamping authority {self.url}: HTTP {reply.status_code}")
        try:
            response = decode_timestamp_response(reply.content)
        except (ValueError, TypeError) as exc:
            raise EvidenceError(f"time-stamping authority {self.url}: not a timestamp reply ({exc})") from None
        if PKIStatus(response.status) is not PKIStatus.GRANTED:
            raise EvidenceError(f"time-stamping authority {self.url} refused: {response.status_string}")
        if response.tst_info.nonce != request.nonce:
            raise EvidenceError(f"time-stamping authority {self.url}: the reply's nonce is not the request's")
        check = check_token(reply.content, hashlib.sha256(data).hexdigest(), self.roots)
        if check.ok is False:
            raise EvidenceError(f"time-stamping authority {self.url}: {check.detail}")
        return reply.content


def stamp(store: EvidenceStore, authority: TimestampAuthority, digest_seq: int, digest_bytes: bytes) -> bool:
    """Obtain and store the token for one digest. False (logged) when the TSA failed: the seal stands
    and `ccm evidence timestamp` can fetch the token later."""
    key = timestamp_key(digest_seq)
    if store.exists(key):
        return True
    try:
        token = authority.timestamp(digest_bytes)
    except EvidenceError as exc:
        log.warning("digest %s is not timestamped: %s (run `ccm evidence timestamp` later)", digest_seq, exc)
        return False
    store.put(key, token)
    return True


def stamp_missing(store: EvidenceStore, authority: TimestampAuthority) -> tuple[list[int], list[int]]:
    """Timestamp every digest that has no token yet: (stamped, failed) digest numbers."""
    from ccm.evidence.ledger import DIGESTS, seq_of_key

    stamped, failed = [], []
    for key in store.list(DIGESTS):
        seq = seq_of_key(key)
        if seq is None or store.exists(timestamp_key(seq)):
            continue
        (stamped if stamp(store, authority, seq, store.get(key)) else failed).append(seq)
    return stamped, failed
