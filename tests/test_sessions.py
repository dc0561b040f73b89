"""Signing out ends the session on the server (issue 13, item 4): a copy of the cookie, taken
off the hall's open Wi-Fi, stops working after sign-out, deactivation, a new password, and at
the end of a forum day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import func, select

from planapp.extensions import db
from planapp.models import User, UserSession
from tests.conftest import make_user


@pytest.fixture
def clock(app):
    """The sessions' clock, set by hand: `clock.now += timedelta(...)`."""

    class Clock:
        now = datetime(2026, 11, 24, 8, 0)

    policy = app.extensions["sign_in_sessions"]
    policy.clock = lambda: Clock.now
    return Clock


def copy_of(app, client):
    """Another device holding the same session cookie, as a listener on the Wi-Fi would."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def is_signed_in(client) -> bool:
    return client.get("/admin/users").status_code == 200


def signed_in_admin(app, name="admin"):
    make_user(name, "admin")
    device = app.test_client()
    device.login(name)
    return device


def test_a_copied_cookie_stops_working_when_the_device_signs_out(app):
    device = signed_in_admin(app)
    thief = copy_of(app, device)
    assert is_signed_in(thief)
    assert device.post("/logout").status_code == 302
    assert not is_signed_in(device)
    assert not is_signed_in(thief)
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0


def test_deactivation_ends_every_session_for_good(app, admin_client):
    somchai = make_user("somchai", "facilitator")
    device = app.test_client()
    device.login("somchai")
    thief = copy_of(app, device)
    admin_client.post(f"/admin/users/{somchai.id}/deactivate")
    admin_client.post(f"/admin/users/{somchai.id}/activate")
    # Active again, but the old cookie (and its copy) signed in before: it stays ended.
    for client in (device, thief):
        assert client.get("/").get_data(as_text=True).count('class="user-name"') == 0
    assert app.test_client().login("somchai").status_code == 302


def test_a_new_password_ends_the_other_sessions_and_keeps_the_acting_device(app, admin_client):
    other = signed_in_admin(app, "second")
    thief = copy_of(app, admin_client)
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    response = admin_client.post(
        f"/admin/users/{admin.id}/password",
        data={"password": "new secret words", "confirm": "new secret words"},
    )
    assert response.status_code == 302
    assert is_signed_in(admin_client)  # the device that set it signed in again
    assert not is_signed_in(thief)  # the copy of its old cookie did not
    assert is_signed_in(other)  # another user's sessions are not touched


def test_signing_in_again_issues_a_new_token_and_ends_the_old_one(app):
    device = signed_in_admin(app)
    thief = copy_of(app, device)
    device.login("admin")
    assert is_signed_in(device)
    assert not is_signed_in(thief)


def test_a_session_ends_after_hours_without_a_request(app, clock):
    device = signed_in_admin(app)
    clock.now += timedelta(hours=3, minutes=59)
    assert is_signed_in(device)  # and this request counts as the last one seen
    clock.now += timedelta(hours=3, minutes=59)
    assert is_signed_in(device)
    clock.now += timedelta(hours=4)
    assert not is_signed_in(device)


def test_a_session_lasts_a_forum_day_however_busy(app, clock):
    device = signed_in_admin(app)
    for _ in range(5):
        clock.now += timedelta(hours=3)
        assert is_signed_in(device)
    clock.now += timedelta(hours=1)  # 16 hours after signing in
    assert not is_signed_in(device)


def test_last_seen_is_written_at_most_once_a_minute(app, clock):
    device = signed_in_admin(app)

    def last_seen():
        db.session.expire_all()
        return db.session.scalar(select(UserSession.last_seen_at))

    signed_in_at = last_seen()
    clock.now += timedelta(seconds=59)
    assert is_signed_in(device) and last_seen() == signed_in_at
    clock.now += timedelta(seconds=2)
    assert is_signed_in(device) and last_seen() == clock.now


def test_the_cookie_lasts_as_long_as_the_sign_in_not_a_month(app):
    make_user("admin", "admin")
    response = app.test_client().login("admin")
    cookie = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")][-1]
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    hours = (expires - datetime.now(UTC)).total_seconds() / 3600
    assert 15.9 < hours <= 16
    # The cookie holds a random token, nothing of the user's id or password.
    value = cookie.split("=", 1)[1].split(";")[0]
    content = app.session_interface.get_signing_serializer(app).loads(value)
    assert "session_token" in content and "user_id" not in content and "user_key" not in content
