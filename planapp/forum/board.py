"""The forum board as named regions (forum/_regions.html): what each region shows, for the full
page, for the tablet's answer to a change, and for the live events that keep every other tablet
in step.

A tablet's board has caught up to a plan version (`data-plan-version`). Whatever brings it news
(its own answer, or the live stream for the changes made elsewhere) is a `BoardDelta` from the
version it had (`base`) to the version now: the cards placed anew since (taken out and put back
above the card now below them, bottom up, so the others never move), the cards shown anew, the
heads and cut lines of the columns whose totals changed, whole columns (a lock, a reorder), the
new history entries, the step bar and the screen control. A delta applies to a board at any
version from its base up: every card it does not place was in the same order all along. Card
numbers come from a CSS counter, so the cards below a moved one are never sent.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import BigInteger, Integer, bindparam, case, func, select

from planapp import live
from planapp.cards import (
    Card,
    columns_of,
    kept_plan_cards,
    next_cards,
    on_board,
    plan_cards,
    village_choices,
)
from planapp.changes import Regions
from planapp.domain import (
    FEASIBILITY_LABELS,
    FUNDING_GROUPS,
    GROUP_SHORT_LABELS,
    GROUPS,
    SECTOR_LABELS,
    SECTORS,
    URGENCY_LABELS,
)
from planapp.extensions import db
from planapp.forum.history import (
    HistoryItem,
    changes_by_id,
    changes_since,
    history_item,
    recent_changes,
)
from planapp.fragments import Kept, region
from planapp.htmx import answer, version_field
from planapp.intake.values import whole_number_or_none
from planapp.meeting.groups import GroupStatus, group_status, plan_groups
from planapp.meeting.rules import BudgetLine
from planapp.models import Agency, Plan, board_places, projects_table

REGIONS = "forum/_regions.html"
# A board further behind than this many changes is sent whole rather than change by change.
MOST_CHANGES = 40


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

    def query(self) -> dict:
        return {
            key: value
            for key, value in (("village", self.village), ("sector", self.sector), ("q", self.text))
            if value
        }

    def hidden(self, plan: Plan, cards) -> set[int]:
        """The ids of `cards` this filter collapses."""
        if not self.active:
            return set()
        matching = self._text_matches(plan, cards) if self.text else None
        return {
            card.id
            for card in cards
            if (self.village and self.village not in card.village_numbers)
            or (self.sector and card.sector != self.sector)
            or (matching is not None and card.id not in matching)
        }

    def _text_matches(self, plan: Plan, cards) -> set[int]:
        """The cards whose title, place, note, objective or lead agency holds the text."""
        P = projects_table.c
        rows = db.session.execute(
            select(P.id, P.title, P.location, P.note, P.objective, Agency.name)
            .outerjoin(Agency, Agency.id == P.lead_agency_id)
            .where(*on_board(plan.id), P.id.in_([card.id for card in cards]))
        )
        needle = self.text.casefold()
        return {row[0] for row in rows if needle in " ".join(t or "" for t in row[1:]).casefold()}


# --- what every region of a render shares ---------------------------------------------------


def board_text() -> dict:
    """Every label a card shows, translated and escaped once per language (not once per card,
    nor once per request: the catalogs do not change while the server runs)."""
    return _board_text(str(get_locale()))


@functools.lru_cache(maxsize=8)
def _board_text(_locale: str) -> dict:
    labels = {
        "village_no": _("Village No."),
        "baht": _("baht"),
        "lead": _("Lead"),
        "reason_needed": _("Reason needed"),
        "move": _("Move"),
        "details": _("Details"),
        "to_position": _("To position"),
    }
    text = {name: escape(label) for name, label in labels.items()}
    text["groups"] = {code: escape(GROUP_SHORT_LABELS[code]) for code in GROUPS}
    text["sectors"] = {code: escape(label) for code, label in SECTOR_LABELS.items()}
    text["feasibility"] = {code: escape(label) for code, label in FEASIBILITY_LABELS.items()}
    text["urgency"] = {code: escape(label) for code, label in URGENCY_LABELS.items()}
    return text


@dataclass
class Board:
    """One render of (part of) a tablet's board."""

    plan: Plan
    filters: BoardFilter
    version: int
    text: dict = field(default_factory=board_text)
    columns: dict[str, list[Card]] = field(default_factory=dict)
    totals: dict[str, dict] = field(default_factory=dict)
    statuses: dict[str, GroupStatus] = field(default_factory=dict)
    hidden: set[int] = field(default_factory=set)
    message: str = ""
    alert: bool = False
    history: list[HistoryItem] = field(default_factory=list)
    groups: tuple = tuple(GROUPS)
    locale: str = field(default_factory=lambda: str(get_locale()))

    def url(self, name: str) -> str:
        return board_url(name, self.plan.id, self.filters)

    @property
    def years(self) -> tuple:
        """What a card's flag "outside the plan's years" is worked out from."""
        return (self.plan.fiscal_year, self.plan.plan_start_year)

    @functools.cached_property
    def villages(self) -> list:
        """The tambon's villages (`VillageChoice` rows): the filters and the screen control
        show them (read when first shown, once a render)."""
        return village_choices(self.plan.tambon_id)

    def card(self, card: Card) -> Markup:
        """A card's region, rendered by name once for what it shows (and kept: a board page
        renders thousands, and between two pages only the moved ones change)."""
        key = (self.locale, card.id in self.hidden, self.years, card.face)
        return CARDS.get(key, lambda: region(REGIONS, "card", self, card))

    def cards(self, group: str) -> Markup:
        """A column's cards in order, with its cut line above the first card over the ceiling
        (or, as a hidden slot, at the end): each a region rendered by name. Kept whole too, by
        everything it shows: between two pages most columns do not change at all."""
        status = self.statuses.get(group)
        cut = status.cut_before_id if status is not None else None
        line = region(REGIONS, "cut_line", self, group)
        cards = tuple(self.columns[group])
        hidden = tuple(card.id for card in cards if card.id in self.hidden) if self.hidden else ()
        key = (self.locale, self.years, hidden, line, cut, cards)

        def join() -> Markup:
            parts = []
            for card in cards:
                if card.id == cut:
                    parts.append(line)
                parts.append(self.card(card))
            if cut is None:
                parts.append(line)
            return Markup("\n").join(parts)  # rendered regions: markup already, never re-read

        return COLUMNS.get(key, join)


