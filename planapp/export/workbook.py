"""The integrated tambon plan as an Excel workbook for the อปท. planning office (design brief
section 9, issue 8).

Sheets, in order: the summary; one sheet per funding group in forum rank; the urgency view; the
ผ.02/1 and ผ.02/2 project-detail forms (the strategies the plan answers to, ก.–จ., then blocks
ยุทธศาสตร์ → กลยุทธ์ → แผนงาน), each followed by its ผ.01 summary (per ยุทธศาสตร์ and แผนงาน);
one sheet per village.
Totals are SUM formulas over exactly the rows above them (the ผ.01 summaries point at the ผ.02
subtotals), so an officer's edit updates every total. The workbook is streamed (openpyxl
write-only mode) so a plan of thousands of projects stays small in memory.
"""

from __future__ import annotations

import io
from collections import defaultdict
from typing import NamedTuple

from flask_babel import gettext as _
from openpyxl.utils import get_column_letter, quote_sheetname

from planapp import domain
from planapp.domain import code_key
from planapp.export import xlsx_style as xs
from planapp.export.rows import (
    LEVEL_ORDER,
    PROGRAMME_ORDER,
    URGENCY_ORDER,
    Labels,
    ProjectRow,
    load_rows,
)
from planapp.meeting.record import participants
from planapp.models import Plan
from planapp.taken_forward import NO_URGENCY, URGENCY_KEYS, Tally, taken_forward

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook_bytes(plan: Plan, rows: list[ProjectRow] | None = None) -> bytes:
    stream = io.BytesIO()
    build_workbook(plan, rows).save(stream)
    return stream.getvalue()


def build_workbook(plan: Plan, rows: list[ProjectRow] | None = None):
    labels = Labels.current()
    if rows is None:
        rows = load_rows(plan, labels)
    wb = xs.new_workbook(write_only=True, satang=any(r.budget_satang % 100 for r in rows))
    wb.properties.title = _(
        "Integrated community plan of tambon %(name)s, fiscal year %(year)s",
        name=plan.tambon.name,
        year=plan.fiscal_year,
    )
    wb.properties.creator = "planapp"
    summary_sheet(wb, plan, rows, labels)
    for group in domain.FUNDING_GROUPS:
        group_sheet(wb, plan, group, [r for r in rows if r.group == group], labels)
    urgency_sheet(wb, plan, rows, labels)
    local, beyond = local_plan_split(plan, rows)
    outside = {"1": [], "2": []}
    for form, form_rows in (("1", local), ("2", beyond)):
        outside[form] = [r for r in form_rows if plan_year(plan, r) is None]
        in_span = [r for r in form_rows if plan_year(plan, r) is not None]
        blocks = local_plan_sheet(wb, plan, form, in_span, labels, len(outside[form]))
        local_plan_summary_sheet(wb, plan, form, blocks)
    outside_years_sheet(wb, plan, outside)
    by_village = defaultdict(list)
    for r in rows:
        for v in r.villages:
            by_village[v.id].append(r)
    for village in plan.tambon.villages:
        village_sheet(wb, plan, village, by_village[village.id])
    # The minutes of the forum (planapp/meeting) close the workbook.
    from planapp.meeting.minutes_sheet import minutes_sheet

    minutes_sheet(wb, plan)
    return wb


def plan_title_lines(plan: Plan, heading: str) -> list[str]:
    tambon = plan.tambon
    return [
        heading,
        _(
            "Integrated community plan of tambon %(name)s, district %(district)s, province "
            "%(province)s, fiscal year %(year)s",
            name=tambon.name,
            district=tambon.district,
            province=tambon.province,
            year=plan.fiscal_year,
        ),
    ]


# --- 1. summary ---------------------------------------------------------------------------


