"""The forum board: priority order, the three funding groups, feasibility, urgency, agencies.

Routes are thin: they read the request, call `planapp.ranking` / `planapp.changes`, and answer
with the fragments that changed. A move answers with out-of-band fragments only (the moved card
at its new place, the two column heads, the plan version, the history); a stale request answers
409 with the fresh board.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, g, make_response, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from planapp import ranking
from planapp.accounts import login_required, plan_for_editing
from planapp.changes import (
    NothingToUndo,
    StaleVersion,
    UndoRefused,
    project_snapshot,
    record_change,
    undo_last_change,
)
from planapp.domain import (
    FEASIBILITY_LABELS,
    FUNDING_GROUPS,
    GROUP_SHORT_LABELS,
    GROUPS,
    SECTOR_LABELS,
    SECTORS,
    URGENCY,
    URGENCY_LABELS,
)
from planapp.extensions import db
from planapp.forum.decisions import EDIT_FIELDS, Decisions, save_decisions
from planapp.forum.forms import ProjectPanelForm
from planapp.forum.history import (
    describe,
    describe_edit,
    describe_move,
    history_item,
    recent_changes,
)
from planapp.intake.values import whole_number_or_none
from planapp.meeting.groups import confirmed_groups, group_status, plan_groups
from planapp.meeting.rules import GroupLocked
from planapp.models import Agency, Plan, Project, Strategy

bp = Blueprint("forum", __name__)


# --- filters ------------------------------------------------------------------------------


@dataclass
class BoardFilter:
    """Which cards the facilitator wants to see. Cards that do not match stay in the page,
    collapsed, so a drop or a move button always names the real neighbour on the board."""

    village: int | None = None
    sector: str = ""
    text: str = ""

    @classmethod
    def from_values(cls, values) -> BoardFilter:
        village = values.get("village", "")
        sector = values.get("sector", "")
        return cls(
            village=whole_number_or_none(village),
            sector=sector if sector in SECTORS else "",
            text=values.get("q", "").strip()[:200],
        )

    @property
    def active(self) -> bool:
        return bool(self.village or self.sector or self.text)

    def matches(self, project: Project) -> bool:
        if self.village and self.village not in project.village_numbers:
            return False
        if self.sector and project.sector != self.sector:
            return False
        if self.text:
            needle = self.text.casefold()
            haystack = " ".join(
                [project.title, project.location, project.note, project.objective]
                + ([project.lead_agency.name] if project.lead_agency else [])
            ).casefold()
            if needle not in haystack:
                return False
        return True

    def query(self) -> dict:
        return {
            key: value
            for key, value in (("village", self.village), ("sector", self.sector), ("q", self.text))
            if value
        }


# --- loading ------------------------------------------------------------------------------


def board_projects(plan: Plan, ids=None) -> list[Project]:
    query = (
        select(Project)
        .where(Project.plan_id == plan.id, Project.merged_into_id.is_(None))
        .options(selectinload(Project.villages), selectinload(Project.lead_agency))
        .order_by(Project.rank.is_(None), Project.rank, Project.id)
    )
    if ids is not None:
        query = query.where(Project.id.in_(ids))
    return db.session.scalars(query).all()


def board_context(plan: Plan, filters: BoardFilter, message: str = "") -> dict:
    columns: dict[str, list[Project]] = {group: [] for group in GROUPS}
    for project in board_projects(plan):
        columns.setdefault(project.funding_group, []).append(project)
    return {
        "plan": plan,
        "columns": columns,
        "meeting_group_status": meeting_statuses(plan, columns),
        "confirmed": confirmed_groups(plan),
        "totals": ranking.column_totals(plan),
        "filters": filters,
        "message": message,
        "sectors": [(code, SECTOR_LABELS[code]) for code in SECTORS],
    }


def meeting_statuses(plan: Plan, columns: dict | None = None):
    """The meeting templates' `meeting_group_status(plan, group)` for one render, remembered per
    group: from the columns already loaded, or (after a move) from the budgets alone, and only
    for a group with a ceiling, so a move's answer costs the same in a long column."""
    ceilings = {group: row.ceiling_satang for group, row in plan_groups(plan).items()}
    known = {}

    def status(_plan, group):
        if group not in known:
            if columns is not None:
                cards = columns[group]
            elif ceilings.get(group) is None:
                cards = []
            else:
                cards = db.session.execute(
                    select(Project.id, Project.budget_satang)
                    .where(
                        Project.plan_id == plan.id,
                        Project.merged_into_id.is_(None),
                        Project.funding_group == group,
                    )
                    .order_by(Project.rank)
                ).all()
            known[group] = group_status(plan, group, cards)
        return known[group]

    return status


