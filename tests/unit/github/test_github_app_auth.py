"""GitHub App authentication against the stand-in (issue 18 item 3): an RS256 JWT checked for
signature and claims buys installation tokens, and a token that expires in the middle of a
paginated extract is renewed without losing a page."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ccm.constants import ExtractStatus
from ccm.errors import ConfigError, SourceError
from ccm.sources import github
from ccm.sources.bearer import RENEW_BEFORE_S
from ccm.sources.connections import Connection
from ccm.sources.github.app_auth import GitHubAppAuth
from ccm.sources.http_client import Secret
from tests.unit.github.conftest import ORG, run_github

APP_ID, INSTALLATION_ID = "424242", "7777"


def pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@pytest.fixture(scope="module")
def app_key() -> tuple[str, str]:
    return pem_pair()


def app_connection(standin, private_pem: str, installation_id: str = INSTALLATION_ID) -> Connection:
    return Connection("github_default", host=standin.url, password=Secret(private_pem),
                      extra={"org": ORG, "app_id": APP_ID, "installation_id": installation_id})


def test_a_github_app_reads_every_page_across_token_expiry(settings, github_standin, app_key, monkeypatch):
    private, public = app_key
    # each installation token is good for 3 API calls: the members listing (several pages) outlives it
    github_standin.configure_app(APP_ID, public, INSTALLATION_ID, token_max_requests=3)
    monkeypatch.setattr(github.fetchers, "PAGE_SIZE", 5)
    manifest = run_github(settings, app_connection(github_standin, private), "github.members")
    assert manifest.status is ExtractStatus.COMPLETE
    assert manifest.pages > 3 and manifest.rows_written > 10
    assert github_standin.tokens_issued >= 2  # renewed mid-extract


def test_a_jwt_signed_with_another_key_is_refused(settings, github_standin, app_key):
    _, public = app_key
    github_standin.configure_app(APP_ID, public, INSTALLATION_ID)
    other_private, _ = pem_pair()
    with pytest.raises(SourceError, match=r"access_tokens returned HTTP 401: .*JSON web token could not be decoded "
                                          r"\(InvalidSignatureError\)"):
        run_github(settings, app_connection(github_standin, other_private), "github.organization")
    assert github_standin.tokens_issued == 0


def test_a_wrong_installation_is_refused(settings, github_standin, app_key):
    private, public = app_key
    github_standin.configure_app(APP_ID, public, INSTALLATION_ID)
    with pytest.raises(SourceError, match=r"POST /app/installations/9999/access_tokens returned HTTP 404"):
        run_github(settings, app_connection(github_standin, private, "9999"), "github.organization")


def test_the_app_jwt_carries_the_claims_github_checks(app_key):
    private, public = app_key
    auth = GitHubAppAuth("https://api.github.com", APP_ID, INSTALLATION_ID, Secret(private), clock=lambda: 1_000_000)
    claims = jwt.decode(auth.app_jwt(), public, algorithms=["RS256"], options={"verify_exp": False})
    assert claims == {"iss": APP_ID, "iat": 1_000_000 - 60, "exp": 1_000_000 - 60 + 540}


def test_an_expired_jwt_is_refused_by_the_standin(settings, github_standin, app_key):
    private, public = app_key
    github_standin.configure_app(APP_ID, public, INSTALLATION_ID)
    auth = GitHubAppAuth(github_standin.url, APP_ID, INSTALLATION_ID, Secret(private), clock=lambda: time.time() - 3600)
    with pytest.raises(SourceError, match=r"HTTP 401: .*ExpiredSignatureError"):
        auth.token()


def test_a_token_near_its_expiry_is_renewed_before_use(github_standin, app_key):
    private, public = app_key
    github_standin.configure_app(APP_ID, public, INSTALLATION_ID, token_lifetime_s=RENEW_BEFORE_S + 30)
    now = [time.time()]
    auth = GitHubAppAuth(github_standin.url, APP_ID, INSTALLATION_ID, Secret(private), clock=lambda: now[0])
    first = auth.token()
    now[0] += 20
    assert auth.token() == first  # still more than RENEW_BEFORE_S to live
    now[0] += 20
    assert auth.token() != first and github_standin.tokens_issued == 2


def test_app_settings_are_validated():
    with pytest.raises(ConfigError, match="must be numbers"):
        GitHubAppAuth("https://api.github.com", "my-app", "1", Secret("-----BEGIN PRIVATE KEY-----"))
    with pytest.raises(ConfigError, match="private key"):
        GitHubAppAuth("https://api.github.com", "1", "2", Secret("ghp_token"))
