"""What the projector and phone views show, one screen per step of the forum, and the
facilitator's choices about them (mode, village, public or not). Plain functions: the routes
render what these return (projector/_regions.html, by name).

A screen is made of lists of cards (the funding groups, the urgency tiers, a village's projects)
in the order they show, numbered by a CSS counter. The projector cannot scroll and nobody can
click it: a long list flows into as many columns as it needs (CSS multi-column, each the
height of the screen) and the projector shows them a page at a time (live.js), so nothing is
ever cut off and no length is estimated here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from planapp.ballots import rounds as ballot_rounds
from planapp.cards import Card, kept_plan_cards, on_board, supporting_names
from planapp.changes import Regions, record_change
from planapp.domain import (
    FUNDING_GROUPS,
    GROUP_LABELS,
    GROUPS,
    PROJECTOR_MODE_LABELS,
    PROJECTOR_MODES,
    SECTORS,
    URGENCY,
    URGENCY_LABELS,
    VILLAGE_MODES,
)
from planapp.extensions import db
from planapp.meeting.groups import group_status
from planapp.meeting.record import current_timer, participants
from planapp.models import ChangeLog, Plan, Project, User, Village, new_public_token
from planapp.taken_forward import taken_forward


@dataclass
class Column:
    """A list of cards on the screen, in the order it shows them."""

    key: str
    label: str
    cards: list[Card]
    status: object = None  # the meeting's GroupStatus (ceiling, cut line, confirmed), groups only

    @property
    def budget_satang(self) -> int:
        return sum(card.budget_satang for card in self.cards)


@dataclass
class Screen:
    """Everything a live view shows at one version (`layout`: projector or phone)."""

    plan: Plan
    layout: str
    mode: str
    mode_label: str
    last_id: int | None
    columns: list[Column] = field(default_factory=list)  # the lists of cards, by key
    side: list[Column] = field(default_factory=list)  # counted only (board mode, projector)
    supporting: dict[int, list[str]] = field(default_factory=dict)  # urgency mode
    village: Village | None = None
    data: dict = field(default_factory=dict)  # overview and summary figures
    timer: object = None  # the presentation countdown, step 1

    @property
    def paged(self) -> bool:
        return self.layout == "projector"

    @property
    def numbered(self) -> bool:
        return self.mode != "urgency"

    @property
    def list_attr(self) -> str:
        return "data-urgency" if self.mode == "urgency" else "data-group"

    def lists(self) -> dict[str, Column]:
        return {column.key: column for column in self.columns}


def last_changed_project_id(plan: Plan) -> int | None:
    """The project the latest saved change was about (a move, a group or urgency change), if
    the latest change was about one project: the screens highlight it briefly."""
    entry = db.session.execute(
        select(ChangeLog.project_id)
        .where(ChangeLog.plan_id == plan.id)
        .order_by(ChangeLog.id.desc())
        .limit(1)
    ).first()
    return entry.project_id if entry else None


def _by_rank(cards):
    return sorted(cards, key=lambda c: (c.rank is None, c.rank or 0, c.id))


def board_screen(screen: Screen, cards: Sequence[Card]) -> None:
    plan = screen.plan
    by_group: dict[str, list[Card]] = {group: [] for group in GROUPS}
    for card in cards:
        by_group.setdefault(card.funding_group, []).append(card)
    # On the phone every column is listed; the projector counts unsorted and not-feasible cards
    # (the board holds them) and lists the three funding groups.
    listed = FUNDING_GROUPS if screen.paged else GROUPS
    for group in listed:
        items = _by_rank(by_group[group])
        status = group_status(plan, group, items) if group in FUNDING_GROUPS else None
        screen.columns.append(Column(group, GROUP_LABELS[group], items, status))
    if screen.paged:
        screen.side = [
            Column(group, GROUP_LABELS[group], by_group[group])
            for group in ("unsorted", "not-feasible")
        ]


def group_screen(screen: Screen, cards: Sequence[Card]) -> None:
    """One funding group across the wall, in rank order, with its totals and cut line: the
    hall sees the whole order of the group the forum is ranking."""
    plan = screen.plan
    group = plan.projector_group if plan.projector_group in FUNDING_GROUPS else "1"
    items = _by_rank(c for c in cards if c.funding_group == group)
    screen.columns.append(
        Column(group, GROUP_LABELS[group], items, group_status(plan, group, items))
    )


def shown_village(plan: Plan) -> Village | None:
    """The village the projector shows (village and outcome modes)."""
    villages = plan.tambon.villages
    village = next((v for v in villages if v.number == plan.projector_village_number), None)
    return village or (villages[0] if villages else None)  # the chosen one was removed


def village_screen(screen: Screen, cards: Sequence[Card]) -> None:
    village = screen.village = shown_village(screen.plan)
    own = []
    if village is not None:
        own = sorted(
            (c for c in cards if village.number in c.village_numbers),
            key=lambda c: (c.village_rank is None, c.village_rank or 0, c.id),
        )
    screen.columns.append(Column("village", village.label if village else "", own))


# Where a village's projects went, in the order the outcome screen lists them.
OUTCOME_ORDER = {group: index for index, group in enumerate(FUNDING_GROUPS)}
OUTCOME_ORDER |= {"unsorted": len(FUNDING_GROUPS), "not-feasible": len(FUNDING_GROUPS) + 1}


def outcome_screen(screen: Screen, cards: Sequence[Card]) -> None:
    """The close, village by village: each of the village's projects with its group and place
    in it (counted as the board shows it), or not feasible and why, its urgency and lead
    agency."""
    village = screen.village = shown_village(screen.plan)
    places: dict[int, int] = {}
    for group in FUNDING_GROUPS:
        in_group = _by_rank(c for c in cards if c.funding_group == group)
        places.update((card.id, number) for number, card in enumerate(in_group, 1))
    own = []
    if village is not None:
        own = sorted(
            (c for c in cards if village.number in c.village_numbers),
            key=lambda c: (OUTCOME_ORDER.get(c.funding_group, 9), places.get(c.id, 0), c.id),
        )
    # Not one of the screen's lists of cards (each card says where it went, not a place in it).
    screen.data["outcome"] = Column("outcome", village.label if village else "", own)
    screen.data["places"] = places


def overview_screen(plan: Plan, cards: Sequence[Card]) -> dict:
    """Step 2: the tambon as a whole, by village and by sector, and its agreed profile."""
    villages = list(plan.tambon.villages)
    by_village = {v.number: {"village": v, "count": 0, "budget": 0} for v in villages}
    by_sector = {s: {"sector": s, "count": 0, "budget": 0} for s in SECTORS}
    for card in cards:
        for number in card.village_numbers:
            if number in by_village:
                by_village[number]["count"] += 1
                by_village[number]["budget"] += card.budget_satang
        row = by_sector.setdefault(card.sector, {"sector": card.sector, "count": 0, "budget": 0})
        row["count"] += 1
        row["budget"] += card.budget_satang
    village_rows = list(by_village.values())
    sector_rows = [row for row in by_sector.values() if row["count"]]
    return {
        "village_rows": village_rows,
        "sector_rows": sector_rows,
        "max_village_budget": max([r["budget"] for r in village_rows] + [1]),
        "max_village_count": max([r["count"] for r in village_rows] + [1]),
        "max_sector_budget": max([r["budget"] for r in sector_rows] + [1]),
        "total_count": len(cards),
        "total_budget": sum(c.budget_satang for c in cards),
        "profile": [
            (_l("Identity"), plan.identity),
            (_l("Development position"), plan.development_position),
            (_l("Development direction"), plan.direction),
            (_l("Potential"), plan.potential),
        ],
    }


def urgency_screen(screen: Screen, cards: Sequence[Card]) -> None:
    taken_forward = [c for c in cards if c.funding_group in FUNDING_GROUPS]
    order = {group: i for i, group in enumerate(FUNDING_GROUPS)}
    for tier in URGENCY:
        items = sorted(
            (c for c in taken_forward if c.urgency == tier),
            key=lambda c: (order[c.funding_group], c.rank or 0, c.id),
        )
        screen.columns.append(Column(tier, URGENCY_LABELS[tier], items))
    screen.supporting = supporting_names(screen.plan.id)
    screen.data["unset_count"] = sum(1 for c in taken_forward if c.urgency is None)


def summary_screen(plan: Plan) -> dict:
    """The closing summary: counts and budgets per group and per urgency tier."""
    P = Project
    budget = func.coalesce(func.sum(P.budget_satang), 0)
    groups = {g: {"count": 0, "budget": 0} for g in GROUPS}
    for group, count, total in db.session.execute(
        select(P.funding_group, func.count(), budget)
        .where(*on_board(plan.id))
        .group_by(P.funding_group)
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


def timer_shown(plan: Plan):
    """The meeting's countdown shows in step 1, unless the screen is paused."""
    if plan.meeting_step != 1 or plan.screen_paused:
        return None
    return current_timer(plan)


