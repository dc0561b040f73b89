"""The projector fills the wall (issue 15), measured in Chromium at 1280x720 and 1920x1080 on the
demo sorted by a script (tests/forum_script.py `sort_demo`: 22, 11 and 26 cards in groups 1-3):
Thai marks never reach into the next line (the font's own ascent and descent against the line
boxes), the board shows at least 8 cards of each group at once, a village's screen at least 12,
the urgency view every urgent card on one page, nothing is clipped, the summary is one grid; and
the QR code and its link send phones to an address they can open, not to localhost."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SIZES = [(1280, 720), (1920, 1080)]
STACKED = "ปู่ย่า ผู้สูงอายุ ถิ่นฐาน ฤๅษี"


def sorted_demo(plan):
    from tests.forum_script import sort_demo

    sort_demo(plan)


def open_projector(browser, live_server, token, size, host="127.0.0.1"):
    width, height = size
    # Reduced motion: a list turns its page at once, so what the test measures is the page shown.
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="th-TH", reduced_motion="reduce"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(live_server.url(f"/live/{token}").replace("127.0.0.1", host))
    expect(page.locator("#live [data-mode]")).to_have_count(1)
    page.evaluate("document.fonts.ready")
    return context, page


def show(plan_state, mode):
    plan_state(lambda plan: setattr(plan, "projector_mode", mode))


def sorted_demo_on(browser, live_server, plan_state, mode, size):
    """The projector open on the sorted demo's `mode` screen."""
    plan_state(sorted_demo)
    show(plan_state, mode)
    return open_projector(browser, live_server, plan_state(), size)


def move(plan, group, position, to_position):
    """The hall moves the card at `position` of `group` to `to_position` (1-based), as the board's
    buttons do: it becomes the card the latest change was about."""
    from planapp import ranking
    from planapp.meeting.groups import column_cards

    cards = column_cards(plan, group)
    card = cards[position - 1]
    rest = [c for c in cards if c.id != card.id]
    ranking.move_project(plan, card.id, group, rest[to_position - 1].id, None, actor=None)
    return card.id


def board_with_a_moved_card(plan_state, group, position, to_position, title) -> int:
    """The sorted demo on the board screen, its latest change a move of a card given `title`."""

    def scene(plan):
        from planapp.extensions import db
        from planapp.models import Project

        sorted_demo(plan)
        moved = move(plan, group, position, to_position)
        db.session.get(Project, moved).title = title
        return moved

    moved = plan_state(scene)
    show(plan_state, "board")
    return moved


LINE_HEIGHT_RATIO = (
    "e => parseFloat(getComputedStyle(e).lineHeight) / parseFloat(getComputedStyle(e).fontSize)"
)


def thin_lines(page) -> list:
    """Text of the live view set with a line-height under 1.5 (Thai marks need the room)."""
    ratios = [
        (selector, page.locator(selector).first.evaluate(LINE_HEIGHT_RATIO))
        for selector in (".card-title", ".card-meta", ".column-head", "h1", ".screen-title")
    ]
    return [(selector, ratio) for selector, ratio in ratios if ratio < 1.5 - 0.01]


# Cards of a list as the page shows them: `whole` inside the list's visible box, `cut` partly in
# it (clipped), `elsewhere` wholly on another page (right of the box, within its height).
PAGES = """(list) => {
  const pager = list.closest('.pager'), box = pager.getBoundingClientRect();
  const out = {whole: [], cut: [], elsewhere: [], pages: (list.closest('.live-column')
    ?.querySelector('[data-page-of]')?.textContent || '').trim()};
  for (const card of list.querySelectorAll('[data-project-id]')) {
    const r = card.getBoundingClientRect(), id = card.getAttribute('data-project-id');
    const inside = r.left >= box.left - 0.5 && r.right <= box.right + 0.5
      && r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5;
    const away = (r.left >= box.right - 0.5 || r.right <= box.left + 0.5)
      && r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5;
    (inside ? out.whole : away ? out.elsewhere : out.cut).push(id);
  }
  return out;
}"""


def pages_of(page, selector):
    return page.locator(f"{selector} .cards").evaluate(PAGES)


# --- Thai marks: the glyphs of each line stay inside its line box -------------------------

