"""Benchmark of a hall of phones against the server (prints figures, asserts nothing).

    .venv/bin/python bench/hall.py [--changes 60] [--viewers 1000] [--half-open 300] [--moves 100]
    .venv/bin/python bench/hall.py --postgres --workers 2        # the district server's shape

1. Delay: a Chromium projector page is open; the facilitator's client saves changes one after
   another; for each, the time from the saved change (the POST's answer) to the projector's DOM
   update (its <body data-plan-version> reaching the new version). Prints p50/p95.
2. A hall under load (issue 13): the facilitator moves cards, first with no viewer (the reference,
   in the same run), then while 1,000 phones hold the event stream open and 300 connections
   have sent half a request line and stopped (reopened as soon as the server drops one, as an
   attacker would). Each phone and each half-open connection comes from its own loopback address
   (127.1.x.y, 127.2.x.y), as phones on the hall's Wi-Fi, so the per-address cap applies as in
   the hall. Prints the move p50/p95 of both, how many phones got their stream (and how many
   were refused), the share of phones that reached the final version and that saw every
   version, the bytes each phone received per change, how often the server dropped a
   half-open connection, and the server's memory (resident, now and peak, all its processes).
   The phones and half-open connections live in a process of their own (one selector loop), so
   reading 1,000 streams never competes with the facilitator's requests for the bench's GIL.

The server is started like `make run` (gunicorn, gevent, 1 worker; `--worker-class gthread
--threads 256` is main's way, for comparison) over a scratch copy of the demo tambon, with most
projects sorted into groups; `--postgres` runs it on PostgreSQL (DATABASE_URL, else a throwaway
cluster through .ci/with-postgres) with PLANAPP_LIVE_BROKER=postgres. Changes are card moves
through `POST /plans/<id>/moves`. `--busy` adds a second facilitator who keeps loading the board
page and the workbook export meanwhile (requests that hold the CPU for a while).
Targets: delay p95 < 500 ms; move p95 < 100 ms with the hall connected; every phone caught up.
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


def gunicorn_args(worker_class: str, workers: int) -> list[str]:
    args = ["--worker-class", worker_class, "--workers", str(workers), "--timeout", "120"]
    return args + (["--threads", "256"] if worker_class == "gthread" else [])


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
    def __init__(self, instance: Path, args: list[str], env: dict):
        self.instance = instance
        self.args = args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, PLANAPP_INSTANCE_PATH=str(instance), PYTHONUNBUFFERED="1")
        self.env.update(env)
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
            [sys.executable, "-m", "gunicorn", *self.args, "--bind", f"127.0.0.1:{self.port}",
             "app:app"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        for _ in range(300):
            try:
                urllib.request.urlopen(self.url + "/", timeout=2).read()
                return
            except OSError:
                time.sleep(0.1)
        self.log.flush()
        tail = (self.instance / "gunicorn.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"the server did not answer {self.url}/ in time; its log ends:\n{tail}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def pids(self) -> list[int]:
        """gunicorn's master and its workers."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [self.process.pid, *(int(pid) for pid in children.read_text().split())]

    def cpu_seconds(self) -> float:
        """CPU time the server's processes have used so far (user + system)."""
        ticks = 0
        for pid in self.pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def memory(self) -> tuple[int, int, int]:
        """(resident now, peak resident, processes): gunicorn's master and its workers, in KB."""
        pids = self.pids()
        now = peak = 0
        for pid in pids:
            status = Path(f"/proc/{pid}/status").read_text()
            now += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
            peak += int(re.search(r"VmHWM:\s+(\d+)", status).group(1))
        return now, peak, len(pids)


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
        self.refused = 0  # moves refused as stale (409) and sent again

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

    def change(self, projects=None, groups=("1", "2", "3")) -> tuple[float, float]:
        """Save one change; return (when it was saved, how long the request took). A move takes
        one of `projects` (by default any card) to one of `groups`."""
        self.count += 1
        if self.board:
            project = random.choice(projects or self.projects)
            data = {"project_id": project, "group": random.choice(groups),
                    "before_id": "", "version": self.version}  # fmt: skip
            started = time.time()
            status, body = self.post(f"/plans/{self.plan_id}/moves", data, htmx=True)
            done = time.time()
            found = re.findall(r'data-plan-version="(\d+)"', body)
            if status != 200 or not found:
                if status != 409:
                    raise RuntimeError(f"move answered {status}: {body[:300]}")
                self.refused += 1
                self._projects()  # refused as stale: read the board again
                return self.change(projects, groups)
            self.version = max(int(v) for v in found)
            return done, done - started
        mode = self.modes[self.count % len(self.modes)]
        started = time.time()
        status, body = self.post(f"/plans/{self.plan_id}/screen", {"mode": mode}, htmx=True)
        done = time.time()
        assert status == 200, status
        self.version = int(re.search(r'data-plan-version="(\d+)"', body).group(1))
        return done, done - started


