"""Benchmark: a move on the forum board, and rendering the board, for plans of 300 and 3,000
projects, through gunicorn on loopback. Prints figures; asserts nothing.

    .venv/bin/python bench/board.py [--sizes 300 3000] [--moves 200] [--renders 20] [--interleave]
                                    [--new-connections]

For each size it builds a scratch instance (SQLite file, WAL, as the laptop in the hall runs it)
with one plan whose projects are spread over the five columns, starts gunicorn the way `make run`
does (one gevent worker) on a free loopback port, signs in as a facilitator and then:
- sends `--moves` relative moves (random project, random column, random neighbour or the end,
  always with the current plan version), timing each POST /plans/<id>/moves round trip;
- fetches the full board page `--renders` times (the first one after the moves is printed on
  its own: the cards that moved render anew, the others come from the card cache), and then
  `--renders` times just after a move ("changed": the plan's card list is read anew, only the
  columns the move changed render anew; a tablet that opens the board mid-forum);
- counts the SQL statements of one move of each kind (in this process, on the same database);
- weighs the board page: HTML bytes a card, and what goes over the wire gzipped.
Requests ask for gzip as Chromium does over the hall's plain HTTP, so compression is measured,
and go over one connection kept open, as Chromium keeps it (`--new-connections`: a new one for
every request, which adds the connect and the client's setup to every figure).
Both are printed as p50/p95 per size and as ratios between sizes measured in the same run, which
say more than absolute numbers on a shared machine; with `--interleave` every size's server runs
at once and their requests take turns, so load from elsewhere falls on all sizes alike.
Targets (issue 14): board page p95 <= 15 ms at 300 cards and <= 100 ms at 3,000; a move p95
<= 10 ms at 300 and <= 20 ms at 3,000, at most 10 SQL statements; at most 1 KB of HTML a card.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
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
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FISCAL_YEAR = 2570
PASSWORD = "bench password 123"
# Where the forum has put the projects by the time the board is busy.
SPREAD = ["unsorted"] * 3 + ["1"] * 2 + ["2"] * 2 + ["3"] * 2 + ["not-feasible"]


def build(instance: Path, size: int, seed: int = 11) -> int:
    """A migrated database with one tambon, one plan of `size` projects and a facilitator."""
    env = dict(os.environ, PLANAPP_INSTANCE_PATH=str(instance))
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    code = f"""
import random, sys
from planapp import create_app
from planapp.domain import SECTORS, PROGRAMME_FOR_SECTOR
from planapp.extensions import db
from planapp.models import Agency, Plan, Project, Tambon, User, Village

rng = random.Random({seed})
app = create_app({{"SECRET_KEY": "bench"}})
with app.app_context():
    tambon = Tambon(name="ทดสอบ", district="อำเภอทดสอบ", province="ทดสอบ")
    villages = [Village(tambon=tambon, number=n, name=f"บ้าน {{n}}") for n in range(1, 13)]
    agencies = [Agency(name=f"หน่วยงานทดสอบ {{n}}", kind="government") for n in range(20)]
    plan = Plan(tambon=tambon, fiscal_year={FISCAL_YEAR})
    user = User(username="facilitator", role="facilitator", display_name="สมชาย")
    user.set_password({PASSWORD!r})
    user.tambons = [tambon]
    db.session.add_all([plan, user, *agencies])
    ranks = {{}}
    for i in range({size}):
        group = rng.choice({SPREAD!r})
        ranks[group] = ranks.get(group, 0) + 1
        sector = rng.choice(SECTORS)
        db.session.add(Project(
            plan=plan,
            title=f"โครงการ {{i + 1}} ก่อสร้างถนนคอนกรีตเสริมเหล็ก สายกลางบ้าน หมู่ที่ {{i % 12 + 1}}",
            objective="เพื่อให้ประชาชนสัญจรได้สะดวก",
            sector=sector,
            programme=PROGRAMME_FOR_SECTOR[sector],
            budget_satang=rng.randrange(20_000, 3_000_000, 1_000) * 100,
            funding_group=group,
            rank=ranks[group],
            feasibility="not_feasible" if group == "not-feasible" else "pending",
            feasibility_reason="ทดสอบ" if group == "not-feasible" else "",
            urgency=rng.choice(["urgent", "medium", "normal", None]),
            villages=rng.sample(villages, rng.choice((1, 1, 2))),
            lead_agency=rng.choice(agencies + [None]),
        ))
    db.session.commit()
    print(plan.id)
