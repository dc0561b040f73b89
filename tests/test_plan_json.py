"""A whole plan to JSON and back, field by field: nothing lost when a plan moves from the laptop
to the district server and back. The change log stays behind by design."""

from __future__ import annotations

import io
import json
from datetime import date, datetime

import pytest
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select

from planapp.changes import NothingToUndo, undo_last_change
from planapp.extensions import db
from planapp.models import (
    Agency,
    ChangeLog,
    ForumAttendance,
    Plan,
    PlanGroup,
    PresentationTimer,
    Project,
    Strategy,
    Tambon,
    User,
    Village,
)
from planapp.ranking import renumber
from planapp.transfer import plan_json
from tests.conftest import make_user
from tests.route_walk import database_state, outsider_plan

# Tables that hang off a plan or a project and what happens to them in a plan file.
CARRIED_TABLES = {
    "projects",
    "board_places",  # part of the Project mapping: group and rank travel in each project's row
    "project_villages",
    "project_supporting_agencies",
    "project_strategies",
}
# Stay on the server where they were written: the log, a vote round's printed ballots (with
# their picks; the totals travel as the projects' votes), and an Excel file waiting for the
# confirmation of the session that uploaded it.
# The roll-up summaries are counted again by the server that imports the plan (record_change).
# sync_links: where a hall laptop's plan syncs, with its token (planapp/sync), stays there.
LEFT_BEHIND = {
    "change_log",
    "vote_rounds",
    "ballot_picks",
    "pending_imports",
    "plan_summaries",
    "plan_summary_figures",
    "sync_links",
}


def plan_facts(plan: Plan) -> dict:
    """Every column of the plan and its projects read straight from the tables, with database
    ids replaced by what they point at, so two servers' copies can be compared field by field."""
    db.session.expire_all()
    plan = db.session.get(Plan, plan.id)
    facts = {"tambon": (plan.tambon.province, plan.tambon.district, plan.tambon.name)}
    facts["villages"] = [(v.number, v.name) for v in plan.tambon.villages]
    facts["plan"] = {
        c.key: getattr(plan, c.key)
        for c in sa_inspect(Plan).columns
        if c.key not in ("id", "tambon_id", "version")
    }
    projects = db.session.scalars(
        select(Project).where(Project.plan_id == plan.id).order_by(Project.id)
    ).all()
    position = {p.id: n for n, p in enumerate(projects)}
    rows = []
    for project in projects:
        row = {
            c.key: getattr(project, c.key)
            for c in sa_inspect(Project).columns
            if c.key not in ("id", "plan_id", "lead_agency_id", "merged_into_id")
            and c.key not in ("carried_over_from_id", "proposed_by_id")
        }
        row["lead_agency"] = project.lead_agency.name if project.lead_agency else None
        row["proposed_by"] = project.proposed_by.number if project.proposed_by else None
        row["merged_into"] = position.get(project.merged_into_id)
        source = db.session.get(Project, project.carried_over_from_id or 0)
        row["carried_over_from"] = (
            (source.plan.fiscal_year, source.title) if source is not None else None
        )
        row["villages"] = [v.number for v in project.villages]
        row["supporting_agencies"] = sorted((a.name, a.kind) for a in project.supporting_agencies)
        row["strategies"] = sorted(
            (
                s.level,
                s.code,
                s.name,
                (s.parent.level, s.parent.code, s.parent.name) if s.parent else None,
            )
            for s in project.strategies
        )
        rows.append(row)
    facts["projects"] = rows
    for model in plan_json.plan_child_models():
        facts[model.__tablename__] = sorted(
            (
                tuple(
                    (c.key, _natural(c, getattr(item, c.key)))
                    for c in sa_inspect(model).columns
                    if c.key != "plan_id"
                )
                for item in db.session.scalars(select(model).where(model.plan_id == plan.id))
            ),
            key=repr,
        )
    return facts


