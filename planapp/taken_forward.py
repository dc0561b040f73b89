"""What the forum took forward, counted one way for every output (issue 16, item 3).

A project is taken forward when it is on the board (not merged away), in funding group 1, 2 or 3,
and not judged not feasible; with or without an urgency tier. The workbook's summary and urgency
sheets, the projector's closing summary, the printable plan, the minutes and the district
dashboard all count with the helpers here, so the same plan gives the same figures everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, func, select

from planapp.domain import FUNDING_GROUPS, URGENCY
from planapp.extensions import db
from planapp.models import Plan, Project

# The urgency key of a project taken forward whose tier the forum has not set yet.
NO_URGENCY = "unset"
URGENCY_KEYS = [*URGENCY, NO_URGENCY]


def is_taken_forward(group: str, feasibility: str, merged: bool = False) -> bool:
    """The definition, for a project already loaded (by its column, feasibility and whether it
    was merged into another project)."""
    return not merged and group in FUNDING_GROUPS and feasibility != "not_feasible"


def taken_forward_clause():
    """The same definition as an SQL condition on Project, for aggregates."""
    return and_(
        Project.merged_into_id.is_(None),
        Project.funding_group.in_(FUNDING_GROUPS),
        Project.feasibility != "not_feasible",
    )


@dataclass
class Tally:
    """A number of projects and their budget (satang)."""

    count: int = 0
    satang: int = 0

    def add(self, count: int, satang: int) -> None:
        self.count += count
        self.satang += satang


@dataclass
class TakenForward:
    """The projects taken forward: in all, per funding group and per urgency tier (NO_URGENCY
    for those without one); the groups and the tiers each add up to the total."""

    total: Tally = field(default_factory=Tally)
    groups: dict[str, Tally] = field(default_factory=lambda: {g: Tally() for g in FUNDING_GROUPS})
    urgency: dict[str, Tally] = field(default_factory=lambda: {t: Tally() for t in URGENCY_KEYS})


def taken_forward(plan: Plan) -> TakenForward:
    """The plan's projects taken forward, counted in one GROUP BY."""
    figures = TakenForward()
    for group, urgency, count, satang in db.session.execute(
        select(
            Project.funding_group,
            Project.urgency,
            func.count(),
            func.coalesce(func.sum(Project.budget_satang), 0),
        )
        .where(Project.plan_id == plan.id, taken_forward_clause())
        .group_by(Project.funding_group, Project.urgency)
    ):
        figures.total.add(count, satang)
        figures.groups[group].add(count, satang)
        figures.urgency[urgency or NO_URGENCY].add(count, satang)
    return figures
