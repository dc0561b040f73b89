"""A village's projects: add, edit, delete, reorder in the village's own order, merge duplicates
that several villages proposed into one tambon project, and take a merge apart again.

Every function here changes a plan through `record_change` with before/after snapshots, so the
change log says what happened and `undo_last_change` can put it back. The caller commits.
Rules of the board these functions keep:
- a new project enters the "unsorted" column at the end (rank = max + 1);
- a project that leaves a column (deleted, merged away) closes the gap behind it, so ranks stay
  1..n in every column;
- a merged-away project keeps its row (it is still that village's proposal) but leaves the board:
  `merged_into_id` points at the tambon project that keeps it, its rank is NULL.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from planapp.cards import on_board
from planapp.changes import project_snapshot, record_change
from planapp.domain import PROGRAMME_FOR_SECTOR
from planapp.extensions import db
from planapp.i18n import gettext as _
from planapp.intake.values import title_key
from planapp.models import ChangeLog, Plan, Project, User, Village, project_villages

# Fields a person edits through the project form (the forum's own fields are the board's job).
EDITABLE_FIELDS = [
    "title", "rationale", "objective", "target_output", "location", "sector", "programme",
    "budget_satang", "wanted_year", "kpi", "expected_result", "note",
]  # fmt: skip
RANK_FIELDS = ["funding_group", "rank"]


class ProjectRefused(Exception):
    """A change the rules do not allow; the message says why, in the user's words."""


# --- reading --------------------------------------------------------------------------------


def _proposed_by(village: Village):
    """The projects in the village's own list: those it proposed (a project whose proposer is
    not known counts for each of its villages)."""
    return or_(Project.proposed_by_id == village.id, Project.proposed_by_id.is_(None))


def village_projects(plan: Plan, village: Village, *, merged: bool = False) -> list[Project]:
    """The village's projects in its own order (active ones; or with `merged`, the ones it proposed
    that were merged into a tambon project). Joint projects another village proposed are not
    in its order: see `joined_projects`."""
    merged_clause = (
        Project.merged_into_id.is_not(None) if merged else Project.merged_into_id.is_(None)
    )
    return list(
        db.session.scalars(
            _of_village(plan, village)
            .where(merged_clause, _proposed_by(village))
            .order_by(Project.village_rank.is_(None), Project.village_rank, Project.id)
        )
    )


def _of_village(plan: Plan, village: Village):
    """The plan's projects that name the village among their source villages."""
    return (
        select(Project)
        .join(project_villages, project_villages.c.project_id == Project.id)
        .where(Project.plan_id == plan.id, project_villages.c.village_id == village.id)
    )


def joined_projects(plan: Plan, village: Village) -> list[Project]:
    """Active joint projects that another village proposed and this one joins (the tambon
    projects of merges included): shown with the village, ranked in the proposer's list."""
    return list(
        db.session.scalars(
            _of_village(plan, village)
            .where(
                Project.merged_into_id.is_(None),
                Project.proposed_by_id.is_not(None),
                Project.proposed_by_id != village.id,
            )
            .order_by(Project.id)
        )
    )


def village_counts(plan: Plan) -> dict[int, dict]:
    """Per village id: how many active projects and their budget (satang)."""
    rows = db.session.execute(
        select(
            project_villages.c.village_id,
            func.count(),
            func.coalesce(func.sum(Project.budget_satang), 0),
        )
        .join(Project, project_villages.c.project_id == Project.id)
        .where(*on_board(plan.id))
        .group_by(project_villages.c.village_id)
    ).all()
    return {village_id: {"count": count, "budget": budget} for village_id, count, budget in rows}


def next_rank(plan: Plan, group: str) -> int:
    highest = db.session.scalar(
        select(func.max(Project.rank)).where(
            Project.plan_id == plan.id, Project.funding_group == group
        )
    )
    return (highest or 0) + 1


