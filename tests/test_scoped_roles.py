"""Scoped roles (issue 18): a district officer reads their district, a provincial officer their
province, over the app's whole URL map (tests/route_walk.py); they change nothing; a tambon's
plan sees only the strategies that apply to it.

The world: the demo tambon (มหาสารคาม, กุดรัง), a neighbour in the same province's other
district (บรบือ), and a far tambon in another province (เชียงราย, แม่สาย), each with a plan, its
own อปท. named after it, and a provincial agency that supports projects in all three."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from planapp import strategies as plan_strategies
from planapp.extensions import db
from planapp.models import Agency, Plan, Project, Strategy, Tambon, User, Village
from tests.conftest import add_officer, make_user
from tests.district_helpers import place
from tests.route_walk import (
    CHANGING_METHODS,
    CONTENT_CHECKED_CHANGES,
    OUTPUT_REQUESTS,
    PUBLIC_CHANGES,
    TOKEN_ROUTES,
    argument_values,
    changing_routes,
    database_state,
    reading_routes,
    url_for_route,
    view_of,
)
from tests.test_url_map import plausible_form

HOME_PROVINCE, HOME_DISTRICT = "มหาสารคาม", "กุดรัง"
NEIGHBOUR = ("ตำบลข้างเคียงบรบือ", "บรบือ", HOME_PROVINCE)
FAR = ("ตำบลไกลบ้านแม่สาย", "แม่สาย", "เชียงราย")

# The plan's read-only views an officer of its area opens (accounts.plan_for_viewing).
OFFICER_VIEWS = {
    "main.plan",
    "district.plan_followup",
    "export.workbook",
    "export.csv",
    "export.print_plan",
    "meeting.minutes",
    # An officer issues and revokes the hall laptops' sync tokens of their area's tambons
    # (planapp/sync): no plan changes; tests/test_sync.py checks who else is refused.
    "sync.tambon_tokens",
}
OFFICER_CHANGES = {"sync.tambon_tokens", "sync.revoke_token"}
# Pages for everyone (or every signed-in user), whatever their role: not a plan's or an area's.
ANYONE = {
    "main.index",
    "accounts.login",
    "ballots.type_code",
    "transfer.import_plan",
    "sync.pull_new",
}
# The public live views and ballots: their secret in the URL is the permission.
SECRET_ARGUMENTS = {"token", "public_token", "ballot_token"}


def area_tambon(name: str, district: str, province: str, year: int, shared: Agency) -> Plan:
    """A tambon with three villages, its own อปท. (named after it, as real ones are) and a plan
    of the year whose projects its อปท. leads and the shared agency supports."""
    local = Agency(name=f"อบต.{name}", kind="local")
    tambon = Tambon(name=name, district=district, province=province, local_admin_agency=local)
    villages = [Village(tambon=tambon, number=n, name=f"บ้าน{name}{n}") for n in (1, 2, 3)]
    plan = Plan(tambon=tambon, fiscal_year=year, forum_date=date(2026, 11, 20))
    for i, group in enumerate(["1", "2", "3", "unsorted"], start=1):
        plan.projects.append(
            Project(
                title=f"โครงการของ{name} {i}",
                funding_group=group,
                rank=1,
                feasibility="feasible",
                sector="economy",
                budget_satang=100_000_00 * i,
                villages=[villages[i % 3]],
                lead_agency=local,
                supporting_agencies=[shared],
            )
        )
    db.session.add(plan)
    db.session.commit()
    return plan


@pytest.fixture
def world(app, demo_plan):
    demo_plan.is_public = True  # the public views are walked too
    shared = Agency(name="สำนักงานเกษตรจังหวัดทั่วไป", kind="government")
    db.session.add(shared)
    for project in place(demo_plan, ["1", "2", "3"]):  # taken forward: on the agency's page
        project.supporting_agencies.append(shared)
    db.session.commit()
    neighbour = area_tambon(*NEIGHBOUR, demo_plan.fiscal_year, shared)
    far = area_tambon(*FAR, demo_plan.fiscal_year, shared)
    make_user("admin", "admin")
    add_officer("district", "district_officer", HOME_PROVINCE, HOME_DISTRICT)
    add_officer("province", "provincial_officer", HOME_PROVINCE)
    clients = {}
    for name in ("admin", "district", "province"):
        clients[name] = app.test_client()
        clients[name].login(name)
    return {
        "clients": clients,
        "home": argument_values(demo_plan),
        "neighbour": argument_values(neighbour),
        "far": argument_values(far),
        "plans": {"home": demo_plan.id, "neighbour": neighbour.id, "far": far.id},
        "shared": shared.id,
    }


def names_of(tambon: tuple[str, str, str]) -> list[str]:
    """What would betray a tambon: its name (and its อปท.'s), its district."""
    return [tambon[0], tambon[1]]


# What each officer must never see: the other areas' tambon (and อปท.) and district names.
HIDDEN = {
    "district": [*names_of(NEIGHBOUR), *names_of(FAR), FAR[2]],
    "province": [*names_of(FAR), FAR[2]],
}


def page_text(response) -> str:
    """The text a response carries: HTML or CSV as it is, a workbook's every cell."""
    if response.mimetype.endswith("spreadsheetml.sheet"):
        book = load_workbook(io.BytesIO(response.get_data()), read_only=True)
        return "\n".join(
            str(cell)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for cell in row
            if cell is not None
        )
    if response.mimetype == "text/event-stream":
        return ""
    return response.get_data(as_text=True)


def fetch(client, url: str):
    response = client.get(url)
    try:
        return response.status_code, page_text(response)
    finally:
        response.close()


def is_rollup(app, route) -> bool:
    return getattr(view_of(app, route), "rollup_only", False)


def test_the_walk_as_officers_opens_their_area_and_refuses_the_others(app, world):
    """Every GET route as a district officer and as a provincial officer: the roll-ups and the
    plan's read-only views answer 200 for their own area; every page of a plan, tambon or
    agency of another area answers 403 or 404; the working and administrator pages 403; no
    page shows another area's tambon names; and nothing is written."""
    failures: list[str] = []
    before = database_state()
    for who in ("district", "province"):
        client = world["clients"][who]
        others = ["far"] + (["neighbour"] if who == "district" else [])
        for route in reading_routes(app):
            public = bool(route.arguments & SECRET_ARGUMENTS) or route.endpoint in ANYONE
            own_url = url_for_route(app, route, world["home"])
            status, text = fetch(client, own_url)
            if route.endpoint in TOKEN_ROUTES:
                expected = {401}  # a sync token's, never a session's
            elif is_rollup(app, route) or route.endpoint in OFFICER_VIEWS:
                expected = {200}
            elif public:
                expected = {200, 302, 404}
            else:
                expected = {403, 404}  # not the officer's page, even in their own area
            if status not in expected:
                failures.append(f"{who}: GET {own_url} ({route.endpoint}) answered {status}")
            failures += [
                f"{who}: GET {own_url} shows {name}" for name in HIDDEN[who] if name in text
            ]
            if public or not route.arguments:
                continue
            for other in others:
                url = url_for_route(app, route, world[other])
                status, text = fetch(client, url)
                refused = (401,) if route.endpoint in TOKEN_ROUTES else (403, 404)
                if status not in refused:
                    failures.append(f"{who}: GET {url} ({route.endpoint}, {other}) -> {status}")
        if database_state() != before:
            failures.append(f"{who}: reading changed the data")
    assert not failures, "\n".join(failures)


def test_the_officer_walk_would_see_a_leak(app, world):
    """The walk can fail: the administrator, who may read everything, is caught by the same
    checks on the far tambon's pages (the test is not blind to the names it looks for)."""
    status, text = fetch(world["clients"]["admin"], f"/district?province={FAR[2]}")
    assert status == 200 and FAR[0] in text
    status, text = fetch(world["clients"]["admin"], f"/plans/{world['plans']['far']}")
    assert status == 200 and FAR[0] in text


ROLLUPS = ["/district", "/district/strategies", "/agencies"]


@pytest.mark.parametrize("url", ROLLUPS)
def test_a_filter_for_another_area_is_refused(world, url):
    district, province = world["clients"]["district"], world["clients"]["province"]
    for client in (district, province):
        assert fetch(client, f"{url}?province={FAR[2]}")[0] == 403
        assert fetch(client, f"{url}?province={FAR[2]}&district={FAR[1]}")[0] == 403
    # The neighbour district: another area for the district officer, within the province's.
    neighbour = f"{url}?province={HOME_PROVINCE}&district={NEIGHBOUR[1]}"
    assert fetch(district, neighbour)[0] == 403
    status, text = fetch(province, neighbour)
    assert status == 200 and FAR[0] not in text


def test_an_officer_without_a_filter_sees_their_own_area(world):
    status, text = fetch(world["clients"]["district"], "/district")
    assert status == 200 and "หนองบัวทอง" in text and NEIGHBOUR[0] not in text
    status, text = fetch(world["clients"]["province"], "/district")
    assert status == 200 and NEIGHBOUR[1] in text and HOME_DISTRICT in text
    assert FAR[1] not in text
    status, text = fetch(world["clients"]["province"], f"/district?district={NEIGHBOUR[1]}")
    assert status == 200 and NEIGHBOUR[0] in text and "หนองบัวทอง" not in text


def test_an_agency_page_and_workbook_keep_to_the_officers_area(world):
    """The provincial agency supports projects in all three tambons: each officer's page and
    workbook list their area's only; the administrator's all of them. Above a district the page
    lists the areas where the agency acts (the provincial officer's districts, the provinces),
    a district's page its projects."""
    shared = world["shared"]
    for who, shown, hidden, areas, other_areas in [
        ("district", ["หนองบัวทอง"], [NEIGHBOUR[0], FAR[0]], ["หนองบัวทอง"], [NEIGHBOUR[0]]),
        ("province", ["หนองบัวทอง", NEIGHBOUR[0]], [FAR[0]],
         [HOME_DISTRICT, NEIGHBOUR[1]], [FAR[1]]),
        ("admin", ["หนองบัวทอง", NEIGHBOUR[0], FAR[0]], [], [HOME_PROVINCE, FAR[2]], []),
    ]:  # fmt: skip
        status, text = fetch(world["clients"][who], f"/agencies/{shared}")
        assert status == 200, who
        assert all(name in text for name in areas), who
        assert not any(name in text for name in other_areas + hidden), who
        status, text = fetch(world["clients"][who], f"/agencies/{shared}/export.xlsx")
        assert status == 200, who
        assert all(name in text for name in shown), who
        assert not any(name in text for name in hidden), who


def test_an_officer_changes_no_plan(app, world):
    """Every POST route (but signing in and out, the language, and the ballot's own secret)
    refuses both officers, with a valid CSRF token, on their own area's plan: 403 or 404, and
    not one row changes."""
    failures: list[str] = []
    plan = db.session.get(Plan, world["plans"]["home"])
    checked = 0
    for who in ("district", "province"):
        client = world["clients"][who]
        for route in changing_routes(app):
            if route.endpoint in PUBLIC_CHANGES | OFFICER_CHANGES:
                continue
            url = url_for_route(app, route, world["home"])
            for method in sorted(route.methods & CHANGING_METHODS):
                before = database_state()
                form = plausible_form(world["home"], plan.version)
                status = client.open(url, method=method, data=form).status_code
                allowed = (
                    {400, 403, 404} if route.endpoint in CONTENT_CHECKED_CHANGES else {403, 404}
                )
                after = database_state()
                if route.endpoint in OUTPUT_REQUESTS:  # their own job, nothing else
                    allowed = {303}
                    before.pop("report_jobs"), after.pop("report_jobs")
                if route.endpoint in TOKEN_ROUTES:
                    allowed = {401}
                if status not in allowed:
                    failures.append(f"{who}: {method} {url} ({route.endpoint}) answered {status}")
                if after != before:
                    failures.append(f"{who}: {method} {url} ({route.endpoint}) changed the data")
                checked += 1
    assert checked > 40
    assert not failures, "\n".join(failures)


def test_the_followup_page_shows_an_officer_no_form(world):
    status, text = fetch(world["clients"]["district"], f"/plans/{world['plans']['home']}/followup")
    assert status == 200
    assert "followup-form" not in text and "carry-over-form" not in text
    status, text = fetch(world["clients"]["admin"], f"/plans/{world['plans']['home']}/followup")
    assert "followup-form" in text and "carry-over-form" in text


def test_the_home_page_lists_an_officers_area(world):
    status, text = fetch(world["clients"]["district"], "/")
    assert status == 200 and "หนองบัวทอง" in text and NEIGHBOUR[0] not in text
    status, text = fetch(world["clients"]["province"], "/")
    assert NEIGHBOUR[0] in text and FAR[0] not in text


# --- the role and its area ------------------------------------------------------------------


def test_the_database_refuses_a_role_without_its_area(app):
    for role, province, district in [
        ("district_officer", "มหาสารคาม", None),
        ("provincial_officer", None, None),
        ("provincial_officer", "มหาสารคาม", "กุดรัง"),
        ("facilitator", "มหาสารคาม", None),
    ]:
        user = User(username=f"x{role}", role=role, area_province=province, area_district=district)
        user.password_hash = "x"
        db.session.add(user)
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_an_administrator_makes_an_officer_with_their_area(admin_client, app):
    form = {
        "username": "officer",
        "display_name": "พัฒนากรอำเภอ",
        "role": "district_officer",
        "area_province": HOME_PROVINCE,
        "area_district": "",
        "password": "x" * 12,
        "confirm": "x" * 12,
    }
    admin_client.post("/language", data={"language": "th", "next": "/"})
    response = admin_client.post("/admin/users/new", data=form)
    assert response.status_code == 400
    assert "พิมพ์หรือเลือกอำเภอ" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username == "officer")) is None

    response = admin_client.post("/admin/users/new", data={**form, "area_district": " กุดรัง "})
    assert response.status_code == 302
    officer = db.session.scalar(select(User).where(User.username == "officer"))
    assert (officer.role, officer.area_province, officer.area_district) == (
        "district_officer",
        HOME_PROVINCE,
        "กุดรัง",
    )
    # Made a provincial officer: the district is dropped, whatever the form still had.
    edit = {k: v for k, v in form.items() if k not in ("password", "confirm")}
    edit.update(role="provincial_officer", area_district="กุดรัง")
    assert admin_client.post(f"/admin/users/{officer.id}", data=edit).status_code == 302
    db.session.refresh(officer)
    assert (officer.area_province, officer.area_district) == (HOME_PROVINCE, None)
    # A facilitator has no area.
    edit.update(role="facilitator")
    assert admin_client.post(f"/admin/users/{officer.id}", data=edit).status_code == 302
    db.session.refresh(officer)
    assert (officer.area_province, officer.area_district) == (None, None)
    # No province: the message next to the field, nothing changed.
    edit.update(role="provincial_officer", area_province="   ")
    response = admin_client.post(f"/admin/users/{officer.id}", data=edit)
    assert response.status_code == 400
    assert "พิมพ์หรือเลือกจังหวัด" in response.get_data(as_text=True)
    db.session.refresh(officer)
    assert officer.role == "facilitator"


