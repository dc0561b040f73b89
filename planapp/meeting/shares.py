"""Each village's share of the plan, so the hall can see it is fair before it agrees.

Counted over the projects on the board (merged-away proposals live on in the tambon project that
keeps every source village). A project proposed by several villages counts for each of them;
its group-3 budget is split evenly between them, to the satang, so the villages' budget shares
add up exactly to the group-3 total.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from planapp.cards import on_board
from planapp.domain import GROUPS
from planapp.extensions import db
from planapp.meeting.rules import split_evenly
from planapp.models import Plan, Project, Village

TOP = 5  # "how many of the top five of each group are its own"
BUDGET_GROUP = "3"


@dataclass
class VillageShare:
    village: Village
    proposed: int = 0
    by_group: dict[str, int] = field(default_factory=lambda: {group: 0 for group in GROUPS})
    group3_satang: int = 0
    top: dict[str, int] = field(default_factory=lambda: {group: 0 for group in "123"})

    def group3_percent(self, total: int) -> float:
        return 100 * self.group3_satang / total if total else 0.0


@dataclass
class Shares:
    rows: list[VillageShare]
    projects: int
    by_group: dict[str, int]
    group3_satang: int
    # Projects with no source village (proposed for the whole tambon).
    tambon_wide: int = 0
    tambon_wide_group3_satang: int = 0


def village_shares(plan: Plan) -> Shares:
    projects = db.session.scalars(
        select(Project)
        .where(*on_board(plan.id))
        .options(selectinload(Project.villages))
        .order_by(Project.funding_group, Project.rank.is_(None), Project.rank, Project.id)
    ).all()
    rows = {village.id: VillageShare(village=village) for village in plan.tambon.villages}
    by_group = {group: 0 for group in GROUPS}
    group3_total = 0
    tambon_wide = tambon_wide_satang = 0
    position: dict[str, int] = {}
    for project in projects:
        group = project.funding_group
        by_group[group] += 1
        position[group] = position.get(group, 0) + 1
        villages = [village for village in project.villages if village.id in rows]
        for village in villages:
            row = rows[village.id]
            row.proposed += 1
            row.by_group[group] += 1
            if group in row.top and position[group] <= TOP:
                row.top[group] += 1
        if not villages:
            tambon_wide += 1
        if group == BUDGET_GROUP:
            group3_total += project.budget_satang
            if not villages:
                tambon_wide_satang += project.budget_satang
            for village, part in zip(
                villages, split_evenly(project.budget_satang, len(villages)), strict=True
            ):
                rows[village.id].group3_satang += part
    return Shares(
        rows=sorted(rows.values(), key=lambda row: row.village.number),
        projects=len(projects),
        by_group=by_group,
        group3_satang=group3_total,
        tambon_wide=tambon_wide,
        tambon_wide_group3_satang=tambon_wide_satang,
    )
