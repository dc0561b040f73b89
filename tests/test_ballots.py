"""Phone ballots on the server: issuing a round, the ballot's rules (one use, its round only,
closed, the picks limit, its own plan's projects), typing codes rate-limited, closing writes the
votes and the change log, and the counts come from the stored ballots."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value

from planapp.ballots import rounds
from planapp.extensions import db
from planapp.meeting import groups as meeting_groups
from planapp.models import (
    Ballot,
    BallotPick,
    ChangeLog,
    ForumAttendance,
    Plan,
    Project,
    User,
    VoteRound,
)
from tests.conftest import make_user


def into_group(plan: Plan, projects: list[Project], group: str = "3") -> None:
    for project in projects:
        project.rank = None
    db.session.flush()
    for rank, project in enumerate(projects, 1):
        project.funding_group, project.rank = group, rank
    db.session.commit()


@pytest.fixture
def voting(demo_plan):
    """Five projects in group 3, attendance for the first two villages, a round of 3 picks."""
    plan = demo_plan
    projects = plan.active_projects()[:5]
    into_group(plan, projects)
    villages = plan.tambon.villages
    db.session.add_all(
        [
            ForumAttendance(plan_id=plan.id, village_id=villages[0].id, people=4),
            ForumAttendance(plan_id=plan.id, village_id=villages[1].id, people=2),
        ]
    )
    db.session.commit()
    return plan, [p.id for p in projects]


def issue(client, plan, picks="3", **per_village):
    villages = plan.tambon.villages
    data = {"funding_group": "3", "picks": picks}
    data.update({f"ballots_{v.id}": "" for v in villages})
    data.update(per_village)
    return client.post(f"/plans/{plan.id}/rounds", data=data)


def only_round(plan) -> VoteRound:
    return db.session.scalars(select(VoteRound).where(VoteRound.plan_id == plan.id)).one()


def ballots_of(vote_round) -> list[Ballot]:
    return db.session.scalars(
        select(Ballot).where(Ballot.round_id == vote_round.id).order_by(Ballot.id)
    ).all()


def post_json(client, path, ids):
    return client.post(path, data={"project_id": [str(i) for i in ids]})


def test_round_form_defaults_to_attendance_and_issues_ballots(facilitator_client, voting):
    plan, _ids = voting
    villages = plan.tambon.villages
    page = facilitator_client.get(f"/plans/{plan.id}/rounds").get_data(as_text=True)
    assert re.search(rf'name="ballots_{villages[0].id}"[^>]*value="4"', page)
    assert re.search(rf'name="ballots_{villages[1].id}"[^>]*value="2"', page)
    response = issue(
        facilitator_client,
        plan,
        **{f"ballots_{villages[0].id}": "๔", f"ballots_{villages[1].id}": "2"},
    )
    assert response.status_code == 302 and "/print" in response.location
    vote_round = only_round(plan)
    ballots = ballots_of(vote_round)
    assert len(ballots) == 6 and vote_round.picks == 3 and vote_round.funding_group == "3"
    for ballot in ballots:
        assert len(ballot.token) >= 22  # 128 bits, URL-safe base64
        assert len(ballot.code) == 8 and not set(ballot.code) & set("0O1IL")
    assert len({b.token for b in ballots}) == 6 and len({b.code for b in ballots}) == 6
    printed = facilitator_client.get(response.location).get_data(as_text=True)
    assert printed.count("data-ballot-card ") == 6
    assert printed.count("/qr.svg") == 6
    qr = re.search(r'src="([^"]+/qr\.svg)"', printed).group(1)
    svg = facilitator_client.get(qr)
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert f"/b/{ballots[0].token}".encode() in svg.data


def test_bad_round_input_changes_nothing(facilitator_client, voting):
    plan, _ids = voting
    response = issue(facilitator_client, plan, picks="๐")
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(VoteRound)) == 0
    village = plan.tambon.villages[0]
    response = issue(facilitator_client, plan, **{f"ballots_{village.id}": "many"})
    assert response.status_code == 422
    response = issue(
        facilitator_client, plan, **{f"ballots_{v.id}": "0" for v in plan.tambon.villages}
    )
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0


def open_round_with_ballots(client, plan, count=4):
    village = plan.tambon.villages[0]
    others = {f"ballots_{v.id}": "0" for v in plan.tambon.villages[1:]}
    issue(client, plan, **{f"ballots_{village.id}": str(count)}, **others)
    vote_round = only_round(plan)
    assert client.post(f"/plans/{plan.id}/rounds/{vote_round.id}/open").status_code == 302
    db.session.refresh(vote_round)
    assert vote_round.is_open
    return vote_round, ballots_of(vote_round)


def test_a_ballot_votes_once(client, facilitator_client, voting):
    plan, ids = voting
    vote_round, ballots = open_round_with_ballots(facilitator_client, plan)
    phone = client.application.test_client()
    page = phone.get(f"/b/{ballots[0].token}").get_data(as_text=True)
    assert 'data-picks-left="3"' in page and all(f'value="{i}"' in page for i in ids)
    response = post_json(phone, f"/b/{ballots[0].token}", ids[:2])
    assert response.status_code == 200 and 'data-ballot-state="cast"' in response.get_data(
        as_text=True
    )
    again = post_json(phone, f"/b/{ballots[0].token}", ids[2:4])
    assert again.status_code == 409
    assert 'data-refused="used"' in again.get_data(as_text=True)
    assert rounds.tallies(vote_round) == {ids[0]: 1, ids[1]: 1}
    # The log tells a ballot was cast, never what it chose.
    entry = db.session.scalar(select(ChangeLog).where(ChangeLog.action == "ballot"))
    assert entry.before is None and entry.after is None and entry.regions == {"parts": ["turnout"]}


def test_the_conditional_update_refuses_a_ballot_used_meanwhile(client, facilitator_client, voting):
    """Two phones with one ballot: the second's check passed before the first's UPDATE; the
    conditional UPDATE (used_at IS NULL) still refuses it."""
    plan, ids = voting
    vote_round, ballots = open_round_with_ballots(facilitator_client, plan)
    ballot = db.session.get(Ballot, ballots[1].id)
    rounds.cast(ballot, [ids[0]])
    db.session.commit()
    stale = db.session.get(Ballot, ballots[1].id)
    # What the second phone's request read before the first committed (not written back).
    set_committed_value(stale, "used_at", None)
    with pytest.raises(rounds.BallotError) as refused:
        rounds.cast(stale, [ids[1]])
    assert refused.value.reason == "used"
    db.session.rollback()
    assert rounds.tallies(vote_round) == {ids[0]: 1}


def test_pick_limit_and_listed_projects_only(client, facilitator_client, voting, app):
    plan, ids = voting
    vote_round, ballots = open_round_with_ballots(facilitator_client, plan)
    token = ballots[0].token
    too_many = post_json(client, f"/b/{token}", ids[:4])
    assert too_many.status_code == 422 and "data-refused" in too_many.get_data(as_text=True)
    assert post_json(client, f"/b/{token}", []).status_code == 422
    unsorted = db.session.scalar(
        select(Project.id).where(Project.plan_id == plan.id, Project.funding_group == "unsorted")
    )
    assert post_json(client, f"/b/{token}", [ids[0], unsorted]).status_code == 422
    assert post_json(client, f"/b/{token}", ["x", str(2**40)]).status_code == 422
    db.session.refresh(ballots[0])
    assert ballots[0].used_at is None
    assert db.session.scalar(select(func.count()).select_from(BallotPick)) == 0


def test_another_plans_projects_are_refused(client, facilitator_client, voting):
    """A ballot of one plan cannot vote for another plan's projects (a hand-made POST)."""
    from planapp.models import Tambon

    plan, ids = voting
    vote_round, ballots = open_round_with_ballots(facilitator_client, plan)
    other = Plan(tambon=Tambon(name="อื่น", district="ก", province="ข"), fiscal_year=2570)
    db.session.add(other)
    db.session.flush()
    foreign = Project(plan_id=other.id, title="ของแผนอื่น", funding_group="3", rank=1)
    db.session.add(foreign)
    db.session.commit()
    assert post_json(client, f"/b/{ballots[0].token}", [foreign.id]).status_code == 422
    assert rounds.tallies(vote_round) == {}


