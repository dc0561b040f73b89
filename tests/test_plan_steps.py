"""The plan page laid out as the forum's seven steps (issue 16, item 10): the current step first
with its one main action, the seven in order each with its main action, the other tools below,
no label naming two places; the way on to the next step; the board's step bar says names."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from planapp.extensions import db
from planapp.models import Plan


class Controls(HTMLParser):
    """Every link and submit button of a page: its label and where it goes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self._open: list[list] = []  # [destination, text parts] of the link/button being read
        self._form_action = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form_action = attrs.get("action") or ""
        elif tag == "a" and "href" in attrs:
            self._open.append([attrs["href"], []])
        elif tag == "button" and attrs.get("type", "submit") == "submit":
            value = f"{attrs.get('name', '')}={attrs.get('value', '')}"
            self._open.append([f"POST {self._form_action} {value}", []])

    def handle_data(self, data):
        for control in self._open:
            control[1].append(data)

    def handle_endtag(self, tag):
        if tag in ("a", "button") and self._open:
            destination, parts = self._open.pop()
            self.found.append((" ".join("".join(parts).split()), destination))


def controls(html: str) -> list[tuple[str, str]]:
    parser = Controls()
    parser.feed(html)
    return parser.found


def test_the_plan_page_is_the_seven_steps_with_the_current_one_first(facilitator_client, demo_plan):
    db.session.get(Plan, demo_plan.id).meeting_step = 3
    db.session.commit()
    page = facilitator_client.get(f"/plans/{demo_plan.id}").get_data(as_text=True)

    steps = re.findall(r'<li data-step="(\d)"([^>]*)>', page)
    assert [int(number) for number, _attrs in steps] == [1, 2, 3, 4, 5, 6, 7]
    assert [number for number, attrs in steps if "data-current-step" in attrs] == ["3"]
    # The current step comes first, its main action a large button.
    now = page.split("data-now-step=", 1)[1]
    assert page.index("data-now-step=") < page.index('<li data-step="1"')
    assert now.startswith('"3"') and "ความเป็นไปได้และลำดับความสำคัญ" in now.split("</section>")[0]
    assert f'class="button primary big" href="/plans/{demo_plan.id}/board"' in now
    # Each step has exactly one main action.
    for number in range(1, 8):
        item = page.split(f'<li data-step="{number}"', 1)[1].split("</li>", 1)[0]
        assert item.count("data-main-action") == 1
    # The way on: a button to the next step, back to this page.
    assert 'data-next-step="4"' in now.split("</section>")[0]


def test_no_label_on_the_plan_page_names_two_places(facilitator_client, demo_plan):
    page = facilitator_client.get(f"/plans/{demo_plan.id}").get_data(as_text=True)
    found = controls(page)
    assert len(found) > 20
    places: dict[str, set[str]] = {}
    for label, destination in found:
        places.setdefault(label, set()).add(destination)
    assert {label: dest for label, dest in places.items() if len(dest) > 1} == {}
    # The two projector controls say which is which.
    labels = [label for label, _destination in found]
    assert "จอโปรเจกเตอร์" not in labels


def test_moving_the_forum_on_from_the_plan_page_comes_back_to_it(facilitator_client, demo_plan):
    plan_url = f"/plans/{demo_plan.id}"
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/meeting/step", data={"step": "2", "next": plan_url}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(plan_url)
    db.session.expire_all()
    assert db.session.get(Plan, demo_plan.id).meeting_step == 2
    page = facilitator_client.get(plan_url).get_data(as_text=True)
    assert 'data-now-step="2"' in page and 'data-next-step="3"' in page
    # An address of another site is never followed.
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/meeting/step", data={"step": "3", "next": "//evil.example/"}
    )
    assert response.headers["Location"].endswith(f"/plans/{demo_plan.id}/meeting")


def test_the_board_step_bar_says_each_step_by_name(facilitator_client, demo_plan):
    page = facilitator_client.get(f"/plans/{demo_plan.id}/board").get_data(as_text=True)
    bar = page.split('id="step-bar"', 1)[1].split("</form>", 1)[0]
    names = re.findall(r'<span class="step-name">([^<]+)</span>', bar)
    assert names == ["นำเสนอ", "วิเคราะห์", "จัดลำดับ", "จัดกลุ่ม", "ความเร่งด่วน", "ออกเอกสาร", "ติดตามผล"]
    assert "step-number" not in bar