def summary_sheet(wb, plan: Plan, rows: list[ProjectRow], labels: Labels) -> None:
    columns = [xs.Column("", 48, "text"), xs.Column("", 14, "count"), xs.Column("", 20, "baht")]
    sheet = xs.SheetWriter(
        wb,
        _("Summary"),
        columns,
        title_lines=plan_title_lines(plan, _("Summary of the integrated tambon plan")),
        landscape=False,
        header=False,
    )
    tambon = plan.tambon
    facts = [
        (_("Tambon"), tambon.name),
        (_("District"), tambon.district),
        (_("Province"), tambon.province),
        (_("Fiscal year (BE)"), str(plan.fiscal_year)),
        (
            _("Local development plan"),
            f"{plan.plan_years[0]}–{plan.plan_years[-1]}",
        ),
        (
            _("Local administration"),
            tambon.local_admin_agency.name if tambon.local_admin_agency else "",
        ),
        (_("Forum date"), xs.be_date_text(plan.forum_date)),
        (_("Forum place"), plan.forum_place),
        (_("Forum chair"), plan.forum_chair),
        (_("Participants (people)"), participants(plan)),
        (_("Projects on the board"), len(rows)),
        (_("Villages that proposed projects"), len({v.id for r in rows for v in r.villages})),
        (
            _("Projects for the local plan's forms wanted outside its years"),
            sum(
                1
                for form_rows in local_plan_split(plan, rows)
                for r in form_rows
                if plan_year(plan, r) is None
            ),
        ),
    ]
    sheet.blank_row()
    for label, value in facts:
        kind = "count" if isinstance(value, int) else "text"
        row = sheet.row([label, value], kinds=["label", kind])
        if kind == "text":
            sheet.merge(row, 2, row, 3)

    def table(heading: str, items: list[tuple[str, list[ProjectRow] | Tally]], total=True):
        sheet.blank_row()
        sheet.row([heading, _("Projects"), _("Budget (baht)")], kinds="header")
        first = sheet.next_row
        for label, members in items:
            if isinstance(members, Tally):
                sheet.row([label, members.count, satang_value(members.satang)])
            else:
                sheet.row([label, len(members), baht_sum(members)])
        if total:
            last = sheet.next_row - 1
            sheet.total_row(_("Total"), {2: (first, last), 3: (first, last)}, label_column=1)

    by_group = defaultdict(list)
    for r in rows:
        by_group[r.group].append(r)
    table(_("Funding group"), [(labels.group[g], by_group[g]) for g in domain.GROUPS])

    # What the forum took forward, counted as every other output counts it
    # (planapp/taken_forward.py); its total is the sum of the tiers.
    figures = taken_forward(plan)
    table(
        _("Urgency of the projects taken forward"),
        [
            (labels.urgency.get(tier, _("Urgency not set yet")), tally)
            for tier, tally in figures.urgency.items()
        ],
    )

    by_sector = defaultdict(list)
    for r in rows:
        if r.taken_forward:
            by_sector[r.sector].append(r)
    sectors = list(domain.SECTORS) + sorted(set(by_sector) - set(domain.SECTORS))
    table(
        _("Sector of the projects taken forward"),
        [(labels.sector.get(s, s), by_sector[s]) for s in sectors],
    )

    by_village = defaultdict(list)
    for r in rows:
        for v in r.villages:
            by_village[v.id].append(r)
    village_items = [
        (f"{_('Village')} {v.number} {v.name}", by_village[v.id]) for v in plan.tambon.villages
    ]
    # A project proposed by several villages counts in each, so this table has no total.
    table(_("Village"), village_items, total=False)
    sheet.merged_line(
        _("A project proposed by several villages is counted in each of them."), kind="plain"
    )


def baht_sum(rows: list[ProjectRow]) -> int | float:
    return satang_value(sum(r.budget_satang for r in rows))


def satang_value(satang: int) -> int | float:
    """Baht for a cell: whole baht stay integers (exact)."""
    return satang // 100 if satang % 100 == 0 else satang / 100


# --- 2. one sheet per funding group -------------------------------------------------------


