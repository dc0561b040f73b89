"""The hall laptop's calls to the district server's sync API (planapp/sync/api.py), with a
timeout: a server that cannot be reached, or does not answer in time, is said so plainly
(`Unreachable`) instead of holding the facilitator's page."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from planapp.i18n import gettext as _

LARGEST_ANSWER = 50 * 1024 * 1024  # bytes read of an answer: a plan file is far smaller


class Unreachable(Exception):
    """No answer from the server (address, network, timeout): `message` says which."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Answer:
    status: int
    body: dict


def check_address(address: str) -> str:
    """The server's address as typed, or ValueError: http(s) with a host, no path beyond '/'."""
    address = address.strip().rstrip("/")
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(address)
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(address)
    return address


def plan_url(address: str, fiscal_year: int) -> str:
    return f"{check_address(address)}/api/sync/plans/{int(fiscal_year)}"


def _too_slow(host: str, timeout: float) -> Unreachable:
    return Unreachable(
        _(
            "The server %(host)s did not answer within %(seconds)s seconds. Check the "
            "internet connection and try again.",
            host=host,
            seconds=f"{timeout:g}",
        )
    )


def call(method: str, url: str, token: str, *, timeout: float, body: dict | None = None) -> Answer:
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "planapp-sync",
        },
    )
    host = urlsplit(url).netloc
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read(LARGEST_ANSWER)
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read(LARGEST_ANSWER)
    except TimeoutError:
        raise _too_slow(host, timeout) from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, TimeoutError):
            raise _too_slow(host, timeout) from None
        raise Unreachable(
            _(
                "The server %(host)s cannot be reached (%(reason)s). Check the internet "
                "connection and the server's address, then try again.",
                host=host,
                reason=str(reason)[:200],
            )
        ) from None
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        parsed = None
    if not isinstance(parsed, dict):
        raise Unreachable(
            _(
                "The address %(host)s answers, but not as a planapp server (status %(status)s).",
                host=host,
                status=status,
            )
        )
    return Answer(status, parsed)
