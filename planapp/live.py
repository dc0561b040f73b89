"""The broker: "plan N is at version V", from the request that saved a change to every open live
view. Only ids and version numbers travel; a view that hears of a newer version renders the
current state, so a view that was away simply gets the current state (no replay). A request's
announcements go out after commit and, under a threaded server, once its answer is sent.

Two kinds behind one interface (`publish`, `wait`, `close`), chosen by `LIVE_BROKER`:
- `memory`: within one process (the default `make run`: one gunicorn worker, many threads);
- `postgres`: PostgreSQL LISTEN/NOTIFY, for several workers and hosts on one database. Each
  process keeps a MemoryBroker that one listener thread feeds from the database's notifications.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Response, current_app, has_request_context, request
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from werkzeug.wsgi import ClosingIterator

from planapp import streams
from planapp.extensions import db

log = logging.getLogger(__name__)

CHANNEL = "planapp_live"


# Views woken at a time by a change; between groups the process lets other work in.
WAKE_BATCH = 50


class MemoryBroker:
    """Each waiting view holds an event of its own, set when its plan changes. A change wakes
    its views WAKE_BATCH at a time (see `wake`)."""

    def __init__(self) -> None:
        self._versions: dict[int, int] = {}
        self._waiting: dict[int, dict[threading.Event, None]] = {}  # plan id -> waiting views
        self._lock = threading.Lock()
        self._closed = False

    def publish(self, plan_id: int, version: int) -> None:
        with self._lock:
            if version > self._versions.get(plan_id, -1):
                self._versions[plan_id] = version
            waiting = list(self._waiting.pop(plan_id, ()))
        wake(waiting)

    def wait(self, plan_id: int, known_version: int, timeout: float) -> int | None:
        """Block until the plan is past `known_version` (return the version) or time out.
        Returns None at once when the broker is closed (the server is shutting down)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                version = self._versions.get(plan_id, -1)
                remaining = deadline - time.monotonic()
                if version > known_version or self._closed or remaining <= 0:
                    return version if version > known_version else None
                changed = threading.Event()
                self._waiting.setdefault(plan_id, {})[changed] = None
            if not changed.wait(remaining):
                with self._lock:
                    waiting = self._waiting.get(plan_id, {})
                    waiting.pop(changed, None)
                    if not waiting:
                        self._waiting.pop(plan_id, None)

    @property
    def closed(self) -> bool:
        return self._closed

    def waiting_views(self) -> int:
        with self._lock:
            return sum(len(views) for views in self._waiting.values())

    def close(self) -> None:
        """Wake every waiting stream so it can end: open streams must not hold up a restart."""
        with self._lock:
            self._closed = True
            waiting = [changed for views in self._waiting.values() for changed in views]
            self._waiting.clear()
        wake(waiting)


def wake(events: list) -> None:
    """Set the events of the views to wake. Under gunicorn's gevent worker a woken view runs
    until it has rendered and written its event, and a request that comes in meanwhile queues
    behind all the views already woken: a thousand phones woken at once would make the
    facilitator's next move wait for the whole hall. So a larger crowd is woken WAKE_BATCH at a
    time, from a thread (a greenlet) of its own, yielding between groups: the move waits for
    one group at most, and the request that published is not held up either."""
    if len(events) <= WAKE_BATCH:
        for changed in events:
            changed.set()
        return
    threading.Thread(target=_wake_in_groups, args=(events,), name="live-wake", daemon=True).start()


def _wake_in_groups(events: list) -> None:
    for start in range(0, len(events), WAKE_BATCH):
        if start:
            time.sleep(0)  # let whatever is waiting run (gevent: back of the queue)
        for changed in events[start : start + WAKE_BATCH]:
            changed.set()


