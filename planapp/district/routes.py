"""After the forum: follow-up of every project, the district dashboard, agencies across tambons,
strategy alignment and carrying a plan over into the next fiscal year.

Routes stay thin: they read the request, call the plain functions of followup.py, dashboard.py
and carryover.py, and render a page or the fragment that changed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from planapp import areas
from planapp.accounts import (
    current_user,
    plan_for_editing,
    plan_for_viewing,
    rollup_reader_required,
)
from planapp.district import agencies, carryover, dashboard, followup, strategies, summaries
from planapp.district import area_export as area_export_module
from planapp.district.agency_export import agency_file_name, agency_workbook_bytes
from planapp.district.forms import CarryOverForm, FollowupForm
from planapp.domain import FOLLOWUP_LABELS, GROUP_SHORT_LABELS, URGENCY_LABELS, fiscal_year_be
from planapp.export.routes import download
from planapp.export.workbook import XLSX_MIMETYPE
from planapp.extensions import db
from planapp.intake.values import whole_number_or_none
from planapp.jobs import queue as jobs
from planapp.jobs.outputs import AGENCY_WORKBOOK, AREA_WORKBOOK
from planapp.models import Agency, Plan, Project
from planapp.reports import report_query

bp = Blueprint("district", __name__)


def hall_today():
    """Today in the hall's time zone (a follow-up date typed at 6 a.m. is not yesterday)."""
    return datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def is_htmx() -> bool:
    return bool(request.headers.get("HX-Request"))


# --- follow-up of a plan ------------------------------------------------------------------


def followup_form(project: Project, formdata=None) -> FollowupForm:
    """The row's form, filled from the project (or from what was posted)."""
    form = FollowupForm(formdata=formdata, prefix=f"p{project.id}")
    if formdata is None:
        form.status.data = project.followup_status
        form.seen_status.data = project.followup_status
        form.note.data = project.followup_note
        form.amount.data = (
            f"{project.budget_ordinance_satang / 100:.2f}".removesuffix(".00")
            if project.budget_ordinance_satang is not None
            else ""
        )
        form.year.data = str(project.budget_ordinance_year or "")
        form.day.data = ""
    form.limit_choices(followup.allowed_statuses(project))
    return form


def render_followup_page(
    plan: Plan,
    failed: tuple[Project, FollowupForm] | None = None,
    carry_form: CarryOverForm | None = None,
):
    grouped = followup.followup_projects(plan)
    forms = {}
    for projects in grouped.values():
        for project in projects:
            forms[project.id] = followup_form(project)
    if failed is not None:
        forms[failed[0].id] = failed[1]
    if carry_form is None:
        carry_form = CarryOverForm(formdata=None)
        carry_form.fiscal_year.data = str(plan.fiscal_year + 1)
    return render_template(
        "district/followup.html",
        plan=plan,
        grouped=grouped,
        forms=forms,
        open_id=failed[0].id if failed else None,
        progress=followup.group_progress(plan),
        carry_form=carry_form,
        unfinished_count=len(carryover.unfinished_projects(plan)),
        carried_waiting=carryover.carried_over_waiting(plan),
        next_plan=next_plan(plan),
    )


def next_plan(plan: Plan) -> Plan | None:
    """The tambon's plan of the following fiscal year, if it exists already."""
    return db.session.scalar(
        select(Plan).where(
            Plan.tambon_id == plan.tambon_id, Plan.fiscal_year == plan.fiscal_year + 1
        )
    )


@bp.route("/plans/<int:plan_id>/followup")
def plan_followup(plan_id: int):
    plan = plan_for_viewing(plan_id)
    return render_followup_page(plan)


