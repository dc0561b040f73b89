"""Merging the same project proposed by several villages into one tambon project, undoing the
merge, and taking it apart again later."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from planapp.changes import project_snapshot, undo_last_change
from planapp.extensions import db
from planapp.intake import projects as village_plans
from planapp.main.routes import group_totals
from planapp.models import ChangeLog, Project


def unsorted(plan) -> list[Project]:
    return db.session.scalars(
        select(Project)
        .where(
            Project.plan_id == plan.id,
            Project.funding_group == "unsorted",
            Project.rank.is_not(None),
        )
        .order_by(Project.rank)
    ).all()


def board_state(plan) -> dict:
    projects = db.session.scalars(select(Project).where(Project.plan_id == plan.id)).all()
    return {p.id: project_snapshot(p) for p in projects}


@pytest.fixture
def duplicates(demo_plan):
    """Two projects of different villages, in the unsorted column, with different budgets."""
    column = unsorted(demo_plan)
    first = column[0]
    second = next(p for p in column[3:] if not set(p.villages) & set(first.villages))
    first.budget_satang, second.budget_satang = 300_000_00, 450_000_00
    db.session.commit()
    return first, second


def test_merge_through_the_pages_keeps_every_village_and_counts_the_budget_once(
    facilitator_client, demo_plan, duplicates
):
    first, second = duplicates
    villages = sorted(set(first.village_numbers) | set(second.village_numbers))
    total_before = sum(row["budget"] for row in group_totals(demo_plan).values())
    count_before = len(unsorted(demo_plan))

    page = facilitator_client.get(f"/plans/{demo_plan.id}/merge").get_data(as_text=True)
    assert f'value="{first.id}"' in page and f'value="{second.id}"' in page

    step2 = facilitator_client.post(
        f"/plans/{demo_plan.id}/merge",
        data={"step": "choose", "project_ids": [first.id, second.id]},
    )
    page = step2.get_data(as_text=True)
    assert step2.status_code == 200
    # Proposed: the largest estimate; the sum is shown beside it.
    assert 'value="450,000"' in page and "750,000" in page
    assert f'<option selected value="{second.id}">' in page

    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/merge",
        data={
            "step": "confirm",
            "project_ids": [first.id, second.id],
            "keeper_id": first.id,
            "title": "ถนนเชื่อมหมู่บ้าน (รวม)",
            "budget_satang": "500,000",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert first.title == "ถนนเชื่อมหมู่บ้าน (รวม)" and first.budget_satang == 500_000_00
    assert first.village_numbers == villages
    assert second.merged_into_id == first.id and second.rank is None
    column = unsorted(demo_plan)
    assert len(column) == count_before - 1
    assert [p.rank for p in column] == list(range(1, len(column) + 1))  # no gap
    total_after = sum(row["budget"] for row in group_totals(demo_plan).values())
    assert total_after == total_before - 300_000_00 - 450_000_00 + 500_000_00
    entries = db.session.scalars(select(ChangeLog).where(ChangeLog.action == "merge")).all()
    assert len(entries) == 1 and entries[0].project_id == first.id
    # The merged-away proposal still shows on its village's page, pointing at the tambon project.
    village = second.villages[0]
    page = facilitator_client.get(f"/plans/{demo_plan.id}/villages/{village.id}").get_data(
        as_text=True
    )
    assert "ถนนเชื่อมหมู่บ้าน (รวม)" in page
    edit = facilitator_client.get(f"/plans/{demo_plan.id}/projects/{first.id}/edit")
    assert f'data-merged-project-id="{second.id}"' in edit.get_data(as_text=True)


def test_undo_of_a_merge_restores_every_project(demo_plan, duplicates):
    first, second = duplicates
    before = board_state(demo_plan)
    village_plans.merge_projects(
        demo_plan, first, [second], title="รวม", budget_satang=1_00, actor=None
    )
    db.session.commit()
    assert board_state(demo_plan) != before
    entry, _undo = undo_last_change(demo_plan, actor=None)
    db.session.commit()
    assert entry.action == "merge"
    db.session.expire_all()
    assert board_state(demo_plan) == before


def test_unmerge_puts_the_projects_back_and_restores_the_tambon_project(
    facilitator_client, demo_plan, duplicates
):
    first, second = duplicates
    original = project_snapshot(first, ["title", "budget_satang", "village_ids"])
    village_plans.merge_projects(
        demo_plan, first, [second], title="รวม", budget_satang=1_00, actor=None
    )
    db.session.commit()
    # Later, after other work on the board, the forum changes its mind.
    first.note = "แก้ภายหลัง"
    db.session.commit()
    response = facilitator_client.post(f"/plans/{demo_plan.id}/projects/{first.id}/unmerge")
    assert response.status_code == 302
    db.session.expire_all()
    assert project_snapshot(first, ["title", "budget_satang", "village_ids"]) == original
    assert first.note == "แก้ภายหลัง"
    assert second.merged_into_id is None
    column = unsorted(demo_plan)
    assert column[-1].id == second.id  # back at the end of its column
    assert [p.rank for p in column] == list(range(1, len(column) + 1))
    assert (
        db.session.scalar(
            select(func.count()).select_from(ChangeLog).where(ChangeLog.action == "unmerge")
        )
        == 1
    )
    # The un-merge itself can be undone: the merge is back.
    undo_last_change(demo_plan, actor=None)
    db.session.commit()
    db.session.expire_all()
    assert second.merged_into_id == first.id and second.rank is None
    assert first.title == "รวม"


def test_merge_refusals_change_nothing(facilitator_client, demo_plan, duplicates):
    first, second = duplicates
    before = board_state(demo_plan)
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/merge", data={"step": "choose", "project_ids": [first.id]}
    )
    assert response.status_code == 400
    assert "กรุณาเลือกอย่างน้อยสองโครงการ" in response.get_data(as_text=True)
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/merge",
        data={
            "step": "confirm",
            "project_ids": [first.id, second.id],
            "keeper_id": first.id,
            "title": " ",
            "budget_satang": "-1",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "กรุณาพิมพ์ชื่อโครงการ" in page and "งบประมาณติดลบไม่ได้" in page
    assert board_state(demo_plan) == before
    assert demo_plan.version == 0

    village_plans.merge_projects(
        demo_plan, first, [second], title="รวม", budget_satang=0, actor=None
    )
    db.session.commit()
    # A merged-away project cannot be merged again, nor deleted; the tambon project cannot be
    # deleted while it holds others.
    with pytest.raises(village_plans.ProjectRefused):
        village_plans.merge_projects(
            demo_plan, unsorted(demo_plan)[-1], [second], title="x", budget_satang=0, actor=None
        )
    db.session.rollback()
    for project in (first, second):
        facilitator_client.post(f"/plans/{demo_plan.id}/projects/{project.id}/delete")
        assert db.session.get(Project, project.id) is not None
    response = facilitator_client.post(f"/plans/{demo_plan.id}/projects/{second.id}/unmerge")
    assert response.status_code == 302  # "nothing merged into this one", said as a message
    db.session.expire_all()
    assert second.merged_into_id == first.id


def test_merge_page_lists_only_projects_on_the_board(facilitator_client, demo_plan, duplicates):
    first, second = duplicates
    village_plans.merge_projects(
        demo_plan, first, [second], title="รวม", budget_satang=0, actor=None
    )
    db.session.commit()
    page = facilitator_client.get(f"/plans/{demo_plan.id}/merge").get_data(as_text=True)
    ids = set(re.findall(r'name="project_ids" value="(\d+)"', page))
    assert str(first.id) in ids and str(second.id) not in ids


# --- finding duplicates (issue 16, item 12) -----------------------------------------------


def test_thai_titles_are_compared_word_by_word():
    from planapp.intake.similar import similarity, title_words

    a, b = title_words("คัดแยกขยะต้นทาง"), title_words("รณรงค์คัดแยกขยะต้นทาง")
    # Split by spaces they would share nothing: each is one "word".
    assert {"คัดแยก", "ขยะ", "ต้นทาง"} <= a and a < b
    assert similarity(a, b, lambda _word: 1.0) > 0.8
    assert similarity(a, title_words("ก่อสร้างถนนคอนกรีต"), lambda _word: 1.0) == 0
    # Thai digits, case and the words of an address say nothing.
    assert title_words("ถนน หมู่ที่ ๓ บ้านนาดี") == title_words("ถนน หมู่ที่ 3 นาดี")


def suggested_pairs(page: str) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in re.findall(r'data-suggestion="(\d+)-(\d+)"', page)]


def test_the_merge_page_suggests_likely_duplicates_across_villages(facilitator_client, demo_plan):
    by_title = {p.title: p for p in demo_plan.projects}
    village3 = demo_plan.tambon.villages[2]
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/villages/{village3.id}/projects/new",
        data={"title": "รณรงค์คัดแยกขยะต้นทาง", "village_ids": [village3.id],
              "sector": "environment", "budget_satang": "20,000", "programme": "",
              **dict.fromkeys(["rationale", "objective", "target_output", "location", "kpi",
                               "expected_result", "note"], "")},
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    added = db.session.scalar(select(Project).where(Project.title == "รณรงค์คัดแยกขยะต้นทาง"))
    page = facilitator_client.get(f"/plans/{demo_plan.id}/merge").get_data(as_text=True)
    pairs = suggested_pairs(page)
    assert 5 <= len(pairs) <= 15

    def pair(a: str, b: str) -> tuple[int, int]:
        return tuple(sorted((by_title.get(a, added).id, by_title.get(b, added).id)))

    ponds = pair("ขุดลอกหนองสาธารณะหนองโน", "ขุดลอกหนองสาธารณะหนองผือ")
    waste = pair("คัดแยกขยะต้นทางและทำปุ๋ยหมักจากขยะอินทรีย์", "รณรงค์คัดแยกขยะต้นทาง")
    centres = pair("ปรับปรุงศูนย์พัฒนาเด็กเล็กบ้านหนองบัวทอง", "ปรับปรุงศูนย์พัฒนาเด็กเล็กวัดนาดี")
    assert pairs[0] == ponds  # the most alike first
    assert waste in pairs[:5] and centres in pairs[:8]
    # Only across villages, never a project with itself, never one pair twice.
    projects = {p.id: p for p in demo_plan.projects}
    for a, b in pairs:
        assert not set(projects[a].villages) & set(projects[b].villages)
    assert len(set(pairs)) == len(pairs)
    # A suggestion's button leads to the second step with those two projects.
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/merge",
        data={"step": "choose", "project_ids": [str(i) for i in waste]},
    )
    confirm = response.get_data(as_text=True)
    assert 'name="step" value="confirm"' in confirm
    assert re.findall(r'name="project_ids" value="(\d+)"', confirm) == [str(i) for i in waste]


def test_the_merge_page_searches_by_title_and_village_and_keeps_what_was_ticked(
    facilitator_client, demo_plan
):
    url = f"/plans/{demo_plan.id}/merge"
    ticked = next(p for p in demo_plan.projects if p.title == "ธนาคารขยะหมู่บ้าน")

    def shown(**args) -> list[str]:
        page = facilitator_client.get(url, query_string=args).get_data(as_text=True)
        rows = page[page.index("data-merge-candidates") :]
        return re.findall(r'<label for="merge-\d+">([^<]+)</label>', rows)

    assert len(shown()) == len([p for p in demo_plan.projects if p.merged_into_id is None])
    waste = shown(q="ขยะ")
    assert sorted(waste) == sorted(p.title for p in demo_plan.projects if "ขยะ" in p.title)
    village5 = shown(q="หมู่ 5")
    fifth = [p for p in demo_plan.projects if 5 in p.village_numbers and p.merged_into_id is None]
    assert sorted(village5) == sorted(p.title for p in fifth)
    assert shown(q="หมู่ ๕ ขุดลอก") == ["ขุดลอกหนองสาธารณะหนองผือ"]
    # What was ticked stays, ticked, whatever the search.
    kept = shown(q="ถนน", project_ids=str(ticked.id))
    assert ticked.title in kept and all("ถนน" in t or t == ticked.title for t in kept)
    fragment = facilitator_client.get(
        url, query_string={"q": "ประปา"}, headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="merge-candidates"')
