"""User text never becomes markup, proved over every page (issue 13, item 1).

A facilitator's village name went through `lazy_gettext("Village %(label)s", label=...)`, whose
result Jinja takes for safe markup: the name's `<b hx-post=... hx-trigger="load">` ran in an
administrator's browser with the CSRF header of `<body hx-headers>`. CSP cannot stop that (the
scripts are our own), so the proof is structural:

The demo plan, played through a forum (groups, moves, an undo, decisions, attendance, a timer, a
message on the screen, follow-up, a carry-over), is rendered twice: once with every text a
person can write ending in harmless filler, once with the same texts ending in an htmx + script
payload of the same length. Only text differs, so each page must parse into exactly the same
elements and attributes; an element or attribute the payload render has and the clean one lacks
is user text that became markup. Every GET page of the URL map is rendered as an administrator,
the live views (projector, phone, the first event of their stream) as the public, in the
projector's every mode. The plan-file import and the Excel import are tried the same way, with
the payload in what they write and in the error messages they answer with.

tests/test_hostile_input.py tries random hostile text per form; this file covers every page.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable
from datetime import date
from html.parser import HTMLParser
from itertools import islice

import pytest
from flask import g
from sqlalchemy import JSON, String, Text, select, update

from planapp.changes import undo_last_change
from planapp.demo import load_demo
from planapp.demo_data import PLAN_PREAMBLE, PLAN_PROFILE
from planapp.district.carryover import carry_over
from planapp.extensions import db
from planapp.forum.decisions import Decisions, save_decisions
from planapp.meeting import groups as meeting_groups
from planapp.meeting import record as meeting_record
from planapp.models import Plan
from planapp.ranking import move_project
from tests.conftest import add_officer, make_user
from tests.route_walk import argument_values, reading_routes, url_for_route
from tests.test_export import arrange_forum

# What an attacker types: it breaks out of attributes and textareas, and would make the
# administrator's browser post (htmx acts on any element it finds) and run a script.
PAYLOAD = (
    "\"'><b hx-get=/ onclick=x></textarea><script>alert(1)</script>"
    '<b hx-post="/admin/users/2" hx-trigger="load" hx-swap="none" '
    'hx-vals=\'{"username":"facA","role":"admin"}\'></b>'
)
# For narrow columns (user names, codes): the first part alone is already an attack.
SHORT_PAYLOADS = ["\"'><b hx-get=/ onclick=x>", "\"'><b hx-get=/>"]
# The clean render's text: as long as the payload, Thai, no markup characters. Equal lengths
# keep everything that depends on length (projector pages, shortened texts) the same.
FILLER = "ก"

# Every text column a person can write: in a form, or through a plan file or a workbook.
USER_TEXT = {
    "users": {"username", "display_name", "area_province", "area_district"},
    "sync_tokens": {"label"},
    "sync_links": {"server_url", "token"},
    "tambons": {"name", "district", "province"},
    "villages": {"name"},
    "agencies": {"name"},
    "strategies": {"code", "name", "area_province", "area_district"},
    # The profile and the ผ.02 preamble (the demo fills them all), the forum record, the message.
    "plans": {*PLAN_PROFILE, *PLAN_PREAMBLE, "forum_place", "forum_chair", "screen_message"},
    "projects": {
        "title",
        "rationale",
        "objective",
        "target_output",
        "location",
        "sector",  # a code, but any text in a plan file
        "programme",  # free text in a plan file
        "kpi",
        "expected_result",
        "feasibility_reason",
        "note",
        "followup_note",
    },
    # Written by the app, out of the texts above (project titles, agency names).
    "change_log": {"summary"},
    # A background job's area (tambons' names) and its file's name (the agency's).
    "report_jobs": {"province", "district", "file_name"},
}
# The other text columns, and why no person's text is in them.
NOT_USER_TEXT = {
    ("users", "password_hash"): "a hash",
    ("user_sessions", "token_hash"): "a digest made by the app",
    ("pending_imports", "token_hash"): "a digest made by the app",
    ("sync_tokens", "digest"): "a digest made by the app",
    ("sync_tokens", "hint"): "the first characters of a token made by the app",
    ("projects", "uid"): "made by the app (uuid4 hex)",
    ("users", "role"): "one of the roles (CHECK)",
    ("plan_summary_figures", "figure"): "one of the figure names the app writes",
    ("plan_summary_figures", "key"): "a group, tier, sector or status code, or an id",
    ("sector_strategies", "sector"): "one of the sectors (CHECK)",
    ("agencies", "kind"): "one of the kinds",
    ("strategies", "level"): "one of the levels",
    ("plans", "grouping"): "one of two codes",
    ("plans", "public_token"): "made by the app",
    ("plans", "projector_mode"): "one of the modes",
    ("plans", "projector_group"): "one of the funding groups (CHECK)",
    ("projects", "feasibility"): "one of the codes (CHECK)",
    ("projects", "urgency"): "one of the codes (CHECK)",
    ("projects", "followup_status"): "one of the codes (CHECK)",
    ("board_places", "funding_group"): "one of the groups (CHECK)",
    ("plan_groups", "funding_group"): "one of the groups (CHECK)",
    ("change_log", "action"): "a code written by the app",
    ("vote_rounds", "funding_group"): "one of the groups (CHECK)",
    ("ballots", "token"): "made by the app (secrets.token_urlsafe)",
    ("ballots", "code"): "made by the app from its own alphabet",
    ("change_log", "regions"): "region names and ids written by the app",
    ("change_log", "before"): "snapshots: their texts get the payload too (SNAPSHOT_TEXT)",
    ("change_log", "after"): "snapshots: their texts get the payload too (SNAPSHOT_TEXT)",
    ("change_log", "details"): "codes and numbers (a group, a count, a village's id)",
    ("report_jobs", "kind"): "one of the kinds of planapp/jobs/outputs.py",
    ("report_jobs", "language"): "one of the languages, from the session",
    ("report_jobs", "status"): "one of the statuses (CHECK)",
    ("report_jobs", "error"): "one of the codes of planapp/jobs/queue.py",
}
# Keys of the change log's snapshots that hold the texts above (the history describes old
# values from them).
SNAPSHOT_TEXT = USER_TEXT["projects"] | USER_TEXT["plans"] | {"message"}


def text_columns():
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, (String, Text, JSON)):
                yield table, column


def test_every_text_column_is_either_user_text_or_says_why_not(app):
    """A new text column must be tried with the payload below, or say why no person writes it."""
    unknown = [
        f"{table.name}.{column.name}"
        for table, column in text_columns()
        if column.name not in USER_TEXT.get(table.name, set())
        and (table.name, column.name) not in NOT_USER_TEXT
    ]
    assert not unknown, f"add to USER_TEXT or NOT_USER_TEXT: {unknown}"


# --- the world: the demo plan after a forum ----------------------------------------------


def play_the_forum(app) -> dict:
    """The demo plan with something on every page: groups, ranks, a merge (arrange_forum), then
    the forum's actions through the domain functions as the facilitator (so the history and the
    minutes have entries of every kind), attendance, a paused timer and a screen message."""
    plan = load_demo()
    make_user("admin", "admin")
    facilitator = make_user("somchai", "facilitator", tambons=[plan.tambon])
    # An officer, so that the users page shows an area (issue 18, scoped roles).
    add_officer("amphoe", "district_officer", plan.tambon.province, plan.tambon.district)
    arrange_forum(plan)
    with app.test_request_context():
        g.user = facilitator
        plan = db.session.get(Plan, plan.id)
        projects = plan.active_projects()
        unsorted = [p for p in projects if p.funding_group == "unsorted"]
        villages = sorted(plan.tambon.villages, key=lambda v: v.number)
        move_project(plan, unsorted[0].id, "2", None, None, actor=facilitator)
        db.session.commit()
        move_project(plan, unsorted[1].id, "3", None, None, actor=facilitator)
        db.session.commit()
        undo_last_change(plan, actor=facilitator)
        db.session.commit()
        edited = unsorted[1]
        save_decisions(
            plan,
            edited,
            Decisions(
                feasibility="needs_study",
                feasibility_reason="ต้องสำรวจพื้นที่ก่อน",
                urgency="urgent",
                new_lead_agency="กลุ่มผู้ใช้น้ำบ้านหัวนา",
                new_agency_kind="community",
                note="ประชาคมขอให้ดูเส้นทางน้ำ",
            ),
            None,
            actor=facilitator,
        )
        db.session.commit()
        meeting_groups.set_votes(plan, edited, 12, actor=facilitator)
        meeting_groups.set_ceiling(plan, "2", 500_000_00, actor=facilitator)
        meeting_groups.confirm_group(plan, "1", actor=facilitator)
        meeting_record.save_record(
            plan,
            date(2026, 11, 20),
            "ศาลาประชาคมหมู่ 3",
            "นายประเสริฐ ศรีบุญเรือง",
            {village.id: 20 + village.number for village in villages},
            actor=facilitator,
        )
        meeting_record.set_step(plan, 2, actor=facilitator)
        meeting_record.set_step(plan, 1, actor=facilitator)
        meeting_record.control_timer(plan, villages[2], "start", 5, actor=facilitator)
        meeting_record.control_timer(plan, villages[2], "pause", actor=facilitator)
        meeting_record.set_message(plan, "พักรับประทานอาหารกลางวัน", actor=facilitator)
        db.session.commit()
        followed = next(p for p in projects if p.funding_group == "3")
        followed.followup_status = "in_budget"
        followed.followup_note = "อยู่ในข้อบัญญัติงบประมาณ"
        followed.budget_ordinance_satang = 100_000_00
        followed.budget_ordinance_year = plan.fiscal_year
        carry_over(plan, str(plan.fiscal_year + 1), actor=facilitator)
        db.session.commit()
    return {"plan_id": plan.id, "village": villages[2].number}


# --- every user text, ending in filler or in the payload ----------------------------------


def payload_for(column, base: str) -> str:
    """The longest payload that still fits the column after the text that is there."""
    room = getattr(column.type, "length", None)
    for payload in (PAYLOAD, *SHORT_PAYLOADS):
        if room is None or len(base) + len(payload) <= room:
            return payload
    raise AssertionError(f"{column.table.name}.{column.name}: no payload fits after {base!r}")


def clean(payload: str) -> str:
    return FILLER * len(payload)


def hostile(payload: str) -> str:
    return payload


def _snapshot_with(value, ending: Callable[[str], str]):
    if isinstance(value, dict):
        return {
            key: (
                item + ending(PAYLOAD)
                if key in SNAPSHOT_TEXT and isinstance(item, str)
                else _snapshot_with(item, ending)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_snapshot_with(item, ending) for item in value]
    return value


class UserTexts:
    """The database's user texts as they were, to be written back with an ending: `clean` (the
    filler) or `hostile` (the payload). Both differ only in those characters."""

    def __init__(self):
        self.rows = []
        for table, column in text_columns():
            is_snapshot = isinstance(column.type, JSON)
            if not (is_snapshot or column.name in USER_TEXT.get(table.name, set())):
                continue
            keys = list(table.primary_key.columns)
            for row in db.session.execute(select(*keys, column)).all():
                *key, value = row
                if value is not None:
                    self.rows.append((table, column, dict(zip(keys, key, strict=True)), value))
        assert self.rows

    def write(self, ending: Callable[[str], str]) -> None:
        for table, column, key, value in self.rows:
            if isinstance(column.type, JSON):
                new = _snapshot_with(value, ending)
            else:
                new = value + ending(payload_for(column, value))
            condition = [name == key_value for name, key_value in key.items()]
            db.session.execute(update(table).where(*condition).values({column.name: new}))
        # A new version for every plan: the live views render again, with the new texts.
        db.session.execute(update(Plan).values(version=Plan.version + 1))
        db.session.commit()
        db.session.expire_all()


# --- rendering and comparing --------------------------------------------------------------


class Structure(HTMLParser):
    """A page as its elements and attribute names (counted), and its text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: Counter[str] = Counter()
        self.texts: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        names = " ".join(sorted({name for name, _value in attrs}))
        self.elements[f"<{tag} {names}>"] += 1

    def handle_endtag(self, tag):
        self.elements[f"</{tag}>"] += 1

    def handle_comment(self, data):
        self.elements["<!---->"] += 1

    def handle_data(self, data):
        self.texts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.texts)


