import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_explore(browser, live_server, plan_state, size):
    from tests.forum_script import sort_demo

    plan_state(sort_demo)
    token = plan_state()
    w, h = size
    context = browser.new_context(viewport={"width": w, "height": h}, locale="th-TH")
    page = context.new_page()
    page.goto(live_server.url(f"/live/{token}"))
    for mode in ["board", "urgency", "summary", "village", "overview"]:
        plan_state(lambda plan, mode=mode: setattr(plan, "projector_mode", mode))
        page.reload()
        expect(page.locator("[data-mode]")).to_have_attribute("data-mode", mode)
        page.evaluate("document.fonts.ready")
        page.screenshot(path=f"/tmp/h2shots/{mode}-{w}.png")
    page.goto(live_server.url(f"/live/{token}/phone"))
    page.set_viewport_size({"width": 360, "height": 740})
    page.screenshot(path=f"/tmp/h2shots/phone.png", full_page=True)
    context.close()
