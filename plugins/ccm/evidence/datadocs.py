"""Offline renditions of Great Expectations Data Docs pages for the auditor's pack.

GX renders its pages with Bootstrap, jQuery, Font Awesome and Vega from public CDNs. The
pack must open from the file system with no network, so it carries two things per
page: the original, byte for byte (its SHA-256 is in the evaluation record), and an
offline rendition that links nothing external: scripts and external stylesheets, images
and links are removed, and so are event-handler attributes; a small local stylesheet and a
Content-Security-Policy that allows no script are added. The content (every
expectation, its result, the unexpected values) is GX's own markup, unchanged.
"""

from __future__ import annotations

import html
import re

from ccm.webpolicy import OFFLINE_DOCS_POLICY, with_policy

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.IGNORECASE | re.DOTALL)
_EXTERNAL_LINK_TAG = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
_EXTERNAL_IMG = re.compile(r"<img\b[^>]*\bsrc\s*=\s*[\"']https?://[^>]*>", re.IGNORECASE)
_EXTERNAL_HREF = re.compile(r"(<a\b[^>]*?)\s+href\s*=\s*[\"'](?:https?:)?//[^\"']*[\"']", re.IGNORECASE)
_EXTERNAL_ACTION = re.compile(r"\s+action\s*=\s*[\"']https?://[^\"']*[\"']", re.IGNORECASE)
# event-handler attributes (GX's show/hide buttons): with the scripts gone they could only fail
_HANDLER_ATTR = re.compile(r"(<[a-zA-Z][^>]*?)\s+on[a-zA-Z]+\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+)")
_CSS_URL = re.compile(r"url\(\s*['\"]?https?://[^)]*\)", re.IGNORECASE)
# Bootstrap collapse toggles: without Bootstrap the sections are simply open, and GX's toggles
# point at ids its own markup does not carry
_COLLAPSE_HREF = re.compile(r"(<a\b[^>]*?data-toggle\s*=\s*[\"']collapse[\"'][^>]*?)\s+href\s*=\s*[\"']#[^\"']*[\"']",
                            re.IGNORECASE)

OFFLINE_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 1.5rem 2rem; color: #1d2433; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #dde1e8; padding: .25rem .5rem; vertical-align: top; text-align: left; }
.ccm-offline { background: #eef3fb; border: 1px solid #c9d8f0; padding: .5rem .8rem; margin: 1rem 0; }
.ccm-offline code { word-break: break-all; }
.text-danger, .fa-times { color: #9b1c1c; } .text-success, .fa-check { color: #1b5e20; }
ul.nav, .navbar { list-style: none; padding: 0; }
"""


def offline_rendition(page: str, banner: str = "") -> str:
    """The page with nothing that reaches the network; `banner` (HTML) is shown at the top."""
    text = _SCRIPT.sub("", page)
    text = _EXTERNAL_LINK_TAG.sub(
        lambda m: "" if re.search(r"href\s*=\s*[\"'](?:https?:)?//", m.group(0), re.IGNORECASE)
        or re.search(r"rel\s*=\s*[\"'][^\"']*icon", m.group(0), re.IGNORECASE) else m.group(0), text)
    text = _EXTERNAL_IMG.sub("", text)
    text = _EXTERNAL_HREF.sub(r"\1", text)
    text = _COLLAPSE_HREF.sub(r"\1", text)
    text = _EXTERNAL_ACTION.sub("", text)
    text = _CSS_URL.sub("none", text)
    while _HANDLER_ATTR.search(text):
        text = _HANDLER_ATTR.sub(r"\1", text)
    style = f"<style>{OFFLINE_CSS}</style>"
    text = re.sub(r"</head\s*>", style + "</head>", text, count=1, flags=re.IGNORECASE) if "</head" in text.lower() \
        else style + text
    text = with_policy(text, OFFLINE_DOCS_POLICY)  # no script at all; replaces the original's policy
    if banner:
        text = re.sub(r"(<body\b[^>]*>)", lambda m: m.group(1) + f'<div class="ccm-offline">{banner}</div>', text,
                      count=1, flags=re.IGNORECASE)
    return text


def banner_for(original_path: str, sha256: str | None, back_href: str) -> str:
    digest = f" (SHA-256 <code>{html.escape(sha256)}</code>)" if sha256 else ""
    return (f'Offline rendition of a Great Expectations Data Docs page: scripts and CDN styles removed, content '
            f'unchanged. The original, byte for byte, is <code>{html.escape(original_path)}</code> in this pack'
            f'{digest}. <a href="{html.escape(back_href)}">Back to the evidence</a>')