# --- strategies of an area ------------------------------------------------------------------


def area_strategies(demo_plan: Plan, far: Plan) -> dict[str, Strategy]:
    neighbour_district = Strategy(
        level="district", code="D1", name="ยุทธศาสตร์อำเภอบรบือ", area_province=HOME_PROVINCE,
        area_district="บรบือ",
    )  # fmt: skip
    made = {
        "province": Strategy(
            level="province", code="P1", name="ยุทธศาสตร์จังหวัดมหาสารคาม",
            area_province=HOME_PROVINCE,
        ),
        "district": Strategy(
            level="district", code="D1", name="ยุทธศาสตร์อำเภอกุดรัง",
            area_province=HOME_PROVINCE, area_district=HOME_DISTRICT,
        ),
        "own_local": Strategy(
            level="local", code="L1", name="ยุทธศาสตร์ อปท. หนองบัวทอง",
            area_agency_id=demo_plan.tambon.local_admin_agency_id,
        ),
        "neighbour_district": neighbour_district,
        "far_province": Strategy(
            level="province", code="P1", name="ยุทธศาสตร์จังหวัดเชียงราย", area_province="เชียงราย"
        ),
        "far_local": Strategy(
            level="local", code="L1", name="ยุทธศาสตร์ อปท. ไกลบ้าน",
            area_agency_id=far.tambon.local_admin_agency_id,
        ),
    }  # fmt: skip
    db.session.add_all(made.values())
    db.session.commit()
    return made


