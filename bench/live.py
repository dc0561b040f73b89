"""Benchmark of the live views (prints figures, asserts nothing).

    .venv/bin/python bench/live.py [--changes 60] [--viewers 200] [--moves 100]

1. Delay: while `--viewers` phones hold the event stream open (raw HTTP connections), a Chromium
   projector page and a second tablet's board (signed in, in another browser context) are open;
   the facilitator's client saves changes one after another; for each, the time from the saved
   change (the POST's answer) to the DOM update on the projector (<body data-plan-version>) and
   on the other tablet (#board data-plan-version) reaching the new version. Prints p50/p95, and
   the size of the events the projector received.
2. Load: the facilitator moves cards, first with no viewer (the reference, in the same run),
   then while 200 viewers hold the event stream open (raw HTTP connections, as phones would);
   prints the move p50/p95 of both, the bytes each viewer received per change (against the
   whole content it got on connecting), and how many viewers missed the final version (after
   waiting up to 5 s for the last one).

The server is started like `make run` (gunicorn, gevent, 1 worker) over a scratch
copy of the demo tambon, with most projects sorted into groups. Changes are card moves through
`POST /plans/<id>/moves` when the board is there, else screen switches (POST /plans/<id>/screen).
Targets: a move seen on the other tablet and on the projector p95 < 150 ms with 200 viewers
open (issue 14); move p95 < 100 ms with 200 viewers, zero viewers behind (issue 5).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench password 123"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]  # fmt: skip
GUNICORN_ARGS = ["--worker-class", "gevent", "--workers", "1", "--timeout", "120"]


def percentile(values, share):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


# --- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def flask(env, *args, stdin=None) -> str:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


class Server:
    def __init__(self, instance: Path):
        self.instance = instance
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # The viewers all come from 127.0.0.1: lift the per-address cap (bench/hall.py gives
        # each phone an address of its own, and measures the caps).
        self.env = dict(
            os.environ,
            PLANAPP_INSTANCE_PATH=str(instance),
            PLANAPP_STREAMS_PER_ADDRESS="100000",
            PYTHONUNBUFFERED="1",
        )
        self.process = None

    def prepare(self) -> tuple[int, str]:
        flask(self.env, "db", "upgrade")
        plan_id = int(flask(self.env, "demo").strip().splitlines()[-1])
        flask(self.env, "create-user", "bench", "--role", "facilitator", stdin=PASSWORD + "\n")
        flask(self.env, "assign-facilitator", "bench", "--plan", str(plan_id))
        code = (
            "from planapp import create_app\n"
            "from planapp.extensions import db\n"
            "from planapp.models import Plan\n"
            "from tests.live_helpers import spread_demo\n"
            "app = create_app()\n"
            "with app.app_context():\n"
            f"    plan = db.session.get(Plan, {plan_id})\n"
            "    spread_demo(plan)\n"
            "    print(plan.public_token)\n"
        )
        token = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=self.env, check=True,
            capture_output=True, text=True,
        ).stdout.split()[-1]  # fmt: skip
        return plan_id, token

    def start(self) -> None:
        self.log = open(self.instance / "gunicorn.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *GUNICORN_ARGS, "--bind", f"127.0.0.1:{self.port}",
             "app:app"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        for _ in range(300):
            try:
                urllib.request.urlopen(self.url + "/", timeout=2).read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


# --- the facilitator ---------------------------------------------------------------------------


class Facilitator:
    """Signs in and saves changes over HTTP, as the tablet does."""

    def __init__(self, base: str, plan_id: int):
        self.base, self.plan_id = base, plan_id
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        page = self.get("/login")
        self.csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        self.post("/login", {"username": "bench", "password": PASSWORD, "csrf_token": self.csrf})
        # Signing in starts a new session, and with it a new CSRF token.
        self.csrf = re.search(r'name="csrf_token" value="([^"]+)"', self.get("/")).group(1)
        self.version = None
        self.board = self._has_board()
        self.projects = self._projects() if self.board else []
        self.modes = ["board", "summary", "urgency", "overview"]
        self.count = 0

    def get(self, path) -> str:
        return self.opener.open(self.base + path, timeout=30).read().decode()

    def post(self, path, data, htmx=False) -> tuple[int, str]:
        request = urllib.request.Request(
            self.base + path, data=urllib.parse.urlencode(data).encode(), method="POST"
        )
        request.add_header("X-CSRFToken", self.csrf)
        if htmx:
            request.add_header("HX-Request", "true")
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def _has_board(self) -> bool:
        try:
            self.get(f"/plans/{self.plan_id}/board")
        except urllib.error.HTTPError:
            return False
        return True

    def _projects(self) -> list[int]:
        page = self.get(f"/plans/{self.plan_id}/board")
        self.version = int(re.search(r'data-plan-version="(\d+)"', page).group(1))
        return [int(i) for i in dict.fromkeys(re.findall(r'data-project-id="(\d+)"', page))]

    def change(self) -> tuple[float, float]:
        """Save one change; return (when it was saved, how long the request took)."""
        self.count += 1
        if self.board:
            project = random.choice(self.projects)
            data = {"project_id": project, "group": random.choice(["1", "2", "3"]),
                    "before_id": "", "version": self.version}  # fmt: skip
            started = time.time()
            status, body = self.post(f"/plans/{self.plan_id}/moves", data, htmx=True)
            done = time.time()
            found = re.findall(r'data-plan-version="(\d+)"', body)
            if status != 200 or not found:
                if status != 409:
                    raise RuntimeError(f"move answered {status}: {body[:300]}")
                self._projects()  # refused as stale: read the board again
                return self.change()
            self.version = max(int(v) for v in found)
            return done, done - started
        mode = self.modes[self.count % len(self.modes)]
        started = time.time()
        status, body = self.post(f"/plans/{self.plan_id}/screen", {"mode": mode}, htmx=True)
        done = time.time()
        assert status == 200, status
        self.version = int(re.search(r'data-plan-version="(\d+)"', body).group(1))
        return done, done - started


# --- viewers ---------------------------------------------------------------------------------


class Viewer(threading.Thread):
    """One phone holding the event stream open; remembers the last version it received."""

    def __init__(self, host: str, port: int, path: str):
        super().__init__(daemon=True)
        self.host, self.port, self.path = host, port, path
        self.last = -1
        self.received = 0  # bytes of the stream
        self.connected = threading.Event()
        self.error = None
        self.sock = None

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def run(self):
        try:
            with socket.create_connection((self.host, self.port), timeout=60) as sock:
                self.sock = sock
                sock.sendall(
                    f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                    "Accept: text/event-stream\r\n\r\n".encode()
                )
                buffer = b""
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    self.received += len(chunk)
                    if not self.connected.is_set() and b" 200 " in chunk.split(b"\r\n", 1)[0]:
                        self.connected.set()
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        if line.startswith(b"id: "):
                            self.last = int(line[4:])
        except OSError as error:
            self.error = error


# --- the two measurements ----------------------------------------------------------------------


SEEN = """(selector) => { window.__seen = {};
  const el = document.querySelector(selector);
  new MutationObserver(() => {
    const v = el.getAttribute('data-plan-version');
    const now = performance.timeOrigin + performance.now();
    if (!(v in window.__seen)) window.__seen[v] = now;
  }).observe(el, {attributes: true, attributeFilter: ['data-plan-version']});
  window.__events = [];
  document.addEventListener('htmx:sseBeforeMessage', e => window.__events.push(
    {type: e.detail.type, size: e.detail.data.length}));
}"""


def open_crowd(server: Server, token: str, viewers: int) -> list:
    crowd = [
        Viewer("127.0.0.1", server.port, f"/live/{token}/events?layout=phone&version=0")
        for _ in range(viewers)
    ]
    for viewer in crowd:
        viewer.start()
    for viewer in crowd:
        viewer.connected.wait(timeout=30)
    return crowd


def measure_delay(server: Server, plan_id: int, token: str, changes: int, viewers: int):
    """Delays from each saved change to the projector's and the other tablet's DOM, with
    `viewers` phones holding the stream open meanwhile."""
    from playwright.sync_api import sync_playwright

    crowd = open_crowd(server, token, viewers)
    connected = sum(v.connected.is_set() for v in crowd)
    facilitator = Facilitator(server.url, plan_id)
    delays = {"projector": [], "tablet": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        projector = browser.new_page(viewport={"width": 1280, "height": 720})
        projector.goto(f"{server.url}/live/{token}")
        projector.evaluate(SEEN, "body")
        tablet = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        tablet.goto(f"{server.url}/login")
        tablet.fill("input[name=username]", "bench")
        tablet.fill("input[name=password]", PASSWORD)
        tablet.click("form.form button[type=submit]")
        tablet.wait_for_url(lambda url: "/login" not in url)
        tablet.goto(f"{server.url}/plans/{plan_id}/board")
        tablet.wait_for_selector("#board[data-live]")
        tablet.evaluate(SEEN, "#board")
        pages = {"projector": projector, "tablet": tablet}
        for _ in range(changes):
            saved, _took = facilitator.change()
            version = facilitator.version
            for name, page in pages.items():
                selector = "body" if name == "projector" else "#board"
                page.wait_for_function(
                    f"() => Number(document.querySelector('{selector}')"
                    f".getAttribute('data-plan-version')) >= {version}",
                    timeout=10_000,
                )
                seen = page.evaluate(f"() => window.__seen['{version}']")
                if seen is not None:
                    delays[name].append(seen / 1000 - saved)
            time.sleep(0.15)  # a facilitator does not move twice in 150 ms
        events = projector.evaluate("window.__events")
        browser.close()
    final = facilitator.version
    deadline = time.time() + 5
    while time.time() < deadline and any(v.last < final for v in crowd):
        time.sleep(0.05)
    behind = sum(v.last < final for v in crowd)
    for viewer in crowd:
        viewer.close()
    for viewer in crowd:
        viewer.join(timeout=5)
    print(f"changes: {'card moves' if facilitator.board else 'screen switches'}")
    return delays, events, connected, behind


def measure_load(server: Server, plan_id: int, token: str, viewers: int, moves: int):
    facilitator = Facilitator(server.url, plan_id)
    alone = []
    for _ in range(moves):
        _saved, took = facilitator.change()
        alone.append(took)
        time.sleep(0.2)
    host, port = "127.0.0.1", server.port
    crowd = [
        Viewer(host, port, f"/live/{token}/events?layout=phone&version=0") for _ in range(viewers)
    ]
    for viewer in crowd:
        viewer.start()
    for viewer in crowd:
        viewer.connected.wait(timeout=30)
    connected = sum(v.connected.is_set() for v in crowd)
    time.sleep(1)
    on_connecting = sum(v.received for v in crowd)  # the whole content, once each
    timings = []
    for _ in range(moves):
        _saved, took = facilitator.change()
        timings.append(took)
        time.sleep(0.2)
    final = facilitator.version
    deadline = time.time() + 5
    while time.time() < deadline and any(v.last < final for v in crowd):
        time.sleep(0.05)
    behind = sum(v.last < final for v in crowd)
    per_change = (sum(v.received for v in crowd) - on_connecting) / len(crowd) / moves
    return connected, alone, timings, behind, final, on_connecting / len(crowd), per_change


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=60)
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--moves", type=int, default=100)
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="planapp-bench-"))
    server = Server(instance)
    try:
        plan_id, token = server.prepare()
        server.start()
        print(f"server: gunicorn {' '.join(GUNICORN_ARGS)} on {server.url}")

        delays, events, connected, behind = measure_delay(
            server, plan_id, token, args.changes, args.viewers
        )
        print(f"viewers holding the stream meanwhile: {connected} of {args.viewers}")
        for name, values in delays.items():
            print(
                f"delay saved move -> {name} DOM over {len(values)} changes: "
                f"p50 {statistics.median(values) * 1000:.0f} ms, "
                f"p95 {percentile(values, 0.95) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms "
                "(target p95 < 150 ms with 200 viewers)"
            )
        kinds = sorted({event["type"] for event in events})
        sizes = [event["size"] for event in events if event["type"] == "delta"]
        print(
            f"projector events: {len(events)} ({', '.join(kinds)}); delta size p50 "
            f"{statistics.median(sizes) if sizes else 0:.0f} characters, max {max(sizes or [0])}"
        )
        print(f"viewers behind the final version after 5 s: {behind} (target 0)")
        connected, alone, timings, behind, final, whole, per_change = measure_load(
            server, plan_id, token, args.viewers, args.moves
        )
        print(
            f"change request with no viewer over {len(alone)} changes: "
            f"p50 {statistics.median(alone) * 1000:.0f} ms, "
            f"p95 {percentile(alone, 0.95) * 1000:.0f} ms (the reference)"
        )
        print(f"viewers holding the stream: {connected} of {args.viewers}")
        print(
            f"change request under load over {len(timings)} changes: "
            f"p50 {statistics.median(timings) * 1000:.0f} ms, "
            f"p95 {percentile(timings, 0.95) * 1000:.0f} ms (target p95 < 100 ms)"
        )
        print(
            f"received per viewer: {per_change / 1024:.1f} KB a change "
            f"(the whole content on connecting: {whole / 1024:.1f} KB)"
        )
        print(f"viewers behind the final version {final} after 5 s: {behind} (target 0)")
    finally:
        server.stop()
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
