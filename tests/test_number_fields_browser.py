"""Numbers typed in a real browser (issue 16, item 1): Thai digits and thousands separators reach
the server as typed, and are kept."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_attendance_typed_in_thai_digits_is_kept(live_server, page):
    live_server.login(page, "facilitator")
    plan = live_server.plan_id
    first, second, third = live_server.query(
        "SELECT v.id FROM villages v JOIN plans p ON p.tambon_id = v.tambon_id "
        "WHERE p.id = :plan ORDER BY v.number LIMIT 3",
        plan=plan,
    )
    page.goto(live_server.url(f"/plans/{plan}/meeting/record"))
    typed = {first[0]: "๒๕", second[0]: "1,500", third[0]: "๑,๒๐๐"}
    for village_id, text in typed.items():
        box = page.locator(f"#people_{village_id}")
        box.fill(text)
        # What the browser holds is what was typed: a number input would hold nothing.
        expect(box).to_have_value(text)
    page.get_by_role("button", name="บันทึกข้อมูลเวที").click()
    expect(page.locator(".flash-success")).to_be_visible()
    for village_id, number in zip(typed, (25, 1500, 1200), strict=True):
        expect(page.locator(f"#people_{village_id}")).to_have_value(str(number))
    saved = dict(
        live_server.query(
            "SELECT village_id, people FROM forum_attendance WHERE plan_id = :plan", plan=plan
        )
    )
    assert saved == {first[0]: 25, second[0]: 1500, third[0]: 1200}
    page.goto(live_server.url(f"/plans/{plan}/minutes"))
    expect(page.locator("[data-total-people]")).to_have_text("2,725")
