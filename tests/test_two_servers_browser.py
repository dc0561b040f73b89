"""Several app servers behind one address (issue 18): two gunicorn instances (gunicorn.conf.py,
the gevent worker) on different ports, each with an instance folder of its own as two hosts
would have, over ONE PostgreSQL database, sharing only DATABASE_URL and SECRET_KEY. No broker
setting: on PostgreSQL the postgres broker is the default.

- a move saved through server A reaches a projector connected to server B (the latency from
  the POST's answer to the card on B is printed; bench/two_servers.py gives its p50/p95);
- a sign-in made on A works on B;
- the Excel import split across the servers, as a proxy without sticky sessions may send it:
  the upload to B, the preview from A, the confirmation to B.
"""

from __future__ import annotations

import re
import time
from io import BytesIO

import pytest
from playwright.sync_api import expect

from tests.browser import PG_ADMIN_URL, Tablet

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not PG_ADMIN_URL,
        reason="several app servers share one PostgreSQL database (the PostgreSQL run, "
        ".ci/with-postgres); on SQLite one server is the deployment",
    ),
]


@pytest.fixture
def servers(live_server, tmp_path):
    """(A, B): the live server and a second one on its database."""
    if live_server.env.pop("PLANAPP_LIVE_BROKER", None):  # the default on PostgreSQL
        live_server.restart()
    second = live_server.twin(tmp_path / "instance-b")
    try:
        second.start()
        yield live_server, second
    finally:
        second.stop()


@pytest.fixture
def forum_under_way(plan_state):
    from tests.live_helpers import spread_demo

    plan_state(spread_demo)
    return plan_state()


def new_page(browser, width=1280, height=800):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="th-TH")
    context.set_default_timeout(10_000)
    return context, context.new_page()


# Record (wall clock, ms) when a card first shows in a list of the projector.
WATCH_CARD = """(selector) => { window.__arrived = null;
  const check = () => {
    if (window.__arrived === null && document.querySelector(selector))
      window.__arrived = performance.timeOrigin + performance.now();
  };
  new MutationObserver(check).observe(document.body, {childList: true, subtree: true});
}"""


def test_a_move_through_one_server_reaches_a_projector_on_the_other(
    browser, servers, forum_under_way
):
    a, b = servers
    [(card,)] = a.query(
        "SELECT project_id FROM board_places WHERE plan_id = :plan AND funding_group = '1' "
        "ORDER BY rank LIMIT 1",
        plan=a.plan_id,
    )
    projector_context, projector = new_page(browser, 1280, 720)
    try:
        projector.goto(b.url(f"/live/{forum_under_way}"))
        expect(projector.locator("[data-mode]")).to_have_attribute("data-mode", "board")
        arrived = projector.locator(f'#live-column-3 [data-project-id="{card}"]')
        expect(arrived).to_have_count(0)
        selector = f'#live-column-3 [data-project-id="{card}"]'
        projector.evaluate(WATCH_CARD, selector)

        tablet = Tablet(a.base_url)
        tablet.sign_in("facilitator")
        board = tablet.get(f"/plans/{a.plan_id}/board")
        version = re.search(r'id="board"[^>]*data-plan-version="(\d+)"', board)
        version = version or re.search(r'data-plan-version="(\d+)"', board)
        status = tablet.post(
            f"/plans/{a.plan_id}/moves",
            {"project_id": card, "group": "3", "before_id": "", "version": version.group(1)},
        )
        answered = time.time()
        assert status == 200

        expect(arrived).to_have_count(1)
        expect(projector.locator("body")).to_have_attribute(
            "data-plan-version", str(int(version.group(1)) + 1)
        )
        seen = projector.evaluate("window.__arrived")
        # Printed, not asserted (benchmarks measure; bench/two_servers.py gives p50/p95).
        print(
            f"\nmove through A -> card on B's projector: {(seen / 1000 - answered) * 1000:.0f} ms"
        )
    finally:
        projector_context.close()


def test_a_sign_in_made_on_one_server_works_on_the_other(browser, servers):
    a, b = servers
    context, page = new_page(browser)
    try:
        a.login(page, "facilitator")
        # Browsers keep cookies per host, not per port: B gets the cookie A set, as two hosts
        # behind one address would.
        page.goto(b.url(f"/plans/{b.plan_id}/board"))
        assert page.url == b.url(f"/plans/{b.plan_id}/board")
        expect(page.locator("#board[data-board]")).to_be_visible()
        expect(page.locator(".user-name")).to_have_text(re.compile(r"\S"))
        # The board's live stream is held by B too.
        expect(page.locator("#board[data-live]")).to_have_count(1)
        # Signing out on B ends the sign-in on A as well (the sessions live in the database).
        page.goto(b.url("/"))
        page.locator("form[action='/logout'] button").click()
        page.goto(a.url(f"/plans/{a.plan_id}/board"))
        expect(page).to_have_url(re.compile("/login"))
    finally:
        context.close()


def filled_template(context, server) -> bytes:
    from openpyxl import load_workbook

    response = context.request.get(server.url(f"/plans/{server.plan_id}/import/template.xlsx"))
    assert response.ok
    workbook = load_workbook(BytesIO(response.body()))
    sheet = workbook["โครงการ"]
    sheet["A3"], sheet["C3"], sheet["D3"], sheet["E3"] = (
        "2",
        "ซ่อมฝายกั้นน้ำสองเครื่อง",
        "ด้านเศรษฐกิจและอาชีพ",
        "80,000",
    )
    output = BytesIO()
    workbook.save(output)
    return output.getvalue()


def test_the_excel_import_works_whichever_server_answers(browser, servers):
    a, b = servers
    title = "ซ่อมฝายกั้นน้ำสองเครื่อง"
    context, page = new_page(browser)
    try:
        a.login(page, "facilitator")
        page.goto(a.url(f"/plans/{a.plan_id}/import"))
        csrf = page.locator("input[name=csrf_token]").first.input_value()
        upload = context.request.post(
            b.url(f"/plans/{b.plan_id}/import"),
            multipart={
                "csrf_token": csrf,
                "file": {
                    "name": "หมู่บ้าน.xlsx",
                    "mimeType": "application/octet-stream",
                    "buffer": filled_template(context, a),
                },
            },
            max_redirects=0,
        )
        assert upload.status == 303, upload.text()
        # The preview the upload leads to, from A.
        page.goto(a.url(upload.headers["location"].removeprefix(b.base_url)))
        expect(page.locator('tr[data-row="3"]')).to_contain_text(title)
        token = page.locator("input[name=token]").input_value()
        csrf = page.locator("input[name=csrf_token]").first.input_value()
        confirm = context.request.post(
            b.url(f"/plans/{b.plan_id}/import/confirm"),
            form={"csrf_token": csrf, "token": token},
            max_redirects=0,
        )
        assert confirm.status == 302, confirm.text()
        assert a.query("SELECT count(*) FROM projects WHERE title = :t", t=title) == [(1,)]
    finally:
        context.close()
