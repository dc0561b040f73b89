"""Helpers for the live-view tests: put the demo tambon in the state of a forum under way."""

from __future__ import annotations

from sqlalchemy import select

from planapp.domain import URGENCY
from planapp.extensions import db
from planapp.models import Agency, Plan, Project


def spread_demo(plan: Plan, share_sorted: float = 0.8) -> None:
    """Sort most demo projects into groups 1-3 (a few not feasible), rank them, give those
    taken forward an urgency, a lead and supporting agencies. Deterministic."""
    projects = list(
        db.session.scalars(select(Project).where(Project.plan_id == plan.id).order_by(Project.id))
    )
    agencies = list(db.session.scalars(select(Agency).order_by(Agency.id)))
    for project in projects:
        project.rank = None
    db.session.flush()
    ranks: dict[str, int] = {}
    cut = int(len(projects) * share_sorted)
    for i, project in enumerate(projects):
        if i >= cut:
            group = "unsorted"
        elif i % 17 == 16:
            group = "not-feasible"
        else:
            group = ["1", "2", "3"][i % 3]
        ranks[group] = ranks.get(group, 0) + 1
        project.funding_group, project.rank = group, ranks[group]
        if group in ("1", "2", "3"):
            project.feasibility = "feasible"
            project.urgency = URGENCY[i % 3]
            project.lead_agency = agencies[i % len(agencies)]
            project.supporting_agencies = [agencies[(i + 3) % len(agencies)]]
        elif group == "not-feasible":
            project.feasibility = "not_feasible"
    db.session.commit()
