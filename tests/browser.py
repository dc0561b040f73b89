"""Browser-test harness: the app under gunicorn on a free loopback port over a scratch database
with the demo tambon, and Playwright driving Debian's Chromium (design brief section 7).

Each test gets its own server and database (copied from one prepared per session, per xdist
worker), so tests never depend on each other. On SQLite the database file is copied; in the
PostgreSQL run (PLANAPP_TEST_PG_ADMIN_URL, set by .ci/with-postgres) every server runs on a fresh
PostgreSQL database made with `CREATE DATABASE ... TEMPLATE` of a prepared one. Tests that need
SQLite itself (copying its file) are marked `sqlite_only` and skipped in that run. A test that
sets the scene or looks at what the server saved goes through `live_server.query()` /
`live_server.execute()` (or `live_server.database()`), which work on both databases. Use:

    def test_something(live_server, page):
        live_server.login(page, "facilitator")
        page.goto(live_server.url(f"/plans/{live_server.plan_id}/board"))
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.gunicorn_server import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("PLANAPP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PASSWORD = "correct horse battery"
USERS = {"admin": "admin", "facilitator": "facilitator"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Migrate, load the demo tambon, add the test users: the same `flask` commands as README's, run
# through click in one process (one import of the app instead of five).
PREPARE = """
import sys, traceback
from app import app

def flask(*args, stdin=None):
    result = app.test_cli_runner().invoke(args=list(args), input=stdin)
    if result.exit_code != 0:
        trace = "".join(traceback.format_exception(*result.exc_info)) if result.exc_info else ""
        sys.exit(f"flask {' '.join(args)} failed:\\n{result.output}\\n{trace}")
    return result.output

