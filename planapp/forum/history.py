"""The change log in words, for the history panel and the minutes: "ถนน คสล. หมู่ 3 ย้ายจาก
ยังไม่จัดกลุ่ม ไปกลุ่ม 3 ลำดับ 2". Worded when shown from what the entry stored as data (its action,
its snapshots and its `details`), so it reads in the reader's language whoever made it; older
entries without the data fall back to the summary their author's language froze."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import datetime

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, bindparam, select

from planapp.domain import (
    FEASIBILITY_LABELS,
    FOLLOWUP_LABELS,
    GROUP_SHORT_LABELS,
    PROGRAMME_LABELS,
    PROJECTOR_MODE_LABELS,
    URGENCY_LABELS,
)
from planapp.extensions import db
from planapp.formatting import baht
from planapp.fragments import Kept
from planapp.meeting.rules import STEP_LABELS
from planapp.models import Agency, ChangeLog, Plan, Project, User, Village
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


@dataclass(frozen=True, slots=True)
class LoggedChange:
    """A change-log entry as its wording reads it: its stored data, its author's name and its
    project's title now (None: the project is gone), read as one row of one statement (the
    board reads fifteen on every page) instead of an entry and its user and project."""

    id: int
    action: str
    project_id: int | None
    summary: str
    before: dict | None
    after: dict | None
    details: dict | None
    at: datetime
    undone: bool
    regions: dict | None
    plan_version: int
    user_name: str
    project_title: str | None

    @classmethod
    def of(cls, entry: ChangeLog) -> LoggedChange:
        """An entry already loaded (just saved, or read whole elsewhere). Its author's name only
        if the entry has its user loaded: wording never needs it (the minutes word entries
        without loading their users)."""
        user = entry.__dict__.get("user")
        return cls(
            id=entry.id,
            action=entry.action,
            project_id=entry.project_id,
            summary=entry.summary,
            before=entry.before,
            after=entry.after,
            details=entry.details,
            at=entry.at,
            undone=entry.undone,
            regions=entry.regions,
            plan_version=entry.plan_version,
            user_name=user.name if user is not None else "",
            project_title=entry.project.title if entry.project is not None else None,
        )


@functools.cache
def _logged_query(question: str):
    """Built once per question (the board asks them on every page and every change)."""
    log = ChangeLog.__table__.c
    query = (
        select(  # LoggedChange's fields in order, then the names it is given (`_logged`)
            log.id,
            log.action,
            log.project_id,
            log.summary,
            log.before,
            log.after,
            log.details,
            log.at,
            log.undone,
            log.regions,
            log.plan_version,
            User.display_name,
            User.username,
            Project.title,
        )
        .outerjoin(User, User.id == log.user_id)
        .outerjoin(Project, Project.id == log.project_id)
        .where(log.plan_id == bindparam("plan", type_=Integer))
    )
    if question == "latest":
        return query.order_by(log.id.desc()).limit(bindparam("limit", type_=Integer))
    if question == "since":
        return (
            query.where(
                log.plan_version > bindparam("base", type_=Integer),
                log.plan_version <= bindparam("version", type_=Integer),
            )
            .order_by(log.plan_version.desc())
            .limit(bindparam("limit", type_=Integer))
        )
    return query.where(log.id.in_(bindparam("ids", expanding=True)))  # "ids"


def _logged(question: str, **params) -> list[LoggedChange]:
    rows = db.session.execute(_logged_query(question), params)
    return [
        LoggedChange(*row[:11], user_name=row[11] or row[12] or "", project_title=row[13])
        for row in rows
    ]


def latest_changes(plan_id: int, limit: int) -> list[LoggedChange]:
    """The plan's last `limit` changes, newest first."""
    return _logged("latest", plan=plan_id, limit=limit)


def changes_since(plan_id: int, base: int, version: int, limit: int) -> list[LoggedChange]:
    """The changes that took the plan from version `base` to `version`, newest first (at most
    `limit` of them)."""
    return _logged("since", plan=plan_id, base=base, version=version, limit=limit)


def changes_by_id(plan_id: int, ids) -> list[LoggedChange]:
    return _logged("ids", plan=plan_id, ids=list(ids))


