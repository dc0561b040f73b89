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

import functools
from dataclasses import dataclass, field

from sqlalchemy import Integer, bindparam, case, func, literal, or_, select, update

from planapp.cards import Card, on_board, plan_cards
from planapp.changes import Regions, bump_version, record_change, register_restorer
from planapp.domain import GROUPS
from planapp.extensions import db
from planapp.forum.history import describe_move
from planapp.meeting.groups import ensure_move_allowed, plan_groups
from planapp.models import ChangeLog, Plan, Project, User, board_places, projects_table

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


class Conflict(Exception):
    """Another device placed the moved card or its anchor since this tablet's version (or took
    the anchor off the board): the move would land somewhere the facilitator did not see."""

    def __init__(self, project_ids: set[int], groups: set[str]):
        super().__init__(f"cards {sorted(project_ids)} were moved meanwhile")
        self.project_ids = project_ids
        self.groups = groups


@dataclass
class MoveResult:
    project: Project | None  # the ORM object (the panel's moves); None on the board's path
    from_group: str
    from_rank: int | None
    to_group: str
    to_rank: int
    before_id: int | None
    changed_groups: list[str] = field(default_factory=list)
    entry: ChangeLog | None = None
    # The board's path: the moved card as it now looks, and the changed columns' totals.
    card: Card | None = None
    regions: Regions | None = None


@dataclass
class Place:
    group: str
    rank: int | None
    placed_version: int


@dataclass
class BoardStats:
    """Every column's size and highest rank, and where the asked-about cards are, from one read
    of the (plan, group, rank) index alone."""

    counts: dict[str, int]  # rows, merged (rank NULL) ones included
    ranked: dict[str, int]
    top: dict[str, int]
    places: dict[int, Place]

    def dense(self, plan: Plan, groups) -> bool:
        """Every one of `groups` ranked exactly 1..n (so a move can shift ranges). A column
        with rows without a rank asks once more: merged projects (off the board) do not count,
        an active card without a rank (a straggler) must be placed by renumbering."""
        for g in groups:
            ranked, top = self.ranked.get(g, 0), self.top.get(g, 0)
            if ranked != top or top >= SHIFT_OFFSET:
                return False
        unranked = [g for g in groups if self.counts.get(g, 0) != self.ranked.get(g, 0)]
        if unranked:
            stragglers = db.session.scalar(
                select(func.count())
                .select_from(Project)
                .where(*on_board(plan.id), Project.funding_group.in_(unranked))
                .where(Project.rank.is_(None))
            )
            return not stragglers
        return True


@functools.cache
def _stats_statement():
    """Built once: every column's count, ranked count and highest rank, and the place and stamp
    of two cards (:x, :y; -1 for none)."""
    BP = board_places.c
    columns = [BP.funding_group, func.count(), func.count(BP.rank), func.max(BP.rank)]
    for name in ("x", "y"):
        mine = BP.project_id == bindparam(name, type_=Integer)
        columns += [
            func.max(case((mine, 1))),
            func.max(case((mine, BP.rank))),
            func.max(case((mine, BP.placed_version))),
        ]
    return (
        select(*columns)
        .where(BP.plan_id == bindparam("plan", type_=Integer))
        .group_by(BP.funding_group)
    )


def board_stats(plan: Plan, ids) -> BoardStats:
    """Count, ranked count and highest rank of every column, and the place and stamp of each
    card of `ids` (at most two: the moved card and its anchor), in one statement that reads
    only the board's (plan, group, rank) index and the two cards' rows."""
    x, y = (list(ids) + [None, None])[:2]
    rows = db.session.execute(
        _stats_statement(),
        {"plan": plan.id, "x": -1 if x is None else x, "y": -1 if y is None else y},
    ).all()
    stats = BoardStats({}, {}, {}, {})
    for group, count, ranked, top, *found in rows:
        stats.counts[group], stats.ranked[group], stats.top[group] = count, ranked, top or 0
        for index, pid in enumerate((x, y)):
            here, rank, stamp = found[3 * index : 3 * index + 3]
            if here and pid is not None:
                stats.places[pid] = Place(group, rank, stamp)
    return stats