@bp.app_template_global("forum_card_text")
def forum_card_text(plan: Plan) -> dict:
    """Every label a card shows, translated and escaped once per request (not once per card),
    and the group menu's options with each group selected: a board has hundreds of cards."""
    if "forum_card_text" not in g:
        panel_url = url_for("forum.panel", plan_id=plan.id, project_id=0)
        labels = {
            "position": _("Position"),
            "details": _("Details"),
            "village_no": _("Village No."),
            "baht": _("baht"),
            "lead": _("Lead"),
            "reason_needed": _("Reason needed"),
            "move_up": _("Move up"),
            "move_down": _("Move down"),
            "group_for": _("Group"),
            "move_to_group": _("Move to the chosen group"),
            "move": _("Move"),
        }
        text = {name: escape(label) for name, label in labels.items()}
        groups = [(code, escape(GROUP_SHORT_LABELS[code])) for code in GROUPS]
        text.update(
            {
                "group_options": {
                    chosen: Markup("").join(
                        Markup('<option value="{}"{}>{}</option>').format(
                            code, Markup(" selected") if code == chosen else "", label
                        )
                        for code, label in groups
                    )
                    for chosen in GROUPS
                },
                "sectors": {code: escape(label) for code, label in SECTOR_LABELS.items()},
                "feasibility": {code: escape(label) for code, label in FEASIBILITY_LABELS.items()},
                "urgency": {code: escape(label) for code, label in URGENCY_LABELS.items()},
                # Built once: each card adds its own id and "/panel".
                "projects_url": escape(panel_url.removesuffix("0/panel")),
            }
        )
        g.forum_card_text = text
    return g.forum_card_text


def is_htmx() -> bool:
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-Boosted")


# --- pages --------------------------------------------------------------------------------


@bp.get("/plans/<int:plan_id>/board")
@login_required
def board(plan_id: int):
    plan = plan_for_editing(plan_id)
    filters = BoardFilter.from_values(request.args)
    context = board_context(plan, filters)
    if is_htmx():
        return render_template("forum/_board.html", **context)
    return render_template("forum/board.html", history=recent_changes(plan), **context)


def fresh_view(
    plan: Plan, filters: BoardFilter, message: str, status: int = 409, view: str = "board"
):
    """The whole board (or urgency view) as it is now, swapped in place of the stale one, with
    the message; a 409 message is an alert."""
    db.session.rollback()
    db.session.refresh(plan)
    alert = status in (409, 423)  # stale, or a confirmed (locked) group
    if view == "urgency":
        body = render_template(
            "forum/_urgency_view.html", alert=alert, **urgency_context(plan, message)
        )
        target = "#urgency-view"
    else:
        body = render_template(
            "forum/_board_refresh.html",
            history=recent_changes(plan),
            alert=alert,
            **board_context(plan, filters, message),
        )
        target = "#board"
    response = make_response(body, status)
    response.headers["HX-Retarget"] = target
    response.headers["HX-Reswap"] = "outerHTML"
    return response


def fresh_board(plan: Plan, filters: BoardFilter, message: str, status: int = 409):
    return fresh_view(plan, filters, message, status)


STALE_MESSAGE = _l(
    "The plan was changed on another device, so this change was not saved. "
    "The board now shows the latest order: check it and try again."
)


