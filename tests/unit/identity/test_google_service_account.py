"""Google Workspace through a service account with domain-wide delegation, via google-auth,
against the stand-in's token endpoint (issue 18 item 3): signature, issuer, audience, delegated
subject and scopes are checked, and a token expiring mid-listing is refreshed."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ccm.constants import ExtractStatus
from ccm.errors import ConfigError, SourceError
from ccm.manifests import RunContext
from ccm.pipeline import extract
from ccm.sources import google
from ccm.sources.connections import Connection
from ccm.sources.extract import Interval
from ccm.sources.google.service_account import SCOPES, GoogleDelegatedAuth
from ccm.sources.http_client import Secret

DAY = Interval(datetime(2025, 10, 1), datetime(2025, 10, 2))
EMAIL = "ccm-audit@acme-ccm.iam.gserviceaccount.com"
ADMIN = "it-admin@kestrel.example"


def key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode(),
            key.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo).decode())


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return key_pair()


def key_json(standin, private: str) -> str:
    """A service account key file as the Cloud console writes it, its token_uri the stand-in."""
    return json.dumps({"type": "service_account", "project_id": "acme-ccm", "private_key_id": "k1",
                       "private_key": private, "client_email": EMAIL, "client_id": "1234567890",
                       "token_uri": f"{standin.url}/token"})


def extract_users(settings, standin, private: str, subject: str = ADMIN):
    connection = Connection("google_default", host=standin.url, password=Secret(key_json(standin, private)),
                            extra={"subject": subject})
    return extract(settings, "google.users", DAY, RunContext(), lambda _c: connection, sleep=lambda _s: None)


def test_a_delegated_service_account_reads_every_page_across_token_expiry(settings, google_standin, keys,
                                                                           monkeypatch):
    private, public = keys
    google_standin.configure_service_account(EMAIL, public, (ADMIN,), SCOPES, token_max_requests=2)
    monkeypatch.setattr(google.fetchers, "PAGE_SIZE", 7)
    manifest = extract_users(settings, google_standin, private)
    assert manifest.status is ExtractStatus.COMPLETE
    assert manifest.pages > 2 and manifest.rows_written > 7 * 2
    assert google_standin.tokens_issued >= 2


def test_a_key_the_service_account_does_not_have_is_refused(settings, google_standin, keys):
    google_standin.configure_service_account(EMAIL, keys[1], (ADMIN,), SCOPES)
    with pytest.raises(SourceError, match=r"could not get a token for it-admin@kestrel.example: .*Invalid JWT Signature"):
        extract_users(settings, google_standin, key_pair()[0])


def test_a_subject_or_scope_not_delegated_is_refused_naming_the_scope(settings, google_standin, keys):
    private, public = keys
    google_standin.configure_service_account(EMAIL, public, (ADMIN,), ("https://www.googleapis.com/auth/other",))
    with pytest.raises(SourceError, match=r"unauthorized_client.*admin.directory.user.readonly"):
        extract_users(settings, google_standin, private)
    google_standin.configure_service_account(EMAIL, public, (ADMIN,), SCOPES)
    with pytest.raises(SourceError, match="unauthorized_client"):
        extract_users(settings, google_standin, private, subject="someone.else@kestrel.example")


def test_a_token_near_its_expiry_is_refreshed_before_use(google_standin, keys):
    private, public = keys
    google_standin.configure_service_account(EMAIL, public, (ADMIN,), SCOPES, token_lifetime_s=3600)
    auth = GoogleDelegatedAuth(Secret(key_json(google_standin, private)), ADMIN)
    first = auth.token()
    assert auth.token() == first and google_standin.tokens_issued == 1
    from datetime import timedelta

    auth.credentials.expiry -= timedelta(seconds=3600 - 200)  # now inside the renewal margin
    assert auth.token() != first and google_standin.tokens_issued == 2


def test_service_account_settings_are_validated():
    with pytest.raises(ConfigError, match="JSON key"):
        GoogleDelegatedAuth(Secret("ya29.an-access-token"), ADMIN)
    with pytest.raises(ConfigError, match="admin's email"):
        GoogleDelegatedAuth(Secret('{"type": "service_account"}'), "admin")
