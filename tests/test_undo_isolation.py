"""Undo touches only its own plan (issue 13, item 2): ids are never handed out again, and a
snapshot naming a row that now belongs to another plan is refused without touching it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from planapp.changes import UndoRefused, project_snapshot, restore_snapshot
from planapp.extensions import db
from planapp.models import ChangeLog, Plan, Project, Tambon, Village
from tests.conftest import make_user
from tests.test_intake_setup import project_form


@pytest.fixture
def two_tambons(app, demo_plan):
    """Plan A (the demo) and plan B of another tambon, each with its own facilitator."""
    tambon = Tambon(name="โนนสูง", district="เมือง", province="ขอนแก่น")
    db.session.add(tambon)
    db.session.flush()
    village = Village(tambon_id=tambon.id, number=1, name="บ้านโนน")
    plan_b = Plan(tambon_id=tambon.id, fiscal_year=demo_plan.fiscal_year)
    db.session.add_all([village, plan_b])
    db.session.commit()
    make_user("faca", "facilitator", tambons=[demo_plan.tambon])
    make_user("facb", "facilitator", tambons=[tambon])
    facilitator_a, facilitator_b = app.test_client(), app.test_client()
    facilitator_a.login("faca")
    facilitator_b.login("facb")
    return demo_plan, plan_b, facilitator_a, facilitator_b


def add_project(client, plan: Plan, title: str) -> int:
    village = plan.tambon.villages[0]
    response = client.post(
        f"/plans/{plan.id}/villages/{village.id}/projects/new",
        data=project_form(title=title, village_ids=[village.id]),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalar(
        select(Project.id).where(Project.plan_id == plan.id, Project.title == title)
    )


def undo(client, plan: Plan):
    db.session.expire_all()
    return client.post(f"/plans/{plan.id}/undo", data={"version": plan.version})


def plan_state(plan: Plan) -> dict:
    """Everything of a plan an undo elsewhere must leave alone: its projects, version, log."""
    db.session.expire_all()
    projects = db.session.scalars(select(Project).where(Project.plan_id == plan.id)).all()
    return {
        "projects": {p.id: project_snapshot(p) for p in projects},
        "version": db.session.get(Plan, plan.id).version,
        "log": db.session.scalar(
            select(func.count()).select_from(ChangeLog).where(ChangeLog.plan_id == plan.id)
        ),
    }


def test_undo_after_another_tambon_created_a_project_leaves_it_alone(two_tambons):
    plan_a, plan_b, facilitator_a, facilitator_b = two_tambons
    # A adds a project (the highest id so far) and deletes it again.
    deleted_id = add_project(facilitator_a, plan_a, "ถนนของตำบล ก")
    assert facilitator_a.post(f"/plans/{plan_a.id}/projects/{deleted_id}/delete").status_code == 302
    # B adds one: SQLite without AUTOINCREMENT would hand out the deleted id again.
    b_id = add_project(facilitator_b, plan_b, "บ่อน้ำของตำบล ข")
    assert b_id != deleted_id
    b_before = plan_state(plan_b)

    # A's first undo brings A's project back, in A, with its own values.
    assert undo(facilitator_a, plan_a).status_code == 200
    assert plan_state(plan_b) == b_before
    restored = db.session.get(Project, deleted_id)
    assert restored.plan_id == plan_a.id and restored.title == "ถนนของตำบล ก"
    assert restored.villages == [plan_a.tambon.villages[0]]

    # A's second undo takes back A's create: A's project goes, B's stays as it was.
    assert undo(facilitator_a, plan_a).status_code == 200
    assert db.session.get(Project, deleted_id) is None
    assert plan_state(plan_b) == b_before
    assert db.session.get(Project, b_id).title == "บ่อน้ำของตำบล ข"


def test_a_snapshot_naming_another_plans_project_is_refused_and_touches_nothing(two_tambons):
    """A database from before AUTOINCREMENT may already have handed an id out twice: undo
    refuses such an entry instead of writing into the other plan."""
    plan_a, plan_b, facilitator_a, _facilitator_b = two_tambons
    deleted_id = add_project(facilitator_a, plan_a, "ถนนของตำบล ก")
    facilitator_a.post(f"/plans/{plan_a.id}/projects/{deleted_id}/delete")
    # The id reused in plan B, as SQLite did before the migration.
    db.session.add(Project(id=deleted_id, plan=plan_b, title="ของ ข", funding_group="1", rank=1))
    db.session.commit()
    a_before, b_before = plan_state(plan_a), plan_state(plan_b)

    response = undo(facilitator_a, plan_a)
    assert response.status_code == 409
    assert "โครงการที่การเปลี่ยนแปลงนี้เกี่ยวข้องเป็นของแผนอื่นแล้ว" in response.get_data(as_text=True)
    assert plan_state(plan_b) == b_before
    assert plan_state(plan_a) == a_before
    entry = db.session.scalar(
        select(ChangeLog).where(ChangeLog.plan_id == plan_a.id).order_by(ChangeLog.id.desc())
    )
    assert entry.action == "delete" and entry.undone is False


def test_restoring_relations_takes_only_this_tambons_villages(two_tambons):
    plan_a, plan_b, _a, _b = two_tambons
    project = plan_a.projects[0]
    own = plan_a.tambon.villages[1]
    foreign = plan_b.tambon.villages[0]
    restore_snapshot(plan_a, {"projects": {str(project.id): {"village_ids": [own.id, foreign.id]}}})
    db.session.commit()
    assert project.villages == [own]


def test_a_merge_into_another_plans_project_is_refused(two_tambons):
    plan_a, plan_b, _a, _b = two_tambons
    project = plan_a.projects[0]
    stranger = Project(plan=plan_b, title="ของ ข", funding_group="1", rank=1)
    db.session.add(stranger)
    db.session.commit()
    with pytest.raises(UndoRefused):
        restore_snapshot(
            plan_a, {"projects": {str(project.id): {"merged_into_id": stranger.id, "rank": None}}}
        )
    db.session.rollback()
    assert db.session.get(Project, project.id).merged_into_id is None
