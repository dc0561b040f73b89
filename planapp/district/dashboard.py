"""The district-wide picture: every tambon of a district with its plan for one fiscal year, side
by side. All counting and summing happens in SQL (GROUP BY): a district has thousands of projects,
and the page must stay fast on the laptop's SQLite."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import exists, func, select, tuple_

from planapp.district.agency_figures import (
    agency_rows,
    strategy_rows,
    support_rows,
    unaligned_rows,
)
from planapp.district.followup import GroupProgress, add_row, progress_rows
from planapp.domain import GROUPS, SECTORS, URGENCY
from planapp.extensions import db
from planapp.models import Plan, Project, Tambon, plan_summaries, plan_summary_figures

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
    def has_plans(self) -> bool:
        return self.plan_id is not None

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


def in_area(fiscal_year: int, province: str | None = None, district: str | None = None):
    """The plans of the year in the area (the whole country without province and district), as
    a condition on Plan and Tambon for the queries joined through them."""
    condition = Plan.fiscal_year == fiscal_year
    if province:
        condition &= Tambon.province == province
    if district:
        condition &= Tambon.district == district
    return condition


def plans_in_area(fiscal_year: int, province: str | None = None, district: str | None = None):
    """Ids of the plans of the year in the area, as a subquery (for `Project.plan_id.in_`)."""
    return (
        select(Plan.id)
        .join(Tambon, Tambon.id == Plan.tambon_id)
        .where(in_area(fiscal_year, province, district))
        .scalar_subquery()
    )


def figure_rows(key, condition, figures=None, keys=None):
    """(k, figure, figure key, count, satang, ordinance satang) of the projects of the plans under
    `condition`, grouped in SQL by `key` (a plan id, or a province or district): the one
    definition of every roll-up figure, whether counted live or kept per plan
    (planapp/district/summaries.py). Five GROUP BY queries whatever the number of projects:
    ("group", funding group) of the projects on the board; ("urgency", tier or NO_URGENCY) and
    ("sector", sector) of those taken forward; ("followup", status) with the budget requested
    and the ordinance amount; ("lead", agency id) and ("support", agency id) of the agencies;
    ("strategy", strategy id) and ("unaligned", "") of the strategies."""
    budget = func.coalesce(func.sum(Project.budget_satang), 0)
    wanted = set(figures or ALL_FIGURES)

    def grouped(column, *where):
        return db.session.execute(
            select(key, column, func.count(), budget)
            .select_from(Project)
            .join(Plan, Plan.id == Project.plan_id)
            .join(Tambon, Tambon.id == Plan.tambon_id)
            .where(condition, *where)
            .group_by(key, column)
        )

    if "group" in wanted:
        for k, group, count, satang in grouped(
            Project.funding_group, Project.merged_into_id.is_(None)
        ):
            yield k, "group", group, count, satang, 0
    if "urgency" in wanted:
        for k, tier, count, satang in grouped(
            func.coalesce(Project.urgency, NO_URGENCY), taken_forward_clause()
        ):
            yield k, "urgency", tier, count, satang, 0
    if "sector" in wanted:
        for k, sector, count, satang in grouped(Project.sector, taken_forward_clause()):
            yield k, "sector", sector, count, satang, 0
    if "followup" in wanted:
        for k, _group, status, count, requested, ordinance in progress_rows(condition, by=key):
            yield k, "followup", status, count, requested, ordinance
    # An agency's or strategy's own figures: those ids only (`keys`), in SQL.
    ids = None if keys is None else [int(k) for k in keys if k.isdigit()]
    if "lead" in wanted:
        for k, agency_id, count, satang in agency_rows(key, condition, ids):
            yield k, "lead", str(agency_id), count, satang, 0
    if "support" in wanted:
        for k, agency_id, count in support_rows(key, condition, ids):
            yield k, "support", str(agency_id), count, 0, 0
    if "strategy" in wanted:
        for k, strategy_id, count, satang in strategy_rows(key, condition, ids):
            yield k, "strategy", str(strategy_id), count, satang, 0
    if "unaligned" in wanted:
        for k, count, satang in unaligned_rows(key, condition):
            yield k, "unaligned", "", count, satang, 0


def add_figure(row: TambonRow, figure: str, key: str, count: int, satang: int, ordinance: int):
    """Add one of figure_rows' figures into a row of the page."""
    if figure == "group":
        row.groups[key].add(count, satang)
    elif figure == "urgency":
        row.urgency[key].add(count, satang)
    elif figure == "sector":
        row.sectors.setdefault(key, Cell()).add(count, satang)
    elif figure == "followup":
        add_row(row.followup, key, count, satang, ordinance)


