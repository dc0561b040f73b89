"""Moves, renumbering and grouping of the board: where each project sits.

The pure part works on plain lists of project ids, one list per board column in rank order, so
it can be tested (and property-tested) without a database. The database part loads only the
columns a move touches, writes only the rows whose place changed, and logs the change through
`record_change` with before/after snapshots so that undo can put every touched row back.

Rules (design brief, step 3 and 4):
- ranks inside a column are always 1..n, no gaps, no duplicates (a move heals earlier gaps);
- a move is relative: the project, its target column, and the card it now sits above
  (`before_id`; None puts it at the end of the column);
- moving into "not-feasible" marks the project not feasible (the panel asks for the reason);
  moving it out again means the forum reconsiders it: feasibility goes back to "pending" and the
  old reason is cleared (undo brings both back).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, case, func, literal, select, update

from planapp.changes import record_change, register_restorer
from planapp.domain import GROUPS
from planapp.extensions import db
from planapp.meeting.groups import ensure_move_allowed
from planapp.models import ChangeLog, Plan, Project, board_places, projects_table

NOT_FEASIBLE_GROUP = "not-feasible"


class InvalidMove(ValueError):
    """The move names a project or neighbour that is not where the request says it is."""


# --- the pure part ------------------------------------------------------------------------


def place(
    columns: dict[str, list[int]], project_id: int, group: str, before_id: int | None
) -> dict[str, list[int]]:
    """The columns after moving `project_id` into `group` just above `before_id` (None: at the
    end). Returns new lists for the columns that the move touches; the input is not changed."""
    if group not in GROUPS:
        raise InvalidMove(f"unknown group {group!r}")
    source = next((name for name, ids in columns.items() if project_id in ids), None)
    if source is None:
        raise InvalidMove(f"project {project_id} is not on the board")
    if before_id == project_id:
        raise InvalidMove("a project cannot sit above itself")
    changed = {source: [pid for pid in columns[source] if pid != project_id]}
    target = changed.get(group, list(columns.get(group, [])))
    if before_id is None:
        target.append(project_id)
    else:
        if before_id not in target:
            raise InvalidMove(f"project {before_id} is not in group {group}")
        target.insert(target.index(before_id), project_id)
    changed[group] = target
    return changed


def ranks(columns: dict[str, list[int]]) -> dict[int, tuple[str, int]]:
    """Every project's (group, rank): its position in its column, counted from 1."""
    return {
        pid: (group, position)
        for group, ids in columns.items()
        for position, pid in enumerate(ids, 1)
    }


# --- the database part --------------------------------------------------------------------


@dataclass
class MoveResult:
    project: Project
    from_group: str
    from_rank: int | None
    to_group: str
    to_rank: int
    before_id: int | None
    changed_groups: list[str] = field(default_factory=list)
    entry: ChangeLog | None = None


def load_columns(plan: Plan, groups) -> dict[str, list[int]]:
    """The projects of `groups` in board order (rank, then id for any unranked stragglers)."""
    return _load_places(plan, groups)[0]


def _load_places(plan: Plan, groups) -> tuple[dict[str, list[int]], dict[int, tuple]]:
    """Columns in board order, and every loaded project's stored (group, rank)."""
    columns: dict[str, list[int]] = {group: [] for group in groups}
    stored: dict[int, tuple] = {}
    rows = db.session.execute(
        select(Project.id, Project.funding_group, Project.rank)
        .where(
            Project.plan_id == plan.id,
            Project.merged_into_id.is_(None),
            Project.funding_group.in_(list(groups)),
        )
        .order_by(Project.rank.is_(None), Project.rank, Project.id)
    ).all()
    for pid, group, rank in rows:
        columns[group].append(pid)
        stored[pid] = (group, rank)
    return columns, stored


