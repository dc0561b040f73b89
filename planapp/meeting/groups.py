"""Votes, budget ceilings, and confirming (locking) a funding group: the database side.

Every change goes through `record_change` with before/after snapshots. Group rows and the plan's
agreed time live under the snapshot key "meeting" (see `restore_meeting`), so undo puts back a
confirmation, an unlock or a ceiling like any other change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from planapp.cards import on_board
from planapp.changes import Regions, record_change, register_restorer
from planapp.domain import FUNDING_GROUPS, GROUP_SHORT_LABELS
from planapp.extensions import db
from planapp.intake.values import ValueRefused, arabic_digits, parse_whole_number
from planapp.meeting import rules
from planapp.models import Plan, PlanGroup, Project, User, board_places, utcnow


class MeetingError(ValueError):
    """A request the rules refuse; `message` is shown to the facilitator as is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- group rows ---------------------------------------------------------------------------


def plan_groups(plan: Plan) -> dict[str, PlanGroup]:
    """The plan's three funding-group rows (a group without a row gets a new one, not saved
    until a change adds it). Read once per transaction, or taken from the plan when it was
    loaded with them (`Plan.groups`): every column, lock check and cut line of a request shares
    the same rows, and a change made to one is seen by the rest of the request."""
    known = db.session.info.setdefault(PLAN_GROUPS, {})
    rows = known.get(plan.id)
    if rows is None:
        loaded = plan.__dict__.get("groups")
        if loaded is None:
            loaded = db.session.scalars(select(PlanGroup).where(PlanGroup.plan_id == plan.id))
        rows = {row.funding_group: row for row in loaded}
        for group in FUNDING_GROUPS:
            if group not in rows:
                rows[group] = PlanGroup(plan_id=plan.id, funding_group=group)
        known[plan.id] = rows
    return rows


PLAN_GROUPS = "planapp.plan_groups"


@event.listens_for(Session, "after_transaction_end")
def _forget_plan_groups(session, *_args) -> None:
    session.info.pop(PLAN_GROUPS, None)


def confirmed_groups(plan: Plan) -> set[str]:
    return {group for group, row in plan_groups(plan).items() if row.confirmed_at is not None}


def ensure_move_allowed(plan: Plan, from_group: str, to_group: str) -> None:
    """The board's move and edit paths call this before changing a project's group or rank:
    raises rules.GroupLocked when the move touches a confirmed group."""
    rules.check_move(confirmed_groups(plan), from_group, to_group)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _meeting_snapshot(plan: Plan, groups: list[str]) -> dict:
    rows = plan_groups(plan)
    return {
        "groups": {
            group: {
                "ceiling_satang": rows[group].ceiling_satang,
                "confirmed_at": _iso(rows[group].confirmed_at),
                "confirmed_by_id": rows[group].confirmed_by_id,
            }
            for group in groups
        },
        "agreed_at": _iso(plan.agreed_at),
    }


def restore_meeting(plan: Plan, state: dict) -> None:
    """Undo's way back for the "meeting" part of a snapshot (group rows, agreed time, the
    forum record and attendance)."""
    from planapp.meeting.record import restore_record

    rows = plan_groups(plan)
    for group, values in state.get("groups", {}).items():
        row = rows[group]
        row.ceiling_satang = values.get("ceiling_satang")
        confirmed_at = values.get("confirmed_at")
        row.confirmed_at = datetime.fromisoformat(confirmed_at) if confirmed_at else None
        row.confirmed_by_id = values.get("confirmed_by_id")
        db.session.add(row)
    if "agreed_at" in state:
        agreed = state["agreed_at"]
        plan.agreed_at = datetime.fromisoformat(agreed) if agreed else None
    if "record" in state:
        restore_record(plan, state["record"])


register_restorer("meeting", restore_meeting)


# --- columns ------------------------------------------------------------------------------


def column_cards(plan: Plan, group: str) -> list[Project]:
    """The active projects of one column in board order."""
    return list(
        db.session.scalars(
            select(Project)
            .where(*on_board(plan.id), Project.funding_group == group)
            .order_by(Project.rank.is_(None), Project.rank, Project.id)
        )
    )


