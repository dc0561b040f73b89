"""The forum board over HTTP: pages, the move contract, stale refusals, undo, the panel."""

import re

import pytest
from sqlalchemy import select

from planapp.extensions import db
from planapp.models import Agency, ChangeLog, Plan, Project, Strategy
from tests.conftest import make_user


def ids_in(html: str, group: str) -> list[int]:
    """The project ids of one column, in board order, from a page or fragment."""
    column = html.split(f'data-group="{group}"', 1)[1].split("</section>", 1)[0]
    return [int(pid) for pid in re.findall(r'data-project-id="(\d+)"', column)]


def ranked(plan, group: str) -> list[int]:
    return list(
        db.session.scalars(
            select(Project.id)
            .where(Project.plan_id == plan.id, Project.funding_group == group)
            .order_by(Project.rank)
        )
    )


def ranks_are_dense(plan) -> bool:
    rows = db.session.execute(
        select(Project.funding_group, Project.rank).where(Project.plan_id == plan.id)
    ).all()
    by_group: dict[str, list[int]] = {}
    for group, rank in rows:
        by_group.setdefault(group, []).append(rank)
    return all(sorted(r) == list(range(1, len(r) + 1)) for r in by_group.values())


def move(client, plan, project_id, group, before_id=None, version=None, **extra):
    db.session.expire_all()
    data = {
        "project_id": project_id,
        "group": group,
        "before_id": before_id or "",
        "version": plan.version if version is None else version,
        **extra,
    }
    return client.post(f"/plans/{plan.id}/moves", data=data, headers={"HX-Request": "true"})


def test_board_shows_five_columns_with_heads_and_cards(facilitator_client, demo_plan):
    page = facilitator_client.get(f"/plans/{demo_plan.id}/board").get_data(as_text=True)
    for group in ["unsorted", "1", "2", "3", "not-feasible"]:
        assert page.count(f'data-group="{group}"') == 1
    assert ids_in(page, "unsorted") == ranked(demo_plan, "unsorted")
    assert f'data-plan-version="{demo_plan.version}"' in page
    first = db.session.get(Project, ranked(demo_plan, "unsorted")[0])
    assert first.title in page
    assert f"{len(demo_plan.projects)} โครงการ" in page  # the column head counts (Thai)
    assert "sortablejs-1.15.7.min.js" in page and "js/board.js" in page


def test_board_is_for_facilitators_of_the_tambon_only(app, client, demo_plan):
    assert client.get(f"/plans/{demo_plan.id}/board").status_code == 302  # to sign in
    make_user("outsider", "facilitator")
    client.login("outsider")
    assert client.get(f"/plans/{demo_plan.id}/board").status_code == 403
    assert move(client, demo_plan, demo_plan.projects[0].id, "1").status_code == 403


def test_move_across_columns_answers_with_out_of_band_fragments(facilitator_client, demo_plan):
    unsorted = ranked(demo_plan, "unsorted")
    response = move(facilitator_client, demo_plan, unsorted[4], "3")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    db.session.expire_all()
    assert ranked(demo_plan, "3") == [unsorted[4]]
    assert ranked(demo_plan, "unsorted") == unsorted[:4] + unsorted[5:]
    assert ranks_are_dense(demo_plan)
    # Only what changed: the two column heads, the card, the version, status and history.
    assert f'id="column-head-unsorted" data-count="{len(unsorted) - 1}" hx-swap-oob="true"' in body
    assert 'id="column-head-3" data-count="1" hx-swap-oob="true"' in body
    assert "column-head-1" not in body
    assert body.count("data-project-id=") == 1
    assert f'<div id="card-{unsorted[4]}" hx-swap-oob="delete">' in body
    assert 'hx-swap-oob="beforeend:#cards-3"' in body
    assert 'id="plan-version" name="version" value="1"' in body
    entry = db.session.scalar(select(ChangeLog))
    assert entry.summary.endswith("ไปกลุ่ม 3 ลำดับ 1") and "ย้ายจากยังไม่จัดกลุ่ม" in entry.summary


