"""Configuration from the environment, with safe defaults for a laptop in a village hall."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine


def _secret_key(instance_path: str) -> str:
    """A key generated once and kept in the instance folder, never hard-coded."""
    key_file = Path(instance_path) / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "planapp.sqlite")
    # Common hosting spelling; SQLAlchemy wants the driver named.
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def default_live_broker(url: str) -> str:
    """On PostgreSQL a change must reach views held by any worker process or app server: the
    postgres broker, unless PLANAPP_LIVE_BROKER says otherwise. On SQLite (one process) memory."""
    return "postgres" if url.startswith("postgresql") else "memory"


def configure(app: Flask, overrides: dict) -> None:
    database = database_url(app.instance_path)
    app.config.update(
        SECRET_KEY=os.environ.get("SECRET_KEY") or _secret_key(app.instance_path),
        SQLALCHEMY_DATABASE_URI=database,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        BABEL_DEFAULT_LOCALE=os.environ.get("PLANAPP_LANGUAGE", "th"),
        BABEL_DEFAULT_TIMEZONE=os.environ.get("PLANAPP_TIMEZONE", "Asia/Bangkok"),
        LANGUAGES=["th", "en"],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # a forum lasts hours; the token lives as long as the session
        MAX_CONTENT_LENGTH=int(os.environ.get("PLANAPP_MAX_UPLOAD_BYTES", 5 * 1024 * 1024)),
        # Live updates: "memory" (one process) or "postgres" (LISTEN/NOTIFY: several workers
        # or app servers on one database), the default on PostgreSQL.
        LIVE_BROKER=os.environ.get("PLANAPP_LIVE_BROKER") or default_live_broker(database),
        # Report pages (planapp/reports.py): on PostgreSQL the database cancels a report's
        # statement after this many milliseconds, so a heavy roll-up never holds up the forums.
        REPORT_STATEMENT_TIMEOUT_MS=int(
            os.environ.get("PLANAPP_REPORT_STATEMENT_TIMEOUT_MS", 20000)
        ),
        # An agency's workbook of more rows than this is built by the jobs worker
        # (planapp/jobs, `flask jobs-worker`), not while the request holds an app worker.
        INLINE_WORKBOOK_ROWS=int(os.environ.get("PLANAPP_INLINE_WORKBOOK_ROWS", 1000)),
        # A sign-in lasts a forum day (planapp/accounts/sessions.py): it ends after this many
        # hours without a request (a long lunch break is fine), and this long after signing in
        # (an early start to an evening finish), so a copied cookie is worthless by the morning.
        SIGN_IN_IDLE_HOURS=float(os.environ.get("PLANAPP_SIGN_IN_IDLE_HOURS", "4")),
        SIGN_IN_MAX_HOURS=float(os.environ.get("PLANAPP_SIGN_IN_MAX_HOURS", "16")),
        # Event streams (planapp/streams.py): open streams per client address and per process,
        # and the seconds after which a stream ends (its view reconnects).
        STREAMS_PER_ADDRESS=int(os.environ.get("PLANAPP_STREAMS_PER_ADDRESS", 20)),
        STREAMS_TOTAL=int(os.environ.get("PLANAPP_STREAMS_TOTAL", 2000)),
        STREAM_LIFETIME=float(os.environ.get("PLANAPP_STREAM_LIFETIME", 300)),
        # The address phones open (the projector's QR code and link), e.g. https://plan.example.org
        # behind a proxy; unset: the address the projector was opened at, or the LAN address.
        PUBLIC_URL=os.environ.get("PLANAPP_PUBLIC_URL", "").strip().rstrip("/"),
        # A hall laptop's calls to the district server (planapp/sync): seconds without an
        # answer before the page says the server cannot be reached.
        SYNC_TIMEOUT=float(os.environ.get("PLANAPP_SYNC_TIMEOUT", 15)),
        # The laptop side of sync calls an address a facilitator types: a server shared by many
        # tambons turns it off, so nobody can make it call hosts on its own network.
        SYNC_CLIENT=os.environ.get("PLANAPP_SYNC_CLIENT", "1").strip().lower()
        not in ("0", "off", "false", "no"),
        # Flask-Compress: pages and answers, when the browser takes it. Chromium asks for gzip
        # over plain HTTP (the hall), for zstd and br over HTTPS. Fast levels: a 3,000-card
        # board (2.9 MB) gzips to ~150 KB in ~6 ms at level 3 (level 6: 15 ms, ~110 KB).
        # Event streams are compressed event by event in planapp.live (Flask-Compress would
        # hold their events back), so it leaves streamed responses alone.
        COMPRESS_ALGORITHM=["zstd", "br", "gzip"],
        COMPRESS_LEVEL=3,
        COMPRESS_BR_LEVEL=2,
        COMPRESS_ZSTD_LEVEL=3,
        COMPRESS_STREAMS=False,
        # werkzeug's method for new password hashes (a check reads the method from the hash).
        # The tests set a cheap one for their users: scrypt costs a good part of a second of CPU
        # per sign-in by design, and the suite signs in hundreds of times.
        PASSWORD_HASH_METHOD="scrypt",
    )
    app.config.update(overrides)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets projector reads run beside the facilitator's writes; the busy timeout waits for
    the lock instead of failing; foreign keys are off by default in SQLite."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
