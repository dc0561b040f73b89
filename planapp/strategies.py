"""Strategies for the plan's projects (issue 16, item 13): the administrator keeps one strategy
(or tactic) per sector, and the facilitator confirms, in one change, the strategy it proposes for
every project of a plan that has none yet; the ผ.02 forms then file each project under it.

The mapping names strategies that exist: nobody creates a strategy here (only an administrator
does, on the strategies page). Confirming touches only the plan's own projects on the board that
still have no strategy when the confirmation is saved, so a strategy set meanwhile on another
tablet is never overwritten. The change is logged with before/after snapshots: undo takes the
strategies back off."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, insert, select
from sqlalchemy.orm import selectinload

from planapp.areas import strategies_for_tambon
from planapp.cards import on_board
from planapp.changes import Regions, bump_version, record_change
from planapp.domain import GROUPS, SECTORS, STRATEGY_LEVELS, code_key
from planapp.extensions import db
from planapp.models import (
    ChangeLog,
    Plan,
    Project,
    SectorStrategy,
    Strategy,
    Tambon,
    User,
    project_strategies,
)

CONFIRM_ACTION = "strategies_confirmed"


class UnknownStrategy(Exception):
    """A choice names no strategy of this server: nothing is saved."""

    message = _l("Choose a strategy from the list.")

    def __init__(self, key):
        super().__init__(str(key))
        self.key = key  # the sector or project id whose choice is wrong


def sector_strategies() -> dict[str, Strategy]:
    """The mapping: sector -> the strategy proposed for its projects (sectors without one are
    left out)."""
    rows = db.session.execute(
        select(SectorStrategy.sector, Strategy).join(
            Strategy, Strategy.id == SectorStrategy.strategy_id
        )
    ).all()
    return {sector: strategy for sector, strategy in rows}


def _existing(ids, tambon: Tambon | None = None) -> dict[int, Strategy]:
    """The strategies of these ids (that apply to the tambon, if given: planapp/areas.py)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    query = select(Strategy).where(Strategy.id.in_(wanted))
    if tambon is not None:
        query = query.where(strategies_for_tambon(tambon))
    return {s.id: s for s in db.session.scalars(query)}


def applicable_strategy_ids(tambon: Tambon, ids) -> list[int]:
    """Those of `ids` that name a strategy the tambon's plan may align with."""
    return list(_existing(ids, tambon))


def set_sector_strategies(choices: dict[str, int | None], *, actor: User) -> None:
    """Save the administrator's mapping: for each sector of `choices` its strategy id, None to
    propose nothing. Raises UnknownStrategy (nothing saved) for a sector that is not one, or an
    id that names no strategy. Only an administrator keeps it (PermissionError otherwise, as
    behind the page's own check). The caller commits."""
    if not actor.is_admin:
        raise PermissionError("only an administrator keeps the sector strategies")
    for sector in choices:
        if sector not in SECTORS:
            raise UnknownStrategy(sector)
    found = _existing(choices.values())
    for sector, strategy_id in choices.items():
        if strategy_id is not None and strategy_id not in found:
            raise UnknownStrategy(sector)
    for sector, strategy_id in choices.items():
        row = db.session.get(SectorStrategy, sector)
        if strategy_id is None:
            if row is not None:
                db.session.delete(row)
        elif row is None:
            db.session.add(SectorStrategy(sector=sector, strategy_id=strategy_id))
        else:
            row.strategy_id = strategy_id
    db.session.flush()


@dataclass
class Proposal:
    """A project on the board without a strategy, and the one its sector proposes (None: the
    sector has none in the mapping)."""

    project_id: int
    title: str
    sector: str
    funding_group: str
    rank: int | None
    strategy: Strategy | None


def _without_strategy(plan_id: int) -> tuple:
    """The conditions of "the plan's projects on the board that have no strategy yet"."""
    linked = exists().where(project_strategies.c.project_id == Project.id)
    return (*on_board(plan_id), ~linked)


def proposals(plan: Plan) -> list[Proposal]:
    """Every project of the plan on the board that has no strategy, with its proposal, in the
    board's order."""
    mapping = sector_strategies()
    # The mapping is shared by every tambon: it proposes only a strategy that applies here.
    applies = _existing([strategy.id for strategy in mapping.values()], plan.tambon)
    mapping = {sector: s for sector, s in mapping.items() if s.id in applies}
    rows = db.session.execute(
        select(
            Project.id, Project.title, Project.sector, Project.funding_group, Project.rank
        ).where(*_without_strategy(plan.id))
    ).all()
    order = {group: n for n, group in enumerate(GROUPS)}
    rows = sorted(rows, key=lambda r: (order[r.funding_group], r.rank is None, r.rank or 0, r.id))
    return [
        Proposal(r.id, r.title, r.sector, r.funding_group, r.rank, mapping.get(r.sector))
        for r in rows
    ]


def strategies_in_order(tambon: Tambon | None = None) -> list[Strategy]:
    """By level, each strategy followed by its tactics, codes in the order people number them.
    With a tambon, only those its plan may align with (planapp/areas.py): national, its
    province's, its district's and its อปท.'s."""
    query = select(Strategy).options(selectinload(Strategy.parent))
    if tambon is not None:
        query = query.where(strategies_for_tambon(tambon))
    rows = db.session.scalars(query).all()
    levels = {level: n for n, level in enumerate(STRATEGY_LEVELS)}

    def key(s: Strategy):
        top = s.parent or s
        return (levels.get(top.level, 9), code_key(top.code), s.parent_id is not None)

    return sorted(rows, key=lambda s: (*key(s), code_key(s.code)))


@dataclass
class Confirmed:
    entry: ChangeLog | None  # None: nothing was left to confirm
    count: int


def confirm_proposals(plan: Plan, choices: dict[int, int], *, actor: User | None) -> Confirmed:
    """Give each project of `choices` (project id -> strategy id, as confirmed on the page:
    excluded projects are left out) its strategy, in one logged change; the caller commits.
    Raises UnknownStrategy (nothing saved) for an id that names no strategy. Projects that are
    not this plan's, left the board, or got a strategy since the page was read are skipped."""
    found = _existing(choices.values(), plan.tambon)
    for project_id, strategy_id in choices.items():
        if strategy_id not in found:
            raise UnknownStrategy(project_id)
    if not _still_without(plan, choices):
        return Confirmed(None, 0)
    version = bump_version(plan)  # the plan's write lock: read again what is still to change
    ids = _still_without(plan, choices)
    db.session.execute(
        insert(project_strategies),
        [{"project_id": pid, "strategy_id": choices[pid]} for pid in ids],
    )
    # Loaded copies of these projects must read their new strategy.
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Project) and obj.id in ids:
            db.session.expire(obj, ["strategies"])
    entry = record_change(
        plan,
        CONFIRM_ACTION,
        actor=actor,
        summary=_("Strategies confirmed for %(count)s projects", count=len(ids)),
        before={"projects": {str(pid): {"strategy_ids": []} for pid in ids}},
        after={"projects": {str(pid): {"strategy_ids": [choices[pid]]} for pid in ids}},
        # An open panel of one of these cards follows its card: it reads the project again.
        regions=Regions(cards=set(ids), edited=set(ids)),
        version=version,
    )
    return Confirmed(entry, len(ids))


def _still_without(plan: Plan, choices: dict[int, int]) -> list[int]:
    if not choices:
        return []
    return db.session.scalars(
        select(Project.id).where(*_without_strategy(plan.id), Project.id.in_(list(choices)))
    ).all()
