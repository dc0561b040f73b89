"""Set-up screens (tambon, villages, plan, agencies, strategies) and a village's projects: add,
edit, delete with confirmation and undo, reorder in the village's own order."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from planapp.changes import undo_last_change
from planapp.extensions import db
from planapp.intake.projects import village_projects
from planapp.models import Agency, ChangeLog, Plan, Project, Strategy, Tambon, Village
from tests.conftest import make_user


def project_form(**overrides) -> dict:
    data = {
        "title": "ขุดลอกคลองส่งน้ำ",
        "sector": "infrastructure",
        "budget_satang": "150,000",
        "wanted_year": "2570",
        "rationale": "น้ำไม่พอทำนา",
        "objective": "",
        "target_output": "",
        "location": "",
        "programme": "",
        "kpi": "",
        "expected_result": "",
        "note": "",
    }
    data.update(overrides)
    return data


def column(plan, group="unsorted"):
    return db.session.scalars(
        select(Project)
        .where(
            Project.plan_id == plan.id, Project.funding_group == group, Project.rank.is_not(None)
        )
        .order_by(Project.rank)
    ).all()


# --- tambons, villages, plans ---------------------------------------------------------------


def test_admin_creates_a_tambon_its_villages_and_a_plan(admin_client):
    page = admin_client.get("/").get_data(as_text=True)
    assert "/tambons/new" in page

    response = admin_client.post(
        "/tambons/new",
        data={"name": " หนองบัว ", "district": "เมือง", "province": "ขอนแก่น"},
    )
    assert response.status_code == 302
    tambon = db.session.scalar(select(Tambon))
    assert (tambon.name, tambon.district, tambon.province) == ("หนองบัว", "เมือง", "ขอนแก่น")

    # Thai digits are read as the number they are.
    response = admin_client.post(
        f"/tambons/{tambon.id}/villages", data={"number": "๓", "name": "บ้านโนน"}
    )
    assert response.status_code == 302
    village = db.session.scalar(select(Village))
    assert (village.number, village.name) == (3, "บ้านโนน")

    response = admin_client.post(
        f"/tambons/{tambon.id}/plans/new",
        data={
            "fiscal_year": "2570",
            "plan_start_year": "2566",
            "grouping": "issue",
            "identity": "ถิ่นผ้าไหม",
            "development_position": "",
            "direction": "",
            "potential": "",
            "key_problems": "ภัยแล้ง",
        },
    )
    assert response.status_code == 302
    plan = db.session.scalar(select(Plan))
    assert (plan.fiscal_year, plan.plan_start_year, plan.grouping) == (2570, 2566, "issue")
    assert plan.show_kpi is False  # an unticked box is off
    assert plan.identity == "ถิ่นผ้าไหม" and plan.key_problems == "ภัยแล้ง"
    page = admin_client.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert f"/plans/{plan.id}/villages/{village.id}" in page


def test_tambon_and_village_refusals_say_why_next_to_the_field(admin_client, demo_plan):
    tambon = demo_plan.tambon
    response = admin_client.post(
        "/tambons/new",
        data={"name": tambon.name, "district": tambon.district, "province": tambon.province},
    )
    assert response.status_code == 400
    assert "มีตำบลนี้แล้ว" in response.get_data(as_text=True)

    before = db.session.scalar(select(func.count()).select_from(Village))
    for data, message in [
        ({"number": "1", "name": "ซ้ำ"}, "มีหมู่ที่ 1 ในตำบลนี้แล้ว"),
        ({"number": "สาม", "name": "บ้าน"}, "กรุณาพิมพ์เป็นจำนวนเต็ม"),
        ({"number": "0", "name": "บ้าน"}, "หมู่ที่ต้องอยู่ระหว่าง 1 ถึง 999"),
        ({"number": "9", "name": "  "}, "กรุณากรอกช่องนี้"),
    ]:
        response = admin_client.post(f"/tambons/{tambon.id}/villages", data=data)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True), data
    assert db.session.scalar(select(func.count()).select_from(Village)) == before


def test_adding_a_village_with_htmx_returns_the_villages_fragment(admin_client, demo_plan):
    tambon = demo_plan.tambon
    response = admin_client.post(
        f"/tambons/{tambon.id}/villages",
        data={"number": "12", "name": "บ้านใหม่ <b>"},
        headers={"HX-Request": "true"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.lstrip().startswith('<section id="villages"')
    assert "บ้านใหม่ &lt;b&gt;" in page  # escaped
    assert "<html" not in page


def test_only_admins_create_tambons_and_strangers_cannot_touch_villages(
    app, client, facilitator_client, demo_plan
):
    assert facilitator_client.get("/tambons/new").status_code == 403
    assert client.get("/tambons/new").status_code == 302  # to the sign-in page
    other = Tambon(name="อื่น", district="อื่น", province="อื่น")
    db.session.add(other)
    db.session.commit()
    response = facilitator_client.post(
        f"/tambons/{other.id}/villages", data={"number": "1", "name": "x"}
    )
    assert response.status_code == 403
    # Without the CSRF token nothing is saved.
    response = facilitator_client.post(
        f"/tambons/{demo_plan.tambon_id}/villages", data={"number": "40", "name": "x"}, csrf=False
    )
    assert response.status_code == 400
    assert db.session.scalar(select(Village).where(Village.number == 40)) is None


def test_a_village_with_projects_cannot_be_removed(admin_client, demo_plan):
    village = demo_plan.tambon.villages[0]
    admin_client.post(f"/villages/{village.id}/delete")
    assert db.session.get(Village, village.id) is not None
    empty = Village(tambon=demo_plan.tambon, number=30, name="ว่าง")
    db.session.add(empty)
    db.session.commit()
    empty_id = empty.id
    admin_client.post(f"/villages/{empty_id}/delete")
    db.session.expire_all()
    assert db.session.get(Village, empty_id) is None


def test_plan_settings_are_logged_and_undone(facilitator_client, demo_plan):
    page = facilitator_client.get(f"/plans/{demo_plan.id}/settings").get_data(as_text=True)
    version = page.split('name="version" type="hidden" value="')[1].split('"')[0]
    old_identity = demo_plan.identity
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/settings",
        data={
            "fiscal_year": str(demo_plan.fiscal_year),
            "version": version,
            "identity": "อัตลักษณ์ใหม่",
            "development_position": demo_plan.development_position,
            "direction": demo_plan.direction,
            "potential": demo_plan.potential,
            "key_problems": demo_plan.key_problems,
            "plan_start_year": "2571",
            "grouping": "strategy",
            "show_kpi": "y",
        },
    )
    assert response.status_code == 302
    db.session.refresh(demo_plan)
    assert demo_plan.identity == "อัตลักษณ์ใหม่" and demo_plan.plan_start_year == 2571
    assert demo_plan.version == 1
    undo_last_change(demo_plan, actor=None)
    db.session.commit()
    assert demo_plan.identity == old_identity


def test_a_second_plan_for_the_same_year_is_refused(admin_client, demo_plan):
    response = admin_client.post(
        f"/tambons/{demo_plan.tambon_id}/plans/new",
        data={"fiscal_year": str(demo_plan.fiscal_year), "grouping": "strategy"},
    )
    assert response.status_code == 400
    assert "มีแผนของปีนั้นแล้ว" in response.get_data(as_text=True)
    response = admin_client.post(
        f"/tambons/{demo_plan.tambon_id}/plans/new",
        data={"fiscal_year": "2026", "grouping": "strategy"},
    )
    assert response.status_code == 400
    assert "พ.ศ." in response.get_data(as_text=True)


def test_admin_adds_and_edits_agencies_and_strategies(admin_client):
    admin_client.post("/setup/agencies", data={"name": "อบต.หนองบัว", "kind": "local"})
    agency = db.session.scalar(select(Agency))
    assert (agency.name, agency.kind) == ("อบต.หนองบัว", "local")
    response = admin_client.post("/setup/agencies", data={"name": "อบต.หนองบัว", "kind": "local"})
    assert response.status_code == 400 and "มีหน่วยงานนี้แล้ว" in response.get_data(as_text=True)
    admin_client.post(
        f"/setup/agencies/{agency.id}/edit", data={"name": "เทศบาลหนองบัว", "kind": "local"}
    )
    db.session.refresh(agency)
    assert agency.name == "เทศบาลหนองบัว"

    admin_client.post(
        "/setup/strategies", data={"level": "province", "code": "1", "name": "เกษตรปลอดภัย"}
    )
    strategy = db.session.scalar(select(Strategy))
    assert (strategy.level, strategy.code) == ("province", "1")
    response = admin_client.post(
        "/setup/strategies", data={"level": "province", "code": "1", "name": "ซ้ำ"}
    )
    assert response.status_code == 400


def test_a_tactic_belongs_to_a_strategy_one_level_deep(admin_client):
    """A กลยุทธ์ is a strategy under its ยุทธศาสตร์: it takes the strategy's level, and a
    strategy with tactics of its own cannot become one."""
    for code, name in (("1", "โครงสร้างพื้นฐาน"), ("2", "เศรษฐกิจ")):
        admin_client.post("/setup/strategies", data={"level": "local", "code": code, "name": name})
    one, two = (db.session.scalar(select(Strategy).where(Strategy.code == c)) for c in "12")
    response = admin_client.post(
        "/setup/strategies",
        data={"level": "province", "code": "1.1", "name": "ถนนและทางระบายน้ำ", "parent_id": one.id},
    )
    assert response.status_code == 302
    tactic = db.session.scalar(select(Strategy).where(Strategy.code == "1.1"))
    assert tactic.parent == one and tactic.level == "local"  # the level of its strategy
    page = admin_client.get("/setup/strategies").get_data(as_text=True)
    assert "เป็นกลยุทธ์ของยุทธศาสตร์" in page
    # Listed under its strategy, before the next one.
    assert page.index("ถนนและทางระบายน้ำ") < page.index("เศรษฐกิจ")

    # No tactic of a tactic; a strategy with tactics does not become one.
    response = admin_client.post(
        "/setup/strategies",
        data={"level": "local", "code": "1.1.1", "name": "ซอย", "parent_id": tactic.id},
    )
    assert response.status_code == 400  # a tactic is not among the choices
    assert 'id="parent_id-errors"' in response.get_data(as_text=True)
    assert db.session.scalar(select(Strategy).where(Strategy.code == "1.1.1")) is None
    response = admin_client.post(
        f"/setup/strategies/{one.id}/edit",
        data={"level": "local", "code": "1", "name": one.name, "parent_id": two.id},
    )
    assert response.status_code == 400
    assert "ยุทธศาสตร์นี้มีกลยุทธ์อยู่แล้ว" in response.get_data(as_text=True)
    db.session.refresh(one)
    assert one.parent_id is None
    # A strategy moving to another level takes its tactics along.
    response = admin_client.post(
        f"/setup/strategies/{one.id}/edit",
        data={"level": "district", "code": "1", "name": one.name, "parent_id": "0"},
    )
    assert response.status_code == 302
    db.session.refresh(tactic)
    assert (tactic.level, tactic.parent_id) == ("district", one.id)
    # The edit page shows the tactic's strategy chosen; saving without one makes it a strategy.
    page = admin_client.get(f"/setup/strategies/{tactic.id}/edit").get_data(as_text=True)
    assert f'<option selected value="{one.id}">' in page
    response = admin_client.post(
        f"/setup/strategies/{tactic.id}/edit",
        data={"level": "district", "code": "1.1", "name": tactic.name, "parent_id": "0"},
    )
    assert response.status_code == 302
    db.session.refresh(tactic)
    assert tactic.parent_id is None


def test_the_strategies_the_plan_answers_to_are_plan_settings(
    facilitator_client, admin_client, demo_plan
):
    page = facilitator_client.get(f"/plans/{demo_plan.id}/settings").get_data(as_text=True)
    assert "ก. ยุทธศาสตร์ชาติ 20 ปี" in page and demo_plan.national_strategy in page
    version = page.split('name="version" type="hidden" value="')[1].split('"')[0]
    data = {
        "fiscal_year": str(demo_plan.fiscal_year),
        "version": version,
        "plan_start_year": "2566",
        "grouping": "strategy",
        "show_kpi": "y",
        "national_strategy": "  ยุทธศาสตร์ที่ 3 ด้านการพัฒนาและเสริมสร้างศักยภาพทรัพยากรมนุษย์ ",
        "national_plan": "ฉบับที่ 13",
        "sdgs": "",
        "province_strategy": "ยุทธศาสตร์ที่ 2",
        "province_local_strategy": "ยุทธศาสตร์ที่ 1",
    }
    old = demo_plan.national_strategy
    assert facilitator_client.post(f"/plans/{demo_plan.id}/settings", data=data).status_code == 302
    db.session.refresh(demo_plan)
    assert demo_plan.national_strategy == "ยุทธศาสตร์ที่ 3 ด้านการพัฒนาและเสริมสร้างศักยภาพทรัพยากรมนุษย์"
    assert (demo_plan.national_plan, demo_plan.sdgs) == ("ฉบับที่ 13", "")
    # Logged and undone like the rest of the settings.
    undo_last_change(demo_plan, actor=None)
    db.session.commit()
    assert demo_plan.national_strategy == old
    # Too long is refused next to the field.
    data["sdgs"] = "ก" * 2001
    page = facilitator_client.get(f"/plans/{demo_plan.id}/settings").get_data(as_text=True)
    data["version"] = page.split('name="version" type="hidden" value="')[1].split('"')[0]
    response = facilitator_client.post(f"/plans/{demo_plan.id}/settings", data=data)
    assert response.status_code == 400 and 'id="sdgs-errors"' in response.get_data(as_text=True)
    # They belong to the five-year plan: next year's new plan starts with them.
    page = admin_client.get(f"/tambons/{demo_plan.tambon_id}/plans/new").get_data(as_text=True)
    assert demo_plan.national_strategy in page and demo_plan.province_local_strategy in page


def test_facilitators_may_not_manage_agencies(facilitator_client):
    assert facilitator_client.get("/setup/agencies").status_code == 403
    response = facilitator_client.post("/setup/strategies", data={"level": "province"})
    assert response.status_code == 403


# --- a village's projects -------------------------------------------------------------------


def test_a_new_project_joins_the_end_of_its_village_and_of_unsorted(facilitator_client, demo_plan):
    village = demo_plan.tambon.villages[0]
    last_rank = column(demo_plan)[-1].rank
    last_village_rank = village_projects(demo_plan, village)[-1].village_rank
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/villages/{village.id}/projects/new",
        data=project_form(village_ids=[village.id], budget_satang="๑๕๐,๐๐๐.๕๐"),
    )
    assert response.status_code == 302
    project = db.session.scalar(select(Project).where(Project.title == "ขุดลอกคลองส่งน้ำ"))
    assert project.funding_group == "unsorted" and project.rank == last_rank + 1
    assert project.village_rank == last_village_rank + 1
    assert project.budget_satang == 150_000_50
    assert project.programme == "industry_public_works"  # proposed from the sector
    assert project.villages == [village]
    entry = db.session.scalar(select(ChangeLog).order_by(ChangeLog.id.desc()))
    assert entry.action == "create" and entry.project_id == project.id
    page = facilitator_client.get(f"/plans/{demo_plan.id}/villages/{village.id}")
    assert "ขุดลอกคลองส่งน้ำ" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": "   "}, "กรุณาพิมพ์ชื่อโครงการ"),
        ({"budget_satang": "-5"}, "งบประมาณติดลบไม่ได้"),
        ({"budget_satang": "ห้าหมื่น"}, "งบประมาณต้องเป็นตัวเลข"),
        ({"budget_satang": ""}, "พิมพ์ 0"),
        ({"budget_satang": "10.555"}, "ทศนิยมได้ไม่เกินสองตำแหน่ง"),
        ({"village_ids": []}, "เลือกอย่างน้อยหนึ่งหมู่บ้าน"),
        ({"wanted_year": "2026"}, "พ.ศ."),
    ],
)
def test_bad_project_input_is_refused_next_to_the_field(
    facilitator_client, demo_plan, overrides, message
):
    village = demo_plan.tambon.villages[0]
    before = db.session.scalar(select(func.count()).select_from(Project))
    data = project_form(village_ids=[village.id])
    data.update(overrides)
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/villages/{village.id}/projects/new", data=data
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Project)) == before
    assert demo_plan.version == 0


def test_text_is_stored_as_typed_and_rendered_escaped(facilitator_client, demo_plan):
    village = demo_plan.tambon.villages[0]
    title = '=HYPERLINK("x") <script>alert(1)</script> 🌾'
    facilitator_client.post(
        f"/plans/{demo_plan.id}/villages/{village.id}/projects/new",
        data=project_form(village_ids=[village.id], title=title),
    )
    assert db.session.scalar(select(Project).where(Project.title == title)) is not None
    page = facilitator_client.get(f"/plans/{demo_plan.id}/villages/{village.id}")
    text = page.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 🌾" in text


def test_editing_a_project_is_logged_and_a_stale_form_is_refused(facilitator_client, demo_plan):
    project = demo_plan.projects[0]
    village = project.villages[0]
    page = facilitator_client.get(f"/plans/{demo_plan.id}/projects/{project.id}/edit")
    version = page.get_data(as_text=True).split('name="version" type="hidden" value="')[1]
    version = version.split('"')[0]
    data = project_form(village_ids=[village.id], title="ชื่อที่แก้", version=version)
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/projects/{project.id}/edit", data=data
    )
    assert response.status_code == 302
    db.session.refresh(project)
    assert project.title == "ชื่อที่แก้" and project.budget_satang == 150_000_00
    assert demo_plan.version == 1
    # The same (now stale) form again: refused, nothing changes.
    data["title"] = "ทับของคนอื่น"
    facilitator_client.post(f"/plans/{demo_plan.id}/projects/{project.id}/edit", data=data)
    db.session.refresh(project)
    assert project.title == "ชื่อที่แก้"
    undo_last_change(demo_plan, actor=None)
    db.session.commit()
    assert project.title != "ชื่อที่แก้"


def test_delete_asks_first_then_logs_closes_the_gap_and_undo_restores(
    facilitator_client, demo_plan
):
    before = [(p.id, p.rank) for p in column(demo_plan)]
    victim = column(demo_plan)[1]
    victim_id, title, villages = victim.id, victim.title, victim.village_numbers
    confirm = facilitator_client.get(f"/plans/{demo_plan.id}/projects/{victim_id}/delete")
    assert confirm.status_code == 200 and title in confirm.get_data(as_text=True)
    assert db.session.get(Project, victim_id) is not None  # asking deletes nothing

    response = facilitator_client.post(f"/plans/{demo_plan.id}/projects/{victim_id}/delete")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Project, victim_id) is None
    assert [p.rank for p in column(demo_plan)] == list(range(1, len(before)))
    entry = db.session.scalar(select(ChangeLog).order_by(ChangeLog.id.desc()))
    assert entry.action == "delete" and entry.after["projects"][str(victim_id)] is None

    undo_last_change(demo_plan, actor=None)
    db.session.commit()
    db.session.expire_all()
    restored = db.session.get(Project, victim_id)
    assert restored.title == title and restored.village_numbers == villages
    assert [(p.id, p.rank) for p in column(demo_plan)] == before


def test_reorder_within_a_village_with_buttons(facilitator_client, demo_plan):
    village = demo_plan.tambon.villages[0]
    items = village_projects(demo_plan, village)
    order = ",".join(str(p.id) for p in items)
    url = f"/plans/{demo_plan.id}/villages/{village.id}/order"
    response = facilitator_client.post(
        url,
        data={"project_id": items[1].id, "direction": "up", "order": order},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="village-projects"')
    moved = village_projects(demo_plan, village)
    assert [p.id for p in moved[:2]] == [items[1].id, items[0].id]
    assert [p.village_rank for p in moved] == list(range(1, len(moved) + 1))
    # A click made on the old list is refused with the fresh list; nothing moves.
    response = facilitator_client.post(
        url,
        data={"project_id": items[1].id, "direction": "up", "order": order},
        headers={"HX-Request": "true"},
    )
    assert "มีการเปลี่ยนแปลง" in response.get_data(as_text=True)
    assert [p.id for p in village_projects(demo_plan, village)] == [p.id for p in moved]
    # The first cannot go further up: no change is logged.
    version = demo_plan.version
    new_order = ",".join(str(p.id) for p in moved)
    facilitator_client.post(
        url, data={"project_id": moved[0].id, "direction": "up", "order": new_order}
    )
    db.session.refresh(demo_plan)
    assert demo_plan.version == version
    undo_last_change(demo_plan, actor=None)
    db.session.commit()
    assert [p.id for p in village_projects(demo_plan, village)] == [p.id for p in items]


def test_pages_of_another_tambon_are_forbidden(app, demo_plan):
    other = Tambon(name="อื่น", district="อื่น", province="อื่น")
    db.session.add(other)
    db.session.commit()
    make_user("outsider", "facilitator", tambons=[other])
    outsider = app.test_client()
    outsider.login("outsider")
    village = demo_plan.tambon.villages[0]
    assert outsider.get(f"/plans/{demo_plan.id}/villages/{village.id}").status_code == 403
    project = demo_plan.projects[0]
    assert outsider.post(f"/plans/{demo_plan.id}/projects/{project.id}/delete").status_code == 403
    assert db.session.get(Project, project.id) is not None


def test_reordering_a_village_leaves_joint_projects_of_other_villages_alone(
    facilitator_client, demo_plan
):
    """A joint project carries its proposing village's rank: another source village's list
    neither numbers it nor renumbers it (issue 16, item 5)."""
    villages = {v.number: v for v in demo_plan.tambon.villages}
    weir = next(p for p in demo_plan.projects if p.village_numbers == [3, 4])
    own = village_projects(demo_plan, villages[4])
    assert weir not in own
    assert [p.village_rank for p in own] == list(range(1, len(own) + 1))
    page = facilitator_client.get(f"/plans/{demo_plan.id}/villages/{villages[4].id}")
    assert f'data-joined-project-id="{weir.id}"' in page.get_data(as_text=True)
    order = ",".join(str(p.id) for p in own)
    facilitator_client.post(
        f"/plans/{demo_plan.id}/villages/{villages[4].id}/order",
        data={"project_id": own[-1].id, "direction": "up", "order": order},
    )
    db.session.refresh(weir)
    assert weir.village_rank == 2 and weir.proposed_by_id == villages[3].id
    moved = village_projects(demo_plan, villages[4])
    assert [p.village_rank for p in moved] == list(range(1, len(moved) + 1))


def test_the_same_title_twice_in_a_village_is_asked_about(facilitator_client, demo_plan):
    """Back and save again: the form refuses a second project with the same title in the same
    village, as the import warns, unless the user says it is another project (item 8)."""
    village = demo_plan.tambon.villages[2]
    url = f"/plans/{demo_plan.id}/villages/{village.id}/projects/new"
    count = db.session.scalar(select(func.count()).select_from(Project))
    data = project_form(title="ซ่อมแซมฝายน้ำล้น 2 แห่ง", village_ids=[village.id])
    assert facilitator_client.post(url, data=data).status_code == 302
    # Spaces, letter case and Thai digits aside, it is the same title.
    again = dict(data, title="  ซ่อมแซมฝายน้ำล้น  ๒ แห่ง ")
    response = facilitator_client.post(url, data=again)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"หมู่ที่ {village.number} มีโครงการชื่อนี้แล้ว" in page
    assert 'name="same_title_ok"' in page
    assert db.session.scalar(select(func.count()).select_from(Project)) == count + 1
    # Ticked: it is another project.
    response = facilitator_client.post(url, data=dict(again, same_title_ok="y"))
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Project)) == count + 2
    # Another village may have the same title.
    other = demo_plan.tambon.villages[3]
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/villages/{other.id}/projects/new",
        data=dict(data, village_ids=[other.id]),
    )
    assert response.status_code == 302
    # Editing a project to take a title its village already has is asked about too.
    mine = village_projects(demo_plan, village)[0]
    edit = f"/plans/{demo_plan.id}/projects/{mine.id}/edit"
    page = facilitator_client.get(edit).get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="([^"]+)"', page).group(1)
    response = facilitator_client.post(
        edit, data=project_form(title=data["title"], village_ids=[village.id], version=version)
    )
    assert response.status_code == 400
    # Saving a project unchanged is not asked about.
    response = facilitator_client.post(
        edit, data=project_form(title=mine.title, village_ids=[village.id], version=version)
    )
    assert response.status_code == 302
