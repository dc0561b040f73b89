"""Benchmark: the district and agency roll-ups on a national-shaped data set on PostgreSQL
(issue 18). Prints figures; asserts nothing.

    make bench-national                      # a throwaway cluster, --scale 0.05
    .ci/with-postgres .venv/bin/python bench/national.py --scale 0.05 [--runs 15]

The national year of issue 18 is 76 provinces, 878 districts, 7,255 tambons, 75,086 villages and
508,345 projects; `--scale` takes that fraction of every count (1 is the whole country). The data
is written with COPY into the schema the migrations build, then VACUUM ANALYZE. Projects are led
by their tambon's อปท., a district or provincial office, or a national department (the largest
agency leads or supports about 5% of all projects, as in the issue); each has 0-3 strategies of
its province and district, 1-2 villages, 0-2 supporting agencies; about 1% are merged away.

The plans' roll-up summaries are written after the load (planapp/district/summaries.py; the
app writes them with each change). Then, as a signed-in administrator through the Flask test
client (routing, SQL, templates), the p50/p95 time and the bytes of every roll-up level (the
country, also with some districts changed before each request; a province; a district; a
tambon's plan page), /district/strategies at each level and one strategy's first page, /agencies,
the largest agency's page at each level, a provincial agency's and the largest agency's workbook;
"first ms" is the first request (it fills the process's per-district figures). Then EXPLAIN
ANALYZE of the roll-up queries rewritten in issue 18 (the unaligned count, an agency's projects
and years), with the forms they replaced beside them for reference (statement_timeout 60 s).

Needs TEST_DATABASE_URL or DATABASE_URL naming an empty PostgreSQL database.
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FISCAL_YEAR = 2570
PASSWORD = "bench password 123"
NATIONAL = {
    "provinces": 76,
    "districts": 878,
    "tambons": 7255,
    "villages": 75086,
    "projects": 508345,
}
NATIONAL_STRATEGIES = 6
COLUMNS = ["1", "2", "2", "3", "3", "3", "unsorted", "not-feasible"]
OFFICES_PER_PROVINCE = ["สำนักงานเกษตรจังหวัด", "สำนักงานพัฒนาชุมชนจังหวัด", "แขวงทางหลวงชนบท"]
OFFICES_PER_DISTRICT = ["สำนักงานเกษตรอำเภอ", "สำนักงานพัฒนาชุมชนอำเภอ", "โรงพยาบาลส่งเสริมสุขภาพ"]
DEPARTMENTS = [f"กรมทดสอบแห่งชาติ {n}" for n in range(1, 11)]
TITLE = "โครงการก่อสร้างถนนคอนกรีตเสริมเหล็กสายกลางบ้าน หมู่ที่ {v} ตำบล{t}"
RATIONALE = (
    "ถนนภายในหมู่บ้านชำรุดเป็นหลุมเป็นบ่อ ในฤดูฝนน้ำท่วมขังสัญจรไม่สะดวก "
    "ประชาชนได้รับความเดือดร้อนในการขนส่งผลผลิตทางการเกษตร"
)


class Table:
    """One table's rows in COPY's text format, in a temporary file (the national set does not
    fit in memory as Python tuples)."""

    def __init__(self, folder: str, name: str, columns: list[str]):
        self.name, self.columns = name, columns
        self.path = Path(folder) / f"{name}.copy"
        self.file = self.path.open("w", encoding="utf-8")
        self.rows = 0

    def add(self, *values) -> None:
        self.file.write("\t".join(_copy_text(v) for v in values) + "\n")
        self.rows += 1

    def load(self, cursor) -> None:
        self.file.close()
        statement = f"COPY {self.name} ({', '.join(self.columns)}) FROM STDIN"
        with cursor.copy(statement) as copy, self.path.open("rb") as source:
            while chunk := source.read(1 << 20):
                copy.write(chunk)
        self.path.unlink()


def _copy_text(value) -> str:
    if value is None:
        return r"\N"
    if value is True or value is False:
        return "t" if value else "f"
    return str(value)  # generated text: no tab, newline or backslash


def spread(rng: random.Random, items: int, bins: int) -> list[int]:
    """items over bins, at least one each, unevenly (some provinces are three times others)."""
    counts = [1] * bins
    weights = [rng.uniform(0.5, 1.5) for _ in range(bins)]
    for index in rng.choices(range(bins), weights=weights, k=items - bins):
        counts[index] += 1
    return counts


def build(cursor, scale: float, seed: int) -> dict:
    """The national-shaped year, written with COPY. Returns what the page list needs."""
    from planapp.domain import FOLLOWUP, SECTORS, URGENCY

    rng = random.Random(seed)
    n = {key: max(1, round(count * scale)) for key, count in NATIONAL.items()}
    n["districts"] = max(n["districts"], n["provinces"])
    n["tambons"] = max(n["tambons"], n["districts"])
    now = "2026-12-01 08:00:00"
    folder = tempfile.mkdtemp(prefix="planapp-national-")
    tables = {
        "agencies": Table(folder, "agencies", ["id", "name", "kind"]),
        "strategies": Table(
            folder, "strategies", ["id", "level", "code", "name", "area_province", "area_district"]
        ),
        "tambons": Table(
            folder, "tambons", ["id", "name", "district", "province", "local_admin_agency_id"]
        ),
        "villages": Table(folder, "villages", ["id", "tambon_id", "number", "name"]),
        "plans": Table(
            folder,
            "plans",
            ["id", "tambon_id", "fiscal_year", "version", "identity", "development_position"]
            + ["direction", "potential", "key_problems", "grouping", "show_kpi", "public_token"]
            + ["is_public", "forum_place", "forum_chair", "created_at"],
        ),
        "projects": Table(
            folder,
            "projects",
            ["id", "plan_id", "title", "rationale", "objective", "target_output", "location"]
            + ["sector", "programme", "budget_satang", "kpi", "expected_result", "village_rank"]
            + ["proposed_by_id", "feasibility", "feasibility_reason", "urgency"]
            + ["lead_agency_id", "note", "votes", "followup_status", "followup_note"]
            + ["budget_ordinance_satang", "budget_ordinance_year", "merged_into_id"]
            + ["created_at", "updated_at"],
        ),
        "board_places": Table(
            folder, "board_places", ["project_id", "plan_id", "funding_group", "rank"]
        ),
        "project_villages": Table(folder, "project_villages", ["project_id", "village_id"]),
        "project_supporting_agencies": Table(
            folder, "project_supporting_agencies", ["project_id", "agency_id"]
        ),
        "project_strategies": Table(folder, "project_strategies", ["project_id", "strategy_id"]),
    }
    ids = {name: 0 for name in ("agency", "strategy", "tambon", "village", "plan", "project")}

    def next_id(kind: str) -> int:
        ids[kind] += 1
        return ids[kind]

    def agency(name: str, kind: str = "government") -> int:
        agency_id = next_id("agency")
        tables["agencies"].add(agency_id, name, kind)
        return agency_id

    departments = [agency(name) for name in DEPARTMENTS]
    # National strategies (no area): every tambon's plan may serve them.
    national = [next_id("strategy") for _ in range(NATIONAL_STRATEGIES)]
    for number, strategy_id in enumerate(national, 1):
        tables["strategies"].add(
            strategy_id, "province", f"N{number}", f"ยุทธศาสตร์ชาติ {number}", "", ""
        )
    districts_per_province = spread(rng, n["districts"], n["provinces"])
    tambons_per_district = spread(rng, n["tambons"], n["districts"])
    projects_per_tambon = spread(rng, n["projects"], n["tambons"])
    villages_per_tambon = spread(rng, n["villages"], n["tambons"])
    provinces: list[str] = []
    province_agencies: list[int] = []
    district_index = 0
    tambon_index = 0
    for p in range(n["provinces"]):
        province = f"ทดสอบ{p + 1:02d}"
        provinces.append(province)
        offices = [agency(f"{office}{province}") for office in OFFICES_PER_PROVINCE]
        province_agencies.append(offices[0])
        province_strategies = [
            (next_id("strategy"), "province", f"P{p + 1}.{s}") for s in range(1, 15)
        ]
        for strategy_id, level, code in province_strategies:
            tables["strategies"].add(
                strategy_id, level, code, f"ยุทธศาสตร์จังหวัด {code}", province, ""
            )
        for _d in range(districts_per_province[p]):
            district = f"ทดสอบ{district_index + 1:03d}"
            district_offices = [agency(f"{office}{district}") for office in OFFICES_PER_DISTRICT]
            district_strategies = [
                (next_id("strategy"), "district", f"D{district_index + 1}.{s}") for s in (1, 2)
            ]
            for strategy_id, level, code in district_strategies:
                tables["strategies"].add(
                    strategy_id, level, code, f"ยุทธศาสตร์อำเภอ {code}", province, district
                )
            area_strategies = [s[0] for s in province_strategies + district_strategies]
            area_strategies = (area_strategies, national)
            area_agencies = offices + district_offices
            for _t in range(tambons_per_district[district_index]):
                name = f"ตำบลทดสอบ{tambon_index + 1:04d}"
                local = agency(f"อบต.{name}", "local")
                tambon_id = next_id("tambon")
                tables["tambons"].add(tambon_id, name, district, province, local)
                villages = []
                for number in range(1, villages_per_tambon[tambon_index] + 1):
                    village_id = next_id("village")
                    villages.append(village_id)
                    tables["villages"].add(village_id, tambon_id, number, f"บ้านทดสอบ {number}")
                plan_id = next_id("plan")
                tables["plans"].add(
                    plan_id, tambon_id, FISCAL_YEAR, 1, "", "", "", "", "", "strategy", True,
                    f"bench-{plan_id}", False, "", "", now,
                )  # fmt: skip
                add_projects(
                    tables, rng, next_id, plan_id, name, villages, local, area_agencies,
                    departments, area_strategies, projects_per_tambon[tambon_index], now,
                    (FOLLOWUP, SECTORS, URGENCY),
                )  # fmt: skip
                tambon_index += 1
            district_index += 1
    for table in tables.values():
        table.load(cursor)
    for table, kind in (
        ("agencies", "agency"),
        ("strategies", "strategy"),
        ("tambons", "tambon"),
        ("villages", "village"),
        ("plans", "plan"),
        ("projects", "project"),
    ):
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {ids[kind]})")
    os.rmdir(folder)
    return {
        "counts": {name: table.rows for name, table in tables.items()},
        "provincial": province_agencies[0],
        "province": provinces[0],
        "district": "ทดสอบ001",
    }


def add_projects(
    tables, rng, next_id, plan_id, tambon, villages, local, area_agencies, departments,
    area_strategies, count, now, domain,
) -> None:  # fmt: skip
    followups, sectors, urgencies = domain
    ranks: dict[str, int] = {}
    previous = None
    for i in range(count):
        project_id = next_id("project")
        group = rng.choice(COLUMNS)
        merged_into = previous if previous and rng.random() < 0.01 else None
        rank = None
        if merged_into is None:
            ranks[group] = ranks.get(group, 0) + 1
            rank = ranks[group]
        taken = group in ("1", "2", "3")
        status = rng.choice(followups) if taken else "none"
        if group == "1" and status in ("sent", "in_local_plan", "in_budget"):
            status = "in_progress"
        budget = rng.randrange(20_000, 3_000_000, 1_000) * 100
        reached = status in ("in_budget", "in_progress", "done")
        draw = rng.random()
        if draw < 0.45:
            lead = local
        elif draw < 0.85:
            lead = rng.choice(area_agencies)
        elif draw < 0.88:
            lead = departments[0]
        elif draw < 0.95:
            lead = rng.choice(departments[1:])
        else:
            lead = None
        village = rng.choice(villages)
        tables["projects"].add(
            project_id, plan_id, TITLE.format(v=villages.index(village) + 1, t=tambon), RATIONALE,
            "เพื่อให้ประชาชนสัญจรได้สะดวกและปลอดภัย", "ถนนยาว 500 เมตร", "", rng.choice(sectors),
            "", budget, "", "", i + 1, village,
            "not_feasible" if group == "not-feasible" else "feasible", "",
            rng.choice(urgencies + [None]) if taken else None, lead, "", rng.randrange(0, 40),
            status, "", budget if reached else None, FISCAL_YEAR + 1 if reached else None,
            merged_into, now, now,
        )  # fmt: skip
        tables["board_places"].add(project_id, plan_id, group, rank)
        joined = {village}
        if rng.random() < 0.2:
            joined.add(rng.choice(villages))
        for village_id in joined:
            tables["project_villages"].add(project_id, village_id)
        supporters = set(rng.sample(area_agencies, rng.choices((0, 1, 2), (50, 35, 15))[0]))
        if rng.random() < 0.02:
            supporters.add(departments[0])
        for agency_id in supporters - {lead}:
            tables["project_supporting_agencies"].add(project_id, agency_id)
        own, national = area_strategies
        how_many = rng.choices((0, 1, 2, 3), (10, 30, 45, 15))[0]
        chosen = rng.sample(own, how_many)
        if rng.random() < 0.3:
            chosen.append(rng.choice(national))
        for strategy_id in chosen:
            tables["project_strategies"].add(project_id, strategy_id)
        previous = project_id


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def time_page(client, url: str, runs: int, before=None) -> tuple[list[float], int, int, float]:
    """Times of `runs` requests after one warm-up (5 runs for a page slower than 2 s), the
    page's bytes as sent without and with gzip, and the warm-up's time (ms: the first reading
    of a level fills the process's per-district figures). `before()` runs before each timed
    request (untimed)."""
    start = time.perf_counter()
    response = client.get(url)
    first = time.perf_counter() - start
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    body = response.get_data()
    samples = []
    for _ in range(min(runs, 5) if first > 2 else runs):
        if before is not None:
            before()
        start = time.perf_counter()
        client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
    return samples, len(body), len(gzip.compress(body, 6)), first * 1000


def change_plans(app, count: int, rng: random.Random) -> None:
    """`count` plans of different districts changed as a forum's move changes them: the version
    bumped, the summary left behind (the roll-ups count those plans from their projects)."""
    from sqlalchemy import func, select, update

    from planapp.extensions import db
    from planapp.models import Plan, Tambon

    with app.app_context():
        firsts = db.session.execute(
            select(func.min(Plan.id)).join(Tambon).group_by(Tambon.province, Tambon.district)
        ).scalars()
        chosen = rng.sample(sorted(firsts), count)
        db.session.execute(update(Plan).where(Plan.id.in_(chosen)).values(version=Plan.version + 1))
        db.session.commit()


def captured(engine, call) -> list[tuple[str, dict]]:
    """The SQL statements `call` sends, with their parameters."""
    from sqlalchemy import event

    statements = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return statements


def explain(engine, statement: str, parameters) -> str:
    """Execution time and the plan's nodes (scans name their index or table), in one line."""
    with engine.connect() as connection:
        cursor = connection.connection.cursor()
        cursor.execute("SET statement_timeout = '60s'")
        try:
            cursor.execute("EXPLAIN (ANALYZE, TIMING OFF) " + statement, parameters)
        except Exception as error:  # the old forms may run past the timeout
            connection.connection.rollback()
            return f"not finished: {type(error).__name__} {str(error).splitlines()[0]}"
        lines = [row[0] for row in cursor.fetchall()]
    took = next(line for line in lines if line.startswith("Execution Time"))
    nodes = []
    for line in lines:
        found = re.match(
            r"\s*(?:->\s*)?([A-Z][A-Za-z ]+?(?: using \w+)?(?: on \w+(?: \w+)?)?)\s+\(", line
        )
        # A filter that runs a subquery per row: "Filter: (NOT (hashed SubPlan 1))".
        subplan = re.search(r"Filter: .*?((?:hashed )?SubPlan)", line)
        name = found.group(1) if found else ("filter by " + subplan.group(1) if subplan else None)
        if name and name not in nodes:
            nodes.append(name)
    return f"{took.split(': ')[1]:>12}  {'; '.join(nodes)}"


def old_forms(fiscal_year: int, agency_id: int):
    """The queries issue 18 replaced, built as they were, for EXPLAIN beside the new ones."""
    from sqlalchemy import exists, func, or_, select

    from planapp.district.dashboard import plans_in_area
    from planapp.district.strategies import LEVELS
    from planapp.models import Plan, Project, Strategy, project_strategies
    from planapp.models import project_supporting_agencies as supporting
    from planapp.taken_forward import taken_forward_clause

    aligned = (
        select(project_strategies.c.project_id)
        .join(Strategy, Strategy.id == project_strategies.c.strategy_id)
        .where(Strategy.level.in_(LEVELS))
    )
    unaligned = select(func.count(), func.coalesce(func.sum(Project.budget_satang), 0)).where(
        Project.plan_id.in_(plans_in_area(fiscal_year)),
        taken_forward_clause(),
        Project.id.not_in(aligned),
    )
    supports = exists().where(
        supporting.c.project_id == Project.id, supporting.c.agency_id == agency_id
    )
    agency_rows = (
        select(Project.id)
        .join(Plan, Project.plan_id == Plan.id)
        .where(
            Plan.fiscal_year == fiscal_year,
            taken_forward_clause(),
            or_(Project.lead_agency_id == agency_id, supports),
        )
    )
    return [("unaligned count, NOT IN", unaligned), ("agency projects, OR EXISTS", agency_rows)]


def load(scale: float, seed: int) -> dict:
    """The national-shaped year into the app's database (bulk COPY), an administrator, and fresh
    planner statistics; in an app context. Returns build()'s shape."""
    from sqlalchemy import text

    from planapp.district import summaries
    from planapp.extensions import db
    from planapp.models import User

    raw = db.engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            shape = build(cursor, scale, seed)
        raw.commit()
    finally:
        raw.close()
    admin = User(username="admin", role="admin")
    admin.set_password(PASSWORD)
    db.session.add(admin)
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    # The plans' roll-up summaries (the app writes them with each change; COPY does not).
    started = time.perf_counter()
    summaries.refresh_all()
    shape["summaries_seconds"] = time.perf_counter() - started
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE plan_summaries, plan_summary_figures"))
    return shape


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.05, help="fraction of the country")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("needs a PostgreSQL database: .ci/with-postgres or DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    os.environ["PLANAPP_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="planapp-bench-")

    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from planapp import create_app
    from planapp.district import agencies
    from planapp.district.agency_figures import unaligned_rows
    from planapp.extensions import db
    from planapp.models import Agency, Plan, Strategy, Tambon, plan_summary_figures

    app = create_app({"SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        shape = load(args.scale, args.seed)
        loaded = time.perf_counter() - started
        size = db.session.execute(text("SELECT pg_database_size(current_database())")).scalar()
        counts = shape["counts"]
        print(
            f"scale {args.scale:g} of the national year: {counts['tambons']:,} tambons, "
            f"{counts['villages']:,} villages, {counts['projects']:,} projects, "
            f"{counts['agencies']:,} agencies, {counts['strategies']:,} strategies, "
            f"fiscal year {FISCAL_YEAR}"
        )
        print(
            f"loaded with COPY in {loaded:.1f} s (+ VACUUM ANALYZE), database "
            f"{size / 1e6:.0f} MB, PostgreSQL {db.session.scalar(text('SHOW server_version'))}"
        )
        print(f"plan summaries written in {shape['summaries_seconds']:.1f} s")
        # The agency with the most projects in the year (a national department at scale 1).
        f = plan_summary_figures
        largest_id = db.session.execute(
            select(f.c.key)
            .where(f.c.figure.in_(("lead", "support")))
            .group_by(f.c.key)
            .order_by(func.sum(f.c.count).desc())
            .limit(1)
        ).scalar_one()
        shape["largest"] = int(largest_id)
        largest = db.session.get(Agency, shape["largest"])
        provincial = db.session.get(Agency, shape["provincial"])
        sizes = {
            agency.id: len(agencies.agency_projects(agency, FISCAL_YEAR))
            for agency in (largest, provincial)
        }
        plan_id = db.session.scalar(
            select(Plan.id)
            .join(Tambon, Tambon.id == Plan.tambon_id)
            .where(Tambon.district == shape["district"])
            .order_by(Plan.id)
            .limit(1)
        )
        strategy_id = db.session.scalar(
            select(Strategy.id).where(Strategy.area_province == shape["province"]).limit(1)
        )

    client = app.test_client()
    response = client.post("/login", data={"username": "admin", "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit("could not sign in")
    year = f"year={FISCAL_YEAR}"
    area = f"province={shape['province']}"
    district = f"{area}&district={shape['district']}"
    pages = [
        ("/district the country", f"/district?{year}"),
        ("/district a province", f"/district?{year}&{area}"),
        ("/district a district", f"/district?{year}&{district}"),
        ("a tambon's plan page", f"/plans/{plan_id}"),
        ("/district/strategies the country", f"/district/strategies?{year}"),
        ("/district/strategies a province", f"/district/strategies?{year}&{area}"),
        ("/district/strategies a district", f"/district/strategies?{year}&{district}"),
        (
            "/district/strategies one strategy, page 1",
            f"/district/strategies?{year}&{area}&strategy={strategy_id}",
        ),
        ("/agencies (page 1)", f"/agencies?{year}"),
        ("/agencies a province (page 1)", f"/agencies?{year}&{area}"),
        (
            f"largest agency ({sizes[largest.id]:,} projects): provinces",
            f"/agencies/{largest.id}?{year}",
        ),
        ("largest agency: a province's districts", f"/agencies/{largest.id}?{year}&{area}"),
        ("largest agency: a district, page 1", f"/agencies/{largest.id}?{year}&{district}"),
        (
            f"provincial agency ({sizes[provincial.id]:,}): its province",
            f"/agencies/{provincial.id}?{year}&{area}",
        ),
        ("largest agency's workbook", f"/agencies/{largest.id}/export.xlsx?{year}"),
    ]
    print(
        f"\n{'page (signed-in administrator, Flask test client)':<50} {'runs':>4} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'bytes':>11} {'gzip':>10} {'first ms':>9}"
    )
    rng = random.Random(args.seed)
    changed = min(20, max(1, counts["tambons"] // 40))
    pages.insert(
        1,
        (
            f"/district the country, {changed} districts moving",
            f"/district?{year}",
            lambda: change_plans(app, changed, rng),
        ),
    )
    for name, url, *before in pages:
        samples, size, zipped, first = time_page(client, url, args.runs, *before)
        print(
            f"{name:<50} {len(samples):>4} {statistics.median(samples):>8.0f} "
            f"{percentile(samples, 0.95):>8.0f} {size:>11,} {zipped:>10,} {first:>9.0f}"
        )
    print("issue 18's target: every roll-up page p95 < 300 ms on the whole country (scale 1)")

    with app.app_context():
        largest = db.session.get(Agency, shape["largest"])
        rewritten = [
            (
                "unaligned count, NOT EXISTS",
                lambda: list(unaligned_rows(Plan.fiscal_year, Plan.fiscal_year == FISCAL_YEAR)),
                "NOT (EXISTS",
            ),
            (
                "agency projects, UNION",
                lambda: agencies.agency_projects(largest, FISCAL_YEAR),
                "UNION",
            ),
        ]
        print(f"\nEXPLAIN ANALYZE (the largest agency, the whole year){'':<20}{'time':>12}")
        for name, call, marker in rewritten:
            for statement, parameters in captured(db.engine, call):
                if marker in statement:
                    print(f"{name:<32} {explain(db.engine, statement, parameters)}")
        for name, query in old_forms(FISCAL_YEAR, largest.id):
            sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
            print(f"{'(was) ' + name:<32} {explain(db.engine, sql.replace('%', '%%'), {})}")


if __name__ == "__main__":
    main()
