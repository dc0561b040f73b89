"""The district dashboard adds up to the tambon plans it shows, district by district and year by
year; strategy alignment and the per-agency view read the same projects."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import pytest

from planapp.district.dashboard import district_picture
from planapp.domain import FUNDING_GROUPS
from planapp.extensions import db
from planapp.models import Agency, Plan, Project, Strategy
from tests.district_helpers import build_district

REACHED = ("in_budget", "in_progress", "done")


def taken_forward(project: Project) -> bool:
    return (
        project.merged_into_id is None
        and project.funding_group in FUNDING_GROUPS
        and project.feasibility != "not_feasible"
    )


def expected_totals(plans) -> dict:
    """The district total worked out the slow way: project by project, plan by plan."""
    totals = defaultdict(lambda: [0, 0])
    followup = Counter()
    ordinance = 0
    for plan in plans:
        for project in plan.projects:
            if project.merged_into_id is not None:
                continue
            totals["group-" + project.funding_group][0] += 1
            totals["group-" + project.funding_group][1] += project.budget_satang
            totals["all"][0] += 1
            totals["all"][1] += project.budget_satang
            if not taken_forward(project):
                continue
            for key in ("urgency-" + (project.urgency or "none"), "sector-" + project.sector):
                totals[key][0] += 1
                totals[key][1] += project.budget_satang
            followup[project.followup_status] += 1
            if project.followup_status in REACHED:
                ordinance += project.budget_ordinance_satang or 0
    return {"cells": dict(totals), "followup": followup, "ordinance": ordinance}


@pytest.fixture
def district(app, demo_plan):
    """Four tambons in one district for 2570, plus noise that must not be counted: the same
    district's plans of 2571, a tambon of another district, and a merged-away project."""
    plans = build_district(tambons=4, fiscal_year=2570)
    build_district(district="อื่น", tambons=1, fiscal_year=2570)
    later = build_district(district="เมืองทดสอบ", province="ทดสอบ2", tambons=1, fiscal_year=2571)
    merged = plans[0].projects[0]
    merged.merged_into_id = plans[0].projects[1].id
    db.session.commit()
    return plans, later


def test_district_totals_equal_the_sum_of_its_tambon_plans(district):
    plans, _later = district
    (picture,) = district_picture(2570, province="ทดสอบ", district="เมืองทดสอบ")
    assert [row.plan_id for row in picture.tambons] == [plan.id for plan in plans]
    expected = expected_totals(plans)
    total = picture.total
    for key, (count, satang) in expected["cells"].items():
        kind, _, code = key.partition("-")
        cell = {
            "group": total.groups.get(code),
            "urgency": total.urgency.get(code),
            "sector": total.sectors.get(code),
            "all": total.all_projects,
        }[kind]
        assert (cell.count, cell.satang) == (count, satang), key
    assert total.followup.by_status == {k: v for k, v in expected["followup"].items()}
    assert total.followup.ordinance_satang == expected["ordinance"]
    # Each tambon row is its own plan's figures.
    for row, plan in zip(picture.tambons, plans, strict=True):
        own = expected_totals([plan])
        assert (row.all_projects.count, row.all_projects.satang) == tuple(own["cells"]["all"])
        assert row.followup.total == sum(own["followup"].values())


def test_every_district_and_only_that_years_plans(district):
    pictures = district_picture(2570)
    names = [(p.province, p.district) for p in pictures]
    assert ("ทดสอบ", "เมืองทดสอบ") in names and ("ทดสอบ", "อื่น") in names
    other_year = district_picture(2571, province="ทดสอบ", district="เมืองทดสอบ")[0]
    # The 2570 tambons show "no plan" in 2571; nothing of 2570 leaks into the year.
    assert all(row.plan_id is None for row in other_year.tambons)
    assert other_year.total.all_projects.count == 0


def cells_of(page: str, row_marker: str) -> dict[str, tuple[int, int]]:
    """data-cell -> (count, satang) of the first table row that starts with row_marker."""
    start = page.index(row_marker)
    row = page[start : page.index("</tr>", start)]
    return {
        name: (int(count), int(satang))
        for name, count, satang in re.findall(
            r'data-cell="([^"]+)" data-count="(\d+)" data-satang="(\d+)"', row
        )
    }


