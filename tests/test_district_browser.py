"""The district area in a real browser: follow-up of a plan, the district dashboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from tests.browser import assert_accessible

pytestmark = pytest.mark.browser


def place_in_group(live_server, group: str, count: int) -> list[int]:
    """Sort the demo plan's first projects into a group, as the forum would have."""
    with live_server.database() as connection:
        ids = connection.scalars(
            text(
                "SELECT project_id FROM board_places WHERE plan_id = :plan "
                "AND funding_group = 'unsorted' ORDER BY project_id LIMIT :count"
            ),
            {"plan": live_server.plan_id, "count": count},
        ).all()
        for rank, project_id in enumerate(ids, start=1):
            connection.execute(
                text(
                    "UPDATE board_places SET funding_group = :group, rank = :rank "
                    "WHERE project_id = :id"
                ),
                {"group": group, "rank": 1000 + rank, "id": project_id},
            )
            connection.execute(
                text("UPDATE projects SET feasibility = 'feasible' WHERE id = :id"),
                {"id": project_id},
            )
    return ids


def test_followup_of_a_project_updates_the_group_progress_live(live_server, page):
    first, _second = place_in_group(live_server, "3", 2)
    live_server.login(page, "facilitator")
    page.goto(live_server.url(f"/plans/{live_server.plan_id}/followup"))
    progress = page.locator('[data-progress-group="3"]')
    expect(progress).to_contain_text("0 จาก 2 โครงการอยู่ในข้อบัญญัติงบประมาณ")
    assert_accessible(page)

    row = page.locator(f'[data-project-id="{first}"]')
    row.get_by_text("บันทึกความคืบหน้า").click()
    row.get_by_label("สถานะการติดตาม").select_option("in_budget")
    row.get_by_role("button", name="บันทึก").click()
    # Refused without amount and year: the messages sit next to their fields, nothing saved.
    row = page.locator(f'[data-project-id="{first}"]')
    expect(row.locator(f"#p{first}-amount-errors")).to_contain_text("กรุณากรอกจำนวนเงิน")
    expect(row).to_have_attribute("data-followup-status", "none")

    row.get_by_label("จำนวนเงินในข้อบัญญัติงบประมาณ (บาท)").fill("1,500,000")
    row.get_by_label("ปีงบประมาณของข้อบัญญัติ (พ.ศ.)").fill("2571")
    row.get_by_role("button", name="บันทึก").click()
    expect(page.locator(f'[data-project-id="{first}"]')).to_have_attribute(
        "data-followup-status", "in_budget"
    )
    expect(progress).to_contain_text(re.compile(r"1 จาก 2 โครงการอยู่ในข้อบัญญัติงบประมาณ"))
    expect(page.locator(f'[data-project-id="{first}"] [role="status"]')).to_contain_text("บันทึกแล้ว")
    assert_accessible(page)


def add_tambons(live_server, names: list[str]) -> dict[str, int]:
    """More tambons of the demo district, each with a 2570 plan of a few sorted projects."""
    plan_ids = {}
    with live_server.database() as connection:
        district, province = connection.execute(
            text(
                "SELECT t.district, t.province FROM tambons t "
                "JOIN plans p ON p.tambon_id = t.id WHERE p.id = :plan"
            ),
            {"plan": live_server.plan_id},
        ).one()
        for n, name in enumerate(names):
            tambon_id = connection.execute(
                text(
                    "INSERT INTO tambons (name, district, province) "
                    "VALUES (:name, :district, :province) RETURNING id"
                ),
                {"name": name, "district": district, "province": province},
            ).scalar_one()
            plan_id = connection.execute(
                text(
                    "INSERT INTO plans (tambon_id, fiscal_year, version, identity, "
                    "development_position, direction, potential, key_problems, grouping, "
                    "show_kpi, public_token, is_public, forum_place, forum_chair, created_at) "
                    "VALUES (:tambon, 2570, 0, '', '', '', '', '', 'strategy', :show_kpi, :token, "
                    ":is_public, '', '', CURRENT_TIMESTAMP) RETURNING id"
                ),
                {
                    "tambon": tambon_id,
                    "token": f"token-{tambon_id}",
                    "show_kpi": True,
                    "is_public": False,
                },
            ).scalar_one()
            for i, group in enumerate(["1", "2", "3", "3"]):
                project_id = connection.execute(
                    text(
                        "INSERT INTO projects (plan_id, title, rationale, objective, "
                        "target_output, location, sector, programme, budget_satang, kpi, "
                        "expected_result, feasibility, feasibility_reason, urgency, note, votes, "
                        "followup_status, followup_note, created_at, updated_at) VALUES "
                        "(:plan, :title, '', '', '', '', 'economy', '', :budget, '', '', "
                        "'feasible', '', 'urgent', '', 0, 'none', '', CURRENT_TIMESTAMP, "
                        "CURRENT_TIMESTAMP) RETURNING id"
                    ),
                    {
                        "plan": plan_id,
                        "title": f"โครงการ {name} {i + 1}",
                        "budget": (n + 1) * 100_000_00,
                    },
                ).scalar_one()
                connection.execute(
                    text(
                        "INSERT INTO board_places (project_id, plan_id, funding_group, rank) "
                        "VALUES (:project, :plan, :group, :rank)"
                    ),
                    {"project": project_id, "plan": plan_id, "group": group, "rank": i + 1},
                )
            plan_ids[name] = plan_id
    return plan_ids