class PostgresBroker:
    """NOTIFY on publish; one LISTEN connection per process feeds the local MemoryBroker.

    The payload is "<plan_id>:<version>" (ids only, far below NOTIFY's 8000-byte limit). When the
    listening connection drops, notifications sent meanwhile are lost, so after reconnecting the
    listener reads the current version of every plan it is watching from the database."""

    def __init__(self, app) -> None:
        url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        if not url.drivername.startswith("postgresql"):
            raise RuntimeError("LIVE_BROKER=postgres needs a PostgreSQL DATABASE_URL")
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._local = MemoryBroker()
        self._watched: dict[int, int] = {}  # plan id -> number of waiting streams
        self._lock = threading.Lock()
        self._listener: threading.Thread | None = None
        self._listening = threading.Event()
        self._connection = None
        self._publisher = None  # one kept connection for NOTIFY, shared under a lock
        self._publish_lock = threading.Lock()

    # -- the interface --

    def publish(self, plan_id: int, version: int) -> None:
        import psycopg

        # Our own process hears it at once; the others through the database.
        self._local.publish(plan_id, version)
        payload = f"{plan_id}:{version}"
        with self._publish_lock:
            for attempt in (1, 2):  # a kept connection may have gone stale: retry once
                try:
                    if self._publisher is None or self._publisher.closed:
                        self._publisher = psycopg.connect(
                            self._conninfo, autocommit=True, connect_timeout=5
                        )
                    self._publisher.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
                    return
                except psycopg.Error:
                    self._publisher = None
                    if attempt == 2:
                        # The change is saved; other processes' views catch up on reconnect.
                        log.exception("live: could not announce plan %s", payload)

    def wait(self, plan_id: int, known_version: int, timeout: float) -> int | None:
        self._ensure_listener()
        with self._lock:
            self._watched[plan_id] = self._watched.get(plan_id, 0) + 1
        try:
            return self._local.wait(plan_id, known_version, timeout)
        finally:
            with self._lock:
                self._watched[plan_id] -= 1
                if not self._watched[plan_id]:
                    del self._watched[plan_id]

    @property
    def closed(self) -> bool:
        return self._local.closed

    def close(self) -> None:
        self._local.close()
        with self._publish_lock:
            if self._publisher is not None:
                self._publisher.close()
                self._publisher = None
        connection = self._connection
        if connection is not None:
            try:
                connection.cancel()  # ends a blocking wait for notifications
            except Exception:  # noqa: BLE001 - closing down anyway
                pass

    def listening(self, timeout: float) -> bool:
        """Wait until the listener is subscribed (tests and benchmarks use it)."""
        self._ensure_listener()
        return self._listening.wait(timeout)

    # -- the listener thread --

    def _ensure_listener(self) -> None:
        # Started lazily, inside the process that serves: a thread does not survive a fork.
        with self._lock:
            if self._listener is None or not self._listener.is_alive():
                self._listener = threading.Thread(
                    target=self._listen_forever, name="live-listener", daemon=True
                )
                self._listener.start()

    def _listen_forever(self) -> None:
        import psycopg

        delay = 0.2
        while not self._local.closed:
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    self._connection = conn
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._catch_up(conn)
                    self._listening.set()
                    delay = 0.2
                    while not self._local.closed:
                        for notice in conn.notifies(timeout=5.0):
                            self._receive(notice.payload)
            except psycopg.Error:
                if self._local.closed:
                    break
                log.warning("live: lost the LISTEN connection, reconnecting", exc_info=True)
            finally:
                self._connection = None
                self._listening.clear()
            self._local.wait(-1, 0, delay)  # sleep, but wake at once on close
            delay = min(delay * 2, 5.0)

    def _receive(self, payload: str) -> None:
        try:
            plan_id, version = (int(part) for part in payload.split(":"))
        except ValueError:
            log.warning("live: ignoring notification %r", payload)
            return
        self._local.publish(plan_id, version)

    def _catch_up(self, conn) -> None:
        with self._lock:
            plan_ids = list(self._watched)
        if plan_ids:
            rows = conn.execute(
                "SELECT id, version FROM plans WHERE id = ANY(%s)", (plan_ids,)
            ).fetchall()
            for plan_id, version in rows:
                self._local.publish(plan_id, version)


def _memory(app) -> MemoryBroker:
    return MemoryBroker()


BROKERS = {"memory": _memory, "postgres": PostgresBroker}


def init_app(app) -> None:
    kind = app.config["LIVE_BROKER"]
    if kind not in BROKERS:
        raise RuntimeError(f"unknown LIVE_BROKER {kind!r}; choose one of {sorted(BROKERS)}")
    app.extensions["live_broker"] = BROKERS[kind](app)
    app.wsgi_app = AnnounceAfterResponse(app.wsgi_app)


