"""Benchmark: a move on the forum board, and rendering the board, for plans of 300 and 3,000
projects, through gunicorn on loopback. Prints figures; asserts nothing.

    .venv/bin/python bench/board.py [--sizes 300 3000] [--moves 200] [--renders 20] [--interleave]

For each size it builds a scratch instance (SQLite file, WAL, as the laptop in the hall runs it)
with one plan whose projects are spread over the five columns, starts gunicorn the way `make run`
does (one gevent worker) on a free loopback port, signs in as a facilitator and then:
- sends `--moves` relative moves (random project, random column, random neighbour or the end,
  always with the current plan version), timing each POST /plans/<id>/moves round trip;
- fetches the full board page `--renders` times.
Both are printed as p50/p95 per size and as ratios between sizes measured in the same run, which
say more than absolute numbers on a shared machine; with `--interleave` every size's server runs
at once and their requests take turns, so load from elsewhere falls on all sizes alike.
Target: move p95 < 30 ms at 300 projects, and growing less than 2x from 300 to 3,000.
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
    """Just enough of a browser: cookies, the CSRF token, form posts."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.token = ""

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path) as response:
            return response.read().decode()

    def post(self, path: str, data: dict, htmx: bool = True) -> tuple[int, str]:
        request = urllib.request.Request(
            self.base + path,
            data=urllib.parse.urlencode(data).encode(),
            headers={"X-CSRFToken": self.token, **({"HX-Request": "true"} if htmx else {})},
        )
        try:
            with self.opener.open(request) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def login(self) -> None:
        page = self.get("/login")
        self.token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        status, _body = self.post(
            "/login", {"username": "facilitator", "password": PASSWORD, "csrf_token": self.token}
        )
        if status not in (200, 302):
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


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class BoardRun:
    """One size's scratch instance, server and signed-in browser, and our mirror of its board."""

    def __init__(self, size: int, seed: int):
        self.size = size
        self.instance = Path(tempfile.mkdtemp(prefix=f"planapp-bench-board-{size}-"))
        self.server = None
        started = time.perf_counter()
        self.plan_id = build(self.instance, size)
        print(f"{size} projects built in {time.perf_counter() - started:.1f} s")
        self.server = Server(self.instance)
        self.browser = Browser(self.server.base)
        self.browser.login()
        self.board_path = f"/plans/{self.plan_id}/board"
        self.columns, self.version = read_board(self.browser.get(self.board_path))
        self.rng = random.Random(seed)
        self.samples: dict[str, list[float]] = {"move": [], "board": []}

    def move(self, keep: bool) -> None:
        """A relative move: random project, random column, random neighbour or the end."""
        from planapp.ranking import place

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

    def render(self, keep: bool) -> None:
        start = time.perf_counter()
        self.browser.get(self.board_path)
        if keep:
            self.samples["board"].append((time.perf_counter() - start) * 1000)

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
        shutil.rmtree(self.instance, ignore_errors=True)


def measure(sizes: list[int], moves: int, renders: int, seed: int, interleave: bool) -> dict:
    """Samples per size. One size after the other, or (`interleave`) every size's server up at
    once and the requests taken in turns, so a burst of load elsewhere on the machine falls on
    all sizes alike and the ratios between them hold."""
    results = {}
    groups = [sizes] if interleave else [[size] for size in sizes]
    for group in groups:
        runs = []
        try:
            for size in group:
                runs.append(BoardRun(size, seed))
            for index in range(moves + 5):  # the first five warm up
                for run in runs[index % len(runs) :] + runs[: index % len(runs)]:
                    run.move(keep=index >= 5)
            for run in runs:
                run.check()
            for index in range(renders + 2):
                for run in runs[index % len(runs) :] + runs[: index % len(runs)]:
                    run.render(keep=index >= 2)
            results.update({run.size: run.samples for run in runs})
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
    args = parser.parse_args()

    results = measure(args.sizes, args.moves, args.renders, args.seed, args.interleave)
    if args.interleave:
        print("(sizes interleaved: their requests taken in turns)")
    print()
    print(f"{'projects':>8} {'request':<8} {'runs':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for size, samples in results.items():
        for name, values in samples.items():
            print(
                f"{size:>8} {name:<8} {len(values):>5} {statistics.median(values):>8.1f} "
                f"{percentile(values, 0.95):>8.1f} {max(values):>8.1f}"
            )
    if len(args.sizes) >= 2:
        small, large = args.sizes[0], args.sizes[-1]
        print()
        for name in ("move", "board"):
            for label, fraction in (("p50", 0.5), ("p95", 0.95)):
                ratio = percentile(results[large][name], fraction) / percentile(
                    results[small][name], fraction
                )
                print(f"{name} {label} {large}/{small}: {ratio:.2f}x")
    print("\ntarget: move p95 < 30 ms at 300 projects, growing < 2x from 300 to 3,000")


if __name__ == "__main__":
    main()
