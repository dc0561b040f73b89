"""The roll-up queries rewritten to scale (issue 18): the unaligned count as NOT EXISTS, an
agency's projects as a UNION of two indexed lookups. Same answers as the slow way, worked out
project by project; and the indexes they rely on are in the schema."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, inspect

from planapp.changes import record_change
from planapp.district import agencies, strategies
from planapp.extensions import db
from planapp.models import Agency, Plan, Strategy
from tests.conftest import ON_POSTGRES
from tests.district_helpers import build_district
from tests.test_district_dashboard import taken_forward


@pytest.fixture
def district(app):
    """Two districts of 2570 and one of 2571; a merged-away project; a project aligned only with
    a tambon's own (local) strategy, which the district counts as serving none."""
    plans = build_district(tambons=3, fiscal_year=2570)
    other = build_district(district="อื่น", tambons=1, fiscal_year=2570)
    later = build_district(district="เมืองทดสอบ", province="ทดสอบ2", tambons=1, fiscal_year=2571)
    local = Strategy(level="local", code="L1", name="ถนนในตำบล")
    db.session.add(local)
    forward = [p for p in plans[0].projects if taken_forward(p)]
    forward[0].strategies = [local]  # local only: unaligned
    forward[1].strategies = [*forward[1].strategies, local]  # local and district: aligned
    plans[1].projects[0].merged_into_id = plans[1].projects[1].id
    db.session.commit()
    return plans, other, later


def unaligned_the_slow_way(plans) -> tuple[int, int]:
    serving_none = [
        p
        for plan in plans
        for p in plan.projects
        if taken_forward(p) and not any(s.level in strategies.LEVELS for s in p.strategies)
    ]
    return len(serving_none), sum(p.budget_satang for p in serving_none)


def test_unaligned_projects_counted_as_the_slow_way(district):
    plans, other, _later = district
    _lines, count, satang = strategies.strategy_alignment(
        2570, province="ทดสอบ", district="เมืองทดสอบ"
    )
    assert (count, satang) == unaligned_the_slow_way(plans)
    assert count > 0
    # The whole year: both districts, nothing of 2571.
    _lines, count, satang = strategies.strategy_alignment(2570)
    assert (count, satang) == unaligned_the_slow_way(plans + other)


def test_local_strategy_alone_does_not_align_a_project(district):
    plans, _other, _later = district
    only_local = next(p for p in plans[0].projects if [s.level for s in p.strategies] == ["local"])
    before = strategies.strategy_alignment(2570, province="ทดสอบ", district="เมืองทดสอบ")[1]
    district_strategy = db.session.scalar(db.select(Strategy).where(Strategy.code == "TD1"))
    only_local.strategies = [*only_local.strategies, district_strategy]
    record_change(plans[0], "edit", actor=None)  # every change to a plan goes through it
    db.session.commit()
    after = strategies.strategy_alignment(2570, province="ทดสอบ", district="เมืองทดสอบ")[1]
    assert after == before - 1


def test_unaligned_row_of_the_page(admin_client, district):
    plans, _other, _later = district
    page = admin_client.get(
        "/district/strategies?year=2570&province=ทดสอบ&district=เมืองทดสอบ"
    ).get_data(as_text=True)
    start = page.index("<tr data-unaligned>")
    row = page[start : page.index("</tr>", start)]
    count, satang = unaligned_the_slow_way(plans)
    assert f'data-count="{count}"' in row and f'data-satang="{satang}"' in row


def agency_rows_the_slow_way(agency: Agency, year: int) -> dict[int, str]:
    plans = db.session.scalars(db.select(Plan).where(Plan.fiscal_year == year)).all()
    return {
        p.id: "lead" if p.lead_agency_id == agency.id else "support"
        for plan in plans
        for p in plan.projects
        if taken_forward(p) and (p.lead_agency_id == agency.id or agency in p.supporting_agencies)
    }


def test_agency_projects_lead_support_and_both_once(district):
    plans, _other, _later = district
    helper = db.session.scalar(db.select(Agency).where(Agency.name == "กลุ่มแม่บ้านทดสอบ"))
    rows = agencies.agency_projects(helper, 2570)
    ids = [row.project.id for row in rows]
    assert len(ids) == len(set(ids))  # led and supported: listed once
    assert {row.project.id: row.role for row in rows} == agency_rows_the_slow_way(helper, 2570)
    both = [
        p
        for p in plans[0].projects
        if taken_forward(p) and p.lead_agency_id == helper.id and helper in p.supporting_agencies
    ]
    assert both and all(p.id in ids for p in both)
    assert {row.role for row in rows} == {"lead", "support"}


def test_an_agency_that_only_supports_in_a_year(district):
    plans, _other, later = district
    newcomer = Agency(name="หน่วยงานที่สนับสนุนอย่างเดียว", kind="government")
    db.session.add(newcomer)
    supported = next(p for p in later[0].projects if taken_forward(p))
    supported.supporting_agencies = [*supported.supporting_agencies, newcomer]
    led = next(p for p in plans[0].projects if taken_forward(p))
    led.lead_agency_id = newcomer.id
    db.session.commit()
    rows = agencies.agency_projects(newcomer, 2571)
    assert [(row.project.id, row.role) for row in rows] == [(supported.id, "support")]
    unrelated = Agency(name="หน่วยงานที่ไม่มีโครงการ", kind="government")
    db.session.add(unrelated)
    db.session.commit()
    assert agencies.agency_projects(unrelated, 2570) == []


def test_roll_up_lookups_are_indexed(app):
    """The lookups of the agency pages and the year filter of every roll-up have an index (the
    migration builds the same schema: tests/test_migrations.py)."""
    inspector = inspect(db.engine)

    def indexed(table: str) -> set[tuple[str, ...]]:
        return {tuple(ix["column_names"]) for ix in inspector.get_indexes(table)}

    assert ("lead_agency_id",) in indexed("projects")
    assert ("agency_id",) in indexed("project_supporting_agencies")
    assert ("fiscal_year",) in indexed("plans")


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL's planner")
def test_postgres_plans_the_unaligned_count_as_an_anti_join(district):
    """NOT IN over a subquery is a filter PostgreSQL runs per project (a SubPlan, re-read in full
    when its list outgrows work_mem); the NOT EXISTS form is planned as an anti-join."""
    statements = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        strategies.strategy_alignment(2570)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    statement, parameters = next(s for s in statements if re.search(r"NOT \(?EXISTS", s[0]))
    with db.engine.connect() as connection:
        cursor = connection.connection.cursor()
        cursor.execute("EXPLAIN " + statement, parameters)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Anti Join" in plan, plan
    assert "SubPlan" not in plan, plan