# Rendered cards by (language, collapsed by the filters, the plan's years, the card's face): a
# few MB at most.
CARDS = Kept(20_000)
# Rendered columns by (language, plan's years, collapsed cards, cut line, its card, the cards).
COLUMNS = Kept(500)


def board_url(name: str, plan_id: int, filters: BoardFilter) -> str:
    if name == "events":
        return url_for("forum.board_events", plan_id=plan_id, **filters.query())
    return url_for(f"forum.{name}", plan_id=plan_id)


def full_board(plan: Plan, filters: BoardFilter, message: str = "", alert: bool = False) -> Board:
    """Everything the board page shows of the plan now."""
    version = plan.version
    cards = kept_plan_cards(plan)
    columns = columns_of(cards, GROUPS)
    totals = {
        group: {"count": len(items), "budget": sum(card.budget_satang for card in items)}
        for group, items in columns.items()
    }
    board = Board(plan, filters, version, columns=columns, totals=totals)
    board.statuses = {group: group_status(plan, group, columns[group]) for group in FUNDING_GROUPS}
    board.hidden = filters.hidden(plan, cards)
    board.message, board.alert = message, alert
    return board


def board_page(plan: Plan, filters: BoardFilter) -> Board:
    board = full_board(plan, filters)
    board.history = recent_changes(plan)
    return board


# --- deltas ---------------------------------------------------------------------------------


@dataclass
class BoardDelta:
    """What a board at `base` (or later) needs to show `version`. `whole`: the board whole."""

    base: int
    version: int
    whole: bool = False
    moved: list[tuple[Card, int | None]] = field(default_factory=list)  # bottom up, with next
    cards: list[Card] = field(default_factory=list)  # shown anew where they are
    heads: list[str] = field(default_factory=list)  # columns whose head and cut line changed
    columns: list[str] = field(default_factory=list)  # columns shown whole
    history: list[HistoryItem] = field(default_factory=list)  # new entries, newest first
    undone: list[HistoryItem] = field(default_factory=list)  # entries now marked undone
    gone: list[int] = field(default_factory=list)  # cards taken off the board
    parts: set[str] = field(default_factory=set)  # "steps", "control"
    forced: set[str] = field(default_factory=set)  # columns a refused move asks for whole