def load_columns(plan: Plan, groups) -> dict[str, list[int]]:
    """The projects of `groups` in board order (rank, then id for any unranked stragglers)."""
    return _load_places(plan, groups)[0]


def _load_places(plan: Plan, groups) -> tuple[dict[str, list[int]], dict[int, tuple]]:
    """Columns in board order, and every loaded project's stored (group, rank)."""
    columns: dict[str, list[int]] = {group: [] for group in groups}
    stored: dict[int, tuple] = {}
    rows = db.session.execute(
        select(Project.id, Project.funding_group, Project.rank)
        .where(*on_board(plan.id), Project.funding_group.in_(list(groups)))
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
    *,
    actor: User | None,
) -> MoveResult:
    """Move a card on the board in one transaction, logged as one complete change (the caller
    commits). `seen_version` is the plan version the tablet had caught up to: the move is
    refused (Conflict) only if the card itself or its anchor (`before_id`, the card it now sits
    above) was placed by another move since; other changes to the plan, even in the same
    column, do not stand in its way. Raises InvalidMove for a request that names the wrong
    cards, GroupLocked when the move touches a confirmed group (planapp/meeting).

    Statements: the version bump (the plan's write lock: moves run one after the other), one
    read of every column's size with the two cards' places, the card itself, two updates for
    the shift, one more for feasibility when the card enters or leaves "not feasible", the
    change-log row."""
    if group not in GROUPS:
        raise InvalidMove(f"unknown group {group!r}")
    if before_id == project_id:
        raise InvalidMove("a project cannot sit above itself")
    version = bump_version(plan)
    stats = board_stats(plan, [project_id, before_id])
    here = stats.places.get(project_id)
    anchor = stats.places.get(before_id) if before_id is not None else None
    if here is None or (here.rank is None and not _is_on_board(plan, project_id)):
        raise InvalidMove(f"project {project_id} is not on this board")
    if seen_version is not None:
        moved = {
            pid
            for pid, place in ((project_id, here), (before_id, anchor))
            if place is not None and place.placed_version > seen_version
        }
        if before_id is not None and anchor is None:
            moved.add(before_id)  # the anchor left the board (merged, deleted)
        if moved:
            groups = {here.group, group} | ({anchor.group} if anchor else set())
            raise Conflict(moved, groups)
    if before_id is not None and (
        anchor is None
        or anchor.group != group
        or (anchor.rank is None and not _is_on_board(plan, before_id))
    ):
        raise InvalidMove(f"project {before_id} is not in group {group}")
    # A confirmed group is locked (planapp/meeting): raises rules.GroupLocked.
    ensure_move_allowed(plan, here.group, group)
    card = plan_cards(plan.id, [project_id])[0]
    changed_groups = sorted({here.group, group}, key=GROUPS.index)
    feasibility = _feasibility_after_move(card, here.group, group)
    if here.rank is not None and stats.dense(plan, changed_groups):
        to_rank, before, after, shifts = _shift_plan(here, group, anchor, stats, project_id)
        _write_move(plan, project_id, here.group, group, to_rank, shifts, version, feasibility)
        before_snapshot, after_snapshot = {"projects": before}, {"projects": after}
        # The shifted rows are kept as ranges, not one entry per row: a move in a long column
        # logs (and undo replays) a few numbers. See `restore_ranks`.
        before_snapshot["ranks"] = {"project_id": project_id, "shifts": _inverse(shifts)}
        after_snapshot["ranks"] = {"project_id": project_id, "shifts": shifts}
    else:
        # Gaps (a merge, an import) or stragglers: renumber row by row, which heals them.
        to_rank, before, after = _renumber_plan(plan, project_id, here.group, group, before_id)
        write_places(plan, after)
        _stamp(plan, project_id, version, feasibility)
        before_snapshot, after_snapshot = {"projects": before}, {"projects": after}
    key = str(project_id)
    if feasibility:
        before[key].update(
            {"feasibility": card.feasibility, "feasibility_reason": card.feasibility_reason}
        )
        after[key].update(feasibility)
    summary = describe_move(card.title, before[key], after[key])
    changed = {project_id} if feasibility else set()
    # The columns' heads: their count and budget change when the card changes column; inside
    # a column only a budget cut line can move (planapp/meeting).
    groups = set(changed_groups)
    row = plan_groups(plan).get(group)
    if here.group == group and (row is None or row.ceiling_satang is None):
        groups = set()
    regions = Regions(moved={project_id}, groups=groups, cards=changed, edited=changed)
    entry = record_change(
        plan,
        "move",
        actor=actor,
        project_id=project_id,
        summary=summary,
        before=before_snapshot,
        after=after_snapshot,
        regions=regions,
        version=version,
        stamped=True,
        write_now=True,  # the change-log row, written once, complete
    )
    moved_card = card._replace(funding_group=group, rank=to_rank, **(feasibility or {}))
    return MoveResult(
        project=None,
        from_group=here.group,
        from_rank=here.rank,
        to_group=group,
        to_rank=to_rank,
        before_id=before_id,
        changed_groups=changed_groups,
        entry=entry,
        card=moved_card,
        regions=regions,
    )


