"""A small threaded HTTP server with routing, rate-limit headers and fault injection.

Faults are switched on through `POST /_standin/faults` (or `StandinServer.inject`):
- {"status": 429|500|503, "count": N, "path": "/api/v1/users"}: the next N matching
  requests fail with that status (429s carry Retry-After and rate-limit headers);
- {"kind": "truncate", "count": N}: the next N responses announce more bytes than they send;
- {"kind": "non_json", "count": N}: the next N responses are an HTML error page with 200;
- {"kind": "slow", "seconds": S, "count": N}: the next N responses are delayed;
- {"kind": "drop_field", "field": "id", "count": N}: the first record of the next N list
  responses (a JSON list, or the first list inside a JSON object, e.g. Google's "users")
  loses that field (a malformed record);
- "body": {...} on a status fault replaces the stand-in's own error body (e.g. Google's
  403 with reason userRateLimitExceeded);
- "after": K on any fault lets K matching requests through first (e.g. fail page 3).
Scheduled outages (the demo's "API down for a day") come from the world itself.
"""

from __future__ import annotations

import email.utils
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from ccm import clock as ccm_clock


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    match: dict[str, str]
    base_url: str  # the public URL response bodies mention (stable across restarts and ports)
    link_base: str = ""  # where this server really listens: what Link headers must point at

    def json(self) -> Any:
        return json.loads(self.body or b"null")


Handler = Callable[[Request], Response]


@dataclass
class Fault:
    kind: str  # "status", "truncate", "non_json", "slow", "drop_field"
    count: int
    status: int = 500
    path: str = ""
    seconds: float = 0.0
    after: int = 0
    field: str = ""
    body: Any = None


