"""Shared fixtures: an app over a scratch database, test clients that sign in and send the CSRF
token as the browser would, and (in tests/browser.py) a real gunicorn server with Chromium."""

from __future__ import annotations

import functools
import os
import re

import flask_babel
import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from planapp import create_app
from planapp.extensions import db
from planapp.models import User
from tests.browser import FAST_PASSWORD_HASH

pytest_plugins = ["tests.browser"]

PASSWORD = "correct horse battery"
TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "PASSWORD_HASH_METHOD": FAST_PASSWORD_HASH,
}
# The PostgreSQL run (.ci/with-postgres): TEST_DATABASE_URL for the app fixture, the admin URL for
# the browser tests' databases.
PG_ADMIN_URL = os.environ.get("PLANAPP_TEST_PG_ADMIN_URL")
ON_POSTGRES = bool(PG_ADMIN_URL) or os.environ.get("TEST_DATABASE_URL", "").startswith("postgres")
WORKER_DATABASE = pytest.StashKey[str]()


def pytest_configure(config) -> None:
    """Under pytest-xdist in the PostgreSQL run, each worker gets a database of its own for
    TEST_DATABASE_URL (the app fixture drops and creates every table). Made here, before
    collection, since some test modules read TEST_DATABASE_URL when imported."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    shared = os.environ.get("TEST_DATABASE_URL", "")
    if not (worker and PG_ADMIN_URL and shared.startswith("postgres")):
        return
    from tests.browser import pg_admin

    base, _, name = shared.rpartition("/")
    own = f"{name}_{worker}"
    pg_admin(f'DROP DATABASE IF EXISTS "{own}" WITH (FORCE)')
    pg_admin(f'CREATE DATABASE "{own}"')
    os.environ["TEST_DATABASE_URL"] = f"{base}/{own}"
    config.stash[WORKER_DATABASE] = own


def pytest_unconfigure(config) -> None:
    own = config.stash.get(WORKER_DATABASE, None)
    if own:
        from tests.browser import pg_admin

        pg_admin(f'DROP DATABASE IF EXISTS "{own}" WITH (FORCE)')


def pytest_collection_modifyitems(config, items) -> None:
    """Tests marked `sqlite_only` need SQLite itself: skipped in the PostgreSQL run."""
    if not ON_POSTGRES:
        return
    skip = pytest.mark.skip(reason="sqlite_only: needs SQLite, skipped in the PostgreSQL run")
    for item in items:
        if item.get_closest_marker("sqlite_only"):
            item.add_marker(skip)


class BrowserLikeClient(FlaskClient):
    """Sends the CSRF token with every state change, as our pages do (form field or htmx
    header). Pass `csrf=False` to send a request without it."""

    def open(self, *args, csrf: bool = True, **kwargs):
        # Tests keep an app context pushed; requests then share it, and with it Flask-Babel's
        # cached locale and `g`. Start each request clean, as a real server does.
        if has_app_context():
            flask_babel.refresh()
            for name in list(g):
                g.pop(name)
        method = (kwargs.get("method") or "GET").upper()
        if csrf and method not in ("GET", "HEAD", "OPTIONS"):
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        page = super().open("/", method="GET").get_data(as_text=True)
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def login(self, username: str, password: str = PASSWORD):
        response = self.post("/login", data={"username": username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response


def use_test_database(monkeypatch) -> None:
    """TEST_DATABASE_URL (PostgreSQL in CI's second run), else SQLite in the scratch instance."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        monkeypatch.setenv("DATABASE_URL", url)
    else:
        monkeypatch.delenv("DATABASE_URL", raising=False)


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANAPP_INSTANCE_PATH", str(tmp_path / "instance"))
    use_test_database(monkeypatch)
    app = create_app(TEST_CONFIG)
    app.test_client_class = BrowserLikeClient
    with app.app_context():
        db.drop_all()
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@functools.cache
def password_hash() -> str:
    """PASSWORD hashed once as the test apps hash it (User.set_password with TEST_CONFIG).
    Signing in still checks it for real."""
    return generate_password_hash(PASSWORD, method=FAST_PASSWORD_HASH)


def make_user(username: str, role: str, tambons=()) -> User:
    user = User(username=username, role=role, display_name=username.title())
    user.password_hash = password_hash()
    user.tambons = list(tambons)
    db.session.add(user)
    db.session.commit()
    return user


@pytest.fixture
def client(app) -> BrowserLikeClient:
    return app.test_client()


@pytest.fixture
def demo_plan(app):
    from planapp.demo import load_demo

    return load_demo()


@pytest.fixture
def admin_client(app) -> BrowserLikeClient:
    make_user("admin", "admin")
    client = app.test_client()
    client.login("admin")
    return client


@pytest.fixture
def facilitator_client(app, demo_plan) -> BrowserLikeClient:
    """Signed in as a facilitator assigned to the demo tambon."""
    make_user("somchai", "facilitator", tambons=[demo_plan.tambon])
    client = app.test_client()
    client.login("somchai")
    return client