def first_event(client, url: str) -> tuple[int, str]:
    """The live content of an event stream's first event (the stream itself never ends)."""
    response = client.get(url)
    try:
        if response.mimetype != "text/event-stream":
            return response.status_code, response.get_data(as_text=True)
        # "retry:", then at once the current state (a view that knows no version is behind).
        for chunk in islice(response.response, 2):
            lines = chunk.decode().splitlines()
            if any(line.startswith("event:") for line in lines):
                data = [line[5:].removeprefix(" ") for line in lines if line.startswith("data:")]
                return response.status_code, "\n".join(data)
        raise AssertionError(f"{url}: no event at once")
    finally:
        response.close()


def render(client, url: str, headers=None) -> tuple[int, str] | None:
    """(status, HTML) of a page, None for what is not HTML (workbooks, files, the QR code)."""
    if "/events" in url:
        return first_event(client, url)
    response = client.get(url, headers=headers)
    if response.mimetype != "text/html":
        return None
    return response.status_code, response.get_data(as_text=True)


def markup_from_text(clean_html: str, hostile_html: str) -> str:
    """What the hostile render has as markup that the clean render lacks (or the reverse)."""
    before, after = Structure(clean_html).elements, Structure(hostile_html).elements
    extra, missing = after - before, before - after
    if not extra and not missing:
        return ""
    return f"extra {sorted(extra)[:6]}, missing {sorted(missing)[:6]}"