def group_sheet(wb, plan: Plan, group: str, rows: list[ProjectRow], labels: Labels) -> None:
    rows = sorted(rows, key=lambda r: r.position)
    columns = [
        xs.Column(_("No."), 5, "center"),
        xs.Column(_("Project"), 30),
        xs.Column(_("Objective"), 24),
        xs.Column(_("Target (project output)"), 24),
        xs.Column(_("Budget (baht)"), 14, "baht"),
        xs.Column(_("Expected result"), 24),
        xs.Column(_("Main responsible agency"), 20),
        xs.Column(_("Source villages"), 16),
        xs.Column(_("Sector"), 14),
        xs.Column(_("Strategy"), 22),
        xs.Column(_("Feasibility"), 11),
        xs.Column(_("Urgency"), 10),
        xs.Column(_("Supporting agencies"), 20),
    ]
    sheet = xs.SheetWriter(
        wb,
        labels.group_short[group],
        columns,
        title_lines=plan_title_lines(plan, labels.group[group]),
    )
    first = sheet.next_row
    for r in rows:
        sheet.row(
            [
                r.position,
                r.title,
                r.objective,
                r.target_output,
                r.budget,
                r.expected_result,
                r.lead_agency,
                r.village_label,
                r.sector_label,
                r.strategy_label,
                r.feasibility_label,
                r.urgency_label,
                r.supporting_agencies,
            ]
        )
    last = sheet.next_row - 1
    sheet.total_row(
        _("Total number of projects"),
        label_column=4,
        formulas={5: (xs.count_formula(2, first, last), "total_count")},
    )
    sheet.total_row(_("Total budget"), {5: (first, last)}, label_column=4)


# --- 3. urgency ---------------------------------------------------------------------------


def urgency_sheet(wb, plan: Plan, rows: list[ProjectRow], labels: Labels) -> None:
    columns = [
        xs.Column(_("No."), 6, "center"),
        xs.Column(_("Project"), 40),
        xs.Column(_("Group"), 12),
        xs.Column(_("Main responsible agency"), 30),
        xs.Column(_("Supporting agencies"), 36),
        xs.Column(_("Area"), 30),
        xs.Column(_("Budget (baht)"), 15, "baht"),
    ]
    sheet = xs.SheetWriter(
        wb,
        _("Urgency"),
        columns,
        title_lines=plan_title_lines(plan, _("Projects by urgency, lead and supporting agencies")),
    )
    subtotals = []
    # Every project taken forward, tier or none (planapp/taken_forward.py): the grand total is
    # the same figure as the summary sheet's, the projector's and the minutes'.
    taken = [r for r in rows if r.taken_forward]
    for tier in URGENCY_KEYS:
        tier_rows = [r for r in taken if (r.urgency or NO_URGENCY) == tier]
        if tier == NO_URGENCY and not tier_rows:
            continue
        label = labels.urgency.get(tier, _("Urgency not set yet"))
        sheet.merged_line(f"{label} ({len(tier_rows)})", kind="label")
        first = sheet.next_row
        for n, r in enumerate(tier_rows, start=1):
            sheet.row(
                [
                    n,
                    r.title,
                    labels.group_short.get(r.group, r.group),
                    r.lead_agency,
                    r.supporting_agencies,
                    r.area,
                    r.budget,
                ]
            )
        last = sheet.next_row - 1
        subtotals.append(
            sheet.total_row(
                _("Total %(tier)s", tier=label),
                {7: (first, last)},
                label_column=6,
            )
        )
    refs = [f"G{row}" for row in subtotals]
    sheet.total_row(
        _("Grand total"), label_column=6, formulas={7: (xs.sum_cells(refs), "total_baht")}
    )


# --- 4. the local development plan forms (ผ.02/1, ผ.02/2 and their ผ.01 summaries) ----------


def local_plan_split(plan: Plan, rows: list[ProjectRow]):
    """Groups 2 and 3 (not group 1: the community does those itself), minus the not feasible.
    ผ.02/1: led by the tambon's อปท. (or no lead named yet); ผ.02/2: led by another agency, beyond
    the อปท.'s capacity, to be coordinated."""
    own = plan.tambon.local_admin_agency_id
    taken = [r for r in rows if r.taken_forward and r.group != "1"]
    local = [r for r in taken if r.lead_agency_id is None or r.lead_agency_id == own]
    beyond = [r for r in taken if r.lead_agency_id is not None and r.lead_agency_id != own]
    return local, beyond


def plan_year(plan: Plan, row: ProjectRow) -> int | None:
    """The year column of the five-year span the budget goes in: the year the project is wanted,
    else the plan's fiscal year. None for a year outside the span: such a project is listed on
    its own sheet (`outside_years_sheet`), never put in another year's column."""
    wanted = row.wanted_year or plan.fiscal_year
    return None if plan.outside_plan_years(wanted) else wanted


