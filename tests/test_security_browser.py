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
