"""Load the demo tambon (planapp/demo_data.py). Loading twice changes nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from planapp import demo_data as data
from planapp.domain import PROGRAMME_FOR_SECTOR
from planapp.extensions import db
from planapp.models import Agency, Plan, Project, SectorStrategy, Strategy, Tambon, Village


def _get_or_create(model, lookup: dict, **values):
    instance = db.session.scalar(select(model).filter_by(**lookup))
    if instance is None:
        instance = model(**lookup, **values)
        db.session.add(instance)
        db.session.flush()
    return instance


def load_demo() -> Plan:
    tambon = _get_or_create(Tambon, data.TAMBON)
    agencies = {
        name: _get_or_create(Agency, {"name": name}, kind=kind) for name, kind in data.AGENCIES
    }
    tambon.local_admin_agency = agencies[data.AGENCIES[0][0]]
    strategies = {
        code: _get_or_create(Strategy, {"level": level, "code": code}, name=name)
        for level, code, name in data.STRATEGIES
    }
    for parent, code, name in data.TACTICS:
        strategies[code] = _get_or_create(
            Strategy, {"level": "local", "code": code}, name=name, parent=strategies[parent]
        )
    for sector, code in data.SECTOR_STRATEGIES.items():
        _get_or_create(SectorStrategy, {"sector": sector}, strategy_id=strategies[code].id)
    villages = {
        number: _get_or_create(Village, {"tambon_id": tambon.id, "number": number}, name=name)
        for number, name in data.VILLAGES
    }
    plan = db.session.scalar(
        select(Plan).where(Plan.tambon_id == tambon.id, Plan.fiscal_year == data.FISCAL_YEAR)
    )
    if plan is not None:
        db.session.commit()
        return plan

    plan = Plan(
        tambon=tambon,
        fiscal_year=data.FISCAL_YEAR,
        plan_start_year=data.PLAN_START_YEAR,
        forum_date=date.fromisoformat(data.FORUM["date"]),
        forum_place=data.FORUM["place"],
        forum_chair=data.FORUM["chair"],
        is_public=True,
        **data.PLAN_PROFILE,
        **data.PLAN_PREAMBLE,
    )
    db.session.add(plan)
    db.session.flush()
    for rank, item in enumerate(data.PROJECTS, start=1):
        project = Project(
            plan=plan,
            title=item["title"],
            rationale=item["rationale"],
            objective=item["objective"],
            target_output=item["target_output"],
            location=item["location"],
            sector=item["sector"],
            programme=PROGRAMME_FOR_SECTOR[item["sector"]],
            wanted_year=data.FISCAL_YEAR,
            kpi=item["kpi"],
            expected_result=item["expected_result"],
            village_rank=item["village_rank"],
            funding_group="unsorted",
            rank=rank,
            villages=[villages[number] for number in item["villages"]],
            # A joint project is listed first under the village whose rank it carries.
            proposed_by=villages[item["villages"][0]],
        )
        project.budget = item["budget"]
        db.session.add(project)
    db.session.commit()
    return plan