def test_dashboard_page_shows_the_same_totals(admin_client, district):
    plans, _later = district
    response = admin_client.get("/district?year=2570&province=ทดสอบ&district=เมืองทดสอบ")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    expected = expected_totals(plans)["cells"]
    footer = cells_of(page, "<tr data-total>")  # the funding-group table comes first
    for key in ("group-1", "group-2", "group-3", "group-unsorted", "group-not-feasible", "all"):
        assert footer[key] == tuple(expected.get(key, (0, 0))), key
    for plan in plans:
        assert f'href="/plans/{plan.id}" data-plan-id="{plan.id}"' in page
    assert "รวมทั้งอำเภอ" in page and "อำเภอเมืองทดสอบ จังหวัดทดสอบ" in page
    # The money reads as baht with separators.
    assert f"{expected['all'][1] // 100:,}" in page


def test_dashboard_year_choice_and_bad_year(admin_client, district):
    page = admin_client.get("/district").get_data(as_text=True)
    # Without a year: the latest year that has plans.
    assert "ภาพรวมระดับอำเภอ ปีงบประมาณ 2571" in page
    response = admin_client.get("/district?year=<script>")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "ไม่ใช่ปีงบประมาณ" in page and "<script>" not in page
    assert 'id="year-errors"' in page


def test_dashboard_is_for_admins_only(facilitator_client, client):
    assert facilitator_client.get("/district").status_code == 403
    assert client.get("/district").status_code == 302  # to the sign-in page


def test_strategy_alignment_counts_each_strategy_across_the_district(admin_client, district):
    page = admin_client.get("/district/strategies?year=2570").get_data(as_text=True)
    plans_2570 = db.session.scalars(db.select(Plan).where(Plan.fiscal_year == 2570)).all()
    for code in ("TP1", "TD1"):
        strategy = db.session.scalar(db.select(Strategy).where(Strategy.code == code))
        serving = [
            p
            for plan in plans_2570
            for p in plan.projects
            if taken_forward(p) and strategy in p.strategies
        ]
        assert serving
        marker = f'data-strategy-id="{strategy.id}"'
        row = page[page.index(marker) : page.index("</tr>", page.index(marker))]
        assert f'data-count="{len(serving)}"' in row
        assert f'data-satang="{sum(p.budget_satang for p in serving)}"' in row
        assert 'data-project-id="' not in page  # the projects are listed one strategy at a time
        listed = admin_client.get(f"/district/strategies?year=2570&strategy={strategy.id}")
        listed = listed.get_data(as_text=True)
        assert {f'data-project-id="{p.id}"' for p in serving} <= set(
            re.findall(r'data-project-id="\d+"', listed)
        )


def test_agency_view_lists_what_it_leads_and_supports_urgent_first(admin_client, district):
    agency = db.session.scalar(db.select(Agency).where(Agency.name == "กลุ่มแม่บ้านทดสอบ"))
    plans_2570 = db.session.scalars(db.select(Plan).where(Plan.fiscal_year == 2570)).all()
    expected = {
        p.id: "lead" if p.lead_agency_id == agency.id else "support"
        for plan in plans_2570
        for p in plan.projects
        if taken_forward(p) and (p.lead_agency_id == agency.id or agency in p.supporting_agencies)
    }
    # Above a district the page lists where the agency acts (bounded nationally), each area a
    # link down; a district's page lists its projects, urgent first.
    page = admin_client.get(f"/agencies/{agency.id}?year=2570").get_data(as_text=True)
    assert 'data-project-id="' not in page and "data-area-link" in page
    shown, areas = {}, {(plan.tambon.province, plan.tambon.district) for plan in plans_2570}
    for province, district_name in areas:
        url = f"/agencies/{agency.id}?year=2570&province={province}&district={district_name}"
        page = admin_client.get(url).get_data(as_text=True)
        shown.update(
            (int(pid), role)
            for pid, role in re.findall(r'data-project-id="(\d+)" data-urgency="[^"]+" '
                                        r'data-role="(\w+)"', page)
        )  # fmt: skip
        tiers = re.findall(r'data-project-id="\d+" data-urgency="([^"]+)"', page)
        order = {"urgent": 0, "medium": 1, "normal": 2, "none": 3}
        assert tiers == sorted(tiers, key=order.get)
    assert shown == expected
    assert admin_client.get("/agencies/99999").status_code == 404


def test_tambons_are_in_thai_dictionary_order():
    from planapp.district.dashboard import thai_sort_key

    names = ["หนองบัวทอง", "โคกสี", "ดอนหัน", "เขวา", "กุดรัง"]
    assert sorted(names, key=thai_sort_key) == ["กุดรัง", "เขวา", "โคกสี", "ดอนหัน", "หนองบัวทอง"]
