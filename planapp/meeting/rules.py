"""The rules of running the meeting, as plain functions with no database: the seven steps, the
vote order, the budget cut line, the presentation countdown, the lock on confirmed groups, and
an exact split of money between villages. Unit- and property-tested in tests/test_meeting_rules.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

# The seven steps of the forum (design brief section 1), in order; each can be revisited.
STEPS = [1, 2, 3, 4, 5, 6, 7]
STEP_LABELS = {
    1: _l("Villages present their plans"),
    2: _l("Tambon analysis"),
    3: _l("Feasibility and priority"),
    4: _l("Funding groups"),
    5: _l("Urgency and agencies"),
    6: _l("Issue the plan"),
    7: _l("Follow-up"),
}
STEP_SHORT_LABELS = {
    1: _l("Presentations"),
    2: _l("Analysis"),
    3: _l("Priority"),
    4: _l("Groups"),
    5: _l("Urgency"),
    6: _l("Issue"),
    7: _l("Follow-up"),
}
# What the projector shows at each step (the projector's modes, planapp/projector).
STEP_PROJECTOR_MODE = {
    1: "village",
    2: "overview",
    3: "board",
    4: "board",
    5: "urgency",
    6: "summary",
    7: "summary",
}

# The timer: lengths the facilitator picks from, and what "extend" adds.
TIMER_MINUTES = [3, 5, 7, 10, 15]
TIMER_DEFAULT_MINUTES = 5
TIMER_EXTEND_SECONDS = 60
TIMER_WARNING_SECONDS = 60  # amber in the last minute
SCREEN_MESSAGE_MAX = 200
MAX_VOTES = 100_000


def order_by_votes(cards: list[tuple[int, int]]) -> list[int]:
    """Project ids of a column, most votes first. `cards` are (id, votes) in the current order;
    ties keep their current order (a stable sort), so pressing it twice changes nothing."""
    return [pid for pid, _votes in sorted(cards, key=lambda card: -card[1])]


@dataclass(frozen=True)
class BudgetLine:
    """A column's budget against its ceiling. `cut_at` is the index of the first card that does
    not fit (the cut line sits just above it), None when every card fits or there is no
    ceiling. `running` is the cumulative total after each card, in rank order."""

    total: int
    ceiling: int | None
    cut_at: int | None
    running: tuple[int, ...]

    @property
    def over(self) -> bool:
        return self.ceiling is not None and self.total > self.ceiling

    @property
    def over_by(self) -> int:
        return max(0, self.total - self.ceiling) if self.ceiling is not None else 0

    @property
    def left(self) -> int | None:
        return None if self.ceiling is None else self.ceiling - self.total

    @property
    def fitting_total(self) -> int:
        """What the cards above the line add up to."""
        if self.cut_at is None:
            return self.total
        return self.running[self.cut_at - 1] if self.cut_at > 0 else 0


def budget_line(budgets: list[int], ceiling: int | None) -> BudgetLine:
    """The cut line of a column: cumulative sum in rank order; the line falls between the last
    card that fits under the ceiling and the first that does not. Cards below the line are not
    refused: going over is a warning the hall discusses, never a block."""
    running: list[int] = []
    total = 0
    cut_at = None
    for index, amount in enumerate(budgets):
        total += amount
        running.append(total)
        if cut_at is None and ceiling is not None and total > ceiling:
            cut_at = index
    return BudgetLine(total=total, ceiling=ceiling, cut_at=cut_at, running=tuple(running))


def timer_remaining(ends_at: datetime | None, remaining: int | None, now: datetime) -> int:
    """Whole seconds left on a countdown: from its end time while running, as stored while
    paused. Never below zero. Rounded up, so "0" shows only once time is really up."""
    if ends_at is not None:
        return max(0, math.ceil((ends_at - now).total_seconds()))
    return max(0, remaining or 0)


def timer_state(remaining: int) -> str:
    """How the countdown looks: normal, amber in the last minute, red at zero."""
    if remaining <= 0:
        return "over"
    if remaining <= TIMER_WARNING_SECONDS:
        return "warning"
    return "normal"


class GroupLocked(Exception):
    """A move would change a confirmed group: refused until the facilitator unlocks it."""

    def __init__(self, group: str):
        self.group = group
        super().__init__(f"group {group} is confirmed")

    @property
    def message(self) -> str:
        from flask_babel import gettext as _

        return _(
            "Group %(group)s is confirmed: its order is locked. Unlock it first to move "
            "projects into, out of or inside it.",
            group=self.group,
        )


def check_move(confirmed: set[str], from_group: str, to_group: str) -> None:
    """Raise GroupLocked if a move from `from_group` to `to_group` touches a confirmed group:
    into it, out of it, or inside it (a reorder) are all refused."""
    for group in (from_group, to_group):
        if group in confirmed:
            raise GroupLocked(group)


def split_evenly(amount: int, parts: int) -> list[int]:
    """Split whole satang into `parts` shares that differ by at most one and add up exactly
    (the first shares take the remainder)."""
    if parts <= 0:
        return []
    base, extra = divmod(amount, parts)
    return [base + (1 if index < extra else 0) for index in range(parts)]


def all_groups_confirmed(confirmed: set[str]) -> bool:
    return {"1", "2", "3"} <= confirmed
