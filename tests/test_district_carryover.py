"""Copying last year's plan into a new fiscal year: unfinished projects carried over (unsorted,
pointing back), finished and rejected ones left behind, the profile copied."""

from __future__ import annotations

from sqlalchemy import select

from planapp.extensions import db
from planapp.models import ChangeLog, Plan, Project, Tambon
from tests.conftest import make_user
from tests.district_helpers import place


def setup_last_year(plan):
    """Place the demo projects and give them every kind of ending."""
    projects = place(plan, ["1", "2", "3", "3", "3", "not-feasible", "2"])
    g1, g2, g3_done, g3_dropped, g3_budget, _not_feasible, g2_merged = projects
    g3_done.followup_status = "done"
    g3_dropped.followup_status = "dropped"
    g3_dropped.followup_note = "ซ้ำกับโครงการของ อบจ."
    g3_budget.followup_status = "in_budget"
    g3_budget.budget_ordinance_satang, g3_budget.budget_ordinance_year = 10_000_000, 2571
    g2_merged.merged_into_id = g2.id
    g2_merged.rank = None
    g1.strategies = []
    db.session.commit()
    return projects


def test_carry_over_copies_unfinished_projects_and_the_profile(facilitator_client, demo_plan):
    projects = setup_last_year(demo_plan)
    g1, g2, g3_done, g3_dropped, g3_budget, not_feasible, g2_merged = projects
    unsorted_ids = {
        p.id for p in demo_plan.projects if p.funding_group == "unsorted"
    }  # never placed by the forum: still unfinished, so carried over too
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/carry-over", data={"fiscal_year": "2571"}
    )
    assert response.status_code == 302
    new_plan = db.session.scalar(
        select(Plan).where(Plan.tambon_id == demo_plan.tambon_id, Plan.fiscal_year == 2571)
    )
    assert response.headers["Location"].endswith(f"/plans/{new_plan.id}")
    assert new_plan.identity == demo_plan.identity and new_plan.identity
    assert new_plan.key_problems == demo_plan.key_problems
    assert new_plan.sdgs == demo_plan.sdgs and new_plan.national_strategy
    # The demo's five-year local plan (2566-2570) ends before 2571: a new one starts.
    assert demo_plan.plan_start_year == 2566 and new_plan.plan_start_year == 2571
    carried = db.session.scalars(
        select(Project).where(Project.plan_id == new_plan.id).order_by(Project.rank)
    ).all()
    sources = {p.carried_over_from_id for p in carried}
    assert sources == {g1.id, g2.id, g3_budget.id} | unsorted_ids
    assert not sources & {g3_done.id, g3_dropped.id, not_feasible.id, g2_merged.id}
    assert all(p.funding_group == "unsorted" and p.feasibility == "pending" for p in carried)
    assert [p.rank for p in carried] == list(range(1, len(carried) + 1))
    assert all(p.followup_status == "none" and p.urgency is None for p in carried)
    copy = next(p for p in carried if p.carried_over_from_id == g3_budget.id)
    assert (copy.title, copy.budget_satang, copy.objective) == (
        g3_budget.title,
        g3_budget.budget_satang,
        g3_budget.objective,
    )
    assert copy.village_numbers == g3_budget.village_numbers
    assert copy.budget_ordinance_satang is None
    # The old plan is untouched; the new one logged its creation.
    db.session.refresh(g3_budget)
    assert g3_budget.followup_status == "in_budget" and g3_budget.plan_id == demo_plan.id
    entry = db.session.scalar(select(ChangeLog).where(ChangeLog.plan_id == new_plan.id))
    assert entry.action == "carry_over" and new_plan.version == 1
    assert set(entry.after["projects"]) == {str(p.id) for p in carried}
    # Shown as carried over: the plan's flash, and the mark on the follow-up rows.
    page = facilitator_client.get(f"/plans/{new_plan.id}").get_data(as_text=True)
    assert f"ยกโครงการที่ยังไม่แล้วเสร็จมาจากปี 2570 จำนวน {len(carried)} โครงการ" in page
    page = facilitator_client.get(f"/plans/{new_plan.id}/followup").get_data(as_text=True)
    assert f'data-carried-over="{len(carried)}"' in page
    assert page.count("(ยกมาจากปีงบประมาณ 2570)") == len(carried)


def test_carry_over_refuses_a_bad_or_taken_year_and_creates_nothing(facilitator_client, demo_plan):
    url = f"/plans/{demo_plan.id}/carry-over"
    for bad, message in (
        ("2569", "ระหว่าง 2571 ถึง 2575"),
        ("", "ระหว่าง 2571 ถึง 2575"),
        ("2O71", "ระหว่าง 2571 ถึง 2575"),
        ("2570", "ระหว่าง 2571 ถึง 2575"),
    ):
        response = facilitator_client.post(url, data={"fiscal_year": bad})
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert message in page and 'id="fiscal_year-errors"' in page
    assert db.session.scalar(select(db.func.count()).select_from(Plan)) == 1
    assert facilitator_client.post(url, data={"fiscal_year": "2571"}).status_code == 302
    response = facilitator_client.post(url, data={"fiscal_year": "2571"})
    assert response.status_code == 422
    assert "มีแผนปีงบประมาณ 2571 อยู่แล้ว" in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(Plan)) == 2


def test_carry_over_is_for_the_tambons_facilitator_or_an_admin(client, demo_plan):
    other = Tambon(name="อื่น", district="กุดรัง", province="มหาสารคาม")
    db.session.add(other)
    db.session.commit()
    make_user("stranger", "facilitator", tambons=[other])
    client.login("stranger")
    url = f"/plans/{demo_plan.id}/carry-over"
    assert client.post(url, data={"fiscal_year": "2571"}).status_code == 403
    client.post("/logout")
    make_user("boss", "admin")
    client.login("boss")
    assert client.post(url, data={"fiscal_year": "2571"}).status_code == 302