@bp.route("/plans/<int:plan_id>/followup/<int:project_id>", methods=["POST"])
def update_followup(plan_id: int, project_id: int):
    plan = plan_for_editing(plan_id)
    project = db.get_or_404(Project, project_id)
    if project.plan_id != plan.id:
        abort(404)
    form = followup_form(project, formdata=request.form)
    update = followup.FollowupUpdate(
        status=form.status.data or "",
        day=form.day.data or "",
        note=form.note.data or "",
        amount=form.amount.data or "",
        year=form.year.data or "",
        seen_status=form.seen_status.data or None,
    )
    try:
        entry = followup.apply_update(plan, project, update, hall_today(), actor=current_user())
    except followup.FollowupRefused as refused:
        db.session.rollback()
        for name, message in refused.errors.items():
            getattr(form, name).errors = [message]
        form.limit_choices(followup.allowed_statuses(project))
        if is_htmx():
            # htmx swaps only 2xx answers: the row comes back open, its messages by the fields.
            return render_template(
                "district/_followup_row.html", plan=plan, project=project, form=form, open=True
            )
        return render_followup_page(plan, failed=(project, form)), 422
    db.session.commit()
    message = (
        _("Saved: %(title)s.", title=project.title)
        if entry is not None
        else _("Nothing changed: %(title)s.", title=project.title)
    )
    if is_htmx():
        return render_template(
            "district/_followup_saved.html",
            plan=plan,
            project=project,
            form=followup_form(project),
            message=message,
            progress=followup.group_progress(plan),
        )
    flash(message, "success")
    return redirect(url_for(".plan_followup", plan_id=plan.id) + f"#project-{project.id}")


@bp.app_template_global("followup_money")
def followup_money(part_satang: int, whole_satang: int):
    return followup.money_pair(part_satang, whole_satang)


@bp.route("/plans/<int:plan_id>/carry-over", methods=["POST"])
def carry_over(plan_id: int):
    plan = plan_for_editing(plan_id)
    form = CarryOverForm()
    try:
        new_plan, count = carryover.carry_over(
            plan, form.fiscal_year.data or "", actor=current_user()
        )
    except carryover.CarryOverRefused as refused:
        db.session.rollback()
        form.fiscal_year.errors = [refused.errors["fiscal_year"]]
        return render_followup_page(plan, carry_form=form), 422
    db.session.commit()
    flash(
        _(
            "Plan for fiscal year %(year)d created: %(count)d unfinished projects carried over "
            "from %(old)d.",
            year=new_plan.fiscal_year,
            count=count,
            old=plan.fiscal_year,
        ),
        "success",
    )
    return redirect(url_for("main.plan", plan_id=new_plan.id))


# --- the district dashboard ---------------------------------------------------------------


def chosen_year(years: list[int]) -> tuple[int, str | None]:
    """The fiscal year from `?year=` (Buddhist Era), else the latest with a plan, else this one.
    Returns the year and an error message for a year that cannot be read."""
    default = years[0] if years else fiscal_year_be(hall_today())
    text = (request.args.get("year") or "").strip()
    if not text:
        return default, None
    year = whole_number_or_none(text)
    if year is None or not 2400 <= year <= 2800:
        return default, _(
            "“%(text)s” is not a fiscal year. Choose a Buddhist Era year such as %(year)d.",
            text=text[:20],
            year=default,
        )
    return year, None


def chosen_level() -> dashboard.Level:
    """The area of `?province=` and `?district=`: every roll-up page keeps it on its links.
    Within the signed-in user's own area (planapp/areas.py): an officer's page opens at their
    area, and a filter naming another area is refused with 403, never answered with its data."""
    user = current_user()
    try:
        area = areas.scoped_filter(user, request.args.get("province"), request.args.get("district"))
    except areas.OutsideArea:
        abort(403, description=_("This part of the country is outside your area."))
    level = dashboard.level_of(area.province, area.district)
    if user.is_officer:
        # The trail starts at the officer's own area: nothing above it is theirs to open.
        level.other_provinces = False
        level.other_districts = level.other_districts and user.role == "provincial_officer"
    return level


@bp.route("/district")
@rollup_reader_required
@report_query
def district_dashboard():
    years = dashboard.fiscal_years()
    year, year_error = chosen_year(years)
    level = chosen_level()
    pictures, areas, total = [], [], None
    if level.name == "district":
        pictures = dashboard.district_picture(year, level.province, level.district)
    else:
        areas, total = dashboard.area_rows(year, level.province)
    return render_template(
        "district/dashboard.html",
        year=year,
        years=sorted(set(years) | {year}, reverse=True),
        year_error=year_error,
        level=level,
        pictures=pictures,
        areas=areas,
        total=total,
        province=level.province,
        district=level.district,
        urgency_columns=dashboard.URGENCY_COLUMNS,
    ), (400 if year_error else 200)


