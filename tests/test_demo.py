from sqlalchemy import func, select

from planapp import demo_data
from planapp.demo import load_demo
from planapp.extensions import db
from planapp.models import Agency, Plan, Project, Strategy, Tambon, Village


def counts():
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Tambon, Village, Plan, Project, Agency, Strategy)
    }


def test_demo_loads_a_realistic_tambon(app):
    plan = load_demo()
    numbers = counts()
    assert numbers["Village"] >= 8
    assert numbers["Project"] >= 60
    assert numbers["Project"] == len(demo_data.PROJECTS)
    shared = [p for p in plan.projects if len(p.villages) > 1]
    assert len(shared) >= 2, "some projects are proposed by two villages"
    ranks = sorted(p.rank for p in plan.projects)
    assert ranks == list(range(1, len(ranks) + 1))
    assert all(p.budget_satang >= 0 for p in plan.projects)


def test_demo_plan_names_what_it_answers_to_and_its_tactics(app):
    """The ก.–จ. lines of the ผ.02 forms and the อบต.'s tactics under its strategies."""
    plan = load_demo()
    for name, text in demo_data.PLAN_PREAMBLE.items():
        assert getattr(plan, name) == text and text
    assert "ฉบับที่ 13" in plan.national_plan and "เป้าหมายที่" in plan.sdgs
    tactics = db.session.scalars(select(Strategy).where(Strategy.parent_id.is_not(None))).all()
    assert len(tactics) == len(demo_data.TACTICS) >= 5
    for tactic in tactics:
        assert tactic.level == tactic.parent.level == "local"
        assert tactic.code.startswith(tactic.parent.code + ".")


def test_demo_twice_duplicates_nothing(app):
    first = load_demo().id
    before = counts()
    second = load_demo().id
    assert first == second
    assert counts() == before


def test_demo_command_prints_the_plan_id(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    plan_id = int(result.output.strip())
    assert db.session.get(Plan, plan_id).tambon.name == demo_data.TAMBON["name"]