def move_project(
    plan: Plan,
    project_id: int,
    group: str,
    before_id: int | None,
    seen_version: int | None,
) -> MoveResult:
    """Move a project on the board in one transaction (the caller commits and may set the
    change's summary). Raises StaleVersion when the plan changed since `seen_version`,
    InvalidMove for a request that names the wrong projects, GroupLocked when the move touches a
    confirmed group (planapp/meeting)."""
    project = _board_project(plan, project_id)
    if group not in GROUPS:
        raise InvalidMove(f"unknown group {group!r}")
    # The version bump comes first: it takes the plan's write lock, so two tablets' moves run
    # one after the other and the second sees the first's ranks (or is refused as stale).
    entry = record_change(plan, "move", project=project, seen_version=seen_version)
    result, entry.before, entry.after = relocate(plan, project, group, before_id)
    result.entry = entry
    return result


def _board_project(plan: Plan, project_id: int) -> Project:
    project = db.session.get(Project, project_id)
    if project is None or project.plan_id != plan.id or project.merged_into_id is not None:
        raise InvalidMove(f"project {project_id} is not on this board")
    return project


def relocate(
    plan: Plan, project: Project, group: str, before_id: int | None, follow_feasibility=True
) -> tuple[MoveResult, dict, dict]:
    """Put the project at its new place and renumber the touched columns; returns the result
    and the before/after snapshots of every row whose place (or feasibility) changed."""
    db.session.flush()
    db.session.refresh(project)
    from_group, from_rank = project.funding_group, project.rank
    # A confirmed group is locked (planapp/meeting): raises rules.GroupLocked.
    ensure_move_allowed(plan, from_group, group)
    if before_id == project.id:
        raise InvalidMove("a project cannot sit above itself")
    sizes = _dense_sizes(plan, {from_group, group})
    if sizes is not None and from_rank is not None:
        to_rank, before, after, shifts = _shift_plan(plan, project, group, before_id, sizes)
    else:
        to_rank, before, after, shifts = _renumber_plan(plan, project, group, before_id)
    feasibility = follow_feasibility and _feasibility_after_move(project, from_group, group)
    if feasibility:
        key = str(project.id)
        before[key].update(
            {name: getattr(project, name) for name in ("feasibility", "feasibility_reason")}
        )
        after[key].update(feasibility)
    before_snapshot, after_snapshot = {"projects": before}, {"projects": after}
    if shifts is None:
        write_places(plan, after)
    else:
        _write_shifts(plan, project.id, shifts, after[str(project.id)])
        # The shifted rows are kept as ranges, not one entry per row: a move in a long column
        # logs (and undo replays) a few numbers. See `restore_ranks`.
        before_snapshot["ranks"] = {"project_id": project.id, "shifts": _inverse(shifts)}
        after_snapshot["ranks"] = {"project_id": project.id, "shifts": shifts}
    db.session.expire(project)
    result = MoveResult(
        project=project,
        from_group=from_group,
        from_rank=from_rank,
        to_group=group,
        to_rank=to_rank,
        before_id=before_id,
        changed_groups=sorted({from_group, group}, key=GROUPS.index),
    )
    return result, before_snapshot, after_snapshot


# A column ranked 1..n moves by shifting ranges of ranks in the database (a few set-based
# UPDATEs, whatever the column's length). Ranges go through this offset, above any real rank, so
# the unique (plan, group, rank) constraint never sees two rows on one rank mid-statement. The
# shifts write only `board_places` (project, plan, group, rank: a few bytes a row), never the
# wide `projects` rows, so a long shift writes few pages.
SHIFT_OFFSET = 1_000_000
PLACE_FIELDS = ("funding_group", "rank")


def _active(plan: Plan) -> tuple:
    return (Project.plan_id == plan.id, Project.merged_into_id.is_(None))


