"""Extreme values, property-based (hypothesis), over the app's whole URL map (tests/route_walk.py):
every route parameter and every form field of every route gets huge and negative integers
(past 2^31 and 2^63), NaN and infinity, Thai digits, NUL bytes, very long text, nested JSON,
or goes missing, signed in as an administrator and as the tambon's facilitator. No answer may be
a 500, and a refusal (4xx) changes nothing.

The forms are read off the pages as a browser would (tests/test_hostile_input.py's FormReader):
a plausible form, with some fields replaced or left out, reaches the code behind the first
check. Routes whose form is not on any page (htmx buttons, drags) take their field names from
EXTRA_FIELDS. A new route is walked as soon as it is registered.
"""

from __future__ import annotations

import io
import os
import re
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planapp.accounts.throttle import throttle
from planapp.extensions import db
from planapp.models import Plan
from tests.conftest import make_user
from tests.route_walk import (
    Route,
    argument_values,
    database_state,
    reading_routes,
    routes,
    url_for_route,
)
from tests.test_hostile_input import FormReader

NUMBERS = [
    "99999999999999999999",
    str(2**63),
    str(2**63 - 1),
    str(2**31),
    str(2**31 - 1),
    "-1",
    "-99999999999999999999",
    "0",
    "1e400",
    "-1e400",
    "NaN",
    "inf",
    "3.5",
    "๙๙๙๙๙๙๙๙๙๙๙๙๙๙๙๙๙๙๙๙๙๙",
    "²",
    "1,000,000,000,000,000,000,000",
    "9" * 400,
]
TEXTS = [
    "",
    " ",
    "\x00",
    "ก\x00ข",
    "x" * 20_000,
    "[" * 2000 + "]" * 2000,
    '{"a": ' * 200 + "1" + "}" * 200,
    "null",
    "<b hx-get='/'>",
    "\u202e🌾",
    "/\t/evil.example",
]
extreme = st.one_of(
    st.sampled_from(NUMBERS),
    st.sampled_from(TEXTS),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=30),
)
# Path segments: what a client can put between two slashes (the int converter sees digits).
path_values = st.one_of(
    st.sampled_from([n for n in NUMBERS if n.isascii()] + ["\x00", "%00", "ก" * 300]),
    st.integers(min_value=0, max_value=2**70).map(str),
    st.text(min_size=1, max_size=30),
)

# Field names of forms that are not on a page as a <form>: htmx buttons, drags, query strings.
EXTRA_FIELDS = {
    "forum.move": ["project_id", "group", "before_id", "version"],
    "forum.set_urgency": ["urgency", "version", "view"],
    "forum.save_panel": ["version"],
    "forum.undo": ["version", "view"],
    "intake.unmerge": ["version"],
    "intake.move_in_village": ["direction", "order"],
    "meeting.step": ["step", "version"],
    "meeting.timer": ["action", "version"],
    "meeting.pause": ["paused", "version"],
    "meeting.message": ["clear", "version"],
    "meeting.project_votes": ["delta", "next", "version"],
    "meeting.confirm": ["next", "version", "village", "sector", "q"],
    "meeting.unlock": ["next", "version", "view"],
    "meeting.order_by_votes": ["next", "version"],
    "projector.choose_screen": ["mode", "version"],
    "projector.set_public": ["public", "version"],
    "district.update_followup": ["status", "day", "amount", "year", "note", "seen_status"],
    "intake.import_confirm": ["token", "include_existing"],
}
# What a person types into the fields a page leaves empty, so a form gets past "fill this in".
FILL = {
    "title": "ถนนคอนกรีตสายใหม่",
    "budget_satang": "150,000",
    "name": "ชื่อใหม่",
    "code": "ท.9",
    "username": "newcomer",
    "display_name": "ผู้ใช้ใหม่",
    "password": "a long password",
    "confirm": "a long password",
    "number": "12",
    "status": "sent",
    "people_1": "12",
    "minutes": "5",
    "votes": "3",
    "ceiling": "1,000,000",
    "message": "พักเที่ยง",
    "step": "3",
    "action": "start",
    "order": "",
}
QUERY_FIELDS = ["year", "village", "sector", "q", "view", "layout", "version", "next", "province"]
# Not walked: signing out would end the walk's own session. The event streams are walked with
# a lifetime short enough that each ends after its first event (see `short_streams`).
NOT_WALKED = {"accounts.logout"}
# Tables that record the visit rather than plan data (sessions, sign-in attempts): a refused
# request may still write them.
BOOKKEEPING = re.compile(r"session|login|throttle")

