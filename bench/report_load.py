"""Benchmark: a forum's moves next to report load on one gevent worker (prints figures, asserts
nothing; issue 18, "forum traffic never waits behind a report").

    .venv/bin/python bench/report_load.py [--scale 0.02] [--moves 60] [--workers 1]

Builds bench/national.py's national-shaped data set (`--scale` of the country) on PostgreSQL
(DATABASE_URL or TEST_DATABASE_URL, else a throwaway cluster through .ci/with-postgres), adds
the demo tambon, and serves it as the district server would: gunicorn (gunicorn.conf.py, the
gevent worker, `--workers`), statement timeout on reports as configured. The facilitator moves
cards on the demo plan's board, first alone (the reference, in the same run), then while two
administrators reload the roll-ups back to back (/district with no filter and
/district/strategies, the heaviest pages). Prints move p50/p95/max of both, and the reports'
times and answers.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import shutil
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


def load_national(scale: float) -> None:
    """The national-shaped year, written with COPY, and an administrator (bench/national.py)."""
    from flask_migrate import upgrade

    from planapp import create_app
    from planapp.extensions import db

    app = create_app({"SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        shape = load(scale, 18)
        db.engine.dispose()
    counts = shape["counts"]
    print(
        f"scale {scale:g} of the national year: {counts['tambons']:,} tambons, "
        f"{counts['projects']:,} projects"
    )


class Reports(threading.Thread):
    """An administrator who reloads the heaviest roll-ups back to back."""

    def __init__(self, base: str):
        super().__init__(daemon=True)
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        page = self.opener.open(base + "/login", timeout=60).read().decode()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode(
            {"username": "admin", "password": PASSWORD, "csrf_token": csrf}
        ).encode()
        self.opener.open(base + "/login", data=body, timeout=60).read()
        self.pages = []  # (path, status, seconds)
        self.running = True

    def run(self):
        paths = [f"/district?year={FISCAL_YEAR}", f"/district/strategies?year={FISCAL_YEAR}"]
        while self.running:
            path = paths[len(self.pages) % 2]
            started = time.monotonic()
            try:
                with self.opener.open(self.base + path, timeout=120) as response:
                    response.read()
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            self.pages.append((path, status, time.monotonic() - started))

    def stop(self):
        self.running = False
        self.join(timeout=180)


def moves(facilitator: Facilitator, count: int) -> list[float]:
    took = []
    for _ in range(count):
        _saved, seconds = facilitator.change()
        took.append(seconds)
        time.sleep(0.2)  # a facilitator does not move twice in 200 ms
    return took


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
    load_national(args.scale)
    server = Server(instance, gunicorn_args("gevent", args.workers), {"DATABASE_URL": url})
    try:
        plan_id, _token = server.prepare()
        server.start()
        print(f"server: gunicorn {' '.join(server.args)} on PostgreSQL")
        facilitator = Facilitator(server.url, plan_id)
        alone = moves(facilitator, args.moves)
        readers = [Reports(server.url) for _ in range(2)]
        for reader in readers:
            reader.start()
        time.sleep(1)  # both are inside a report
        loaded = moves(facilitator, args.moves)
        for reader in readers:
            reader.stop()
        print(
            f"move alone over {len(alone)} moves: p50 {ms(alone)}, p95 {ms(alone, 0.95)}, "
            f"max {max(alone) * 1000:.0f} ms (the reference)"
        )
        print(
            f"move while 2 administrators reload /district and /district/strategies over "
            f"{len(loaded)} moves: p50 {ms(loaded)}, p95 {ms(loaded, 0.95)}, "
            f"max {max(loaded) * 1000:.0f} ms (target p95 < 50 ms)"
        )
        pages = [page for reader in readers for page in reader.pages]
        for path in sorted({path for path, _status, _s in pages}):
            took = [seconds for p, _status, seconds in pages if p == path]
            statuses = sorted({status for p, status, _s in pages if p == path})
            print(
                f"report {path}: {len(took)} loads, p50 {ms(took)}, max "
                f"{max(took) * 1000:.0f} ms, answers {statuses}"
            )
    finally:
        server.stop()
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