def screen(plan: Plan, layout: str) -> Screen:
    """Everything the live view of `plan` shows now, for the projector or the phone."""
    mode = plan.projector_mode if plan.projector_mode in PROJECTOR_MODES else "board"
    shown = Screen(plan, layout, mode, PROJECTOR_MODE_LABELS[mode], last_changed_project_id(plan))
    if plan.screen_paused:
        shown.mode = "pause"  # the meeting's pause slide replaces the screen whole
        return shown
    shown.timer = timer_shown(plan)
    vote = ballot_rounds.screen_round(plan)
    if vote is not None:
        # A vote round the facilitator put on screen replaces the mode until taken off.
        shown.mode, shown.mode_label = "vote", _("Vote")
        shown.data = {"vote": vote}
        return shown
    if mode == "summary":
        shown.data = summary_screen(plan)
        return shown
    cards = kept_plan_cards(plan)
    if mode == "board":
        board_screen(shown, cards)
    elif mode == "group":
        group_screen(shown, cards)
    elif mode == "village":
        village_screen(shown, cards)
    elif mode == "outcome":
        outcome_screen(shown, cards)
    elif mode == "overview":
        shown.data = overview_screen(plan, cards)
    elif mode == "urgency":
        urgency_screen(shown, cards)
    return shown


