"""What each agency leads and supports, counted one way for the agency list and the plans'
summaries (planapp/district/summaries.py): projects taken forward only."""

from __future__ import annotations

from sqlalchemy import func, select

from planapp.extensions import db
from planapp.models import Plan, Project, Tambon, project_supporting_agencies
from planapp.taken_forward import taken_forward_clause


def agency_rows(key, condition):
    """(k, agency id, count, budget) of the projects taken forward each agency leads, in the
    plans under `condition` (on Plan and Tambon), grouped by `key`."""
    return db.session.execute(
        select(
            key,
            Project.lead_agency_id,
            func.count(),
            func.coalesce(func.sum(Project.budget_satang), 0),
        )
        .select_from(Project)
        .join(Plan, Plan.id == Project.plan_id)
        .join(Tambon, Tambon.id == Plan.tambon_id)
        .where(condition, taken_forward_clause(), Project.lead_agency_id.is_not(None))
        .group_by(key, Project.lead_agency_id)
    )


def support_rows(key, condition):
    """(k, agency id, count) of the projects taken forward each agency supports."""
    return db.session.execute(
        select(key, project_supporting_agencies.c.agency_id, func.count())
        .select_from(project_supporting_agencies)
        .join(Project, Project.id == project_supporting_agencies.c.project_id)
        .join(Plan, Plan.id == Project.plan_id)
        .join(Tambon, Tambon.id == Plan.tambon_id)
        .where(condition, taken_forward_clause())
        .group_by(key, project_supporting_agencies.c.agency_id)
    )