def test_closed_not_open_and_wrong_round_say_why(client, facilitator_client, voting):
    plan, ids = voting
    village = plan.tambon.villages[0]
    zero = {f"ballots_{v.id}": "0" for v in plan.tambon.villages[1:]}
    issue(facilitator_client, plan, **{f"ballots_{village.id}": "1"}, **zero)
    first = db.session.scalars(select(VoteRound).order_by(VoteRound.id)).all()[-1]
    waiting = ballots_of(first)[0].token
    page = client.get(f"/b/{waiting}").get_data(as_text=True)
    assert 'data-refused="not_open"' in page
    into_group(plan, plan.active_projects()[-3:], "2")
    data = {"funding_group": "2", "picks": "1", f"ballots_{village.id}": "1", **zero}
    facilitator_client.post(f"/plans/{plan.id}/rounds", data=data)
    second = db.session.scalars(select(VoteRound).order_by(VoteRound.id)).all()[-1]
    facilitator_client.post(f"/plans/{plan.id}/rounds/{second.id}/open")
    page = client.get(f"/b/{waiting}").get_data(as_text=True)
    assert 'data-refused="wrong_round"' in page
    # One round open at a time: the first cannot open while the second is open.
    facilitator_client.post(f"/plans/{plan.id}/rounds/{first.id}/open")
    db.session.refresh(first)
    assert not first.is_open
    facilitator_client.post(f"/plans/{plan.id}/rounds/{second.id}/close")
    token = ballots_of(second)[0].token
    closed = post_json(client, f"/b/{token}", [plan.active_projects()[-1].id])
    assert closed.status_code == 422 and 'data-refused="closed"' in closed.get_data(as_text=True)
    assert client.get("/b/not-a-ballot").status_code == 404