def history_item(entry: LoggedChange | ChangeLog, text: str | None = None) -> HistoryItem:
    """The entry as the panel shows it (`text` when the caller has just described it)."""
    if isinstance(entry, LoggedChange):
        user_name = entry.user_name
        if text is None:
            text = _kept_words(entry)
    else:
        user_name = entry.user.name if entry.user is not None else ""
    return HistoryItem(
        id=entry.id,
        text=text if text is not None else describe(entry),
        user_name=user_name,
        at=entry.at,
        undone=entry.undone,
    )


def recent_changes(plan: Plan, limit: int = 15) -> list[HistoryItem]:
    return [history_item(entry) for entry in latest_changes(plan.id, limit)]


def _kept_words(entry: LoggedChange) -> str:
    """A move's words are kept: the board shows the last fifteen changes on every page and
    every tablet words each new one, most of them moves, whose words come from their snapshots
    (never changed once written), the project's title now and the language alone. Other
    changes are worded each time (some name an agency or a village as it is called now)."""
    if entry.action != "move":
        return describe(entry)
    # The time too: the tests' databases each count their ids from 1.
    key = (str(get_locale()), entry.id, entry.at, entry.project_title)
    return MOVE_WORDS.get(key, lambda: describe(entry))


# Moves' words by (language, entry, its time, the project's title).
MOVE_WORDS = Kept(5_000)


def _title(entry: LoggedChange) -> str:
    if entry.project_title is not None:
        return entry.project_title
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
        if any(after.get(name) != before.get(name) for name in after):
            return _("Edited project: %(title)s", title=title)  # the project's own details
        return _("%(title)s saved without changes", title=title)
    return _("%(title)s: %(changes)s", title=title, changes=", ".join(parts))


# --- the other changes, worded from what they stored ---------------------------------------
#
# Each takes the entry and its details and returns its words, or None when the entry does not
# hold what the words need (an older row): it then shows the summary it was saved with.


def _group_label(group) -> str:
    return str(GROUP_SHORT_LABELS.get(group, group))


def _meeting_group(entry: LoggedChange) -> tuple[str, dict] | tuple[None, None]:
    """The one group a ceiling, confirm or unlock entry changed, and its row after."""
    for snapshot in (entry.after, entry.before):
        groups = ((snapshot or {}).get("meeting") or {}).get("groups") or {}
        if len(groups) == 1:
            return next(iter(groups.items()))
    return None, None


def _meeting_value(entry: LoggedChange, name: str):
    return ((entry.after or {}).get("meeting") or {}).get(name)


def _village_label(village_id) -> str | None:
    village = db.session.get(Village, village_id) if village_id is not None else None
    return village.label if village is not None else None


def _votes(entry: LoggedChange, details: dict) -> str | None:
    votes = _project_state(entry.after, entry.project_id).get("votes")
    if votes is None:
        return None
    return _("Votes for %(title)s: %(votes)d", title=_title(entry), votes=votes)


def _order_by_votes(entry: LoggedChange, details: dict) -> str | None:
    if "group" not in details:
        return None
    return _("%(group)s ordered by votes", group=_group_label(details["group"]))


def _budget_ceiling(entry: LoggedChange, details: dict) -> str | None:
    group, _row = _meeting_group(entry)
    after = (((entry.after or {}).get("meeting") or {}).get("groups") or {}).get(group)
    if after is None:
        return None
    if after.get("ceiling_satang") is None:
        return _("Budget ceiling of %(group)s removed", group=_group_label(group))
    return _(
        "Budget ceiling of %(group)s: %(amount)s baht",
        group=_group_label(group),
        amount=baht(after["ceiling_satang"]),
    )


def _group_confirmed(entry: LoggedChange, details: dict) -> str | None:
    group, _row = _meeting_group(entry)
    if group is None:
        return None
    if details.get("over_satang"):
        return _(
            "%(group)s confirmed %(amount)s baht over its budget ceiling",
            group=_group_label(group),
            amount=baht(details["over_satang"]),
        )
    return _("%(group)s confirmed", group=_group_label(group))