def _natural(column, value):
    """A reference to a village or user as its number or name; other values as they are."""
    for key in column.foreign_keys:
        if value is None:
            return None
        if key.column.table.name == "villages":
            return db.session.get(Village, value).number
        if key.column.table.name == "users":
            return db.session.get(User, value).username
    return value


def assert_same_facts(before: dict, after: dict) -> None:
    assert after["tambon"] == before["tambon"]
    assert after["villages"] == before["villages"]
    for key, value in before["plan"].items():
        assert after["plan"][key] == value, f"plan.{key}"
    for model in plan_json.plan_child_models():
        assert after[model.__tablename__] == before[model.__tablename__], model.__tablename__
        assert before[model.__tablename__], f"the test plan has no {model.__tablename__} rows"
    assert len(after["projects"]) == len(before["projects"])
    for number, (old, new) in enumerate(zip(before["projects"], after["projects"], strict=True)):
        for key, value in old.items():
            assert new[key] == value, f"project {number + 1}: {key}"


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


@pytest.fixture
def in_request(app):
    """import_plan writes its change-log summary in the user's language, as in a request."""
    with app.test_request_context():
        yield


@pytest.fixture
def rich_plan(demo_plan):
    """The demo plan with every column of some project filled, a merge, a carry-over from last
    year's plan, follow-up, and text that is hard to carry (Thai, emoji, RTL, quotes)."""
    plan = demo_plan
    plan.forum_date = date(2026, 3, 14)
    plan.forum_place = "ศาลาประชาคม หมู่ 3"
    plan.forum_chair = "นายสมศักดิ์"
    plan.identity = 'ข้าวหอมมะลิ 🌾 "ดี" <b>ที่สุด</b> \u202bمرحبا\u202c'
    plan.plan_start_year = 2566
    plan.grouping = "issue"
    plan.show_kpi = False
    plan.meeting_step = 4
    plan.screen_paused = True
    plan.screen_message = "พักรับประทานอาหาร 🍚 <script>alert(1)</script>"
    plan.projector_mode = "village"
    plan.projector_village_number = 3
    plan.projector_group = "2"  # the group screen shown last; travels with the file
    plan.agreed_at = datetime(2026, 3, 14, 15, 30, 5)
    chair = make_user("chair", "admin")
    villages = plan.tambon.villages
    for village, people in zip(villages, (31, 24), strict=False):
        db.session.add(ForumAttendance(plan_id=plan.id, village_id=village.id, people=people))
    db.session.add(
        PlanGroup(
            plan_id=plan.id,
            funding_group="3",
            ceiling_satang=5_000_000_00,
            confirmed_at=datetime(2026, 3, 14, 14, 0),
            confirmed_by_id=chair.id,
        )
    )
    db.session.add(
        PresentationTimer(
            plan_id=plan.id,
            village_id=villages[0].id,
            length_seconds=300,
            ends_at=datetime(2026, 3, 14, 9, 5),
            remaining_seconds=120,
            updated_at=datetime(2026, 3, 14, 9, 0),
        )
    )
    projects = plan.active_projects()
    first, second, third = projects[0], projects[1], projects[2]
    last_year = Plan(tambon_id=plan.tambon_id, fiscal_year=plan.fiscal_year - 1)
    db.session.add(last_year)
    db.session.flush()
    old = Project(plan_id=last_year.id, title="ถนนลูกรังสายเดิม", budget_satang=1)
    db.session.add(old)
    db.session.flush()
    strategies = db.session.scalars(select(Strategy)).all()
    agencies = db.session.scalars(select(Agency)).all()
    first.title = "=SUM(A1:A9) ถนน คสล. 🚜"
    first.feasibility = "feasible"
    first.feasibility_reason = "มีที่ดินสาธารณะ"
    first.urgency = "urgent"
    first.programme = "อุตสาหกรรมและการโยธา"
    first.kpi = "ร้อยละ 80"
    first.expected_result = "สัญจรสะดวก"
    first.note = "หมายเหตุ\nสองบรรทัด"
    first.votes = 17
    first.wanted_year = 2570
    first.village_rank = 2
    first.lead_agency = agencies[0]
    first.supporting_agencies = agencies[1:3]
    tactic = next(s for s in strategies if s.parent is not None)  # a กลยุทธ์ of the demo
    first.strategies = strategies[:2] + [tactic]
    first.followup_status = "in_budget"
    first.followup_date = date(2026, 10, 5)
    first.followup_note = "อยู่ในข้อบัญญัติ"
    first.budget_ordinance_satang = 123_456_78
    first.budget_ordinance_year = 2570
    first.carried_over_from_id = old.id
    first.budget_satang = 2_500_000_00
    second.rank = None
    second.merged_into_id = third.id
    second.carried_over_from_id = third.id
    renumber(plan)  # the merge closes the gap it left, as in the screens
    db.session.commit()
    return plan


