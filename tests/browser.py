"""Browser-test harness: the app under gunicorn on a free loopback port over a scratch database
with the demo tambon, and Playwright driving Debian's Chromium (design brief section 7).

Each test gets its own server and database (copied from one prepared per session), so tests never
depend on each other. The database file is copied. In the PostgreSQL run
(PLANAPP_TEST_PG_ADMIN_URL, set by .ci/with-postgres), tests marked `any_database` get a
PostgreSQL database instead (`CREATE DATABASE ... TEMPLATE` of a prepared one); the others stay on
SQLite, because they may open the server's SQLite file to look at what it saved. Use:

    def test_something(live_server, page):
        live_server.login(page, "facilitator")
        page.goto(live_server.url(f"/plans/{live_server.plan_id}/board"))
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

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


def flask_cli(env: dict, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@dataclass
class LiveServer:
    base_url: str
    plan_id: int
    instance: Path
    env: dict
    process: subprocess.Popen | None = None
    log: Path | None = None
    port: int = 0
    extra_args: list[str] = field(default_factory=list)

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def start(self) -> None:
        self.log = self.instance / "gunicorn.log"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--worker-class",
                "gthread",
                "--workers",
                "1",
                "--threads",
                "32",
                "--timeout",
                "120",
                *self.extra_args,
                "app:app",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
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

    def login(self, page, role: str = "facilitator") -> None:
        page.goto(self.url("/login"))
        page.fill("input[name=username]", USERS[role])
        page.fill("input[name=password]", PASSWORD)
        page.click("form.form button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)


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
    env = server_env(instance, database)
    flask_cli(env, "db", "upgrade")
    plan_id = int(flask_cli(env, "demo").strip().splitlines()[-1])
    flask_cli(env, "create-user", "admin", "--role", "admin", stdin=PASSWORD + "\n")
    flask_cli(env, "create-user", "facilitator", "--role", "facilitator", stdin=PASSWORD + "\n")
    # The facilitator is assigned to the demo tambon.
    flask_cli(env, "assign-facilitator", "facilitator", "--plan", str(plan_id))
    return plan_id


@pytest.fixture(scope="session")
def prepared_instance(tmp_path_factory) -> tuple[Path, int]:
    """One migrated SQLite database with the demo tambon and the test users, copied for every
    test."""
    instance = tmp_path_factory.mktemp("template-instance")
    return instance, _prepare(instance, None)


@pytest.fixture(scope="session")
def template_database(tmp_path_factory):
    """In the PostgreSQL run: the prepared template database that tests marked `any_database`
    copy with CREATE DATABASE ... TEMPLATE; (name, plan id)."""
    name = f"planapp_template_{uuid.uuid4().hex[:8]}"
    pg_admin(f'CREATE DATABASE "{name}"')
    yield name, _prepare(tmp_path_factory.mktemp("template-pg-instance"), name)
    pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def live_server(request, prepared_instance, tmp_path):
    """On SQLite; in the PostgreSQL run, on PostgreSQL for tests marked `any_database` (tests
    that read the server's data through the app rather than opening its SQLite file)."""
    template, plan_id = prepared_instance
    instance = tmp_path / "instance"
    shutil.copytree(template, instance)
    database = None
    if PG_ADMIN_URL and request.node.get_closest_marker("any_database"):
        template_name, plan_id = request.getfixturevalue("template_database")
        database = f"planapp_live_{uuid.uuid4().hex[:12]}"
        pg_admin(f'CREATE DATABASE "{database}" TEMPLATE "{template_name}"')
    port = free_port()
    server = LiveServer(
        base_url=f"http://127.0.0.1:{port}",
        plan_id=plan_id,
        instance=instance,
        env=server_env(instance, database),
        port=port,
    )
    server.start()
    yield server
    server.stop()
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
