"""Running the meeting in a real browser: the facilitator's tablet and the hall's projector in
separate browser contexts (separate sessions, as two devices)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from planapp.meeting import rules
from tests.browser import assert_accessible, select_card

pytestmark = pytest.mark.browser


def test_meeting_pages_are_accessible(live_server, page):
    live_server.login(page, "facilitator")
    plan = live_server.plan_id
    for path in ("meeting", "votes", "shares", "minutes", "meeting/record", "guide"):
        page.goto(live_server.url(f"/plans/{plan}/{path}"))
        expect(page.locator("h1")).to_be_visible()
        assert_accessible(page)


def test_votes_typed_and_tapped_then_order_by_votes_keeps_ties(live_server, page, projector):
    # Five projects already in group 2 (set behind the server's back; the first vote announces).
    ids = [str(pid) for pid, _b in server_columns(live_server)["unsorted"][:5]]
    for rank, pid in enumerate(ids, 1):
        live_server.execute(
            "UPDATE board_places SET funding_group = '2', rank = :rank WHERE project_id = :id",
            rank=rank,
            id=int(pid),
        )
    live_server.login(page, "facilitator")
    page.goto(live_server.url(f"/plans/{live_server.plan_id}/votes"))
    column = page.locator('[data-group="2"]')
    # Votes for the first five cards: typed (moving on with Tab) and with the big buttons.
    typed = {ids[0]: "3", ids[1]: "7", ids[2]: "3", ids[4]: "7"}
    for pid, votes in typed.items():
        box = page.locator(f"#votes-input-{pid}")
        box.fill(votes)
        box.press("Tab")
        expect(page.locator(f"#votes-{pid}")).to_have_attribute("data-votes", votes)
    plus = page.locator(f"#votes-{ids[3]} [data-vote-plus]")
    for expected in ("1", "2"):
        plus.click()
        expect(page.locator(f"#votes-{ids[3]}")).to_have_attribute("data-votes", expected)
    page.locator(f"#votes-{ids[3]} [data-vote-minus]").click()
    expect(page.locator(f"#votes-{ids[3]}")).to_have_attribute("data-votes", "1")

    page.locator('[data-order-by-votes="2"]').click()
    # 7 and 7 keep their order (ids[1] before ids[4]), then 3 and 3 (ids[0] before ids[2]),
    # then 1.
    expected_head = [ids[1], ids[4], ids[0], ids[2], ids[3]]
    expect(column.locator("[data-project-id]").first).to_have_attribute(
        "data-project-id", expected_head[0]
    )
    order = column.locator("[data-project-id]").evaluate_all(
        "els => els.map(e => e.getAttribute('data-project-id'))"
    )
    assert order[:5] == expected_head
    # The projector's cards show the votes, in the new order.
    for pid, votes in ((ids[1], "7"), (ids[3], "1")):
        expect(projector.locator(f'[data-project-id="{pid}"]')).to_have_attribute(
            "data-votes", votes
        )
    expect(projector.locator('[data-group="2"] [data-project-id]').first).to_have_attribute(
        "data-project-id", ids[1]
    )
    # Bad input: refused next to the field, the count unchanged.
    box = page.locator(f"#votes-input-{ids[0]}")
    box.fill("สาม")
    box.press("Enter")
    expect(page.locator(f"#votes-{ids[0]} .field-errors")).to_be_visible()
    expect(page.locator(f"#votes-{ids[0]}")).to_have_attribute("data-votes", "3")


def test_timer_counts_down_on_the_tablet(live_server, page):
    live_server.login(page, "facilitator")
    page.goto(live_server.url(f"/plans/{live_server.plan_id}/meeting"))
    page.select_option("#timer-village", index=2)
    page.select_option("#timer-minutes", "3")
    page.get_by_role("button", name="เริ่มจับเวลา").click()
    timer = page.locator("#timer-control [data-timer]")
    expect(timer).to_have_attribute("data-running", "true")
    expect(timer).to_have_text(re.compile(r"^2:5\d$"))
    page.get_by_role("button", name="หยุดชั่วคราว").click()
    expect(timer).to_have_attribute("data-running", "false")
    paused = timer.get_attribute("data-remaining")
    page.get_by_role("button", name="+1 นาที").click()
    expect(timer).to_have_attribute("data-remaining", str(int(paused) + 60))


# --- on the forum board -------------------------------------------------------------------


def server_columns(live_server) -> dict[str, list[tuple[int, int]]]:
    """(project id, budget in satang) per group in rank order, as the server stored them."""
    rows = live_server.query(
        "SELECT funding_group, id, budget_satang FROM projects JOIN board_places "
        "ON project_id = id WHERE projects.plan_id = :plan AND merged_into_id IS NULL "
        "ORDER BY funding_group, rank",
        plan=live_server.plan_id,
    )
    columns: dict[str, list[tuple[int, int]]] = {}
    for group, pid, budget in rows:
        columns.setdefault(group, []).append((pid, budget))
    return columns


def column_tokens(page, group: str) -> list[str]:
    """A column's cards and cut line in page order: project ids, and "CUT" for the line."""
    return page.locator(
        f'[data-group="{group}"] [data-project-id], [data-group="{group}"] [data-cut-line]'
    ).evaluate_all(
        "els => els.map(e => e.hasAttribute('data-cut-line') ? 'CUT' : e.dataset.projectId)"
    )