def _group_unlocked(entry: LoggedChange, details: dict) -> str | None:
    group, _row = _meeting_group(entry)
    return None if group is None else _("%(group)s unlocked", group=_group_label(group))


def _step(entry: LoggedChange, details: dict) -> str | None:
    step = _meeting_value(entry, "step")
    if step not in STEP_LABELS:
        return None
    return _("Step %(number)d: %(name)s", number=step, name=STEP_LABELS[step])


def _timer(entry: LoggedChange, details: dict) -> str | None:
    village = _village_label(details.get("village_id"))
    action = _meeting_value(entry, "timer")
    if village is None:
        return None
    if action == "start":
        return _(
            "Timer started for village %(village)s: %(minutes)d minutes",
            village=village,
            minutes=details.get("minutes", 0),
        )
    if action == "pause":
        return _("Timer paused for village %(village)s", village=village)
    if action == "resume":
        return _("Timer resumed for village %(village)s", village=village)
    if action == "extend":
        return _("Timer extended by a minute for village %(village)s", village=village)
    return _("Timer reset for village %(village)s", village=village)


def _screen_pause(entry: LoggedChange, details: dict) -> str | None:
    paused = _meeting_value(entry, "paused")
    if paused is None:
        return None
    return _("Pause screen shown") if paused else _("Pause screen removed")


def _screen_message(entry: LoggedChange, details: dict) -> str | None:
    message = _meeting_value(entry, "message")
    if message is None:
        return None
    if not message:
        return _("Message removed from the screen")
    return _("Message on the screen: %(message)s", message=message)


def _projector(entry: LoggedChange, details: dict) -> str | None:
    mode = details.get("mode")
    if mode not in PROJECTOR_MODE_LABELS:
        return None
    group = details.get("group")
    if group in GROUP_SHORT_LABELS:
        return _(
            "Projector shows: %(what)s (%(group)s)",
            what=PROJECTOR_MODE_LABELS[mode],
            group=GROUP_SHORT_LABELS[group],
        )
    village = _village_label(details.get("village_id"))
    if village is not None:
        return _(
            "Projector shows: %(what)s (village %(village)s)",
            what=PROJECTOR_MODE_LABELS[mode],
            village=village,
        )
    return _("Projector shows: %(what)s", what=PROJECTOR_MODE_LABELS[mode])


def _public(entry: LoggedChange, details: dict) -> str | None:
    if "public" not in details:
        return None
    if details["public"]:
        return _("Opened the projector and phone views to the public")
    return _("Closed the projector and phone views to the public")


def _deleted_title(entry: LoggedChange) -> str | None:
    """A delete's project row is gone (the entry's project_id with it): its snapshot has the
    title."""
    before = (entry.before or {}).get("projects") or {}
    after = (entry.after or {}).get("projects") or {}
    gone = [state for key, state in before.items() if state and after.get(key, 0) is None]
    return gone[0].get("title") if len(gone) == 1 else None


def _delete(entry: LoggedChange, details: dict) -> str | None:
    title = _deleted_title(entry)
    return None if title is None else _("Deleted project: %(title)s", title=title)


def _village_order(entry: LoggedChange, details: dict) -> str | None:
    if "village" not in details or "place" not in details:
        return None
    return _(
        "Village %(number)s order: %(title)s to place %(place)s",
        number=details["village"],
        title=_title(entry),
        place=details["place"],
    )


def _merge(entry: LoggedChange, details: dict) -> str | None:
    if "count" not in details:
        return None
    return _(
        "Merged %(count)s projects into: %(title)s", count=details["count"], title=_title(entry)
    )


def _import(entry: LoggedChange, details: dict) -> str | None:
    if "count" not in details:
        return None
    if details.get("source") == "file":
        return _("Plan imported from a file: %(num)d projects", num=details["count"])
    if details.get("source") == "sync_push":
        return _("Plan pushed from the hall laptop: %(num)d projects", num=details["count"])
    if details.get("source") == "sync_pull":
        return _("Plan pulled from the district server: %(num)d projects", num=details["count"])
    return _("Imported %(count)s projects from Excel", count=details["count"])