# --- strategy alignment and agencies across the district ----------------------------------


@bp.route("/district/strategies")
@rollup_reader_required
@report_query
def strategy_alignment():
    year, year_error = chosen_year(dashboard.fiscal_years())
    level = chosen_level()
    province, district = level.province, level.district
    lines, unaligned_count, unaligned_satang = strategies.strategy_alignment(
        year, province=province, district=district
    )
    # One strategy's projects, a page at a time (`?strategy=`): one of the level's only.
    chosen = whole_number_or_none(request.args.get("strategy") or "")
    line = next((line for line in lines if line.strategy.id == chosen), None)
    shown = (
        strategies.strategy_projects(
            line.strategy, line.count, year, province, district, chosen_page()
        )
        if line is not None
        else None
    )
    return render_template(
        "district/strategies.html",
        year=year,
        years=sorted(set(dashboard.fiscal_years()) | {year}, reverse=True),
        year_error=year_error,
        lines=lines,
        line=line,
        shown=shown,
        unaligned_count=unaligned_count,
        unaligned_satang=unaligned_satang,
        **row_labels(),
        level=level,
        province=province,
        district=district,
    ), (400 if year_error else 200)


def row_labels() -> dict:
    """The labels of a project's group, urgency and follow-up, resolved once for a page (not
    once per row of a long list: each lazy label looks its catalog up again)."""
    return {
        "group_labels": {code: str(label) for code, label in GROUP_SHORT_LABELS.items()},
        "urgency_labels": {code: str(label) for code, label in URGENCY_LABELS.items()},
        "followup_labels": {code: str(label) for code, label in FOLLOWUP_LABELS.items()},
    }


def chosen_page() -> int:
    """`?page=` of a paginated roll-up (from 1; anything else is the first page)."""
    return whole_number_or_none(request.args.get("page") or "") or 1


@bp.route("/agencies")
@rollup_reader_required
@report_query
def agency_list():
    year, year_error = chosen_year(dashboard.fiscal_years())
    level = chosen_level()
    counts, page, pages = agencies.agency_counts(
        year, level.province, level.district, only=officer_agencies(level), page=chosen_page()
    )
    return render_template(
        "district/agencies.html",
        year=year,
        years=sorted(set(dashboard.fiscal_years()) | {year}, reverse=True),
        year_error=year_error,
        counts=counts,
        page=page,
        pages=pages,
        level=level,
        province=level.province,
        district=level.district,
    ), (400 if year_error else 200)


def officer_agencies(level: dashboard.Level):
    """For an officer, the agencies that act in the area of the page (planapp/areas.py); None
    (every agency) for the administrator."""
    if not current_user().is_officer:
        return None
    return areas.agencies_in_area(areas.Area(level.province, level.district))


def agency_and_year(
    agency_id: int, level: dashboard.Level
) -> tuple[Agency, int, list[int], str | None]:
    agency = db.get_or_404(Agency, agency_id)
    only = officer_agencies(level)
    if only is not None and not db.session.scalar(
        select(Agency.id).where(Agency.id == agency.id, Agency.id.in_(only))
    ):
        abort(404)  # another area's agency (its อปท. is named after its tambon)
    # The years of the plans, as on every roll-up (the agency's own years would be a count of
    # its projects in every plan of every year; its page of a year without one says so).
    years = dashboard.fiscal_years()
    year, year_error = chosen_year(years)
    return agency, year, sorted(set(years) | {year}, reverse=True), year_error


