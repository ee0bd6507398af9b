"""Okta OAuth 2.0 service app with private_key_jwt against the stand-in (issue 18 item 3): the
client assertion is checked (signature, iss/sub, aud, expiry, jti), scopes are enforced, and an
access token that expires in the middle of a paginated extract is renewed."""

from __future__ import annotations

import time
from datetime import datetime

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ccm.constants import ExtractStatus
from ccm.errors import ConfigError, SourceError
from ccm.manifests import RunContext
from ccm.pipeline import extract
from ccm.sources import okta
from ccm.sources.bearer import RENEW_BEFORE_S
from ccm.sources.connections import Connection
from ccm.sources.extract import Interval
from ccm.sources.http_client import Secret
from ccm.sources.okta.oauth import OktaServiceAppAuth

DAY = Interval(datetime(2025, 10, 1), datetime(2025, 10, 2))
CLIENT_ID = "0oa1ccmservice"
SCOPES = ("okta.users.read", "okta.roles.read", "okta.logs.read")


def pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode(),
            key.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo).decode())


@pytest.fixture(scope="module")
def app_key() -> tuple[str, str]:
    return pem_pair()


def connection(standin, private: str, **extra) -> Connection:
    return Connection("okta_default", host=standin.url, password=Secret(private),
                      extra={"client_id": CLIENT_ID, **extra})


def extract_users(settings, conn):
    return extract(settings, "okta.users", DAY, RunContext(), lambda _c: conn, sleep=lambda _s: None)


def test_a_service_app_reads_every_page_across_token_expiry(settings, okta_standin, app_key, monkeypatch):
    private, public = app_key
    okta_standin.configure_service_app(CLIENT_ID, public, SCOPES, token_max_requests=3)
    monkeypatch.setattr(okta.fetchers, "PAGE_SIZE", 7)
    manifest = extract_users(settings, connection(okta_standin, private))
    assert manifest.status is ExtractStatus.COMPLETE
    assert manifest.pages > 3 and manifest.rows_written > 7 * 3
    assert okta_standin.tokens_issued >= 2


def test_an_assertion_signed_with_another_key_is_refused(settings, okta_standin, app_key):
    okta_standin.configure_service_app(CLIENT_ID, app_key[1], SCOPES)
    with pytest.raises(SourceError, match=r"oauth2/v1/token returned HTTP 401: .*InvalidSignatureError"):
        extract_users(settings, connection(okta_standin, pem_pair()[0]))


def test_a_scope_not_granted_is_named(settings, okta_standin, app_key):
    private, public = app_key
    okta_standin.configure_service_app(CLIENT_ID, public, ("okta.users.read",))
    with pytest.raises(SourceError, match=r"HTTP 400: .*invalid_scope.*not granted: okta.logs.read okta.roles.read"):
        extract_users(settings, connection(okta_standin, private))
    # asking only for what is granted works
    manifest = extract_users(settings, connection(okta_standin, private, scopes=["okta.users.read"]))
    assert manifest.status is ExtractStatus.COMPLETE


def test_the_assertion_carries_the_claims_okta_checks(app_key):
    private, public = app_key
    auth = OktaServiceAppAuth("https://acme.okta.com", CLIENT_ID, Secret(private), clock=lambda: 1_000_000)
    claims = jwt.decode(auth.client_assertion(), public, algorithms=["RS256"],
                        audience="https://acme.okta.com/oauth2/v1/token", options={"verify_exp": False})
    assert claims["iss"] == claims["sub"] == CLIENT_ID
    assert claims["exp"] - claims["iat"] == 300 and len(claims["jti"]) == 32


def test_an_expired_assertion_is_refused(okta_standin, app_key):
    private, public = app_key
    okta_standin.configure_service_app(CLIENT_ID, public, SCOPES)
    auth = OktaServiceAppAuth(okta_standin.url, CLIENT_ID, Secret(private), clock=lambda: time.time() - 3600)
    with pytest.raises(SourceError, match="ExpiredSignatureError"):
        auth.token()


def test_a_token_near_its_expiry_is_renewed_before_use(okta_standin, app_key):
    private, public = app_key
    okta_standin.configure_service_app(CLIENT_ID, public, SCOPES, token_lifetime_s=int(RENEW_BEFORE_S) + 30)
    now = [time.time()]
    auth = OktaServiceAppAuth(okta_standin.url, CLIENT_ID, Secret(private), clock=lambda: now[0])
    first = auth.token()
    now[0] += 20
    assert auth.token() == first
    now[0] += 20
    assert auth.token() != first and okta_standin.tokens_issued == 2


def test_service_app_settings_are_validated():
    with pytest.raises(ConfigError, match="private key"):
        OktaServiceAppAuth("https://acme.okta.com", CLIENT_ID, Secret("00abcSSWS"))
    with pytest.raises(ConfigError, match="must be Okta scopes"):
        OktaServiceAppAuth("https://acme.okta.com", CLIENT_ID, Secret("-----BEGIN PRIVATE KEY-----"), ("openid",))
