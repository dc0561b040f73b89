"""Follow-up after the forum: allowed transitions, refusals with a clear message, the change
log, and the plan follow-up page that says how far each group has come."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from planapp.changes import undo_last_change
from planapp.district.followup import (
    FollowupRefused,
    FollowupUpdate,
    allowed_statuses,
    apply_update,
    group_progress,
    money_pair,
)
from planapp.extensions import db
from planapp.models import ChangeLog, Project
from tests.conftest import make_user
from tests.district_helpers import place

TODAY = date(2026, 12, 15)  # after the demo forum of 20 November 2026


def update(plan, project, status, **fields):
    return apply_update(plan, project, FollowupUpdate(status=status, **fields), TODAY, actor=None)


def refusal(plan, project, status, **fields) -> dict[str, str]:
    with pytest.raises(FollowupRefused) as refused:
        update(plan, project, status, **fields)
    db.session.rollback()
    return refused.value.errors


@pytest.fixture
def in_request(app):
    """Domain functions speak the user's language: run them as inside a Thai request."""
    with app.test_request_context():
        yield


@pytest.fixture
def placed(in_request, demo_plan):
    """Demo plan with projects in every column: g1, g2, g3, g3, not feasible, then unsorted."""
    projects = place(demo_plan, ["1", "2", "3", "3", "not-feasible"])
    return demo_plan, projects


def test_a_project_walks_the_whole_road_and_every_step_is_logged(placed):
    plan, (_g1, _g2, g3, _g3b, _nf) = placed
    update(plan, g3, "sent", day="2026-11-25")
    update(plan, g3, "in_local_plan")
    update(plan, g3, "in_budget", amount="1,250,000", year="2571")
    update(plan, g3, "in_progress")
    update(plan, g3, "done", note="ส่งมอบงานแล้ว")
    db.session.commit()
    assert g3.followup_status == "done"
    assert g3.followup_date == TODAY
    # Later steps keep the ordinance figures.
    assert (g3.budget_ordinance_satang, g3.budget_ordinance_year) == (125_000_000, 2571)
    entries = db.session.scalars(
        select(ChangeLog).where(ChangeLog.project_id == g3.id).order_by(ChangeLog.id)
    ).all()
    assert [e.after["projects"][str(g3.id)]["followup_status"] for e in entries] == [
        "sent",
        "in_local_plan",
        "in_budget",
        "in_progress",
        "done",
    ]
    assert entries[0].before["projects"][str(g3.id)]["followup_status"] == "none"
    assert entries[0].after["projects"][str(g3.id)]["followup_date"] == "2026-11-25"
    assert plan.version == 5


def test_steps_may_be_skipped_forward_and_undo_restores_the_previous_state(placed):
    plan, (_g1, g2, *_rest) = placed
    update(plan, g2, "in_budget", amount="300000", year="2571")
    db.session.commit()
    assert g2.followup_status == "in_budget"
    undo_last_change(plan, actor=None)
    db.session.commit()
    assert g2.followup_status == "none"
    assert g2.budget_ordinance_satang is None and g2.followup_date is None


def test_done_is_refused_for_a_project_never_taken_forward(placed):
    plan, (*_placed, not_feasible) = placed
    unsorted = db.session.scalar(
        select(Project).where(Project.plan_id == plan.id, Project.funding_group == "unsorted")
    )
    errors = refusal(plan, unsorted, "done")
    assert "ไม่ได้นำโครงการนี้ไปดำเนินการต่อ" in errors["status"]
    assert "ยังไม่จัดกลุ่ม" in errors["status"]
    errors = refusal(plan, not_feasible, "sent")
    assert "(อยู่ใน “ไม่สามารถดำเนินการได้”)" in errors["status"]
    assert unsorted.followup_status == "none" and not_feasible.followup_status == "none"
    assert allowed_statuses(unsorted) == ["none"]


def test_budget_ordinance_needs_an_amount_and_a_year(placed):
    plan, (_g1, _g2, g3, *_rest) = placed
    errors = refusal(plan, g3, "in_budget")
    assert errors == {
        "amount": "กรุณากรอกจำนวนเงินที่ได้รับในข้อบัญญัติงบประมาณ",
        "year": "กรุณากรอกปีงบประมาณของข้อบัญญัติ",
    }
    assert refusal(plan, g3, "in_budget", amount="0", year="2571") == {
        "amount": "จำนวนเงินในข้อบัญญัติงบประมาณต้องมากกว่าศูนย์"
    }
    assert "amount" in refusal(plan, g3, "in_budget", amount="หนึ่งล้าน", year="2571")
    assert "amount" in refusal(plan, g3, "in_budget", amount="-5", year="2571")
    # A Christian Era year is a typical slip: refused, with the range that is allowed.
    assert refusal(plan, g3, "in_budget", amount="100000", year="2028") == {
        "year": "ปีงบประมาณต้องเป็นปีพุทธศักราชระหว่าง 2569 ถึง 2575"
    }
    assert g3.followup_status == "none" and plan.version == 0


