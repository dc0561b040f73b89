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
from planapp.domain import code_key
from planapp.extensions import db
from planapp.models import Plan, Project, Strategy, Village
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

    project: Project
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


def own_ranks(project: Project, merged: dict[int, int]) -> dict[int, int]:
    """Source village id -> that village's own rank for the project."""
    ranks = {}
    for village in project.villages:
        if project.ranked_by(village) and project.village_rank is not None:
            ranks[village.id] = project.village_rank
        elif village.id in merged:
            ranks[village.id] = merged[village.id]
    return ranks


def village_label(villages: list[Village], prefix: str) -> str:
    return ", ".join(f"{prefix} {v.number} {v.name}" for v in villages)


def load_rows(
    plan: Plan, labels: Labels | None = None, village_prefix: str = ""
) -> list[ProjectRow]:
    """The active projects of the plan, in board order: group, then the forum's rank."""
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
    projects = db.session.scalars(
        select(Project)
        .where(Project.plan_id == plan.id, Project.merged_into_id.is_(None))
        .options(
            selectinload(Project.villages),
            selectinload(Project.supporting_agencies),
            selectinload(Project.strategies).selectinload(Strategy.parent),
            selectinload(Project.lead_agency),
        )
    ).all()
    rows = []
    for p in projects:
        rows.append(
            ProjectRow(
                project=p,
                id=p.id,
                title=p.title,
                objective=p.objective,
                target_output=p.target_output,
                expected_result=p.expected_result,
                kpi=p.kpi,
                location=p.location,
                rationale=p.rationale,
                sector=p.sector,
                sector_label=labels.sector.get(p.sector, p.sector),
                programme=p.programme or "",
                programme_label=labels.programme.get(p.programme or "", p.programme or ""),
                group=p.funding_group,
                group_label=labels.group.get(p.funding_group, p.funding_group),
                rank=p.rank,
                urgency=p.urgency,
                urgency_label=labels.urgency.get(p.urgency, "") if p.urgency else "",
                feasibility=p.feasibility,
                feasibility_label=labels.feasibility.get(p.feasibility, p.feasibility),
                feasibility_reason=p.feasibility_reason,
                budget_satang=p.budget_satang or 0,
                wanted_year=p.wanted_year,
                village_rank=p.village_rank,
                villages=list(p.villages),
                village_ranks=own_ranks(p, merged_ranks.get(p.id, {})),
                village_label=village_label(p.villages, village_prefix),
                lead_agency_id=p.lead_agency_id,
                lead_agency=p.lead_agency.name if p.lead_agency else "",
                supporting_agencies=", ".join(a.name for a in p.supporting_agencies),
                strategies=list(p.strategies),
                strategy_label=", ".join(f"{s.code} {s.name}" for s in p.strategies),
                note=p.note,
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
