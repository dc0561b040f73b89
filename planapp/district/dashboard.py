"""The district-wide picture: every tambon of a district with its plan for one fiscal year, side
by side. All counting and summing happens in SQL (GROUP BY): a district has thousands of projects,
and the page must stay fast on the laptop's SQLite."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from planapp.district.followup import GroupProgress, add_row, progress_rows
from planapp.domain import GROUPS, SECTORS, URGENCY
from planapp.extensions import db
from planapp.models import Plan, Project, Tambon

# A count of projects and their budget (satang): the same figure as the plan's own outputs.
from planapp.taken_forward import Tally as Cell
from planapp.taken_forward import taken_forward_clause

# Urgency of a project taken forward whose tier the forum has not set yet.
NO_URGENCY = "none"
URGENCY_COLUMNS = URGENCY + [NO_URGENCY]


# Thai dictionary order files a word under its consonant, not under the vowel written before it
# (โคกสี under ค); SQLite compares code points, so names are put in order here.
LEADING_VOWELS = "เแโใไ"


def thai_sort_key(text: str) -> str:
    chars = list(text)
    for index in range(len(chars) - 1):
        if chars[index] in LEADING_VOWELS:
            chars[index], chars[index + 1] = chars[index + 1], chars[index]
    return "".join(chars)


def _cells(keys) -> dict[str, Cell]:
    return {key: Cell() for key in keys}


@dataclass
class TambonRow:
    """One tambon's plan for the year (or its absence), in figures."""

    tambon_id: int | None
    name: str
    plan_id: int | None = None
    groups: dict[str, Cell] = field(default_factory=lambda: _cells(GROUPS))
    urgency: dict[str, Cell] = field(default_factory=lambda: _cells(URGENCY_COLUMNS))
    sectors: dict[str, Cell] = field(default_factory=lambda: _cells(SECTORS))
    followup: GroupProgress = field(default_factory=lambda: GroupProgress("all"))

    @property
    def all_projects(self) -> Cell:
        total = Cell()
        for cell in self.groups.values():
            total.add(cell.count, cell.satang)
        return total

    @property
    def taken_forward(self) -> Cell:
        """The projects taken forward (planapp/taken_forward.py): the urgency columns count
        exactly those, tier or none, so their sum is the total (a not-feasible project left in
        a funding group's column is in `groups` but not taken forward)."""
        total = Cell()
        for cell in self.urgency.values():
            total.add(cell.count, cell.satang)
        return total

    def absorb(self, other: TambonRow) -> None:
        """Add another row's figures into this one (the district total)."""
        for mine, theirs in (
            (self.groups, other.groups),
            (self.urgency, other.urgency),
            (self.sectors, other.sectors),
        ):
            for key, cell in theirs.items():
                mine[key].add(cell.count, cell.satang)
        for status, count in other.followup.by_status.items():
            self.followup.by_status[status] = self.followup.by_status.get(status, 0) + count
        self.followup.total += other.followup.total
        self.followup.requested_satang += other.followup.requested_satang
        self.followup.reached_budget += other.followup.reached_budget
        self.followup.ordinance_satang += other.followup.ordinance_satang


@dataclass
class DistrictPicture:
    province: str
    district: str
    tambons: list[TambonRow] = field(default_factory=list)
    total: TambonRow = field(default_factory=lambda: TambonRow(None, ""))

    @property
    def plans_count(self) -> int:
        return sum(1 for row in self.tambons if row.plan_id is not None)


def fiscal_years() -> list[int]:
    """The fiscal years that have at least one plan, latest first."""
    return list(
        db.session.scalars(
            select(Plan.fiscal_year).distinct().order_by(Plan.fiscal_year.desc())
        ).all()
    )


def districts() -> list[tuple[str, str]]:
    """(province, district) of every tambon, in order."""
    return [
        tuple(row)
        for row in db.session.execute(
            select(Tambon.province, Tambon.district)
            .distinct()
            .order_by(Tambon.province, Tambon.district)
        ).all()
    ]


def district_picture(
    fiscal_year: int, province: str | None = None, district: str | None = None
) -> list[DistrictPicture]:
    """Every district (or the one asked for), its tambons side by side with their plans for the
    fiscal year, and the district total. Five GROUP BY queries, whatever the number of projects."""
    tambon_query = (
        select(Tambon.id, Tambon.name, Tambon.district, Tambon.province, Plan.id)
        .outerjoin(Plan, (Plan.tambon_id == Tambon.id) & (Plan.fiscal_year == fiscal_year))
        .order_by(Tambon.province, Tambon.district, Tambon.name)
    )
    if province:
        tambon_query = tambon_query.where(Tambon.province == province)
    if district:
        tambon_query = tambon_query.where(Tambon.district == district)

    pictures: dict[tuple[str, str], DistrictPicture] = {}
    by_plan: dict[int, TambonRow] = {}
    for tambon_id, name, district_name, province_name, plan_id in db.session.execute(tambon_query):
        key = (province_name, district_name)
        picture = pictures.setdefault(key, DistrictPicture(province_name, district_name))
        row = TambonRow(tambon_id, name, plan_id)
        picture.tambons.append(row)
        if plan_id is not None:
            by_plan[plan_id] = row

    if by_plan:
        # The plans of the year in the chosen districts, as a subquery the aggregates share.
        plan_ids = select(Plan.id).join(Tambon).where(Plan.fiscal_year == fiscal_year)
        if province:
            plan_ids = plan_ids.where(Tambon.province == province)
        if district:
            plan_ids = plan_ids.where(Tambon.district == district)
        in_plans = Project.plan_id.in_(plan_ids.scalar_subquery())
        active = Project.merged_into_id.is_(None)
        budget = func.coalesce(func.sum(Project.budget_satang), 0)

        for plan_id, group, count, satang in db.session.execute(
            select(Project.plan_id, Project.funding_group, func.count(), budget)
            .where(in_plans, active)
            .group_by(Project.plan_id, Project.funding_group)
        ):
            by_plan[plan_id].groups[group].add(count, satang)

        urgency = func.coalesce(Project.urgency, NO_URGENCY)
        for plan_id, tier, count, satang in db.session.execute(
            select(Project.plan_id, urgency, func.count(), budget)
            .where(in_plans, taken_forward_clause())
            .group_by(Project.plan_id, urgency)
        ):
            by_plan[plan_id].urgency[tier].add(count, satang)

        for plan_id, sector, count, satang in db.session.execute(
            select(Project.plan_id, Project.sector, func.count(), budget)
            .where(in_plans, taken_forward_clause())
            .group_by(Project.plan_id, Project.sector)
        ):
            cells = by_plan[plan_id].sectors
            cells.setdefault(sector, Cell()).add(count, satang)

        for plan_id, _group, status, count, requested, ordinance in progress_rows(in_plans):
            add_row(by_plan[plan_id].followup, status, count, requested, ordinance)

    for picture in pictures.values():
        picture.tambons.sort(key=lambda row: thai_sort_key(row.name))
        for row in picture.tambons:
            picture.total.absorb(row)
    return sorted(
        pictures.values(),
        key=lambda p: (thai_sort_key(p.province), thai_sort_key(p.district)),
    )