def expected_tokens(cards: list[tuple[int, int]], ceiling: int) -> list[str]:
    line = rules.budget_line([budget for _pid, budget in cards], ceiling)
    tokens = [str(pid) for pid, _budget in cards]
    if line.cut_at is not None:
        tokens.insert(line.cut_at, "CUT")
    return tokens


def open_board(live_server, page) -> None:
    page.goto(live_server.url(f"/plans/{live_server.plan_id}/board"))
    expect(page.locator("#board")).to_be_visible()


def move_to_group(page, project_id: int, group: str) -> None:
    card = select_card(page, project_id)
    card.locator("[data-move-select]").select_option(group)
    card.locator("[data-move-to-group]").click()


def version(page) -> int:
    return int(page.locator("#plan-version").input_value())


def set_ceiling(live_server, page, group: str, baht: str) -> None:
    page.goto(live_server.url(f"/plans/{live_server.plan_id}/meeting"))
    page.fill(f"#ceiling-{group}", baht)
    page.locator(f"#group-control-{group}").get_by_role("button", name="บันทึกเพดาน").click()
    expect(page.locator(f"#group-control-{group} [data-budget-ceiling]")).to_be_visible()


def test_the_cut_line_falls_between_the_right_cards_as_cards_cross_it(live_server, page, projector):
    live_server.login(page, "facilitator")
    unsorted = server_columns(live_server)["unsorted"]
    chosen = unsorted[:4]
    # The ceiling holds exactly the first two cards: the line falls above the third.
    ceiling = chosen[0][1] + chosen[1][1]
    set_ceiling(live_server, page, "3", f"{ceiling // 100:,}")
    open_board(live_server, page)
    for pid, _budget in chosen:
        seen = version(page)
        move_to_group(page, pid, "3")
        expect(page.locator("#plan-version")).to_have_value(str(seen + 1))
    column = server_columns(live_server)["3"]
    assert [pid for pid, _b in column] == [pid for pid, _b in chosen]
    expect(page.locator('[data-group="3"] [data-cut-line]')).to_have_count(1)
    assert column_tokens(page, "3") == expected_tokens(column, ceiling)
    assert column_tokens(page, "3")[2] == "CUT"
    expect(page.locator('[data-group="3"] .budget-summary')).to_contain_text("เกินเพดาน")

    # The fourth card moves up across the line (to the top): the line moves with the order.
    mover = chosen[3][0]
    for _ in range(3):
        seen = version(page)
        select_card(page, mover).locator('[data-move-step="-1"]').click()
        expect(page.locator("#plan-version")).to_have_value(str(seen + 1))
        column = server_columns(live_server)["3"]
        assert column_tokens(page, "3") == expected_tokens(column, ceiling)
        # The projector draws the same line between the same cards, live.
        expect(projector.locator("body")).to_have_attribute("data-plan-version", str(seen + 1))
        assert column_tokens(projector, "3") == expected_tokens(column, ceiling)
    assert column[0][0] == mover
    # A card leaves the group from above the line: everything may now fit, or the line moves.
    seen = version(page)
    move_to_group(page, mover, "unsorted")
    expect(page.locator("#plan-version")).to_have_value(str(seen + 1))
    column = server_columns(live_server)["3"]
    assert column_tokens(page, "3") == expected_tokens(column, ceiling)
    # A reload renders the same line as the moves put it.
    page.reload()
    assert column_tokens(page, "3") == expected_tokens(column, ceiling)


