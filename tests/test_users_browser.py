"""An administrator manages users in a real browser, by touch-sized controls, accessibly."""

import pytest
from playwright.sync_api import expect

from tests.browser import assert_accessible

pytestmark = pytest.mark.browser


def test_create_a_facilitator_assign_a_tambon_and_deactivate(live_server, page, browser):
    live_server.login(page, "admin")
    page.goto(live_server.url("/admin/users"))
    assert_accessible(page)
    page.get_by_role("link", name="เพิ่มผู้ใช้").click()
    page.get_by_label("ชื่อผู้ใช้").fill("malee")
    page.get_by_label("ชื่อที่แสดงในประวัติการแก้ไข").fill("มาลี ใจดี")
    page.get_by_label("วิทยากรกระบวนการ", exact=False).check()
    page.locator("input[name=tambons]").first.check()
    page.get_by_label("รหัสผ่าน", exact=True).fill("short")
    page.get_by_label("ยืนยันรหัสผ่าน").fill("short")
    page.get_by_role("button", name="สร้างผู้ใช้").click()
    # Bad input: the message sits next to the field and the choices are kept.
    expect(page.locator("#password-errors")).to_contain_text("อย่างน้อย 8 ตัวอักษร")
    expect(page.locator("input[name=tambons]").first).to_be_checked()
    assert_accessible(page)
    page.get_by_label("รหัสผ่าน", exact=True).fill("a long password")
    page.get_by_label("ยืนยันรหัสผ่าน").fill("a long password")
    page.get_by_role("button", name="สร้างผู้ใช้").click()
    row = page.locator("tr", has_text="malee")
    expect(row).to_contain_text("ใช้งานอยู่")

    # The new facilitator signs in on a tablet and opens the demo plan.
    tablet = browser.new_context(locale="th-TH")
    try:
        tablet_page = tablet.new_page()
        tablet_page.goto(live_server.url("/login"))
        tablet_page.fill("input[name=username]", "malee")
        tablet_page.fill("input[name=password]", "a long password")
        tablet_page.click("form.form button[type=submit]")
        expect(tablet_page.locator(".user-name")).to_have_text("มาลี ใจดี")

        row.get_by_role("button", name="ปิดการใช้งาน").click()
        expect(page.locator("tr", has_text="malee")).to_contain_text("ปิดการใช้งานแล้ว")
        # Deactivation signs the tablet out at its next request.
        tablet_page.goto(live_server.url(f"/plans/{live_server.plan_id}"))
        expect(tablet_page.locator("[data-error-status='401']")).to_be_visible()
        expect(tablet_page.locator(".user-name")).to_have_count(0)
    finally:
        tablet.close()
