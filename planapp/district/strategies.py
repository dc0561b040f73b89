"""Strategy alignment: for each strategy of the level (national, the province's, the
district's), how many projects taken forward across the area serve it and the budget requested
under it, from the plans' summaries; and one strategy's projects, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from planapp.areas import strategies_of_level
from planapp.district.agency_figures import LEVELS
from planapp.district.dashboard import area_figures, plans_in_area
from planapp.extensions import db
from planapp.models import Plan, Project, Strategy, Tambon, project_strategies
from planapp.taken_forward import taken_forward_clause

# Rows on one page of a strategy's projects.
PROJECTS_PER_PAGE = 100


@dataclass
class StrategyLine:
    strategy: Strategy
    count: int = 0
    satang: int = 0


def strategies_of(province: str | None, district: str | None) -> list[Strategy]:
    """The province and district strategies the level speaks of (planapp/areas.py): national,
    the province's, the district's; not every area's of the country. Province first."""
    return db.session.scalars(
        select(Strategy)
        .where(Strategy.level.in_(LEVELS), strategies_of_level(province, district))
        .order_by(Strategy.level.desc(), Strategy.code)
    ).all()


def strategy_alignment(
    fiscal_year: int, province: str | None = None, district: str | None = None
) -> tuple[list[StrategyLine], int, int]:
    """Each strategy of the level with its projects taken forward and their budget; and how
    many projects taken forward serve none of the province and district strategies (with their
    budget). A project serving several strategies counts under each."""
    lines = {strategy.id: StrategyLine(strategy) for strategy in strategies_of(province, district)}
    unaligned = [0, 0]
    keys = {str(strategy_id) for strategy_id in lines} | {""}
    for _year, figure, key, count, satang, _o in area_figures(
        fiscal_year, province, district, "all", ("strategy", "unaligned"), keys=keys
    ):
        if figure == "unaligned":
            unaligned[0] += count
            unaligned[1] += satang
        else:
            lines[int(key)].count += count
            lines[int(key)].satang += satang
    return list(lines.values()), unaligned[0], unaligned[1]


@dataclass
class StrategyPage:
    rows: list  # (tambon, id, title, funding_group, urgency, budget_satang)
    page: int
    pages: int


def strategy_projects(
    strategy: Strategy, total: int, fiscal_year: int, province, district, page: int
) -> StrategyPage:
    """Page `page` of the projects taken forward in the area serving the strategy (`total` of
    them), by tambon and forum order; only the columns the page shows."""
    pages = max(1, -(-total // PROJECTS_PER_PAGE))
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        select(
            Tambon.name.label("tambon"),
            Project.id,
            Project.title,
            Project.funding_group,
            Project.urgency,
            Project.budget_satang,
        )
        .select_from(project_strategies)
        .join(Project, Project.id == project_strategies.c.project_id)
        .join(Plan, Plan.id == Project.plan_id)
        .join(Tambon, Tambon.id == Plan.tambon_id)
        .where(
            project_strategies.c.strategy_id == strategy.id,
            Project.plan_id.in_(plans_in_area(fiscal_year, province, district)),
            taken_forward_clause(),
        )
        .order_by(Tambon.name, Tambon.id, Project.funding_group, Project.rank, Project.id)
        .limit(PROJECTS_PER_PAGE)
        .offset((page - 1) * PROJECTS_PER_PAGE)
    ).all()
    return StrategyPage(rows, page, pages)
