"""The plain rules of running the meeting: vote order, cut line, countdown, lock, money split."""

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planapp.meeting import rules

cards = st.lists(st.integers(min_value=0, max_value=50), max_size=30).map(
    lambda votes: [(index + 100, v) for index, v in enumerate(votes)]
)


@given(cards)
def test_order_by_votes_is_descending_and_keeps_ties_in_their_current_order(cards):
    order = rules.order_by_votes(cards)
    votes = dict(cards)
    position = {pid: index for index, (pid, _v) in enumerate(cards)}
    assert sorted(order) == sorted(pid for pid, _v in cards)  # nobody lost or doubled
    for first, second in zip(order, order[1:], strict=False):
        assert votes[first] >= votes[second]
        if votes[first] == votes[second]:
            assert position[first] < position[second]
    # Pressing it again changes nothing.
    assert rules.order_by_votes([(pid, votes[pid]) for pid in order]) == order


def test_order_by_votes_example():
    assert rules.order_by_votes([(1, 3), (2, 5), (3, 3), (4, 0), (5, 5)]) == [2, 5, 1, 3, 4]


budgets = st.lists(st.integers(min_value=0, max_value=10**9), max_size=30)


@given(budgets, st.integers(min_value=0, max_value=10**10))
def test_cut_line_falls_between_the_last_card_that_fits_and_the_first_that_does_not(
    budgets, ceiling
):
    line = rules.budget_line(budgets, ceiling)
    assert line.total == sum(budgets)
    assert list(line.running) == [sum(budgets[: i + 1]) for i in range(len(budgets))]
    if line.cut_at is None:
        assert sum(budgets) <= ceiling
        assert not line.over
    else:
        assert sum(budgets[: line.cut_at]) <= ceiling  # everything above the line fits
        assert sum(budgets[: line.cut_at + 1]) > ceiling  # the first card below does not
        assert line.over
        assert line.fitting_total == sum(budgets[: line.cut_at])
    assert line.over_by == max(0, sum(budgets) - ceiling)


@given(budgets)
def test_no_ceiling_means_no_cut_line(budgets):
    line = rules.budget_line(budgets, None)
    assert line.cut_at is None and not line.over and line.left is None


def test_cut_line_examples():
    assert rules.budget_line([100, 200, 300], 300).cut_at == 2  # 100+200 fit, +300 does not
    assert rules.budget_line([100, 200, 300], 600).cut_at is None  # exactly at the ceiling fits
    assert rules.budget_line([500, 1], 100).cut_at == 0  # the first card already too big
    assert rules.budget_line([0, 0, 5], 0).cut_at == 2  # free projects always fit


def test_timer_remaining_counts_from_the_end_time_or_the_paused_seconds():
    now = datetime(2026, 11, 24, 10, 0, 0)
    assert rules.timer_remaining(now + timedelta(seconds=90), None, now) == 90
    assert rules.timer_remaining(now + timedelta(seconds=89.2), None, now) == 90  # rounds up
    assert rules.timer_remaining(now - timedelta(seconds=5), None, now) == 0
    assert rules.timer_remaining(None, 42, now) == 42
    assert [rules.timer_state(s) for s in (61, 60, 1, 0)] == [
        "normal",
        "warning",
        "warning",
        "over",
    ]


@pytest.mark.parametrize(
    ("confirmed", "move", "locked"),
    [
        ({"3"}, ("unsorted", "3"), "3"),  # into
        ({"3"}, ("3", "2"), "3"),  # out of
        ({"3"}, ("3", "3"), "3"),  # inside
        ({"1"}, ("2", "3"), None),
        (set(), ("3", "3"), None),
    ],
)
def test_moves_touching_a_confirmed_group_are_refused(confirmed, move, locked):
    if locked is None:
        rules.check_move(confirmed, *move)
    else:
        with pytest.raises(rules.GroupLocked) as refused:
            rules.check_move(confirmed, *move)
        assert refused.value.group == locked


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=1, max_value=20))
def test_split_evenly_adds_up_exactly(amount, parts):
    shares = rules.split_evenly(amount, parts)
    assert len(shares) == parts and sum(shares) == amount
    assert max(shares) - min(shares) <= 1