# --- the facilitator's choices --------------------------------------------------------------
#
# They go through record_change (the version bump is what moves every screen), but they are not
# undoable: "undo" on the board means the last card change, not "put the projector back".


class ScreenChoiceError(ValueError):
    pass


# What a screen choice changes: the live views' whole screen, and the control on the tablets.
SCREEN_REGIONS = Regions(parts={"screen", "control"})


def choose_screen(
    plan: Plan,
    mode: str,
    village_id: int | None = None,
    group: str | None = None,
    *,
    actor: User | None,
) -> None:
    if mode not in PROJECTOR_MODES:
        raise ScreenChoiceError(_("Choose what the projector shows."))
    village = None
    if mode in VILLAGE_MODES:
        village = db.session.get(Village, village_id) if village_id else None
        if village is None or village.tambon_id != plan.tambon_id:
            raise ScreenChoiceError(_("Choose a village of this tambon."))
    if mode != "group":
        group = None
    elif group not in FUNDING_GROUPS:
        raise ScreenChoiceError(_("Choose group 1, 2 or 3."))
    vote_taken_off = ballot_rounds.take_off_screen(plan)
    if (
        plan.projector_mode == mode
        and (village is None or plan.projector_village_number == village.number)
        and (group is None or plan.projector_group == group)
        and not vote_taken_off
    ):
        return  # nothing changes: no version bump, no redraw on every screen
    plan.projector_mode = mode
    if village is not None:
        plan.projector_village_number = village.number
    if group is not None:
        plan.projector_group = group
    details = {"mode": mode, "village_id": village.id if village is not None else None}
    if group is not None:
        details["group"] = group
    record_change(plan, "projector", actor=actor, details=details, regions=SCREEN_REGIONS)