def next_village_rank(plan: Plan, village: Village) -> int:
    highest = db.session.scalar(
        select(func.max(Project.village_rank))
        .join(project_villages, project_villages.c.project_id == Project.id)
        .where(
            Project.plan_id == plan.id,
            project_villages.c.village_id == village.id,
            Project.merged_into_id.is_(None),
            _proposed_by(village),
        )
    )
    return (highest or 0) + 1


def titles_by_village(plan: Plan) -> dict[tuple[int, str], list[Project]]:
    """(village id, title key) -> the plan's projects with that title in that village (merged
    ones too: still that village's proposals). What the import and the project form compare a
    new title with (`values.title_key`)."""
    found: dict[tuple[int, str], list[Project]] = {}
    projects = db.session.scalars(
        select(Project)
        .where(Project.plan_id == plan.id)
        .options(selectinload(Project.villages))
        .order_by(Project.id)
    ).all()
    for project in projects:
        for village in project.villages:
            found.setdefault((village.id, title_key(project.title)), []).append(project)
    return found


def same_title(
    plan: Plan, villages: list[Village], title: str, project: Project | None = None
) -> Village | None:
    """The first of `villages` that already has another project with this title, if any (the
    project itself and the proposals merged into it aside)."""
    existing = titles_by_village(plan)
    for village in villages:
        for other in existing.get((village.id, title_key(title)), []):
            mine = project is not None and project.id in (other.id, other.merged_into_id)
            if not mine:
                return village
    return None


def merged_sources(project: Project) -> list[Project]:
    return list(
        db.session.scalars(
            select(Project).where(Project.merged_into_id == project.id).order_by(Project.id)
        )
    )


# --- snapshots ------------------------------------------------------------------------------


def _snapshots(projects, fields: list[str] | None = None) -> dict[str, dict]:
    return {str(p.id): project_snapshot(p, fields) for p in projects}


def _column(plan: Plan, group: str) -> list[Project]:
    return list(
        db.session.scalars(
            select(Project)
            .where(
                Project.plan_id == plan.id,
                Project.funding_group == group,
                Project.rank.is_not(None),
            )
            .order_by(Project.rank)
        )
    )


def _close_gaps(plan: Plan, groups: set[str]) -> None:
    """Renumber the ranks of the given columns 1..n in their present order. Ranks are cleared
    and flushed first, so the unique (plan, group, rank) constraint never sees a clash."""
    for group in groups:
        column = [p for p in _column(plan, group) if p.merged_into_id is None]
        if all(p.rank == n for n, p in enumerate(column, start=1)):
            continue
        for project in column:
            project.rank = None
        db.session.flush()
        for n, project in enumerate(column, start=1):
            project.rank = n
    db.session.flush()


def _column_snapshots(plan: Plan, groups: set[str]) -> dict[str, dict]:
    """The ranks of every card in these columns: a gap closing may move any of them."""
    found = {}
    for group in groups:
        found.update(_snapshots(_column(plan, group), RANK_FIELDS))
    return found


def _refuse_in_confirmed_group(plan: Plan, projects: list[Project]) -> None:
    """Deleting or merging changes a column: refused in a confirmed (locked) group."""
    from planapp.meeting.groups import ensure_move_allowed
    from planapp.meeting.rules import GroupLocked

    for project in projects:
        try:
            ensure_move_allowed(plan, project.funding_group, project.funding_group)
        except GroupLocked as locked:
            raise ProjectRefused(locked.message) from None


# --- add, edit, delete ----------------------------------------------------------------------


def create_project(
    plan: Plan, villages: list[Village], values: dict, *, actor: User | None
) -> Project:
    """A new proposal of `villages[0]` (and any others), at the end of that village's list and
    at the end of the board's "unsorted" column."""
    if not villages:
        raise ProjectRefused(_("Choose at least one village."))
    # Taking the plan's write lock first makes the max + 1 below safe against a concurrent add.
    entry = record_change(plan, "create", actor=actor)
    values = dict(values)
    if not values.get("programme"):
        values["programme"] = PROGRAMME_FOR_SECTOR.get(values.get("sector", ""), "")
    project = Project(
        plan=plan,
        funding_group="unsorted",
        rank=next_rank(plan, "unsorted"),
        village_rank=next_village_rank(plan, villages[0]),
        villages=list(villages),
        proposed_by=villages[0],
        **values,
    )
    db.session.add(project)
    db.session.flush()
    entry.project_id = project.id
    entry.before = {"projects": {str(project.id): None}}
    entry.after = {"projects": _snapshots([project])}
    return project


