"""Strategy alignment: for each province and district strategy, which projects across the
district serve it, and the budget requested under it."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import exists, func, select

from planapp.areas import strategies_of_level
from planapp.district.dashboard import plans_in_area, thai_sort_key
from planapp.extensions import db
from planapp.models import Plan, Project, Strategy, Tambon, project_strategies
from planapp.taken_forward import taken_forward_clause

LEVELS = ("province", "district")


@dataclass
class StrategyLine:
    strategy: Strategy
    count: int = 0
    satang: int = 0
    # rows (tambon, id, title, funding_group, urgency, budget_satang), tambon and forum order
    projects: list = field(default_factory=list)


def strategy_alignment(
    fiscal_year: int, province: str | None = None, district: str | None = None
) -> tuple[list[StrategyLine], int, int]:
    """Each province/district strategy with its projects taken forward and their budget; and
    how many projects taken forward serve none of them (with their budget)."""
    in_plans = Project.plan_id.in_(plans_in_area(fiscal_year, province, district))
    strategies = db.session.scalars(
        select(Strategy)
        # The strategies of the level's area (planapp/areas.py): national, the province's,
        # the district's; not every area's of the country.
        .where(Strategy.level.in_(LEVELS), strategies_of_level(province, district))
        .order_by(Strategy.level.desc(), Strategy.code)  # province first, then district
    ).all()
    lines = {strategy.id: StrategyLine(strategy) for strategy in strategies}
    for strategy_id, count, satang in db.session.execute(
        select(
            project_strategies.c.strategy_id,
            func.count(),
            func.coalesce(func.sum(Project.budget_satang), 0),
        )
        .join(Project, Project.id == project_strategies.c.project_id)
        .where(in_plans, taken_forward_clause(), project_strategies.c.strategy_id.in_(lines))
        .group_by(project_strategies.c.strategy_id)
    ):
        lines[strategy_id].count, lines[strategy_id].satang = count, satang

    # Only the columns the page shows: thousands of rows, no ORM objects to build.
    for row in db.session.execute(
        select(
            project_strategies.c.strategy_id,
            Tambon.name.label("tambon"),
            Project.id,
            Project.title,
            Project.funding_group,
            Project.urgency,
            Project.budget_satang,
        )
        .join(Project, Project.id == project_strategies.c.project_id)
        .join(Plan, Plan.id == Project.plan_id)
        .join(Tambon, Tambon.id == Plan.tambon_id)
        .where(in_plans, taken_forward_clause(), project_strategies.c.strategy_id.in_(lines))
        .order_by(Tambon.name, Project.funding_group, Project.rank, Project.id)
    ):
        lines[row.strategy_id].projects.append(row)
    for line in lines.values():
        line.projects.sort(key=lambda row: thai_sort_key(row.tambon))

    # NOT EXISTS, not NOT IN: PostgreSQL cannot turn `id NOT IN (subquery)` into an anti-join
    # (a NULL in the list would change its meaning), and nationally the list outgrows work_mem,
    # so it re-reads the subquery for every project; NOT EXISTS is a hashed anti-join.
    aligned = (
        exists()
        .where(
            project_strategies.c.project_id == Project.id,
            Strategy.id == project_strategies.c.strategy_id,
            Strategy.level.in_(LEVELS),
        )
        .correlate_except(project_strategies, Strategy)
    )
    unaligned_count, unaligned_satang = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Project.budget_satang), 0)).where(
            in_plans, taken_forward_clause(), ~aligned
        )
    ).one()
    return list(lines.values()), unaligned_count, unaligned_satang