def _dense_sizes(plan: Plan, groups) -> dict[str, int] | None:
    """The length of each of `groups`, if every one is ranked exactly 1..n; else None.

    Read from the (plan, group, rank) index alone: ranks are unique and positive, so a column
    whose ranked rows number as many as its highest rank holds exactly 1..n. Merged projects
    have no rank (intake/projects.py); only rows without a rank are looked up in `projects`, to
    tell merged ones from active stragglers that a renumbering must place."""
    sizes = {name: 0 for name in groups}
    unranked = []
    rows = db.session.execute(
        select(
            board_places.c.funding_group,
            func.count(),
            func.count(board_places.c.rank),
            func.max(board_places.c.rank),
        )
        .where(board_places.c.plan_id == plan.id, board_places.c.funding_group.in_(list(groups)))
        .group_by(board_places.c.funding_group)
    ).all()
    for name, count, ranked, high in rows:
        if ranked != (high or 0) or ranked >= SHIFT_OFFSET:
            return None
        if count != ranked:
            unranked.append(name)
        sizes[name] = ranked
    if unranked:
        stragglers = db.session.scalar(
            select(func.count())
            .select_from(Project)
            .where(*_active(plan), Project.funding_group.in_(unranked), Project.rank.is_(None))
        )
        if stragglers:
            return None
    return sizes


def _shift_plan(plan: Plan, project: Project, group: str, before_id, sizes):
    """The new rank, snapshots and rank shifts of a move between columns ranked 1..n."""
    from_group, from_rank = project.funding_group, project.rank
    if before_id is None:
        to_rank = sizes[group] + (0 if group == from_group else 1)
    else:
        neighbour = db.session.execute(
            select(Project.funding_group, Project.rank).where(
                Project.id == before_id, *_active(plan)
            )
        ).first()
        if neighbour is None or neighbour.funding_group != group:
            raise InvalidMove(f"project {before_id} is not in group {group}")
        above_self = group == from_group and from_rank < neighbour.rank
        to_rank = neighbour.rank - 1 if above_self else neighbour.rank
    if group == from_group:
        if to_rank < from_rank:
            shifts = [(group, to_rank, from_rank - 1, 1)]
        else:
            shifts = [(group, from_rank + 1, to_rank, -1)]
    else:
        shifts = [(from_group, from_rank + 1, sizes[from_group], -1)]
        shifts.append((group, to_rank, sizes[group], 1))
    shifts = [list(shift) for shift in shifts if shift[1] <= shift[2]]
    key = str(project.id)
    before = {key: {"funding_group": from_group, "rank": from_rank}}
    after = {key: {"funding_group": group, "rank": to_rank}}
    return to_rank, before, after, shifts


def _inverse(shifts: list[list]) -> list[list]:
    """The shifts that take the rows back: each range from where it went, by the opposite step."""
    return [[name, low + delta, high + delta, -delta] for name, low, high, delta in shifts]


def _shift_ranges(plan: Plan, shifts) -> None:
    """Lift each range above the offset, then bring them all down to their new ranks in one
    statement. (Rows without a rank, as merged projects are, never match a range.)"""
    if not shifts:
        return
    places = board_places.c
    for name, low, high, _delta in shifts:
        db.session.execute(
            update(board_places)
            .where(
                places.plan_id == plan.id,
                places.funding_group == name,
                places.rank.between(low, high),
            )
            .values(rank=places.rank + SHIFT_OFFSET)
        )
    steps = {name: delta for name, _low, _high, delta in shifts}
    if len(steps) == 1:
        step = literal(next(iter(steps.values())))
    else:
        step = case(steps, value=places.funding_group)
    db.session.execute(
        update(board_places)
        .where(
            places.plan_id == plan.id,
            places.funding_group.in_(list(steps)),
            places.rank > SHIFT_OFFSET,
        )
        .values(rank=places.rank - SHIFT_OFFSET + step)
    )


def _clear_rank(project_id: int) -> None:
    db.session.execute(
        update(board_places).where(board_places.c.project_id == project_id).values(rank=None)
    )


def restore_ranks(plan: Plan, state: dict) -> None:
    """Undo's part for a move logged as shifts: take the moved project off its rank and shift
    the ranges back; the "projects" part of the snapshot then puts the project back."""
    db.session.flush()
    _clear_rank(state["project_id"])
    _shift_ranges(plan, state["shifts"])
    db.session.expire_all()


register_restorer("ranks", restore_ranks)


