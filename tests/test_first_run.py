"""The first run (issue 16, item 14): with no user at all, the home page opened on the laptop
itself offers to create the administrator; from any other address, or through a proxy, it
says how (the command) and the form's address refuses."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from werkzeug.middleware.proxy_fix import ProxyFix

from planapp.extensions import db
from planapp.models import User
from tests.conftest import make_user

WIFI = {"REMOTE_ADDR": "192.168.1.23"}
FORM = {
    "username": "somsri",
    "display_name": "สมศรี ใจดี",
    "password": "long enough secret",
    "confirm": "long enough secret",
}


def users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_on_the_laptop_the_home_page_creates_the_first_administrator(client):
    page = client.get("/").get_data(as_text=True)
    assert "data-first-run" in page and 'action="/first-administrator"' in page
    response = client.post("/first-administrator", data=FORM)
    assert response.status_code == 302
    admin = db.session.scalar(select(User))
    assert (users(), admin.username, admin.role) == (1, "somsri", "admin")
    assert admin.check_password(FORM["password"])
    home = client.get("/").get_data(as_text=True)
    assert "data-first-run" not in home and 'action="/logout"' in home  # signed in
    # Once there is a user, neither the form nor its address is offered again.
    client.post("/logout")
    assert "data-first-run" not in client.get("/").get_data(as_text=True)
    again = client.post("/first-administrator", data=dict(FORM, username="mallory"))
    assert again.status_code == 302 and "/login" in again.headers["Location"]
    assert users() == 1


def test_a_bad_first_administrator_is_refused_beside_the_field(client):
    response = client.post("/first-administrator", data=dict(FORM, confirm="something else"))
    assert response.status_code == 400
    assert 'id="confirm-errors"' in response.get_data(as_text=True)
    assert users() == 0


@pytest.mark.parametrize(
    "environ, headers",
    [
        (WIFI, {"Host": "192.168.1.10:8000"}),  # a tablet on the hall's Wi-Fi
        ({}, {"X-Forwarded-For": "192.168.1.23"}),  # through a proxy on the laptop
        ({}, {"Forwarded": "for=192.168.1.23"}),
        ({}, {"Host": "planapp.example.org"}),  # a name that points at the laptop
    ],
)
def test_from_anywhere_else_the_home_page_says_how(app, client, environ, headers):
    page = client.get("/", environ_base=environ, headers=headers).get_data(as_text=True)
    assert "data-first-run" in page and "data-first-run-command" in page
    assert "create-user admin --role admin" in page
    assert 'action="/first-administrator"' not in page
    # Another host name gets no cookie of this one (so no CSRF token): without the CSRF check,
    # the refusal shown is the address check's own.
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/first-administrator", data=FORM, environ_base=environ, headers=headers)
    assert response.status_code == 403
    assert users() == 0


def test_behind_a_trusted_proxy_no_request_is_the_laptop_itself(app, client):
    """With PLANAPP_TRUSTED_PROXIES, ProxyFix gives the client's address: even a forwarded
    127.0.0.1 is someone on the far side of the proxy (set up as security.init_app does)."""
    app.config["TRUSTED_PROXIES"] = 1
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    local = {"X-Forwarded-For": "127.0.0.1"}
    page = client.get("/", headers=local).get_data(as_text=True)
    assert "data-first-run-command" in page
    response = client.post("/first-administrator", data=FORM, headers=local)
    assert response.status_code == 403 and users() == 0


def test_with_users_the_home_page_is_as_before(client, app):
    make_user("admin", "admin")
    page = client.get("/").get_data(as_text=True)
    assert "data-first-run" not in page
