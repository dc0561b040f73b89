"""The live projector and phone views (server side): who may see them, what each screen shows,
the facilitator's screen control, the QR code, and the event stream's contract."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from planapp import live
from planapp.cards import plan_cards
from planapp.changes import NothingToUndo, Regions, record_change, undo_last_change
from planapp.domain import PROJECTOR_MODES
from planapp.extensions import db
from planapp.fragments import region
from planapp.models import ChangeLog, ForumAttendance, Plan, Project
from planapp.projector import routes as projector_routes
from planapp.projector import screens
from tests.live_helpers import spread_demo


def body_version(html: str) -> int:
    body = re.search(r"<body[^>]*>", html).group(0)
    assert "data-projector" in body or "data-phone" in body
    return int(re.search(r'data-plan-version="(\d+)"', body).group(1))


def test_projector_and_phone_need_no_login_when_public(client, demo_plan):
    for suffix in ("", "/phone"):
        response = client.get(f"/live/{demo_plan.public_token}{suffix}")
        assert response.status_code == 200
        assert body_version(response.get_data(as_text=True)) == demo_plan.version
    page = client.get(f"/live/{demo_plan.public_token}").get_data(as_text=True)
    assert re.search(r"<body[^>]*\bdata-projector\b", page)


def test_closed_plan_and_unknown_token_are_not_found(client, demo_plan):
    demo_plan.is_public = False
    db.session.commit()
    for path in ("", "/phone", "/events", "/qr.svg"):
        assert client.get(f"/live/{demo_plan.public_token}{path}").status_code == 404
    assert client.get("/live/not-a-token").status_code == 404


@pytest.mark.parametrize("mode", PROJECTOR_MODES)
def test_every_mode_renders_on_projector_and_phone(client, demo_plan, mode):
    spread_demo(demo_plan)
    demo_plan.projector_mode = mode
    demo_plan.projector_village_number = demo_plan.tambon.villages[1].number
    db.session.commit()
    for suffix in ("", "/phone"):
        html = client.get(f"/live/{demo_plan.public_token}{suffix}").get_data(as_text=True)
        assert f'data-mode="{mode}"' in html
    if mode == "board":
        assert 'data-group="1"' in html and 'data-group="unsorted"' in html  # the phone
    if mode == "urgency":
        for tier in ("urgent", "medium", "normal"):
            assert f'data-urgency="{tier}"' in html
    if mode == "village":
        assert demo_plan.tambon.villages[1].name in html


def test_card_changed_last_is_marked_only_while_it_is_the_latest_change(client, demo_plan):
    spread_demo(demo_plan)
    project = db.session.scalars(
        select(Project).where(Project.plan_id == demo_plan.id, Project.funding_group == "1")
    ).first()
    record_change(demo_plan, "edit", project=project, actor=None)
    db.session.commit()
    html = client.get(f"/live/{demo_plan.public_token}").get_data(as_text=True)
    assert re.search(rf'data-project-id="{project.id}" data-last-change', html)
    record_change(demo_plan, "edit", actor=None)  # a change about no single project
    db.session.commit()
    html = client.get(f"/live/{demo_plan.public_token}").get_data(as_text=True)
    assert "data-last-change" not in html


def test_overview_totals_by_village_and_sector(app, demo_plan):
    projects = demo_plan.active_projects()
    state = screens.overview_screen(demo_plan, plan_cards(demo_plan.id))
    assert state["total_count"] == len(projects)
    assert state["total_budget"] == sum(p.budget_satang for p in projects)
    assert sum(row["count"] for row in state["sector_rows"]) == len(projects)
    village = demo_plan.tambon.villages[0]
    row = next(r for r in state["village_rows"] if r["village"].id == village.id)
    own = [p for p in projects if village in p.villages]
    assert row["count"] == len(own)
    assert row["budget"] == sum(p.budget_satang for p in own)


def test_summary_counts_and_budgets_per_group_and_tier(app, demo_plan):
    spread_demo(demo_plan)
    state = screens.summary_screen(demo_plan)
    projects = demo_plan.active_projects()
    for group in ("unsorted", "1", "2", "3", "not-feasible"):
        mine = [p for p in projects if p.funding_group == group]
        assert state["groups"][group] == {
            "count": len(mine),
            "budget": sum(p.budget_satang for p in mine),
        }
    taken = [p for p in projects if p.funding_group in ("1", "2", "3")]
    assert sum(row["count"] for row in state["tiers"].values()) == len(taken)
    urgent = [p for p in taken if p.urgency == "urgent"]
    assert state["tiers"]["urgent"]["budget"] == sum(p.budget_satang for p in urgent)


def test_summary_says_how_many_people_took_part(app, demo_plan):
    assert screens.summary_screen(demo_plan)["participants"] == 0
    villages = demo_plan.tambon.villages
    db.session.add_all(
        [
            ForumAttendance(plan_id=demo_plan.id, village_id=villages[0].id, people=1200),
            ForumAttendance(plan_id=demo_plan.id, village_id=villages[1].id, people=34),
        ]
    )
    db.session.commit()
    state = screens.summary_screen(demo_plan)
    assert state["participants"] == 1234
    with app.test_request_context():
        shown = screens.screen(demo_plan, "projector")
        shown.data = state
        html = region(projector_routes.REGIONS, "summary", shown)
    assert "ผู้เข้าร่วม 1,234 คน" in html


def test_screen_control_needs_a_facilitator_of_the_tambon(client, app, demo_plan):
    assert client.get(f"/plans/{demo_plan.id}/screen").status_code in (302, 401)
    assert client.post(f"/plans/{demo_plan.id}/screen", data={"mode": "summary"}).status_code in (
        302,
        401,
    )
    from tests.conftest import make_user

    make_user("stranger", "facilitator")  # of no tambon
    stranger = app.test_client()
    stranger.login("stranger")
    assert (
        stranger.post(f"/plans/{demo_plan.id}/screen", data={"mode": "summary"}).status_code == 403
    )
    db.session.refresh(demo_plan)
    assert demo_plan.projector_mode == "board" and demo_plan.version == 0


def test_switching_the_screen_bumps_the_version_and_logs_it(facilitator_client, demo_plan):
    page = facilitator_client.get(f"/plans/{demo_plan.id}/screen")
    assert page.status_code == 200
    assert 'data-screen-mode="summary"' in page.get_data(as_text=True)
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/screen", data={"mode": "summary"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert 'id="projector-control"' in response.get_data(as_text=True)
    db.session.refresh(demo_plan)
    assert (demo_plan.projector_mode, demo_plan.version) == ("summary", 1)
    entry = db.session.scalar(select(ChangeLog).order_by(ChangeLog.id.desc()))
    assert entry.action == "projector" and entry.plan_version == 1 and entry.user_id is not None
    # The same choice again changes nothing (no redraw on every screen).
    facilitator_client.post(f"/plans/{demo_plan.id}/screen", data={"mode": "summary"})
    db.session.refresh(demo_plan)
    assert demo_plan.version == 1


def test_screen_choices_are_not_undone_by_undo(facilitator_client, demo_plan):
    """Undo on the board means the last card change, not "put the projector back"."""
    facilitator_client.post(f"/plans/{demo_plan.id}/screen", data={"mode": "overview"})
    with pytest.raises(NothingToUndo):
        undo_last_change(db.session.get(Plan, demo_plan.id), actor=None)


def test_village_mode_needs_a_village_of_this_tambon(facilitator_client, demo_plan):
    village = demo_plan.tambon.villages[2]
    for bad in ({"mode": "village"}, {"mode": "village", "village_id": "99999"},
                {"mode": "village", "village_id": "x"}, {"mode": "cinema"}):  # fmt: skip
        response = facilitator_client.post(
            f"/plans/{demo_plan.id}/screen", data=bad, headers={"HX-Request": "true"}
        )
        assert response.status_code == 400
        assert 'role="alert"' in response.get_data(as_text=True)
    db.session.refresh(demo_plan)
    assert demo_plan.version == 0 and demo_plan.projector_mode == "board"
    facilitator_client.post(
        f"/plans/{demo_plan.id}/screen", data={"mode": "village", "village_id": str(village.id)}
    )
    db.session.refresh(demo_plan)
    assert (demo_plan.projector_mode, demo_plan.projector_village_number) == (
        "village",
        village.number,
    )


def test_changing_the_screen_needs_the_csrf_token(facilitator_client, demo_plan):
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/screen", data={"mode": "summary"}, csrf=False
    )
    assert response.status_code == 400
    db.session.refresh(demo_plan)
    assert demo_plan.projector_mode == "board"


def test_close_open_and_new_address(facilitator_client, client, demo_plan):
    old_token = demo_plan.public_token
    facilitator_client.post(f"/plans/{demo_plan.id}/screen/public", data={"public": "0"})
    db.session.refresh(demo_plan)
    assert not demo_plan.is_public
    assert client.get(f"/live/{old_token}").status_code == 404
    facilitator_client.post(f"/plans/{demo_plan.id}/screen/public", data={"public": "1"})
    assert client.get(f"/live/{old_token}").status_code == 200
    facilitator_client.post(f"/plans/{demo_plan.id}/screen/token")
    db.session.refresh(demo_plan)
    assert demo_plan.public_token != old_token and len(demo_plan.public_token) >= 20
    assert client.get(f"/live/{old_token}").status_code == 404
    assert client.get(f"/live/{demo_plan.public_token}").status_code == 200
    assert demo_plan.version == 3


def test_qr_code_encodes_the_phone_address_as_reached(client, facilitator_client, demo_plan):
    response = client.get(
        f"/live/{demo_plan.public_token}/qr.svg", base_url="http://192.168.1.20:8000"
    )
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert f"http://192.168.1.20:8000/live/{demo_plan.public_token}/phone" in svg  # its title
    assert "<path" in svg
    control = facilitator_client.get(f"/plans/{demo_plan.id}/screen/qr.svg")
    assert control.status_code == 200 and control.mimetype == "image/svg+xml"


def test_phone_address_shown_under_the_qr_code(client, demo_plan):
    html = client.get(
        f"/live/{demo_plan.public_token}", base_url="http://192.168.1.20:8000"
    ).get_data(as_text=True)
    assert f"http://192.168.1.20:8000/live/{demo_plan.public_token}/phone" in html


def test_live_pages_use_no_inline_style_or_script(client, demo_plan):
    spread_demo(demo_plan)
    for mode in PROJECTOR_MODES:
        demo_plan.projector_mode = mode
        db.session.commit()
        for suffix in ("", "/phone"):
            html = client.get(f"/live/{demo_plan.public_token}{suffix}").get_data(as_text=True)
            assert " style=" not in html
            assert not re.search(r"<script(?![^>]*\bsrc=)", html)


# --- the event stream ---------------------------------------------------------------------


def read_event(chunks) -> dict:
    """The next event of the stream (comments skipped) as {"id", "event", "data"}."""
    while True:
        text = next(chunks)
        text = text.decode() if isinstance(text, bytes) else text
        fields: dict[str, str] = {}
        data = []
        for line in text.strip("\n").split("\n"):
            if line.startswith("data: "):
                data.append(line[6:])
            elif ": " in line and not line.startswith(":"):
                key, value = line.split(": ", 1)
                fields[key] = value
        if "event" in fields:
            fields["data"] = "\n".join(data)
            return fields


@pytest.fixture
def short_keep_alive(monkeypatch):
    monkeypatch.setattr(live, "KEEP_ALIVE_SECONDS", 0.2)


def open_stream(client, plan, **kwargs):
    response = client.get(f"/live/{plan.public_token}/events", **kwargs)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    return response, iter(response.response)


def test_stream_sends_current_state_to_a_view_that_is_behind(client, demo_plan, short_keep_alive):
    record_change(demo_plan, "edit", actor=None)
    db.session.commit()
    response, chunks = open_stream(client, demo_plan, query_string={"version": "0"})
    event = read_event(chunks)
    assert event["id"] == "1" and event["event"] == "state"
    assert 'data-plan-version="1"' in event["data"]
    response.close()


def test_stream_sends_nothing_old_then_each_new_version(client, demo_plan, short_keep_alive):
    response, chunks = open_stream(client, demo_plan, query_string={"version": "0"})
    assert next(chunks).startswith(b"retry:")
    assert next(chunks).startswith(b": keep-alive")  # nothing new: a comment, no state
    # (The test shares the stream's session, which the stream closes: load the plan again.)
    plan = db.session.get(Plan, demo_plan.id)
    plan.projector_mode = "summary"
    record_change(plan, "projector", actor=None)
    db.session.commit()
    event = read_event(chunks)
    assert event["id"] == "1" and 'data-mode="summary"' in event["data"]
    response.close()


def test_last_event_id_wins_over_an_older_address(client, demo_plan, short_keep_alive):
    """The browser's own reconnect sends Last-Event-ID: a view already at the current version
    gets no replay."""
    record_change(demo_plan, "edit", actor=None)
    db.session.commit()
    response, chunks = open_stream(
        client, demo_plan, query_string={"version": "0"}, headers={"Last-Event-ID": "1"}
    )
    assert next(chunks).startswith(b"retry:")
    assert next(chunks).startswith(b": keep-alive")
    response.close()


def test_stream_closes_with_a_notice_when_the_plan_is_closed(
    client, facilitator_client, demo_plan, short_keep_alive
):
    response, chunks = open_stream(client, demo_plan, query_string={"version": "0"})
    next(chunks)
    facilitator_client.post(f"/plans/{demo_plan.id}/screen/public", data={"public": "0"})
    event = read_event(chunks)
    assert 'class="screen screen-closed"' in event["data"]
    assert demo_plan.projector_mode not in event["data"] or "data-mode" not in event["data"]
    with pytest.raises(StopIteration):
        read_event(chunks)
    response.close()


def test_phone_stream_sends_the_phone_layout(client, demo_plan, short_keep_alive):
    spread_demo(demo_plan)
    record_change(demo_plan, "edit", actor=None)
    db.session.commit()
    response, chunks = open_stream(
        client, demo_plan, query_string={"version": "0", "layout": "phone"}
    )
    event = read_event(chunks)
    assert 'data-group="unsorted"' in event["data"]  # the phone lists every column in full
    assert "data-pager" not in event["data"]
    response.close()
    assert (
        client.get(
            f"/live/{demo_plan.public_token}/events", query_string={"layout": "x"}
        ).status_code
        == 404
    )


# --- sending only what changed ----------------------------------------------------------------


def column_cards_of(plan, group: str) -> list[int]:
    return list(
        db.session.scalars(
            select(Project.id)
            .where(Project.plan_id == plan.id, Project.funding_group == group)
            .order_by(Project.rank)
        )
    )


@pytest.mark.parametrize("layout", projector_routes.LAYOUTS)
def test_every_region_renders_alone_by_name_as_the_page_shows_it(app, demo_plan, layout):
    """The screen is composed of its regions: each rendered alone is exactly what the whole
    content holds, so a delta and a reload show the same."""
    spread_demo(demo_plan)
    for mode in PROJECTOR_MODES:
        demo_plan.projector_mode = mode
        with app.test_request_context("/"):
            shown = screens.screen(demo_plan, layout)
            whole = str(region(projector_routes.REGIONS, "content", shown))
            parts = [region(projector_routes.REGIONS, "timer", shown)]
            for column in shown.columns:
                parts += [
                    region(projector_routes.REGIONS, "column", shown, column),
                    region(projector_routes.REGIONS, "column_head", shown, column),
                ]
                parts += [region(projector_routes.REGIONS, "card", shown, c) for c in column.cards]
            if mode in ("board", "urgency"):
                parts.append(region(projector_routes.REGIONS, "side", shown))
                assert len(shown.columns) >= 3
        for part in parts:
            assert str(part) in whole, (mode, str(part)[:80])
        ids = re.findall(r'\bid="([^"]+)"', whole)
        assert len(ids) == len(set(ids)), mode  # every region has its own address


def test_a_view_at_the_previous_version_gets_only_what_changed(
    client, facilitator_client, demo_plan, short_keep_alive
):
    spread_demo(demo_plan)
    record_change(demo_plan, "edit", actor=None)  # about no card: nothing highlighted yet
    db.session.commit()
    plan_id, version = demo_plan.id, demo_plan.version
    group_3 = column_cards_of(demo_plan, "3")
    moved = group_3[1]
    response, chunks = open_stream(client, demo_plan, query_string={"version": "0"})
    event = read_event(chunks)  # a view that was behind gets the whole content
    assert (event["event"], event["id"]) == ("state", str(version))
    assert event["data"].startswith('<div id="live" hx-swap-oob="innerHTML">')

    data = {"project_id": moved, "group": "1", "before_id": "", "version": version}
    assert facilitator_client.post(f"/plans/{plan_id}/moves", data=data).status_code == 200
    event = read_event(chunks)
    assert (event["event"], event["id"]) == ("delta", str(version + 1))
    delta = event["data"]
    assert 'id="screen-title"' not in delta  # the screen around the lists stays as it is
    # The moved card alone: taken out, put back at the end of group 1, highlighted. The cards
    # below its old place are not sent: their numbers come from a CSS counter.
    assert delta.count("data-project-id=") == 1
    assert f'<div id="live-card-{moved}" hx-swap-oob="delete">' in delta
    assert re.search(
        rf'<div hx-swap-oob="beforeend:#live-cards-1">\n<li class="live-card is-last-change"'
        rf' id="live-card-{moved}"',
        delta,
    )
    heads = re.findall(r'<h3 class="column-head" id="col-([\w-]+)" hx-swap-oob="true"', delta)
    assert sorted(heads) == ["1", "3"]
    assert 'id="live-side" hx-swap-oob="true"' in delta
    assert f'id="live-last" data-last-id="{moved}"' in delta
    assert len(event["data"]) < 3000, len(event["data"])
    response.close()

    # A view further behind (or back from an older version) gets the whole content.
    response, chunks = open_stream(client, demo_plan, query_string={"version": str(version - 1)})
    event = read_event(chunks)
    assert (event["event"], event["id"]) == ("state", str(version + 1))
    assert f'data-project-id="{group_3[0]}"' in event["data"]

    # A change of screen changes more than lists: the whole content, even to a view that was
    # at the previous version.
    facilitator_client.post(f"/plans/{plan_id}/screen", data={"mode": "summary"})
    event = read_event(chunks)
    assert (event["event"], event["id"]) == ("state", str(version + 2))
    assert 'data-mode="summary"' in event["data"]
    response.close()


def test_a_change_that_shows_nothing_new_still_reaches_the_view(
    client, demo_plan, short_keep_alive
):
    """The delta shows nothing new, but it carries the version: an event without data would
    never be delivered, and the view would stay one version behind."""
    record_change(demo_plan, "edit", actor=None)
    db.session.commit()
    response, chunks = open_stream(client, demo_plan, query_string={"version": "0"})
    assert read_event(chunks)["event"] == "state"
    plan = db.session.get(Plan, demo_plan.id)
    record_change(plan, "edit", actor=None, regions=Regions())
    db.session.commit()
    raw = next(chunk for chunk in chunks if b"event:" in chunk)
    assert raw == (
        b'id: 2\nevent: delta\ndata: <span id="live-last" data-last-id="" hidden'
        b' hx-swap-oob="true"></span>\n\n'
    )
    response.close()


def test_a_view_back_after_the_plan_was_closed_gets_the_whole_content(
    client, facilitator_client, demo_plan, short_keep_alive
):
    """It shows the "closed" notice, not the content of the version before: no delta for it."""
    plan_id = demo_plan.id
    response, chunks = open_stream(client, demo_plan, query_string={"version": "-1"})
    assert read_event(chunks)["event"] == "state"
    facilitator_client.post(f"/plans/{plan_id}/screen/public", data={"public": "0"})
    event = read_event(chunks)
    assert 'class="screen screen-closed"' in event["data"]
    closed_at = int(event["id"])
    response.close()
    facilitator_client.post(f"/plans/{plan_id}/screen/public", data={"public": "1"})
    response, chunks = open_stream(client, demo_plan, query_string={"version": str(closed_at)})
    event = read_event(chunks)
    assert (event["event"], event["id"]) == ("state", str(closed_at + 1))
    response.close()


def test_hall_address_never_sends_phones_to_localhost():
    from planapp.hall_address import hall_address

    def lan():
        return ["192.168.1.20"]

    def none():
        return []

    # Opened on the laptop itself: the LAN address, with the same port.
    for asked in ("http://localhost:8000/", "http://127.0.0.1:8000/", "http://[::1]:8000/"):
        assert hall_address(asked, "", lan).base == "http://192.168.1.20:8000"
        assert hall_address(asked, "", lan).reachable
    # Opened at an address the hall reaches: that one.
    assert hall_address("http://192.168.1.5:8000/", "", lan).base == "http://192.168.1.5:8000"
    # A public address wins (a server behind a proxy).
    public = hall_address("http://127.0.0.1:8000/", "https://plan.example.org", lan)
    assert public.base == "https://plan.example.org" and public.reachable
    # No LAN address at all: loopback, and it says so.
    alone = hall_address("http://localhost:8000/", "", none)
    assert alone.base == "http://localhost:8000" and not alone.reachable


def test_projector_page_and_qr_code_use_the_hall_address(client, demo_plan, monkeypatch):
    from planapp import hall_address

    monkeypatch.setattr(hall_address, "lan_addresses", lambda: ["10.0.0.7"])
    # The function's default was bound at import: the route must call it at request time.
    token = demo_plan.public_token
    page = client.get(f"/live/{token}", base_url="http://localhost:8000").get_data(as_text=True)
    assert f"http://10.0.0.7:8000/live/{token}/phone" in page
    svg = client.get(f"/live/{token}/qr.svg", base_url="http://localhost:8000").get_data(
        as_text=True
    )
    assert f"<title>http://10.0.0.7:8000/live/{token}/phone</title>" in svg
