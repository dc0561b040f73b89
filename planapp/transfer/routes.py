"""A whole plan between servers: `/plans/<id>/export.json` and its import at `/plans/import`."""

from __future__ import annotations

import json
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _

from planapp.accounts import current_user, login_required, plan_for_reading
from planapp.extensions import db
from planapp.transfer import plan_json
from planapp.transfer.forms import PlanImportForm

bp = Blueprint("transfer", __name__)


@bp.route("/plans/<int:plan_id>/export.json")
def export_json(plan_id: int):
    plan = plan_for_reading(plan_id)
    body = json.dumps(plan_json.export_plan(plan), ensure_ascii=False, indent=1)
    name = f"plan-{plan.tambon.name}-{plan.fiscal_year}.json"
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="plan-{plan.id}-{plan.fiscal_year}.json"; '
        f"filename*=UTF-8''{quote(name)}"
    )
    return response


def _refuse_constant(name: str):
    raise ValueError(name)  # NaN and Infinity are no JSON, though Python's reader takes them


def _read_upload(form: PlanImportForm):
    raw = form.file.data.read()
    try:
        return json.loads(raw.decode("utf-8-sig"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested deep
        raise plan_json.PlanImportError(_("This file is not a plan file (JSON).")) from None


@bp.route("/plans/import", methods=["GET", "POST"])
@login_required
def import_plan():
    form = PlanImportForm()
    existing = None
    if form.validate_on_submit():
        user = current_user()
        try:
            document = plan_json.read_document(_read_upload(form))
            tambon = plan_json.find_tambon(document)
            if tambon is None and not user.is_admin:
                raise plan_json.PlanImportError(
                    _("This tambon is not on this server yet; ask the district office.")
                )
            if tambon is not None and not user.can_edit_tambon(tambon):
                abort(403)
            existing = plan_json.existing_plan(document)
            if existing is not None and not form.replace.data:
                raise plan_json.PlanImportError(
                    _(
                        "Tambon %(tambon)s already has a plan for %(year)s here "
                        "(%(num)d projects). Tick the box to replace it.",
                        tambon=existing.tambon.name,
                        year=existing.fiscal_year,
                        num=len(existing.projects),
                    ),
                    field="replace",
                )
            plan = plan_json.import_plan(document, actor=user, replace=existing)
        except plan_json.PlanImportError as error:
            db.session.rollback()
            getattr(form, error.field).errors.append(error.message)
        else:
            db.session.commit()
            flash(
                _(
                    "Plan of tambon %(tambon)s for %(year)s imported.",
                    tambon=plan.tambon.name,
                    year=plan.fiscal_year,
                ),
                "success",
            )
            return redirect(url_for("main.plan", plan_id=plan.id))
    status = 400 if form.errors else 200
    return render_template("transfer/import.html", form=form), status


@bp.errorhandler(413)
def file_too_large(error):
    """A plan file over the upload limit: said next to the file field, for a signed-in user."""
    if current_user() is None:
        return render_template("error.html", status=413, message=_("The file is too large.")), 413
    form = PlanImportForm(formdata=None)
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    form.file.errors = [
        _(
            "The file is larger than %(mb)s MB, the most this server takes.",
            mb=f"{limit / (1024 * 1024):.0f}",
        )
    ]
    return render_template("transfer/import.html", form=form), 413