@bp.post("/plans/<int:plan_id>/moves")
@login_required
def move(plan_id: int):
    plan = plan_for_editing(plan_id)
    form = request.form
    filters = BoardFilter.from_values(form)
    project_id = whole_number_or_none(form.get("project_id"))
    group = form.get("group")
    before_id = whole_number_or_none(form.get("before_id"))
    seen_version = whole_number_or_none(form.get("version"))
    if (
        project_id is None
        or seen_version is None
        or group not in GROUPS
        or (form.get("before_id") and before_id is None)
    ):
        abort(400, _("The move could not be read: project, group and version are needed."))
    try:
        result = ranking.move_project(plan, project_id, group, before_id, seen_version)
    except StaleVersion:
        return fresh_board(plan, filters, str(STALE_MESSAGE))
    except GroupLocked as locked:
        return fresh_board(plan, filters, locked.message, status=423)
    except ranking.InvalidMove:
        return fresh_board(
            plan,
            filters,
            _("This move no longer fits the board, so it was not saved. The board is refreshed."),
        )
    entry = result.entry
    project_key = str(project_id)
    entry.summary = describe_move(
        result.project.title,
        entry.before["projects"][project_key],
        entry.after["projects"][project_key],
    )
    db.session.flush()
    item = history_item(entry, entry.summary)  # read now: after commit it would reload
    db.session.commit()
    project = board_projects(plan, [project_id])[0]
    return render_template(
        "forum/_move_response.html",
        plan=plan,
        project=project,
        result=result,
        filters=filters,
        totals=ranking.column_totals(plan, result.changed_groups),
        confirmed=confirmed_groups(plan),
        meeting_group_status=meeting_statuses(plan),
        message=item.text,
        entry=item,
    )


@bp.post("/plans/<int:plan_id>/undo")
@login_required
def undo(plan_id: int):
    """Revert the plan's last change; pressing again goes further back. Answers with the whole
    board (or urgency view): an undo can touch any column."""
    plan = plan_for_editing(plan_id)
    filters = BoardFilter.from_values(request.form)
    view = "urgency" if request.form.get("view") == "urgency" else "board"
    seen_version = read_version(request.form)
    try:
        undone = undo_last_change(plan, seen_version=seen_version)
    except StaleVersion:
        return fresh_view(plan, filters, str(STALE_MESSAGE), view=view)
    except NothingToUndo:
        return fresh_view(plan, filters, _("There is nothing to undo."), status=200, view=view)
    except UndoRefused as refused:
        return fresh_view(plan, filters, str(refused.message), view=view)
    message = _("Undone: %(change)s", change=describe(undone))
    db.session.commit()
    return fresh_view(plan, filters, message, status=200, view=view)


def read_version(values) -> int:
    version = whole_number_or_none(values.get("version"))
    if version is None:
        abort(400, _("The request could not be read."))
    return version


@bp.get("/plans/<int:plan_id>/history")
@login_required
def history(plan_id: int):
    plan = plan_for_editing(plan_id)
    return render_template("forum/_history.html", plan=plan, history=recent_changes(plan))


# --- the project panel --------------------------------------------------------------------


def panel_form(project: Project, formdata=None) -> ProjectPanelForm:
    form = ProjectPanelForm(formdata=formdata, obj=None if formdata else project)
    if formdata is None:
        form.urgency.data = project.urgency or ""
        form.supporting_agency_ids.data = [agency.id for agency in project.supporting_agencies]
        form.strategy_ids.data = [strategy.id for strategy in project.strategies]
    form.set_choices(
        db.session.scalars(select(Agency).order_by(Agency.kind, Agency.name)).all(),
        db.session.scalars(select(Strategy).order_by(Strategy.level, Strategy.code)).all(),
    )
    return form


def plan_project(plan: Plan, project_id: int) -> Project:
    project = db.session.get(Project, project_id)
    if project is None or project.plan_id != plan.id or project.merged_into_id is not None:
        abort(404)
    return project


def panel_view(values) -> str:
    return "urgency" if values.get("view") == "urgency" else "board"


@bp.get("/plans/<int:plan_id>/projects/<int:project_id>/panel")
@login_required
def panel(plan_id: int, project_id: int):
    plan = plan_for_editing(plan_id)
    project = plan_project(plan, project_id)
    return render_template(
        "forum/_panel.html",
        plan=plan,
        project=project,
        form=panel_form(project),
        view=panel_view(request.args),
    )