@dataclass
class GroupStatus:
    """What a column shows about its group: ceiling, running total, cut line, confirmation."""

    group: str
    line: rules.BudgetLine
    confirmed_at: datetime | None
    confirmed_by: str
    cut_before_id: int | None  # the card the cut line sits just above

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


def group_status(plan: Plan, group: str, cards: list[Project] | None = None) -> GroupStatus:
    """The budget line and confirmation of one column (cards in board order, loaded if None)."""
    if cards is None:
        cards = column_cards(plan, group)
    row = plan_groups(plan).get(group)
    ceiling = row.ceiling_satang if row is not None else None
    line = rules.budget_line([card.budget_satang for card in cards], ceiling)
    return GroupStatus(
        group=group,
        line=line,
        confirmed_at=row.confirmed_at if row is not None else None,
        confirmed_by=row.confirmed_by.name if row is not None and row.confirmed_by else "",
        cut_before_id=cards[line.cut_at].id if line.cut_at is not None else None,
    )


def group_statuses(plan: Plan) -> dict[str, GroupStatus]:
    """Status of every board column; only the funding groups have ceilings and confirmation."""
    return {group: group_status(plan, group) for group in FUNDING_GROUPS}


# --- votes --------------------------------------------------------------------------------


def parse_votes(text: str) -> int:
    """Votes as typed: Thai or Western digits, thousands separators (`๒๕`, `1,500`)."""
    try:
        votes = parse_whole_number(text)
    except ValueRefused:
        votes = None
    if votes is None:
        raise MeetingError(_("Type the number of votes as a whole number, 0 or more."))
    if votes > rules.MAX_VOTES:
        raise MeetingError(_("That is more votes than a forum can have."))
    return votes


def set_votes(plan: Plan, project: Project, votes: int, *, actor: User | None) -> Project:
    """Record a project's vote count from the hall (typed, or + / − one)."""
    if votes < 0:
        raise MeetingError(_("Votes cannot go below 0."))
    if votes > rules.MAX_VOTES:
        raise MeetingError(_("That is more votes than a forum can have."))
    if votes == project.votes:
        return project
    key = str(project.id)
    before = {"projects": {key: {"votes": project.votes}}}
    record_change(
        plan,
        "votes",
        actor=actor,
        project=project,
        regions=Regions(cards={project.id}),
        before=before,
        after={"projects": {key: {"votes": votes}}},
    )
    project.votes = votes
    return project


def order_group_by_votes(plan: Plan, group: str, *, actor: User | None) -> list[int]:
    """Reorder a column by votes (ties keep their order): a proposal the facilitator then
    adjusts by drag. One undoable change; refused on a confirmed group."""
    rules.check_move(confirmed_groups(plan), group, group)
    cards = column_cards(plan, group)
    order = rules.order_by_votes([(card.id, card.votes) for card in cards])
    new_rank = {pid: rank for rank, pid in enumerate(order, 1)}
    changed = [card for card in cards if card.rank != new_rank[card.id]]
    if not changed:
        return order
    record_change(
        plan,
        "order_by_votes",
        actor=actor,
        # The column is sent whole; its reordered cards count as placed (a tablet that had not
        # seen the new order is refused when it moves one of them).
        regions=Regions(columns={group}, moved={card.id for card in changed}),
        details={"group": group},
        before={"projects": {str(c.id): {"rank": c.rank} for c in changed}},
        after={"projects": {str(c.id): {"rank": new_rank[c.id]} for c in changed}},
    )
    # Clear the touched ranks first: the unique (plan, group, rank) never sees a clash.
    ids = [card.id for card in changed]
    db.session.execute(
        update(board_places).where(board_places.c.project_id.in_(ids)).values(rank=None)
    )
    db.session.execute(update(Project), [{"id": c.id, "rank": new_rank[c.id]} for c in changed])
    for card in changed:
        db.session.expire(card)
    return order


# --- ceilings -----------------------------------------------------------------------------


def parse_baht(text: str) -> int | None:
    """A ceiling typed in baht ("1,500,000", "๑,๕๐๐,๐๐๐" or "1500000.50") as satang; empty
    means none."""
    cleaned = arabic_digits(text or "").replace(",", "").replace(" ", "").strip()
    if not cleaned:
        return None
    whole, _dot, fraction = cleaned.partition(".")
    if not whole.isdecimal() or (fraction and (not fraction.isdecimal() or len(fraction) > 2)):
        raise MeetingError(_("Type the ceiling in baht, for example 1,500,000."))
    if len(whole) > 13:
        raise MeetingError(_("That ceiling is too large."))
    satang = int(whole) * 100 + int((fraction or "0").ljust(2, "0"))
    if satang > 10**15:
        raise MeetingError(_("That ceiling is too large."))
    return satang


