"""Phone ballots in Chromium: the facilitator issues and prints a round (a QR code per ballot),
three phones vote while the projector's turnout rises live, one ballot opened on two phones is
refused the second time, closing writes the votes, "order by votes" orders the group by them,
and the minutes list the round."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import assert_accessible

pytestmark = pytest.mark.browser


@pytest.fixture
def hall(plan_state):
    """The demo sorted into groups, open to the public, three people of village 1 and two of
    village 2 at the forum, which is at its step 4 (the minutes list what it decides)."""
    from planapp.extensions import db
    from planapp.meeting.record import set_step
    from planapp.models import ForumAttendance
    from tests.live_helpers import spread_demo

    def scene(plan):
        spread_demo(plan)
        plan.is_public = True
        set_step(plan, 4, actor=None)
        first, second = plan.tambon.villages[:2]
        db.session.add_all(
            [
                ForumAttendance(plan_id=plan.id, village_id=first.id, people=3),
                ForumAttendance(plan_id=plan.id, village_id=second.id, people=2),
            ]
        )
        return first.id, second.id

    villages = plan_state(scene)
    return plan_state(), villages


def phone(browser, live_server):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="th-TH", is_mobile=True, has_touch=True
    )
    context.set_default_timeout(10_000)
    return context, context.new_page()


def group_ids(live_server, group: str) -> list[int]:
    rows = live_server.query(
        "SELECT project_id FROM board_places WHERE plan_id = :plan AND funding_group = :group"
        " ORDER BY rank",
        plan=live_server.plan_id,
        group=group,
    )
    return [row[0] for row in rows]


def test_a_round_printed_voted_from_phones_counted_and_in_the_minutes(
    browser, live_server, page, hall
):
    token, (first_village, second_village) = hall
    plan = live_server.plan_id
    live_server.login(page, "facilitator")
    # Issue: group 3, two picks, the ballots per village default to the attendance (3 and 2).
    page.goto(live_server.url(f"/plans/{plan}/rounds"))
    assert_accessible(page)
    page.select_option("select[name=funding_group]", "3")
    page.fill("input[name=picks]", "๒")
    expect(page.locator(f"input[name=ballots_{first_village}]")).to_have_value("3")
    expect(page.locator(f"input[name=ballots_{second_village}]")).to_have_value("2")
    page.click("[data-issue-ballots]")
    # The print page: one card per ballot, each with its QR code loaded.
    expect(page.locator("[data-ballot-cards]")).to_have_attribute("data-ballot-cards", "5")
    expect(page.locator("[data-ballot-card]")).to_have_count(5)
    expect(page.locator("img.ballot-qr")).to_have_count(5)
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.ballot-qr')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    codes = page.locator("[data-ballot-code]").all_inner_texts()
    assert len(set(codes)) == 5
    ballots = live_server.query(
        "SELECT b.token, b.village_id FROM ballots b JOIN vote_rounds r ON r.id = b.round_id"
        " WHERE r.plan_id = :plan ORDER BY b.id",
        plan=plan,
    )
    assert [village for _t, village in ballots].count(first_village) == 3

    # The projector shows the round's turnout; the round opens.
    projector_context = browser.new_context(viewport={"width": 1280, "height": 720}, locale="th-TH")
    projector_context.set_default_timeout(10_000)
    projector = projector_context.new_page()
    projector.goto(live_server.url(f"/live/{token}"))
    projector.evaluate("window.__sameDocument = true")
    page.goto(live_server.url(f"/plans/{plan}/rounds"))
    page.click("[data-show-turnout]")
    expect(projector.locator("[data-mode]")).to_have_attribute("data-mode", "vote")
    row = projector.locator(f'#live-turnout [data-village-id="{first_village}"]')
    expect(row).to_have_attribute("data-turnout", "0/3")
    page.click("[data-open-round]")
    expect(projector.locator("[data-vote-status]")).to_have_attribute("data-vote-status", "open")

    listed = group_ids(live_server, "3")
    choices = [[listed[0], listed[1]], [listed[1]], [listed[1], listed[2]]]
    phones = [phone(browser, live_server) for _i in range(4)]
    try:
        # Phone 4 opens phone 1's ballot too (a card shown around), before phone 1 votes.
        village_one = [t for t, village in ballots if village == first_village]
        _c, twin = phones[3]
        twin.goto(live_server.url(f"/b/{village_one[0]}"))
        for number, ((_context, voter), picks) in enumerate(zip(phones[:3], choices, strict=True)):
            voter.goto(live_server.url(f"/b/{village_one[number]}"))
            ballot = voter.locator("[data-ballot]")
            expect(ballot).to_have_attribute("data-picks-left", "2")
            for pid in picks:
                voter.locator(f'label[data-project-id="{pid}"]').click()
            expect(ballot).to_have_attribute("data-picks-left", str(2 - len(picks)))
            if len(picks) == 2:  # the limit reached: the other choices are held
                expect(
                    voter.locator(f'label[data-project-id="{listed[3]}"] input')
                ).to_be_disabled()
            voter.click("[data-confirm-vote]")
            expect(voter.locator("[data-ballot-state]")).to_have_attribute(
                "data-ballot-state", "cast"
            )
            # The projector's turnout rises live.
            expect(row).to_have_attribute("data-turnout", f"{number + 1}/3")
        assert projector.evaluate("window.__sameDocument === true")
        # The same ballot on the second phone: refused, saying why.
        twin.locator(f'label[data-project-id="{listed[3]}"]').click()
        twin.click("[data-confirm-vote]")
        expect(twin.locator("[data-refused]")).to_have_attribute("data-refused", "used")
        expect(row).to_have_attribute("data-turnout", "3/3")
        expect(projector.locator("[data-turnout-total]")).to_have_attribute(
            "data-turnout-total", "3/5"
        )
    finally:
        for context, _page in phones:
            context.close()

    # Close: the totals become the projects' votes; the projector shows them as bars.
    page.goto(live_server.url(f"/plans/{plan}/rounds"))
    page.click("[data-close-round]")
    page.click("[data-show-totals]")
    totals = projector.locator("[data-vote-totals] [data-project-id]")
    expect(totals.first).to_have_attribute("data-project-id", str(listed[1]))
    expect(totals.first).to_have_attribute("data-votes", "3")
    votes = dict(
        live_server.query(
            "SELECT id, votes FROM projects WHERE id IN (:a, :b, :c, :d)",
            a=listed[0], b=listed[1], c=listed[2], d=listed[3],
        )
    )  # fmt: skip
    assert votes == {listed[0]: 1, listed[1]: 3, listed[2]: 1, listed[3]: 0}
    assert projector.evaluate("window.__sameDocument === true")
    projector_context.close()

    # "Order by votes" orders group 3 by the ballots' totals (ties keep their order).
    page.goto(live_server.url(f"/plans/{plan}/votes"))
    page.locator('[data-order-by-votes="3"]').click()
    expect(page.locator('[data-group="3"] [data-project-id]').first).to_have_attribute(
        "data-project-id", str(listed[1])
    )
    assert group_ids(live_server, "3")[:3] == [listed[1], listed[0], listed[2]]

    # The minutes list the round: who could vote and who did, per village.
    page.goto(live_server.url(f"/plans/{plan}/minutes"))
    minutes = page.locator("[data-minutes-votes]")
    expect(minutes.locator(f'[data-village-id="{first_village}"]')).to_have_attribute(
        "data-turnout", "3/3"
    )
    expect(minutes.locator(f'[data-village-id="{second_village}"]')).to_have_attribute(
        "data-turnout", "0/2"
    )


def test_typing_a_code_on_a_phone_opens_the_ballot(browser, live_server, page, hall):
    plan = live_server.plan_id
    live_server.login(page, "facilitator")
    page.goto(live_server.url(f"/plans/{plan}/rounds"))
    page.click("[data-issue-ballots]")
    code = page.locator("[data-ballot-code]").first.inner_text()
    context, voter = phone(browser, live_server)
    try:
        voter.goto(live_server.url("/b"))
        assert_accessible(voter)
        voter.fill("input[name=code]", code.lower().replace("-", " "))
        voter.click("form.ballot-code-form button")
        expect(voter.locator("[data-ballot]")).to_have_attribute("data-ballot-state", "not_open")
        assert_accessible(voter)
    finally:
        context.close()