def test_move_inside_a_column_lands_above_its_new_neighbour(facilitator_client, demo_plan):
    unsorted = ranked(demo_plan, "unsorted")
    response = move(facilitator_client, demo_plan, unsorted[10], "unsorted", unsorted[2])
    assert response.status_code == 200
    assert f'hx-swap-oob="beforebegin:#card-{unsorted[2]}"' in response.get_data(as_text=True)
    db.session.expire_all()
    expected = unsorted[:2] + [unsorted[10]] + unsorted[2:10] + unsorted[11:]
    assert ranked(demo_plan, "unsorted") == expected
    assert ranks_are_dense(demo_plan)


def test_moves_are_refused_only_when_their_card_or_anchor_moved_meanwhile(
    facilitator_client, demo_plan
):
    """Two tablets both at version 0: moves of different cards both go through, even out of
    one column; a move of a card (or next to a card) that the other tablet placed since is
    refused with that card's fresh columns and the reason, and changes nothing."""
    unsorted = ranked(demo_plan, "unsorted")
    first, second, third = unsorted[:3]
    assert move(facilitator_client, demo_plan, first, "1", version=0).status_code == 200
    assert move(facilitator_client, demo_plan, second, "2", version=0).status_code == 200
    assert (
        move(
            facilitator_client, demo_plan, unsorted[5], "unsorted", unsorted[3], version=0
        ).status_code
        == 200
    )
    for stale in [(first, "3", None), (third, "1", first)]:
        response = move(facilitator_client, demo_plan, *stale, version=0)
        assert response.status_code == 409
        body = response.get_data(as_text=True)
        assert "อุปกรณ์อื่น" in body and 'role="alert"' in body
        # The columns the move touched, whole and fresh: the card is where the other put it.
        assert ids_in(body, "1") == [first]
        assert 'id="plan-version" name="version" value="3"' in body
    db.session.expire_all()
    assert ranked(demo_plan, "1") == [first] and ranked(demo_plan, "3") == []
    assert db.session.scalar(select(db.func.count()).select_from(ChangeLog)) == 3
    # Caught up (version 3), the same moves go through.
    assert move(facilitator_client, demo_plan, first, "3", version=3).status_code == 200
    assert move(facilitator_client, demo_plan, third, "3", first, version=4).status_code == 200
    db.session.expire_all()
    assert ranked(demo_plan, "3") == [third, first]
    assert ranks_are_dense(demo_plan)


def test_a_move_from_a_board_behind_brings_what_it_missed(facilitator_client, demo_plan):
    """The answer is the news since the version the tablet sent: the other tablet's moves too."""
    unsorted = ranked(demo_plan, "unsorted")
    move(facilitator_client, demo_plan, unsorted[0], "1", version=0)
    response = move(facilitator_client, demo_plan, unsorted[1], "2", version=0)
    body = response.get_data(as_text=True)
    for pid in unsorted[:2]:
        assert f'<div id="card-{pid}" hx-swap-oob="delete">' in body
    assert 'hx-swap-oob="beforeend:#cards-1"' in body and 'hx-swap-oob="beforeend:#cards-2"' in body
    assert body.count('class="history-entry') == 2


@pytest.mark.parametrize(
    "data",
    [
        {"group": "1", "version": "0"},
        {"project_id": "x", "group": "1", "version": "0"},
        {"project_id": "1", "group": "4", "version": "0"},
        {"project_id": "1", "group": "1"},
    ],
)
def test_unreadable_moves_are_refused(facilitator_client, demo_plan, data):
    response = facilitator_client.post(f"/plans/{demo_plan.id}/moves", data=data)
    assert response.status_code == 400
    db.session.expire_all()
    assert demo_plan.version == 0


def test_move_naming_a_neighbour_from_another_column_refreshes_the_board(
    facilitator_client, demo_plan
):
    unsorted = ranked(demo_plan, "unsorted")
    response = move(facilitator_client, demo_plan, unsorted[0], "2", before_id=unsorted[1])
    assert response.status_code == 409
    db.session.expire_all()
    assert demo_plan.version == 0 and ranked(demo_plan, "unsorted") == unsorted


def test_move_needs_the_csrf_token(facilitator_client, demo_plan):
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/moves",
        data={"project_id": demo_plan.projects[0].id, "group": "1", "version": 0},
        csrf=False,
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert demo_plan.version == 0


