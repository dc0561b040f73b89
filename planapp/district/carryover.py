"""Copy last year's plan into a new fiscal year: the tambon profile, and every project still
unfinished, carried over as a proposal for the new forum (unsorted, pointing back at the project
it came from through carried_over_from_id)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import aliased

from planapp.changes import project_snapshot, record_change
from planapp.domain import PLAN_PREAMBLE
from planapp.extensions import db
from planapp.intake.values import whole_number_or_none
from planapp.models import Plan, Project, User

PROFILE_FIELDS = [
    "identity",
    "development_position",
    "direction",
    "potential",
    "key_problems",
    "grouping",
    "show_kpi",
    *PLAN_PREAMBLE,  # what the ผ.02 forms answer to: a starting point the group edits
]
PROJECT_COPY_FIELDS = [
    "title",
    "rationale",
    "objective",
    "target_output",
    "location",
    "sector",
    "programme",
    "budget_satang",
    "kpi",
    "expected_result",
    "village_rank",
    "proposed_by_id",
    "lead_agency_id",
]
# How far ahead a plan may be started.
YEARS_AHEAD = 5


class CarryOverRefused(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def unfinished_projects(plan: Plan) -> list[Project]:
    """What the new year inherits: projects still on the board (not merged away), not judged
    not feasible, whose follow-up is neither done nor dropped; in the forum's order."""
    return list(
        db.session.scalars(
            select(Project)
            .where(
                Project.plan_id == plan.id,
                Project.merged_into_id.is_(None),
                Project.funding_group != "not-feasible",
                Project.feasibility != "not_feasible",
                Project.followup_status.not_in(["done", "dropped"]),
            )
            .order_by(Project.funding_group, Project.rank, Project.id)
        ).all()
    )


def check_new_year(plan: Plan, text: str) -> int:
    text = (text or "").strip()
    first, last = plan.fiscal_year + 1, plan.fiscal_year + YEARS_AHEAD
    year = whole_number_or_none(text)
    if year is None or not first <= year <= last:
        raise CarryOverRefused(
            {
                "fiscal_year": _(
                    "Enter the new fiscal year as a Buddhist Era year from %(first)d to %(last)d.",
                    first=first,
                    last=last,
                )
            }
        )
    exists = db.session.scalar(
        select(Plan.id).where(Plan.tambon_id == plan.tambon_id, Plan.fiscal_year == year)
    )
    if exists is not None:
        raise CarryOverRefused(
            {
                "fiscal_year": _(
                    "Tambon %(name)s already has a plan for fiscal year %(year)d.",
                    name=plan.tambon.name,
                    year=year,
                )
            }
        )
    return year


def carry_over(plan: Plan, year_text: str, *, actor: User | None) -> tuple[Plan, int]:
    """Create the tambon's plan for the new year from `plan`. Returns it and how many projects
    were carried over. Raises CarryOverRefused (nothing created); the caller commits."""
    year = check_new_year(plan, year_text)
    start = plan.plan_start_year
    new_plan = Plan(
        tambon_id=plan.tambon_id,
        fiscal_year=year,
        # The same five-year local development plan while it still covers the year.
        plan_start_year=start if start and start <= year <= start + 4 else year,
        **{name: getattr(plan, name) for name in PROFILE_FIELDS},
    )
    db.session.add(new_plan)
    db.session.flush()
    carried = []
    for rank, old in enumerate(unfinished_projects(plan), start=1):
        project = Project(
            plan_id=new_plan.id,
            funding_group="unsorted",
            rank=rank,
            feasibility="pending",  # the new forum checks it again
            wanted_year=max(old.wanted_year or year, year),
            carried_over_from_id=old.id,
            villages=list(old.villages),
            supporting_agencies=list(old.supporting_agencies),
            strategies=list(old.strategies),
            **{name: getattr(old, name) for name in PROJECT_COPY_FIELDS},
        )
        db.session.add(project)
        carried.append(project)
    db.session.flush()
    record_change(
        new_plan,
        "carry_over",
        actor=actor,
        details={"from": plan.fiscal_year, "to": int(year), "count": len(carried)},
        before={"projects": {str(p.id): None for p in carried}},
        after={"projects": {str(p.id): project_snapshot(p) for p in carried}},
    )
    return new_plan, len(carried)


def carried_over_waiting(plan: Plan) -> list[tuple[Project, int]]:
    """Projects of this plan carried over from an earlier one that the forum has not placed
    yet, with the fiscal year they came from."""
    source = aliased(Project)
    source_plan = aliased(Plan)
    return [
        (project, year)
        for project, year in db.session.execute(
            select(Project, source_plan.fiscal_year)
            .join(source, source.id == Project.carried_over_from_id)
            .join(source_plan, source_plan.id == source.plan_id)
            .where(
                Project.plan_id == plan.id,
                Project.merged_into_id.is_(None),
                Project.funding_group == "unsorted",
            )
            .order_by(Project.rank, Project.id)
        ).all()
    ]
