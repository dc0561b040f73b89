"""Strategies in Chromium (issue 16, item 13): the facilitator sets a project's strategy and
แผนงาน from the card panel on the board, then confirms the proposals for every other project
on the strategies page, leaving one out and changing another."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import assert_accessible, select_card
from tests.test_board_browser import open_board, server_columns, wait_version

pytestmark = pytest.mark.browser


def strategy_id(live_server, code: str) -> int:
    return live_server.query("SELECT id FROM strategies WHERE code = :code", code=code)[0][0]


def strategies_of(live_server, project_id: int) -> list[int]:
    rows = live_server.query(
        "SELECT strategy_id FROM project_strategies WHERE project_id = :project ORDER BY 1",
        project=project_id,
    )
    return [row[0] for row in rows]


def without_strategy(live_server) -> list[int]:
    rows = live_server.query(
        "SELECT id FROM projects WHERE plan_id = :plan AND merged_into_id IS NULL AND NOT EXISTS "
        "(SELECT 1 FROM project_strategies ps WHERE ps.project_id = projects.id) ORDER BY id",
        plan=live_server.plan_id,
    )
    return [row[0] for row in rows]


def test_a_strategy_from_the_panel_then_the_proposals_confirmed_for_all(live_server, page):
    open_board(live_server, page)
    unsorted = server_columns(live_server)["unsorted"]
    project = unsorted[0]
    select_card(page, project).locator("[data-open-panel]").click()
    panel = page.locator("#card-panel")
    expect(panel.locator("[data-panel-heading]")).to_be_focused()
    # The panel says what the project's sector proposes.
    expect(panel.locator("[data-proposed-strategy]")).to_contain_text("เสนอตามด้านของโครงการ")
    tactic = strategy_id(live_server, "L1.2")
    panel.locator(f'input[name="strategy_ids"][value="{tactic}"]').check()
    panel.get_by_label("แผนงาน", exact=False).select_option("housing_community")
    panel.get_by_role("button", name="บันทึก").click()
    wait_version(page, 1)
    expect(panel).to_be_empty()  # saved: the panel closes
    assert strategies_of(live_server, project) == [tactic]
    programme = live_server.query("SELECT programme FROM projects WHERE id = :id", id=project)
    assert programme[0][0] == "housing_community"
    # Opened again, the panel proposes nothing: the project has its strategy.
    select_card(page, project).locator("[data-open-panel]").click()
    expect(panel.locator("[data-panel-heading]")).to_be_focused()
    expect(panel.locator("[data-proposed-strategy]")).to_have_count(0)
    panel.locator("button[data-close-panel]").last.click()
    expect(panel.locator("[data-panel-heading]")).to_have_count(0)

    # The strategies page lists every other project, each with its sector's proposal. (On the
    # board the site menu is folded behind its button.)
    page.get_by_role("button", name="เมนู").click()
    page.get_by_role("link", name="ยุทธศาสตร์ของโครงการ").click()
    rows = page.locator("[data-strategy-proposals] tr[data-proposal]")
    waiting = without_strategy(live_server)
    expect(rows).to_have_count(len(waiting))
    assert project not in waiting
    assert_accessible(page)
    left_out, changed = waiting[0], waiting[1]
    province = strategy_id(live_server, "P2")
    page.locator(f'select[name="strategy-{left_out}"]').select_option("")
    page.locator(f'select[name="strategy-{changed}"]').select_option(str(province))
    proposed = page.locator(f'select[name="strategy-{waiting[2]}"]').input_value()
    page.get_by_role("button", name="ยืนยันยุทธศาสตร์").click()

    expect(page.get_by_text(f"กำหนดยุทธศาสตร์ให้ {len(waiting) - 1} โครงการแล้ว")).to_be_visible()
    expect(rows).to_have_count(1)
    expect(page.locator(f'tr[data-proposal="{left_out}"]')).to_be_visible()
    assert without_strategy(live_server) == [left_out]
    assert strategies_of(live_server, changed) == [province]
    assert strategies_of(live_server, waiting[2]) == [int(proposed)]
    assert strategies_of(live_server, project) == [tactic]  # the panel's choice stays