# --- the hall: phones holding the stream, and half-sent requests --------------------------------


def hall_address(number: int, block: int) -> str:
    """A loopback address of its own per phone: 127.<block>.x.y."""
    return f"127.{block}.{number // 250}.{number % 250 + 1}"


EVENT_ID = re.compile(rb"\nid: (\d+)\n")


class Phone:
    """One phone's stream: the versions it received and what it read."""

    def __init__(self, number: int):
        self.address = hall_address(number, 1)
        self.sock = None
        self.head = b""  # the answer's status line and headers, until they are complete
        self.tail = b"\n"  # the unfinished line of the stream
        self.status = None
        self.seen: list[int] = []
        self.received = 0
        self.opened = 0

    @property
    def last(self) -> int:
        return self.seen[-1] if self.seen else -1

    def request(self, path: str) -> bytes:
        version = self.last if self.seen else 0
        return (
            f"GET {path}&version={version} HTTP/1.1\r\nHost: hall\r\n"
            "Accept: text/event-stream\r\n\r\n"
        ).encode()

    def feed(self, chunk: bytes) -> list[int]:
        """Read a chunk; the versions it brought."""
        self.received += len(chunk)
        if self.status is None:
            self.head += chunk
            if b"\r\n\r\n" not in self.head:
                return []
            head, chunk = self.head.split(b"\r\n\r\n", 1)
            self.status = int(head.split(b" ", 2)[1])
        text = self.tail + chunk
        cut = text.rfind(b"\n")
        versions = [int(v) for v in EVENT_ID.findall(text, 0, cut + 1)]
        self.seen += versions
        self.tail = text[cut:]
        return versions


def run_hall(conn, port: int, path: str, phones: int, half_open: int, token: str) -> None:
    """In a process of its own: open the phones' streams and the half-open connections, keep
    them (a phone whose stream ends reconnects with its version, as the views do; a dropped
    half-open connection is opened again), and answer the bench's questions over `conn`."""
    import selectors

    selector = selectors.DefaultSelector()
    crowd = [Phone(n) for n in range(phones)]
    counts = {"refused": 0, "reconnects": 0, "dropped": 0}
    reached: dict[int, float] = {}  # version -> when the last phone received it

    def open_phone(phone):
        sock = socket.socket()
        sock.bind((phone.address, 0))
        sock.connect(("127.0.0.1", port))
        sock.sendall(phone.request(path))
        sock.setblocking(False)
        phone.sock, phone.head, phone.tail, phone.status = sock, b"", b"\n", None
        phone.opened += 1
        selector.register(sock, selectors.EVENT_READ, phone)

    def open_half(number):
        sock = socket.socket()
        sock.bind((hall_address(number, 2), 0))
        sock.connect(("127.0.0.1", port))
        sock.sendall(f"GET /live/{token}/ev".encode())  # ... and never the rest
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, number)

    for number in range(half_open):
        open_half(number)
    for phone in crowd:
        open_phone(phone)

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            for key, _mask in selector.select(timeout=min(left, 0.1)):
                try:
                    chunk = key.fileobj.recv(262144)
                except OSError:
                    chunk = b""
                if isinstance(key.data, Phone):
                    phone = key.data
                    if chunk:
                        for version in phone.feed(chunk):
                            reached[version] = time.time()  # the last phone to get it, so far
                        continue
                    selector.unregister(phone.sock)
                    phone.sock.close()
                    if phone.status == 503:
                        counts["refused"] += 1
                    else:
                        counts["reconnects"] += 1
                        open_phone(phone)
                elif not chunk:  # the server dropped a half-open connection: open another
                    selector.unregister(key.fileobj)
                    key.fileobj.close()
                    counts["dropped"] += 1
                    open_half(key.data)

    while True:
        while not conn.poll():  # keep reading the streams while the bench works
            pump(0.05)
        command, arg = conn.recv()
        if command == "connected":  # wait until every phone has its answer, then report
            deadline = time.monotonic() + arg
            while time.monotonic() < deadline and any(p.status is None for p in crowd):
                pump(0.1)
            streaming = sum(p.status == 200 for p in crowd)
            conn.send((streaming, counts["refused"], sum(p.received for p in crowd)))
        elif command == "final":  # wait for every phone to reach the version, then report
            final, wait, first = arg
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and any(p.last < final for p in crowd):
                pump(0.05)
            expected = set(range(first, final + 1))
            conn.send(
                {
                    "caught_up": sum(p.last >= final for p in crowd),
                    "saw_every": sum(expected <= set(p.seen) for p in crowd),
                    "received": sum(p.received for p in crowd),
                    "reached": reached,
                    **counts,
                }
            )
            return


