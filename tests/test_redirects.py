"""One check for every redirect whose target comes from the request (issue 13, item 7): only a
path of this site, judged as a browser reads it; and a login whose timing does not tell which
usernames exist."""

from __future__ import annotations

import pytest

from planapp import models
from planapp.extensions import db
from planapp.urls import safe_redirect_target
from tests.conftest import PASSWORD, make_user

# Each leads a browser off the site (or breaks the Location header): browsers drop tabs and
# line breaks, trim leading spaces and control characters, and read "\" as "/".
HOSTILE = [
    "/\t/evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "/\r\n/evil.example",
    "/plans\r\nSet-Cookie: x=1",
    " //evil.example",
    "\x01//evil.example",
    "//evil.example",
    "///evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "evil.example",
    "",
]


@pytest.mark.parametrize("target", HOSTILE)
def test_anything_but_a_path_of_this_site_gives_the_default(target):
    assert safe_redirect_target(target, "/home") == "/home"


@pytest.mark.parametrize("target", ["/", "/plans/3/board?village=2#card-5", "/admin/users?"])
def test_a_path_of_this_site_is_kept(target):
    assert safe_redirect_target(target, "/home") == target


@pytest.mark.parametrize("target", HOSTILE)
def test_the_language_choice_stays_on_the_site(client, target):
    response = client.post("/language", data={"language": "en", "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", HOSTILE)
def test_login_goes_on_only_to_a_path_of_this_site(app, client, target):
    make_user("admin", "admin")
    response = client.post(
        "/login", query_string={"next": target}, data={"username": "admin", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\\evil.example", "/\r\n/x", "//evil"])
def test_meeting_buttons_go_back_only_to_a_path_of_this_site(facilitator_client, demo_plan, target):
    votes = facilitator_client.post(
        f"/plans/{demo_plan.id}/groups/1/order-by-votes", data={"next": target}
    )
    assert votes.status_code == 302
    assert votes.headers["Location"] == f"/plans/{demo_plan.id}/votes"
    ceiling = facilitator_client.post(
        f"/plans/{demo_plan.id}/groups/1/ceiling", data={"ceiling": "1,000", "next": target}
    )
    assert ceiling.status_code == 302
    assert ceiling.headers["Location"] == f"/plans/{demo_plan.id}/meeting"


def test_the_meeting_button_still_goes_back_to_the_page_it_was_pressed_on(
    facilitator_client, demo_plan
):
    back = f"/plans/{demo_plan.id}/board?village=1"
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/groups/1/order-by-votes", data={"next": back}
    )
    assert response.headers["Location"] == back


@pytest.fixture
def hash_checks(monkeypatch):
    """Counts the password-hash checks of sign-ins (each is the slow part of a login)."""
    calls = []
    real = models.check_password_hash

    def counting(stored, password):
        calls.append(stored)
        return real(stored, password)

    monkeypatch.setattr(models, "check_password_hash", counting)
    return calls


def test_an_unknown_username_costs_the_same_hash_check_as_a_known_one(app, client, hash_checks):
    make_user("admin", "admin")
    make_user("gone", "facilitator").active = False
    db.session.commit()
    for username in ["admin", "nobody-of-that-name", "gone"]:
        response = client.post("/login", data={"username": username, "password": "wrong words"})
        assert response.status_code == 400
    assert len(hash_checks) == 3
    # The unknown name was checked against a hash made as real ones are (same method, cost).
    method = hash_checks[0].split("$")[0]
    assert hash_checks[1].split("$")[0] == method