# The figures of the roll-up pages; the agency list reads "lead" and "support", the strategy
# alignment "strategy" and "unaligned".
PAGE_FIGURES = ("group", "urgency", "sector", "followup")
ALL_FIGURES = (*PAGE_FIGURES, "lead", "support", "strategy", "unaligned")


def current_summary():
    """A condition on Plan: its summary (planapp/district/summaries.py) is of its version."""
    return exists().where(
        plan_summaries.c.plan_id == Plan.id, plan_summaries.c.version == Plan.version
    )


def level_figures(key, condition, figures=PAGE_FIGURES, keys=None):
    """figure_rows of the plans under `condition`, grouped by `key`: the plans whose summary is
    current add up their kept figures (one indexed GROUP BY over a few dozen rows a plan,
    whatever the number of projects); the others (changed without one, or none yet) are counted
    from their projects. `keys` narrows the figures to those keys (an agency list's page)."""
    f = plan_summary_figures
    wanted = [f.c.figure.in_(figures)]
    if keys is not None:
        wanted.append(f.c.key.in_(keys))
    yield from db.session.execute(
        select(
            key,
            f.c.figure,
            f.c.key,
            func.sum(f.c.count),
            func.sum(f.c.satang),
            func.sum(f.c.ordinance_satang),
        )
        .select_from(f)
        .join(Plan, Plan.id == f.c.plan_id)
        .join(Tambon, Tambon.id == Plan.tambon_id)
        .join(
            plan_summaries,
            (plan_summaries.c.plan_id == Plan.id) & (plan_summaries.c.version == Plan.version),
        )
        .where(condition, *wanted)
        .group_by(key, f.c.figure, f.c.key)
    )
    stale = condition & ~current_summary()
    stale_ids = db.session.scalars(
        select(Plan.id).join(Tambon).where(stale).limit(STALE_BY_ID + 1)
    ).all()
    if stale_ids:
        # A few plans (those a forum is moving cards in): by their ids, so each query reads
        # their projects through the plan index, not every project of the level.
        if len(stale_ids) <= STALE_BY_ID:
            stale = Plan.id.in_(stale_ids)
        for row in figure_rows(key, stale, figures, keys):
            if keys is None or row[2] in keys:
                yield row


# Plans without a current summary counted by their ids (more: by the level's condition).
STALE_BY_ID = 2000


# --- the figures of a level, cached per district by its plans' versions -----------------------

# Between a district's province and name in a grouping key (no name holds a newline).
_SEP = "\n"


