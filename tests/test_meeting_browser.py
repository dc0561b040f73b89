"""Running the meeting in a real browser: the facilitator's tablet and the hall's projector in
separate browser contexts (separate sessions, as two devices)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import assert_accessible

pytestmark = pytest.mark.browser


def test_meeting_pages_are_accessible(live_server, page):
    live_server.login(page, "facilitator")
    plan = live_server.plan_id
    for path in ("meeting", "votes", "shares", "minutes", "meeting/record", "guide"):
        page.goto(live_server.url(f"/plans/{plan}/{path}"))
        expect(page.locator("h1")).to_be_visible()
        assert_accessible(page)


def test_votes_typed_and_tapped_then_order_by_votes_keeps_ties(live_server, page):
    live_server.login(page, "facilitator")
    page.goto(live_server.url(f"/plans/{live_server.plan_id}/votes"))
    column = page.locator('[data-group="unsorted"]')
    cards = column.locator("[data-project-id]")
    ids = [cards.nth(i).get_attribute("data-project-id") for i in range(5)]
    # Votes for the first five cards: typed (moving on with Tab) and with the big buttons.
    typed = {ids[0]: "3", ids[1]: "7", ids[2]: "3", ids[4]: "7"}
    for pid, votes in typed.items():
        box = page.locator(f"#votes-input-{pid}")
        box.fill(votes)
        box.press("Tab")
        expect(page.locator(f"#votes-{pid}")).to_have_attribute("data-votes", votes)
    plus = page.locator(f"#votes-{ids[3]} [data-vote-plus]")
    for expected in ("1", "2"):
        plus.click()
        expect(page.locator(f"#votes-{ids[3]}")).to_have_attribute("data-votes", expected)
    page.locator(f"#votes-{ids[3]} [data-vote-minus]").click()
    expect(page.locator(f"#votes-{ids[3]}")).to_have_attribute("data-votes", "1")

    page.locator('[data-order-by-votes="unsorted"]').click()
    # 7 and 7 keep their order (ids[1] before ids[4]), then 3 and 3 (ids[0] before ids[2]),
    # then 1, then every card with no votes in its old order.
    expected_head = [ids[1], ids[4], ids[0], ids[2], ids[3]]
    expect(column.locator("[data-project-id]").first).to_have_attribute(
        "data-project-id", expected_head[0]
    )
    order = column.locator("[data-project-id]").evaluate_all(
        "els => els.map(e => e.getAttribute('data-project-id'))"
    )
    assert order[:5] == expected_head
    # Bad input: refused next to the field, the count unchanged.
    box = page.locator(f"#votes-input-{ids[0]}")
    box.fill("สาม")
    box.press("Enter")
    expect(page.locator(f"#votes-{ids[0]} .field-errors")).to_be_visible()
    expect(page.locator(f"#votes-{ids[0]}")).to_have_attribute("data-votes", "3")


def test_timer_counts_down_on_the_tablet(live_server, page):
    live_server.login(page, "facilitator")
    page.goto(live_server.url(f"/plans/{live_server.plan_id}/meeting"))
    page.select_option("#timer-village", index=2)
    page.select_option("#timer-minutes", "3")
    page.get_by_role("button", name="เริ่มจับเวลา").click()
    timer = page.locator("#timer-control [data-timer]")
    expect(timer).to_have_attribute("data-running", "true")
    expect(timer).to_have_text(re.compile(r"^2:5\d$"))
    page.get_by_role("button", name="หยุดชั่วคราว").click()
    expect(timer).to_have_attribute("data-running", "false")
    paused = timer.get_attribute("data-remaining")
    page.get_by_role("button", name="+1 นาที").click()
    expect(timer).to_have_attribute("data-remaining", str(int(paused) + 60))