def test_every_table_hanging_off_a_plan_travels_or_is_meant_to_stay(app):
    """A new table referring to plans or projects must be carried in the plan file (or listed
    here as deliberately left behind). Tables of one plan (keyed by plan_id) travel on their own;
    one that hangs off projects needs code in plan_json."""
    carried = CARRIED_TABLES | {m.__tablename__ for m in plan_json.plan_child_models()}
    assert {"forum_attendance", "plan_groups", "presentation_timers"} <= carried
    hanging = {
        table.name
        for table in db.metadata.sorted_tables
        for key in table.foreign_keys
        if key.column.table.name in ("plans", "projects")
    }
    assert hanging - carried - LEFT_BEHIND == set()


def test_the_rich_plan_fills_every_project_column(rich_plan):
    """So the round trip below really carries every field."""
    projects = db.session.scalars(select(Project).where(Project.plan_id == rich_plan.id)).all()
    for column in sa_inspect(Project).columns:
        assert any(getattr(p, column.key) not in (None, "") for p in projects), column.key
    for column in sa_inspect(Plan).columns:
        assert getattr(rich_plan, column.key) not in (None, ""), column.key
    for model in plan_json.plan_child_models():
        rows = db.session.scalars(select(model).where(model.plan_id == rich_plan.id)).all()
        for column in sa_inspect(model).columns:
            assert any(getattr(r, column.key) not in (None, "") for r in rows), column.key


def test_round_trip_to_another_server_keeps_every_field(rich_plan, in_request):
    before = plan_facts(rich_plan)
    text = json.dumps(plan_json.export_plan(rich_plan), ensure_ascii=False)
    assert "change_log" not in text
    # "Another server": the tambon, its plans, agencies and strategies are gone.
    db.session.delete(db.session.get(Tambon, rich_plan.tambon_id))
    for model in (Agency, Strategy):
        for row in db.session.scalars(select(model)):
            db.session.delete(row)
    db.session.commit()
    assert db.session.scalar(select(Plan.id)) is None
    # Last year's plan is not on that server: the carry-over link cannot point there.
    before["projects"][0]["carried_over_from"] = None

    plan = plan_json.import_plan(json.loads(text), actor=user("chair"))
    db.session.commit()
    assert_same_facts(before, plan_facts(plan))
    assert plan.public_token == before["plan"]["public_token"]


def test_a_carry_over_from_last_years_plan_is_found_again(rich_plan, in_request):
    document = plan_json.export_plan(rich_plan)
    before = plan_facts(rich_plan)
    db.session.delete(rich_plan)
    db.session.commit()
    plan = plan_json.import_plan(document, actor=user("chair"))
    db.session.commit()
    assert plan_facts(plan)["projects"][0]["carried_over_from"] == (
        rich_plan.fiscal_year - 1,
        "ถนนลูกรังสายเดิม",
    )
    assert_same_facts(before, plan_facts(plan))


