"""Benchmark: export a 5,000-project plan as the Excel workbook, beside a bare openpyxl write of
the same cells (same sheets, same values, no styles, no layout).

    .venv/bin/python bench/export.py [--projects 5000] [--villages 20]

Prints wall time and peak memory (tracemalloc: Python allocations, measured in a separate run
so its overhead does not count in the times). Targets (issue 8): under 3x the bare write, under
300 MB peak.
"""

from __future__ import annotations

import argparse
import gc
import io
import random
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import Workbook, load_workbook  # noqa: E402

from bench.scratch import scratch_app  # noqa: E402
from planapp import domain  # noqa: E402
from planapp.extensions import db  # noqa: E402
from planapp.models import Agency, Plan, Project, Strategy, Tambon, Village  # noqa: E402

WORDS = (
    "ก่อสร้างถนนคอนกรีตเสริมเหล็ก ขยายเขตประปา ส่งเสริมอาชีพ ฝึกอบรม ขุดลอกหนองน้ำ "
    "ติดตั้งไฟฟ้าส่องสว่าง ปรับปรุงศาลาประชาคม ป้องกันโรคไข้เลือดออก ผู้สูงอายุ เด็กเล็ก"
).split()


def text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def make_plan(projects: int, villages: int) -> Plan:
    rng = random.Random(8)
    agencies = [Agency(name=f"หน่วยงานทดสอบ {n}", kind="government") for n in range(30)]
    agencies[0].kind = "local"
    db.session.add_all(agencies)
    tambon = Tambon(
        name="ทดสอบ", district="ทดสอบ", province="ทดสอบ", local_admin_agency=agencies[0]
    )
    village_rows = [
        Village(tambon=tambon, number=n, name=f"บ้านทดสอบ {n}") for n in range(1, villages + 1)
    ]
    strategies = [Strategy(level="local", code=f"L{n}", name=text(rng, 4)) for n in range(1, 6)]
    db.session.add_all([tambon, *village_rows, *strategies])
    plan = Plan(tambon=tambon, fiscal_year=2570, plan_start_year=2566)
    db.session.add(plan)
    db.session.flush()
    ranks: dict[str, int] = {}
    for n in range(projects):
        group = rng.choice(domain.GROUPS)
        ranks[group] = ranks.get(group, 0) + 1
        sector = rng.choice(domain.SECTORS)
        p = Project(
            plan=plan,
            title=text(rng, 6) + f" {n}",
            objective=text(rng, 8),
            target_output=text(rng, 8),
            expected_result=text(rng, 8),
            kpi=text(rng, 5),
            location=text(rng, 2),
            sector=sector,
            programme=domain.PROGRAMME_FOR_SECTOR[sector],
            budget_satang=rng.randrange(1, 5_000_000) * 100,
            wanted_year=rng.choice(plan.plan_years),
            funding_group=group,
            rank=ranks[group],
            urgency=rng.choice([*domain.URGENCY, None]),
            feasibility="not_feasible" if group == "not-feasible" else "feasible",
            village_rank=n % 30 + 1,
            lead_agency=rng.choice(agencies[:4]),
            villages=rng.sample(village_rows, rng.choice([1, 1, 1, 2])),
            supporting_agencies=rng.sample(agencies, 2),
            strategies=[rng.choice(strategies)],
        )
        db.session.add(p)
    db.session.commit()
    return plan


def snapshot_cells(data: bytes) -> list[tuple[str, list[list]]]:
    """Every sheet's cell values, to write again bare."""
    wb = load_workbook(io.BytesIO(data), read_only=True)
    sheets = [(ws.title, [list(row) for row in ws.iter_rows(values_only=True)]) for ws in wb]
    wb.close()
    return sheets


def bare_write(sheets, write_only: bool) -> bytes:
    wb = Workbook(write_only=write_only)
    if not write_only:
        wb.remove(wb.active)
    for title, rows in sheets:
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def measure(label: str, function, repeat: int = 3):
    """Best wall and CPU time of `repeat` runs (CPU time is the fairer figure on a machine
    shared with others), then peak Python allocation in one more run under tracemalloc."""
    walls, cpus = [], []
    result = None
    for _ in range(repeat):
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    gc.collect()
    tracemalloc.start()
    function()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label:<44} {min(walls):7.2f} s {min(cpus):7.2f} s {peak / 2**20:8.1f} MB")
    return min(cpus), peak, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=5000)
    parser.add_argument("--villages", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    app = scratch_app()
    from planapp.export.rows import load_rows
    from planapp.export.workbook import build_workbook, workbook_bytes

    with app.test_request_context():
        db.create_all()
        start = time.perf_counter()
        plan = make_plan(args.projects, args.villages)
        print(
            f"made a plan of {args.projects} projects in {args.villages} villages "
            f"in {time.perf_counter() - start:.1f} s"
        )
        plan_id = plan.id

        def full_export():
            db.session.remove()  # a cold start, as a request has
            return workbook_bytes(db.session.get(Plan, plan_id))

        print(f"{'':<44} {'wall':>9} {'CPU':>9} {'peak (tracemalloc)':>19}")
        full_time, full_peak, data = measure(
            "export (load projects + build + save)", full_export, args.repeat
        )
        loaded_plan = db.session.get(Plan, plan_id)
        rows = load_rows(loaded_plan)

        def workbook_only():
            out = io.BytesIO()
            build_workbook(loaded_plan, rows).save(out)
            return out.getvalue()

        book_time, book_peak, _ = measure(
            "export from loaded projects (build + save)", workbook_only, args.repeat
        )
        sheets = snapshot_cells(data)
        cells = sum(1 for _t, rows_ in sheets for row in rows_ for v in row if v is not None)
        print(f"workbook: {len(data) / 2**20:.1f} MB, {len(sheets)} sheets, {cells:,} cells")
        bare_time, bare_peak, _ = measure(
            "bare openpyxl write, write-only mode", lambda: bare_write(sheets, True), args.repeat
        )
        normal_time, normal_peak, _ = measure(
            "bare openpyxl write, normal mode", lambda: bare_write(sheets, False), args.repeat
        )
        print()
        print(
            f"export / bare write-only: {full_time / bare_time:.2f}x (with loading), "
            f"{book_time / bare_time:.2f}x (workbook only)   target < 3x"
        )
        print(
            f"export / bare normal mode: {full_time / normal_time:.2f}x (with loading), "
            f"{book_time / normal_time:.2f}x (workbook only)"
        )
        print(f"peak memory of the export: {full_peak / 2**20:.0f} MB   target < 300 MB")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"whole benchmark process, peak resident size: {rss:.0f} MB")
        print("ratios are of CPU times")


if __name__ == "__main__":
    main()