password = sys.argv[1] + "\\n"
# The test users' passwords hashed the cheap way the test apps use (conftest.FAST_PASSWORD_HASH):
# every browser test signs in, and the server checks the hash for real each time.
app.config["PASSWORD_HASH_METHOD"] = sys.argv[2]
flask("db", "upgrade")
plan_id = int(flask("demo").strip().splitlines()[-1])
flask("create-user", "admin", "--role", "admin", stdin=password)
flask("create-user", "facilitator", "--role", "facilitator", stdin=password)
# The facilitator is assigned to the demo tambon.
flask("assign-facilitator", "facilitator", "--plan", str(plan_id))
print(plan_id)
"""


@dataclass
class LiveServer:
    base_url: str
    plan_id: int
    instance: Path
    env: dict
    process: ServerProcess | None = None
    log: Path | None = None
    port: int = 0
    extra_args: list[str] = field(default_factory=list)
    template_cache: str | None = None  # Jinja's compiled templates, shared by the test run

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def start(self) -> None:
        self.log = self.instance / "gunicorn.log"
        self.process = ServerProcess(
            [
                "--bind",
                f"127.0.0.1:{self.port}",
                "--worker-class",
                "gevent",
                "--workers",
                "1",
                "--timeout",
                "120",
                *self.extra_args,
                "app:app",
            ],
            env=self.env,
            cwd=str(ROOT),
            log=str(self.log),
            template_cache=self.template_cache,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url("/"), timeout=2).read()
                return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(self.log.read_text()) from None
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start:\n" + self.log.read_text())

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def database_url(self) -> str:
        """The SQLAlchemy URL of the server's database: its PostgreSQL database, else the SQLite
        file in its instance folder."""
        url = self.env.get("DATABASE_URL")
        if not url:
            return "sqlite:///" + str(self.instance / "planapp.sqlite")
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")

    @contextmanager
    def database(self) -> Iterator:
        """A connection to the server's database, in one transaction committed at the end: for
        setting the scene behind the server's back (not announced to open views) or reading what
        it saved. Write portable SQL: `text()` with named parameters, RETURNING for new ids."""
        from sqlalchemy import create_engine

        engine = create_engine(self.database_url())
        try:
            with engine.begin() as connection:
                yield connection
        finally:
            engine.dispose()

    def query(self, sql: str, **params) -> list:
        """The rows of one SELECT (named parameters: `:name`)."""
        from sqlalchemy import text

        with self.database() as connection:
            return connection.execute(text(sql), params).all()

    def execute(self, sql: str, **params) -> None:
        """One statement, committed (named parameters: `:name`)."""
        from sqlalchemy import text

        with self.database() as connection:
            connection.execute(text(sql), params)

    def twin(self, instance: Path) -> LiveServer:
        """Another app server on this one's database (a second host behind the same address):
        the same environment (DATABASE_URL, SECRET_KEY) with an instance folder of its own,
        a copy of this one's, on another port. Not started."""
        shutil.copytree(self.instance, instance, ignore=shutil.ignore_patterns("gunicorn.log"))
        port = free_port()
        return LiveServer(
            base_url=f"http://127.0.0.1:{port}",
            plan_id=self.plan_id,
            instance=instance,
            env={**self.env, "PLANAPP_INSTANCE_PATH": str(instance)},
            port=port,
            extra_args=list(self.extra_args),
        )

    def login(self, page, role: str = "facilitator") -> None:
        page.goto(self.url("/login"))
        page.fill("input[name=username]", USERS[role])
        page.fill("input[name=password]", PASSWORD)
        page.click("form.form button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)


class Tablet:
    """A facilitator's device: cookies, the CSRF token of the pages, form posts."""

    def __init__(self, base_url: str, timeout: float = 30):
        self.base_url = base_url
        self.timeout = timeout
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.token = ""

    def get(self, path: str) -> str:
        with self.opener.open(self.base_url + path, timeout=self.timeout) as response:
            page = response.read().decode()
        found = re.search(r'name="csrf_token" value="([^"]+)"', page)
        if found:
            self.token = found.group(1)
        return page

    def post(self, path: str, fields: dict) -> int:
        body = urllib.parse.urlencode({**fields, "csrf_token": self.token}).encode()
        request = urllib.request.Request(
            self.base_url + path,
            data=body,
            headers={"X-CSRFToken": self.token, "HX-Request": "true"},
        )
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                response.read()
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def sign_in(self, username: str) -> None:
        self.get("/login")
        self.post("/login", {"username": username, "password": PASSWORD})
        assert 'class="user-name"' in self.get("/")


PG_ADMIN_URL = os.environ.get("PLANAPP_TEST_PG_ADMIN_URL")


def pg_admin(statement: str) -> None:
    """Run CREATE/DROP DATABASE on the test cluster (they cannot run inside a transaction)."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(statement)


def pg_database_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def server_env(instance: Path, database: str | None = None) -> dict:
    env = dict(os.environ)
    env.update(
        PLANAPP_INSTANCE_PATH=str(instance),
        SECRET_KEY="browser-test-secret",
        PYTHONUNBUFFERED="1",
    )
    env.pop("DATABASE_URL", None)
    if database:
        env["DATABASE_URL"] = pg_database_url(database)
    return env


def _prepare(instance: Path, database: str | None) -> int:
    """Migrate, load the demo tambon and the test users; the demo plan's id."""
    from tests.conftest import FAST_PASSWORD_HASH

    result = subprocess.run(
        [sys.executable, "-c", PREPARE, PASSWORD, FAST_PASSWORD_HASH],
        cwd=ROOT,
        env=server_env(instance, database),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"preparing the database failed:\n{result.stdout}\n{result.stderr}")
    return int(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def prepared_instance(tmp_path_factory) -> tuple[Path, int]:
    """One migrated SQLite database with the demo tambon and the test users, copied for every
    test; (instance folder, plan id)."""
    instance = tmp_path_factory.mktemp("template-instance")
    return instance, _prepare(instance, None)


@pytest.fixture(scope="session")
def template_database(tmp_path_factory) -> Iterator[tuple[Path, str, int]]:
    """In the PostgreSQL run: the prepared database that each test copies with CREATE DATABASE
    ... TEMPLATE; (instance folder, database name, plan id). The name is unique, so xdist
    workers never share a template (copying one needs it free of other connections)."""
    name = f"planapp_template_{uuid.uuid4().hex[:12]}"
    pg_admin(f'CREATE DATABASE "{name}"')
    instance = tmp_path_factory.mktemp("template-pg-instance")
    yield instance, name, _prepare(instance, name)
    pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def template_cache(tmp_path_factory) -> str:
    """A folder where Jinja keeps the templates it compiled (jinja2.FileSystemBytecodeCache),
    for the servers and the apps of this worker: each compiles a template only if its source
    is new to the folder, instead of every template in every app."""
    return str(tmp_path_factory.mktemp("jinja-bytecode"))


@pytest.fixture
def live_server(request, tmp_path, template_cache) -> Iterator[LiveServer]:
    """The app under gunicorn over its own copy of the prepared database: SQLite, or PostgreSQL
    in the PostgreSQL run."""
    database = None
    if PG_ADMIN_URL:
        template, template_name, plan_id = request.getfixturevalue("template_database")
        database = f"planapp_live_{uuid.uuid4().hex[:12]}"
        pg_admin(f'CREATE DATABASE "{database}" TEMPLATE "{template_name}"')
    else:
        template, plan_id = request.getfixturevalue("prepared_instance")
    instance = tmp_path / "instance"
    shutil.copytree(template, instance)
    port = free_port()
    server = LiveServer(
        base_url=f"http://127.0.0.1:{port}",
        plan_id=plan_id,
        instance=instance,
        env=server_env(instance, database),
        port=port,
        template_cache=template_cache,
    )
    try:
        server.start()
        yield server
    finally:
        # Quick shutdown: the test is over, and a graceful one waits up to a second for the
        # gevent worker's loop to notice (tests of a graceful stop call stop() themselves).
        server.stop(signal.SIGQUIT)
        if database:
            pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="th-TH")
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture(params=[(1024, 768), (1280, 800)], ids=["tablet-1024x768", "tablet-1280x800"])
def touch_page(browser, request):
    """A page on a facilitator's tablet: both sizes of the design brief, landscape, with touch."""
    width, height = request.param
    context = browser.new_context(
        viewport={"width": width, "height": height}, has_touch=True, locale="th-TH"
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def assert_accessible(page) -> None:
    """Run axe-core on the page; fail on any serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] if node["target"] else "?" for node in v["nodes"][:5])
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
    assert not bad, "axe-core found serious or critical violations:\n" + "\n".join(bad)


@pytest.fixture
def app_of(live_server, monkeypatch):
    """The live server's database, opened from the test (for setting the scene only: changes
    made here are not announced to the server's open views)."""
    from planapp import create_app

    monkeypatch.setenv("PLANAPP_INSTANCE_PATH", str(live_server.instance))
    if live_server.env.get("DATABASE_URL"):
        monkeypatch.setenv("DATABASE_URL", live_server.env["DATABASE_URL"])
    else:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    return create_app({"SECRET_KEY": "x", "LIVE_BROKER": "memory"})


@pytest.fixture
def plan_state(app_of, live_server):
    """Read and change the plan from the test: `plan_state(fn)` runs fn(plan) and commits."""
    from planapp.extensions import db
    from planapp.models import Plan

    def run(fn=None):
        with app_of.app_context():
            plan = db.session.get(Plan, live_server.plan_id)
            result = fn(plan) if fn else None
            db.session.commit()
            token = plan.public_token
            db.session.remove()
            return token if fn is None else result

    return run


def select_card(page, project_id) -> object:
    """Tap a board card's title: it is selected and shows its controls (move up/down, to a
    position, to a group, details). Returns the card's locator."""
    from playwright.sync_api import expect

    card = page.locator(f"#card-{project_id}")
    if "is-selected" not in (card.get_attribute("class") or ""):
        card.locator(".card-open").click()
    expect(card.locator(".card-controls")).to_be_visible()
    return card
