"""The live broker: "plan N is at version V" from the saving request to every waiting view.

Both kinds behind the one interface: the in-process MemoryBroker, and the PostgreSQL
LISTEN/NOTIFY broker (run against TEST_DATABASE_URL when it is PostgreSQL, e.g. through
`.ci/with-postgres`; skipped on SQLite)."""

from __future__ import annotations

import os
import threading
import time

import pytest

from planapp import create_app, live
from planapp.live import MemoryBroker, PostgresBroker


def test_wait_returns_a_newer_version_at_once():
    broker = MemoryBroker()
    broker.publish(7, 3)
    assert broker.wait(7, 2, timeout=0) == 3
    assert broker.wait(7, 3, timeout=0) is None  # nothing newer than what the view has
    assert broker.wait(8, -1, timeout=0) is None  # another plan


def test_versions_never_go_back():
    broker = MemoryBroker()
    broker.publish(1, 5)
    broker.publish(1, 4)  # a late announcement of an older version
    assert broker.wait(1, 0, timeout=0) == 5


def test_waiting_view_wakes_on_publish_from_another_thread():
    broker = MemoryBroker()
    got = []
    waiter = threading.Thread(target=lambda: got.append(broker.wait(1, 0, timeout=10)))
    waiter.start()
    time.sleep(0.05)  # let it block first (not needed for correctness, only for the test's point)
    broker.publish(1, 1)
    waiter.join(timeout=5)
    assert got == [1]


def test_wait_times_out_with_none():
    broker = MemoryBroker()
    started = time.monotonic()
    assert broker.wait(1, 0, timeout=0.1) is None
    assert time.monotonic() - started >= 0.09


def test_close_wakes_every_waiter_so_streams_end_on_shutdown():
    broker = MemoryBroker()
    results = []
    waiters = [
        threading.Thread(target=lambda: results.append(broker.wait(1, 0, timeout=30)))
        for _ in range(5)
    ]
    for waiter in waiters:
        waiter.start()
    broker.close()
    for waiter in waiters:
        waiter.join(timeout=5)
    assert results == [None] * 5
    assert broker.closed


def test_unknown_broker_kind_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANAPP_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="LIVE_BROKER"):
        create_app({"LIVE_BROKER": "carrier-pigeon", "SECRET_KEY": "x"})


def test_postgres_broker_needs_postgres(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANAPP_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="PostgreSQL"):
        create_app({"LIVE_BROKER": "postgres", "SECRET_KEY": "x"})


def test_announcement_waits_for_commit_and_is_dropped_on_rollback(app, demo_plan):
    from planapp.changes import record_change
    from planapp.extensions import db

    record_change(demo_plan, "edit", actor=None)
    db.session.rollback()
    assert live.broker().wait(demo_plan.id, 0, timeout=0) is None
    record_change(demo_plan, "edit", actor=None)
    db.session.commit()
    assert live.broker().wait(demo_plan.id, 0, timeout=0) == 1


def test_under_a_threaded_server_the_announcement_waits_for_the_answer(
    facilitator_client, demo_plan
):
    """A threaded server (gunicorn gthread) closes each response once it is sent: only then do
    the views hear of the change, so they do not compete with the request that made it."""
    plan_id, version = demo_plan.id, demo_plan.version
    response = facilitator_client.post(
        f"/plans/{plan_id}/screen",
        data={"mode": "summary"},
        environ_overrides={"wsgi.multithread": True},
    )
    assert response.status_code == 302
    assert live.broker().wait(plan_id, version, timeout=0) is None  # answered, not yet sent
    response.close()
    assert live.broker().wait(plan_id, version, timeout=0) == version + 1


# --- PostgreSQL LISTEN/NOTIFY ---------------------------------------------------------------

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL.startswith("postgres"), reason="TEST_DATABASE_URL is not PostgreSQL"
)


class FakeApp:
    def __init__(self, url: str):
        from planapp.config import database_url

        self.config = {"SQLALCHEMY_DATABASE_URI": database_url("/nonexistent")}


@pytest.fixture
def pg_brokers(monkeypatch):
    """Two brokers as two worker processes (or hosts) would have them."""
    monkeypatch.setenv("DATABASE_URL", POSTGRES_URL)
    brokers = [PostgresBroker(FakeApp(POSTGRES_URL)) for _ in range(2)]
    for broker in brokers:
        assert broker.listening(timeout=10)
    yield brokers
    for broker in brokers:
        broker.close()


@needs_postgres
def test_postgres_publish_reaches_the_other_process(pg_brokers):
    sender, receiver = pg_brokers
    got = []
    waiter = threading.Thread(target=lambda: got.append(receiver.wait(424242, 0, timeout=10)))
    waiter.start()
    sender.publish(424242, 9)
    waiter.join(timeout=15)
    assert got == [9]
    assert sender.wait(424242, 0, timeout=0) == 9  # and its own process at once


@needs_postgres
def test_postgres_listener_catches_up_after_losing_its_connection(app, demo_plan, pg_brokers):
    """Notifications sent while the LISTEN connection is down are lost; on reconnecting the
    listener reads the current version of the plans its views are watching. (The brokers
    connect after `app` has made the database anew.)"""
    import psycopg

    from planapp.changes import record_change
    from planapp.extensions import db

    _, receiver = pg_brokers
    plan_id = demo_plan.id
    got = []
    waiter = threading.Thread(target=lambda: got.append(receiver.wait(plan_id, 0, timeout=20)))
    waiter.start()
    time.sleep(0.2)  # the waiter registers the plan as watched
    # The app here announces through its in-process broker only, so `receiver` hears nothing
    # of this change; then its LISTEN connection is cut, and on reconnecting it must find it.
    record_change(demo_plan, "edit", actor=None)
    db.session.commit()
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid()"
        )
    waiter.join(timeout=25)
    assert got == [1]


def test_the_postgres_broker_is_the_default_on_postgresql(tmp_path, monkeypatch):
    """Several app servers on one database need no setting for a move through one to reach the
    views held by another; PLANAPP_LIVE_BROKER still chooses. (No database is opened.)"""
    monkeypatch.setenv("PLANAPP_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("PLANAPP_LIVE_BROKER", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://planapp@127.0.0.1:9/planapp")
    assert isinstance(create_app({"SECRET_KEY": "x"}).extensions["live_broker"], PostgresBroker)
    monkeypatch.setenv("PLANAPP_LIVE_BROKER", "memory")
    assert isinstance(create_app({"SECRET_KEY": "x"}).extensions["live_broker"], MemoryBroker)
    monkeypatch.delenv("PLANAPP_LIVE_BROKER")
    monkeypatch.delenv("DATABASE_URL")
    assert isinstance(create_app({"SECRET_KEY": "x"}).extensions["live_broker"], MemoryBroker)
