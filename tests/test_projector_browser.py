"""The projector and phone views in Chromium: what the facilitator does on the tablet shows on
the projector without a reload; a projector that lost its connection catches up by itself; the
projector fits 1280x720 and 1920x1080 with no page scroll in every mode, big type; axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import PG_ADMIN_URL, assert_accessible, select_card

pytestmark = pytest.mark.browser

MODES = ["village", "overview", "board", "urgency", "summary", "outcome"]


@pytest.fixture
def forum_under_way(plan_state):
    from tests.live_helpers import spread_demo

    plan_state(spread_demo)
    return plan_state()


def projector_page(browser, live_server, token, width=1280, height=720):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="th-TH")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(live_server.url(f"/live/{token}"))
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    return context, page


def assert_not_reloaded(page):
    assert page.evaluate("window.__sameDocument === true")


def tablet_page(browser, live_server):
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="th-TH")
    context.set_default_timeout(10_000)
    page = context.new_page()
    live_server.login(page, "facilitator")
    page.goto(live_server.url(f"/plans/{live_server.plan_id}/screen"))
    return context, page


def test_tablet_screen_choices_show_on_the_projector_without_reload(
    browser, live_server, forum_under_way
):
    token = forum_under_way
    projector_context, projector = projector_page(browser, live_server, token)
    tablet_context, tablet = tablet_page(browser, live_server)
    try:
        body = projector.locator("body")
        expect(body).to_have_attribute("data-projector", "")
        start = int(body.get_attribute("data-plan-version"))
        expect(projector.locator("[data-mode]")).to_have_attribute("data-mode", "board")

        tablet.click("[data-screen-mode=summary]")
        expect(tablet.locator("[data-screen-mode=summary]")).to_have_attribute(
            "aria-pressed", "true"
        )
        expect(projector.locator("[data-mode]")).to_have_attribute("data-mode", "summary")
        expect(body).to_have_attribute("data-plan-version", str(start + 1))

        tablet.select_option("#screen-village", index=3)
        village_name = tablet.locator("#screen-village option").nth(3).inner_text()
        tablet.click("[data-screen-mode=village]")
        expect(projector.locator("[data-mode]")).to_have_attribute("data-mode", "village")
        expect(projector.locator("#screen-title")).to_contain_text(village_name.split()[-1])

        tablet.click("[data-screen-mode=urgency]")
        expect(projector.locator("[data-urgency=urgent]")).to_be_visible()
        expect(body).to_have_attribute("data-plan-version", str(start + 3))
        assert_not_reloaded(projector)
    finally:
        projector_context.close()
        tablet_context.close()


def test_projector_catches_up_after_losing_its_connection(browser, live_server, forum_under_way):
    token = forum_under_way
    projector_context, projector = projector_page(browser, live_server, token)
    tablet_context, tablet = tablet_page(browser, live_server)
    try:
        expect(projector.locator("[data-mode]")).to_have_attribute("data-mode", "board")
        start = int(projector.locator("body").get_attribute("data-plan-version"))
        # Cut the projector off: its stream ends with the server, and its reconnects fail.
        projector.route("**/events**", lambda route: route.abort())
        live_server.restart()
        # The badge waits 5 seconds before saying so (planapp/meeting, issue 10).
        expect(projector.locator("[data-offline-badge]")).to_be_visible(timeout=15_000)
        expect(projector.locator("[data-offline-since]")).to_have_count(1)

        tablet.reload()
        tablet.click("[data-screen-mode=overview]")
        expect(tablet.locator("[data-screen-mode=overview]")).to_have_attribute(
            "aria-pressed", "true"
        )
        projector.unroute("**/events**")
        expect(projector.locator("[data-mode]")).to_have_attribute(
            "data-mode", "overview", timeout=30_000
        )
        expect(projector.locator("body")).to_have_attribute("data-plan-version", str(start + 1))
        expect(projector.locator("[data-offline-badge]")).to_be_hidden()
        assert_not_reloaded(projector)
    finally:
        projector_context.close()
        tablet_context.close()


# The cards on the page a list shows now: a list flows into screen-high columns side by side,
# and its pager shows the columns of one page (live.js moves the list along).
SHOWN = """(pager, card) => {
  const box = pager.getBoundingClientRect(), r = card.getBoundingClientRect();
  return r.right > box.left + 0.5 && r.left < box.right - 0.5;
}"""


def fits_the_screen(page) -> dict:
    return page.evaluate(
        """() => {
          const shown = """
        + SHOWN
        + """;
          const doc = document.documentElement;
          const spill = [], titles = [];
          for (const pager of document.querySelectorAll('.pager')) {
            const box = pager.getBoundingClientRect();
            for (const card of pager.querySelectorAll('[data-project-id]')) {
              if (!shown(pager, card)) continue;
              const r = card.getBoundingClientRect();
              const out = r.bottom > box.bottom + 0.5 || r.right > box.right + 0.5;
              if (out || r.left < box.left - 0.5) {
                spill.push(card.getAttribute('data-project-id'));
              }
              titles.push(parseFloat(getComputedStyle(card.querySelector('.card-title')).fontSize));
            }
          }
          return {
            scrollX: doc.scrollWidth - window.innerWidth,
            scrollY: doc.scrollHeight - window.innerHeight,
            bottom: Math.max(...Array.from(document.querySelectorAll('main *'))
              .filter(e => e.offsetParent !== null && !e.closest('.pager'))
              .map(e => e.getBoundingClientRect().bottom)),
            spill,
            smallestTitle: titles.length ? Math.min(...titles) : null,
          };
        }"""
    )


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_projector_fits_the_screen_in_every_mode(browser, live_server, plan_state, size):
    from tests.live_helpers import spread_demo

    token = plan_state(spread_demo) or plan_state()
    width, height = size
    context, page = projector_page(browser, live_server, token, width, height)
    try:
        for mode in MODES:
            plan_state(lambda plan, mode=mode: setattr(plan, "projector_mode", mode))
            page.reload()
            expect(page.locator("[data-mode]")).to_have_attribute("data-mode", mode)
            page.evaluate("document.fonts.ready")
            result = fits_the_screen(page)
            assert result["scrollX"] <= 0 and result["scrollY"] <= 0, (mode, result)
            assert result["bottom"] <= height + 0.5, (mode, result)
            assert not result["spill"], f"{mode}: cards cut off {result['spill']}"
            if mode in ("village", "board", "urgency"):
                # A card title readable from the back: 28 px at 1280x720, growing with the screen.
                assert result["smallestTitle"] >= 28 * width / 1280 - 0.5, (mode, result)
            # Every card of a column is on one of its pages, none silently left out.
            if mode == "board":
                for group in ("1", "2", "3"):
                    column = page.locator(f"[data-group='{group}']")
                    total = int(re.search(r"\d+", column.locator(".column-totals").inner_text())[0])
                    assert column.locator("[data-project-id]").count() == total
    finally:
        context.close()


def test_long_columns_turn_their_pages(browser, live_server, forum_under_way):
    context, page = projector_page(browser, live_server, forum_under_way)
    try:
        column = page.locator("[data-group='1']")
        expect(column.locator("[data-pager]")).to_have_count(1)
        expect(column.locator("[data-page-of]")).to_contain_text("1")  # "หน้า 1 จาก 2"
        cards = column.locator(".cards")
        first = cards.get_attribute("data-page") or "0"
        expect(cards).not_to_have_attribute("data-page", first, timeout=15_000)
        # The page now shown (once the list has slid there) holds other cards, none cut off.
        page.wait_for_function("() => !document.querySelector('.cards').getAnimations().length")
        assert not fits_the_screen(page)["spill"]
    finally:
        context.close()


@pytest.mark.parametrize("mode", MODES)
def test_projector_and_phone_are_accessible(browser, live_server, plan_state, mode):
    from tests.live_helpers import spread_demo

    def scene(plan):
        spread_demo(plan)
        plan.projector_mode = mode

    plan_state(scene)
    token = plan_state()
    context, page = projector_page(browser, live_server, token)
    try:
        assert_accessible(page)
        page.set_viewport_size({"width": 360, "height": 740})
        page.goto(live_server.url(f"/live/{token}/phone"))
        expect(page.locator("body")).to_have_attribute("data-phone", "")
        assert_accessible(page)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{mode}: the phone view scrolls sideways by {overflow}px"
    finally:
        context.close()


def test_phone_follows_live_too(browser, live_server, forum_under_way):
    token = forum_under_way
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="th-TH")
    phone = context.new_page()
    tablet_context, tablet = tablet_page(browser, live_server)
    try:
        phone.goto(live_server.url(f"/live/{token}/phone"))
        expect(phone.locator("[data-group='unsorted']")).to_be_visible()
        tablet.click("[data-screen-mode=summary]")
        expect(phone.locator("[data-mode]")).to_have_attribute("data-mode", "summary")
    finally:
        context.close()
        tablet_context.close()


def test_closed_plan_shows_nothing_and_the_open_projector_says_so(browser, live_server, plan_state):
    token = plan_state()
    context, projector = projector_page(browser, live_server, token)
    tablet_context, tablet = tablet_page(browser, live_server)
    try:
        expect(projector.locator("[data-mode]")).to_have_count(1)
        tablet.click("[data-public-toggle]")
        expect(projector.locator(".screen-closed")).to_be_visible()
        expect(projector.locator("[data-project-id]")).to_have_count(0)
        response = projector.request.get(live_server.url(f"/live/{token}"))
        assert response.status == 404
    finally:
        context.close()
        tablet_context.close()


# Its server must run on PostgreSQL for the LISTEN/NOTIFY broker, as it does in that run.
@pytest.mark.skipif(not PG_ADMIN_URL, reason="needs the PostgreSQL run (.ci/with-postgres)")
def test_several_workers_fan_out_through_postgres(browser, live_server, forum_under_way):
    """With LIVE_BROKER=postgres and three worker processes, a change saved by whichever worker
    serves the tablet reaches projectors whose streams other workers hold."""
    live_server.env["PLANAPP_LIVE_BROKER"] = "postgres"
    live_server.extra_args = ["--workers", "3"]
    live_server.restart()
    token = forum_under_way
    projectors = [projector_page(browser, live_server, token) for _ in range(3)]
    tablet_context, tablet = tablet_page(browser, live_server)
    try:
        for mode in ("summary", "overview", "urgency"):
            tablet.click(f"[data-screen-mode={mode}]")
            for _context, projector in projectors:
                expect(projector.locator("[data-mode]")).to_have_attribute("data-mode", mode)
    finally:
        for context, _page in projectors:
            context.close()
        tablet_context.close()


COVERED_BY_TIMER = (
    """() => {
  const timer = document.querySelector('.projector-timer');
  if (!timer) return [];
  const b = timer.getBoundingClientRect();
  const shown = """
    + SHOWN
    + """;
  return Array.from(document.querySelectorAll('.pager [data-project-id]'))
    .filter(card => shown(card.closest('.pager'), card))
    .filter(card => { const r = card.getBoundingClientRect();
      return r.right > b.left && r.left < b.right && r.bottom > b.top && r.top < b.bottom; })
    .map(card => card.getAttribute('data-project-id'));
}"""
)


def running_meeting(plan):
    """The meeting under way: a message on the screen, a ceiling with its cut line, a confirmed
    group, votes on cards, and step 1's presentation countdown running for village 1."""
    from datetime import timedelta

    from planapp.meeting.groups import column_cards
    from planapp.models import PlanGroup, PresentationTimer, utcnow
    from tests.live_helpers import spread_demo

    spread_demo(plan)
    plan.screen_message = "พักรับประทานอาหารกลางวัน กลับมาพร้อมกันเวลา 13.00 น. ที่ศาลาประชาคม"
    plan.meeting_step = 1
    cards = column_cards(plan, "1")
    for votes, card in enumerate(cards[:6], start=1):
        card.votes = votes * 7
    from planapp.extensions import db

    ceiling = sum(card.budget_satang for card in cards[:2])
    db.session.add(PlanGroup(plan_id=plan.id, funding_group="1", ceiling_satang=ceiling))
    db.session.add(PlanGroup(plan_id=plan.id, funding_group="2", confirmed_at=utcnow()))
    village = plan.tambon.villages[0]
    plan.projector_village_number = village.number
    db.session.add(
        PresentationTimer(
            plan_id=plan.id,
            village_id=village.id,
            length_seconds=300,
            ends_at=utcnow() + timedelta(seconds=300),
        )
    )


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_the_running_meeting_shows_on_the_projector_and_still_fits(
    browser, live_server, plan_state, size
):
    plan_state(running_meeting)
    token = plan_state()
    width, height = size
    context, page = projector_page(browser, live_server, token, width, height)
    try:
        for mode in ("village", "board", "urgency"):
            plan_state(lambda plan, mode=mode: setattr(plan, "projector_mode", mode))
            page.reload()
            expect(page.locator("[data-screen-message]")).to_be_visible()
            if mode == "village":
                expect(page.locator("[data-timer]")).to_be_visible()
            if mode == "board":
                expect(page.locator("[data-group='1'] [data-cut-line]")).to_have_count(1)
                expect(page.locator("[data-group='2'][data-confirmed]")).to_have_count(1)
                expect(page.locator("[data-group='1'] [data-votes='7']")).to_have_count(1)
            result = fits_the_screen(page)
            assert result["scrollX"] <= 0 and result["scrollY"] <= 0, (mode, result)
            assert not result["spill"], f"{mode}: cards cut off {result['spill']}"
            # Nothing hides under the countdown in the corner.
            covered = page.evaluate(COVERED_BY_TIMER)
            assert not covered, f"{mode}: cards under the countdown {covered}"
        plan_state(lambda plan: setattr(plan, "screen_paused", True))
        page.reload()
        expect(page.locator("[data-pause-screen]")).to_be_visible()
        expect(page.locator("[data-project-id]")).to_have_count(0)
        assert_accessible(page)
    finally:
        context.close()


