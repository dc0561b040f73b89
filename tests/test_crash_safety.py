"""Nothing acknowledged is ever lost: the server is killed (SIGKILL, no clean shutdown) in the
middle of a burst of changes, restarted, and every change it answered is there, with the ranks of
every column consistent. And a backup taken while the server is busy is one consistent moment.

The burst uses the board's `POST /plans/<id>/moves` (each card moved to the end of a column, so
the expected board is known exactly).
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.browser import ROOT, Tablet

GROUP_CYCLE = ["1", "2", "3", "unsorted"]


@contextmanager
def live_database(live_server, monkeypatch):
    """The app in this process, over the live server's database, to look at what it saved."""
    from planapp import create_app
    from planapp.extensions import db

    for name in ("PLANAPP_INSTANCE_PATH", "DATABASE_URL"):
        if name in live_server.env:
            monkeypatch.setenv(name, live_server.env[name])
        else:
            monkeypatch.delenv(name, raising=False)
    app = create_app({"SECRET_KEY": live_server.env["SECRET_KEY"]})
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def board(plan_id: int) -> dict[str, list[tuple[int, int]]]:
    """Each column's (rank, project id), in rank order."""
    from sqlalchemy import select

    from planapp.extensions import db
    from planapp.models import Project

    db.session.expire_all()
    columns: dict[str, list[tuple[int, int]]] = {}
    for project in db.session.scalars(
        select(Project)
        .where(Project.plan_id == plan_id, Project.merged_into_id.is_(None))
        .order_by(Project.funding_group, Project.rank, Project.id)
    ):
        columns.setdefault(project.funding_group, []).append((project.rank, project.id))
    return columns


def kill_server(live_server) -> None:
    """SIGKILL the gunicorn worker (which holds the requests in flight) and its master."""
    master = live_server.process.pid
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    for pid in [int(child) for child in children] + [master]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    live_server.process.wait(timeout=10)


def test_every_acknowledged_change_survives_a_sigkill(live_server, monkeypatch):
    with live_database(live_server, monkeypatch) as app:
        from planapp.extensions import db
        from planapp.models import Plan

        assert any(rule.rule == "/plans/<int:plan_id>/moves" for rule in app.url_map.iter_rules())
        plan_id = live_server.plan_id
        start = board(plan_id)
        start_version = db.session.get(Plan, plan_id).version
        project_ids = sorted(pid for column in start.values() for _rank, pid in column)

    tablet = Tablet(live_server.base_url)
    tablet.sign_in("facilitator")
    tablet.get(f"/plans/{plan_id}")
    acknowledged: list[tuple[int, str]] = []
    in_flight: list[tuple[int, str]] = []
    enough = threading.Event()

    def burst():
        version = start_version
        for step in range(10_000):
            project_id = project_ids[step % len(project_ids)]
            group = GROUP_CYCLE[(step // len(project_ids) + step) % len(GROUP_CYCLE)]
            in_flight[:] = [(project_id, group)]
            fields = {"project_id": project_id, "group": group, "before_id": "", "version": version}
            try:
                status = tablet.post(f"/plans/{plan_id}/moves", fields)
            except OSError:
                return  # the server died under this request: not acknowledged
            assert status == 200, status
            in_flight.clear()
            acknowledged.append((project_id, group))
            version += 1
            if len(acknowledged) >= 25:
                enough.set()

    thread = threading.Thread(target=burst, daemon=True)
    thread.start()
    assert enough.wait(timeout=120), "the burst did not get going"
    kill_server(live_server)
    thread.join(timeout=60)
    assert not thread.is_alive()
    live_server.start()

    with live_database(live_server, monkeypatch):
        from planapp.extensions import db
        from planapp.models import ChangeLog, Plan

        plan = db.session.get(Plan, plan_id)
        saved = plan.version - start_version
        # Every acknowledged change is there; at most the one in flight got in besides.
        assert len(acknowledged) <= saved <= len(acknowledged) + len(in_flight)
        changes = [
            entry.plan_version
            for entry in db.session.query(ChangeLog).filter(ChangeLog.plan_id == plan_id)
        ]
        assert sorted(changes)[-saved:] == list(range(start_version + 1, plan.version + 1))
        done = acknowledged + in_flight[: saved - len(acknowledged)]
        after = board(plan_id)
        for group, column in after.items():
            # Ranks are 1..n without gap or repeat in every column.
            assert [rank for rank, _pid in column] == list(range(1, len(column) + 1)), group
        # Each card moved to the end of a column sits there in the order of its last move.
        last_move = {}
        for number, (project_id, group) in enumerate(done):
            last_move[project_id] = (number, group)
        for group, column in after.items():
            moved_here = [pid for _rank, pid in column if last_move.get(pid, (0, None))[1] == group]
            expected = sorted(moved_here, key=lambda pid: last_move[pid][0])
            assert moved_here == expected, group
            ids = [pid for _rank, pid in column]
            assert ids[len(ids) - len(moved_here) :] == moved_here, group
        for project_id, (_number, group) in last_move.items():
            assert project_id in [pid for _rank, pid in after.get(group, [])]


@pytest.mark.sqlite_only  # `flask backup` copies the SQLite file (PostgreSQL: pg_dump)
def test_a_backup_taken_while_the_server_is_busy_is_consistent(live_server, tmp_path):
    tablet = Tablet(live_server.base_url)
    tablet.sign_in("facilitator")
    plan_id = live_server.plan_id
    stop = threading.Event()
    answered = []

    def burst():
        page = tablet.get(f"/plans/{plan_id}")
        assert page
        project_ids = [int(pid) for pid in re.findall(r'data-project-id="(\d+)"', page)] or [1]
        while not stop.is_set():
            pid = project_ids[len(answered) % len(project_ids)]
            answered.append(tablet.post(f"/plans/{plan_id}/projects/{pid}/votes", {"delta": "1"}))

    thread = threading.Thread(target=burst, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while len(answered) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    copies = []
    try:
        for number in range(3):
            target = tmp_path / f"hall-{number}.sqlite"
            result = subprocess.run(
                [sys.executable, "-m", "flask", "--app", "app", "backup", str(target)],
                cwd=ROOT, env=live_server.env, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert result.returncode == 0, result.stderr
            copies.append(target)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert set(answered) == {200}
    for copy in copies:
        connection = sqlite3.connect(copy)
        try:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            version = connection.execute(
                "SELECT version FROM plans WHERE id = ?", (plan_id,)
            ).fetchone()[0]
            latest = connection.execute(
                "SELECT max(plan_version) FROM change_log WHERE plan_id = ?", (plan_id,)
            ).fetchone()[0]
            # The version bump and its change-log row were written together: a copy that had one
            # without the other would be a torn moment.
            assert version == latest
        finally:
            connection.close()
