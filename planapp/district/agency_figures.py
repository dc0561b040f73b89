"""What each agency leads and supports, and which strategies the projects serve, counted one way
for the agency list, the strategy alignment and the plans' summaries
(planapp/district/summaries.py): projects taken forward only."""

from __future__ import annotations

from sqlalchemy import exists, func, select, true

from planapp.extensions import db
from planapp.models import (
    Plan,
    Project,
    Strategy,
    Tambon,
    project_strategies,
    project_supporting_agencies,
)
from planapp.taken_forward import taken_forward_clause


def _of_plans(query, start=Project):
    """The query from `start` (Project, or a table joined to it) through the project's plan
    and tambon, so that a condition on Plan and Tambon applies."""
    if start is not Project:
        query = query.select_from(start).join(Project, Project.id == start.c.project_id)
    else:
        query = query.select_from(Project)
    return query.join(Plan, Plan.id == Project.plan_id).join(Tambon, Tambon.id == Plan.tambon_id)


def agency_rows(key, condition, ids=None):
    """(k, agency id, count, budget) of the projects taken forward each agency leads, in the
    plans under `condition` (on Plan and Tambon), grouped by `key`."""
    return db.session.execute(
        _of_plans(
            select(
                key,
                Project.lead_agency_id,
                func.count(),
                func.coalesce(func.sum(Project.budget_satang), 0),
            )
        )
        .where(condition, taken_forward_clause(), Project.lead_agency_id.is_not(None))
        .where(Project.lead_agency_id.in_(ids) if ids is not None else true())
        .group_by(key, Project.lead_agency_id)
    )


def support_rows(key, condition, ids=None):
    """(k, agency id, count) of the projects taken forward each agency supports."""
    return db.session.execute(
        _of_plans(
            select(key, project_supporting_agencies.c.agency_id, func.count()),
            project_supporting_agencies,
        )
        .where(condition, taken_forward_clause())
        .where(project_supporting_agencies.c.agency_id.in_(ids) if ids is not None else true())
        .group_by(key, project_supporting_agencies.c.agency_id)
    )


# --- strategies: the figures of planapp/district/strategies.py --------------------------------

# The strategy levels the alignment page speaks of (an อปท.'s own are the tambon's business).
LEVELS = ("province", "district")


def strategy_rows(key, condition, ids=None):
    """(k, strategy id, count, budget) of the projects taken forward serving each strategy (a
    project serving several counts under each)."""
    return db.session.execute(
        _of_plans(
            select(
                key,
                project_strategies.c.strategy_id,
                func.count(),
                func.coalesce(func.sum(Project.budget_satang), 0),
            ),
            project_strategies,
        )
        .where(condition, taken_forward_clause())
        .where(project_strategies.c.strategy_id.in_(ids) if ids is not None else true())
        .group_by(key, project_strategies.c.strategy_id)
    )


def unaligned_rows(key, condition):
    """(k, count, budget) of the projects taken forward that serve no strategy of LEVELS.
    NOT EXISTS, not NOT IN: PostgreSQL cannot turn `id NOT IN (subquery)` into an anti-join (a
    NULL in the list would change its meaning), and nationally the list outgrows work_mem, so it
    re-reads the subquery for every project; NOT EXISTS is a hashed anti-join."""
    aligned = (
        exists()
        .where(
            project_strategies.c.project_id == Project.id,
            Strategy.id == project_strategies.c.strategy_id,
            Strategy.level.in_(LEVELS),
        )
        .correlate_except(project_strategies, Strategy)
    )
    return db.session.execute(
        _of_plans(select(key, func.count(), func.coalesce(func.sum(Project.budget_satang), 0)))
        .where(condition, taken_forward_clause(), ~aligned)
        .group_by(key)
    )
