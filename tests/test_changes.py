"""The one way to save a change: version bump, stale refusal, change log, snapshot undo."""

import pytest
from sqlalchemy import select

from planapp import live
from planapp.changes import (
    NothingToUndo,
    StaleVersion,
    project_snapshot,
    record_change,
    undo_last_change,
)
from planapp.extensions import db
from planapp.models import ChangeLog, Project


def test_change_bumps_version_logs_and_announces_after_commit(app, demo_plan):
    project = demo_plan.projects[0]
    before = project_snapshot(project, ["title"])
    project.title = "ชื่อใหม่"
    record_change(
        demo_plan,
        "edit",
        actor=None,
        project=project,
        before={"projects": {str(project.id): before}},
    )
    assert live.broker().wait(demo_plan.id, 0, timeout=0) is None  # not before the commit
    db.session.commit()
    assert demo_plan.version == 1
    assert live.broker().wait(demo_plan.id, 0, timeout=0) == 1
    assert db.session.scalar(select(ChangeLog.plan_version)) == 1


def test_stale_change_is_refused_and_changes_nothing(app, demo_plan):
    record_change(demo_plan, "edit", seen_version=0, actor=None)
    db.session.commit()
    with pytest.raises(StaleVersion) as refused:
        record_change(demo_plan, "edit", seen_version=0, actor=None)
    db.session.rollback()
    assert refused.value.current_version == 1
    assert db.session.scalar(select(db.func.count()).select_from(ChangeLog)) == 1


def test_undo_restores_ranks_groups_and_relations_step_by_step(app, demo_plan):
    first, second = demo_plan.projects[0], demo_plan.projects[1]
    keys = ["funding_group", "rank", "village_ids"]

    def snap():
        return {"projects": {str(p.id): project_snapshot(p, keys) for p in (first, second)}}

    original = snap()
    # Change 1: swap the two projects' ranks (a transient clash the restore must survive).
    before = snap()
    first.rank, second.rank = None, None
    db.session.flush()
    first.rank, second.rank = 2, 1
    record_change(demo_plan, "move", before=before, after=snap(), actor=None)
    db.session.commit()
    # Change 2: move the first into group 3 and give it the second's villages.
    before = snap()
    first.funding_group, first.rank = "3", 1
    first.villages = list(second.villages)
    record_change(demo_plan, "move", before=before, after=snap(), actor=None)
    db.session.commit()

    undo_last_change(demo_plan, actor=None)
    db.session.commit()
    assert first.funding_group == "unsorted" and first.rank == 2
    undo_last_change(demo_plan, actor=None)
    db.session.commit()
    assert snap() == original
    with pytest.raises(NothingToUndo):
        undo_last_change(demo_plan, actor=None)


def test_undo_of_a_create_deletes_and_of_a_delete_recreates(app, demo_plan):
    project = Project(plan=demo_plan, title="ใหม่", funding_group="1", rank=1)
    db.session.add(project)
    db.session.flush()
    record_change(
        demo_plan,
        "create",
        actor=None,
        before={"projects": {str(project.id): None}},
        after={"projects": {str(project.id): project_snapshot(project)}},
    )
    db.session.commit()
    project_id = project.id
    undo_last_change(demo_plan, actor=None)
    db.session.commit()
    assert db.session.get(Project, project_id) is None
