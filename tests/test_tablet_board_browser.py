"""The board on a facilitator's tablet (issue 15), at 1024x768 and 1280x800 with touch: it fits
the screen (five columns, one bar, the page never scrolls, six cards or more in the busiest column
of a forum under way), Thai has room for its marks, a card's controls show on the selected card
only with 44 px targets, a finger's drop lands where it lifts, and "move to position N"."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import select_card
from tests.forum_script import play_forum
from tests.test_board_browser import card, open_board, page_column, server_columns, wait_version

pytestmark = pytest.mark.browser

# Boxes of the page: how far it scrolls, the bar, the site header, every column and how many of
# its cards show whole (inside its list and the screen).
LAYOUT = """() => {
  const box = el => { const b = el.getBoundingClientRect();
    return {x: b.left, y: b.top, right: b.right, bottom: b.bottom, height: b.height}; };
  const columns = [...document.querySelectorAll(".board-column")].map(column => {
    const list = box(column.querySelector("[data-card-list]"));
    const cards = [...column.querySelectorAll(".card")];
    const whole = cards.filter(card => { const b = card.getBoundingClientRect();
      return b.height > 0 && b.top >= list.y - 1 && b.bottom <= list.bottom + 1
        && b.bottom <= innerHeight && b.top >= 0; });
    return {group: column.dataset.group, box: box(column), cards: cards.length,
      whole: whole.length};
  });
  return {
    scroll: [document.documentElement.scrollWidth, document.documentElement.scrollHeight],
    bar: box(document.querySelector(".forum-bar")),
    siteHeader: box(document.getElementById("site-header")),
    columns,
  };
}"""

# Every element that shows Thai text of its own: its line-height against its font size.
THAI_LINE_HEIGHTS = """() => {
  const thai = /[\\u0E00-\\u0E7F]/;
  const tight = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && thai.test(n.textContent));
    if (!own || !el.checkVisibility()) continue;
    const style = getComputedStyle(el);
    const ratio = style.lineHeight === "normal" ? 0
      : parseFloat(style.lineHeight) / parseFloat(style.fontSize);
    if (ratio < 1.49) tight.push(`${el.tagName}.${el.className} ${style.lineHeight}`
      + `/${style.fontSize}: ${el.textContent.trim().slice(0, 30)}`);
  }
  return tight;
}"""


def test_the_board_fits_the_tablet(live_server, touch_page, plan_state):
    tablet = touch_page
    plan_state(play_forum)  # a forum under way: a long unsorted column, groups, a locked one
    open_board(live_server, touch_page)
    tablet.evaluate("document.fonts.ready.then(() => true)")
    width, height = tablet.viewport_size["width"], tablet.viewport_size["height"]
    layout = tablet.evaluate(LAYOUT)
    # The page itself does not scroll, neither down nor sideways: the columns scroll inside.
    assert layout["scroll"][0] <= width and layout["scroll"][1] <= height, layout["scroll"]
    assert [c["group"] for c in layout["columns"]] == ["unsorted", "1", "2", "3", "not-feasible"]
    for column in layout["columns"]:
        b = column["box"]
        assert b["x"] >= 0 and b["right"] <= width and b["y"] >= 0 and b["bottom"] <= height, column
    # The header is one line: the site menu folded behind a button, one bar above the columns.
    assert layout["siteHeader"]["height"] == 0
    assert layout["bar"]["height"] <= 56, layout["bar"]
    assert min(c["box"]["y"] for c in layout["columns"]) <= layout["bar"]["bottom"] + 12
    # At least six whole cards in the busiest column.
    busiest = max(layout["columns"], key=lambda c: c["cards"])
    assert busiest["cards"] > 6
    assert busiest["whole"] >= 6, busiest

    # The folded parts open from the bar: the site menu (Escape closes it) and the side.
    tablet.locator("[data-toggle=site-header]").click()
    expect(
        tablet.locator("#site-header").get_by_role("link", name="แผน", exact=True)
    ).to_be_visible()
    tablet.keyboard.press("Escape")
    expect(tablet.locator("#site-header")).to_be_hidden()
    tablet.locator("[data-toggle=forum-side]").click()
    expect(tablet.locator("#projector-control")).to_be_visible()
    tablet.locator("[data-toggle=forum-side]").click()
    expect(tablet.locator("#projector-control")).to_be_hidden()


def test_controls_show_on_the_selected_card_only_and_thai_has_room(live_server, touch_page):
    tablet = touch_page
    open_board(live_server, touch_page)
    unsorted = server_columns(live_server)["unsorted"]
    expect(tablet.locator(".card-controls:visible")).to_have_count(0)
    tablet.locator(f"#card-{unsorted[1]} .card-open").tap()
    controls = card(tablet, unsorted[1]).locator(".card-controls")
    expect(controls).to_be_visible()
    expect(tablet.locator(".card .card-controls:visible")).to_have_count(1)
    # Every control of the selected card is a touch target of at least 44 px.
    for control in controls.locator("button, input, select").all():
        b = control.bounding_box()
        assert b["width"] >= 44 and b["height"] >= 44, (control.evaluate("e => e.outerHTML"), b)
    # Tapping another card moves the selection; tapping it again folds it.
    tablet.locator(f"#card-{unsorted[2]} .card-open").tap()
    expect(controls).to_be_hidden()
    # Thai has room for its marks (line-height 1.5) on the board, its bar, the open panel.
    tablet.locator("[data-toggle=board-filters]").click()
    assert tablet.evaluate(THAI_LINE_HEIGHTS) == []
    card(tablet, unsorted[2]).locator("[data-open-panel]").tap()
    expect(tablet.locator("#card-panel [data-panel-heading]")).to_be_visible()
    assert tablet.evaluate(THAI_LINE_HEIGHTS) == []
    tablet.locator("#card-panel [data-close-panel]").first.tap()
    tablet.locator("[data-toggle=site-header]").tap()
    assert tablet.evaluate(THAI_LINE_HEIGHTS) == []
    tablet.locator("[data-toggle=forum-side]").tap()
    expect(tablet.locator("#projector-control")).to_be_visible()
    assert tablet.evaluate(THAI_LINE_HEIGHTS) == []


def touch_drag(page, source, x1: float, y1: float, steps: int = 16) -> None:
    """A finger: down on the card, rest until SortableJS picks it up (its touch delay), slide in
    `steps` steps, lift at (x1, y1) at once. Real touch events (Chromium's DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    start = source.bounding_box()
    x0, y0 = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2

    def touch(kind: str, x: float, y: float) -> None:
        points = [] if kind == "touchEnd" else [{"x": x, "y": y}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", x0, y0)
    expect(source).to_have_class(re.compile(r"\bcard-chosen\b"))
    touch("touchMove", x0 + 6, y0 + 6)  # past SortableJS's tolerance: the drag starts
    for step in range(1, steps + 1):
        touch("touchMove", x0 + (x1 - x0) * step / steps, y0 + (y1 - y0) * step / steps)
    touch("touchEnd", x1, y1)
    cdp.detach()


def rank_of(live_server, project_id: int) -> tuple[str, int]:
    return tuple(
        live_server.query(
            "SELECT funding_group, rank FROM board_places WHERE project_id = :id", id=project_id
        )[0]
    )


def test_a_finger_drag_lands_where_it_lifts(live_server, touch_page):
    tablet = touch_page
    open_board(live_server, touch_page)
    unsorted = server_columns(live_server)["unsorted"]
    first, sixth = card(tablet, unsorted[0]), card(tablet, unsorted[5])
    # Both on screen, no scrolling needed.
    expect(first).to_be_in_viewport(ratio=1)
    expect(sixth).to_be_in_viewport(ratio=1)
    top = first.bounding_box()
    touch_drag(tablet, sixth, top["x"] + top["width"] / 2, top["y"] + top["height"] * 0.25)
    wait_version(tablet, 1)
    assert rank_of(live_server, unsorted[5]) == ("unsorted", 1)
    expected = [unsorted[5]] + unsorted[:5] + unsorted[6:]
    assert server_columns(live_server)["unsorted"] == expected == page_column(tablet, "unsorted")

    # Further down a long column, scrolled: onto the upper part of the card shown there.
    tablet.locator("#cards-unsorted").evaluate("list => { list.scrollTop = 700; }")
    shown = tablet.evaluate(
        """() => { const list = document.getElementById("cards-unsorted").getBoundingClientRect();
          return [...document.querySelectorAll("#cards-unsorted .card")].filter(c => {
            const b = c.getBoundingClientRect();
            return b.top >= list.top + 40 && b.bottom <= list.bottom;
          }).map(c => Number(c.dataset.projectId)); }"""
    )
    assert len(shown) >= 3
    mover, goal = shown[-1], shown[0]
    box = card(tablet, goal).bounding_box()
    touch_drag(tablet, card(tablet, mover), box["x"] + box["width"] / 2, box["y"] + 8)
    wait_version(tablet, 2)
    column = server_columns(live_server)["unsorted"]
    assert column.index(mover) == column.index(goal) - 1
    assert page_column(tablet, "unsorted") == column


def test_move_to_position_n(live_server, page):
    open_board(live_server, page)
    unsorted = server_columns(live_server)["unsorted"]
    # The tenth card to position 3, typed in Thai digits.
    moving = select_card(page, unsorted[9])
    moving.locator("[data-move-position]").fill("๓")
    moving.locator("[data-move-to-position]").click()
    wait_version(page, 1)
    assert rank_of(live_server, unsorted[9]) == ("unsorted", 3)
    column = server_columns(live_server)["unsorted"]
    assert column == page_column(page, "unsorted")
    # Still selected, the focus still in its position field: Enter moves it to the end.
    field = card(page, unsorted[9]).locator("[data-move-position]")
    expect(field).to_be_focused()
    field.fill(str(len(column)))
    field.press("Enter")
    wait_version(page, 2)
    assert rank_of(live_server, unsorted[9]) == ("unsorted", len(column))
    # A position the column does not have: a message next to the field, nothing sent.
    field.fill("๙๙๙")
    field.press("Enter")
    error = card(page, unsorted[9]).locator(".card-controls [role=alert]")
    expect(error).to_have_text(f"กรุณาพิมพ์ลำดับตั้งแต่ 1 ถึง {len(column)}")
    expect(field).to_have_attribute("aria-invalid", "true")
    assert page.locator("#plan-version").input_value() == "2"
    # Back to the top.
    field.fill("1")
    card(page, unsorted[9]).locator("[data-move-to-position]").click()
    wait_version(page, 3)
    assert rank_of(live_server, unsorted[9]) == ("unsorted", 1)
    assert server_columns(live_server)["unsorted"] == page_column(page, "unsorted")
