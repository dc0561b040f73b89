"""Benchmark: a hall laptop's pull, push and refused stale push against a district server, for
the demo plan grown to N projects. Prints figures; asserts nothing.

    .venv/bin/python bench/sync.py [--projects 300] [--runs 5]

Two scratch instances on SQLite: the server app behind a real HTTP server in a thread, the
laptop app through the Flask test client (as tests/test_sync.py does). The figures are the
laptop's whole request: its export or import, the HTTP round trip, the server's side.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench password 123"


def make_app(instance: Path):
    from planapp import create_app
    from planapp.extensions import db
    from planapp.models import User

    os.environ["PLANAPP_INSTANCE_PATH"] = str(instance)
    os.environ.pop("DATABASE_URL", None)
    from tests.conftest import BrowserLikeClient  # sends the CSRF token as our pages do

    app = create_app({"SECRET_KEY": "bench"})
    app.test_client_class = BrowserLikeClient
    with app.app_context():
        db.create_all()
        user = User(username="admin", role="admin", display_name="Admin")
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
    return app


def grow(plan_id: int, projects: int) -> int:
    from planapp.extensions import db
    from planapp.models import Plan, Project

    plan = db.session.get(Plan, plan_id)
    village = plan.tambon.villages[0]
    unsorted = ("unsorted", None)
    top = max((p.rank or 0 for p in plan.projects if p.funding_group in unsorted), default=0)
    for n in range(projects - len(plan.projects)):
        db.session.add(
            Project(
                plan_id=plan.id,
                title=f"โครงการทดสอบ {n}",
                villages=[village],
                proposed_by=village,
                budget_satang=100_000 * (n + 1),
                funding_group="unsorted",
                rank=top + n + 1,
            )
        )
    db.session.commit()
    return max(projects, len(plan.projects))


def timed(call, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from werkzeug.serving import make_server

    from planapp.demo import load_demo
    from planapp.extensions import db
    from planapp.intake.projects import update_project
    from planapp.models import Plan

    scratch = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    server_app, hall_app = make_app(scratch / "server"), make_app(scratch / "hall")
    with server_app.app_context():
        plan = load_demo()
        plan_id, year = plan.id, plan.fiscal_year
        size = grow(plan_id, args.projects)
        admin = server_app.test_client()
        admin.post("/login", data={"username": "admin", "password": PASSWORD})
        page = admin.post(f"/tambons/{plan.tambon_id}/sync-tokens", data={"label": "bench"})
        token = re.search(r"data-new-token>([^<]+)<", page.get_data(as_text=True)).group(1)
    server = make_server("127.0.0.1", 0, server_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"http://127.0.0.1:{server.server_port}"

    laptop = hall_app.test_client()
    laptop.post("/login", data={"username": "admin", "password": PASSWORD})
    form = {"server_url": address, "token": token, "fiscal_year": str(year)}
    start = time.perf_counter()
    answer = laptop.post("/sync/pull", data=form)
    first_pull = (time.perf_counter() - start) * 1000
    hall_plan = int(re.search(r"/plans/(\d+)/sync", answer.headers["Location"]).group(1))

    def push():
        assert laptop.post(f"/plans/{hall_plan}/sync/push").status_code == 302

    def pull():
        page = laptop.post(f"/plans/{hall_plan}/sync/pull", data={"replace_changes": "y"})
        assert page.status_code == 200

    pushes = timed(push, args.runs)
    pulls = timed(pull, args.runs)
    with server_app.app_context():  # the server's copy changes: the next push is stale
        plan = db.session.get(Plan, plan_id)
        project = min(plan.projects, key=lambda p: p.id)
        update_project(plan, project, {"title": "แก้บนเครื่องแม่ข่าย"}, project.villages, actor=None)
        db.session.commit()

    def stale():
        assert laptop.post(f"/plans/{hall_plan}/sync/push").status_code == 409

    stales = timed(stale, args.runs)
    server.shutdown()
    print(f"plan of {size} projects; {os.getloadavg()[0]:.2f} load")
    print(f"first pull (new plan on the laptop): {first_pull:.0f} ms")
    for name, times in (("push", pushes), ("pull", pulls), ("stale push refused", stales)):
        print(
            f"{name:20s} median {statistics.median(times):6.0f} ms"
            f"  max {max(times):6.0f} ms  ({len(times)} runs)"
        )


if __name__ == "__main__":
    main()
