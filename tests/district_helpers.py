"""Builders shared by the district tests: place projects into groups as a forum would."""

from __future__ import annotations

from planapp.extensions import db
from planapp.models import Plan, Project


def place(plan: Plan, groups: list[str]) -> list[Project]:
    """Put the plan's first projects into the given columns, in order, ranking them per column
    (the rest stay unsorted). Returns the placed projects."""
    projects = sorted(plan.projects, key=lambda p: p.id)
    for project in projects:
        project.rank = None
    db.session.flush()
    ranks: dict[str, int] = {}
    for project, group in zip(projects, groups, strict=False):
        ranks[group] = ranks.get(group, 0) + 1
        project.funding_group = group
        project.rank = ranks[group]
        if group == "not-feasible":
            project.feasibility = "not_feasible"
            project.feasibility_reason = "ไม่มีที่ดิน"
        else:
            project.feasibility = "feasible"
    for project in projects[len(groups) :]:
        ranks["unsorted"] = ranks.get("unsorted", 0) + 1
        project.funding_group = "unsorted"
        project.rank = ranks["unsorted"]
    db.session.commit()
    return projects[: len(groups)]


def build_district(
    district: str = "เมืองทดสอบ",
    province: str = "ทดสอบ",
    tambons: int = 3,
    projects_per_tambon: int = 12,
    fiscal_year: int = 2570,
):
    """A district of several tambons, each with a plan for the year whose projects vary over
    every column, urgency tier, sector and follow-up status (deterministically, so each tambon
    differs). Returns the plans."""
    from planapp.domain import FOLLOWUP, SECTORS, URGENCY
    from planapp.models import Agency, Strategy, Tambon, Village

    lead = db.session.scalar(db.select(Agency).where(Agency.name == "สำนักงานเกษตรอำเภอทดสอบ"))
    if lead is None:
        lead = Agency(name="สำนักงานเกษตรอำเภอทดสอบ", kind="government")
        helper = Agency(name="กลุ่มแม่บ้านทดสอบ", kind="community")
        strategies = [
            Strategy(level="province", code="TP1", name="เกษตรปลอดภัย"),
            Strategy(level="district", code="TD1", name="แหล่งน้ำเพื่อการเกษตร"),
        ]
        db.session.add_all([lead, helper, *strategies])
    else:
        helper = db.session.scalar(db.select(Agency).where(Agency.name == "กลุ่มแม่บ้านทดสอบ"))
        strategies = db.session.scalars(
            db.select(Strategy).where(Strategy.code.in_(["TP1", "TD1"])).order_by(Strategy.code)
        ).all()[::-1]
    columns = ["1", "2", "3", "3", "unsorted", "not-feasible", "2", "3"]
    plans = []
    for t in range(tambons):
        tambon = Tambon(name=f"ตำบลทดสอบ{t + 1}", district=district, province=province)
        villages = [Village(tambon=tambon, number=n, name=f"บ้าน{n}") for n in (1, 2, 3)]
        plan = Plan(tambon=tambon, fiscal_year=fiscal_year)
        db.session.add(plan)
        ranks: dict[str, int] = {}
        for i in range(projects_per_tambon + t):
            group = columns[(i + t) % len(columns)]
            ranks[group] = ranks.get(group, 0) + 1
            taken = group in ("1", "2", "3")
            status = FOLLOWUP[(i * 3 + t) % len(FOLLOWUP)] if taken else "none"
            if group == "1" and status in ("sent", "in_local_plan", "in_budget"):
                status = "in_progress"
            project = Project(
                plan=plan,
                title=f"โครงการ {t + 1}-{i + 1}",
                funding_group=group,
                rank=ranks[group],
                feasibility="not_feasible" if group == "not-feasible" else "feasible",
                sector=SECTORS[(i + 2 * t) % len(SECTORS)],
                urgency=(URGENCY + [None])[(i + t) % 4] if taken else None,
                budget_satang=(100_000 + 25_000 * i + 7_000 * t) * 100,
                followup_status=status,
                villages=[villages[i % 3]],
                lead_agency=lead if i % 2 == 0 else helper,
                supporting_agencies=[helper] if i % 3 == 0 else [],
                strategies=[strategies[i % 2]] if i % 4 != 3 else [],
            )
            if status in ("in_budget", "in_progress", "done"):
                project.budget_ordinance_satang = project.budget_satang - 1_000_000
                project.budget_ordinance_year = fiscal_year + 1
            db.session.add(project)
        plans.append(plan)
    db.session.commit()
    return plans