def render_delta(board: Board, delta: BoardDelta) -> Markup:
    return region(REGIONS, "delta", board, delta)


def delta_since(
    plan: Plan,
    filters: BoardFilter,
    base: int,
    message: str = "",
    alert: bool = False,
    force_columns=(),
) -> tuple[Board, BoardDelta]:
    """The news for a board at version `base`: the regions the changes since touched, read from
    the change log and rendered at the plan's version now. A board too far behind, or after a
    change that may have touched anything, gets the board whole. `force_columns`: columns sent
    whole whatever changed (a refused drag left its card where the tablet dropped it)."""
    for _attempt in range(3):
        version = live.current_version(plan.id)
        result = _delta_at(plan, filters, base, version, message, alert, set(force_columns))
        # Every read above must have seen `version`: a change committed meanwhile would mix
        # two versions (a card placed next to one that moved after). Read again if so.
        if live.current_version(plan.id) == version:
            return result
    board = full_board(plan, filters, message, alert)
    board.history = recent_changes(plan)
    return board, BoardDelta(base, board.version, whole=True, parts={"steps", "control"})


def _delta_at(plan, filters, base, version, message, alert, forced):
    entries = []
    if version > base:
        entries = changes_since(plan.id, base, version, limit=MOST_CHANGES + 1)
    regions = Regions()
    for entry in entries:
        regions |= Regions.from_json(entry.regions)
    if base < 0 or len(entries) > MOST_CHANGES or regions.everything:
        board = full_board(plan, filters, message, alert)
        board.version = version
        board.history = recent_changes(plan)
        return board, BoardDelta(base, version, whole=True, parts={"steps", "control"})
    board = Board(plan, filters, version, message=message, alert=alert)
    delta = BoardDelta(base, version, forced=forced)
    delta.history = [history_item(entry) for entry in entries]
    if not message and entries:
        board.message = delta.history[0].text
    if regions.undid:
        undone = changes_by_id(plan.id, regions.undid)
        delta.undone = [history_item(entry) for entry in undone]
    fill_delta(plan, board, delta, regions)
    return board, delta


def fill_delta(
    plan: Plan,
    board: Board,
    delta: BoardDelta,
    regions: Regions,
    cards: dict[int, Card] | None = None,
    next_of: dict[int, int | None] | None = None,
) -> None:
    """Load and lay out what `regions` name. A caller that knows them already passes the cards
    and the card now below each moved one."""
    whole = sorted(regions.columns | delta.forced, key=GROUPS.index)
    if whole:
        columns = columns_of(plan_cards(plan.id, groups=whole), whole)
        board.columns.update(columns)
        for group in whole:
            items = columns[group]
            board.totals[group] = {
                "count": len(items),
                "budget": sum(card.budget_satang for card in items),
            }
            if group in FUNDING_GROUPS:
                board.statuses[group] = group_status(plan, group, items)
    in_whole = {card.id for group in whole for card in board.columns[group]}
    wanted = (regions.moved | regions.cards) - in_whole
    if cards is None:
        cards = {card.id: card for card in plan_cards(plan.id, wanted)} if wanted else {}
    moved = [pid for pid in regions.moved if pid in cards and pid not in in_whole]
    if next_of is None:
        next_of = next_cards(plan.id, moved) if moved else {}
    # Bottom up: the card each one goes above is in its place before it.
    moved.sort(key=lambda pid: (cards[pid].funding_group, -(cards[pid].rank or 0)))
    delta.moved = [(cards[pid], next_of.get(pid)) for pid in moved]
    delta.cards = [cards[pid] for pid in sorted(wanted - set(moved)) if pid in cards]
    delta.gone = sorted(wanted - set(cards))  # off the board now (merged away, deleted)
    delta.columns = whole
    delta.heads = sorted(regions.groups - set(whole), key=GROUPS.index)
    delta.parts = regions.parts & {"steps", "control"}
    if delta.heads:
        totals, cuts = column_heads(plan, delta.heads)
        board.totals.update(totals)
        for group in delta.heads:
            if group in FUNDING_GROUPS:
                board.statuses[group] = head_status(
                    plan, group, board.totals[group], cuts.get(group)
                )
    shown = [*cards.values(), *(card for group in whole for card in board.columns[group])]
    board.hidden = board.filters.hidden(plan, shown)


