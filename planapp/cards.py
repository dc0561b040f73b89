"""The plan's cards as plain rows: what the board, the projector and the phones show of each
active project, read with one query per question and no ORM objects (a board holds hundreds to
thousands of cards, read on every page and every live update).

A card is "active" while it is on the board: not merged into another project (`on_board`).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from flask import current_app
from sqlalchemy import Integer, Text, bindparam, cast, func, select

from planapp.extensions import db
from planapp.models import (
    Agency,
    ChangeLog,
    Plan,
    Village,
    board_places,
    project_supporting_agencies,
    project_villages,
    projects_table,
    village_label,
)

P, BP = projects_table.c, board_places.c
agencies_table, villages_table = Agency.__table__, Village.__table__


def on_board(plan_id: int) -> tuple:
    """The conditions of "the plan's active projects" (those on the board, not merged away)."""
    return (P.plan_id == plan_id, P.merged_into_id.is_(None))


class Card(NamedTuple):
    """One card as every screen shows it."""

    id: int
    title: str
    funding_group: str
    rank: int | None
    budget_satang: int
    sector: str
    feasibility: str
    feasibility_reason: str
    urgency: str | None
    votes: int
    lead: str | None  # the lead agency's name
    village_rank: int | None
    village_numbers: tuple[int, ...]
    wanted_year: int | None  # None: the plan's fiscal year

    @property
    def reason_missing(self) -> bool:
        return self.feasibility == "not_feasible" and not self.feasibility_reason

    @property
    def villages_text(self) -> str:
        return ", ".join(map(str, self.village_numbers))

    @property
    def face(self) -> tuple:
        """All that the card itself shows: not its place (group, rank, rank in its village),
        which the list it is in gives. Moving a card changes the ranks of the cards below it,
        not their faces (so the board's kept renders of those cards still hold)."""
        return (
            self.id,
            self.title,
            self.budget_satang,
            self.sector,
            self.feasibility,
            self.feasibility_reason,
            self.urgency,
            self.votes,
            self.lead,
            self.village_numbers,
            self.wanted_year,
        )


def _joined(dialect: str, text):
    """The texts of a group joined with commas (an aggregate: PostgreSQL and SQLite spell it
    differently)."""
    if dialect == "postgresql":
        return func.string_agg(text, ",")
    return func.group_concat(text, ",")


def _village_numbers(dialect: str):
    """The card's village numbers as one text ("3,5"), in a correlated subquery."""
    return (
        select(_joined(dialect, cast(villages_table.c.number, Text)))
        .select_from(project_villages.join(villages_table))
        .where(project_villages.c.project_id == P.id)
        .scalar_subquery()
    )


def _select(dialect: str):
    return (
        select(
            P.id,
            P.title,
            BP.funding_group,
            BP.rank,
            P.budget_satang,
            P.sector,
            P.feasibility,
            P.feasibility_reason,
            P.urgency,
            P.votes,
            agencies_table.c.name,
            P.village_rank,
            _village_numbers(dialect),
            P.wanted_year,
        )
        .select_from(
            projects_table.join(board_places, BP.project_id == P.id).outerjoin(
                agencies_table, agencies_table.c.id == P.lead_agency_id
            )
        )
        .order_by(BP.funding_group, BP.rank.is_(None), BP.rank, P.id)
    )


def _card(row) -> Card:
    numbers = row[12]
    if not numbers:
        villages = ()
    elif "," in numbers:  # a joint project: in number order
        villages = tuple(sorted(map(int, numbers.split(","))))
    else:  # most cards: one village, read on every board page
        villages = (int(numbers),)
    return Card(*row[:12], villages, row[13])


@functools.cache
def _query(dialect: str, by: str):
    """Built once per database and question: the plan's cards, or those of some ids or groups."""
    query = _select(dialect).where(*on_board(bindparam("plan", type_=Integer)))
    if by == "ids":
        query = query.where(P.id.in_(bindparam("ids", expanding=True)))
    elif by == "groups":
        query = query.where(BP.funding_group.in_(bindparam("groups", expanding=True)))
    return query


def plan_cards(plan_id: int, ids=None, groups=None) -> list[Card]:
    """The plan's active cards (or those of `ids`, or of `groups`), by group, in board order."""
    dialect = db.session.get_bind().dialect.name
    params = {"plan": plan_id}
    by = "all"
    if ids is not None:
        by, params["ids"] = "ids", list(ids)
    elif groups is not None:
        by, params["groups"] = "groups", list(groups)
    return [_card(row) for row in db.session.execute(_query(dialect, by), params).all()]


# Plans whose card lists an app keeps (`kept_plan_cards`; cleared whole when full): a 3,000-card
# list is about 1 MB.
MOST_KEPT_PLANS = 32


def kept_plan_cards(plan) -> tuple[Card, ...]:
    """The plan's active cards, as `plan_cards` reads them, read again only when something they
    show may have changed: the board page and the projector read the whole list on every page,
    though between two pages it rarely changes. Kept by a stamp of all it is read from:
    - the plan's version: every change to its projects and their places bumps it (the live views
      rely on that too);
    - its newest change-log entry (id and time): a version number can come again with other
      content, after a backup is put back or when a change that was read before its commit (a
      move's answer) is rolled back; its entry's time does not;
    - the names of its lead agencies and the numbers of its tambon's villages, which are renamed
      and renumbered without touching the plan (a deleted one drops out of the stamp too).
    The stamp is one small statement; a stamp that differs only ever costs a read. Kept by the
    app (its database), one list a plan, shared by all its requests: a tuple, never changed."""
    dialect = db.session.get_bind().dialect.name
    stamp = (plan.version, *db.session.execute(_stamp_query(dialect), {"plan": plan.id}).one())
    kept_lists = current_app.extensions.setdefault("planapp.kept_cards", {})
    kept = kept_lists.get(plan.id)
    if kept is not None and kept[0] == stamp:
        return kept[1]
    cards = tuple(plan_cards(plan.id))
    if len(kept_lists) >= MOST_KEPT_PLANS:
        kept_lists.clear()
    kept_lists[plan.id] = (stamp, cards)
    return cards


@functools.cache
def _stamp_query(dialect: str):
    """Built once per database: what `kept_plan_cards` keys the plan's cards by."""
    plan_id = bindparam("plan", type_=Integer)
    log = ChangeLog.__table__.c
    newest = select(log.id).where(log.plan_id == plan_id).order_by(log.id.desc()).limit(1)
    newest_at = select(log.at).where(log.plan_id == plan_id).order_by(log.id.desc()).limit(1)
    A, V = agencies_table.c, villages_table.c
    agencies = A.id.in_(select(P.lead_agency_id).where(P.plan_id == plan_id))
    # A project's villages are its tambon's (intake, the importer and plan files all pick them
    # from the tambon by number): its twelve or so rows, by the index.
    villages = V.tambon_id == select(Plan.tambon_id).where(Plan.id == plan_id).scalar_subquery()
    agency_names = select(_joined(dialect, cast(A.id, Text) + ":" + A.name)).where(agencies)
    village_numbers = select(_joined(dialect, cast(V.id, Text) + ":" + cast(V.number, Text))).where(
        villages
    )
    return select(
        newest.scalar_subquery(),
        newest_at.scalar_subquery(),
        agency_names.scalar_subquery(),
        village_numbers.scalar_subquery(),
    )


class VillageChoice(NamedTuple):
    """A village as the board's filter and the screen control list it."""

    id: int
    number: int
    name: str

    @property
    def label(self) -> str:
        return village_label(self.number, self.name)


def village_choices(tambon_id: int) -> list[VillageChoice]:
    """The tambon's villages in number order, for the board's village filter and the screen
    control (rows, not ORM objects: read on every board page)."""
    rows = db.session.execute(_villages_query(), {"tambon": tambon_id})
    return [VillageChoice(*row) for row in rows]


@functools.cache
def _villages_query():
    V = villages_table.c
    return (
        select(V.id, V.number, V.name)
        .where(V.tambon_id == bindparam("tambon", type_=Integer))
        .order_by(V.number)
    )


def columns_of(cards: list[Card], groups) -> dict[str, list[Card]]:
    columns: dict[str, list[Card]] = {group: [] for group in groups}
    for card in cards:
        if card.funding_group in columns:
            columns[card.funding_group].append(card)
    return columns


def supporting_names(plan_id: int) -> dict[int, list[str]]:
    """Each active card's supporting agencies, by name (the urgency screens show them)."""
    names: dict[int, list[str]] = {}
    rows = db.session.execute(
        select(project_supporting_agencies.c.project_id, agencies_table.c.name)
        .select_from(
            project_supporting_agencies.join(agencies_table).join(
                projects_table, P.id == project_supporting_agencies.c.project_id
            )
        )
        .where(*on_board(plan_id))
        .order_by(agencies_table.c.name)
    )
    for project_id, name in rows:
        names.setdefault(project_id, []).append(name)
    return names


def next_cards(plan_id: int, ids) -> dict[int, int | None]:
    """The card just below each of `ids` in its column now (None: it is the last)."""
    below = board_places.alias("below")
    rows = db.session.execute(
        select(BP.project_id, below.c.project_id)
        .select_from(
            board_places.outerjoin(
                below,
                (below.c.plan_id == BP.plan_id)
                & (below.c.funding_group == BP.funding_group)
                & (below.c.rank == BP.rank + 1),
            )
        )
        .where(BP.plan_id == plan_id, BP.project_id.in_(list(ids)))
    )
    return dict(rows.all())