@bp.route("/agencies/<int:agency_id>")
@rollup_reader_required
@report_query
def agency_view(agency_id: int):
    level = chosen_level()
    agency, year, years, year_error = agency_and_year(agency_id, level)
    shown, areas = None, []
    if level.name == "district":  # the projects, a page at a time
        shown = agencies.agency_page(agency, year, level.province, level.district, chosen_page())
    else:  # the provinces or districts where it acts
        areas, _total = agencies.agency_areas(agency, year, level.province)
    figures = agencies.agency_figures(year, level.province, level.district, [agency.id])
    lead, lead_satang, support = figures.get(agency.id, (0, 0, 0))
    return render_template(
        "district/agency.html",
        level=level,
        province=level.province,
        district=level.district,
        agency=agency,
        year=year,
        years=years,
        year_error=year_error,
        shown=shown,
        areas=areas,
        lead=lead,
        lead_satang=lead_satang,
        support=support,
        **row_labels(),
    ), (400 if year_error else 200)


def workbook_answer(
    kind: str,
    year: int,
    area: areas.Area,
    count: Callable[[], int],
    build: Callable[[], tuple[str, bytes]],
    title: str,
    back_url: str,
    agency_id: int | None = None,
):
    """A roll-up workbook. A small one (up to INLINE_WORKBOOK_ROWS rows: a tambon's, a
    district's) is answered at once (`build()`: its name and bytes); a bigger one is built by
    the jobs worker (planapp/jobs), off the request path: GET offers to build it, POST asks for
    it and opens its progress page."""
    if request.method == "POST":
        job = jobs.enqueue(
            current_user(),
            kind,
            fiscal_year=year,
            area=area,
            language=str(get_locale()),
            agency_id=agency_id,
        )
        db.session.commit()
        return redirect(url_for("jobs.job_page", job_id=job.id), 303)
    rows = count()
    if rows > current_app.config["INLINE_WORKBOOK_ROWS"]:
        return render_template(
            "jobs/start.html", title=title, count=rows, action=request.full_path, back_url=back_url
        )
    name, content = build()
    return download(content, XLSX_MIMETYPE, name)


@bp.route("/agencies/<int:agency_id>/export.xlsx", methods=["GET", "POST"])
@rollup_reader_required
@report_query
def agency_export(agency_id: int):
    """The agency's workbook (workbook_answer)."""
    level = chosen_level()
    agency, year, _years, year_error = agency_and_year(agency_id, level)
    if year_error:
        abort(400, year_error)
    area = areas.Area(level.province, level.district)
    return workbook_answer(
        AGENCY_WORKBOOK,
        year,
        area,
        count=lambda: agencies.agency_project_count(agency, year, area.province, area.district),
        build=lambda: (
            agency_file_name(agency, year),
            agency_workbook_bytes(
                agency, year, agencies.agency_projects(agency, year, area.province, area.district)
            ),
        ),
        title=_("Workbook of %(name)s, fiscal year %(year)s", name=agency.name, year=year),
        back_url=url_for(
            ".agency_view",
            agency_id=agency.id,
            year=year,
            province=area.province,
            district=area.district,
        ),
        agency_id=agency.id,
    )


@bp.route("/district/export.xlsx", methods=["GET", "POST"])
@rollup_reader_required
@report_query
def area_export():
    """The workbook of every project taken forward in the area of the roll-up (a province's, a
    district's; the country's for the administrator) (workbook_answer)."""
    year, year_error = chosen_year(dashboard.fiscal_years())
    if year_error:
        abort(400, year_error)
    level = chosen_level()
    province, district = level.province, level.district
    size = None

    def count() -> int:
        nonlocal size
        size = area_export_module.area_size(year, province, district)
        return size.projects

    return workbook_answer(
        AREA_WORKBOOK,
        year,
        areas.Area(province, district),
        count=count,
        build=lambda: (
            area_export_module.area_file_name(year, province, district),
            area_export_module.area_workbook_bytes(year, province, district, size),
        ),
        title=_(
            "Workbook of %(name)s, fiscal year %(year)s",
            name=area_export_module.area_name(province, district),
            year=year,
        ),
        back_url=url_for(".district_dashboard", year=year, province=province, district=district),
    )


@bp.cli.command("refresh-summaries")
def refresh_summaries():
    """Write every plan's roll-up summary (after a bulk load or an upgrade; changes made through
    the app keep them current themselves)."""
    print(f"{summaries.refresh_all()} plans summarised")
