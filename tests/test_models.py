"""The database itself refuses what the domain forbids, not only the forms."""

import pytest
from sqlalchemy.exc import IntegrityError

from planapp.extensions import db
from planapp.models import Plan, Project, Tambon, Village


@pytest.fixture
def plan(app):
    tambon = Tambon(name="ทดสอบ", district="เมือง", province="ขอนแก่น")
    plan = Plan(tambon=tambon, fiscal_year=2570)
    db.session.add(plan)
    db.session.commit()
    return plan


def test_negative_budget_is_refused(plan):
    db.session.add(Project(plan=plan, title="ถนน", budget_satang=-1, rank=1))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.query(Project).count() == 0


def test_duplicate_village_number_is_refused(plan):
    db.session.add(Village(tambon=plan.tambon, number=3, name="บ้านโนน"))
    db.session.commit()
    db.session.add(Village(tambon=plan.tambon, number=3, name="บ้านโนนใหม่"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert [v.name for v in plan.tambon.villages] == ["บ้านโนน"]


def test_same_village_number_in_another_tambon_is_fine(plan):
    other = Tambon(name="อื่น", district="เมือง", province="ขอนแก่น")
    db.session.add_all(
        [Village(tambon=plan.tambon, number=1, name="ก"), Village(tambon=other, number=1, name="ข")]
    )
    db.session.commit()
    assert db.session.query(Village).count() == 2


def test_duplicate_rank_in_a_group_is_refused(plan):
    db.session.add(Project(plan=plan, title="ก", funding_group="3", rank=1))
    db.session.commit()
    db.session.add(Project(plan=plan, title="ข", funding_group="3", rank=1))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.query(Project).count() == 1


def test_same_rank_in_different_groups_is_fine(plan):
    db.session.add_all(
        [
            Project(plan=plan, title="ก", funding_group="1", rank=1),
            Project(plan=plan, title="ข", funding_group="2", rank=1),
        ]
    )
    db.session.commit()
    assert db.session.query(Project).count() == 2


def test_unknown_group_and_urgency_are_refused(plan):
    db.session.add(Project(plan=plan, title="ก", funding_group="4", rank=1))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(Project(plan=plan, title="ก", urgency="someday", rank=1))
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_budget_is_exact(plan):
    project = Project(plan=plan, title="ก", rank=1)
    project.budget = "150000.55"
    db.session.add(project)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Project, project.id).budget_satang == 15_000_055
    assert str(db.session.get(Project, project.id).budget) == "150000.55"
