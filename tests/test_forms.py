"""The shared form pieces: dates typed as people in Thailand write them."""

from __future__ import annotations

from datetime import date

import pytest

from planapp.forms import parse_thai_date


@pytest.mark.parametrize(
    "typed",
    ["20/11/2569", "๒๐/๑๑/๒๕๖๙", " 20-11-2569 ", "20.11.2569", "20/11/2026", "2026-11-20"],
)
def test_a_date_typed_in_buddhist_era_or_western_years(typed):
    assert parse_thai_date(typed) == date(2026, 11, 20)


@pytest.mark.parametrize("typed", ["", "20/11", "31/02/2569", "พรุ่งนี้", "2569/11/20", "1/13/2569"])
def test_what_is_not_a_date_is_refused(typed):
    with pytest.raises(ValueError):
        parse_thai_date(typed)


def test_forum_date_is_typed_and_shown_in_buddhist_era(facilitator_client, demo_plan):
    url = f"/plans/{demo_plan.id}/meeting/record"
    page = facilitator_client.get(url).get_data(as_text=True)
    assert 'value="20/11/2569"' in page  # the demo forum, 20 November 2026
    data = {"forum_date": "๕/๑/๒๕๗๐", "forum_place": "วัดหนองบัว", "version": "0"}
    assert facilitator_client.post(url, data=data).status_code == 302
    assert demo_plan.forum_date == date(2027, 1, 5)
    data.update(forum_date="5 มกรา", version="1")
    page = facilitator_client.post(url, data=data).get_data(as_text=True)
    assert "พิมพ์วันที่เป็น วัน/เดือน/ปี พ.ศ. เช่น 20/11/2569" in page
    assert 'value="5 มกรา"' in page  # what was typed stays in the field
    assert demo_plan.forum_date == date(2027, 1, 5)