EXTREME_SETTINGS = settings(
    # Each example walks every route once; set PLANAPP_EXTREME_EXAMPLES for a longer hunt.
    max_examples=int(os.environ.get("PLANAPP_EXTREME_EXAMPLES", "8")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def plan_data() -> dict:
    return {name: rows for name, rows in database_state().items() if not BOOKKEEPING.search(name)}


_FORMS_SEEN: dict[tuple, dict] = {}
RANDOM_VALUES = {"ballot_token", "public_token", "token"}


def page_forms(app, client, values) -> dict[str, dict[str, list[str]]]:
    """The fields (with the values a browser would send) of every form on every page the
    administrator can open, by the endpoint the form posts to. Read once for the session: every
    test starts from the same demo plan (the key tells if its ids were different; its random
    tokens are new every time and only ever in paths, never in a form's fields)."""
    key = tuple(sorted((k, v) for k, v in values.items() if k not in RANDOM_VALUES))
    if key not in _FORMS_SEEN:
        _FORMS_SEEN[key] = _read_page_forms(app, client, values)
    return _FORMS_SEEN[key]


def _read_page_forms(app, client, values) -> dict[str, dict[str, list[str]]]:
    adapter = app.url_map.bind("localhost")
    found: dict[str, dict[str, list[str]]] = {}
    for route in reading_routes(app):
        if route.endpoint in NOT_WALKED:
            continue
        url = url_for_route(app, route, values)
        response = client.get(url)
        if response.mimetype != "text/html":
            response.close()  # an event stream gives its place back
            continue
        reader = FormReader()
        reader.feed(response.get_data(as_text=True))
        for form in reader.forms:
            action = (form["action"] or url).split("?")[0]
            try:
                endpoint, _arguments = adapter.match(action, method="POST")
            except Exception:  # a form that posts elsewhere (or GETs)
                continue
            fields = found.setdefault(endpoint, {})
            for name in form["names"]:
                if name in form["fields"]:  # an unticked box sends nothing
                    fields.setdefault(name, form["fields"][name])
    return found


def set_scene(app) -> tuple[dict, dict, dict]:
    """A fresh demo plan (open to the public), the clients of its administrator, its
    facilitator and a visitor, the argument values pointing into it (the user routes at a user
    of no consequence), and the forms of its pages."""
    from planapp.demo import load_demo

    short_streams(app)
    db.session.remove()
    db.drop_all()
    db.create_all()
    plan = load_demo()
    plan.is_public = True
    db.session.commit()
    make_user("admin", "admin")
    make_user("somchai", "facilitator", tambons=[plan.tambon])
    extra = make_user("someone", "facilitator")
    clients = {"anonymous": app.test_client()}
    for who, name in (("admin", "admin"), ("facilitator", "somchai")):
        clients[who] = app.test_client()
        clients[who].login(name)
    values = dict(argument_values(plan), user_id=extra.id)
    return clients, values, page_forms(app, clients["admin"], values)


def walked(app, kinds: set[str]) -> list[tuple[Route, str]]:
    return [
        (route, method)
        for route in routes(app)
        if route.endpoint not in NOT_WALKED
        for method in sorted(route.methods & kinds)
    ]


def build_url(app, route: Route, values: dict, replaced: dict[str, str]) -> str:
    url = url_for_route(app, route, values)
    if not replaced:
        return url
    # Put the extreme text where the argument's demo value was (url_for would refuse it).
    path = route.rule
    for name in route.arguments:
        text = replaced.get(name)
        segment = quote(text, safe="") if text is not None else quote(str(values[name]), safe="")
        path = re.sub(rf"<(?:[a-z]+:)?{name}>", lambda _m, s=segment: s, path)
    return path


def plausible_form(route: Route, forms: dict, values: dict) -> dict[str, list[str]]:
    """What the page sends to this route: its form's fields, else the fields its htmx buttons
    send, filled from the demo values and the plan's present version."""
    fields = {name: list(v) for name, v in forms.get(route.endpoint, {}).items()}
    plan = db.session.get(Plan, values["plan_id"])
    for name in EXTRA_FIELDS.get(route.endpoint, []):
        fields.setdefault(name, [str(values.get(name, ""))])
    for name, value in fields.items():
        if name in FILL and not "".join(value).strip():
            value[:] = [FILL[name]]
    if "version" in fields:  # the page's stamp, as if it were just loaded
        fields["version"] = [str(plan.version)]
    fields.pop("csrf_token", None)
    return fields


def draw_path(data, route: Route) -> dict[str, str]:
    replaced = {}
    for name in sorted(route.arguments):
        if data.draw(st.booleans(), label=f"replace <{name}>"):
            replaced[name] = data.draw(path_values, label=name)
    return replaced


def draw_form(data, fields: dict[str, list[str]]) -> dict[str, list[str]]:
    """The plausible form with some fields replaced by extreme values or left out."""
    form = {name: list(values) for name, values in fields.items()}
    names = sorted(form)
    if not names:
        return form
    for name in data.draw(st.lists(st.sampled_from(names), max_size=4, unique=True)):
        if data.draw(st.integers(0, 4), label=f"{name}: 0 leaves it out") == 0:
            del form[name]
        else:
            form[name] = data.draw(st.lists(extreme, min_size=1, max_size=2), label=name)
    return form


def assert_refusal_is_clean(response, before: dict, what: str) -> None:
    status = response.status_code
    assert status < 500, f"{what}: {status}\n{response.get_data(as_text=True)[-1500:]}"
    if 400 <= status < 500:
        assert plan_data() == before, f"{what}: refused with {status} but changed the data"


@EXTREME_SETTINGS
@given(data=st.data())
def test_no_form_post_ends_in_a_server_error(app, data):
    """Each example: a fresh demo plan, then every POST route once, in the map's order."""
    clients, values, forms = set_scene(app)
    for route, method in walked(app, {"POST"}):
        throttle().reset()
        who = "anonymous" if route.endpoint == "accounts.login" else None
        who = who or data.draw(st.sampled_from(["admin", "facilitator"]), label=route.endpoint)
        url = build_url(app, route, values, draw_path(data, route))
        form = draw_form(data, plausible_form(route, forms, values))
        before = plan_data()
        response = clients[who].open(url, method=method, data=form)
        assert_refusal_is_clean(response, before, f"{method} {url} as {who} with {form!r:.600}")
        db.session.rollback()


def short_streams(app) -> None:
    """An event stream ends when its lease is over, checked after each event it sends: with a
    lease of no time at all, a stream answers its first event (the view's state) and ends."""
    app.extensions["stream_limits"].lifetime = 0.0


@EXTREME_SETTINGS
@given(data=st.data())
def test_no_page_or_query_string_ends_in_a_server_error(app, data):
    """Each example: a fresh demo plan, then every page once, with odd paths and queries."""
    clients, values, _forms = set_scene(app)
    before = plan_data()
    for route, _method in walked(app, {"GET"}):
        who = data.draw(
            st.sampled_from(["admin", "facilitator", "anonymous"]), label=route.endpoint
        )
        url = build_url(app, route, values, draw_path(data, route))
        query = data.draw(
            st.lists(st.tuples(st.sampled_from(QUERY_FIELDS), extreme), max_size=3), label="query"
        )
        if query:
            url += "?" + urlencode(query)
        response = clients[who].get(url)
        try:
            assert response.status_code < 500, f"GET {url} as {who}: {response.status_code}"
            response.get_data()
        finally:
            response.close()
        db.session.rollback()
    assert plan_data() == before, "reading pages changed the data"


def test_a_form_missing_any_one_of_its_fields_is_answered_not_a_server_error(app):
    """Every form of every page, posted as the page has it but for one field left out (a
    textarea a client did not send, say): answered (saved, or refused changing nothing), never
    a 500."""
    clients, values, forms = set_scene(app)
    failures = []
    for route, method in walked(app, {"POST"}):
        if route.endpoint == "accounts.login":
            continue
        url = url_for_route(app, route, values)
        fields = plausible_form(route, forms, values)
        for missing in sorted(fields):
            form = {name: value for name, value in fields.items() if name != missing}
            before = plan_data()
            response = clients["admin"].open(url, method=method, data=form)
            if response.status_code >= 500:
                failures.append(f"{method} {url} without {missing}: {response.status_code}")
            elif 400 <= response.status_code < 500 and plan_data() != before:
                failures.append(f"{method} {url} without {missing}: refused, data changed")
            db.session.rollback()
    assert not failures, "\n".join(failures)


# --- the server errors of issue 13 item 9, one by one ---------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/plans/99999999999999999999",
        f"/plans/{2**63}",
        f"/plans/{2**31}",  # past PostgreSQL's INTEGER
        f"/plans/{2**31}/board",
        "/tambons/99999999999999999999",
        "/agencies/99999999999999999999",
        "/live/%00",
        "/live/abc%00def/phone",
    ],
)
def test_an_id_past_the_database_or_a_nul_in_the_path_is_no_page(admin_client, path):
    response = admin_client.get(path)
    assert response.status_code == 404
    assert "ไม่พบหน้านี้" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/plans/{plan}/moves", {"project_id": str(2**64), "group": "1", "version": "{version}"}),
        ("/plans/{plan}/moves", {"project_id": "{project}", "group": "1", "version": str(2**64)}),
        ("/plans/{plan}/undo", {"version": "9" * 400}),
        ("/plans/{plan}/meeting/step", {"step": str(2**64), "version": "{version}"}),
        ("/plans/{plan}/screen", {"mode": "village", "village_id": str(2**64)}),
        ("/plans/{plan}/projects/{project}/votes", {"votes": "9" * 400}),
        ("/plans/{plan}/groups/1/ceiling", {"ceiling": "9" * 400}),
        ("/plans/{plan}/villages/{village}/order", {"project_id": str(2**64), "direction": "up"}),
        ("/plans/{plan}/meeting/record", {"forum_place": "x", "forum_date": "1/1/2569",
                                          "people_1": "9" * 400, "version": "{version}"}),
    ],
)  # fmt: skip
def test_integers_past_2_63_in_forms_are_refused_not_a_server_error(
    facilitator_client, demo_plan, path, form
):
    values = {
        "plan": demo_plan.id,
        "version": demo_plan.version,
        "project": demo_plan.active_projects()[0].id,
        "village": demo_plan.tambon.villages[0].id,
    }
    before = plan_data()
    response = facilitator_client.post(
        path.format(**values),
        data={k: v.format(**values) for k, v in form.items()},
        headers={"HX-Request": "true"},  # as the pages send them (a plain post redirects)
    )
    assert 400 <= response.status_code < 500, response.status_code
    assert plan_data() == before


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/plans/import", "ไฟล์ใหญ่เกิน 1 MB ซึ่งเป็นขนาดที่ใหญ่ที่สุด"),
        ("/plans/{plan}/import", "ไฟล์ใหญ่เกิน 1 MB กรุณาลบรูปภาพออก"),
    ],
)
def test_a_file_over_the_limit_while_signed_in_is_said_next_to_the_field(
    app, facilitator_client, demo_plan, path, message
):
    """The CSRF check reads the form first; its 413 once came before the user was known, and
    the import page, which needs the user, failed with a 500."""
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    token = facilitator_client.csrf_token()
    response = facilitator_client.post(
        path.format(plan=demo_plan.id),
        data={"csrf_token": token, "file": (io.BytesIO(b"x" * (2 * 1024 * 1024)), "big.json")},
        content_type="multipart/form-data",
        csrf=False,  # as a browser sends it: the token is in the form, behind the file
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert message in page
    assert 'class="user-name"' in page  # still signed in


# --- plan files with extreme values in any place --------------------------------------------

json_extreme = st.one_of(
    st.sampled_from([2**63, 2**64, -(2**63) - 1, 2**31, -1, 0, 99, 1.5, True, None, "", "\x00"]),
    st.sampled_from(["disco", "admin", "somchai", "9999-12-31", "local", "1", [1, 1], [[1]]]),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=1),
)