"""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return int(result.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, instance: Path):
        self.port = free_port()
        env = dict(os.environ, PLANAPP_INSTANCE_PATH=str(instance), SECRET_KEY="bench")
        env.pop("DATABASE_URL", None)
        self.log = (instance / "gunicorn.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}"]
            + ["--worker-class", "gevent", "--workers", "1", "app:app"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.base + "/login", timeout=2).read()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=10)
        self.log.close()


class Browser:
    """Just enough of a browser: cookies, the CSRF token, form posts, and one connection kept
    open between requests as Chromium keeps it (reopened before gunicorn's 5 s keep-alive would
    close it). `keep_alive=False` opens a new connection for every request instead."""

    # What Chromium asks for over plain HTTP (br and zstd only over HTTPS).
    ACCEPT = {"Accept-Encoding": "gzip, deflate"}
    IDLE = 4.0  # seconds: below gunicorn's keepalive (gunicorn.conf.py)
    wire = 0  # bytes of the last answer as sent

    def __init__(self, base: str, keep_alive: bool = True):
        address = urllib.parse.urlsplit(base)
        self.host, self.port = address.hostname, address.port
        self.keep_alive = keep_alive
        self.cookies: dict[str, str] = {}
        self.connection: http.client.HTTPConnection | None = None
        self.last_used = 0.0
        self.token = ""

    def _request(self, method: str, path: str, body: bytes | None, headers: dict) -> tuple:
        headers = {**self.ACCEPT, **headers}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if not self.keep_alive:
            headers["Connection"] = "close"
        if self.connection is not None and time.monotonic() - self.last_used > self.IDLE:
            self.connection.close()
            self.connection = None
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        self.last_used = time.monotonic()
        if response.will_close:
            self.connection.close()
            self.connection = None
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value and "Max-Age=0" not in cookie:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        self.wire = len(data)
        if response.headers.get("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        return response.status, data.decode()

    def get(self, path: str) -> str:
        status, page = self._request("GET", path, None, {})
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}")
        return page

    def post(self, path: str, data: dict, htmx: bool = True) -> tuple[int, str]:
        headers = {
            "X-CSRFToken": self.token,
            "Content-Type": "application/x-www-form-urlencoded",
            **({"HX-Request": "true"} if htmx else {}),
        }
        return self._request("POST", path, urllib.parse.urlencode(data).encode(), headers)

    def login(self) -> None:
        page = self.get("/login")
        self.token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        status, _body = self.post(
            "/login",
            {"username": "facilitator", "password": PASSWORD, "csrf_token": self.token},
            htmx=False,
        )
        if status not in (200, 302, 303):
            raise SystemExit(f"could not sign in ({status})")
        # Signing in starts a new session, and with it a new CSRF token.
        page = self.get("/")
        self.token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def read_board(page: str) -> tuple[dict[str, list[int]], int]:
    columns = {}
    for group in ["unsorted", "1", "2", "3", "not-feasible"]:
        column = page.split(f'data-group="{group}"', 1)[1].split("</section>", 1)[0]
        columns[group] = [int(pid) for pid in re.findall(r'data-project-id="(\d+)"', column)]
    version = int(re.search(r'id="plan-version" name="version" value="(\d+)"', page).group(1))
    return columns, version


def ranking_place(columns, project_id, group, before_id):
    from planapp.ranking import place

    return place(columns, project_id, group, before_id)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class BoardRun:
    """One size's scratch instance, server and signed-in browser, and our mirror of its board."""

    def __init__(self, size: int, seed: int, keep_alive: bool = True):
        self.size = size
        self.instance = Path(tempfile.mkdtemp(prefix=f"planapp-bench-board-{size}-"))
        self.server = None
        started = time.perf_counter()
        self.plan_id = build(self.instance, size)
        print(f"{size} projects built in {time.perf_counter() - started:.1f} s")
        self.server = Server(self.instance)
        self.browser = Browser(self.server.base, keep_alive)
        self.browser.login()
        self.board_path = f"/plans/{self.plan_id}/board"
        self.columns, self.version = read_board(self.browser.get(self.board_path))
        self.rng = random.Random(seed)
        self.samples: dict[str, list[float]] = {"move": [], "board": [], "changed": []}
        self.first_render = 0.0
        self.page_bytes = self.page_wire = 0
        self.statements: dict[str, int] = {}

    def move(self, keep: bool) -> None:
        """A relative move: random project, random column, random neighbour or the end."""
        place = ranking_place
        rng, columns = self.rng, self.columns
        group = rng.choice(list(columns))
        source = rng.choice([g for g in columns if columns[g]])
        project_id = rng.choice(columns[source])
        others = [pid for pid in columns[group] if pid != project_id]
        before_id = rng.choice(others + [None]) if others else None
        data = {
            "project_id": project_id,
            "group": group,
            "before_id": before_id or "",
            "version": self.version,
        }
        start = time.perf_counter()
        status, _body = self.browser.post(f"/plans/{self.plan_id}/moves", data)
        elapsed = (time.perf_counter() - start) * 1000
        if status != 200:
            raise SystemExit(f"move answered {status}")
        columns.update(place(columns, project_id, group, before_id))
        self.version += 1
        if keep:
            self.samples["move"].append(elapsed)

    def check(self) -> None:
        """The server and our mirror of the board agree after all those moves."""
        if read_board(self.browser.get(self.board_path)) != (self.columns, self.version):
            raise SystemExit("the board on the server differs from the moves sent")

    def render(self, keep: bool, kind: str = "board") -> None:
        start = time.perf_counter()
        page = self.browser.get(self.board_path)
        elapsed = (time.perf_counter() - start) * 1000
        if not self.first_render:
            self.first_render = elapsed
            self.page_bytes, self.page_wire = len(page.encode()), self.browser.wire
        if keep:
            self.samples[kind].append(elapsed)

    def count_statements(self) -> None:
        """One move of each kind in this process, on the same database, counting what reaches
        the connection from the request's start to its answer."""
        os.environ["PLANAPP_INSTANCE_PATH"] = str(self.instance)
        os.environ.pop("DATABASE_URL", None)
        from sqlalchemy import event

        from planapp import create_app
        from planapp.extensions import db

        app = create_app({"SECRET_KEY": "bench"})
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        client.post(
            "/login", data={"username": "facilitator", "password": PASSWORD, "csrf_token": token}
        )
        token = re.search(
            r'name="csrf_token" value="([^"]+)"', client.get("/").get_data(as_text=True)
        ).group(1)
        columns, version = read_board(client.get(self.board_path).get_data(as_text=True))
        kinds = {
            "in a column": lambda: ("1", columns["1"][3], columns["1"][0]),
            "across columns": lambda: ("2", columns["1"][0], columns["2"][0]),
            "into not feasible": lambda: ("not-feasible", columns["3"][0], None),
        }
        with app.app_context():
            for kind, choose in kinds.items():
                group, project_id, before_id = choose()
                statements = []

                def count(*_args, found=statements):
                    found.append(1)

                event.listen(db.engine, "before_cursor_execute", count)
                response = client.post(
                    f"/plans/{self.plan_id}/moves",
                    data={
                        "project_id": project_id,
                        "group": group,
                        "before_id": before_id or "",
                        "version": version,
                    },
                    headers={"HX-Request": "true", "X-CSRFToken": token},
                )
                event.remove(db.engine, "before_cursor_execute", count)
                if response.status_code != 200:
                    raise SystemExit(f"counted move answered {response.status_code}")
                columns.update(ranking_place(columns, project_id, group, before_id))
                version += 1
                self.statements[kind] = len(statements)

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
        shutil.rmtree(self.instance, ignore_errors=True)


