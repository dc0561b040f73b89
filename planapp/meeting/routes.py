"""Running the meeting: the facilitator's meeting panel (steps, timer, pause screen and message,
budget ceilings, confirm and lock), vote counting, the forum record, each village's share, the
minutes and the facilitator guide.

Routes are thin: they read the request, call the rules in groups.py / record.py, commit, and
render the fragment that changed (for htmx) or redirect back to the full page.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from planapp.accounts import (
    current_user,
    login_required,
    plan_for_editing,
    plan_for_reading,
    plan_for_viewing,
)
from planapp.changes import StaleVersion
from planapp.domain import FUNDING_GROUPS, GROUP_SHORT_LABELS
from planapp.extensions import db
from planapp.formatting import hhmm
from planapp.forum.board import board_answer
from planapp.intake.values import whole_number_or_none
from planapp.meeting import groups as meeting_groups
from planapp.meeting import record, rules
from planapp.meeting.forms import forum_record_form
from planapp.meeting.groups import MeetingError
from planapp.meeting.minutes import minutes as build_minutes
from planapp.meeting.shares import village_shares
from planapp.models import Project, Village, utcnow
from planapp.urls import safe_redirect_target

bp = Blueprint("meeting", __name__)

# Votes rank projects while they are still unsorted (step 3) and inside each group (step 4).
VOTE_GROUPS = ["unsorted", *FUNDING_GROUPS]


def _is_htmx() -> bool:
    return bool(request.headers.get("HX-Request"))


def _seen_version() -> int | None:
    return whole_number_or_none(request.form.get("version"))


def _stale_message() -> str:
    return _(
        "Someone else changed the plan a moment ago. Here is the fresh state; nothing was saved."
    )


@bp.record_once
def _template_globals(state) -> None:
    # The meeting's regions (meeting/_regions.html) are rendered by name (planapp/fragments.py),
    # where context processors do not reach: what they need is a global of the templates.
    state.app.jinja_env.globals["meeting_rules"] = rules
    state.app.jinja_env.globals["meeting_now"] = lambda: hhmm(utcnow())


# --- the meeting panel --------------------------------------------------------------------


def _panel_context(plan, **extra) -> dict:
    return {
        "plan": plan,
        "timer": record.current_timer(plan),
        "timer_minutes": rules.TIMER_MINUTES,
        "timer_default": rules.TIMER_DEFAULT_MINUTES,
        "villages": plan.tambon.villages,
        "statuses": meeting_groups.group_statuses(plan),
        "message_max": rules.SCREEN_MESSAGE_MAX,
        "errors": {},
        **extra,
    }


def _board_was_current(plan) -> bool:
    """Whether the page that sent the request (the board) showed the plan's latest version
    before this change (read before the change bumps it)."""
    seen = whole_number_or_none(request.form.get("version"))
    return seen is not None and seen == plan.version


def _panel_response(plan, fragment: str, status: int = 200, board_current=False, **extra):
    """The changed section for htmx, else back to the panel (errors flashed)."""
    compact = request.form.get("compact") == "1"  # the step bar on the board
    context = _panel_context(
        plan,
        # The board follows its live stream: only the meeting panel takes the version back.
        board_current=board_current and status == 200 and not compact,
        compact=compact,
        **extra,
    )
    if _is_htmx():
        return render_template(fragment, **context), status
    for message in extra.get("errors", {}).values():
        flash(message, "error")
    # Back to the page the form was on (the plan page moves the forum on to its next step).
    panel = url_for("meeting.panel", plan_id=plan.id)
    return redirect(safe_redirect_target(request.form.get("next"), panel))


@bp.route("/plans/<int:plan_id>/meeting")
@login_required
def panel(plan_id: int):
    plan = plan_for_reading(plan_id)
    return render_template("meeting/panel.html", **_panel_context(plan))


def _save_panel_change(plan_id: int, fragment: str, error_key: str, change, **on_error):
    """Run one meeting-control change: commit and answer the changed section, or roll back and
    answer it with the refusal next to the control (422)."""
    plan = plan_for_editing(plan_id)
    board_current = _board_was_current(plan)
    try:
        change(plan)
    except MeetingError as error:
        db.session.rollback()
        return _panel_response(plan, fragment, 422, errors={error_key: error.message}, **on_error)
    db.session.commit()
    return _panel_response(plan, fragment, board_current=board_current)


def _form_number(name: str) -> int | None:
    return whole_number_or_none(request.form.get(name))


@bp.route("/plans/<int:plan_id>/meeting/step", methods=["POST"])
@login_required
def step(plan_id: int):
    return _save_panel_change(
        plan_id,
        "meeting/_step_bar.html",
        "step",
        lambda plan: record.set_step(plan, _form_number("step") or 0, actor=current_user()),
    )


@bp.route("/plans/<int:plan_id>/meeting/timer", methods=["POST"])
@login_required
def timer(plan_id: int):
    def control(plan):
        village_id = _form_number("village_id")
        village = db.session.get(Village, village_id) if village_id is not None else None
        if village is None:
            raise MeetingError(_("Choose the village that presents."))
        record.control_timer(
            plan,
            village,
            request.form.get("action", ""),
            _form_number("minutes"),
            actor=current_user(),
        )

    return _save_panel_change(plan_id, "meeting/_timer.html", "timer", control)


@bp.route("/plans/<int:plan_id>/meeting/pause", methods=["POST"])
@login_required
def pause(plan_id: int):
    return _save_panel_change(
        plan_id,
        "meeting/_screen.html",
        "pause",
        lambda plan: record.set_paused(
            plan, request.form.get("paused") == "1", actor=current_user()
        ),
    )


@bp.route("/plans/<int:plan_id>/meeting/message", methods=["POST"])
@login_required
def message(plan_id: int):
    text = "" if request.form.get("clear") else request.form.get("message", "")
    return _save_panel_change(
        plan_id,
        "meeting/_screen.html",
        "message",
        lambda plan: record.set_message(plan, text, actor=current_user()),
        typed_message=text,
    )


# --- ceilings, confirm and lock -----------------------------------------------------------


def _group_or_404(group: str, allowed=FUNDING_GROUPS) -> str:
    if group not in allowed:
        abort(404)
    return group


def _from_board() -> bool:
    return request.form.get("view") == "board"


def _board_answer(plan, message: str, status: int = 200):
    """The forum board's own answer (planapp/forum/board.py): what changed since the version
    the board sent, with the message, so a confirm, unlock or "order by votes" pressed on the
    board shows its result in place."""
    return board_answer(plan, request.form, message, status)


def _group_response(
    plan, group: str, status: int = 200, error: str = "", typed: str = "", board_current=False
):
    if _from_board() and _is_htmx():
        done = {
            "meeting.confirm": _("%(group)s confirmed", group=GROUP_SHORT_LABELS[group]),
            "meeting.unlock": _("%(group)s unlocked", group=GROUP_SHORT_LABELS[group]),
        }
        return _board_answer(plan, error or done.get(request.endpoint, ""), status)
    if _is_htmx():
        context = _panel_context(plan, board_current=board_current and status == 200)
        return (
            render_template(
                "meeting/_group_control.html",
                status=context["statuses"][group],
                error=error,
                typed_ceiling=typed,
                **context,
            ),
            status,
        )
    if error:
        flash(error, "error")
    panel = url_for("meeting.panel", plan_id=plan.id)
    return redirect(safe_redirect_target(request.form.get("next"), panel))


@bp.route("/plans/<int:plan_id>/groups/<group>/ceiling", methods=["POST"])
@login_required
def ceiling(plan_id: int, group: str):
    plan = plan_for_editing(plan_id)
    group = _group_or_404(group)
    board_current = _board_was_current(plan)
    typed = request.form.get("ceiling", "")
    try:
        meeting_groups.set_ceiling(
            plan, group, meeting_groups.parse_baht(typed), actor=current_user()
        )
    except MeetingError as error:
        db.session.rollback()
        return _group_response(plan, group, 422, error.message, typed)
    db.session.commit()
    return _group_response(plan, group, board_current=board_current)


@bp.route("/plans/<int:plan_id>/groups/<group>/confirm", methods=["POST"])
@login_required
def confirm(plan_id: int, group: str):
    plan = plan_for_editing(plan_id)
    group = _group_or_404(group)
    board_current = _board_was_current(plan)
    try:
        meeting_groups.confirm_group(
            plan,
            group,
            seen_version=_seen_version(),
            actor=current_user(),
            over_ceiling=request.form.get("over_ceiling") == "yes",
        )
    except StaleVersion:
        db.session.rollback()
        return _group_response(plan, group, 409, _stale_message())
    except MeetingError as error:
        db.session.rollback()
        return _group_response(plan, group, 422, error.message)
    db.session.commit()
    return _group_response(plan, group, board_current=board_current)


@bp.route("/plans/<int:plan_id>/groups/<group>/unlock", methods=["POST"])
@login_required
def unlock(plan_id: int, group: str):
    plan = plan_for_editing(plan_id)
    group = _group_or_404(group)
    board_current = _board_was_current(plan)
    try:
        meeting_groups.unlock_group(plan, group, actor=current_user())
    except MeetingError as error:
        db.session.rollback()
        return _group_response(plan, group, 422, error.message)
    db.session.commit()
    return _group_response(plan, group, board_current=board_current)


# --- votes --------------------------------------------------------------------------------


def _votes_context(plan) -> dict:
    columns = {group: meeting_groups.column_cards(plan, group) for group in VOTE_GROUPS}
    return {
        "plan": plan,
        "columns": columns,
        "statuses": meeting_groups.group_statuses(plan),
        "max_votes": rules.MAX_VOTES,
    }


@bp.route("/plans/<int:plan_id>/votes")
@login_required
def votes(plan_id: int):
    plan = plan_for_reading(plan_id)
    return render_template("meeting/votes.html", **_votes_context(plan))


@bp.route("/plans/<int:plan_id>/projects/<int:project_id>/votes", methods=["POST"])
@login_required
def project_votes(plan_id: int, project_id: int):
    plan = plan_for_editing(plan_id)
    project = db.get_or_404(Project, project_id)
    if project.plan_id != plan.id:
        abort(404)
    typed = request.form.get("votes", "")
    error = ""
    try:
        delta = request.form.get("delta", "")
        if delta in ("1", "-1"):
            new_votes = project.votes + int(delta)
        else:
            new_votes = meeting_groups.parse_votes(typed)
        meeting_groups.set_votes(plan, project, new_votes, actor=current_user())
    except MeetingError as refused:
        db.session.rollback()
        error = refused.message
    else:
        db.session.commit()
        typed = ""
    status = 422 if error else 200
    if _is_htmx():
        return render_template(
            "meeting/_vote_row.html", plan=plan, card=project, error=error, typed=typed
        ), status
    if error:
        flash(error, "error")
    return redirect(url_for("meeting.votes", plan_id=plan.id) + f"#votes-{project.id}")


@bp.route("/plans/<int:plan_id>/groups/<group>/order-by-votes", methods=["POST"])
@login_required
def order_by_votes(plan_id: int, group: str):
    plan = plan_for_editing(plan_id)
    group = _group_or_404(group, VOTE_GROUPS)
    error = ""
    try:
        meeting_groups.order_group_by_votes(plan, group, actor=current_user())
    except rules.GroupLocked as locked:
        db.session.rollback()
        error = locked.message
    else:
        db.session.commit()
    status = 423 if error else 200
    if _from_board() and _is_htmx():
        done = _("%(group)s ordered by votes", group=GROUP_SHORT_LABELS[group])
        return _board_answer(plan, error or done, status)
    if _is_htmx():
        context = _votes_context(plan)
        return render_template(
            "meeting/_vote_group.html", group=group, error=error, **context
        ), status
    if error:
        flash(error, "error")
    votes = url_for("meeting.votes", plan_id=plan.id)
    return redirect(safe_redirect_target(request.form.get("next"), votes))


# --- the forum record ---------------------------------------------------------------------


@bp.route("/plans/<int:plan_id>/meeting/record", methods=["GET", "POST"])
@login_required
def forum_record(plan_id: int):
    plan = plan_for_reading(plan_id)
    villages = plan.tambon.villages
    people = record.attendance(plan)
    if request.method == "GET":
        data = {
            "forum_date": plan.forum_date,
            "forum_place": plan.forum_place,
            "forum_chair": plan.forum_chair,
            "version": plan.version,
        }
        data.update({f"people_{vid}": count for vid, count in people.items()})
        form = forum_record_form(villages, data=data)
        return render_template("meeting/record.html", plan=plan, form=form)
    plan = plan_for_editing(plan_id)
    form = forum_record_form(villages, formdata=request.form)
    if not form.validate():
        return render_template("meeting/record.html", plan=plan, form=form), 422
    counts = {v.id: getattr(form, f"people_{v.id}").data for v in villages}
    try:
        record.save_record(
            plan,
            form.forum_date.data,
            form.forum_place.data.strip(),
            (form.forum_chair.data or "").strip(),  # optional: may be left out of the post
            counts,
            seen_version=_seen_version(),
            actor=current_user(),
        )
    except StaleVersion:
        db.session.rollback()
        form.version.data = str(plan.version)
        return render_template(
            "meeting/record.html", plan=plan, form=form, stale=_stale_message()
        ), 409
    db.session.commit()
    flash(_("The forum record is saved."), "success")
    return redirect(url_for("meeting.forum_record", plan_id=plan.id))


# --- shares, minutes, guide ---------------------------------------------------------------


@bp.route("/plans/<int:plan_id>/shares")
@login_required
def shares(plan_id: int):
    plan = plan_for_reading(plan_id)
    return render_template("meeting/shares.html", plan=plan, shares=village_shares(plan))


@bp.route("/plans/<int:plan_id>/minutes")
@login_required
def minutes(plan_id: int):
    plan = plan_for_viewing(plan_id)  # officers of the area read the minutes too
    return render_template("meeting/minutes.html", plan=plan, minutes=build_minutes(plan))


@bp.route("/plans/<int:plan_id>/guide")
@login_required
def guide(plan_id: int):
    plan = plan_for_reading(plan_id)
    return render_template("meeting/guide.html", plan=plan)