# Where a request's announcements wait for its answer to be sent (see AnnounceAfterResponse).
DEFERRED = "planapp.live.deferred"


class AnnounceAfterResponse:
    """WSGI middleware: the announcements of what a request saved go out once its answer has
    been sent, when the server closes the response. The open views then wake up, render and
    write while the facilitator already has the answer, instead of competing with that request
    for the interpreter. Only under a multithreaded server (gunicorn gthread, the development
    server), which always closes a response; elsewhere (the test client) at commit, as before."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if not environ.get("wsgi.multithread"):
            return self.wsgi_app(environ, start_response)
        deferred: list = []
        environ[DEFERRED] = deferred
        try:
            body = self.wsgi_app(environ, start_response)
        except BaseException:
            _send(deferred)
            raise
        if not deferred:
            environ[DEFERRED] = None  # nothing held back: a later commit announces at once
            return body
        return ClosingIterator(body, lambda: _send(deferred))


def _send(deferred: list) -> None:
    while deferred:
        target, pending = deferred.pop(0)
        for plan_id, version in pending.items():
            target.publish(plan_id, version)


def broker():
    return current_app.extensions["live_broker"]


def current_version(plan_id: int) -> int | None:
    """The version saved in the database (what a newly connected view compares against)."""
    return db.session.execute(
        text("SELECT version FROM plans WHERE id = :id"), {"id": plan_id}
    ).scalar()


def publish_after_commit(plan_id: int, version: int) -> None:
    """Queue an announcement that goes out only if the transaction commits."""
    pending = db.session.info.setdefault("live_pending", {})
    pending[plan_id] = max(version, pending.get(plan_id, 0))
    db.session.info["live_broker"] = broker()


@event.listens_for(Session, "after_commit")
def _announce(session) -> None:
    pending = session.info.pop("live_pending", None)
    target = session.info.pop("live_broker", None)
    if pending and target is not None:
        deferred = request.environ.get(DEFERRED) if has_request_context() else None
        if deferred is not None:
            deferred.append((target, pending))  # sent with the answer (AnnounceAfterResponse)
        else:
            _send([(target, pending)])


@event.listens_for(Session, "after_rollback")
def _forget(session) -> None:
    session.info.pop("live_pending", None)


def close_all(app) -> None:
    """Called when the server shuts down (see gunicorn.conf.py)."""
    target = app.extensions.get("live_broker")
    if target is not None:
        target.close()


# --- the streams of the live views ----------------------------------------------------------

# A comment line this often keeps proxies and the browser from dropping a quiet stream.
KEEP_ALIVE_SECONDS = 15


def client_version() -> int:
    """What the view already shows: Last-Event-ID on the browser's own reconnect, else the
    version the page was rendered at (htmx's SSE extension reconnects with a new EventSource,
    which sends no Last-Event-ID, so our scripts keep the address's version up to date)."""
    known = -1
    for raw in (request.headers.get("Last-Event-ID"), request.args.get("version")):
        try:
            known = max(known, int(raw))
        except (TypeError, ValueError):
            continue
    return known


def follow(plan_id: int, known: int, render, lease: streams.Lease):
    """The loop of every live view's stream (the tablets' boards, the projector, the phones).
    Whenever the plan is past the version the view shows, `render(known)` returns
    (the version now shown, the event, whether the stream ends there). Between changes the
    stream holds no database connection; a comment keeps it open. It ends with the lease."""
    target = broker()
    yield b"retry: 1000\n\n"
    version = current_version(plan_id)
    db.session.close()
    while not target.closed and not lease.over:
        if version is not None and version > known:
            try:
                known, chunk, done = render(known)
            finally:
                db.session.close()  # give the connection back: the stream may now wait long
            yield chunk
            if done:
                return
        version = target.wait(plan_id, known, timeout=lease.timeout(KEEP_ALIVE_SECONDS))
        if version is None:
            yield b": keep-alive\n\n"


def event_stream(plan_id: int, render, *, public: bool = True) -> Response:
    """The response of a live view's stream (`follow` with `render`), from the version the view
    shows. The one door of every stream: admission, lifetime and compression are
    planapp.streams' (`public=False` for the signed-in tablets: never refused because the
    hall's phones filled the caps)."""
    known = client_version()
    return streams.event_stream(lambda lease: follow(plan_id, known, render, lease), admit=public)
