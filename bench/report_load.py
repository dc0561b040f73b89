"""Benchmark: a forum's moves next to report load (prints figures, asserts nothing; issue 18,
"forum traffic never waits behind a report").

    .venv/bin/python bench/report_load.py [--scale 0.02] [--moves 60] [--workers 1]

Builds bench/national.py's national-shaped data set (`--scale` of the country) on PostgreSQL
(DATABASE_URL or TEST_DATABASE_URL, else a throwaway cluster through .ci/with-postgres), adds
the demo tambon, and serves it as the district server does (README, Deploying): a forum server
and a report server, two gunicorn instances (gunicorn.conf.py, the gevent worker, `--workers`)
on one database with the postgres live broker, the proxy sending /district* and /agencies* to
the report server; and the jobs worker (`flask jobs-worker`) building the agencies' workbooks.
The facilitator moves cards on the demo plan's board:
1. alone (the reference, in the same run);
2. one server: two administrators reload the heaviest roll-ups (/district with no filter and
   /district/strategies) back to back on the forum's own server (what one server does);
3. split: the same two administrators on the report server, and a third asking for the largest
   agency's workbook again and again (POST, the job's page polled, the file), built by the
   jobs worker (every workbook through the worker here: PLANAPP_INLINE_WORKBOOK_ROWS=0).
Prints move p50/p95/max of each, the reports' times and answers, and the workbooks' times.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import shutil
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

from bench.hall import Facilitator, Server, gunicorn_args, ms  # noqa: E402
from bench.national import FISCAL_YEAR, PASSWORD, load  # noqa: E402


def load_national(scale: float) -> int:
    """The national-shaped year, written with COPY, and an administrator (bench/national.py).
    Returns the id of the agency with the most projects."""
    from flask_migrate import upgrade

    from planapp import create_app
    from planapp.district.agencies import agency_figures
    from planapp.extensions import db
    from planapp.models import Agency

    app = create_app({"SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        shape = load(scale, 18)
        figures = agency_figures(FISCAL_YEAR, None, None, db.session.scalars(db.select(Agency.id)))
        largest_id = max(
            figures, key=lambda agency_id: figures[agency_id][0] + figures[agency_id][2]
        )
        lead, _satang, support = figures[largest_id]
        db.engine.dispose()
    counts = shape["counts"]
    print(
        f"scale {scale:g} of the national year: {counts['tambons']:,} tambons, "
        f"{counts['projects']:,} projects; largest agency {lead + support:,} "
        "projects"
    )
    return largest_id


class Administrator(threading.Thread):
    """A signed-in administrator who loads report pages back to back until stopped."""

    def __init__(self, base: str):
        super().__init__(daemon=True)
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        page = self.opener.open(base + "/login", timeout=60).read().decode()
        body = urllib.parse.urlencode(
            {"username": "admin", "password": PASSWORD, "csrf_token": csrf_of(page)}
        ).encode()
        self.opener.open(base + "/login", data=body, timeout=60).read()
        self.pages = []  # (what, status, seconds)
        self.running = True

    def load(self, path: str, data: bytes | None = None, headers=None):
        """(status, body, final URL) of one request."""
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=120) as response:
                return response.status, response.read(), response.url
        except urllib.error.HTTPError as error:
            return error.code, b"", path

    def stop(self):
        self.running = False
        self.join(timeout=180)


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


class Reports(Administrator):
    """Reloads the heaviest roll-ups back to back."""

    def run(self):
        paths = [f"/district?year={FISCAL_YEAR}", f"/district/strategies?year={FISCAL_YEAR}"]
        while self.running:
            path = paths[len(self.pages) % 2]
            started = time.monotonic()
            status, _body, _url = self.load(path)
            self.pages.append((path, status, time.monotonic() - started))


class Workbooks(Administrator):
    """Asks for an agency's workbook again and again: the offer page, the POST that queues the
    job, its status polled as the page's htmx does (every second), then the file."""

    def __init__(self, base: str, agency_id: int):
        super().__init__(base)
        self.path = f"/agencies/{agency_id}/export.xlsx?year={FISCAL_YEAR}"

    def run(self):
        while self.running:
            started = time.monotonic()
            _status, offer, _url = self.load(self.path)
            token = csrf_of(offer.decode())
            status, _body, job_url = self.load(self.path, data=b"", headers={"X-CSRFToken": token})
            job = urllib.parse.urlparse(job_url).path
            state = "queued"
            while state in ("queued", "running"):
                time.sleep(1)
                _status, region, _url = self.load(job, headers={"HX-Request": "true"})
                state = re.search(rb'data-job-status="(\w+)"', region).group(1).decode()
            if state == "done":
                status, body, _url = self.load(job + "/file")
                self.bytes = len(body)
            self.pages.append(
                (f"workbook of the largest agency ({state})", status, time.monotonic() - started)
            )


def moves(facilitator: Facilitator, count: int) -> list[float]:
    took = []
    for _ in range(count):
        _saved, seconds = facilitator.change()
        took.append(seconds)
        time.sleep(0.2)  # a facilitator does not move twice in 200 ms
    return took