def area_figures(fiscal_year: int, province, district, by: str, figures=PAGE_FIGURES, keys=None):
    """level_figures of the area's plans of the year, grouped `by` "province", "district" or
    "all", added up from each district's figures. Those are kept in the process by the district's
    plans and their versions (every change bumps its plan's version, so a district whose plans
    are as they were has the same figures): a page reads one row a district (its plans' count,
    ids and versions added up), counts again only the districts where a plan changed (from the
    plans' summaries), and adds up the rest from memory. Nothing is written while reading."""
    cache = current_app.extensions.setdefault("rollup_figures", {})
    # A district's signature: how many plans it has for the year, their ids and versions added
    # up. A change raises its plan's version; a plan added or removed changes the count and the
    # ids (never reused), so two readings with the same signature saw the same plans.
    signatures = {
        (area_province, area_district): tuple(signature)
        for area_province, area_district, *signature in db.session.execute(
            select(
                Tambon.province,
                Tambon.district,
                func.count(Plan.id),
                func.sum(Plan.id),
                func.sum(Plan.version),
            )
            .join(Tambon, Tambon.id == Plan.tambon_id)
            .where(in_area(fiscal_year, province, district))
            .group_by(Tambon.province, Tambon.district)
        )
    }
    missed = [
        area
        for area, signature in signatures.items()
        if (cached := cache.get((fiscal_year, *area))) is None or cached[0] != signature
    ]
    if missed:
        counted: dict[tuple[str, str], dict] = {area: {} for area in missed}
        condition = in_area(fiscal_year, province, district)
        # Most of the level missed (a first reading): the level at once, else its districts.
        if len(missed) * 2 <= len(signatures):
            condition &= tuple_(Tambon.province, Tambon.district).in_(missed)
        area_key = Tambon.province.concat(_SEP).concat(Tambon.district)
        for k, figure, key, count, satang, ordinance in level_figures(
            area_key, condition, ALL_FIGURES
        ):
            area = tuple(k.split(_SEP, 1))
            if area in counted:
                cell = counted[area].setdefault(figure, {}).setdefault(key, [0, 0, 0])
                _add_cell(cell, (count, satang, ordinance))
        for area, kept in counted.items():
            cache[(fiscal_year, *area)] = (signatures[area], kept)
    if keys is not None:  # a few keys (a page of agencies): looked up, not walked
        totals: dict = {}
        for area in signatures:
            k = {"province": area[0], "district": area[1]}.get(by, fiscal_year)
            kept = cache[(fiscal_year, *area)][1]
            for figure in figures:
                cells = kept.get(figure, {})
                for key in keys & cells.keys():
                    _add_cell(totals.setdefault((k, figure, key), [0, 0, 0]), cells[key])
    elif by == "district":
        totals = {
            (area[1], figure, key): cell
            for area in signatures
            for figure in figures
            for key, cell in cache[(fiscal_year, *area)][1].get(figure, {}).items()
        }
    else:  # each province's districts added up once, again only when one of them changed
        totals = {}
        by_province: dict[str, list] = {}
        for area in signatures:
            by_province.setdefault(area[0], []).append(area)
        for area_province, districts in by_province.items():
            signature = tuple(sorted((area, signatures[area]) for area in districts))
            memo = cache.get(("province", fiscal_year, area_province, tuple(figures)))
            if memo is None or memo[0] != signature:
                added: dict = {}
                for area in districts:
                    kept = cache[(fiscal_year, *area)][1]
                    for figure in figures:
                        for key, cell in kept.get(figure, {}).items():
                            _add_cell(added.setdefault((figure, key), [0, 0, 0]), cell)
                memo = cache[("province", fiscal_year, area_province, tuple(figures))] = (
                    signature,
                    added,
                )
            k = area_province if by == "province" else fiscal_year
            for (figure, key), cell in memo[1].items():
                _add_cell(totals.setdefault((k, figure, key), [0, 0, 0]), cell)
    for (k, figure, key), (count, satang, ordinance) in totals.items():
        yield k, figure, key, count, satang, ordinance


def _add_cell(total: list[int], cell) -> None:
    total[0] += cell[0]
    total[1] += cell[1]
    total[2] += cell[2]


def _add_figures(rows: dict, key, condition) -> None:
    """Add to rows[k] the figures of the plans under `condition`, grouped by `key`."""
    for k, figure, figure_key, count, satang, ordinance in level_figures(key, condition):
        add_figure(rows[k], figure, figure_key, count, satang, ordinance)