def _is_on_board(plan: Plan, project_id: int) -> bool:
    """A card without a rank: merged away (off the board), or a straggler still on it."""
    return (
        db.session.scalar(select(Project.id).where(Project.id == project_id, *on_board(plan.id)))
        is not None
    )


def _board_project(plan: Plan, project_id: int) -> Project:
    project = db.session.get(Project, project_id)
    if project is None or project.plan_id != plan.id or project.merged_into_id is not None:
        raise InvalidMove(f"project {project_id} is not on this board")
    return project


def relocate(plan: Plan, project: Project, group: str) -> tuple[MoveResult, dict, dict]:
    """Put a project at the end of `group` (the panel: its feasibility decides its column) and
    renumber what that touches; returns the result and the before/after snapshots of every row
    whose place changed. The caller logs the change (its regions name the card as moved)."""
    db.session.flush()
    stats = board_stats(plan, [project.id])
    here = stats.places[project.id]
    # A confirmed group is locked (planapp/meeting): raises rules.GroupLocked.
    ensure_move_allowed(plan, here.group, group)
    changed_groups = sorted({here.group, group}, key=GROUPS.index)
    if here.rank is not None and stats.dense(plan, changed_groups):
        to_rank, before, after, shifts = _shift_plan(here, group, None, stats, project.id)
        _lift_and_place(plan, project.id, here.group, group, to_rank, shifts)
        before_snapshot, after_snapshot = {"projects": before}, {"projects": after}
        before_snapshot["ranks"] = {"project_id": project.id, "shifts": _inverse(shifts)}
        after_snapshot["ranks"] = {"project_id": project.id, "shifts": shifts}
    else:
        to_rank, before, after = _renumber_plan(plan, project.id, here.group, group, None)
        write_places(plan, after)
        before_snapshot, after_snapshot = {"projects": before}, {"projects": after}
    db.session.expire(project)
    result = MoveResult(
        project=project,
        from_group=here.group,
        from_rank=here.rank,
        to_group=group,
        to_rank=to_rank,
        before_id=None,
        changed_groups=changed_groups,
    )
    return result, before_snapshot, after_snapshot


# A column ranked 1..n moves by shifting ranges of ranks in the database (two set-based
# UPDATEs, whatever the column's length). Ranges go through this offset, above any real rank, so
# the unique (plan, group, rank) constraint never sees two rows on one rank mid-statement. The
# shifts write only `board_places` (project, plan, group, rank, stamps: a few bytes a row), never
# the wide `projects` rows, so a long shift writes few pages.
SHIFT_OFFSET = 1_000_000
PLACE_FIELDS = ("funding_group", "rank", "placed_version", "edited_version")


