"""Strategies for the plan's projects (planapp/strategies.py): the page that lists every project
on the board without a strategy with the one its sector proposes, and confirms them all in one
POST (a project can be left out or given another strategy first)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from planapp import strategies
from planapp.accounts import current_user, login_required, plan_for_editing
from planapp.domain import GROUP_SHORT_LABELS
from planapp.extensions import db
from planapp.forum.routes import bp
from planapp.intake.forms import ConfirmForm
from planapp.intake.values import whole_number_or_none

FIELD_PREFIX = "strategy-"


def _posted_choices(values) -> tuple[dict[int, int], dict[int, int | None], dict[int, str]]:
    """(project id -> strategy id to confirm, project id -> what the page shows again, project
    id -> error). An empty choice leaves the project out."""
    confirm, shown, errors = {}, {}, {}
    for name, raw in values.items():
        project_id = whole_number_or_none(name.removeprefix(FIELD_PREFIX))
        if not name.startswith(FIELD_PREFIX) or project_id is None:
            continue
        if raw.strip() == "":
            shown[project_id] = None
            continue
        strategy_id = whole_number_or_none(raw)
        shown[project_id] = strategy_id
        if strategy_id is None:
            errors[project_id] = str(strategies.UnknownStrategy.message)
        else:
            confirm[project_id] = strategy_id
    return confirm, shown, errors


@bp.route("/plans/<int:plan_id>/strategies", methods=["GET", "POST"])
@login_required
def strategy_proposals(plan_id: int):
    plan = plan_for_editing(plan_id)
    form = ConfirmForm()
    shown: dict[int, int | None] = {}
    errors: dict[int, str] = {}
    message = ""
    if form.validate_on_submit():
        confirm, shown, errors = _posted_choices(request.form)
        if not errors:
            try:
                done = strategies.confirm_proposals(plan, confirm, actor=current_user())
            except strategies.UnknownStrategy as refused:
                db.session.rollback()
                errors[refused.key] = str(refused.message)
            else:
                db.session.commit()
                flash(_("Strategy set for %(count)s projects.", count=done.count), "success")
                return redirect(url_for("forum.strategy_proposals", plan_id=plan.id))
        message = _("Nothing was saved: check the marked rows.")
    elif form.errors:
        message = _("The form had expired: please check the choices and confirm again.")
    rows = [
        (
            p,
            shown[p.project_id]
            if p.project_id in shown
            else (p.strategy.id if p.strategy else None),
        )
        for p in strategies.proposals(plan)
    ]
    return render_template(
        "forum/strategy_proposals.html",
        plan=plan,
        form=form,
        rows=rows,
        errors=errors,
        message=message,
        groups=GROUP_SHORT_LABELS,
        strategies=strategies.strategies_in_order(plan.tambon),
    ), (400 if message else 200)