class LocalPlanBlock(NamedTuple):
    """One block of a ผ.02 form: the rows of one แผนงาน under a ยุทธศาสตร์ and, when given, a
    กลยุทธ์. `tactic` and `sub` are the lines printed above the rows (None: no line);
    `programme` is the แผนงาน's code, which the ผ.01 summary adds up by."""

    heading: str
    tactic: str | None
    sub: str | None
    programme: str
    rows: list[ProjectRow]


def local_plan_blocks(plan: Plan, rows: list[ProjectRow], labels: Labels) -> list[LocalPlanBlock]:
    """The blocks in the form's order: ยุทธศาสตร์ → กลยุทธ์ → แผนงาน, or by ประเด็นการพัฒนา
    (sector) when the plan is grouped by issue. A strategy none of whose projects names a
    tactic has no tactic line (as before tactics existed); when some do, the others come last
    under "no tactic given"."""
    order = sorted(
        rows,
        key=lambda r: (URGENCY_ORDER.get(r.urgency, 9), r.group != "3", r.position, r.id),
    )
    if plan.grouping == "issue":
        by_sector = defaultdict(list)
        for r in order:
            by_sector[r.sector].append(r)
        sectors = [s for s in domain.SECTORS if s in by_sector] + sorted(
            set(by_sector) - set(domain.SECTORS)
        )
        return [
            LocalPlanBlock(
                _("Development issue: %(issue)s", issue=labels.sector.get(s, s)),
                None,
                None,
                "",
                by_sector[s],
            )
            for s in sectors
        ]
    # strategy key -> tactic key -> programme -> rows
    grouped = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    strategies, tactics = {}, {}
    for r in order:
        strategy, tactic = r.main_alignment
        key = (strategy.level, strategy.code) if strategy else None
        tactic_key = tactic.code if tactic else None
        strategies[key] = strategy
        tactics[key, tactic_key] = tactic
        grouped[key][tactic_key][r.programme].append(r)
    blocks = []
    keys = sorted(
        grouped,
        key=lambda k: (
            k is None,
            LEVEL_ORDER.get(k[0], 9) if k else 0,
            code_key(k[1]) if k else (),
        ),
    )
    for key in keys:
        strategy = strategies[key]
        heading = (
            _("Strategy %(code)s %(name)s", code=strategy.code, name=strategy.name)
            if strategy
            else _("No strategy given")
        )
        by_tactic = grouped[key]
        with_tactics = any(t is not None for t in by_tactic)
        for tactic_key in sorted(by_tactic, key=lambda t: (t is None, code_key(t or ""))):
            tactic = tactics[key, tactic_key]
            if tactic is not None:
                tactic_line = _("Tactic %(code)s %(name)s", code=tactic.code, name=tactic.name)
            else:
                tactic_line = _("No tactic given") if with_tactics else None
            by_programme = by_tactic[tactic_key]
            for programme in sorted(by_programme, key=programme_key):
                label = labels.programme.get(programme, programme) if programme else ""
                sub = _("Programme: %(name)s", name=label) if label else _("No programme given")
                blocks.append(
                    LocalPlanBlock(heading, tactic_line, sub, programme, by_programme[programme])
                )
    return blocks


def programme_key(programme: str):
    """แผนงาน in the order of local budgets; one not given comes last."""
    return (programme == "", PROGRAMME_ORDER.get(programme, 99), programme)


def local_plan_preamble(plan: Plan) -> list[str]:
    """The ก.–จ. lines of the ผ.02 forms: the strategies the plan answers to. None when the plan
    names none of them; otherwise all five, an empty one shown as "-" as the printed forms do."""
    texts = [(getattr(plan, name) or "").strip() for name in domain.PLAN_PREAMBLE]
    if not any(texts):
        return []
    return [
        f"{domain.PLAN_PREAMBLE_LABELS[name]} {text or '-'}"
        for name, text in zip(domain.PLAN_PREAMBLE, texts, strict=True)
    ]