def differences(clean_pages: dict, hostile_pages: dict) -> list[str]:
    found = []
    for where, page in clean_pages.items():
        shown = hostile_pages[where]
        if page is None or shown is None:
            assert page is shown, f"{where}: HTML in one render only"
            continue
        if page[0] != shown[0]:
            found.append(f"{where}: status {page[0]} clean, {shown[0]} with the payload")
            continue
        problem = markup_from_text(page[1], shown[1])
        if problem:
            found.append(f"{where}: {problem}")
    return found


# --- every page -----------------------------------------------------------------------------

# The projector's every screen, and the meeting's overlays on them: the first scene is rendered
# on every page, the others on the live views and the facilitator's pages that show the screen.
SCENES = {
    "a village's screen, its timer and a message": {
        "projector_mode": "village",
        "meeting_step": 1,
        "screen_paused": False,
    },
    "board": {"projector_mode": "board", "meeting_step": 3},
    "overview": {"projector_mode": "overview"},
    "urgency": {"projector_mode": "urgency"},
    "summary": {"projector_mode": "summary", "meeting_step": 7},
    "a village's outcome": {"projector_mode": "outcome", "meeting_step": 7},
    "pause": {"screen_paused": True},
}


HTMX = {"HX-Request": "true"}


def live_urls(token: str) -> list[str]:
    return [
        f"/live/{token}",
        f"/live/{token}/phone",
        f"/live/{token}/events?layout=projector",
        f"/live/{token}/events?layout=phone",
    ]


