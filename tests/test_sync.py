"""Halls that sync (issue 18): a hall laptop pulls the plan prepared on the district server,
pushes it back after the forum, and a stale push is refused with what differs.

Two app instances and two databases: the district server is the `app` fixture (PostgreSQL in
the PostgreSQL run) served by a real HTTP server in a thread; the hall laptop is a second app
on a SQLite file of its own, driven by the Flask test client, calling the server over HTTP."""

from __future__ import annotations

import re
import socket
import threading

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from planapp import create_app
from planapp.extensions import db
from planapp.intake.projects import update_project
from planapp.models import ChangeLog, Plan, Project, SyncLink, SyncToken
from tests.conftest import TEST_CONFIG, BrowserLikeClient, add_officer, make_user


@pytest.fixture
def district(app, demo_plan):
    """The server app, answering on a real local port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def hall(tmp_path, monkeypatch):
    """The hall laptop: another app, on a SQLite database of its own."""
    with monkeypatch.context() as patch:
        patch.setenv("PLANAPP_INSTANCE_PATH", str(tmp_path / "hall"))
        patch.delenv("DATABASE_URL", raising=False)
        laptop = create_app(dict(TEST_CONFIG, SYNC_TIMEOUT=3))
    laptop.test_client_class = BrowserLikeClient
    with laptop.app_context():
        db.create_all()
        make_user("hallfacilitator", "admin")
        db.session.remove()
    yield laptop
    with laptop.app_context():
        db.session.remove()
        db.engine.dispose()


def issue_token(app, plan: Plan, username="admin", role="admin") -> str:
    """A token issued on the server's page, as an administrator does it."""
    make_user(username, role)
    client = app.test_client()
    client.login(username)
    page = client.post(f"/tambons/{plan.tambon_id}/sync-tokens", data={"label": "แล็ปท็อปศาลา"})
    assert page.status_code == 200
    return re.search(r"data-new-token>([^<]+)<", page.get_data(as_text=True)).group(1)


def in_hall(hall, work):
    with hall.app_context():
        try:
            return work()
        finally:
            db.session.remove()