def test_closing_writes_the_votes_logs_the_round_and_reopening_recounts(
    client, facilitator_client, voting
):
    plan, ids = voting
    vote_round, ballots = open_round_with_ballots(facilitator_client, plan)
    for ballot, picks in zip(
        ballots, [[ids[4]], [ids[4], ids[2]], [ids[2], ids[4], ids[0]]], strict=False
    ):
        assert post_json(client, f"/b/{ballot.token}", picks).status_code == 200
    assert (
        facilitator_client.post(f"/plans/{plan.id}/rounds/{vote_round.id}/close").status_code == 302
    )
    votes = dict(
        db.session.execute(select(Project.id, Project.votes).where(Project.id.in_(ids))).all()
    )
    assert votes == {ids[0]: 1, ids[1]: 0, ids[2]: 2, ids[3]: 0, ids[4]: 3}
    entry = db.session.scalar(select(ChangeLog).where(ChangeLog.action == "vote_close"))
    village = str(plan.tambon.villages[0].id)
    assert entry.details["villages"] == {village: {"issued": 4, "cast": 3}}
    assert (entry.details["cast"], entry.details["issued"], entry.summary) == (3, 4, "")
    assert entry.after["projects"][str(ids[4])] == {"votes": 3}
    # "Order by votes" orders the group by the ballots' totals.
    meeting_groups.order_group_by_votes(plan, "3", actor=None)
    db.session.commit()
    assert [p.id for p in meeting_groups.column_cards(plan, "3")][:3] == [ids[4], ids[2], ids[0]]
    # Reopen, one more ballot, close: counted again from every stored ballot.
    facilitator_client.post(f"/plans/{plan.id}/rounds/{vote_round.id}/open")
    assert post_json(client, f"/b/{ballots[3].token}", [ids[1]]).status_code == 200
    facilitator_client.post(f"/plans/{plan.id}/rounds/{vote_round.id}/close")
    db.session.expire_all()
    assert db.session.get(Project, ids[1]).votes == 1
    assert db.session.get(Project, ids[4]).votes == 3


def minutes_rounds(client, plan) -> list[str]:
    page = client.get(f"/plans/{plan.id}/minutes").get_data(as_text=True)
    return re.findall(r'data-minutes-round="(\d+)"', page)


def history_text(client, plan) -> str:
    return client.get(f"/plans/{plan.id}/history").get_data(as_text=True)