def refused_move(page, project_id: int, group: str) -> None:
    """Make a move the server refuses because of a lock; wait for its answer (423)."""
    with page.expect_response(lambda r: r.url.endswith("/moves")) as answer:
        move_to_group(page, project_id, group)
    assert answer.value.status == 423
    answer.value.finished()


def test_a_move_into_a_confirmed_group_is_refused_until_it_is_unlocked(
    live_server, page, projector
):
    live_server.login(page, "facilitator")
    unsorted = [pid for pid, _b in server_columns(live_server)["unsorted"]]
    open_board(live_server, page)
    move_to_group(page, unsorted[0], "3")
    expect(page.locator(f'[data-group="3"] #card-{unsorted[0]}')).to_be_visible()
    page.locator('[data-confirm-group="3"]').click()
    expect(page.locator('[data-group="3"][data-confirmed]')).to_be_visible()
    expect(page.locator("#board-status")).to_contain_text("ยืนยันลำดับกลุ่ม 3")
    before = server_columns(live_server)
    seen = version(page)
    expect(projector.locator('[data-group="3"][data-confirmed]')).to_be_visible()
    expect(projector.locator("body")).to_have_attribute("data-plan-version", str(seen))
    on_projector = column_tokens(projector, "3")

    # Into the locked group: refused, said so on the tablet, nothing changed on the server.
    refused_move(page, unsorted[1], "3")
    alert = page.locator("#board-status[role=alert]")
    expect(alert).to_contain_text("กลุ่ม 3 ยืนยันลำดับแล้วและถูกล็อกไว้")
    expect(page.locator(f'[data-group="unsorted"] #card-{unsorted[1]}')).to_be_visible()
    assert server_columns(live_server) == before
    assert version(page) == seen
    # Out of it: refused too.
    refused_move(page, unsorted[0], "2")
    expect(page.locator(f'[data-group="3"] #card-{unsorted[0]}')).to_be_visible()
    assert server_columns(live_server) == before

    # Nothing changed on the projector either.
    expect(projector.locator("body")).to_have_attribute("data-plan-version", str(seen))
    assert column_tokens(projector, "3") == on_projector
    expect(projector.locator('[data-group="3"][data-confirmed]')).to_be_visible()

    # Unlock: the same move now goes through.
    page.locator('[data-unlock-group="3"]').click()
    expect(page.locator('[data-group="3"][data-confirmed]')).to_have_count(0)
    seen = version(page)
    move_to_group(page, unsorted[1], "3")
    expect(page.locator("#plan-version")).to_have_value(str(seen + 1))
    assert [pid for pid, _b in server_columns(live_server)["3"]] == [unsorted[0], unsorted[1]]
    expect(projector.locator(f'[data-group="3"] [data-project-id="{unsorted[1]}"]')).to_be_visible()
    expect(projector.locator('[data-group="3"][data-confirmed]')).to_have_count(0)
    assert_accessible(page)


# --- the facilitator guide's pictures -----------------------------------------------------

GUIDE_DIR = Path(__file__).resolve().parent.parent / "planapp" / "static" / "guide"


def shoot(page, name: str) -> None:
    """Save a screen for the guide (planapp/static/guide): the guide never falls behind."""
    page.evaluate("document.fonts.ready")
    page.screenshot(path=str(GUIDE_DIR / f"{name}.jpg"), type="jpeg", quality=70)


