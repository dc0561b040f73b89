"""Running the meeting on the server: steps, timer, screen, votes, budget lines, confirm and lock,
the forum record, each village's share and the minutes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from planapp.changes import project_snapshot, record_change, undo_last_change
from planapp.extensions import db
from planapp.formatting import be_datetime
from planapp.meeting import groups as meeting_groups
from planapp.meeting import rules
from planapp.meeting.minutes import decision_kinds
from planapp.meeting.shares import village_shares
from planapp.models import (
    Agency,
    ChangeLog,
    ForumAttendance,
    Plan,
    PlanGroup,
    PresentationTimer,
    Project,
    Village,
)
from tests.conftest import make_user
from tests.forum_script import play_forum


def place(plan: Plan, layout: dict[str, list[Project]]) -> None:
    """Put projects into columns in the given order (test set-up, not a logged change)."""
    for projects in layout.values():
        for project in projects:
            project.rank = None
    db.session.flush()
    for group, projects in layout.items():
        for rank, project in enumerate(projects, 1):
            project.funding_group, project.rank = group, rank
    db.session.commit()


def column_ids(plan: Plan, group: str) -> list[int]:
    return [p.id for p in meeting_groups.column_cards(plan, group)]


def last_entry(plan: Plan) -> ChangeLog:
    return db.session.scalar(
        select(ChangeLog).where(ChangeLog.plan_id == plan.id).order_by(ChangeLog.id.desc())
    )


# --- who may ------------------------------------------------------------------------------


def test_meeting_pages_need_a_signed_in_user_of_the_tambon(app, client, demo_plan):
    for path in ("meeting", "votes", "shares", "minutes", "guide", "meeting/record"):
        response = client.get(f"/plans/{demo_plan.id}/{path}")
        assert response.status_code == 302 and "/login" in response.location
    response = client.post(f"/plans/{demo_plan.id}/meeting/step", data={"step": "2"})
    assert response.status_code in (302, 401)
    make_user("outsider", "facilitator")
    client.login("outsider")
    assert client.post(f"/plans/{demo_plan.id}/meeting/step", data={"step": "2"}).status_code == 403
    assert client.get(f"/plans/{demo_plan.id}/meeting").status_code == 403
    db.session.refresh(demo_plan)
    assert demo_plan.meeting_step == 1 and demo_plan.version == 0


def test_state_changes_need_the_csrf_token(facilitator_client, demo_plan):
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/meeting/step", data={"step": "2"}, csrf=False
    )
    assert response.status_code == 400
    db.session.refresh(demo_plan)
    assert demo_plan.meeting_step == 1


# --- steps --------------------------------------------------------------------------------


def test_steps_move_forwards_and_back_each_logged(facilitator_client, demo_plan):
    url = f"/plans/{demo_plan.id}/meeting/step"
    for step in ("2", "3", "2"):
        response = facilitator_client.post(url, data={"step": step}, headers={"HX-Request": "1"})
        assert response.status_code == 200
        assert f'data-step="{step}"' in response.get_data(as_text=True)
    db.session.refresh(demo_plan)
    assert demo_plan.meeting_step == 2 and demo_plan.version == 3
    logged = db.session.scalars(
        select(ChangeLog.after).where(ChangeLog.action == "step").order_by(ChangeLog.id)
    ).all()
    assert [entry["meeting"]["step"] for entry in logged] == [2, 3, 2]


@pytest.mark.parametrize("bad", ["0", "8", "x", ""])
def test_a_step_that_does_not_exist_changes_nothing(facilitator_client, demo_plan, bad):
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/meeting/step", data={"step": bad}, headers={"HX-Request": "1"}
    )
    assert response.status_code == 422
    assert "ไม่มีขั้นตอนนี้" in response.get_data(as_text=True)
    db.session.refresh(demo_plan)
    assert demo_plan.meeting_step == 1 and demo_plan.version == 0


def test_undo_skips_screen_control_and_undoes_the_last_plan_change(app, demo_plan):
    from planapp.meeting import record

    project = demo_plan.projects[0]
    with app.test_request_context():  # summaries are translated
        meeting_groups.set_votes(demo_plan, project, 4, actor=None)
        db.session.commit()
        record.set_step(demo_plan, 3, actor=None)
        db.session.commit()
    undo_last_change(demo_plan, actor=None)
    db.session.commit()
    db.session.refresh(project)
    assert project.votes == 0 and demo_plan.meeting_step == 3


# --- the timer ----------------------------------------------------------------------------


def test_timer_start_pause_extend_resume_and_reset(facilitator_client, demo_plan):
    village = demo_plan.tambon.villages[1]
    url = f"/plans/{demo_plan.id}/meeting/timer"

    def post(**data):
        return facilitator_client.post(
            url, data={"village_id": village.id, **data}, headers={"HX-Request": "1"}
        )

    response = post(action="start", minutes="5")
    assert response.status_code == 200
    remaining = int(re.search(r'data-remaining="(\d+)"', response.get_data(as_text=True))[1])
    assert 298 <= remaining <= 300
    assert 'data-running="true"' in response.get_data(as_text=True)
    timer = db.session.get(PresentationTimer, (demo_plan.id, village.id))
    assert timer.ends_at is not None and timer.remaining_seconds is None

    # Pause: the seconds left are kept, and every screen shows them standing still.
    timer.ends_at = timer.ends_at - timedelta(seconds=100)  # as if 100 s had passed
    db.session.commit()
    response = post(action="pause")
    db.session.refresh(timer)
    assert timer.ends_at is None and 198 <= timer.remaining_seconds <= 200
    assert 'data-running="false"' in response.get_data(as_text=True)
    left = timer.remaining_seconds
    post(action="extend")
    db.session.refresh(timer)
    assert timer.remaining_seconds == left + 60 and timer.length_seconds == 360
    post(action="resume")
    db.session.refresh(timer)
    assert timer.ends_at is not None and timer.remaining_seconds is None
    post(action="reset")
    db.session.refresh(timer)
    assert timer.ends_at is None and timer.remaining_seconds == 360
    assert (
        db.session.scalar(
            select(func.count()).select_from(ChangeLog).where(ChangeLog.action == "timer")
        )
        == 5
    )


def test_timer_refuses_bad_input_and_changes_nothing(facilitator_client, demo_plan):
    url = f"/plans/{demo_plan.id}/meeting/timer"
    village = demo_plan.tambon.villages[0]
    cases = [
        ({"village_id": village.id, "action": "start", "minutes": "4"}, "เลือกเวลา"),
        ({"village_id": village.id, "action": "pause"}, "เริ่มจับเวลา"),
        ({"village_id": "", "action": "start", "minutes": "5"}, "เลือกหมู่บ้าน"),
    ]
    for data, message in cases:
        response = facilitator_client.post(url, data=data, headers={"HX-Request": "1"})
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PresentationTimer)) == 0
    db.session.refresh(demo_plan)
    assert demo_plan.version == 0


def test_timer_refuses_a_village_of_another_tambon(facilitator_client, demo_plan):
    from planapp.models import Tambon

    other = Tambon(name="อื่น", district="อื่น", province="อื่น")
    stranger = Village(tambon=other, number=1, name="ไกล")
    db.session.add_all([other, stranger])
    db.session.commit()
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/meeting/timer",
        data={"village_id": stranger.id, "action": "start", "minutes": "5"},
        headers={"HX-Request": "1"},
    )
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(PresentationTimer)) == 0


# --- pause screen and message -------------------------------------------------------------


def test_pause_screen_and_message_each_undone_with_one_tap(facilitator_client, demo_plan):
    base = f"/plans/{demo_plan.id}/meeting"
    facilitator_client.post(f"{base}/pause", data={"paused": "1"})
    facilitator_client.post(f"{base}/message", data={"message": "  พัก   15 นาที "})
    db.session.refresh(demo_plan)
    assert demo_plan.screen_paused and demo_plan.screen_message == "พัก 15 นาที"
    facilitator_client.post(f"{base}/pause", data={"paused": "0"})
    facilitator_client.post(f"{base}/message", data={"clear": "1", "message": "พัก 15 นาที"})
    db.session.refresh(demo_plan)
    assert not demo_plan.screen_paused and demo_plan.screen_message == ""
    assert demo_plan.version == 4


def test_a_too_long_message_is_refused_next_to_the_field(facilitator_client, demo_plan):
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/meeting/message",
        data={"message": "ก" * 201},
        headers={"HX-Request": "1"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in page and "screen-message-errors" in page
    db.session.refresh(demo_plan)
    assert demo_plan.screen_message == "" and demo_plan.version == 0


# --- votes --------------------------------------------------------------------------------


def test_votes_typed_and_tapped_are_logged_and_undoable(facilitator_client, demo_plan):
    project = demo_plan.projects[2]
    url = f"/plans/{demo_plan.id}/projects/{project.id}/votes"
    response = facilitator_client.post(url, data={"votes": "12"}, headers={"HX-Request": "1"})
    assert response.status_code == 200
    assert 'data-votes="12"' in response.get_data(as_text=True)
    assert 'hx-swap-oob="true"' in response.get_data(as_text=True)
    facilitator_client.post(url, data={"delta": "1", "votes": "12"})
    facilitator_client.post(url, data={"delta": "1", "votes": "12"})
    facilitator_client.post(url, data={"delta": "-1", "votes": "12"})
    db.session.refresh(project)
    assert project.votes == 13
    entries = db.session.scalars(
        select(ChangeLog).where(ChangeLog.action == "votes").order_by(ChangeLog.id)
    ).all()
    assert [e.after["projects"][str(project.id)]["votes"] for e in entries] == [12, 13, 14, 13]
    undo_last_change(demo_plan, actor=None)
    db.session.commit()
    db.session.refresh(project)
    assert project.votes == 14


@pytest.mark.parametrize("typed", ["-3", "abc", "1.5", "", "100001"])
def test_bad_vote_counts_change_nothing(facilitator_client, demo_plan, typed):
    project = demo_plan.projects[0]
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/projects/{project.id}/votes",
        data={"votes": typed},
        headers={"HX-Request": "1"},
    )
    assert response.status_code == 422
    assert "field-errors" in response.get_data(as_text=True)
    db.session.refresh(project)
    assert project.votes == 0
    db.session.refresh(demo_plan)
    assert demo_plan.version == 0


def test_votes_never_go_below_zero(facilitator_client, demo_plan):
    project = demo_plan.projects[0]
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/projects/{project.id}/votes",
        data={"delta": "-1"},
        headers={"HX-Request": "1"},
    )
    assert response.status_code == 422
    db.session.refresh(project)
    assert project.votes == 0


def test_votes_of_another_plans_project_are_not_found(facilitator_client, demo_plan):
    other = Plan(tambon=demo_plan.tambon, fiscal_year=2571)
    stray = Project(plan=other, title="อื่น", rank=1)
    db.session.add_all([other, stray])
    db.session.commit()
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/projects/{stray.id}/votes", data={"votes": "3"}
    )
    assert response.status_code == 404


def test_order_by_votes_orders_a_group_and_keeps_ties(facilitator_client, demo_plan):
    a, b, c, d, e = demo_plan.projects[:5]
    place(demo_plan, {"3": [a, b, c, d, e]})
    for project, votes in zip((a, b, c, d, e), (2, 7, 2, 0, 7), strict=True):
        project.votes = votes
    db.session.commit()
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/groups/3/order-by-votes", headers={"HX-Request": "1"}
    )
    assert response.status_code == 200
    expected = [b.id, e.id, a.id, c.id, d.id]
    assert column_ids(demo_plan, "3") == expected
    shown = [
        int(x) for x in re.findall(r'data-project-id="(\d+)"', response.get_data(as_text=True))
    ]
    assert shown == expected
    assert (
        db.session.scalar(
            select(func.count()).select_from(ChangeLog).where(ChangeLog.action == "order_by_votes")
        )
        == 1
    )
    undo_last_change(demo_plan, actor=None)
    db.session.commit()
    assert column_ids(demo_plan, "3") == [a.id, b.id, c.id, d.id, e.id]


def test_order_by_votes_is_refused_on_a_confirmed_group(facilitator_client, demo_plan):
    a, b = demo_plan.projects[:2]
    place(demo_plan, {"2": [a, b]})
    b.votes = 5
    db.session.add(PlanGroup(plan_id=demo_plan.id, funding_group="2", confirmed_at=a.created_at))
    db.session.commit()
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/groups/2/order-by-votes", headers={"HX-Request": "1"}
    )
    assert response.status_code == 423
    assert "ปลดล็อก" in response.get_data(as_text=True)
    assert column_ids(demo_plan, "2") == [a.id, b.id]


# --- budget ceilings and the cut line -----------------------------------------------------


def test_ceiling_and_cut_line_between_the_right_cards(facilitator_client, demo_plan):
    a, b, c, d = demo_plan.projects[:4]
    for project, baht in zip((a, b, c, d), (100_000, 250_000, 400_000, 50_000), strict=True):
        project.budget = baht
    place(demo_plan, {"3": [a, b, c, d]})
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/groups/3/ceiling",
        data={"ceiling": "500,000"},
        headers={"HX-Request": "1"},
    )
    assert response.status_code == 200
    assert "เกินเพดาน" in response.get_data(as_text=True)  # 800,000 > 500,000: a warning
    status = meeting_groups.group_status(demo_plan, "3")
    assert status.line.ceiling == 50_000_000 and status.cut_before_id == c.id
    page = facilitator_client.get(f"/plans/{demo_plan.id}/votes").get_data(as_text=True)
    column = page[page.index('data-group="3"') :]
    order = re.findall(r'data-project-id="(\d+)"|(data-cut-line)', column)
    tokens = [pid or "CUT" for pid, cut in order]
    assert tokens[:5] == [str(a.id), str(b.id), "CUT", str(c.id), str(d.id)]


@pytest.mark.parametrize("typed", ["abc", "-5", "1.234", "12,34x"])
def test_a_bad_ceiling_is_refused_and_changes_nothing(facilitator_client, demo_plan, typed):
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/groups/1/ceiling",
        data={"ceiling": typed},
        headers={"HX-Request": "1"},
    )
    assert response.status_code == 422
    assert 'role="alert"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PlanGroup)) == 0
    db.session.refresh(demo_plan)
    assert demo_plan.version == 0


def test_ceiling_is_undoable_and_empty_removes_it(facilitator_client, demo_plan):
    url = f"/plans/{demo_plan.id}/groups/2/ceiling"
    facilitator_client.post(url, data={"ceiling": "1000"})
    facilitator_client.post(url, data={"ceiling": "2000.50"})
    assert meeting_groups.plan_groups(demo_plan)["2"].ceiling_satang == 200_050
    undo_last_change(demo_plan, actor=None)
    db.session.commit()
    assert meeting_groups.plan_groups(demo_plan)["2"].ceiling_satang == 100_000
    facilitator_client.post(url, data={"ceiling": ""})
    assert meeting_groups.plan_groups(demo_plan)["2"].ceiling_satang is None


# --- confirm and lock ---------------------------------------------------------------------


def test_confirm_locks_and_three_confirmed_groups_make_the_plan_agreed(
    facilitator_client, demo_plan
):
    a, b, c = demo_plan.projects[:3]
    place(demo_plan, {"1": [a], "2": [b], "3": [c]})
    for group in ("1", "2"):
        db.session.refresh(demo_plan)
        response = facilitator_client.post(
            f"/plans/{demo_plan.id}/groups/{group}/confirm",
            data={"version": demo_plan.version},
            headers={"HX-Request": "1"},
        )
        assert response.status_code == 200 and "data-confirmed" in response.get_data(as_text=True)
    db.session.refresh(demo_plan)
    assert demo_plan.agreed_at is None
    assert meeting_groups.confirmed_groups(demo_plan) == {"1", "2"}
    with pytest.raises(rules.GroupLocked):
        meeting_groups.ensure_move_allowed(demo_plan, "unsorted", "2")
    meeting_groups.ensure_move_allowed(demo_plan, "unsorted", "3")
    facilitator_client.post(
        f"/plans/{demo_plan.id}/groups/3/confirm", data={"version": demo_plan.version}
    )
    db.session.refresh(demo_plan)
    assert demo_plan.agreed_at is not None
    confirmed = last_entry(demo_plan)
    assert confirmed.action == "group_confirmed"
    assert confirmed.after["meeting"]["order"] == [c.id]
    # Unlocking one group: the plan is no longer agreed; the unlock is logged.
    facilitator_client.post(f"/plans/{demo_plan.id}/groups/2/unlock")
    db.session.refresh(demo_plan)
    assert demo_plan.agreed_at is None
    assert meeting_groups.confirmed_groups(demo_plan) == {"1", "3"}
    assert last_entry(demo_plan).action == "group_unlocked"
    # Undo brings the confirmation and the agreed time back.
    undo_last_change(demo_plan, actor=None)
    db.session.commit()
    db.session.refresh(demo_plan)
    assert meeting_groups.confirmed_groups(demo_plan) == {"1", "2", "3"}
    assert demo_plan.agreed_at is not None


def test_confirming_on_a_stale_view_is_refused(facilitator_client, demo_plan):
    record_change(demo_plan, "edit", actor=None)
    db.session.commit()
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/groups/1/confirm",
        data={"version": "0"},
        headers={"HX-Request": "1"},
    )
    assert response.status_code == 409
    assert meeting_groups.confirmed_groups(demo_plan) == set()


def test_confirming_twice_or_unlocking_an_open_group_is_refused(facilitator_client, demo_plan):
    url = f"/plans/{demo_plan.id}/groups/1"
    assert facilitator_client.post(f"{url}/unlock", headers={"HX-Request": "1"}).status_code == 422
    facilitator_client.post(f"{url}/confirm")
    assert facilitator_client.post(f"{url}/confirm", headers={"HX-Request": "1"}).status_code == 422
    assert facilitator_client.post(f"/plans/{demo_plan.id}/groups/4/confirm").status_code == 404


# --- the forum record ---------------------------------------------------------------------


def test_forum_record_with_attendance_saved_and_undoable(facilitator_client, demo_plan):
    villages = demo_plan.tambon.villages
    url = f"/plans/{demo_plan.id}/meeting/record"
    page = facilitator_client.get(url).get_data(as_text=True)
    assert all(f'name="people_{v.id}"' in page for v in villages)
    data = {
        "forum_date": "2026-11-25",
        "forum_place": "วัดหนองบัว",
        "forum_chair": "นางสมศรี",
        "version": "0",
        f"people_{villages[0].id}": "35",
        f"people_{villages[1].id}": "0",
    }
    response = facilitator_client.post(url, data=data)
    assert response.status_code == 302
    db.session.refresh(demo_plan)
    assert demo_plan.forum_place == "วัดหนองบัว" and str(demo_plan.forum_date) == "2026-11-25"
    people = dict(
        db.session.execute(select(ForumAttendance.village_id, ForumAttendance.people)).all()
    )
    assert people == {villages[0].id: 35, villages[1].id: 0}
    undo_last_change(demo_plan, actor=None)
    db.session.commit()
    db.session.refresh(demo_plan)
    assert demo_plan.forum_place.startswith("ศาลาประชาคม")
    assert db.session.scalar(select(func.count()).select_from(ForumAttendance)) == 0


def test_forum_record_bad_input_shows_messages_and_saves_nothing(facilitator_client, demo_plan):
    village = demo_plan.tambon.villages[0]
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/meeting/record",
        data={"forum_date": "", "forum_place": "", f"people_{village.id}": "-4", "version": "0"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count('class="field-errors"') == 3
    assert "0 ถึง 100,000" in page
    db.session.refresh(demo_plan)
    assert demo_plan.version == 0 and demo_plan.forum_place.startswith("ศาลาประชาคม")


# --- each village's share -----------------------------------------------------------------


def test_shares_add_up_to_the_plans_own_totals(facilitator_client, demo_plan):
    projects = sorted(demo_plan.projects, key=lambda p: p.id)
    villages = demo_plan.tambon.villages
    # A spread of groups, a project of three villages and one of none.
    layout = {"1": projects[0:4], "2": projects[4:9], "3": projects[9:17]}
    layout["not-feasible"] = projects[17:19]
    layout["unsorted"] = projects[19:]
    projects[10].villages = list(villages[:3])
    projects[10].budget = "1000000.01"
    projects[11].villages = []
    place(demo_plan, layout)
    shares = village_shares(demo_plan)
    active = [p for p in projects if p.merged_into_id is None]
    group3 = [p for p in active if p.funding_group == "3"]
    assert shares.group3_satang == sum(p.budget_satang for p in group3)
    assert sum(r.group3_satang for r in shares.rows) + shares.tambon_wide_group3_satang == (
        shares.group3_satang
    )
    for row in shares.rows:
        own = [p for p in active if row.village in p.villages]
        assert row.proposed == len(own)
        for group in ("unsorted", "1", "2", "3", "not-feasible"):
            assert row.by_group[group] == sum(1 for p in own if p.funding_group == group)
        for group in ("1", "2", "3"):
            top = meeting_groups.column_cards(demo_plan, group)[:5]
            assert row.top[group] == sum(1 for p in top if row.village in p.villages)
    assert sum(shares.by_group.values()) == shares.projects == len(active)
    page = facilitator_client.get(f"/plans/{demo_plan.id}/shares").get_data(as_text=True)
    assert f'data-satang="{shares.group3_satang}"' in page
    assert page.count("data-village-number=") == len(villages)


# --- minutes ------------------------------------------------------------------------------


def test_minutes_list_every_decision_once_in_order(facilitator_client, demo_plan):
    a, b, c, d = sorted(demo_plan.projects, key=lambda p: p.id)[:4]
    place(demo_plan, {"3": [a, b], "unsorted": [c, d]})
    lead = Agency(name="อบต.ทดสอบ", kind="local")
    helper = Agency(name="รพ.สต.ทดสอบ", kind="government")
    db.session.add_all([lead, helper])
    db.session.commit()

    def change(project, action, **values):
        keys = list(values)
        before = {"projects": {str(project.id): project_snapshot(project, keys)}}
        for name, value in values.items():
            if name == "supporting_agency_ids":
                project.supporting_agencies = [db.session.get(Agency, i) for i in value]
            else:
                setattr(project, name, value)
        after = {"projects": {str(project.id): project_snapshot(project, keys)}}
        entry = record_change(
            demo_plan, action, project=project, before=before, after=after, actor=None
        )
        db.session.commit()
        return entry

    expected = []
    facilitator_client.post(f"/plans/{demo_plan.id}/meeting/step", data={"step": "3"})
    expected.append(change(c, "feasibility", feasibility="not_feasible").id)
    expected.append(change(c, "feasibility", feasibility_reason="ทับซ้อนกับโครงการจังหวัด").id)
    undone = change(d, "urgency", urgency="urgent")
    undo_last_change(demo_plan, actor=None)
    db.session.commit()
    expected.append(change(a, "urgency", urgency="urgent").id)
    expected.append(change(a, "agencies", lead_agency_id=lead.id).id)
    expected.append(change(b, "agencies", supporting_agency_ids=[helper.id]).id)
    expected.append(change(d, "merge", merged_into_id=a.id, rank=None).id)
    change(b, "edit", title="ชื่อใหม่")  # not a decision
    facilitator_client.post(f"/plans/{demo_plan.id}/meeting/step", data={"step": "4"})
    facilitator_client.post(f"/plans/{demo_plan.id}/groups/3/confirm")
    expected.append(last_entry(demo_plan).id)
    facilitator_client.post(f"/plans/{demo_plan.id}/groups/3/unlock")
    expected.append(last_entry(demo_plan).id)
    facilitator_client.post(f"/plans/{demo_plan.id}/projects/{a.id}/votes", data={"votes": "9"})
    expected.append(last_entry(demo_plan).id)  # votes are the hall's decision too

    page = facilitator_client.get(f"/plans/{demo_plan.id}/minutes").get_data(as_text=True)
    shown = [int(x) for x in re.findall(r'data-change-id="(\d+)"', page)]
    assert shown == expected
    assert undone.id not in shown
    # Every entry the log holds that is a decision is shown; no other entry is.
    all_entries = db.session.scalars(select(ChangeLog).order_by(ChangeLog.id)).all()
    assert [e.id for e in all_entries if decision_kinds(e)] == expected
    assert "ทับซ้อนกับโครงการจังหวัด" in page
    assert "อบต.ทดสอบ" in page and "รพ.สต.ทดสอบ" in page
    assert page.count('data-step-time="') == 2
    assert "ผู้บันทึกการประชุม" in page and "ประธาน" in page


def minutes_page(client, plan) -> str:
    response = client.get(f"/plans/{plan.id}/minutes")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_minutes_hold_what_the_forum_decided_during_the_forum(facilitator_client, demo_plan):
    script = play_forum(demo_plan)
    page = minutes_page(facilitator_client, demo_plan)
    shown = [int(x) for x in re.findall(r'data-change-id="(\d+)"', page)]
    # Nothing typed, imported or merged before the forum opened, nothing after its close.
    for entry_id in script.before_forum + script.after_close:
        assert entry_id not in shown
    assert shown, "the forum's decisions are listed"
    entries = {e.id: e for e in db.session.scalars(select(ChangeLog))}
    kinds = {kind for entry_id in shown for kind in decision_kinds(entries[entry_id])}
    assert kinds >= {"grouping", "not_feasible", "merge", "votes", "urgency", "agencies"}
    assert kinds >= {"group_confirmed"}
    assert "ซ่อมแซมศาลากลางบ้าน" not in page  # the project added before the forum
    assert "หน่วยงานหลัก —" not in page and "lead agency —" not in page
    # The opening is the first step on the step bar, not the first intake edit.
    first_step = db.session.scalar(
        select(ChangeLog).where(ChangeLog.action == "step").order_by(ChangeLog.id)
    )
    assert f"เริ่มประชุมเวลา {be_datetime(first_step.at)}" in page
    assert re.findall(r'data-step-time="(\d)"', page) == ["1", "3", "4", "5", "6"]
    assert "data-forum-closed" in page
    # Grouping moves show before a group is confirmed: groups 2 and 3 are not, their order is.
    for group, ids in script.groups.items():
        table = page[page.index(f'data-agreed-group="{group}"') :]
        table = table[: table.index("</table>")]
        assert [int(x) for x in re.findall(r'data-project-id="(\d+)"', table)] == ids
    assert 'data-group-status="1">ที่ประชุมยืนยันลำดับ' in page
    assert 'data-group-status="2">ลำดับ ณ ขณะนี้' in page
    grouping = [entry_id for entry_id in shown if decision_kinds(entries[entry_id]) == ["grouping"]]
    assert len(grouping) == sum(len(ids) for ids in script.groups.values()) + 1
    assert f"{script.not_feasible.title} ไม่มีความเป็นไปได้ เหตุผล: {script.reason}" in page
    assert f"{script.voted.title}: 17 คะแนนเสียง" in page
    assert f"รวม {script.merged_in_hall.title} เข้ากับ" in page
    assert f"รวม {script.merged_before.title} เข้ากับ" not in page
    assert script.lead.name in page and script.supporting.name in page


def test_minutes_without_the_step_bar_cover_the_day_of_the_forum(facilitator_client, demo_plan):
    from planapp.meeting.minutes import forum_window

    a, b = sorted(demo_plan.projects, key=lambda p: p.id)[:2]
    for project, tier in ((a, "urgent"), (b, "medium")):
        before = {"projects": {str(project.id): {"urgency": None}}}
        after = {"projects": {str(project.id): {"urgency": tier}}}
        record_change(demo_plan, "edit", project=project, before=before, after=after, actor=None)
    db.session.commit()
    early, on_the_day = db.session.scalars(select(ChangeLog).order_by(ChangeLog.id)).all()
    window = forum_window(demo_plan)
    early.at = window.start - timedelta(hours=2)
    on_the_day.at = window.start + timedelta(hours=3)
    db.session.commit()
    page = minutes_page(facilitator_client, demo_plan)
    shown = [int(x) for x in re.findall(r'data-change-id="(\d+)"', page)]
    assert shown == [on_the_day.id]


def test_minutes_before_the_forum_list_no_decision(facilitator_client, demo_plan):
    demo_plan.forum_date = None
    db.session.commit()
    facilitator_client.post(
        f"/plans/{demo_plan.id}/villages/{demo_plan.tambon.villages[0].id}/projects/new",
        data={
            "title": "โครงการใหม่",
            "village_ids": [demo_plan.tambon.villages[0].id],
            "sector": "health",
            "budget_satang": "1,000",
        },
    )
    page = minutes_page(facilitator_client, demo_plan)
    assert "data-change-id" not in page and "โครงการใหม่" not in page
    assert "ยังไม่เริ่มเวที" in page


def test_minutes_show_attendance_from_the_forum_record(facilitator_client, demo_plan):
    villages = demo_plan.tambon.villages
    db.session.add_all(
        [
            ForumAttendance(plan_id=demo_plan.id, village_id=villages[0].id, people=1200),
            ForumAttendance(plan_id=demo_plan.id, village_id=villages[2].id, people=30),
        ]
    )
    db.session.commit()
    page = facilitator_client.get(f"/plans/{demo_plan.id}/minutes").get_data(as_text=True)
    assert "data-total-people>1,230<" in page
    assert villages[2].name in page and villages[1].name not in page


# --- pages render -------------------------------------------------------------------------


def test_meeting_pages_render_in_thai_and_english(facilitator_client, demo_plan):
    for path in ("meeting", "votes", "shares", "minutes", "guide", "meeting/record"):
        response = facilitator_client.get(f"/plans/{demo_plan.id}/{path}")
        assert response.status_code == 200, path
    facilitator_client.post("/language", data={"language": "en", "next": "/"})
    page = facilitator_client.get(f"/plans/{demo_plan.id}/meeting").get_data(as_text=True)
    assert "Confirm this group" in page


def test_minutes_are_a_sheet_of_the_plan_workbook(facilitator_client, demo_plan):
    import io

    from openpyxl import load_workbook

    village = demo_plan.tambon.villages[0]
    db.session.add(ForumAttendance(plan_id=demo_plan.id, village_id=village.id, people=42))
    db.session.commit()
    facilitator_client.post(f"/plans/{demo_plan.id}/meeting/step", data={"step": "4"})
    facilitator_client.post(f"/plans/{demo_plan.id}/groups/1/confirm")
    response = facilitator_client.get(f"/plans/{demo_plan.id}/export.xlsx")
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames[-1] == "บันทึกการประชุม"
    texts = [str(c.value) for row in wb["บันทึกการประชุม"].iter_rows() for c in row if c.value]
    joined = "\n".join(texts)
    assert "บันทึกการประชุม" in joined and demo_plan.forum_place in joined
    assert f"หมู่ที่ {village.number} {village.name}" in joined and "42" in joined
    assert "ขั้นตอนที่ 4" in joined
    assert "ยืนยันลำดับกลุ่ม 1" in joined
    assert "ผู้บันทึกการประชุม" in joined


def test_merging_or_deleting_in_a_confirmed_group_is_refused(app, demo_plan):
    from planapp.intake.projects import ProjectRefused, delete_project, merge_projects

    a, b, c = sorted(demo_plan.projects, key=lambda p: p.id)[:3]
    place(demo_plan, {"3": [a, b], "unsorted": [c]})
    db.session.add(PlanGroup(plan_id=demo_plan.id, funding_group="3", confirmed_at=a.created_at))
    db.session.commit()
    with app.test_request_context():
        with pytest.raises(ProjectRefused, match="ปลดล็อก"):
            merge_projects(demo_plan, c, [b], title="รวม", budget_satang=0, actor=None)
        db.session.rollback()
        with pytest.raises(ProjectRefused, match="ปลดล็อก"):
            delete_project(demo_plan, a, actor=None)
        db.session.rollback()
    assert column_ids(demo_plan, "3") == [a.id, b.id]
