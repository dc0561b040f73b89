"""What the projector and phone views show, one screen per step of the forum, and the
facilitator's choices about them (mode, village, public or not). Plain functions: the routes
render what these return.

The projector cannot scroll and nobody can click it, so long lists are cut into pages here, on
the server: every size on the projector is in units of the 16:9 screen (see projector.css), so
how much fits is the same at 1280x720 and at 1920x1080, and can be estimated from the text.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from planapp.changes import record_change
from planapp.domain import (
    FUNDING_GROUPS,
    GROUP_LABELS,
    GROUPS,
    PROJECTOR_MODE_LABELS,
    PROJECTOR_MODES,
    SECTORS,
    URGENCY,
    URGENCY_LABELS,
)
from planapp.extensions import db
from planapp.meeting.record import participants
from planapp.models import ChangeLog, Plan, Project, Village, new_public_token
from planapp.taken_forward import taken_forward

# How much a column of the projector holds, in lines of card-title text, and how many characters
# of title fit on one line of a column (measured with the demo tambon in Chromium at 16:9; the
# browser test for "no scroll, nothing cut off" keeps these honest).
COLUMN_LINES = {"board": 12.9, "village": 14.0, "urgency": 13.0}
TITLE_CHARS_PER_LINE = {"board": 17, "village": 33, "urgency": 21}
CARD_EXTRA_LINES = {"board": 1.38, "village": 1.38, "urgency": 1.38}
AGENCY_CHARS_PER_LINE = 28  # lead and supporting agencies, at the smaller meta size
AGENCY_LINE = 0.75  # one line of meta text, in title lines
VILLAGE_COLUMNS = 2


def visible_length(text: str) -> int:
    """Characters that take width: Thai vowel and tone marks above or below do not."""
    return sum(1 for char in text if unicodedata.category(char) not in ("Mn", "Me", "Cf"))


def _lines(text: str, per_line: int) -> int:
    length = visible_length(text)
    return max(1, -(-length // per_line))


def card_cost(project: Project, mode: str) -> float:
    cost = _lines(project.title, TITLE_CHARS_PER_LINE[mode]) + CARD_EXTRA_LINES[mode]
    if mode == "urgency":
        lead = project.lead_agency.name if project.lead_agency else "-"
        cost += AGENCY_LINE * _lines("Lead: " + lead, AGENCY_CHARS_PER_LINE)
        if project.supporting_agencies:
            names = ", ".join(agency.name for agency in project.supporting_agencies)
            cost += AGENCY_LINE * _lines("Supporting: " + names, AGENCY_CHARS_PER_LINE)
    return cost


CUT_LINE = 1.2  # the budget cut line between two cards, in title lines
TIMER_LINES = 3.8  # the presentation countdown in the corner of a village's screen
MESSAGE_CHARS_PER_LINE = 48


def paginate(
    projects: list[Project],
    mode: str,
    capacity: float | None = None,
    reserve: float = 0.0,
    cut_before_id: int | None = None,
) -> list[list]:
    """Cut a column into pages that fit the projector; every card is on exactly one page.
    `reserve` is room taken on every page by something else (a message, the timer)."""
    capacity = (capacity or COLUMN_LINES[mode]) - reserve
    pages: list[list] = [[]]
    used = 0.0
    for project in projects:
        cost = card_cost(project, mode) + (CUT_LINE if project.id == cut_before_id else 0.0)
        if pages[-1] and used + cost > capacity:
            pages.append([])
            used = 0.0
        pages[-1].append(project)
        used += cost
    return pages


@dataclass
class Column:
    """A column of cards on the screen, already paged (one page on the phone)."""

    key: str
    label: str
    projects: list[Project]
    pages: list[list[Project]] = field(default_factory=list)
    first_page: int = 0  # the page shown first: the one with the card that changed last
    status: object = None  # the meeting's GroupStatus (ceiling, cut line, confirmed), groups only

    @property
    def budget_satang(self) -> int:
        return sum(project.budget_satang for project in self.projects)


def _columns(
    items: list[tuple[str, str, list[Project]]],
    mode: str,
    paged: bool,
    last_id: int | None,
    reserve: float = 0.0,
    statuses: dict | None = None,
):
    columns = []
    for key, label, projects in items:
        status = (statuses or {}).get(key)
        cut_before = status.cut_before_id if status is not None else None
        pages = (
            paginate(projects, mode, reserve=reserve, cut_before_id=cut_before)
            if paged
            else [projects]
        )
        first = next((i for i, page in enumerate(pages) if any(p.id == last_id for p in page)), 0)
        columns.append(Column(key, label, projects, pages, first, status))
    return columns


def message_reserve(plan: Plan) -> float:
    """Room the facilitator's message takes above the cards, in title lines."""
    message = getattr(plan, "screen_message", "") or ""
    if not message:
        return 0.0
    return 0.8 + 1.25 * _lines(message, MESSAGE_CHARS_PER_LINE)


