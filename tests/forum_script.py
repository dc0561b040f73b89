"""A scripted forum on the demo plan, played through the domain functions the routes call: village
plans typed and merged before the forum, then the forum itself on the step bar (feasibility,
groups and their order, a merge in the hall, votes, urgency and agencies, a confirmed group) and
its close. Used by the minutes tests and by the test that every output counts alike."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from planapp import ranking
from planapp.extensions import db
from planapp.forum.decisions import Decisions, save_decisions
from planapp.intake import projects as village_plans
from planapp.meeting import groups as meeting_groups
from planapp.meeting import record
from planapp.models import Agency, ChangeLog, Plan, Project, User


@dataclass
class Script:
    """What the script did, for the tests to look for."""

    before_forum: list[int] = field(default_factory=list)  # change ids before the opening
    after_close: list[int] = field(default_factory=list)  # change ids after the close
    merged_before: Project | None = None
    merged_in_hall: Project | None = None
    not_feasible: Project | None = None
    reason: str = "ซ้ำซ้อนกับโครงการของจังหวัด"
    groups: dict[str, list[int]] = field(default_factory=dict)
    voted: Project | None = None
    urgency: dict[int, str] = field(default_factory=dict)
    lead: Agency | None = None
    supporting: Agency | None = None


def _last_id(plan: Plan) -> int:
    return db.session.scalar(
        select(ChangeLog.id).where(ChangeLog.plan_id == plan.id).order_by(ChangeLog.id.desc())
    )


def _decide(plan: Plan, project: Project, actor: User | None, **values) -> None:
    current = Decisions(
        feasibility=project.feasibility,
        feasibility_reason=project.feasibility_reason,
        urgency=project.urgency,
        lead_agency_id=project.lead_agency_id,
        supporting_agency_ids=[a.id for a in project.supporting_agencies],
        strategy_ids=[s.id for s in project.strategies],
        note=project.note,
    )
    for name, value in values.items():
        setattr(current, name, value)
    save_decisions(plan, project, current, None, actor=actor)
    db.session.commit()


def play_forum(plan: Plan, actor: User | None = None) -> Script:
    """The forum's actions on `plan`, as `actor` (None: as the app itself, no user)."""
    script = Script()
    projects = db.session.scalars(
        select(Project)
        .where(Project.plan_id == plan.id, Project.merged_into_id.is_(None))
        .order_by(Project.id)
    ).all()
    by_village: dict[int, list[Project]] = {}
    for p in projects:
        by_village.setdefault(p.villages[0].number, []).append(p)

    # Before the forum: the village plans are typed and merged (intake), not decided.
    village = plan.tambon.villages[0]
    village_plans.create_project(
        plan,
        [village],
        {"title": "ซ่อมแซมศาลากลางบ้าน", "sector": "infrastructure", "budget_satang": 5_000_000},
        actor=actor,
    )
    db.session.commit()
    script.before_forum.append(_last_id(plan))
    keeper, other = by_village[2][1], by_village[5][1]
    village_plans.merge_projects(
        plan, keeper, [other], title=keeper.title, budget_satang=keeper.budget_satang, actor=actor
    )
    db.session.commit()
    script.before_forum.append(_last_id(plan))
    script.merged_before = other

    # The forum opens on the step bar.
    record.set_step(plan, 1, actor=actor)
    db.session.commit()
    record.set_step(plan, 3, actor=actor)
    db.session.commit()
    script.not_feasible = by_village[3][4]
    _decide(
        plan,
        script.not_feasible,
        actor,
        feasibility="not_feasible",
        feasibility_reason=script.reason,
    )

    record.set_step(plan, 4, actor=actor)
    db.session.commit()
    layout = {
        "1": [by_village[1][3], by_village[4][3], by_village[6][4]],
        "2": [by_village[1][1], by_village[6][2], by_village[7][1], by_village[8][1]],
        "3": [by_village[1][0], by_village[4][0], by_village[6][0], by_village[9][0]],
    }
    for group, members in layout.items():
        for p in members:
            ranking.move_project(plan, p.id, group, None, None, actor=actor)
            db.session.commit()
    # The hall moves one project of group 3 to the top of its group.
    ranking.move_project(plan, layout["3"][-1].id, "3", layout["3"][0].id, None, actor=actor)
    db.session.commit()
    # A merge made in the hall: a group 3 project takes in an unsorted twin.
    twin = by_village[8][0]
    village_plans.merge_projects(
        plan,
        layout["3"][0],
        [twin],
        title=layout["3"][0].title,
        budget_satang=layout["3"][0].budget_satang + twin.budget_satang,
        actor=actor,
    )
    db.session.commit()
    script.merged_in_hall = twin
    script.voted = layout["2"][0]
    meeting_groups.set_votes(plan, script.voted, 17, actor=actor)
    db.session.commit()
    meeting_groups.confirm_group(plan, "1", actor=actor)
    db.session.commit()

    record.set_step(plan, 5, actor=actor)
    db.session.commit()
    agencies = db.session.scalars(select(Agency).order_by(Agency.id)).all()
    script.lead, script.supporting = agencies[0], agencies[2]
    tiers = ["urgent", "medium", "normal"]
    for n, p in enumerate(layout["2"] + layout["3"][:3]):
        # The last ones of group 3 keep no tier: taken forward all the same.
        script.urgency[p.id] = tiers[n % 3]
        _decide(plan, p, actor, urgency=tiers[n % 3])
    _decide(
        plan,
        layout["3"][1],
        actor,
        lead_agency_id=script.lead.id,
        supporting_agency_ids=[script.supporting.id],
    )
    record.set_step(plan, 6, actor=actor)
    db.session.commit()

    # After the close: a tier set later is no decision of the forum.
    late = layout["3"][-1]
    _decide(plan, late, actor, urgency="urgent")
    script.after_close.append(_last_id(plan))
    script.urgency[late.id] = "urgent"
    script.groups = {
        group: [p.id for p in meeting_groups.column_cards(plan, group)] for group in layout
    }
    return script


def sort_demo(
    plan: Plan,
    sizes: tuple[int, int, int] = (22, 11, 26),
    urgent: int = 5,
    actor: User | None = None,
) -> None:
    """The demo sorted as the hall of issue 15 sorted it: 22, 11 and 26 projects moved one by
    one into groups 1, 2 and 3 (each to the end of its group, as the board's buttons do), two
    not feasible, the rest left unsorted; `urgent` projects of group 3 urgent, the others taken
    forward medium or normal."""
    projects = db.session.scalars(
        select(Project)
        .where(Project.plan_id == plan.id, Project.merged_into_id.is_(None))
        .order_by(Project.id)
    ).all()
    targets = [group for group, size in zip("123", sizes, strict=True) for _n in range(size)]
    targets += ["not-feasible"] * 2
    # Deal the projects out round the groups, so each group holds every village's projects.
    order = sorted(range(len(targets)), key=lambda n: (n % 7, n))
    for project, n in zip(projects, order, strict=False):
        ranking.move_project(plan, project.id, targets[n], None, None, actor=actor)
        db.session.commit()
    tiers = {"3": ["urgent"] * urgent}
    for group in "123":
        cards = meeting_groups.column_cards(plan, group)
        wanted = tiers.get(group, [])
        for n, card in enumerate(cards):
            tier = wanted[n] if n < len(wanted) else ("medium", "normal")[n % 2]
            _decide(plan, card, actor, urgency=tier)
