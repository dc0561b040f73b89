"""The printable plan in a real browser: structure, accessibility, and the printed A4 document."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from planapp import create_app
from planapp.extensions import db
from planapp.models import Plan
from tests.browser import assert_accessible
from tests.test_export import HOSTILE, arrange_forum


@pytest.fixture
def arranged_server(live_server, monkeypatch):
    """The live server's database with the forum played (groups, ranks, urgency, agencies)."""
    for name in ("PLANAPP_INSTANCE_PATH", "DATABASE_URL"):
        if name in live_server.env:
            monkeypatch.setenv(name, live_server.env[name])
        else:
            monkeypatch.delenv(name, raising=False)
    app = create_app({"SECRET_KEY": "browser-test-secret"})
    with app.app_context():
        forum = arrange_forum(db.session.get(Plan, live_server.plan_id))
        expected = {
            group: [
                p.title
                for p in sorted(forum["active"], key=lambda p: p.rank or 0)
                if p.funding_group == group
            ]
            for group in ("1", "2", "3")
        }
        db.session.remove()
        db.engine.dispose()
    return live_server, expected


def test_printable_plan(arranged_server, page, tmp_path):
    server, expected = arranged_server
    server.login(page)
    page.goto(server.url(f"/plans/{server.plan_id}/print"))
    expect(page.locator("h1#cover-title")).to_have_text("ตำบลหนองบัวทอง")
    expect(page.locator(".cover-year")).to_have_text("ประจำปีงบประมาณ พ.ศ. 2570")
    # The three groups in rank order, the hostile title shown as plain text.
    for group, titles in expected.items():
        rows = page.locator(f"section[data-group='{group}'] tbody tr td:nth-child(2) strong")
        expect(rows).to_have_text(titles)
    expect(page.get_by_text(HOSTILE, exact=True).first).to_be_visible()
    for tier in ("urgent", "medium", "normal"):
        expect(page.locator(f"tbody[data-urgency='{tier}'] tr").first).to_be_visible()
    expect(page.locator(".signature")).to_have_count(4)
    assert_accessible(page)

    # Printed: no app header, no screen help; A4 pages with the cover on its own.
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".print-help")).to_be_hidden()
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    (tmp_path / "plan.pdf").write_bytes(pdf)
    if os.environ.get("PLANAPP_KEEP_PDF"):
        Path(os.environ["PLANAPP_KEEP_PDF"]).write_bytes(pdf)
    assert pdf.startswith(b"%PDF")
    sizes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert len(sizes) >= 6  # cover, profile, three groups, urgency (each starts a page)
    for width, height in sizes:
        assert (round(float(width)), round(float(height))) == (595, 842)  # A4 portrait


def test_a_group_total_is_never_alone_on_a_printed_page(live_server, page):
    """Issue 16, item 6: printed on A4 by Chromium, a group's total stays on the page of its
    last project (it was alone under a repeated header). Group 3 is given lengths at which,
    with the demo's texts, its table ends just at a page's foot (11, 17, 29 broke before)."""
    from io import BytesIO

    from pypdf import PdfReader

    live_server.login(page, "facilitator")
    plan = live_server.plan_id
    ids = [pid for (pid,) in live_server.query(
        "SELECT id FROM projects WHERE plan_id = :plan ORDER BY id", plan=plan
    )]  # fmt: skip
    live_server.execute("UPDATE board_places SET rank = NULL WHERE plan_id = :plan", plan=plan)
    crossed_pages = 0
    placed = 0
    for length in (10, 11, 12, 16, 17, 18, 28, 29, 30):
        for rank in range(placed + 1, length + 1):
            live_server.execute(
                "UPDATE board_places SET funding_group = '3', rank = :rank WHERE project_id = :id",
                rank=rank,
                id=ids[rank - 1],
            )
        placed = length
        # The first and last projects' budgets, and so the total, are amounts found nowhere
        # else.
        for amount, pid in ((12_345_601 + length, ids[0]), (98_765_432 + length, ids[length - 1])):
            live_server.execute(
                "UPDATE projects SET budget_satang = :amount WHERE id = :id", amount=amount, id=pid
            )
        budgets = live_server.query(
            "SELECT budget_satang FROM projects WHERE id IN (SELECT project_id FROM board_places"
            " WHERE plan_id = :plan AND funding_group = '3')",
            plan=plan,
        )
        total = sum(b for (b,) in budgets)
        page.goto(live_server.url(f"/plans/{plan}/print"))
        pages = [p.extract_text() for p in PdfReader(BytesIO(page.pdf(format="A4"))).pages]

        def shown(satang: int) -> str:
            return f"{satang // 100:,}.{satang % 100:02d}"

        first, last, total_text = (
            shown(12_345_601 + length),
            shown(98_765_432 + length),
            shown(total),
        )
        holding_first = [n for n, text in enumerate(pages) if first in text]
        holding_last = [n for n, text in enumerate(pages) if last in text]
        # The total also opens the plan (summary tables): its last page is the group's table.
        holding_total = [n for n, text in enumerate(pages) if total_text in text]
        assert len(holding_last) == 1, (length, holding_last)
        assert holding_total[-1] == holding_last[0], (length, holding_total, holding_last)
        crossed_pages += holding_last[0] > holding_first[0]
    assert crossed_pages >= 6  # the tables ran over pages: the breaks were really tested
