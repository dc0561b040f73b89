"""Every saved change to a plan goes through here: it bumps the plan version (refusing a change
made on a stale view), writes the change log, and announces the new version to live views once
the transaction has committed."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from planapp import live
from planapp.accounts import current_user
from planapp.extensions import db
from planapp.models import Agency, ChangeLog, Plan, Project, Strategy, Village


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


# --- snapshots and undo -------------------------------------------------------------------
#
# A change log entry keeps `before` and `after` as snapshots:
#   {"projects": {"<id>": {field: value, ...} | None}, "plan": {field: value, ...}}
# A project snapshot of None means "did not exist" (before a create, after a delete).
# Undo restores `before` for exactly what the change touched. Relations are kept as id lists.

PROJECT_FIELDS = [
    "title", "rationale", "objective", "target_output", "location", "sector", "programme",
    "budget_satang", "wanted_year", "kpi", "expected_result", "village_rank", "proposed_by_id",
    "feasibility", "feasibility_reason", "funding_group", "rank", "urgency", "lead_agency_id",
    "note", "votes", "followup_status", "followup_note", "budget_ordinance_satang",
    "budget_ordinance_year", "merged_into_id", "carried_over_from_id",
]  # fmt: skip
PROJECT_RELATIONS = {
    "village_ids": ("villages", Village),
    "supporting_agency_ids": ("supporting_agencies", Agency),
    "strategy_ids": ("strategies", Strategy),
}


def project_snapshot(project: Project, fields: list[str] | None = None) -> dict:
    """The project's state as plain JSON values (all fields and relations, or just `fields`)."""
    wanted = fields or PROJECT_FIELDS + list(PROJECT_RELATIONS)
    state = {}
    for name in wanted:
        if name in PROJECT_RELATIONS:
            state[name] = sorted(item.id for item in getattr(project, PROJECT_RELATIONS[name][0]))
        elif name == "followup_date":
            value = project.followup_date
            state[name] = value.isoformat() if value else None
        else:
            state[name] = getattr(project, name)
    return state


def restore_snapshot(plan: Plan, snapshot: dict) -> None:
    """Put the projects (and plan fields) back as the snapshot says, in one flush-safe way:
    ranks are cleared first so the unique (group, rank) constraint never sees a transient clash.
    Other areas' parts (registered restorers) go first: the board's rank shifts must be undone
    before the moved project takes its old rank back."""
    for key, restore in SNAPSHOT_RESTORERS.items():
        if key in snapshot:
            restore(plan, snapshot[key])
    projects = snapshot.get("projects", {})
    loaded = {}
    for key, state in projects.items():
        project = db.session.get(Project, int(key))
        if project is not None and state is not None and "rank" in state:
            project.rank = None
        loaded[key] = project
    db.session.flush()
    for key, state in projects.items():
        project = loaded[key]
        if state is None:
            if project is not None:
                db.session.delete(project)
            continue
        if project is None:
            project = Project(id=int(key), plan_id=plan.id, title=state.get("title", ""))
            db.session.add(project)
        for name, value in state.items():
            if name in PROJECT_RELATIONS:
                attribute, model = PROJECT_RELATIONS[name]
                items = db.session.scalars(select(model).where(model.id.in_(value))).all()
                setattr(project, attribute, list(items))
            elif name == "followup_date":
                project.followup_date = date.fromisoformat(value) if value else None
            else:
                setattr(project, name, value)
    for name, value in snapshot.get("plan", {}).items():
        setattr(plan, name, value)
    db.session.flush()


# Other areas keep rows of their own in snapshots under their own key (e.g. "groups" of
# planapp/meeting) and register how to put them back; undo then restores them too.
SNAPSHOT_RESTORERS: dict = {}


def register_restorer(key: str, restore) -> None:
    """`restore(plan, state)` puts back the snapshot's `key` part."""
    SNAPSHOT_RESTORERS[key] = restore


class NothingToUndo(Exception):
    pass


def undo_last_change(plan: Plan, seen_version: int | None = None) -> ChangeLog:
    """Revert the plan's latest change that is not yet undone (pressing again goes further back).
    The undo itself is logged as a change, and is never itself undone by the next undo."""
    entry = db.session.scalar(
        select(ChangeLog)
        .where(
            ChangeLog.plan_id == plan.id,
            ChangeLog.undone.is_(False),
            ChangeLog.action != "undo",
            ChangeLog.before.is_not(None),
        )
        .order_by(ChangeLog.id.desc())
        .limit(1)
    )
    if entry is None:
        raise NothingToUndo()
    undo_entry = record_change(
        plan,
        "undo",
        summary=entry.summary,
        before=entry.after,
        after=entry.before,
        seen_version=seen_version,
    )
    restore_snapshot(plan, entry.before)
    entry.undone = True
    undo_entry.project_id = entry.project_id
    return entry
