"""HTTP client shared by the SaaS sources (Okta, Google Workspace, GitHub).

Retries 429 and 5xx responses and transport errors with exponential back-off, honouring
`Retry-After` and the rate-limit reset headers (Okta `X-Rate-Limit-Reset`, GitHub
`x-ratelimit-reset`), measured against the server's own `Date` header so client clock
skew does not matter. Both the number of attempts and the total time spent waiting are
bounded. Pagination follows `Link: rel="next"` and refuses to loop.
"""

from __future__ import annotations

import email.utils
import functools
import logging
import re
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_after_delay

from ccm.errors import SourceError

if TYPE_CHECKING:
    from ccm.config import Settings

log = logging.getLogger(__name__)

_LINK_RE = re.compile(r'<([^>]+)>\s*;\s*rel="?([^";]+)"?')


class Secret(str):
    """A string that never shows itself in reprs, logs or tracebacks."""

    def __repr__(self) -> str:
        return "Secret('***')"


@dataclass(frozen=True)
class HttpSourceConfig:
    source: str
    base_url: str
    token: Secret = field(repr=False)
    auth_header: str = "Authorization"
    auth_prefix: str = "Bearer "
    timeout_s: float = 30.0
    max_attempts: int = 6
    max_wait_s: float = 60.0  # longest single back-off
    max_total_wait_s: float = 300.0  # give up after waiting this long in total
    backoff_base_s: float = 0.5
    max_pages: int = 10_000
    extra_headers: dict[str, str] = field(default_factory=dict)
    # a source-specific throttling signal beyond 429/5xx (e.g. Google's 403 userRateLimitExceeded)
    retry_when: Callable[[httpx.Response], bool] | None = None
    # credentials that change during a run (e.g. a GitHub App's installation tokens): used
    # instead of the static `token` header
    auth: httpx.Auth | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise SourceError(self.source, f"base URL must start with http:// or https://, got {self.base_url!r}")
        if not self.token and self.auth is None:
            raise SourceError(self.source, "no API token configured")


