"""Two tablets and a projector on one plan, each in its own browser context: every board
follows the plan's live stream, moves are refused only on a real conflict, undo shows on every
tablet, an open panel keeps what is typed, and a running timer does not turn moves into whole
screens."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import select_card
from tests.test_board_browser import card, drag, page_column, server_columns, wait_version
from tests.test_projector_browser import assert_not_reloaded, projector_page

pytestmark = pytest.mark.browser


@pytest.fixture
def tablets(browser, live_server):
    """Open a facilitator's board in a browser context of its own: `tablets(stream=False)`
    keeps that board's live stream away (its events never arrive), so it stays at the version
    it was opened at, as a tablet whose events are still on their way."""
    contexts = []

    def open_tablet(stream: bool = True):
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="th-TH")
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        if not stream:
            page.route("**/board/events**", lambda route: route.abort())
        live_server.login(page)
        page.goto(live_server.url(f"/plans/{live_server.plan_id}/board"))
        page.wait_for_function(
            "window.Sortable && Sortable.get(document.getElementById('cards-1'))"
        )
        page.evaluate("window.__sameDocument = true")
        return page

    yield open_tablet
    for context in contexts:
        context.close()


def stream_open(page) -> None:
    """Wait for the board's event stream to be connected (before changes that it must bring)."""
    expect(page.locator("#board[data-live]")).to_have_count(1)


def move_to_group(page, project_id: int, group: str) -> None:
    target = select_card(page, project_id)
    target.locator("[data-move-select]").select_option(group)
    target.locator("[data-move-to-group]").click()


def test_a_move_on_one_tablet_shows_on_the_other_and_on_the_projector(
    browser, live_server, tablets, plan_state
):
    token = plan_state()
    projector_context, projector = projector_page(browser, live_server, token)
    try:
        first, second = tablets(), tablets()
        stream_open(second)
        unsorted = server_columns(live_server)["unsorted"]
        move_to_group(first, unsorted[0], "1")
        wait_version(first, 1)
        # The other tablet shows it, without a reload, and has caught up to the version.
        expect(second.locator(f"#cards-1 [data-project-id='{unsorted[0]}']")).to_be_visible()
        wait_version(second, 1)
        expect(second.locator("#column-head-1")).to_have_attribute("data-count", "1")
        expect(second.locator("#history li").first).to_contain_text("ไปกลุ่ม 1 ลำดับ 1")
        shown = projector.locator(f"[data-group='1'] [data-project-id='{unsorted[0]}']")
        expect(shown).to_be_visible()
        expect(projector.locator("body")).to_have_attribute("data-plan-version", "1")
        # A drag inside a column on the other tablet: the first one follows, in order.
        drag(second, card(second, unsorted[2]), card(second, unsorted[1]), "upper")
        wait_version(second, 2)
        wait_version(first, 2)
        expected = [unsorted[2], unsorted[1]] + unsorted[3:]
        assert page_column(first, "unsorted") == expected == server_columns(live_server)["unsorted"]
        for page in (first, second, projector):
            assert_not_reloaded(page)
    finally:
        projector_context.close()


def test_two_tablets_moving_cards_at_the_same_moment_both_succeed(live_server, tablets):
    """Both tablets move from the same version, neither having heard of the other's move (the
    second tablet's events are kept away): cards of different groups, then different cards of
    one group. Both moves are saved, and both boards end up showing both."""
    first, second = tablets(), tablets(stream=False)
    stream_open(first)
    unsorted = server_columns(live_server)["unsorted"]
    move_to_group(first, unsorted[0], "1")
    move_to_group(second, unsorted[1], "2")
    wait_version(first, 2)
    wait_version(second, 2)  # its answer brought the other's move with its own
    # Different cards of one group: the first tablet moves one down, the second (still at
    # version 2 for all it has heard) moves another one up.
    select_card(first, unsorted[2]).locator('[data-move-step="1"]').click()
    wait_version(first, 3)
    select_card(second, unsorted[6]).locator('[data-move-step="-1"]').click()
    wait_version(second, 4)
    wait_version(first, 4)
    columns = server_columns(live_server)
    assert columns["1"] == [unsorted[0]] and columns["2"] == [unsorted[1]]
    expected = [unsorted[3], unsorted[2], unsorted[4], unsorted[6], unsorted[5]]
    assert columns["unsorted"][:5] == expected
    for page in (first, second):
        for group in ("unsorted", "1", "2"):
            assert page_column(page, group) == columns[group], group
        expect(page.locator("#board-status[role=alert]")).to_have_count(0)


def test_moving_a_card_the_other_tablet_just_moved_is_refused_and_nothing_is_lost(
    live_server, tablets
):
    first, second = tablets(), tablets(stream=False)
    unsorted = server_columns(live_server)["unsorted"]
    move_to_group(first, unsorted[0], "1")
    wait_version(first, 1)
    # The second tablet still shows the card unsorted, and drags it into group 2: refused,
    # with the fresh columns (the card where the other tablet put it) and the reason.
    drag(second, card(second, unsorted[0]), second.locator("#cards-2"), "middle")
    expect(second.locator("#board-status[role=alert]")).to_contain_text("อุปกรณ์อื่น")
    wait_version(second, 1)
    expect(second.locator(f"#cards-1 [data-project-id='{unsorted[0]}']")).to_be_visible()
    assert page_column(second, "2") == []
    assert second.locator(f"[data-project-id='{unsorted[0]}']").count() == 1
    columns = server_columns(live_server)
    assert columns["1"] == [unsorted[0]] and "2" not in columns
    for group in ("unsorted", "1"):
        assert page_column(second, group) == columns[group]
    # On the fresh board the card moves again, and the first tablet follows.
    move_to_group(second, unsorted[0], "3")
    wait_version(second, 2)
    expect(first.locator(f"#cards-3 [data-project-id='{unsorted[0]}']")).to_be_visible()
    assert server_columns(live_server)["3"] == [unsorted[0]]


