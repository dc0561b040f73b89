"""Every number field takes Thai and Western digits and thousands separators, or refuses with a
message next to it; none drops a value (issue 16, item 1; design brief section 6).

The fields are found, not listed: every page of the URL map (tests/route_walk.py) is read as
the administrator, and every input a phone would open the digits keyboard for (`inputmode`
numeric or decimal) is a number field. Each is sent `๒๕`, `1,500` and `๑๕๐,๐๐๐` with the rest
of its form as the page filled it. Either the number is saved (it is in a row the request
changed, as itself or in satang) or nothing changed and the answer marks the field or says why.
A `type=number` input is refused outright: the browser itself drops what it cannot read (Thai
digits, separators) and sends an empty value, which no server can tell from a blank.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from planapp.extensions import db
from planapp.meeting.forms import MAX_PEOPLE
from planapp.models import Project
from tests.conftest import make_user
from tests.route_walk import argument_values, database_state, reading_routes, url_for_route

TYPED = {"๒๕": 25, "1,500": 1500, "๑๕๐,๐๐๐": 150000}
NUMERIC_MODES = {"numeric", "decimal"}


@dataclass
class Form:
    page: str
    action: str
    htmx: bool
    fields: list[tuple[str, str]] = field(default_factory=list)  # (name, value) as sent
    numeric: list[tuple[str, str]] = field(default_factory=list)  # (name, id)
    text: set[str] = field(default_factory=set)  # text inputs and areas: filled when empty
    submit: tuple[str, str] | None = None  # the first submit button with a name


class Forms(HTMLParser):
    """The POST forms of a page with what they would send (`numeric`: their number fields), and
    any type=number input."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page, self.forms, self.number_inputs = page, [], []
        self.form: Form | None = None
        self.select: str | None = None
        self.select_value: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("type") == "number":
            self.number_inputs.append(a.get("name") or a.get("id"))
        if tag == "form":
            posts = a.get("method", "").lower() == "post"
            action = a.get("hx-post") or (a.get("action", "") if posts else None)
            self.form = Form(self.page, action, "hx-post" in a) if action is not None else None
            if self.form is not None and not action:
                self.form.action = self.page
            return
        if self.form is None:
            return
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.form.fields.append((name, a.get("value", "on")))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self.form.fields.append((name, a.get("value", "")))
                if a.get("inputmode") in NUMERIC_MODES and kind != "hidden":
                    self.form.numeric.append((name, a.get("id", "")))
                elif kind == "text":
                    self.form.text.add(name)
        elif tag == "button" and name and a.get("type", "submit") == "submit":
            if self.form.submit is None and "disabled" not in a:
                self.form.submit = (name, a.get("value", ""))
        elif tag == "select" and name:
            self.select, self.select_value = name, None
        elif tag == "option" and self.select:
            if self.select_value is None or "selected" in a:
                self.select_value = a.get("value", "")
        elif tag == "textarea" and name:
            self.textarea = name
            self.form.fields.append((name, ""))
            self.form.text.add(name)

    def handle_data(self, data):
        if self.form is not None and self.textarea and data.strip():
            self.form.fields[-1] = (self.textarea, self.form.fields[-1][1] + data)

    def handle_endtag(self, tag):
        if tag == "select" and self.select and self.form is not None:
            self.form.fields.append((self.select, self.select_value or ""))
            self.select = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "form" and self.form is not None:
            self.forms.append(self.form)
            self.form = None


def read_forms(url: str, html: str) -> Forms:
    parser = Forms(url)
    parser.feed(html)
    return parser


# A free value for the other number fields of a form, so only the field under test is new.
def filler(name: str, fiscal_year: int) -> str:
    if "year" in name:
        return str(fiscal_year + 1)
    return "97"


fresh = itertools.count(1)


def form_data(form: Form, fiscal_year: int, tested: str, typed: str) -> list[tuple[str, str]]:
    numeric = {name for name, _id in form.numeric}
    data = []
    for name, value in form.fields:
        if name == tested:
            value = typed
        elif not value.strip() and name in form.text:
            value = f"ข้อความทดสอบ {next(fresh)}"  # required text, never a duplicate
        elif not value.strip() and name in numeric and name != "ceiling":
            value = filler(name, fiscal_year)
        data.append((name, value))
    return data


def changed_cells(before: dict, after: dict) -> set[str]:
    """The values (as repr) of every row that is new or changed."""
    cells = set()
    for table, rows in after.items():
        for row in set(rows) - set(before.get(table, [])):
            cells.update(map(repr, row))
    return cells


def marks_the_field(html: str, name: str, element_id: str) -> bool:
    """The answer shows the field refused: marked invalid, or an alert beside it."""
    if element_id and f'id="{element_id}-errors"' in html:
        return True
    for tag in html.split("<input")[1:]:
        tag = tag[: tag.index(">")]
        if f'name="{name}"' in tag and 'aria-invalid="true"' in tag:
            return True
    return 'role="alert"' in html and ("field-errors" in html or "error" in html)


