"""Signatures on ledger digests: HMAC-SHA256 or Ed25519, with keys from the environment.

A hash chain alone proves order and integrity only against someone who cannot recompute
it. A digest signed with a key that is *not* in the evidence store closes that gap: who
rewrites history must also hold the key. Two schemes:

- `CCM_LEDGER_HMAC_KEY` (any string, at least 32 characters): HMAC-SHA256. Simple; the
  verifier needs the same secret, so it suits an operator verifying their own store.
- `CCM_LEDGER_SIGNING_KEY` (an Ed25519 private key, PEM text or a path to a PEM file):
  the digest carries the public key, and anyone can verify it. An auditor pins the key
  they were given with `CCM_LEDGER_PUBLIC_KEY` (PEM text or path) so a digest re-signed
  with another key is rejected.

With neither set, digests are unsigned (still hash-chained and signed-off by name).
Keys are never written to the store, a log or a record: only a key id (the first 16
hex digits of the SHA-256 of the HMAC secret or the raw public key).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from ccm.errors import ConfigError

HMAC_ENV = "CCM_LEDGER_HMAC_KEY"
SIGNING_KEY_ENV = "CCM_LEDGER_SIGNING_KEY"
PUBLIC_KEY_ENV = "CCM_LEDGER_PUBLIC_KEY"


def _pem_or_path(value: str) -> bytes:
    text = value.strip()
    if text.startswith("-----BEGIN"):
        return text.encode()
    path = Path(text).expanduser()
    if not path.is_file():
        raise ConfigError(f"ledger key: {text!r} is neither PEM text nor a readable file")
    return path.read_bytes()


@dataclass(frozen=True)
class Signer:
    """Signs digest bytes with the key configured in the environment."""

    algorithm: str  # "hmac-sha256" | "ed25519"
    key_id: str
    _secret: bytes
    public_key_b64: str | None = None

    def __repr__(self) -> str:  # never show the key
        return f"Signer({self.algorithm}, key_id={self.key_id})"

    def sign(self, payload: bytes) -> dict[str, str]:
        if self.algorithm == "hmac-sha256":
            value = hmac.new(self._secret, payload, hashlib.sha256).hexdigest()
            return {"algorithm": self.algorithm, "key_id": self.key_id, "value": value}
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        key = load_pem_private_key(self._secret, password=None)
        value = base64.b64encode(key.sign(payload)).decode()
        return {"algorithm": self.algorithm, "key_id": self.key_id, "value": value,
                "public_key": self.public_key_b64 or ""}


def signer_from_env(env: dict[str, str] | None = None) -> Signer | None:
    """The configured signer, or None when digests are to be unsigned."""
    env = dict(os.environ if env is None else env)
    if env.get(SIGNING_KEY_ENV):
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key

        pem = _pem_or_path(env[SIGNING_KEY_ENV])
        try:
            key = load_pem_private_key(pem, password=None)
        except ValueError as exc:
            raise ConfigError(f"{SIGNING_KEY_ENV}: not a PEM private key ({exc})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"{SIGNING_KEY_ENV}: must be an Ed25519 key")
        raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return Signer("ed25519", hashlib.sha256(raw).hexdigest()[:16], pem, base64.b64encode(raw).decode())
    if env.get(HMAC_ENV):
        secret = env[HMAC_ENV].encode()
        if len(secret) < 32:
            raise ConfigError(f"{HMAC_ENV}: use at least 32 characters")
        return Signer("hmac-sha256", hashlib.sha256(secret).hexdigest()[:16], secret)
    return None


@dataclass(frozen=True)
class SignatureCheck:
    ok: bool | None  # None: could not be checked (no key to check it with)
    detail: str


def check_signature(payload: bytes, signature: dict[str, str] | None,
                    env: dict[str, str] | None = None) -> SignatureCheck:
    """Check a digest's signature with the keys available in the environment."""
    env = dict(os.environ if env is None else env)
    if not signature:
        if env.get(HMAC_ENV) or env.get(SIGNING_KEY_ENV) or env.get(PUBLIC_KEY_ENV):
            return SignatureCheck(False, "the digest is unsigned although a ledger key is configured")
        return SignatureCheck(None, "unsigned")
    algorithm = signature.get("algorithm")
    if algorithm == "hmac-sha256":
        if not env.get(HMAC_ENV):
            return SignatureCheck(None, f"HMAC-signed (key {signature.get('key_id')}); set {HMAC_ENV} to check it")
        secret = env[HMAC_ENV].encode()
        if hashlib.sha256(secret).hexdigest()[:16] != signature.get("key_id"):
            return SignatureCheck(False, f"signed with key {signature.get('key_id')}, not the configured key")
        expected = hmac.new(secret, payload, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(expected, signature.get("value", ""))
        return SignatureCheck(ok, "HMAC valid" if ok else "HMAC does not match the digest")
    if algorithm == "ed25519":
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

        raw = base64.b64decode(signature.get("public_key") or "")
        pinned = env.get(PUBLIC_KEY_ENV)
        if pinned:
            pinned_key = load_pem_public_key(_pem_or_path(pinned))
            pinned_raw = pinned_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
            if pinned_raw != raw:
                return SignatureCheck(False, f"signed with key {signature.get('key_id')}, not the pinned public key")
        try:
            Ed25519PublicKey.from_public_bytes(raw).verify(base64.b64decode(signature.get("value", "")), payload)
        except (InvalidSignature, ValueError):
            return SignatureCheck(False, "Ed25519 signature does not match the digest")
        if hashlib.sha256(raw).hexdigest()[:16] != signature.get("key_id"):
            return SignatureCheck(False, "key id does not match the embedded public key")
        detail = "Ed25519 valid" + ("" if pinned else f" (key {signature.get('key_id')} not pinned: set {PUBLIC_KEY_ENV})")
        return SignatureCheck(True, detail)
    return SignatureCheck(False, f"unknown signature algorithm {algorithm!r}")


def pinned_key_id(env: dict[str, str] | None = None) -> str | None:
    """The key id of the pinned Ed25519 public key (`CCM_LEDGER_PUBLIC_KEY`), or None."""
    env = dict(os.environ if env is None else env)
    if not env.get(PUBLIC_KEY_ENV):
        return None
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

    raw = load_pem_public_key(_pem_or_path(env[PUBLIC_KEY_ENV])).public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def rotation_payload(previous_key_id: str, new_key_id: str, new_algorithm: str, new_public_key: str | None) -> bytes:
    """The statement a key rotation entry carries, signed by the previous key."""
    import json

    doc = {"statement": "ccm ledger key rotation", "previous_key_id": previous_key_id, "new_key_id": new_key_id,
           "new_algorithm": new_algorithm, "new_public_key": new_public_key or ""}
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def check_rotation_signature(payload: bytes, signature: dict[str, str] | None, previous: dict[str, str],
                             env: dict[str, str] | None = None) -> SignatureCheck:
    """Was `payload` signed by the key that signed the digest carrying `previous` (its signature)?"""
    if not signature or signature.get("key_id") != previous.get("key_id") \
            or signature.get("algorithm") != previous.get("algorithm"):
        return SignatureCheck(False, f"the rotation is not signed by the previous key {previous.get('key_id')}")
    if previous.get("algorithm") == "ed25519":
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        if signature.get("public_key") != previous.get("public_key"):
            return SignatureCheck(False, "the rotation is signed with another public key than the previous digests")
        try:
            Ed25519PublicKey.from_public_bytes(base64.b64decode(previous.get("public_key") or "")).verify(
                base64.b64decode(signature.get("value", "")), payload)
        except (InvalidSignature, ValueError):
            return SignatureCheck(False, "the rotation's Ed25519 signature does not match")
        return SignatureCheck(True, "rotation signed by the previous key")
    env = dict(os.environ if env is None else env)
    return check_signature(payload, signature, {HMAC_ENV: env[HMAC_ENV]} if env.get(HMAC_ENV) else {})
