"""Every saved change to a plan goes through here: it bumps the plan version (refusing a change
made on a stale view), writes the change log, and announces the new version to live views once
the transaction has committed.

A change names the regions it touched (`Regions`): the cards placed anew, the cards shown anew,
the columns whose heads changed, and other named parts (the step bar, the timer, the whole
screen). Every live view (the tablets' boards, the projector, the phones) reads them from the
change log and sends only those regions, rendered by name."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, bindparam, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

from planapp import live
from planapp.extensions import db
from planapp.models import (
    Agency,
    ChangeLog,
    Plan,
    Project,
    Strategy,
    User,
    Village,
    board_places,
    projects_table,
    utcnow,
)

# Named parts a change can touch besides cards and columns:
# - "steps": the forum's step bar; "timer": the presentation countdown;
# - "control": the facilitator's screen control (what the projector shows, public or not);
# - "screen": the projector's and phones' whole screen (a mode, pause, message, address...);
# - "turnout": a vote round's turnout and totals (a ballot cast, planapp/ballots).
PARTS = ("steps", "timer", "control", "screen", "turnout")


@dataclass
class Regions:
    """What one change (or a run of changes) touched, in the words every view's regions use.
    `everything` (stored as NULL) means any region may have changed: views render whole."""

    moved: set[int] = field(default_factory=set)  # cards placed anew (a move of their own)
    cards: set[int] = field(default_factory=set)  # cards whose content changed
    edited: set[int] = field(default_factory=set)  # ...of which the forum's decisions
    groups: set[str] = field(default_factory=set)  # columns whose head (count, budget) changed
    columns: set[str] = field(default_factory=set)  # columns shown anew whole (lock, reorder)
    parts: set[str] = field(default_factory=set)  # PARTS
    undid: set[int] = field(default_factory=set)  # change-log entries an undo marked undone
    everything: bool = False

    def __or__(self, other: Regions) -> Regions:
        return Regions(
            *(getattr(self, name) | getattr(other, name) for name in _REGION_SETS),
            everything=self.everything or other.everything,
        )

    def to_json(self) -> dict | None:
        if self.everything:
            return None
        return {name: sorted(getattr(self, name)) for name in _REGION_SETS if getattr(self, name)}

    @classmethod
    def from_json(cls, value: dict | None) -> Regions:
        if value is None:
            return cls(everything=True)
        return cls(*(set(value.get(name, ())) for name in _REGION_SETS))


_REGION_SETS = ("moved", "cards", "edited", "groups", "columns", "parts", "undid")


class StaleVersion(Exception):
    """The change was made on a view older than the plan: refuse it, send the fresh state."""

    def __init__(self, current_version: int):
        super().__init__(f"plan is at version {current_version}")
        self.current_version = current_version


def bump_version(plan: Plan, seen_version: int | None = None) -> int:
    """Atomically increase the plan's version. With `seen_version`, only if nobody changed the
    plan since that version. The UPDATE also takes the plan's write lock, so concurrent changes to
    one plan run one after another."""
    db.session.flush()  # what the caller changed so far goes first, as an ORM update's would
    params = {"plan": plan.id}
    if seen_version is not None:
        params["seen"] = seen_version
    new_version = db.session.execute(_bump_statement(seen_version is not None), params).scalar()
    if new_version is None:
        db.session.refresh(plan)
        raise StaleVersion(plan.version)
    # Keep the loaded object in step without marking it dirty.
    set_committed_value(plan, "version", new_version)
    return new_version


@functools.cache
def _bump_statement(checked: bool):
    """Built once (every change runs it): a statement on the table, not the ORM's update,
    which costs several times more to run for one row."""
    plans = Plan.__table__.c
    query = update(Plan.__table__).where(plans.id == bindparam("plan", type_=Integer))
    if checked:
        query = query.where(plans.version == bindparam("seen", type_=Integer))
    return query.values(version=plans.version + 1).returning(plans.version)


def record_change(
    plan: Plan,
    action: str,
    *,
    actor: User | None,
    summary: str = "",
    details: dict | None = None,
    project: Project | None = None,
    project_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
    regions: Regions | None = None,
    seen_version: int | None = None,
    version: int | None = None,
    stamped: bool = False,
    write_now: bool = False,
) -> ChangeLog:
    """Log the change made by `actor` (None: the system); the caller commits. Bumps the version
    first unless the caller already did (`version`, from `bump_version`: a change that must
    hold the plan's write lock while it reads, then logs itself complete in one row).
    `regions` None: the change may have touched anything. The cards it placed or edited get
    its version as their stamp (see `stamp_cards`), unless the caller wrote them (`stamped`).
    `details`: what the change did as codes and numbers, worded when shown (in the reader's
    language, planapp/forum/history.py); `summary` is only for what cannot be worded later.
    `write_now`: the change is complete: its row is inserted at once, in one statement, and the
    entry returned is a plain copy (not in the session). Raises StaleVersion."""
    if version is None:
        version = bump_version(plan, seen_version)
    if regions is not None and not stamped:
        stamp_cards(plan, regions, version)
    values = dict(
        plan_id=plan.id,
        user_id=actor.id if actor is not None else None,
        action=action,
        project_id=project.id if project is not None else project_id,
        summary=summary,
        details=details,
        before=before,
        after=after,
        plan_version=version,
        regions=(regions or Regions(everything=True)).to_json(),
    )
    if write_now:
        values.update(at=utcnow(), undone=False)
        values["id"] = db.session.execute(_log_insert(), values).scalar_one()
        entry = ChangeLog(**values)
    else:
        entry = ChangeLog(**values)
        db.session.add(entry)
    if actor is not None:
        set_committed_value(entry, "user", actor)  # the history names them without a query
    live.publish_after_commit(plan.id, version)
    if action not in SUMMARY_LEFT_BEHIND:
        summary_due(plan.id, version)
    return entry


@functools.cache
def _log_insert():
    """Built once: the change-log row written whole (its columns are the parameters')."""
    table = ChangeLog.__table__
    return insert(table).returning(table.c.id)


# Session.info key: {plan id: version} of the plans whose roll-up summary is written again
# before the transaction commits (planapp/district/summaries.py).
SUMMARIES_DUE = "summaries_due"
# Changes that leave the plan's summary at its older version: a move keeps to its ten SQL
# statements (issue 14), and a forum moves cards hundreds of times. Meanwhile the roll-ups
# count that plan from its projects (a summary of another version is never used); the next
# other change of the plan (a panel save, a group confirmed, follow-up) writes it again.
SUMMARY_LEFT_BEHIND = {"move"}


def summary_due(plan_id: int, version: int) -> None:
    """The plan's roll-up figures may have changed: count them again at commit, in the same
    transaction, as of this version."""
    due = db.session.info.setdefault(SUMMARIES_DUE, {})
    due[plan_id] = max(version, due.get(plan_id, 0))


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


class UndoRefused(Exception):
    """The snapshot names a project that now belongs to another plan (its id was handed out
    again before ids stopped being reused): nothing is touched."""

    message = _l("This change cannot be undone: a project it touched now belongs to another plan.")


def _ensure_own_projects(plan: Plan, projects: dict) -> None:
    """Every project the snapshot names, and every project it merges into, is this plan's or
    does not exist; else UndoRefused, before anything is written."""
    ids = {int(key) for key in projects}
    ids.update(
        state["merged_into_id"]
        for state in projects.values()
        if state and state.get("merged_into_id") is not None
    )
    if not ids:
        return
    foreign = db.session.scalar(
        select(projects_table.c.id)
        .where(projects_table.c.id.in_(ids), projects_table.c.plan_id != plan.id)
        .limit(1)
    )
    if foreign is not None:
        raise UndoRefused()


def _own_rows(model, plan: Plan) -> tuple:
    """Conditions for the rows of `model` a project of `plan` may link to: its tambon's
    villages; agencies and strategies are shared by every tambon."""
    if model is Village:
        return (Village.tambon_id == plan.tambon_id,)
    return ()


def restore_snapshot(plan: Plan, snapshot: dict) -> None:
    """Put the projects (and plan fields) back as the snapshot says, in one flush-safe way:
    ranks are cleared first so the unique (group, rank) constraint never sees a transient clash.
    Other areas' parts (registered restorers) go first: the board's rank shifts must be undone
    before the moved project takes its old rank back. Only ever this plan's rows: a snapshot
    naming another plan's project is refused (UndoRefused) before anything is written."""
    _ensure_own_projects(plan, snapshot.get("projects", {}))
    for key, restore in SNAPSHOT_RESTORERS.items():
        if key in snapshot:
            restore(plan, snapshot[key])
    projects = snapshot.get("projects", {})
    own = db.session.scalars(
        select(Project).where(
            Project.id.in_([int(key) for key in projects]), Project.plan_id == plan.id
        )
    ).all()
    loaded = {str(project.id): project for project in own}
    for key, state in projects.items():
        project = loaded.setdefault(key, None)
        if project is not None and state is not None and "rank" in state:
            project.rank = None
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
                items = db.session.scalars(
                    select(model).where(model.id.in_(value), *_own_rows(model, plan))
                ).all()
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


def undo_last_change(
    plan: Plan, *, actor: User | None, seen_version: int | None = None
) -> tuple[ChangeLog, ChangeLog]:
    """Revert the plan's latest change that is not yet undone (pressing again goes further back),
    whoever made it; returns (the change undone, the undo). The undo itself is logged as a
    change, touching the regions the undone change touched, and is never itself undone by the
    next undo. With several tablets, `seen_version` (the version the tablet had caught up to)
    refuses the undo only when the change it would revert is one that tablet has not yet seen
    (StaleVersion): changes it has seen, or that undo skips, do not stand in its way."""
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
    if seen_version is not None and entry.plan_version > seen_version:
        db.session.refresh(plan)
        raise StaleVersion(plan.version)
    version = bump_version(plan)
    restore_snapshot(plan, entry.before)
    regions = Regions.from_json(entry.regions)
    regions.undid.add(entry.id)
    entry.undone = True
    undo_entry = record_change(
        plan,
        "undo",
        actor=actor,
        summary=entry.summary,
        details={"undid": entry.action, **(entry.details or {})},
        project_id=entry.project_id,
        before=entry.after,
        after=entry.before,
        regions=regions,
        version=version,
    )
    return entry, undo_entry


def stamp_cards(plan: Plan, regions: Regions, version: int) -> None:
    """Mark the cards a change placed or edited with its version (board_places' stamps), so a
    tablet that had not seen it is refused when it moves or edits the same card."""
    for column, ids in (("placed_version", regions.moved), ("edited_version", regions.edited)):
        if ids:
            db.session.execute(
                update(board_places)
                .where(board_places.c.plan_id == plan.id, board_places.c.project_id.in_(ids))
                .values({column: version})
            )
