"""Backups of the village-hall laptop's SQLite database, taken while the server runs.

`flask --app app backup [PATH]` copies the database with SQLite's online backup API: the copy is
one consistent moment even while facilitators keep moving cards (the API restarts a pass that a
write overtook, and the WAL's committed pages are included). The copy is checked
(`PRAGMA integrity_check`) and only then renamed into place, so a half-written file never looks
like a backup. `flask --app app restore PATH` puts a backup back, after saving the current
database beside it. On PostgreSQL, use `pg_dump`/`pg_restore` (see the README).
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from sqlalchemy.engine import make_url

REQUIRED_TABLES = {"plans", "projects", "users"}


class BackupError(Exception):
    pass


def sqlite_file() -> Path:
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError(
            "the database is not an SQLite file; on PostgreSQL use pg_dump (see the README)"
        )
    return Path(url.database)


def _check(path: Path) -> None:
    """The file is a whole, readable planapp database."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = connection.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a readable SQLite database: {error}") from None
    if result != "ok":
        raise BackupError(f"{path} is damaged: {result}")
    if not REQUIRED_TABLES <= tables:
        raise BackupError(f"{path} is not a planapp database")


def _copy(source: Path, target: Path) -> None:
    """Online backup from source into a scratch file, checked, then renamed onto target."""
    scratch = target.with_name(f".{target.name}.{os.getpid()}.partial")
    scratch.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(scratch)
    try:
        # Pages in steps, so a busy server is never blocked for the whole copy.
        src.backup(dst, pages=1024, sleep=0.01)
        # A single self-contained file: no -wal beside it to forget when copying it away.
        dst.execute("PRAGMA journal_mode=DELETE")
        dst.commit()
    finally:
        dst.close()
        src.close()
    try:
        _check(scratch)
        with open(scratch, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(scratch, target)
    finally:
        scratch.unlink(missing_ok=True)


def default_backup_path() -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(current_app.instance_path) / "backups" / f"planapp-{stamp}.sqlite"


def backup(target: Path | None = None) -> Path:
    source = sqlite_file()
    target = Path(target) if target else default_backup_path()
    if target.is_dir():
        target = target / default_backup_path().name
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.resolve() == source.resolve():
        raise BackupError("the backup would overwrite the database itself")
    _copy(source, target)
    return target


def restore(backup_file: Path) -> Path:
    """Put a backup in place of the database; returns where the replaced database was saved."""
    backup_file = Path(backup_file)
    if not backup_file.is_file():
        raise BackupError(f"{backup_file} does not exist")
    _check(backup_file)
    database = sqlite_file()
    saved = database.with_name(
        f"{database.stem}-before-restore-{datetime.now():%Y%m%d-%H%M%S}{database.suffix}"
    )
    if database.exists():
        _copy(database, saved)
    # Through the backup API too: it takes the database's write lock and rewrites it whole, so
    # the WAL and any open connection see the restored content, never a mix.
    src = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    dst = sqlite3.connect(database, timeout=30)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    _check(database)
    return saved


def init_app(app) -> None:
    @app.cli.command("backup")
    @click.argument("path", required=False, type=click.Path(path_type=Path))
    def backup_command(path: Path | None):
        """Copy the SQLite database (safe while the server runs) to PATH or instance/backups/."""
        try:
            written = backup(path)
        except BackupError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"backup written: {written} ({written.stat().st_size:,} bytes)")

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(path_type=Path))
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    def restore_command(path: Path, yes: bool):
        """Replace the database with a backup (stop the server first)."""
        if not yes:
            click.confirm(
                "Replace the database with this backup? Stop the server first; the current "
                "database is saved beside it.",
                abort=True,
            )
        try:
            saved = restore(path)
        except BackupError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"restored from {path}; the replaced database was saved as {saved}")
        click.echo("run `flask --app app db upgrade` if the backup comes from an older version")
