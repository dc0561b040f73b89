"""Who may change a plan, proved over the app's whole URL map (tests/route_walk.py).

Every POST/PUT/PATCH/DELETE route refuses a request without a CSRF token, a visitor who is not
signed in, a facilitator of another tambon, and (on administrator-only routes) the facilitator of
the tambon itself; and each refusal leaves every row of every table as it was. Every GET route,
fetched by everyone, changes nothing and never fails with a 500.
"""

from __future__ import annotations

import pytest

from planapp.extensions import csrf, db
from planapp.models import Plan
from tests.conftest import make_user
from tests.route_walk import (
    CHANGING_METHODS,
    CONTENT_CHECKED_CHANGES,
    PUBLIC_CHANGES,
    TOKEN_ROUTES,
    argument_values,
    changing_routes,
    database_state,
    is_admin_only,
    outsider_plan,
    reading_routes,
    url_for_route,
)


def visitors(app, demo_plan):
    """Four kinds of visitor, and argument values pointing into the demo plan."""
    demo_plan.is_public = True  # so the public projector and phone views are walked too
    db.session.commit()
    other = outsider_plan()
    make_user("admin", "admin")
    make_user("somchai", "facilitator", tambons=[demo_plan.tambon])
    make_user("outsider", "facilitator", tambons=[other.tambon])
    clients = {"anonymous": app.test_client()}
    for name in ("admin", "somchai", "outsider"):
        clients[name] = app.test_client()
        clients[name].login(name)
    return clients, argument_values(demo_plan)


@pytest.fixture
def walk(app, demo_plan):
    return visitors(app, demo_plan)


def plausible_form(values: dict, plan_version: int) -> dict:
    """Fields a real form would send, so that a refusal is not just a complaint about empty
    input: the check of who is asking must come first."""
    form = {
        key: str(value)
        for key, value in values.items()
        if key in ("project_id", "group", "urgency", "village_id", "agency_id", "language")
    }
    form.update(
        version=str(plan_version),
        before_id="",
        title="โครงการทดสอบ",
        username="admin",
        password="x" * 12,
        next="/",
    )
    return form


def is_login_redirect(response) -> bool:
    return response.status_code in (302, 303) and "/login" in response.headers.get("Location", "")


def changing_route_failures(app, clients, values, plan) -> tuple[list[str], int]:
    failures: list[str] = []
    checked = 0
    for route in changing_routes(app):
        url = url_for_route(app, route, values)
        for method in sorted(route.methods & CHANGING_METHODS):
            form = plausible_form(values, plan.version)
            attempts = [("admin", False, "no CSRF token")]
            if route.endpoint not in PUBLIC_CHANGES:
                attempts += [
                    ("anonymous", True, "not signed in"),
                    ("outsider", True, "other tambon"),
                ]
                if is_admin_only(app, route):
                    attempts.append(("somchai", True, "facilitator on an admin-only route"))
            for who, with_token, why in attempts:
                before = database_state()
                response = clients[who].open(url, method=method, data=form, csrf=with_token)
                status = response.status_code
                if route.endpoint in TOKEN_ROUTES:
                    refused = status == 401  # no session opens it, with or without CSRF
                elif not with_token:
                    refused = status == 400
                elif who == "anonymous":
                    refused = status in (401, 403) or is_login_redirect(response)
                elif route.endpoint in CONTENT_CHECKED_CHANGES:
                    refused = status in (400, 403, 404)
                else:
                    refused = status in (403, 404)
                if not refused:
                    failures.append(f"{method} {url} ({route.endpoint}), {why}: answered {status}")
                if database_state() != before:
                    failures.append(f"{method} {url} ({route.endpoint}), {why}: changed the data")
                checked += 1
    return failures, checked


def reading_route_failures(app, clients, values) -> list[str]:
    failures: list[str] = []
    before = database_state()
    for route in reading_routes(app):
        url = url_for_route(app, route, values)
        for who, client in clients.items():
            response = client.get(url)
            try:
                if response.status_code >= 500:
                    failures.append(f"GET {url} as {who}: {response.status_code}")
                if who == "admin" and response.status_code == 404:
                    failures.append(f"GET {url} as admin: 404 (are the demo ids right?)")
                if response.mimetype != "text/event-stream":
                    response.get_data()  # render it all; an event stream never ends
            finally:
                response.close()
            if database_state() != before:
                failures.append(f"GET {url} as {who}: changed the data")
                before = database_state()
    return failures


def test_the_walk_sees_the_routes_of_every_area(app):
    endpoints = {route.endpoint for route in changing_routes(app)}
    assert {"accounts.login", "accounts.logout", "main.set_language"} <= endpoints
    assert "accounts.deactivate_user" in endpoints
    assert {route.endpoint for route in reading_routes(app)} >= {"main.index", "main.plan"}


def test_every_changing_route_refuses_the_wrong_people_and_changes_nothing(app, walk, demo_plan):
    clients, values = walk
    failures, checked = changing_route_failures(app, clients, values, demo_plan)
    assert checked >= 3 * 4
    assert not failures, "\n".join(failures)


def test_reading_any_page_changes_nothing_and_never_fails(app, walk):
    clients, values = walk
    failures = reading_route_failures(app, clients, values)
    assert not failures, "\n".join(failures)


def test_the_walk_catches_an_unguarded_route(app, demo_plan):
    """The walk itself is tested: routes planted with the mistakes it must find are reported."""
    from planapp.accounts import login_required
    from planapp.changes import record_change

    def careless_edit(plan_id):
        plan = db.session.get(Plan, plan_id)  # no plan_for_editing: anyone signed in may write
        plan.identity = "changed"
        record_change(plan, "careless", actor=None)
        db.session.commit()
        return "ok"

    def counting_page(plan_id):
        plan = db.session.get(Plan, plan_id)
        plan.version += 1  # a GET that writes
        db.session.commit()
        return "seen"

    app.add_url_rule(
        "/plans/<int:plan_id>/careless", "careless", login_required(careless_edit), methods=["POST"]
    )
    app.add_url_rule("/plans/<int:plan_id>/counting", "counting", counting_page)
    csrf.exempt(app.view_functions["careless"])  # and one that forgot CSRF
    clients, values = visitors(app, demo_plan)
    failures, _checked = changing_route_failures(app, clients, values, demo_plan)
    careless = [f for f in failures if "(careless)" in f]
    assert any("no CSRF token: answered 200" in f for f in careless), failures
    assert any("other tambon: answered 200" in f for f in careless), failures
    assert any("other tambon: changed the data" in f for f in careless), failures
    assert not any("not signed in" in f for f in careless)  # login_required did refuse that
    reading = reading_route_failures(app, clients, values)
    assert any("/counting as anonymous: changed the data" in f for f in reading), reading
