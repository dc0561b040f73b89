"""The change log stores what happened as data and words it in the reader's language (issue 16,
item 7), and a group over its budget ceiling is confirmed only on an explicit override that the
minutes record (item 9).

The forum's actions are taken through the routes in one language and read in the other: the
board's history, the minutes page and the minutes sheet of the workbook hold no word of the
language the actions were taken in, only the user data (titles, names, the reason typed)."""

from __future__ import annotations

import html
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from planapp.extensions import db
from planapp.meeting import groups as meeting_groups
from planapp.models import Agency, ChangeLog, PlanGroup, Project, User

THAI = re.compile(r"[\u0E00-\u0E7F]")
LATIN = re.compile(r"[A-Za-z]")
REASON = "ซ้ำซ้อนกับงบจังหวัด"


def set_language(client, language: str) -> None:
    client.post("/language", data={"language": language, "next": "/"})


def version(plan) -> int:
    db.session.refresh(plan)
    return plan.version


def play_forum_through_the_routes(client, plan) -> dict[str, Project]:
    """Steps, feasibility, moves, votes, order by votes, a ceiling, urgency, a merge, confirm
    and unlock: each through its route, in the client's language."""
    projects = sorted((p for p in plan.projects if p.merged_into_id is None), key=lambda p: p.id)
    a, b, c, d, e = projects[:5]
    twin = next(p for p in projects[5:] if p.villages[0].id != e.villages[0].id)
    base = f"/plans/{plan.id}"
    hx = {"HX-Request": "1"}

    def ok(response):
        assert response.status_code in (200, 302), response.get_data(as_text=True)[:500]

    ok(client.post(f"{base}/meeting/step", data={"step": "3"}, headers=hx))
    ok(
        client.post(
            f"{base}/projects/{a.id}",
            data={
                "feasibility": "not_feasible",
                "feasibility_reason": REASON,
                "panel_version": version(plan),
                "version": version(plan),
            },
            headers=hx,
        )
    )
    ok(client.post(f"{base}/meeting/step", data={"step": "4"}, headers=hx))
    for project in (b, c, d):
        ok(
            client.post(
                f"{base}/moves",
                data={
                    "project_id": project.id,
                    "group": "1",
                    "before_id": "",
                    "version": version(plan),
                },
                headers=hx,
            )
        )
    ok(client.post(f"{base}/projects/{d.id}/votes", data={"votes": "9"}, headers=hx))
    ok(
        client.post(
            f"{base}/groups/1/order-by-votes",
            data={"view": "board", "version": version(plan)},
            headers=hx,
        )
    )
    ok(client.post(f"{base}/groups/1/ceiling", data={"ceiling": "90,000,000"}, headers=hx))
    ok(client.post(f"{base}/groups/1/confirm", data={"version": version(plan)}, headers=hx))
    ok(client.post(f"{base}/groups/1/unlock", headers=hx))
    ok(client.post(f"{base}/groups/1/confirm", data={"version": version(plan)}, headers=hx))
    ok(client.post(f"{base}/meeting/step", data={"step": "5"}, headers=hx))
    ok(
        client.post(
            f"{base}/projects/{b.id}/urgency",
            data={"urgency": "urgent", "version": version(plan)},
            headers=hx,
        )
    )
    ok(
        client.post(
            f"{base}/merge",
            data={
                "step": "confirm",
                "project_ids": [e.id, twin.id],
                "keeper_id": e.id,
                "title": e.title,
                "budget_satang": "150,000",
            },
        )
    )
    db.session.expire_all()
    assert db.session.get(Project, twin.id).merged_into_id == e.id
    assert meeting_groups.confirmed_groups(plan) == {"1"}
    return {"not_feasible": a, "grouped": b, "voted": d, "kept": e, "twin": twin}


def without_user_data(text: str, plan) -> str:
    """The text with every user datum taken out: titles (of merged projects too), villages,
    agencies, people's names, the tambon, the reason typed."""
    data = [p.title for p in db.session.scalars(select(Project).where(Project.plan_id == plan.id))]
    data += [v.name for v in plan.tambon.villages]
    data += list(db.session.scalars(select(Agency.name)))
    data += list(db.session.scalars(select(User.display_name)))
    data += [plan.tambon.name, REASON]
    for datum in sorted({d for d in data if d}, key=len, reverse=True):
        text = text.replace(datum, " ")
    return text