def _followup(entry: LoggedChange, details: dict) -> str | None:
    old = _project_state(entry.before, entry.project_id).get("followup_status")
    new = _project_state(entry.after, entry.project_id).get("followup_status")
    if old not in FOLLOWUP_LABELS or new not in FOLLOWUP_LABELS:
        return None
    if old == new:
        return _("%(title)s: %(status)s", title=_title(entry), status=FOLLOWUP_LABELS[new])
    return _(
        "%(title)s: %(old)s → %(new)s",
        title=_title(entry),
        old=FOLLOWUP_LABELS[old],
        new=FOLLOWUP_LABELS[new],
    )


def _carry_over(entry: LoggedChange, details: dict) -> str | None:
    if "count" not in details:
        return None
    return _(
        "%(count)d projects carried over from fiscal year %(old)s to %(new)s",
        count=details["count"],
        old=details.get("from"),
        new=details.get("to"),
    )


def _vote_round(entry: LoggedChange, details: dict) -> str | None:
    if "ballots" not in details:
        return None
    return _(
        "Vote round for %(group)s: %(ballots)d ballots, %(picks)d picks each",
        group=_group_label(details["group"]),
        ballots=details["ballots"],
        picks=details["picks"],
    )


def _vote_open(entry: LoggedChange, details: dict) -> str | None:
    if "group" not in details:
        return None
    if details.get("reopened"):
        return _("Vote round for %(group)s reopened", group=_group_label(details["group"]))
    return _("Vote round for %(group)s opened", group=_group_label(details["group"]))


def _vote_close(entry: LoggedChange, details: dict) -> str | None:
    if "cast" not in details:
        return None
    return _(
        "Vote round for %(group)s closed: %(cast)d of %(issued)d ballots cast",
        group=_group_label(details["group"]),
        cast=details["cast"],
        issued=details["issued"],
    )


def _vote_screen(entry: LoggedChange, details: dict) -> str | None:
    if "group" not in details:
        return None
    if details["group"] is None:
        return _("Projector no longer shows the vote")
    return _("Projector shows the vote round for %(group)s", group=_group_label(details["group"]))


def _ballot(entry: LoggedChange, details: dict) -> str | None:
    village = _village_label(details.get("village_id"))
    return None if village is None else _("A ballot of village %(label)s was cast", label=village)


WORDS = {
    "votes": _votes,
    "order_by_votes": _order_by_votes,
    "budget_ceiling": _budget_ceiling,
    "group_confirmed": _group_confirmed,
    "group_unlocked": _group_unlocked,
    "forum_record": lambda entry, details: _("Forum record and attendance saved"),
    "step": _step,
    "timer": _timer,
    "screen_pause": _screen_pause,
    "screen_message": _screen_message,
    "projector": _projector,
    "public": _public,
    "public-token": lambda entry, details: _("Made a new public address"),
    "create": lambda entry, details: _("Added project: %(title)s", title=_title(entry)),
    "delete": _delete,
    "village_order": _village_order,
    "merge": _merge,
    "unmerge": lambda entry, details: _("Un-merged: %(title)s", title=_title(entry)),
    "import": _import,
    "plan_settings": lambda entry, details: _("Edited the plan's profile and settings"),
    "followup": _followup,
    "carry_over": _carry_over,
    "vote_round": _vote_round,
    "vote_open": _vote_open,
    "vote_close": _vote_close,
    "vote_screen": _vote_screen,
    "ballot": _ballot,
}


def describe(entry: LoggedChange | ChangeLog) -> str:
    """One change in words (without who and when: the panel adds those)."""
    if not isinstance(entry, LoggedChange):
        entry = LoggedChange.of(entry)
    action = entry.action
    if action == "undo":
        details = dict(entry.details or {})
        undid = details.pop("undid", None)
        if undid is None:  # an older undo: an edit's snapshot always carries the note
            state = _project_state(entry.before, entry.project_id)
            undid = "edit" if "note" in state else "move"
        inner = replace(
            entry, action=undid, before=entry.after, after=entry.before, details=details or None
        )
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
    words = WORDS.get(action)
    text = words(entry, entry.details or {}) if words is not None else None
    return text or entry.summary or action
