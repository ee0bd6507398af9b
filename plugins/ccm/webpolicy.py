"""Content-Security-Policy for every page the product writes (issue 23 item 4).

Values from source data (a CloudTrail ARN, an Okta login, a PR title) are escaped where
each page is rendered; the policy is the second wall: a page may run no script it did not
bring itself, so a value that ever slipped through unescaped still could not execute.

* Our own pages (status index, dashboard, evidence pack) run no script at all:
  `script-src 'none'`; inline `<style>` and `style=` are theirs, images are inline SVG or
  `data:`. Links between pages are navigations, which the policy does not restrict.
* GX Data Docs result pages need GX's CDN scripts when viewed online, GX's one inline
  script block and its two `onclick` buttons. Those are allowed by SHA-256 hash only:
  the hashes are taken from the page GX renders for an *empty* validation result, so a
  script element or handler that came from data can never be on the list (an injected
  `<script>` or `onerror=` is refused by the browser even if it reached the markup).

The policy is a `<meta http-equiv>` element placed first in `<head>` (it covers what
follows it); `frame-ancestors`, `sandbox` and reporting cannot be delivered that way and
are sent as response headers by the Airflow UI plugin (`plugins/ccm_dashboard_plugin.py`).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re

# the hosts GX's page template loads scripts from (GX 1.24); nothing else is allowed
GX_SCRIPT_HOSTS = ("https://cdn.jsdelivr.net", "https://code.jquery.com", "https://cdnjs.cloudflare.com",
                   "https://stackpath.bootstrapcdn.com", "https://unpkg.com")
_COMMON = "base-uri 'none'; form-action 'none'; object-src 'none'"
# our own pages: no script of any kind
OWN_PAGE_POLICY = f"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; {_COMMON}"
# the offline rendition of a GX page: scripts and CDN styles removed, a local <style> added
OFFLINE_DOCS_POLICY = OWN_PAGE_POLICY

# GX 1.24's one inline script block (showAllValidations/hideSucceededValidations) and its two
# buttons' handlers. The pages carry hashes derived at render time (`gx_page_policy`); the served
# header (below) cannot import GX, so it names them here (a unit test checks they still match)
GX_INLINE_SCRIPT_HASHES = ("'sha256-gohp0y43UjzSJTa7tPe9rc0wep/LVMX8VCahWN7jXfE='",)
# what a page served in the Airflow UI may do: the union of what our pages and GX's pages need
# (each page's own <meta> policy narrows it further: the browser enforces both). `sandbox`
# refuses forms, dialogs (alert/confirm/prompt), top-level navigation of the Airflow UI and
# plugins. It keeps allow-same-origin: without it the page gets an opaque origin and the
# links between pages (dashboard -> Data Docs -> pack) arrive without the viewer's Airflow
# session cookie (SameSite=Lax) and are refused; the session is protected by the script
# policy (only GX's own scripts, by host and hash) and by escaping, not by the origin
SERVED_SANDBOX = ("sandbox allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox "
                  "allow-downloads")

_META = re.compile(r"<meta\s+http-equiv\s*=\s*[\"']Content-Security-Policy[\"'][^>]*>\s*", re.IGNORECASE)
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script\s*>", re.DOTALL)


def served_policy() -> str:
    """The `Content-Security-Policy` response header of every page the Airflow UI plugin serves."""
    return "; ".join([_gx_directives(GX_INLINE_SCRIPT_HASHES), "frame-ancestors 'self'", SERVED_SANDBOX])


def _gx_directives(script_hashes: tuple[str, ...] | list[str]) -> str:
    handlers = sorted({_sha256("showAllValidations()"), _sha256("hideSucceededValidations()")})
    script_src = " ".join(["'self'", *GX_SCRIPT_HOSTS, *script_hashes, "'unsafe-hashes'", *handlers])
    return (f"default-src 'none'; script-src {script_src}; style-src 'self' 'unsafe-inline' https:; "
            f"img-src 'self' data: https:; font-src 'self' data: https:; connect-src 'self'; {_COMMON}")


def csp_meta(policy: str) -> str:
    content = html.escape(policy, quote=False).replace('"', "&quot;")  # single quotes stay readable
    return f'<meta http-equiv="Content-Security-Policy" content="{content}">'


def with_policy(page: str, policy: str) -> str:
    """`page` with `policy` as its only CSP meta element, first in `<head>` (a page without
    one gets it at the very start)."""
    page = _META.sub("", page)
    match = _HEAD.search(page)
    if match is None:
        return csp_meta(policy) + page
    return page[:match.end()] + csp_meta(policy) + page[match.end():]


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def gx_page_policy(template_page: str) -> str:
    """The policy of a GX result page. `template_page` is GX's page for an empty validation
    result: its inline scripts and event handlers (GX's own, no data in them) are the only
    ones allowed, by hash."""
    # the handlers allowed are GX's show/hide buttons' (on every page with expectations, not on
    # an empty one): an `on*=` attribute from data never matches their hashes
    return _gx_directives(sorted({_sha256(body) for body in _INLINE_SCRIPT.findall(template_page)}))
