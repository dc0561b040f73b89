"""The broker: "plan N is at version V", from the request that saved a change to every open live
view. Views hold only the version number; on news they fetch the fresh state, so a view that was
away simply gets the current state (no replay).

`memory` works within one process (the default `make run`: one gunicorn worker, many threads).
A PostgreSQL LISTEN/NOTIFY broker for several workers and hosts plugs in behind the same
interface (`LIVE_BROKER=postgres`).
"""

from __future__ import annotations

import threading

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from planapp.extensions import db


class MemoryBroker:
    def __init__(self) -> None:
        self._versions: dict[int, int] = {}
        self._changed = threading.Condition()

    def publish(self, plan_id: int, version: int) -> None:
        with self._changed:
            if version > self._versions.get(plan_id, -1):
                self._versions[plan_id] = version
            self._changed.notify_all()

    def wait(self, plan_id: int, known_version: int, timeout: float) -> int | None:
        """Block until the plan is past `known_version` (return the version) or time out."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._versions.get(plan_id, -1) > known_version, timeout=timeout
            )
            version = self._versions.get(plan_id, -1)
            return version if version > known_version else None


BROKERS = {"memory": MemoryBroker}


def init_app(app) -> None:
    kind = app.config["LIVE_BROKER"]
    if kind not in BROKERS:
        raise RuntimeError(f"unknown LIVE_BROKER {kind!r}; choose one of {sorted(BROKERS)}")
    app.extensions["live_broker"] = BROKERS[kind]()


def broker():
    return current_app.extensions["live_broker"]


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
        for plan_id, version in pending.items():
            target.publish(plan_id, version)


@event.listens_for(Session, "after_rollback")
def _forget(session) -> None:
    session.info.pop("live_pending", None)