class Hall:
    """The hall's phones and half-open connections, run by `run_hall` in another process;
    between the bench's questions that process keeps reading its sockets."""

    def __init__(self, port: int, token: str, phones: int, half_open: int):
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self.conn, child = context.Pipe()
        path = f"/live/{token}/events?layout=phone"
        self.process = context.Process(
            target=run_hall, args=(child, port, path, phones, half_open, token), daemon=True
        )
        self.process.start()
        self.phones = phones

    def connected(self, timeout: float) -> tuple[int, int, int]:
        self.conn.send(("connected", timeout))
        return self.conn.recv()

    def final(self, version: int, first: int, wait: float) -> dict:
        self.conn.send(("final", (version, wait, first)))
        result = self.conn.recv()
        self.process.join(timeout=30)
        return result


# --- the two measurements ----------------------------------------------------------------------


# Record when each version reaches the projector's DOM, in wall-clock milliseconds.
RECORD_VERSIONS = """() => { window.__seen = {};
  new MutationObserver(() => {
    const v = document.body.getAttribute('data-plan-version');
    const now = performance.timeOrigin + performance.now();
    if (!(v in window.__seen)) window.__seen[v] = now;
  }).observe(document.body, {attributes: true, attributeFilter: ['data-plan-version']});
}"""