def test_a_hall_pulls_pushes_and_is_refused_a_stale_push(app, demo_plan, district, hall):
    raw = issue_token(app, demo_plan)
    stored = db.session.scalar(select(SyncToken))
    assert stored.digest != raw and raw.startswith(stored.hint) and raw not in stored.digest
    year, server_plan_id = demo_plan.fiscal_year, demo_plan.id
    titles = sorted(p.title for p in demo_plan.projects)
    db.session.commit()

    laptop = hall.test_client()
    laptop.login("hallfacilitator")
    # Before the forum: the plan prepared on the server comes to the empty laptop.
    answer = laptop.post(
        "/sync/pull", data={"server_url": district, "token": raw, "fiscal_year": str(year)}
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    hall_plan_id = int(re.search(r"/plans/(\d+)/sync", answer.headers["Location"]).group(1))

    def pulled():
        plan = db.session.get(Plan, hall_plan_id)
        link = db.session.get(SyncLink, hall_plan_id)
        return sorted(p.title for p in plan.projects), link.base_version, link.token

    assert in_hall(hall, pulled) == (titles, demo_plan.version, raw)

    # The forum runs offline on the laptop: a project's title changes there.
    def edit_here(title):
        plan = db.session.get(Plan, hall_plan_id)
        project = min(plan.projects, key=lambda p: p.id)
        update_project(plan, project, {"title": title}, list(project.villages), actor=None)
        db.session.commit()
        return project.uid

    uid = in_hall(hall, lambda: edit_here("ถนนคอนกรีตสายใหม่ (เวที)"))
    before_push = demo_plan.version
    answer = laptop.post(f"/plans/{hall_plan_id}/sync/push")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    db.session.expire_all()
    plan = db.session.get(Plan, server_plan_id)
    assert plan.version == before_push + 1
    assert db.session.scalar(select(Project.title).where(Project.uid == uid)) == (
        "ถนนคอนกรีตสายใหม่ (เวที)"
    )
    entry = db.session.scalars(
        select(ChangeLog).where(ChangeLog.plan_id == plan.id).order_by(ChangeLog.id.desc())
    ).first()
    assert entry.action == "import" and entry.details["source"] == "sync_push"
    assert entry.details["token_id"] == stored.id and entry.user_id is None

    # Meanwhile the district office changes the same project on the server...
    project = db.session.scalar(select(Project).where(Project.uid == uid))
    villages = list(project.villages)
    update_project(plan, project, {"budget_satang": 123_456_700}, villages, actor=None)
    db.session.commit()
    server_version = plan.version
    # ...and the laptop changes it again: its push is stale, refused, and says what differs.
    in_hall(hall, lambda: edit_here("ถนนคอนกรีตสายใหม่ (แก้อีก)"))
    page = laptop.post(f"/plans/{hall_plan_id}/sync/push")
    text = page.get_data(as_text=True)
    assert page.status_code == 409
    assert 'data-sync-refused="stale"' in text
    changed = re.search(r'<li data-difference="changed">.*?</li>', text, re.S).group(0)
    assert "ถนนคอนกรีตสายใหม่ (แก้อีก)" in changed and "ถนนคอนกรีตสายใหม่ (เวที)" in changed
    assert 'data-field="budget_satang"' in changed and "1,234,567" in changed
    assert "งบประมาณ" in changed  # the field, in the reader's language (Thai by default)
    db.session.expire_all()
    assert db.session.get(Plan, server_plan_id).version == server_version  # nothing written

    # Pull instead: it asks first (changes made here), then replaces them.
    page = laptop.post(f"/plans/{hall_plan_id}/sync/pull")
    assert page.status_code == 409 and 'data-sync-refused="confirm"' in page.get_data(as_text=True)
    page = laptop.post(f"/plans/{hall_plan_id}/sync/pull", data={"replace_changes": "y"})
    assert page.status_code == 200 and "data-sync-pulled" in page.get_data(as_text=True)

    def budget_here():
        return db.session.scalar(select(Project.budget_satang).where(Project.uid == uid))

    assert in_hall(hall, budget_here) == 123_456_700
    # Now based on the server's newest version, the next push is taken.
    in_hall(hall, lambda: edit_here("ถนนคอนกรีตสายใหม่ (สุดท้าย)"))
    assert laptop.post(f"/plans/{hall_plan_id}/sync/push").status_code == 302
    db.session.expire_all()
    assert db.session.get(Plan, server_plan_id).version == server_version + 1


def test_the_token_opens_only_its_tambons_sync_api(app, demo_plan):
    raw = issue_token(app, demo_plan)
    year = demo_plan.fiscal_year
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {raw}"}
    assert api.get(f"/api/sync/plans/{year}", headers=bearer).status_code == 200
    assert api.get(f"/api/sync/plans/{year + 1}", headers=bearer).status_code == 404
    # A signed-in administrator's session opens no sync API; the token opens no page.
    admin = app.test_client()
    admin.login("admin")
    assert admin.get(f"/api/sync/plans/{year}").status_code == 401
    assert admin.post(f"/api/sync/plans/{year}", json={"plan": {}}).status_code == 401
    page = api.get(f"/plans/{demo_plan.id}", headers=bearer)
    assert page.status_code == 401  # as for anyone not signed in
    # A push of another tambon's plan is refused, and changes nothing.
    document = api.get(f"/api/sync/plans/{year}", headers=bearer).get_json()["plan"]
    document["tambon"]["name"] = "ตำบลอื่น"
    version = demo_plan.version
    answer = api.post(f"/api/sync/plans/{year}", headers=bearer, json={"plan": document})
    assert answer.status_code == 403
    db.session.expire_all()
    assert db.session.get(Plan, demo_plan.id).version == version
    # Revoked, it opens nothing.
    token = db.session.scalar(select(SyncToken))
    admin.post(f"/tambons/{demo_plan.tambon_id}/sync-tokens/{token.id}/revoke")
    assert api.get(f"/api/sync/plans/{year}", headers=bearer).status_code == 401
    # Guessing slows down: past a few failures the address waits (429, Retry-After).
    answers = [
        api.get(f"/api/sync/plans/{year}", headers={"Authorization": f"Bearer pst_{n}"})
        for n in range(8)
    ]
    assert answers[-1].status_code == 429 and int(answers[-1].headers["Retry-After"]) >= 1
    # Only the administrator or the officer of the area issues tokens.
    add_officer("other_officer", "district_officer", "ที่อื่น", "อำเภออื่น")
    make_user("somchai", "facilitator", tambons=[demo_plan.tambon])
    for name in ("other_officer", "somchai"):
        client = app.test_client()
        client.login(name)
        assert client.get(f"/tambons/{demo_plan.tambon_id}/sync-tokens").status_code == 403
    tambon = demo_plan.tambon
    add_officer("officer", "district_officer", tambon.province, tambon.district)
    officer = app.test_client()
    officer.login("officer")
    assert officer.get(f"/tambons/{demo_plan.tambon_id}/sync-tokens").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(SyncToken)) == 1


def test_an_unreachable_server_is_said_plainly(hall):
    hall.config["SYNC_TIMEOUT"] = 0.5
    laptop = hall.test_client()
    laptop.login("hallfacilitator")
    silent = socket.socket()  # accepts connections (the kernel does), never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()  # nothing listens there any more
    try:
        for address, words in (
            (f"http://127.0.0.1:{closed_port}", "ติดต่อเครื่องแม่ข่าย 127.0.0.1"),
            (f"http://127.0.0.1:{silent.getsockname()[1]}", "ไม่ตอบภายใน 0.5 วินาที"),
        ):
            page = laptop.post(
                "/sync/pull",
                data={"server_url": address, "token": "pst_x", "fiscal_year": "2569"},
            )
            assert page.status_code == 502
            assert words in page.get_data(as_text=True)
    finally:
        silent.close()


def test_a_server_with_the_laptop_side_off_calls_no_address_it_is_given(hall):
    """A server shared by many tambons (PLANAPP_SYNC_CLIENT=0) never calls the address a user
    types: the pull is refused with words, and nothing connects to the address."""
    hall.config["SYNC_CLIENT"] = False
    laptop = hall.test_client()
    laptop.login("hallfacilitator")
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(1)
    listening.setblocking(False)
    try:
        page = laptop.post(
            "/sync/pull",
            data={
                "server_url": f"http://127.0.0.1:{listening.getsockname()[1]}",
                "token": "pst_x",
                "fiscal_year": "2569",
            },
        )
        assert page.status_code == 400  # refused here, not a server that failed to answer
        assert "ไม่ติดต่อเครื่องแม่ข่ายอื่น (ปิด PLANAPP_SYNC_CLIENT ไว้)" in page.get_data(as_text=True)
        with pytest.raises(BlockingIOError):
            listening.accept()  # no connection waits: the server was never called
    finally:
        listening.close()
    with hall.app_context():
        assert db.session.scalar(select(func.count()).select_from(Plan)) == 0
