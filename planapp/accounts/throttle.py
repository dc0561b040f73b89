"""Slowing password guessing down without locking the owner out.

Each failed sign-in counts against three keys: the (address, account) pair, the address, and the
account. Past a key's free allowance every further failure makes the next attempt wait, the wait
doubling from one second up to a ceiling; while a wait runs, attempts are refused before the
password is checked (guessing gains nothing). A key without a failure for an hour starts again
from zero, and a successful sign-in clears its (address, account) pair, so a facilitator who
mistypes is not punished later.

Nothing locks an account for long. The account's own count (guessers spread over many addresses)
waits at most a few minutes, and a device on which the account signed in before (the "known
device" cookie, planapp/accounts/sessions.py) is not held by it at all: guessers elsewhere
cannot keep the owner's tablet out, whatever address the hall's Wi-Fi gives it today.

Counts live in the memory of the process. With the default single gunicorn worker (threads share
the process) that is exact. With N worker processes each keeps its own counts, so an attacker gets
up to N times the attempts; with several hosts, per host. Put a shared limiter in the reverse
proxy (nginx `limit_req` on /login) for large deployments.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    free: int  # failures that cost nothing
    longest_wait: float  # seconds: the doubling wait stops growing here
    forget_after: float = 60 * 60  # seconds without a failure before the count starts again

    def wait_after(self, failures: int) -> float:
        """Seconds to wait after the last of `failures`: 1, 2, 4, ... past the free ones."""
        if failures <= self.free:
            return 0.0
        return min(self.longest_wait, 2.0 ** min(failures - self.free - 1, 30))


DEFAULT_LIMITS = {
    "pair": Limit(free=4, longest_wait=15 * 60),  # one device guessing one account
    "address": Limit(free=10, longest_wait=15 * 60),  # one device trying many accounts
    # Many devices guessing one account: a short ceiling, as the owner on a new device waits it
    # too (a known device does not).
    "account": Limit(free=10, longest_wait=5 * 60),
}


MOST_KEYS = 50_000


class LoginThrottle:
    def __init__(self, limits=None, clock=time.monotonic):
        self.limits = dict(DEFAULT_LIMITS if limits is None else limits)
        self.clock = clock
        # key -> [failures, time of the last one]
        self._counts: dict[tuple, list] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(address: str, username: str) -> dict[str, tuple]:
        name = username.strip().casefold()[:80]
        return {
            "pair": ("pair", address, name),
            "address": ("address", address),
            "account": ("account", name),
        }

    def retry_after(self, address: str, username: str, known_device: bool = False) -> int:
        """Seconds until this attempt would be allowed; 0 means go ahead. A known device of the
        account is not held by the account's count."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for kind, key in self._keys(address, username).items():
                limit = self.limits.get(kind)
                count = self._counts.get(key)
                if limit is None or count is None or (kind == "account" and known_device):
                    continue
                failures, last = count
                if now - last >= limit.forget_after:
                    continue
                wait = max(wait, last + limit.wait_after(failures) - now)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, address: str, username: str) -> None:
        now = self.clock()
        with self._lock:
            for kind, key in self._keys(address, username).items():
                limit = self.limits.get(kind)
                if limit is None:
                    continue
                count = self._counts.get(key)
                if count is None or now - count[1] >= limit.forget_after:
                    count = self._counts[key] = [0, now]
                count[0] += 1
                count[1] = now
            if len(self._counts) > 10_000:
                self._forget_stale(now)

    def succeeded(self, address: str, username: str) -> None:
        """Clears the device's count for the account; the account's own count stays, or a
        guesser elsewhere would start afresh whenever the owner signs in."""
        with self._lock:
            self._counts.pop(self._keys(address, username)["pair"], None)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

    def _forget_stale(self, now: float) -> None:
        """Keep memory bounded when many addresses or names are tried: drop the counts that
        lapsed, and past MOST_KEYS the oldest half (a few MB at most)."""
        for key, (_failures, last) in list(self._counts.items()):
            if now - last >= self.limits[key[0]].forget_after:
                del self._counts[key]
        if len(self._counts) > MOST_KEYS:
            by_age = sorted(self._counts, key=lambda key: self._counts[key][1])
            for key in by_age[: len(by_age) // 2]:
                del self._counts[key]


def init_app(app) -> None:
    app.extensions["login_throttle"] = LoginThrottle(app.config.get("LOGIN_LIMITS"))


def throttle() -> LoginThrottle:
    from flask import current_app

    return current_app.extensions["login_throttle"]
