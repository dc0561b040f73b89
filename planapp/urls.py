"""Where a form may send the browser next: the one check for every redirect whose target comes
from the request (a `next` field or parameter)."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_redirect_target(target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default`.

    Judged as a browser would read it: browsers drop tabs and line breaks anywhere in a URL,
    trim spaces and control characters at its ends and read a backslash as a slash, so
    `/\\t/evil.example` and `/\\\\evil.example` both lead to `//evil.example`, another site. Any
    such character refuses the target (no real path of ours has one), which also keeps CR/LF out
    of the Location header."""
    if not target or not isinstance(target, str):
        return default
    if "\\" in target or any(ch.isspace() or not ch.isprintable() for ch in target):
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