def local_plan_titles(plan: Plan, form: str, kind: str) -> list[str]:
    tambon = plan.tambon
    years = plan.plan_years
    agency = tambon.local_admin_agency.name if tambon.local_admin_agency else tambon.name
    return [
        _("Form %(form)s", form=f"{kind}/{form}"),
        _("Details of development projects")
        if kind == "ผ.02"
        else _("Summary of development projects"),
        _("Local development plan (BE %(start)s–%(end)s)", start=years[0], end=years[-1]),
        _("For development projects taken from village and community plans")
        if form == "1"
        else _("For projects beyond the local administration's capacity, to be coordinated"),
        _(
            "%(agency)s, district %(district)s, province %(province)s",
            agency=agency,
            district=tambon.district,
            province=tambon.province,
        ),
    ]


def local_plan_sheet(
    wb, plan: Plan, form: str, rows: list[ProjectRow], labels: Labels, outside: int = 0
) -> dict:
    """The ผ.02/<form> sheet. Returns where its block totals are, for the ผ.01 summary.
    `outside`: how many of the form's projects are wanted outside the plan's years (listed on
    their own sheet, said at the end of this one)."""
    years = plan.plan_years
    budget_group = _("Budget")
    columns = [
        xs.Column(_("No."), 5, "center"),
        xs.Column(_("Project"), 26),
        xs.Column(_("Objective"), 22),
        xs.Column(_("Target (project output)"), 22),
    ]
    first_year_column = len(columns) + 1
    columns += [
        xs.Column(_("%(year)s (baht)", year=year), 13, "baht", group=budget_group) for year in years
    ]
    if plan.show_kpi:
        columns.append(xs.Column(_("Indicator (KPI)"), 18))
    columns.append(xs.Column(_("Expected result"), 20))
    columns.append(
        xs.Column(
            _("Main responsible agency") if form == "1" else _("Agency to coordinate with"), 18
        )
    )
    sheet = xs.SheetWriter(
        wb, f"ผ.02-{form}", columns, title_lines=local_plan_titles(plan, form, "ผ.02")
    )
    year_columns = list(range(first_year_column, first_year_column + len(years)))
    # Under the column header (which stays a few rows, frozen and repeated on every page), the
    # strategies the plan answers to open the form once.
    for line in local_plan_preamble(plan):
        sheet.merged_line(line, kind="plain")
    blocks = []
    previous = None
    for block in local_plan_blocks(plan, rows, labels):
        if block.heading != (previous.heading if previous else None):
            sheet.merged_line(block.heading, kind="label")
        if block.tactic and (
            previous is None or (previous.heading, previous.tactic) != (block.heading, block.tactic)
        ):
            sheet.merged_line(block.tactic, kind="label")
        if block.sub:
            sheet.merged_line(block.sub, kind="label")
        previous = block
        first = sheet.next_row
        for n, r in enumerate(block.rows, start=1):
            values = [n, r.title, r.objective, r.target_output]
            year = plan_year(plan, r)
            values += [r.budget if y == year else None for y in years]
            if plan.show_kpi:
                values.append(r.kpi)
            values.append(r.expected_result)
            values.append(r.lead_agency)
            sheet.row(values)
        last = sheet.next_row - 1
        span = {column: (first, last) for column in year_columns}
        budget_row = sheet.total_row(_("Total budget"), span, label_column=4)
        count_row = sheet.total_row(_("Total number of projects"), label_column=4, counts=span)
        blocks.append(
            {
                "heading": block.heading,
                "sub": block.sub,
                "programme": block.programme,
                "budget_row": budget_row,
                "count_row": count_row,
            }
        )
    if not blocks:
        sheet.merged_line(_("No projects in this form."), kind="plain")
    else:
        budget_refs = {
            c: [f"{get_column_letter(c)}{b['budget_row']}" for b in blocks] for c in year_columns
        }
        count_refs = {
            c: [f"{get_column_letter(c)}{b['count_row']}" for b in blocks] for c in year_columns
        }
        sheet.total_row(
            _("Grand total budget"),
            label_column=4,
            formulas={c: (xs.sum_cells(budget_refs[c]), "total_baht") for c in year_columns},
        )
        sheet.total_row(
            _("Grand total number of projects"),
            label_column=4,
            formulas={c: (xs.sum_cells(count_refs[c]), "total_count") for c in year_columns},
        )
    if outside:
        sheet.merged_line(outside_note(plan, outside), kind="label")
    return {
        "sheet": sheet.ws.title,
        "year_columns": year_columns,
        "blocks": blocks,
    }


