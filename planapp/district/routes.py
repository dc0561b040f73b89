"""After the forum: follow-up of every project, the district dashboard, agencies across tambons,
strategy alignment and carrying a plan over into the next fiscal year.

Routes stay thin: they read the request, call the plain functions of followup.py, dashboard.py
and carryover.py, and render a page or the fragment that changed."""

from __future__ import annotations

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
from flask_babel import gettext as _

from planapp.accounts import plan_for_editing, plan_for_reading
from planapp.district import followup
from planapp.district.forms import FollowupForm
from planapp.extensions import db
from planapp.models import Plan, Project

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


def render_followup_page(plan: Plan, failed: tuple[Project, FollowupForm] | None = None):
    grouped = followup.followup_projects(plan)
    forms = {}
    for projects in grouped.values():
        for project in projects:
            forms[project.id] = followup_form(project)
    if failed is not None:
        forms[failed[0].id] = failed[1]
    return render_template(
        "district/followup.html",
        plan=plan,
        grouped=grouped,
        forms=forms,
        open_id=failed[0].id if failed else None,
        progress=followup.group_progress(plan),
        can_edit=True,
    )


@bp.route("/plans/<int:plan_id>/followup")
def plan_followup(plan_id: int):
    plan = plan_for_reading(plan_id)
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
        entry = followup.apply_update(plan, project, update, hall_today())
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
