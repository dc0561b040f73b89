"""Village plans in a real browser: add a village and a project through the forms, reorder with
the keyboard, and the pages pass axe-core."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser import assert_accessible

pytestmark = pytest.mark.browser


def test_create_a_village_and_a_project_through_the_forms(live_server, page):
    live_server.login(page, "facilitator")
    page.goto(live_server.url(f"/plans/{live_server.plan_id}"))
    page.get_by_role("link", name="หมู่บ้านของตำบล").click()
    # axe runs on the page it finds: wait for the new one, not the one the click leaves.
    expect(page).to_have_url(re.compile(r"/tambons/\d+$"))
    expect(page.get_by_label("ชื่อหมู่บ้าน")).to_be_visible()
    assert_accessible(page)

    # Adding a village swaps the villages section in place (htmx), no page load.
    page.get_by_label("หมู่ที่").fill("๑๒")
    page.get_by_label("ชื่อหมู่บ้าน").fill("บ้านทดสอบ")
    page.get_by_role("button", name="เพิ่มหมู่บ้าน").click()
    row = page.locator("#villages tbody tr", has_text="บ้านทดสอบ")
    expect(row).to_contain_text("12")
    expect(page.locator("#villages .flash")).to_contain_text("เพิ่มหมู่ที่ 12 บ้านทดสอบ แล้ว")

    # The new village is on the plan page; open it and add its first project.
    page.goto(live_server.url(f"/plans/{live_server.plan_id}"))
    page.get_by_role("link", name=re.compile("หมู่ที่ 12 บ้านทดสอบ")).click()
    expect(page.locator("h1")).to_contain_text("หมู่ที่ 12 บ้านทดสอบ")
    assert_accessible(page)
    page.get_by_role("link", name="เพิ่มโครงการ").first.click()
    expect(page).to_have_url(re.compile(r"/projects/new$"))
    expect(page.get_by_label("ชื่อโครงการ")).to_be_visible()
    assert_accessible(page)

    # A bad budget is refused next to the field and nothing is saved.
    page.get_by_label("ชื่อโครงการ").fill("ซ่อมถนนลูกรังสายทดสอบ")
    page.get_by_label("งบประมาณโดยประมาณ (บาท)").fill("-100")
    page.get_by_role("button", name="บันทึก", exact=True).click()
    expect(page.locator("#budget_satang-errors")).to_have_text("งบประมาณติดลบไม่ได้")
    assert_accessible(page)

    page.get_by_label("งบประมาณโดยประมาณ (บาท)").fill("250,000")
    page.get_by_label("ด้าน", exact=True).select_option(label="ด้านโครงสร้างพื้นฐาน")
    page.get_by_role("button", name="บันทึก", exact=True).click()
    card = page.locator("#village-projects [data-project-id]")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("ซ่อมถนนลูกรังสายทดสอบ")
    expect(card).to_contain_text("250,000")
    expect(card).to_contain_text("ยังไม่จัดกลุ่ม")


def test_reorder_a_village_list_with_the_keyboard(live_server, page):
    live_server.login(page, "facilitator")
    page.goto(live_server.url(f"/plans/{live_server.plan_id}"))
    page.locator("[data-village-id]").first.click()
    # Loaded, so htmx has taken over the forms (before that, Enter would post the plain form
    # and load a new page, with nothing focused).
    page.wait_for_url(re.compile(r"/villages/\d+$"))
    items = page.locator("#village-projects [data-project-id]")
    first = items.nth(0).get_attribute("data-project-id")
    second = items.nth(1).get_attribute("data-project-id")
    page.locator(f"#down-{first}").focus()
    page.keyboard.press("Enter")
    expect(items.nth(0)).to_have_attribute("data-project-id", second)
    expect(items.nth(1)).to_have_attribute("data-project-id", first)
    # The moved project's button keeps the focus, so pressing again moves it further.
    expect(page.locator(f"#down-{first}")).to_be_focused()
    assert_accessible(page)


def test_merge_page_is_accessible(live_server, page):
    live_server.login(page, "admin")
    page.goto(live_server.url(f"/plans/{live_server.plan_id}/merge"))
    assert_accessible(page)
    page.goto(live_server.url("/setup/agencies"))
    assert_accessible(page)


def test_import_a_filled_template_through_the_pages(live_server, page, tmp_path):
    from io import BytesIO

    from openpyxl import load_workbook

    live_server.login(page, "facilitator")
    page.goto(live_server.url(f"/plans/{live_server.plan_id}"))
    page.get_by_role("link", name="นำเข้าแผนหมู่บ้าน").first.click()
    expect(page.locator("h1")).to_have_text("นำเข้าแผนหมู่บ้านจาก Excel")
    assert_accessible(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="ดาวน์โหลดแบบฟอร์ม (.xlsx)").click()
    workbook = load_workbook(BytesIO(download_info.value.path().read_bytes()))
    sheet = workbook["โครงการ"]
    sheet["A3"], sheet["C3"], sheet["D3"], sheet["E3"] = (
        "2",
        "ซ่อมฝายกั้นน้ำ",
        "ด้านเศรษฐกิจและอาชีพ",
        "80,000",
    )
    sheet["A4"], sheet["C4"], sheet["D4"], sheet["E4"] = "77", "", "ด้านกีฬา", "-5"
    bad = tmp_path / "bad.xlsx"
    workbook.save(bad)
    page.set_input_files("input[type=file]", str(bad))
    page.get_by_role("button", name="อัปโหลดและดูตัวอย่าง").click()
    problems = page.locator("#import-problems")
    expect(problems).to_contain_text("หมู่ที่ 77 ไม่อยู่ในตำบลนี้")
    expect(problems).to_contain_text("ไม่ได้กรอกชื่อโครงการ")
    expect(page.get_by_role("button", name=re.compile("นำเข้า .* โครงการใหม่"))).to_have_count(0)
    assert_accessible(page)

    sheet.delete_rows(4)
    good = tmp_path / "good.xlsx"
    workbook.save(good)
    page.goto(live_server.url(f"/plans/{live_server.plan_id}/import"))
    page.set_input_files("input[type=file]", str(good))
    page.get_by_role("button", name="อัปโหลดและดูตัวอย่าง").click()
    expect(page.locator('tr[data-row="3"]')).to_contain_text("ซ่อมฝายกั้นน้ำ")
    assert_accessible(page)
    page.get_by_role("button", name="นำเข้า 1 โครงการใหม่").click()
    expect(page.locator(".flash-success")).to_contain_text("นำเข้า 1 โครงการแล้ว")


def test_merge_and_unmerge_through_the_pages(live_server, page):
    live_server.login(page, "facilitator")
    page.goto(live_server.url(f"/plans/{live_server.plan_id}/merge"))
    rows = page.locator("tbody tr[data-project-id]")
    first_id = rows.nth(0).get_attribute("data-project-id")
    second_id = rows.nth(1).get_attribute("data-project-id")
    page.locator(f"#merge-{first_id}").check()
    page.locator(f"#merge-{second_id}").check()
    page.get_by_role("button", name="ถัดไป: ตั้งชื่อโครงการระดับตำบล").click()
    title = page.get_by_label("ชื่อโครงการที่รวมแล้ว")
    expect(title).to_be_visible()
    assert_accessible(page)
    title.fill("ถนนเชื่อมสองหมู่บ้าน")
    page.get_by_role("button", name="รวมโครงการ", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("ถนนเชื่อมสองหมู่บ้าน")
    expect(page.locator("[data-merged-project-id]")).to_have_count(1)
    assert_accessible(page)
    page.get_by_role("button", name="ยกเลิกการรวม: นำกลับสู่กระดาน").click()
    expect(page.locator(".flash-success")).to_contain_text("ยกเลิกการรวมแล้ว")
    expect(page.locator("[data-merged-project-id]")).to_have_count(0)


def test_merge_page_search_narrows_the_list_and_keeps_what_was_ticked(live_server, page):
    """Issue 16, item 12: find two look-alikes of different villages by typing, tick each,
    and go on to name the tambon project; the suggested duplicates are listed above."""
    live_server.login(page, "facilitator")
    page.goto(live_server.url(f"/plans/{live_server.plan_id}/merge"))
    expect(page.locator("[data-suggestion]").first).to_be_visible()
    rows = page.locator("#merge-candidates tbody tr")
    everything = rows.count()
    search = page.get_by_label("ค้นหาจากชื่อโครงการหรือหมู่บ้าน")
    search.fill("ขยะ")
    expect(rows).to_have_count(3)  # typed, no button pressed: the list follows
    bank = page.locator("#merge-candidates tr", has_text="ธนาคารขยะหมู่บ้าน")
    bank.get_by_role("checkbox").check()
    search.fill("ขุดลอก")
    expect(rows).to_have_count(3)  # the two ponds, and the ticked bank stays
    expect(bank.get_by_role("checkbox")).to_be_checked()
    pond = page.locator("#merge-candidates tr", has_text="ขุดลอกหนองสาธารณะหนองผือ")
    pond.get_by_role("checkbox").check()
    search.fill("")
    expect(rows).to_have_count(everything)
    page.get_by_role("button", name="ถัดไป: ตั้งชื่อโครงการระดับตำบล").click()
    chosen = page.locator("table tbody tr[data-project-id]")
    expect(chosen).to_have_count(2)
    for title in ("ธนาคารขยะหมู่บ้าน", "ขุดลอกหนองสาธารณะหนองผือ"):
        expect(chosen.filter(has_text=title)).to_have_count(1)
    assert_accessible(page)
