"""Phone ballots: the facilitator's vote rounds (issue, print, open, close, the projector), and
the phone's ballot (`/b/<token>` from the QR code, `/b` to type the short code). Routes are
thin: the rules are in planapp/ballots/rounds.py."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from planapp.accounts import current_user, login_required, plan_for_editing
from planapp.accounts.throttle import Limit, LoginThrottle
from planapp.ballots import rounds
from planapp.ballots.forms import CodeForm, round_form
from planapp.extensions import db
from planapp.intake.values import whole_number_or_none
from planapp.models import Ballot, Plan
from planapp.qr import qr_response

bp = Blueprint("ballots", __name__)

# Typing codes: past five wrong codes from one address, a doubling wait up to five minutes.
# 31^8 codes at that pace take longer than any forum (an issued code is one in billions).
CODE_LIMITS = {"address": Limit(free=5, longest_wait=5 * 60)}


@bp.record_once
def _setup(state) -> None:
    app = state.app
    app.extensions["ballot_code_throttle"] = LoginThrottle(
        app.config.get("BALLOT_CODE_LIMITS", CODE_LIMITS)
    )
    app.jinja_env.globals["printed_code"] = rounds.printed_code


def code_throttle() -> LoginThrottle:
    return current_app.extensions["ballot_code_throttle"]


def ballot_url(ballot: Ballot) -> str:
    # The address the server is reached at, so a phone on the hall's Wi-Fi can open it.
    return request.host_url.rstrip("/") + url_for("ballots.ballot", ballot_token=ballot.token)


# --- the facilitator ------------------------------------------------------------------------


def _rounds_page(plan: Plan, form=None, status: int = 200):
    if form is None:
        form = round_form(plan.tambon.villages, rounds.default_ballots(plan))
    views = [rounds.round_view(r, with_totals=True) for r in reversed(rounds.plan_rounds(plan))]
    return render_template("ballots/rounds.html", plan=plan, form=form, views=views), status


def _round_or_404(plan: Plan, round_id: int):
    found = rounds.round_of(plan, round_id)
    if found is None:
        abort(404)
    return found


@bp.route("/plans/<int:plan_id>/rounds")
@login_required
def rounds_page(plan_id: int):
    return _rounds_page(plan_for_editing(plan_id))


@bp.route("/plans/<int:plan_id>/rounds", methods=["POST"])
@login_required
def new_round(plan_id: int):
    plan = plan_for_editing(plan_id)
    form = round_form(plan.tambon.villages, {}, formdata=request.form)
    if not form.validate():
        return _rounds_page(plan, form, 422)
    try:
        created = rounds.create_round(
            plan, form.funding_group.data, form.picks.data, form.per_village(),
            actor=current_user(),
        )  # fmt: skip
    except rounds.BallotError as error:
        db.session.rollback()
        form.picks.errors = [*form.picks.errors, str(error)]
        return _rounds_page(plan, form, 422)
    db.session.commit()
    return redirect(url_for("ballots.print_ballots", plan_id=plan.id, round_id=created.id))


@bp.route("/plans/<int:plan_id>/rounds/<int:round_id>/print")
@login_required
def print_ballots(plan_id: int, round_id: int):
    plan = plan_for_editing(plan_id)
    vote_round = _round_or_404(plan, round_id)
    return render_template(
        "ballots/print.html", plan=plan, round=vote_round, ballots=rounds.round_ballots(vote_round)
    )


@bp.route("/plans/<int:plan_id>/rounds/<int:round_id>/ballots/<int:ballot_id>/qr.svg")
@login_required
def ballot_qr(plan_id: int, round_id: int, ballot_id: int):
    plan = plan_for_editing(plan_id)
    vote_round = _round_or_404(plan, round_id)
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None or ballot.round_id != vote_round.id:
        abort(404)
    return qr_response(ballot_url(ballot))


def _round_action(plan_id: int, round_id: int, action) -> object:
    plan = plan_for_editing(plan_id)
    vote_round = _round_or_404(plan, round_id)
    try:
        action(plan, vote_round)
    except rounds.BallotError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
    return redirect(url_for("ballots.rounds_page", plan_id=plan_id) + f"#round-{round_id}")


@bp.route("/plans/<int:plan_id>/rounds/<int:round_id>/open", methods=["POST"])
@login_required
def open_round(plan_id: int, round_id: int):
    return _round_action(
        plan_id, round_id, lambda p, r: rounds.open_vote(p, r, actor=current_user())
    )


@bp.route("/plans/<int:plan_id>/rounds/<int:round_id>/close", methods=["POST"])
@login_required
def close_round(plan_id: int, round_id: int):
    return _round_action(
        plan_id, round_id, lambda p, r: rounds.close_vote(p, r, actor=current_user())
    )


@bp.route("/plans/<int:plan_id>/rounds/<int:round_id>/screen", methods=["POST"])
@login_required
def round_on_screen(plan_id: int, round_id: int):
    shown = request.form.get("shown", "")

    def choose(plan, vote_round):
        rounds.show_on_screen(
            plan, vote_round if shown in ("turnout", "totals") else None,
            show_totals=shown == "totals", actor=current_user(),
        )  # fmt: skip

    return _round_action(plan_id, round_id, choose)


# --- the phone --------------------------------------------------------------------------------


def _ballot_page(ballot: Ballot, error: str = "", chosen=(), status: int = 200):
    refusal = rounds.refusal(ballot)
    vote_round = ballot.round
    projects = (
        [] if refusal else rounds.group_projects(vote_round.plan_id, vote_round.funding_group)
    )
    return render_template(
        "ballots/ballot.html",
        ballot=ballot,
        round=vote_round,
        refusal=refusal,
        projects=projects,
        error=error,
        chosen=set(chosen),
    ), status


@bp.route("/b/<ballot_token>")
def ballot(ballot_token: str):
    found = rounds.ballot_by_token(ballot_token)
    if found is None:
        return render_template("ballots/unknown.html"), 404
    return _ballot_page(found)


@bp.route("/b/<ballot_token>", methods=["POST"])
def cast(ballot_token: str):
    found = rounds.ballot_by_token(ballot_token)
    if found is None:
        return render_template("ballots/unknown.html"), 404
    ids = [whole_number_or_none(value) for value in request.form.getlist("project_id")]
    chosen = [pid for pid in ids if pid is not None]
    try:
        rounds.cast(found, chosen)
    except rounds.BallotError as error:
        db.session.rollback()
        return _ballot_page(found, str(error), chosen, 422 if error.reason != "used" else 409)
    db.session.commit()
    return render_template("ballots/thanks.html", ballot=found, round=found.round)


@bp.route("/b", methods=["GET", "POST"])
def type_code():
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        address = request.remote_addr or ""
        wait = code_throttle().retry_after(address, "")
        if wait:
            # Refused before the code is even looked up: guessing gains nothing.
            form.code.errors.append(
                _("Too many wrong codes. Try again in %(seconds)d seconds.", seconds=wait)
            )
            return render_template("ballots/code.html", form=form), 429
        found = rounds.ballot_by_code(form.code.data)
        if found is not None:
            return redirect(url_for("ballots.ballot", ballot_token=found.token))
        code_throttle().failed(address, "")
        form.code.errors.append(_("No ballot has this code. Check the card and type it again."))
    if form.errors:
        status = 422
    return render_template("ballots/code.html", form=form), status