LINE_BOXES = """(title) => {
  const style = getComputedStyle(title);
  const text = title.lastChild;  // the title's text (after the screen-reader rank)
  const range = document.createRange();
  range.selectNodeContents(text);
  const tops = new Map();
  for (const r of range.getClientRects()) {
    if (r.width > 0 && !tops.has(Math.round(r.top))) tops.set(Math.round(r.top), r);
  }
  const canvas = document.createElement('canvas').getContext('2d');
  canvas.font = style.font;
  const m = canvas.measureText(text.textContent.trim());
  return {
    font: style.font, fontSize: parseFloat(style.fontSize),
    lineHeight: parseFloat(style.lineHeight),
    inkAscent: m.actualBoundingBoxAscent, inkDescent: m.actualBoundingBoxDescent,
    fontAscent: m.fontBoundingBoxAscent, fontDescent: m.fontBoundingBoxDescent,
    lines: Array.from(tops.values()).sort((a, b) => a.top - b.top)
      .map(r => ({top: r.top, height: r.height})),
  };
}"""


def glyphs_overlapping(measured: dict) -> list[str]:
    """Where the ink of a line (baseline -/+ the font's real ascent and descent for this text)
    leaves its line box or reaches the next line's ink. A text rect is the font's content area
    (ascent + descent), centred in the line box (half the leading above and below)."""
    height = measured["lineHeight"]
    content = measured["fontAscent"] + measured["fontDescent"]
    problems, previous_ink = [], None
    for n, line in enumerate(measured["lines"]):
        box_top = line["top"] - (height - content) / 2
        baseline = line["top"] + measured["fontAscent"]
        ink_top = baseline - measured["inkAscent"]
        ink_bottom = baseline + measured["inkDescent"]
        if ink_top < box_top - 0.5 or ink_bottom > box_top + height + 0.5:
            problems.append(
                f"line {n + 1}: ink {ink_top:.1f}-{ink_bottom:.1f}, "
                f"line box {box_top:.1f}-{box_top + height:.1f}"
            )
        if previous_ink is not None and ink_top < previous_ink - 0.5:
            problems.append(f"line {n + 1} ink starts at {ink_top:.1f}, above {previous_ink:.1f}")
        previous_ink = ink_bottom
    return problems


@pytest.mark.parametrize("size", SIZES)
def test_thai_marks_never_reach_the_next_line(browser, live_server, plan_state, size):
    moved = board_with_a_moved_card(plan_state, "1", 4, 2, " ".join([STACKED] * 4))
    token = plan_state()
    context, page = open_projector(browser, live_server, token, size)
    try:
        title = page.locator(f"[data-project-id='{moved}'] .card-title")
        expect(title).to_contain_text(STACKED)
        measured = title.evaluate(LINE_BOXES)
        assert len(measured["lines"]) >= 2, measured  # the card just moved shows its whole title
        assert measured["lineHeight"] >= 1.5 * measured["fontSize"] - 0.01, measured
        assert measured["fontSize"] >= 28 * size[0] / 1280 - 0.5, measured
        assert not glyphs_overlapping(measured), (glyphs_overlapping(measured), measured)
        # Thai text everywhere on the live views has room for its marks.
        assert not thin_lines(page)
        page.goto(live_server.url(f"/live/{token}/phone"))
        assert not thin_lines(page)
    finally:
        context.close()