def render_everything(app, clients: dict, world: dict) -> dict:
    pages = {}
    values = world["values"]
    plan_id = values["plan_id"]
    every_page = [url_for_route(app, route, values) for route in reading_routes(app)]
    screen_pages = [f"/plans/{plan_id}/meeting", f"/plans/{plan_id}/screen"]
    for number, (scene, settings) in enumerate(SCENES.items()):
        db.session.execute(
            update(Plan)
            .where(Plan.id == plan_id)
            .values(
                projector_village_number=world["village"],
                version=Plan.version + 1,
                **settings,
            )
        )
        db.session.commit()
        for url in every_page if number == 0 else screen_pages:
            pages[(scene, "admin", url)] = render(clients["admin"], url)
            # The fragment htmx asks for, where a page has one.
            pages[(scene, "admin, htmx", url)] = render(clients["admin"], url, HTMX)
        for url in live_urls(values["token"]):
            pages[(scene, "public", url)] = render(clients["public"], url)
    return pages


def test_no_user_text_becomes_markup_on_any_page(app):
    world = play_the_forum(app)
    world["values"] = argument_values(db.session.get(Plan, world["plan_id"]))
    clients = {"admin": app.test_client(), "public": app.test_client()}
    clients["admin"].login("admin")  # before the user name changes
    clients["admin"].get("/")  # shows the welcome message, which only the first page would
    texts = UserTexts()
    texts.write(clean)
    clean_pages = render_everything(app, clients, world)
    texts.write(hostile)
    hostile_pages = render_everything(app, clients, world)

    failures = differences(clean_pages, hostile_pages)
    assert not failures, "user text became markup:\n" + "\n".join(failures)
    # The payload did reach the pages, as text.
    plan_id, token = world["plan_id"], world["values"]["token"]
    scene = next(iter(SCENES))
    for who, url in [
        ("admin", f"/plans/{plan_id}/meeting/record"),
        ("admin", f"/plans/{plan_id}/board"),
        ("admin", f"/plans/{plan_id}/history"),
        ("public", f"/live/{token}"),
        ("public", f"/live/{token}/events?layout=phone"),
    ]:
        status, html = hostile_pages[(scene, who, url)]
        assert status == 200, url
        assert PAYLOAD in Structure(html).text, f"{url} does not show the payload as text"


# --- the imports: what they write, and the messages they answer with -----------------------

# The texts of a plan file a person wrote (names are matched across the file, so each gets the
# same ending wherever it appears; codes keep theirs).
PLAN_FILE_TEXT = (
    {"name", "district", "province", "local_admin_agency", "lead_agency", "supporting_agencies"}
    | USER_TEXT["plans"]
    | (USER_TEXT["projects"] - {"sector", "programme"})
)


def plan_file_with(document, ending: Callable[[str], str], key: str = ""):
    if isinstance(document, dict):
        return {name: plan_file_with(value, ending, name) for name, value in document.items()}
    if isinstance(document, list):
        return [plan_file_with(value, ending, key) for value in document]
    if isinstance(document, str) and key in PLAN_FILE_TEXT:
        return document + ending(PAYLOAD)
    return document


