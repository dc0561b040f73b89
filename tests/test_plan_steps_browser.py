"""The plan page on a 1024x768 tablet (issue 16, item 10): the seven steps in order, the current
one first and marked, each step's main action opens a working page, no label names two places;
the board's step bar shows the steps' names and fits the tablet."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

NAMES = ["นำเสนอ", "วิเคราะห์", "จัดลำดับ", "จัดกลุ่ม", "ความเร่งด่วน", "ออกเอกสาร", "ติดตามผล"]

CONTROLS = """() => Array.from(document.querySelectorAll('a[href], button')).map(el => {
  const form = el.form;
  const place = el.tagName === 'A' ? el.href
    : 'POST ' + (form ? form.action : '') + ' ' + el.name + '=' + el.value;
  return [el.innerText.replace(/\\s+/g, ' ').trim(), place];
})"""


@pytest.fixture
def tablet(browser, live_server):
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="th-TH")
    context.set_default_timeout(10_000)
    page = context.new_page()
    live_server.login(page, "facilitator")
    yield page
    context.close()


def test_the_plan_page_leads_through_the_seven_steps(live_server, tablet):
    page = tablet
    plan_url = live_server.url(f"/plans/{live_server.plan_id}")
    page.goto(plan_url)

    steps = page.locator("[data-step]")
    expect(steps).to_have_count(7)
    assert [steps.nth(i).get_attribute("data-step") for i in range(7)] == [
        str(n) for n in range(1, 8)
    ]
    current = page.locator("[data-step][data-current-step]")
    expect(current).to_have_count(1)
    expect(current).to_have_attribute("data-step", "1")
    expect(current).to_have_attribute("aria-current", "step")
    # The current step comes first: the panel above the list, its main action a large button.
    now = page.locator("[data-now-step]")
    expect(now).to_have_attribute("data-now-step", "1")
    assert now.bounding_box()["y"] < steps.first.bounding_box()["y"]
    big = now.locator("[data-now-action]").bounding_box()
    assert big["height"] >= 44 and big["y"] + big["height"] <= 768  # seen without scrolling

    # No label names two places.
    places: dict[str, set[str]] = {}
    for label, place in page.evaluate(CONTROLS):
        places.setdefault(label, set()).add(place)
    assert {label: p for label, p in places.items() if len(p) > 1} == {}

    # Each step's main action opens a working page (and says what it is).
    targets = [
        (steps.nth(i).locator("[data-main-action]").get_attribute("href"), i + 1) for i in range(7)
    ]
    for href, number in targets:
        response = page.goto(live_server.url(href))
        assert response.ok, (number, href, response.status)
        expect(page.locator("h1").first).to_be_visible()
        expect(page.locator(".error-message")).to_have_count(0)

    # The way on: one tap moves the forum to step 2, back on the plan page.
    page.goto(plan_url)
    now.locator("[data-next-step]").click()
    expect(page.locator("[data-now-step]")).to_have_attribute("data-now-step", "2")
    expect(page.locator("[data-current-step]")).to_have_attribute("data-step", "2")
    assert page.url == plan_url
    saved = live_server.query(
        "SELECT meeting_step FROM plans WHERE id = :id", id=live_server.plan_id
    )
    assert saved[0][0] == 2


def test_the_board_step_bar_names_the_steps_and_fits_the_tablet(live_server, tablet):
    page = tablet
    page.goto(live_server.url(f"/plans/{live_server.plan_id}/board"))
    buttons = page.locator("#step-bar [data-step-button]")
    expect(buttons).to_have_count(7)
    assert [text.strip() for text in buttons.all_inner_texts()] == NAMES
    bar = page.locator("#step-bar").bounding_box()
    assert bar["x"] >= 0 and bar["x"] + bar["width"] <= 1024
    for i in range(7):
        box = buttons.nth(i).bounding_box()
        assert box["height"] >= 44 and box["x"] + box["width"] <= 1024
    # The current step is marked, and choosing another one names it.
    expect(buttons.nth(0)).to_have_attribute("aria-current", "step")
    buttons.nth(3).click()
    expect(page.locator("#step-bar [data-step-button='4']")).to_have_attribute(
        "aria-current", "step"
    )
    assert page.locator("#step-bar [data-step-button='4']").inner_text().strip() == "จัดกลุ่ม"
