"""The forum as a record (date, place, chair, attendance per village) and what the facilitator
drives from the tablet during it: the current step, the presentation timer, the pause screen and
the message overlay.

The record is an undoable change. Steps, the timer and the screen are screen control: they are
logged (the minutes read the steps' times from the log) but undo skips them (no `before`), and
each is undone by its own one-tap control.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from planapp.changes import Regions, record_change
from planapp.extensions import db
from planapp.meeting import rules
from planapp.meeting.groups import MeetingError
from planapp.models import ForumAttendance, Plan, PresentationTimer, User, Village, utcnow

# --- the forum record ---------------------------------------------------------------------


def attendance(plan: Plan) -> dict[int, int]:
    """People at the forum per village id (villages with no entry are left out)."""
    return dict(
        db.session.execute(
            select(ForumAttendance.village_id, ForumAttendance.people).where(
                ForumAttendance.plan_id == plan.id
            )
        ).all()
    )


def participants(plan: Plan) -> int:
    """How many people came to the forum, over every village."""
    return sum(attendance(plan).values())


def _record_snapshot(plan: Plan) -> dict:
    return {
        "forum_date": plan.forum_date.isoformat() if plan.forum_date else None,
        "forum_place": plan.forum_place,
        "forum_chair": plan.forum_chair,
        "attendance": {str(k): v for k, v in attendance(plan).items()},
    }


def restore_record(plan: Plan, state: dict) -> None:
    plan.forum_date = date.fromisoformat(state["forum_date"]) if state["forum_date"] else None
    plan.forum_place = state["forum_place"]
    plan.forum_chair = state["forum_chair"]
    _write_attendance(plan, {int(k): v for k, v in state["attendance"].items()})


def _write_attendance(plan: Plan, people: dict[int, int | None]) -> None:
    rows = {
        row.village_id: row
        for row in db.session.scalars(
            select(ForumAttendance).where(ForumAttendance.plan_id == plan.id)
        )
    }
    for village_id, count in people.items():
        row = rows.get(village_id)
        if count is None:
            if row is not None:
                db.session.delete(row)
        elif row is None:
            db.session.add(ForumAttendance(plan_id=plan.id, village_id=village_id, people=count))
        else:
            row.people = count
    for village_id, row in rows.items():
        if village_id not in people:
            db.session.delete(row)
    db.session.flush()


def save_record(
    plan: Plan,
    forum_date: date | None,
    place: str,
    chair: str,
    people: dict[int, int | None],
    seen_version: int | None = None,
    *,
    actor: User | None,
) -> None:
    """Save the forum record and attendance as one undoable change (the form validated it)."""
    before = {"meeting": {"record": _record_snapshot(plan)}}
    entry = record_change(
        plan,
        "forum_record",
        actor=actor,
        regions=Regions(parts={"screen"}),  # the summary and pause screens show it
        before=before,
        seen_version=seen_version,
    )
    plan.forum_date = forum_date
    plan.forum_place = place
    plan.forum_chair = chair
    _write_attendance(plan, people)
    entry.after = {"meeting": {"record": _record_snapshot(plan)}}


# --- steps --------------------------------------------------------------------------------


def set_step(plan: Plan, step: int, *, actor: User | None) -> None:
    """Move the forum to a step (any step, forwards or back); the projector follows it."""
    if step not in rules.STEPS:
        raise MeetingError(_("There is no such step."))
    mode = rules.STEP_PROJECTOR_MODE[step]
    if step == plan.meeting_step and getattr(plan, "projector_mode", mode) == mode:
        return  # pressing the current step again re-shows its screen if it was changed
    record_change(
        plan,
        "step",
        actor=actor,
        regions=Regions(parts={"steps", "screen", "control"}),  # the projector follows the step
        after={"meeting": {"step": step, "from_step": plan.meeting_step}},
    )
    plan.meeting_step = step
    follow_step_on_projector(plan, step)


def follow_step_on_projector(plan: Plan, step: int) -> None:
    """The projector shows the screen that matches the step (its modes live in planapp/projector;
    a plan without them simply keeps the step)."""
    mode = rules.STEP_PROJECTOR_MODE[step]
    if hasattr(plan, "projector_mode"):
        plan.projector_mode = mode


# --- the presentation timer ---------------------------------------------------------------


@dataclass
class TimerView:
    village: Village
    length_seconds: int
    remaining: int
    running: bool

    @property
    def state(self) -> str:
        return rules.timer_state(self.remaining)

    @property
    def display(self) -> str:
        return f"{self.remaining // 60}:{self.remaining % 60:02d}"


def current_timer(plan: Plan, now: datetime | None = None) -> TimerView | None:
    """The timer last touched (the village presenting now), with its seconds left."""
    timer = db.session.scalar(
        select(PresentationTimer)
        .where(PresentationTimer.plan_id == plan.id)
        .order_by(PresentationTimer.updated_at.desc())
        .limit(1)
    )
    if timer is None:
        return None
    remaining = rules.timer_remaining(timer.ends_at, timer.remaining_seconds, now or utcnow())
    return TimerView(
        village=timer.village,
        length_seconds=timer.length_seconds,
        remaining=remaining,
        running=timer.running,
    )


def _timer_for(plan: Plan, village: Village) -> PresentationTimer | None:
    return db.session.get(PresentationTimer, (plan.id, village.id))


TIMER_ACTIONS = ["start", "pause", "resume", "extend", "reset"]


def control_timer(
    plan: Plan, village: Village, action: str, minutes: int | None = None, *, actor: User | None
) -> None:
    """Start (a fresh countdown of `minutes`), pause, resume, extend by a minute, or reset a
    village's presentation timer. Every screen computes the same countdown from what is stored."""
    if village.tambon_id != plan.tambon_id:
        raise MeetingError(_("That village is not in this tambon."))
    if action not in TIMER_ACTIONS:
        raise MeetingError(_("Unknown timer action."))
    now = utcnow()
    timer = _timer_for(plan, village)
    # The countdown is a region of its own: only a new screen (step 1 shows the village that
    # presents) sends more than the timer.
    regions = Regions(parts={"timer"})
    details = {"village_id": village.id}
    if action == "start":
        if minutes not in rules.TIMER_MINUTES:
            raise MeetingError(_("Choose how many minutes the presentation has."))
        if timer is None:
            timer = PresentationTimer(plan_id=plan.id, village_id=village.id)
            db.session.add(timer)
        timer.length_seconds = minutes * 60
        timer.ends_at = now + timedelta(minutes=minutes)
        timer.remaining_seconds = None
        details["minutes"] = minutes
        if plan.meeting_step == 1 and hasattr(plan, "projector_village_number"):
            # Step 1: the projector shows the village that presents, with its countdown.
            mode = rules.STEP_PROJECTOR_MODE[1]
            if (plan.projector_mode, plan.projector_village_number) != (mode, village.number):
                regions.parts |= {"screen", "control"}
            plan.projector_mode = mode
            plan.projector_village_number = village.number
    else:
        if timer is None:
            raise MeetingError(_("Start the timer for this village first."))
        left = rules.timer_remaining(timer.ends_at, timer.remaining_seconds, now)
        if action == "pause":
            timer.ends_at, timer.remaining_seconds = None, left
        elif action == "resume":
            timer.ends_at, timer.remaining_seconds = now + timedelta(seconds=left), None
        elif action == "extend":
            extra = rules.TIMER_EXTEND_SECONDS
            timer.length_seconds += extra
            if timer.ends_at is not None:
                timer.ends_at = now + timedelta(seconds=left + extra)
            else:
                timer.remaining_seconds = left + extra
        else:  # reset: back to the full length, paused
            timer.ends_at, timer.remaining_seconds = None, timer.length_seconds
    timer.updated_at = now
    record_change(
        plan,
        "timer",
        actor=actor,
        details=details,
        after={"meeting": {"timer": action}},
        regions=regions,
    )


# --- the pause screen and the message overlay ---------------------------------------------


def set_paused(plan: Plan, paused: bool, *, actor: User | None) -> None:
    if plan.screen_paused == paused:
        return
    record_change(
        plan,
        "screen_pause",
        actor=actor,
        regions=Regions(parts={"screen"}),
        after={"meeting": {"paused": paused}},
    )
    plan.screen_paused = paused


def set_message(plan: Plan, message: str, *, actor: User | None) -> None:
    message = " ".join((message or "").split())
    if len(message) > rules.SCREEN_MESSAGE_MAX:
        raise MeetingError(
            _("Keep the message under %(max)d characters.", max=rules.SCREEN_MESSAGE_MAX)
        )
    if message == plan.screen_message:
        return
    record_change(
        plan,
        "screen_message",
        actor=actor,
        regions=Regions(parts={"screen"}),
        after={"meeting": {"message": message}},
    )
    plan.screen_message = message
