"""The minutes (บันทึกการประชุม) of the forum, made from the forum record and the change log:
who was there, the steps with their times, and the decisions in the order they were taken.

A decision is a change-log entry that settled something the minutes must show: a group
confirmed (with the order agreed) or unlocked again, an urgency tier, a lead or supporting
agency, a merge, a project found not feasible (and why). Entries that were undone, and the undo
entries themselves, are not decisions. Entries are read by what they changed (their `after`
snapshot), not by the name of the action, so every area's edits are recognised alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from planapp.domain import GROUP_SHORT_LABELS, URGENCY_LABELS
from planapp.extensions import db
from planapp.meeting import rules
from planapp.meeting.record import attendance
from planapp.models import Agency, ChangeLog, Plan, Project, Village

DECISION_KINDS = [
    "group_confirmed",
    "group_unlocked",
    "urgency",
    "agencies",
    "merge",
    "not_feasible",
]


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


def decision_kinds(entry: ChangeLog) -> list[str]:
    """What a change-log entry decided (empty when it decided nothing the minutes list)."""
    if entry.undone or entry.action == "undo":
        return []
    if entry.action == "group_confirmed":
        return ["group_confirmed"]
    if entry.action == "group_unlocked":
        return ["group_unlocked"]
    kinds: list[str] = []
    before_projects = (entry.before or {}).get("projects", {})
    for key, after in ((entry.after or {}).get("projects") or {}).items():
        if not after:
            continue
        before = before_projects.get(key) or {}
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
        return lines
    if "group_unlocked" in kinds:
        group = next(iter(meeting.get("groups", {})), "")
        return [_("%(group)s unlocked for changes", group=GROUP_SHORT_LABELS.get(group, group))]
    before_projects = (entry.before or {}).get("projects", {})
    for key, after in ((entry.after or {}).get("projects") or {}).items():
        if not after:
            continue
        before = before_projects.get(key) or {}
        title = names.title(key)
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


def decisions(plan: Plan) -> list[Decision]:
    """Every decision in the change log, once each, in the order it was taken."""
    names = _Names(plan)
    result = []
    for entry in db.session.scalars(
        select(ChangeLog).where(ChangeLog.plan_id == plan.id).order_by(ChangeLog.id)
    ):
        kinds = decision_kinds(entry)
        if kinds:
            result.append(Decision(entry=entry, kinds=kinds, lines=_lines(entry, kinds, names)))
    return result


def step_times(plan: Plan) -> list[StepTime]:
    """When the forum moved to each step (a step revisited shows each time)."""
    rows = db.session.execute(
        select(ChangeLog.at, ChangeLog.after)
        .where(ChangeLog.plan_id == plan.id, ChangeLog.action == "step")
        .order_by(ChangeLog.id)
    ).all()
    times = []
    for at, after in rows:
        step = ((after or {}).get("meeting") or {}).get("step")
        if step in rules.STEPS:
            times.append(StepTime(step=step, at=at))
    return times


@dataclass
class Minutes:
    plan: Plan
    attendance: list[tuple[Village, int]]
    total_people: int
    steps: list[StepTime]
    decisions: list[Decision]
    first_change: datetime | None
    last_change: datetime | None


def minutes(plan: Plan) -> Minutes:
    people = attendance(plan)
    rows = [(v, people[v.id]) for v in plan.tambon.villages if v.id in people]
    first, last = db.session.execute(
        select(db.func.min(ChangeLog.at), db.func.max(ChangeLog.at)).where(
            ChangeLog.plan_id == plan.id
        )
    ).one()
    return Minutes(
        plan=plan,
        attendance=rows,
        total_people=sum(count for _village, count in rows),
        steps=step_times(plan),
        decisions=decisions(plan),
        first_change=first,
        last_change=last,
    )