def local_plan_summary_sheet(wb, plan: Plan, form: str, source: dict) -> None:
    """ผ.01/<form>: per strategy (and แผนงาน), the number of projects and the budget of each year
    and of the five years, as formulas pointing at the ผ.02 block totals."""
    years = plan.plan_years
    columns = [xs.Column(_("Strategy / programme"), 44)]
    for year in years:
        group = _("Year %(year)s", year=year)
        columns.append(xs.Column(_("Projects"), 10, "count", group=group))
        columns.append(xs.Column(_("Budget (baht)"), 14, "baht", group=group))
    five = _("Total 5 years")
    columns.append(xs.Column(_("Projects"), 10, "count", group=five))
    columns.append(xs.Column(_("Budget (baht)"), 15, "baht", group=five))
    sheet = xs.SheetWriter(
        wb, f"ผ.01-{form}", columns, title_lines=local_plan_titles(plan, form, "ผ.01")
    )
    width = len(columns)
    count_cols = [2 + 2 * i for i in range(len(years))]
    budget_cols = [c + 1 for c in count_cols]
    total_count_col, total_budget_col = width - 1, width
    source_sheet = quote_sheetname(source["sheet"])

    def source_ref(column: int, row: int) -> str:
        return f"{source_sheet}!{get_column_letter(column)}{row}"

    def line(label: str, members: list[dict]) -> int:
        """One line adding up ผ.02 blocks (one แผนงาน's blocks under each tactic)."""

        def refs(column: int, key: str) -> str:
            return "=" + "+".join(source_ref(column, block[key]) for block in members)

        values: list = [label]
        for year_column in source["year_columns"]:
            values.append(sheet.formula(refs(year_column, "count_row"), "count"))
            values.append(sheet.formula(refs(year_column, "budget_row"), "baht"))
        row = sheet.next_row
        values.append(sheet.formula(_row_sum(count_cols, row), "count"))
        values.append(sheet.formula(_row_sum(budget_cols, row), "baht"))
        return sheet.row(values, kinds=["text"] + ["count"] * (width - 1))

    strategy_totals = []
    blocks = source["blocks"]
    index = 0
    while index < len(blocks):
        heading = blocks[index]["heading"]
        group = []
        while index < len(blocks) and blocks[index]["heading"] == heading:
            group.append(blocks[index])
            index += 1
        if group[0]["sub"] is None:  # grouped by issue: one line each
            strategy_totals.append(line(heading, group))
            continue
        # One line per แผนงาน of the strategy, whatever tactics its projects are under (the
        # ผ.01 form has no tactic level).
        by_programme: dict[str, list[dict]] = {}
        for block in group:
            by_programme.setdefault(block["programme"], []).append(block)
        sheet.merged_line(heading, kind="label")
        first = sheet.next_row
        for programme in sorted(by_programme, key=programme_key):
            members = by_programme[programme]
            line(members[0]["sub"], members)
        last = sheet.next_row - 1
        span = {c: (first, last) for c in range(2, width + 1)}
        sums = {c: span[c] for c in budget_cols + [total_budget_col]}
        counts = {c: span[c] for c in count_cols + [total_count_col]}
        strategy_totals.append(_total_with_counts(sheet, _("Total"), sums, counts))
    if not blocks:
        sheet.merged_line(_("No projects in this form."), kind="plain")
        return
    formulas = {}
    for c in range(2, width + 1):
        refs = [f"{get_column_letter(c)}{row}" for row in strategy_totals]
        is_budget = c in budget_cols or c == total_budget_col
        formulas[c] = (xs.sum_cells(refs), "total_baht" if is_budget else "total_count")
    sheet.total_row(_("Grand total"), label_column=1, formulas=formulas)


def outside_sheet_name() -> str:
    return _("Outside the plan's years")


def outside_note(plan: Plan, count: int) -> str:
    years = plan.plan_years
    return _(
        "%(count)s projects are wanted outside the years %(start)s–%(end)s: they are listed "
        "on the sheet '%(sheet)s', not in a year column.",
        count=count,
        start=years[0],
        end=years[-1],
        sheet=outside_sheet_name(),
    )


