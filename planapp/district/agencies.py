"""Agencies across the district: what each one leads and supports in every tambon, so a district
agency can take its own list to its own planning."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select, union
from sqlalchemy.orm import selectinload

from planapp.district.dashboard import in_area, plans_in_area, thai_sort_key
from planapp.extensions import db
from planapp.models import (
    Agency,
    Plan,
    Project,
    Tambon,
    project_supporting_agencies,
    projects_table,
)
from planapp.taken_forward import taken_forward_clause

# Urgent first, projects whose tier is not set yet last.
URGENCY_ORDER = case(
    (Project.urgency == "urgent", 0),
    (Project.urgency == "medium", 1),
    (Project.urgency == "normal", 2),
    else_=3,
)


URGENCY_RANK = {"urgent": 0, "medium": 1, "normal": 2}


def _agency_project_ids(agency_id: int):
    """Ids of the projects the agency leads or supports, as one subquery: the UNION of two
    indexed lookups. (An OR of the two conditions cannot use either index: PostgreSQL walked
    every project of the year for it.)"""
    return union(
        select(projects_table.c.id).where(projects_table.c.lead_agency_id == agency_id),
        select(project_supporting_agencies.c.project_id).where(
            project_supporting_agencies.c.agency_id == agency_id
        ),
    )


@dataclass
class AgencyProject:
    project: Project
    tambon: Tambon
    role: str  # "lead" or "support"


def agency_projects(
    agency: Agency, fiscal_year: int, province: str | None = None, district: str | None = None
) -> list[AgencyProject]:
    """The projects taken forward that the agency leads or supports, in the plans of the year
    (of the province or district, if given), urgent first, then by tambon and forum order."""
    rows = db.session.execute(
        _agency_rows(select(Project, Tambon), agency, fiscal_year, province, district)
        .order_by(URGENCY_ORDER, Tambon.name, Project.funding_group, Project.rank, Project.id)
        .options(
            selectinload(Project.villages),
            selectinload(Project.supporting_agencies),
            selectinload(Project.lead_agency),
        )
    ).all()
    result = [
        AgencyProject(project, tambon, "lead" if project.lead_agency_id == agency.id else "support")
        for project, tambon in rows
    ]
    # SQL gave the urgency order; tambons in Thai dictionary order within it (a stable sort).
    result.sort(
        key=lambda row: (URGENCY_RANK.get(row.project.urgency, 3), thai_sort_key(row.tambon.name))
    )
    return result


def _agency_rows(query, agency: Agency, fiscal_year: int, province, district):
    """The query over the projects of agency_projects (joined to their plan and tambon)."""
    return (
        query.select_from(Project)
        .join(Plan, Project.plan_id == Plan.id)
        .join(Tambon, Plan.tambon_id == Tambon.id)
        .where(
            in_area(fiscal_year, province, district),
            taken_forward_clause(),
            Project.id.in_(_agency_project_ids(agency.id)),
        )
    )


def agency_project_count(
    agency: Agency, fiscal_year: int, province: str | None = None, district: str | None = None
) -> int:
    """How many rows agency_projects has (its workbook's size, read before building it)."""
    return db.session.scalar(
        _agency_rows(select(func.count()), agency, fiscal_year, province, district)
    )


def agency_years(agency: Agency) -> list[int]:
    """Fiscal years in which the agency leads or supports a project, latest first."""
    return list(
        db.session.scalars(
            select(Plan.fiscal_year)
            .join(Project, Project.plan_id == Plan.id)
            .where(Project.id.in_(_agency_project_ids(agency.id)))
            .distinct()
            .order_by(Plan.fiscal_year.desc())
        ).all()
    )


@dataclass
class AgencyCount:
    agency: Agency
    lead: int
    support: int
    lead_satang: int


def agency_counts(
    fiscal_year: int, province: str | None = None, district: str | None = None, only=None
) -> list[AgencyCount]:
    """Every agency (or those whose ids the subquery `only` gives: an officer's area's) with
    how many projects taken forward it leads and supports in the year (in the province or
    district, if given)."""
    in_year = Project.plan_id.in_(plans_in_area(fiscal_year, province, district))
    lead = dict(
        (agency_id, (count, satang))
        for agency_id, count, satang in db.session.execute(
            select(
                Project.lead_agency_id,
                func.count(),
                func.coalesce(func.sum(Project.budget_satang), 0),
            )
            .where(in_year, taken_forward_clause(), Project.lead_agency_id.is_not(None))
            .group_by(Project.lead_agency_id)
        )
    )
    support = dict(
        db.session.execute(
            select(project_supporting_agencies.c.agency_id, func.count())
            .join(Project, Project.id == project_supporting_agencies.c.project_id)
            .where(in_year, taken_forward_clause())
            .group_by(project_supporting_agencies.c.agency_id)
        ).all()
    )
    listed = select(Agency).order_by(Agency.kind, Agency.name)
    if only is not None:
        listed = listed.where(Agency.id.in_(only))
    agencies = db.session.scalars(listed).all()
    return [
        AgencyCount(
            agency,
            lead.get(agency.id, (0, 0))[0],
            support.get(agency.id, 0),
            lead.get(agency.id, (0, 0))[1],
        )
        for agency in agencies
    ]
