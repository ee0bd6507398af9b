"""Google Workspace through a service account with domain-wide delegation (google-auth).

An OAuth access token pasted into the connection expires after an hour, so a deployment
could not run unattended. With `extra.subject` (the admin the service account acts as) the
connection's password is the service account's JSON key instead: google-auth signs a JWT
assertion (`iss` = the service account, `sub` = the admin, `scope`, `aud` = the key's
`token_uri`, an hour at most) and exchanges it at the token endpoint for an access token.
`GoogleDelegatedAuth` is a `RenewingBearerAuth` (`ccm.sources.bearer`): refreshed before it
expires and once more on a 401, so a long Directory listing survives expiry.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from ccm.errors import ConfigError, SourceError
from ccm.sources.bearer import RenewingBearerAuth
from ccm.sources.http_client import Secret

SCOPES = ("https://www.googleapis.com/auth/admin.directory.user.readonly",)


class GoogleDelegatedAuth(RenewingBearerAuth):
    """Access tokens for a service account acting as `subject`, refreshed as they expire."""

    def __init__(self, key_json: Secret, subject: str, scopes: tuple[str, ...] = SCOPES) -> None:
        from google.oauth2 import service_account

        super().__init__()
        try:
            info: dict[str, Any] = json.loads(str(key_json))
        except json.JSONDecodeError:
            raise ConfigError("connection google_default: with extra.subject the password must be the service "
                              "account's JSON key") from None
        if "@" not in subject:
            raise ConfigError(f"connection google_default: extra.subject must be an admin's email, got {subject!r}")
        try:
            self.credentials = service_account.Credentials.from_service_account_info(
                info, scopes=list(scopes), subject=subject)
        except (ValueError, KeyError) as exc:
            raise ConfigError(f"connection google_default: the service account key is not usable: {exc}") from None

    def _seconds_left(self) -> float:
        """Read from the credentials themselves, which google-auth keeps (expiry in naive UTC)."""
        expiry = self.credentials.expiry
        if not self.credentials.token or expiry is None:
            return 0.0
        return expiry.replace(tzinfo=UTC).timestamp() - self._clock()

    def _issue(self) -> tuple[Secret, float]:
        import google.auth.exceptions
        import google.auth.transport.requests

        try:
            self.credentials.refresh(google.auth.transport.requests.Request())
        except google.auth.exceptions.RefreshError as exc:
            raise SourceError("google", f"the service account could not get a token for "
                                        f"{self.credentials._subject}: {exc} (check domain-wide delegation of the "
                                        f"client id to {' '.join(self.credentials.scopes or [])})") from None
        return Secret(self.credentials.token), self.credentials.expiry.replace(tzinfo=UTC).timestamp()
