"""Builders shared by the district tests: place projects into groups as a forum would."""

from __future__ import annotations

from planapp.extensions import db
from planapp.models import Plan, Project


def place(plan: Plan, groups: list[str]) -> list[Project]:
    """Put the plan's first projects into the given columns, in order, ranking them per column
    (the rest stay unsorted). Returns the placed projects."""
    projects = sorted(plan.projects, key=lambda p: p.id)
    for project in projects:
        project.rank = None
    db.session.flush()
    ranks: dict[str, int] = {}
    for project, group in zip(projects, groups, strict=False):
        ranks[group] = ranks.get(group, 0) + 1
        project.funding_group = group
        project.rank = ranks[group]
        if group == "not-feasible":
            project.feasibility = "not_feasible"
            project.feasibility_reason = "ไม่มีที่ดิน"
        else:
            project.feasibility = "feasible"
    for project in projects[len(groups) :]:
        ranks["unsorted"] = ranks.get("unsorted", 0) + 1
        project.funding_group = "unsorted"
        project.rank = ranks["unsorted"]
    db.session.commit()
    return projects[: len(groups)]
