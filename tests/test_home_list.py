"""The home page lists the tambons one page at a time, with a search, in a fixed number of
statements whatever their count: a national server holds 7,255 tambons, and the list (two
statements per tambon before) was the first page anyone opened (issue 18)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import event

from planapp.extensions import db
from planapp.main.home import TAMBONS_PER_PAGE
from planapp.models import Plan, Tambon, Village


def add_tambons(count: int, province: str = "ขอนแก่น") -> None:
    for number in range(count):
        tambon = Tambon(name=f"ตำบล{number:03d}", district=f"อำเภอ{number % 7}", province=province)
        db.session.add(tambon)
        db.session.flush()
        db.session.add(Village(tambon_id=tambon.id, number=1, name="บ้านหนึ่ง"))
        db.session.add(Plan(tambon_id=tambon.id, fiscal_year=2570))
    db.session.commit()


def statements_of(client, url: str) -> tuple[str, int]:
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        page = client.get(url).get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return page, len(seen)


def shown_tambons(page: str) -> list[str]:
    return re.findall(r'data-tambon-id="(\d+)"', page)


def test_a_page_of_tambons_in_the_same_statements_whatever_their_number(client):
    add_tambons(5)
    small, few = statements_of(client, "/")
    add_tambons(2 * TAMBONS_PER_PAGE, province="อุดรธานี")
    page, many = statements_of(client, "/")
    assert len(shown_tambons(small)) == 5
    assert len(shown_tambons(page)) == TAMBONS_PER_PAGE
    assert many <= few + 1  # + the count that a list of several pages shows
    assert 'data-pages="3" data-page="1"' in page and 'data-tambons-found="105"' in page
    assert "1 หมู่บ้าน" in page and "แผนปีงบประมาณ 2570" in page  # villages and plans read
    last = client.get("/?page=3").get_data(as_text=True)
    assert len(shown_tambons(last)) == 5
    assert 'data-page-link="2"' in last
    beyond = client.get("/?page=99").get_data(as_text=True)
    assert shown_tambons(beyond) == shown_tambons(last)  # kept in range
    every = set()
    for number in (1, 2, 3):
        every |= set(shown_tambons(client.get(f"/?page={number}").get_data(as_text=True)))
    assert len(every) == 105  # each tambon on exactly one page


def test_the_search_narrows_by_name_district_or_province_and_keeps_to_its_pages(client):
    add_tambons(3)
    add_tambons(2 * TAMBONS_PER_PAGE, province="อุดรธานี")
    page = client.get("/?q=ขอนแก่น").get_data(as_text=True)
    assert len(shown_tambons(page)) == 3 and 'data-tambons-found="3"' in page
    assert 'value="ขอนแก่น"' in page and "data-pages" not in page
    by_name = client.get("/?q=ตำบล002").get_data(as_text=True)
    assert 'data-tambons-found="2"' in by_name  # one in each province
    wide = client.get("/?q=อุดร").get_data(as_text=True)
    following = re.search(r'href="([^"]+)" rel="next"', wide).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(following).query) == {"q": ["อุดร"], "page": ["2"]}  # kept
    for text in ("%", "_", "ไม่มีตำบลนี้", "<b>x</b>"):
        nothing = client.get("/", query_string={"q": text}).get_data(as_text=True)
        assert shown_tambons(nothing) == [], text  # LIKE's wildcards are plain characters
        assert "ไม่พบตำบลที่ค้นหา" in nothing
    assert "<b>x</b>" not in client.get("/", query_string={"q": "<b>x</b>"}).get_data(as_text=True)