# The report server runs at a lower CPU priority than the forum's, as the jobs worker does.
REPORTS_NICE = 10


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used, 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """Where the processor time of a phase goes: the forum server, the report server, the jobs
    worker and the database's backends (those connected to the bench's database at the end;
    the servers' pools keep theirs, so a backend lives through the phase)."""

    def __init__(self, url: str, processes: dict[str, list[int]]):
        self.url, self.processes = url, processes
        self.start = self._read()

    def _backends(self) -> list[int]:
        import psycopg

        with psycopg.connect(self.url.replace("+psycopg", "")) as connection:
            rows = connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            ).fetchall()
        return [pid for (pid,) in rows]

    def _read(self) -> dict[str, dict[int, float]]:
        groups = dict(self.processes, database=self._backends())
        return {name: {pid: process_cpu(pid) for pid in pids} for name, pids in groups.items()}

    def spent(self) -> str:
        end = self._read()
        parts = []
        for name, pids in end.items():
            before = self.start.get(name, {})
            seconds = sum(cpu - before.get(pid, 0.0) for pid, cpu in pids.items())
            parts.append(f"{name} {seconds:.1f} s")
        return "CPU used: " + ", ".join(parts)


def under_load(facilitator: Facilitator, readers: list[Administrator], count: int, meter):
    for reader in readers:
        reader.start()
    time.sleep(1)  # all are inside a report
    cpu = meter()
    took = moves(facilitator, count)
    spent = cpu.spent()
    for reader in readers:
        reader.stop()
    return took, [page for reader in readers for page in reader.pages], spent


def print_moves(label: str, took: list[float], note: str = "") -> None:
    print(
        f"move {label} over {len(took)} moves: p50 {ms(took)}, p95 {ms(took, 0.95)}, "
        f"max {max(took) * 1000:.0f} ms{note}"
    )


def print_pages(pages) -> None:
    for what in sorted({what for what, _status, _s in pages}):
        took = [seconds for w, _status, seconds in pages if w == what]
        statuses = sorted({status for w, status, _s in pages if w == what})
        print(
            f"  {what}: {len(took)} times, p50 {ms(took)}, max {max(took) * 1000:.0f} ms, "
            f"answers {statuses}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument("--moves", type=int, default=60)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or ""
    if not url.startswith("postgres"):  # a throwaway cluster, as CI's PostgreSQL pass has
        os.execvp(str(ROOT / ".ci/with-postgres"), [".ci/with-postgres", sys.executable, *sys.argv])
    instance = Path(tempfile.mkdtemp(prefix="planapp-bench-"))
    os.environ.update(DATABASE_URL=url, PLANAPP_INSTANCE_PATH=str(instance))
    largest = load_national(args.scale)
    env = {"DATABASE_URL": url, "PLANAPP_INLINE_WORKBOOK_ROWS": "0"}
    forum = Server(instance, gunicorn_args("gevent", args.workers), env)
    reports = Server(instance, gunicorn_args("gevent", args.workers), env)
    worker = None
    try:
        plan_id, _token = forum.prepare()
        forum.start()
        reports.start()
        for pid in reports.pids():  # as `Nice=10` in its systemd unit (README, Deploying)
            os.setpriority(os.PRIO_PROCESS, pid, REPORTS_NICE)
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "jobs-worker"],  # nice 10 itself
            cwd=ROOT, env=forum.env, stdout=forum.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        print(
            f"servers: gunicorn {' '.join(forum.args)} twice (forum, reports) on PostgreSQL, "
            "and flask jobs-worker"
        )
        print(f"load before: {os.getloadavg()[0]:.2f} (1 min)")
        facilitator = Facilitator(forum.url, plan_id)

        def meter():
            return CpuMeter(
                url,
                {"forum": forum.pids(), "reports": reports.pids(), "worker": [worker.pid]},
            )

        cpu = meter()
        alone = moves(facilitator, args.moves)
        alone_cpu = cpu.spent()
        one, one_pages, one_cpu = under_load(
            facilitator, [Reports(forum.url) for _ in range(2)], args.moves, meter
        )
        workbooks = Workbooks(reports.url, largest)
        split, split_pages, split_cpu = under_load(
            facilitator, [Reports(reports.url), Reports(reports.url), workbooks], args.moves, meter
        )
        print_moves("alone", alone, " (the reference)")
        print(f"  {alone_cpu}")
        print_moves(
            "while 2 administrators reload /district and /district/strategies on the forum's "
            "server (one server)",
            one,
        )
        print_pages(one_pages)
        print(f"  {one_cpu}")
        print_moves(
            "while the same 2 reload them on the report server and a third takes the largest "
            "agency's workbook from the jobs worker (split)",
            split,
            " (target p95 < 50 ms)",
        )
        print_pages(split_pages)
        print(f"  {split_cpu}")
        print(f"  (the workbook: {getattr(workbooks, 'bytes', 0):,} bytes)")
        print(f"load after: {os.getloadavg()[0]:.2f} (1 min)")
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        reports.stop()
        forum.stop()
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