def _shift_plan(here: Place, group: str, anchor: Place | None, stats: BoardStats, project_id):
    """The new rank, snapshots and rank shifts of a move between columns ranked 1..n."""
    from_group, from_rank = here.group, here.rank
    if anchor is None:
        to_rank = stats.ranked.get(group, 0) + (0 if group == from_group else 1)
    else:
        above_self = group == from_group and from_rank < anchor.rank
        to_rank = anchor.rank - 1 if above_self else anchor.rank
    if group == from_group:
        if to_rank < from_rank:
            shifts = [(group, to_rank, from_rank - 1, 1)]
        else:
            shifts = [(group, from_rank + 1, to_rank, -1)]
    else:
        shifts = [(from_group, from_rank + 1, stats.ranked.get(from_group, 0), -1)]
        shifts.append((group, to_rank, stats.ranked.get(group, 0), 1))
    shifts = [list(shift) for shift in shifts if shift[1] <= shift[2]]
    key = str(project_id)
    before = {key: {"funding_group": from_group, "rank": from_rank}}
    after = {key: {"funding_group": group, "rank": to_rank}}
    return to_rank, before, after, shifts


def _inverse(shifts: list[list]) -> list[list]:
    """The shifts that take the rows back: each range from where it went, by the opposite step."""
    return [[name, low + delta, high + delta, -delta] for name, low, high, delta in shifts]


def _in_ranges(plan: Plan, shifts):
    """One condition a range, each whole on the (plan, group, rank) index, so that their OR
    reads the ranges only, not the plan's every row."""
    places = board_places.c
    return [
        (places.plan_id == plan.id)
        & (places.funding_group == name)
        & places.rank.between(low, high)
        for name, low, high, _delta in shifts
    ]


def _step(shifts):
    places = board_places.c
    steps = {name: delta for name, _low, _high, delta in shifts}
    if len(steps) <= 1:
        return literal(next(iter(steps.values()), 0))
    return case(steps, value=places.funding_group, else_=0)


@functools.cache
def _move_statements():
    """Built once, the two statements of a move (up to two shifted ranges, :g1 and :g2; an
    empty group name matches nothing; a stamp left None keeps the card's own): lift the moved
    card and the ranges above the offset, each condition whole on the (plan, group, rank)
    index; bring them all down at once, the ranges by their step and the card to its new
    place, group and stamps."""
    places = board_places.c

    def number(name):
        return bindparam(name, type_=Integer)

    mine = places.project_id == number("x")
    ranges = [
        (places.plan_id == number("plan"))
        & (places.funding_group == bindparam(f"g{i}"))
        & places.rank.between(number(f"l{i}"), number(f"h{i}"))
        for i in (1, 2)
    ]
    lift = update(board_places).where(or_(mine, *ranges)).values(rank=places.rank + SHIFT_OFFSET)
    step = case(
        (places.funding_group == bindparam("g1"), number("d1")),
        (places.funding_group == bindparam("g2"), number("d2")),
        else_=0,
    )
    down = (
        update(board_places)
        .where(
            places.plan_id == number("plan"),
            places.funding_group.in_([bindparam("from_group"), bindparam("g1"), bindparam("g2")]),
            places.rank > SHIFT_OFFSET,
        )
        .values(
            rank=case((mine, number("to_rank")), else_=places.rank - SHIFT_OFFSET + step),
            funding_group=case((mine, bindparam("to_group")), else_=places.funding_group),
            placed_version=case(
                (mine, func.coalesce(number("placed"), places.placed_version)),
                else_=places.placed_version,
            ),
            edited_version=case(
                (mine, func.coalesce(number("edited"), places.edited_version)),
                else_=places.edited_version,
            ),
        )
    )
    return lift, down


