"""The district area in a real browser: follow-up of a plan, the district dashboard."""

from __future__ import annotations

import re
import sqlite3

import pytest
from playwright.sync_api import expect

from tests.browser import assert_accessible

pytestmark = pytest.mark.browser


def place_in_group(live_server, group: str, count: int) -> list[int]:
    """Sort the demo plan's first projects into a group, as the forum would have."""
    with sqlite3.connect(live_server.instance / "planapp.sqlite") as connection:
        ids = [
            row[0]
            for row in connection.execute(
                "SELECT id FROM projects WHERE plan_id = ? AND funding_group = 'unsorted' "
                "ORDER BY id LIMIT ?",
                (live_server.plan_id, count),
            )
        ]
        for rank, project_id in enumerate(ids, start=1):
            connection.execute(
                "UPDATE projects SET funding_group = ?, rank = ?, feasibility = 'feasible' "
                "WHERE id = ?",
                (group, 1000 + rank, project_id),
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
