"""Web hardening in one place: the security headers every response carries, and the template
filter that decides which stored URLs may become links.

Content-Security-Policy: scripts only from our own origin (the pages carry no inline script), and
styles only from our own stylesheets: no `style="…"` attribute and no `<style>` element is obeyed,
so injected markup cannot restyle the page either. The one exception is the standalone HTML
export (`/api/v1/documents/<slug>/html`), whose fixed `<style>` block is allowed by its SHA-256
hash. The browser editor needs no style attributes: per-user colours are CSSOM rules
(web/src/colors.js) and ProseMirror sets positions through `element.style`, which CSP allows.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from flask import Flask

from akoma_ntoso.render import EXPORT_STYLE


def local_path(target: str | None) -> str | None:
    """`target` if it is a path on this site ("/d/cdmx"), else None: the one rule for every
    `next=` a page redirects to after a form.

    Browsers drop tabs and line breaks inside URLs and read a backslash as a slash, so
    "/\t/evil.example" and "/\\evil.example" would go to another site; they are refused, as are
    "//host" and anything with a scheme or host."""
    if not target:
        return None
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target) or "\\" in target:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


#: What a spreadsheet reads as the start of a formula in a cell.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A CSV cell that no spreadsheet runs: text starting like a formula (`=HYPERLINK(…)`,
    `@SUM(…)`, `+`, `-`, a tab or a carriage return) gets a leading apostrophe, which spreadsheets
    show as text. Numbers are left alone (-5 is a number, not a formula)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _style_hash(css: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii") + "'"


CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    f"style-src 'self' {_style_hash(EXPORT_STYLE)}",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
    "form-action 'self'",
))

#: Powerful features nobody drafting a constitution needs; no embedded page may ask for them either.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

#: Sent only when the site runs behind HTTPS (secure cookies): browsers then refuse plain HTTP for a year.
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}

# An absolute http(s) address with a host and nothing a browser would silently drop or reinterpret
# (it strips tabs and newlines from URLs, and reads "\" as "/").
_WEB_URL = re.compile(r"https?://[^\s/\\?#@]+(?:[/?#][^\s\\]*)?", re.IGNORECASE)


def web_url(value) -> str | None:
    """`value` if it is an absolute http:// or https:// address, else None.

    Stored addresses (a petition's or an event's page on another site) come from imports and
    forms; whatever their validation, only these become links, never `javascript:`, `data:` or
    anything a browser would run or render from our origin."""
    if not isinstance(value, str):
        return None
    if not _WEB_URL.fullmatch(value) or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return None
    return value


def install(app: Flask) -> None:
    app.jinja_env.filters["web_url"] = web_url

    @app.after_request
    def _security_headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
        return response