def set_public(plan: Plan, public: bool, *, actor: User | None) -> None:
    if plan.is_public == public:
        return
    plan.is_public = public
    details = {"public": public}
    record_change(plan, "public", actor=actor, details=details, regions=SCREEN_REGIONS)


def regenerate_token(plan: Plan, *, actor: User | None) -> None:
    """A new address: the old projector and phone links (and QR codes) stop working."""
    plan.public_token = new_public_token()
    record_change(plan, "public-token", actor=actor, regions=SCREEN_REGIONS)


# --- what changed, screen by screen ----------------------------------------------------------


@dataclass
class ScreenDelta:
    """What a view at version `base` needs to show `version` (see projector/_regions.html's
    `delta`): cards taken out, then put back bottom up above the card now below each; whole
    lists (a lock); the heads and cut lines of the lists touched; the other regions."""

    base: int
    version: int
    whole: bool = False
    deletes: list[int] = field(default_factory=list)
    inserts: list[tuple[Card, str, int | None]] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)
    heads: list[Column] = field(default_factory=list)
    side: bool = False
    timer: bool = False
    overview: bool = False
    summary: bool = False
    turnout: bool = False
    outcome: bool = False


def screen_delta(shown: Screen, base: int, version: int, regions: Regions) -> ScreenDelta:
    """The regions of `shown` that the changes `regions` (from `base` to `version`) touched.
    A change of screen (mode, pause, message, address...) sends the screen whole."""
    delta = ScreenDelta(base, version)
    if regions.everything or "screen" in regions.parts or shown.mode == "pause":
        delta.whole = shown.mode != "pause" or regions.everything or "screen" in regions.parts
        return delta
    delta.timer = "timer" in regions.parts
    if shown.mode == "vote":
        # Each ballot cast sends the turnout (and the totals when shown), nothing else.
        delta.turnout = "turnout" in regions.parts
        return delta
    touched = regions.moved | regions.cards
    if shown.mode in ("overview", "summary", "outcome"):
        news = bool(touched or regions.groups or regions.columns)
        delta.overview = news and shown.mode == "overview"
        delta.summary = news and shown.mode == "summary"
        # A village's outcome: a move elsewhere can change its places, so it is sent whole.
        delta.outcome = news and shown.mode == "outcome"
        return delta
    lists = shown.lists()
    # The board and a group's screen list funding groups: a change resends only the groups it
    # touched (a move in another group sends nothing of the group shown).
    board = shown.mode in ("board", "group")
    whole = [lists[key] for key in sorted(regions.columns) if board and key in lists]
    delta.columns = whole
    in_whole = {card.id for column in whole for card in column.cards}
    where: dict[int, tuple[str, int]] = {}
    for key, column in lists.items():
        for index, card in enumerate(column.cards):
            where[card.id] = (key, index)
    placed = []
    for pid in sorted(touched - in_whole):
        delta.deletes.append(pid)
        if pid in where:
            placed.append(pid)
    # Bottom up: the card each one goes above is in its place before it.
    placed.sort(key=lambda pid: (where[pid][0], -where[pid][1]))
    for pid in placed:
        key, index = where[pid]
        cards = lists[key].cards
        below = cards[index + 1].id if index + 1 < len(cards) else None
        delta.inserts.append((cards[index], key, below))
    keys = {where[pid][0] for pid in placed}
    if board:
        keys |= regions.groups
    elif touched or regions.groups:
        keys = set(lists)
    delta.heads = [lists[key] for key in lists if key in keys and lists[key] not in whole]
    if shown.mode == "board":
        delta.side = bool(touched or regions.groups)
    else:
        delta.side = shown.mode == "urgency" and bool(touched)
    return delta
