"""Event streams (server-sent events) that a hall full of phones holds open: who gets one, and for
how long. Every SSE route answers with `event_stream(body)`:

- admission: at most `STREAMS_PER_ADDRESS` open streams per client address and `STREAMS_TOTAL`
  per server process. Above either, 503 with Retry-After and a short message; the views'
  EventSource (htmx's SSE extension) tries again with a growing delay, from half a second up
  to a minute, so a refused phone does not hammer the server.
- lifetime: a stream ends after at most `STREAM_LIFETIME` seconds (a random fifth less, so the
  streams of a hall that connected together do not all reconnect together). The view reconnects
  with the version it shows and gets nothing if nothing changed. Streams thus never pile up
  behind a proxy or a phone that vanished without closing its connection.

The slot is given back when the server closes the response (`call_on_close`), which it does when
the stream ends, when the client went away, and when the stream never started.

Serving many open streams without tying up the threads that answer the facilitator is the
server's part: gunicorn's gevent worker (see gunicorn.conf.py and docs/DEVELOPING.md)."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

from flask import Flask, Response, current_app, request, stream_with_context
from flask_babel import gettext as _

from planapp.fragments import GzipStream, accepts_gzip

# How long a refused view is asked to wait (EventSource ignores it; its own backoff applies).
RETRY_AFTER_SECONDS = 30
# Streams end somewhere between (1 - LIFETIME_JITTER) and 1 times the lifetime.
LIFETIME_JITTER = 0.2


class StreamLimits:
    """The open streams of one process, counted per client address and in total."""

    def __init__(self, per_address: int, total: int, lifetime: float) -> None:
        self.per_address = per_address
        self.total = total
        self.lifetime = lifetime
        self._open: Counter[str] = Counter()
        self._lock = threading.Lock()

    def admit(self, address: str) -> str | None:
        """Take a slot for `address`; None when admitted, else which cap refused it."""
        with self._lock:
            if self._open.total() >= self.total:
                return "total"
            if self._open[address] >= self.per_address:
                return "address"
            self._open[address] += 1
            return None

    def release(self, address: str) -> None:
        with self._lock:
            self._open[address] -= 1
            if self._open[address] <= 0:
                del self._open[address]

    def open_streams(self, address: str | None = None) -> int:
        with self._lock:
            return self._open.total() if address is None else self._open[address]

    def lease(self) -> Lease:
        return Lease(self.lifetime * (1 - LIFETIME_JITTER * random.random()))


class Lease:
    """An admitted stream's time: its body waits at most `timeout(...)` so that it ends on time."""

    def __init__(self, lifetime: float) -> None:
        self.ends_at = time.monotonic() + lifetime

    @property
    def over(self) -> bool:
        return time.monotonic() >= self.ends_at

    def timeout(self, at_most: float) -> float:
        """How long the body may wait now: `at_most`, or less when the stream ends sooner."""
        return max(0.0, min(at_most, self.ends_at - time.monotonic()))


def event_stream(body: Callable[[Lease], Iterator[bytes]], *, admit: bool = True) -> Response:
    """The answer of an SSE route: `body(lease)` yields the events (and keep-alive comments, at
    least every `lease.timeout(...)`); refused with 503 above the caps (unless `admit` is
    False: the signed-in tablets), ended after the lease. Each event is gzip-compressed as it
    goes when the browser takes it (fragments.GzipStream)."""
    limits: StreamLimits = current_app.extensions["stream_limits"]
    address = request.remote_addr or ""
    if admit:
        refused = limits.admit(address)
        if refused:
            return refusal(refused)
    lease = limits.lease()
    compress = GzipStream() if accepts_gzip(request.headers.get("Accept-Encoding", "")) else None

    def run() -> Iterator[bytes]:
        events = body(lease)
        try:
            for chunk in events:
                yield compress(chunk) if compress else chunk
                if lease.over:
                    return
        finally:
            events.close()

    response = Response(stream_with_context(run()), mimetype="text/event-stream")
    if admit:
        response.call_on_close(lambda: limits.release(address))
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    if compress:
        response.headers["Content-Encoding"] = "gzip"
        response.headers["Vary"] = "Accept-Encoding"
    return response


def refusal(cap: str) -> Response:
    if cap == "address":
        message = _(
            "Too many live views are open from this device or network. Close one you no longer "
            "need; this view tries again by itself."
        )
    else:
        message = _(
            "The server is showing as many live views as it can. This view tries again by itself."
        )
    response = Response(message + "\n", status=503, mimetype="text/plain")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.extensions["stream_limits"] = StreamLimits(
        per_address=app.config["STREAMS_PER_ADDRESS"],
        total=app.config["STREAMS_TOTAL"],
        lifetime=app.config["STREAM_LIFETIME"],
    )
