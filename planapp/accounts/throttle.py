"""Login rate limiting: failed sign-ins are counted per (address, username), per address and per
username over a sliding window; once any count is full, further attempts are refused without
checking the password until the oldest failure leaves the window. A successful sign-in clears the
(address, username) count, so a facilitator who mistypes once is not punished later.

Counts live in the memory of the process. With the default single gunicorn worker (threads share
the process) that is exact. With N worker processes each keeps its own counts, so an attacker gets
up to N times the limit; with several hosts, per host. That still turns a password-guessing run
from thousands of tries a minute into a handful; put a shared limiter in the reverse proxy (nginx
`limit_req` on /login) for large deployments.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

# (what is counted, failures allowed, window in seconds)
DEFAULT_LIMITS = (
    ("pair", 5, 15 * 60),  # one device guessing one account
    ("address", 30, 15 * 60),  # one device trying many accounts
    ("username", 50, 60 * 60),  # many devices guessing one account
)


class LoginThrottle:
    def __init__(self, limits=DEFAULT_LIMITS, clock=time.monotonic):
        self.limits = limits
        self.clock = clock
        self._failures: dict[tuple, deque] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(address: str, username: str) -> dict[str, tuple]:
        name = username.strip().casefold()[:80]
        return {
            "pair": ("pair", address, name),
            "address": ("address", address),
            "username": ("username", name),
        }

    def retry_after(self, address: str, username: str) -> int:
        """Seconds until this attempt would be allowed; 0 means go ahead."""
        now = self.clock()
        keys = self._keys(address, username)
        wait = 0.0
        with self._lock:
            for kind, allowed, window in self.limits:
                failures = self._recent(keys[kind], now, window)
                if len(failures) >= allowed:
                    wait = max(wait, failures[-allowed] + window - now)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, address: str, username: str) -> None:
        now = self.clock()
        longest = max(window for _kind, _allowed, window in self.limits)
        with self._lock:
            for key in self._keys(address, username).values():
                failures = self._failures.setdefault(key, deque())
                while failures and failures[0] <= now - longest:
                    failures.popleft()
                failures.append(now)
            if len(self._failures) > 10_000:
                self._forget_older_than(now - longest)

    def succeeded(self, address: str, username: str) -> None:
        with self._lock:
            self._failures.pop(self._keys(address, username)["pair"], None)

    def reset(self) -> None:
        with self._lock:
            self._failures.clear()

    def _recent(self, key: tuple, now: float, window: float) -> deque:
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        # Failures are kept for the longest window; count only those inside this one.
        return deque(t for t in failures if t > now - window)

    def _forget_older_than(self, cutoff: float) -> None:
        """Keep memory bounded when many addresses or names are tried."""
        for key in list(self._failures):
            failures = self._failures[key]
            while failures and failures[0] <= cutoff:
                failures.popleft()
            if not failures:
                del self._failures[key]


def init_app(app) -> None:
    app.extensions["login_throttle"] = LoginThrottle(app.config.get("LOGIN_LIMITS", DEFAULT_LIMITS))


def throttle() -> LoginThrottle:
    from flask import current_app

    return current_app.extensions["login_throttle"]