def _lift_and_place(
    plan: Plan,
    project_id: int,
    from_group: str,
    group: str,
    to_rank: int,
    shifts,
    stamps: dict | None = None,
) -> None:
    """The move's two statements (see `_move_statements`)."""
    stamps = stamps or {}
    params = {
        "plan": plan.id,
        "x": project_id,
        "from_group": from_group,
        "to_group": group,
        "to_rank": to_rank,
        "placed": stamps.get("placed_version"),
        "edited": stamps.get("edited_version"),
    }
    for i, (name, low, high, delta) in enumerate([*shifts, ["", 0, -1, 0], ["", 0, -1, 0]][:2], 1):
        params.update({f"g{i}": name, f"l{i}": low, f"h{i}": high, f"d{i}": delta})
    lift, down = _move_statements()
    db.session.execute(lift, params)
    db.session.execute(down, params)


def _write_move(
    plan: Plan, project_id, from_group, group, to_rank, shifts, version, feasibility
) -> None:
    stamps = {"placed_version": version}
    if feasibility:
        stamps["edited_version"] = version
        _write_rows([{"_id": project_id, **feasibility}])
    _lift_and_place(plan, project_id, from_group, group, to_rank, shifts, stamps)


def _stamp(plan: Plan, project_id: int, version: int, feasibility: dict | None) -> None:
    stamps = {"placed_version": version}
    if feasibility:
        stamps["edited_version"] = version
        _write_rows([{"_id": project_id, **feasibility}])
    _write_rows([{"_id": project_id, **stamps}])


def _shift_ranges(plan: Plan, shifts) -> None:
    """Lift each range above the offset, then bring them all down to their new ranks in one
    statement. (Rows without a rank, as merged projects are, never match a range.)"""
    if not shifts:
        return
    places = board_places.c
    db.session.execute(
        update(board_places)
        .where(or_(*_in_ranges(plan, shifts)))
        .values(rank=places.rank + SHIFT_OFFSET)
    )
    db.session.execute(
        update(board_places)
        .where(
            places.plan_id == plan.id,
            places.funding_group.in_(sorted({name for name, *_range in shifts})),
            places.rank > SHIFT_OFFSET,
        )
        .values(rank=places.rank - SHIFT_OFFSET + _step(shifts))
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


def _renumber_plan(plan: Plan, project_id: int, from_group: str, group: str, before_id):
    """The general move: load both columns, place the project, renumber every row whose stored
    rank differs from its position (this also heals gaps left by merges or imports)."""
    columns, stored = _load_places(plan, {from_group, group})
    new_columns = place(columns, project_id, group, before_id)
    new_places = ranks(new_columns)
    touched = {pid for pid, where in new_places.items() if stored[pid] != where}
    touched.add(project_id)  # dropped where it was: still logged, with identical snapshots
    before = {
        str(pid): {"funding_group": stored[pid][0], "rank": stored[pid][1]} for pid in touched
    }
    after = {
        str(pid): {"funding_group": new_places[pid][0], "rank": new_places[pid][1]}
        for pid in touched
    }
    return new_places[project_id][1], before, after


def _feasibility_after_move(card: Card, from_group: str, to_group: str) -> dict | None:
    if to_group == NOT_FEASIBLE_GROUP and card.feasibility != "not_feasible":
        return {"feasibility": "not_feasible"}
    if from_group == NOT_FEASIBLE_GROUP and to_group != NOT_FEASIBLE_GROUP:
        if card.feasibility == "not_feasible" or card.feasibility_reason:
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


def renumber(plan: Plan) -> None:
    """Make every column's ranks 1..n again (after imports or merges that left gaps)."""
    columns, stored = _load_places(plan, GROUPS)
    states = {
        str(pid): {"rank": where[1]}
        for pid, where in ranks(columns).items()
        if stored[pid] != where
    }
    write_places(plan, states)