def test_undo_three_moves_in_a_row(facilitator_client, demo_plan):
    unsorted = ranked(demo_plan, "unsorted")
    move(facilitator_client, demo_plan, unsorted[0], "1")
    move(facilitator_client, demo_plan, unsorted[1], "1", before_id=unsorted[0])
    move(facilitator_client, demo_plan, unsorted[5], "unsorted", before_id=unsorted[2])
    for undone, expected_in_group_1 in (
        (unsorted[5], [unsorted[1], unsorted[0]]),
        (unsorted[1], [unsorted[0]]),
        (unsorted[0], []),
    ):
        db.session.expire_all()
        response = facilitator_client.post(
            f"/plans/{demo_plan.id}/undo",
            data={"version": demo_plan.version},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert "ยกเลิกแล้ว" in body  # said on the board (and on every other one)
        # The undone card is put back where it was; the undone entry is marked.
        assert f'<div id="card-{undone}" hx-swap-oob="delete">' in body
        assert 'class="history-entry is-undone"' in body
        db.session.expire_all()
        assert ranked(demo_plan, "1") == expected_in_group_1
    db.session.expire_all()
    assert ranked(demo_plan, "unsorted") == unsorted
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/undo", data={"version": demo_plan.version}
    )
    assert "ไม่มีการเปลี่ยนแปลงให้ยกเลิก" in response.get_data(as_text=True)


def test_history_tells_the_changes_in_words(facilitator_client, demo_plan):
    unsorted = ranked(demo_plan, "unsorted")
    title = db.session.get(Project, unsorted[3]).title
    move(facilitator_client, demo_plan, unsorted[3], "3")
    move(facilitator_client, demo_plan, unsorted[6], "3", before_id=unsorted[3])
    page = facilitator_client.get(f"/plans/{demo_plan.id}/history").get_data(as_text=True)
    assert f"{title} ย้ายจากยังไม่จัดกลุ่ม ไปกลุ่ม 3 ลำดับ 1" in page
    assert "โดย Somchai เวลา" in page


def test_filters_collapse_cards_but_keep_them_as_neighbours(facilitator_client, demo_plan):
    page = facilitator_client.get(
        f"/plans/{demo_plan.id}/board?village=2&sector=infrastructure"
    ).get_data(as_text=True)
    shown = [
        p for p in demo_plan.projects if 2 in p.village_numbers and p.sector == "infrastructure"
    ]
    assert shown and len(shown) < len(demo_plan.projects)
    assert ids_in(page, "unsorted") == ranked(demo_plan, "unsorted")  # every card is there
    hidden = re.findall(r'class="card[^"]*is-filtered-out"\s+id="card-(\d+)"', page)
    assert len(hidden) == len(demo_plan.projects) - len(shown)
    text = facilitator_client.get(
        f"/plans/{demo_plan.id}/board", query_string={"q": shown[0].title[:12]}
    ).get_data(as_text=True)
    assert f'id="card-{shown[0].id}" data' in text.replace(" is-filtered-out", "")


