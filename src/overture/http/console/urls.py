"""The console's own URLs: where to go after signing in, and the one-time sign-in links.

After signing in, a person goes only to a path on this site, never to another one.

A deep link (an approval linked from Slack or an email) survives sign-in as ``next``. Anything
that a browser could read as another origin is refused: absolute URLs, scheme-relative ``//host``,
backslashes (``/\\host``), control characters and whitespace (browsers drop some, turning
``/\\t/host`` into ``//host``), and the sign-in pages themselves (no loops).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit

MAX_CHARS = 2000
_NOT_AFTER = ("/signin", "/signout")


def safe_next(value: str | None) -> str | None:
    """``value`` when it is a same-origin relative path worth returning to, else None."""
    if not value or len(value) > MAX_CHARS or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    if any(parts.path == p or parts.path.startswith(p + "/") for p in _NOT_AFTER):
        return None
    return value


def signin_url(next_path: str | None) -> str:
    """The sign-in page, remembering where the person was going (when it is worth it)."""
    target = safe_next(next_path)
    return "/signin" if target in (None, "/") else f"/signin?next={quote(str(target), safe='/')}"


def link_url(base: str, code: str, next_path: str | None = None) -> str:
    """A one-time sign-in link under the console's base URL (the code travels in the query,
    which the access log never prints)."""
    query = {"code": code}
    target = safe_next(next_path)
    if target not in (None, "/"):
        query["next"] = str(target)
    return f"{base.rstrip('/')}/signin/link?{urlencode(query, safe='/')}"
