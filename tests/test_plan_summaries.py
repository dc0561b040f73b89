"""The roll-ups' per-plan summaries (planapp/district/summaries.py) stay equal to the figures
counted afresh from the projects after every kind of change: a move, a panel edit, follow-up,
an import, a merge, and undo of each; and a plan changed behind record_change's back is counted
from its projects, never from its old summary."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, text

from planapp.changes import undo_last_change
from planapp.district import followup, summaries
from planapp.district.dashboard import ALL_FIGURES, area_rows, figure_rows, level_figures
from planapp.extensions import db
from planapp.forum.decisions import Decisions, save_decisions
from planapp.intake import projects as village_plans
from planapp.models import Agency, Plan, Project, plan_summaries, plan_summary_figures
from planapp.ranking import move_project
from tests.district_helpers import build_district
from tests.test_intake_import import confirm, fill_template, upload


def fresh(plan: Plan) -> dict:
    """The plan's figures counted from its projects now."""
    figures: dict = {}
    for _k, figure, key, count, satang, ordinance in figure_rows(
        Plan.id, Plan.id == plan.id, ALL_FIGURES
    ):
        cell = figures.setdefault((figure, str(key)), [0, 0, 0])
        cell[0] += count
        cell[1] += satang
        cell[2] += ordinance
    return {key: tuple(cell) for key, cell in figures.items()}


def kept(plan: Plan) -> dict:
    """The plan's summary, which must be of its current version."""
    db.session.expire_all()
    assert summary_version(plan) == db.session.get(Plan, plan.id).version
    return kept_figures(plan)


def kept_figures(plan: Plan) -> dict:
    f = plan_summary_figures
    return {
        (figure, key): (count, satang, ordinance)
        for figure, key, count, satang, ordinance in db.session.execute(
            select(f.c.figure, f.c.key, f.c.count, f.c.satang, f.c.ordinance_satang).where(
                f.c.plan_id == plan.id
            )
        )
    }


def read(plan: Plan) -> dict:
    """The plan's figures as the roll-ups read them (its summary if current, else counted)."""
    return {
        (figure, key): (count, satang, ordinance)
        for _k, figure, key, count, satang, ordinance in level_figures(
            Plan.id, Plan.id == plan.id, ALL_FIGURES
        )
    }


def check(plan: Plan) -> None:
    assert kept(plan) == fresh(plan) == read(plan)


def summary_version(plan: Plan) -> int | None:
    return db.session.scalar(
        select(plan_summaries.c.version).where(plan_summaries.c.plan_id == plan.id)
    )


def unsorted(plan: Plan) -> list[Project]:
    return db.session.scalars(
        select(Project)
        .where(Project.plan_id == plan.id, Project.funding_group == "unsorted")
        .where(Project.rank.is_not(None))
        .order_by(Project.rank)
    ).all()


def test_the_summary_equals_a_fresh_count_after_every_kind_of_change(facilitator_client, demo_plan):
    assert summaries.refresh_all() >= 1
    check(demo_plan)

    # A move into group 2, and one into "not feasible": a move leaves the summary behind (its
    # ten statements), and the roll-ups count the plan from its projects meanwhile.
    first, second = unsorted(demo_plan)[:2]
    summarised = summary_version(demo_plan)
    move_project(demo_plan, first.id, "2", None, None, actor=None)
    db.session.commit()
    move_project(demo_plan, second.id, "not-feasible", None, None, actor=None)
    db.session.commit()
    db.session.expire_all()
    assert summary_version(demo_plan) == summarised < db.session.get(Plan, demo_plan.id).version
    assert read(demo_plan) == fresh(demo_plan) != kept_figures(demo_plan)

    # A panel edit: urgency and the lead agency of the project now taken forward.
    agency = db.session.scalar(select(Agency).order_by(Agency.id))
    project = db.session.get(Project, first.id)
    save_decisions(
        demo_plan,
        project,
        Decisions(feasibility="feasible", urgency="urgent", lead_agency_id=agency.id),
        None,
        actor=None,
    )
    db.session.commit()
    check(demo_plan)

    # Follow-up: into the budget ordinance.
    project = db.session.get(Project, first.id)
    for status in ("sent", "in_local_plan", "in_budget"):
        budget = status == "in_budget"
        update = followup.FollowupUpdate(
            status=status,
            amount="120,000" if budget else "",
            year=str(demo_plan.fiscal_year) if budget else "",
        )
        followup.apply_update(demo_plan, project, update, date(2026, 12, 6), actor=None)
        db.session.commit()
    check(demo_plan)
    assert kept(demo_plan)[("followup", "in_budget")][2] == 120_000_00

    # An import through the pages.
    data = fill_template(
        facilitator_client,
        demo_plan,
        [{"หมู่ที่": "1", "ชื่อโครงการ": "ขุดลอกคลองส่งน้ำ", "ด้าน": "ด้านเศรษฐกิจและอาชีพ",
          "งบประมาณ (บาท)": 90000}],
    )  # fmt: skip
    preview = upload(facilitator_client, demo_plan, data)
    assert confirm(facilitator_client, demo_plan, preview).status_code == 302
    check(demo_plan)

    # A merge of two unsorted projects.
    keeper, other = unsorted(demo_plan)[:2]
    village_plans.merge_projects(
        demo_plan, keeper, [other], title="รวมโครงการ", budget_satang=10_00, actor=None
    )
    db.session.commit()
    check(demo_plan)

    # Undo, change after change, back to the start (undoing a move writes the summary: it is
    # an undo, not a move).
    for _ in range(8):
        undo_last_change(db.session.get(Plan, demo_plan.id), actor=None)
        db.session.commit()
        check(demo_plan)


def group_figures(plan: Plan) -> dict:
    return {
        (figure, key): (count, satang)
        for _k, figure, key, count, satang, _o in level_figures(
            Plan.id, Plan.id == plan.id, ("group",)
        )
    }


def test_a_plan_changed_behind_its_summary_is_counted_from_its_projects(demo_plan):
    summaries.refresh_all()
    before = group_figures(demo_plan)
    # Written without record_change (as a bulk load would): the version moves on, and the
    # summary of the old version is no longer used.
    db.session.execute(
        text("UPDATE projects SET budget_satang = budget_satang + 100 WHERE plan_id = :plan"),
        {"plan": demo_plan.id},
    )
    db.session.execute(
        text("UPDATE plans SET version = version + 1 WHERE id = :plan"), {"plan": demo_plan.id}
    )
    db.session.commit()
    expected = {key: cell[:2] for key, cell in fresh(demo_plan).items() if key[0] == "group"}
    assert group_figures(demo_plan) == expected != before


def test_a_level_read_again_after_a_change_shows_it(demo_plan):
    """The country's figures are kept per district by its plans' versions: a change moves its
    plan's version on, so the next reading counts that district again (and only that one)."""
    build_district(tambons=2, fiscal_year=demo_plan.fiscal_year)
    build_district(district="อื่น", tambons=1, fiscal_year=demo_plan.fiscal_year)
    _rows, before = area_rows(demo_plan.fiscal_year)
    project = unsorted(demo_plan)[0]
    move_project(demo_plan, project.id, "1", None, None, actor=None)
    db.session.commit()
    _rows, after = area_rows(demo_plan.fiscal_year)
    assert after.groups["1"].count == before.groups["1"].count + 1
    assert after.groups["unsorted"].count == before.groups["unsorted"].count - 1
    assert after.groups["1"].satang == before.groups["1"].satang + project.budget_satang