def test_a_tambon_sees_only_the_strategies_that_apply_to_it(app, world, demo_plan):
    far = db.session.get(Plan, world["plans"]["far"])
    made = area_strategies(demo_plan, far)
    national = db.session.scalars(
        select(Strategy).where(Strategy.area_province == "", Strategy.area_agency_id.is_(None))
    ).all()
    assert national  # the demo's strategies migrated to (are) national ones
    seen = {s.id for s in plan_strategies.strategies_in_order(demo_plan.tambon)}
    applies = {made[k].id for k in ("province", "district", "own_local")} | {s.id for s in national}
    assert seen == applies
    # The facilitator's project panel offers exactly those.
    project = demo_plan.active_projects()[0]
    status, text = fetch(
        world["clients"]["admin"], f"/plans/{demo_plan.id}/projects/{project.id}/panel"
    )
    assert status == 200
    for key in ("province", "district", "own_local"):
        assert made[key].name in text
    for key in ("neighbour_district", "far_province", "far_local"):
        assert made[key].name not in text
    # Confirming a strategy of another area is refused, nothing saved.
    with pytest.raises(plan_strategies.UnknownStrategy):
        plan_strategies.confirm_proposals(
            demo_plan, {project.id: made["far_province"].id}, actor=None
        )
    # The district's alignment page at the far province lists its own, not มหาสารคาม's.
    status, text = fetch(world["clients"]["admin"], "/district/strategies?province=เชียงราย")
    assert made["far_province"].name in text and made["province"].name not in text


def test_strategy_codes_are_unique_per_area(admin_client, app):
    def add(**fields):
        data = {"level": "province", "code": "P9", "name": "ยุทธศาสตร์", "parent_id": "0"}
        data.update(fields)
        return admin_client.post("/setup/strategies", data=data)

    admin_client.post("/language", data={"language": "th", "next": "/"})
    assert add(area_kind="national").status_code == 302
    assert add(area_kind="province", area_province=HOME_PROVINCE).status_code == 302
    again = add(area_kind="province", area_province=HOME_PROVINCE)
    assert again.status_code == 400
    no_province = add(area_kind="province", area_province=" ")
    assert no_province.status_code == 400
    assert "พิมพ์หรือเลือกจังหวัด" in no_province.get_data(as_text=True)
    no_agency = add(area_kind="local", area_agency_id="0")
    assert no_agency.status_code == 400
    rows = db.session.scalars(select(Strategy).where(Strategy.code == "P9")).all()
    assert sorted(s.area_province for s in rows) == ["", HOME_PROVINCE]