def test_guide_pictures_are_taken_from_the_real_screens(live_server, page, projector):
    GUIDE_DIR.mkdir(parents=True, exist_ok=True)
    live_server.login(page, "facilitator")
    plan = live_server.plan_id
    page.goto(live_server.url(f"/plans/{plan}/meeting/record"))
    page.locator("input[name^=people_]").first.fill("42")
    page.get_by_role("button", name="บันทึกข้อมูลเวที").click()
    expect(page.locator(".flash-success")).to_be_visible()
    shoot(page, "record")

    unsorted = server_columns(live_server)["unsorted"]
    ceiling = unsorted[0][1] + unsorted[1][1]
    set_ceiling(live_server, page, "3", f"{ceiling // 100:,}")
    page.select_option("#timer-village", index=1)
    page.get_by_role("button", name="เริ่มจับเวลา").click()
    expect(page.locator("#timer-control [data-timer]")).to_be_visible()
    shoot(page, "panel")
    expect(projector.locator(".projector-timer [data-timer]")).to_be_visible()
    shoot(projector, "projector-timer")
    page.get_by_role("button", name="หน้าจอพัก").click()
    expect(page.locator("[data-pause-toggle]")).to_have_attribute("aria-pressed", "true")
    page.fill("#screen-message", "พัก 15 นาที")
    page.get_by_role("button", name="แสดงข้อความ").click()
    expect(projector.locator("[data-pause-screen]")).to_be_visible()
    expect(projector.locator("[data-screen-message]")).to_be_visible()
    shoot(projector, "projector-pause")
    page.get_by_role("button", name="กลับสู่หน้าจอเวที").click()
    page.get_by_role("button", name="ลบข้อความ").click()
    expect(projector.locator("[data-screen-message]")).to_have_count(0)

    open_board(live_server, page)
    for pid, _budget in unsorted[:4]:
        seen = version(page)
        move_to_group(page, pid, "3")
        expect(page.locator("#plan-version")).to_have_value(str(seen + 1))
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.set_viewport_size({"width": 1280, "height": 1200})  # the whole of group 3 in view
    expect(page.locator('[data-group="3"] [data-cut-line]')).to_be_in_viewport()
    shoot(page, "board-cut-line")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.goto(live_server.url(f"/plans/{plan}/votes"))
    for pid, _budget in unsorted[:3]:
        page.locator(f"#votes-{pid} [data-vote-plus]").click()
        expect(page.locator(f"#votes-{pid}")).to_have_attribute("data-votes", "1")
    shoot(page, "votes")

    page.goto(live_server.url(f"/plans/{plan}/shares"))
    shoot(page, "shares")

    page.goto(live_server.url(f"/plans/{plan}/guide"))
    images = page.locator(".guide img")
    for index in range(images.count()):
        src = images.nth(index).get_attribute("src")
        assert (GUIDE_DIR / Path(src).name).exists(), src
    assert_accessible(page)


# --- the projector, in its own browser context --------------------------------------------


@pytest.fixture
def projector(browser, live_server):
    """The hall's projector: a second browser (no sign-in) on the public live view."""
    token = live_server.query("SELECT public_token FROM plans WHERE id = :p", p=live_server.plan_id)
    context = browser.new_context(viewport={"width": 1280, "height": 720}, locale="th-TH")
    context.set_default_timeout(10_000)
    screen = context.new_page()
    screen.goto(live_server.url(f"/live/{token[0][0]}"))
    expect(screen.locator("#live [data-plan-version]")).to_be_visible()
    yield screen
    context.close()


def open_panel(live_server, page) -> None:
    live_server.login(page, "facilitator")
    page.goto(live_server.url(f"/plans/{live_server.plan_id}/meeting"))
    expect(page.locator("#step-bar")).to_be_visible()


