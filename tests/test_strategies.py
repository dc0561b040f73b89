"""Strategies for the plan's projects (issue 16, item 13): the administrator's sector -> strategy
mapping, the facilitator's one-step confirmation of the proposals, and the ผ.02 forms that then
file every project under a strategy."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from planapp import demo_data
from planapp.changes import undo_last_change
from planapp.extensions import db
from planapp.models import (
    ChangeLog,
    Project,
    SectorStrategy,
    Strategy,
    Village,
    project_strategies,
)
from tests.conftest import make_user
from tests.forum_script import play_forum
from tests.route_walk import database_state, outsider_plan

NO_STRATEGY = "ยังไม่ระบุยุทธศาสตร์"


def strategy(code: str) -> Strategy:
    return db.session.scalar(select(Strategy).where(Strategy.code == code))


def strategy_ids_of(project_id: int) -> list[int]:
    return sorted(
        db.session.scalars(
            select(project_strategies.c.strategy_id).where(
                project_strategies.c.project_id == project_id
            )
        )
    )


def page_choices(html: str) -> dict[str, str]:
    """Each select of the page (name -> the value of its selected option), as a browser posts
    it."""
    chosen = {}
    for name, options in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        selected = re.search(r'<option value="([^"]*)" selected>', options)
        chosen[name] = selected.group(1) if selected else ""
    return chosen


def cells_with(wb, text: str) -> list[str]:
    return [
        f"{ws.title}!{cell.coordinate}"
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and text in cell.value
    ]


def download_workbook(client, plan):
    response = client.get(f"/plans/{plan.id}/export.xlsx")
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.data))


# --- the demo, after a forum -----------------------------------------------------------------


def test_demo_workbook_files_every_project_under_a_strategy_once_proposals_are_confirmed(
    facilitator_client, demo_plan
):
    play_forum(demo_plan)
    before = download_workbook(facilitator_client, demo_plan)
    assert cells_with(before, NO_STRATEGY)  # the demo's projects come without a strategy

    page = facilitator_client.get(f"/plans/{demo_plan.id}/strategies")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    choices = page_choices(html)
    on_board = db.session.scalar(
        select(func.count())
        .select_from(Project)
        .where(Project.plan_id == demo_plan.id, Project.merged_into_id.is_(None))
    )
    # Every project on the board is listed, each with its sector's strategy chosen.
    assert len(choices) == on_board
    assert all(value for value in choices.values())
    response = facilitator_client.post(f"/plans/{demo_plan.id}/strategies", data=choices)
    assert response.status_code == 302

    after = download_workbook(facilitator_client, demo_plan)
    assert cells_with(after, NO_STRATEGY) == []
    # ... and filed under the strategies the demo's mapping proposes.
    headings = [
        cell.value
        for ws in after.worksheets
        if ws.title.startswith("ผ.02")
        for row in ws.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and cell.value.startswith("ยุทธศาสตร์")
    ]
    proposed = {
        (strategy(code).parent or strategy(code)) for code in demo_data.SECTOR_STRATEGIES.values()
    }
    assert headings
    assert set(headings) <= {f"ยุทธศาสตร์ที่ {s.code} {s.name}" for s in proposed}
    page = facilitator_client.get(f"/plans/{demo_plan.id}/strategies").get_data(as_text=True)
    assert "data-strategy-proposals-done" in page


# --- confirming: left out, changed, undone, one plan only -------------------------------------


def test_a_project_can_be_left_out_or_changed_and_one_undo_takes_it_all_back(
    facilitator_client, demo_plan
):
    projects = demo_plan.active_projects()
    left_out, changed, kept = projects[0], projects[1], projects[2]
    choices = page_choices(
        facilitator_client.get(f"/plans/{demo_plan.id}/strategies").get_data(as_text=True)
    )
    proposed = int(choices[f"strategy-{kept.id}"])
    assert proposed == db.session.get(SectorStrategy, kept.sector).strategy_id
    province = strategy("P2")
    choices[f"strategy-{left_out.id}"] = ""
    choices[f"strategy-{changed.id}"] = str(province.id)
    entries = db.session.scalar(select(func.count()).select_from(ChangeLog))

    response = facilitator_client.post(f"/plans/{demo_plan.id}/strategies", data=choices)
    assert response.status_code == 302
    assert strategy_ids_of(left_out.id) == []
    assert strategy_ids_of(changed.id) == [province.id]
    assert strategy_ids_of(kept.id) == [proposed]
    # One change in the log, by the facilitator, naming the cards it touched.
    assert db.session.scalar(select(func.count()).select_from(ChangeLog)) == entries + 1
    entry = db.session.scalar(select(ChangeLog).order_by(ChangeLog.id.desc()).limit(1))
    assert entry.user.username == "somchai"
    assert changed.id in entry.regions["cards"] and left_out.id not in entry.regions["cards"]
    # The page now lists only the one left out.
    listed = page_choices(
        facilitator_client.get(f"/plans/{demo_plan.id}/strategies").get_data(as_text=True)
    )
    assert list(listed) == [f"strategy-{left_out.id}"]

    undo_last_change(demo_plan, actor=None)
    db.session.commit()
    assert strategy_ids_of(changed.id) == [] and strategy_ids_of(kept.id) == []


def test_confirming_touches_only_this_plans_projects_still_without_a_strategy(
    facilitator_client, demo_plan
):
    other = outsider_plan()
    village = Village(tambon_id=other.tambon_id, number=1, name="อื่น")
    foreign = Project(plan=other, title="ของตำบลอื่น", funding_group="unsorted", rank=1)
    foreign.villages = [village]
    db.session.add_all([village, foreign])
    db.session.commit()
    mine = demo_plan.active_projects()[0]
    meanwhile = demo_plan.active_projects()[1]
    choices = page_choices(
        facilitator_client.get(f"/plans/{demo_plan.id}/strategies").get_data(as_text=True)
    )
    # Another tablet gives one a strategy after the page was read.
    db.session.execute(
        project_strategies.insert().values(project_id=meanwhile.id, strategy_id=strategy("P3").id)
    )
    db.session.commit()
    choices[f"strategy-{foreign.id}"] = str(strategy("L1").id)
    choices[f"strategy-{meanwhile.id}"] = str(strategy("L2").id)

    response = facilitator_client.post(f"/plans/{demo_plan.id}/strategies", data=choices)
    assert response.status_code == 302
    assert strategy_ids_of(foreign.id) == []
    assert strategy_ids_of(meanwhile.id) == [strategy("P3").id]  # not overwritten
    assert strategy_ids_of(mine.id) != []
    assert other.version == db.session.get(type(other), other.id).version == 0


@pytest.mark.parametrize("value", ["abc", "99999999", "1.5", "-3", "๙๙๙๙๙"])
def test_a_bad_choice_is_refused_next_to_its_row_and_changes_nothing(
    facilitator_client, demo_plan, value
):
    """A facilitator only links strategies that exist: none is created, nothing is saved."""
    project = demo_plan.active_projects()[3]
    choices = page_choices(
        facilitator_client.get(f"/plans/{demo_plan.id}/strategies").get_data(as_text=True)
    )
    choices[f"strategy-{project.id}"] = value
    state = database_state()
    response = facilitator_client.post(f"/plans/{demo_plan.id}/strategies", data=choices)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    row = re.search(rf'<tr data-proposal="{project.id}" class="has-error">(.*?)</tr>', html, re.S)
    assert row and "เลือกยุทธศาสตร์จากรายการ" in row.group(1)
    assert database_state() == state


def test_the_strategies_page_needs_a_user_of_the_tambon(app, client, demo_plan):
    url = f"/plans/{demo_plan.id}/strategies"
    assert client.get(url).status_code == 302  # to the sign-in page
    other = outsider_plan()
    make_user("outsider", "facilitator", tambons=[other.tambon])
    client.login("outsider")
    state = database_state()
    assert client.get(url).status_code == 403
    project = demo_plan.active_projects()[0]
    response = client.post(url, data={f"strategy-{project.id}": str(strategy("L1").id)})
    assert response.status_code == 403
    assert database_state() == state


# --- the panel: strategy and programme --------------------------------------------------------


def test_the_panel_proposes_the_sectors_strategy_and_sets_strategy_and_programme(
    facilitator_client, demo_plan
):
    project = demo_plan.active_projects()[0]
    proposed = db.session.get(SectorStrategy, project.sector).strategy
    panel = facilitator_client.get(f"/plans/{demo_plan.id}/projects/{project.id}/panel")
    assert f'data-proposed-strategy="{proposed.id}"' in panel.get_data(as_text=True)
    tactic = strategy("L1.2")
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/projects/{project.id}",
        data={
            "feasibility": "feasible",
            "strategy_ids": [str(tactic.id)],
            "programme": "housing_community",
            "panel_version": str(demo_plan.version),
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    db.session.expire_all()
    project = db.session.get(Project, project.id)
    assert [s.id for s in project.strategies] == [tactic.id]
    assert project.programme == "housing_community"
    assert "data-proposed-strategy" not in response.get_data(as_text=True)
    undo_last_change(demo_plan, actor=None)
    db.session.commit()
    db.session.expire_all()
    project = db.session.get(Project, project.id)
    assert project.strategies == [] and project.programme == "industry_public_works"


# --- the administrator's mapping ---------------------------------------------------------------


def mapping() -> dict[str, int]:
    db.session.expire_all()
    return {row.sector: row.strategy_id for row in db.session.scalars(select(SectorStrategy))}


def test_the_demo_loads_a_mapping_for_every_sector(demo_plan):
    assert {sector: strategy(code).id for sector, code in demo_data.SECTOR_STRATEGIES.items()} == (
        mapping()
    )


def test_the_administrator_edits_the_mapping(admin_client, demo_plan):
    page = admin_client.get("/setup/sector-strategies")
    assert page.status_code == 200
    choices = page_choices(page.get_data(as_text=True))
    assert choices["sector-health"] == str(strategy("L3.1").id)
    choices["sector-health"] = str(strategy("P2").id)
    choices["sector-governance"] = ""  # no proposal for this sector
    response = admin_client.post("/setup/sector-strategies", data=choices)
    assert response.status_code == 302
    saved = mapping()
    assert saved["health"] == strategy("P2").id
    assert "governance" not in saved
    # The proposals follow the mapping.
    project = next(p for p in demo_plan.active_projects() if p.sector == "health")
    make_user("somchai", "facilitator", tambons=[demo_plan.tambon])
    admin_client.get("/logout")
    admin_client.login("somchai")
    listed = page_choices(
        admin_client.get(f"/plans/{demo_plan.id}/strategies").get_data(as_text=True)
    )
    assert listed[f"strategy-{project.id}"] == str(strategy("P2").id)


@pytest.mark.parametrize("value", ["abc", "99999999", "", "๑.๕"])
def test_bad_input_in_the_mapping_gets_a_message_and_changes_nothing(
    admin_client, demo_plan, value
):
    choices = page_choices(admin_client.get("/setup/sector-strategies").get_data(as_text=True))
    choices["sector-economy"] = str(strategy("L3").id)  # a good change beside the bad one
    if value == "":
        choices["sector-bogus"] = str(strategy("L1").id)  # not a sector: ignored
        choices["sector-health"] = "0"  # no strategy has id 0
    else:
        choices["sector-health"] = value
    state = database_state()
    response = admin_client.post("/setup/sector-strategies", data=choices)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    row = re.search(r'<tr data-sector="health" class="has-error">(.*?)</tr>', html, re.S)
    assert row and "เลือกยุทธศาสตร์จากรายการ" in row.group(1)
    assert database_state() == state


def test_a_facilitator_cannot_edit_the_mapping(facilitator_client, demo_plan):
    state = database_state()
    assert facilitator_client.get("/setup/sector-strategies").status_code == 403
    response = facilitator_client.post(
        "/setup/sector-strategies", data={"sector-health": str(strategy("P1").id)}
    )
    assert response.status_code == 403
    assert database_state() == state