def history_lines(client, plan) -> list[str]:
    page = client.get(f"/plans/{plan.id}/history").get_data(as_text=True)
    found = re.findall(r'<li class="history-entry[^"]*"[^>]*>(.*?)<span class="muted">', page, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", " ", line)).strip() for line in found]


def minutes_lines(client, plan) -> list[str]:
    page = client.get(f"/plans/{plan.id}/minutes").get_data(as_text=True)
    block = re.search(r'<ol class="minutes-decisions">(.*?)</ol>', page, re.S).group(1)
    block = re.sub(r"<time>.*?</time>", " ", block)
    items = re.findall(r"<li[^>]*>(.*?)</li>", block, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", " ", item)).strip() for item in items]


def workbook_minutes_lines(client, plan) -> list[str]:
    response = client.get(f"/plans/{plan.id}/export.xlsx")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.data))
    sheet = next(ws for ws in wb.worksheets if ws.title in ("Minutes", "บันทึกการประชุม"))
    return [
        str(row[1])
        for row in sheet.iter_rows(values_only=True)
        if isinstance(row[0], str) and re.fullmatch(r"\d\d[:.]\d\d", row[0]) and row[1]
    ]


@pytest.mark.parametrize(("made_in", "read_in"), [("th", "en"), ("en", "th")])
def test_history_and_minutes_read_in_the_readers_language(
    facilitator_client, demo_plan, made_in, read_in
):
    set_language(facilitator_client, made_in)
    played = play_forum_through_the_routes(facilitator_client, demo_plan)
    set_language(facilitator_client, read_in)
    foreign = THAI if read_in == "en" else LATIN
    history = history_lines(facilitator_client, demo_plan)
    minutes = minutes_lines(facilitator_client, demo_plan)
    sheet = workbook_minutes_lines(facilitator_client, demo_plan)
    # Every kind of action is there to be read.
    assert len(history) >= 15
    assert any(played["voted"].title in line for line in minutes)
    assert any(played["twin"].title in line for line in minutes)
    for where, lines in (("history", history), ("minutes", minutes), ("workbook", sheet)):
        assert lines, where
        wrong = [line for line in lines if foreign.search(without_user_data(line, demo_plan))]
        assert not wrong, f"{where} in {read_in} has words of {made_in}: {wrong}"
    words = " ".join(history + minutes)
    if read_in == "en":
        assert "Group 1 ordered by votes" in words and "Group 1 confirmed" in words
        assert "Budget ceiling of Group 1: 90,000,000 baht" in words
        assert "Step 4: Funding groups" in words and "Group 1 unlocked" in words
    else:
        assert "เรียงกลุ่ม 1 ตามคะแนนเสียง" in words and "ยืนยันลำดับกลุ่ม 1" in words


def test_a_group_label_is_never_glued_to_the_thai_word_after_it(app):
    """ "เรียงกลุ่ม 1ตามคะแนนเสียง": a placeholder that ends in a digit (a group, a step, a
    village's number) is followed by a space or a sign in every Thai message, never a Thai
    letter."""
    from planapp.i18n import merged_catalog

    glued = [
        (message.id, message.string)
        for message in merged_catalog("th")
        if message.id
        and isinstance(message.string, str)
        and re.search(
            r"%\((group|number|step|count|num|votes)\)[sd][\u0E00-\u0E7F]", message.string
        )
    ]
    assert not glued


# --- confirming over the ceiling ----------------------------------------------------------


def over_the_ceiling(plan) -> tuple[list[Project], str]:
    a, b = sorted(plan.projects, key=lambda p: p.id)[:2]
    for project in (a, b):
        project.rank = None
    db.session.flush()
    for rank, (project, baht) in enumerate(((a, 300_000), (b, 450_000)), 1):
        project.funding_group, project.rank, project.budget = "2", rank, baht
    db.session.add(PlanGroup(plan_id=plan.id, funding_group="2", ceiling_satang=500_000_00))
    db.session.commit()
    return [a, b], f"/plans/{plan.id}/groups/2/confirm"


