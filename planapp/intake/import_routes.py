"""The Excel import pages: upload, preview, confirm, and the blank template.

Between preview and confirm the uploaded file waits in the database (`pending_imports`), not in
one server's folder: with several app servers behind one address the preview or the confirmation
may reach another server than the upload. Only the session that uploaded it knows its random
token (kept in the signed session cookie; the row keeps a digest), and it is removed once
imported. Old leftovers are swept on the next upload.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta
from io import BytesIO

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import delete, select

from planapp.accounts import current_user, login_required, plan_for_editing
from planapp.extensions import db
from planapp.intake import importer
from planapp.intake.forms import ImportConfirmForm, ImportUploadForm
from planapp.intake.routes import bp
from planapp.models import PendingImport, Plan, utcnow

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PENDING_MAX_AGE_SECONDS = 24 * 3600
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _session_key(plan: Plan) -> str:
    return f"intake_import_{plan.id}"


def _name_key(plan: Plan) -> str:
    return f"intake_import_{plan.id}_name"


def _keep_upload(plan: Plan, data: bytes) -> str:
    """Keep the file for this session's preview and confirmation (committed by the caller)."""
    db.session.execute(
        delete(PendingImport).where(
            PendingImport.created_at < utcnow() - timedelta(seconds=PENDING_MAX_AGE_SECONDS)
        )
    )
    previous = session.get(_session_key(plan))
    if previous and TOKEN_PATTERN.match(previous):
        _forget_upload(previous)
    token = secrets.token_urlsafe(24)
    db.session.add(
        PendingImport(token_hash=_digest(token), plan_id=plan.id, data=data, created_at=utcnow())
    )
    session[_session_key(plan)] = token
    return token


def _forget_upload(token: str) -> None:
    db.session.execute(delete(PendingImport).where(PendingImport.token_hash == _digest(token)))


def _pending_upload(plan: Plan, token: str) -> bytes | None:
    """The waiting file, only for the session that uploaded it for this plan."""
    expected = session.get(_session_key(plan)) or ""
    if not token or not TOKEN_PATTERN.match(token) or not hmac.compare_digest(token, expected):
        return None
    return db.session.scalar(
        select(PendingImport.data).where(
            PendingImport.token_hash == _digest(token),
            PendingImport.plan_id == plan.id,
            PendingImport.created_at >= utcnow() - timedelta(seconds=PENDING_MAX_AGE_SECONDS),
        )
    )


def _max_upload_mb() -> str:
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return f"{limit / (1024 * 1024):.0f}"


def _upload_page(plan: Plan, form=None, error: str = "", status: int = 200):
    return render_template(
        "intake/import.html",
        plan=plan,
        form=form or ImportUploadForm(formdata=None),
        error=error,
        max_mb=_max_upload_mb(),
    ), status


@bp.route("/plans/<int:plan_id>/import/template.xlsx")
@login_required
def import_template(plan_id: int):
    plan = plan_for_editing(plan_id)
    data = importer.build_template(plan)
    name = f"village-plans-template-{plan.id}-{plan.fiscal_year}.xlsx"
    return send_file(BytesIO(data), mimetype=XLSX_MIME, as_attachment=True, download_name=name)


@bp.route("/plans/<int:plan_id>/import", methods=["GET", "POST"])
@login_required
def import_upload(plan_id: int):
    plan = plan_for_editing(plan_id)
    form = ImportUploadForm()
    if request.method == "GET":
        return _upload_page(plan)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _upload_page(plan, form, _("Choose the Excel file to upload."), 400)
    data = upload.read()
    try:
        reading = importer.read_workbook(plan, data)
    except importer.ImportRefused as refused:
        return _upload_page(plan, form, str(refused), 400)
    if reading.problems:
        return _preview(plan, reading, "", upload.filename)  # 400: nothing kept
    _keep_upload(plan, data)
    db.session.commit()
    session[_name_key(plan)] = upload.filename[:200]
    # Post, redirect, get: back from the next page returns to the preview, not to a
    # "confirm form resubmission" of the upload.
    return redirect(url_for("intake.import_preview", plan_id=plan.id), 303)


@bp.route("/plans/<int:plan_id>/import/preview")
@login_required
def import_preview(plan_id: int):
    """The file waiting for this session, read again (villages or projects may have changed)."""
    plan = plan_for_editing(plan_id)
    token = session.get(_session_key(plan)) or ""
    data = _pending_upload(plan, token)
    if data is None:
        flash(_("The uploaded file has expired; please upload it again."), "error")
        return redirect(url_for("intake.import_upload", plan_id=plan.id))
    try:
        reading = importer.read_workbook(plan, data)
    except importer.ImportRefused as refused:
        return _upload_page(plan, error=str(refused), status=400)
    filename = session.get(_name_key(plan), "")
    return _preview(plan, reading, "" if reading.problems else token, filename)


def _preview(
    plan: Plan, reading, token: str, filename: str, status: int | None = None, error: str = ""
):
    confirm = ImportConfirmForm(formdata=None, token=token)
    if status is None:
        status = 400 if reading.problems else 200
    return render_template(
        "intake/import_preview.html",
        plan=plan,
        reading=reading,
        confirm=confirm,
        filename=filename,
        error=error,
        new_count=sum(1 for row in reading.rows if not row.existing),
    ), status


@bp.route("/plans/<int:plan_id>/import/confirm", methods=["POST"])
@login_required
def import_confirm(plan_id: int):
    plan = plan_for_editing(plan_id)
    form = ImportConfirmForm()
    data = _pending_upload(plan, form.token.data or "")
    if data is None:
        return _upload_page(
            plan, error=_("The uploaded file has expired; please upload it again."), status=400
        )
    # Read again: villages or projects may have changed since the preview.
    try:
        reading = importer.read_workbook(plan, data)
    except importer.ImportRefused as refused:
        return _upload_page(plan, error=str(refused), status=400)
    if reading.problems:
        return _preview(plan, reading, "", "")
    try:
        created = importer.import_rows(
            plan,
            reading,
            include_existing=bool(form.include_existing.data),
            actor=current_user(),
        )
    except importer.ImportRefused as refused:
        db.session.rollback()
        return _preview(plan, reading, form.token.data, "", 400, error=str(refused))
    except Exception:
        db.session.rollback()  # all or nothing: no half-imported file
        raise
    _forget_upload(form.token.data)  # with the import: imported once, whatever happens next
    db.session.commit()
    session.pop(_session_key(plan), None)
    flash(
        _(
            "Imported %(count)s projects. They wait in the board's unsorted column.",
            count=len(created),
        ),
        "success",
    )
    return redirect(url_for("main.plan", plan_id=plan.id))


@bp.errorhandler(413)
def upload_too_large(error):
    """A file over MAX_CONTENT_LENGTH: say so on the import page instead of a bare error."""
    plan_id = (request.view_args or {}).get("plan_id")
    if plan_id is None or not request.path.rstrip("/").endswith(("/import", "/import/confirm")):
        return render_template("error.html", status=413, message=_("The file is too large.")), 413
    plan = plan_for_editing(plan_id)
    message = _(
        "The file is larger than %(mb)s MB. Remove pictures or split the villages into several "
        "files.",
        mb=_max_upload_mb(),
    )
    return _upload_page(plan, error=message, status=413)