def district_picture(
    fiscal_year: int, province: str | None = None, district: str | None = None
) -> list[DistrictPicture]:
    """Every district (or the one asked for), its tambons side by side with their plans for the
    fiscal year, and the district total. Every tambon of the level: the roll-up pages show one
    district (area_rows lists the provinces and districts above it)."""
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
        _add_figures(by_plan, Plan.id, in_area(fiscal_year, province, district))

    for picture in pictures.values():
        picture.tambons.sort(key=lambda row: thai_sort_key(row.name))
        for row in picture.tambons:
            picture.total.absorb(row)
    return sorted(
        pictures.values(),
        key=lambda p: (thai_sort_key(p.province), thai_sort_key(p.district)),
    )


# --- the roll-up levels: country -> province -> district ------------------------------------


@dataclass
class AreaRow(TambonRow):
    """A province (of the country) or a district (of a province): one row, its figures those of
    its tambons' plans for the year."""

    province: str = ""
    district: str = ""
    tambon_count: int = 0
    plan_count: int = 0

    @property
    def has_plans(self) -> bool:
        return self.plan_count > 0


@dataclass
class Level:
    """Where a roll-up page stands: the country (no province), a province, or a district; and
    whether the levels above it have other children (a level with one child is skipped)."""

    province: str | None = None
    district: str | None = None
    other_provinces: bool = True
    other_districts: bool = True

    @property
    def name(self) -> str:
        if self.district:
            return "district"
        return "province" if self.province else "country"

    def trail(self) -> list[tuple[str, str | None, str | None]]:
        """(level, province, district) of each step from the country down to this level,
        leaving out a step whose only child is the next one (it shows the same page)."""
        steps = []
        if self.other_provinces:
            steps.append(("country", None, None))
        if self.province and (self.other_districts or not self.district):
            steps.append(("province", self.province, None))
        if self.district:
            steps.append(("district", self.province, self.district))
        return steps


def level_of(province: str | None, district: str | None) -> Level:
    """The level the filter names. A level with a single child is that child: a server of one
    district opens at its district, a server of one province at its districts."""
    provinces = _distinct(Tambon.province)
    if not province and not district and len(provinces) == 1:
        province = provinces[0]
    districts = _distinct(Tambon.district, Tambon.province == province) if province else []
    if province and not district and len(districts) == 1:
        district = districts[0]
    return Level(
        province or None,
        district or None,
        other_provinces=len(provinces) != 1,
        other_districts=len(districts) != 1,
    )


def _distinct(column, *where) -> list[str]:
    return list(db.session.scalars(select(column).where(*where).distinct().limit(2)))


def area_rows(fiscal_year: int, province: str | None = None) -> tuple[list[AreaRow], AreaRow]:
    """The provinces of the country (or the districts of a province), one row each with the
    figures of its tambons' plans for the year, and their total: grouped by the area in SQL,
    so the page has one row per area whatever the number of tambons and projects."""
    key = Tambon.district if province else Tambon.province
    tambons = (
        select(key, func.count(Tambon.id), func.count(Plan.id))
        .outerjoin(Plan, (Plan.tambon_id == Tambon.id) & (Plan.fiscal_year == fiscal_year))
        .group_by(key)
    )
    if province:
        tambons = tambons.where(Tambon.province == province)
    rows: dict[str, AreaRow] = {}
    for name, tambon_count, plan_count in db.session.execute(tambons):
        rows[name] = AreaRow(
            None,
            name,
            province=province or name,
            district=name if province else "",
            tambon_count=tambon_count,
            plan_count=plan_count,
        )
    if any(row.plan_count for row in rows.values()):
        for k, figure, figure_key, count, satang, ordinance in area_figures(
            fiscal_year, province, None, "district" if province else "province"
        ):
            add_figure(rows[k], figure, figure_key, count, satang, ordinance)
    ordered = sorted(rows.values(), key=lambda row: thai_sort_key(row.name))
    total = AreaRow(None, "")
    for row in ordered:
        total.absorb(row)
        total.tambon_count += row.tambon_count
        total.plan_count += row.plan_count
    return ordered, total
