"""The Content Security Policy in a real browser: our vendored htmx, its SSE extension and
SortableJS work under it, and the pages trigger no policy violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def collect_violations(page) -> list[str]:
    """Chromium reports every blocked script, style, frame or connection on the console."""
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return violations


def test_pages_run_under_the_policy(live_server, page):
    violations = collect_violations(page)
    page.goto(live_server.url("/login"))
    expect(page.locator("h1")).to_be_visible()
    live_server.login(page, "admin")
    page.goto(live_server.url(f"/plans/{live_server.plan_id}"))
    assert page.evaluate("typeof htmx") == "object"
    # htmx did not try to inject its indicator <style> (which the policy would block).
    assert page.locator("head style").count() == 0
    assert violations == []


def test_htmx_swaps_sse_extension_and_sortable_drags_work_under_the_policy(live_server, page):
    violations = collect_violations(page)
    live_server.login(page, "admin")
    page.goto(live_server.url("/"))
    # Load the other vendored libraries as a page of ours would (script files from 'self').
    page.add_script_tag(url="/static/vendor/htmx-ext-sse-2.2.4.min.js")
    page.add_script_tag(url="/static/vendor/sortablejs-1.15.7.min.js")
    page.evaluate(
        """() => {
        const main = document.querySelector('main');
        main.insertAdjacentHTML('beforeend', `
          <button id="fetch" hx-get="/login" hx-select="h1" hx-target="#target">fetch</button>
          <div id="target"></div>
          <ul id="list"><li id="a">A</li><li id="b">B</li><li id="c">C</li></ul>`);
        htmx.process(main);
        new Sortable(document.getElementById('list'), {animation: 150});
    }"""
    )
    # An htmx request and swap (with the CSRF header from <body hx-headers>).
    page.click("#fetch")
    expect(page.locator("#target h1")).to_have_count(1)
    # SortableJS follows Playwright's drag in its default mode and restyles through CSSOM.
    page.locator("#c").drag_to(page.locator("#a"))
    expect(page.locator("#list li").first).to_have_id("c")
    assert page.evaluate("typeof htmx.createEventSource") == "function"
    assert violations == []


def test_the_policy_blocks_an_injected_inline_script(live_server, page):
    """The safety net works: had some page let a script through unescaped, it would not run."""
    violations = collect_violations(page)
    page.goto(live_server.url("/"))
    page.evaluate(
        """() => {
        const script = document.createElement('script');
        script.textContent = 'window.injected = true';
        document.body.appendChild(script);
    }"""
    )
    expect(page.locator("body")).to_be_visible()
    assert page.evaluate("window.injected === undefined")
    assert any("script-src" in text for text in violations)


def html_pages(live_server, monkeypatch) -> list[str]:
    """Every GET route of the app (tests/route_walk.py) that answers the administrator with an
    HTML page, its arguments filled from the live server's demo plan."""
    from planapp import create_app
    from planapp.extensions import db
    from planapp.models import Plan
    from tests.conftest import BrowserLikeClient
    from tests.route_walk import argument_values, reading_routes, url_for_route

    for name in ("PLANAPP_INSTANCE_PATH", "DATABASE_URL"):
        if name in live_server.env:
            monkeypatch.setenv(name, live_server.env[name])
    app = create_app({"SECRET_KEY": live_server.env["SECRET_KEY"]})
    app.test_client_class = BrowserLikeClient
    pages = []
    with app.app_context():
        values = argument_values(db.session.get(Plan, live_server.plan_id))
        client = app.test_client()
        client.login("admin")
        for route in reading_routes(app):
            url = url_for_route(app, route, values)
            response = client.get(url)
            try:
                if response.status_code == 200 and response.mimetype == "text/html":
                    pages.append(url)
            finally:
                response.close()
        db.session.remove()
        db.engine.dispose()
    return pages


def test_no_page_of_the_app_breaks_the_policy(live_server, page, monkeypatch):
    """Every page any area adds is opened in Chromium; none may have its scripts or styles
    blocked (inline style= attributes, <script> blocks, hx-on...)."""
    pages = html_pages(live_server, monkeypatch)
    assert "/admin/users" in pages and f"/plans/{live_server.plan_id}" in pages
    violations = collect_violations(page)
    live_server.login(page, "admin")
    broken = {}
    for url in pages:
        page.goto(live_server.url(url))
        page.wait_for_load_state("load")
        if violations:
            broken[url] = list(violations)
            violations.clear()
    assert not broken, "\n".join(f"{url}: {found}" for url, found in broken.items())
