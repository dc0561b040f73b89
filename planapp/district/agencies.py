"""Agencies across the district: what each one leads and supports in every tambon, so a district
agency can take its own list to its own planning."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, exists, func, or_, select, union
from sqlalchemy.orm import selectinload

from planapp.district.dashboard import area_figures, in_area, thai_sort_key
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


# Rows on one page of an agency's projects, and agencies on one page of the list.
PROJECTS_PER_PAGE = 100
AGENCIES_PER_PAGE = 100
# Projects loaded in one statement (their ids are bound one by one).
LOAD_CHUNK = 1000


def _agency_rows(agency: Agency, fiscal_year: int, province, district, *columns):
    """The agency's projects taken forward in the area's plans of the year. In a district, the
    district's few plans are read first and each project asks whether the agency is its lead or
    a supporter; above, the agency's own projects are looked up by agency (a national
    department: tens of thousands, out of half a million)."""
    if district:
        supports = exists().where(
            project_supporting_agencies.c.project_id == Project.id,
            project_supporting_agencies.c.agency_id == agency.id,
        )
        mine = or_(Project.lead_agency_id == agency.id, supports)
    else:
        mine = Project.id.in_(_agency_project_ids(agency.id))
    return (
        select(*columns)
        .select_from(Project)
        .join(Plan, Project.plan_id == Plan.id)
        .join(Tambon, Plan.tambon_id == Tambon.id)
        .where(in_area(fiscal_year, province, district), taken_forward_clause(), mine)
    )


def _ordered_ids(agency: Agency, fiscal_year: int, province, district) -> list[int]:
    """The ids of the agency's projects in page order: urgent first, then by tambon in Thai
    dictionary order, then in the forum's order. Only the few columns of the order are read
    (tens of thousands of rows for a national department), so any page is a slice of it."""
    rows = db.session.execute(
        _agency_rows(
            agency, fiscal_year, province, district,
            Project.id, Project.urgency, Tambon.name, Project.funding_group, Project.rank,
        ).order_by(URGENCY_ORDER, Tambon.name, Project.funding_group, Project.rank, Project.id)
    ).all()  # fmt: skip
    # SQL gave the urgency order; tambons in Thai dictionary order within it (a stable sort).
    names = {name: thai_sort_key(name) for name in {row.name for row in rows}}
    rows.sort(key=lambda row: (URGENCY_RANK.get(row.urgency, 3), names[row.name]))
    return [row[0] for row in rows]


def _load(agency: Agency, ids: list[int]) -> list[AgencyProject]:
    """The projects of `ids` with their tambons, villages and agencies, in the order of `ids`."""
    loaded = {}
    for start in range(0, len(ids), LOAD_CHUNK):  # a national department's workbook: 24,000
        chunk = ids[start : start + LOAD_CHUNK]
        loaded.update(
            (project.id, (project, tambon))
            for project, tambon in db.session.execute(
                select(Project, Tambon)
                .join(Plan, Project.plan_id == Plan.id)
                .join(Tambon, Plan.tambon_id == Tambon.id)
                .where(Project.id.in_(chunk))
                .options(
                    selectinload(Project.villages),
                    selectinload(Project.supporting_agencies),
                    selectinload(Project.lead_agency),
                )
            ).all()
        )
    return [
        AgencyProject(project, tambon, "lead" if project.lead_agency_id == agency.id else "support")
        for project, tambon in (loaded[i] for i in ids)
    ]


def agency_projects(
    agency: Agency, fiscal_year: int, province: str | None = None, district: str | None = None
) -> list[AgencyProject]:
    """The projects taken forward that the agency leads or supports, in the plans of the year
    (of the province or district, if given), urgent first, then by tambon and forum order."""
    return _load(agency, _ordered_ids(agency, fiscal_year, province, district))


@dataclass
class AgencyPage:
    """One page of an agency's projects in a district."""

    rows: list[AgencyProject]
    page: int
    pages: int
    total: int


