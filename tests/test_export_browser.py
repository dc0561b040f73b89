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