def update_project(
    plan: Plan,
    project: Project,
    values: dict,
    villages: list[Village],
    seen_version: int | None = None,
    *,
    actor: User | None,
) -> bool:
    """Save the form's fields and villages; False (and no log entry) when nothing changed."""
    if not villages:
        raise ProjectRefused(_("Choose at least one village."))
    fields = EDITABLE_FIELDS + ["village_ids", "proposed_by_id", "village_rank"]
    before = project_snapshot(project, fields)
    wanted = dict(before, **values, village_ids=sorted(v.id for v in villages))
    if project.proposed_by_id not in wanted["village_ids"]:
        # Its proposing village left it: it joins the list of the first village that remains.
        proposer = min(villages, key=lambda v: v.number)
        wanted["proposed_by_id"] = proposer.id
        wanted["village_rank"] = next_village_rank(plan, proposer)
    if wanted == before:
        return False
    record_change(
        plan,
        "edit",
        actor=actor,
        project=project,
        before={"projects": {str(project.id): before}},
        seen_version=seen_version,
    ).after = {"projects": {str(project.id): wanted}}
    for name, value in values.items():
        setattr(project, name, value)
    project.proposed_by_id = wanted["proposed_by_id"]
    project.village_rank = wanted["village_rank"]
    project.villages = sorted(villages, key=lambda v: v.number)
    db.session.flush()
    return True


def delete_project(
    plan: Plan, project: Project, seen_version: int | None = None, *, actor: User | None
) -> None:
    """Delete a proposal; its column closes the gap. Undo brings it back where it was."""
    if project.merged_into_id is not None:
        raise ProjectRefused(
            _("This project was merged into another one; un-merge it before deleting it.")
        )
    if merged_sources(project):
        raise ProjectRefused(
            _("Other villages' projects are merged into this one; un-merge them first.")
        )
    group = project.funding_group
    _refuse_in_confirmed_group(plan, [project])
    before = _column_snapshots(plan, {group})
    before[str(project.id)] = project_snapshot(project)
    entry = record_change(
        plan,
        "delete",
        actor=actor,
        project=project,
        before={"projects": before},
        seen_version=seen_version,
    )
    entry.project_id = None  # the row goes; the snapshot keeps its id for undo
    deleted_id = str(project.id)
    db.session.delete(project)
    db.session.flush()
    _close_gaps(plan, {group})
    after = _snapshots(
        [db.session.get(Project, int(key)) for key in before if key != deleted_id], RANK_FIELDS
    )
    after[deleted_id] = None
    entry.after = {"projects": after}


def move_within_village(
    plan: Plan,
    village: Village,
    project: Project,
    offset: int,
    seen_version: int | None = None,
    *,
    actor: User | None,
) -> bool:
    """Move a project up (-1) or down (+1) in the village's own order; the list is renumbered
    1..n. False when it is already at that end."""
    items = village_projects(plan, village)
    if project not in items:
        raise ProjectRefused(_("This project is not in this village's list."))
    old = items.index(project)
    new = old + offset
    if new < 0 or new >= len(items):
        return False
    items.insert(new, items.pop(old))
    changed = [p for n, p in enumerate(items, start=1) if p.village_rank != n]
    before = _snapshots(changed, ["village_rank"])
    entry = record_change(
        plan,
        "village_order",
        actor=actor,
        details={"village": village.number, "place": new + 1},
        project=project,
        before={"projects": before},
        seen_version=seen_version,
    )
    for n, item in enumerate(items, start=1):
        item.village_rank = n
    db.session.flush()
    entry.after = {"projects": _snapshots(changed, ["village_rank"])}
    return True


# --- merging duplicates ---------------------------------------------------------------------


