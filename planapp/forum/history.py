"""The change log in words, for the history panel: "ถนน คสล. หมู่ 3 ย้ายจากยังไม่จัดกลุ่ม ไปกลุ่ม 3
ลำดับ 2". Described at render time from the entry's snapshots, so it reads in the viewer's
language; entries made elsewhere fall back to the summary their author wrote."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from planapp.domain import (
    FEASIBILITY_LABELS,
    GROUP_SHORT_LABELS,
    PROGRAMME_LABELS,
    URGENCY_LABELS,
)
from planapp.extensions import db
from planapp.models import Agency, ChangeLog, Plan
from planapp.strategies import CONFIRM_ACTION

FIELD_LABELS = {
    "feasibility": _l("feasibility"),
    "feasibility_reason": _l("reason"),
    "urgency": _l("urgency"),
    "lead_agency_id": _l("lead agency"),
    "supporting_agency_ids": _l("supporting agencies"),
    "strategy_ids": _l("strategies"),
    "programme": _l("programme"),
    "note": _l("note"),
    "funding_group": _l("group"),
}


@dataclass
class HistoryItem:
    """One line of the history panel."""

    id: int
    text: str
    user_name: str
    at: datetime
    undone: bool


def history_item(entry: ChangeLog, text: str | None = None) -> HistoryItem:
    """The entry as the panel shows it (`text` when the caller has just described it)."""
    return HistoryItem(
        id=entry.id,
        text=text if text is not None else describe(entry),
        user_name=entry.user.name if entry.user else "",
        at=entry.at,
        undone=entry.undone,
    )


def recent_changes(plan: Plan, limit: int = 15) -> list[HistoryItem]:
    entries = db.session.scalars(
        select(ChangeLog)
        .where(ChangeLog.plan_id == plan.id)
        .options(selectinload(ChangeLog.user), selectinload(ChangeLog.project))
        .order_by(ChangeLog.id.desc())
        .limit(limit)
    ).all()
    return [history_item(entry) for entry in entries]


def _title(entry: ChangeLog) -> str:
    if entry.project is not None:
        return entry.project.title
    for snapshot in (entry.after, entry.before):
        state = ((snapshot or {}).get("projects") or {}).get(str(entry.project_id)) or {}
        if state.get("title"):
            return state["title"]
    return _("a project")


def _project_state(snapshot: dict | None, project_id: int | None) -> dict:
    return ((snapshot or {}).get("projects") or {}).get(str(project_id)) or {}


def describe_move(title: str, before: dict, after: dict) -> str:
    source, target = before.get("funding_group"), after.get("funding_group")
    if source == target:
        return _(
            "%(title)s moved from position %(old)s to position %(rank)s in %(group)s",
            title=title,
            old=before.get("rank") or "-",
            rank=after.get("rank"),
            group=GROUP_SHORT_LABELS.get(target, target),
        )
    return _(
        "%(title)s moved from %(source)s to %(target)s, position %(rank)s",
        title=title,
        source=GROUP_SHORT_LABELS.get(source, source),
        target=GROUP_SHORT_LABELS.get(target, target),
        rank=after.get("rank"),
    )


def _value(name: str, value) -> str:
    if value in (None, "", []):
        return "—"
    if name == "feasibility":
        return str(FEASIBILITY_LABELS.get(value, value))
    if name == "urgency":
        return str(URGENCY_LABELS.get(value, value))
    if name == "funding_group":
        return str(GROUP_SHORT_LABELS.get(value, value))
    if name == "programme":
        return str(PROGRAMME_LABELS.get(value, value))
    if name == "lead_agency_id":
        agency = db.session.get(Agency, value)
        return agency.name if agency else "—"
    if name in ("supporting_agency_ids", "strategy_ids"):
        return str(len(value))
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def describe_edit(title: str, before: dict, after: dict) -> str:
    parts = [
        f"{FIELD_LABELS[name]} {_value(name, after.get(name))}"
        for name in FIELD_LABELS
        if name in after and after.get(name) != before.get(name) and name != "feasibility_reason"
    ]
    if not parts:
        return _("%(title)s saved without changes", title=title)
    return _("%(title)s: %(changes)s", title=title, changes=", ".join(parts))


def describe(entry: ChangeLog) -> str:
    """One change in words (without who and when: the panel adds those)."""
    action = entry.action
    if action == "undo":
        # An edit's snapshot always carries the note; a move's never does.
        state = _project_state(entry.before, entry.project_id)
        inner = ChangeLog(
            action="edit" if "note" in state else "move",
            project_id=entry.project_id,
            before=entry.after,
            after=entry.before,
            summary=entry.summary,
        )
        inner.project = entry.project
        return _("Undone: %(change)s", change=describe(inner))
    if action == CONFIRM_ACTION:
        count = len((entry.after or {}).get("projects") or {})
        return _("Strategies confirmed for %(count)s projects", count=count)
    title = _title(entry)
    before = _project_state(entry.before, entry.project_id)
    after = _project_state(entry.after, entry.project_id)
    if action == "move" and after:
        return describe_move(title, before, after)
    if action == "edit" and after:
        return describe_edit(title, before, after)
    return entry.summary or action