def agency_of_unknown_kind(document, ending):
    name = "กลุ่มผู้ใช้น้ำ" + ending(PAYLOAD)
    document["agencies"].append({"name": name, "kind": "ไม่รู้จัก"})
    document["projects"][0]["lead_agency"] = name


def unusable_agency_name(document, ending):
    # Too long for the column: the refusal names its first 80 characters.
    document["projects"][0]["lead_agency"] = "กลุ่มผู้ใช้น้ำ" + ending(PAYLOAD) + "ก" * 300


def unusable_strategy_code(document, ending):
    document["projects"][0]["strategies"] = [["local", "L9" + ending(PAYLOAD)]]


def upload_plan_file(client, document, replace: bool):
    data = {"file": (io.BytesIO(json.dumps(document).encode()), "plan.json")}
    if replace:
        data["replace"] = "y"
    return client.post(
        "/plans/import", data=data, content_type="multipart/form-data", follow_redirects=True
    )


def answers_alike(clean_answer, hostile_answer, where: str) -> str:
    """The two answers have the same status and markup; returns the hostile answer's text."""
    assert clean_answer.status_code == hostile_answer.status_code, where
    clean_html, hostile_html = (
        clean_answer.get_data(as_text=True),
        hostile_answer.get_data(as_text=True),
    )
    problem = markup_from_text(clean_html, hostile_html)
    assert not problem, f"{where}: user text became markup: {problem}"
    return Structure(hostile_html).text


@pytest.mark.parametrize(
    "refusal", [agency_of_unknown_kind, unusable_agency_name, unusable_strategy_code]
)
def test_a_plan_file_refused_shows_its_names_as_text(admin_client, demo_plan, refusal):
    """Each refusal names what the file got wrong: that name is the file's text, not markup."""
    exported = admin_client.get(f"/plans/{demo_plan.id}/export.json").get_json()
    answers = []
    for ending in (clean, hostile):
        document = json.loads(json.dumps(exported))
        refusal(document, ending)
        answers.append(upload_plan_file(admin_client, document, replace=True))
    text = answers_alike(*answers, refusal.__name__)
    assert answers[1].status_code == 400
    assert SHORT_PAYLOADS[0] in text, "the refusal does not name what was refused"


def test_a_plan_file_full_of_payloads_imports_and_answers_in_text(admin_client, demo_plan):
    """A whole plan file with the payload in every text: imported as a new tambon (its name in
    the answer's message), then refused when sent again without "replace" (its name in the
    refusal). The imported plan's pages are those of the test above."""
    exported = admin_client.get(f"/plans/{demo_plan.id}/export.json").get_json()
    documents = [plan_file_with(exported, ending) for ending in (clean, hostile)]
    imported = [upload_plan_file(admin_client, document, replace=False) for document in documents]
    text = answers_alike(*imported, "the imported plan's page")
    assert imported[1].status_code == 200 and PAYLOAD in text
    refused = [upload_plan_file(admin_client, document, replace=False) for document in documents]
    text = answers_alike(*refused, "the refusal of a plan that is there")
    assert refused[1].status_code == 400 and PAYLOAD in text


def workbook_with(ending: Callable[[str], str]) -> bytes:
    """A village-plan workbook with the payload in a header, titles, a sector, the sheet name."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "โครงการ" + ending("\"'><b onclick=x>")  # sheet names refuse / and :
    sheet.append(["หมู่ที่", "ชื่อโครงการ", "ด้าน", "งบประมาณ (บาท)", "ผู้เสนอ" + ending(PAYLOAD)])
    sheet.append([3, "ถนนสายใหม่" + ending(PAYLOAD), "โครงสร้างพื้นฐาน", 50000, "นาย ก"])
    sheet.append([3, "ถนนสายใหม่" + ending(PAYLOAD), "โครงสร้างพื้นฐาน", 50000, "นาย ข"])
    sheet.append([4, "ฝายชะลอน้ำ" + ending(PAYLOAD), "ด้าน" + ending(PAYLOAD), 1000, ""])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def test_an_excel_import_preview_shows_the_files_text_as_text(admin_client, demo_plan):
    answers = [
        admin_client.post(
            f"/plans/{demo_plan.id}/import",
            data={"file": (io.BytesIO(workbook_with(ending)), "หมู่ 3.xlsx")},
            content_type="multipart/form-data",
        )
        for ending in (clean, hostile)
    ]
    text = answers_alike(*answers, "the import preview")
    assert answers[1].status_code == 400  # the unknown sector
    assert PAYLOAD in text
