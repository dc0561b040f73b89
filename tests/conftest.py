"""Shared fixtures: an app over a scratch database, test clients that sign in and send the CSRF
token as the browser would, and (in tests/browser.py) a real gunicorn server with Chromium."""

from __future__ import annotations

import functools
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import flask_babel
import jinja2
import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from planapp import create_app
from planapp.extensions import db
from planapp.models import User

pytest_plugins = ["tests.browser"]

PASSWORD = "correct horse battery"
# How the test apps hash new passwords (config PASSWORD_HASH_METHOD): a sign-in still checks the
# hash for real, without scrypt's deliberate cost in each of the suite's hundreds of sign-ins.
# The hash names its method; the check reads it from there.
FAST_PASSWORD_HASH = "pbkdf2:sha256:1000"
TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "PASSWORD_HASH_METHOD": FAST_PASSWORD_HASH,
    # One process: the in-process broker, also on PostgreSQL (where the default is the postgres
    # broker; tests/test_live_broker.py tests that one itself).
    "LIVE_BROKER": "memory",
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


@dataclass
class StartingDatabases:
    """What the app fixture copies for each test, made once per worker as each test made it
    before: the models' tables (`db.create_all`), and the same with the demo tambon
    (`load_demo`). SQLite: files; PostgreSQL: template databases."""

    schema: str
    demo: str
    demo_plan_id: int


def _build_databases(instance: Path, urls: dict[str, str | None], copy) -> int:
    """Make the starting databases: `urls` by kind (None: SQLite in `instance`), and `copy(kind)`
    keeps the database as it is now as `kind`. Returns the demo plan's id."""
    from planapp.demo import load_demo

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PLANAPP_INSTANCE_PATH", str(instance))
        for kind in ("schema", "demo"):
            if urls[kind]:
                patch.setenv("DATABASE_URL", urls[kind])
            else:
                patch.delenv("DATABASE_URL", raising=False)
            app = create_app(TEST_CONFIG)
            with app.app_context():
                if kind == "schema":
                    db.drop_all()
                    db.create_all()
                else:
                    plan_id = load_demo().id
                db.session.remove()
                db.engine.dispose()
            copy(kind)
    return plan_id


@pytest.fixture(scope="session")
def starting_databases(tmp_path_factory) -> Iterator[StartingDatabases | None]:
    """None when on PostgreSQL without the cluster's admin URL (each test then builds its own)."""
    instance = tmp_path_factory.mktemp("starting-databases")
    shared = os.environ.get("TEST_DATABASE_URL", "")
    if not shared:
        sqlite = instance / "planapp.sqlite"

        def copy(kind):
            # The last connection closed has folded the write-ahead log into the file.
            assert not Path(f"{sqlite}-wal").exists()
            shutil.copyfile(sqlite, instance / f"{kind}.sqlite")

        plan_id = _build_databases(instance, {"schema": None, "demo": None}, copy)
        yield StartingDatabases(
            str(instance / "schema.sqlite"), str(instance / "demo.sqlite"), plan_id
        )
        return
    if not PG_ADMIN_URL:
        yield None
        return
    from tests.browser import pg_admin, pg_database_url

    # The schema's template, then the demo's made from it (a template has no open connection).
    name = shared.rpartition("/")[2]
    names = {kind: f"{name}_start_{kind}" for kind in ("schema", "demo")}
    for database in names.values():
        pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    pg_admin(f'CREATE DATABASE "{names["schema"]}"')

    def copy(kind):
        if kind == "schema":
            pg_admin(f'CREATE DATABASE "{names["demo"]}" TEMPLATE "{names["schema"]}"')

    urls = {kind: pg_database_url(names[kind]) for kind in names}
    plan_id = _build_databases(instance, urls, copy)
    yield StartingDatabases(names["schema"], names["demo"], plan_id)
    for database in names.values():
        pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


DEMO_LOADED = pytest.StashKey[int]()


@pytest.fixture
def app(request, tmp_path, monkeypatch, starting_databases, template_cache):
    """An app over a database of its own: a copy of the starting database, with the demo tambon
    when the test asks for `demo_plan`. On PostgreSQL the copy takes TEST_DATABASE_URL's name
    (the worker's database, made anew for each test): connect to it after this fixture."""
    instance = tmp_path / "instance"
    monkeypatch.setenv("PLANAPP_INSTANCE_PATH", str(instance))
    use_test_database(monkeypatch)
    start = starting_databases
    copied = start is not None
    if copied:
        demo = "demo_plan" in request.fixturenames
        source = start.demo if demo else start.schema
        if demo:
            request.node.stash[DEMO_LOADED] = start.demo_plan_id
        url = os.environ.get("TEST_DATABASE_URL")
        if url:
            from tests.browser import pg_admin

            name = url.rpartition("/")[2]
            pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        else:
            instance.mkdir()
            shutil.copyfile(source, instance / "planapp.sqlite")
    app = create_app(TEST_CONFIG)
    app.test_client_class = BrowserLikeClient
    app.jinja_env.bytecode_cache = jinja2.FileSystemBytecodeCache(template_cache)
    with app.app_context():
        if not copied:
            db.drop_all()
            db.create_all()
        yield app
        db.session.remove()
        if not copied:
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


def add_officer(username: str, role: str, province: str, district: str | None = None) -> User:
    """A district or provincial officer (issue 18) with their area."""
    user = User(
        username=username,
        role=role,
        display_name=username.title(),
        area_province=province,
        area_district=district,
    )
    user.password_hash = password_hash()
    db.session.add(user)
    db.session.commit()
    return user


@pytest.fixture
def client(app) -> BrowserLikeClient:
    return app.test_client()


@pytest.fixture
def demo_plan(request, app):
    """The demo tambon's plan: loaded in the database the app fixture copied, else loaded now."""
    from planapp.demo import load_demo
    from planapp.models import Plan

    plan_id = request.node.stash.get(DEMO_LOADED, None)
    return load_demo() if plan_id is None else db.session.get(Plan, plan_id)


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