def test_impossible_moves_are_refused_with_a_reason(placed):
    plan, (g1, g2, g3, g3b, _nf) = placed
    # Group 1 is the community's own work: it never enters the อปท.'s budget.
    assert "กลุ่ม 1" in refusal(plan, g1, "in_budget", amount="1000", year="2571")["status"]
    assert allowed_statuses(g1) == ["none", "in_progress", "done", "dropped"]
    # Dropping needs a reason.
    assert refusal(plan, g2, "dropped") == {"note": "กรุณาระบุเหตุผลที่ยกเลิกโครงการ"}
    # Backwards is refused...
    update(plan, g3, "in_local_plan")
    db.session.commit()
    assert "ย้อนกลับ" in refusal(plan, g3, "sent")["status"]
    # ...except leaving the budget ordinance for the local plan (an amended ordinance).
    update(plan, g3, "in_budget", amount="500000", year="2571")
    update(plan, g3, "in_local_plan", note="ตัดออกจากข้อบัญญัติเพิ่มเติม")
    db.session.commit()
    assert g3.followup_status == "in_local_plan" and g3.budget_ordinance_satang is None
    # A closed follow-up stays closed.
    update(plan, g3b, "dropped", note="ซ้ำซ้อนกับโครงการของ อบจ.")
    db.session.commit()
    assert "ปิดแล้ว" in refusal(plan, g3b, "in_progress")["status"]
    # Amounts belong to the budget ordinance only; dates are not in the future nor before
    # the forum; a made-up status is refused.
    assert "amount" in refusal(plan, g2, "sent", amount="5000")
    future = (TODAY + timedelta(days=1)).isoformat()
    assert refusal(plan, g2, "sent", day=future) == {"day": "วันที่ต้องไม่เป็นวันในอนาคต"}
    assert "ก่อนวันจัดเวทีประชาคม" in refusal(plan, g2, "sent", day="2026-11-01")["day"]
    assert refusal(plan, g2, "sent", day="31/02/2569") == {
        "day": "พิมพ์วันที่เป็น วัน/เดือน/ปี พ.ศ. เช่น 20/11/2569"
    }
    # Dates are typed as the hall writes them: day/month/Buddhist Era year, Thai digits too.
    assert refusal(plan, g2, "sent", day="16/12/2569") == {"day": "วันที่ต้องไม่เป็นวันในอนาคต"}
    update(plan, g2, "sent", day="๑๐/๑๒/๒๕๖๙")
    db.session.commit()
    assert g2.followup_status == "sent"
    assert g2.followup_date == date(2026, 12, 10)
    assert "status" in refusal(plan, g2, "approved")


def test_a_change_made_on_a_stale_page_is_refused(placed):
    plan, (_g1, g2, *_rest) = placed
    update(plan, g2, "sent")
    db.session.commit()
    errors = refusal(plan, g2, "in_local_plan", seen_status="none")
    assert "มีผู้อื่นเปลี่ยน" in errors["status"]


def test_group_progress_adds_up_in_sql(in_request, demo_plan):
    projects = place(demo_plan, ["3", "3", "3", "2", "1", "1"])
    g3a, g3b, g3c, g2, g1a, _g1b = projects
    update(demo_plan, g3a, "in_budget", amount="1,000,000", year="2571")
    update(demo_plan, g3b, "done", note="")
    update(demo_plan, g3c, "dropped", note="ไม่มีงบ")
    update(demo_plan, g1a, "done")
    db.session.commit()
    progress = group_progress(demo_plan)
    assert g2.followup_status == "none"
    group3 = progress["3"]
    assert group3.total == 3
    assert group3.requested_satang == sum(p.budget_satang for p in (g3a, g3b, g3c))
    assert group3.reached_budget == 2  # in_budget and done
    assert group3.ordinance_satang == 100_000_000  # done without an amount adds nothing
    assert group3.by_status == {"in_budget": 1, "done": 1, "dropped": 1}
    assert progress["2"].total == 1 and progress["2"].reached_budget == 0
    assert progress["1"].milestone == 1 and progress["1"].total == 2


