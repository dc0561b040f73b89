"""The minutes as a sheet of the plan workbook (planapp/export/workbook.py calls
`minutes_sheet`): the same content as the printable minutes page, in the workbook's government
look (planapp/export/xlsx_style.py)."""

from __future__ import annotations

from flask_babel import gettext as _

from planapp.domain import URGENCY_LABELS
from planapp.export import xlsx_style as xs
from planapp.formatting import baht, be_datetime, hhmm
from planapp.meeting.minutes import minutes as build_minutes
from planapp.models import Plan


def minutes_sheet(wb, plan: Plan) -> None:
    record = build_minutes(plan)
    columns = [xs.Column("", 12, "center"), xs.Column("", 70), xs.Column("", 14, "count")]
    title = _(
        "Integrated community plan forum of tambon %(name)s, fiscal year %(year)s",
        name=plan.tambon.name,
        year=plan.fiscal_year,
    )
    sheet = xs.SheetWriter(
        wb,
        _("Minutes"),
        columns,
        title_lines=[_("Minutes of the forum"), title],
        landscape=False,
        header=False,
    )
    for label, value in (
        (_("Date"), xs.be_date_text(plan.forum_date)),
        (_("Place"), plan.forum_place),
        (_("Chair of the forum"), plan.forum_chair),
    ):
        row = sheet.row([label, value or "", None], kinds=["label", "plain", "plain"])
        sheet.merge(row, 2, row, 3)

    sheet.blank_row()
    sheet.merged_line(_("Who was there"), kind="label")
    if record.attendance:
        sheet.row(["", _("Village"), _("People")], kinds="header")
        first = sheet.next_row
        for village, people in record.attendance:
            sheet.row([village.number, _("Village %(label)s", label=village.label), people])
        sheet.total_row(_("Total"), {3: (first, sheet.next_row - 1)})
    else:
        sheet.merged_line(_("Attendance was not recorded."), kind="plain")

    sheet.blank_row()
    sheet.merged_line(_("The steps of the forum"), kind="label")
    if record.window.start:
        sheet.merged_line(
            _("Opened at %(time)s", time=be_datetime(record.window.start)), kind="plain"
        )
    for step in record.steps:
        row = sheet.row(
            [hhmm(step.at), _("Step %(number)d: %(name)s", number=step.step, name=step.label)],
            kinds=["center", "text"],
        )
        sheet.merge(row, 2, row, 3)
    if not record.steps:
        sheet.merged_line(_("No step was recorded."), kind="plain")
    if record.window.end:
        sheet.merged_line(_("Closed at %(time)s", time=be_datetime(record.window.end)), "plain")

    sheet.blank_row()
    sheet.merged_line(_("Decisions of the forum, in the order they were taken"), kind="label")
    for decision in record.decisions:
        row = sheet.row([hhmm(decision.at), "\n".join(decision.lines)], kinds=["center", "text"])
        sheet.merge(row, 2, row, 3)
    if not record.decisions:
        sheet.merged_line(_("No decision was recorded yet."), kind="plain")
    if plan.agreed_at:
        sheet.merged_line(
            _(
                "The forum agreed the order of all three groups at %(time)s.",
                time=be_datetime(plan.agreed_at),
            ),
            kind="label",
        )

    agreed_section(sheet, record)

    sheet.blank_row()
    for role, name in (
        (_("Recorder of the minutes"), ""),
        (_("Chair of the forum"), plan.forum_chair),
        (_("Certifier of the minutes"), ""),
    ):
        sheet.blank_row()
        sheet.merged_line(f"{_('Signed')} ............................................", "plain")
        sheet.merged_line(f"( {name or '............................................'} )", "plain")
        sheet.merged_line(role, kind="plain")


def agreed_section(sheet, record) -> None:
    """What the forum agreed: each group in its order, the projects found not feasible and why,
    the projects taken forward by urgency (the figures every output shares)."""
    sheet.blank_row()
    sheet.merged_line(_("What the forum agreed"), kind="label")
    for group in record.groups:
        sheet.blank_row()
        sheet.merged_line(str(group.label), kind="label")
        status = (
            _("Order confirmed by the forum at %(time)s.", time=be_datetime(group.confirmed_at))
            if group.confirmed_at
            else _("Order as it stands; not confirmed yet.")
        )
        sheet.merged_line(status, kind="plain")
        if not group.projects:
            sheet.merged_line(_("No projects in this group."), kind="plain")
            continue
        for place, project in enumerate(group.projects, start=1):
            sheet.row([place, project.title, baht_value(project.budget_satang)], kinds=LINE)
        sheet.merged_line(
            _("Total %(count)s projects", count=len(group.projects))
            + f" · {baht(group.budget_satang)} {_('baht')}",
            kind="plain",
        )
    sheet.blank_row()
    sheet.merged_line(_("Projects found not feasible"), kind="label")
    for place, project in enumerate(record.not_feasible, start=1):
        reason = project.feasibility_reason or _("no reason recorded")
        sheet.row([place, f"{project.title}: {reason}", None], kinds=LINE)
    if not record.not_feasible:
        sheet.merged_line(_("None."), kind="plain")
    sheet.blank_row()
    sheet.merged_line(_("Projects taken forward, by urgency"), kind="label")
    sheet.row([_("Projects"), _("Urgency"), _("Budget (baht)")], kinds="header")
    figures = record.taken_forward
    for tier, tally in figures.urgency.items():
        label = URGENCY_LABELS[tier] if tier in URGENCY_LABELS else _("Urgency not set yet")
        sheet.row([tally.count, str(label), baht_value(tally.satang)], kinds=TIER_LINE)
    sheet.row(
        [
            figures.total.count,
            _("Taken forward (groups 1 to 3, not found not feasible)"),
            baht_value(figures.total.satang),
        ],
        kinds=TIER_LINE,
    )


# A project line: place, title, budget; a tier line: number of projects, tier, budget.
LINE = ["center", "text", "baht"]
TIER_LINE = ["count", "text", "baht"]


def baht_value(satang: int) -> int | float:
    return satang // 100 if satang % 100 == 0 else satang / 100
