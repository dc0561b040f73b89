"""A province's (or a district's, or the whole country's) workbook: every project taken forward
by the forums of the area in a fiscal year, one row each, with the look of the tambon plan
workbook (planapp/export/xlsx_style.py). A province has tens of thousands of such projects, so
the rows are read from the database in batches and written to a write-only workbook as they
come, never held all at once; the jobs worker builds it (planapp/jobs) when it is big.

Sheet 1 lists the projects by province, district, tambon, funding group and rank, and closes
with the SUM of their budgets; sheet 2 sums them up per tambon."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from planapp import domain
from planapp.district.dashboard import in_area
from planapp.export import xlsx_style as xs
from planapp.extensions import db
from planapp.models import Agency, Plan, Project, Tambon
from planapp.taken_forward import taken_forward_clause

BATCH = 2000  # rows read from the database at a time


@dataclass(frozen=True)
class AreaSize:
    projects: int
    satang: bool  # some budget has satang (the budget column then shows them)


def _area_projects(query, fiscal_year: int, province: str | None, district: str | None):
    return (
        query.select_from(Project)
        .join(Plan, Project.plan_id == Plan.id)
        .join(Tambon, Plan.tambon_id == Tambon.id)
        .where(in_area(fiscal_year, province, district), taken_forward_clause())
    )


def area_size(fiscal_year: int, province: str | None, district: str | None) -> AreaSize:
    """How many projects the area's workbook lists (read before building it)."""
    count, satang = db.session.execute(
        _area_projects(
            select(
                func.count(),
                func.coalesce(func.max(case((Project.budget_satang % 100 != 0, 1), else_=0)), 0),
            ),
            fiscal_year,
            province,
            district,
        )
    ).one()
    return AreaSize(count, bool(satang))


def area_rows(fiscal_year: int, province: str | None, district: str | None) -> Iterator:
    """The area's projects taken forward, as plain rows, in batches of BATCH."""
    query = _area_projects(
        select(
            Tambon.province,
            Tambon.district,
            Tambon.name.label("tambon"),
            Project.title,
            Project.sector,
            Project.funding_group,
            Project.rank,
            Project.urgency,
            Agency.name.label("lead_agency"),
            Project.budget_satang,
            Project.followup_status,
        ),
        fiscal_year,
        province,
        district,
    )
    query = query.outerjoin(Agency, Agency.id == Project.lead_agency_id).order_by(
        Tambon.province, Tambon.district, Tambon.name, Project.funding_group, Project.rank
    )
    yield from db.session.execute(query.execution_options(yield_per=BATCH))


def area_name(province: str | None, district: str | None) -> str:
    if district:
        return _("District %(district)s, %(province)s", district=district, province=province)
    if province:
        return _("Province %(province)s", province=province)
    return _("The whole country")


def area_file_name(fiscal_year: int, province: str | None, district: str | None) -> str:
    parts = [part for part in ("projects", province, district, str(fiscal_year)) if part]
    return "-".join(parts) + ".xlsx"


def _baht(satang: int) -> int | float:
    return satang // 100 if satang % 100 == 0 else satang / 100


def area_workbook_bytes(
    fiscal_year: int,
    province: str | None,
    district: str | None,
    size: AreaSize,
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """The area's workbook; `progress(rows written)` after every project row."""
    labels = {code: str(label) for code, label in domain.SECTOR_LABELS.items()}
    groups = {code: str(label) for code, label in domain.GROUP_SHORT_LABELS.items()}
    urgency = {code: str(label) for code, label in domain.URGENCY_LABELS.items()}
    followup = {code: str(label) for code, label in domain.FOLLOWUP_LABELS.items()}
    name = area_name(province, district)
    title = _(
        "%(area)s: projects taken forward by the tambon forums, fiscal year %(year)s",
        area=name,
        year=fiscal_year,
    )
    wb = xs.new_workbook(write_only=True, satang=size.satang)
    wb.properties.title = title
    wb.properties.creator = "planapp"
    columns = [
        xs.Column(_("No."), 7, "center"),
        xs.Column(_("Province"), 14),
        xs.Column(_("District"), 14),
        xs.Column(_("Tambon"), 16),
        xs.Column(_("Project"), 44),
        xs.Column(_("Sector"), 18),
        xs.Column(_("Group"), 10),
        xs.Column(_("Rank"), 7, "center"),
        xs.Column(_("Urgency"), 10),
        xs.Column(_("Lead agency"), 26),
        xs.Column(_("Budget (baht)"), 15, "baht"),
        xs.Column(_("Follow-up status"), 22),
    ]
    budget_column = 11
    sheet = xs.SheetWriter(wb, _("Projects"), columns, title_lines=[title])
    first = sheet.next_row
    per_tambon: dict[tuple[str, str, str], list[int]] = {}
    for number, row in enumerate(area_rows(fiscal_year, province, district), start=1):
        sheet.row(
            [
                number,
                row.province,
                row.district,
                row.tambon,
                row.title,
                labels.get(row.sector, row.sector),
                groups.get(row.funding_group, row.funding_group),
                row.rank,
                urgency.get(row.urgency, ""),
                row.lead_agency or "",
                _baht(row.budget_satang),
                followup.get(row.followup_status, row.followup_status),
            ]
        )
        figures = per_tambon.setdefault((row.province, row.district, row.tambon), [0, 0])
        figures[0] += 1
        figures[1] += row.budget_satang
        if progress is not None:
            progress(number)
    sheet.total_row(
        _("Total"),
        {budget_column: (first, max(first, sheet.next_row - 1))},
        label_column=budget_column - 1,
    )

    summary = xs.SheetWriter(
        wb,
        _("By tambon"),
        [
            xs.Column(_("Province"), 16),
            xs.Column(_("District"), 16),
            xs.Column(_("Tambon"), 20),
            xs.Column(_("Projects"), 12, "count"),
            xs.Column(_("Budget (baht)"), 18, "baht"),
        ],
        title_lines=[title],
    )
    first = summary.next_row
    for (tambon_province, tambon_district, tambon), (count, satang) in per_tambon.items():
        summary.row([tambon_province, tambon_district, tambon, count, _baht(satang)])
    last = max(first, summary.next_row - 1)
    summary.total_row(
        _("Total"),
        label_column=3,
        formulas={
            4: (xs.sum_formula(4, first, last), "total_count"),
            5: (xs.sum_formula(5, first, last), "total_baht"),
        },
    )
    stream = io.BytesIO()
    wb.save(stream)
    return stream.getvalue()