def test_dashboard_drills_down_to_a_tambon_and_back(live_server, page):
    plan_ids = add_tambons(live_server, ["ดอนหัน", "โคกสี"])
    live_server.login(page, "admin")
    page.goto(live_server.url("/"))
    page.get_by_role("navigation", name="เมนูหลัก").get_by_role("link", name="อำเภอ").click()
    expect(page.locator("h1")).to_have_text("ภาพรวมระดับอำเภอ ปีงบประมาณ 2570")
    groups = page.locator('table[data-table="groups"]')
    expect(groups.locator("tbody tr")).to_have_count(3)
    # District total of group 3: two tambons with two group-3 projects each.
    expect(groups.locator('tfoot [data-cell="group-3"] .count')).to_have_text("4")
    assert_accessible(page)

    groups.get_by_role("link", name="โคกสี").click()
    page.wait_for_url(live_server.url(f"/plans/{plan_ids['โคกสี']}"))
    expect(page.locator("h1")).to_contain_text("โคกสี")
    page.locator("[data-back-to-district]").click()
    # Back to the roll-up it came from: the tambon's district, the filter kept.
    page.wait_for_url(re.compile(r"/district\?year=2570&province=[^&]+&district=[^&]+$"))
    expect(page.locator("h1")).to_have_text("ภาพรวมระดับอำเภอ ปีงบประมาณ 2570")
    expect(page.locator('table[data-table="groups"] tbody tr')).to_have_count(3)


def test_strategy_and_agency_pages_are_accessible(live_server, page):
    add_tambons(live_server, ["ดอนหัน"])
    with live_server.database() as connection:
        agency_id, strategy_id = connection.execute(
            text("SELECT (SELECT MIN(id) FROM agencies), (SELECT MIN(id) FROM strategies)")
        ).one()
        connection.execute(
            text("UPDATE projects SET lead_agency_id = :agency WHERE title LIKE 'โครงการ ดอนหัน%'"),
            {"agency": agency_id},
        )
        connection.execute(
            text(
                "INSERT INTO project_strategies (project_id, strategy_id) "
                "SELECT id, :strategy FROM projects WHERE title LIKE 'โครงการ ดอนหัน%'"
            ),
            {"strategy": strategy_id},
        )
    live_server.login(page, "admin")
    page.goto(live_server.url("/district?year=2570"))
    page.get_by_role("link", name="ความสอดคล้องกับยุทธศาสตร์").click()
    expect(page.locator(f'[data-strategy-id="{strategy_id}"] [data-count]')).to_have_text("4")
    assert_accessible(page)
    page.goto(live_server.url("/district?year=2570"))
    page.get_by_role("link", name="หน่วยงานทั้งอำเภอ").click()
    page.locator(f'[data-agency-id="{agency_id}"] a').click()
    expect(page.locator("tbody tr[data-role='lead']")).to_have_count(4)
    assert_accessible(page)
    with page.expect_download() as download:
        page.locator("[data-export]").click()
    assert download.value.suggested_filename.endswith("-2570.xlsx")