def test_panel_saves_decisions_with_a_new_agency_and_undo_restores(facilitator_client, demo_plan):
    project = db.session.get(Project, ranked(demo_plan, "unsorted")[0])
    panel = facilitator_client.get(f"/plans/{demo_plan.id}/projects/{project.id}/panel")
    assert panel.status_code == 200 and project.title in panel.get_data(as_text=True)
    agency = db.session.scalars(select(Agency)).first()
    strategy = db.session.scalars(select(Strategy)).first()
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/projects/{project.id}",
        data={
            "version": 0,
            "panel_version": 0,
            "feasibility": "feasible",
            "urgency": "urgent",
            "lead_agency_id": agency.id,
            "new_supporting_agency": "  กลุ่มเยาวชน  บ้านหนองบัว ",
            "new_agency_kind": "community",
            "strategy_ids": [strategy.id],
            "note": "ชาวบ้านสมทบแรงงาน 🙏 <b>",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_data(as_text=True)
    # Saved on the board: the panel closes (no panel in the answer), the card is shown anew and
    # the status line says what was saved.
    assert "data-panel-project" not in body and f'id="card-{project.id}"' in body
    assert 'id="board-status"' in body and "บันทึกแล้ว" not in body
    assert "🙏 &lt;b&gt;" in body and "🙏 <b>" not in body
    db.session.expire_all()
    assert (project.feasibility, project.urgency, project.lead_agency_id) == (
        "feasible",
        "urgent",
        agency.id,
    )
    assert [a.name for a in project.supporting_agencies] == ["กลุ่มเยาวชน บ้านหนองบัว"]
    assert project.supporting_agencies[0].kind == "community"
    assert project.strategies == [strategy]
    facilitator_client.post(f"/plans/{demo_plan.id}/undo", data={"version": 1})
    db.session.expire_all()
    assert (project.feasibility, project.urgency, project.lead_agency_id) == (
        "pending",
        None,
        None,
    )
    assert project.supporting_agencies == [] and project.strategies == [] and project.note == ""


def test_panel_refuses_not_feasible_without_a_reason(facilitator_client, demo_plan):
    project = db.session.get(Project, ranked(demo_plan, "unsorted")[0])
    url = f"/plans/{demo_plan.id}/projects/{project.id}"
    response = facilitator_client.post(
        url,
        data={
            "version": 0,
            "panel_version": 0,
            "feasibility": "not_feasible",
            "feasibility_reason": " ",
        },
    )
    assert response.status_code == 422
    assert "ระบุเหตุผล" in response.get_data(as_text=True)
    db.session.expire_all()
    assert demo_plan.version == 0 and project.feasibility == "pending"
    # With the reason, the project goes to the not-feasible column.
    response = facilitator_client.post(
        url,
        data={
            "version": 0,
            "panel_version": 0,
            "feasibility": "not_feasible",
            "feasibility_reason": "ซ้ำกับงบ อบจ.",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert 'hx-swap-oob="beforeend:#cards-not-feasible"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert ranked(demo_plan, "not-feasible") == [project.id]
    assert ranks_are_dense(demo_plan)


def test_a_panel_save_is_refused_only_when_another_device_changed_that_project(
    facilitator_client, demo_plan
):
    first, second = ranked(demo_plan, "unsorted")[:2]
    url = f"/plans/{demo_plan.id}/projects/{second}"
    # Both panels opened at version 0. A move elsewhere does not stand in the way of a save.
    move(facilitator_client, demo_plan, first, "1", version=0)
    saved = facilitator_client.post(
        url,
        data={"version": 1, "panel_version": 0, "feasibility": "feasible", "note": "ก่อน"},
        headers={"HX-Request": "true"},
    )
    assert saved.status_code == 200
    # The other panel, opened at version 0 too, was not there for that save: refused, what was
    # typed kept, the board brought up to date.
    response = facilitator_client.post(
        url,
        data={"version": 1, "panel_version": 0, "feasibility": "feasible", "note": "ที่พิมพ์ไว้"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "ที่พิมพ์ไว้" in body and "อุปกรณ์อื่น" in body
    assert 'name="panel_version" value="2"' in body  # saving again now goes through
    assert 'id="plan-version" name="version" value="2" data-plan-version="2" hx-swap-oob' in body
    db.session.expire_all()
    assert db.session.get(Project, second).note == "ก่อน"


def test_urgency_view_groups_projects_taken_forward(facilitator_client, demo_plan):
    unsorted = ranked(demo_plan, "unsorted")
    move(facilitator_client, demo_plan, unsorted[0], "3")
    move(facilitator_client, demo_plan, unsorted[1], "1")
    page = facilitator_client.get(f"/plans/{demo_plan.id}/urgency").get_data(as_text=True)
    for tier in ("urgent", "medium", "normal"):
        assert f'data-urgency="{tier}"' in page
    assert page.count("data-project-id=") == 2  # only groups 1-3
    db.session.expire_all()
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/projects/{unsorted[0]}/urgency",
        data={"urgency": "urgent", "version": demo_plan.version},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    # Only that project's row (moved into the urgent list) and the counts: not the view whole.
    assert 'id="urgency-view"' not in body
    assert f'<div id="urgency-item-{unsorted[0]}" hx-swap-oob="delete"></div>' in body
    moved = body.split('hx-swap-oob="beforeend:#urgency-list-urgent">', 1)[1]
    assert f'data-project-id="{unsorted[0]}"' in moved.split("</li>", 1)[0]
    assert body.count("data-project-id=") == 1
    assert 'id="urgency-count-urgent" data-urgency-count="1"' in body
    assert 'id="urgency-count-unset" data-urgency-count="1"' in body
    db.session.expire_all()
    assert db.session.get(Project, unsorted[0]).urgency == "urgent"


def test_urgency_is_one_tap_per_project_with_the_current_tier_pressed(
    facilitator_client, demo_plan
):
    """Three buttons per project (no dropdown, no second "set" tap); a plain form post works
    without JavaScript; a second tap on the same tier logs nothing; the change names the card so
    the board and the projector show it anew."""
    unsorted = ranked(demo_plan, "unsorted")
    move(facilitator_client, demo_plan, unsorted[0], "2")
    page = facilitator_client.get(f"/plans/{demo_plan.id}/urgency").get_data(as_text=True)
    row = page.split(f'id="urgency-item-{unsorted[0]}"', 1)[1].split("</li>", 1)[0]
    assert "<select" not in row
    pressed = re.findall(r'name="urgency" value="(\w+)"[^>]*aria-pressed="(\w+)"', row)
    assert pressed == [("urgent", "false"), ("medium", "false"), ("normal", "false")]
    # The unset list comes first, the tiers after it.
    assert page.index("data-urgency-unset") < page.index('data-urgency="urgent"')

    db.session.expire_all()
    url = f"/plans/{demo_plan.id}/projects/{unsorted[0]}/urgency"
    response = facilitator_client.post(
        url, data={"urgency": "medium", "version": demo_plan.version}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/plans/{demo_plan.id}/urgency")
    db.session.expire_all()
    assert db.session.get(Project, unsorted[0]).urgency == "medium"
    entry = db.session.scalars(select(ChangeLog).order_by(ChangeLog.id.desc())).first()
    assert entry.regions == {"cards": [unsorted[0]], "edited": [unsorted[0]]}
    page = facilitator_client.get(f"/plans/{demo_plan.id}/urgency").get_data(as_text=True)
    medium = page.split('data-urgency="medium"', 1)[1].split("</section>", 1)[0]
    row = medium.split(f'id="urgency-item-{unsorted[0]}"', 1)[1].split("</li>", 1)[0]
    assert re.findall(r'value="(\w+)"[^>]*aria-pressed="true"', row) == ["medium"]

    version = db.session.get(Plan, demo_plan.id).version
    again = facilitator_client.post(
        url, data={"urgency": "medium", "version": version}, headers={"HX-Request": "true"}
    )
    assert again.status_code == 200
    db.session.expire_all()
    assert db.session.get(Plan, demo_plan.id).version == version
    assert db.session.scalars(select(ChangeLog).order_by(ChangeLog.id.desc())).first() == entry


def test_a_confirmed_group_refuses_moves_and_shows_locked(facilitator_client, demo_plan):
    from planapp.meeting.groups import confirm_group

    unsorted = ranked(demo_plan, "unsorted")
    move(facilitator_client, demo_plan, unsorted[0], "2")
    confirm_group(demo_plan, "2", actor=None)
    db.session.commit()
    page = facilitator_client.get(f"/plans/{demo_plan.id}/board").get_data(as_text=True)
    assert 'data-group="2" aria-labelledby="column-head-2-title" data-confirmed' in page
    for attempt in [(unsorted[1], "2", None), (unsorted[0], "1", None)]:
        response = move(facilitator_client, demo_plan, *attempt)
        assert response.status_code == 423
        assert "ยืนยันแล้ว" in response.get_data(as_text=True) or "ล็อก" in response.get_data(
            as_text=True
        )
    # Nor can the panel push it out of the group by marking it not feasible.
    db.session.expire_all()
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/projects/{unsorted[0]}",
        data={
            "version": demo_plan.version,
            "panel_version": demo_plan.version,
            "feasibility": "not_feasible",
            "feasibility_reason": "ไม่มีที่ดิน",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    db.session.expire_all()
    assert ranked(demo_plan, "2") == [unsorted[0]]
    assert db.session.get(Project, unsorted[0]).feasibility == "pending"


def test_a_move_answers_with_the_new_place_of_the_budget_cut_line(facilitator_client, demo_plan):
    from planapp.meeting.groups import set_ceiling

    unsorted = ranked(demo_plan, "unsorted")
    budgets = {p.id: p.budget_satang for p in demo_plan.projects}
    for pid in unsorted[:3]:
        move(facilitator_client, demo_plan, pid, "3")
    # The ceiling fits the first two cards of group 3, not the third.
    set_ceiling(demo_plan, "3", budgets[unsorted[0]] + budgets[unsorted[1]], actor=None)
    db.session.commit()
    page = facilitator_client.get(f"/plans/{demo_plan.id}/board").get_data(as_text=True)
    column = page.split('data-group="3"', 1)[1].split("</section>", 1)[0]
    assert column.index("data-cut-line") < column.index(f'id="card-{unsorted[2]}"')
    assert column.index("data-cut-line") > column.index(f'id="card-{unsorted[1]}"')
    # Moving the third card to the top: the line now sits above whichever card no longer fits.
    response = move(facilitator_client, demo_plan, unsorted[2], "3", before_id=unsorted[0])
    body = response.get_data(as_text=True)
    assert '<div id="cut-line-3" hx-swap-oob="delete">' in body
    running, cut_before = 0, None
    for pid in [unsorted[2], unsorted[0], unsorted[1]]:
        running += budgets[pid]
        if running > budgets[unsorted[0]] + budgets[unsorted[1]]:
            cut_before = pid
            break
    assert f'hx-swap-oob="beforebegin:#card-{cut_before}"' in body
    assert "data-cut-line" in body


def test_cards_show_their_votes(facilitator_client, demo_plan):
    project = db.session.get(Project, ranked(demo_plan, "unsorted")[0])
    project.votes = 12
    db.session.commit()
    page = facilitator_client.get(f"/plans/{demo_plan.id}/board").get_data(as_text=True)
    assert f'id="card-{project.id}" data-project-id="{project.id}" data-votes="12"' in page
    assert "12 เสียง" in page


@pytest.mark.parametrize(
    "case", ["inside a column", "across columns", "into not feasible", "with a ceiling"]
)
def test_a_move_runs_at_most_ten_sql_statements(facilitator_client, demo_plan, case):
    """Counted on the connection, from the request's start (the user, the plan) to its answer:
    each question is asked once (issue 14: a move used to run 27)."""
    from sqlalchemy import event

    from planapp.meeting.groups import set_ceiling

    unsorted = ranked(demo_plan, "unsorted")
    for pid in unsorted[:4]:
        move(facilitator_client, demo_plan, pid, "3")
    if case == "with a ceiling":
        set_ceiling(demo_plan, "3", 1, actor=None)
        db.session.commit()
    project_id, group, before_id = {
        "inside a column": (unsorted[10], "unsorted", unsorted[5]),
        "across columns": (unsorted[10], "3", unsorted[1]),
        "into not feasible": (unsorted[10], "not-feasible", None),
        "with a ceiling": (unsorted[2], "3", unsorted[0]),
    }[case]
    token = facilitator_client.csrf_token()
    data = {
        "project_id": project_id,
        "group": group,
        "before_id": before_id or "",
        "version": db.session.get(Plan, demo_plan.id).version,
    }
    plan_id = demo_plan.id
    db.session.remove()  # nothing known beforehand: the request asks for all it needs
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = facilitator_client.post(
            f"/plans/{plan_id}/moves",
            data=data,
            headers={"HX-Request": "true", "X-CSRFToken": token},
            csrf=False,
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.get_data(as_text=True)
    print(f"{case}: {len(statements)} statements")
    assert len(statements) <= 10, "\n\n".join(statements)


def test_the_board_reads_its_cards_again_only_when_something_they_show_changed(
    facilitator_client, demo_plan
):
    """The board page keeps the plan's card list (planapp.cards.kept_plan_cards): a page of an
    unchanged plan does not read the cards again, and whatever a card shows reaches the next page:
    a decision (a plan change), an agency renamed and a village renumbered (no plan change)."""
    from sqlalchemy import event

    from planapp.models import Village

    project = db.session.get(Project, ranked(demo_plan, "unsorted")[0])
    agency = db.session.scalars(select(Agency)).first()
    village = project.villages[0]
    board = f"/plans/{demo_plan.id}/board"

    def card_of(page: str) -> str:
        return page.split(f'id="card-{project.id}"', 1)[1].split("</li>", 1)[0]

    card_reads = []

    def count(_conn, _cursor, statement, *_args):
        if "board_places.rank" in statement and "projects.title" in statement:
            card_reads.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        facilitator_client.get(board)
        facilitator_client.get(board)
        assert len(card_reads) == 1  # the second page took the kept list

        saved = facilitator_client.post(
            f"/plans/{demo_plan.id}/projects/{project.id}",
            data={
                "version": demo_plan.version,
                "panel_version": 0,
                "feasibility": "feasible",
                "lead_agency_id": agency.id,
            },
            headers={"HX-Request": "true"},
        )
        assert saved.status_code == 200, saved.get_data(as_text=True)
        assert agency.name in card_of(facilitator_client.get(board).get_data(as_text=True))

        admin = facilitator_client.application.test_client()
        make_user("admin", "admin")
        admin.login("admin")
        renamed = admin.post(
            f"/setup/agencies/{agency.id}/edit", data={"name": "เทศบาลหนองบัว", "kind": "local"}
        )
        assert renamed.status_code == 302
        renumbered = admin.post(
            f"/villages/{village.id}/edit", data={"number": 42, "name": village.name}
        )
        assert renumbered.status_code == 302
        card = card_of(facilitator_client.get(board).get_data(as_text=True))
        assert "เทศบาลหนองบัว" in card and "42" in card
        assert db.session.get(Village, village.id).number == 42
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_kept_cards_follow_the_plan_years_and_survive_moves_above_them(
    facilitator_client, demo_plan, monkeypatch
):
    """A card's kept render holds what it shows, not where it is: after a move no card renders
    anew (the moved one and those whose rank it shifted alike), while a new start year for the
    plan flags every card wanted outside its years on the next page."""
    from planapp.forum import board as board_module

    unsorted = ranked(demo_plan, "unsorted")
    board = f"/plans/{demo_plan.id}/board"
    assert "data-outside-plan-years" not in facilitator_client.get(board).get_data(as_text=True)

    rendered = []
    real_region = board_module.region

    def counting_region(template, name, *args):
        if name == "card":
            rendered.append(args[1].id)
        return real_region(template, name, *args)

    monkeypatch.setattr(board_module, "region", counting_region)
    moved = move(facilitator_client, demo_plan, unsorted[-1], "unsorted", unsorted[0])
    assert moved.status_code == 200
    rendered.clear()
    page = facilitator_client.get(board).get_data(as_text=True)
    assert ids_in(page, "unsorted") == [unsorted[-1], *unsorted[:-1]]
    assert rendered == []  # every card below the moved one kept its render

    settings = facilitator_client.get(f"/plans/{demo_plan.id}/settings").get_data(as_text=True)
    version = settings.split('name="version" type="hidden" value="')[1].split('"')[0]
    saved = facilitator_client.post(
        f"/plans/{demo_plan.id}/settings",
        data={
            "fiscal_year": str(demo_plan.fiscal_year),
            "version": version,
            "identity": demo_plan.identity,
            "development_position": demo_plan.development_position,
            "direction": demo_plan.direction,
            "potential": demo_plan.potential,
            "key_problems": demo_plan.key_problems,
            "plan_start_year": str(demo_plan.fiscal_year + 1),
            "grouping": "strategy",
            "show_kpi": "y",
        },
    )
    assert saved.status_code == 302
    page = facilitator_client.get(board).get_data(as_text=True)
    flagged = re.findall(
        r'data-project-id="(\d+)"(?:(?!</li>).)*data-outside-plan-years', page, re.S
    )
    assert len(flagged) == len(demo_plan.active_projects()) > 0
