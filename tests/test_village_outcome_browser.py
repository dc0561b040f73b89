"""Each village's closing screen in Chromium (issue 17): the facilitator shows a village's
outcome on the projector and steps to the next village; the projector and a phone show what
happened to each of its projects (group and place, or not feasible and why, urgency, lead
agency), and a move on the tablet's board changes the place shown, live."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import assert_accessible, select_card

pytestmark = pytest.mark.browser

REASON = "ซ้ำกับแผนของจังหวัด <b>ปี 68</b>"


@pytest.fixture
def closing(plan_state):
    """The demo sorted; the village of the first not-feasible project, with its reason typed,
    and one of its projects in a group below the top."""
    from planapp.meeting.groups import column_cards
    from planapp.models import Project
    from tests.live_helpers import spread_demo

    def scene(plan):
        spread_demo(plan)
        projects = sorted(plan.active_projects(), key=lambda p: p.id)
        refused = next(p for p in projects if p.funding_group == "not-feasible")
        refused.feasibility_reason = REASON
        village = refused.villages[0]
        villages = list(plan.tambon.villages)
        index = villages.index(village)
        for group in ("1", "2", "3"):
            cards = column_cards(plan, group)
            placed = [
                (place, p)
                for place, p in enumerate(cards, 1)
                if village in p.villages and place > 1
            ]
            if placed:
                place, grouped = placed[0]
                break
        assert isinstance(grouped, Project)
        return {
            "village": village.number,
            "index": index,
            "neighbour": villages[index + 1 if index == 0 else index - 1].number,
            "refused": refused.id,
            "grouped": grouped.id,
            "group": grouped.funding_group,
            "place": place,
            "urgency": grouped.urgency,
            "lead": grouped.lead_agency.name,
        }

    scene_data = plan_state(scene)
    return plan_state(), scene_data


def test_the_facilitator_steps_through_each_villages_outcome(browser, live_server, closing):
    token, c = closing
    projector_context = browser.new_context(viewport={"width": 1280, "height": 720}, locale="th-TH")
    projector_context.set_default_timeout(10_000)
    projector = projector_context.new_page()
    projector.goto(live_server.url(f"/live/{token}"))
    projector.evaluate("window.__sameDocument = true")
    tablet_context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="th-TH")
    tablet_context.set_default_timeout(10_000)
    tablet = tablet_context.new_page()
    phone_context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="th-TH", is_mobile=True, has_touch=True
    )
    phone_context.set_default_timeout(10_000)
    phone = phone_context.new_page()
    try:
        live_server.login(tablet, "facilitator")
        tablet.goto(live_server.url(f"/plans/{live_server.plan_id}/screen"))
        # A neighbouring village first, then one step to the village.
        first = c["index"] == 0
        tablet.select_option("#screen-village", index=c["index"] + (1 if first else -1))
        tablet.click("[data-screen-mode=outcome]")
        expect(projector.locator("[data-mode]")).to_have_attribute("data-mode", "outcome")
        shown = projector.locator("#live-outcome")
        expect(shown).to_have_attribute("data-outcome-village", str(c["neighbour"]))
        tablet.click(f"[data-village-step={'previous' if first else 'next'}]")
        expect(shown).to_have_attribute("data-outcome-village", str(c["village"]))
        expect(tablet.locator("[data-screen-mode=outcome]")).to_have_attribute(
            "aria-pressed", "true"
        )

        # Not feasible, with the reason as typed (text, not markup).
        refused = shown.locator(f'[data-project-id="{c["refused"]}"]')
        expect(refused).to_have_attribute("data-outcome", "not-feasible")
        expect(refused.locator(".outcome-reason")).to_have_text(REASON)
        # In its group at its place, with its urgency and lead agency.
        grouped = shown.locator(f'[data-project-id="{c["grouped"]}"]')
        expect(grouped).to_have_attribute("data-outcome", f"{c['group']}:{c['place']}")
        expect(grouped.locator(".outcome-place")).to_have_text(
            f"กลุ่ม {c['group']} ลำดับที่ {c['place']}"
        )
        expect(grouped).to_have_attribute("data-urgency", c["urgency"])
        expect(grouped.locator(".card-meta")).to_contain_text(c["lead"])
        assert_accessible(projector)

        # A phone sees the same village's outcome.
        phone.goto(live_server.url(f"/live/{token}/phone"))
        on_phone = phone.locator(f'#live-outcome [data-project-id="{c["grouped"]}"]')
        expect(on_phone).to_have_attribute("data-outcome", f"{c['group']}:{c['place']}")
        assert_accessible(phone)

        # The hall moves the project one place up on the board: the outcome shows it live.
        tablet.goto(live_server.url(f"/plans/{live_server.plan_id}/board"))
        select_card(tablet, c["grouped"]).locator("[data-move-step='-1']").click()
        expect(grouped).to_have_attribute("data-outcome", f"{c['group']}:{c['place'] - 1}")
        expect(on_phone).to_have_attribute("data-outcome", f"{c['group']}:{c['place'] - 1}")
        assert projector.evaluate("window.__sameDocument === true")
    finally:
        phone_context.close()
        tablet_context.close()
        projector_context.close()
