"""The plan page as the forum's seven steps (design brief section 1): each step with its one main
action, the step the forum is at marked, and what comes next. The steps themselves (their order
and names) are the meeting's (planapp.meeting.rules); this says where each is done."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import lazy_gettext as _l

from planapp.meeting import rules
from planapp.models import Plan

# Each step's one main action: the page where it is done, and what its button says. Two steps
# may be done on one page (the board), each under its own words; one label never names two
# places.
STEP_ACTIONS = {
    1: ("meeting.panel", _l("Time the villages' presentations")),
    2: ("intake.plan_settings", _l("Write down the tambon's identity and direction")),
    3: ("forum.board", _l("Check feasibility and priority on the board")),
    4: ("forum.board", _l("Sort the projects into the three groups")),
    5: ("forum.urgency", _l("Set urgency and agencies")),
    6: ("export.print_plan", _l("Print the integrated plan")),
    7: ("district.plan_followup", _l("Follow up the projects")),
}


@dataclass(frozen=True)
class PlanStep:
    number: int
    name: str
    action: str  # the main action's label
    url: str
    current: bool


def plan_steps(plan: Plan) -> list[PlanStep]:
    """The seven steps in order, each with its main action; the forum's current one marked."""
    return [
        PlanStep(
            number=number,
            name=rules.STEP_LABELS[number],
            action=STEP_ACTIONS[number][1],
            url=url_for(STEP_ACTIONS[number][0], plan_id=plan.id),
            current=number == plan.meeting_step,
        )
        for number in rules.STEPS
    ]


def next_step(plan: Plan) -> int | None:
    """The step after the current one, None at the last."""
    later = [number for number in rules.STEPS if number > plan.meeting_step]
    return later[0] if later else None