def test_the_timer_runs_on_the_projector_amber_then_red(live_server, page, projector):
    open_panel(live_server, page)
    page.locator('[data-step-button="1"]').click()  # the projector follows step 1
    expect(projector.locator("[data-mode]")).to_have_attribute("data-mode", "village")
    page.select_option("#timer-village", index=2)
    village = page.locator("#timer-village option").nth(2).inner_text()
    page.select_option("#timer-minutes", "3")
    page.get_by_role("button", name="เริ่มจับเวลา").click()

    timer = projector.locator("[data-timer]")
    expect(timer).to_have_attribute("data-running", "true")
    expect(timer).to_have_text(re.compile(r"^(3:00|2:5\d)$"))
    expect(timer).to_have_class(re.compile(r"countdown-normal"))
    expect(projector.locator(".projector-timer")).to_contain_text(village)
    expect(projector.locator("#screen-title")).to_contain_text(village.split()[-1])
    first = int(timer.get_attribute("data-remaining"))
    projector.wait_for_function(
        "first => Number(document.querySelector('[data-timer]').dataset.remaining) < first",
        arg=first,
    )

    # The last seconds: pause, leave 3 seconds (set behind the server's back), resume.
    page.get_by_role("button", name="หยุดชั่วคราว").click()
    expect(timer).to_have_attribute("data-running", "false")
    live_server.execute(
        "UPDATE presentation_timers SET remaining_seconds = 3 WHERE plan_id = :p",
        p=live_server.plan_id,
    )
    page.get_by_role("button", name="เดินเวลาต่อ").click()
    expect(timer).to_have_attribute("data-running", "true")
    expect(timer).to_have_class(re.compile(r"countdown-warning"))  # amber in the last minute
    expect(timer).to_have_class(re.compile(r"countdown-over"), timeout=8_000)  # red at zero
    expect(timer).to_have_text("0:00")
    assert_accessible(projector)


def test_switching_screens_never_leaves_the_projector_blank(live_server, page, projector):
    open_panel(live_server, page)
    projector.evaluate(
        """() => {
        window.blankMoments = [];
        window.framesSeen = 0;
        const live = document.getElementById('live');
        const blank = () => {
          const screen = live.querySelector('[data-mode]');
          return !screen || screen.textContent.trim() === '';
        };
        new MutationObserver(() => { if (blank()) window.blankMoments.push(performance.now()); })
          .observe(live, {childList: true, subtree: true, characterData: true});
        const frame = () => {
          window.framesSeen += 1;
          if (blank()) window.blankMoments.push(performance.now());
          requestAnimationFrame(frame);
        };
        requestAnimationFrame(frame);
    }"""
    )
    for step, mode in (("2", "overview"), ("3", "board"), ("5", "urgency"), ("6", "summary"),
                       ("1", "village"), ("4", "board")):  # fmt: skip
        page.locator(f'[data-step-button="{step}"]').click()
        expect(page.locator(f'[data-step-button="{step}"]')).to_have_attribute(
            "aria-current", "step"
        )
        expect(projector.locator("[data-mode]")).to_have_attribute("data-mode", mode)
    page.get_by_role("button", name="หน้าจอพัก").click()
    expect(projector.locator("[data-pause-screen]")).to_be_visible()
    page.get_by_role("button", name="กลับสู่หน้าจอเวที").click()
    expect(projector.locator("[data-mode]")).to_have_attribute("data-mode", "board")
    assert projector.evaluate("window.framesSeen") > 10
    assert projector.evaluate("window.blankMoments") == []