def set_ceiling(plan: Plan, group: str, ceiling_satang: int | None, *, actor: User | None) -> None:
    if group not in FUNDING_GROUPS:
        raise MeetingError(_("Only groups 1, 2 and 3 have a budget ceiling."))
    row = plan_groups(plan)[group]
    if row.ceiling_satang == ceiling_satang:
        return
    before = {"meeting": _meeting_snapshot(plan, [group])}
    entry = record_change(
        plan,
        "budget_ceiling",
        actor=actor,
        details={"group": group},
        before=before,
        regions=Regions(groups={group}),  # the head's total against it, and the cut line
    )
    row.ceiling_satang = ceiling_satang
    db.session.add(row)
    db.session.flush()
    entry.after = {"meeting": _meeting_snapshot(plan, [group])}


# --- confirm and lock ---------------------------------------------------------------------


class OverCeiling(MeetingError):
    """A group over its budget ceiling is confirmed only when the facilitator says so."""

    def __init__(self, group: str, over_satang: int):
        from planapp.formatting import baht

        super().__init__(
            _(
                "%(group)s is %(amount)s baht over its budget ceiling. Tick “Confirm over the "
                "ceiling” to confirm it as it is, or move projects out of it first.",
                group=GROUP_SHORT_LABELS[group],
                amount=baht(over_satang),
            )
        )
        self.over_satang = over_satang


def confirm_group(
    plan: Plan,
    group: str,
    seen_version: int | None = None,
    *,
    actor: User | None,
    over_ceiling: bool = False,
) -> None:
    """The hall agrees a group's order: lock it. With all three confirmed the plan is agreed.
    `seen_version` makes sure the order locked is the one the facilitator saw. A group over its
    budget ceiling is refused (OverCeiling) unless `over_ceiling`: the facilitator confirmed it
    over the ceiling on purpose, and the minutes say by how much."""
    if group not in FUNDING_GROUPS:
        raise MeetingError(_("Only groups 1, 2 and 3 can be confirmed."))
    row = plan_groups(plan)[group]
    if row.confirmed_at is not None:
        raise MeetingError(_("This group is already confirmed."))
    line = group_status(plan, group).line
    if line.over and not over_ceiling:
        raise OverCeiling(group, line.over_by)
    details = {"group": group}
    if line.over:
        details.update(over_satang=line.over_by, total_satang=line.total)
    before = {"meeting": _meeting_snapshot(plan, [group])}
    entry = record_change(
        plan,
        "group_confirmed",
        actor=actor,
        regions=Regions(columns={group}),  # locked: the column changes as a whole
        details=details,
        before=before,
        seen_version=seen_version,
    )
    row.confirmed_at = utcnow()
    row.confirmed_by_id = actor.id if actor else None
    db.session.add(row)
    db.session.flush()
    if rules.all_groups_confirmed(confirmed_groups(plan)):
        plan.agreed_at = row.confirmed_at
    after = _meeting_snapshot(plan, [group])
    # The order that was agreed, for the minutes (not used by undo).
    after["order"] = [card.id for card in column_cards(plan, group)]
    entry.after = {"meeting": after}


def unlock_group(plan: Plan, group: str, *, actor: User | None) -> None:
    if group not in FUNDING_GROUPS:
        raise MeetingError(_("Only groups 1, 2 and 3 can be confirmed."))
    row = plan_groups(plan)[group]
    if row.confirmed_at is None:
        raise MeetingError(_("This group is not confirmed."))
    before = {"meeting": _meeting_snapshot(plan, [group])}
    entry = record_change(
        plan,
        "group_unlocked",
        actor=actor,
        regions=Regions(columns={group}),
        details={"group": group},
        before=before,
    )
    row.confirmed_at = None
    row.confirmed_by_id = None
    plan.agreed_at = None  # no longer agreed as a whole
    db.session.flush()
    entry.after = {"meeting": _meeting_snapshot(plan, [group])}
