"""The live projector and phone views (server side): who may see them, what each screen shows,
the facilitator's screen control, the QR code, and the event stream's contract."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from planapp.changes import NothingToUndo, record_change, undo_last_change
from planapp.domain import PROJECTOR_MODES
from planapp.extensions import db
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


def test_board_pages_hold_every_card_once(app, demo_plan):
    """A long column is cut into pages, never cut off: every card is on exactly one page."""
    spread_demo(demo_plan)
    state = screens.screen(demo_plan, "projector")
    for column in state["columns"]:
        on_pages = [p.id for page in column.pages for p in page]
        assert on_pages == [p.id for p in column.projects]
    assert any(len(column.pages) > 1 for column in state["columns"])
    phone = screens.screen(demo_plan, "phone")
    assert all(len(column.pages) == 1 for column in phone["columns"])


def test_projector_shows_first_the_page_with_the_card_changed_last(app, demo_plan):
    spread_demo(demo_plan)
    group_3 = db.session.scalars(
        select(Project)
        .where(Project.plan_id == demo_plan.id, Project.funding_group == "3")
        .order_by(Project.rank.desc())
    ).first()
    record_change(demo_plan, "edit", project=group_3, actor=None)
    db.session.commit()
    state = screens.screen(demo_plan, "projector")
    assert state["last_id"] == group_3.id
    column = next(c for c in state["columns"] if c.key == "3")
    assert column.first_page == len(column.pages) - 1
    assert group_3 in column.pages[column.first_page]


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
    state = screens.overview_screen(demo_plan, projects)
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
    from flask import render_template

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
        html = render_template("projector/_summary.html", plan=demo_plan, s=state)
    assert "ผู้เข้าร่วม 1,234 คน" in html


def test_visible_length_ignores_marks_above_and_below():
    assert screens.visible_length("ที่") == 1  # ท + two marks
    assert screens.visible_length("abc") == 3


# --- the facilitator's control -------------------------------------------------------------


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
    monkeypatch.setattr(projector_routes, "KEEP_ALIVE_SECONDS", 0.2)


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
def test_every_screen_cuts_into_parts_that_can_be_sent_alone(app, demo_plan, layout):
    """Each part is one element whose id is "live-" and its name (an out-of-band swap finds it
    by that id), and every card of a part is one the delta can keep."""
    spread_demo(demo_plan)
    for mode in PROJECTOR_MODES:
        demo_plan.projector_mode = mode
        with app.test_request_context("/"):
            html = projector_routes.render_content(demo_plan, layout)
        entry = projector_routes.Rendered.of(demo_plan.version, True, "t", html)
        if mode in ("board", "urgency"):
            assert len(entry.parts) >= 3
        for name, part in entry.parts.items():
            assert re.match(rf'\s*<\w+ [^>]*\bid="live-{name}"', part), (mode, name)
            cards = part.count("data-project-id=")
            assert len(projector_routes.CARD.findall(part)) == cards, (mode, name)
        assert 'data-plan-version=""' in entry.frame  # the frame compares across versions


def test_a_view_at_the_previous_version_gets_only_the_parts_that_changed(
    client, facilitator_client, demo_plan, short_keep_alive
):
    spread_demo(demo_plan)
    record_change(demo_plan, "edit", actor=None)  # about no card: nothing highlighted yet
    db.session.commit()
    plan_id, version = demo_plan.id, demo_plan.version
    group_1, group_3 = column_cards_of(demo_plan, "1"), column_cards_of(demo_plan, "3")
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
    swapped = re.findall(r'<(\w+) hx-swap-oob="true"[^>]* id="live-([\w-]+)"', delta)
    assert sorted(swapped) == [("section", "column-1"), ("section", "column-3")]
    assert 'id="screen-title"' not in delta  # the screen around the columns stays as it is
    # Group 1's cards did not change: the view keeps its own. The moved card comes whole,
    # highlighted; group 3's first card keeps its place, the ones after it are numbered anew.
    for project_id in group_1 + group_3[:1]:
        assert f'<template data-keep="{project_id}"></template>' in delta
    assert re.search(rf'<li class="live-card is-last-change" data-project-id="{moved}"', delta)
    for project_id in group_3[2:]:
        assert re.search(rf'<li class="live-card" data-project-id="{project_id}"', delta)

    response.close()

    # A view further behind (or back from an older version) gets the whole content.
    response, chunks = open_stream(client, demo_plan, query_string={"version": str(version - 1)})
    event = read_event(chunks)
    assert (event["event"], event["id"]) == ("state", str(version + 1))
    assert f'data-project-id="{group_1[0]}"' in event["data"]

    # A change of screen changes more than parts: the whole content, even to a view that was
    # at the previous version.
    facilitator_client.post(f"/plans/{plan_id}/screen", data={"mode": "summary"})
    event = read_event(chunks)
    assert (event["event"], event["id"]) == ("state", str(version + 2))
    assert 'data-mode="summary"' in event["data"]
    response.close()


def test_a_change_that_shows_nothing_new_still_reaches_the_view(
    client, demo_plan, short_keep_alive
):
    """The delta is empty, but it carries the version: an event without data would never be
    delivered, and the view would stay one version behind."""
    record_change(demo_plan, "edit", actor=None)
    db.session.commit()
    response, chunks = open_stream(client, demo_plan, query_string={"version": "0"})
    assert read_event(chunks)["event"] == "state"
    plan = db.session.get(Plan, demo_plan.id)
    record_change(plan, "edit", actor=None)
    db.session.commit()
    raw = next(chunk for chunk in chunks if b"event:" in chunk)
    assert raw == b"id: 2\nevent: delta\ndata: \n\n"
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