# --- the order, not a slice ------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_board_shows_eight_cards_of_each_group_and_the_card_just_moved(
    browser, live_server, plan_state, size
):
    title = "ก่อสร้างถนนคอนกรีตเสริมเหล็กสายทุ่งนาโคกใหญ่ " * 2
    moved = board_with_a_moved_card(plan_state, "3", 9, 3, title)
    token = plan_state()
    context, page = open_projector(browser, live_server, token, size)
    try:
        for group in ("1", "2", "3"):
            shown = pages_of(page, f"[data-group='{group}']")
            assert len(shown["whole"]) >= 8, (group, shown)
            assert not shown["cut"], (group, shown)
        card = page.locator(f"[data-group='3'] [data-project-id='{moved}']")
        expect(card).to_have_attribute("data-last-change", "")
        assert moved in [int(i) for i in pages_of(page, "[data-group='3']")["whole"]]
        # Shown whole: its title on two lines (a long one), not cut short on one like the others.
        lines = card.locator(".card-title").evaluate(
            "e => Math.round(e.getBoundingClientRect().height / "
            "parseFloat(getComputedStyle(e).lineHeight))"
        )
        assert lines == 2
        # Every other title: one or two lines at 28 px or more at 1280x720, growing with the wall.
        titles = page.locator(".pager .card-title").evaluate_all(
            """titles => titles.map(t => ({size: parseFloat(getComputedStyle(t).fontSize),
                lines: Math.round(t.getBoundingClientRect().height /
                                  parseFloat(getComputedStyle(t).lineHeight))}))"""
        )
        assert min(t["size"] for t in titles) >= 28 * size[0] / 1280 - 0.5, titles
        others = [t for t in titles if t["lines"] > 2]
        assert len(others) <= 1, others  # only the card just moved may take more
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_a_village_screen_shows_twelve_cards_in_its_order(browser, live_server, plan_state, size):
    def scene(plan):
        from planapp.intake import projects
        from planapp.projector import screens

        sorted_demo(plan)
        village = plan.tambon.villages[0]
        for n in range(4):
            values = {"title": f"โครงการเพิ่มเติมที่ {n + 1} ของหมู่บ้าน", "sector": "economy"}
            projects.create_project(
                plan, [village], dict(values, budget_satang=1_000_000), actor=None
            )
        # The screen choice is the latest change: no card highlighted, the first page shown.
        screens.choose_screen(plan, "village", village.id, actor=None)

    plan_state(scene)
    token = plan_state()
    context, page = open_projector(browser, live_server, token, size)
    try:
        shown = pages_of(page, "[data-list='village']")
        assert len(shown["whole"]) >= 12, shown
        assert not shown["cut"], shown
        # In the village's order: down the first column, then the next (the CSS counter).
        order = page.locator("[data-list='village'] [data-project-id]").evaluate_all(
            "cards => cards.map(c => [c.getAttribute('data-project-id'), "
            "Math.round(c.getBoundingClientRect().left), c.getBoundingClientRect().top])"
        )
        reading = sorted(order, key=lambda c: (c[1], c[2]))
        assert [c[0] for c in reading] == [c[0] for c in order]
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_urgency_view_shows_every_urgent_card_on_one_page(browser, live_server, plan_state, size):
    context, page = sorted_demo_on(browser, live_server, plan_state, "urgency", size)
    try:
        urgent = live_server.query(
            "SELECT count(*) FROM projects p JOIN board_places b ON b.project_id = p.id "
            "WHERE p.plan_id = :plan AND p.urgency = 'urgent' AND p.merged_into_id IS NULL "
            "AND b.funding_group IN ('1', '2', '3')",
            plan=live_server.plan_id,
        )[0][0]
        assert urgent >= 5
        shown = pages_of(page, "[data-urgency='urgent']")
        assert len(shown["whole"]) == urgent, shown
        assert shown["pages"] == "", shown  # one page: no "page 1 of N"
        for tier in ("medium", "normal"):
            rest = pages_of(page, f"[data-urgency='{tier}']")
            assert not rest["cut"] and rest["whole"], (tier, rest)
    finally:
        context.close()


NOTHING_CLIPPED = """() => {
  const doc = document.documentElement, problems = [];
  if (doc.scrollWidth > innerWidth || doc.scrollHeight > innerHeight) problems.push('page scrolls');
  for (const e of document.querySelectorAll('body *')) {
    if (e.closest('.pager') || e.closest('[hidden]') || e.closest('.sr-only')) continue;
    if (!e.getClientRects().length) continue;
    const r = e.getBoundingClientRect();
    if (r.width && (r.right > innerWidth + 0.5 || r.bottom > innerHeight + 0.5 || r.left < -0.5))
      problems.push(e.tagName + '.' + e.className + ' ' + JSON.stringify(r));
  }
  return problems;
}"""