class StandinServer:
    """Subclasses register routes in `routes()` and read the demo world from `world_dir`."""

    name = "standin"  # also the source name its outages are planted under
    # the service's public address as it appears inside response bodies (e.g. `_links.self`,
    # `url`): fixed, so the same simulated moment yields byte-identical records whatever port
    # the stand-in happens to listen on; pagination links still point at the real server
    public_url: str | None = None
    conn_id = ""  # the Airflow connection the pipeline reads for this source
    default_token = "demo-token"
    auth_scheme = "Bearer"
    rate_limit = 6000  # requests per minute, per token
    rate_limit_header_style = "okta"  # or "github"

    def __init__(self, world_dir: Path | None = None, clock_file: Path | None = None, token: str | None = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.world_dir = Path(world_dir) if world_dir else None
        self.clock_file = Path(clock_file) if clock_file else None
        self.token = token or self.default_token
        self._outages = self._load_outages()
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._window_start = time.time()
        self._window_count = 0
        self.request_log: list[tuple[str, str, int]] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        for method, pattern, handler in self.routes():
            self._routes.append((method, re.compile("^" + pattern + "$"), handler))
        self._httpd = ThreadingHTTPServer((host, port), self._make_handler())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # lifecycle -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StandinServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=f"{self.name}-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> StandinServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # the simulated clock ---------------------------------------------------------------
    def now(self) -> datetime:
        if self.clock_file and self.clock_file.exists():
            return ccm_clock.read_clock_file(self.clock_file)
        return ccm_clock.now()

    # to override -----------------------------------------------------------------------
    def routes(self) -> list[tuple[str, str, Handler]]:
        return []

    def _load_outages(self) -> list[tuple[datetime, datetime]]:
        path = self.world_dir / "world" / "outages.json" if self.world_dir else None
        if path is None or not path.exists():
            return []
        return [(ccm_clock.read_iso(o["start"]), ccm_clock.read_iso(o["end"]))
                for o in json.loads(path.read_text()) if o["source"] == self.name]

    def outage(self, moment: datetime) -> bool:
        """True when the world says the API is down at this simulated moment."""
        return any(start <= moment < end for start, end in self._outages)

    def connection_env(self) -> dict[str, str]:
        """The AIRFLOW_CONN_* variable through which the pipeline (Airflow or CLI) finds this stand-in."""
        document = {"conn_type": "http", "host": self.url, "password": self.token}
        return {f"AIRFLOW_CONN_{self.conn_id.upper()}": json.dumps(document)}

    # faults ----------------------------------------------------------------------------
    def inject(self, **spec: Any) -> None:
        kind = spec.get("kind", "status")
        with self._lock:
            self._faults.append(Fault(kind=kind, count=int(spec.get("count", 1)), status=int(spec.get("status", 500)),
                                      path=str(spec.get("path", "")), seconds=float(spec.get("seconds", 0)),
                                      after=int(spec.get("after", 0)), field=str(spec.get("field", "")),
                                      body=spec.get("body")))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.count > 0 and path.startswith(fault.path):
                    if fault.after > 0:
                        fault.after -= 1
                        return None
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # helpers for subclasses ------------------------------------------------------------
    @staticmethod
    def link_header(base_url: str, path: str, query: dict[str, Any], rel: str) -> str:
        return f'<{base_url}{path}?{urlencode(query)}>; rel="{rel}"'

    def _rate_headers(self) -> dict[str, str]:
        with self._lock:
            now = time.time()
            if now - self._window_start >= 60:
                self._window_start, self._window_count = now, 0
            self._window_count += 1
            remaining = max(0, self.rate_limit - self._window_count)
            reset = int(self._window_start + 60)
        if self.rate_limit_header_style == "github":
            return {"x-ratelimit-limit": str(self.rate_limit), "x-ratelimit-remaining": str(remaining),
                    "x-ratelimit-reset": str(reset), "x-ratelimit-used": str(self._window_count),
                    "x-ratelimit-resource": "core"}
        return {"X-Rate-Limit-Limit": str(self.rate_limit), "X-Rate-Limit-Remaining": str(remaining),
                "X-Rate-Limit-Reset": str(reset)}

    def authorized(self, headers: dict[str, str]) -> bool:
        value = headers.get("authorization", "")
        return value == f"{self.auth_scheme} {self.token}"

    def error_body(self, status: int, message: str) -> Any:
        return {"message": message, "status": status}

    # dispatch --------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        if request.path == "/_standin/faults" and request.method == "POST":
            spec = request.json() or {}
            if spec.get("clear"):
                self.clear_faults()
            else:
                self.inject(**spec)
            return Response(204)
        if not self.authorized(request.headers):
            return Response(401, self.error_body(401, "Invalid token provided"))
        if self.outage(self.now()):
            return Response(503, self.error_body(503, "Service Unavailable"), headers={"Retry-After": "1"})
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                request.match = match.groupdict()
                return handler(request)
        return Response(404, self.error_body(404, f"Not found: Resource not found: {request.path}"))

    def _make_handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body in one segment, no Nagle: otherwise delayed ACKs add tens of milliseconds per request
            disable_nagle_algorithm = True
            wbufsize = 1 << 16

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                return

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                request = Request(method, parts.path, query, headers, body, {}, server.public_url or server.url,
                                  server.url)
                fault = None if parts.path.startswith("/_standin/") else server._take_fault(parts.path)
                if fault and fault.kind == "status":
                    extra = {"Retry-After": "1"} if fault.status in (429, 503) else {}
                    body = fault.body if fault.body is not None else server.error_body(fault.status, "injected fault")
                    response = Response(fault.status, body, extra)
                else:
                    try:
                        response = server.dispatch(request)
                    except Exception as exc:  # a stand-in bug must look like a server error, loudly
                        response = Response(500, server.error_body(500, f"{type(exc).__name__}: {exc}"))
                if fault and fault.kind == "slow":
                    time.sleep(fault.seconds)
                if fault and fault.kind == "drop_field":
                    response.body = _drop_first_field(response.body, fault.field)
                if fault and fault.kind == "non_json":
                    response = Response(200, raw=b"<html><body><h1>Bad Gateway</h1></body></html>",
                                        content_type="text/html")
                payload = response.raw if response.raw is not None else (
                    b"" if response.body is None else json.dumps(response.body).encode())
                headers_out = {"Date": email.utils.formatdate(usegmt=True), **server._rate_headers(),
                               **response.headers}
                if response.status == 429:
                    headers_out.setdefault("Retry-After", "1")
                server.request_log.append((method, self.path, response.status))
                self.send_response(response.status)
                if payload or response.status != 204:
                    self.send_header("Content-Type", response.content_type)
                truncated = bool(fault and fault.kind == "truncate")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in headers_out.items():
                    self.send_header(key, value)
                if truncated:  # announce the whole body, send half of it, hang up
                    self.send_header("Connection", "close")
                    self.close_connection = True
                    payload = payload[: len(payload) // 2]
                self.end_headers()
                if method != "HEAD":
                    self.wfile.write(payload)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        return _Handler


def _drop_first_field(body: Any, name: str) -> Any:
    """The body with `name` removed from the first record of its (first) list of records."""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return [{k: v for k, v in body[0].items() if k != name}, *body[1:]]
    if isinstance(body, dict):
        for key, value in body.items():
            if isinstance(value, list) and value:
                return {**body, key: _drop_first_field(value, name)}
    return body


def paginate(items: list[Any], request: Request, key: Callable[[Any], str], default_limit: int = 200,
             max_limit: int = 200) -> tuple[list[Any], dict[str, str]]:
    """Cursor pagination in the Okta style: ?limit=&after=<key of last item>, Link rel=next/self."""
    try:
        limit = min(max_limit, max(1, int(request.query.get("limit", default_limit))))
    except ValueError:
        limit = default_limit
    after = request.query.get("after")
    ordered = sorted(items, key=key)
    if after:
        ordered = [item for item in ordered if key(item) > after]
    page, rest = ordered[:limit], ordered[limit:]
    query = {k: v for k, v in request.query.items() if k != "after"}
    links = [StandinServer.link_header(request.link_base, request.path, query, "self")]
    if rest:
        links.append(StandinServer.link_header(request.link_base, request.path, {**query, "after": key(page[-1])},
                                               "next"))
    return page, {"Link": ", ".join(links)}
