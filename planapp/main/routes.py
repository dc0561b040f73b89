"""The home page (tambons and their plans), the plan's hub page and the language choice."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import func, select
from werkzeug.exceptions import Forbidden

from planapp.accounts import current_user, plan_for_viewing, sign_in
from planapp.accounts import users as accounts_users
from planapp.accounts.forms import FirstAdministratorForm
from planapp.cards import on_board
from planapp.extensions import db
from planapp.intake.values import whole_number_or_none
from planapp.main.home import HomeList, home_tambons
from planapp.main.steps import next_step, plan_steps
from planapp.models import Plan, Project
from planapp.security import from_this_machine
from planapp.urls import safe_redirect_target

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    listed = home_tambons(  # an officer: their area's tambons
        current_user(),
        request.args.get("q", ""),
        whole_number_or_none(request.args.get("page") or "") or 1,
    )
    first_run = accounts_users.no_user_yet()
    form = FirstAdministratorForm(formdata=None) if first_run and from_this_machine() else None
    return render_template("main/index.html", listed=listed, first_run=first_run, form=form)


@bp.route("/first-administrator", methods=["POST"])
def first_administrator():
    """The first run, on the laptop itself: create the administrator and sign in with it."""
    if not from_this_machine():
        abort(403)
    if not accounts_users.no_user_yet():
        flash(_("The first administrator exists already: sign in."), "error")
        return redirect(url_for("accounts.login"))
    form = FirstAdministratorForm()
    if form.validate_on_submit():
        try:
            user = accounts_users.create_first_administrator(
                form.username.data, form.password.data, form.display_name.data
            )
        except accounts_users.UserRuleError as refused:
            getattr(form, refused.field).errors.append(str(refused.message))
        else:
            db.session.flush()
            sign_in(user)  # its session row commits with the user
            db.session.commit()
            flash(_("Administrator %(name)s created and signed in.", name=user.name), "success")
            return redirect(url_for("main.index"))
    listed = HomeList(entries=[], search="", page=1, pages=1, total=0)
    return render_template("main/index.html", listed=listed, first_run=True, form=form), 400


def group_totals(plan: Plan) -> dict[str, dict]:
    """Count and budget of the active projects per board column."""
    rows = db.session.execute(
        select(
            Project.funding_group, func.count(), func.coalesce(func.sum(Project.budget_satang), 0)
        )
        .where(*on_board(plan.id))
        .group_by(Project.funding_group)
    ).all()
    return {group: {"count": count, "budget": budget} for group, count, budget in rows}


@bp.route("/plans/<int:plan_id>")
def plan(plan_id: int):
    plan = plan_for_viewing(plan_id)
    if not current_user().can_edit_plan(plan):
        return render_template("main/plan_view.html", plan=plan)  # an officer of its area
    return render_template(
        "main/plan.html",
        plan=plan,
        totals=group_totals(plan),
        steps=plan_steps(plan),
        next_step=next_step(plan),
    )


@bp.route("/language", methods=["POST"])
def set_language():
    language = request.form.get("language", "")
    if language in current_app.config["LANGUAGES"]:
        session["language"] = language
    return redirect(safe_redirect_target(request.form.get("next"), url_for("main.index")))


def _error_page(error, status: int, message: str):
    if request.headers.get("HX-Request"):
        return render_template("_error.html", status=status, message=message), status
    return render_template("error.html", status=status, message=message), status


@bp.app_errorhandler(400)
def bad_request(error):
    return _error_page(error, 400, error.description or _("The request could not be read."))


@bp.app_errorhandler(CSRFError)
def csrf_failed(error):
    return _error_page(
        error, 400, _("This form has expired. Reload the page and try again; nothing was saved.")
    )


@bp.app_errorhandler(401)
def unauthorized(error):
    return _error_page(error, 401, _("Please sign in first."))


@bp.app_errorhandler(403)
def forbidden(error):
    # A refusal that says why (a roll-up outside the officer's area) says so; the others are
    # the plan pages'.
    if error.description != Forbidden.description:
        return _error_page(error, 403, error.description)
    return _error_page(error, 403, _("You may not change this plan."))


@bp.app_errorhandler(404)
def not_found(error):
    return _error_page(error, 404, _("This page does not exist."))


@bp.app_errorhandler(413)
def too_large(error):
    return _error_page(error, 413, _("The file is too large."))


@bp.app_errorhandler(500)
def server_error(error):
    # A failed statement leaves the session unusable; the page itself loads the user again.
    db.session.rollback()
    return _error_page(error, 500, _("Something went wrong. Nothing was saved."))