def leaf_paths(value, path=()) -> list[tuple]:
    """Every place in a JSON document where a value sits."""
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += leaf_paths(item, (*path, index))
    return found


def replace_at(document, path: tuple, value) -> None:
    """Put `value` at `path`, if an earlier change left that place in the document."""
    target = document
    for step in path[:-1]:
        if (
            isinstance(target, dict)
            and step in target
            or (isinstance(target, list) and isinstance(step, int) and step < len(target))
        ):
            target = target[step]
        else:
            return
    last = path[-1]
    if isinstance(target, dict) or (
        isinstance(target, list) and isinstance(last, int) and last < len(target)
    ):
        target[last] = value


@EXTREME_SETTINGS
@given(data=st.data())
def test_plan_files_with_extreme_values_anywhere_are_imported_or_refused(app, data):
    """The demo plan's file with a few values anywhere in it replaced, imported over the plan by
    its facilitator or an administrator: a 302 or a refusal that changes nothing."""
    import json

    clients, values, _forms = set_scene(app)
    document = clients["admin"].get(f"/plans/{values['plan_id']}/export.json").get_json()
    # Each part of the file equally likely (else the projects' many fields would take most
    # draws): the plan's own values, the tambon, the lists, one project, the meeting's tables.
    parts = [("plan",), ("tambon",), ("agencies",), ("strategies",), ("projects", 0)]
    parts += [("projects", 1), ("plan_tables",)]
    paths = {part: [p for p in leaf_paths(document) if p[: len(part)] == part] for part in parts}
    for _ in range(data.draw(st.integers(1, 4), label="changes")):
        part = data.draw(st.sampled_from([part for part in parts if paths[part]]), label="part")
        path = data.draw(st.sampled_from(paths[part]), label="where")
        replace_at(document, path, data.draw(json_extreme, label=str(path)))
    who = data.draw(st.sampled_from(["admin", "facilitator"]), label="who")
    before = plan_data()
    response = clients[who].post(
        "/plans/import",
        data={"file": (io.BytesIO(json.dumps(document).encode()), "plan.json"), "replace": "y"},
        content_type="multipart/form-data",
    )
    assert response.status_code in (302, 400, 403), (
        response.status_code,
        response.get_data(as_text=True)[-1500:],
    )
    if response.status_code != 302:
        assert plan_data() == before
    db.session.rollback()
