"""The minutes (บันทึกการประชุม) of the forum, made from the forum record and the change log:
who was there, the steps with their times, the decisions in the order they were taken, and what
the forum agreed (its groups in order, the projects found not feasible and why, the projects
taken forward by urgency).

The minutes cover the forum itself (`forum_window`): from its start on the step bar (or, when
the step bar was not used, the day of the forum in the record) to its close, when it moved on to
issuing the plan. The village plans typed, imported and merged before the forum are the forum's
material, not its decisions.

A decision is a change-log entry in that window that settled something the minutes must show: a
project placed in a group or moved in its order, a group confirmed (with the order agreed) or
unlocked again, votes, an urgency tier, a lead or supporting agency, a merge made in the hall, a
project found not feasible (and why). Entries that were undone, the undo entries themselves and
new projects are not decisions. Entries are read by what they changed (their `before` and
`after` snapshots), so every area's edits are recognised alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from planapp.ballots.rounds import RoundView, closed_rounds
from planapp.domain import FUNDING_GROUPS, GROUP_LABELS, GROUP_SHORT_LABELS, URGENCY_LABELS
from planapp.extensions import db
from planapp.formatting import baht
from planapp.forum.history import describe
from planapp.meeting import rules
from planapp.meeting.groups import column_cards, plan_groups
from planapp.meeting.record import attendance
from planapp.models import Agency, ChangeLog, Plan, Project, Village
from planapp.taken_forward import TakenForward, taken_forward

DECISION_KINDS = [
    "group_confirmed",
    "group_unlocked",
    "grouping",
    "votes",
    "urgency",
    "agencies",
    "merge",
    "not_feasible",
]
# The forum closes when it moves on to issuing the plan (step 6) and does not come back.
CLOSING_STEP = 6


@dataclass
class Decision:
    entry: ChangeLog
    kinds: list[str]
    lines: list[str] = field(default_factory=list)

    @property
    def at(self) -> datetime:
        return self.entry.at


@dataclass
class StepTime:
    step: int
    at: datetime

    @property
    def label(self) -> str:
        return rules.STEP_LABELS[self.step]


def _changed(before: dict, after: dict, name: str) -> bool:
    return name in after and before.get(name, object()) != after[name]


def _decided_projects(entry: ChangeLog):
    """(project key, before, after) of the projects the entry changed that existed before it:
    a project the entry created (an intake add, an import) decided nothing yet."""
    before_projects = (entry.before or {}).get("projects") or {}
    for key, after in ((entry.after or {}).get("projects") or {}).items():
        before = before_projects.get(key)
        if after and before:
            yield key, before, after


def _placed(entry: ChangeLog, key: str, before: dict, after: dict) -> bool:
    """The entry moved its own project to another group or place (a neighbour's renumbering,
    a merge's gap closing and a move into "not feasible" are told otherwise)."""
    if entry.project_id is None or key != str(entry.project_id) or "merged_into_id" in after:
        return False
    moved = _changed(before, after, "funding_group") or _changed(before, after, "rank")
    return moved and after.get("funding_group", "") != "not-feasible"


def decision_kinds(entry: ChangeLog) -> list[str]:
    """What a change-log entry decided (empty when it decided nothing the minutes list)."""
    if entry.undone or entry.action == "undo":
        return []
    if entry.action == "group_confirmed":
        return ["group_confirmed"]
    if entry.action == "group_unlocked":
        return ["group_unlocked"]
    if entry.action == "order_by_votes":
        return ["votes"]
    kinds: list[str] = []
    for key, before, after in _decided_projects(entry):
        if _placed(entry, key, before, after):
            kinds.append("grouping")
        if _changed(before, after, "votes"):
            kinds.append("votes")
        if _changed(before, after, "merged_into_id") and after["merged_into_id"]:
            kinds.append("merge")
        if (_changed(before, after, "feasibility") and after["feasibility"] == "not_feasible") or (
            _changed(before, after, "feasibility_reason") and after["feasibility_reason"]
        ):
            kinds.append("not_feasible")
        if _changed(before, after, "urgency") and after["urgency"]:
            kinds.append("urgency")
        if _changed(before, after, "lead_agency_id") or _changed(
            before, after, "supporting_agency_ids"
        ):
            kinds.append("agencies")
    return [kind for kind in DECISION_KINDS if kind in kinds]


class _Names:
    """Titles and names by id, loaded once for the whole log."""

    def __init__(self, plan: Plan):
        self.projects = {
            p.id: p for p in db.session.scalars(select(Project).where(Project.plan_id == plan.id))
        }
        self.agencies = dict(db.session.execute(select(Agency.id, Agency.name)).all())

    def title(self, project_id) -> str:
        project = self.projects.get(int(project_id)) if project_id is not None else None
        return project.title if project else _("(project removed)")

    def agency(self, agency_id) -> str:
        return self.agencies.get(agency_id, "—") if agency_id else "—"


def _lines(entry: ChangeLog, kinds: list[str], names: _Names) -> list[str]:
    lines: list[str] = []
    meeting = (entry.after or {}).get("meeting", {})
    if "group_confirmed" in kinds:
        group = next(iter(meeting.get("groups", {})), "")
        order = meeting.get("order", [])
        lines.append(
            _(
                "%(group)s confirmed with %(count)d projects in this order:",
                group=GROUP_SHORT_LABELS.get(group, group),
                count=len(order),
            )
        )
        lines.extend(f"{rank}. {names.title(pid)}" for rank, pid in enumerate(order, 1))
        over = (entry.details or {}).get("over_satang")
        if over:
            ceiling = (meeting.get("groups", {}).get(group) or {}).get("ceiling_satang")
            lines.append(
                _(
                    "Confirmed over its budget ceiling of %(ceiling)s baht by %(amount)s baht.",
                    ceiling=baht(ceiling) if ceiling is not None else "—",
                    amount=baht(over),
                )
            )
        return lines
    if "group_unlocked" in kinds:
        group = next(iter(meeting.get("groups", {})), "")
        return [_("%(group)s unlocked for changes", group=GROUP_SHORT_LABELS.get(group, group))]
    if entry.action == "order_by_votes":
        return [describe(entry)]
    for key, before, after in _decided_projects(entry):
        title = names.title(key)
        if _placed(entry, key, before, after):
            group = after.get("funding_group", before.get("funding_group", ""))
            if group == "unsorted":
                lines.append(_("%(title)s taken back to the unsorted projects", title=title))
            else:
                lines.append(
                    _(
                        "%(title)s placed in %(group)s at place %(place)s",
                        title=title,
                        group=GROUP_SHORT_LABELS.get(group, group),
                        place=after.get("rank") or "—",
                    )
                )
        if _changed(before, after, "votes"):
            lines.append(_("%(title)s: %(votes)s votes", title=title, votes=after["votes"]))
        if _changed(before, after, "merged_into_id") and after["merged_into_id"]:
            lines.append(
                _(
                    "%(title)s merged into %(into)s",
                    title=title,
                    into=names.title(after["merged_into_id"]),
                )
            )
        not_feasible = _changed(before, after, "feasibility") and (
            after["feasibility"] == "not_feasible"
        )
        reason_given = _changed(before, after, "feasibility_reason") and after["feasibility_reason"]
        if not_feasible or reason_given:
            reason = after.get("feasibility_reason") or ""
            if reason:
                lines.append(_("%(title)s not feasible: %(reason)s", title=title, reason=reason))
            else:
                lines.append(_("%(title)s found not feasible", title=title))
        if _changed(before, after, "urgency") and after["urgency"]:
            lines.append(
                _(
                    "%(title)s: urgency %(tier)s",
                    title=title,
                    tier=URGENCY_LABELS.get(after["urgency"], after["urgency"]),
                )
            )
        if _changed(before, after, "lead_agency_id"):
            lines.append(
                _(
                    "%(title)s: lead agency %(agency)s",
                    title=title,
                    agency=names.agency(after["lead_agency_id"]),
                )
            )
        if _changed(before, after, "supporting_agency_ids"):
            supporting = ", ".join(names.agency(a) for a in after["supporting_agency_ids"])
            lines.append(
                _(
                    "%(title)s: supporting agencies %(agencies)s",
                    title=title,
                    agencies=supporting or "—",
                )
            )
    return lines


@dataclass
class ForumWindow:
    """When the forum ran: `start` None when it has not started, `end` None while it has not
    closed (times in UTC, as the change log stores them). Opened and closed on the step bar, the
    window is also the ids of those step entries, so what happened in the same second before
    the opening is still told apart by the log's order."""

    start: datetime | None
    end: datetime | None
    start_id: int | None = None
    end_id: int | None = None

    def holds(self, entry_id: int, at: datetime) -> bool:
        if self.start_id is not None:
            return entry_id >= self.start_id and (self.end_id is None or entry_id <= self.end_id)
        if self.start is None or at < self.start:
            return False
        return self.end is None or at < self.end


def _step_entries(plan: Plan) -> list[tuple[int, datetime, int]]:
    """(entry id, time, step) of every move of the forum to a step, in order."""
    found = []
    for entry_id, at, after in db.session.execute(
        select(ChangeLog.id, ChangeLog.at, ChangeLog.after)
        .where(ChangeLog.plan_id == plan.id, ChangeLog.action == "step")
        .order_by(ChangeLog.id)
    ):
        step = ((after or {}).get("meeting") or {}).get("step")
        if step in rules.STEPS:
            found.append((entry_id, at, step))
    return found


def _day_start_utc(day: date) -> datetime:
    """Midnight of a day in the hall's time zone, as a naive UTC time."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    local = datetime.combine(day, time.min, tzinfo=zone)
    return local.astimezone(UTC).replace(tzinfo=None)


def forum_window(plan: Plan, steps: list[tuple[int, datetime, int]] | None = None) -> ForumWindow:
    """The forum runs from its first step on the step bar until it moves on to issuing the plan
    (step 6 or 7) and stays there; without the step bar, the day of the forum in the record."""
    steps = _step_entries(plan) if steps is None else steps
    if not steps:
        if plan.forum_date is None:
            return ForumWindow(None, None)
        start = _day_start_utc(plan.forum_date)
        return ForumWindow(start, _day_start_utc(plan.forum_date + timedelta(days=1)))
    close = None
    for step_entry in steps:
        if step_entry[2] < CLOSING_STEP:
            close = None
        elif close is None:
            close = step_entry
    return ForumWindow(
        start=steps[0][1],
        end=close[1] if close else None,
        start_id=steps[0][0],
        end_id=close[0] if close else None,
    )


def decisions(plan: Plan, window: ForumWindow | None = None) -> list[Decision]:
    """Every decision the forum took, once each, in the order it was taken."""
    window = window or forum_window(plan)
    if window.start is None:
        return []
    names = _Names(plan)
    query = select(ChangeLog).where(ChangeLog.plan_id == plan.id)
    if window.start_id is not None:
        query = query.where(ChangeLog.id >= window.start_id)
    result = []
    for entry in db.session.scalars(query.order_by(ChangeLog.id)):
        if not window.holds(entry.id, entry.at):
            continue
        kinds = decision_kinds(entry)
        if kinds:
            result.append(Decision(entry=entry, kinds=kinds, lines=_lines(entry, kinds, names)))
    return result


def rounds_closed_in(plan: Plan, window: ForumWindow) -> list[RoundView]:
    """The ballot rounds the forum closed inside its window (a closing undone, or a round open
    again, is no decision), in the order they were closed."""
    if window.start is None:
        return []
    query = select(ChangeLog.id, ChangeLog.at, ChangeLog.details).where(
        ChangeLog.plan_id == plan.id,
        ChangeLog.action == "vote_close",
        ChangeLog.undone.is_(False),
    )
    if window.start_id is not None:
        query = query.where(ChangeLog.id >= window.start_id)
    round_ids: list[int] = []
    for entry_id, at, details in db.session.execute(query.order_by(ChangeLog.id)):
        round_id = (details or {}).get("round")
        if window.holds(entry_id, at) and round_id is not None:
            round_ids = [r for r in round_ids if r != round_id] + [round_id]
    return closed_rounds(plan, round_ids)


def step_times(plan: Plan, window: ForumWindow | None = None, steps=None) -> list[StepTime]:
    """When the forum moved to each step during the forum (a step revisited shows each time)."""
    steps = _step_entries(plan) if steps is None else steps
    window = window or forum_window(plan, steps)
    return [
        StepTime(step=step, at=at) for entry_id, at, step in steps if window.holds(entry_id, at)
    ]


@dataclass
class GroupOrder:
    """A funding group as the forum left it: its projects in order, and when it was confirmed
    (None: not yet)."""

    group: str
    projects: list[Project]
    confirmed_at: datetime | None

    @property
    def label(self) -> str:
        return GROUP_LABELS[self.group]

    @property
    def budget_satang(self) -> int:
        return sum(p.budget_satang for p in self.projects)


def agreed_groups(plan: Plan) -> list[GroupOrder]:
    """Groups 1-3 in their current order (the order under discussion, before it is confirmed)."""
    rows = plan_groups(plan)
    return [
        GroupOrder(group, column_cards(plan, group), rows[group].confirmed_at)
        for group in FUNDING_GROUPS
    ]


def not_feasible_projects(plan: Plan) -> list[Project]:
    """The projects on the board found not feasible, each with its reason."""
    return list(
        db.session.scalars(
            select(Project)
            .where(
                Project.plan_id == plan.id,
                Project.merged_into_id.is_(None),
                Project.feasibility == "not_feasible",
            )
            .order_by(Project.rank.is_(None), Project.rank, Project.id)
        )
    )


@dataclass
class Minutes:
    plan: Plan
    attendance: list[tuple[Village, int]]
    total_people: int
    window: ForumWindow
    steps: list[StepTime]
    decisions: list[Decision]
    groups: list[GroupOrder]
    not_feasible: list[Project]
    taken_forward: TakenForward
    last_change: datetime | None
    vote_rounds: list[RoundView] = field(default_factory=list)  # ballot rounds closed in it


def minutes(plan: Plan) -> Minutes:
    people = attendance(plan)
    rows = [(v, people[v.id]) for v in plan.tambon.villages if v.id in people]
    steps = _step_entries(plan)
    window = forum_window(plan, steps)
    last = db.session.scalar(select(db.func.max(ChangeLog.at)).where(ChangeLog.plan_id == plan.id))
    return Minutes(
        plan=plan,
        attendance=rows,
        total_people=sum(count for _village, count in rows),
        window=window,
        steps=step_times(plan, window, steps),
        decisions=decisions(plan, window),
        groups=agreed_groups(plan),
        not_feasible=not_feasible_projects(plan),
        taken_forward=taken_forward(plan),
        last_change=last,
        vote_rounds=rounds_closed_in(plan, window),
    )