def test_not_live_badge_after_the_stream_is_cut_and_gone_when_caught_up(
    live_server, page, projector
):
    open_panel(live_server, page)
    projector.evaluate(
        """() => {
        window.badgeShownAt = null;
        const badge = document.querySelector('[data-offline-badge]');
        new MutationObserver(() => {
          if (!badge.hidden && window.badgeShownAt === null) window.badgeShownAt = Date.now();
        }).observe(badge, {attributes: true});
    }"""
    )
    badge = projector.locator("[data-offline-badge]")
    # Cut the projector's event stream: the server goes away, and its reconnects fail.
    projector.route("**/events**", lambda route: route.abort())
    live_server.restart()
    expect(badge).to_be_visible(timeout=15_000)
    since = badge.get_attribute("data-offline-since")
    waited = projector.evaluate("since => window.badgeShownAt - Date.parse(since)", since)
    assert waited >= 4_900, f"the badge came after {waited} ms, not after 5 s"
    expect(badge.locator("[data-offline-time]")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    projector.wait_for_timeout(1_000)  # six seconds cut off in all
    # Meanwhile the tablet moves the forum on.
    page.reload()
    page.locator('[data-step-button="2"]').click()
    expect(page.locator('[data-step-button="2"]')).to_have_attribute("aria-current", "step")
    assert badge.is_visible()
    # Back on the network: it catches up by itself and the badge goes.
    projector.unroute("**/events**")
    expect(projector.locator("[data-mode]")).to_have_attribute(
        "data-mode", "overview", timeout=30_000
    )
    expect(badge).to_be_hidden()
    expect(projector.locator("[data-offline-since]")).to_have_count(0)


def test_pause_screen_and_message_overlay_each_undone_with_one_tap(live_server, page, projector):
    open_panel(live_server, page)
    page.get_by_role("button", name="หน้าจอพัก").click()
    pause = projector.locator("[data-pause-screen]")
    expect(pause).to_be_visible()
    expect(pause).to_contain_text("หนองบัวทอง")
    expect(pause.locator("[data-clock]")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    page.fill("#screen-message", "พัก 15 นาที")
    page.get_by_role("button", name="แสดงข้อความ").click()
    message = projector.locator("[data-screen-message]")
    expect(message).to_have_text("พัก 15 นาที")
    assert_accessible(projector)
    page.get_by_role("button", name="กลับสู่หน้าจอเวที").click()
    expect(pause).to_have_count(0)
    expect(projector.locator("[data-mode]")).to_have_attribute("data-mode", "board")
    expect(message).to_be_visible()  # the message stays over the forum screen
    page.get_by_role("button", name="ลบข้อความ").click()
    expect(message).to_have_count(0)


def test_a_group_over_its_ceiling_is_confirmed_only_with_the_override(live_server, page):
    """Confirm on a group over its ceiling: refused next to the control until "confirm over the
    ceiling" is ticked; then it locks (issue 16, item 9)."""
    live_server.login(page, "facilitator")
    unsorted = server_columns(live_server)["unsorted"]
    (first, budget), (second, more) = unsorted[:2]
    over = budget + more - (budget + more) // 2  # a ceiling of half the two cards' total
    set_ceiling(live_server, page, "3", f"{(budget + more - over) // 100:,}")
    open_board(live_server, page)
    for pid in (first, second):
        seen = version(page)
        move_to_group(page, pid, "3")
        expect(page.locator("#plan-version")).to_have_value(str(seen + 1))

    # The meeting panel: the box says by how much; without it the confirm is refused there.
    page.goto(live_server.url(f"/plans/{live_server.plan_id}/meeting"))
    control = page.locator("#group-control-3")
    box = control.locator('[data-over-ceiling="3"]')
    expect(box).to_contain_text(f"เกิน {over // 100:,} บาท")
    control.locator('[data-confirm-group="3"]').click()
    expect(control.locator("[role=alert]")).to_contain_text("ยืนยันทั้งที่เกินเพดาน")
    expect(page.locator("#group-control-3[data-confirmed]")).to_have_count(0)
    assert live_server.query(
        "SELECT confirmed_at FROM plan_groups WHERE plan_id = :p AND funding_group = '3'",
        p=live_server.plan_id,
    ) == [(None,)]

    # On the board: refused without the tick, confirmed with it.
    open_board(live_server, page)
    seen = version(page)
    head = page.locator("#column-head-3")
    with page.expect_response(lambda r: r.url.endswith("/groups/3/confirm")) as answer:
        head.locator('[data-confirm-group="3"]').click()
    assert answer.value.status == 422
    expect(page.locator("#board-status")).to_contain_text(f"{over // 100:,} บาท")
    assert version(page) == seen
    expect(page.locator('[data-group="3"][data-confirmed]')).to_have_count(0)
    head.locator('[data-over-ceiling="3"] input').check()
    head.locator('[data-confirm-group="3"]').click()
    expect(page.locator('[data-group="3"][data-confirmed]')).to_be_visible()
    expect(page.locator("#history")).to_contain_text(f"เกินเพดานงบประมาณ {over // 100:,} บาท")
    assert_accessible(page)