def test_the_minutes_list_the_rounds_closed_in_the_forum_worded_in_the_readers_language(
    client, facilitator_client, voting
):
    plan, ids = voting
    vote_round, ballots = open_round_with_ballots(facilitator_client, plan)
    close = f"/plans/{plan.id}/rounds/{vote_round.id}/close"
    assert post_json(client, f"/b/{ballots[0].token}", [ids[0]]).status_code == 200
    assert facilitator_client.post(close).status_code == 302
    # Closed before the forum started: material, not a decision of the forum.
    assert minutes_rounds(facilitator_client, plan) == []
    facilitator_client.post(f"/plans/{plan.id}/meeting/step", data={"step": "4"})
    facilitator_client.post(f"/plans/{plan.id}/rounds/{vote_round.id}/open")
    for ballot in ballots[1:3]:
        assert post_json(client, f"/b/{ballot.token}", [ids[1]]).status_code == 200
    assert facilitator_client.post(close).status_code == 302
    minutes = facilitator_client.get(f"/plans/{plan.id}/minutes").get_data(as_text=True)
    assert minutes_rounds(facilitator_client, plan) == [str(vote_round.id)]
    assert 'data-turnout="3/4"' in minutes and 'id="live-turnout"' not in minutes
    # Worded when read, in the reader's language, whoever closed it.
    thai = history_text(facilitator_client, plan)
    assert "ปิดรอบลงคะแนนกลุ่ม 3: ลงคะแนน 3 จาก 4 ใบ" in thai
    assert "เปิดรอบลงคะแนนกลุ่ม 3 อีกครั้ง" in thai
    facilitator_client.post("/language", data={"language": "en", "next": "/"})
    english = history_text(facilitator_client, plan)
    assert "Vote round for Group 3 closed: 3 of 4 ballots cast" in english
    assert "Vote round for Group 3 reopened" in english
    assert "Vote round for Group 3: 4 ballots, 3 picks each" in english
    assert "ปิดรอบลงคะแนน" not in english and "บัตรของหมู่ที่" not in english
    # A closing undone is no decision.
    db.session.refresh(plan)
    undo = facilitator_client.post(f"/plans/{plan.id}/undo", data={"version": plan.version})
    assert undo.status_code in (200, 302)
    assert minutes_rounds(facilitator_client, plan) == []
    assert "Undone: Vote round for Group 3 closed" in history_text(facilitator_client, plan)


def test_typing_codes_is_rate_limited_per_address(client, facilitator_client, voting):
    plan, _ids = voting
    vote_round, ballots = open_round_with_ballots(facilitator_client, plan)
    code = ballots[0].code
    typed = client.post("/b", data={"code": f"{code[:4].lower()}-{code[4:]}"})
    assert typed.status_code == 302 and typed.location.endswith(f"/b/{ballots[0].token}")
    for _attempt in range(6):  # five are free; the sixth starts the wait
        assert client.post("/b", data={"code": "AAAA-AAAA"}).status_code == 422
    held = client.post("/b", data={"code": code})
    assert held.status_code == 429  # even the right code waits: guessing gains nothing
    other = client.application.test_client()
    assert (
        other.post("/b", data={"code": code}, environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code
        == 302
    )


def test_rounds_are_the_facilitators_of_the_tambon_only(client, voting, app):
    plan, _ids = voting
    assert client.get(f"/plans/{plan.id}/rounds").status_code == 302
    make_user("outsider", "facilitator")
    outsider = app.test_client()
    outsider.login("outsider")
    assert outsider.get(f"/plans/{plan.id}/rounds").status_code == 403
    assert issue(outsider, plan).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(VoteRound)) == 0


def test_state_changes_need_csrf(facilitator_client, client, voting):
    plan, ids = voting
    vote_round, ballots = open_round_with_ballots(facilitator_client, plan)
    response = client.post(f"/b/{ballots[0].token}", data={"project_id": str(ids[0])}, csrf=False)
    assert response.status_code == 400
    db.session.refresh(ballots[0])
    assert ballots[0].used_at is None


def test_a_plan_file_leaves_the_ballots_behind_and_replacing_the_plan_still_works(
    app, client, facilitator_client, voting
):
    """The ballots are printed secrets of this server: the plan file carries the votes, not the
    rounds; replacing the plan from a file keeps the rounds, and the picks of projects that are
    gone go with them."""
    import json

    from planapp.transfer import plan_json

    plan, ids = voting
    vote_round, ballots = open_round_with_ballots(facilitator_client, plan)
    assert post_json(client, f"/b/{ballots[0].token}", [ids[0], ids[1]]).status_code == 200
    assert facilitator_client.post(f"/plans/{plan.id}/rounds/{vote_round.id}/close").status_code
    document = plan_json.export_plan(plan)
    text = json.dumps(document, ensure_ascii=False)
    assert ballots[0].token not in text and ballots[0].code not in text
    with app.test_request_context():
        chair = db.session.scalar(select(User).where(User.username == "somchai"))
        plan_json.import_plan(document, actor=chair, replace=plan)
        db.session.commit()
    db.session.expire_all()
    assert db.session.get(VoteRound, vote_round.id) is not None
    assert db.session.scalar(select(func.count()).select_from(BallotPick)) == 0
    assert rounds.tallies(vote_round) == {}