def test_an_undo_on_one_tablet_shows_on_the_other(live_server, tablets):
    first, second = tablets(), tablets()
    stream_open(second)
    unsorted = server_columns(live_server)["unsorted"]
    move_to_group(first, unsorted[4], "3")
    wait_version(second, 1)
    expect(second.locator(f"#cards-3 [data-project-id='{unsorted[4]}']")).to_be_visible()
    first.locator("[data-undo]").click()
    wait_version(first, 2)
    wait_version(second, 2)
    # Every tablet says what was undone, and shows the card back in its place.
    for page in (first, second):
        expect(page.locator("#board-status")).to_contain_text("ยกเลิกแล้ว")
        assert page_column(page, "unsorted") == unsorted
        assert page_column(page, "3") == []
        expect(page.locator("#history .is-undone")).to_have_count(1)
    assert server_columns(live_server)["unsorted"] == unsorted


def test_a_panel_open_on_one_tablet_keeps_its_typed_text_through_a_move_on_the_other(
    live_server, tablets
):
    first, second = tablets(), tablets()
    stream_open(second)
    unsorted = server_columns(live_server)["unsorted"]
    select_card(second, unsorted[1]).locator("[data-open-panel]").click()
    note = second.locator("#card-panel textarea[name=note]")
    note.click()
    note.type("ชาวบ้านสมทบแรงงาน")
    # The first tablet moves the card just above it, and another one across.
    select_card(first, unsorted[0]).locator("[data-move-step='1']").click()
    wait_version(first, 1)
    move_to_group(first, unsorted[2], "1")
    wait_version(second, 2)
    assert page_column(second, "unsorted")[:2] == [unsorted[1], unsorted[0]]
    # The panel is still open, the text still typed, the focus still in it.
    expect(second.locator("#card-panel [data-panel-project]")).to_have_attribute(
        "data-panel-project", str(unsorted[1])
    )
    expect(note).to_have_value("ชาวบ้านสมทบแรงงาน")
    expect(note).to_be_focused()
    note.type(" เพิ่ม")
    # Saving it is not refused: nobody changed this project meanwhile.
    second.locator("#card-panel").get_by_role("button", name="บันทึก").click()
    expect(second.locator("#card-panel")).to_be_empty()  # saved: the panel closed
    wait_version(second, 3)
    wait_version(first, 3)
    rows = live_server.query("SELECT note FROM projects WHERE id = :id", id=unsorted[1])
    assert rows[0][0] == "ชาวบ้านสมทบแรงงาน เพิ่ม"


RECORD_EVENTS = """() => { window.__events = [];
  document.addEventListener('htmx:sseBeforeMessage', e => window.__events.push(
    {type: e.detail.type, id: Number(e.detail.lastEventId), size: e.detail.data.length}));
  const timer = document.querySelector('[data-timer]');
  if (timer) timer.__kept = true; }"""


def running_timer(plan):
    """Step 1 with village 1's presentation countdown running, the projector on the board."""
    from datetime import timedelta

    from planapp.models import PresentationTimer, utcnow
    from tests.live_helpers import spread_demo

    spread_demo(plan)
    plan.meeting_step = 1
    plan.projector_mode = "board"
    from planapp.extensions import db

    db.session.add(
        PresentationTimer(
            plan_id=plan.id,
            village_id=plan.tambon.villages[0].id,
            length_seconds=600,
            ends_at=utcnow() + timedelta(seconds=600),
        )
    )


def test_a_running_timer_on_the_projector_still_lets_moves_go_as_deltas(
    browser, live_server, tablets, plan_state, record_property
):
    plan_state(running_timer)
    token = plan_state()
    projector_context, projector = projector_page(browser, live_server, token)
    try:
        expect(projector.locator("[data-timer]")).to_be_visible()
        projector.evaluate(RECORD_EVENTS)
        tablet = tablets()
        start = int(projector.locator("body").get_attribute("data-plan-version"))
        for step, group in enumerate(["1", "2", "3"], start=1):
            moved = tablet.locator("[data-group='unsorted'] [data-project-id]").first
            move_to_group(tablet, int(moved.get_attribute("data-project-id")), group)
            expect(projector.locator("body")).to_have_attribute(
                "data-plan-version", str(start + step)
            )
        events = projector.evaluate("window.__events")
        sizes = [event["size"] for event in events]
        record_property("delta_sizes", sizes)
        print(f"projector events with the timer running: {events}")
        assert [event["type"] for event in events] == ["delta"] * 3
        # The whole screen is some 20 KB: a move sends the card and its columns' heads.
        whole = len(projector.evaluate("document.getElementById('live').innerHTML"))
        assert max(sizes) < whole / 4, (sizes, whole)
        # The countdown was never sent again: the element counting down is the same one.
        assert projector.evaluate("document.querySelector('[data-timer]').__kept === true")
        assert_not_reloaded(projector)
    finally:
        projector_context.close()
