"""Backups of the SQLite database while it is being written, and restoring one."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import func, select

from planapp import backup as backups
from planapp.extensions import db
from planapp.models import Plan, Project

# SQLite backups; PostgreSQL is backed up with pg_dump (README).
pytestmark = pytest.mark.sqlite_only


def count(path, sql):
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql).fetchone()[0]
    finally:
        connection.close()


def test_a_backup_taken_during_a_burst_of_writes_is_one_consistent_moment(app, demo_plan):
    database = backups.sqlite_file()
    plan_id, start_version = demo_plan.id, demo_plan.version
    start_projects = db.session.scalar(select(func.count()).select_from(Project))
    db.session.commit()
    stop = threading.Event()

    def writer():
        # Another connection, as the server's: each transaction adds a project AND bumps the
        # version, so in any consistent copy the two moved by the same amount.
        connection = sqlite3.connect(database, timeout=30)
        try:
            while not stop.is_set():
                project_id = connection.execute(
                    "INSERT INTO projects (plan_id, title, rationale, objective, target_output,"
                    " location, sector, programme, budget_satang, kpi, expected_result,"
                    " feasibility, feasibility_reason, urgency, note, votes,"
                    " followup_status, followup_note, created_at, updated_at) VALUES"
                    " (?, 'ระหว่างสำรอง', '', '', '', '', 'infrastructure', '', 0, '', '',"
                    " 'pending', '', NULL, '', 0, 'none', '', CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP)",
                    (plan_id,),
                ).lastrowid
                connection.execute(
                    "INSERT INTO board_places (project_id, plan_id, funding_group)"
                    " VALUES (?, ?, 'unsorted')",
                    (project_id, plan_id),
                )
                connection.execute(
                    "UPDATE plans SET version = version + 1 WHERE id = ?", (plan_id,)
                )
                connection.commit()
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        copies = []
        for number in range(5):
            copies.append(backups.backup(database.parent / f"copy-{number}.sqlite"))
    finally:
        stop.set()
        thread.join()
    versions = []
    for copy in copies:
        assert count(copy, "PRAGMA integrity_check") == "ok"
        version = count(copy, f"SELECT version FROM plans WHERE id = {plan_id}")
        projects = count(copy, "SELECT count(*) FROM projects")
        assert projects - start_projects == version - start_version
        versions.append(version)
        # A single self-contained file, no -wal needed beside it.
        assert count(copy, "PRAGMA journal_mode") == "delete"
        assert not copy.with_name(copy.name + "-wal").exists()
    assert versions[-1] > start_version  # the writer really ran during the backups


def test_restore_puts_the_backup_back_and_keeps_what_it_replaced(app, demo_plan):
    plan_id = demo_plan.id
    copy = backups.backup()
    assert copy.parent.name == "backups"
    demo_plan.identity = "เปลี่ยนหลังสำรองข้อมูล"
    db.session.commit()
    db.session.remove()
    saved = backups.restore(copy)
    db.session.remove()
    assert db.session.get(Plan, plan_id).identity != "เปลี่ยนหลังสำรองข้อมูล"
    assert count(saved, f"SELECT identity FROM plans WHERE id = {plan_id}") == ("เปลี่ยนหลังสำรองข้อมูล")


def test_the_commands(app, demo_plan, tmp_path):
    plan_id = demo_plan.id
    runner = app.test_cli_runner()
    target = tmp_path / "hall.sqlite"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "backup written" in result.output and target.exists()
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    # A file that is not a planapp database is refused and changes nothing.
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    result = runner.invoke(args=["restore", str(junk), "--yes"])
    assert result.exit_code != 0 and "not a readable SQLite database" in result.output
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE x (y)").connection.close()
    result = runner.invoke(args=["restore", str(other), "--yes"])
    assert result.exit_code != 0 and "not a planapp database" in result.output
    db.session.remove()
    assert db.session.get(Plan, plan_id) is not None
    # Without --yes it asks first.
    result = runner.invoke(args=["restore", str(target)], input="n\n")
    assert result.exit_code != 0 and "Stop the server first" in result.output