def test_moves_on_the_tablet_board_show_on_the_projector_without_reload(
    browser, live_server, forum_under_way
):
    """The real board on the tablet: a move, a group change, a screen switch from the board's
    own control (after which the board's next move is still accepted), an urgency change."""
    token = forum_under_way
    projector_context, projector = projector_page(browser, live_server, token)
    tablet_context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="th-TH")
    tablet_context.set_default_timeout(10_000)
    tablet = tablet_context.new_page()
    live_server.login(tablet, "facilitator")
    tablet.goto(live_server.url(f"/plans/{live_server.plan_id}/board"))
    body = projector.locator("body")
    try:
        start = int(body.get_attribute("data-plan-version"))

        # A group change: the first unsorted card into group 1, with the select and its button.
        card = tablet.locator("[data-group='unsorted'] [data-project-id]").first
        moved = card.get_attribute("data-project-id")
        select_card(tablet, moved)
        card.locator("[data-move-select]").select_option("1")
        card.locator("[data-move-to-group]").click()
        shown = projector.locator(f"[data-group='1'] [data-project-id='{moved}']")
        expect(shown).to_be_visible()
        expect(shown).to_have_attribute("data-last-change", "")
        expect(body).to_have_attribute("data-plan-version", str(start + 1))

        # A move inside a column: the first card of group 2 one place down.
        column = tablet.locator("[data-group='2']")
        first = column.locator("[data-project-id]").first.get_attribute("data-project-id")
        select_card(tablet, first).locator("[data-move-step='1']").click()
        on_projector = projector.locator("[data-group='2'] [data-project-id]")
        expect(on_projector.nth(1)).to_have_attribute("data-project-id", first)
        expect(body).to_have_attribute("data-plan-version", str(start + 2))

        # The screen switch from the control on the board page.
        tablet.locator("[data-toggle=forum-side]").click()  # a drawer on a tablet
        tablet.locator("#projector-control [data-screen-mode=urgency]").click()
        expect(projector.locator("[data-mode]")).to_have_attribute("data-mode", "urgency")
        expect(body).to_have_attribute("data-plan-version", str(start + 3))
        expect(tablet.locator("#plan-version")).to_have_value(str(start + 3))

        # The board is still current: its next move is saved, not refused as stale.
        card = tablet.locator("[data-group='unsorted'] [data-project-id]").first
        select_card(tablet, card.get_attribute("data-project-id"))
        card.locator("[data-move-select]").select_option("3")
        card.locator("[data-move-to-group]").click()
        expect(body).to_have_attribute("data-plan-version", str(start + 4))

        # An urgency change on the tablet's urgency view: the moved card becomes urgent.
        tablet.goto(live_server.url(f"/plans/{live_server.plan_id}/urgency"))
        item = tablet.locator(f".urgency-item[data-project-id='{moved}']")
        item.locator("[data-set-urgency=urgent]").click()
        tier = projector.locator(f"[data-urgency='urgent'] [data-project-id='{moved}']")
        expect(tier).to_have_count(1)
        expect(tier).to_have_attribute("data-last-change", "")
        expect(body).to_have_attribute("data-plan-version", str(start + 5))
        assert_not_reloaded(projector)
    finally:
        projector_context.close()
        tablet_context.close()