def outside_years_sheet(wb, plan: Plan, outside: dict[str, list[ProjectRow]]) -> None:
    """The ผ.02 projects wanted in a year the five-year local plan has no column for: listed
    with their wanted year, for the planning office to place (or the forum to correct)."""
    years = plan.plan_years
    columns = [
        xs.Column(_("No."), 5, "center"),
        xs.Column(_("Project"), 40),
        xs.Column(_("Form"), 10, "center"),
        xs.Column(_("Wanted in fiscal year"), 12, "center"),
        xs.Column(_("Budget (baht)"), 15, "baht"),
        xs.Column(_("Main responsible agency"), 26),
        xs.Column(_("Source villages"), 24),
    ]
    sheet = xs.SheetWriter(
        wb,
        outside_sheet_name(),
        columns,
        title_lines=plan_title_lines(
            plan,
            _(
                "Projects wanted outside the years of the local development plan "
                "(BE %(start)s–%(end)s)",
                start=years[0],
                end=years[-1],
            ),
        ),
    )
    listed = [(form, r) for form in ("1", "2") for r in outside[form]]
    first = sheet.next_row
    for n, (form, r) in enumerate(listed, start=1):
        sheet.row(
            [
                n,
                r.title,
                f"ผ.02/{form}",
                str(r.wanted_year or plan.fiscal_year),
                r.budget,
                r.lead_agency,
                r.village_label,
            ]
        )
    if not listed:
        sheet.merged_line(_("Every project is wanted within the plan's years."), kind="plain")
        return
    sheet.total_row(_("Total"), {5: (first, sheet.next_row - 1)}, label_column=4)


def _row_sum(columns: list[int], row: int) -> str:
    return "=" + "+".join(f"{get_column_letter(c)}{row}" for c in columns)


def _total_with_counts(sheet, label, sums, counts) -> int:
    # Counts of projects add up like money here (they are the ผ.02 block counts), so SUM them.
    formulas = {c: (xs.sum_formula(c, *span), "total_count") for c, span in counts.items()}
    return sheet.total_row(label, sums, label_column=1, formulas=formulas)


# --- 5. one sheet per village -------------------------------------------------------------


def village_sheet(wb, plan: Plan, village, rows: list[ProjectRow]) -> None:
    # The village's own ranks (a joint project another village proposed has none here, and
    # follows the village's own list).
    def rank(r: ProjectRow) -> int | None:
        return r.village_ranks.get(village.id)

    rows = sorted(rows, key=lambda r: (rank(r) is None, rank(r) or 0, r.id))
    columns = [
        xs.Column(_("Village rank"), 10, "center"),
        xs.Column(_("Project"), 40),
        xs.Column(_("Budget (baht)"), 15, "baht"),
        xs.Column(_("Funding group"), 24),
        xs.Column(_("Rank in group"), 10, "center"),
        xs.Column(_("Urgency"), 12),
        xs.Column(_("Feasibility"), 14),
        xs.Column(_("Main responsible agency"), 26),
        xs.Column(_("Note"), 32),
    ]
    name = f"{_('Village')} {village.number} {village.name}"
    sheet = xs.SheetWriter(
        wb,
        name,
        columns,
        title_lines=plan_title_lines(
            plan, _("What became of the projects of %(village)s", village=name)
        ),
    )
    first = sheet.next_row
    for r in rows:
        notes = []
        others = [v for v in r.villages if v.id != village.id]
        if others:
            notes.append(
                _(
                    "Joint project with %(villages)s",
                    villages=", ".join(f"{_('Village')} {v.number}" for v in others),
                )
            )
        if r.feasibility_reason:
            notes.append(r.feasibility_reason)
        sheet.row(
            [
                rank(r) if rank(r) is not None else "",
                r.title,
                r.budget,
                r.group_label,
                r.position if r.group in domain.FUNDING_GROUPS else "",
                r.urgency_label,
                r.feasibility_label,
                r.lead_agency,
                "; ".join(notes),
            ]
        )
    last = sheet.next_row - 1
    sheet.total_row(_("Total"), {3: (first, last)}, label_column=2)