def measure_delay(server: Server, plan_id: int, token: str, changes: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    facilitator = Facilitator(server.url, plan_id)
    delays = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(f"{server.url}/live/{token}")
        page.evaluate(RECORD_VERSIONS)
        page.wait_for_timeout(500)  # the stream is open
        for _ in range(changes):
            saved, _took = facilitator.change()
            version = facilitator.version
            page.wait_for_function(
                f"() => Number(document.body.getAttribute('data-plan-version')) >= {version}",
                timeout=10_000,
            )
            seen = page.evaluate(f"() => window.__seen['{version}']")
            if seen is not None:
                delays.append(seen / 1000 - saved)
            page.wait_for_timeout(150)  # a facilitator does not move twice in 150 ms
        browser.close()
    print(f"changes: {'card moves' if facilitator.board else 'screen switches'}")
    return delays


def measure_load(server: Server, plan_id: int, token: str, args) -> dict:
    facilitator = Facilitator(server.url, plan_id)
    alone = []
    cpu = server.cpu_seconds()
    for _ in range(args.moves):
        _saved, took = facilitator.change()
        alone.append(took)
        time.sleep(0.2)
    cpu_alone = (server.cpu_seconds() - cpu) / args.moves

    started = time.monotonic()
    hall = Hall(server.port, token, args.viewers, args.half_open)
    streaming, refused, on_connecting = hall.connected(timeout=120)
    connect_seconds = time.monotonic() - started
    busy = Busy(server.url, plan_id) if args.busy else None
    first = facilitator.version + 1
    timings = []
    saved_at = {}  # version -> when its move was answered
    peak_now = 0
    cpu = server.cpu_seconds()
    for number in range(args.moves):
        saved, took = facilitator.change()
        timings.append(took)
        saved_at[facilitator.version] = saved
        if number % 10 == 0:
            peak_now = max(peak_now, server.memory()[0])
        time.sleep(0.2)
    cpu_hall = (server.cpu_seconds() - cpu) / args.moves
    if busy:
        busy.stop()
    result = hall.final(facilitator.version, first, wait=10)
    now, peak, processes = server.memory()
    fan_out = [result["reached"][v] - t for v, t in saved_at.items() if v in result["reached"]]
    return {
        "fan_out": fan_out,
        "cpu": (cpu_alone, cpu_hall),
        "alone": alone,
        "timings": timings,
        "streaming": streaming,
        "refused_at_start": refused,
        "connect_seconds": connect_seconds,
        "on_connecting": on_connecting,
        "final": facilitator.version,
        "memory": (max(now, peak_now), peak, processes),
        "busy": busy.pages if busy else None,
        **result,
    }


class Busy(threading.Thread):
    """A second facilitator who keeps loading the board page and the workbook export."""

    def __init__(self, base: str, plan_id: int):
        super().__init__(daemon=True)
        self.client = Facilitator(base, plan_id)
        self.pages = []  # (path, seconds)
        self.running = True
        self.start()

    def run(self):
        paths = [f"/plans/{self.client.plan_id}/board", f"/plans/{self.client.plan_id}/export.xlsx"]
        while self.running:
            path = paths[len(self.pages) % 2]
            started = time.monotonic()
            self.client.opener.open(self.client.base + path, timeout=60).read()
            self.pages.append((path, time.monotonic() - started))

    def stop(self):
        self.running = False
        self.join(timeout=60)


def ms(values, share=None) -> str:
    value = statistics.median(values) if share is None else percentile(values, share)
    return f"{value * 1000:.0f} ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=60, help="0 skips the Chromium delay")
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--half-open", type=int, default=300)
    parser.add_argument("--moves", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--worker-class", default="gevent", choices=["gevent", "gthread"])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL, postgres broker")
    parser.add_argument("--busy", action="store_true", help="a second facilitator loads pages")
    args = parser.parse_args()

    env = {}
    if args.postgres:
        url = os.environ.get("DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
        if not url:  # a throwaway cluster, as CI's PostgreSQL pass has
            os.execvp(
                str(ROOT / ".ci/with-postgres"), [".ci/with-postgres", sys.executable, *sys.argv]
            )
        env = {"DATABASE_URL": url, "PLANAPP_LIVE_BROKER": "postgres"}
    instance = Path(tempfile.mkdtemp(prefix="planapp-bench-"))
    server = Server(instance, gunicorn_args(args.worker_class, args.workers), env)
    try:
        plan_id, token = server.prepare()
        server.start()
        database = "PostgreSQL, postgres broker" if args.postgres else "SQLite"
        print(f"server: gunicorn {' '.join(server.args)} on {database}")

        if args.changes:
            delays = measure_delay(server, plan_id, token, args.changes)
            print(
                f"delay saved change -> projector DOM over {len(delays)} changes: "
                f"p50 {ms(delays)}, p95 {ms(delays, 0.95)}, max {max(delays) * 1000:.0f} ms "
                "(target p95 < 500 ms)"
            )
        r = measure_load(server, plan_id, token, args)
        print(
            f"move with no viewer over {len(r['alone'])} moves: "
            f"p50 {ms(r['alone'])}, p95 {ms(r['alone'], 0.95)} (the reference)"
        )
        print(
            f"hall: {r['streaming']} of {args.viewers} phones streaming after "
            f"{r['connect_seconds']:.1f} s ({r['refused_at_start']} refused), "
            f"{args.half_open} half-open connections held open "
            f"(the server dropped {r['dropped']} of them over the run; each was reopened)"
        )
        if r["busy"]:
            for kind in ("board", "export.xlsx"):
                took = [t for path, t in r["busy"] if path.endswith(kind)]
                print(
                    f"busy second facilitator: {len(took)} x {kind}, "
                    f"p50 {ms(took)}, max {max(took) * 1000:.0f} ms"
                )
        print(
            f"move with the hall connected over {len(r['timings'])} moves: "
            f"p50 {ms(r['timings'])}, p95 {ms(r['timings'], 0.95)}, "
            f"max {max(r['timings']) * 1000:.0f} ms (target p95 < 100 ms)"
        )
        print(
            f"server CPU time per move (its fan-out included): {r['cpu'][0] * 1000:.0f} ms "
            f"with no viewer, {r['cpu'][1] * 1000:.0f} ms with the hall connected"
        )
        print(
            f"from a move's answer to the last of the {r['streaming']} phones: "
            f"p50 {ms(r['fan_out'])}, p95 {ms(r['fan_out'], 0.95)}"
        )
        share = 100 / args.viewers
        print(
            f"phones at the final version {r['final']} within 10 s: {r['caught_up']} "
            f"({r['caught_up'] * share:.1f} %); saw every version: {r['saw_every']} "
            f"({r['saw_every'] * share:.1f} %); reconnects {r['reconnects']}, "
            f"refused later {r['refused']}"
        )
        per_change = (r["received"] - r["on_connecting"]) / args.viewers / args.moves
        print(
            f"received per phone: {per_change / 1024:.1f} KB a change "
            f"(the whole content on connecting: {r['on_connecting'] / args.viewers / 1024:.1f} KB)"
        )
        now, peak, processes = r["memory"]
        print(
            f"server memory ({processes} processes): resident {now / 1024:.0f} MB with the hall "
            f"connected, peak {peak / 1024:.0f} MB"
        )
    finally:
        server.stop()
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
