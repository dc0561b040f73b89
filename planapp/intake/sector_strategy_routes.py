"""The administrator's mapping of sectors to the strategy proposed for their projects
(planapp/strategies.py): one choice per sector, among the strategies that exist."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from planapp import strategies
from planapp.accounts import admin_required, current_user
from planapp.domain import SECTOR_LABELS, SECTORS
from planapp.extensions import db
from planapp.intake.forms import ConfirmForm
from planapp.intake.routes import bp
from planapp.intake.values import whole_number_or_none


def _posted_choices(values) -> tuple[dict[str, int | None], dict[str, str]]:
    """(sector -> strategy id or None, sector -> error) from the posted form; a sector the post
    leaves out keeps its strategy."""
    choices, errors = {}, {}
    for sector in SECTORS:
        raw = values.get(f"sector-{sector}")
        if raw is None:
            continue
        if raw.strip() == "":
            choices[sector] = None
            continue
        strategy_id = whole_number_or_none(raw)
        if strategy_id is None:
            errors[sector] = str(strategies.UnknownStrategy.message)
        choices[sector] = strategy_id
    return choices, errors


@bp.route("/setup/sector-strategies", methods=["GET", "POST"])
@admin_required
def sector_strategies():
    form = ConfirmForm()
    shown = {sector: s.id for sector, s in strategies.sector_strategies().items()}
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        choices, errors = _posted_choices(request.form)
        if not errors:
            try:
                strategies.set_sector_strategies(choices, actor=current_user())
            except strategies.UnknownStrategy as refused:
                db.session.rollback()
                errors[refused.key] = str(refused.message)
            else:
                db.session.commit()
                flash(_("Saved."), "success")
                return redirect(url_for("intake.sector_strategies"))
        shown.update(choices)
    elif form.errors:
        errors["form"] = _("The form had expired: please choose again and save.")
    rows = [(sector, SECTOR_LABELS[sector], shown.get(sector)) for sector in SECTORS]
    status = 400 if errors else 200
    return render_template(
        "intake/sector_strategies.html",
        form=form,
        rows=rows,
        errors=errors,
        strategies=strategies.strategies_in_order(),
    ), status