def default_merged_budget(projects: list[Project]) -> int:
    """Villages proposing the same thing (one road linking them) usually each price the whole
    thing, so the largest estimate is the default; the user can type another (e.g. the sum)."""
    return max((p.budget_satang for p in projects), default=0)


def merge_projects(
    plan: Plan,
    keeper: Project,
    others: list[Project],
    *,
    title: str,
    budget_satang: int,
    seen_version: int | None = None,
    actor: User | None,
) -> Project:
    """Merge `others` into `keeper`: the keeper becomes the tambon project with every source
    village, the chosen title and budget, at its place on the board; the others leave the board
    (merged_into_id = keeper, rank NULL) so their budgets are not counted twice."""
    others = [p for p in others if p.id != keeper.id]
    if not others:
        raise ProjectRefused(_("Choose at least two projects to merge."))
    for project in [keeper, *others]:
        if project.plan_id != plan.id or project.merged_into_id is not None:
            raise ProjectRefused(_("One of the chosen projects is already merged."))
    for project in others:
        if merged_sources(project):
            raise ProjectRefused(
                _("Merge into the project that already holds the other villages' projects.")
            )
    _refuse_in_confirmed_group(plan, [keeper, *others])
    groups = {p.funding_group for p in others}
    before = _column_snapshots(plan, groups)
    before.update(_snapshots([keeper, *others]))
    entry = record_change(
        plan,
        "merge",
        actor=actor,
        details={"count": len(others) + 1},
        project=keeper,
        before={"projects": before},
        seen_version=seen_version,
    )
    villages = {v.id: v for p in [keeper, *others] for v in p.villages}
    keeper.villages = sorted(villages.values(), key=lambda v: v.number)
    keeper.title = title
    keeper.budget_satang = budget_satang
    for project in others:
        project.rank = None
        project.merged_into_id = keeper.id
    db.session.flush()
    _close_gaps(plan, groups)
    entry.after = {
        "projects": {key: _after(key, before[key]) for key in before},
    }
    return keeper


def _after(key: str, before_state: dict) -> dict:
    return project_snapshot(db.session.get(Project, int(key)), list(before_state))


def unmerge_project(
    plan: Plan, keeper: Project, seen_version: int | None = None, *, actor: User | None
) -> list[Project]:
    """Take a merge apart: every merged-away project returns to the board at the end of its
    column, and the tambon project gets back the title, budget and villages it had before the
    merge (as the change log recorded them)."""
    sources = merged_sources(keeper)
    if not sources:
        raise ProjectRefused(_("No project is merged into this one."))
    fields = ["title", "budget_satang", "village_ids", "merged_into_id", *RANK_FIELDS]
    before = _snapshots([keeper, *sources], fields)
    entry = record_change(
        plan,
        "unmerge",
        actor=actor,
        project=keeper,
        before={"projects": before},
        seen_version=seen_version,
    )
    merge = db.session.scalar(
        select(ChangeLog)
        .where(
            ChangeLog.plan_id == plan.id,
            ChangeLog.action == "merge",
            ChangeLog.project_id == keeper.id,
            ChangeLog.undone.is_(False),
        )
        .order_by(ChangeLog.id.desc())
        .limit(1)
    )
    original = (merge.before or {}).get("projects", {}).get(str(keeper.id)) if merge else None
    if original:
        keeper.title = original["title"]
        keeper.budget_satang = original["budget_satang"]
        kept = set(original["village_ids"])
    else:
        # No record of the merge (e.g. a plan moved between servers): keep the villages that
        # no returning project brings back with it.
        returning = {v.id for p in sources for v in p.villages}
        kept = {v.id for v in keeper.villages if v.id not in returning} or {
            v.id for v in keeper.villages
        }
    keeper.villages = list(
        db.session.scalars(select(Village).where(Village.id.in_(kept)).order_by(Village.number))
    )
    for project in sources:
        project.merged_into_id = None
        project.rank = next_rank(plan, project.funding_group)
        db.session.flush()
    entry.after = {"projects": _snapshots([keeper, *sources], fields)}
    return sources
