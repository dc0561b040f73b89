"""Moves and renumbering: the pure placement rules (with hypothesis invariants) and the database
move, its change-log snapshots and undo."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from planapp import ranking
from planapp.changes import undo_last_change
from planapp.domain import GROUPS
from planapp.extensions import db
from planapp.models import ChangeLog, Project, board_places


def board_of(sizes: list[int]) -> dict[str, list[int]]:
    columns, next_id = {}, 1
    for group, size in zip(GROUPS, sizes, strict=True):
        columns[group] = list(range(next_id, next_id + size))
        next_id += size
    return columns


def test_place_inside_a_column_and_across():
    columns = {"unsorted": [1, 2, 3], "1": [4], "2": [], "3": [], "not-feasible": []}
    assert ranking.place(columns, 3, "unsorted", 1) == {"unsorted": [3, 1, 2]}
    assert ranking.place(columns, 1, "unsorted", None) == {"unsorted": [2, 3, 1]}
    assert ranking.place(columns, 2, "1", 4) == {"unsorted": [1, 3], "1": [2, 4]}
    assert ranking.place(columns, 2, "2", None) == {"unsorted": [1, 3], "2": [2]}
    assert columns["unsorted"] == [1, 2, 3]  # the input is left alone


@pytest.mark.parametrize(
    "project_id, group, before_id",
    [(9, "1", None), (1, "1", 2), (1, "unsorted", 1), (1, "group-4", None)],
)
def test_place_refuses_moves_that_name_the_wrong_projects(project_id, group, before_id):
    columns = {"unsorted": [1, 2], "1": [3]}
    with pytest.raises(ranking.InvalidMove):
        ranking.place(columns, project_id, group, before_id)


@st.composite
def board_and_moves(draw):
    columns = board_of(draw(st.lists(st.integers(0, 6), min_size=5, max_size=5)))
    all_ids = [pid for ids in columns.values() for pid in ids]
    moves = []
    if all_ids:
        for _ in range(draw(st.integers(1, 25))):
            moves.append(
                (
                    draw(st.sampled_from(all_ids)),
                    draw(st.sampled_from(GROUPS)),
                    draw(st.one_of(st.none(), st.sampled_from(all_ids))),
                )
            )
    return columns, moves


@settings(max_examples=300, deadline=None)
@given(board_and_moves())
def test_any_sequence_of_moves_keeps_every_column_ranked_1_to_n(case):
    columns, moves = case
    everyone = sorted(pid for ids in columns.values() for pid in ids)
    for project_id, group, before_id in moves:
        if before_id is not None and (before_id == project_id or before_id not in columns[group]):
            continue  # such a move is refused; the ones we make must all succeed
        columns = {**columns, **ranking.place(columns, project_id, group, before_id)}
        places = ranking.ranks(columns)
        # Nobody lost or duplicated, and the project landed where it was asked to.
        assert sorted(places) == everyone
        assert places[project_id][0] == group
        target = columns[group]
        if before_id is None:
            assert target[-1] == project_id
        else:
            assert target[target.index(project_id) + 1] == before_id
        for name, ids in columns.items():
            assert sorted(places[pid][1] for pid in ids) == list(range(1, len(ids) + 1))
            assert all(places[pid][0] == name for pid in ids)


# --- in the database ----------------------------------------------------------------------


def stored_columns(plan) -> dict[str, list[tuple[int, int]]]:
    rows = db.session.execute(
        select(Project.funding_group, Project.id, Project.rank)
        .where(Project.plan_id == plan.id, Project.merged_into_id.is_(None))
        .order_by(Project.funding_group, Project.rank)
    ).all()
    columns: dict[str, list[tuple[int, int]]] = {}
    for group, pid, rank in rows:
        columns.setdefault(group, []).append((pid, rank))
    return columns


def assert_dense(plan):
    for group, rows in stored_columns(plan).items():
        assert [rank for _pid, rank in rows] == list(range(1, len(rows) + 1)), group


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.integers(0, 71), st.sampled_from(GROUPS), st.integers(-1, 71))))
def test_database_moves_keep_ranks_dense_and_undo_restores_all(app, demo_plan, moves):
    db.session.rollback()
    ids = [pid for pid, _rank in stored_columns(demo_plan)["unsorted"]]
    original = stored_columns(demo_plan)
    made = 0
    for index, group, before_index in moves:
        columns = ranking.load_columns(demo_plan, GROUPS)
        before_id = None if before_index < 0 else ids[before_index]
        if before_id is not None and (before_id == ids[index] or before_id not in columns[group]):
            continue
        expected = {**columns, **ranking.place(columns, ids[index], group, before_id)}
        ranking.move_project(demo_plan, ids[index], group, before_id, demo_plan.version, actor=None)
        db.session.commit()
        made += 1
        assert_dense(demo_plan)
        assert ranking.load_columns(demo_plan, GROUPS) == expected
    for _ in range(made):
        undo_last_change(demo_plan, actor=None)
        db.session.commit()
    assert stored_columns(demo_plan) == original
    assert all(p.feasibility == "pending" for p in demo_plan.projects)
    # Leave the shared database as it was for the next example.
    db.session.execute(db.delete(ChangeLog))
    db.session.execute(db.update(board_places).values(placed_version=0, edited_version=0))
    demo_plan.version = 0
    db.session.commit()


def test_move_logs_snapshots_and_refuses_a_card_moved_meanwhile(app, demo_plan):
    first, second, third = (p.id for p in sorted(demo_plan.projects, key=lambda p: p.rank)[:3])
    result = ranking.move_project(demo_plan, third, "3", None, seen_version=0, actor=None)
    db.session.commit()
    assert (result.from_group, result.to_group, result.to_rank) == ("unsorted", "3", 1)
    assert result.changed_groups == ["unsorted", "3"]
    entry = db.session.scalar(select(ChangeLog))
    assert entry.action == "move" and entry.project_id == third and entry.plan_version == 1
    assert entry.before["projects"][str(third)] == {"funding_group": "unsorted", "rank": 3}
    assert entry.after["projects"][str(third)] == {"funding_group": "3", "rank": 1}
    # Only the rows whose place changed are in the snapshot: the two above it did not move.
    assert str(first) not in entry.before["projects"]
    assert str(second) not in entry.before["projects"]
    assert entry.regions == {"groups": ["3", "unsorted"], "moved": [third]}
    # Seen at version 0: the card moved at version 1 is refused, and so is a move next to it;
    # another card of the same column is not.
    for refused in [(third, "1", None), (first, "3", third)]:
        with pytest.raises(ranking.Conflict):
            ranking.move_project(demo_plan, *refused, seen_version=0, actor=None)
        db.session.rollback()
    ranking.move_project(demo_plan, first, "1", None, seen_version=0, actor=None)
    db.session.commit()
    assert db.session.get(Project, first).funding_group == "1"
    assert db.session.get(Project, third).funding_group == "3"


def test_not_feasible_column_sets_feasibility_and_leaving_it_resets(app, demo_plan):
    project = demo_plan.projects[0]
    ranking.move_project(demo_plan, project.id, "not-feasible", None, None, actor=None)
    db.session.commit()
    assert project.feasibility == "not_feasible"
    project.feasibility_reason = "ที่ดินเป็นของเอกชน"
    db.session.commit()
    ranking.move_project(demo_plan, project.id, "2", None, None, actor=None)
    db.session.commit()
    assert (project.funding_group, project.feasibility, project.feasibility_reason) == (
        "2",
        "pending",
        "",
    )
    undo_last_change(demo_plan, actor=None)
    db.session.commit()
    assert (project.funding_group, project.feasibility, project.feasibility_reason) == (
        "not-feasible",
        "not_feasible",
        "ที่ดินเป็นของเอกชน",
    )


@pytest.mark.parametrize("gap", [False, True], ids=["ranked-1-to-n", "with-a-gap"])
@pytest.mark.parametrize(
    "source, target, before",
    [(5, "unsorted", 1), (1, "unsorted", 6), (1, "unsorted", None), (3, "1", None), (3, "1", 0)],
)
def test_both_ways_of_moving_agree_with_place(app, demo_plan, gap, source, target, before):
    """Columns ranked 1..n move by shifting ranges; others are renumbered row by row: the
    result is the same, and undo restores the stored ranks exactly."""
    projects = sorted(demo_plan.projects, key=lambda p: p.rank)
    ranking.move_project(demo_plan, projects[20].id, "1", None, None, actor=None)
    db.session.commit()
    if gap:
        projects[2].merged_into_id, projects[2].rank = projects[0].id, None
        db.session.commit()
    stored_before = stored_columns(demo_plan)
    columns = ranking.load_columns(demo_plan, GROUPS)
    before_id = None
    if before is not None:
        before_id = projects[20].id if target == "1" else projects[before].id
    expected = {**columns, **ranking.place(columns, projects[source].id, target, before_id)}
    ranking.move_project(demo_plan, projects[source].id, target, before_id, None, actor=None)
    db.session.commit()
    assert ranking.load_columns(demo_plan, GROUPS) == expected
    assert_dense(demo_plan)
    undo_last_change(demo_plan, actor=None)
    db.session.commit()
    assert stored_columns(demo_plan) == stored_before


def test_a_move_heals_gaps_left_by_others(app, demo_plan):
    projects = sorted(demo_plan.projects, key=lambda p: p.rank)
    projects[1].merged_into_id = projects[0].id  # a merge leaves rank 2 empty
    projects[1].rank = None
    db.session.commit()
    ranking.move_project(demo_plan, projects[5].id, "unsorted", projects[0].id, None, actor=None)
    db.session.commit()
    assert_dense(demo_plan)
    undo_last_change(demo_plan, actor=None)
    db.session.commit()
    assert db.session.get(Project, projects[2].id).rank == 3


def test_column_totals_count_and_sum_budgets(app, demo_plan):
    from planapp.forum.board import column_heads

    totals, cuts = column_heads(demo_plan, GROUPS)
    assert cuts == {}
    assert totals["unsorted"]["count"] == len(demo_plan.projects)
    assert totals["unsorted"]["budget"] == sum(p.budget_satang for p in demo_plan.projects)
    assert totals["1"] == {"count": 0, "budget": 0}


@pytest.mark.parametrize(
    "merged_rank, straggler, shifted",
    [(False, False, True), (True, False, True), (False, True, False)],
    ids=["ranked-1-to-n", "merged-card-without-rank", "active-card-without-rank"],
)
def test_which_columns_move_by_shifting_ranges(app, demo_plan, merged_rank, straggler, shifted):
    """A column moves by shifting ranges when its ranked cards are exactly 1..n: a merged
    project (no rank, off the board) does not count, an active card without a rank does, and
    sends the move through the row-by-row renumbering that places it."""
    projects = sorted(demo_plan.projects, key=lambda p: p.rank)
    last = projects[-1]
    if merged_rank:
        last.merged_into_id, last.rank = projects[0].id, None
    if straggler:
        last.rank = None
    db.session.commit()
    columns = ranking.load_columns(demo_plan, GROUPS)
    expected = {**columns, **ranking.place(columns, projects[3].id, "unsorted", projects[0].id)}
    ranking.move_project(demo_plan, projects[3].id, "unsorted", projects[0].id, None, actor=None)
    db.session.commit()
    entry = db.session.scalar(select(ChangeLog))
    assert ("ranks" in entry.after) is shifted
    assert ranking.load_columns(demo_plan, GROUPS) == expected
    assert_dense(demo_plan)