def test_money_pair_reads_like_the_planning_office():
    assert money_pair(320_000_000, 510_000_000) == ("3.2", "5.1", True)
    assert money_pair(0, 67_000_000) == ("0", "670,000", False)
    assert money_pair(1_250_000_000, 2_500_000_000) == ("12.5", "25", True)


# --- the page and its routes ----------------------------------------------------------------


def test_followup_page_says_how_far_each_group_has_come(facilitator_client, demo_plan):
    g3a, g3b, g3c = place(demo_plan, ["3", "3", "3"])
    for project, amount in ((g3a, 2_000_000), (g3b, 1_200_000), (g3c, 1_900_000)):
        project.budget = amount
    db.session.commit()
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/followup/{g3a.id}",
        data={f"p{g3a.id}-status": "in_budget", f"p{g3a.id}-amount": "1,500,000",
              f"p{g3a.id}-year": "2571", f"p{g3a.id}-seen_status": "none"},
    )  # fmt: skip
    assert response.status_code == 302
    page = facilitator_client.get(f"/plans/{demo_plan.id}/followup").get_data(as_text=True)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))
    assert "กลุ่ม 3: 1 จาก 3 โครงการอยู่ในข้อบัญญัติงบประมาณ, 1.5 จาก 5.1 ล้านบาท" in text
    assert f'data-project-id="{g3a.id}" data-followup-status="in_budget"' in page
    assert "บันทึกแล้ว" in page  # the flash after the redirect


def test_bad_input_answers_next_to_the_field_and_changes_nothing(facilitator_client, demo_plan):
    (g3,) = place(demo_plan, ["3"])
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/followup/{g3.id}",
        data={f"p{g3.id}-status": "in_budget", f"p{g3.id}-amount": "",
              f"p{g3.id}-year": "2571", f"p{g3.id}-seen_status": "none"},
    )  # fmt: skip
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="p{g3.id}-amount-errors"' in page
    assert "กรุณากรอกจำนวนเงินที่ได้รับในข้อบัญญัติงบประมาณ" in page
    db.session.refresh(g3)
    assert g3.followup_status == "none"
    assert db.session.scalar(select(db.func.count()).select_from(ChangeLog)) == 0


def test_htmx_answer_is_the_row_and_the_summary_out_of_band(facilitator_client, demo_plan):
    (g2,) = place(demo_plan, ["2"])
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/followup/{g2.id}",
        data={f"p{g2.id}-status": "sent", f"p{g2.id}-seen_status": "none"},
        headers={"HX-Request": "true"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.lstrip().startswith(f'<li id="project-{g2.id}"')
    assert 'id="followup-summary"' in page and 'hx-swap-oob="true"' in page
    assert 'data-status="sent">1<' in page
    # A refusal over htmx comes back as the open row with its message.
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/followup/{g2.id}",
        data={f"p{g2.id}-status": "dropped", f"p{g2.id}-seen_status": "sent"},
        headers={"HX-Request": "true"},
    )
    page = response.get_data(as_text=True)
    assert "<details" in page and " open" in page and "กรุณาระบุเหตุผลที่ยกเลิกโครงการ" in page
    assert "hx-swap-oob" not in page


def test_only_the_tambons_facilitator_or_an_admin_may_update(app, client, demo_plan):
    (g2,) = place(demo_plan, ["2"])
    url = f"/plans/{demo_plan.id}/followup/{g2.id}"
    data = {f"p{g2.id}-status": "sent", f"p{g2.id}-seen_status": "none"}
    assert client.post(url, data=data).status_code == 401
    from planapp.models import Tambon

    other = Tambon(name="อื่น", district="กุดรัง", province="มหาสารคาม")
    db.session.add(other)
    db.session.commit()
    make_user("stranger", "facilitator", tambons=[other])
    client.login("stranger")
    assert client.post(url, data=data).status_code == 403
    assert client.get(f"/plans/{demo_plan.id}/followup").status_code == 403
    # Without the CSRF token nothing is saved either.
    make_user("boss", "admin")
    client.post("/logout")
    client.login("boss")
    assert client.post(url, data=data, csrf=False).status_code == 400
    db.session.refresh(g2)
    assert g2.followup_status == "none"
    assert client.post(url, data=data).status_code == 302
    db.session.refresh(g2)
    assert g2.followup_status == "sent"
