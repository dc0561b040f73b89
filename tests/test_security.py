"""Browser-side guards on every response, session cookie flags, and the login rate limit."""

from __future__ import annotations

import pytest

from planapp import create_app
from planapp.accounts.throttle import Limit, LoginThrottle
from tests.conftest import PASSWORD, make_user


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.mark.parametrize("path", ["/", "/login", "/no-such-page", "/static/css/app.css"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    policy = directives(response.headers["Content-Security-Policy"])
    # Only our own scripts and styles: no inline code, no eval, no third-party host.
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_are_not_cached_but_static_files_may_be(client):
    assert client.get("/").headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/static/css/app.css").headers.get("Cache-Control", "")


def test_pages_have_no_inline_script_or_style(admin_client, demo_plan):
    for path in ["/", "/login", f"/plans/{demo_plan.id}"]:
        page = admin_client.get(path).get_data(as_text=True)
        assert "<script>" not in page and "<style" not in page and " style=" not in page
        # Every script is one of our own files.
        for tag in page.split("<script")[1:]:
            assert 'src="/static/' in tag.split(">", 1)[0]
    # htmx is told not to inject its indicator <style>, which the policy would block.
    assert '"includeIndicatorStyles": false' in admin_client.get("/").get_data(as_text=True)


def session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    return cookies[-1]


def test_session_cookie_is_httponly_and_samesite(app, client):
    make_user("admin", "admin")
    cookie = session_cookie(client.login("admin"))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    # Plain HTTP in the village hall: a Secure cookie would never come back.
    assert "Secure" not in cookie


def test_secure_cookies_and_hsts_behind_https(tmp_path, monkeypatch):
    from tests.conftest import TEST_CONFIG, BrowserLikeClient, use_test_database

    monkeypatch.setenv("PLANAPP_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("PLANAPP_SECURE_COOKIES", "1")
    monkeypatch.setenv("PLANAPP_TRUSTED_PROXIES", "1")
    use_test_database(monkeypatch)
    app = create_app(TEST_CONFIG)
    app.test_client_class = BrowserLikeClient
    from planapp.extensions import db

    with app.app_context():
        db.drop_all()
        db.create_all()
        try:
            make_user("admin", "admin")
            client = app.test_client()
            https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
            page = client.get("/login", headers=https, base_url="https://localhost")
            assert page.headers["Strict-Transport-Security"].startswith("max-age=")
            token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
            response = client.post(
                "/login",
                data={"username": "admin", "password": PASSWORD, "csrf_token": token},
                # Over HTTPS the CSRF check also wants a same-site Referer, which browsers send
                # under our Referrer-Policy.
                headers={**https, "Referer": "https://localhost/login"},
                base_url="https://localhost",
                csrf=False,
            )
            assert response.status_code == 302
            assert "Secure" in session_cookie(response)
        finally:
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


# --- login rate limit ---------------------------------------------------------------------


def attempt(client, username="admin", password="wrong password", address="192.0.2.10"):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


@pytest.fixture
def clock(app):
    """The login limiter's clock, frozen until a test moves it: `clock.now += seconds`."""

    class Clock:
        now = 1000.0

    app.extensions["login_throttle"].clock = lambda: Clock.now
    return Clock


def test_failed_sign_ins_are_slowed_per_device_and_account(app, client, clock):
    make_user("admin", "admin")
    for _ in range(5):
        assert attempt(client).status_code == 400
    refused = attempt(client, password=PASSWORD)
    # Even the right password is refused while the wait runs: it is not even checked.
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    page = refused.get_data(as_text=True)
    assert "เข้าสู่ระบบไม่สำเร็จหลายครั้งเกินไป โปรดลองใหม่ในอีก 1 วินาที" in page
    assert 'id="password-errors"' in page  # the message sits next to the password field
    # Another device signing in to the same account is not held up by the guesser.
    assert attempt(client, password=PASSWORD, address="192.0.2.11").status_code == 302
    client.post("/logout")
    clock.now += 1
    assert attempt(client, password=PASSWORD).status_code == 302


def test_a_successful_sign_in_clears_the_devices_failures(app, client, clock):
    make_user("admin", "admin")
    for _ in range(4):
        attempt(client)
    assert attempt(client, password=PASSWORD).status_code == 302
    client.post("/logout")
    for _ in range(4):
        assert attempt(client).status_code == 400
    assert attempt(client, password=PASSWORD).status_code == 302


def test_one_device_trying_many_accounts_is_slowed(app, client, clock):
    for number in range(11):
        assert attempt(client, username=f"user{number}").status_code == 400
    assert attempt(client, username="someone-else").status_code == 429


def test_the_wait_doubles_to_a_ceiling_and_is_forgotten_after_an_hour():
    now = [1000.0]
    throttle = LoginThrottle(
        limits={"pair": Limit(free=2, longest_wait=5, forget_after=60)}, clock=lambda: now[0]
    )
    throttle.failed("a", "Admin")
    throttle.failed("a", " admin ")  # names compare as the form sends them, case-blind
    assert throttle.retry_after("a", "admin") == 0  # two free failures
    waits = []
    for _ in range(5):
        throttle.failed("a", "admin")
        waits.append(throttle.retry_after("a", "admin"))
    assert waits == [1, 2, 4, 5, 5]
    now[0] += 4.5
    assert throttle.retry_after("a", "admin") == 1
    assert throttle.retry_after("b", "admin") == 0
    now[0] += 60
    throttle.failed("a", "admin")  # a minute without failures: the count started again
    assert throttle.retry_after("a", "admin") == 0


def test_guessers_on_many_addresses_cannot_keep_the_owner_out(app, clock):
    """Issue 13: 50 wrong passwords from 10 addresses locked the owner out for an hour."""
    make_user("admin", "admin")
    tablet = app.test_client()
    assert attempt(tablet, password=PASSWORD, address="10.0.0.5").status_code == 302
    tablet.post("/logout")
    guesser = app.test_client()
    failed = 0
    while failed < 50:  # 50 wrong passwords checked, each guesser waiting as told
        response = attempt(guesser, address=f"10.0.1.{failed % 10}")
        if response.status_code == 429:
            clock.now += int(response.headers["Retry-After"])
        else:
            assert response.status_code == 400
            failed += 1
    # The owner's tablet, which signed in here before, gets in from today's new address.
    assert attempt(tablet, password=PASSWORD, address="10.0.0.77").status_code == 302
    # The guessers are still slowed down: on their addresses and on any new one.
    assert attempt(guesser, address="10.0.1.3").status_code == 429
    fresh = attempt(app.test_client(), address="10.0.2.1")
    assert fresh.status_code == 429
    # Even a device the owner never used waits minutes, not an hour, and then gets in.
    stranger_device = attempt(app.test_client(), password=PASSWORD, address="10.0.3.1")
    assert stranger_device.status_code == 429
    assert int(stranger_device.headers["Retry-After"]) <= 5 * 60
    clock.now += int(stranger_device.headers["Retry-After"])
    assert attempt(app.test_client(), password=PASSWORD, address="10.0.3.1").status_code == 302


def test_a_new_password_makes_the_known_device_mark_worthless(app, admin_client, clock):
    somchai = make_user("somchai", "facilitator")
    tablet = app.test_client()
    assert attempt(tablet, "somchai", PASSWORD, address="10.0.0.5").status_code == 302
    admin_client.post(
        f"/admin/users/{somchai.id}/password",
        data={"password": "new secret words", "confirm": "new secret words"},
    )
    for number in range(20):
        attempt(app.test_client(), "somchai", address=f"10.0.1.{number}")
    refused = attempt(tablet, "somchai", "new secret words", address="10.0.0.6")
    assert refused.status_code == 429


def test_memory_stays_bounded_when_many_names_are_tried():
    now = [0.0]
    throttle = LoginThrottle(
        limits={"pair": Limit(free=5, longest_wait=10, forget_after=10)}, clock=lambda: now[0]
    )
    for number in range(12_000):
        throttle.failed(f"10.0.{number // 250}.{number % 250}", f"name{number}")
        now[0] += 0.01
    # Lapsed counts are dropped whenever 10,000 keys are reached; those of the last 10 s
    # (1,000 attempts) are kept.
    assert 1_000 <= len(throttle._counts) <= 10_001


def test_nul_characters_never_reach_the_application(app, client):
    """PostgreSQL cannot store NUL in text; nobody types one. Forms and query strings drop it."""
    make_user("admin", "admin")
    response = client.post(
        "/login?next=/admin%00/users", data={"username": "ad\x00min", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users"