def last_changed_project_id(plan: Plan) -> int | None:
    """The project the latest saved change was about (a move, a group or urgency change), if
    the latest change was about one project: the screens highlight it briefly."""
    entry = db.session.execute(
        select(ChangeLog.project_id, ChangeLog.plan_version)
        .where(ChangeLog.plan_id == plan.id)
        .order_by(ChangeLog.id.desc())
        .limit(1)
    ).first()
    return entry.project_id if entry else None


def _active_projects(plan: Plan) -> list[Project]:
    return list(
        db.session.scalars(
            select(Project)
            .where(Project.plan_id == plan.id, Project.merged_into_id.is_(None))
            .options(
                selectinload(Project.villages),
                selectinload(Project.lead_agency),
                selectinload(Project.supporting_agencies),
            )
            .order_by(Project.funding_group, Project.rank, Project.id)
        )
    )


def _by_rank(projects):
    return sorted(projects, key=lambda p: (p.rank is None, p.rank or 0, p.id))


def board_screen(
    plan: Plan, projects: list[Project], paged: bool, last_id: int | None, reserve: float = 0.0
) -> dict:
    from planapp.meeting.groups import group_status

    by_group = {group: [] for group in GROUPS}
    for project in projects:
        by_group.setdefault(project.funding_group, []).append(project)
    groups = [(g, GROUP_LABELS[g], _by_rank(by_group[g])) for g in FUNDING_GROUPS]
    statuses = {g: group_status(plan, g, cards) for g, _label, cards in groups}
    columns = _columns(groups, "board", paged, last_id, reserve, statuses)
    # Unsorted and not-feasible cards are counted on the projector (the board holds them); the
    # card that moved last is shown even there, so the hall sees where it went.
    side = _columns(
        [(g, GROUP_LABELS[g], _by_rank(by_group[g])) for g in ("unsorted", "not-feasible")],
        "board",
        paged,
        last_id,
    )
    return {"columns": columns, "side": side}


def village_screen(
    plan: Plan, projects: list[Project], paged: bool, last_id: int | None, reserve: float = 0.0
) -> dict:
    villages = plan.tambon.villages
    village = next((v for v in villages if v.number == plan.projector_village_number), None)
    village = village or (villages[0] if villages else None)  # the chosen one was removed
    own = []
    if village is not None:
        own = sorted(
            (p for p in projects if village.id in {v.id for v in p.villages}),
            key=lambda p: (p.village_rank is None, p.village_rank or 0, p.id),
        )
    # Each page in two columns, filled top to bottom then left to right.
    if paged and village is not None and _timer_shown(plan):
        reserve += TIMER_LINES
    chunks = paginate(own, "village", reserve=reserve) if paged else [own]
    split_pages = [
        (chunks[i : i + VILLAGE_COLUMNS] + [[]])[:VILLAGE_COLUMNS]
        for i in range(0, len(chunks), VILLAGE_COLUMNS)
    ]
    first = next(
        (i for i, cols in enumerate(split_pages) if any(p.id == last_id for c in cols for p in c)),
        0,
    )
    return {
        "village": village,
        "projects": own,
        "pages": split_pages,
        "first_page": first,
        "budget_satang": sum(p.budget_satang for p in own),
    }


def overview_screen(plan: Plan, projects: list[Project]) -> dict:
    """Step 2: the tambon as a whole, by village and by sector, and its agreed profile."""
    villages = list(plan.tambon.villages)
    by_village = {v.id: {"village": v, "count": 0, "budget": 0} for v in villages}
    by_sector = {s: {"sector": s, "count": 0, "budget": 0} for s in SECTORS}
    for project in projects:
        for village in project.villages:
            if village.id in by_village:
                by_village[village.id]["count"] += 1
                by_village[village.id]["budget"] += project.budget_satang
        row = by_sector.setdefault(
            project.sector, {"sector": project.sector, "count": 0, "budget": 0}
        )
        row["count"] += 1
        row["budget"] += project.budget_satang
    village_rows = list(by_village.values())
    sector_rows = [row for row in by_sector.values() if row["count"]]
    return {
        "village_rows": village_rows,
        "sector_rows": sector_rows,
        "max_village_budget": max([r["budget"] for r in village_rows] + [1]),
        "max_village_count": max([r["count"] for r in village_rows] + [1]),
        "max_sector_budget": max([r["budget"] for r in sector_rows] + [1]),
        "total_count": len(projects),
        "total_budget": sum(p.budget_satang for p in projects),
        "profile": [
            (_l("Identity"), plan.identity),
            (_l("Development position"), plan.development_position),
            (_l("Development direction"), plan.direction),
            (_l("Potential"), plan.potential),
        ],
    }


def _timer_shown(plan: Plan) -> bool:
    """The meeting's countdown shows in step 1 (see meeting/_screen_overlays.html)."""
    if getattr(plan, "meeting_step", None) != 1 or getattr(plan, "screen_paused", False):
        return False
    from planapp.meeting.record import current_timer

    return current_timer(plan) is not None


