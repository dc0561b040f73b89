"""Pages of a hall's sync (planapp/sync): on the hall laptop, a plan's sync page (the server's
address and token entered once, "pull" before the forum, "push" after it) and the page that
pulls a plan this laptop does not have yet; on the district server, a tambon's sync tokens."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _

from planapp.accounts import current_user, login_required, plan_for_editing
from planapp.extensions import db
from planapp.models import SyncToken, Tambon
from planapp.sync import client, hall, tokens
from planapp.sync.differences import field_label, value_text
from planapp.sync.forms import (
    NewPullForm,
    PullForm,
    PushForm,
    RevokeForm,
    SyncSettingsForm,
    TokenForm,
)
from planapp.transfer import plan_json

bp = Blueprint("sync", __name__)


@bp.app_template_global("sync_field_label")
def _field_label(name: str) -> str:
    return field_label(name)


@bp.app_template_global("sync_value")
def _value(name: str, value) -> str:
    return value_text(name, value)


@bp.app_template_global("may_issue_sync_tokens")
def _may_issue(tambon: Tambon) -> bool:
    return tokens.may_manage(current_user(), tambon)


def _plan_page(plan, *, settings=None, refused=None, pulled=None, status=200):
    link = hall.link_of(plan)
    if settings is None:
        settings = SyncSettingsForm(formdata=None, server_url=link.server_url if link else "")
    response = make_response(
        render_template(
            "sync/plan.html",
            plan=plan,
            link=link,
            changed_here=hall.changed_here(plan, link),
            settings=settings,
            pull_form=PullForm(formdata=None),
            push_form=PushForm(formdata=None),
            refused=refused,
            pulled=pulled,
        ),
        status,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/plans/<int:plan_id>/sync", methods=["GET", "POST"])
@login_required
def plan_sync(plan_id: int):
    plan = plan_for_editing(plan_id)
    form = SyncSettingsForm()
    if form.validate_on_submit():
        hall.save_link(plan, form.server_url.data, form.token.data or "")
        db.session.commit()
        flash(_("The server's address and the token are saved on this laptop."), "success")
        return redirect(url_for("sync.plan_sync", plan_id=plan.id))
    if form.errors:
        return _plan_page(plan, settings=form, status=400)
    return _plan_page(plan)


@bp.route("/plans/<int:plan_id>/sync/pull", methods=["POST"])
@login_required
def pull(plan_id: int):
    plan = plan_for_editing(plan_id)
    form = PullForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        pulled = hall.pull(plan, actor=current_user(), replace_changes=form.replace_changes.data)
    except (hall.SyncRefused, client.Unreachable, plan_json.PlanImportError) as error:
        db.session.rollback()
        return _plan_page(plan, refused=_refusal(error), status=_status(error))
    db.session.commit()
    return _plan_page(plan, pulled=pulled)


@bp.route("/plans/<int:plan_id>/sync/push", methods=["POST"])
@login_required
def push(plan_id: int):
    plan = plan_for_editing(plan_id)
    if not PushForm().validate_on_submit():
        abort(400)
    try:
        version = hall.push(plan)
    except (hall.SyncRefused, client.Unreachable) as error:
        db.session.rollback()
        return _plan_page(plan, refused=_refusal(error), status=_status(error))
    db.session.commit()
    flash(
        _(
            "Pushed to the server: the server's plan is now at version %(version)s.",
            version=version,
        ),
        "success",
    )
    return redirect(url_for("sync.plan_sync", plan_id=plan.id))


def _refusal(error) -> hall.SyncRefused:
    if isinstance(error, hall.SyncRefused):
        return error
    return hall.SyncRefused(str(error.message))


def _status(error) -> int:
    if isinstance(error, client.Unreachable):
        return 502
    if isinstance(error, hall.SyncRefused) and (error.stale or error.needs_confirmation):
        return 409
    return 400


@bp.route("/sync/pull", methods=["GET", "POST"])
@login_required
def pull_new():
    form = NewPullForm()
    refused, status = None, 200
    if form.validate_on_submit():
        try:
            plan = hall.pull_new(
                form.server_url.data,
                form.token.data.strip(),
                form.fiscal_year.data,
                actor=current_user(),
            )
        except (hall.SyncRefused, client.Unreachable, plan_json.PlanImportError) as error:
            db.session.rollback()
            refused, status = _refusal(error), _status(error)
        else:
            db.session.commit()
            flash(_("The plan was pulled from the district server."), "success")
            return redirect(url_for("sync.plan_sync", plan_id=plan.id))
    if form.errors:
        status = 400
    return render_template("sync/pull_new.html", form=form, refused=refused), status


# --- the district server: tokens -----------------------------------------------------------


def _tambon_to_manage(tambon_id: int) -> Tambon:
    tambon = db.get_or_404(Tambon, tambon_id)
    if not tokens.may_manage(current_user(), tambon):
        abort(403)
    return tambon


def _tokens_page(tambon, form, *, issued=None, status=200):
    response = make_response(
        render_template(
            "sync/tokens.html",
            tambon=tambon,
            tokens=tokens.tambon_tokens(tambon),
            form=form,
            revoke_form=RevokeForm(formdata=None),
            issued=issued,
        ),
        status,
    )
    response.headers["Cache-Control"] = "no-store"  # the page that shows a new token, once
    return response


@bp.route("/tambons/<int:tambon_id>/sync-tokens", methods=["GET", "POST"])
@login_required
def tambon_tokens(tambon_id: int):
    tambon = _tambon_to_manage(tambon_id)
    form = TokenForm()
    if form.validate_on_submit():
        token, raw = tokens.issue(tambon, form.label.data, actor=current_user())
        db.session.commit()
        # Shown in this answer only (never in a flash message: the session cookie is signed,
        # not encrypted), and never again.
        return _tokens_page(tambon, TokenForm(formdata=None), issued=(token, raw))
    return _tokens_page(tambon, form, status=400 if form.errors else 200)


@bp.route("/tambons/<int:tambon_id>/sync-tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(tambon_id: int, token_id: int):
    tambon = _tambon_to_manage(tambon_id)
    token = db.session.get(SyncToken, token_id)
    if token is None or token.tambon_id != tambon.id:
        abort(404)
    if not RevokeForm().validate_on_submit():
        abort(400)
    tokens.revoke(token)
    db.session.commit()
    flash(_("Token %(hint)s… revoked: it opens nothing any more.", hint=token.hint), "success")
    return redirect(url_for("sync.tambon_tokens", tambon_id=tambon.id))