@pytest.mark.parametrize("size", SIZES)
def test_nothing_is_clipped_in_any_mode(browser, live_server, plan_state, size):
    plan_state(sorted_demo)
    token = plan_state()
    for mode in ("village", "overview", "board", "urgency", "summary"):
        show(plan_state, mode)
        context, page = open_projector(browser, live_server, token, size)
        try:
            assert not page.evaluate(NOTHING_CLIPPED), (mode, page.evaluate(NOTHING_CLIPPED))
            for list_ in page.locator(".pager .cards").all():
                shown = list_.evaluate(PAGES)
                assert not shown["cut"], (mode, shown)
                if shown["elsewhere"]:  # a column too long for one page says which page
                    assert re.search(r"\d+\D+\d+", shown["pages"]), (mode, shown)
        finally:
            context.close()


# Each row of a table: its cells are one row of boxes (same top and bottom); the amounts of the
# rows and the total line up on their right edge.
GRID = """(table) => {
  const rows = Array.from(table.querySelectorAll('tbody tr, tfoot tr')).map(tr => {
    const t = tr.getBoundingClientRect();
    return Array.from(tr.children).map(c => c.getBoundingClientRect())
      .filter(r => Math.abs(r.top - t.top) > 1 || Math.abs(r.bottom - t.bottom) > 1).length;
  });
  const right = (e) => { const range = document.createRange(); range.selectNodeContents(e);
    return range.getBoundingClientRect().right; };
  return {
    misaligned: rows,
    amounts: Array.from(table.querySelectorAll('tbody tr'))
      .map(tr => right(tr.querySelector('.money'))),
    total: table.querySelector('tfoot .money')
      ? right(table.querySelector('tfoot .money')) : null,
  };
}"""


@pytest.mark.parametrize("size", SIZES)
def test_summary_is_one_aligned_grid(browser, live_server, plan_state, size):
    context, page = sorted_demo_on(browser, live_server, plan_state, "summary", size)
    try:
        tables = page.locator("#live-summary table.bars")
        expect(tables).to_have_count(2)
        for table in tables.all():
            grid = table.evaluate(GRID)
            assert not any(grid["misaligned"]), grid
            assert max(grid["amounts"]) - min(grid["amounts"]) <= 1, grid
            if grid["total"] is not None:
                assert abs(grid["total"] - max(grid["amounts"])) <= 1, grid
    finally:
        context.close()


# --- the address phones open ----------------------------------------------------------------


def test_qr_code_and_link_are_not_localhost_when_opened_on_the_laptop(
    browser, live_server, plan_state
):
    import segno

    from planapp.hall_address import is_loopback, lan_addresses

    token = plan_state()
    lan = lan_addresses()
    for host in ("localhost", "127.0.0.1"):
        context, page = open_projector(browser, live_server, token, (1280, 720), host=host)
        try:
            link = page.locator("[data-phone-address]").inner_text().strip()
            svg = page.request.get(page.url + "/qr.svg").text()
            encoded = re.search(r"<title>(.*?)</title>", svg).group(1).replace("&amp;", "&")
            assert encoded == link
            # The QR code is made from that address: the same symbol, module for module.
            paths = re.findall(r' d="([^"]+)"', svg)
            again = segno.make(encoded, error="m").svg_inline(
                scale=8, border=2, dark="#000", light="#fff"
            )
            assert paths and paths == re.findall(r' d="([^"]+)"', again)
            if lan:
                assert not is_loopback(urlsplit(link).hostname), link
                assert urlsplit(link).hostname == lan[0]
                assert link.endswith(f"/live/{token}/phone")
                expect(page.locator("[data-phone-address-local]")).to_have_count(0)
            else:  # a laptop with no network at all: the projector says so plainly
                expect(page.locator("[data-phone-address-local]")).to_be_visible()
        finally:
            context.close()


def test_public_url_wins_when_set(browser, live_server, plan_state):
    live_server.env["PLANAPP_PUBLIC_URL"] = "https://plan.example.org/"
    live_server.restart()
    token = plan_state()
    context, page = open_projector(browser, live_server, token, (1280, 720), host="localhost")
    try:
        expect(page.locator("[data-phone-address]")).to_have_text(
            f"https://plan.example.org/live/{token}/phone"
        )
        svg = page.request.get(page.url + "/qr.svg").text()
        assert f"<title>https://plan.example.org/live/{token}/phone</title>" in svg
    finally:
        context.close()