LIVE_SNAPSHOT = """() => Array.from(document.querySelectorAll('#live .live-column, #live-side'))
  .map(part => ({
    id: part.id,
    head: (part.querySelector('.column-head') || part).textContent.replace(/\\s+/g, ' ').trim()
      .replace((part.querySelector('[data-page-of]') || {}).textContent || '', ''),
    cards: Array.from(part.querySelectorAll('li')).map(li => li.outerHTML.replace(/\\s+/g, ' ')),
  }))"""


def test_changes_sent_as_parts_leave_the_views_as_a_reload_shows_them(
    browser, live_server, forum_under_way
):
    """Moves reach the open projector and phone as only the cards that moved (and the heads and
    cut lines of their lists): afterwards each shows exactly what a freshly loaded page shows
    (in the same order, so with the same numbers: they come from a CSS counter)."""
    token = forum_under_way
    projector_context, projector = projector_page(browser, live_server, token)
    phone_context = browser.new_context(viewport={"width": 360, "height": 740}, locale="th-TH")
    phone = phone_context.new_page()
    phone.goto(live_server.url(f"/live/{token}/phone"))
    phone.evaluate("window.__sameDocument = true")
    tablet_context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="th-TH")
    tablet_context.set_default_timeout(10_000)
    tablet = tablet_context.new_page()
    live_server.login(tablet, "facilitator")
    tablet.goto(live_server.url(f"/plans/{live_server.plan_id}/board"))
    start = int(projector.locator("body").get_attribute("data-plan-version"))
    try:
        moves = [("unsorted", "1"), ("3", "2"), ("unsorted", "3"), ("1", "3"), ("2", "1")]
        for step, (source, target) in enumerate(moves, start=1):
            card = tablet.locator(f"[data-group='{source}'] [data-project-id]").nth(1)
            select_card(tablet, card.get_attribute("data-project-id"))
            card.locator("[data-move-select]").select_option(target)
            card.locator("[data-move-to-group]").click()
            for view in (projector, phone):
                expect(view.locator("body")).to_have_attribute(
                    "data-plan-version", str(start + step)
                )
        column = tablet.locator("[data-group='2']")
        first = column.locator("[data-project-id]").first.get_attribute("data-project-id")
        select_card(tablet, first).locator("[data-move-step='1']").click()
        for view in (projector, phone):
            expect(view.locator("body")).to_have_attribute(
                "data-plan-version", str(start + len(moves) + 1)
            )
            assert_not_reloaded(view)
        shown = {
            "projector": projector.evaluate(LIVE_SNAPSHOT),
            "phone": phone.evaluate(LIVE_SNAPSHOT),
        }
        projector.reload()
        phone.reload()
        assert projector.evaluate(LIVE_SNAPSHOT) == shown["projector"]
        assert phone.evaluate(LIVE_SNAPSHOT) == shown["phone"]
    finally:
        projector_context.close()
        phone_context.close()
        tablet_context.close()