def test_replacing_the_plan_on_a_server_keeps_its_address_and_history(rich_plan, in_request):
    document = plan_json.export_plan(rich_plan)
    before = plan_facts(rich_plan)
    plan_id, token, version = rich_plan.id, rich_plan.public_token, rich_plan.version
    # Meanwhile the copy here was changed; the file wins.
    for project in rich_plan.active_projects():
        project.title = "แก้ไขที่เครื่องนี้"
    history = db.session.scalar(select(db.func.count()).select_from(ChangeLog))
    db.session.commit()

    plan = plan_json.import_plan(document, actor=user("chair"), replace=rich_plan)
    db.session.commit()
    assert plan.id == plan_id and plan.public_token == token
    assert plan.version > version  # open projector views fetch the new state
    assert_same_facts(before, plan_facts(plan))
    entries = db.session.scalars(select(ChangeLog).where(ChangeLog.plan_id == plan_id)).all()
    assert len(entries) == history + 1 and entries[-1].action == "import"
    # Undo cannot reach back across the import into projects that are gone.
    with pytest.raises(NothingToUndo):
        undo_last_change(plan, actor=None)


# --- the routes ---------------------------------------------------------------------------


def upload(client, document, replace=False):
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    data = {"file": (io.BytesIO(body), "plan.json")}
    if replace:
        data["replace"] = "y"
    return client.post("/plans/import", data=data, content_type="multipart/form-data")


