"""Benchmark of two app servers on one PostgreSQL database (prints figures, asserts nothing).

    .venv/bin/python bench/two_servers.py [--changes 50]

Two gunicorn instances (gunicorn.conf.py, the gevent worker, one worker each), on two ports,
each with an instance folder of its own, share DATABASE_URL and SECRET_KEY and nothing else;
the live broker is the default on PostgreSQL (LISTEN/NOTIFY). A Chromium projector page is open
on each server; the facilitator's client moves cards through server A (`POST /plans/<id>/moves`),
one after another; for each move, the time from the POST's answer to the projector's DOM reaching
the new version (<body data-plan-version>), on A (the reference, in the same run) and on B.
Prints p50/p95/max of both. Target (issue 18): B's p95 < 500 ms.

Runs on DATABASE_URL (or TEST_DATABASE_URL) when it is PostgreSQL, else starts a throwaway
cluster through .ci/with-postgres, as `make test-postgres` does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.hall import (  # noqa: E402
    CHROMIUM_ARGS,
    RECORD_VERSIONS,
    Facilitator,
    Server,
    gunicorn_args,
    ms,
)


def measure(servers: dict[str, Server], plan_id: int, token: str, changes: int) -> dict:
    from playwright.sync_api import sync_playwright

    facilitator = Facilitator(servers["A"].url, plan_id)
    delays: dict[str, list[float]] = {name: [] for name in servers}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        pages = {}
        for name, server in servers.items():
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(f"{server.url}/live/{token}")
            page.evaluate(RECORD_VERSIONS)
            pages[name] = page
        for page in pages.values():
            page.wait_for_timeout(500)  # the streams are open
        for _ in range(changes):
            saved, _took = facilitator.change()
            version = facilitator.version
            for name, page in pages.items():
                page.wait_for_function(
                    f"() => Number(document.body.getAttribute('data-plan-version')) >= {version}",
                    timeout=10_000,
                )
                seen = page.evaluate(f"() => window.__seen['{version}']")
                if seen is not None:
                    delays[name].append(seen / 1000 - saved)
            pages["A"].wait_for_timeout(150)  # a facilitator does not move twice in 150 ms
        browser.close()
    return delays


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=50)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or ""
    if not url.startswith("postgres"):  # a throwaway cluster, as CI's PostgreSQL pass has
        os.execvp(str(ROOT / ".ci/with-postgres"), [".ci/with-postgres", sys.executable, *sys.argv])
    env = {"DATABASE_URL": url, "SECRET_KEY": "two-servers-bench"}
    folders = [Path(tempfile.mkdtemp(prefix="planapp-bench-")) for _ in range(2)]
    server_args = gunicorn_args("gevent", 1)
    servers = {
        name: Server(folder, server_args, env)
        for name, folder in zip(("A", "B"), folders, strict=True)
    }
    for server in servers.values():
        server.env.pop("PLANAPP_LIVE_BROKER", None)  # the default on PostgreSQL
    try:
        plan_id, token = servers["A"].prepare()
        for server in servers.values():
            server.start()
        print(
            f"two servers: gunicorn {' '.join(server_args)} on ports "
            f"{servers['A'].port} (A) and {servers['B'].port} (B), one PostgreSQL database"
        )
        delays = measure(servers, plan_id, token, args.changes)
        for name, values in delays.items():
            where = "the same server (reference)" if name == "A" else "the other server"
            print(
                f"move through A -> projector DOM on {name}, {where}, over {len(values)} moves: "
                f"p50 {ms(values)}, p95 {ms(values, 0.95)}, max {max(values) * 1000:.0f} ms"
                + (" (target p95 < 500 ms)" if name == "B" else "")
            )
    finally:
        for server in servers.values():
            server.stop()
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
