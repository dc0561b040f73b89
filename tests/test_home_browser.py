"""The home page in a real browser: the demo tambon is listed, in Thai, and accessible."""

import pytest

from tests.browser import assert_accessible

pytestmark = pytest.mark.browser


def test_home_lists_the_demo_tambon(live_server, page):
    page.goto(live_server.url("/"))
    plan_link = page.locator(f'[data-plan-id="{live_server.plan_id}"]')
    assert plan_link.is_visible()
    assert "แผนปีงบประมาณ" in plan_link.inner_text()
    # The Thai web font is served from the app itself, not a CDN.
    page.evaluate("document.fonts.ready")
    assert page.evaluate("document.fonts.check('16px Sarabun', 'ตำบล')")
    assert_accessible(page)


def test_sign_in_and_open_the_plan(live_server, page):
    live_server.login(page, "facilitator")
    page.goto(live_server.url(f"/plans/{live_server.plan_id}"))
    assert page.locator("h1").inner_text().startswith("แผนชุมชนบูรณาการระดับตำบล")
    assert page.locator('[data-group="unsorted"]').count() == 1
    assert_accessible(page)