def page_sources(client, app, plan) -> dict[str, object]:
    """Every HTML page of the URL map (each a function that reads it afresh, so a form is sent
    with the plan version it shows now), and the merge form's second step (behind a POST)."""
    values = argument_values(plan)
    found = {}
    for route in reading_routes(app):
        url = url_for_route(app, route, values)
        response = client.get(url)
        try:
            if response.status_code == 200 and response.mimetype == "text/html":
                found[url] = lambda url=url: client.get(url).get_data(as_text=True)
        finally:
            response.close()
    merge = f"/plans/{values['plan_id']}/merge"

    def merge_step_two() -> str:
        ids = db.session.scalars(
            select(Project.id)
            .where(
                Project.plan_id == values["plan_id"],
                Project.merged_into_id.is_(None),
                # Not a tambon project of an earlier merge: the merge then asks for that one.
                Project.id.not_in(
                    select(Project.merged_into_id).where(Project.merged_into_id.is_not(None))
                ),
            )
            .order_by(Project.id.desc())
            .limit(2)
        ).all()
        data = {"project_ids": [str(i) for i in ids], "step": "choose"}
        return client.post(merge, data=data).get_data(as_text=True)

    found[merge] = merge_step_two
    return found


def walk_as_admin(app, plan, username: str):
    """An administrator's client over the demo plan with three projects taken forward (so the
    follow-up page has its forms), and every page's source (`page_sources`)."""
    for rank, project in enumerate(sorted(plan.projects, key=lambda p: p.id)[:3], start=1):
        project.rank = None
        db.session.flush()
        project.funding_group, project.rank, project.feasibility = "3", rank, "feasible"
    db.session.commit()
    make_user(username, "admin")
    client = app.test_client()
    client.login(username)
    return client, page_sources(client, app, plan)


def test_every_number_field_keeps_or_refuses_what_is_typed(app, demo_plan):
    fiscal_year = demo_plan.fiscal_year
    client, sources = walk_as_admin(app, demo_plan, "numbers-admin")
    fields = []  # (page, form action, field name)
    for url, read in sources.items():
        parsed = read_forms(url, read())
        assert not parsed.number_inputs, f"{url}: type=number inputs {parsed.number_inputs}"
        for form in parsed.forms:
            for name, _id in form.numeric:
                fields.append((url, form.action, name))
    # Field names without a row's prefix (p12-amount) or id (people_3).
    tested = {name.split("-")[-1].split("_")[0] for _url, _action, name in fields}
    # The walk found the number fields of every area (a new one is found the same way).
    assert tested >= {"people", "budget", "wanted", "number", "fiscal", "plan", "votes"}
    assert tested >= {"ceiling", "amount", "year"}
    assert tested >= {"picks", "ballots"}  # a vote round: picks per ballot, ballots per village

    failures, checked, seen = [], 0, set()
    for url, action, name in fields:
        # Each kind of field once: forms repeated per row (one per project or group) and
        # fields repeated per village in one form (people_3, ballots_12) are tried once.
        field_kind = re.sub(r"_\d+$", "", name.split("-")[-1])
        kind = (url, action.split("/projects/")[0].split("/groups/")[0], field_kind)
        if kind in seen:
            continue
        seen.add(kind)
        for typed, number in TYPED.items():
            # The page as it is now: its form carries the current plan version.
            form = next(
                (
                    f
                    for f in read_forms(url, sources[url]()).forms
                    if f.action == action and name in dict(f.numeric)
                ),
                None,
            )
            if form is None:
                failures.append(f"{url} -> {action} [{name}]: the form is gone after a save")
                break
            element_id = dict(form.numeric)[name]
            before = database_state()
            response = client.post(
                form.action,
                data=MultiDict(form_data(form, fiscal_year, name, typed)),
                headers={"HX-Request": "true"} if form.htmx else {},
            )
            html = response.get_data(as_text=True)
            after = database_state()
            where = f"{url} -> {action} [{name}] {typed!r}"
            checked += 1
            if response.status_code >= 500:
                failures.append(f"{where}: {response.status_code}")
            elif after != before:
                if not {repr(number), repr(number * 100)} & changed_cells(before, after):
                    failures.append(f"{where}: saved, but not as {number}")
            elif not marks_the_field(html, name, element_id):
                failures.append(f"{where}: nothing saved and no message beside the field")
    assert checked >= 30
    assert not failures, "\n".join(failures)


def test_attendance_typed_in_thai_digits_is_saved(facilitator_client, demo_plan):
    """The issue's case: ๒๕ people from หมู่ที่ 1 saved and shown back, 1,500 too."""
    village = demo_plan.tambon.villages[0]
    url = f"/plans/{demo_plan.id}/meeting/record"
    page = facilitator_client.get(url).get_data(as_text=True)
    assert f'name="people_{village.id}"' in page and 'type="number"' not in page
    for typed, number in (("๒๕", 25), ("1,500", 1500)):
        response = facilitator_client.post(
            url,
            data={
                "forum_date": "20/11/2569",
                "forum_place": "ศาลาประชาคม",
                f"people_{village.id}": typed,
            },
        )
        assert response.status_code == 302
        assert f'value="{number}"' in facilitator_client.get(url).get_data(as_text=True)
    minutes = facilitator_client.get(f"/plans/{demo_plan.id}/minutes").get_data(as_text=True)
    assert "data-total-people>1,500<" in minutes
    response = facilitator_client.post(
        url,
        data={
            "forum_date": "20/11/2569",
            "forum_place": "ศาลาประชาคม",
            f"people_{village.id}": f"{MAX_PEOPLE + 1:,}",
        },
    )
    assert response.status_code == 422
    assert f'id="people_{village.id}-errors"' in response.get_data(as_text=True)
