"""The forum board in Chromium: drags with touch emulation and with the mouse, the keyboard
move controls, undo three times, and axe-core on both pages (two tablets at once:
test_live_board_browser.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import assert_accessible, select_card

pytestmark = pytest.mark.browser


def server_columns(live_server) -> dict[str, list[int]]:
    """The board as the server stored it: project ids per group in rank order."""
    rows = live_server.query(
        "SELECT funding_group, id, rank FROM projects JOIN board_places ON project_id = id "
        "WHERE projects.plan_id = :plan AND merged_into_id IS NULL ORDER BY funding_group, rank",
        plan=live_server.plan_id,
    )
    columns: dict[str, list[int]] = {}
    for group, pid, rank in rows:
        columns.setdefault(group, []).append(pid)
        assert rank == len(columns[group]), f"ranks of {group} are not 1..n"
    return columns


def page_column(page, group: str) -> list[int]:
    ids = page.locator(f'[data-group="{group}"] [data-project-id]').evaluate_all(
        "cards => cards.map(card => Number(card.dataset.projectId))"
    )
    return ids


def card(page, project_id: int):
    return page.locator(f'[data-project-id="{project_id}"]')


# Where SortableJS has put the dragged card (it moves the card itself, a copy follows the
# pointer): inside the target list, or right above / below the target card.
DROP_SHOWN = """([item, goal, where]) => {
  const isCard = el => el.classList.contains("card") && !el.classList.contains("sortable-fallback");
  const step = (el, forward) => {
    const sibling = e => (forward ? e.nextElementSibling : e.previousElementSibling);
    let next = sibling(el);
    while (next && !isCard(next)) { next = sibling(next); }
    return next;
  };
  if (!isCard(goal)) { return goal.contains(item); }
  return step(item, where === "upper") === goal;
}"""


def drag(page, source, target, where: str = "upper") -> None:
    """Drive the mouse as a finger would (SortableJS fallback mode): press, move in small steps,
    rest over the target until the board shows the card there, release."""
    # No scrolling: the cards used are near the top, both ends must show on screen.
    page.evaluate("window.scrollTo(0, 0)")
    item, goal = source.element_handle(), target.element_handle()
    start = source.bounding_box()
    assert source.evaluate(
        "(el, [x, y]) => el.contains(document.elementFromPoint(x, y))",
        [start["x"] + start["width"] / 2, start["y"] + 12],
    ), "the card to drag is hidden"
    x0, y0 = start["x"] + start["width"] / 2, start["y"] + 12
    page.mouse.move(x0, y0)
    page.mouse.down()
    for step in range(1, 4):
        page.mouse.move(x0 + step * 3, y0 + step * 3)
    end = target.bounding_box()
    # Aim inside the part of the target that is on screen (a long empty column reaches far).
    top = max(end["y"], 0)
    bottom = min(end["y"] + end["height"], page.viewport_size["height"])
    assert bottom - top > 20, "the target is off screen"
    fraction = {"upper": 0.2, "lower": 0.8, "middle": 0.5}[where]
    x1, y1 = end["x"] + end["width"] / 2, top + (bottom - top) * fraction
    # The point must really show the target (not a column head over a scrolled list).
    assert target.evaluate(
        "(el, [x, y]) => el.contains(document.elementFromPoint(x, y))", [x1, y1]
    ), "the drop point does not show the target"
    steps = 20
    for step in range(1, steps + 1):
        page.mouse.move(x0 + (x1 - x0) * step / steps, y0 + (y1 - y0) * step / steps)
    # SortableJS places the card from the last pointer position on a 50 ms timer; on a busy
    # machine the release could come first and drop the card where it last was.
    page.wait_for_function(DROP_SHOWN, arg=[item, goal, where])
    page.mouse.up()


def open_board(live_server, page, role: str = "facilitator") -> None:
    live_server.login(page, role)
    page.goto(live_server.url(f"/plans/{live_server.plan_id}/board"))
    expect(page.locator("#board")).to_be_visible()
    page.wait_for_function("window.Sortable && Sortable.get(document.getElementById('cards-1'))")


def wait_version(page, version: int) -> None:
    # The board takes the new version when htmx settles, after the answer is swapped in and
    # focus is given back: waiting for it leaves no late focus change to race the next step.
    expect(page.locator("#plan-version")).to_have_value(str(version))
    expect(page.locator("#board")).to_have_attribute("data-plan-version", str(version))


def test_touch_drag_across_columns_and_inside_a_column(live_server, touch_page):
    page = touch_page
    open_board(live_server, page)
    unsorted = server_columns(live_server)["unsorted"]
    # Across: the second unsorted card into the empty group 1.
    drag(page, card(page, unsorted[1]), page.locator("#cards-1"), "middle")
    wait_version(page, 1)
    assert server_columns(live_server).get("1") == [unsorted[1]]
    assert page_column(page, "1") == [unsorted[1]]
    expect(page.locator("#column-head-1")).to_have_attribute("data-count", "1")
    # Inside: the (now) second unsorted card above the first.
    drag(page, card(page, unsorted[2]), card(page, unsorted[0]), "upper")
    wait_version(page, 2)
    expected = [unsorted[2], unsorted[0]] + unsorted[3:]
    assert server_columns(live_server)["unsorted"] == expected
    assert page_column(page, "unsorted") == expected
    # Across, above a card already there.
    drag(page, card(page, unsorted[0]), card(page, unsorted[1]), "upper")
    wait_version(page, 3)
    assert server_columns(live_server)["1"] == [unsorted[0], unsorted[1]]
    assert page_column(page, "1") == [unsorted[0], unsorted[1]]


def test_mouse_drag_across_columns_and_inside_a_column(live_server, page):
    open_board(live_server, page)
    unsorted = server_columns(live_server)["unsorted"]
    drag(page, card(page, unsorted[0]), page.locator("#cards-3"), "middle")
    wait_version(page, 1)
    drag(page, card(page, unsorted[1]), page.locator("#cards-3"), "lower")
    wait_version(page, 2)
    assert server_columns(live_server)["3"] == [unsorted[0], unsorted[1]]
    drag(page, card(page, unsorted[1]), card(page, unsorted[0]), "upper")
    wait_version(page, 3)
    assert server_columns(live_server)["3"] == [unsorted[1], unsorted[0]]
    assert page_column(page, "3") == [unsorted[1], unsorted[0]]
    # Into the not-feasible column: the card now says so and asks for the reason.
    drag(page, card(page, unsorted[0]), page.locator("#cards-not-feasible"), "middle")
    wait_version(page, 4)
    expect(card(page, unsorted[0]).locator(".tag-warn")).to_have_text("ต้องระบุเหตุผล")
    expect(page.locator("#history li").first).to_contain_text("ไปไม่สามารถดำเนินการได้ ลำดับ 1")


def test_keyboard_moves_without_dragging(live_server, page):
    open_board(live_server, page)
    unsorted = server_columns(live_server)["unsorted"]
    # The controls show on the selected card: Enter on its title selects it.
    controls = card(page, unsorted[0]).locator(".card-controls")
    expect(controls).to_be_hidden()
    card(page, unsorted[0]).locator(".card-open").focus()
    page.keyboard.press("Enter")
    expect(controls).to_be_visible()
    expect(card(page, unsorted[0]).locator(".card-open")).to_have_attribute("aria-expanded", "true")
    down = card(page, unsorted[0]).locator('[data-move-step="1"]')
    down.focus()
    page.keyboard.press("Enter")
    wait_version(page, 1)
    assert server_columns(live_server)["unsorted"][:3] == [unsorted[1], unsorted[0], unsorted[2]]
    # Focus stays on the same control of the moved card: press again.
    expect(card(page, unsorted[0]).locator('[data-move-step="1"]')).to_be_focused()
    page.keyboard.press("Enter")
    wait_version(page, 2)
    up = card(page, unsorted[0]).locator('[data-move-step="-1"]')
    up.focus()
    page.keyboard.press("Space")
    wait_version(page, 3)
    assert server_columns(live_server)["unsorted"][:3] == [unsorted[1], unsorted[0], unsorted[2]]
    # Move to a group: choose it in the select by keyboard, then the button.
    card(page, unsorted[2]).locator(".card-open").focus()
    page.keyboard.press("Enter")
    expect(card(page, unsorted[0]).locator(".card-controls")).to_be_hidden()  # one at a time
    select = card(page, unsorted[2]).locator("[data-move-select]")
    select.focus()
    select.select_option("2")
    page.keyboard.press("Tab")
    expect(card(page, unsorted[2]).locator("[data-move-to-group]")).to_be_focused()
    page.keyboard.press("Enter")
    wait_version(page, 4)
    assert server_columns(live_server)["2"] == [unsorted[2]]
    assert page_column(page, "2") == [unsorted[2]]
    # The top card cannot go higher: nothing is sent, the board says why.
    first = page_column(page, "unsorted")[0]
    select_card(page, first).locator('[data-move-step="-1"]').click()
    expect(page.locator("#board-status")).to_contain_text("อยู่ลำดับแรกของกลุ่มแล้ว")
    assert page.locator("#plan-version").input_value() == "4"


def test_undo_three_changes_in_a_row(live_server, page):
    open_board(live_server, page)
    original = server_columns(live_server)
    unsorted = original["unsorted"]
    drag(page, card(page, unsorted[0]), page.locator("#cards-1"), "middle")
    wait_version(page, 1)
    select_card(page, unsorted[1]).locator("[data-move-select]").select_option("3")
    card(page, unsorted[1]).locator("[data-move-to-group]").click()
    wait_version(page, 2)
    select_card(page, unsorted[3]).locator('[data-move-step="-1"]').click()
    wait_version(page, 3)
    undo = page.locator("[data-undo]")
    for version in (4, 5, 6):
        undo.click()
        wait_version(page, version)
    expect(page.locator("#board-status")).to_contain_text("ยกเลิกแล้ว")
    assert server_columns(live_server) == original
    assert page_column(page, "unsorted") == unsorted
    assert page.locator("#history .is-undone").count() == 3
    # Dragging still works on the board that undo swapped in.
    drag(page, card(page, unsorted[1]), page.locator("#cards-2"), "middle")
    wait_version(page, 7)
    assert server_columns(live_server)["2"] == [unsorted[1]]


def test_filtered_board_still_drops_next_to_the_right_neighbour(live_server, page):
    open_board(live_server, page)
    page.locator("[data-toggle=board-filters]").click()
    page.select_option("#filter-sector", "health")
    expect(page.locator("#board[data-filtered]")).to_be_attached()
    in_order = page.locator('[data-group="unsorted"] .card').evaluate_all(
        "cards => cards.map(c => [Number(c.dataset.projectId), c.matches('.is-filtered-out')])"
    )
    shown = [pid for pid, hidden in in_order if not hidden]
    everyone = [pid for pid, _hidden in in_order]
    assert everyone == server_columns(live_server)["unsorted"]  # hidden cards stay in place
    # Hidden cards sit before and between the shown ones: a drop must still land exactly where
    # the facilitator sees it.
    assert everyone.index(shown[0]) > 0
    assert everyone.index(shown[2]) - everyone.index(shown[1]) > 1
    drag(page, card(page, shown[1]), card(page, shown[0]), "upper")
    wait_version(page, 1)
    after = server_columns(live_server)["unsorted"]
    assert after.index(shown[1]) == after.index(shown[0]) - 1
    assert sorted(after) == sorted(everyone)
    # The down button skips hidden cards: one press passes the next shown card.
    select_card(page, shown[0]).locator('[data-move-step="1"]').click()
    wait_version(page, 2)
    after = server_columns(live_server)["unsorted"]
    assert after.index(shown[0]) == after.index(shown[2]) + 1


def test_panel_edits_a_project_and_closes_after_saving(live_server, page):
    open_board(live_server, page)
    project = server_columns(live_server)["unsorted"][0]
    select_card(page, project).locator("[data-open-panel]").click()
    panel = page.locator("#card-panel")
    expect(panel.locator("[data-panel-heading]")).to_be_focused()
    panel.get_by_label("ไม่สามารถดำเนินการได้", exact=True).check()
    panel.get_by_role("button", name="บันทึก").click()
    expect(panel.locator(".field-errors")).to_contain_text("กรุณาระบุเหตุผล")
    panel.get_by_label("เหตุผลที่ไม่สามารถดำเนินการได้").fill("อยู่ในเขตป่าสงวน")
    panel.get_by_label("หรือพิมพ์ชื่อหน่วยงานเจ้าภาพใหม่").fill("สำนักงานทรัพยากรธรรมชาติจังหวัด")
    panel.get_by_role("button", name="บันทึก").click()
    wait_version(page, 1)
    # Saved: the panel closes (it covered the columns), the status line says what was saved,
    # and the focus is back on the card, in its new column.
    expect(panel).to_be_empty()
    expect(page.locator("#board-status")).not_to_be_empty()
    expect(card(page, project).locator("[data-open-panel]")).to_be_focused()
    assert page_column(page, "not-feasible") == [project]
    expect(card(page, project)).to_contain_text("สำนักงานทรัพยากรธรรมชาติจังหวัด")


def test_board_and_urgency_pages_are_accessible(live_server, page):
    open_board(live_server, page)
    unsorted = server_columns(live_server)["unsorted"]
    select_card(page, unsorted[0]).locator("[data-open-panel]").click()
    expect(page.locator("#card-panel [data-panel-heading]")).to_be_visible()
    assert_accessible(page)
    page.locator("#card-panel [data-close-panel]").first.click()
    select_card(page, unsorted[1]).locator("[data-move-select]").select_option("1")
    card(page, unsorted[1]).locator("[data-move-to-group]").click()
    wait_version(page, 1)
    page.goto(live_server.url(f"/plans/{live_server.plan_id}/urgency"))
    expect(page.locator('[data-urgency="urgent"]')).to_be_visible()
    item = page.locator(f"#urgency-item-{unsorted[1]}")
    item.get_by_role("button", name="เร่งด่วน").click()
    expect(
        page.locator(f'[data-urgency="urgent"] [data-project-id="{unsorted[1]}"]')
    ).to_be_visible()
    assert_accessible(page)