class RetryableResponse(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One verifying TLS context for every client: building one loads the CA bundle (~0.1 s),
    which would otherwise be paid by every extract. SSLContext is safe to share."""
    return httpx.create_ssl_context()


def parse_link_header(value: str | None) -> dict[str, str]:
    if not value:
        return {}
    return {rel: url for url, rel in _LINK_RE.findall(value)}


def _server_now(response: httpx.Response) -> float:
    date = response.headers.get("date")
    if date:
        parsed = email.utils.parsedate_to_datetime(date)
        if parsed is not None:
            return parsed.timestamp()
    return time.time()


def suggested_wait(response: httpx.Response) -> float | None:
    """Seconds the server asks us to wait, from Retry-After or a rate-limit reset header."""
    retry_after = response.headers.get("retry-after")
    if retry_after:
        if retry_after.strip().isdigit():
            return float(retry_after)
        parsed = email.utils.parsedate_to_datetime(retry_after)
        if parsed is not None:
            return max(0.0, parsed.timestamp() - _server_now(response))
    reset = response.headers.get("x-rate-limit-reset") or response.headers.get("x-ratelimit-reset")
    remaining = response.headers.get("x-rate-limit-remaining") or response.headers.get("x-ratelimit-remaining")
    if reset and (response.status_code == 429 or remaining == "0"):
        try:
            return max(0.0, float(reset) - _server_now(response)) + 1.0
        except ValueError:
            return None
    return None


class ApiClient:
    """A small, bounded, retrying JSON client for one source."""

    def __init__(self, config: HttpSourceConfig, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.requests = 0
        self.retries = 0
        self.waited_s = 0.0
        self._sleep = sleep
        headers = {"Accept": "application/json", "User-Agent": "ccm/0.1", **config.extra_headers}
        if config.auth is None:
            headers[config.auth_header] = f"{config.auth_prefix}{config.token}"
        self._client = httpx.Client(
            base_url=config.base_url, headers=headers, timeout=config.timeout_s, transport=transport,
            verify=_ssl_context(), auth=config.auth,
        )

    def close(self) -> None:
        self._client.close()

    def sleep(self, seconds: float) -> None:
        """Wait with the client's (injectable) sleep, e.g. for a source to settle."""
        self._sleep(seconds)

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        wait = None
        if isinstance(exc, RetryableResponse):
            wait = suggested_wait(exc.response)
        if wait is None:
            wait = self.config.backoff_base_s * (2 ** (state.attempt_number - 1))
        wait = min(wait, self.config.max_wait_s)
        if self.waited_s + wait > self.config.max_total_wait_s:
            wait = max(0.0, self.config.max_total_wait_s - self.waited_s)
        self.waited_s += wait
        self.retries += 1
        log.warning("%s: retrying in %.1fs after %s", self.config.source, wait, exc)
        return wait

    def _stop_on_wait_budget(self, state: RetryCallState) -> bool:
        return self.waited_s >= self.config.max_total_wait_s

    def get(self, url: str, params: dict[str, Any] | None = None,
            ok_statuses: tuple[int, ...] = ()) -> httpx.Response:
        """GET with bounded retries; raises SourceError naming the request on final failure.

        `ok_statuses` are error statuses the caller expects and interprets itself (e.g.
        GitHub's 404 "Branch not protected"); they are returned, not raised.
        """
        return self.request("GET", url, params=params, ok_statuses=ok_statuses)

    def request(self, method: str, url: str, params: dict[str, Any] | None = None, json_body: Any = None,
                ok_statuses: tuple[int, ...] = ()) -> httpx.Response:
        """Any read request (GET, or POST for query APIs such as GraphQL) with bounded retries."""

        def retryable(exc: BaseException) -> bool:
            return isinstance(exc, RetryableResponse | httpx.TransportError)

        attempts = 0

        def attempt() -> httpx.Response:
            nonlocal attempts
            attempts += 1
            self.requests += 1
            response = self._client.request(method, url, params=params, json=json_body)
            if response.status_code == 429 or response.status_code >= 500:
                raise RetryableResponse(response)
            if response.status_code == 403 and response.headers.get("x-ratelimit-remaining") == "0":
                raise RetryableResponse(response)  # GitHub primary rate limit
            if response.status_code == 403 and "retry-after" in response.headers:
                raise RetryableResponse(response)  # GitHub secondary rate limit
            if self.config.retry_when is not None and self.config.retry_when(response):
                raise RetryableResponse(response)
            return response

        retrying = Retrying(
            retry=retry_if_exception(retryable),
            stop=stop_after_attempt(self.config.max_attempts)
            | stop_after_delay(self.config.max_total_wait_s * 2)
            | self._stop_on_wait_budget,
            wait=self._wait,
            sleep=self._sleep,
            reraise=True,
        )
        target = f"{method} {self._describe(url, params)}"
        try:
            response = retrying(attempt)
        except RetryableResponse as exc:
            raise SourceError(
                self.config.source,
                f"{target} still failing after {attempts} attempts: HTTP {exc.response.status_code} "
                f"{_snippet(exc.response.text)}",
            ) from None
        except httpx.TransportError as exc:
            raise SourceError(
                self.config.source, f"cannot reach {self.config.base_url} for {target}: {type(exc).__name__}: {exc}"
            ) from None
        if response.status_code >= 400 and response.status_code not in ok_statuses:
            raise SourceError(
                self.config.source, f"{target} returned HTTP {response.status_code}: {_snippet(response.text)}"
            )
        return response

    def get_json(self, url: str, params: dict[str, Any] | None = None,
                 ok_statuses: tuple[int, ...] = ()) -> tuple[Any, httpx.Response]:
        response = self.get(url, params, ok_statuses)
        return self._json(response, "GET", url, params), response

    def post_json(self, url: str, body: Any) -> tuple[Any, httpx.Response]:
        """POST a JSON query (e.g. GraphQL) and read the JSON answer, with the same retries."""
        response = self.request("POST", url, json_body=body)
        return self._json(response, "POST", url, None), response

    def _json(self, response: httpx.Response, method: str, url: str, params: dict[str, Any] | None) -> Any:
        try:
            return response.json()
        except ValueError:
            raise SourceError(
                self.config.source,
                f"{method} {self._describe(url, params)} returned a body that is not JSON "
                f"({response.headers.get('content-type', 'no content-type')}): {_snippet(response.text)}",
            ) from None

    def paginate(self, url: str, params: dict[str, Any] | None = None,
                 items: Callable[[Any], list[Any]] = lambda body: body) -> Iterator[tuple[list[Any], httpx.Response]]:
        """Yield (items, response) per page, following Link rel="next" until there is none."""
        seen: set[str] = set()
        next_url: str | None = url
        next_params = params
        pages = 0
        while next_url:
            pages += 1
            if pages > self.config.max_pages:
                raise SourceError(self.config.source, f"more than {self.config.max_pages} pages from {url}; giving up")
            body, response = self.get_json(next_url, next_params)
            page_items = items(body)
            if not isinstance(page_items, list):
                raise SourceError(
                    self.config.source, f"GET {self._describe(next_url, next_params)}: expected a JSON list of records"
                )
            yield page_items, response
            following = parse_link_header(response.headers.get("link")).get("next")
            if following and following in seen:
                raise SourceError(self.config.source, f"pagination loops back to {following}")
            if following:
                seen.add(following)
            next_url, next_params = following, None

    def _describe(self, url: str, params: dict[str, Any] | None) -> str:
        if params:
            return str(httpx.URL(url, params=params))
        return url


def _snippet(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return repr(text[:limit] + ("…" if len(text) > limit else ""))


def api_client(settings: Settings, build: Callable[..., HttpSourceConfig],
               sleep: Callable[[float], None] | None = None, **overrides: Any) -> ApiClient:
    """An HTTP family's client: `build(**limits)` with the settings' retry limits (overrides
    win), and the injected sleep if any."""
    limits = {"max_attempts": settings.http_max_attempts, "max_total_wait_s": settings.http_max_total_wait_s}
    config = build(**{**limits, **overrides})
    return ApiClient(config, sleep=sleep) if sleep else ApiClient(config)
