"""The forum board: priority order, the three funding groups, feasibility, urgency, agencies.

Routes are thin: they read the request, call `planapp.ranking` / `planapp.changes` /
`planapp.forum.decisions`, and answer with the regions that changed (planapp/forum/board.py
lays them out, forum/_regions.html renders them by name). Every tablet's board follows the plan's
live stream (`board_events`), so each answer and each event is the same kind of delta: what a
board at the version it sent needs to show the version now.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from planapp import live, ranking, strategies
from planapp.accounts import current_user, login_required, plan_for_editing
from planapp.cards import on_board
from planapp.changes import NothingToUndo, StaleVersion, UndoRefused, undo_last_change
from planapp.domain import FUNDING_GROUPS, GROUPS, URGENCY
from planapp.extensions import db
from planapp.forum.board import (
    REGIONS,
    Board,
    BoardDelta,
    BoardFilter,
    board_answer,
    board_page,
    delta_since,
    fill_delta,
    full_board,
    render_delta,
)
from planapp.forum.decisions import Decisions, save_decisions, set_urgency
from planapp.forum.forms import ProjectPanelForm
from planapp.forum.history import describe, history_item, recent_changes
from planapp.fragments import event, region
from planapp.htmx import CONFLICT, INVALID, LOCKED, answer, is_htmx, version_field
from planapp.intake.values import whole_number_or_none
from planapp.meeting.rules import GroupLocked
from planapp.models import Agency, Plan, Project, board_places

bp = Blueprint("forum", __name__)
URGENCY_REGIONS = "forum/_urgency_view.html"  # the urgency view's regions, rendered by name


# --- the board ----------------------------------------------------------------------------


def board_plan(plan_id: int, *joined) -> Plan:
    """The plan, for a signed-in user who may change it, with its funding groups' rows (locks,
    ceilings) in the same statement: every column of the request reads them from there."""
    return plan_for_editing(plan_id, Plan.groups, *joined)


@bp.get("/plans/<int:plan_id>/board")
@login_required
def board(plan_id: int):
    plan = board_plan(plan_id, Plan.tambon)  # the page names the tambon
    filters = BoardFilter.from_values(request.args)
    if is_htmx():
        return region(REGIONS, "board", full_board(plan, filters))
    return render_template(
        "forum/board.html",
        plan=plan,
        filters=filters,
        b=board_page(plan, filters),
    )


@bp.get("/plans/<int:plan_id>/board/events")
@login_required
def board_events(plan_id: int):
    """The board's live stream: for every change saved elsewhere, the delta from the version
    this board shows (its filters and language, its user's forms), rendered by name."""
    plan_id = plan_for_editing(plan_id).id
    filters = BoardFilter.from_values(request.args)

    def render(known: int):
        plan = db.session.get(Plan, plan_id, populate_existing=True)
        board, delta = delta_since(plan, filters, known)
        kind = "state" if delta.whole else "delta"
        return delta.version, event(delta.version, kind, str(render_delta(board, delta))), False

    return live.event_stream(plan_id, render, public=False)


CONFLICT_MESSAGE = _l(
    "Another device moved this card or the card you put it next to, so this move was not "
    "saved. The columns now show where they are: check and move again."
)
INVALID_MESSAGE = _l(
    "This move no longer fits the board, so it was not saved. The columns are refreshed."
)


@bp.post("/plans/<int:plan_id>/moves")
@login_required
def move(plan_id: int):
    """A relative move (card, group, the card it now sits above), checked only against what it
    touches. Answers with the delta from the version the tablet sent; refused, with the fresh
    columns the move touched and why."""
    plan = board_plan(plan_id)
    form = request.form
    project_id = whole_number_or_none(form.get("project_id"))
    group = form.get("group")
    before_id = whole_number_or_none(form.get("before_id"))
    seen = whole_number_or_none(form.get("version"))
    if (
        project_id is None
        or seen is None
        or group not in GROUPS
        or (form.get("before_id") and before_id is None)
    ):
        abort(400, _("The move could not be read: project, group and version are needed."))
    try:
        result = ranking.move_project(
            plan, project_id, group, before_id, seen, actor=current_user()
        )
    except (ranking.Conflict, ranking.InvalidMove, GroupLocked) as refused:
        db.session.rollback()
        touched = {group} | _places_of(plan, [project_id, before_id])
        if isinstance(refused, GroupLocked):
            message, status = refused.message, LOCKED
        elif isinstance(refused, ranking.Conflict):
            message, status = str(CONFLICT_MESSAGE), CONFLICT
        else:
            message, status = str(INVALID_MESSAGE), CONFLICT
        return board_answer(plan, form, message, status, force_columns=touched)
    entry = result.entry
    item = history_item(entry, entry.summary)
    filters = BoardFilter.from_values(form)
    if seen == entry.plan_version - 1:
        # The tablet was current: the move itself is all the news (no reading of the log).
        board = Board(plan, filters, entry.plan_version, message=item.text)
        delta = BoardDelta(seen, entry.plan_version, history=[item])
        card = result.card
        fill_delta(plan, board, delta, result.regions, {card.id: card}, {card.id: before_id})
    else:
        board, delta = delta_since(plan, filters, seen, message=item.text)
    html = str(render_delta(board, delta))  # inside the transaction: exactly this version
    db.session.commit()
    return html


def _places_of(plan: Plan, ids) -> set[str]:
    """The columns these cards are in now (a refused move sends them whole)."""
    return set(
        db.session.scalars(
            select(board_places.c.funding_group).where(
                board_places.c.plan_id == plan.id,
                board_places.c.project_id.in_([pid for pid in ids if pid is not None]),
            )
        )
    )


@bp.post("/plans/<int:plan_id>/undo")
@login_required
def undo(plan_id: int):
    """Revert the plan's last change, whoever made it (pressing again goes further back); every
    board shows what was undone. Refused when that change is one this tablet has not seen yet."""
    plan = board_plan(plan_id)
    view = "urgency" if request.form.get("view") == "urgency" else "board"
    seen = version_field(request.form)
    try:
        undone, _undo = undo_last_change(plan, actor=current_user(), seen_version=seen)
    except StaleVersion:
        db.session.rollback()
        message = _(
            "The last change was made on another device a moment ago, so nothing was undone. "
            "Check the board and press undo again if you still want to."
        )
        return _view_answer(plan, view, message, CONFLICT)
    except NothingToUndo:
        return _view_answer(plan, view, _("There is nothing to undo."))
    except UndoRefused as refused:
        db.session.rollback()
        return _view_answer(plan, view, str(refused.message), CONFLICT)
    message = _("Undone: %(change)s", change=describe(undone))
    response = _view_answer(plan, view, message)
    db.session.commit()
    return response


def _view_answer(plan: Plan, view: str, message: str, status: int = 200):
    if view == "urgency":
        body = region(
            URGENCY_REGIONS, "view", plan, urgency_tiers(plan), message, alert=status >= 400
        )
        return answer(body, status, retarget="#urgency-view")
    return board_answer(plan, request.form, message, status)


@bp.get("/plans/<int:plan_id>/history")
@login_required
def history(plan_id: int):
    plan = plan_for_editing(plan_id)
    return region(REGIONS, "history", recent_changes(plan))


# --- the project panel --------------------------------------------------------------------


def panel_form(project: Project, formdata=None) -> ProjectPanelForm:
    form = ProjectPanelForm(formdata=formdata, obj=None if formdata else project)
    if formdata is None:
        form.urgency.data = project.urgency or ""
        form.supporting_agency_ids.data = [agency.id for agency in project.supporting_agencies]
        form.strategy_ids.data = [strategy.id for strategy in project.strategies]
    form.set_choices(
        db.session.scalars(select(Agency).order_by(Agency.kind, Agency.name)).all(),
        strategies.strategies_in_order(project.plan.tambon),  # those that apply to it
    )
    return form


def plan_project(plan: Plan, project_id: int) -> Project:
    project = db.session.get(Project, project_id)
    if project is None or project.plan_id != plan.id or project.merged_into_id is not None:
        abort(404)
    return project


def panel_view(values) -> str:
    return "urgency" if values.get("view") == "urgency" else "board"


def render_panel(plan: Plan, project: Project, form, view: str, **extra) -> str:
    # A project without a strategy shows what its sector proposes (confirmed on the strategies
    # page, or ticked here).
    proposal = None if project.strategies else strategies.sector_strategies().get(project.sector)
    return render_template(
        "forum/_panel.html",
        plan=plan,
        project=project,
        form=form,
        view=view,
        proposal=proposal,
        **extra,
    )


@bp.get("/plans/<int:plan_id>/projects/<int:project_id>/panel")
@login_required
def panel(plan_id: int, project_id: int):
    plan = plan_for_editing(plan_id)
    project = plan_project(plan, project_id)
    return render_panel(plan, project, panel_form(project), panel_view(request.args))


@bp.post("/plans/<int:plan_id>/projects/<int:project_id>")
@login_required
def save_panel(plan_id: int, project_id: int):
    """Save the panel: refused only when another device changed this project's decisions since
    the panel was opened (`panel_version`), keeping what was typed."""
    plan = board_plan(plan_id)
    project = plan_project(plan, project_id)
    view = panel_view(request.form)
    form = panel_form(project, formdata=request.form)
    seen = version_field(request.form, "panel_version")
    if not form.validate():
        return render_panel(plan, project, form, view), INVALID
    decisions = Decisions(
        feasibility=form.feasibility.data,
        feasibility_reason=form.feasibility_reason.data or "",
        urgency=form.urgency.data or None,
        lead_agency_id=form.lead_agency_id.data,
        new_lead_agency=form.new_lead_agency.data or "",
        supporting_agency_ids=form.supporting_agency_ids.data or [],
        new_supporting_agency=form.new_supporting_agency.data or "",
        new_agency_kind=form.new_agency_kind.data,
        strategy_ids=form.strategy_ids.data or [],
        # A post without the field (an older panel) leaves the programme as it is.
        programme=form.programme.data if "programme" in request.form else None,
        note=form.note.data or "",
    )
    try:
        saved = save_decisions(plan, project, decisions, seen, actor=current_user())
    except GroupLocked as locked:
        db.session.rollback()
        form.feasibility.errors = [locked.message]
        return render_panel(plan, project, form, view), INVALID
    except StaleVersion:
        db.session.rollback()
        # Keep what was typed in the panel: nothing is lost, it can be saved again (its version
        # now the plan's, so the next save goes through).
        stale = render_panel(plan, project, form, view, stale=True, panel_version=plan.version)
        return stale + _panel_news(plan, view, ""), CONFLICT
    item = history_item(saved.entry, saved.entry.summary)
    if not is_htmx():  # the panel as a page of its own: back to the board, saying what changed
        db.session.commit()
        flash(item.text, "success")
        return redirect(url_for("forum.board", plan_id=plan.id), 303)
    db.session.flush()
    if view == "board":
        # Saved: the panel closes (on a tablet it covers the columns); the board's status line
        # says what was saved.
        body = ""
    else:
        project = plan_project(plan, project.id)
        body = render_panel(
            plan, project, panel_form(project), view, saved=True, panel_version=plan.version
        )
    body += _panel_news(plan, view, item.text)
    db.session.commit()
    return body


def _panel_news(plan: Plan, view: str, message: str) -> str:
    """What else a panel save changed, out of band: the urgency view whole, or on the board the
    delta from the version the board sent."""
    if view == "urgency":
        return str(region(URGENCY_REGIONS, "view", plan, urgency_tiers(plan), message, oob=True))
    filters = BoardFilter.from_values(request.form)
    base = version_field(request.form, required=False)
    board, delta = delta_since(plan, filters, -1 if base is None else base, message)
    return str(render_delta(board, delta))


# --- the urgency view ---------------------------------------------------------------------


def urgency_tiers(plan: Plan) -> dict[str, list[Project]]:
    """Projects taken forward (groups 1-3), by urgency tier ("" for none yet), in group and rank
    order, with their agencies."""
    projects = db.session.scalars(
        select(Project)
        .where(*on_board(plan.id), Project.funding_group.in_(FUNDING_GROUPS))
        .options(
            selectinload(Project.villages),
            selectinload(Project.lead_agency),
            selectinload(Project.supporting_agencies),
        )
        .order_by(Project.funding_group, Project.rank)
    ).all()
    tiers: dict[str, list[Project]] = {tier: [] for tier in [*URGENCY, ""]}
    for project in projects:
        tiers[project.urgency or ""].append(project)
    return tiers


@bp.get("/plans/<int:plan_id>/urgency")
@login_required
def urgency(plan_id: int):
    plan = plan_for_editing(plan_id)
    if is_htmx():
        return region(URGENCY_REGIONS, "view", plan, urgency_tiers(plan))
    return render_template("forum/urgency.html", plan=plan, tiers=urgency_tiers(plan))


@bp.post("/plans/<int:plan_id>/projects/<int:project_id>/urgency", endpoint="set_urgency")
@login_required
def set_project_urgency(plan_id: int, project_id: int):
    """The urgency view's one-tap tier choice: answers with that project's row, moved into its
    tier's list, and the tiers' counts. Refused only when another device changed the project's
    decisions since the view was shown."""
    plan = plan_for_editing(plan_id)
    project = plan_project(plan, project_id)
    seen = version_field(request.form)
    tier = request.form.get("urgency", "")
    if tier not in ("", *URGENCY):
        abort(400, _("Choose an urgency tier from the list."))
    try:
        entry = set_urgency(plan, project, tier or None, seen, actor=current_user())
    except StaleVersion:
        db.session.rollback()
        message = _(
            "Another device changed this project a moment ago, so this was not saved. "
            "The view now shows the latest state."
        )
        return _view_answer(plan, "urgency", message, CONFLICT)
    if not is_htmx():
        db.session.commit()
        return redirect(url_for("forum.urgency", plan_id=plan.id), 303)
    tiers = urgency_tiers(plan)
    listed = [shown.id for shown in tiers[project.urgency or ""]]
    after = listed.index(project.id) + 1
    below = listed[after] if after < len(listed) else None
    message = entry.summary if entry else ""
    response = region(URGENCY_REGIONS, "moved", plan, project, below, tiers, message)
    db.session.commit()
    return response


# The strategies page registers on this blueprint.
from planapp.forum import proposal_routes  # noqa: E402, F401