def measure(
    sizes: list[int], moves: int, renders: int, seed: int, interleave: bool, keep_alive: bool = True
) -> dict:
    """Samples per size. One size after the other, or (`interleave`) every size's server up at
    once and the requests taken in turns, so a burst of load elsewhere on the machine falls on
    all sizes alike and the ratios between them hold."""
    results = {}
    groups = [sizes] if interleave else [[size] for size in sizes]
    for group in groups:
        runs = []
        try:
            for size in group:
                runs.append(BoardRun(size, seed, keep_alive))
            for index in range(moves + 5):  # the first five warm up
                for run in runs[index % len(runs) :] + runs[: index % len(runs)]:
                    run.move(keep=index >= 5)
            for run in runs:
                run.check()
            for index in range(renders + 2):
                for run in runs[index % len(runs) :] + runs[: index % len(runs)]:
                    run.render(keep=index >= 2)
            for index in range(renders):  # each page just after a move of its plan
                turn = runs[index % len(runs) :] + runs[: index % len(runs)]
                for run in turn:
                    run.move(keep=False)
                for run in turn:
                    run.render(keep=True, kind="changed")
            for run in runs:
                run.check()
                run.count_statements()
            results.update({run.size: run for run in runs})
        finally:
            for run in runs:
                run.close()
    return {size: results[size] for size in sizes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 3000])
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--interleave",
        action="store_true",
        help="run every size's server at once and take their requests in turns",
    )
    parser.add_argument(
        "--new-connections",
        action="store_true",
        help="open a new connection for every request (a browser keeps one open)",
    )
    args = parser.parse_args()

    keep_alive = not args.new_connections
    runs = measure(args.sizes, args.moves, args.renders, args.seed, args.interleave, keep_alive)
    results = {size: run.samples for size, run in runs.items()}
    if args.interleave:
        print("(sizes interleaved: their requests taken in turns)")
    print(
        "(one connection kept open, as a browser does)"
        if keep_alive
        else "(a new connection each request)"
    )
    print()
    print(f"{'projects':>8} {'request':<8} {'runs':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for size, samples in results.items():
        for name, values in samples.items():
            print(
                f"{size:>8} {name:<8} {len(values):>5} {statistics.median(values):>8.1f} "
                f"{percentile(values, 0.95):>8.1f} {max(values):>8.1f}"
            )
    print()
    for size, run in runs.items():
        counted = ", ".join(f"{kind} {count}" for kind, count in run.statements.items())
        print(
            f"{size:>8} projects: board page {run.page_bytes / 1024:.0f} KB of HTML, "
            f"{run.page_bytes / size:.0f} bytes a card, {run.page_wire / 1024:.0f} KB gzipped; "
            f"first render after the moves {run.first_render:.1f} ms; "
            f"SQL statements a move: {counted}"
        )
    if len(args.sizes) >= 2:
        small, large = args.sizes[0], args.sizes[-1]
        print()
        for name in ("move", "board", "changed"):
            for label, fraction in (("p50", 0.5), ("p95", 0.95)):
                ratio = percentile(results[large][name], fraction) / percentile(
                    results[small][name], fraction
                )
                print(f"{name} {label} {large}/{small}: {ratio:.2f}x")
    print("\n(changed: the board page just after a move, when the plan's card list is read anew)")
    print(
        "\ntargets: board page p95 <= 15 ms at 300, <= 100 ms at 3,000; move p95 <= 10 ms at"
        " 300, <= 20 ms at 3,000; <= 10 SQL statements a move; <= 1 KB of HTML a card"
    )


if __name__ == "__main__":
    main()