def agency_page(
    agency: Agency, fiscal_year: int, province: str | None, district: str | None, page: int
) -> AgencyPage:
    """Page `page` (from 1; past the end: the last) of agency_projects, PROJECTS_PER_PAGE rows:
    the page of a district (a district's agency has a few hundred projects at most)."""
    ids = _ordered_ids(agency, fiscal_year, province, district)
    pages = max(1, -(-len(ids) // PROJECTS_PER_PAGE))
    page = min(max(page, 1), pages)
    start = (page - 1) * PROJECTS_PER_PAGE
    return AgencyPage(_load(agency, ids[start : start + PROJECTS_PER_PAGE]), page, pages, len(ids))


def agency_figures(fiscal_year: int, province, district, agency_ids) -> dict[int, tuple]:
    """{agency id: (projects it leads, their budget, projects it supports)} in the area's plans
    of the year, from the plans' summaries (planapp/district/dashboard.py, area_figures)."""
    result: dict[int, list[int]] = {}
    for _year, figure, key, count, satang, _ordinance in area_figures(
        fiscal_year,
        province,
        district,
        "all",
        ("lead", "support"),
        keys={str(agency_id) for agency_id in agency_ids},
    ):
        cell = result.setdefault(int(key), [0, 0, 0])
        if figure == "lead":
            cell[0] += count
            cell[1] += satang
        else:
            cell[2] += count
    return {agency_id: tuple(cell) for agency_id, cell in result.items()}


def agency_project_count(
    agency: Agency, fiscal_year: int, province: str | None = None, district: str | None = None
) -> int:
    """How many rows agency_projects has (its workbook's size, read before building it)."""
    return db.session.scalar(_agency_rows(agency, fiscal_year, province, district, func.count()))


@dataclass
class AgencyCount:
    agency: Agency
    lead: int
    support: int
    lead_satang: int


def agency_counts(
    fiscal_year: int,
    province: str | None = None,
    district: str | None = None,
    only=None,
    page: int = 1,
) -> tuple[list[AgencyCount], int, int]:
    """One page of the agencies (or of those whose ids the subquery `only` gives: an officer's
    area's), AGENCIES_PER_PAGE in order of kind and name, each with how many projects taken
    forward it leads and supports in the year (in the province or district, if given).
    Returns the rows, the page shown and the number of pages."""
    listed = select(Agency)
    if only is not None:
        listed = listed.where(Agency.id.in_(only))
    total = db.session.scalar(select(func.count()).select_from(listed.subquery()))
    pages = max(1, -(-total // AGENCIES_PER_PAGE))
    page = min(max(page, 1), pages)
    agencies = db.session.scalars(
        listed.order_by(Agency.kind, Agency.name, Agency.id)
        .limit(AGENCIES_PER_PAGE)
        .offset((page - 1) * AGENCIES_PER_PAGE)
    ).all()
    figures = agency_figures(fiscal_year, province, district, [a.id for a in agencies])
    rows = []
    for agency in agencies:
        lead, lead_satang, support = figures.get(agency.id, (0, 0, 0))
        rows.append(AgencyCount(agency, lead, support, lead_satang))
    return rows, page, pages


@dataclass
class AgencyArea:
    """A province (of the country) or a district (of a province) where the agency acts, with
    what it leads and supports there."""

    name: str
    province: str
    district: str | None
    lead: int = 0
    lead_satang: int = 0
    support: int = 0


def agency_areas(
    agency: Agency, fiscal_year: int, province: str | None
) -> tuple[list[AgencyArea], AgencyArea]:
    """The provinces (or the districts of `province`) where the agency leads or supports a
    project taken forward in the year, with its figures there, and their total: an agency's page
    above a district lists these, never the projects of a whole province or country (a national
    department has tens of thousands)."""
    areas: dict[str, AgencyArea] = {}
    for name, figure, _key, count, satang, _ordinance in area_figures(
        fiscal_year,
        province,
        None,
        "district" if province else "province",
        ("lead", "support"),
        keys={str(agency.id)},
    ):
        area = areas.setdefault(
            name, AgencyArea(name, province or name, name if province else None)
        )
        if figure == "lead":
            area.lead += count
            area.lead_satang += satang
        else:
            area.support += count
    total = AgencyArea("", province or "", None)
    for area in areas.values():
        total.lead += area.lead
        total.lead_satang += area.lead_satang
        total.support += area.support
    return sorted(areas.values(), key=lambda area: thai_sort_key(area.name)), total
