"""One agency's projects across the district as an Excel workbook, with the same look as the
tambon plan workbook (planapp/export/xlsx_style.py): the agency takes it to its own planning.

Sheet 1 lists the projects by urgency tier (urgent first), each tier closing with a SUM of its
budget and the sheet with the sum of the tier totals; sheet 2 sums them up per tambon."""

from __future__ import annotations

import io
from collections.abc import Callable

from flask_babel import gettext as _

from planapp import domain
from planapp.district.agencies import AgencyProject
from planapp.district.dashboard import thai_sort_key
from planapp.export import xlsx_style as xs
from planapp.models import Agency

NO_URGENCY = None


def _baht(satang: int) -> int | float:
    return satang // 100 if satang % 100 == 0 else satang / 100


def _labels(mapping) -> dict:
    return {code: str(label) for code, label in mapping.items()}


def agency_workbook_bytes(
    agency: Agency,
    fiscal_year: int,
    rows: list[AgencyProject],
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """The workbook's file; `progress(rows written)` is called after every project row (the
    jobs worker shows it, planapp/jobs)."""
    stream = io.BytesIO()
    build_agency_workbook(agency, fiscal_year, rows, progress).save(stream)
    return stream.getvalue()


def agency_file_name(agency: Agency, fiscal_year: int) -> str:
    return f"agency-{agency.id}-{agency.name}-{fiscal_year}.xlsx"


def title_lines(agency: Agency, fiscal_year: int, heading: str) -> list[str]:
    return [
        heading,
        _(
            "%(agency)s, projects from the tambon community plans, fiscal year %(year)s",
            agency=agency.name,
            year=fiscal_year,
        ),
    ]


def build_agency_workbook(
    agency: Agency,
    fiscal_year: int,
    rows: list[AgencyProject],
    progress: Callable[[int], None] | None = None,
):
    urgency = _labels(domain.URGENCY_LABELS)
    groups = _labels(domain.GROUP_SHORT_LABELS)
    followup = _labels(domain.FOLLOWUP_LABELS)
    roles = {"lead": _("Lead agency"), "support": _("Supporting agency")}
    satang = any(row.project.budget_satang % 100 for row in rows)
    wb = xs.new_workbook(write_only=True, satang=satang)
    wb.properties.title = title_lines(agency, fiscal_year, "")[1]
    wb.properties.creator = "planapp"

    columns = [
        xs.Column(_("No."), 6, "center"),
        xs.Column(_("Tambon"), 16),
        xs.Column(_("Project"), 40),
        xs.Column(_("Objective"), 30),
        xs.Column(_("Target (project output)"), 30),
        xs.Column(_("Village numbers"), 12),
        xs.Column(_("Group"), 10),
        xs.Column(_("Role"), 16),
        xs.Column(_("Lead and supporting agencies"), 34),
        xs.Column(_("Budget (baht)"), 15, "baht"),
        xs.Column(_("Follow-up status"), 22),
    ]
    budget_column = 10
    sheet = xs.SheetWriter(
        wb,
        _("Projects"),
        columns,
        title_lines=title_lines(
            agency, fiscal_year, _("Projects that %(agency)s leads or supports", agency=agency.name)
        ),
    )
    subtotals = []
    written = 0
    for tier in [*domain.URGENCY, NO_URGENCY]:
        tier_rows = [row for row in rows if row.project.urgency == tier]
        label = urgency[tier] if tier else _("Urgency not set")
        sheet.merged_line(f"{label} ({len(tier_rows)})", kind="label")
        first = sheet.next_row
        for number, row in enumerate(tier_rows, start=1):
            project = row.project
            partners = [project.lead_agency.name] if project.lead_agency else []
            partners += [a.name for a in project.supporting_agencies]
            sheet.row(
                [
                    number,
                    row.tambon.name,
                    project.title,
                    project.objective,
                    project.target_output,
                    ", ".join(str(n) for n in project.village_numbers),
                    groups.get(project.funding_group, project.funding_group),
                    roles[row.role],
                    "\n".join(partners),
                    _baht(project.budget_satang),
                    followup[project.followup_status],
                ]
            )
            written += 1
            if progress is not None:
                progress(written)
        subtotals.append(
            sheet.total_row(
                _("Total %(tier)s", tier=label),
                {budget_column: (first, sheet.next_row - 1)},
                label_column=budget_column - 1,
            )
        )
    letter = "J"  # the budget column
    sheet.total_row(
        _("Grand total"),
        label_column=budget_column - 1,
        formulas={
            budget_column: (xs.sum_cells(f"{letter}{row}" for row in subtotals), "total_baht")
        },
    )

    # Sheet 2: per tambon, what the agency leads and supports.
    summary = xs.SheetWriter(
        wb,
        _("By tambon"),
        [
            xs.Column(_("Tambon"), 24),
            xs.Column(_("Projects it leads"), 14, "count"),
            xs.Column(_("Budget it leads (baht)"), 18, "baht"),
            xs.Column(_("Projects it supports"), 14, "count"),
            xs.Column(_("Budget it supports (baht)"), 18, "baht"),
        ],
        title_lines=title_lines(agency, fiscal_year, _("Projects by tambon")),
    )
    per_tambon: dict[str, list[int]] = {}
    for row in rows:
        figures = per_tambon.setdefault(row.tambon.name, [0, 0, 0, 0])
        offset = 0 if row.role == "lead" else 2
        figures[offset] += 1
        figures[offset + 1] += row.project.budget_satang
    first = summary.next_row
    for name in sorted(per_tambon, key=thai_sort_key):
        lead, lead_satang, support, support_satang = per_tambon[name]
        summary.row([name, lead, _baht(lead_satang), support, _baht(support_satang)])
    last = summary.next_row - 1
    summary.total_row(
        _("Total"),
        label_column=1,
        formulas={
            2: (xs.sum_formula(2, first, last), "total_count"),
            3: (xs.sum_formula(3, first, last), "total_baht"),
            4: (xs.sum_formula(4, first, last), "total_count"),
            5: (xs.sum_formula(5, first, last), "total_baht"),
        },
    )
    return wb
