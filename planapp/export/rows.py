"""The plan's projects as the exports read them: loaded once, labels resolved once.

Every export (workbook, CSV, printable plan) lists the projects on the board: merged-away
projects (merged_into_id set) never appear, and a merged project lists all its source villages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from planapp import domain
from planapp.cards import on_board
from planapp.domain import code_key
from planapp.extensions import db
from planapp.models import (
    Agency,
    Plan,
    Project,
    Strategy,
    Village,
    board_places,
    project_strategies,
    project_supporting_agencies,
    project_villages,
    projects_table,
)
from planapp.taken_forward import is_taken_forward

# Orders the forum reads in.
GROUP_ORDER = {group: index for index, group in enumerate(domain.GROUPS)}
URGENCY_ORDER = {tier: index for index, tier in enumerate(domain.URGENCY)}
PROGRAMME_ORDER = {code: index for index, code in enumerate(domain.PROGRAMMES)}
LEVEL_ORDER = {"local": 0, "district": 1, "province": 2}


@dataclass
class Labels:
    """The vocabularies in the current language, resolved once per export (not once per cell)."""

    group: dict[str, str]
    group_short: dict[str, str]
    feasibility: dict[str, str]
    urgency: dict[str, str]
    sector: dict[str, str]
    programme: dict[str, str]

    @classmethod
    def current(cls) -> Labels:
        def resolve(labels):
            return {code: str(label) for code, label in labels.items()}

        return cls(
            group=resolve(domain.GROUP_LABELS),
            group_short=resolve(domain.GROUP_SHORT_LABELS),
            feasibility=resolve(domain.FEASIBILITY_LABELS),
            urgency=resolve(domain.URGENCY_LABELS),
            sector=resolve(domain.SECTOR_LABELS),
            programme=resolve(domain.PROGRAMME_LABELS),
        )


@dataclass
class ProjectRow:
    """One project with everything an export prints about it."""

    project: Project | None  # None: rows are read as plain data (`load_rows`)
    id: int
    title: str
    objective: str
    target_output: str
    expected_result: str
    kpi: str
    location: str
    rationale: str
    sector: str
    sector_label: str
    programme: str
    programme_label: str
    group: str
    group_label: str
    rank: int | None
    urgency: str | None
    urgency_label: str
    feasibility: str
    feasibility_label: str
    feasibility_reason: str
    budget_satang: int
    wanted_year: int | None
    village_rank: int | None
    villages: list[Village]
    # Each source village's own rank for the project (by village id): the proposing village's
    # rank, and for a tambon project the rank each merged-away proposal had in its village. A
    # village that joined without ranking it has none.
    village_ranks: dict[int, int]
    village_label: str
    lead_agency_id: int | None
    lead_agency: str
    supporting_agencies: str
    strategies: list[Strategy]
    strategy_label: str
    note: str
    # The forum's order: position in its group (1, 2, ...), set by `load_rows`.
    position: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def budget(self) -> int | float:
        """Baht as a number for a spreadsheet cell: whole baht stay integers (exact)."""
        if self.budget_satang % 100 == 0:
            return self.budget_satang // 100
        return self.budget_satang / 100

    @property
    def area(self) -> str:
        """Where: the location as typed, plus any source village it does not already name."""
        missing = [
            label
            for label in self.village_label.split(", ")
            if label and " ".join(label.split(" ")[:2]) not in self.location
        ]
        return ", ".join(part for part in (self.location, ", ".join(missing)) if part)

    @property
    def taken_forward(self) -> bool:
        """Taken forward by the forum (planapp/taken_forward.py: group 1-3, not found not
        feasible); the rows are already the projects on the board."""
        return is_taken_forward(self.group, self.feasibility)

    @property
    def main_alignment(self) -> tuple[Strategy | None, Strategy | None]:
        """(ยุทธศาสตร์, กลยุทธ์ or None) the ผ.02 form files it under: the อปท.'s own (level
        local) strategy first; aligned with a tactic, under the tactic's strategy and that tactic
        (preferred to the same strategy without one)."""
        best, best_key = (None, None), None
        for s in self.strategies:
            top = s.parent or s
            tactic = s if s.parent is not None else None
            key = (
                LEVEL_ORDER.get(top.level, 9),
                code_key(top.code),
                tactic is None,
                code_key(tactic.code) if tactic else (),
            )
            if best_key is None or key < best_key:
                best, best_key = (top, tactic), key
        return best

    @property
    def main_strategy(self) -> Strategy | None:
        return self.main_alignment[0]

    @property
    def main_tactic(self) -> Strategy | None:
        return self.main_alignment[1]


def own_ranks(
    villages: list[Village],
    proposed_by_id: int | None,
    village_rank: int | None,
    merged: dict[int, int],
) -> dict[int, int]:
    """Source village id -> that village's own rank for the project: the rank is the proposing
    village's (its first source village when that is not known), and a tambon project also
    has the ranks its merged proposals had in their villages."""
    ranks = {}
    for n, village in enumerate(villages):
        proposer = village.id == proposed_by_id or (proposed_by_id is None and n == 0)
        if proposer and village_rank is not None:
            ranks[village.id] = village_rank
        elif village.id in merged:
            ranks[village.id] = merged[village.id]
    return ranks


def village_label(villages: list[Village], prefix: str) -> str:
    return ", ".join(f"{prefix} {v.number} {v.name}" for v in villages)


def _links(table, column, plan: Plan) -> dict[int, list[int]]:
    """Project id -> ids in one of the project's many-to-many tables, for the plan's projects."""
    found: dict[int, list[int]] = {}
    for project_id, other_id in db.session.execute(
        select(table.c.project_id, column)
        .join(projects_table, projects_table.c.id == table.c.project_id)
        .where(projects_table.c.plan_id == plan.id)
    ):
        found.setdefault(project_id, []).append(other_id)
    return found


def load_rows(
    plan: Plan, labels: Labels | None = None, village_prefix: str = ""
) -> list[ProjectRow]:
    """The active projects of the plan, in board order: group, then the forum's rank.

    Read as plain rows (SQL Core), not as ORM objects: an export reads thousands of projects
    once and changes none, so the ORM's identity map and relationship loading are pure cost
    (issue 16, item 15). The few villages, agencies and strategies are loaded once."""
    labels = labels or Labels.current()
    village_prefix = village_prefix or _("Village")
    merged_ranks: dict[int, dict[int, int]] = {}
    for keeper_id, village_id, rank in db.session.execute(
        select(Project.merged_into_id, Project.proposed_by_id, Project.village_rank).where(
            Project.plan_id == plan.id,
            Project.merged_into_id.is_not(None),
            Project.proposed_by_id.is_not(None),
            Project.village_rank.is_not(None),
        )
    ):
        merged_ranks.setdefault(keeper_id, {}).setdefault(village_id, rank)
    villages = {v.id: v for v in plan.tambon.villages}
    agencies = dict(db.session.execute(select(Agency.id, Agency.name)).all())
    strategies = {
        s.id: s for s in db.session.scalars(select(Strategy).options(selectinload(Strategy.parent)))
    }
    village_links = _links(project_villages, project_villages.c.village_id, plan)
    support_links = _links(
        project_supporting_agencies, project_supporting_agencies.c.agency_id, plan
    )
    strategy_links = _links(project_strategies, project_strategies.c.strategy_id, plan)
    p, place = projects_table.c, board_places.c
    rows = []
    for r in db.session.execute(
        select(
            p.id, p.title, p.objective, p.target_output, p.expected_result, p.kpi,
            p.location, p.rationale, p.sector, p.programme, place.funding_group, place.rank,
            p.urgency, p.feasibility, p.feasibility_reason, p.budget_satang, p.wanted_year,
            p.village_rank, p.proposed_by_id, p.lead_agency_id, p.note,
        )
        .join(board_places, (place.project_id == p.id) & (place.plan_id == p.plan_id))
        .where(*on_board(plan.id))
    ):  # fmt: skip
        mine = sorted(
            (villages[i] for i in village_links.get(r.id, ()) if i in villages),
            key=lambda v: v.number,
        )
        aligned = sorted(
            (strategies[i] for i in strategy_links.get(r.id, ())), key=lambda s: s.code
        )
        rows.append(
            ProjectRow(
                project=None,
                id=r.id,
                title=r.title,
                objective=r.objective,
                target_output=r.target_output,
                expected_result=r.expected_result,
                kpi=r.kpi,
                location=r.location,
                rationale=r.rationale,
                sector=r.sector,
                sector_label=labels.sector.get(r.sector, r.sector),
                programme=r.programme or "",
                programme_label=labels.programme.get(r.programme or "", r.programme or ""),
                group=r.funding_group,
                group_label=labels.group.get(r.funding_group, r.funding_group),
                rank=r.rank,
                urgency=r.urgency,
                urgency_label=labels.urgency.get(r.urgency, "") if r.urgency else "",
                feasibility=r.feasibility,
                feasibility_label=labels.feasibility.get(r.feasibility, r.feasibility),
                feasibility_reason=r.feasibility_reason,
                budget_satang=r.budget_satang or 0,
                wanted_year=r.wanted_year,
                village_rank=r.village_rank,
                villages=mine,
                village_ranks=own_ranks(
                    mine, r.proposed_by_id, r.village_rank, merged_ranks.get(r.id, {})
                ),
                village_label=village_label(mine, village_prefix),
                lead_agency_id=r.lead_agency_id,
                lead_agency=agencies.get(r.lead_agency_id, "") if r.lead_agency_id else "",
                supporting_agencies=", ".join(
                    sorted(agencies[i] for i in support_links.get(r.id, ()))
                ),
                strategies=aligned,
                strategy_label=", ".join(f"{s.code} {s.name}" for s in aligned),
                note=r.note,
            )
        )
    rows.sort(key=board_order)
    position = {}
    for row in rows:
        position[row.group] = position.get(row.group, 0) + 1
        row.position = position[row.group]
    return rows


def board_order(row: ProjectRow):
    # Unranked projects follow the ranked ones of their group, oldest first.
    return (GROUP_ORDER.get(row.group, 99), row.rank is None, row.rank or 0, row.id)
