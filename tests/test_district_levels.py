"""The roll-up as a hierarchy (issue 18): /district without a filter lists the provinces, one row
each with its totals; a province lists its districts; a district its tambons. Every level's
figures add up to its children's, and the filter stays on every link."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from planapp.extensions import db
from planapp.models import Agency, Plan
from tests.district_helpers import build_district
from tests.test_district_dashboard import cells_of, expected_totals, taken_forward

YEAR = "year=2570"


@pytest.fixture
def country(app):
    """Province ทดสอบ: districts เมืองทดสอบ (3 tambons) and อื่น (1); province ทดสอบสอง: one
    district of 2 tambons; province ทดสอบสาม: one tambon with a plan of 2571 only, which no 2570
    figure may count."""
    town = build_district(tambons=3)
    other = build_district(district="อื่น", tambons=1)
    second = build_district(district="เมืองสอง", province="ทดสอบสอง", tambons=2)
    build_district(district="สาม", province="ทดสอบสาม", tambons=1, fiscal_year=2571)
    return {"town": town, "other": other, "second": second}


def links(page: str) -> list[dict[str, list[str]]]:
    """The query of every link to a roll-up page (dashboard, strategies, agencies)."""
    found = []
    for href in re.findall(r'href="([^"]+)"', page):
        parts = urlsplit(unescape(href))
        if parts.path.startswith(("/district", "/agencies")):
            found.append((parts.path, parse_qs(parts.query)))
    return found


def test_the_country_lists_its_provinces_with_their_totals(admin_client, country):
    response = admin_client.get(f"/district?{YEAR}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-level="country"' in page
    assert "data-tambon-id" not in page  # no tambon of any province on the country's page
    first = cells_of(page, '<tr data-area="ทดสอบ"')
    expected = expected_totals(country["town"] + country["other"])["cells"]
    assert first["all"] == tuple(expected["all"])
    assert first["group-3"] == tuple(expected["group-3"])
    second = cells_of(page, '<tr data-area="ทดสอบสอง"')
    assert second["all"] == tuple(expected_totals(country["second"])["cells"]["all"])
    total = cells_of(page, "<tr data-total>")
    assert total["all"] == tuple(a + b for a, b in zip(first["all"], second["all"], strict=True))
    assert 'data-tambons="4" data-plans="4"' in page  # ทดสอบ: 4 tambons, 4 plans of 2570
    # Each province links to its own level, the year kept.
    area_links = list(dict.fromkeys(re.findall(r'<a href="([^"]+)" data-area-link>', page)))
    assert [parse_qs(urlsplit(unescape(h)).query) for h in area_links] == [
        {"year": ["2570"], "province": ["ทดสอบ"]},
        {"year": ["2570"], "province": ["ทดสอบสอง"]},
        {"year": ["2570"], "province": ["ทดสอบสาม"]},
    ]
    # The province without a 2570 plan is a row that says so, counted nowhere.
    assert 'data-tambons="1" data-plans="0"' in page


def test_a_province_lists_its_districts(admin_client, country):
    page = admin_client.get(f"/district?{YEAR}&province=ทดสอบ").get_data(as_text=True)
    assert 'data-level="province"' in page and "data-tambon-id" not in page
    town = cells_of(page, '<tr data-area="เมืองทดสอบ"')
    other = cells_of(page, '<tr data-area="อื่น"')
    assert town["all"] == tuple(expected_totals(country["town"])["cells"]["all"])
    assert other["all"] == tuple(expected_totals(country["other"])["cells"]["all"])
    assert "ทดสอบสอง" not in page
    # The follow-up table adds up the same way.
    start = page.index('data-table="followup"')
    followup = page[start:]
    plans = country["town"]
    done = sum(
        1
        for plan in plans
        for p in plan.projects
        if taken_forward(p) and p.followup_status == "done"
    )
    row = followup[followup.index('<tr data-area="เมืองทดสอบ"') :]
    assert f'data-cell="followup-done" data-count="{done}"' in row[: row.index("</tr>")]
    area_links = re.findall(r'<a href="([^"]+)" data-area-link>', page)
    assert {"year": ["2570"], "province": ["ทดสอบ"], "district": ["อื่น"]} in [
        parse_qs(urlsplit(unescape(h)).query) for h in area_links
    ]


def test_a_district_lists_its_tambons_and_a_single_child_is_skipped(admin_client, country):
    page = admin_client.get(f"/district?{YEAR}&province=ทดสอบ&district=อื่น").get_data(as_text=True)
    assert [f'data-plan-id="{plan.id}"' in page for plan in country["other"]] == [True]
    assert 'data-level="' not in page.split("data-area-trail", 1)[0]
    # ทดสอบสอง has one district: its page is that district's tambons.
    page = admin_client.get(f"/district?{YEAR}&province=ทดสอบสอง").get_data(as_text=True)
    for plan in country["second"]:
        assert f'data-plan-id="{plan.id}"' in page
    trail = page[
        page.index("data-area-trail") : page.index("</nav>", page.index("data-area-trail"))
    ]
    # All provinces › district เมืองสอง: the province step would show this same page.
    assert 'data-level="country"' in trail and 'data-level="district"' in trail
    assert 'data-level="province"' not in trail


def test_one_district_server_opens_at_its_tambons(admin_client, app):
    plans = build_district(tambons=2)
    page = admin_client.get(f"/district?{YEAR}").get_data(as_text=True)
    for plan in plans:
        assert f'data-plan-id="{plan.id}"' in page
    assert "data-area-trail" not in page  # nothing above it to go to


@pytest.mark.parametrize(
    "query, area",
    [
        ("province=ทดสอบ", {"province": ["ทดสอบ"]}),
        ("province=ทดสอบ&district=อื่น", {"province": ["ทดสอบ"], "district": ["อื่น"]}),
    ],
)
def test_the_filter_is_kept_on_every_link(admin_client, country, query, area):
    agency = db.session.scalar(db.select(Agency).where(Agency.name == "กลุ่มแม่บ้านทดสอบ"))
    for url in (
        f"/district?{YEAR}&{query}",
        f"/district/strategies?{YEAR}&{query}",
        f"/agencies?{YEAR}&{query}",
        f"/agencies/{agency.id}?{YEAR}&{query}",
    ):
        page = admin_client.get(url).get_data(as_text=True)
        main = page[page.index("<main") : page.index("</main>")]  # not the site's menu
        # The trail links up to the levels above on purpose; every other link keeps the area.
        trail = re.search(r"<nav [^>]*data-area-trail>.*?</nav>", main, re.S)
        assert trail, url
        kept = links(main.replace(trail.group(0), ""))
        assert kept, url
        for path, args in kept:
            assert {k: args.get(k) for k in area} == area, (url, path, args)
        # The year form sends the area along.
        for name, value in area.items():
            assert f'name="{name}" value="{value[0]}"' in page, url


def test_agencies_count_only_the_area(admin_client, country):
    helper = db.session.scalar(db.select(Agency).where(Agency.name == "กลุ่มแม่บ้านทดสอบ"))
    in_district = [
        p
        for plan in country["other"]
        for p in plan.projects
        if taken_forward(p) and p.lead_agency_id == helper.id
    ]
    page = admin_client.get(f"/agencies?{YEAR}&province=ทดสอบ&district=อื่น").get_data(as_text=True)
    row = page[page.index(f'data-agency-id="{helper.id}"') :]
    row = row[: row.index("</tr>")]
    assert f'<td class="num">{len(in_district)}</td>' in row
    page = admin_client.get(f"/agencies/{helper.id}?{YEAR}&province=ทดสอบ&district=อื่น").get_data(
        as_text=True
    )
    shown = {int(pid) for pid in re.findall(r'<tr data-project-id="(\d+)"', page)}
    plans = db.session.scalars(db.select(Plan).where(Plan.fiscal_year == 2570)).all()
    expected = {
        p.id
        for plan in plans
        if plan in country["other"]
        for p in plan.projects
        if taken_forward(p) and (p.lead_agency_id == helper.id or helper in p.supporting_agencies)
    }
    assert shown == expected and expected


def test_the_picker_offers_the_children(admin_client, country):
    page = admin_client.get(f"/district?{YEAR}").get_data(as_text=True)
    picker = page[page.index('class="year-choice area-choice"') :]
    picker = picker[: picker.index("</form>")]
    assert 'name="province"' in picker
    assert re.findall(r'<option value="([^"]+)">', picker) == ["ทดสอบ", "ทดสอบสอง", "ทดสอบสาม"]
    page = admin_client.get(f"/district?{YEAR}&province=ทดสอบ").get_data(as_text=True)
    picker = page[page.index('class="year-choice area-choice"') :]
    picker = picker[: picker.index("</form>")]
    assert '<input type="hidden" name="province" value="ทดสอบ">' in picker
    assert re.findall(r'<option value="([^"]+)">', picker) == ["เมืองทดสอบ", "อื่น"]


def test_an_unknown_area_is_text_and_an_empty_level(admin_client, country):
    response = admin_client.get(f"/district?{YEAR}&province=<b>ไม่มี</b>")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<b>ไม่มี</b>" not in page and "&lt;b&gt;ไม่มี&lt;/b&gt;" in page
    assert "ยังไม่มีตำบล" in page or "No tambon yet" in page