def column_heads(plan: Plan, groups) -> tuple[dict[str, dict], dict[str, int]]:
    """Count and budget (satang) of the active cards of each of `groups`, and for those with a
    budget ceiling the card its cut line sits above (the first whose running total passes the
    ceiling): one statement, reading only those columns."""
    rows = plan_groups(plan)  # this request's rows: a ceiling it just set counts
    ceilings = {g: rows[g].ceiling_satang for g in FUNDING_GROUPS if g in groups}
    totals = {group: {"count": 0, "budget": 0} for group in groups}
    cuts = {}
    with_cuts = any(ceiling is not None for ceiling in ceilings.values())
    params = {"plan": plan.id, "groups": list(groups)}
    if with_cuts:
        params.update({f"c{g}": ceilings.get(g) for g in FUNDING_GROUPS})
    for group, count, budget, *cut in db.session.execute(_heads_query(with_cuts), params):
        totals[group] = {"count": count, "budget": int(budget)}
        if cut and cut[0] is not None:
            cuts[group] = cut[0]
    return totals, cuts


@functools.cache
def _heads_query(with_cuts: bool):
    """Built once for each shape (a move asks it every time): the columns' counts and budgets
    (:plan, :groups), and with the ceilings (:c1, :c2, :c3, NULL for none) each cut line."""
    P, BP = projects_table.c, board_places.c
    plan_id = bindparam("plan", type_=Integer)
    rows = board_places.join(projects_table, P.id == BP.project_id)
    active = (
        BP.plan_id == plan_id,
        *on_board(plan_id),
        BP.funding_group.in_(bindparam("groups", expanding=True)),
    )
    if not with_cuts:  # the counts and budgets alone
        return (
            select(BP.funding_group, func.count(), func.coalesce(func.sum(P.budget_satang), 0))
            .select_from(rows)
            .where(*active)
            .group_by(BP.funding_group)
        )
    ceiling = case(
        *((BP.funding_group == g, bindparam(f"c{g}", type_=BigInteger)) for g in FUNDING_GROUPS),
        else_=None,
    )
    running = func.sum(P.budget_satang).over(
        partition_by=BP.funding_group, order_by=(BP.rank, BP.project_id)
    )
    inner = (
        select(
            BP.funding_group.label("g"),
            BP.project_id.label("pid"),
            P.budget_satang.label("budget"),
            running.label("running"),
            ceiling.label("ceiling"),
        )
        .select_from(rows)
        .where(*active)
        .subquery()
    )
    c = inner.c
    crossing = (c.running > c.ceiling) & (c.running - c.budget <= c.ceiling)
    return select(
        c.g,
        func.count(),
        func.coalesce(func.sum(c.budget), 0),
        func.max(case((crossing, c.pid))),
    ).group_by(c.g)


def head_status(plan: Plan, group: str, total: dict, cut_before_id: int | None) -> GroupStatus:
    """A column's meeting status from its total and its cut line, without loading its cards."""
    row = plan_groups(plan)[group]
    ceiling = row.ceiling_satang
    cut = cut_before_id if ceiling is not None else None
    line = BudgetLine(total=total["budget"], ceiling=ceiling, cut_at=None, running=())
    return GroupStatus(
        group=group,
        line=line,
        confirmed_at=row.confirmed_at,
        confirmed_by=row.confirmed_by.name if row.confirmed_by else "",
        cut_before_id=cut,
    )


def board_answer(
    plan: Plan,
    values,
    message: str,
    status: int = 200,
    force_columns=(),
):
    """The answer to a change (or a refused one) sent from the board: what changed since the
    version the tablet sent, with the message (an alert when refused)."""
    filters = BoardFilter.from_values(values)
    base = version_field(values, required=False)
    alert = status >= 400
    board, delta = delta_since(
        plan, filters, -1 if base is None else base, message, alert, force_columns
    )
    return answer(render_delta(board, delta), status)