def test_confirming_over_the_ceiling_without_the_override_changes_nothing(
    facilitator_client, demo_plan
):
    _cards, url = over_the_ceiling(demo_plan)
    before = version(demo_plan)
    entries = db.session.scalar(select(func.count()).select_from(ChangeLog))
    panel = facilitator_client.get(f"/plans/{demo_plan.id}/meeting").get_data(as_text=True)
    assert 'data-over-ceiling="2"' in panel and "เกิน 250,000 บาท" in panel
    response = facilitator_client.post(url, data={"version": before}, headers={"HX-Request": "1"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and "250,000 บาท" in page and "ยืนยันทั้งที่เกินเพดาน" in page
    db.session.expire_all()
    assert meeting_groups.confirmed_groups(demo_plan) == set()
    assert version(demo_plan) == before
    assert db.session.scalar(select(func.count()).select_from(ChangeLog)) == entries
    # From the board: the same refusal, with the message on the board.
    response = facilitator_client.post(
        url, data={"version": before, "view": "board"}, headers={"HX-Request": "1"}
    )
    assert response.status_code == 422 and "250,000" in response.get_data(as_text=True)
    assert meeting_groups.confirmed_groups(demo_plan) == set()


def test_confirming_over_the_ceiling_with_the_override_locks_and_the_minutes_say_so(
    facilitator_client, demo_plan
):
    _cards, url = over_the_ceiling(demo_plan)
    facilitator_client.post(f"/plans/{demo_plan.id}/meeting/step", data={"step": "4"})
    response = facilitator_client.post(
        url,
        data={"version": version(demo_plan), "over_ceiling": "yes"},
        headers={"HX-Request": "1"},
    )
    assert response.status_code == 200 and "data-confirmed" in response.get_data(as_text=True)
    assert meeting_groups.confirmed_groups(demo_plan) == {"2"}
    minutes = " ".join(minutes_lines(facilitator_client, demo_plan))
    assert "ยืนยันทั้งที่เกินเพดานงบประมาณ 500,000 บาท เป็นเงิน 250,000 บาท" in minutes
    history = " ".join(history_lines(facilitator_client, demo_plan))
    assert "ยืนยันลำดับกลุ่ม 2 เกินเพดานงบประมาณ 250,000 บาท" in history
    set_language(facilitator_client, "en")
    minutes = " ".join(minutes_lines(facilitator_client, demo_plan))
    assert "Confirmed over its budget ceiling of 500,000 baht by 250,000 baht." in minutes
    sheet = " ".join(workbook_minutes_lines(facilitator_client, demo_plan))
    assert "by 250,000 baht" in sheet


def test_a_group_within_its_ceiling_is_confirmed_without_the_override(
    facilitator_client, demo_plan
):
    _cards, url = over_the_ceiling(demo_plan)
    meeting_groups.plan_groups(demo_plan)["2"].ceiling_satang = 750_000_00
    db.session.commit()
    panel = facilitator_client.get(f"/plans/{demo_plan.id}/meeting").get_data(as_text=True)
    assert 'data-over-ceiling="2"' not in panel
    response = facilitator_client.post(
        url, data={"version": version(demo_plan)}, headers={"HX-Request": "1"}
    )
    assert response.status_code == 200
    assert meeting_groups.confirmed_groups(demo_plan) == {"2"}
    entry = db.session.scalar(select(ChangeLog).order_by(ChangeLog.id.desc()))
    assert entry.action == "group_confirmed" and "over_satang" not in entry.details


def test_an_older_row_shows_its_stored_summary_and_an_undo_reads_in_the_readers_language(
    facilitator_client, demo_plan
):
    """A row saved before the details were stored keeps the words it was saved with; a new
    one, and the undo of it, read in the reader's language."""
    from planapp.changes import record_change

    old = record_change(demo_plan, "order_by_votes", actor=None, summary="เรียงกลุ่ม 2 ตามคะแนนเสียง")
    db.session.commit()
    a, b = sorted(demo_plan.projects, key=lambda p: p.id)[:2]
    for project in (a, b):
        project.rank = None
    db.session.flush()
    for rank, project in enumerate((a, b), 1):
        project.funding_group, project.rank = "3", rank
    b.votes = 4
    db.session.commit()
    hx = {"HX-Request": "1"}
    url = f"/plans/{demo_plan.id}/groups/3/order-by-votes"
    assert facilitator_client.post(url, headers=hx).status_code == 200
    undo = facilitator_client.post(
        f"/plans/{demo_plan.id}/undo", data={"version": version(demo_plan)}, headers=hx
    )
    assert undo.status_code == 200
    set_language(facilitator_client, "en")
    lines = history_lines(facilitator_client, demo_plan)
    assert lines[0] == "Undone: Group 3 ordered by votes"
    assert lines[1] == "Group 3 ordered by votes"
    assert lines[-1] == "เรียงกลุ่ม 2 ตามคะแนนเสียง" and old.details is None
