"""The administrator's user screens: list, create, edit and assign tambons, set a password,
deactivate; and the rules that keep the district office from locking itself out."""

from __future__ import annotations

import re

from sqlalchemy import select

from planapp.extensions import db
from planapp.models import Tambon, User
from tests.conftest import PASSWORD, make_user


def user(username: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def signed_in_as(client) -> str | None:
    """The name in the page header, or None when the device is signed out."""
    match = re.search(
        r'<span class="user-name">([^<]*)</span>', client.get("/").get_data(as_text=True)
    )
    return match.group(1) if match else None


def second_tambon() -> Tambon:
    tambon = Tambon(name="หนองบัว", district="เมือง", province="ขอนแก่น")
    db.session.add(tambon)
    db.session.commit()
    return tambon


def test_the_list_shows_every_user_with_role_and_tambons(admin_client, demo_plan):
    make_user("somchai", "facilitator", tambons=[demo_plan.tambon])
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert "somchai" in page and demo_plan.tambon.name in page
    assert "วิทยากรกระบวนการ" in page and "ผู้ดูแลระบบ" in page


def test_create_a_facilitator_for_two_tambons_who_can_then_sign_in(app, admin_client, demo_plan):
    other = second_tambon()
    response = admin_client.post(
        "/admin/users/new",
        data={
            "username": "malee",
            "display_name": "มาลี ใจดี",
            "role": "facilitator",
            "tambons": [str(demo_plan.tambon.id), str(other.id)],
            "password": "a long password",
            "confirm": "a long password",
        },
    )
    assert response.status_code == 302
    malee = user("malee")
    assert malee.display_name == "มาลี ใจดี" and malee.role == "facilitator"
    assert {t.id for t in malee.tambons} == {demo_plan.tambon.id, other.id}
    assert malee.check_password("a long password")
    assert app.test_client().login("malee", "a long password").status_code == 302


def test_bad_input_is_answered_next_to_the_field_and_creates_nobody(admin_client, demo_plan):
    make_user("somchai", "facilitator")
    count = len(db.session.scalars(select(User)).all())
    response = admin_client.post(
        "/admin/users/new",
        data={
            "username": "SomChai",  # taken, whatever the case
            "role": "facilitator",
            "tambons": ["999999"],
            "password": "short",
            "confirm": "different",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="password-errors"' in page and "อย่างน้อย 8 ตัวอักษร" in page
    assert 'id="tambons-errors"' in page and "โปรดเลือกตำบลจากรายการ" in page
    assert 'id="confirm-errors"' in page
    db.session.expire_all()
    assert len(db.session.scalars(select(User)).all()) == count

    response = admin_client.post(
        "/admin/users/new",
        data={
            "username": "SomChai",
            "role": "facilitator",
            "password": "a long password",
            "confirm": "a long password",
        },
    )
    assert response.status_code == 400
    assert "ชื่อผู้ใช้นี้มีผู้ใช้แล้ว" in response.get_data(as_text=True)
    assert len(db.session.scalars(select(User)).all()) == count


def test_reassign_a_facilitator_to_another_tambon(admin_client, demo_plan, app):
    make_user("somchai", "facilitator", tambons=[demo_plan.tambon])
    other = second_tambon()
    somchai = user("somchai")
    form = admin_client.get(f"/admin/users/{somchai.id}").get_data(as_text=True)
    checked = re.findall(r'<input[^>]*name="tambons"[^>]*>', form)
    assert [f'value="{demo_plan.tambon.id}"' in tag for tag in checked if "checked" in tag] == [
        True
    ]
    response = admin_client.post(
        f"/admin/users/{somchai.id}",
        data={"username": "somchai", "display_name": "สมชาย", "role": "facilitator",
              "tambons": [str(other.id)]},
    )  # fmt: skip
    assert response.status_code == 302
    assert [t.id for t in user("somchai").tambons] == [other.id]
    # The demo plan is no longer his to change or read.
    facilitator = app.test_client()
    facilitator.login("somchai")
    assert facilitator.get(f"/plans/{demo_plan.id}").status_code == 403


def test_deactivated_users_are_signed_out_everywhere_and_cannot_sign_in(app, admin_client):
    somchai = make_user("somchai", "facilitator")
    device = app.test_client()
    device.login("somchai")
    assert signed_in_as(device) == "Somchai"
    assert admin_client.post(f"/admin/users/{somchai.id}/deactivate").status_code == 302
    assert user("somchai").active is False
    assert signed_in_as(device) is None
    refused = app.test_client().post("/login", data={"username": "somchai", "password": PASSWORD})
    assert refused.status_code == 400
    assert admin_client.post(f"/admin/users/{somchai.id}/activate").status_code == 302
    assert app.test_client().login("somchai").status_code == 302


def test_a_new_password_signs_out_the_users_other_devices(app, admin_client):
    somchai = make_user("somchai", "facilitator")
    device = app.test_client()
    device.login("somchai")
    response = admin_client.post(
        f"/admin/users/{somchai.id}/password",
        data={"password": "new secret words", "confirm": "new secret words"},
    )
    assert response.status_code == 302
    assert signed_in_as(device) is None
    assert app.test_client().login("somchai", "new secret words").status_code == 302


def test_an_administrator_keeps_their_own_session_after_changing_their_password(admin_client):
    admin = user("admin")
    admin_client.post(
        f"/admin/users/{admin.id}/password",
        data={"password": "new secret words", "confirm": "new secret words"},
    )
    assert admin_client.get("/admin/users").status_code == 200


def test_the_last_administrator_cannot_lock_the_office_out(admin_client):
    admin = user("admin")
    response = admin_client.post(f"/admin/users/{admin.id}/deactivate")
    assert response.status_code == 400
    assert "คุณไม่สามารถปิดการใช้งานบัญชีของตัวเองได้" in response.get_data(as_text=True)
    response = admin_client.post(
        f"/admin/users/{admin.id}", data={"username": "admin", "role": "facilitator"}
    )
    assert response.status_code == 400
    assert "นี่คือผู้ดูแลระบบที่ใช้งานอยู่เพียงคนเดียว" in response.get_data(as_text=True)
    assert user("admin").is_admin and user("admin").active


def test_another_administrator_may_be_deactivated(admin_client):
    second = make_user("district2", "admin")
    assert admin_client.post(f"/admin/users/{second.id}/deactivate").status_code == 302
    assert user("district2").active is False


def test_facilitators_and_visitors_cannot_reach_the_user_screens(
    client, facilitator_client, demo_plan
):
    for path in ["/admin/users", "/admin/users/new", "/admin/users/1"]:
        assert facilitator_client.get(path).status_code == 403
        anonymous = client.get(path)
        assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_first_start_explains_how_to_create_the_first_administrator(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["hall-info", "--port", "8000"]).output
    assert "create-user admin --role admin" in first
    make_user("admin", "admin")
    assert "create-user" not in runner.invoke(args=["hall-info"]).output
