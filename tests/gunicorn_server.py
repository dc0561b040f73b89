"""gunicorn for the browser tests, started from a fork server that imported it and the app's
modules once (multiprocessing's "forkserver"): a test's server then starts in a fraction of the
second that importing Flask, SQLAlchemy, Alembic and openpyxl costs afresh in every process.

Each server is still `gunicorn ... app:app` as `python -m gunicorn` runs it, with its own
environment, working folder and log; the app itself is created in the server after its
environment is set (nothing in planapp reads the environment when imported).
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import signal
import subprocess
import sys

import flask
import gunicorn.app.wsgiapp
import gunicorn.config
import gunicorn.workers.ggevent  # noqa: F401  (the worker class the tests use, as `make run`)
import jinja2

import planapp

# What the fork server imports once: this module, so the app's modules and database drivers.
for _name in [
    *planapp.BLUEPRINTS,
    "planapp.backup",
    "planapp.cli",
    "planapp.i18n",
    "planapp.models",
    "sqlalchemy.dialects.sqlite.pysqlite",
    "sqlalchemy.dialects.postgresql.psycopg",
]:
    importlib.import_module(_name)
# The Thai catalog compiled once here too: every server writes it into its instance folder.
planapp.i18n.compiled_catalog("th")

# gunicorn 25.1+ opens a control socket at one path per user ($HOME/.gunicorn/gunicorn.ctl):
# servers running side by side would take it from each other. The tests never use it.
NO_CONTROL_SOCKET = [
    "--no-control-socket"
    for setting in gunicorn.config.KNOWN_SETTINGS
    if setting.name == "control_socket_disable"
]

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload([__name__])


def _serve(args: list[str], env: dict, cwd: str, log: str, template_cache: str | None) -> None:
    """In the forked process: become `python -m gunicorn ARGS` with this environment."""
    if template_cache:
        # Jinja keeps each template it compiles in this folder, shared by the servers and apps
        # of the test run, and compiles it again when its source changed: the same code, without
        # compiling every template afresh in every server.
        cache = jinja2.FileSystemBytecodeCache(template_cache)
        flask.Flask.jinja_options = {**flask.Flask.jinja_options, "bytecode_cache": cache}
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(write_through=True)  # as PYTHONUNBUFFERED: nothing lost to SIGKILL
    # --chdir: gunicorn's default is the folder it was imported in, the fork server's.
    sys.argv = ["gunicorn", "--chdir", cwd, *NO_CONTROL_SOCKET, *args]
    gunicorn.app.wsgiapp.run(prog="gunicorn")


class ServerProcess:
    """The part of subprocess.Popen the tests use, over a process from the fork server."""

    def __init__(
        self, args: list[str], env: dict, cwd: str, log: str, template_cache: str | None = None
    ):
        self._process = _CONTEXT.Process(
            target=_serve, args=(args, env, cwd, log, template_cache), daemon=True
        )
        self._process.start()
        self.pid = self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired("gunicorn", timeout)
        return self._process.exitcode

    def send_signal(self, sig: int) -> None:
        if self._process.exitcode is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)