def urgency_screen(
    plan: Plan, projects: list[Project], paged: bool, last_id: int | None, reserve: float = 0.0
) -> dict:
    taken_forward = [p for p in projects if p.funding_group in FUNDING_GROUPS]
    tiers = {tier: [] for tier in URGENCY}
    for project in taken_forward:
        if project.urgency in tiers:
            tiers[project.urgency].append(project)
    order = {group: i for i, group in enumerate(FUNDING_GROUPS)}
    columns = _columns(
        [
            (tier, URGENCY_LABELS[tier], sorted(
                tiers[tier], key=lambda p: (order[p.funding_group], p.rank or 0, p.id)
            ))
            for tier in URGENCY
        ],
        "urgency",
        paged,
        last_id,
        reserve,
    )  # fmt: skip
    unset = [p for p in taken_forward if p.urgency is None]
    return {"columns": columns, "unset_count": len(unset)}


def summary_screen(plan: Plan) -> dict:
    """The closing summary: counts and budgets per group and per urgency tier."""
    active = (Project.plan_id == plan.id, Project.merged_into_id.is_(None))
    budget = func.coalesce(func.sum(Project.budget_satang), 0)
    groups = {g: {"count": 0, "budget": 0} for g in GROUPS}
    for group, count, total in db.session.execute(
        select(Project.funding_group, func.count(), budget)
        .where(*active)
        .group_by(Project.funding_group)
    ):
        groups[group] = {"count": count, "budget": total}
    # Taken forward and its tiers: counted as every other output counts them.
    figures = taken_forward(plan)
    tiers = {t: {"count": c.count, "budget": c.satang} for t, c in figures.urgency.items()}
    return {
        "groups": groups,
        "tiers": tiers,
        "max_group_budget": max([groups[g]["budget"] for g in GROUPS] + [1]),
        "max_tier_budget": max([row["budget"] for row in tiers.values()] + [1]),
        "taken_count": figures.total.count,
        "taken_budget": figures.total.satang,
        "participants": participants(plan),
    }


def screen(plan: Plan, layout: str) -> dict:
    """Everything the live view of `plan` shows now, for the projector or the phone."""
    paged = layout == "projector"
    mode = plan.projector_mode if plan.projector_mode in PROJECTOR_MODES else "board"
    last_id = last_changed_project_id(plan)
    state = {"mode": mode, "mode_label": PROJECTOR_MODE_LABELS[mode], "last_id": last_id}
    if getattr(plan, "screen_paused", False):
        state["mode"] = "pause"  # the meeting's pause slide replaces the screen whole
        return state
    reserve = message_reserve(plan) if paged else 0.0
    if mode == "summary":
        state.update(summary_screen(plan))
        return state
    projects = _active_projects(plan)
    if mode == "board":
        state.update(board_screen(plan, projects, paged, last_id, reserve))
    elif mode == "village":
        state.update(village_screen(plan, projects, paged, last_id, reserve))
    elif mode == "overview":
        state.update(overview_screen(plan, projects))
    elif mode == "urgency":
        state.update(urgency_screen(plan, projects, paged, last_id, reserve))
    return state


# --- the facilitator's choices --------------------------------------------------------------
#
# They go through record_change (the version bump is what moves every screen), but they are not
# undoable: "undo" on the board means the last card change, not "put the projector back".


class ScreenChoiceError(ValueError):
    pass


def choose_screen(plan: Plan, mode: str, village_id: int | None = None) -> None:
    if mode not in PROJECTOR_MODES:
        raise ScreenChoiceError(_("Choose what the projector shows."))
    village = None
    if mode == "village":
        village = db.session.get(Village, village_id) if village_id else None
        if village is None or village.tambon_id != plan.tambon_id:
            raise ScreenChoiceError(_("Choose a village of this tambon."))
    if plan.projector_mode == mode and (
        village is None or plan.projector_village_number == village.number
    ):
        return  # nothing changes: no version bump, no redraw on every screen
    plan.projector_mode = mode
    if village is not None:
        plan.projector_village_number = village.number
    label = PROJECTOR_MODE_LABELS[mode]
    summary = _("Projector shows: %(what)s", what=label)
    if village is not None:
        summary += f" ({_('Village')} {village.label})"
    record_change(plan, "projector", summary=summary)


def set_public(plan: Plan, public: bool) -> None:
    if plan.is_public == public:
        return
    plan.is_public = public
    summary = (
        _("Opened the projector and phone views to the public")
        if public
        else _("Closed the projector and phone views to the public")
    )
    record_change(plan, "public", summary=summary)


def regenerate_token(plan: Plan) -> None:
    """A new address: the old projector and phone links (and QR codes) stop working."""
    plan.public_token = new_public_token()
    record_change(plan, "public-token", summary=_("Made a new public address"))