@bp.post("/plans/<int:plan_id>/projects/<int:project_id>")
@login_required
def save_panel(plan_id: int, project_id: int):
    plan = plan_for_editing(plan_id)
    project = plan_project(plan, project_id)
    view = panel_view(request.form)
    filters = BoardFilter.from_values(request.form)
    form = panel_form(project, formdata=request.form)
    seen_version = read_version(request.form)
    if not form.validate():
        body = render_template(
            "forum/_panel.html", plan=plan, project=project, form=form, view=view
        )
        return body, 422
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
        note=form.note.data or "",
    )
    before_group = project.funding_group
    try:
        saved = save_decisions(plan, project, decisions, seen_version)
    except GroupLocked as locked:
        db.session.rollback()
        form.feasibility.errors = [locked.message]
        body = render_template(
            "forum/_panel.html", plan=plan, project=project, form=form, view=view
        )
        return body, 422
    except StaleVersion:
        response = fresh_view(plan, filters, str(STALE_MESSAGE), view=view)
        # Keep what was typed in the panel: nothing is lost, it can be saved again.
        response.set_data(
            response.get_data(as_text=True)
            + render_template(
                "forum/_panel.html",
                plan=plan,
                project=project,
                form=form,
                view=view,
                oob=True,
                stale=True,
            )
        )
        return response
    key = str(project.id)
    saved.entry.summary = describe_edit(
        project.title, saved.entry.before["projects"][key], saved.entry.after["projects"][key]
    )
    db.session.flush()
    item = history_item(saved.entry, saved.entry.summary)
    db.session.commit()
    project = board_projects(plan, [project.id])[0]
    changed_groups = sorted({before_group, project.funding_group}, key=GROUPS.index)
    context = dict(
        plan=plan,
        project=project,
        form=panel_form(project),
        view=view,
        saved=True,
        message=item.text,
        filters=filters,
        moved=saved.moved,
        entry=item,
    )
    if view == "urgency":
        context.update(urgency_context(plan, item.text))
    else:
        context.update(totals=ranking.column_totals(plan, changed_groups))
        context.update(changed_groups=changed_groups)
        context.update(
            confirmed=confirmed_groups(plan), meeting_group_status=meeting_statuses(plan)
        )
    return render_template("forum/_panel_saved.html", **context)


# --- the urgency view ---------------------------------------------------------------------


def urgency_context(plan: Plan, message: str = "") -> dict:
    """Projects taken forward (groups 1-3), by urgency tier, with their agencies."""
    projects = db.session.scalars(
        select(Project)
        .where(
            Project.plan_id == plan.id,
            Project.merged_into_id.is_(None),
            Project.funding_group.in_(FUNDING_GROUPS),
        )
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
    return {"plan": plan, "tiers": tiers, "message": message}


@bp.get("/plans/<int:plan_id>/urgency")
@login_required
def urgency(plan_id: int):
    plan = plan_for_editing(plan_id)
    context = urgency_context(plan)
    if is_htmx():
        return render_template("forum/_urgency_view.html", **context)
    return render_template("forum/urgency.html", **context)


@bp.post("/plans/<int:plan_id>/projects/<int:project_id>/urgency")
@login_required
def set_urgency(plan_id: int, project_id: int):
    """The quick tier choice of the urgency view: one field, one logged change."""
    plan = plan_for_editing(plan_id)
    project = plan_project(plan, project_id)
    seen_version = read_version(request.form)
    tier = request.form.get("urgency", "")
    if tier not in ("", *URGENCY):
        abort(400, _("Choose an urgency tier from the list."))
    try:
        entry = record_change(plan, "edit", project=project, seen_version=seen_version)
    except StaleVersion:
        return fresh_view(plan, BoardFilter(), str(STALE_MESSAGE), view="urgency")
    before = project_snapshot(project, EDIT_FIELDS)
    project.urgency = tier or None
    after = project_snapshot(project, EDIT_FIELDS)
    entry.before = {"projects": {str(project.id): before}}
    entry.after = {"projects": {str(project.id): after}}
    entry.summary = describe_edit(project.title, before, after)
    db.session.commit()
    return fresh_view(plan, BoardFilter(), entry.summary, status=200, view="urgency")