def _write_shifts(plan: Plan, project_id: int, shifts, moved_state: dict) -> None:
    _clear_rank(project_id)
    _shift_ranges(plan, shifts)
    _write_rows([{"_id": project_id, **moved_state}])


def _write_rows(rows: list[dict]) -> None:
    """Set fields of projects by id (`_id`), every row with the same keys: the board's fields go
    to `board_places`, the others (feasibility) to `projects`; one executemany per table."""
    fields = [name for name in rows[0] if name != "_id"]
    for table, key, names in (
        (board_places, board_places.c.project_id, [f for f in fields if f in PLACE_FIELDS]),
        (projects_table, projects_table.c.id, [f for f in fields if f not in PLACE_FIELDS]),
    ):
        if names:
            statement = (
                update(table)
                .where(key == bindparam("_id"))
                .values({name: bindparam(name) for name in names})
            )
            db.session.execute(
                statement, [{"_id": row["_id"], **{n: row[n] for n in names}} for row in rows]
            )


def _renumber_plan(plan: Plan, project: Project, group: str, before_id):
    """The general move: load both columns, place the project, renumber every row whose stored
    rank differs from its position (this also heals gaps left by merges or imports)."""
    columns, stored = _load_places(plan, {project.funding_group, group})
    new_columns = place(columns, project.id, group, before_id)
    new_places = ranks(new_columns)
    touched = {pid for pid, where in new_places.items() if stored[pid] != where}
    touched.add(project.id)  # dropped where it was: still logged, with identical snapshots
    before = {
        str(pid): {"funding_group": stored[pid][0], "rank": stored[pid][1]} for pid in touched
    }
    after = {
        str(pid): {"funding_group": new_places[pid][0], "rank": new_places[pid][1]}
        for pid in touched
    }
    return new_places[project.id][1], before, after, None


def _feasibility_after_move(project: Project, from_group: str, to_group: str) -> dict | None:
    if to_group == NOT_FEASIBLE_GROUP and project.feasibility != "not_feasible":
        return {"feasibility": "not_feasible"}
    if from_group == NOT_FEASIBLE_GROUP and to_group != NOT_FEASIBLE_GROUP:
        if project.feasibility == "not_feasible" or project.feasibility_reason:
            return {"feasibility": "pending", "feasibility_reason": ""}
    return None


def write_places(plan: Plan, states: dict[str, dict]) -> None:
    """Write new group/rank (and other plain fields) for the given projects: first clear their
    ranks, then set the new values, so the unique (plan, group, rank) constraint never sees a
    transient clash. One executemany per set of fields (a move can renumber a long column)."""
    if not states:
        return
    ids = [int(key) for key in states]
    db.session.execute(
        update(board_places)
        .where(board_places.c.plan_id == plan.id, board_places.c.project_id.in_(ids))
        .values(rank=None)
    )
    by_shape: dict[tuple, list[dict]] = {}
    for key, state in states.items():
        by_shape.setdefault(tuple(sorted(state)), []).append({"_id": int(key), **state})
    for rows in by_shape.values():
        _write_rows(rows)


def column_totals(plan: Plan, groups=GROUPS) -> dict[str, dict]:
    """Count and budget (satang) of the active projects in each of `groups`."""
    totals = {group: {"count": 0, "budget": 0} for group in groups}
    rows = db.session.execute(
        select(
            Project.funding_group, func.count(), func.coalesce(func.sum(Project.budget_satang), 0)
        )
        .where(
            Project.plan_id == plan.id,
            Project.merged_into_id.is_(None),
            Project.funding_group.in_(list(groups)),
        )
        .group_by(Project.funding_group)
    ).all()
    for group, count, budget in rows:
        totals[group] = {"count": count, "budget": int(budget)}
    return totals


def renumber(plan: Plan) -> None:
    """Make every column's ranks 1..n again (after imports or merges that left gaps)."""
    columns, stored = _load_places(plan, GROUPS)
    states = {
        str(pid): {"rank": where[1]}
        for pid, where in ranks(columns).items()
        if stored[pid] != where
    }
    write_places(plan, states)
