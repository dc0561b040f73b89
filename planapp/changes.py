"""Every saved change to a plan goes through here: it bumps the plan version (refusing a change
made on a stale view), writes the change log, and announces the new version to live views once
the transaction has committed."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from planapp import live
from planapp.accounts import current_user
from planapp.extensions import db
from planapp.models import ChangeLog, Plan, Project


class StaleVersion(Exception):
    """The change was made on a view older than the plan: refuse it, send the fresh state."""

    def __init__(self, current_version: int):
        super().__init__(f"plan is at version {current_version}")
        self.current_version = current_version


def bump_version(plan: Plan, seen_version: int | None = None) -> int:
    """Atomically increase the plan's version. With `seen_version`, only if nobody changed the
    plan since that version. The UPDATE also takes the plan's write lock, so concurrent changes to
    one plan run one after another."""
    conditions = [Plan.id == plan.id]
    if seen_version is not None:
        conditions.append(Plan.version == seen_version)
    new_version = db.session.execute(
        update(Plan).where(*conditions).values(version=Plan.version + 1).returning(Plan.version)
    ).scalar()
    if new_version is None:
        db.session.refresh(plan)
        raise StaleVersion(plan.version)
    # Keep the loaded object in step without marking it dirty.
    set_committed_value(plan, "version", new_version)
    return new_version


def record_change(
    plan: Plan,
    action: str,
    *,
    summary: str = "",
    project: Project | None = None,
    before: dict | None = None,
    after: dict | None = None,
    seen_version: int | None = None,
) -> ChangeLog:
    """Bump the version and log the change; the caller commits. Raises StaleVersion."""
    version = bump_version(plan, seen_version)
    user = current_user()
    entry = ChangeLog(
        plan_id=plan.id,
        user_id=user.id if user else None,
        action=action,
        project_id=project.id if project is not None else None,
        summary=summary,
        before=before,
        after=after,
        plan_version=version,
    )
    db.session.add(entry)
    live.publish_after_commit(plan.id, version)
    return entry
