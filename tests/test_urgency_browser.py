"""The urgency view on a 1024x768 tablet: one tap per project sets its tier (three large
buttons, the current one pressed); the answer moves only that row and the counts; the projector's
urgency screen and another tablet's board show it live; the projects still without a tier use
the page's width."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def without_tiers(plan) -> None:
    """A forum at step 5: the demo sorted into groups, no urgency tier set yet; the projector on
    its urgency screen."""
    from planapp.extensions import db
    from tests.live_helpers import spread_demo

    spread_demo(plan)
    for project in plan.projects:
        project.urgency = None
    plan.projector_mode = "urgency"
    db.session.commit()


def tablet(browser, live_server, path):
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="th-TH")
    context.set_default_timeout(10_000)
    page = context.new_page()
    live_server.login(page, "facilitator")
    page.goto(live_server.url(path))
    return context, page


def test_one_tap_per_project_sets_its_urgency_everywhere(browser, live_server, plan_state):
    plan_state(without_tiers)
    token = plan_state()
    plan_id = live_server.plan_id
    urgency_context, urgency = tablet(browser, live_server, f"/plans/{plan_id}/urgency")
    board_context, board = tablet(browser, live_server, f"/plans/{plan_id}/board")
    projector_context = browser.new_context(viewport={"width": 1280, "height": 720})
    projector_context.set_default_timeout(10_000)
    projector = projector_context.new_page()
    projector.goto(live_server.url(f"/live/{token}"))
    try:
        expect(board.locator("#board")).to_have_attribute("data-live", "")
        expect(projector.locator("[data-mode]")).to_have_attribute("data-mode", "urgency")

        # The list of projects without a tier spans the page's width (main's content box).
        unset = urgency.locator("[data-urgency-unset]")
        width = unset.bounding_box()["width"]
        page_width = urgency.evaluate(
            """() => { const main = document.getElementById('main'), s = getComputedStyle(main);
                 return main.clientWidth - parseFloat(s.paddingLeft)
                   - parseFloat(s.paddingRight); }"""
        )
        assert width >= page_width - 1, (width, page_width)
        rows = unset.locator(".urgency-item")
        unset_before = rows.count()
        assert unset_before >= 3
        # Every tier button is touch-sized.
        for box in urgency.locator("[data-set-urgency]").evaluate_all(
            "els => els.map(el => el.getBoundingClientRect().toJSON())"
        ):
            assert box["width"] >= 44 and box["height"] >= 44, box

        chosen = {}
        for tier in ("urgent", "medium", "normal"):
            row = rows.first
            project_id = row.get_attribute("data-project-id")
            chosen[project_id] = tier
            with urgency.expect_response(lambda r: r.request.method == "POST") as answer:
                row.locator(f"[data-set-urgency={tier}]").click()  # the one tap
            assert answer.value.status == 200
            moved = urgency.locator(f"[data-urgency={tier}] #urgency-item-{project_id}")
            expect(moved).to_have_count(1)
            expect(moved.locator(f"[data-set-urgency={tier}]")).to_have_attribute(
                "aria-pressed", "true"
            )
            expect(moved.locator("[aria-pressed=true]")).to_have_count(1)
            saved = live_server.query(
                "SELECT urgency FROM projects WHERE id = :id", id=int(project_id)
            )
            assert saved[0][0] == tier
            # The projector's urgency screen and the other tablet's board show it.
            shown = projector.locator(f"[data-urgency={tier}] [data-project-id='{project_id}']")
            expect(shown).to_have_count(1)
            expect(board.locator(f"#card-{project_id} .tag-urgency-{tier}")).to_have_count(1)

        # The counts follow: the unset list lost three rows, each tier gained one.
        expect(rows).to_have_count(unset_before - 3)
        expect(urgency.locator("#urgency-count-unset")).to_have_attribute(
            "data-urgency-count", str(unset_before - 3)
        )
        for tier in ("urgent", "medium", "normal"):
            expect(urgency.locator(f"#urgency-count-{tier}")).to_have_attribute(
                "data-urgency-count", "1"
            )
            expect(urgency.locator(f"[data-urgency={tier}] .urgency-empty")).to_be_hidden()
        version = live_server.query("SELECT version FROM plans WHERE id = :id", id=plan_id)[0][0]
        expect(urgency.locator("#plan-version")).to_have_value(str(version))
    finally:
        urgency_context.close()
        board_context.close()
        projector_context.close()