def test_export_is_for_the_people_of_the_tambon(app, client, facilitator_client, demo_plan):
    response = facilitator_client.get(f"/plans/{demo_plan.id}/export.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.get_json()["plan"]["fiscal_year"] == demo_plan.fiscal_year
    assert client.get(f"/plans/{demo_plan.id}/export.json").status_code == 401
    other = outsider_plan()
    make_user("outsider", "facilitator", tambons=[other.tambon])
    outsider = app.test_client()
    outsider.login("outsider")
    assert outsider.get(f"/plans/{demo_plan.id}/export.json").status_code == 403


def test_import_through_the_page_replaces_only_when_asked(facilitator_client, rich_plan):
    document = facilitator_client.get(f"/plans/{rich_plan.id}/export.json").get_json()
    before = plan_facts(rich_plan)
    state = database_state()
    refused = upload(facilitator_client, document)
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert 'id="replace-errors"' in page and "หากต้องการแทนที่" in page
    assert database_state() == state
    done = upload(facilitator_client, document, replace=True)
    assert done.status_code == 302 and done.headers["Location"] == f"/plans/{rich_plan.id}"
    # The file names "chair" as the one who confirmed group 3: a file speaks only for the one
    # who imports it, so the group keeps its confirmation but names nobody.
    before["plan_groups"] = [
        tuple((key, None if key == "confirmed_by_id" else value) for key, value in row)
        for row in before["plan_groups"]
    ]
    assert_same_facts(before, plan_facts(rich_plan))


@pytest.mark.parametrize(
    "body, message",
    [
        (b"\xff\xfe not json", "ไฟล์นี้ไม่ใช่ไฟล์แผน (JSON)"),
        (b'{"format": "something else"}', "ไฟล์นี้ไม่ใช่แผนที่ส่งออกจาก planapp"),
        (b"[1, 2, 3]", "ไฟล์นี้ไม่ใช่แผนที่ส่งออกจาก planapp"),
    ],
)
def test_a_file_that_is_not_a_plan_is_refused_next_to_the_field(
    admin_client, demo_plan, body, message
):
    state = database_state()
    response = upload(admin_client, body)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="file-errors"' in page and message in page
    assert database_state() == state


def test_one_bad_project_imports_nothing(admin_client, rich_plan):
    document = plan_json.export_plan(rich_plan)
    document["projects"][-1]["budget_satang"] = -5  # the database refuses negative budgets
    document["tambon"]["name"] = "ตำบลใหม่"  # would be created, with its villages
    state = database_state()
    response = upload(admin_client, document)
    assert response.status_code == 400
    assert "มีค่าที่เครื่องนี้ไม่รับ" in response.get_data(as_text=True)
    assert database_state() == state


def test_facilitators_cannot_bring_in_a_tambon_or_write_into_anothers(app, rich_plan):
    document = plan_json.export_plan(rich_plan)
    other = outsider_plan()
    make_user("outsider", "facilitator", tambons=[other.tambon])
    outsider = app.test_client()
    outsider.login("outsider")
    state = database_state()
    assert upload(outsider, document, replace=True).status_code == 403
    document["tambon"]["name"] = "ตำบลใหม่"
    response = upload(outsider, document)
    assert response.status_code == 400
    assert "โปรดติดต่อสำนักงานอำเภอ" in response.get_data(as_text=True)
    assert database_state() == state


def test_a_tactic_travels_with_its_strategy(rich_plan, in_request):
    """The file names the strategy a tactic belongs to, even when no project names that
    strategy itself; a server lacking both creates both."""
    document = plan_json.export_plan(rich_plan)
    tactic = next(s for p in rich_plan.projects for s in p.strategies if s.parent)
    written = {(s["level"], s["code"]): s for s in document["strategies"]}
    assert written[tactic.level, tactic.code]["parent"] == [tactic.parent.level, tactic.parent.code]
    assert written[tactic.parent.level, tactic.parent.code]["parent"] is None
    # The preamble travels as plan columns.
    assert document["plan"]["national_strategy"] == rich_plan.national_strategy


def test_dates_and_times_travel_as_iso_text(rich_plan):
    document = plan_json.export_plan(rich_plan)
    assert document["plan"]["forum_date"] == "2026-03-14"
    first = document["projects"][0]
    assert first["followup_date"] == "2026-10-05"
    assert datetime.fromisoformat(first["created_at"])


@pytest.mark.parametrize("where", ["document", "project"])
def test_strategies_that_are_not_text_are_refused_not_a_crash(admin_client, rich_plan, where):
    document = plan_json.export_plan(rich_plan)
    if where == "document":
        document["strategies"].append({"level": ["local"], "code": {"a": 1}, "name": "x"})
    else:
        document["projects"][0]["strategies"] = [[["local"], ["1"]]]
    document["tambon"]["name"] = "ตำบลใหม่"
    state = database_state()
    response = upload(admin_client, document)
    if where == "project":
        assert response.status_code == 400
        assert "อ่านรายการยุทธศาสตร์ไม่ได้" in response.get_data(as_text=True)
        assert database_state() == state
    else:
        # A listed strategy no project uses is ignored; the plan comes in.
        assert response.status_code in (200, 302)


# --- what a plan file may do: no more than its importer may do in the screens (issue 13) ----


def assert_refused_without_change(client, document, message: str, replace: bool = True) -> None:
    state = database_state()
    response = upload(client, document, replace=replace)
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page[-2000:]
    assert 'id="file-errors"' in page, page[-2000:]
    assert message in page, page[-3000:]
    assert database_state() == state


def test_a_facilitators_file_cannot_create_strategies(app, facilitator_client, rich_plan):
    """Strategies are set up by administrators in the screens; a facilitator's file may link
    the ones the server has, and is refused (whole) when it names one it lacks."""
    document = plan_json.export_plan(rich_plan)
    document["strategies"].append({"level": "local", "code": "ใหม่ 9", "name": "ยุทธศาสตร์ปลอม"})
    document["projects"][0]["strategies"].append(["local", "ใหม่ 9"])
    assert_refused_without_change(facilitator_client, document, "ยุทธศาสตร์ ใหม่ 9 ยังไม่มีในเครื่องนี้")
    assert db.session.scalar(select(Strategy).where(Strategy.code == "ใหม่ 9")) is None
    # An administrator may: the same file comes in, with the strategy.
    make_user("admin", "admin")
    admin = app.test_client()
    admin.login("admin")
    assert upload(admin, document, replace=True).status_code == 302
    assert db.session.scalar(select(Strategy.name).where(Strategy.code == "ใหม่ 9")) == (
        "ยุทธศาสตร์ปลอม"
    )


def test_a_facilitators_file_keeps_the_servers_public_address_and_flag(
    facilitator_client, rich_plan
):
    rich_plan.is_public = False
    db.session.commit()
    token = rich_plan.public_token
    document = plan_json.export_plan(rich_plan)
    document["plan"]["public_token"] = "chosen-by-the-file-0123456789"
    document["plan"]["is_public"] = True
    assert upload(facilitator_client, document, replace=True).status_code == 302
    db.session.expire_all()
    plan = db.session.get(Plan, rich_plan.id)
    assert plan.public_token == token and plan.is_public is False
    # A plan new on this server: a fresh address, not public.
    db.session.delete(plan)
    db.session.commit()
    assert upload(facilitator_client, document).status_code == 302
    plan = db.session.scalar(select(Plan).where(Plan.fiscal_year == rich_plan.fiscal_year))
    assert plan.public_token not in (token, "chosen-by-the-file-0123456789")
    assert plan.is_public is False


def test_a_file_names_no_one_but_its_importer_as_confirmer(facilitator_client, rich_plan):
    make_user("admin", "admin")
    document = plan_json.export_plan(rich_plan)
    for name in ("admin", "somchai"):
        document["plan_tables"]["plan_groups"][0]["confirmed_by_username"] = name
        assert upload(facilitator_client, document, replace=True).status_code == 302
        db.session.expire_all()
        group = db.session.scalar(select(PlanGroup).where(PlanGroup.plan_id == rich_plan.id))
        assert group.confirmed_at is not None
        expected = None if name == "admin" else user("somchai").id
        assert group.confirmed_by_id == expected, name


def column_ranks(plan: Plan) -> dict[str, list]:
    db.session.expire_all()
    columns: dict[str, list] = {}
    for project in db.session.scalars(
        select(Project).where(Project.plan_id == plan.id).order_by(Project.rank)
    ):
        if project.merged_into_id is None:
            columns.setdefault(project.funding_group, []).append(project.rank)
    return columns


def test_a_merged_project_holds_no_rank_and_ranks_stay_one_to_n(facilitator_client, rich_plan):
    document = plan_json.export_plan(rich_plan)
    merged = next(row for row in document["projects"] if row["merged_into"] is not None)
    target = next(row for row in document["projects"] if row["key"] == merged["merged_into"])
    merged["funding_group"] = target["funding_group"]
    merged["rank"] = 1  # keeps its rank: the column's ranks would no longer be 1..n
    gapped = [row for row in document["projects"] if row["merged_into"] is None][-1]
    gapped["rank"] += 50  # and a gap
    assert upload(facilitator_client, document, replace=True).status_code == 302
    for group, ranks in column_ranks(rich_plan).items():
        assert ranks == list(range(1, len(ranks) + 1)), group
    merged_rank = db.session.scalar(
        select(Project.rank).where(
            Project.plan_id == rich_plan.id, Project.merged_into_id.is_not(None)
        )
    )
    assert merged_rank is None


@pytest.mark.parametrize("shape", ["cycle", "chain"])
def test_merge_cycles_and_chains_are_refused(facilitator_client, rich_plan, shape):
    """A two-project cycle once took both projects off the board."""
    document = plan_json.export_plan(rich_plan)
    active = [row for row in document["projects"] if row["merged_into"] is None]
    first, second, third = active[:3]
    first["merged_into"] = second["key"]
    if shape == "cycle":
        second["merged_into"] = first["key"]
    else:
        second["merged_into"] = third["key"]
    assert_refused_without_change(facilitator_client, document, "ถูกรวมเข้ากับโครงการที่ถูกรวมไปแล้ว")


# --- values no column can hold: a refusal, never a server error (issue 13 item 9) -----------


def set_path(document: dict, path: tuple, value) -> dict:
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return document


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("plan", "meeting_step"), 99, "ขั้นตอนที่ 1 ถึง 7"),
        (("plan", "projector_mode"), "disco", "ไม่มีหน้าจอนี้"),
        (("plan", "projector_group"), "4", "ต้องเป็นกลุ่ม 1, 2 หรือ 3"),
        (("plan", "fiscal_year"), 2**64, "ตัวเลขที่ใหญ่เกินกว่าจะบันทึกได้"),
        (("plan", "fiscal_year"), 2**40, "ต้องเป็นปี พ.ศ."),
        (("plan", "plan_start_year"), 2**40, "เกินกว่าที่เครื่องนี้เก็บได้"),
        (("plan", "projector_village_number"), 2**31, "เกินกว่าที่เครื่องนี้เก็บได้"),
        (("projects", 0, "budget_satang"), 2**64, "ตัวเลขที่ใหญ่เกินกว่าจะบันทึกได้"),
        (("projects", 0, "budget_satang"), 2**63, "ตัวเลขที่ใหญ่เกินกว่าจะบันทึกได้"),
        (("projects", 0, "rank"), 2**40, "เกินกว่าที่เครื่องนี้เก็บได้"),
        (("projects", 0, "votes"), 2**33, "เกินกว่าที่เครื่องนี้เก็บได้"),
        (("projects", 0, "key"), 2**70, "ตัวเลขที่ใหญ่เกินกว่าจะบันทึกได้"),
        (("projects", 0, "villages"), [[1]], "ชนิดไม่ถูกต้อง"),
        (("projects", 0, "merged_into"), {"a": 1}, "ชนิดไม่ถูกต้อง"),
        (("tambon", "villages", 0, "number"), 2**40, "ใช้ไม่ได้"),
        (("agencies", 0, "name"), ["x"], "หน่วยงานที่ไม่มีชื่อ"),
        (("plan_tables", "plan_groups", 0, "confirmed_by_username"), ["x"], "ชนิดไม่ถูกต้อง"),
        (("tambon", "name"), "ตำบล\x00ใหม่", "อักขระ NUL"),
        (("tambon", "villages", 0, "name"), "บ้าน\x00", "อักขระ NUL"),
        (("projects", 0, "lead_agency"), "อบต.\x00", "อักขระ NUL"),
        (("projects", 0, "strategies"), [["local", "S\x00"]], "อักขระ NUL"),
        (("plan_tables", "plan_groups", 0, "confirmed_by_username"), "ad\x00min", "อักขระ NUL"),
        (("plan", "identity"), [[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]], "ซ้อนกันลึก"),
    ],
)
def test_values_no_column_can_hold_are_refused_next_to_the_file(
    admin_client, rich_plan, path, value, message
):
    document = set_path(plan_json.export_plan(rich_plan), path, value)
    assert_refused_without_change(admin_client, document, message)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "ไฟล์นี้ไม่ใช่ไฟล์แผน (JSON)"),  # RecursionError
        (b'{"format": "planapp-plan", "x": NaN}', "ไฟล์นี้ไม่ใช่ไฟล์แผน (JSON)"),
    ],
)
def test_unreadable_json_is_refused_next_to_the_file(admin_client, demo_plan, body, message):
    assert_refused_without_change(admin_client, body, message, replace=False)


def test_a_number_past_infinity_is_refused(admin_client, rich_plan):
    """`1e400` is valid JSON that Python reads as infinity."""
    document = plan_json.export_plan(rich_plan)
    document["projects"][0]["budget_satang"] = 123456789
    body = json.dumps(document).replace("123456789", "1e400", 1).encode()
    assert_refused_without_change(admin_client, body, "ตัวเลขที่ใหญ่เกินกว่าจะบันทึกได้")
