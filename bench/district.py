"""Benchmark: render time of the district dashboard for a district of 10 tambons and 3,000
projects on SQLite (target: p95 under 300 ms). Prints figures; asserts nothing.

    .venv/bin/python bench/district.py [--tambons 10] [--projects 3000] [--runs 60]

It builds a scratch instance (SQLite file, WAL, as the laptop in the hall runs it), fills one
district with plans whose projects cover every group, urgency tier, sector and follow-up status,
then requests /district?year=2570 as a signed-in admin through the full Flask stack (routing,
SQL aggregation, template rendering). The strategy and agency pages and the agency workbook are
timed too, for reference.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FISCAL_YEAR = 2570
PASSWORD = "bench password 123"


def build(tambons: int, projects: int, seed: int = 7) -> None:
    from planapp.domain import FOLLOWUP, SECTORS, URGENCY
    from planapp.extensions import db
    from planapp.models import Agency, Plan, Project, Strategy, Tambon, User, Village

    rng = random.Random(seed)
    agencies = [Agency(name=f"หน่วยงานทดสอบ {n}", kind="government") for n in range(25)]
    strategies = [
        Strategy(level=level, code=f"{level[0].upper()}{n}", name=f"ยุทธศาสตร์ {level} {n}")
        for level in ("province", "district")
        for n in range(1, 5)
    ]
    admin = User(username="admin", role="admin")
    admin.set_password(PASSWORD)
    db.session.add_all([*agencies, *strategies, admin])
    columns = ["1", "2", "2", "3", "3", "3", "unsorted", "not-feasible"]
    per_tambon = projects // tambons
    for t in range(tambons):
        tambon = Tambon(name=f"ตำบลที่ {t + 1:02d}", district="อำเภอทดสอบ", province="ทดสอบ")
        villages = [Village(tambon=tambon, number=n, name=f"บ้าน {n}") for n in range(1, 13)]
        plan = Plan(tambon=tambon, fiscal_year=FISCAL_YEAR)
        db.session.add(plan)
        ranks: dict[str, int] = {}
        for i in range(per_tambon):
            group = rng.choice(columns)
            ranks[group] = ranks.get(group, 0) + 1
            taken = group in ("1", "2", "3")
            status = rng.choice(FOLLOWUP) if taken else "none"
            if group == "1" and status in ("sent", "in_local_plan", "in_budget"):
                status = "in_progress"
            budget = rng.randrange(20_000, 3_000_000, 1_000) * 100
            project = Project(
                plan=plan,
                title=f"โครงการทดสอบ {t + 1}-{i + 1} ก่อสร้างถนนคอนกรีตเสริมเหล็กสายกลางบ้าน",
                objective="เพื่อให้ประชาชนสัญจรได้สะดวก",
                funding_group=group,
                rank=ranks[group],
                feasibility="not_feasible" if group == "not-feasible" else "feasible",
                sector=rng.choice(SECTORS),
                urgency=rng.choice(URGENCY + [None]) if taken else None,
                budget_satang=budget,
                followup_status=status,
                villages=rng.sample(villages, rng.choice((1, 1, 1, 2))),
                lead_agency=rng.choice(agencies),
                supporting_agencies=rng.sample(agencies, rng.choice((0, 1, 2))),
                strategies=rng.sample(strategies, rng.choice((0, 1, 1, 2))),
            )
            if status in ("in_budget", "in_progress", "done"):
                project.budget_ordinance_satang = budget
                project.budget_ordinance_year = FISCAL_YEAR + 1
            db.session.add(project)
    db.session.commit()


def timed(client, url: str, runs: int) -> list[float]:
    client.get(url)  # warm: template compilation, caches
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    return samples


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tambons", type=int, default=10)
    parser.add_argument("--projects", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()

    instance = tempfile.mkdtemp(prefix="planapp-bench-")
    try:
        run(args, instance)
    finally:
        shutil.rmtree(instance, ignore_errors=True)


def run(args, instance: str) -> None:
    os.environ["PLANAPP_INSTANCE_PATH"] = instance
    os.environ.pop("DATABASE_URL", None)
    from planapp import create_app
    from planapp.extensions import db
    from planapp.models import Agency, Project

    app = create_app({"SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        build(args.tambons, args.projects)
        count = db.session.scalar(db.select(db.func.count()).select_from(Project))
        agency_id = db.session.scalar(db.select(Agency.id).order_by(Agency.id))
        print(
            f"built {args.tambons} tambons, {count} projects on SQLite in "
            f"{time.perf_counter() - started:.1f} s"
        )
    client = app.test_client()
    response = client.post("/login", data={"username": "admin", "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit("could not sign in")

    pages = [
        ("dashboard", f"/district?year={FISCAL_YEAR}", args.runs),
        ("strategies", f"/district/strategies?year={FISCAL_YEAR}", max(10, args.runs // 3)),
        ("agency", f"/agencies/{agency_id}?year={FISCAL_YEAR}", max(10, args.runs // 3)),
        (
            "agency.xlsx",
            f"/agencies/{agency_id}/export.xlsx?year={FISCAL_YEAR}",
            max(5, args.runs // 6),
        ),
    ]
    print(f"{'page':<12} {'runs':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, url, runs in pages:
        samples = timed(client, url, runs)
        print(
            f"{name:<12} {runs:>5} {statistics.median(samples):>8.1f} "
            f"{percentile(samples, 0.95):>8.1f} {max(samples):>8.1f}"
        )
    print("target: dashboard p95 < 300 ms on SQLite")


if __name__ == "__main__":
    main()
